package multicast

import (
	"errors"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
)

// Basic multicast: one broadcast frame per message, delivered by whoever
// receives it, once.
func TestBasicOneFramePerMessage(t *testing.T) {
	g := newTestGroup(t, 1, 5, makeBasic, Efficient)
	for _, id := range g.ids {
		g.broadcast(id)
		g.broadcast(id)
	}
	g.net.Run(1 << 20)
	assert.Equal(t, 10, g.net.Frames)
	assert.Equal(t, 10*4, g.net.Messages, "the textbook counts N−1 messages per multicast")
	d := g.delivered()
	g.checkIntegrity(d)
	g.checkFIFO(d)
	g.checkAll(d, g.ids)

	// A duplicated frame is delivered once.
	b := g.cores[1].(*Basic)
	require.NoError(t, b.Step(2, BasicData{Seq: 1, Payload: []byte("x")}))
	assert.Empty(t, b.Ready().Events)
}

// Under loss basic multicast gives no agreement: that is what reliable
// multicast is measured against.
func TestBasicLosesMessages(t *testing.T) {
	g := newTestGroup(t, 1, 5, makeBasic, Efficient)
	g.net.Drop = func(from, to algorithms.NodeID, _ algorithms.Message) bool { return to == 3 }
	g.broadcast(1)
	g.net.Run(1 << 20)
	d := g.delivered()
	assert.Len(t, d[2], 1)
	assert.Empty(t, d[3])
}

// Fault-free, efficient reliable multicast sends one data frame per message
// and the textbook relay N (the message and N−1 relays, which are also the
// relayers' acknowledgements, so relay needs no acknowledgement frame).
func TestReliableFramesFaultFree(t *testing.T) {
	for _, rel := range []Reliability{Efficient, Relay} {
		for _, n := range []int{1, 2, 3, 5, 9, 16} {
			t.Run(fmt.Sprintf("%v/N=%d", rel, n), func(t *testing.T) {
				g := newTestGroup(t, uint64(n), n, makeReliable, rel)
				for range 3 {
					for _, id := range g.ids {
						g.broadcast(id)
					}
				}
				g.net.RunTicks(3000)
				d := g.delivered()
				g.checkIntegrity(d)
				g.checkFIFO(d)
				g.checkAll(d, g.ids)
				msgs := 3 * n
				if n == 1 {
					assert.Zero(t, g.net.Frames, "a drone alone sends nothing")
					return
				}
				assert.Equal(t, msgs, g.framesOf("DATA"), "one data frame per message")
				assert.Zero(t, g.framesOf("REPAIR"), "no repair without loss")
				assert.Zero(t, g.framesOf("NAK"), "no negative acknowledgement without loss")
				if rel == Relay {
					assert.Equal(t, msgs*(n-1), g.framesOf("RELAY"), "every drone relays every message once")
					assert.Zero(t, g.framesOf("ACK"), "relays acknowledge")
				} else {
					assert.Zero(t, g.framesOf("RELAY"))
				}
			})
		}
	}
}

// Uniform agreement: a drone delivers only once MaxFaults+1 drones are
// known to hold the message, so that a message one drone delivers
// survives the crash of that drone and of the origin.
func TestReliableNoDeliveryBeforeEnoughHolders(t *testing.T) {
	for _, rel := range []Reliability{Efficient, Relay} {
		t.Run(rel.String(), func(t *testing.T) {
			// N = 5 tolerates 2 crashes: 3 holders are needed.
			g := newTestGroup(t, 1, 5, makeReliable, rel)
			// Only drone 4 hears drone 5, and nobody hears drone 4.
			g.net.Drop = func(from, to algorithms.NodeID, _ algorithms.Message) bool {
				return from == 5 && to != 4 || from == 4
			}
			m := g.broadcast(5)
			g.net.RunTicks(50)
			assert.Empty(t, g.delivered()[4], "2 holders of %v are not enough", m)
			assert.Empty(t, g.delivered()[5])
		})
	}
}

