package mutex

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/algtest"
	"github.com/skyquorum/skyquorum/algorithms/clock"
)

func ricartGroup(ids []algorithms.NodeID) (map[algorithms.NodeID]*Ricart, map[algorithms.NodeID]algorithms.Core) {
	typed := map[algorithms.NodeID]*Ricart{}
	plain := map[algorithms.NodeID]algorithms.Core{}
	for _, id := range ids {
		c := NewRicart(id, ids)
		typed[id], plain[id] = c, c
	}
	return typed, plain
}

// countEvents counts Granted events of id since index from of n.Events.
func grantsSince(n *algtest.Net, from int, id algorithms.NodeID) int {
	count := 0
	for _, e := range n.Events[from:] {
		if _, ok := e.Event.(Granted); ok && e.ID == id {
			count++
		}
	}
	return count
}

// TestRicartMessageCounts: docs/algorithms.md, Ricart–Agrawala: 2(N−1) messages
// to enter, "0 extra" to exit, and "N per critical section" frames on a
// broadcast radio — one REQUEST to everyone, N−1 REPLY unicasts.
func TestRicartMessageCounts(t *testing.T) {
	for _, n := range []int{1, 2, 4, 9, 16, 25, 100} {
		t.Run(fmt.Sprint("N=", n), func(t *testing.T) {
			ids := seqIDs(1, n)
			cores, plain := ricartGroup(ids)
			net := algtest.New(1, plain)
			requesters := ids
			if n > 25 {
				requesters = []algorithms.NodeID{ids[0], ids[n/2], ids[n-1]}
			}
			for _, id := range requesters {
				msgs, frames, events := net.Messages, net.Frames, len(net.Events)
				require.NoError(t, cores[id].Request(3))
				net.Run(1 << 20)
				require.Equal(t, 1, grantsSince(net, events, id), "drone %d enters", id)
				assert.Equal(t, 2*(n-1), net.Messages-msgs, "drone %d: messages to enter", id)
				wantFrames := n
				if n == 1 {
					wantFrames = 0
				}
				assert.Equal(t, wantFrames, net.Frames-frames, "drone %d: frames to enter", id)

				msgs = net.Messages
				require.NoError(t, cores[id].Release(3))
				net.Run(1 << 20)
				assert.Equal(t, 0, net.Messages-msgs, "drone %d: exit", id)
			}
			assert.Equal(t, len(requesters)*(n-1), net.ByKind["REQUEST"])
			assert.Equal(t, len(requesters)*(n-1), net.ByKind["REPLY"])
		})
	}
}

// TestRicartRequestIsOneBroadcast: "REQUEST sent as ONE Send to all other
// drones" (To == nil), REPLY unicast; once a member is down the live
// members are named.
func TestRicartRequestIsOneBroadcast(t *testing.T) {
	cores, _ := ricartGroup(seqIDs(1, 4))
	c := cores[2]
	require.NoError(t, c.Request(5))
	rd := c.Ready()
	require.Len(t, rd.Sends, 1)
	assert.Nil(t, rd.Sends[0].To)
	assert.Equal(t, 3, rd.Sends[0].Count(4))
	assert.Equal(t, RicartRequest{Resource: 5, Timestamp: 1}, rd.Sends[0].Msg)

	require.NoError(t, cores[1].Step(2, rd.Sends[0].Msg))
	rd = cores[1].Ready()
	require.Len(t, rd.Sends, 1)
	assert.Equal(t, []algorithms.NodeID{2}, rd.Sends[0].To)
	assert.Equal(t, RicartReply{Resource: 5, Timestamp: 3}, rd.Sends[0].Msg, "receive makes the clock max(0,1)+1 = 2, the reply ticks it to 3")

	c = cores[3]
	c.PeerDown(4)
	require.NoError(t, c.Request(5))
	rd = c.Ready()
	assert.Equal(t, []algorithms.NodeID{1, 2}, rd.Sends[0].To)
	c.PeerUp(4)
	assert.Nil(t, c.everyone())
}

