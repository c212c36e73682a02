package wire

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestKeyFilePowerCut: the power fails halfway through writing the key.
// No partial key is left under the key's name, and the next attempt
// writes a whole key.
func TestKeyFilePowerCut(t *testing.T) {
	path := filepath.Join(t.TempDir(), "swarm.key")
	k, err := GenerateKey(nil)
	require.NoError(t, err)

	cut := errors.New("power cut")
	orig := writeKey
	t.Cleanup(func() { writeKey = orig })
	writeKey = func(f *os.File, b []byte) error {
		if _, err := f.Write(b[:len(b)/2]); err != nil {
			return err
		}
		require.NoError(t, f.Sync())
		return cut
	}
	require.ErrorIs(t, WriteKeyFile(path, k), cut)
	_, err = os.Stat(path)
	assert.ErrorIs(t, err, os.ErrNotExist, "no partial key under the key's name")

	writeKey = orig
	require.NoError(t, WriteKeyFile(path, k), "a new key can be written")
	back, err := LoadKeyFile(path)
	require.NoError(t, err)
	assert.Equal(t, k, back)
	require.ErrorIs(t, WriteKeyFile(path, k), ErrKeyExists)
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no temporary file left behind")
}
