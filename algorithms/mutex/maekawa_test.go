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

func maekawaGroup(q Quorums) (map[algorithms.NodeID]*Maekawa, map[algorithms.NodeID]algorithms.Core) {
	typed := map[algorithms.NodeID]*Maekawa{}
	plain := map[algorithms.NodeID]algorithms.Core{}
	for _, id := range q.Members() {
		c := NewMaekawa(id, q)
		typed[id], plain[id] = c, c
	}
	return typed, plain
}

// textbookQuorums is the deadlock example of docs/algorithms.md: V1={p1,p2},
// V2={p2,p3}, V3={p3,p1}.
func textbookQuorums() Quorums {
	return Quorums{1: {1, 2}, 2: {2, 3}, 3: {3, 1}}
}

// TestMaekawaTextbookDeadlock: "Plain Maekawa deadlocks: with V1={p1,p2},
// V2={p2,p3}, V3={p3,p1} each voter can grant a different candidate and
// all three wait forever." All three request at once with the same
// timestamp; each votes for itself first — the deadlocked state — and
// Sanders' INQUIRE and RELINQUISH then let (1,p1) < (1,p2) < (1,p3) enter
// in turn.
func TestMaekawaTextbookDeadlock(t *testing.T) {
	cores, plain := maekawaGroup(textbookQuorums())
	w := newWire(t, plain)
	for id := algorithms.NodeID(1); id <= 3; id++ {
		require.NoError(t, cores[id].Request(0))
	}
	for id := algorithms.NodeID(1); id <= 3; id++ {
		assert.Equal(t, clock.Stamp{T: 1, ID: uint16(id)}, cores[id].voter[0].candidate, "voter %d voted for itself", id)
		assert.Equal(t, wanted, cores[id].req[0].state)
	}
	require.Empty(t, w.grants, "every drone waits for a vote its neighbour gave itself")

	// p2 sees the earlier (1,p1): it inquires its own candidate, which is
	// itself and still waiting, so it relinquishes and votes for p1.
	w.deliver(1, 2)
	assert.Equal(t, []string{"YES"}, w.inFlight(2, 1))
	// Likewise p3 gives its vote to p2.
	w.deliver(2, 3)
	assert.Equal(t, []string{"YES"}, w.inFlight(3, 2))
	// p1 has voted for the earlier p1: p3's request waits in its queue.
	w.deliver(3, 1)
	assert.Empty(t, w.inFlight(1, 3))

	w.deliver(2, 1)
	require.Equal(t, []slot{{1, 0}}, w.grants, "p1 enters")
	w.deliver(3, 2)
	require.Len(t, w.grants, 1, "p2 still lacks its own vote, given to p1")

	require.NoError(t, cores[1].Release(0))
	w.drain()
	require.Equal(t, []slot{{1, 0}, {2, 0}}, w.grants, "p1's RELEASE frees p2's vote for p2")
	require.NoError(t, cores[2].Release(0))
	w.drain()
	require.Equal(t, []slot{{1, 0}, {2, 0}, {3, 0}}, w.grants)
	require.NoError(t, cores[3].Release(0))
	w.drain()
	for id := algorithms.NodeID(1); id <= 3; id++ {
		assert.Empty(t, cores[id].voter, "voter %d is free", id)
		assert.Empty(t, cores[id].req)
	}
}

// TestMaekawaTextbookDeadlockSeeds runs the same example in every seeded
// interleaving, requests and releases at random moments (ME1, ME2).
func TestMaekawaTextbookDeadlockSeeds(t *testing.T) {
	t.Parallel()
	for seed := range uint64(seeds(200)) {
		typed, _ := maekawaGroup(textbookQuorums())
		h := newContention(t, seed, asMutex(typed), resources(2), 4)
		h.run(100000)
	}
}

func asMutex(typed map[algorithms.NodeID]*Maekawa) map[algorithms.NodeID]Mutex {
	out := map[algorithms.NodeID]Mutex{}
	for id, c := range typed {
		out[id] = c
	}
	return out
}

