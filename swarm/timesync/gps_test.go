package timesync

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/sitl/sim"
	"github.com/skyquorum/skyquorum/sitl/sim/seeds"
)

// gpsRun is a swarm running only time sync, in one or more radio networks
// (each with its own leader, the first drone of its block), whose drones
// read GPS time every second, as the runner passes the flight
// controller's: the simulator's true time, late by 0 to 2 ms (the serial
// link and the flight controller's scheduling). A checker probes every drone's swarm time
// every 100 ms.
type gpsRun struct {
	t        *testing.T
	s        *sim.Sim
	seed     uint64
	per      int                 // drones per network
	leader   []algorithms.NodeID // per network
	noGPS    map[algorithms.NodeID]bool
	last     map[algorithms.NodeID][2]int64
	jumps    int
	maxJump  float64 // largest |Δswarm − Δlocal| / Δlocal of a leader, ppm
	measure  bool
	maxErr   int64 // followers against their leader, while measuring
	worst    string
	over     int // probes where a follower's error exceeded its ErrorBound
	firstOvr string
	// gaps: each network leader's swarm time minus GPS time at the last
	// probe; spread: the largest difference between two drones' swarm
	// times at one probe, across networks, while measuring.
	gaps   []int64
	spread int64
}

func newGPSRun(t *testing.T, n, networks int, seed uint64, gpsSlewPPM float64) *gpsRun {
	t.Helper()
	r := &gpsRun{t: t, seed: seed, per: n / networks, noGPS: map[algorithms.NodeID]bool{},
		last: map[algorithms.NodeID][2]int64{}, gaps: make([]int64, networks)}
	for k := range networks {
		r.leader = append(r.leader, algorithms.NodeID(k*r.per+1))
	}
	tick := 10 * sim.Millisecond
	s, err := sim.New(sim.Config{
		Drones: n, Networks: networks, Seed: seed, Loss: 0.1, Tick: tick,
		ClockOffset: 500 * sim.Millisecond, ClockDriftPPM: 50,
	}, func(id algorithms.NodeID, restored []byte) (algorithms.Core, error) {
		ts, err := New(Config{ID: id, Leader: r.leaderOf(id), Members: r.per, TickNanos: int64(tick), Seed: seed,
			DriftPPM: 50, GPSSlewPPM: gpsSlewPPM, Restored: restored})
		if err != nil {
			return nil, err
		}
		return clocked{TimeSync: ts, s: &r.s, id: id}, nil
	})
	require.NoError(t, err, "seed=%d", seed)
	r.s = s
	noise := rand.New(rand.NewPCG(seed, 0x6795))
	var feed, check func()
	feed = func() {
		for id := algorithms.NodeID(1); int(id) <= n; id++ {
			if !s.Up(id) {
				continue
			}
			local, gps := int64(s.LocalTime(id)), int64(s.Now())-noise.Int64N(int64(2*sim.Millisecond))
			s.Call(id, func(c algorithms.Core) {
				if r.noGPS[id] {
					c.(clocked).LoseGPS()
				} else {
					c.(clocked).SetGPSTime(local, gps)
				}
			})
		}
		s.After(sim.Second, feed)
	}
	check = func() {
		r.check()
		s.After(probe, check)
	}
	s.At(sim.Second, feed)
	s.At(probe, check)
	return r
}

func (r *gpsRun) leaderOf(id algorithms.NodeID) algorithms.NodeID {
	return r.leader[(int(id)-1)/r.per]
}

func (r *gpsRun) core(id algorithms.NodeID) *TimeSync { return r.s.Core(id).(clocked).TimeSync }

