// Package pace spends a radio link's airtime: an outbound queue that sends
// frames no faster than the configured serial rate, backs off when the
// radio reports its transmit buffer filling up (RADIO_STATUS txbuf, the way
// ArduPilot does), sends control traffic before bulk traffic, and refuses
// frames with ErrFull when it cannot keep up, so that the caller always
// knows: gomavlib's own queues drop frames silently when a link is slow.
//
// The queue is pure: no goroutines, and the time comes in as an argument.
package pace

import (
	"errors"
	"fmt"
	"time"
)

// ErrFull is returned by Push when a class's queue is full: the link is
// slower than the traffic offered. Retry later (the reliable delivery
// layer retransmits) or send less.
var ErrFull = errors.New("pace: outbound queue full")

// Class orders traffic: every queued Control frame goes before any Bulk
// frame.
type Class int

// Classes of traffic.
const (
	// Control: elections, locks, the command log, acknowledgements,
	// emergency commands, membership.
	Control Class = iota
	// Bulk: show data.
	Bulk
	numClasses
)

// String implements fmt.Stringer.
func (c Class) String() string {
	switch c {
	case Control:
		return "control"
	case Bulk:
		return "bulk"
	}
	return fmt.Sprintf("class(%d)", int(c))
}

// Flow control from RADIO_STATUS, as ArduPilot's GCS_MAVLINK does it.
const (
	slowdownStep      = 20 * time.Millisecond
	slowdownStepLarge = 60 * time.Millisecond
	slowdownRecover   = 40 * time.Millisecond
	slowdownFloor     = 200 * time.Millisecond // large recoveries only above it
	// MaxSlowdown caps the gap added between frames.
	MaxSlowdown = 2 * time.Second
)

// Config configures a Queue.
type Config struct {
	// Baud is the serial rate in bits per second (8N1: ten bits per
	// byte). Zero sends as fast as frames are taken (in-memory links).
	Baud int
	// Capacity is the number of frames each class may queue (optional,
	// default 64).
	Capacity int
}

// Counters are a queue's running totals.
type Counters struct {
	Frames   [numClasses]int // frames sent per class
	Bytes    int             // bytes sent
	Airtime  time.Duration   // serial time spent
	Refused  [numClasses]int // frames refused with ErrFull per class
	Slowdown time.Duration   // current gap added by flow control
}

type item[T any] struct {
	v    T
	size int
}

// Queue is a paced outbound queue of frames of type T.
type Queue[T any] struct {
	cfg       Config
	q         [numClasses][]item[T]
	busyUntil time.Time
	slowdown  time.Duration
	counters  Counters
}

// New returns an empty queue.
func New[T any](cfg Config) *Queue[T] {
	if cfg.Capacity <= 0 {
		cfg.Capacity = 64
	}
	return &Queue[T]{cfg: cfg}
}

// Airtime is the serial time of n bytes at baud bits per second, 8N1.
func Airtime(n, baud int) time.Duration {
	if baud <= 0 {
		return 0
	}
	return time.Duration(n) * 10 * time.Second / time.Duration(baud)
}

// Push queues a frame of size bytes. It returns an error wrapping ErrFull,
// and keeps nothing, when the class's queue is full.
func (q *Queue[T]) Push(v T, size int, c Class) error {
	if c < 0 || c >= numClasses {
		return fmt.Errorf("pace: unknown traffic class %d", int(c))
	}
	if len(q.q[c]) >= q.cfg.Capacity {
		q.counters.Refused[c]++
		return fmt.Errorf("pace: %s queue holds %d frames: %w", c, len(q.q[c]), ErrFull)
	}
	q.q[c] = append(q.q[c], item[T]{v, size})
	return nil
}

// Next returns the frame to send at now, and takes its airtime. When no
// frame may go yet, ok is false and wait says how long until one may (zero
// when the queue is empty).
func (q *Queue[T]) Next(now time.Time) (v T, ok bool, wait time.Duration) {
	c := Control
	if len(q.q[Control]) == 0 {
		c = Bulk
		if len(q.q[Bulk]) == 0 {
			return v, false, 0
		}
	}
	if now.Before(q.busyUntil) {
		return v, false, q.busyUntil.Sub(now)
	}
	it := q.q[c][0]
	q.q[c][0] = item[T]{}
	q.q[c] = q.q[c][1:]
	air := Airtime(it.size, q.cfg.Baud)
	q.busyUntil = now.Add(air + q.slowdown)
	q.counters.Frames[c]++
	q.counters.Bytes += it.size
	q.counters.Airtime += air
	return it.v, true, 0
}

// RadioStatus adjusts the gap between frames from the free space the
// radio reports in its transmit buffer (percent), as ArduPilot does:
// below 20 % add 60 ms, below 50 % add 20 ms, above 95 % remove 40 ms
// (while above 200 ms), above 90 % remove 20 ms; never above MaxSlowdown.
func (q *Queue[T]) RadioStatus(txbuf uint8) {
	switch {
	case txbuf < 20 && q.slowdown < MaxSlowdown:
		q.slowdown += slowdownStepLarge
	case txbuf < 50 && q.slowdown < MaxSlowdown:
		q.slowdown += slowdownStep
	case txbuf > 95 && q.slowdown > slowdownFloor:
		q.slowdown -= slowdownRecover
	case txbuf > 90 && q.slowdown > 0:
		q.slowdown -= min(slowdownStep, q.slowdown)
	}
	q.slowdown = min(q.slowdown, MaxSlowdown)
}

// Len returns the number of frames queued in class c.
func (q *Queue[T]) Len(c Class) int {
	if c < 0 || c >= numClasses {
		return 0
	}
	return len(q.q[c])
}

// Free returns how many more frames class c accepts.
func (q *Queue[T]) Free(c Class) int { return q.cfg.Capacity - q.Len(c) }

// Counters returns the running totals.
func (q *Queue[T]) Counters() Counters {
	c := q.counters
	c.Slowdown = q.slowdown
	return c
}
