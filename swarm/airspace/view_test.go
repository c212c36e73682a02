package airspace

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/algtest"
	"github.com/skyquorum/skyquorum/algorithms/mutex"
)

// voterOfOthers returns a voter in id's quorum other than id itself.
func voterOfOthers(l *Locks) algorithms.NodeID {
	for _, v := range l.Quorum() {
		if v != l.id {
			return v
		}
	}
	return 0
}

// A fenced voter grants nothing and extends nothing: the holder's vote
// from it runs out and the holder leaves; once unfenced it votes again.
func TestFencedVoterLetsVotesRunOut(t *testing.T) {
	cores, net := group(t, 9, Config{LeaseTicks: 100})
	var expired, acquired int
	net.OnEvent = func(id algorithms.NodeID, ev algorithms.Event) {
		switch ev.(type) {
		case Expired:
			expired++
		case Acquired:
			acquired++
		}
	}
	net.RunTicks(110) // the quiet period after start
	const holder = algorithms.NodeID(4)
	require.NoError(t, cores[holder].Acquire([]Cell{3}))
	net.RunTicks(5)
	require.True(t, cores[holder].Holding())
	v := voterOfOthers(cores[holder])
	cores[v].SetFenced(true)
	assert.True(t, cores[v].Fenced())
	net.RunTicks(100)
	assert.Equal(t, 1, expired, "the vote of the fenced voter ran out, so the holder left")
	assert.False(t, cores[holder].Holding())
	assert.Positive(t, cores[v].Counters().Fenced)

	// Asking again while the voter is fenced gets nowhere.
	require.NoError(t, cores[holder].Acquire([]Cell{3}))
	net.RunTicks(150)
	assert.False(t, cores[holder].Holding(), "a fenced voter granted a vote")
	cores[v].SetFenced(false)
	net.RunTicks(120) // a retry reaches the voter within a lease
	assert.True(t, cores[holder].Holding(), "the unfenced voter votes again")
	assert.Equal(t, 2, acquired)
}

// A retired voter ignores requests for good; SetQuorums with the voter
// replaced makes the waiting requester ask the replacement, and it gets
// the cell.
func TestRetireAndSetQuorums(t *testing.T) {
	ids := members(9)
	q := mutex.Best(ids)
	cores, net := group(t, 9, Config{LeaseTicks: 100})
	net.RunTicks(110)
	const waiter = algorithms.NodeID(4)
	d := voterOfOthers(cores[waiter])
	cores[d].Retire()
	assert.True(t, cores[d].Fenced())
	require.NoError(t, cores[waiter].Acquire([]Cell{7}))
	net.RunTicks(300)
	require.False(t, cores[waiter].Holding(), "a retired voter voted")
	assert.Positive(t, cores[d].Counters().Misaddressed)

	// Replace d by a drone outside the waiter's quorum.
	var r algorithms.NodeID
	for _, id := range ids {
		if id != d && !slices.Contains(q[waiter], id) {
			r = id
			break
		}
	}
	require.NotZero(t, r)
	nq := mutex.Quorums{}
	for id, qs := range q {
		out := slices.Clone(qs)
		for i, v := range out {
			if v == d {
				out[i] = r
			}
		}
		slices.Sort(out)
		nq[id] = slices.Compact(out)
	}
	for _, c := range cores {
		require.NoError(t, c.SetQuorums(nq))
	}
	assert.Contains(t, cores[waiter].Quorum(), r)
	assert.NotContains(t, cores[waiter].Quorum(), d)
	net.RunTicks(20)
	assert.True(t, cores[waiter].Holding(), "the waiter got the cell from the new quorum")
	assert.Error(t, cores[waiter].SetQuorums(mutex.Quorums{99: {99}}), "a view without the drone")
}

// A holder whose quorum changes leaves its cells (Expired) and, once its
// margin to fly out has passed, releases them at its old voters.
func TestSetQuorumsDropsChangedHold(t *testing.T) {
	q := mutex.Best(members(9))
	cores := map[algorithms.NodeID]*Locks{}
	plain := map[algorithms.NodeID]algorithms.Core{}
	for _, id := range members(9) {
		l, err := New(Config{ID: id, Quorums: q, LeaseTicks: 100})
		require.NoError(t, err)
		cores[id], plain[id] = l, l
	}
	net := algtest.New(2, plain)
	var expired []algorithms.NodeID
	net.OnEvent = func(id algorithms.NodeID, ev algorithms.Event) {
		if _, ok := ev.(Expired); ok {
			expired = append(expired, id)
		}
	}
	net.RunTicks(110)
	const holder = algorithms.NodeID(2)
	require.NoError(t, cores[holder].Acquire([]Cell{1}))
	net.RunTicks(5)
	require.True(t, cores[holder].Holding())
	nq := mutex.Quorums{}
	for id, qs := range q {
		nq[id] = qs
	}
	nq[holder] = members(9) // a different quorum: everyone
	require.NoError(t, cores[holder].SetQuorums(nq))
	net.Collect()
	assert.Equal(t, []algorithms.NodeID{holder}, expired)
	assert.False(t, cores[holder].Holding())
	// The old voters keep their votes while the holder flies out.
	net.RunTicks(int(cores[holder].MarginTicks()) - 2)
	busy := 0
	for _, c := range cores {
		busy += len(c.voters)
	}
	assert.Positive(t, busy, "votes freed before the holder's margin")
	net.RunTicks(5)
	for id, c := range cores {
		assert.Empty(t, c.voters, "drone %d still holds a vote for the dropped hold", id)
	}
}