// TestMaekawaMessageCounts: docs/algorithms.md, "3(K−1) = 6√N−6" with a node's
// vote for itself free, messages per entry and exit, and "K+1 per critical
// section" frames, one request at a time and no faults: K−1 REQUEST in one
// frame, K−1 YES unicasts, K−1 RELEASE in one frame.
func TestMaekawaMessageCounts(t *testing.T) {
	for _, n := range []int{1, 2, 4, 9, 16, 25, 100} {
		for _, c := range constructions {
			t.Run(fmt.Sprintf("%s/N=%d", c.name, n), func(t *testing.T) {
				q := c.build(seqIDs(1, n))
				cores, plain := maekawaGroup(q)
				net := algtest.New(1, plain)
				for _, id := range q.Members() {
					k := len(q[id])
					msgs, frames, events := net.Messages, net.Frames, len(net.Events)
					require.NoError(t, cores[id].Request(2))
					net.Run(1 << 20)
					require.Equal(t, 1, grantsSince(net, events, id), "drone %d enters", id)
					assert.Equal(t, 2*(k-1), net.Messages-msgs, "drone %d: messages to enter", id)
					require.NoError(t, cores[id].Release(2))
					net.Run(1 << 20)
					assert.Equal(t, 3*(k-1), net.Messages-msgs, "drone %d: messages to enter and exit, K=%d", id, k)
					wantFrames := k + 1
					if k == 1 {
						wantFrames = 0
					}
					assert.Equal(t, wantFrames, net.Frames-frames, "drone %d: frames, K=%d", id, k)
				}
				assert.Zero(t, net.ByKind["INQUIRE"]+net.ByKind["RELINQUISH"], "no contention, no inquiries")
				for _, c := range cores {
					assert.Empty(t, c.voter)
				}
			})
		}
	}
}

// TestMaekawaSendsAreBroadcasts: REQUEST and RELEASE are one Send each,
// addressed to the quorum without the drone.
func TestMaekawaSendsAreBroadcasts(t *testing.T) {
	q := Grid(seqIDs(1, 9)) // drone 5: row {4 5 6}, column {2 5 8}
	c := NewMaekawa(5, q)
	assert.Equal(t, []algorithms.NodeID{2, 4, 5, 6, 8}, c.Quorum())
	require.NoError(t, c.Request(1))
	rd := c.Ready()
	assert.Equal(t, []algorithms.Send{{To: []algorithms.NodeID{2, 4, 6, 8}, Msg: MaekawaRequest{Resource: 1, Timestamp: 1}}}, rd.Sends)
	for _, v := range []algorithms.NodeID{2, 4, 6, 8} {
		require.NoError(t, c.Step(v, MaekawaYes{Resource: 1}))
	}
	assert.Equal(t, []algorithms.Event{Granted{Resource: 1}}, c.Ready().Events)
	require.NoError(t, c.Release(1))
	assert.Equal(t, []algorithms.Send{{To: []algorithms.NodeID{2, 4, 6, 8}, Msg: MaekawaRelease{Resource: 1}}}, c.Ready().Sends)
}

// TestMaekawaContention checks ME1 and ME2 (docs/algorithms.md: Sanders' rules
// give deadlock and starvation freedom) over seeded interleavings, with
// several resources requested at once and again.
func TestMaekawaContention(t *testing.T) {
	t.Parallel()
	cases := []struct {
		n, seeds, resources, rounds int
		build                       func([]algorithms.NodeID) Quorums
		name                        string
	}{
		{3, 200, 3, 3, Best, "best"},
		{5, 200, 3, 3, Best, "best"},
		{9, 200, 3, 3, Best, "best"},
		{9, 200, 3, 3, Grid, "grid"},
		{16, 100, 3, 2, Best, "best"},
		{16, 100, 3, 2, Grid, "grid"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%s/N=%d", c.name, c.n), func(t *testing.T) {
			for seed := range uint64(seeds(c.seeds)) {
				typed, _ := maekawaGroup(c.build(seqIDs(1, c.n)))
				h := newContention(t, seed, asMutex(typed), resources(c.resources), c.rounds)
				h.run(500000)
			}
		})
	}
}

// TestMaekawaFullContention: every drone requests the same resources at
// once, and again as soon as it has left, the case in which plain Maekawa
// deadlocks; Sanders' rules complete every request (ME2) with ME1 kept.
func TestMaekawaFullContention(t *testing.T) {
	t.Parallel()
	cases := []struct{ n, seeds, rounds int }{
		{9, 100, 3},
		{16, 50, 3},
		{50, 20, 3},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint("N=", c.n), func(t *testing.T) {
			for seed := range uint64(seeds(c.seeds)) {
				typed, _ := maekawaGroup(Best(seqIDs(1, c.n)))
				res := resources(2)
				h := newContention(t, seed, asMutex(typed), res, c.rounds)
				// Everyone asks before any message moves, and again as
				// soon as it leaves.
				for _, id := range h.ids {
					for _, r := range res {
						h.requestSlot(slot{id, r})
					}
				}
				h.net.Collect()
				h.eager = true
				h.run(2000000)
				assert.Positive(t, h.net.ByKind["INQUIRE"], "seed=%d: contention makes voters inquire", seed)
			}
		})
	}
}

