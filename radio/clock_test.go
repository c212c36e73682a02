package radio_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/radio"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/radio/link"
	"github.com/skyquorum/skyquorum/radio/wire"
)

// swarmOnHub is a few drones on one in-memory network, each with its own
// clock.
type swarmOnHub struct {
	t      *testing.T
	hub    *link.Hub
	drones map[uint8]*radio.Radio
	sent   map[uint8]map[uint8]int // by receiver, by sender
	frames map[uint8][]wire.Frame  // accepted, by receiver
}

func newSwarmOnHub(t *testing.T) *swarmOnHub {
	return &swarmOnHub{t: t, hub: link.NewHub(), drones: map[uint8]*radio.Radio{}, sent: map[uint8]map[uint8]int{}, frames: map[uint8][]wire.Frame{}}
}

func (s *swarmOnHub) join(id uint8, clock time.Time, mod func(*radio.Config)) {
	l, err := s.hub.Join(id)
	require.NoError(s.t, err)
	s.drones[id] = open(s.t, l, id, func(c *radio.Config) {
		c.Clock = newFakeClock(clock)
		if mod != nil {
			mod(c)
		}
	})
}

// processed is how many frames r has accepted or rejected.
func processed(r *radio.Radio) int {
	c := r.Counters().Reader
	return c.Frames + c.TotalRejected()
}

// round has each of ids broadcast one frame, in turn, and waits until
// every other drone has read it.
func (s *swarmOnHub) round(ids ...uint8) {
	s.t.Helper()
	for _, id := range ids {
		want := map[uint8]int{}
		for other, r := range s.drones {
			if other != id {
				want[other] = processed(r) + 1
			}
		}
		msg := &swarm.MessageSwarmMember{NetworkId: testNetwork, SrcVehicle: uint16(id), DstVehicle: 0xFFFF}
		require.NoError(s.t, s.drones[id].Send(msg, link.Broadcast))
		for other := range want {
			if s.sent[other] == nil {
				s.sent[other] = map[uint8]int{}
			}
			s.sent[other][id]++
		}
		deadline := time.Now().Add(20 * time.Second)
		for other, n := range want {
			for processed(s.drones[other]) < n {
				require.True(s.t, time.Now().Before(deadline), "drone %d did not read the frame of drone %d", other, id)
				time.Sleep(time.Millisecond)
			}
		}
		// Collect what each drone accepted (a frame is counted before it
		// is handed over).
		for other, r := range s.drones {
			for len(s.frames[other]) < r.Counters().Reader.Frames {
				select {
				case f := <-r.Received():
					s.frames[other] = append(s.frames[other], f)
				case <-time.After(time.Until(deadline)):
					s.t.Fatalf("drone %d did not hand over its frames", other)
				}
			}
		}
	}
}

// from counts the frames of sender that receiver accepted.
func (s *swarmOnHub) from(receiver, sender uint8) int {
	n := 0
	for _, f := range s.frames[receiver] {
		if f.SystemID == sender {
			n++
		}
	}
	return n
}

