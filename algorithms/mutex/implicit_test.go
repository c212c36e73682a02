package mutex

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/algtest"
)

func implicitGroup(q Quorums, cfg ImplicitConfig) (map[algorithms.NodeID]*ImplicitMaekawa, map[algorithms.NodeID]Mutex) {
	typed := map[algorithms.NodeID]*ImplicitMaekawa{}
	plain := map[algorithms.NodeID]Mutex{}
	for _, id := range q.Members() {
		c := NewImplicitMaekawa(id, q, cfg)
		typed[id], plain[id] = c, c
	}
	return typed, plain
}

func asCores(m map[algorithms.NodeID]Mutex) map[algorithms.NodeID]algorithms.Core {
	out := map[algorithms.NodeID]algorithms.Core{}
	for id, c := range m {
		out[id] = c
	}
	return out
}

// TestImplicitMaekawaCounts: without loss or contention an entry and exit
// cost 3(K−1) messages in K+1 frames, and no frame besides (docs/mutex.md):
// one REQUEST frame, K−1 YES, one RELEASE frame; the drone's own vote is
// free.
func TestImplicitMaekawaCounts(t *testing.T) {
	for _, n := range []int{1, 4, 9, 16, 21, 73, 100, 250} {
		q := Best(seqIDs(1, n))
		_, cores := implicitGroup(q, ImplicitConfig{})
		net := algtest.New(1, asCores(cores))
		for _, id := range q.Members() {
			k := len(q[id])
			before, framesBefore := net.Messages, net.Frames
			require.NoError(t, cores[id].Request(1))
			net.Collect()
			net.Run(1 << 20)
			require.NotEmpty(t, net.Events, "N=%d drone %d", n, id)
			require.Equal(t, Granted{Resource: 1}, net.Events[len(net.Events)-1].Event, "N=%d drone %d", n, id)
			require.NoError(t, cores[id].Release(1))
			net.Collect()
			net.Run(1 << 20)
			// Nothing waits for anything: no repeat follows.
			net.RunTicks(120)
			wantFrames := k + 1
			if k == 1 {
				wantFrames = 0
			}
			require.Equal(t, 3*(k-1), net.Messages-before, "N=%d K=%d drone %d", n, k, id)
			require.Equal(t, wantFrames, net.Frames-framesBefore, "N=%d K=%d drone %d", n, k, id)
			if n >= 100 && id > 5 {
				break // the first few drones of a large group are enough
			}
		}
	}
}

// lossyContention runs the contention harness over a network that loses a
// share of the messages, with ticks driving the repeats.
func lossyContention(t *testing.T, n, res, rounds int, seed uint64, loss float64, eager bool) *contention {
	t.Helper()
	q := Best(seqIDs(1, n))
	_, cores := implicitGroup(q, ImplicitConfig{RetryTicks: 3, PerVoterTicks: 1, MaxRetryTicks: 12, AskTicks: 48, IdleTicks: 96})
	h := newContention(t, seed, cores, resources(res), rounds)
	h.ticks = true
	drop := rand.New(rand.NewPCG(seed, 0x1055))
	h.net.Drop = func(_, _ algorithms.NodeID, _ algorithms.Message) bool { return drop.Float64() < loss }
	if eager {
		for _, id := range h.ids {
			for _, r := range h.res {
				h.requestSlot(slot{id, r})
			}
		}
		h.net.Collect()
		h.eager = true
	}
	h.run(2000000)
	return h
}

