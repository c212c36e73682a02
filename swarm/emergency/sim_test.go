package emergency

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/sitl/sim"
	"github.com/skyquorum/skyquorum/sitl/sim/seeds"
)

const (
	simTick = 10 * sim.Millisecond
	// issuer plays the ground station: drone 1 runs the same core and
	// issues; the others obey.
	issuer algorithms.NodeID = 1
)

type emRun struct {
	s       *sim.Sim
	obeyed  map[algorithms.NodeID]map[uint32]sim.Time
	forged  bool // a forged command was obeyed by a drone that did not issue it
	deliver sim.Time
	missing []algorithms.NodeID // Unacknowledged's list, if the issuer gave up
}

func newEmRun(t *testing.T, n int, seed uint64, loss float64, keyOf func(algorithms.NodeID) []byte) *emRun {
	t.Helper()
	r := &emRun{obeyed: map[algorithms.NodeID]map[uint32]sim.Time{}, deliver: -1}
	s, err := sim.New(sim.Config{Drones: n, Seed: seed, Loss: loss, Tick: simTick},
		func(id algorithms.NodeID, state []byte) (algorithms.Core, error) {
			k := key
			if keyOf != nil {
				k = keyOf(id)
			}
			return New(Config{ID: id, Key: k, Members: ids(n), Seed: seed, State: state})
		})
	require.NoError(t, err, "seed=%d", seed)
	s.OnEvent(func(id algorithms.NodeID, ev algorithms.Event) {
		switch ev := ev.(type) {
		case Obey:
			if !Verify(key, ev.Cmd) && ev.Cmd.Issuer != id {
				r.forged = true
			}
			if r.obeyed[id] == nil {
				r.obeyed[id] = map[uint32]sim.Time{}
			}
			if _, again := r.obeyed[id][ev.Cmd.ID]; again {
				s.Violation("idempotence", "drone %d obeyed command %d twice", id, ev.Cmd.ID)
			}
			r.obeyed[id][ev.Cmd.ID] = s.Now()
		case Delivered:
			r.deliver = s.Now()
		case Unacknowledged:
			r.deliver, r.missing = s.Now(), ev.Missing
		}
	})
	r.s = s
	return r
}

func (r *emRun) issue(op Op) (Command, sim.Time) {
	var cmd Command
	at := r.s.Now()
	r.s.Call(issuer, func(c algorithms.Core) { cmd = c.(*Core).Issue(op) })
	return cmd, at
}

// allObeyed reports whether every live drone obeyed command id.
func (r *emRun) allObeyed(id uint32) bool {
	for d := algorithms.NodeID(1); int(d) <= r.s.N(); d++ {
		if r.s.Up(d) {
			if _, ok := r.obeyed[d][id]; !ok {
				return false
			}
		}
	}
	return true
}

// At 20% loss, every live drone obeys LAND within the bound, over many
// seeds at N = 50 and a few at N = 250; a tenth of the drones are down.
func TestEveryLiveDroneObeys(t *testing.T) {
	cases := []struct {
		n, seeds int
		bound    sim.Time
	}{
		{50, 100, 500 * sim.Millisecond},
		{250, 5, 500 * sim.Millisecond},
	}
	for _, tc := range cases {
		count := seeds.Count(t, tc.seeds)
		var worst, worstDeliver sim.Time
		frames := 0
		for seed := uint64(1); seed <= uint64(count); seed++ {
			r := newEmRun(t, tc.n, seed, 0.2, nil)
			for range tc.n / 10 {
				id := algorithms.NodeID(2 + r.s.Rand().IntN(tc.n-1))
				r.s.Crash(id)
				// The issuer's failure detector (package membership in
				// the swarm node) reports it down.
				r.s.Notify(issuer, id, false, true)
			}
			r.s.Run(sim.Second, nil)
			cmd, at := r.issue(Land)
			ok := r.s.Run(at+10*sim.Second, func() bool { return r.allObeyed(cmd.ID) })
			require.True(t, ok, "seed=%d N=%d: not every live drone obeyed in 10 s", seed, tc.n)
			var last sim.Time
			for id := algorithms.NodeID(1); int(id) <= tc.n; id++ {
				if r.s.Up(id) {
					last = max(last, r.obeyed[id][cmd.ID]-at)
				}
			}
			require.LessOrEqual(t, last, tc.bound, "seed=%d N=%d: last drone obeyed after %v", seed, tc.n, last)
			worst = max(worst, last)
			r.s.Run(at+60*sim.Second, nil)
			require.GreaterOrEqual(t, r.deliver, sim.Time(0), "seed=%d N=%d: the issuer never finished", seed, tc.n)
			for _, id := range r.missing {
				require.False(t, r.s.Up(id), "seed=%d N=%d: live drone %d never acknowledged", seed, tc.n, id)
			}
			st := r.s.Stats()
			require.Zero(t, st.Violations["idempotence"], "seed=%d", seed)
			require.False(t, r.forged, "seed=%d", seed)
			frames = max(frames, st.DataFrames+st.AckFrames)
			worstDeliver = max(worstDeliver, r.deliver-at)
		}
		t.Logf("N=%d, 20%% loss, %d seeds: every live drone obeyed within %v (bound %v); at most %d frames (relays, repeats, acks) per command; every live drone's acknowledgement in, and the issuer done, within %v",
			tc.n, count, worst, tc.bound, frames, worstDeliver)
	}
}

