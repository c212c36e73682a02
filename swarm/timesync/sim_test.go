package timesync

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/sitl/sim"
	"github.com/skyquorum/skyquorum/sitl/sim/seeds"
)

// clocked is the simulator's driver for a TimeSync: it passes the drone's
// local clock (offset and drift included) before every Step and Tick, as
// the runner does on a real drone.
type clocked struct {
	*TimeSync
	s  **sim.Sim
	id algorithms.NodeID
	// deaf drops the leader's beacons at this drone.
	deaf bool
}

func (c clocked) local() int64 { return int64((*c.s).LocalTime(c.id)) }

func (c clocked) Step(from algorithms.NodeID, m algorithms.Message) error {
	if r, ok := m.(Reply); ok && r.IsBeacon() && c.deaf {
		return nil
	}
	c.SetClock(c.local())
	return c.TimeSync.Step(from, m)
}

func (c clocked) Tick() {
	c.SetClock(c.local())
	c.TimeSync.Tick()
}

// syncRun is a swarm running only time sync, with a checker that samples
// every drone's swarm time against the leader's every probe interval.
type syncRun struct {
	t        *testing.T
	s        *sim.Sim
	seed     uint64
	leader   algorithms.NodeID
	last     map[algorithms.NodeID][2]int64 // local, swarm at the last probe
	maxErr   int64                          // over synced drones, after warm-up
	phaseErr map[string]int64               // maxErr per phase of the run
	phase    string
	measure  bool
	maxBound int64 // largest finite ErrorBound seen while measuring
	// overBound counts probes where a drone's error exceeded its own
	// ErrorBound.
	overBound int
	firstOver string
	jumps     int
	// worst says where the largest error was seen.
	worst string
	// deaf are the drones that drop the leader's beacons (set before the
	// run starts).
	deaf map[algorithms.NodeID]bool
}

const probe = 100 * sim.Millisecond

func newSyncRun(t *testing.T, n int, seed uint64, loss float64, tick sim.Time) *syncRun {
	t.Helper()
	return newSyncRunWith(t, n, seed, loss, tick, nil)
}

// newSyncRunWith is newSyncRun with every drone's Config changed by set.
func newSyncRunWith(t *testing.T, n int, seed uint64, loss float64, tick sim.Time, set func(*Config)) *syncRun {
	t.Helper()
	return newSyncRunSim(t, sim.Config{Drones: n, Seed: seed, Loss: loss, Tick: tick}, set)
}

// newSyncRunSim is newSyncRunWith on a channel configured by sc (its
// clocks set as newSyncRun's); the drones deaf drop the leader's beacons.
func newSyncRunSim(t *testing.T, sc sim.Config, set func(*Config), deaf ...algorithms.NodeID) *syncRun {
	t.Helper()
	n, seed, tick := sc.Drones, sc.Seed, sc.Tick
	sc.ClockOffset, sc.ClockDriftPPM = 500*sim.Millisecond, 50
	r := &syncRun{t: t, seed: seed, leader: 1, last: map[algorithms.NodeID][2]int64{}, phaseErr: map[string]int64{}, deaf: map[algorithms.NodeID]bool{}}
	for _, id := range deaf {
		r.deaf[id] = true
	}
	s, err := sim.New(sc, func(id algorithms.NodeID, restored []byte) (algorithms.Core, error) {
		cfg := Config{ID: id, Leader: 1, Members: n, TickNanos: int64(tick), Seed: seed, DriftPPM: 50, Restored: restored}
		if set != nil {
			set(&cfg)
		}
		ts, err := New(cfg)
		if err != nil {
			return nil, err
		}
		return clocked{TimeSync: ts, s: &r.s, id: id, deaf: r.deaf[id]}, nil
	})
	require.NoError(t, err, "seed=%d", seed)
	r.s = s
	var check func()
	check = func() {
		r.check()
		s.After(probe, check)
	}
	s.At(probe, check)
	return r
}

func (r *syncRun) core(id algorithms.NodeID) *TimeSync { return r.s.Core(id).(clocked).TimeSync }