// TestRicartContention checks ME1, ME2 and ME3 over seeded interleavings:
// several resources, everyone requesting repeatedly. ME3 is checked as
// "entry is granted in (timestamp, ID) order": no drone enters while a
// request with a smaller stamp is pending for the same resource.
func TestRicartContention(t *testing.T) {
	t.Parallel()
	for _, n := range []int{2, 3, 5, 9, 16} {
		t.Run(fmt.Sprint("N=", n), func(t *testing.T) {
			for seed := range uint64(seeds(min(200, 1600/n))) {
				ids := seqIDs(1, n)
				typed, _ := ricartGroup(ids)
				cores := map[algorithms.NodeID]Mutex{}
				for id, c := range typed {
					cores[id] = c
				}
				res := resources(2)
				h := newContention(t, seed, cores, res, 3)
				pending := map[Resource]map[algorithms.NodeID]clock.Stamp{}
				for _, r := range res {
					pending[r] = map[algorithms.NodeID]clock.Stamp{}
				}
				h.onRequest = func(s slot) {
					pending[s.r][s.id] = typed[s.id].req[s.r].stamp
				}
				h.onGrant = func(s slot) {
					mine := pending[s.r][s.id]
					for other, st := range pending[s.r] {
						if other != s.id && st.Less(mine) {
							require.Failf(t, "ME3 violated", "seed=%d: drone %d %v enters %d before drone %d %v", seed, s.id, mine, s.r, other, st)
						}
					}
					delete(pending[s.r], s.id)
				}
				h.run(200000)
			}
		})
	}
}

// TestRicartHappenedBeforeThroughReplies: ME3 ("if one request happened-
// before another, entry is granted in that order") holds across a chain
// that runs through a deferred REPLY, because REPLY carries the replier's
// Lamport clock. A=1 requests (r1) while X=2 is inside and Y=3 waits; X
// learns of r1, then its deferred REPLY lets Y in; Y leaves and requests
// again (r2) before A's REQUEST has reached Y. r1 happened-before r2, so A
// must enter first. Were REPLY unstamped, Y's clock would still be 4 and
// r2 would be stamped 5 < 7.
func TestRicartHappenedBeforeThroughReplies(t *testing.T) {
	const a, x, y = 1, 2, 3
	cores, plain := ricartGroup(seqIDs(1, 3))
	w := newWire(t, plain)

	require.NoError(t, cores[x].Request(0))
	w.deliver(x, a)
	w.deliver(x, y)
	w.deliver(a, x)
	w.deliver(y, x)
	require.Equal(t, []slot{{x, 0}}, w.grants, "X is inside")

	require.NoError(t, cores[y].Request(0))
	w.deliver(y, x) // deferred: X is inside
	w.deliver(y, a) // A replies

	require.NoError(t, cores[a].Request(0)) // r1
	r1 := cores[a].req[0].stamp
	assert.Equal(t, clock.Stamp{T: 7, ID: a}, r1)
	w.deliver(a, x) // X is inside: defers A, and its clock passes 7
	assert.Equal(t, []string{"REPLY", "REQUEST"}, w.inFlight(a, y))
	w.deliver(a, y) // A's REPLY to Y; A's REQUEST stays in flight

	require.NoError(t, cores[x].Release(0)) // deferred replies to Y and A
	w.deliver(x, y)
	require.Equal(t, []slot{{x, 0}, {y, 0}}, w.grants, "Y is inside")
	require.NoError(t, cores[y].Release(0))
	require.NoError(t, cores[y].Request(0)) // r2: r1 happened-before it
	r2 := cores[y].req[0].stamp
	assert.True(t, r1.Less(r2), "r1 %v before r2 %v", r1, r2)
	assert.Equal(t, []string{"REQUEST"}, w.inFlight(a, y), "Y has not heard of r1")

	w.drain()
	require.Equal(t, []slot{{x, 0}, {y, 0}, {a, 0}}, w.grants, "A enters before Y's second entry (ME3)")
	require.NoError(t, cores[a].Release(0))
	w.drain()
	require.Equal(t, []slot{{x, 0}, {y, 0}, {a, 0}, {y, 0}}, w.grants)
}