// A command signed with another key, sent by a rogue drone, is never
// obeyed, by anyone, and is counted as forged; a replay of an old command
// after a newer one is rejected, also after a restart from persisted
// state.
func TestForgedAndReplayedNeverObeyed(t *testing.T) {
	const n = 30
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 20)); seed++ {
		rogue := algorithms.NodeID(n)
		r := newEmRun(t, n, seed, 0.2, func(id algorithms.NodeID) []byte {
			if id == rogue {
				return []byte("not the swarm key, but long enough")
			}
			return key
		})
		r.s.Call(rogue, func(c algorithms.Core) { c.(*Core).Issue(Return) })
		r.s.Run(5*sim.Second, nil)
		for id, cmds := range r.obeyed {
			if id != rogue {
				require.Empty(t, cmds, "seed=%d: drone %d obeyed the rogue's command", seed, id)
			}
		}
		forged := 0
		for id := algorithms.NodeID(1); id < rogue; id++ {
			forged += r.s.Core(id).(*Core).Counters().Forged
		}
		require.Positive(t, forged, "seed=%d", seed)

		hold, _ := r.issue(Hold)
		r.s.Run(r.s.Now()+3*sim.Second, func() bool { return r.allObeyed(hold.ID) })
		land, _ := r.issue(Land)
		r.s.Run(r.s.Now()+3*sim.Second, func() bool { return r.allObeyed(land.ID) })
		require.NoError(t, nil)
		r.s.Crash(7)
		require.NoError(t, r.s.Restart(7, true))
		for _, id := range []algorithms.NodeID{2, 7} {
			err := r.s.Core(id).Step(issuer, Emergency{Cmd: hold})
			require.ErrorIs(t, err, ErrReplayed, "seed=%d: drone %d", seed, id)
		}
		require.False(t, r.forged, "seed=%d", seed)
	}
}

// With or without a majority: drones cut off with the issuer obey at
// once; the rest obey as soon as the partition heals, from the issuer's
// repeats and the relays.
func TestMinorityObeys(t *testing.T) {
	const n = 40
	r := newEmRun(t, n, 5, 0.2, nil)
	minority := []algorithms.NodeID{1, 2, 3, 4, 5}
	r.s.Partition(minority)
	cmd, at := r.issue(Hold)
	r.s.Run(at+sim.Second, nil)
	for _, id := range minority[1:] {
		require.Contains(t, r.obeyed[id], cmd.ID, "seed=5: drone %d in the minority", id)
	}
	require.Empty(t, r.obeyed[10], "seed=5: drone 10 is cut off")
	r.s.Heal()
	healed := r.s.Now()
	ok := r.s.Run(healed+5*sim.Second, func() bool { return r.allObeyed(cmd.ID) })
	require.True(t, ok, "seed=5: not every drone obeyed after the partition healed")
	t.Logf("seed=5: every drone obeyed %v after the partition healed", r.s.Now()-healed)
}

// The same seed gives the same run: the trace hashes agree.
func TestSameSeedSameTrace(t *testing.T) {
	run := func(seed uint64) string {
		r := newEmRun(t, 30, seed, 0.2, nil)
		r.issue(Hold)
		r.s.Run(20*sim.Second, nil)
		return r.s.TraceHash()
	}
	require.Equal(t, run(9), run(9), "seed=9: two runs differ")
	require.NotEqual(t, run(9), run(10))
}
