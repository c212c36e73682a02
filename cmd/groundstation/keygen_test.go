package main

import (
	"bytes"
	"os"
	"path/filepath"
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
