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
// second drone in a cell. A drone told to leave (Expired) is out of its
// cells only when its margin (a tenth of the 10 s lease) has passed: the
// time it has to fly out.
type me1 struct {
	t       *testing.T
	seed    uint64
	s       *sim.Sim
	holders map[airspace.Cell]algorithms.NodeID
}

const margin = sim.Second

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
		cells := ev.Cells
		m.s.After(margin, func() {
			for _, c := range cells {
				if m.holders[c] == id {
					delete(m.holders, c)
				}
			}
		})
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
		check := &me1{t: t, seed: seed, s: s, holders: map[airspace.Cell]algorithms.NodeID{}}
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
		check := &me1{t: t, seed: seed, s: s, holders: map[airspace.Cell]algorithms.NodeID{}}
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
		assert.True(t, node(d).Locks().Retired(), "seed=%d: the cut-off voter did not learn it is retired", seed)
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

// A holder whose quorum shares only the retired voter with a waiter's: the
// retired voter stops renewing the holder's vote, the holder leaves within
// its lease, and the waiter, whose new quorum has the replacement instead,
// enters only after the switch, long after the holder has flown out. In
// the Fano plane every two quorums share exactly one voter.
func TestHolderAndWaiterAcrossViewChange(t *testing.T) {
	const n = 7
	ids := make([]algorithms.NodeID, n)
	for i := range ids {
		ids[i] = algorithms.NodeID(i + 1)
	}
	q := mutex.ProjectivePlane(ids)
	const r, leader = algorithms.NodeID(1), algorithms.NodeID(n)
	var d, holder, waiter algorithms.NodeID
	for d = 2; d < leader && holder == 0; d++ {
		holder, waiter = pairSharingOnly(ids, q, d, r, leader)
	}
	d--
	require.NotZero(t, holder, "no holder and waiter sharing only one drone in %v", q)
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 10)); seed++ {
		s, _ := swarmOf(t, sim.Config{Drones: n, Seed: seed, Loss: 0.05, ClockOffset: 200 * sim.Millisecond, ClockDriftPPM: 50},
			func(c *swarm.Config) { c.Quorums = mutex.ProjectivePlane(c.Members) })
		check := &me1{t: t, seed: seed, s: s, holders: map[airspace.Cell]algorithms.NodeID{}}
		var left, entered, switched sim.Time = -1, -1, -1
		s.OnEvent(func(id algorithms.NodeID, ev algorithms.Event) {
			check.event(id, ev)
			switch ev := ev.(type) {
			case airspace.Expired:
				if id == holder && left < 0 {
					left = s.Now()
				}
			case airspace.Acquired:
				if id == waiter && entered < 0 {
					entered = s.Now()
				}
			case swarm.ViewInForce:
				if id == waiter {
					switched = s.Now()
					assert.Equal(t, [2]algorithms.NodeID{d, r}, [2]algorithms.NodeID{ev.Retired, ev.Replacement}, "seed=%d", seed)
				}
			}
		})
		cell := []airspace.Cell{0}
		s.At(15*sim.Second, func() {
			s.Call(holder, func(c algorithms.Core) { require.NoError(t, c.(clocked).Locks().Acquire(cell)) })
		})
		s.At(25*sim.Second, func() {
			require.True(t, s.Core(holder).(clocked).Locks().Holding(), "seed=%d", seed)
			// The leader stops hearing d and retires it; d hears
			// everything and applies the view.
			s.Drop = func(from, to algorithms.NodeID) bool { return from == d && to == leader }
			s.Call(waiter, func(c algorithms.Core) { require.NoError(t, c.(clocked).Locks().Acquire(cell)) })
		})
		s.Run(130*sim.Second, nil)
		require.GreaterOrEqual(t, left, sim.Time(0), "seed=%d: the holder never left", seed)
		require.GreaterOrEqual(t, entered, sim.Time(0), "seed=%d: the waiter never entered", seed)
		assert.Greater(t, entered, switched, "seed=%d", seed)
		assert.Greater(t, entered, left+margin, "seed=%d: entered at %v, holder told to leave at %v", seed, entered, left)
	}
}