// The origin crashes after one drone received its message: that drone
// repairs it once the failure detector reports the origin, and every live
// drone delivers it. Then the drone that first held it crashes too, after
// the others hold it, and nothing is lost.
func TestReliableOriginCrashes(t *testing.T) {
	for _, rel := range []Reliability{Efficient, Relay} {
		t.Run(rel.String(), func(t *testing.T) {
			g := newTestGroup(t, 1, 5, makeReliable, rel)
			g.net.Drop = func(from, to algorithms.NodeID, m algorithms.Message) bool {
				return from == 5 && to != 4
			}
			m := g.broadcast(5)
			g.net.Run(1 << 20)
			g.crash(5)
			g.net.Drop = nil
			g.net.RunTicks(2000)
			d := g.delivered()
			g.checkIntegrity(d)
			for _, id := range live(g.ids, 5) {
				assert.Equal(t, []ID{m}, d[id], "drone %d", id)
			}
			g.crash(4)
			g.broadcast(1)
			g.net.RunTicks(2000)
			d = g.delivered()
			g.checkAll(d, live(g.ids, 4, 5))
		})
	}
}

// A drone delivers and crashes at once; the message still reaches every
// correct drone, although the crashed drone's frames were lost.
func TestReliableDelivererCrashes(t *testing.T) {
	g := newTestGroup(t, 3, 7, makeReliable, Efficient)
	m := g.broadcast(7)
	// Deliver everything to drone 1 first, losing what drone 7 sends to
	// the others, then crash drone 7 and drone 1.
	g.net.Drop = func(from, to algorithms.NodeID, _ algorithms.Message) bool { return from == 7 && to > 3 }
	for len(g.delivered()[1]) == 0 {
		g.net.Tick()
		g.net.Run(1 << 20)
	}
	g.crash(7)
	g.crash(1)
	g.net.Drop = nil
	g.net.RunTicks(3000)
	d := g.delivered()
	g.checkIntegrity(d)
	for _, id := range live(g.ids, 1, 7) {
		assert.Equal(t, []ID{m}, d[id], "drone %d", id)
	}
}

// Over many seeds with 30% of messages lost, every drone delivers every
// message once, in each origin's order, with both variants and every
// order on top.
func TestReliableUnderLoss(t *testing.T) {
	for _, rel := range []Reliability{Efficient, Relay} {
		for name, mk := range map[string]maker{"reliable": makeReliable, "fifo": makeFIFO, "causal": makeCausal, "sequencer": makeSeq, "isis": makeISIS} {
			t.Run(fmt.Sprintf("%s/%v", name, rel), func(t *testing.T) {
				for seed := uint64(1); seed <= 30; seed++ {
					n := 3 + int(seed%5)
					g := newTestGroup(t, seed, n, mk, rel)
					g.net.Drop = lossy(seed, 0.3)
					for i := range 12 {
						g.broadcast(g.ids[i%n])
						g.net.Run(int(seed) * 3)
					}
					g.net.RunTicks(5000)
					d := g.delivered()
					g.checkIntegrity(d)
					g.checkAll(d, g.ids)
					if name != "isis" && name != "sequencer" {
						g.checkFIFO(d)
					} else {
						g.checkTotal(d)
					}
				}
			})
		}
	}
}

// Step rejects what the protocol never sends, with the state unchanged.
func TestReliableRejects(t *testing.T) {
	members := seqIDs(4)
	fresh := func() *Reliable {
		r, err := NewReliable(Config{ID: 1, Members: members})
		require.NoError(t, err)
		return r
	}
	plain := Plain{Payload: []byte("x")}
	cases := []struct {
		name string
		from algorithms.NodeID
		msg  algorithms.Message
		want error
	}{
		{"unknown message", 2, BasicData{Seq: 1}, algorithms.ErrUnknownMessage},
		{"from a stranger", 9, Data{Seq: 1, Body: plain}, ErrNotMember},
		{"sequence number 0", 2, Data{Seq: 0, Body: plain}, ErrBadMessage},
		{"no body", 2, Data{Seq: 1}, ErrBadMessage},
		{"body of another order", 2, Data{Seq: 1, Body: Order{Global: 1, ID: ID{Origin: 2, Seq: 1}}}, ErrBadMessage},
		{"relay by its origin", 2, Relayed{ID: ID{Origin: 2, Seq: 1}, Body: plain}, ErrBadMessage},
		{"relay of a stranger's message", 2, Relayed{ID: ID{Origin: 9, Seq: 1}, Body: plain}, ErrNotMember},
		{"repair asking a stranger", 2, Repair{ID: ID{Origin: 3, Seq: 1}, Ask: []algorithms.NodeID{9}, Body: plain}, ErrNotMember},
		{"far ahead", 2, Data{Seq: maxAhead + 1, Body: plain}, ErrBadMessage},
		{"my own message, never sent", 2, Relayed{ID: ID{Origin: 1, Seq: 1}, Body: plain}, ErrBadMessage},
		{"ack of a stranger", 2, Ack{Entries: []AckEntry{{Origin: 9, Held: 1}}}, ErrNotMember},
		{"ack of my messages, never sent", 2, Ack{Entries: []AckEntry{{Origin: 1, Held: 1}}}, ErrBadMessage},
		{"ack asking a stranger", 2, Ack{Ask: []algorithms.NodeID{9}}, ErrNotMember},
		{"nak of 0", 2, Nak{Origin: 3, Missing: []uint32{0}}, ErrBadMessage},
		{"nak of my messages, never sent", 2, Nak{Origin: 1, Missing: []uint32{1}}, ErrBadMessage},
		{"too large", 2, Data{Seq: 1, Body: Plain{Payload: make([]byte, maxBody)}}, ErrTooLarge},
	}
	for _, c := range cases {
		r := fresh()
		err := r.Step(c.from, c.msg)
		require.Error(t, err, c.name)
		assert.True(t, errors.Is(err, c.want), "%s: %v", c.name, err)
		assert.True(t, r.Ready().Empty(), "%s: output after a rejected message", c.name)
		// The state is unchanged: a valid message 2.1 is still new.
		require.NoError(t, r.Step(2, Data{Seq: 1, Body: plain}), c.name)
		st := r.streams[r.index[2]]
		assert.Equal(t, uint32(1), st.held, c.name)
	}
}