// TestRicartPeerDown: "stop waiting for id's reply and drop it from
// members". A crashed drone's missing reply no longer blocks entry, and the
// survivors keep ME1 and ME2 among themselves.
func TestRicartPeerDown(t *testing.T) {
	ids := seqIDs(1, 4)
	cores, plain := ricartGroup(ids)
	net := algtest.New(1, plain)
	net.Crash(4)
	require.NoError(t, cores[1].Request(0))
	net.Run(1 << 10)
	require.Equal(t, 0, grantsSince(net, 0, 1), "waits for 4's reply")
	for _, id := range ids[:3] {
		cores[id].PeerDown(4)
	}
	net.Collect()
	require.Equal(t, 1, grantsSince(net, 0, 1), "PeerDown of the last missing reply enters")
	require.NoError(t, cores[1].Release(0))

	// A deferred request of the dead drone is forgotten.
	cores[1].PeerUp(4)
	require.NoError(t, cores[1].Request(1))
	require.NoError(t, cores[1].Step(4, RicartReply{Resource: 1, Timestamp: 1}))
	require.NoError(t, cores[1].Step(4, RicartRequest{Resource: 1, Timestamp: 1}))
	cores[1].Ready()
	cores[1].PeerDown(4)
	require.Empty(t, cores[1].req[1].deferred)
	require.NoError(t, cores[1].Step(4, RicartReply{Resource: 1, Timestamp: 1}), "late reply of a drone reported down is ignored")
	assert.Error(t, cores[1].Step(4, RicartRequest{Resource: 1, Timestamp: 9}), "requests of a drone reported down are refused")
}

// TestRicartErrors: local calls and messages that do not fit the state
// return errors and change nothing.
func TestRicartErrors(t *testing.T) {
	cores, _ := ricartGroup(seqIDs(1, 3))
	c := cores[1]
	require.ErrorIs(t, c.Release(0), ErrNotHeld)
	require.NoError(t, c.Request(0))
	require.ErrorIs(t, c.Request(0), ErrBusy)
	require.ErrorIs(t, c.Release(0), ErrNotHeld, "wanted is not held")
	c.Ready()

	require.ErrorIs(t, c.Step(2, Token{}), algorithms.ErrUnknownMessage)
	require.Error(t, c.Step(2, RicartReply{Resource: 9, Timestamp: 5}), "reply for a resource not requested")
	require.Error(t, c.Step(9, RicartRequest{Resource: 0, Timestamp: 5}), "request from a stranger")
	require.NoError(t, c.Step(2, RicartRequest{Resource: 0, Timestamp: 5}), "later stamp: deferred")
	require.Error(t, c.Step(2, RicartRequest{Resource: 0, Timestamp: 6}), "second request before the reply")
	require.NoError(t, c.Step(2, RicartReply{Resource: 0, Timestamp: 6}))
	require.Error(t, c.Step(2, RicartReply{Resource: 0, Timestamp: 6}), "second reply")
	assert.True(t, c.Ready().Empty(), "rejected messages send nothing")
	assert.Equal(t, uint32(7), c.clock.Now(), "and leave the clock alone")

	require.NoError(t, c.Step(3, RicartReply{Resource: 0, Timestamp: 2}))
	assert.Equal(t, []algorithms.Event{Granted{Resource: 0}}, c.Ready().Events)
	require.NoError(t, c.Release(0))
	assert.Equal(t, []algorithms.Send{{To: []algorithms.NodeID{2}, Msg: RicartReply{Resource: 0, Timestamp: 9}}}, c.Ready().Sends)

	alone := NewRicart(5, []algorithms.NodeID{5})
	require.NoError(t, alone.Request(0))
	assert.Equal(t, algorithms.Ready{Events: []algorithms.Event{Granted{Resource: 0}}}, alone.Ready())
}