// TestWrongClockDoesNotDragTheSwarm: the highest ID, which leads and
// serves time, has a real-time clock three years ahead; drones 2 to 4 have
// right clocks (4 joins late); drone 1 is a computer without a real-time
// clock that boots in 1970 with no signing state. The leader's frames are
// rejected as too far ahead and its time is adopted by no one; drone 4's
// new stream is not taken for a replay; drone 1 learns the swarm's time
// from its peers and joins. Then the leader recovers as the operator
// procedure says: its clock fixed, its signing state removed.
func TestWrongClockDoesNotDragTheSwarm(t *testing.T) {
	now := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	leaderState := filepath.Join(t.TempDir(), "signing.ts")
	s := newSwarmOnHub(t)
	s.join(5, now.AddDate(3, 0, 0), func(c *radio.Config) { c.TimestampFile = leaderState })
	s.join(2, now, nil)
	s.join(3, now, nil)
	for range 3 {
		s.round(5, 2, 3)
	}
	s.join(4, now, nil)
	s.round(4, 5, 2, 3)
	s.join(1, time.Unix(0, 0), nil)
	s.round(5, 2, 3, 4) // drone 1 listens first
	for range 3 {
		s.round(1, 2, 3, 4, 5)
	}

	limit := wire.TimestampOf(now.Add(5 * time.Minute))
	right := []uint8{1, 2, 3, 4}
	for _, rx := range right {
		c := s.drones[rx].Counters()
		assert.Zero(t, s.from(rx, 5), "drone %d accepted frames of the drone whose clock is years ahead", rx)
		ahead := s.sent[rx][5]
		if rx == 1 {
			ahead += 2 // before it caught up: drones 2 and 3
		}
		assert.Equal(t, ahead, c.Reader.Rejected(wire.Ahead), "drone %d counts every frame of drone 5 as too far ahead", rx)
		for _, tx := range right {
			if tx == rx || rx == 1 {
				continue
			}
			assert.Equal(t, s.sent[rx][tx], s.from(rx, tx), "drone %d accepted every frame of drone %d", rx, tx)
		}
		if rx != 1 {
			assert.Zero(t, c.Reader.Rejected(wire.Replay), "drone %d rejected right clocks as replays", rx)
			assert.Zero(t, c.CaughtUp, "drone %d", rx)
		}
		for _, f := range s.frames[rx] {
			assert.LessOrEqual(t, f.Timestamp, limit, "drone %d accepted a frame of drone %d at %v", rx, f.SystemID, f.Timestamp.Time())
		}
	}
	// Drone 1 caught up once, on its second and third peers' frames (the
	// first only told it that its clock may be behind), and has heard every
	// right drone since.
	assert.Equal(t, 1, s.drones[1].Counters().CaughtUp)
	for _, tx := range []uint8{2, 3, 4} {
		assert.GreaterOrEqual(t, s.from(1, tx), 3, "drone 1 hears drone %d", tx)
	}
	// Drone 5 takes every right drone's new stream for an old one.
	assert.Equal(t, 0, len(s.frames[5]))
	assert.Positive(t, s.drones[5].Counters().Reader.Rejected(wire.Replay))

	// Recovery. A fixed clock alone is not enough: the stored high-water
	// mark is years ahead too.
	rejected := func() int {
		n := 0
		for _, rx := range right {
			n += s.drones[rx].Counters().Reader.Rejected(wire.Ahead)
		}
		return n
	}
	restart := func() {
		require.NoError(t, s.drones[5].Close())
		delete(s.drones, 5)
		s.join(5, now, func(c *radio.Config) { c.TimestampFile = leaderState })
	}
	restart()
	before := rejected()
	s.round(5)
	assert.Equal(t, before+len(right), rejected(), "the stored mark still reads three years ahead")
	require.NoError(t, os.Remove(leaderState))
	restart()
	s.round(5, 1, 2, 3, 4)
	assert.Equal(t, before+len(right), rejected())
	for _, rx := range right {
		assert.Equal(t, 1, s.from(rx, 5), "drone %d hears the recovered leader", rx)
	}
	for _, tx := range right {
		assert.Equal(t, 1, s.from(5, tx), "the recovered leader hears drone %d", tx)
	}
}

// TestUnstorableTimestampRefusesToSend: when the signing high-water mark
// cannot be stored, the frame is not sent (after a reboot its timestamp
// could be used again) and the refusal is counted; once the mark can be
// stored again, frames go out.
func TestUnstorableTimestampRefusesToSend(t *testing.T) {
	hub := link.NewHub()
	lb, err := hub.Join(2)
	require.NoError(t, err)
	b := open(t, lb, 2, nil)
	dir := filepath.Join(t.TempDir(), "state")
	la, err := hub.Join(1)
	require.NoError(t, err)
	a := open(t, la, 1, func(c *radio.Config) { c.TimestampFile = filepath.Join(dir, "signing.ts") })

	first := &swarm.MessageSwarmMember{NetworkId: testNetwork, SrcVehicle: 1, DstVehicle: 0xFFFF, Incarnation: 1}
	require.NoError(t, a.Send(first, link.Broadcast))
	deadline := time.Now().Add(20 * time.Second)
	for a.Counters().PersistErrors == 0 {
		require.True(t, time.Now().Before(deadline), "the store failure is reported")
		time.Sleep(time.Millisecond)
	}
	require.NoError(t, os.MkdirAll(dir, 0o700))
	second := &swarm.MessageSwarmMember{NetworkId: testNetwork, SrcVehicle: 1, DstVehicle: 0xFFFF, Incarnation: 2}
	require.NoError(t, a.Send(second, link.Broadcast))
	got := receive(t, b, 1)[0]
	assert.Equal(t, second, got.Message, "the frame whose timestamp could not be stored was not sent")
	// The link counts a send after the write that b may already have
	// read.
	assert.Eventually(t, func() bool { return a.Counters().Link.Sends >= 1 }, 5*time.Second, time.Millisecond)
	assert.Equal(t, 1, a.Counters().Link.Sends, "one frame sent: the second")
}
