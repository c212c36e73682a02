package radio_test

import (
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/radio"
	"github.com/skyquorum/skyquorum/radio/dialect"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/radio/link"
	"github.com/skyquorum/skyquorum/radio/pace"
	"github.com/skyquorum/skyquorum/radio/wire"
)

var testKey = wire.Key{0: 0x5a, 31: 0xa5}

const testNetwork = 4

// fakeClock stands still unless advanced; timers fire when it passes them.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []fakeTimer
}

type fakeTimer struct {
	at time.Time
	ch chan time.Time
}

func newFakeClock(at time.Time) *fakeClock { return &fakeClock{now: at} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.timers = append(c.timers, fakeTimer{c.now.Add(d), ch})
	return ch
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	keep := c.timers[:0]
	for _, t := range c.timers {
		if !t.at.After(c.now) {
			t.ch <- c.now
			continue
		}
		keep = append(keep, t)
	}
	c.timers = keep
}

func open(t *testing.T, l link.Link, sysid uint8, mod func(*radio.Config)) *radio.Radio {
	t.Helper()
	cfg := radio.Config{Link: l, Key: testKey, Network: testNetwork, SystemID: sysid}
	if mod != nil {
		mod(&cfg)
	}
	r, err := radio.Open(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = r.Close() })
	return r
}

func receive(t *testing.T, r *radio.Radio, n int) []wire.Frame {
	t.Helper()
	var out []wire.Frame
	timeout := time.After(20 * time.Second)
	for len(out) < n {
		select {
		case f, ok := <-r.Received():
			require.True(t, ok, "radio closed")
			out = append(out, f)
		case <-timeout:
			t.Fatalf("received %d of %d frames", len(out), n)
		}
	}
	return out
}

func samples() []message.Message { return SwarmSamples(9, testNetwork) }

func TestExchangeEveryMessageInMemory(t *testing.T) {
	hub := link.NewHub()
	la, err := hub.Join(1)
	require.NoError(t, err)
	lb, err := hub.Join(2)
	require.NoError(t, err)
	a := open(t, la, 1, nil)
	b := open(t, lb, 2, nil)

	msgs := samples()
	for _, m := range msgs {
		require.NoError(t, a.Send(m, 2))
	}
	got := receive(t, b, len(msgs))
	byID := map[uint32]message.Message{}
	for _, m := range msgs {
		byID[m.GetID()] = m
	}
	for _, f := range got {
		assert.True(t, sameOnAir(byID[f.Message.GetID()], f.Message), "%T field for field: sent %+v, got %+v", f.Message, byID[f.Message.GetID()], f.Message)
		assert.Equal(t, uint8(1), f.SystemID)
		assert.Equal(t, uint8(191), f.ComponentID)
		assert.True(t, f.Signed)
	}
	// The same message again is a new frame with a new timestamp: not a
	// replay.
	require.NoError(t, a.Send(msgs[0], link.Broadcast))
	again := receive(t, b, 1)[0]
	assert.Equal(t, msgs[0], again.Message)
	assert.Greater(t, again.Timestamp, got[len(got)-1].Timestamp)
	assert.Zero(t, b.Counters().Reader.TotalRejected())
	assert.Equal(t, len(msgs)+1, a.Counters().Queue.Frames[pace.Control]+a.Counters().Queue.Frames[pace.Bulk])
}

func TestBackpressureIsReported(t *testing.T) {
	hub := link.NewHub()
	la, err := hub.Join(1)
	require.NoError(t, err)
	clock := newFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a := open(t, la, 1, func(c *radio.Config) {
		c.Baud = 57600
		c.QueueCapacity = 3
		c.Clock = clock
	})
	chunk := &swarm.MessageSwarmShowChunk{NetworkId: testNetwork, Len: 200}
	var refused error
	for range 10 {
		if err := a.Send(chunk, link.Broadcast); err != nil {
			refused = err
			break
		}
	}
	require.ErrorIs(t, refused, radio.ErrBackpressure)
	// Control traffic has its own room and goes first.
	require.NoError(t, a.Send(&swarm.MessageSwarmEmergency{NetworkId: testNetwork, Command: swarm.SWARM_EMERGENCY_COMMAND_LAND}, link.Broadcast))
	assert.Positive(t, a.Counters().Queue.Refused[pace.Bulk])
}

// localRadio is an in-memory link that says it is a serial radio, so
// that the unsigned RADIO_STATUS of a SiK radio is accepted.
type localRadio struct{ *link.Memory }

func (l localRadio) Info() link.Info {
	i := l.Memory.Info()
	i.LocalRadio, i.Datagrams = true, false
	return i
}

func TestRadioStatusSlowsTheQueue(t *testing.T) {
	hub := link.NewHub()
	la, err := hub.Join(1)
	require.NoError(t, err)
	sik, err := hub.Join(wire.RadioSystemID)
	require.NoError(t, err)
	a := open(t, localRadio{la}, 1, func(c *radio.Config) { c.Baud = 57600 })

	rw, err := dialect.NewReadWriter()
	require.NoError(t, err)
	enc := wire.NewEncoder(rw, wire.RadioSystemID, wire.RadioComponentID)
	frame, err := enc.Encode(&ardupilotmega.MessageRadioStatus{Txbuf: 10}, nil)
	require.NoError(t, err)
	require.NoError(t, sik.Send(frame, 1))
	f := receive(t, a, 1)[0]
	assert.True(t, f.IsRadioStatus())
	assert.Equal(t, 60*time.Millisecond, a.Counters().Queue.Slowdown)
}