// TestMaekawaStaleInquire: an INQUIRE that crosses the candidate's RELEASE
// names the old request's timestamp and is ignored by the next request,
// whose vote the candidate does not hold yet.
func TestMaekawaStaleInquire(t *testing.T) {
	q := Quorums{1: {1, 2}, 2: {1, 2}}
	c := NewMaekawa(1, q)
	require.NoError(t, c.Request(0))
	require.NoError(t, c.Step(2, MaekawaYes{Resource: 0}))
	require.NoError(t, c.Release(0))
	require.NoError(t, c.Request(0)) // timestamp 2
	c.Ready()
	require.NoError(t, c.Step(2, MaekawaInquire{Resource: 0, Timestamp: 1}))
	assert.True(t, c.Ready().Empty(), "stale INQUIRE: no RELINQUISH")

	// In the critical section an INQUIRE is ignored: RELEASE will follow.
	require.NoError(t, c.Step(2, MaekawaYes{Resource: 0}))
	c.Ready()
	require.NoError(t, c.Step(2, MaekawaInquire{Resource: 0, Timestamp: 2}))
	assert.True(t, c.Ready().Empty())
}

// TestMaekawaVoterRules walks the voter's rows of the table of Sanders'
// rules in docs/algorithms.md on drone 2, which is in every quorum.
func TestMaekawaVoterRules(t *testing.T) {
	q := Quorums{1: {1, 2}, 2: {1, 2, 3, 4}, 3: {2, 3}, 4: {2, 4}}
	v := NewMaekawa(2, q)
	yes := func(to algorithms.NodeID) []algorithms.Send {
		return []algorithms.Send{{To: []algorithms.NodeID{to}, Msg: MaekawaYes{Resource: 0}}}
	}

	// "REQUEST(ts, j) | not voted: vote for j (send YES)".
	require.NoError(t, v.Step(3, MaekawaRequest{Resource: 0, Timestamp: 5}))
	assert.Equal(t, yes(3), v.Ready().Sends)
	// "Voted: queue it; if (ts, j) is smaller than the candidate and no
	// INQUIRE is outstanding, send INQUIRE to the candidate."
	require.NoError(t, v.Step(1, MaekawaRequest{Resource: 0, Timestamp: 2}))
	assert.Equal(t, []algorithms.Send{{To: []algorithms.NodeID{3}, Msg: MaekawaInquire{Resource: 0, Timestamp: 5}}}, v.Ready().Sends)
	require.NoError(t, v.Step(4, MaekawaRequest{Resource: 0, Timestamp: 1}))
	assert.True(t, v.Ready().Empty(), "at most one outstanding INQUIRE")
	assert.Equal(t, []clock.Stamp{{T: 1, ID: 4}, {T: 2, ID: 1}}, v.voter[0].queue)

	// "RELINQUISH | put the candidate back in the queue, vote for the
	// smallest queued request."
	require.Error(t, v.Step(1, MaekawaRelinquish{Resource: 0}), "1 is not the candidate")
	require.NoError(t, v.Step(3, MaekawaRelinquish{Resource: 0}))
	assert.Equal(t, yes(4), v.Ready().Sends)
	require.Error(t, v.Step(4, MaekawaRelinquish{Resource: 0}), "4 was not inquired")
	// "RELEASE | vote for the smallest queued request, or become free."
	require.Error(t, v.Step(3, MaekawaRelease{Resource: 0}), "3 does not hold the vote")
	require.NoError(t, v.Step(4, MaekawaRelease{Resource: 0}))
	assert.Equal(t, yes(1), v.Ready().Sends)
	require.NoError(t, v.Step(1, MaekawaRelease{Resource: 0}))
	assert.Equal(t, yes(3), v.Ready().Sends)
	require.NoError(t, v.Step(3, MaekawaRelease{Resource: 0}))
	assert.True(t, v.Ready().Empty())
	assert.Empty(t, v.voter)
	assert.Equal(t, uint32(8), v.clock.Now(), "REQUESTs witnessed: max(0,5)+1, max(6,2)+1, max(7,1)+1")
}

