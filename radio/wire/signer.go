package wire

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
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

// DefaultAhead is how far ahead of a drone's own estimate of the time a
// signing timestamp may be, by default, to be accepted (VerifierConfig)
// and adopted (SignerConfig).
const DefaultAhead = 5 * time.Minute

// DefaultCorroborate is how many distinct senders, by default, must agree
// on a time beyond the bound before a signer catches up with it.
const DefaultCorroborate = 2

// ErrExhausted is returned by Signer.Next when no timestamp above the last
// one is left in the 48 bits (the clock, or the stored high-water mark,
// reads the year 2104 or later).
var ErrExhausted = errors.New("wire: signing timestamps exhausted: the clock or the stored high-water mark is at the 48-bit limit; fix the clock and reset the signing state (docs/radio.md)")

// SignerConfig configures a Signer.
type SignerConfig struct {
	// Last is the persisted high-water mark (TimestampFile.Load): every
	// timestamp handed out is above it.
	Last Timestamp
	// Reserve is how far ahead of the timestamps in use the high-water mark
	// is persisted, which bounds how often it is written (optional, default
	// one minute).
	Reserve time.Duration
	// Ahead bounds what the signer adopts: a verified timestamp is adopted
	// only when it is at most Ahead ahead of the signer's estimate of the
	// time (optional, default DefaultAhead). Use the VerifierConfig's
	// Ahead: frames beyond it are rejected there.
	Ahead time.Duration
	// Corroborate is how many distinct senders must be seen, within Ahead
	// of one another, at a time more than Ahead ahead of the signer's
	// estimate before the signer catches up with them (optional, default
	// DefaultCorroborate). This is how a drone whose clock is behind, a
	// computer without a real-time clock above all, learns the swarm's
	// time, while one sender with a clock far ahead moves no one.
	Corroborate int
}

// Signer hands out signing timestamps for one sender: strictly increasing,
// never behind the wall clock, nor behind the swarm's time as learnt from
// verified frames (a companion computer without a real-time clock learns
// it from them, as the MAVLink signing specification suggests).
//
// The signer's estimate of the time (Now) is the latest of its wall clock,
// the last timestamp it used, and the last timestamp it adopted plus the
// time elapsed since. It adopts a verified timestamp (Observe) only within
// Ahead of that estimate; beyond it, only a time that Corroborate senders
// agree on (ObserveAhead). So one drone whose clock reads far in the
// future cannot push the swarm's timestamps forward.
type Signer struct {
	last      Timestamp
	reserved  Timestamp
	reserve   Timestamp
	ahead     Timestamp
	quorum    int
	anchored  bool
	anchor    Timestamp // adopted or initial time ...
	anchorAt  time.Time // ... at this reading of the clock
	sightings map[uint8]sighting
}

// sighting is a verified timestamp beyond the bound, by sender.
type sighting struct {
	ts Timestamp
	at time.Time
}

// NewSigner returns a Signer that continues after cfg.Last.
func NewSigner(cfg SignerConfig) *Signer {
	reserve := cfg.Reserve
	if reserve <= 0 {
		reserve = time.Minute
	}
	ahead := cfg.Ahead
	if ahead <= 0 {
		ahead = DefaultAhead
	}
	quorum := cfg.Corroborate
	if quorum <= 0 {
		quorum = DefaultCorroborate
	}
	return &Signer{
		last: cfg.Last, reserved: cfg.Last, reserve: Duration(reserve),
		ahead: Duration(ahead), quorum: quorum, sightings: map[uint8]sighting{},
	}
}

// Next returns the timestamp of the next frame. When the timestamp reaches
// the persisted high-water mark, Next first calls store (if not nil) with
// a new mark, a Reserve ahead, which must store it durably
// (TimestampFile.Store): after a reboot the Signer continues above it. If
// store fails, Next returns its error and no timestamp: the frame must not
// be sent. Next returns ErrExhausted when no timestamp is left; it never
// returns the same timestamp twice.
func (s *Signer) Next(now time.Time, store func(Timestamp) error) (Timestamp, error) {
	est := s.Now(now)
	if s.last >= MaxTimestamp {
		return 0, ErrExhausted
	}
	ts := max(est, s.last+1)
	if store != nil && ts >= s.reserved {
		mark := min(ts+s.reserve, MaxTimestamp)
		if err := store(mark); err != nil {
			return 0, fmt.Errorf("wire: signing high-water mark not stored, frame not signed: %w", err)
		}
		s.reserved = mark
	}
	s.last = ts
	return ts, nil
}

// Now returns the signer's estimate of the current timestamp: the wall
// clock, the last timestamp used, or the last one adopted plus the time
// elapsed since, whichever is latest.
func (s *Signer) Now(now time.Time) Timestamp {
	if !s.anchored {
		s.anchored, s.anchor, s.anchorAt = true, s.last, now
	}
	est := max(TimestampOf(now), s.last)
	if d := Duration(now.Sub(s.anchorAt)); s.anchor < MaxTimestamp-min(d, MaxTimestamp) {
		est = max(est, s.anchor+d)
	} else {
		est = MaxTimestamp
	}
	return est
}

// Observe takes note of the timestamp of a verified frame from another
// sender, so that the next timestamp handed out is not behind the swarm's.
// It adopts ts only when ts is ahead of the signer's estimate by at most
// Ahead, and reports whether it did.
func (s *Signer) Observe(ts Timestamp, now time.Time) bool {
	est := s.Now(now)
	if ts <= est || ts-est > s.ahead {
		return false
	}
	s.anchor, s.anchorAt = ts, now
	return true
}

// ObserveAhead takes note of a verified frame of sender whose timestamp is
// more than Ahead ahead of the signer's estimate (a Reader rejects it as
// Ahead). Once Corroborate senders have been seen within Ahead of one
// another, each within the last Ahead, the signer catches up with the
// earliest of them; ObserveAhead then returns the estimate before and
// after, and true.
func (s *Signer) ObserveAhead(sender uint8, ts Timestamp, now time.Time) (from, to Timestamp, caughtUp bool) {
	est := s.Now(now)
	if ts <= est || ts-est <= s.ahead {
		return est, est, s.Observe(ts, now)
	}
	s.sightings[sender] = sighting{ts, now}
	var seen []Timestamp
	for id, x := range s.sightings {
		age := now.Sub(x.at)
		if age < 0 || Duration(age) > s.ahead {
			delete(s.sightings, id)
			continue
		}
		seen = append(seen, min(x.ts+Duration(age), MaxTimestamp))
	}
	slices.Sort(seen)
	for i, first := range seen {
		n := 0
		for _, t := range seen[i:] {
			if t-first <= s.ahead {
				n++
			}
		}
		if n >= s.quorum && first > est {
			s.anchor, s.anchorAt = first, now
			clear(s.sightings)
			return est, first, true
		}
	}
	return est, est, false
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
