package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/radio/wire"
)

func TestKeygen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "swarm.key")
	var stdout, stderr bytes.Buffer
	require.Equal(t, exitOK, run([]string{"keygen", "-o", path}, &stdout, &stderr), stderr.String())
	assert.Contains(t, stdout.String(), path)
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())
	key, err := wire.LoadKeyFile(path)
	require.NoError(t, err)
	assert.NotEqual(t, wire.Key{}, key)

	stderr.Reset()
	assert.Equal(t, exitFail, run([]string{"keygen", "-o", path}, &stdout, &stderr))
	assert.Contains(t, stderr.String(), "remove it first")
	again, err := wire.LoadKeyFile(path)
	require.NoError(t, err)
	assert.Equal(t, key, again, "never overwritten")

	assert.Equal(t, exitUsage, run([]string{"keygen", "extra"}, &stdout, &stderr))
	assert.Equal(t, exitOK, run([]string{"keygen", "--help"}, &stdout, &stderr))
}

// keygen -o - writes the key text to stdout and nothing else, and no file.
func TestKeygenStdout(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	var stdout, stderr bytes.Buffer
	require.Equal(t, exitOK, run([]string{"keygen", "-o", "-"}, &stdout, &stderr), stderr.String())
	assert.Regexp(t, `^[0-9a-f]{64}\n$`, stdout.String())
	key, err := wire.ParseKey(stdout.Bytes())
	require.NoError(t, err)
	assert.NotEqual(t, wire.Key{}, key)
	_, err = os.Stat(filepath.Join(dir, "-"))
	assert.ErrorIs(t, err, os.ErrNotExist, "no file named -")
}

// keygen's errors are one line naming the file and what to do, without a
// package prefix repeated.
func TestKeygenErrors(t *testing.T) {
	path := filepath.Join(t.TempDir(), "swarm.key")
	require.NoError(t, os.WriteFile(path, []byte("x"), 0o600))
	var stdout, stderr bytes.Buffer
	assert.Equal(t, exitFail, run([]string{"keygen", "-o", path}, &stdout, &stderr))
	assert.Equal(t, "groundstation keygen: "+path+" already exists: remove it first to replace the swarm key, or give another file with -o\n", stderr.String())
	assert.Empty(t, stdout.String())

	stderr.Reset()
	missing := filepath.Join(t.TempDir(), "no", "such", "dir", "swarm.key")
	assert.Equal(t, exitFail, run([]string{"keygen", "-o", missing}, &stdout, &stderr))
	assert.Equal(t, 1, strings.Count(stderr.String(), "\n"), stderr.String())
	assert.NotContains(t, stderr.String(), "wire:")
	assert.Equal(t, 1, strings.Count(stderr.String(), missing), stderr.String())
	assert.Contains(t, stderr.String(), "no such file or directory")
}
