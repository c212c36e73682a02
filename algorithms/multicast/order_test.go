package multicast

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/clock"
)

// FIFO over a lossy network: each sender's messages arrive in every order
// and are delivered in the order they were sent.
func TestFIFOOrder(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		g := newTestGroup(t, seed, 5, makeFIFO, Efficient)
		g.net.Drop = lossy(seed, 0.25)
		for range 5 {
			g.broadcast(2)
			g.broadcast(4)
		}
		g.net.RunTicks(3000)
		d := g.delivered()
		g.checkIntegrity(d)
		g.checkFIFO(d)
		g.checkAll(d, g.ids)
	}
}

// Causal order (Coulouris): a drone that delivers a message and then
// multicasts makes its message depend on the first; every drone delivers
// the first before the second, even when it receives the second first.
func TestCausalOrder(t *testing.T) {
	for seed := uint64(1); seed <= 30; seed++ {
		g := newTestGroup(t, seed, 5, makeCausal, Efficient)
		g.net.Drop = lossy(seed, 0.2)
		// The delivered vector of each drone, as the checker sees it,
		// and the dependencies of each multicast.
		delivered := map[algorithms.NodeID]clock.Vector{}
		deps := map[ID]clock.Vector{}
		for _, id := range g.ids {
			delivered[id] = clock.NewVector(5)
		}
		rng := rand.New(rand.NewPCG(seed, 1))
		replies := 0
		g.net.OnEvent = func(id algorithms.NodeID, ev algorithms.Event) {
			d, ok := ev.(Delivered)
			if !ok {
				return
			}
			need := deps[d.ID]
			require.NotNil(t, need, "seed=%d: %v", seed, d.ID)
			for k := range need {
				require.GreaterOrEqual(t, delivered[id][k], need[k], "seed=%d: drone %d delivered %v before what happened before it", seed, id, d.ID)
			}
			delivered[id][d.ID.Origin-1]++
			// Reply now and then: the reply depends on d.
			if d.ID.Origin != id && replies < 15 && rng.IntN(3) == 0 {
				replies++
				dep := delivered[id].Clone()
				mid, err := g.cores[id].Broadcast([]byte("reply"))
				require.NoError(t, err)
				dep[id-1] = mid.Seq - 1
				deps[mid] = dep
				g.sent[mid] = []byte("reply")
			}
		}
		for _, id := range []algorithms.NodeID{1, 3} {
			dep := delivered[id].Clone()
			mid := g.broadcast(id)
			dep[id-1] = mid.Seq - 1
			deps[mid] = dep
		}
		g.net.RunTicks(4000)
		d := g.delivered()
		g.checkIntegrity(d)
		g.checkAll(d, g.ids)
	}
}

// A vector clock has 4 bytes per drone: causal order is for groups of at
// most MaxCausalMembers drones, and the payload shrinks as the group grows.
func TestCausalGroupSize(t *testing.T) {
	_, err := NewCausal(Config{ID: 1, Members: seqIDs(MaxCausalMembers + 1)})
	assert.ErrorIs(t, err, ErrGroupTooLarge)
	assert.Contains(t, err.Error(), fmt.Sprint(MaxCausalMembers))
	assert.Equal(t, 54, MaxCausalMembers)
	assert.GreaterOrEqual(t, MaxCausalPayload(50), 16, "a 16-byte command fits beside 50 entries")
	assert.Less(t, MaxCausalPayload(51), 16, "and not beside 51")
	assert.Negative(t, MaxCausalPayload(55))

	c, err := NewCausal(Config{ID: 1, Members: seqIDs(MaxCausalMembers)})
	require.NoError(t, err)
	assert.Equal(t, 3, MaxCausalPayload(MaxCausalMembers))
	_, err = c.Broadcast([]byte{1, 2, 3, 4})
	assert.ErrorIs(t, err, ErrTooLarge, "three payload bytes are left at 54 drones")
	_, err = c.Broadcast([]byte{1, 2, 3})
	require.NoError(t, err)
	for _, s := range c.Ready().Sends {
		assert.LessOrEqual(t, s.Msg.Size(), MaxMessage)
	}

	// The largest group still works under loss, repairs and probes
	// included.
	g := newTestGroup(t, 1, MaxCausalMembers, makeCausal, Efficient)
	g.net.Drop = lossy(1, 0.2)
	for _, id := range []algorithms.NodeID{1, 30, MaxCausalMembers} {
		mid, err := g.cores[id].Broadcast(nil)
		require.NoError(t, err)
		g.sent[mid] = nil
		g.net.Collect()
	}
	g.net.RunTicks(3000)
	d := g.delivered()
	g.checkIntegrity(d)
	g.checkAll(d, g.ids)
}

