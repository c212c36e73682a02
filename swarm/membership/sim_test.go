package membership

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/sitl/sim"
	"github.com/skyquorum/skyquorum/sitl/sim/seeds"
)

// swarmRun is one simulated network running only membership.
type swarmRun struct {
	s     *sim.Sim
	cfg   Config
	downs map[[2]algorithms.NodeID][]sim.Time // (observer, suspect) → times
	ups   int
}

func newSwarm(t *testing.T, n int, seed uint64, loss float64, tick sim.Time, base Config) *swarmRun {
	t.Helper()
	r := &swarmRun{downs: map[[2]algorithms.NodeID][]sim.Time{}}
	restarts := map[algorithms.NodeID]uint32{}
	s, err := sim.New(sim.Config{Drones: n, Seed: seed, Loss: loss, Tick: tick},
		func(id algorithms.NodeID, _ []byte) (algorithms.Core, error) {
			cfg := base
			cfg.ID, cfg.Members, cfg.TickNanos, cfg.Seed = id, ids(n), int64(tick), seed
			cfg.Incarnation = restarts[id]
			restarts[id]++
			r.cfg = cfg
			return New(cfg)
		})
	require.NoError(t, err, "seed=%d", seed)
	s.OnEvent(func(id algorithms.NodeID, ev algorithms.Event) {
		switch ev := ev.(type) {
		case Down:
			k := [2]algorithms.NodeID{id, ev.ID}
			r.downs[k] = append(r.downs[k], s.Now())
		case Up:
			r.ups++
		}
	})
	r.s = s
	return r
}

// At N = 250, 57600 baud, signed, the heartbeats of the whole network take
// at most the configured 5% of the channel, and a crashed drone is
// suspected by every other drone within the timeout.
func TestHeartbeatShareAt250(t *testing.T) {
	const (
		n    = 250
		tick = 100 * sim.Millisecond
		seed = 1
	)
	r := newSwarm(t, n, seed, 0, tick, Config{})
	m0 := r.s.Core(1).(*Membership)
	period := sim.Time(m0.PeriodTicks()) * tick
	timeout := sim.Time(m0.TimeoutTicks()) * tick
	t.Logf("N=%d period=%v timeout=%v (missed=%d)", n, period, timeout, m0.cfg.Missed)

	// Steady state: from the end of the first period (every drone has
	// sent its first heartbeat at a random point of it) to 20 periods.
	var airAtStart sim.Time
	r.s.At(period, func() { airAtStart = r.s.Stats().AirtimeByNetwork[0] })
	end := 20 * period
	r.s.Run(end, nil)
	st := r.s.Stats()
	whole := float64(st.AirtimeByNetwork[0]) / float64(r.s.Now())
	steady := float64(st.AirtimeByNetwork[0]-airAtStart) / float64(r.s.Now()-period)
	t.Logf("seed=%d heartbeat_airtime_share whole run %.4f, steady state %.4f, %d heartbeat frames in %v",
		seed, whole, steady, st.HeartbeatFrames, r.s.Now())
	require.Equal(t, st.Frames(), 0, "seed=%d: only heartbeats on air", seed)
	require.LessOrEqual(t, steady, DefaultShare, "seed=%d: steady-state share above the budget", seed)
	// The first period adds at most one heartbeat per drone.
	require.LessOrEqual(t, whole, DefaultShare*(1+float64(period)/float64(r.s.Now())), "seed=%d", seed)
	require.Greater(t, steady, 0.9*DefaultShare/(1+DefaultJitter), "seed=%d: budget badly underused", seed)
	require.Empty(t, r.downs, "seed=%d: false suspicion without loss", seed)

	// Crash drone 17: every live drone suspects it within the timeout
	// (and not before Missed−1 intervals have passed).
	crash := r.s.Now()
	r.s.Crash(17)
	r.s.Run(crash+timeout+2*period, nil)
	var lo, hi sim.Time = 1 << 62, 0
	for obs := algorithms.NodeID(1); obs <= n; obs++ {
		if obs == 17 {
			continue
		}
		d := r.downs[[2]algorithms.NodeID{obs, 17}]
		require.Len(t, d, 1, "seed=%d: drone %d saw %d Down(17)", seed, obs, len(d))
		lo, hi = min(lo, d[0]-crash), max(hi, d[0]-crash)
	}
	t.Logf("seed=%d detection after crash: min %.1f s, max %.1f s (timeout %.1f s)", seed, lo.Seconds(), hi.Seconds(), timeout.Seconds())
	require.LessOrEqual(t, hi, timeout+tick, "seed=%d", seed)
	require.GreaterOrEqual(t, lo, sim.Time(m0.cfg.Missed-1)*period, "seed=%d", seed)
	require.Len(t, r.downs, n-1, "seed=%d: only drone 17 suspected", seed)
}

