package election_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/algtest"
	"github.com/skyquorum/skyquorum/algorithms/election"
)

var sizes = []int{3, 4, 5, 8, 16, 100}

// rings returns the ring cores of drones 1..n.
func rings(t *testing.T, n int, descending bool) map[algorithms.NodeID]algorithms.Core {
	cores := map[algorithms.NodeID]algorithms.Core{}
	for _, id := range ids(n) {
		c, err := election.NewRing(election.RingConfig{ID: id, Members: ids(n), Descending: descending, AckTimeout: ackTimeout})
		require.NoError(t, err)
		cores[id] = c
	}
	return cores
}

func requireRingElected(t *testing.T, net *algtest.Net, n int, term uint32) {
	t.Helper()
	for _, id := range ids(n) {
		l, tm, ok := net.Core(id).(*election.Ring).Leader()
		require.True(t, ok, "drone %d", id)
		require.Equal(t, algorithms.NodeID(n), l, "drone %d", id)
		require.Equal(t, term, tm, "drone %d", id)
	}
}

// docs/algorithms.md, Election: Chang–Roberts ring (1979), one initiator,
// "best 2N, worst 3N−1" messages (ELECTION + ELECTED; the link-level ACKs are
// counted apart, one per hop). Best: the highest drone initiates; its
// ELECTION goes once round (N) and so does ELECTED (N). Worst: the
// successor of the highest initiates; its ELECTION needs N−1 hops to reach
// the highest, which sends its own round (N), then ELECTED (N). With one
// initiator the count does not depend on the interleaving.
func TestRingOneInitiatorMessages(t *testing.T) {
	cases := []struct {
		name       string
		descending bool
		initiator  func(n int) algorithms.NodeID
		want       func(n int) int
	}{
		{"best: the highest initiates", false, func(n int) algorithms.NodeID { return algorithms.NodeID(n) }, func(n int) int { return 2 * n }},
		{"worst: the successor of the highest (the lowest) initiates", false, func(int) algorithms.NodeID { return 1 }, func(n int) int { return 3*n - 1 }},
		{"descending ring, best", true, func(n int) algorithms.NodeID { return algorithms.NodeID(n) }, func(n int) int { return 2 * n }},
		{"descending ring, worst: the second-highest initiates", true, func(n int) algorithms.NodeID { return algorithms.NodeID(n - 1) }, func(n int) int { return 3*n - 1 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, n := range sizes {
				for seed := range uint64(2) {
					net := algtest.New(seed, rings(t, n, c.descending))
					net.Core(c.initiator(n)).(*election.Ring).Campaign()
					net.RunTicks(1)
					requireRingElected(t, net, n, 1)
					assert.Equal(t, c.want(n)-n, net.ByKind["ELECTION"], "N=%d ELECTION", n)
					assert.Equal(t, n, net.ByKind["ELECTED"], "N=%d ELECTED", n)
					assert.Equal(t, c.want(n), net.ByKind["ACK"], "N=%d ACK (one per hop)", n)
				}
			}
		})
	}
}

// docs/algorithms.md, Election: Chang–Roberts ring, everyone initiates,
// "worst N(N+1)/2 + N". Every drone calls Campaign before any message moves, so
// every drone is a participant and drops the smaller IDs it receives. The
// worst case is the ring whose IDs decrease in the direction of travel:
// the ELECTION of drone i passes the i−1 lower drones and dies at the
// highest, i hops, and the highest's goes all the way round: sum i = N(N+1)/2,
// then N ELECTED. Per link the ELECTIONs precede ELECTED (FIFO), so the
// figure holds for every interleaving. In ascending order each ELECTION
// dies after one hop but the highest's: 2N−1.
func TestRingEveryoneInitiatesMessages(t *testing.T) {
	cases := []struct {
		name       string
		descending bool
		election   func(n int) int
	}{
		{"worst: descending ring", true, func(n int) int { return n * (n + 1) / 2 }},
		{"ascending ring", false, func(n int) int { return 2*n - 1 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, n := range sizes {
				for seed := range uint64(2) {
					net := algtest.New(seed, rings(t, n, c.descending))
					for _, id := range ids(n) {
						net.Core(id).(*election.Ring).Campaign()
					}
					net.RunTicks(1)
					requireRingElected(t, net, n, 1)
					assert.Equal(t, c.election(n), net.ByKind["ELECTION"], "N=%d seed=%d", n, seed)
					assert.Equal(t, n, net.ByKind["ELECTED"], "N=%d seed=%d", n, seed)
				}
			}
		})
	}
}