// A requester that cannot get one vote (its voter is unreachable) holds
// the votes it has, and a later request that shares a voter with it
// waits behind it; after WaitTicks the first gives its votes back and asks
// again, later in the order, so the second is granted.
func TestWaitingRequesterStepsAside(t *testing.T) {
	q := mutex.Best(members(9))
	cores, net := group(t, 9, Config{LeaseTicks: 100})
	net.RunTicks(110)
	var a, b, v algorithms.NodeID
	for _, x := range members(9) {
		for _, y := range members(9) {
			if x == y || a != 0 {
				continue
			}
			// v is in x's quorum but not y's; x and y share another voter.
			for _, cand := range q[x] {
				if cand != x && cand != y && !slices.Contains(q[y], cand) && len(intersect(q[x], q[y])) > 0 {
					a, b, v = x, y, cand
					break
				}
			}
		}
	}
	require.NotZero(t, a)
	net.Crash(v)
	require.NoError(t, cores[a].Acquire([]Cell{2}))
	net.RunTicks(5)
	require.NoError(t, cores[b].Acquire([]Cell{2}))
	net.RunTicks(250)
	assert.False(t, cores[b].Holding(), "the later request went ahead of the earlier one")
	net.RunTicks(100) // past 3 leases
	assert.True(t, cores[b].Holding(), "drone %d still waits behind drone %d", b, a)
	assert.Equal(t, 1, cores[a].Counters().Retries)
	assert.False(t, cores[a].Holding())
}

func intersect(x, y []algorithms.NodeID) []algorithms.NodeID {
	var out []algorithms.NodeID
	for _, v := range x {
		if slices.Contains(y, v) {
			out = append(out, v)
		}
	}
	return out
}

// A holder told to leave (Expired) keeps its voters' votes for its margin,
// the time it has to fly out: a waiter is granted the cell no sooner. The
// RELEASE of an explicit Release goes at once.
func TestExpiredHolderReleasesAfterMargin(t *testing.T) {
	q := mutex.Best(members(9))
	cores, net := group(t, 9, Config{LeaseTicks: 100})
	const holder = algorithms.NodeID(4)
	// The waiter shares a voter with the holder; the fenced voter is the
	// holder's and not the waiter's.
	var waiter, fenced algorithms.NodeID
	for _, w := range members(9) {
		if w == holder || len(intersect(q[w], q[holder])) == 0 || fenced != 0 {
			continue
		}
		for _, f := range q[holder] {
			if f != holder && !slices.Contains(q[w], f) {
				waiter, fenced = w, f
				break
			}
		}
	}
	require.NotZero(t, fenced)
	var expiredAt, grantedAt int64 = -1, -1
	net.OnEvent = func(id algorithms.NodeID, ev algorithms.Event) {
		switch ev.(type) {
		case Expired:
			if id == holder && expiredAt < 0 {
				expiredAt = cores[holder].Now()
			}
		case Acquired:
			if id == waiter && grantedAt < 0 {
				grantedAt = cores[holder].Now()
			}
		}
	}
	net.RunTicks(110)
	require.NoError(t, cores[holder].Acquire([]Cell{3}))
	net.RunTicks(5)
	require.True(t, cores[holder].Holding())
	require.NoError(t, cores[waiter].Acquire([]Cell{3}))
	cores[fenced].SetFenced(true)
	net.RunTicks(200)
	require.GreaterOrEqual(t, expiredAt, int64(0), "the holder never had to leave")
	require.GreaterOrEqual(t, grantedAt, int64(0), "the waiter never got the cell")
	assert.GreaterOrEqual(t, grantedAt-expiredAt, cores[holder].MarginTicks(),
		"granted %d ticks after the holder was told to leave", grantedAt-expiredAt)

	// An explicit Release (the drone is out) frees the votes at once.
	cores[fenced].SetFenced(false)
	require.NoError(t, cores[holder].Acquire([]Cell{3}))
	net.RunTicks(2)
	require.False(t, cores[holder].Holding())
	require.NoError(t, cores[waiter].Release())
	net.RunTicks(3)
	assert.True(t, cores[holder].Holding(), "votes freed by RELEASE only after a margin")
}
