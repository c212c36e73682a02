package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

// Each scenario's --help says what it runs and what its main fields mean,
// on stdout with exit 0; `help simulate` is the simulate help; the
// top-level help lists every scenario.
func TestSimulateHelp(t *testing.T) {
	mainField := map[string]string{
		"mutex":     "me1_violations",
		"election":  "leaders_per_term_max",
		"multicast": "order_violations",
		"log":       "lost_committed",
		"show":      "separation_violations",
		"upload":    "upload_unfinished",
	}
	for name := range scenarios {
		code, out, errOut := runCmd("simulate", name, "--help")
		assert.Equal(t, exitOK, code, name)
		assert.Empty(t, errOut, name)
		assert.True(t, strings.HasPrefix(out, "Usage: groundstation simulate "+name), "%s:\n%s", name, out)
		assert.Contains(t, out, mainField[name], name)
		assert.Contains(t, out, "docs/simulate.md", name)
		assert.Contains(t, out, "-seed", name, "the flags follow")
	}

	code, out, _ := runCmd("help", "simulate")
	assert.Equal(t, exitOK, code)
	_, want, _ := runCmd("simulate", "--help")
	assert.Equal(t, want, out)
	code, out, _ = runCmd("help", "simulate", "log")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "lost_committed")

	_, top, _ := runCmd("help")
	for name := range scenarios {
		assert.Regexp(t, `(?m)^\s+`+name+`\s`, top, "the top-level help lists %s", name)
	}
}
