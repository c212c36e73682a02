package wire

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Timestamp is a MAVLink 2 signing timestamp: units of 10 µs since
// 2015-01-01 00:00:00 UTC, 48 bits.
type Timestamp uint64

// MaxTimestamp is the largest 48-bit timestamp.
const MaxTimestamp Timestamp = 1<<48 - 1

// TimestampsPerSecond is the timestamp rate.
const TimestampsPerSecond = 100_000

var epoch = time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)

// TimestampOf converts a wall-clock time; times before 2015 (a computer
// without a real-time clock that booted in 1970) give 0.
func TimestampOf(t time.Time) Timestamp {
	if t.Before(epoch) {
		return 0
	}
	ts := Timestamp(t.Sub(epoch) / (10 * time.Microsecond))
	return min(ts, MaxTimestamp)
}

// Duration converts a duration to timestamp units.
func Duration(d time.Duration) Timestamp {
	if d <= 0 {
		return 0
	}
	return Timestamp(d / (10 * time.Microsecond))
}

// Time returns the wall-clock time of ts.
func (ts Timestamp) Time() time.Time { return epoch.Add(time.Duration(ts) * 10 * time.Microsecond) }

// SignerConfig configures a Signer.
type SignerConfig struct {
	// Last is the persisted high-water mark (TimestampFile.Load): every
	// timestamp handed out is above it.
	Last Timestamp
	// Reserve is how far ahead of the timestamps in use the high-water mark
	// is persisted, which bounds how often it is written (optional, default
	// one minute).
	Reserve time.Duration
}

// Signer hands out signing timestamps for one sender: strictly increasing,
// never behind the wall clock, nor behind the newest timestamp it has
// observed on verified frames (a companion computer without a real-time
// clock learns the swarm's time from them, as the MAVLink signing
// specification suggests).
type Signer struct {
	last     Timestamp
	reserved Timestamp
	reserve  Timestamp
}

// NewSigner returns a Signer that continues after cfg.Last.
func NewSigner(cfg SignerConfig) *Signer {
	reserve := cfg.Reserve
	if reserve <= 0 {
		reserve = time.Minute
	}
	return &Signer{last: cfg.Last, reserved: cfg.Last, reserve: Duration(reserve)}
}

// Next returns the timestamp of the next frame. When persist is non-zero
// the caller must store it durably (TimestampFile.Store) before the frame
// goes on air: after a reboot the Signer continues above it.
func (s *Signer) Next(now time.Time) (ts, persist Timestamp) {
	ts = max(TimestampOf(now), s.last+1)
	s.last = min(ts, MaxTimestamp)
	if s.last >= s.reserved {
		s.reserved = min(s.last+s.reserve, MaxTimestamp)
		persist = s.reserved
	}
	return s.last, persist
}

// Now returns the signer's estimate of the current timestamp: the wall
// clock, or the last timestamp used or observed if that is later.
func (s *Signer) Now(now time.Time) Timestamp { return max(TimestampOf(now), s.last) }

// Observe takes note of the timestamp of a verified frame from another
// sender, so that the next timestamp handed out is not behind the swarm's.
func (s *Signer) Observe(ts Timestamp) {
	if ts > s.last {
		s.last = ts
	}
}

// TimestampFile persists a Signer's high-water mark.
type TimestampFile struct {
	// Path is the file; a temporary file beside it is renamed over it.
	Path string
}

// Load returns the stored high-water mark, 0 when the file does not exist.
func (f TimestampFile) Load() (Timestamp, error) {
	b, err := os.ReadFile(f.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("wire: signing timestamp: %w", err)
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
	if err != nil || Timestamp(v) > MaxTimestamp {
		return 0, fmt.Errorf("wire: signing timestamp file %s is corrupt (%q); delete it only if this drone's clock is right", f.Path, b)
	}
	return Timestamp(v), nil
}

// Store writes ts durably: to a temporary file, synced, renamed over Path.
func (f TimestampFile) Store(ts Timestamp) error {
	tmp := f.Path + ".tmp"
	out, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("wire: store signing timestamp: %w", err)
	}
	_, err = out.WriteString(strconv.FormatUint(uint64(ts), 10) + "\n")
	if err == nil {
		err = out.Sync()
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, f.Path)
	}
	if err == nil {
		if dir, derr := os.Open(filepath.Dir(f.Path)); derr == nil {
			_ = dir.Sync()
			_ = dir.Close()
		}
	}
	if err != nil {
		return fmt.Errorf("wire: store signing timestamp %s: %w", f.Path, err)
	}
	return nil
}
