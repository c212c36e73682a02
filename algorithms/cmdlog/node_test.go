package cmdlog_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/algtest"
	"github.com/skyquorum/skyquorum/algorithms/cmdlog"
	"github.com/skyquorum/skyquorum/algorithms/election"
)

func members(n int) []algorithms.NodeID {
	out := make([]algorithms.NodeID, n)
	for i := range out {
		out[i] = algorithms.NodeID(i + 1)
	}
	return out
}

func nodeConfig(id algorithms.NodeID, n int) cmdlog.NodeConfig {
	return cmdlog.NodeConfig{
		Log:          cmdlog.Config{ID: id, Members: members(n), Committee: 3, Retransmit: 3, RecoverRetry: 3},
		BullyTimeout: 2, CoordinatorTimeout: 4, CampaignTimeout: 50,
	}
}

// A swarm of nodes elects the highest drone, which recovers and sequences;
// when it crashes and the failure detector says so, the next highest leads
// a new term, and what was committed stays, in order.
func TestNodeFailover(t *testing.T) {
	for _, algo := range []string{"bully", "ring"} {
		t.Run(algo, func(t *testing.T) { testNodeFailover(t, algo) })
	}
}

func testNodeFailover(t *testing.T, algo string) {
	const n = 6
	nodes := map[algorithms.NodeID]*cmdlog.Node{}
	cores := map[algorithms.NodeID]algorithms.Core{}
	for _, id := range members(n) {
		cfg := nodeConfig(id, n)
		cfg.Election = algo
		c, err := cmdlog.NewNode(cfg)
		require.NoError(t, err)
		nodes[id], cores[id] = c, c
	}
	applied := map[algorithms.NodeID][]string{}
	net := algtest.New(1, cores)
	net.OnEvent = func(id algorithms.NodeID, ev algorithms.Event) {
		if a, ok := ev.(cmdlog.Applied); ok && a.Entry.Kind == cmdlog.KindCommand {
			applied[id] = append(applied[id], string(a.Entry.Data))
		}
	}
	net.RunTicks(5)
	require.True(t, nodes[6].Log().Leading())
	_, err := nodes[6].Propose([]byte("a"))
	require.NoError(t, err)
	net.RunTicks(5)

	net.Crash(6)
	for _, id := range members(n - 1) {
		nodes[id].PeerDown(6)
	}
	net.RunTicks(10)
	require.True(t, nodes[5].Log().Leading())
	l, term, ok := nodes[1].Election().Leader()
	assert.True(t, ok)
	assert.Equal(t, algorithms.NodeID(5), l)
	assert.Equal(t, uint32(2), term)
	assert.Equal(t, algo == "bully", nodes[1].Bully() != nil)
	_, err = nodes[5].Propose([]byte("b"))
	require.NoError(t, err)
	net.RunTicks(10)
	for _, id := range members(n - 1) {
		assert.Equal(t, []string{"a", "b"}, applied[id], "drone %d", id)
	}
}

// A node's persisted bytes hold the election's term and the log; a
// restarted node gets both back, and bytes from elsewhere are refused.
func TestNodeRestore(t *testing.T) {
	a, err := cmdlog.NewNode(nodeConfig(3, 3))
	require.NoError(t, err)
	a.Tick() // the highest member campaigns: term 1
	a.Ready()
	state := a.Persist()
	b, err := cmdlog.NewNode(nodeConfig(3, 3), cmdlog.Restore(state))
	require.NoError(t, err)
	assert.Equal(t, uint32(1), b.Bully().Term())
	assert.Equal(t, uint32(1), b.Log().Term())
	for _, bad := range [][]byte{nil, {'N'}, {'X', 1, 0}, {'N', 2, 0}, {'N', 1, 40, 1}, append([]byte{'N', 1, 0}, 'L')} {
		_, err := cmdlog.NewNode(nodeConfig(3, 3), cmdlog.Restore(bad))
		assert.ErrorIs(t, err, cmdlog.ErrBadState, "%v", bad)
	}
}

// A broadcast COORDINATOR must come from the leader it names.
func TestNodeCoordinatorFromItsLeader(t *testing.T) {
	a, err := cmdlog.NewNode(nodeConfig(1, 3))
	require.NoError(t, err)
	err = a.Step(2, cmdlog.Coordinator{BullyCoordinator: election.BullyCoordinator{Term: 1, Leader: 3}})
	assert.ErrorIs(t, err, cmdlog.ErrBadMessage)
	require.NoError(t, a.Step(3, cmdlog.Coordinator{BullyCoordinator: election.BullyCoordinator{Term: 1, Leader: 3}}))
	l, _, ok := a.Bully().Leader()
	assert.True(t, ok)
	assert.Equal(t, algorithms.NodeID(3), l)
}

