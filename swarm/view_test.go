package swarm_test

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/mutex"
	"github.com/skyquorum/skyquorum/sitl/sim"
	"github.com/skyquorum/skyquorum/sitl/sim/seeds"
	"github.com/skyquorum/skyquorum/swarm"
	"github.com/skyquorum/skyquorum/swarm/airspace"
)

// me1 follows who is in which cell from the nodes' events and reports a
// second drone in a cell.
type me1 struct {
	t       *testing.T
	seed    uint64
	holders map[airspace.Cell]algorithms.NodeID
}

func (m *me1) event(id algorithms.NodeID, ev algorithms.Event) {
	switch ev := ev.(type) {
	case airspace.Acquired:
		for _, c := range ev.Cells {
			if h := m.holders[c]; h != 0 && h != id {
				m.t.Errorf("seed=%d: ME1: drone %d entered cell %d held by drone %d", m.seed, id, c, h)
			}
			m.holders[c] = id
		}
	case airspace.Expired:
		for _, c := range ev.Cells {
			if m.holders[c] == id {
				delete(m.holders, c)
			}
		}
	}
}

// waiterOf returns a drone other than d and the two highest whose quorum
// holds voter d.
func waiterOf(ids []algorithms.NodeID, d algorithms.NodeID) algorithms.NodeID {
	q := mutex.Best(ids)
	for _, id := range ids {
		if id != d && int(id) < len(ids)-1 && slices.Contains(q[id], d) {
			return id
		}
	}
	return 0
}

// A voter that dies is retired through the command log: every live drone
// switches to the quorums with its replacement at the activation time,
// and a drone whose quorum held the dead voter, waiting for a cell since
// the crash, is granted it after the switch. Without the rebuild it would
// wait for ever.
func TestDeadVoterIsReplaced(t *testing.T) {
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 10)); seed++ {
		s, ids := swarmOf(t, sim.Config{Drones: 12, Seed: seed, Loss: 0.05, ClockOffset: 200 * sim.Millisecond, ClockDriftPPM: 50})
		const d = algorithms.NodeID(3)
		w := waiterOf(ids, d)
		require.NotZero(t, w)
		check := &me1{t: t, seed: seed, holders: map[airspace.Cell]algorithms.NodeID{}}
		var granted, switched sim.Time = -1, -1
		s.OnEvent(func(id algorithms.NodeID, ev algorithms.Event) {
			check.event(id, ev)
			switch ev := ev.(type) {
			case airspace.Acquired:
				if id == w && granted < 0 {
					granted = s.Now()
				}
			case swarm.ViewInForce:
				if id == w {
					switched = s.Now()
					assert.Equal(t, d, ev.Retired, "seed=%d", seed)
				}
			}
		})
		s.At(20*sim.Second, func() { s.Crash(d) })
		s.At(22*sim.Second, func() {
			s.Call(w, func(c algorithms.Core) { require.NoError(t, c.(clocked).Locks().Acquire([]airspace.Cell{4})) })
		})
		s.Run(120*sim.Second, nil)
		t.Logf("seed=%d: waiter %d switched at %v, granted at %v", seed, w, switched, granted)
		require.GreaterOrEqual(t, switched, sim.Time(0), "seed=%d: drone %d never switched view", seed, w)
		require.GreaterOrEqual(t, granted, sim.Time(0), "seed=%d: drone %d was never granted the cell", seed, w)
		assert.GreaterOrEqual(t, granted, switched, "seed=%d: granted before the switch", seed)
		for _, id := range ids {
			if id == d {
				continue
			}
			n := s.Core(id).(clocked)
			inForce, applied := n.Epoch()
			assert.Equal(t, [2]int{1, 1}, [2]int{inForce, applied}, "seed=%d drone %d", seed, id)
			assert.NotContains(t, n.Quorums()[w], d, "seed=%d drone %d", seed, id)
		}
	}
}