// A crashed successor is skipped after AckTimeout ticks without an ACK:
// the lowest drone initiates with the highest crashed, and the second-
// highest is elected by everyone left.
func TestRingSkipsCrashedSuccessor(t *testing.T) {
	for _, n := range []int{3, 5, 8} {
		net := algtest.New(1, rings(t, n, false))
		net.Crash(algorithms.NodeID(n))
		net.Core(1).(*election.Ring).Campaign()
		net.RunTicks(settle)
		for _, id := range ids(n - 1) {
			l, term, ok := net.Core(id).(*election.Ring).Leader()
			require.True(t, ok, "N=%d drone %d", n, id)
			assert.Equal(t, algorithms.NodeID(n-1), l, "N=%d drone %d", n, id)
			assert.Equal(t, uint32(1), term)
		}
		// ELECTION: 1→…→N−1 (N−2 hops); N−1→N is lost and sent again
		// to 1 (2), then 1→…→N−1 (N−2). ELECTED goes round the N−1 live
		// drones, N−1 skipping N at once.
		assert.Equal(t, 2*n-2, net.ByKind["ELECTION"], "N=%d", n)
		assert.Equal(t, n-1, net.ByKind["ELECTED"], "N=%d", n)
	}
}

// The failure detector's word skips a drone at once, without waiting for
// an ACK; a drone whose every peer is down elects itself.
func TestRingPeerDown(t *testing.T) {
	net := algtest.New(1, rings(t, 4, false))
	net.Crash(4)
	for _, id := range ids(3) {
		net.Core(id).(election.Election).PeerDown(4)
	}
	net.Core(3).(election.Election).Campaign()
	net.Run(1 << 20)
	for _, id := range ids(3) {
		l, _, ok := net.Core(id).(election.Election).Leader()
		require.True(t, ok)
		assert.Equal(t, algorithms.NodeID(3), l)
	}
	assert.Equal(t, map[string]int{"ELECTION": 3, "ELECTED": 3, "ACK": 6}, net.ByKind)

	alone, err := election.NewRing(election.RingConfig{ID: 2, Members: ids(3)})
	require.NoError(t, err)
	alone.PeerDown(1)
	alone.PeerDown(3)
	alone.Campaign()
	l, term, ok := alone.Leader()
	assert.True(t, ok)
	assert.Equal(t, algorithms.NodeID(2), l)
	assert.Equal(t, uint32(1), term)
	assert.Empty(t, alone.Ready().Sends)
}

// A crash can take the message that carries the winner with it: drone 2
// acknowledges drone 1's ELECTION and crashes before it forwards it, so
// nothing is in flight and nobody is elected. Drone 1, a participant,
// campaigns again in a new term after ElectionTimeout ticks, not before,
// and drone 3 is elected.
func TestRingCampaignsAgainWhenTheElectionIsLost(t *testing.T) {
	const timeout = 40
	cores := map[algorithms.NodeID]algorithms.Core{}
	for _, id := range ids(3) {
		c, err := election.NewRing(election.RingConfig{ID: id, Members: ids(3), AckTimeout: ackTimeout, ElectionTimeout: timeout})
		require.NoError(t, err)
		cores[id] = c
	}
	net := algtest.New(1, cores)
	one := cores[1].(*election.Ring)
	one.Campaign()
	net.Drop = func(from, to algorithms.NodeID, m algorithms.Message) bool {
		if _, ok := m.(election.RingElection); ok && from == 2 {
			net.Crash(2) // after its ACK to drone 1, before its forward
			return true
		}
		return false
	}
	require.Positive(t, net.Run(100))
	acked := false
	for _, d := range net.Log {
		if _, ok := d.Msg.(election.RingAck); ok && d.From == 2 && d.To == 1 {
			acked = true
		}
	}
	require.True(t, acked, "drone 2 acknowledged drone 1's ELECTION before it crashed")
	_, _, ok := one.Leader()
	require.False(t, ok, "nobody elected with the ELECTION lost")
	terms := func() int { return net.ByKind["ELECTION"] }
	sent := terms()
	net.Drop = nil
	for i := 1; i < timeout; i++ {
		net.Tick()
		require.Equal(t, sent, terms(), "drone 1 campaigned again %d ticks after its ELECTION", i)
	}
	net.RunTicks(settle)
	for _, id := range []algorithms.NodeID{1, 3} {
		l, term, ok := net.Core(id).(*election.Ring).Leader()
		require.True(t, ok, "drone %d", id)
		assert.Equal(t, algorithms.NodeID(3), l, "drone %d", id)
		assert.Equal(t, uint32(2), term, "drone %d", id)
	}
}