// At 10% frame loss, with Missed chosen for a false-suspicion probability
// of 1e-9 per heartbeat and receiver, no live drone is ever suspected over
// many seeds; with Missed = 2 (too few for the loss) suspicions do happen,
// which shows the test can fail.
func TestNoFalseSuspicionAtLoss(t *testing.T) {
	const (
		n       = 30
		loss    = 0.1
		tick    = 50 * sim.Millisecond
		periods = 60
	)
	missed := MissedFor(loss, 1e-9)
	require.Equal(t, 9, missed)
	count := seeds.Count(t, 100)
	exposures := 0
	for seed := uint64(1); seed <= uint64(count); seed++ {
		r := newSwarm(t, n, seed, loss, tick, Config{Missed: missed})
		period := sim.Time(r.s.Core(1).(*Membership).PeriodTicks()) * tick
		r.s.Run(periods*period, nil)
		exposures += r.s.Stats().HeartbeatFrames * (n - 1)
		for k, at := range r.downs {
			t.Fatalf("seed=%d: drone %d suspected live drone %d at %v", seed, k[0], k[1], at[0])
		}
		require.Zero(t, r.ups, "seed=%d", seed)
	}
	t.Logf("%d seeds, %d heartbeat receptions at risk, missed=%d: 0 false suspicions (expected ≤ %.3f)",
		count, exposures, missed, float64(exposures)*1e-9)

	r := newSwarm(t, n, 1, loss, tick, Config{Missed: 2})
	period := sim.Time(r.s.Core(1).(*Membership).PeriodTicks()) * tick
	r.s.Run(periods*period, nil)
	t.Logf("seed=1 missed=2: %d false suspicions", len(r.downs))
	require.NotEmpty(t, r.downs, "seed=1: missed=2 at 10%% loss should suspect someone")
}

// A restarted drone is reported Down and Up by every other drone (its
// incarnation grew), and a drone cut off by a partition is suspected, then
// welcomed back when the partition heals.
func TestRestartAndPartition(t *testing.T) {
	const (
		n    = 20
		tick = 50 * sim.Millisecond
		seed = 3
	)
	r := newSwarm(t, n, seed, 0, tick, Config{Missed: 3})
	m0 := r.s.Core(1).(*Membership)
	period := sim.Time(m0.PeriodTicks()) * tick
	timeout := sim.Time(m0.TimeoutTicks()) * tick
	r.s.Run(3*period, nil)
	r.s.Crash(5)
	r.s.Run(r.s.Now()+period, nil) // shorter than the timeout
	require.NoError(t, r.s.Restart(5, false))
	r.s.Run(r.s.Now()+2*period, nil)
	for obs := algorithms.NodeID(1); obs <= n; obs++ {
		if obs != 5 {
			require.Len(t, r.downs[[2]algorithms.NodeID{obs, 5}], 1, "seed=%d: drone %d", seed, obs)
		}
	}
	require.Equal(t, n-1, r.ups, "seed=%d", seed)

	r.s.Partition([]algorithms.NodeID{9})
	cut := r.s.Now()
	r.s.Run(cut+timeout+period, nil)
	for obs := algorithms.NodeID(1); obs <= n; obs++ {
		if obs != 9 {
			d := r.downs[[2]algorithms.NodeID{obs, 9}]
			require.Len(t, d, 1, "seed=%d: drone %d", seed, obs)
			require.LessOrEqual(t, d[0]-cut, timeout+tick, "seed=%d", seed)
		}
	}
	require.False(t, r.s.Core(9).(*Membership).IsAlive(1), "seed=%d: the cut-off drone suspects the rest", seed)
	r.s.Heal()
	r.s.Run(r.s.Now()+2*period, nil)
	for obs := algorithms.NodeID(1); obs <= n; obs++ {
		require.Len(t, r.s.Core(obs).(*Membership).Alive(), n, "seed=%d: drone %d", seed, obs)
	}
}

// The same seed gives the same run: the trace hashes agree.
func TestSameSeedSameTrace(t *testing.T) {
	run := func(seed uint64) string {
		r := newSwarm(t, 20, seed, 0.1, 50*sim.Millisecond, Config{Missed: 2})
		r.s.Crash(4)
		r.s.Run(120*sim.Second, nil)
		return r.s.TraceHash()
	}
	require.Equal(t, run(9), run(9), "seed=9: two runs differ")
	require.NotEqual(t, run(9), run(10))
}