// TestRebootWithoutClockIsNotAReplay: a drone sends, reboots with its clock
// in 1970, and its frames are still accepted by a peer that heard the
// first ones, because the signing high-water mark was persisted.
func TestRebootWithoutClockIsNotAReplay(t *testing.T) {
	hub := link.NewHub()
	lb, err := hub.Join(2)
	require.NoError(t, err)
	b := open(t, lb, 2, nil)
	tsFile := filepath.Join(t.TempDir(), "signing.ts")
	msg := &swarm.MessageSwarmMember{NetworkId: testNetwork, SrcVehicle: 1, DstVehicle: 0xFFFF}

	la, err := hub.Join(1)
	require.NoError(t, err)
	a := open(t, la, 1, func(c *radio.Config) { c.TimestampFile = tsFile })
	require.NoError(t, a.Send(msg, link.Broadcast))
	first := receive(t, b, 1)[0]
	require.NoError(t, a.Close())

	la, err = hub.Join(1)
	require.NoError(t, err)
	rebooted := open(t, la, 1, func(c *radio.Config) {
		c.TimestampFile = tsFile
		c.Clock = newFakeClock(time.Unix(0, 0))
	})
	require.NoError(t, rebooted.Send(msg, link.Broadcast))
	second := receive(t, b, 1)[0]
	assert.Greater(t, second.Timestamp, first.Timestamp)
	assert.Zero(t, b.Counters().Reader.TotalRejected())
}

// A ground station takes system ID 255, and the drones verify its frames.
func TestGroundStationSystemID(t *testing.T) {
	hub := link.NewHub()
	lg, err := hub.Join(radio.GroundStationSystemID)
	require.NoError(t, err)
	ld, err := hub.Join(1)
	require.NoError(t, err)
	gs := open(t, lg, radio.GroundStationSystemID, func(c *radio.Config) { c.ComponentID = 190; c.LinkID = 1 })
	d := open(t, ld, 1, nil)
	require.NoError(t, gs.Send(&swarm.MessageSwarmTimeRequest{T1: 7, SrcVehicle: 65000, DstVehicle: 1, NetworkId: testNetwork}, link.Dest(1)))
	f := receive(t, d, 1)[0]
	assert.Equal(t, uint8(255), f.SystemID)
	assert.Equal(t, uint8(190), f.ComponentID)
	assert.Equal(t, uint8(1), f.LinkID)
	assert.Zero(t, d.Counters().Reader.TotalRejected())
}

func TestOpenErrors(t *testing.T) {
	_, err := radio.Open(radio.Config{})
	require.Error(t, err)
	hub := link.NewHub()
	l, err := hub.Join(1)
	require.NoError(t, err)
	for _, id := range []uint8{251, 254} {
		_, err = radio.Open(radio.Config{Link: l, SystemID: id})
		require.ErrorContains(t, err, "1–250")
	}
	r := open(t, l, 1, nil)
	require.NoError(t, r.Close())
	require.ErrorIs(t, r.Send(&swarm.MessageSwarmMember{}, 0), radio.ErrClosed)
	_, ok := <-r.Received()
	assert.False(t, ok)
}

// A time-sync reply that waits in the queue behind other frames goes on
// air with its hold (t3 − t2) grown by the wait, so that the follower's
// round trip and offset leave the wait out.
func TestTimeReplyHoldCountsTheQueue(t *testing.T) {
	hub := link.NewHub()
	la, err := hub.Join(1)
	require.NoError(t, err)
	lb, err := hub.Join(2)
	require.NoError(t, err)
	clock := newFakeClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	a := open(t, la, 1, func(c *radio.Config) { c.Baud = 57600; c.Clock = clock })
	b := open(t, lb, 2, func(c *radio.Config) { c.Clock = clock })
	for range 5 {
		require.NoError(t, a.Send(&swarm.MessageSwarmEmergency{NetworkId: testNetwork, Command: swarm.SWARM_EMERGENCY_COMMAND_HOLD}, link.Broadcast))
	}
	reply := &swarm.MessageSwarmTimeReply{T1: 1, T2: 1000, SrcVehicle: 1, DstVehicle: 2, NetworkId: testNetwork, Hold: 7}
	require.NoError(t, a.Send(reply, 2))
	start := clock.Now()
	var got *swarm.MessageSwarmTimeReply
	for got == nil {
		select {
		case f := <-b.Received():
			if m, ok := f.Message.(*swarm.MessageSwarmTimeReply); ok {
				got = m
			}
		case <-time.After(time.Millisecond):
			clock.Advance(time.Millisecond)
		}
		require.Less(t, clock.Now().Sub(start), 10*time.Second, "no reply")
	}
	elapsed := clock.Now().Sub(start)
	t.Logf("hold %v after %v in the queue and on the way", time.Duration(got.Hold), elapsed)
	assert.Equal(t, int64(1000), got.T2)
	assert.Equal(t, uint32(7), reply.Hold, "the sender's message is not changed")
	// Five frames of at least 23 bytes went first: 4 ms each at 57600 baud.
	assert.GreaterOrEqual(t, int64(got.Hold), int64(7+20*time.Millisecond))
	assert.LessOrEqual(t, int64(got.Hold), int64(7+elapsed))
}
