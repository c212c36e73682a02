package pace_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/radio/pace"
)

var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// TestAirtimeFigures checks the airtime figures of MAVLink v2 frames at 57600 baud.
func TestAirtimeFigures(t *testing.T) {
	assert.Equal(t, 5555555*time.Nanosecond, pace.Airtime(32, 57600).Truncate(time.Nanosecond))
	assert.InDelta(t, 7.8, pace.Airtime(45, 57600).Seconds()*1000, 0.05)
	assert.InDelta(t, 3.6, pace.Airtime(21, 57600).Seconds()*1000, 0.05)
	assert.Zero(t, pace.Airtime(45, 0))
}

func TestSpendsAirtimeAtTheBaud(t *testing.T) {
	q := pace.New[int](pace.Config{Baud: 57600})
	for i := range 3 {
		require.NoError(t, q.Push(i, 45, pace.Control))
	}
	now := t0
	var sent []time.Time
	for len(sent) < 3 {
		v, ok, wait := q.Next(now)
		if ok {
			assert.Equal(t, len(sent), v)
			sent = append(sent, now)
			continue
		}
		require.Positive(t, wait)
		now = now.Add(wait)
	}
	air := pace.Airtime(45, 57600)
	assert.Equal(t, air, sent[1].Sub(sent[0]))
	assert.Equal(t, air, sent[2].Sub(sent[1]))
	c := q.Counters()
	assert.Equal(t, 3, c.Frames[pace.Control])
	assert.Equal(t, 135, c.Bytes)
	assert.Equal(t, 3*air, c.Airtime)

	_, ok, wait := q.Next(now)
	assert.False(t, ok)
	assert.Zero(t, wait, "empty")
}

func TestControlBeforeBulk(t *testing.T) {
	q := pace.New[string](pace.Config{Baud: 57600})
	require.NoError(t, q.Push("chunk1", 250, pace.Bulk))
	require.NoError(t, q.Push("chunk2", 250, pace.Bulk))
	require.NoError(t, q.Push("grant", 30, pace.Control))
	require.NoError(t, q.Push("ack", 30, pace.Control))
	var order []string
	now := t0
	for len(order) < 4 {
		v, ok, wait := q.Next(now)
		if ok {
			order = append(order, v)
			if v == "chunk1" {
				// An emergency queued while bulk is on air goes next.
				require.NoError(t, q.Push("land", 30, pace.Control))
			}
			continue
		}
		now = now.Add(wait)
	}
	for {
		v, ok, wait := q.Next(now)
		if ok {
			order = append(order, v)
			continue
		}
		if wait == 0 {
			break
		}
		now = now.Add(wait)
	}
	assert.Equal(t, []string{"grant", "ack", "chunk1", "land", "chunk2"}, order)
}

func TestBackPressureIsReported(t *testing.T) {
	q := pace.New[int](pace.Config{Baud: 57600, Capacity: 2})
	require.NoError(t, q.Push(1, 45, pace.Bulk))
	require.NoError(t, q.Push(2, 45, pace.Bulk))
	assert.Zero(t, q.Free(pace.Bulk))
	err := q.Push(3, 45, pace.Bulk)
	require.ErrorIs(t, err, pace.ErrFull)
	assert.Equal(t, 1, q.Counters().Refused[pace.Bulk])
	// Control has its own room.
	require.NoError(t, q.Push(4, 45, pace.Control))
	assert.Equal(t, 2, q.Len(pace.Bulk))
	_, _, _ = q.Next(t0)
	assert.Equal(t, 0, q.Len(pace.Control))
	require.Error(t, q.Push(5, 1, pace.Class(9)))
}

// TestRadioStatusBackoff follows ArduPilot's rules step by step.
func TestRadioStatusBackoff(t *testing.T) {
	q := pace.New[int](pace.Config{Baud: 57600})
	slow := func() time.Duration { return q.Counters().Slowdown }
	q.RadioStatus(10)
	assert.Equal(t, 60*time.Millisecond, slow())
	q.RadioStatus(40)
	assert.Equal(t, 80*time.Millisecond, slow())
	q.RadioStatus(70)
	assert.Equal(t, 80*time.Millisecond, slow(), "between 50 and 90: unchanged")
	q.RadioStatus(96)
	assert.Equal(t, 60*time.Millisecond, slow(), "above 95 but not above 200 ms: the small step")
	q.RadioStatus(92)
	assert.Equal(t, 40*time.Millisecond, slow())
	for range 100 {
		q.RadioStatus(0)
	}
	assert.Equal(t, pace.MaxSlowdown, slow(), "capped")
	for range 45 {
		q.RadioStatus(99)
	}
	assert.Equal(t, 200*time.Millisecond, slow(), "large steps while above 200 ms")
	q.RadioStatus(99)
	assert.Equal(t, 180*time.Millisecond, slow(), "then small ones")
	for range 20 {
		q.RadioStatus(93)
	}
	assert.Zero(t, slow())

	// The gap is added between frames.
	q.RadioStatus(10)
	require.NoError(t, q.Push(1, 45, pace.Control))
	require.NoError(t, q.Push(2, 45, pace.Control))
	_, ok, _ := q.Next(t0)
	require.True(t, ok)
	_, ok, wait := q.Next(t0)
	require.False(t, ok)
	assert.Equal(t, pace.Airtime(45, 57600)+60*time.Millisecond, wait)
}
