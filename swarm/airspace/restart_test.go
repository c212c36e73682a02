package airspace

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/sitl/sim"
)

// A holder that crashes and restarts without state asks for its cell again
// with the same Lamport timestamp as its previous incarnation (both count
// from zero). The voters must not take the new request for the old one:
// the old vote runs out with its lease, and the new incarnation measures
// its own lease from its own tick count. Drone 1 takes cell 3 with stamp
// 1, holds it for 30 s, crashes, restarts at once and asks again with
// stamp 1; drone 2 asks one second later. ME1 holds over lease intervals.
func TestRestartedHolderIsNotItsPast(t *testing.T) {
	const (
		n     = 13
		lease = 1000 // ticks: 10 s
		seed  = 1
	)
	s := newLockSim(t, n, seed, 0, lease)
	o := newOccupancy(s)
	var acquired []sim.Time
	o.also = func(id algorithms.NodeID, ev algorithms.Event) {
		if _, ok := ev.(Acquired); ok && id == 2 {
			acquired = append(acquired, s.Now())
		}
	}
	s.Call(1, func(c algorithms.Core) { require.NoError(t, c.(*Locks).Acquire([]Cell{3})) })
	ok := s.Run(30*sim.Second, func() bool { return locks(s, 1).Holding() })
	require.True(t, ok, "seed=%d: drone 1 never got cell 3", seed)
	took := s.Now()
	require.Equal(t, uint32(1), locks(s, 1).Clock(), "seed=%d: drone 1's first request is not stamped 1", seed)
	s.Run(took+30*sim.Second, nil)
	require.True(t, locks(s, 1).Holding(), "seed=%d: drone 1 lost cell 3 before its crash", seed)
	o.crash(1)
	require.NoError(t, s.Restart(1, false), "seed=%d", seed)
	restarted := s.Now()
	s.Call(1, func(c algorithms.Core) { require.NoError(t, c.(*Locks).Acquire([]Cell{3})) })
	require.Equal(t, uint32(1), locks(s, 1).Clock(), "seed=%d: the restarted drone 1 does not ask with stamp 1 again", seed)
	s.After(sim.Second, func() {
		s.Call(2, func(c algorithms.Core) { require.NoError(t, c.(*Locks).Acquire([]Cell{3})) })
	})
	// The new incarnation holds the cell for 20 s once it has it, then
	// releases it; drone 2 then gets it.
	var got1 sim.Time = -1
	var watch func()
	watch = func() {
		if locks(s, 1).Holding() {
			got1 = s.Now()
			s.After(20*sim.Second, func() { o.release(1) })
			return
		}
		s.After(simTick, watch)
	}
	s.After(simTick, watch)
	s.Run(restarted+120*sim.Second, nil)
	require.Zero(t, s.Stats().Violations["me1"], "seed=%d: ME1 violated after drone 1 restarted at %v", seed, restarted)
	require.NotEmpty(t, acquired, "seed=%d: drone 2 never got cell 3", seed)
	require.Positive(t, got1, "seed=%d: the restarted drone 1 never got cell 3", seed)
	require.Greater(t, acquired[0], got1, "seed=%d: drone 2 got cell 3 at %v, before drone 1 (restarted at %v, granted at %v)", seed, acquired[0], restarted, got1)
	t.Logf("drone 1 took cell 3 at %v, restarted at %v and took it again at %v; drone 2 got it at %v", took, restarted, got1, acquired[0])
}