// TestImplicitMaekawaUnderLoss: ME1 and ME2 with 0%, 10% and 30% of the
// messages lost, at random interleavings, with and without full
// contention.
func TestImplicitMaekawaUnderLoss(t *testing.T) {
	t.Parallel()
	cases := []struct {
		n, seeds, res, rounds int
		eager                 bool
	}{
		{3, 100, 2, 3, false},
		{7, 100, 3, 3, false},
		{16, 20, 3, 2, false},
		{9, 40, 2, 3, true},
		{21, 10, 2, 2, true},
	}
	for _, c := range cases {
		for _, loss := range []float64{0, 0.1, 0.3} {
			t.Run(fmt.Sprintf("N=%d/eager=%v/loss=%g", c.n, c.eager, loss), func(t *testing.T) {
				for seed := range uint64(seeds(c.seeds)) {
					lossyContention(t, c.n, c.res, c.rounds, seed, loss, c.eager)
				}
			})
		}
	}
}

// step hands msg to core c as from would send it, failing on an error.
func step(t *testing.T, c *ImplicitMaekawa, from algorithms.NodeID, msg algorithms.Message) algorithms.Ready {
	t.Helper()
	require.NoError(t, c.Step(from, msg))
	return c.Ready()
}

// TestImplicitMaekawaVoter pins the voter's answers to repeated, late and
// lost messages.
func TestImplicitMaekawaVoter(t *testing.T) {
	q := Quorums{1: {1, 2}, 2: {2, 3}, 3: {2, 3}}
	v := NewImplicitMaekawa(2, q, ImplicitConfig{RetryTicks: 2, PerVoterTicks: 1, MaxRetryTicks: 8, AskTicks: 8, IdleTicks: 8})

	// A first REQUEST gets vote 1; its repeat gets the same vote again.
	rd := step(t, v, 1, ImplicitRequest{Resource: 1, TS: 5})
	require.Equal(t, []algorithms.Send{{To: []algorithms.NodeID{1}, Msg: ImplicitYes{Resource: 1, TS: 5, Grant: 1}}}, rd.Sends)
	rd = step(t, v, 1, ImplicitRequest{Resource: 1, TS: 5})
	require.Equal(t, []algorithms.Send{{To: []algorithms.NodeID{1}, Msg: ImplicitYes{Resource: 1, TS: 5, Grant: 1, again: true}}}, rd.Sends)

	// A later request of 3 is queued; its repeat is told so.
	rd = step(t, v, 3, ImplicitRequest{Resource: 1, TS: 9})
	require.Empty(t, rd.Sends)
	rd = step(t, v, 3, ImplicitRequest{Resource: 1, TS: 9})
	require.Equal(t, []algorithms.Send{{To: []algorithms.NodeID{3}, Msg: ImplicitQueued{Resource: 1, TS: 9}}}, rd.Sends)

	// 1's RELEASE is lost: with 3 waiting, the voter asks 1 again by
	// repeating its vote once the vote had time to be used.
	probed := false
	for range 10 {
		v.Tick()
		for _, s := range v.Ready().Sends {
			require.Equal(t, algorithms.Send{To: []algorithms.NodeID{1}, Msg: ImplicitYes{Resource: 1, TS: 5, Grant: 1, again: true}}, s)
			probed = true
		}
		if probed {
			break
		}
	}
	require.True(t, probed, "the voter asks the candidate whose RELEASE is overdue")

	// The RELEASE, repeated, frees the vote for 3 (vote 2); a late copy of
	// 1's REQUEST is not taken for a new one.
	rd = step(t, v, 1, ImplicitRelease{Resource: 1, TS: 5, again: true})
	require.Equal(t, []algorithms.Send{{To: []algorithms.NodeID{3}, Msg: ImplicitYes{Resource: 1, TS: 9, Grant: 2}}}, rd.Sends)
	rd = step(t, v, 1, ImplicitRequest{Resource: 1, TS: 5})
	require.Empty(t, rd.Sends)

	// A RELINQUISH for another vote than the current one is ignored.
	rd = step(t, v, 3, ImplicitRelinquish{Resource: 1, TS: 9, Grant: 1})
	require.Empty(t, rd.Sends)

	// A later REQUEST of the candidate ends its earlier request (its
	// RELEASE was lost): the voter votes for the new one.
	rd = step(t, v, 3, ImplicitRequest{Resource: 1, TS: 12})
	require.Equal(t, []algorithms.Send{{To: []algorithms.NodeID{3}, Msg: ImplicitYes{Resource: 1, TS: 12, Grant: 3}}}, rd.Sends)
}