// The election is bully or ring; anything else is refused, and a ring node
// refuses the bully's broadcast COORDINATOR.
func TestNodeElectionChoice(t *testing.T) {
	cfg := nodeConfig(1, 3)
	cfg.Election = "raft"
	_, err := cmdlog.NewNode(cfg)
	assert.ErrorIs(t, err, cmdlog.ErrBadConfig)
	cfg.Election = "ring"
	a, err := cmdlog.NewNode(cfg)
	require.NoError(t, err)
	err = a.Step(3, cmdlog.Coordinator{BullyCoordinator: election.BullyCoordinator{Term: 1, Leader: 3}})
	assert.ErrorIs(t, err, cmdlog.ErrBadMessage)
}

// failover runs six drones with a heartbeat until drone 6 leads, crashes
// it and tells drone 5, the next in line, that it is down. drop decides
// which of the later messages are lost.
func failover(t *testing.T, drop func(from, to algorithms.NodeID, m algorithms.Message) bool) (*algtest.Net, map[algorithms.NodeID]*cmdlog.Node) {
	t.Helper()
	const n = 6
	nodes := map[algorithms.NodeID]*cmdlog.Node{}
	cores := map[algorithms.NodeID]algorithms.Core{}
	for _, id := range members(n) {
		cfg := nodeConfig(id, n)
		cfg.Heartbeat = 5
		cfg.Log.RecoverRetry = 40
		c, err := cmdlog.NewNode(cfg)
		require.NoError(t, err)
		nodes[id], cores[id] = c, c
	}
	net := algtest.New(1, cores)
	net.RunTicks(10)
	require.True(t, nodes[6].Log().Leading())
	net.Crash(6)
	net.Drop = drop
	nodes[5].PeerDown(6)
	return net, nodes
}

// A new leader repeats its COORDINATOR while it recovers: drone 1 misses
// the first one, and the new leader's recovery waits RecoverRetry (40
// ticks) for a lost PROMISE; drone 1 names the new leader within a
// heartbeat period (5 ticks), not when the recovery is over.
func TestNodeRepeatsCoordinatorWhileRecovering(t *testing.T) {
	missed := map[[2]algorithms.NodeID]bool{}
	net, nodes := failover(t, func(from, to algorithms.NodeID, m algorithms.Message) bool {
		key := [2]algorithms.NodeID{from, to}
		switch m.(type) {
		case cmdlog.Coordinator:
			if from == 5 && to == 1 && !missed[key] {
				missed[key] = true
				return true
			}
		case cmdlog.Promise:
			if to == 5 && !missed[key] {
				missed[key] = true
				return true
			}
		}
		return false
	})
	net.RunTicks(8)
	require.True(t, nodes[5].Log().Recovering(), "drone 5 should still wait for a promise")
	l, term, ok := nodes[1].Election().Leader()
	assert.True(t, ok && l == 5 && term == 2, "8 ticks after drone 5's election drone 1 names leader %d of term %d (decided %v), want 5 of term 2", l, term, ok)
	net.RunTicks(60)
	assert.True(t, nodes[5].Log().Leading())
}

// The repeats are bounded: a drone that never completes its recovery (no
// PROMISE reaches it) repeats its COORDINATOR for 8 heartbeat periods, no
// longer, so that a drone declared beside the term's real leader, and cut
// off from every answer that would depose it, stops contradicting it. With
// a heartbeat of 5 ticks: the first COORDINATOR, one a tick for the first
// period (a new leader announces itself), then one a period: 13 frames.
func TestNodeRepeatsCoordinatorBounded(t *testing.T) {
	net, nodes := failover(t, func(from, to algorithms.NodeID, m algorithms.Message) bool {
		_, promise := m.(cmdlog.Promise)
		return promise && to == 5
	})
	before := net.ByKind["COORDINATOR"]
	net.RunTicks(300)
	count := net.ByKind["COORDINATOR"] - before
	require.True(t, nodes[5].Log().Recovering())
	l, term, ok := nodes[5].Election().Leader()
	require.True(t, ok && l == 5 && term == 2, "drone 5 elected in term 2")
	// ByKind counts a broadcast once per other drone (5, the crashed
	// drone 6 among them).
	assert.Equal(t, 13*5, count, "COORDINATOR messages of drone 5 (the first and its repeats, to 5 drones each)")
}
