package swarm_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/sitl/sim"
	"github.com/skyquorum/skyquorum/sitl/sim/seeds"
	"github.com/skyquorum/skyquorum/swarm"
)

// agreed returns the leader every live drone names, 0 when they differ or
// name a dead one.
func agreed(s *sim.Sim, ids []algorithms.NodeID) algorithms.NodeID {
	var l algorithms.NodeID
	for _, id := range ids {
		if !s.Up(id) {
			continue
		}
		got, _ := s.Core(id).(clocked).Leader()
		if got == 0 || !s.Up(got) || (l != 0 && got != l) {
			return 0
		}
		l = got
	}
	return l
}

// A drone that restarts knows no leader until it hears one, and the
// leader may be dead by then: it counts the silence of the drone the bully
// would elect, and takes over when that one stays silent. Of 50 drones at
// 10% loss, drone 49, next in line, crashes and restarts from its state
// 1 s later; leader 50 crashes 0.5 s after drone 49 did. The drones
// further down wait 30 s before they step in (the simulator's campaign
// timeouts), and membership reports drone 50 dead only after tens of
// seconds: drone 49 must take over within 3 s of its restart.
func TestRestartedSuccessorTakesOverFromDeadLeader(t *testing.T) {
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 3)); seed++ {
		s, ids := swarmOf(t, sim.Config{Drones: 50, Seed: seed, Loss: 0.1}, func(c *swarm.Config) {
			c.CampaignTimeout = 3000
			c.SuccessionDelay = 3000
		})
		s.Run(20*sim.Second, nil)
		require.Equal(t, algorithms.NodeID(50), agreed(s, ids), "seed=%d: the swarm does not agree on leader 50", seed)
		start := s.Now()
		s.At(start+sim.Second, func() { s.Crash(49) })
		s.At(start+1500*sim.Millisecond, func() { s.Crash(50) })
		s.At(start+2*sim.Second, func() { require.NoError(t, s.Restart(49, true), "seed=%d", seed) })
		s.Run(start+2*sim.Second, nil)
		ok := s.Run(start+5*sim.Second, func() bool { return agreed(s, ids) == 49 })
		got, _ := s.Core(49).(clocked).Leader()
		require.True(t, ok, "seed=%d: 3 s after its restart drone 49 names leader %d, and the live drones agree on %d", seed, got, agreed(s, ids))
		t.Logf("seed=%d: leader 49 agreed %v after drone 49's restart", seed, s.Now()-start-2*sim.Second)
	}
}

// The drone next in line is dead too and membership has not reported it
// yet: the second in line waits SuccessionDelay (1 s) longer than the
// first would have, then campaigns; its ELECTION to the dead drone above
// it goes unanswered for the bully's T (2 s here), and it declares. Of 50
// drones at 10% loss, drone 49 crashes, then leader 50 half a second
// later: drone 48 leads, agreed by every live drone, within 1.75 + 1 + 2
// s, the frames lost meanwhile and the spreading of its COORDINATOR: 7 s
// (4.6 to 6.1 s in seeds 1 to 3).
func TestSecondInLineTakesOverWhenNextIsDead(t *testing.T) {
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 3)); seed++ {
		s, ids := swarmOf(t, sim.Config{Drones: 50, Seed: seed, Loss: 0.1}, func(c *swarm.Config) {
			c.CampaignTimeout = 3000
		})
		s.Run(20*sim.Second, nil)
		require.Equal(t, algorithms.NodeID(50), agreed(s, ids), "seed=%d: the swarm does not agree on leader 50", seed)
		start := s.Now()
		s.Crash(49)
		s.At(start+500*sim.Millisecond, func() { s.Crash(50) })
		s.Run(start+500*sim.Millisecond, nil)
		ok := s.Run(start+7500*sim.Millisecond, func() bool { return agreed(s, ids) == 48 })
		require.True(t, ok, "seed=%d: 7 s after leader 50's crash the live drones agree on %d", seed, agreed(s, ids))
		t.Logf("seed=%d: leader 48 agreed %v after leader 50's crash", seed, s.Now()-start-500*sim.Millisecond)
	}
}

// At 20% loss the new leader's one COORDINATOR misses about 10 of 49
// drones; they used to learn of it only from the frames that followed its
// recovery, and the failover's tail went past 2 s (2.8 s at most in
// `simulate show`). A new leader now announces itself five times in its
// first heartbeat period and repeats its COORDINATOR while it recovers. Of
// 50 drones at 20% loss, leader 50 crashes at a different point of its
// heartbeat in each seed: every live drone names drone 49 within 2 s
// (1.25 to 1.88 s in seeds 1 to 80; before, seed 5 took longer).
func TestFailoverWithinTwoSecondsAtHeavyLoss(t *testing.T) {
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 8)); seed++ {
		s, ids := swarmOf(t, sim.Config{Drones: 50, Seed: seed, Loss: 0.2})
		s.Run(20*sim.Second, nil)
		require.Equal(t, algorithms.NodeID(50), agreed(s, ids), "seed=%d: the swarm does not agree on leader 50", seed)
		start := s.Now() + sim.Time(seed)*31*sim.Millisecond
		s.At(start, func() { s.Crash(50) })
		s.Run(start, nil)
		ok := s.Run(start+2*sim.Second, func() bool { return agreed(s, ids) == 49 })
		require.True(t, ok, "seed=%d: 2 s after leader 50's crash the live drones agree on %d", seed, agreed(s, ids))
		t.Logf("seed=%d: leader 49 agreed %v after leader 50's crash", seed, s.Now()-start)
	}
}

// A leader that crashes and restarts from its state finds the drone that
// took its place leading, and follows it: no term starts while a leader
// lives (the textbook's bully would take the place back, and the swarm
// would wait for a second recovery of the log). When that leader dies in
// turn, the restarted drone, first in line though above it, takes over
// within 2 s at 20% loss (seed 5 took longer while only the drones below
// the leader watched it closely: the drone below asked the one above).
func TestRestartedLeaderFollowsItsSuccessor(t *testing.T) {
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 8)); seed++ {
		s, ids := swarmOf(t, sim.Config{Drones: 50, Seed: seed, Loss: 0.2})
		s.Run(20*sim.Second, nil)
		require.Equal(t, algorithms.NodeID(50), agreed(s, ids), "seed=%d: the swarm does not agree on leader 50", seed)
		s.Crash(50)
		ok := s.Run(s.Now()+5*sim.Second, func() bool { return agreed(s, ids) == 49 })
		require.True(t, ok, "seed=%d: no agreement on leader 49 after 50's crash", seed)
		_, term := s.Core(49).(clocked).Leader()
		require.NoError(t, s.Restart(50, true), "seed=%d", seed)
		s.Run(s.Now()+10*sim.Second, nil)
		require.Equal(t, algorithms.NodeID(49), agreed(s, ids), "seed=%d: 10 s after drone 50's restart", seed)
		_, now := s.Core(49).(clocked).Leader()
		require.Equal(t, term, now, "seed=%d: a term started while leader 49 lived", seed)

		start := s.Now()
		s.Crash(49)
		ok = s.Run(start+2*sim.Second, func() bool { return agreed(s, ids) == 50 })
		require.True(t, ok, "seed=%d: 2 s after leader 49's crash the live drones agree on %d", seed, agreed(s, ids))
		t.Logf("seed=%d: leader 50 agreed %v after leader 49's crash", seed, s.Now()-start)
	}
}
