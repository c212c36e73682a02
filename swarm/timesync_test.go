package swarm_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/sitl/sim"
	"github.com/skyquorum/skyquorum/sitl/sim/seeds"
	"github.com/skyquorum/skyquorum/swarm"
)

// A cold swarm of 80 drones, each started without state and so with a
// boot nonce for its incarnation, as a drone's runner gives it: the
// drones spread their first time-sync polls over 20 s rather than asking
// within 2 s of the election, as a restarted drone does (they once all
// did, on a channel busy with the election, and synced up to 445 ms
// apart in a live run), and from the first sync on the synced drones'
// swarm times lie within 40 ms of each other.
func TestColdSwarmSpreadsFirstPolls(t *testing.T) {
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 2)); seed++ {
		s, ids := swarmOf(t, sim.Config{Drones: 80, Seed: seed, ClockOffset: 500 * sim.Millisecond, ClockDriftPPM: 50},
			func(c *swarm.Config) { c.Incarnation = 1<<31 | uint32(c.ID) })
		node := func(id algorithms.NodeID) *swarm.Node { return s.Core(id).(clocked).Node }
		first := map[algorithms.NodeID]sim.Time{}
		var spread int64
		var probe func()
		probe = func() {
			lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
			for _, id := range ids {
				ts := node(id).TimeSync()
				if q, _, _ := ts.Counters(); q > 0 {
					if _, ok := first[id]; !ok {
						first[id] = s.Now()
					}
				}
				if ts.Synced() {
					st := ts.SwarmTime(int64(s.LocalTime(id)))
					lo, hi = min(lo, st), max(hi, st)
				}
			}
			spread = max(spread, hi-lo)
			s.After(100*sim.Millisecond, probe)
		}
		s.At(0, probe)
		s.Run(60*sim.Second, nil)
		earliest, latest := sim.Time(math.MaxInt64), sim.Time(0)
		for _, at := range first {
			earliest, latest = min(earliest, at), max(latest, at)
		}
		t.Logf("seed=%d: %d drones polled, first polls from %.1f s to %.1f s; clock spread max %.2f ms",
			seed, len(first), earliest.Seconds(), latest.Seconds(), float64(spread)/1e6)
		require.Len(t, first, len(ids)-1, "seed=%d: every follower polled", seed)
		require.Greater(t, latest-earliest, 10*sim.Second, "seed=%d: first polls bunched", seed)
		require.LessOrEqual(t, spread, int64(40*sim.Millisecond), "seed=%d", seed)
	}
}