func (r *gpsRun) check() {
	s := r.s
	lo, hi := int64(math.MaxInt64), int64(math.MinInt64)
	for id := algorithms.NodeID(1); int(id) <= s.N(); id++ {
		if !s.Up(id) || !r.core(id).Synced() {
			continue
		}
		c := r.core(id)
		local := int64(s.LocalTime(id))
		st := c.SwarmTime(local)
		if prev, ok := r.last[id]; ok {
			dl, ds := local-prev[0], st-prev[1]
			if id == r.leaderOf(id) {
				r.maxJump = max(r.maxJump, math.Abs(float64(ds-dl))/float64(dl)*1e6)
			}
			if ds <= 0 || math.Abs(float64(ds-dl)) > float64(dl)*c.cfg.SlewPPM/1e6+1 {
				r.jumps++
				r.t.Errorf("seed=%d: drone %d swarm time moved %d ns in %d ns of local time", r.seed, id, ds, dl)
			}
		}
		r.last[id] = [2]int64{local, st}
		l := r.leaderOf(id)
		if id == l {
			r.gaps[(int(id)-1)/r.per] = st - int64(s.Now())
		}
		if !r.measure {
			continue
		}
		lo, hi = min(lo, st), max(hi, st)
		if id == l || !s.Up(l) || c.Leader() != l {
			continue
		}
		truth := r.core(l).SwarmTime(int64(s.LocalTime(l)))
		e := abs(st - truth)
		if e > r.maxErr {
			r.maxErr = e
			r.worst = fmt.Sprintf("drone %d at %v: error %.2f ms", id, s.Now(), float64(e)/1e6)
		}
		if b := c.ErrorBoundAt(local); b != math.MaxInt64 && e > b {
			if r.over == 0 {
				r.firstOvr = fmt.Sprintf("drone %d at %v: error %.2f ms, ErrorBound %.2f ms", id, s.Now(), float64(e)/1e6, float64(b)/1e6)
			}
			r.over++
		}
	}
	if r.measure && hi >= lo {
		r.spread = max(r.spread, hi-lo)
	}
}

// setHold tells every drone whether a show holds the gap to GPS time, as
// swarm.Node does from the commands applied.
func (r *gpsRun) setHold(hold bool) {
	for id := algorithms.NodeID(1); int(id) <= r.s.N(); id++ {
		r.s.Call(id, func(c algorithms.Core) { c.(clocked).HoldGPSGap(hold) })
	}
}

// setLeader crashes network 0's leader and makes next the leader on every
// live drone of the network after a while (an election).
func (r *gpsRun) setLeader(next algorithms.NodeID, after sim.Time) {
	r.s.Crash(r.leader[0])
	r.s.After(after, func() {
		r.leader[0] = next
		for id := algorithms.NodeID(1); int(id) <= r.per; id++ {
			r.s.Call(id, func(c algorithms.Core) { c.(clocked).SetLeader(next) })
		}
	})
}

func ms64(v int64) float64 { return float64(v) / 1e6 }

// A leader whose clock is 400 ms ahead of GPS time and runs 50 ppm fast
// brings the swarm time it serves to GPS time by slewing: at GPSSlewPPM
// (plus its clock's drift) of the elapsed time and never faster, so that
// no drone's swarm time jumps. Once there, the gap stays within 0.5 ms
// (the readings are late by 0 to 2 ms: what is left is the error of the
// line fitted to them). At the default rate (DriftPPM, 50 ppm here) it takes
// 400 ms / 50 ppm = 8000 s and every follower's ErrorBound holds
// throughout; at 1000 ppm it takes 400 s, and while it does the followers
// lag by up to 1000 ppm of a poll period beyond their ErrorBound.
func TestGPSConvergence(t *testing.T) {
	for _, tc := range []struct {
		rate   float64
		seeds  int
		honest bool // the followers' ErrorBound holds throughout
	}{
		{1000, 3, false},
		{0, 1, true}, // the default, DriftPPM
	} {
		rate := tc.rate
		if rate == 0 {
			rate = 50
		}
		converge := sim.Time(400e-3/(rate*1e-6)) * sim.Second
		for seed := uint64(1); seed <= uint64(seeds.Count(t, tc.seeds)); seed++ {
			r := newGPSRun(t, 10, 1, seed, tc.rate)
			r.s.SetClock(1, 400*sim.Millisecond, 50)
			r.measure = true
			// Halfway, the gap has closed at the rate.
			r.s.Run(converge/2, nil)
			// GPS time counts once the readings span 30 s (from 1 s on);
			// until then the leader's clock gains 50 ppm.
			want := 400 + 50e-6*31e3 - rate*1e-6*float64(converge/2-31*sim.Second)/1e6
			require.InDelta(t, want, ms64(r.gaps[0]), 1, "seed=%d rate=%v: gap halfway", seed, rate)
			r.s.Run(converge+150*sim.Second, nil)
			gapAt := ms64(r.gaps[0])
			r.s.Run(r.s.Now()+300*sim.Second, nil)
			t.Logf("seed=%d GPSSlewPPM=%v: gap to GPS %.3f ms after %v, %.3f ms 300 s later; followers' error max %.2f ms (%s), over their ErrorBound %d probes (%s); swarm time rate against local time off by %.0f ppm at most",
				seed, rate, gapAt, converge+150*sim.Second, ms64(r.gaps[0]), ms64(r.maxErr), r.worst, r.over, r.firstOvr, r.maxJump)
			require.InDelta(t, 0, gapAt, 0.5, "seed=%d rate=%v: not converged to GPS time", seed, rate)
			require.InDelta(t, 0, ms64(r.gaps[0]), 0.5, "seed=%d rate=%v: left GPS time", seed, rate)
			require.Zero(t, r.jumps, "seed=%d", seed)
			require.LessOrEqual(t, r.maxJump, rate+2*50+1, "seed=%d: swarm time ran faster than the GPS slew allows", seed)
			if tc.honest {
				require.Zero(t, r.over, "seed=%d: %s", seed, r.firstOvr)
				require.LessOrEqual(t, r.maxErr, int64(10*sim.Millisecond), "seed=%d: %s", seed, r.worst)
			} else {
				// The leader moves 1000 ppm of a follower's time between
				// two answered polls (3.5 s, longer after lost ones).
				require.LessOrEqual(t, r.maxErr, int64(30*sim.Millisecond), "seed=%d: %s", seed, r.worst)
			}
		}
	}
}

// While a show holds the gap to GPS time, the leader serves GPS time plus
// that gap, at GPS time's rate (its own clock's 50 ppm taken out); GPS lost
// and back mid-show, and changes of leader between drones with and
// without GPS time, make no drone's swarm time (so no show time) jump.
func TestGPSGapHeld(t *testing.T) {
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 3)); seed++ {
		r := newGPSRun(t, 10, 1, seed, 1000)
		r.s.SetClock(1, 30*sim.Millisecond, 50)
		r.noGPS[2] = true
		r.s.Run(120*sim.Second, nil)
		r.measure = true
		r.setHold(true)
		r.s.Run(r.s.Now()+sim.Second, nil)
		held := r.gaps[0]
		// Frozen: the gap stays (the swarm time is GPS time's, shifted).
		var moved int64
		for range 300 {
			r.s.Run(r.s.Now()+sim.Second, nil)
			moved = max(moved, abs(r.gaps[0]-held))
		}
		require.LessOrEqual(t, moved, int64(sim.Millisecond), "seed=%d: the held gap moved by %.3f ms", seed, ms64(moved))
		// GPS lost for 60 s: the leader's own clock, 50 ppm off, for 3 ms.
		r.noGPS[1] = true
		r.s.Run(r.s.Now()+60*sim.Second, nil)
		lost := r.gaps[0]
		r.noGPS[1] = false
		r.s.Run(r.s.Now()+120*sim.Second, nil)
		back := r.gaps[0]
		require.InDelta(t, ms64(held)+3, ms64(lost), 0.5, "seed=%d: after 60 s without GPS time", seed)
		// GPS time counts again once its readings span 30 s: 1.5 ms more
		// of the leader's clock, then the gap is held where it is.
		require.InDelta(t, ms64(lost)+1.5, ms64(back), 1, "seed=%d: GPS back: the gap is held where it was", seed)
		// Leader 1 (GPS) → 2 (no GPS) → 3 (GPS), still held.
		r.setLeader(2, 3*sim.Second)
		r.s.Run(r.s.Now()+120*sim.Second, nil)
		r.setLeader(3, 3*sim.Second)
		r.s.Run(r.s.Now()+120*sim.Second, nil)
		t.Logf("seed=%d: held gap %.3f ms moved %.3f ms in 300 s; 60 s without GPS: %.3f ms, back: %.3f ms; via leader 2 (no GPS) to 3: %.3f ms; followers' error max %.2f ms (%s), over ErrorBound %d",
			seed, ms64(held), ms64(moved), ms64(lost), ms64(back), ms64(r.gaps[0]), ms64(r.maxErr), r.worst, r.over)
		require.Zero(t, r.jumps, "seed=%d", seed)
		require.Zero(t, r.over, "seed=%d: %s", seed, r.firstOvr)
		require.LessOrEqual(t, r.maxErr, int64(10*sim.Millisecond), "seed=%d: %s", seed, r.worst)
		// Released (the show is over), leader 3 closes the gap again.
		r.setHold(false)
		r.s.Run(r.s.Now()+sim.Time(float64(abs(r.gaps[0]))/1000e-6)+60*sim.Second, nil)
		require.InDelta(t, 0, ms64(r.gaps[0]), 0.5, "seed=%d: released, not back to GPS time", seed)
	}
}