// pairSharingOnly finds a holder whose quorum has d but not r, and a waiter
// whose quorum shares only d with the holder's; neither is d, r or the
// leader.
func pairSharingOnly(ids []algorithms.NodeID, q mutex.Quorums, d, r, leader algorithms.NodeID) (holder, waiter algorithms.NodeID) {
	skip := func(id algorithms.NodeID) bool { return id == d || id == r || id == leader }
	for _, i := range ids {
		if skip(i) || !slices.Contains(q[i], d) || slices.Contains(q[i], r) {
			continue
		}
		for _, j := range ids {
			if skip(j) || j == i || !slices.Contains(q[j], d) {
				continue
			}
			common := 0
			for _, v := range q[i] {
				if slices.Contains(q[j], v) {
					common++
				}
			}
			if common == 1 {
				return i, j
			}
		}
	}
	return 0, 0
}

// Every live drone contends for two cells without pause while a voter
// dies, or is wrongly suspected by the leader, and the view changes under
// them: no two drones are ever in one cell, before, during or after the
// switch, and drones keep entering after it, over many seeds.
func TestViewSwitchUnderContention(t *testing.T) {
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 20)); seed++ {
		// The Fano plane: every two quorums share exactly one voter.
		const n = 7
		s, ids := swarmOf(t, sim.Config{Drones: n, Seed: seed, Loss: 0.05, ClockOffset: 200 * sim.Millisecond, ClockDriftPPM: 50},
			func(c *swarm.Config) { c.Quorums = mutex.ProjectivePlane(c.Members) })
		check := &me1{t: t, seed: seed, s: s, holders: map[airspace.Cell]algorithms.NodeID{}}
		dead := algorithms.NodeID(1 + seed%5) // a voter, never the leader
		var switched sim.Time = -1
		entries := map[bool]int{} // before / after the switch
		rng := s.Rand()
		var loop func(id algorithms.NodeID)
		loop = func(id algorithms.NodeID) {
			if !s.Up(id) {
				return
			}
			locks := s.Core(id).(clocked).Locks()
			if locks.Holding() {
				for _, c := range locks.Cells() {
					if check.holders[c] == id {
						delete(check.holders, c)
					}
				}
				s.Call(id, func(c algorithms.Core) { _ = c.(clocked).Locks().Release() })
			} else if locks.Cells() == nil {
				cells := []airspace.Cell{airspace.Cell(rng.IntN(2))}
				s.Call(id, func(c algorithms.Core) { _ = c.(clocked).Locks().Acquire(cells) })
			}
			s.After(sim.Second+sim.Time(rng.Int64N(int64(sim.Second))), func() { loop(id) })
		}
		s.OnEvent(func(id algorithms.NodeID, ev algorithms.Event) {
			check.event(id, ev)
			switch ev.(type) {
			case airspace.Acquired:
				entries[switched >= 0]++
			case swarm.ViewInForce:
				if switched < 0 {
					switched = s.Now()
				}
			}
		})
		for _, id := range ids {
			s.At(12*sim.Second, func() { loop(id) })
		}
		s.At(20*sim.Second, func() {
			if seed%2 == 0 {
				// Wrongly suspected: the leader no longer hears it, the
				// others do, and it votes until it applies the view that
				// retires it.
				s.Drop = func(from, to algorithms.NodeID) bool { return from == dead && to == algorithms.NodeID(n) }
				return
			}
			// A crashed holder stays in its cells until its lease ends.
			locks := s.Core(dead).(clocked).Locks()
			if at, ok := locks.LeaveBy(); ok {
				cells := locks.Cells()
				s.After(sim.Time(at-locks.Now())*10*sim.Millisecond+margin, func() {
					for _, c := range cells {
						if check.holders[c] == dead {
							delete(check.holders, c)
						}
					}
				})
			}
			s.Crash(dead)
		})
		s.Run(130*sim.Second, nil)
		require.GreaterOrEqual(t, switched, sim.Time(0), "seed=%d: no view change", seed)
		assert.Positive(t, entries[false], "seed=%d", seed)
		assert.Positive(t, entries[true], "seed=%d: nobody entered after the switch", seed)
	}
}

