package wire_test

import (
	"errors"
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
		ts, err := s.Next(at, nil)
		require.NoError(t, err)
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
	store := func(mark wire.Timestamp) error {
		writes++
		return file.Store(mark)
	}
	for i := range 1000 {
		ts, err := s.Next(now.Add(time.Duration(i)*100*time.Millisecond), store)
		require.NoError(t, err)
		stored, err := file.Load()
		require.NoError(t, err)
		require.GreaterOrEqual(t, stored, ts, "the persisted mark covers the timestamp about to be used")
		last = ts
	}
	// 100 s of frames with a 10 s reserve: about ten writes, not a thousand.
	assert.InDelta(t, 10, writes, 2)

	loaded, err = file.Load()
	require.NoError(t, err)
	rebooted := wire.NewSigner(wire.SignerConfig{Last: loaded, Reserve: 10 * time.Second})
	writes = 0
	ts, err := rebooted.Next(time.Unix(0, 0), store)
	require.NoError(t, err)
	assert.Greater(t, ts, last)
	assert.Equal(t, 1, writes, "the first timestamp after a reboot reserves again")
}

// TestSignerStoreFailure: a timestamp whose high-water mark cannot be
// stored is not handed out, and the next call tries to store again.
func TestSignerStoreFailure(t *testing.T) {
	s := wire.NewSigner(wire.SignerConfig{})
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	broken := errors.New("disk full")
	_, err := s.Next(now, func(wire.Timestamp) error { return broken })
	require.ErrorIs(t, err, broken)
	var stored wire.Timestamp
	ts, err := s.Next(now, func(m wire.Timestamp) error { stored = m; return nil })
	require.NoError(t, err)
	assert.GreaterOrEqual(t, stored, ts)
}

func TestSignerObservesSwarmTime(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := wire.NewSigner(wire.SignerConfig{Ahead: 5 * time.Minute})
	swarmTime := wire.TimestampOf(now.Add(time.Minute))
	require.True(t, s.Observe(swarmTime, now), "a minute ahead is within the bound")
	assert.Equal(t, swarmTime, s.Now(now))
	assert.Equal(t, swarmTime+wire.Duration(time.Second), s.Now(now.Add(time.Second)), "adopted time runs on")
	ts, err := s.Next(now, nil)
	require.NoError(t, err)
	assert.GreaterOrEqual(t, ts, swarmTime)
	assert.False(t, s.Observe(swarmTime-5, now), "an older timestamp changes nothing")
	assert.Equal(t, ts, s.Now(now))
}

// TestSignerBoundsWhatItAdopts: a verified timestamp years ahead is not
// adopted; one sender repeating it does not move the signer either.
func TestSignerBoundsWhatItAdopts(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s := wire.NewSigner(wire.SignerConfig{Ahead: 5 * time.Minute})
	future := wire.TimestampOf(now.AddDate(3, 0, 0))
	assert.False(t, s.Observe(future, now))
	for i := range 10 {
		_, _, caught := s.ObserveAhead(9, future+wire.Timestamp(i), now)
		assert.False(t, caught)
	}
	assert.Equal(t, wire.TimestampOf(now), s.Now(now))
	ts, err := s.Next(now, nil)
	require.NoError(t, err)
	assert.Equal(t, wire.TimestampOf(now), ts)
}

// TestSignerCatchesUpWhenCorroborated: a computer without a real-time
// clock boots in 1970; two peers agreeing on the time bring it up to the
// swarm, a third peer years ahead does not.
func TestSignerCatchesUpWhenCorroborated(t *testing.T) {
	boot := time.Unix(0, 0)
	s := wire.NewSigner(wire.SignerConfig{Ahead: 5 * time.Minute})
	swarmTime := wire.TimestampOf(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	future := swarmTime + wire.Duration(3*365*24*time.Hour)
	_, _, caught := s.ObserveAhead(9, future, boot)
	assert.False(t, caught)
	_, _, caught = s.ObserveAhead(2, swarmTime+100, boot)
	assert.False(t, caught, "one sender is not enough")
	_, _, caught = s.ObserveAhead(9, future+10, boot)
	assert.False(t, caught, "nor one sender twice")
	from, to, caught := s.ObserveAhead(3, swarmTime, boot.Add(time.Second))
	require.True(t, caught)
	assert.Equal(t, wire.Duration(time.Second), from, "1970 and a second")
	assert.Equal(t, swarmTime, to, "the earliest of the agreeing senders (drone 2's sighting aged by a second is later)")
	ts, err := s.Next(boot.Add(time.Second), nil)
	require.NoError(t, err)
	assert.Equal(t, swarmTime, ts)
	assert.Equal(t, swarmTime+wire.Duration(time.Second), s.Now(boot.Add(2*time.Second)))
	_, _, caught = s.ObserveAhead(9, future+20, boot.Add(2*time.Second))
	assert.False(t, caught)
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

// TestSignerNeverSticks: at the end of the 48-bit range the signer does
// not hand out the same timestamp again: it refuses.
func TestSignerNeverSticks(t *testing.T) {
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, s := range []*wire.Signer{
		wire.NewSigner(wire.SignerConfig{Last: wire.MaxTimestamp - 3}), // a poisoned high-water mark
		wire.NewSigner(wire.SignerConfig{}),                            // a clock in 2200
	} {
		at := now
		if s.Now(now) < wire.MaxTimestamp-3 {
			at = time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)
		}
		var prev wire.Timestamp
		issued := 0
		for range 6 {
			ts, err := s.Next(at, func(wire.Timestamp) error { return nil })
			if err != nil {
				require.ErrorIs(t, err, wire.ErrExhausted)
				continue
			}
			require.Greater(t, ts, prev)
			prev = ts
			issued++
		}
		assert.Equal(t, wire.MaxTimestamp, prev)
		assert.LessOrEqual(t, issued, 3)
	}
}