// check compares every synced drone's swarm time with the leader's, and
// checks that no drone's swarm time ran backwards or faster or slower than
// the slew bound allows since the last probe.
func (r *syncRun) check() {
	s := r.s
	var truth int64
	leaderUp := s.Up(r.leader)
	if leaderUp {
		truth = r.core(r.leader).SwarmTime(int64(s.LocalTime(r.leader)))
	}
	for id := algorithms.NodeID(1); int(id) <= s.N(); id++ {
		if !s.Up(id) {
			continue
		}
		c := r.core(id)
		if !c.Synced() {
			continue
		}
		local := int64(s.LocalTime(id))
		st := c.SwarmTime(local)
		if prev, ok := r.last[id]; ok {
			dl, ds := local-prev[0], st-prev[1]
			if ds <= 0 || math.Abs(float64(ds-dl)) > float64(dl)*c.cfg.SlewPPM/1e6+1 {
				r.jumps++
				r.t.Errorf("seed=%d: drone %d swarm time moved %d ns in %d ns of local time", r.seed, id, ds, dl)
			}
		}
		r.last[id] = [2]int64{local, st}
		if r.measure && leaderUp && c.Leader() == r.leader {
			if e := abs(st - truth); e > r.maxErr {
				r.maxErr = e
				r.worst = fmt.Sprintf("drone %d at %v (%s): error %.2f ms, ErrorBound %.2f ms", id, s.Now(), r.phase, float64(e)/1e6, float64(c.ErrorBoundAt(local))/1e6)
			}
			r.phaseErr[r.phase] = max(r.phaseErr[r.phase], abs(st-truth))
			if b := c.ErrorBoundAt(local); b != math.MaxInt64 {
				r.maxBound = max(r.maxBound, b)
				if abs(st-truth) > b {
					if r.overBound == 0 {
						r.firstOver = fmt.Sprintf("first: drone %d at %v (%s): error %.2f ms, ErrorBound %.2f ms", id, s.Now(), r.phase, float64(abs(st-truth))/1e6, float64(b)/1e6)
					}
					r.overBound++
				}
			}
		}
	}
}

func (r *syncRun) allSynced() bool {
	for id := algorithms.NodeID(1); int(id) <= r.s.N(); id++ {
		if r.s.Up(id) && (!r.core(id).Synced() || len(r.core(id).samples) == 0 && id != r.leader) {
			return false
		}
	}
	return true
}

// changeLeader crashes the leader and, after a while (an election),
// makes next the leader on every live drone.
func (r *syncRun) changeLeader(next algorithms.NodeID, after sim.Time) {
	old := r.leader
	r.s.Crash(old)
	r.s.After(after, func() {
		r.leader = next
		for id := algorithms.NodeID(1); int(id) <= r.s.N(); id++ {
			r.s.Call(id, func(c algorithms.Core) { c.(clocked).SetLeader(next) })
		}
	})
}

// Clocks start up to ±500 ms apart and drift up to ±50 ppm; at 10% loss,
// every drone's estimate of swarm time stays within the stated bound of the
// leader's, across a change of leader, and never jumps.
func TestSwarmTimeBound(t *testing.T) {
	cases := []struct {
		n     int
		tick  sim.Time
		seeds int
		// bound is the stated bound on |swarm time estimate − leader's
		// swarm time| from the first sample on. With the polls alone it
		// was 10 ms at N = 50 and 25 ms at N = 250 (the asymmetry of a
		// round trip, and up to 100 ppm of relative drift between
		// polls 17.4 s or 86.8 s apart; under SKYQUORUM_SOAK=1 the worst
		// were 7.54 ms and 20.28 ms). The leader's beacons, one every
		// 1.74 s, leave 1.09 ms at N = 50 (20 seeds) and 1.02 ms at
		// N = 250: this simulator counts every reply at its longest, 5
		// bytes more than the shortest beacon sent at once (0.87 ms).
		// Every drone's own ErrorBound must hold as well.
		bound sim.Time
	}{
		{50, 10 * sim.Millisecond, 20, 2 * sim.Millisecond},
		{250, 50 * sim.Millisecond, 2, 3 * sim.Millisecond},
	}
	for _, tc := range cases {
		count := max(1, seeds.Count(t, tc.seeds*10)/10)
		var worst, worstBound int64
		for seed := uint64(1); seed <= uint64(count); seed++ {
			r := runSwarmTime(t, tc.n, seed, tc.tick, tc.bound)
			worst, worstBound = max(worst, r.maxErr), max(worstBound, r.maxBound)
		}
		t.Logf("N=%d, %d seeds: clock_error_ms_max %.2f (bound %.0f ms), ErrorBound max %.2f ms", tc.n, count,
			float64(worst)/1e6, tc.bound.Milliseconds(), float64(worstBound)/1e6)
	}
}