// TestMaekawaErrors: local calls and messages that do not fit the state.
func TestMaekawaErrors(t *testing.T) {
	q := Quorums{1: {1, 2}, 2: {1, 2, 3}, 3: {2, 3}}
	c1, c3 := NewMaekawa(1, q), NewMaekawa(3, q)

	require.ErrorIs(t, c1.Release(0), ErrNotHeld)
	require.ErrorIs(t, c1.Step(2, Token{}), algorithms.ErrUnknownMessage)
	require.Error(t, c3.Step(1, MaekawaRequest{Resource: 0, Timestamp: 1}), "1's quorum does not include 3")
	require.Error(t, c1.Step(1, MaekawaRequest{Resource: 0, Timestamp: 1}), "from itself")
	require.Error(t, c1.Step(2, MaekawaYes{Resource: 0}), "no request")
	require.NoError(t, c1.Request(0))
	require.ErrorIs(t, c1.Request(0), ErrBusy)
	require.ErrorIs(t, c1.Release(0), ErrNotHeld, "wanted is not held")
	require.Error(t, c1.Step(3, MaekawaYes{Resource: 0}), "3 is not a voter of 1")
	require.Error(t, c1.Step(3, MaekawaInquire{Resource: 0, Timestamp: 1}), "3 is not a voter of 1")
	require.Error(t, c1.Step(2, MaekawaInquire{Resource: 0, Timestamp: 1}), "inquiry for a vote 1 does not hold")
	require.NoError(t, c1.Step(2, MaekawaRequest{Resource: 0, Timestamp: 4}))
	require.Error(t, c1.Step(2, MaekawaRequest{Resource: 0, Timestamp: 5}), "second request of 2")
	c1.Ready()
	require.Error(t, c1.Step(2, MaekawaRelease{Resource: 1}), "release of a resource 1 never voted on")
	require.NoError(t, c1.Step(2, MaekawaYes{Resource: 0}))
	require.Error(t, c1.Step(2, MaekawaYes{Resource: 0}), "second vote")
	assert.Equal(t, []algorithms.Event{Granted{Resource: 0}}, c1.Ready().Events)

	assert.Panics(t, func() { NewMaekawa(9, q) })
}

// TestMaekawaPeerDown: a dead candidate's vote goes to the next request; a
// dead requester's queued request is dropped.
func TestMaekawaPeerDown(t *testing.T) {
	q := Quorums{1: {1, 2}, 2: {1, 2, 3}, 3: {2, 3}}
	v := NewMaekawa(2, q)
	require.NoError(t, v.Step(1, MaekawaRequest{Resource: 0, Timestamp: 1}))
	require.NoError(t, v.Step(3, MaekawaRequest{Resource: 0, Timestamp: 2}))
	v.Ready()
	v.PeerDown(1)
	assert.Equal(t, []algorithms.Send{{To: []algorithms.NodeID{3}, Msg: MaekawaYes{Resource: 0}}}, v.Ready().Sends)
	require.NoError(t, v.Step(1, MaekawaRequest{Resource: 0, Timestamp: 3}))
	v.PeerDown(1)
	assert.Empty(t, v.voter[0].queue)
	v.PeerUp(1)
	v.PeerDown(2)
	require.NoError(t, v.Step(3, MaekawaRelease{Resource: 0}))
	assert.Empty(t, v.voter)
}

// TestMessageSizes: honest byte counts, kind tag 1 byte, resource 2,
// Lamport timestamp 4; every message fits a MAVLink payload.
func TestMessageSizes(t *testing.T) {
	cases := []struct {
		msg  algorithms.Message
		kind string
		size int
	}{
		{Token{}, "TOKEN", 3},
		{RicartRequest{}, "REQUEST", 7},
		{RicartReply{}, "REPLY", 7},
		{MaekawaRequest{}, "REQUEST", 7},
		{MaekawaYes{}, "YES", 3},
		{MaekawaInquire{}, "INQUIRE", 7},
		{MaekawaRelinquish{}, "RELINQUISH", 3},
		{MaekawaRelease{}, "RELEASE", 3},
	}
	for _, c := range cases {
		assert.Equal(t, c.kind, c.msg.Kind())
		assert.Equal(t, c.size, c.msg.Size(), c.kind)
		assert.LessOrEqual(t, c.msg.Size(), algorithms.MaxPayload)
	}
}
