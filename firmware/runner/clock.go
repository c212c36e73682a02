package runner

import (
	"sort"
	"sync"
	"time"
)

// Clock is the runner's only time source: the wall clock on a drone, a
// FakeClock in tests. It also serves the radio (radio.Clock).
type Clock interface {
	// Now returns the current time. Its UnixNano is the drone's local
	// clock reading that the swarm node is given (swarm.Node.SetClock).
	Now() time.Time
	// After returns a channel that receives once d has passed.
	After(d time.Duration) <-chan time.Time
	// NewTicker returns a ticker with period d.
	NewTicker(d time.Duration) Ticker
}

// Ticker delivers ticks of a Clock; like time.Ticker, it drops ticks for
// a slow receiver.
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// SystemClock is the wall clock.
type SystemClock struct{}

var _ Clock = SystemClock{}

// Now implements Clock.
func (SystemClock) Now() time.Time { return time.Now() }

// After implements Clock.
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// NewTicker implements Clock.
func (SystemClock) NewTicker(d time.Duration) Ticker { return systemTicker{time.NewTicker(d)} }

type systemTicker struct{ t *time.Ticker }

func (t systemTicker) C() <-chan time.Time { return t.t.C }
func (t systemTicker) Stop()               { t.t.Stop() }

// FakeClock is a Clock that moves only when Advance is called, for tests.
// It is safe for concurrent use.
type FakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []*fakeTimer
}

type fakeTimer struct {
	at     time.Time
	period time.Duration // 0: fires once
	ch     chan time.Time
	dead   bool
}

var _ Clock = (*FakeClock)(nil)

// NewFakeClock returns a FakeClock that reads start.
func NewFakeClock(start time.Time) *FakeClock { return &FakeClock{now: start} }

// Now implements Clock.
func (c *FakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

// After implements Clock.
func (c *FakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), ch: make(chan time.Time, 1)}
	if d <= 0 {
		t.ch <- c.now
		return t.ch
	}
	c.timers = append(c.timers, t)
	return t.ch
}

// NewTicker implements Clock.
func (c *FakeClock) NewTicker(d time.Duration) Ticker {
	if d <= 0 {
		panic("runner: non-positive ticker period")
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	t := &fakeTimer{at: c.now.Add(d), period: d, ch: make(chan time.Time, 1)}
	c.timers = append(c.timers, t)
	return &fakeTicker{c: c, t: t}
}

type fakeTicker struct {
	c *FakeClock
	t *fakeTimer
}

func (t *fakeTicker) C() <-chan time.Time { return t.t.ch }

func (t *fakeTicker) Stop() {
	t.c.mu.Lock()
	t.t.dead = true
	t.c.mu.Unlock()
}

// Advance moves the clock d forward, firing the timers and tickers due
// on the way in time order (a ticker whose last tick was not received
// drops the next, as time.Ticker does).
func (c *FakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	end := c.now.Add(d)
	for {
		live := c.timers[:0]
		for _, t := range c.timers {
			if !t.dead {
				live = append(live, t)
			}
		}
		c.timers = live
		sort.SliceStable(c.timers, func(i, j int) bool { return c.timers[i].at.Before(c.timers[j].at) })
		if len(c.timers) == 0 || c.timers[0].at.After(end) {
			break
		}
		t := c.timers[0]
		c.now = t.at
		select {
		case t.ch <- t.at:
		default:
		}
		if t.period > 0 {
			t.at = t.at.Add(t.period)
		} else {
			t.dead = true
		}
	}
	c.now = end
}