// runSwarmTime runs one seed of TestSwarmTimeBound: n drones at 10% loss
// synchronise, run with the drift estimated, then lose their leader.
func runSwarmTime(t *testing.T, n int, seed uint64, tick, bound sim.Time) *syncRun {
	t.Helper()
	r := newSyncRun(t, n, seed, 0.1, tick)
	poll := sim.Time(r.core(2).PollTicks()) * tick
	// Warm up: every drone has a sample (first poll within one
	// period, retries after a lost one).
	ok := r.s.Run(3*poll, r.allSynced)
	require.True(t, ok, "seed=%d N=%d: not every drone synced within %v", seed, n, 3*poll)
	synced := r.s.Now()
	r.measure, r.phase = true, "first polls"
	r.s.Run(synced+4*poll, nil)
	r.phase = "drift estimated"
	r.s.Run(synced+16*poll, nil)
	r.changeLeader(2, 2*sim.Second)
	r.phase = "new leader"
	r.s.Run(r.s.Now()+6*poll, nil)
	t.Logf("seed=%d N=%d max error by phase (ms): first polls %.2f, drift estimated %.2f, new leader %.2f; worst: %s", seed, n,
		float64(r.phaseErr["first polls"])/1e6, float64(r.phaseErr["drift estimated"])/1e6, float64(r.phaseErr["new leader"])/1e6, r.worst)
	t.Logf("seed=%d N=%d poll=%.1fs synced after %.1fs: clock_error_ms_max=%.2f (ErrorBound max %.2f ms, exceeded %d times), airtime share %.4f",
		seed, n, poll.Seconds(), synced.Seconds(), float64(r.maxErr)/1e6, float64(r.maxBound)/1e6, r.overBound,
		r.s.Stats().Airtime.Seconds()/r.s.Now().Seconds())
	require.LessOrEqual(t, r.maxErr, int64(bound), "seed=%d N=%d: clock error above the bound: %s", seed, n, r.worst)
	require.Zero(t, r.jumps, "seed=%d", seed)
	require.Zero(t, r.overBound, "seed=%d: a drone's error exceeded its own ErrorBound; %s", seed, r.firstOver)
	return r
}

// The seeds that the soak campaign of TestSwarmTimeBound found failing:
// at 50 drones, a drone whose estimate left its own ErrorBound 141 times
// (seed 46: a drift estimated from samples 52 s apart, one of them delayed
// 3 ms on one way, was 110 ppm off), and a drone whose first seven polls
// went unanswered, not synchronised within three periods (seed 56); at 250
// drones, drones that lost several polls in a row and drifted 34.9 ms
// away (seed 11) before asking again a period later.
func TestSwarmTimeBoundSeeds(t *testing.T) {
	for _, c := range []struct {
		n           int
		tick, bound sim.Time
		seed        uint64
	}{
		{50, 10 * sim.Millisecond, 2 * sim.Millisecond, 46},
		{50, 10 * sim.Millisecond, 2 * sim.Millisecond, 56},
		{250, 50 * sim.Millisecond, 3 * sim.Millisecond, 11},
	} {
		if c.n > 50 && testing.Short() {
			continue
		}
		t.Run(fmt.Sprintf("N=%d/seed=%d", c.n, c.seed), func(t *testing.T) { runSwarmTime(t, c.n, c.seed, c.tick, c.bound) })
	}
}

