package ptypair

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
)

// Need is something a package's end-to-end tests need that a developer's
// machine may lack.
type Need struct {
	// Tests names the tests that skip without it.
	Tests string
	// Missing says what is missing and how to get it, or "" when present.
	Missing func() string
}

// Program is a Need for an executable on PATH.
func Program(tests, name, install string) Need {
	return Need{Tests: tests, Missing: func() string {
		if _, err := exec.LookPath(name); err != nil {
			return name + " is not installed (" + install + ")"
		}
		return ""
	}}
}

// Main runs a package's tests (call it from TestMain). Outside CI it first
// says on stderr which tests will skip for want of a Need: go test shows a
// skip's reason only with -v. Under CI they fail instead (Require).
func Main(m *testing.M, needs ...Need) {
	Notice(os.Stderr, os.Getenv("CI") != "", needs...)
	os.Exit(m.Run())
}

// Notice writes one line per missing Need to w, unless under CI, and
// returns how many it wrote.
func Notice(w io.Writer, ci bool, needs ...Need) int {
	if ci {
		return 0
	}
	n := 0
	for _, need := range needs {
		if why := need.Missing(); why != "" {
			fmt.Fprintf(w, "notice: %s is skipped: %s; CI runs it\n", need.Tests, why)
			n++
		}
	}
	return n
}