// Two radio networks, each with its own leader, both with GPS time: once
// both have closed their gaps, every drone of either network has the
// same swarm time within the stated bound, so one START takes effect at
// once on both. The bound is the followers' error within their network
// (a few ms at 10% loss) on either side, and the leaders' gaps to GPS
// time (0.5 ms each).
func TestGPSNetworksAgree(t *testing.T) {
	for _, tc := range []struct {
		per, seeds int
		bound      sim.Time // between two drones, across the networks
	}{
		{10, 3, 10 * sim.Millisecond},
		{50, 1, 15 * sim.Millisecond}, // polls every 17 s
	} {
		var worst, worstGap int64
		count := seeds.Count(t, tc.seeds)
		for seed := uint64(1); seed <= uint64(count); seed++ {
			r := newGPSRun(t, 2*tc.per, 2, seed, 1000)
			// Clocks start up to 500 ms apart: 500 s at 1000 ppm, then
			// a few polls for the followers.
			r.s.Run(700*sim.Second, nil)
			r.measure = true
			r.s.Run(r.s.Now()+300*sim.Second, nil)
			t.Logf("seed=%d N=2×%d: leaders' gaps to GPS %.3f and %.3f ms; largest difference between two drones' swarm times %.2f ms; within a network %.2f ms",
				seed, tc.per, ms64(r.gaps[0]), ms64(r.gaps[1]), ms64(r.spread), ms64(r.maxErr))
			require.InDelta(t, 0, ms64(r.gaps[0]), 0.5, "seed=%d", seed)
			require.InDelta(t, 0, ms64(r.gaps[1]), 0.5, "seed=%d", seed)
			require.LessOrEqual(t, r.spread, int64(tc.bound), "seed=%d N=2×%d: networks apart", seed, tc.per)
			require.Zero(t, r.jumps, "seed=%d", seed)
			worst = max(worst, r.spread)
			// Every drone sees its swarm time is GPS time, from its own
			// GPS readings.
			for id := algorithms.NodeID(1); int(id) <= r.s.N(); id++ {
				gap, ok := r.core(id).GPSGap()
				require.True(t, ok, "seed=%d: drone %d knows no gap to GPS time", seed, id)
				require.LessOrEqual(t, abs(gap), int64(tc.bound/2), "seed=%d: drone %d: gap to GPS time %.2f ms", seed, id, ms64(gap))
				worstGap = max(worstGap, abs(gap))
			}
		}
		t.Logf("N=2×%d, %d seeds: largest difference between two drones' swarm times across networks: %.2f ms; largest gap a drone saw between its swarm time and its GPS time: %.2f ms",
			tc.per, count, ms64(worst), ms64(worstGap))
	}
}

// GPSSlewPPM must leave room for twice the drift bound within SlewPPM, so
// that the leader's swarm time never runs off its clock by more than
// SlewPPM; its default is DriftPPM, or less where SlewPPM leaves less.
func TestGPSSlewConfig(t *testing.T) {
	for _, tc := range []struct {
		drift, gps, want float64
		ok               bool
	}{
		{0, 0, DefaultDriftPPM, true},
		{200, 0, 200, true},
		{4000, 0, 2000, true},
		{100, 9800, 9800, true},
		{100, 9801, 0, false},
		{100, -1, 0, false},
	} {
		c, err := New(Config{ID: 1, DriftPPM: tc.drift, GPSSlewPPM: tc.gps})
		if !tc.ok {
			require.ErrorIs(t, err, ErrConfig, "DriftPPM %v GPSSlewPPM %v", tc.drift, tc.gps)
			continue
		}
		require.NoError(t, err, "DriftPPM %v GPSSlewPPM %v", tc.drift, tc.gps)
		require.InDelta(t, tc.want, c.cfg.GPSSlewPPM, 1e-9, "DriftPPM %v", tc.drift)
	}
}