// With a tenth of the frames lost, the repeats of lost polls keep to the
// budget: every drone sends at most one request per poll period on
// average.
func TestPollsKeepToTheBudget(t *testing.T) {
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 3)); seed++ {
		r := newSyncRun(t, 20, seed, 0.1, 10*sim.Millisecond)
		poll := sim.Time(r.core(2).PollTicks()) * 10 * sim.Millisecond
		r.s.Run(100*poll, nil)
		requests, replies := 0, 0
		for id := algorithms.NodeID(2); id <= 20; id++ {
			q, p, _ := r.core(id).Counters()
			requests, replies = requests+q, replies+p
		}
		perPeriod := float64(requests) / 19 / 100
		t.Logf("seed=%d: %.3f requests per drone and poll period, %.1f%% unanswered", seed, perPeriod, 100*(1-float64(replies)/float64(requests)))
		require.LessOrEqual(t, perPeriod, 1.0, "seed=%d: time sync above its budget", seed)
	}
}

// The leader crashes, and so does the drone next in line, which restarts
// from its persisted state while there is no leader to ask; then it is
// elected. It serves the swarm time it had, so the followers' error stays
// that of their estimates, not the restarted drone's clock offset (up to
// 500 ms: the show scenario's seed 171 at 20 drones measured 315 ms).
func TestRestartedLeaderKeepsSwarmTime(t *testing.T) {
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 5)); seed++ {
		r := newSyncRun(t, 20, seed, 0.1, 10*sim.Millisecond)
		poll := sim.Time(r.core(2).PollTicks()) * 10 * sim.Millisecond
		require.True(t, r.s.Run(3*poll, r.allSynced), "seed=%d: not synced", seed)
		r.s.Run(r.s.Now()+4*poll, nil)
		r.s.Crash(1)
		r.s.After(5*sim.Second, func() { r.s.Crash(2) })
		r.s.After(11*sim.Second, func() { require.NoError(t, r.s.Restart(2, true), "seed=%d", seed) })
		r.s.Run(r.s.Now()+12*sim.Second, nil)
		r.leader = 2
		for id := algorithms.NodeID(2); id <= 20; id++ {
			r.s.Call(id, func(c algorithms.Core) { c.(clocked).SetLeader(2) })
		}
		r.measure, r.phase = true, "restarted leader"
		r.s.Run(r.s.Now()+4*poll, nil)
		t.Logf("seed=%d: clock_error_ms_max=%.2f after the restarted drone took over", seed, float64(r.maxErr)/1e6)
		require.LessOrEqual(t, r.maxErr, int64(15*sim.Millisecond), "seed=%d: %s", seed, r.worst)
		require.Zero(t, r.jumps, "seed=%d", seed)
		require.Zero(t, r.overBound, "seed=%d: %s", seed, r.firstOver)
	}
}

// The same seed gives the same run: the trace hashes agree.
func TestSameSeedSameTrace(t *testing.T) {
	run := func(seed uint64) string {
		r := newSyncRun(t, 20, seed, 0.1, 10*sim.Millisecond)
		r.s.Run(60*sim.Second, nil)
		return r.s.TraceHash()
	}
	require.Equal(t, run(9), run(9), "seed=9: two runs differ")
	require.NotEqual(t, run(9), run(10))
}

// spread is the largest difference between the swarm times of two live
// synced drones, the leader included.
func (r *syncRun) spread() int64 {
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for id := algorithms.NodeID(1); int(id) <= r.s.N(); id++ {
		if r.s.Up(id) && r.core(id).Synced() {
			st := r.core(id).SwarmTime(int64(r.s.LocalTime(id)))
			lo, hi = min(lo, st), max(hi, st)
		}
	}
	return max(hi-lo, 0)
}

