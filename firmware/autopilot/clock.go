package autopilot

import "time"

// Clock is the client's only source of time.
type Clock interface {
	// Now returns the current time. It should carry a monotonic reading
	// (time.Now does), since GPS time is extrapolated from it.
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the machine's clock.
type SystemClock struct{}

var _ Clock = SystemClock{}

// Now implements Clock.
func (SystemClock) Now() time.Time { return time.Now() }

// After implements Clock.
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }
