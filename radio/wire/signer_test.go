package wire_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/radio/wire"
)

func TestSignerStrictlyIncreasing(t *testing.T) {
	s := wire.NewSigner(wire.SignerConfig{})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var last wire.Timestamp
	for i := range 100 {
		// The clock stands still, then jumps back an hour.
		at := now
		if i > 50 {
			at = now.Add(-time.Hour)
		}
		ts, _ := s.Next(at)
		require.Greater(t, ts, last)
		last = ts
	}
	assert.GreaterOrEqual(t, last, wire.TimestampOf(now))
}

// TestSignerSurvivesRebootWithoutClock: a companion computer without a
// real-time clock boots in 1970; its timestamps continue above everything
// it used before, because the high-water mark was persisted ahead.
func TestSignerSurvivesRebootWithoutClock(t *testing.T) {
	file := wire.TimestampFile{Path: filepath.Join(t.TempDir(), "signing.ts")}
	loaded, err := file.Load()
	require.NoError(t, err)
	require.Zero(t, loaded, "no file yet")

	s := wire.NewSigner(wire.SignerConfig{Last: loaded, Reserve: 10 * time.Second})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var last wire.Timestamp
	writes := 0
	for i := range 1000 {
		ts, persist := s.Next(now.Add(time.Duration(i) * 100 * time.Millisecond))
		if persist != 0 {
			require.GreaterOrEqual(t, persist, ts, "the persisted mark covers the timestamp about to be used")
			require.NoError(t, file.Store(persist))
			writes++
		}
		last = ts
	}
	// 100 s of frames with a 10 s reserve: about ten writes, not a thousand.
	assert.InDelta(t, 10, writes, 2)

	loaded, err = file.Load()
	require.NoError(t, err)
	rebooted := wire.NewSigner(wire.SignerConfig{Last: loaded, Reserve: 10 * time.Second})
	ts, persist := rebooted.Next(time.Unix(0, 0))
	assert.Greater(t, ts, last)
	assert.NotZero(t, persist, "the first timestamp after a reboot reserves again")
}

func TestSignerObservesSwarmTime(t *testing.T) {
	s := wire.NewSigner(wire.SignerConfig{})
	swarmTime := wire.TimestampOf(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	s.Observe(swarmTime)
	assert.Equal(t, swarmTime, s.Now(time.Unix(0, 0)))
	ts, _ := s.Next(time.Unix(0, 0))
	assert.Greater(t, ts, swarmTime)
	s.Observe(swarmTime - 5)
	assert.Equal(t, ts, s.Now(time.Unix(0, 0)), "an older timestamp changes nothing")
}

func TestTimestampConversions(t *testing.T) {
	at := time.Date(2015, 1, 1, 0, 0, 1, 0, time.UTC)
	assert.Equal(t, wire.Timestamp(wire.TimestampsPerSecond), wire.TimestampOf(at))
	assert.Equal(t, at, wire.TimestampOf(at).Time())
	assert.Zero(t, wire.TimestampOf(time.Unix(0, 0)))
	assert.Equal(t, wire.Timestamp(6_000_000), wire.Duration(time.Minute))
}

func TestTimestampFileCorrupt(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ts")
	require.NoError(t, os.WriteFile(path, []byte("yesterday\n"), 0o600))
	_, err := wire.TimestampFile{Path: path}.Load()
	require.ErrorContains(t, err, "corrupt")
}

func TestKeyFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "swarm.key")
	k, err := wire.GenerateKey(nil)
	require.NoError(t, err)
	require.NoError(t, wire.WriteKeyFile(path, k))
	st, err := os.Stat(path)
	require.NoError(t, err)
	assert.Equal(t, os.FileMode(0o600), st.Mode().Perm())

	back, err := wire.LoadKeyFile(path)
	require.NoError(t, err)
	assert.Equal(t, k, back)

	require.ErrorIs(t, wire.WriteKeyFile(path, k), wire.ErrKeyExists)

	require.NoError(t, os.Chmod(path, 0o644))
	_, err = wire.LoadKeyFile(path)
	require.ErrorContains(t, err, "chmod 600")

	raw := filepath.Join(dir, "raw.key")
	require.NoError(t, os.WriteFile(raw, k[:], 0o600))
	back, err = wire.LoadKeyFile(raw)
	require.NoError(t, err)
	assert.Equal(t, k, back)

	short := filepath.Join(dir, "short.key")
	require.NoError(t, os.WriteFile(short, []byte(strings.Repeat("ab", 10)), 0o600))
	_, err = wire.LoadKeyFile(short)
	require.ErrorContains(t, err, "64 hexadecimal digits")

	_, err = wire.LoadKeyFile(filepath.Join(dir, "missing"))
	require.ErrorContains(t, err, "groundstation keygen")
}