// Every drone asks within 2 s of the start, as a cold swarm's drones
// did once the leader was elected: at 80 and 250 drones the channel is
// swamped and the first replies wait hundreds of ms for it. A drone takes
// the swarm time up only once its samples bound the error within
// SyncError, so from the first sync on the synced drones' swarm times lie
// within 2 × SyncError (40 ms) of each other, where they were spread by
// up to 450 ms (80 drones) and 1.9 s (250 drones) when the first sample
// set the clock whatever its round trip; and every drone syncs. With the
// leader's beacons, which a drone waits for before it takes the swarm
// time up from a poll, within 2 ms (1.13 ms at most at seeds 1-2, 8.4 ms
// at 80 drones when a poll came before the beacons); every drone then
// has a poll sample too, its first poll spread over the poll period once
// the beacons synchronised it.
func TestFirstSyncAllAtOnce(t *testing.T) {
	for _, n := range []int{80, 250} {
		if n > 80 && testing.Short() {
			continue
		}
		for seed := uint64(1); seed <= uint64(seeds.Count(t, 2)); seed++ {
			r := newSyncRunWith(t, n, seed, 0.05, 10*sim.Millisecond, func(c *Config) { c.SyncPollTicks, c.FirstPollTicks, c.AwaitBeacons = 200, 200, true })
			var worst int64
			var at sim.Time
			var check func()
			check = func() {
				if sp := r.spread(); sp > worst {
					worst, at = sp, r.s.Now()
				}
				r.s.After(probe, check)
			}
			r.s.At(probe/2, check)
			ok := r.s.Run(300*sim.Second, r.allSynced)
			synced := r.s.Now()
			r.s.Run(synced+30*sim.Second, nil)
			t.Logf("seed=%d N=%d: every drone synced after %.1f s; clock spread max %.2f ms at %v", seed, n, synced.Seconds(), float64(worst)/1e6, at)
			require.True(t, ok, "seed=%d N=%d: not every drone synced within 5 min", seed, n)
			require.LessOrEqual(t, worst, int64(2*sim.Millisecond), "seed=%d N=%d: synced drones %.2f ms apart at %v", seed, n, float64(worst)/1e6, at)
			require.Zero(t, r.jumps, "seed=%d N=%d", seed, n)
		}
	}
}

// The leader crashes while the drone elected next has not taken the
// swarm time up: deliveries up to 50 ms late each way, its samples do
// not bound its error within its SyncError (set to 1 ns here, so that
// none does). It serves its estimate of the swarm time, and the
// followers keep the swarm time they had while their first samples of
// it are loose, so every follower stays within 40 ms of the new leader,
// and within its ErrorBound (25 ms at most over seeds 1-5). Before, the
// new leader served its own clock, up to 1 s from the followers' swarm
// time: 214 ms here at seed 2, 910 ms in the show at 250 drones. Drone 2
// does not hear the leader's beacons, which would have synchronised it;
// the followers then keep their swarm time until the new leader's
// beacons, late by up to 50 ms, fill their window: within 18.6 ms of it.
func TestUnsyncedNewLeader(t *testing.T) {
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 5)); seed++ {
		r := newSyncRunSim(t, sim.Config{Drones: 20, Seed: seed, Loss: 0.1, Reorder: 50 * sim.Millisecond, Tick: 10 * sim.Millisecond}, func(c *Config) {
			if c.ID == 2 {
				c.SyncError, c.FirstPollTicks = 1, 200
			}
		}, 2)
		poll := sim.Time(r.core(2).PollTicks()) * 10 * sim.Millisecond
		ready := func() bool {
			for id := algorithms.NodeID(3); id <= 20; id++ {
				if !r.core(id).Synced() {
					return false
				}
			}
			return len(r.core(2).samples) > 0
		}
		require.True(t, r.s.Run(4*poll, ready), "seed=%d: followers not synced, or no sample at drone 2", seed)
		require.False(t, r.core(2).Synced(), "seed=%d", seed)
		r.changeLeader(2, 5*sim.Second)
		r.s.Run(r.s.Now()+5*sim.Second, nil)
		r.measure, r.phase = true, "unsynced new leader"
		r.s.Run(r.s.Now()+4*poll, nil)
		t.Logf("seed=%d: clock_error_ms_max=%.2f after drone 2 took over unsynced (%s)", seed, float64(r.maxErr)/1e6, r.worst)
		require.LessOrEqual(t, r.maxErr, int64(40*sim.Millisecond), "seed=%d: %s", seed, r.worst)
		require.Zero(t, r.jumps, "seed=%d", seed)
		require.Zero(t, r.overBound, "seed=%d: %s", seed, r.firstOver)
	}
}

