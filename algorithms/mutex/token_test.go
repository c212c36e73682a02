package mutex

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/algtest"
)

func tokenRing(ids []algorithms.NodeID, res []Resource) map[algorithms.NodeID]*TokenRing {
	out := map[algorithms.NodeID]*TokenRing{}
	for _, id := range ids {
		out[id] = NewTokenRing(id, ids, res)
	}
	return out
}

func tokenNet(seed uint64, ring map[algorithms.NodeID]*TokenRing) *algtest.Net {
	cores := map[algorithms.NodeID]algorithms.Core{}
	for id, c := range ring {
		cores[id] = c
	}
	return algtest.New(seed, cores)
}

// passes counts TokenPassed events per resource.
func passes(n *algtest.Net) map[Resource]int {
	out := map[Resource]int{}
	for _, e := range n.Events {
		if p, ok := e.Event.(TokenPassed); ok {
			out[p.Resource]++
		}
	}
	return out
}

// TestTokenRingIdleRotation: docs/algorithms.md, token ring: the token circulates
// even when idle, "N per idle rotation" frames. One hop per tick per
// resource, so N ticks make one rotation back to the lowest ID.
func TestTokenRingIdleRotation(t *testing.T) {
	for _, n := range []int{1, 2, 5, 16} {
		t.Run(fmt.Sprint("N=", n), func(t *testing.T) {
			ids := seqIDs(10, n)
			ring := tokenRing(ids, resources(2))
			net := tokenNet(1, ring)
			for _, id := range ids {
				assert.Equal(t, id == ids[0], ring[id].Holds(0), "drone %d at start", id)
			}
			for tick := 1; tick <= n; tick++ {
				net.Tick()
				net.Run(1 << 10)
				if n > 1 {
					holder := ids[tick%n]
					assert.True(t, ring[holder].Holds(0), "tick %d: token at %d", tick, holder)
					assert.True(t, ring[holder].Holds(1))
				}
			}
			hops := n
			if n == 1 {
				hops = 0 // alone: the token never leaves
			}
			assert.Equal(t, 2*hops, net.Frames, "one frame per hop per resource")
			assert.Equal(t, 2*hops, net.ByKind["TOKEN"])
			assert.Equal(t, 2*hops, net.Messages)
			p := passes(net)
			assert.Equal(t, hops, p[0])
			assert.Equal(t, hops, p[1])
			assert.True(t, ring[ids[0]].Holds(0), "back at the lowest ID after N ticks")
		})
	}
}

// TestTokenRingRequest: "client delay 0 to N·T" — the holder enters at
// once, a drone k hops downstream waits k ticks; exit costs 1 message.
func TestTokenRingRequest(t *testing.T) {
	ids := seqIDs(1, 5)
	ring := tokenRing(ids, resources(1))
	net := tokenNet(1, ring)
	granted := map[algorithms.NodeID]int{}
	tick := 0
	net.OnEvent = func(id algorithms.NodeID, ev algorithms.Event) {
		if _, ok := ev.(Granted); ok {
			granted[id] = tick
		}
	}

	require.NoError(t, ring[1].Request(0))
	net.Collect()
	assert.Equal(t, map[algorithms.NodeID]int{1: 0}, granted, "the holder enters at once")
	net.Tick()
	assert.True(t, ring[1].Holds(0), "a token in use does not move")
	before := net.Messages
	require.NoError(t, ring[1].Release(0))
	net.Run(10)
	assert.Equal(t, 1, net.Messages-before, "exit: 1 message")
	assert.True(t, ring[2].Holds(0), "released to the successor")

	require.NoError(t, ring[5].Request(0))
	for tick = 1; tick <= 5 && len(granted) < 2; tick++ {
		net.Tick()
		net.Run(10)
	}
	assert.Equal(t, 3, granted[5], "three hops from 2 to 5")
}

// TestTokenRingPeerDown: a dead drone is skipped as successor, and comes
// back with PeerUp.
func TestTokenRingPeerDown(t *testing.T) {
	ids := seqIDs(1, 4)
	ring := tokenRing(ids, resources(1))
	net := tokenNet(1, ring)
	net.Crash(2)
	for _, id := range []algorithms.NodeID{1, 3, 4} {
		ring[id].PeerDown(2)
	}
	var route []algorithms.NodeID
	net.OnEvent = func(id algorithms.NodeID, ev algorithms.Event) {
		if p, ok := ev.(TokenPassed); ok {
			route = append(route, p.To)
		}
	}
	net.RunTicks(6)
	assert.Equal(t, []algorithms.NodeID{3, 4, 1, 3, 4, 1}, route)

	net2 := tokenNet(1, tokenRing(ids, resources(1)))
	r1 := net2.Core(1).(*TokenRing)
	r1.PeerDown(2)
	r1.PeerDown(2)
	r1.PeerDown(1) // never removes itself
	assert.Equal(t, algorithms.NodeID(3), r1.successor())
	r1.PeerUp(2)
	r1.PeerUp(99) // not configured
	assert.Equal(t, algorithms.NodeID(2), r1.successor())
	assert.Equal(t, ids, r1.ring)
}

// TestTokenRingContention checks ME1 and ME2 (docs/algorithms.md) over many
// seeded interleavings, several resources at once.
func TestTokenRingContention(t *testing.T) {
	t.Parallel()
	for _, n := range []int{1, 2, 3, 5, 9} {
		t.Run(fmt.Sprint("N=", n), func(t *testing.T) {
			for seed := range uint64(seeds(100)) {
				ids := seqIDs(1, n)
				cores := map[algorithms.NodeID]Mutex{}
				for id, c := range tokenRing(ids, resources(3)) {
					cores[id] = c
				}
				h := newContention(t, seed, cores, resources(3), 3)
				h.ticks = true
				h.run(100000)
			}
		})
	}
}

// TestTokenRingErrors: local calls and messages that do not fit the state.
func TestTokenRingErrors(t *testing.T) {
	ring := tokenRing(seqIDs(1, 3), resources(1))
	a, b := ring[1], ring[2]

	require.ErrorIs(t, a.Request(7), ErrUnknownResource)
	require.ErrorIs(t, a.Release(0), ErrNotHeld)
	require.NoError(t, b.Request(0))
	require.ErrorIs(t, b.Request(0), ErrBusy)
	require.ErrorIs(t, b.Release(0), ErrNotHeld)

	require.ErrorIs(t, b.Step(1, CentralGrant{Resource: 0}), algorithms.ErrUnknownMessage)
	require.ErrorIs(t, b.Step(1, Token{Resource: 7}), ErrUnknownResource)
	require.Error(t, a.Step(3, Token{Resource: 0}), "a second token")
	assert.Empty(t, b.Ready().Events, "rejected messages change nothing")

	require.NoError(t, b.Step(1, Token{Resource: 0}))
	assert.Equal(t, []algorithms.Event{Granted{Resource: 0}}, b.Ready().Events)
	require.NoError(t, b.Release(0))
	rd := b.Ready()
	assert.Equal(t, []algorithms.Send{{To: []algorithms.NodeID{3}, Msg: Token{Resource: 0}}}, rd.Sends)
	assert.Equal(t, []algorithms.Event{TokenPassed{Resource: 0, To: 3}}, rd.Events)

	assert.Panics(t, func() { NewTokenRing(9, seqIDs(1, 3), nil) })
}