// A voter cut off from everyone is retired too, and fences itself while it
// cannot hear its leader, so that its votes run out before the switch.
// When the partition heals it learns it is retired and never votes again;
// ME1 holds throughout as other drones keep taking cells.
func TestCutOffVoterIsFencedAndRetired(t *testing.T) {
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 10)); seed++ {
		s, ids := swarmOf(t, sim.Config{Drones: 12, Seed: seed, Loss: 0.05, ClockOffset: 200 * sim.Millisecond, ClockDriftPPM: 50})
		const d = algorithms.NodeID(5)
		w := waiterOf(ids, d)
		require.NotZero(t, w)
		check := &me1{t: t, seed: seed, holders: map[airspace.Cell]algorithms.NodeID{}}
		s.OnEvent(check.event)
		node := func(id algorithms.NodeID) clocked { return s.Core(id).(clocked) }
		// d holds a cell its quorum shares with w when it is cut off.
		s.At(15*sim.Second, func() {
			s.Call(d, func(c algorithms.Core) { require.NoError(t, c.(clocked).Locks().Acquire([]airspace.Cell{4})) })
		})
		s.At(20*sim.Second, func() {
			require.True(t, node(d).Locks().Holding(), "seed=%d", seed)
			var others []algorithms.NodeID
			for _, id := range ids {
				if id != d {
					others = append(others, id)
				}
			}
			s.Partition(others)
			s.Call(w, func(c algorithms.Core) { require.NoError(t, c.(clocked).Locks().Acquire([]airspace.Cell{4})) })
		})
		fenced := false
		s.At(80*sim.Second, func() { fenced = node(d).Locks().Fenced() })
		s.At(100*sim.Second, s.Heal)
		s.Run(160*sim.Second, nil)
		assert.True(t, fenced, "seed=%d: the cut-off voter still voted", seed)
		assert.True(t, node(w).Locks().Holding(), "seed=%d: drone %d never got the cell", seed, w)
		for _, id := range ids {
			inForce, applied := node(id).Epoch()
			assert.Equal(t, [2]int{1, 1}, [2]int{inForce, applied}, "seed=%d drone %d", seed, id)
		}
		assert.True(t, node(d).Locks().Fenced(), "seed=%d: the retired voter votes again", seed)
	}
}

// A voter cut off together with the leader it follows, while the rest of
// the swarm elects a new leader: the deposed leader keeps sending its
// commit point, but it is no longer confirmed by a committee majority, so
// the voter stops counting itself caught up and fences itself, and so
// does the deposed leader. Without the confirmation both would keep
// voting with a view the rest of the swarm may already have changed.
func TestVoterWithDeposedLeaderIsFenced(t *testing.T) {
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 10)); seed++ {
		s, ids := swarmOf(t, sim.Config{Drones: 12, Seed: seed, Loss: 0.05, ClockOffset: 200 * sim.Millisecond, ClockDriftPPM: 50})
		node := func(id algorithms.NodeID) clocked { return s.Core(id).(clocked) }
		const old, voter = algorithms.NodeID(12), algorithms.NodeID(5)
		var fencedBefore bool
		s.At(20*sim.Second, func() {
			require.Equal(t, old, leaderOf(node(voter)), "seed=%d", seed)
			fencedBefore = node(voter).Locks().Fenced()
			var rest []algorithms.NodeID
			for _, id := range ids {
				if id != old && id != voter {
					rest = append(rest, id)
				}
			}
			s.Partition(rest)
		})
		var follows algorithms.NodeID
		var fenced, oldFenced, newLeaderFenced bool
		s.At(70*sim.Second, func() {
			follows = leaderOf(node(voter))
			fenced = node(voter).Locks().Fenced()
			oldFenced = node(old).Locks().Fenced()
			newLeaderFenced = node(11).Locks().Fenced()
		})
		s.Run(71*sim.Second, nil)
		assert.False(t, fencedBefore, "seed=%d: fenced before the partition", seed)
		assert.Equal(t, old, follows, "seed=%d: the cut-off voter should still follow the deposed leader", seed)
		assert.True(t, fenced, "seed=%d: a voter following a deposed leader still votes", seed)
		assert.True(t, oldFenced, "seed=%d: the deposed leader still votes", seed)
		assert.False(t, newLeaderFenced, "seed=%d: the new leader's side is fenced", seed)
	}
}

func leaderOf(n clocked) algorithms.NodeID {
	l, _ := n.Leader()
	return l
}
