package swarm_test

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/sitl/sim"
	"github.com/skyquorum/skyquorum/sitl/sim/seeds"
	"github.com/skyquorum/skyquorum/swarm"
	"github.com/skyquorum/skyquorum/swarm/command"
)

// A show started while the leader's swarm time is still 270 ms from GPS
// time (its clock 300 ms ahead, 50 ppm fast, closing at 1000 ppm): from
// the START to the LAND the gap is held, across a loss of GPS at the
// leader and changes of leader to a drone without GPS time and on to one
// with it, and no drone's swarm time or show time jumps. After the LAND
// the gap closes. Without the hold it would close during the show: 1000
// ppm of the show's 460 s, 460 ms.
func TestGPSGapHeldThroughShow(t *testing.T) {
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 2)); seed++ {
		runGPSShow(t, seed)
	}
}

func runGPSShow(t *testing.T, seed uint64) {
	t.Helper()
	const slewPPM = 10_000 // timesync's SlewPPM
	s, ids := swarmOf(t, sim.Config{Drones: 7, Seed: seed, Loss: 0.05, ClockOffset: 300 * sim.Millisecond, ClockDriftPPM: 50},
		func(c *swarm.Config) { c.GPSSlewPPM = 1000 })
	s.SetClock(7, 300*sim.Millisecond, 50)
	node := func(id algorithms.NodeID) clocked { return s.Core(id).(clocked) }
	noGPS := map[algorithms.NodeID]bool{6: true}
	noise := rand.New(rand.NewPCG(seed, 0x6795))
	var feed func()
	feed = func() {
		for _, id := range ids {
			if !s.Up(id) {
				continue
			}
			local, gps := int64(s.LocalTime(id)), int64(s.Now())-noise.Int64N(int64(2*sim.Millisecond))
			s.Call(id, func(c algorithms.Core) {
				if noGPS[id] {
					c.(clocked).LoseGPS()
				} else {
					c.(clocked).SetGPSTime(local, gps)
				}
			})
		}
		s.After(sim.Second, feed)
	}
	s.At(sim.Second, feed)

	// Every 100 ms: no drone's swarm time or show time jumps; the serving
	// leader's gap to GPS time; how far apart the drones' show times are.
	type last struct{ local, swarm, show int64 }
	prev := map[algorithms.NodeID]last{}
	var (
		jumps      int
		gap        int64 // the serving leader's swarm time − GPS time
		showSpread int64
		spreadAt   sim.Time
		firstJump  string
		measure    bool
	)
	var probe func()
	probe = func() {
		lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
		for _, id := range ids {
			n := node(id)
			if !s.Up(id) || !n.TimeSync().Synced() {
				delete(prev, id)
				continue
			}
			local := int64(s.LocalTime(id))
			st := n.SwarmTime(local)
			sh, running := n.Show().ShowTime(st)
			if n.TimeSync().Leader() == id {
				gap = st - int64(s.Now())
			}
			if p, ok := prev[id]; ok {
				dl := local - p.local
				tol := float64(dl)*slewPPM/1e6 + 1
				bad := math.Abs(float64(st-p.swarm-dl)) > tol
				if running && p.show >= 0 {
					bad = bad || math.Abs(float64(sh-p.show-dl)) > tol
				}
				if bad {
					jumps++
					if firstJump == "" {
						firstJump = fmt.Sprintf("drone %d at %v: swarm time %+d ns, show time %+d ns in %d ns", id, s.Now(), st-p.swarm, sh-p.show, dl)
					}
				}
			}
			show := int64(-1)
			if running {
				show = sh
			}
			prev[id] = last{local, st, show}
			if running && n.InSync() {
				lo, hi = min(lo, sh), max(hi, sh)
			}
		}
		if measure && hi >= lo && hi-lo > showSpread {
			showSpread, spreadAt = hi-lo, s.Now()
		}
		s.After(100*sim.Millisecond, probe)
	}
	s.At(100*sim.Millisecond, probe)

	propose := func(leader algorithms.NodeID, c command.Command) {
		s.Call(leader, func(core algorithms.Core) {
			_, err := core.(clocked).Propose(c)
			require.NoError(t, err, "seed=%d: %v", seed, c)
		})
	}
	s.Run(60*sim.Second, nil)
	require.Equal(t, algorithms.NodeID(7), node(6).TimeSync().Leader(), "seed=%d", seed)
	propose(7, command.Load{Show: 1, Digest: 1})
	propose(7, command.Arm{})
	propose(7, command.Start{At: node(7).SwarmTime(int64(s.LocalTime(7))) + int64(10*sim.Second)})
	s.Run(61*sim.Second, nil)
	atStart := gap
	require.Greater(t, atStart, int64(200*sim.Millisecond), "seed=%d: the gap closed before the START", seed)
	measure = true
	var moved int64
	watch := func(until sim.Time) {
		for s.Now() < until {
			s.Run(s.Now()+sim.Second, nil)
			moved = max(moved, abs(gap-atStart))
		}
	}
	watch(150 * sim.Second)
	require.LessOrEqual(t, moved, int64(sim.Millisecond), "seed=%d: the gap moved during the show, GPS leader", seed)
	noGPS[7] = true // lost for 60 s mid-show
	watch(210 * sim.Second)
	noGPS[7] = false
	watch(270 * sim.Second)
	s.Crash(7) // drone 6, without GPS time, leads next
	watch(400 * sim.Second)
	require.Equal(t, algorithms.NodeID(6), node(5).TimeSync().Leader(), "seed=%d", seed)
	s.Crash(6) // drone 5, with GPS time, leads next
	watch(520 * sim.Second)
	require.Equal(t, algorithms.NodeID(5), node(4).TimeSync().Leader(), "seed=%d", seed)
	_, running := node(4).Show().ShowTime(node(4).SwarmTime(int64(s.LocalTime(4))))
	require.True(t, running, "seed=%d: the show is not running", seed)
	t.Logf("seed=%d: gap to GPS at the START %.2f ms, moved %.2f ms at most during the show (GPS lost 60 s, a leader without GPS 130 s); show times of drones in sync within %.2f ms of each other (widest at %v); %d jumps",
		seed, float64(atStart)/1e6, float64(moved)/1e6, float64(showSpread)/1e6, spreadAt, jumps)
	// The leaders' clocks, 50 ppm off GPS time at most, for 60 + 30 s
	// without GPS time (30 s: the readings' span) and 130 + 30 s.
	require.LessOrEqual(t, moved, int64(15*sim.Millisecond), "seed=%d: the gap moved during the show", seed)
	require.Zero(t, jumps, "seed=%d: %s", seed, firstJump)
	// The show times part most after the crashes of a leader (9 s
	// after, while the drones take up the new leader's time), as much
	// without GPS time: 13.7 ms at seed 1 without, 13.5 ms with it.
	require.LessOrEqual(t, showSpread, int64(40*sim.Millisecond), "seed=%d: show times apart (widest at %v)", seed, spreadAt)
	propose(5, command.Land{})
	s.Run(s.Now()+sim.Time(float64(gap)/1000e-6)+90*sim.Second, nil)
	t.Logf("seed=%d: gap to GPS %.3f ms after the LAND", seed, float64(gap)/1e6)
	require.InDelta(t, 0, float64(gap)/1e6, 1, "seed=%d: the show over, the gap did not close", seed)
	require.Zero(t, jumps, "seed=%d: %s", seed, firstJump)
}

func abs(v int64) int64 {
	if v < 0 {
		return -v
	}
	return v
}
