package main

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"testing"

	"github.com/creack/pty"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// runOnTerminal runs a command line with stderr on a terminal and returns
// its exit status, stdout and what the terminal received.
func runOnTerminal(t *testing.T, args ...string) (code int, stdout, term string) {
	t.Helper()
	ptmx, tty, err := pty.Open()
	require.NoError(t, err)
	defer ptmx.Close()
	got := make(chan string)
	go func() {
		var b bytes.Buffer
		_, _ = io.Copy(&b, ptmx) // ends with an error once tty is closed
		got <- b.String()
	}()
	var out bytes.Buffer
	code = run(args, &out, tty)
	require.NoError(t, tty.Close())
	return code, out.String(), <-got
}

// A show run draws a progress bar of simulated seconds on a terminal's
// stderr, and none with --json or when stderr is not a terminal; stdout
// is the same either way.
func TestSimulateShowProgress(t *testing.T) {
	args := []string{"simulate", "show", "--drones", "5", "--duration", "8", "--settle", "2", "--seed", "4"}
	code, out, term := runOnTerminal(t, args...)
	require.Equal(t, exitOK, code, "seed=4: %s", term)
	assert.Contains(t, term, "simulated seconds")
	assert.Contains(t, term, "(0/10)", "seed=4: 10 simulated seconds in all")
	assert.Contains(t, term, "(9/10)", "seed=4: one step per simulated second")
	assert.True(t, strings.HasSuffix(term, strings.Repeat(" ", 20)+"\r"), "the bar is cleared at the end")
	assert.NotContains(t, out, "simulated seconds", "the bar is on stderr only")

	code, plain, errOut := runCmd(args...)
	require.Equal(t, exitOK, code, "seed=4: %s", errOut)
	assert.Empty(t, errOut, "no bar when stderr is not a terminal")
	hash := regexp.MustCompile(`trace_hash \S+`)
	assert.Equal(t, hash.FindString(plain), hash.FindString(out), "seed=4: the same run")
	assert.NotEmpty(t, hash.FindString(out))

	code, _, term = runOnTerminal(t, append(args, "--json")...)
	require.Equal(t, exitOK, code, "seed=4")
	assert.Empty(t, term, "no bar with --json")
}