// Total order by a sequencer (Amoeba BB): a message costs 2 broadcast
// frames, the message and the sequencer's ORDER, and 1 when the sequencer
// sends it; 2(N−1) textbook messages. Every drone delivers in one order.
func TestSequencerFrames(t *testing.T) {
	for _, n := range []int{2, 3, 5, 9} {
		t.Run(fmt.Sprint("N=", n), func(t *testing.T) {
			g := newTestGroup(t, uint64(n), n, makeSeq, Efficient)
			for _, id := range g.ids {
				data, order := g.framesOf("DATA"), g.framesOf("ORDER")
				msgs := g.net.ByKind["DATA"] + g.net.ByKind["ORDER"]
				g.broadcast(id)
				g.net.RunTicks(300)
				want := 1
				if id == 1 {
					want = 0
				}
				assert.Equal(t, 1, g.framesOf("DATA")-data, "drone %d: the message", id)
				assert.Equal(t, want, g.framesOf("ORDER")-order, "drone %d: the ORDER", id)
				assert.Equal(t, (1+want)*(n-1), g.net.ByKind["DATA"]+g.net.ByKind["ORDER"]-msgs, "drone %d: textbook messages", id)
			}
			d := g.delivered()
			g.checkIntegrity(d)
			g.checkAll(d, g.ids)
			g.checkTotal(d)
		})
	}
}

// Concurrent multicasts from every drone, over loss: one total order.
func TestSequencerConcurrent(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		g := newTestGroup(t, seed, 6, makeSeq, Relay)
		g.net.Drop = lossy(seed, 0.2)
		for range 3 {
			for _, id := range g.ids {
				g.broadcast(id)
			}
		}
		g.net.RunTicks(3000)
		d := g.delivered()
		g.checkIntegrity(d)
		g.checkAll(d, g.ids)
		g.checkTotal(d)
	}
}

// The sequencer crashes: what it ordered and any drone delivered reaches
// every correct drone in the same order; nothing is delivered at a
// position twice; later messages wait (liveness is the command log's job).
func TestSequencerCrash(t *testing.T) {
	g := newTestGroup(t, 1, 5, makeSeq, Efficient)
	m1 := g.broadcast(2)
	g.net.RunTicks(300)
	g.crash(1)
	m2 := g.broadcast(3)
	g.net.RunTicks(2000)
	d := g.delivered()
	g.checkIntegrity(d)
	g.checkTotal(d)
	for _, id := range live(g.ids, 1) {
		assert.Equal(t, []ID{m1}, d[id], "drone %d: %v waits for a sequencer", id, m2)
	}
}

// The sequencer delivers a position only once its ORDER is reliably
// delivered, as everyone does: if no ORDER leaves it before it crashes, it
// has delivered nothing that the others will not.
func TestSequencerWaitsForItsOwnOrder(t *testing.T) {
	g := newTestGroup(t, 1, 3, makeSeq, Efficient)
	g.net.Drop = func(from, to algorithms.NodeID, m algorithms.Message) bool { return from == 1 }
	g.broadcast(2)
	g.net.RunTicks(200)
	assert.Empty(t, g.delivered()[1], "the sequencer delivered a position nobody else holds")
	g.crash(1)
	g.net.RunTicks(2000)
	d := g.delivered()
	g.checkTotal(d)
	assert.Empty(t, d[2])
	assert.Empty(t, d[3])
}

func TestSequencerRejects(t *testing.T) {
	s, err := NewSequencer(Config{ID: 2, Members: seqIDs(4)}, 1)
	require.NoError(t, err)
	for _, c := range []struct {
		from algorithms.NodeID
		msg  algorithms.Message
	}{
		{3, Data{Seq: 1, Body: Order{Global: 1, ID: ID{Origin: 3, Seq: 1}}}}, // ORDER from a drone that is not the sequencer
		{3, Data{Seq: 1, Body: Sequenced{Seq: 1, Global: 4}}},                // a position from a drone that is not the sequencer
		{1, Data{Seq: 1, Body: Order{Global: 0, ID: ID{Origin: 3, Seq: 1}}}}, // position 0
		{1, Data{Seq: 1, Body: Order{Global: 1, ID: ID{Origin: 9, Seq: 1}}}}, // a stranger's message
		{3, Data{Seq: 1, Body: Plain{}}},                                     // another order's body
		{3, Data{Seq: 1, Body: Sequenced{Seq: 0}}},                           // message 0
	} {
		err := s.Step(c.from, c.msg)
		assert.Error(t, err, "%+v", c.msg)
		assert.True(t, s.Ready().Empty())
	}
}