func TestConfigErrors(t *testing.T) {
	ids := seqIDs(5)
	for _, c := range []Config{
		{ID: 1},
		{ID: 9, Members: ids},
		{ID: 1, Members: []algorithms.NodeID{1, 2, 2}},
		{ID: 1, Members: []algorithms.NodeID{1, algorithms.Everyone}},
		{ID: 1, Members: ids, Reliability: 7},
		{ID: 1, Members: ids, MaxFaults: 3},
		{ID: 1, Members: ids, MaxFaults: -1},
		{ID: 1, Members: ids, AckDelay: -1},
	} {
		_, err := NewReliable(c)
		assert.ErrorIs(t, err, ErrBadConfig, "%+v", c)
	}
	_, err := NewSequencer(Config{ID: 1, Members: ids}, 9)
	assert.ErrorIs(t, err, ErrBadConfig)
	r, err := ParseReliability("relay")
	require.NoError(t, err)
	assert.Equal(t, Relay, r)
	_, err = ParseReliability("fast")
	assert.ErrorIs(t, err, ErrBadConfig)
}

// Every message fits one MAVLink payload; a payload that would not is
// refused by Broadcast.
func TestSizes(t *testing.T) {
	ids := seqIDs(250)
	for name, mk := range map[string]maker{"basic": makeBasic, "reliable": makeReliable, "fifo": makeFIFO, "sequencer": makeSeq, "isis": makeISIS} {
		c, err := mk(Config{ID: 2, Members: ids})
		require.NoError(t, err, name)
		_, err = c.Broadcast(make([]byte, MaxMessage))
		assert.ErrorIs(t, err, ErrTooLarge, name)
		for size := 150; size < MaxMessage; size++ {
			if _, err := c.Broadcast(make([]byte, size)); err != nil {
				assert.ErrorIs(t, err, ErrTooLarge, name)
				assert.Greater(t, size, 200, "%s: only %d payload bytes fit", name, size-1)
				break
			}
		}
		for _, s := range c.Ready().Sends {
			assert.LessOrEqual(t, s.Msg.Size(), MaxMessage, "%s: %s", name, s.Msg.Kind())
		}
	}
	for _, m := range []algorithms.Message{
		Ack{Ask: seqIDs(10), Entries: make([]AckEntry, (MaxMessage-ackHeader-20)/entryBytes)},
		Nak{Origin: 1, Missing: make([]uint32, maxMissing)},
		Proposed{}, Settled{Ask: seqIDs(100)}, Collect{Ask: seqIDs(100)},
	} {
		assert.LessOrEqual(t, m.Size(), MaxMessage, m.Kind())
	}
}

// Two runs of one seed are the same run.
func TestDeterministic(t *testing.T) {
	run := func() []string {
		g := newTestGroup(t, 5, 6, makeISIS, Efficient)
		g.net.Drop = lossy(5, 0.2)
		for i := range 10 {
			g.broadcast(g.ids[i%6])
		}
		g.net.RunTicks(2000)
		var out []string
		for _, e := range g.net.Log {
			out = append(out, fmt.Sprintf("%d>%d %s %+v", e.From, e.To, e.Msg.Kind(), e.Msg))
		}
		return out
	}
	assert.Equal(t, run(), run())
}