// TestImplicitMaekawaRequester pins the requester's side: a YES given back
// is never counted again, a vote for a finished request is answered with
// its RELEASE, and missing votes are asked for again, in one frame.
func TestImplicitMaekawaRequester(t *testing.T) {
	q := Quorums{1: {1, 2, 3}, 2: {1, 2, 3}, 3: {1, 2, 3}}
	r := NewImplicitMaekawa(1, q, ImplicitConfig{RetryTicks: 2, PerVoterTicks: 1, MaxRetryTicks: 8, AskTicks: 8, IdleTicks: 32})
	require.NoError(t, r.Request(1))
	rd := r.Ready()
	require.Equal(t, []algorithms.Send{{To: []algorithms.NodeID{2, 3}, Msg: ImplicitRequest{Resource: 1, TS: 1}}}, rd.Sends)

	// Vote 4 of drone 2 arrives, then drone 2 asks for it back.
	step(t, r, 2, ImplicitYes{Resource: 1, TS: 1, Grant: 4})
	rd = step(t, r, 2, ImplicitInquire{Resource: 1, TS: 1, Grant: 4})
	require.Equal(t, []algorithms.Send{{To: []algorithms.NodeID{2}, Msg: ImplicitRelinquish{Resource: 1, TS: 1, Grant: 4}}}, rd.Sends)
	// A late copy of vote 4 is not counted: vote 3's arriving does not
	// grant.
	step(t, r, 2, ImplicitYes{Resource: 1, TS: 1, Grant: 4})
	step(t, r, 3, ImplicitYes{Resource: 1, TS: 1, Grant: 1})
	require.Empty(t, rd.Events)
	require.Empty(t, r.Ready().Events)

	// Drone 2 queues the request again; its vote 5 grants.
	rd = step(t, r, 2, ImplicitYes{Resource: 1, TS: 1, Grant: 5})
	require.Equal(t, []algorithms.Event{Granted{Resource: 1}}, rd.Events)
	require.NoError(t, r.Release(1))
	rd = r.Ready()
	require.Equal(t, []algorithms.Send{{To: []algorithms.NodeID{2, 3}, Msg: ImplicitRelease{Resource: 1, TS: 1}}}, rd.Sends)

	// A vote for the finished request is answered with its RELEASE.
	rd = step(t, r, 3, ImplicitYes{Resource: 1, TS: 1, Grant: 1, again: true})
	require.Equal(t, []algorithms.Send{{To: []algorithms.NodeID{3}, Msg: ImplicitRelease{Resource: 1, TS: 1, again: true}}}, rd.Sends)

	// A new request whose votes do not come is repeated to the voters
	// that have not answered, in one frame.
	require.NoError(t, r.Request(1))
	r.Ready()
	step(t, r, 2, ImplicitYes{Resource: 1, TS: 2, Grant: 6})
	var repeats []algorithms.Send
	for range 8 {
		r.Tick()
		repeats = append(repeats, r.Ready().Sends...)
	}
	require.NotEmpty(t, repeats)
	for _, s := range repeats {
		assert.Equal(t, algorithms.Send{To: []algorithms.NodeID{3}, Msg: ImplicitRequest{Resource: 1, TS: 2, again: true}}, s)
		assert.Equal(t, algorithms.ClassRetransmission, algorithms.ClassOf(s.Msg))
	}
	// Told that its request waits in drone 3's queue, it stops asking
	// often.
	step(t, r, 3, ImplicitQueued{Resource: 1, TS: 2})
	repeats = nil
	for range 20 {
		r.Tick()
		repeats = append(repeats, r.Ready().Sends...)
	}
	assert.Empty(t, repeats)
}