// ISIS (Birman–Joseph): 2 broadcast data frames (the message, AGREED) and
// N−1 proposals per message, 3(N−1) textbook messages; SETTLED frames are
// acknowledgements. Every drone delivers in one order.
func TestISISFrames(t *testing.T) {
	for _, n := range []int{2, 3, 5, 9} {
		t.Run(fmt.Sprint("N=", n), func(t *testing.T) {
			g := newTestGroup(t, uint64(n), n, makeISIS, Efficient)
			for _, id := range g.ids {
				data, agreed, proposed := g.framesOf("DATA"), g.framesOf("AGREED"), g.net.ByKind["PROPOSED"]
				msgs := g.net.ByKind["DATA"] + g.net.ByKind["AGREED"] + proposed
				g.broadcast(id)
				g.net.RunTicks(500)
				assert.Equal(t, 1, g.framesOf("DATA")-data, "drone %d", id)
				assert.Equal(t, 1, g.framesOf("AGREED")-agreed, "drone %d", id)
				assert.Equal(t, n-1, g.net.ByKind["PROPOSED"]-proposed, "drone %d: one proposal per other drone", id)
				assert.Equal(t, 3*(n-1), g.net.ByKind["DATA"]+g.net.ByKind["AGREED"]+g.net.ByKind["PROPOSED"]-msgs, "drone %d: textbook messages", id)
			}
			assert.Positive(t, g.framesOf("SETTLED"))
			d := g.delivered()
			g.checkIntegrity(d)
			g.checkAll(d, g.ids)
			g.checkTotal(d)
		})
	}
}

// Concurrent multicasts, loss, and a drone that crashes mid-run (not a
// sender): the survivors stop waiting for it and deliver everything in one
// order.
func TestISISConcurrentWithCrash(t *testing.T) {
	for seed := uint64(1); seed <= 20; seed++ {
		g := newTestGroup(t, seed, 6, makeISIS, Efficient)
		g.net.Drop = lossy(seed, 0.2)
		for i := range 12 {
			g.broadcast(g.ids[i%5])
			g.net.Run(int(seed))
			if i == 5 {
				g.crash(6)
			}
		}
		g.net.RunTicks(5000)
		d := g.delivered()
		g.checkIntegrity(d)
		g.checkAll(d, live(g.ids, 6))
		g.checkTotal(d)
	}
}

func TestISISRejects(t *testing.T) {
	s, err := NewISIS(Config{ID: 2, Members: seqIDs(4)})
	require.NoError(t, err)
	_, err = s.Broadcast([]byte("x"))
	require.NoError(t, err)
	s.Ready()
	for _, c := range []struct {
		from algorithms.NodeID
		msg  algorithms.Message
	}{
		{3, Proposed{ID: ID{Origin: 3, Seq: 1}, Priority: clock.Stamp{T: 1, ID: 3}}}, // not my message
		{3, Proposed{ID: ID{Origin: 2, Seq: 2}, Priority: clock.Stamp{T: 1, ID: 3}}}, // never sent
		{3, Proposed{ID: ID{Origin: 2, Seq: 1}, Priority: clock.Stamp{T: 1, ID: 4}}}, // someone else's priority
		{9, Settled{}}, // a stranger
		{3, Settled{Ask: []algorithms.NodeID{9}}}, // asking a stranger
		{3, Collect{Seq: 1, Ask: []algorithms.NodeID{9}}},
		{3, Data{Seq: 1, Body: Agreed{Seq: 1, Priority: clock.Stamp{T: 1, ID: 9}}}}, // a stranger's priority
		{3, Data{Seq: 1, Body: Tagged{Seq: 0}}},
	} {
		err := s.Step(c.from, c.msg)
		assert.Error(t, err, "%+v", c.msg)
		assert.True(t, s.Ready().Empty(), "%+v", c.msg)
	}
}