// fullTarget is targetAt without its widening: every sample and beacon
// read again.
func fullTarget(c *TimeSync, t int64) int64 {
	line := c.base + int64(c.freq*float64(t-c.baseAt))
	if lo, hi, ok := c.interval(t); ok {
		return max(lo, min(line, hi))
	}
	if lo, ok := c.beaconLow(t); ok {
		return max(lo, line)
	}
	return line
}

// The widening targetAt keeps gives the target that reading every sample
// and beacon again gives, at every drone every 10 ms, through polls,
// beacons, loss and a change of leader, at drones that hear the beacons
// and drones that do not; and it spares that reading most of the time.
func TestTargetWideningSameTarget(t *testing.T) {
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 3)); seed++ {
		// Drones 5 to 8 hear no beacons: their targets rest on samples.
		r := newSyncRunSim(t, sim.Config{Drones: 8, Seed: seed, Loss: 0.1, Tick: 10 * sim.Millisecond}, nil, 5, 6, 7, 8)
		compared, widened, differ := 0, 0, 0
		var probe func()
		probe = func() {
			for id := algorithms.NodeID(1); int(id) <= r.s.N(); id++ {
				if !r.s.Up(id) {
					continue
				}
				c := r.core(id)
				now := int64(r.s.LocalTime(id))
				want := fullTarget(c, now)
				line := c.base + int64(c.freq*float64(now-c.baseAt))
				if w := c.wide; w.ok && now >= w.from && line >= w.lo && line <= w.hi {
					widened++
				}
				if got := c.targetAt(now); got != want {
					differ++
					if differ <= 3 {
						t.Errorf("seed=%d: drone %d at %d: target %d, reading every sample gives %d", seed, id, now, got, want)
					}
				}
				compared++
			}
			r.s.After(10*sim.Millisecond, probe)
		}
		r.s.At(10*sim.Millisecond, probe)
		r.s.At(60*sim.Second, func() { r.changeLeader(2, 2*sim.Second) })
		r.s.Run(120*sim.Second, nil)
		require.Zero(t, differ, "seed=%d: %d of %d targets differ", seed, differ, compared)
		require.Greater(t, widened, compared/2, "seed=%d: the widening served %d of %d targets", seed, widened, compared)
	}
}

// A new sample that allows fewer offsets than the widening did moves the
// target within them, although the line stays where it was.
func TestTargetWideningForgetsOnNewSample(t *testing.T) {
	c, err := New(Config{ID: 2, Leader: 1, Members: 2, TickNanos: int64(10 * sim.Millisecond), Seed: 1, DriftPPM: 50})
	require.NoError(t, err)
	c.SetClock(1e9)
	c.synced, c.beaconsHeard = true, 1 // keeps the line where it is
	c.samples = []sample{{at: 1e9, offset: 0, rtt: 40e6}}
	c.base, c.baseAt, c.freq = 0, 1e9, 0
	require.Equal(t, int64(0), c.targetAt(1e9), "the line, within ±20 ms of the sample")
	require.True(t, c.wide.ok)

	c.now = 11e8
	c.add(sample{at: 11e8, offset: 15e6, rtt: 2e6})
	got := c.targetAt(12e8)
	require.Equal(t, fullTarget(c, 12e8), got)
	require.GreaterOrEqual(t, got, int64(13e6), "within ±1 ms of the new sample, drift allowed")
}