// A partition that leaves the command log's committee majority on the
// smaller side (drones 5, 6 and 7 of 7, the committee being the five
// highest): that side commits, and its leader retires the voters cut off
// on the other side one at a time. Those are suspected one by one, up to
// a failure detector's timeout apart, and a replacement chosen at the
// first suspicion was another cut-off drone not yet suspected (drone 2
// for drone 1 in seed 1, drone 1 for drone 4 in seed 2): a change of
// view, a minute to activate, that changed nothing for the drones that
// could still be reached, so drone 5, whose quorum held drone 1, waited
// 112 to 121 s for a cell after the cut. Every replacement is now a drone
// of the side that commits: drone 5 is granted the cell after the first
// change that retires drone 1 (60 s after the cut when drone 1 is the
// first retired; up to about 135 s when it is retired second, each view
// change taking about a minute to activate: the test asks only that the
// cell is granted within the run, and that every replacement is of the
// committing side).
func TestSmallerSideWithCommitteeRetiresCutOffVoters(t *testing.T) {
	small, big := []algorithms.NodeID{5, 6, 7}, []algorithms.NodeID{1, 2, 3, 4}
	const holder, taker = algorithms.NodeID(1), algorithms.NodeID(5)
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 3)); seed++ {
		s, ids := swarmOf(t, sim.Config{Drones: 7, Seed: seed, Loss: 0.05, ClockOffset: 200 * sim.Millisecond, ClockDriftPPM: 50})
		require.Contains(t, mutex.Best(ids)[taker], holder)
		check := &me1{t: t, seed: seed, s: s, holders: map[airspace.Cell]algorithms.NodeID{}}
		const cut = 30 * sim.Second
		var granted sim.Time = -1
		s.OnEvent(func(id algorithms.NodeID, ev algorithms.Event) {
			check.event(id, ev)
			switch ev := ev.(type) {
			case airspace.Acquired:
				if id == taker && s.Now() > cut && granted < 0 {
					granted = s.Now()
				}
			case swarm.ViewInForce:
				if id == taker {
					assert.Contains(t, small, ev.Replacement, "seed=%d: view %d retires %d for %d, cut off too", seed, ev.Epoch, ev.Retired, ev.Replacement)
				}
			}
		})
		s.At(15*sim.Second, func() {
			s.Call(holder, func(c algorithms.Core) { require.NoError(t, c.(clocked).Locks().Acquire([]airspace.Cell{7})) })
		})
		s.At(cut, func() {
			require.True(t, s.Core(holder).(clocked).Locks().Holding(), "seed=%d", seed)
			s.Partition(small, big)
			s.Call(taker, func(c algorithms.Core) { require.NoError(t, c.(clocked).Locks().Acquire([]airspace.Cell{7})) })
		})
		s.Run(cut+150*sim.Second, nil)
		require.GreaterOrEqual(t, granted, sim.Time(0), "seed=%d: drone %d was never granted the cell", seed, taker)
		t.Logf("seed=%d: drone %d granted the cell %v after the cut", seed, taker, granted-cut)
		l, _ := s.Core(taker).(clocked).Leader()
		assert.Contains(t, small, l, "seed=%d: the smaller side leads", seed)
		assert.True(t, s.Core(l).(clocked).Log().Log().Leading(), "seed=%d: drone %d leads the log", seed, l)
	}
}
