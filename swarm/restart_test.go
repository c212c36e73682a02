package swarm_test

import (
	"encoding/binary"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/sitl/sim"
	"github.com/skyquorum/skyquorum/sitl/sim/seeds"
	"github.com/skyquorum/skyquorum/swarm"
	"github.com/skyquorum/skyquorum/swarm/airspace"
)

func persistNode(t *testing.T, inc uint32, restored []byte) *swarm.Node {
	t.Helper()
	n, err := swarm.New(swarm.Config{
		ID: 1, Members: []algorithms.NodeID{1, 2, 3}, Incarnation: inc,
		TickNanos: int64(10 * sim.Millisecond), Baud: 57600, Key: key,
	}, restored)
	require.NoError(t, err)
	return n
}

// The airspace locks' Lamport clock and the incarnation survive a restart
// with state: the restarted drone stamps its requests after those of its
// previous incarnation, and, when its driver gives it no incarnation,
// runs as the next one.
func TestPersistKeepsAirspaceClock(t *testing.T) {
	n := persistNode(t, 7, nil)
	for range 3 {
		require.NoError(t, n.Locks().Acquire([]airspace.Cell{1}))
		require.NoError(t, n.Locks().Release())
	}
	require.Equal(t, uint32(3), n.Locks().Clock())
	state := n.Persist()

	again := persistNode(t, 0, state)
	assert.Equal(t, uint32(8), again.Incarnation(), "the persisted incarnation plus one")
	assert.GreaterOrEqual(t, again.Locks().Clock(), uint32(3), "the Lamport clock was not restored")
	require.NoError(t, again.Locks().Acquire([]airspace.Cell{1}))
	assert.Greater(t, again.Locks().Clock(), uint32(3))

	given := persistNode(t, 42, state)
	assert.Equal(t, uint32(42), given.Incarnation(), "the driver's incarnation comes first")
}

// State persisted before the airspace part existed (version 1: the
// command log and the emergency core) is still read; malformed airspace
// parts are refused with ErrBadState. Version 2 (without the swarm time)
// is read too.
func TestPersistedStateVersions(t *testing.T) {
	n := persistNode(t, 3, nil)
	v1 := []byte{'S', 1}
	for _, part := range [][]byte{n.Log().Persist(), n.Emergency().Persist()} {
		v1 = binary.BigEndian.AppendUint32(v1, uint32(len(part)))
		v1 = append(v1, part...)
	}
	old := persistNode(t, 5, v1)
	assert.Equal(t, uint32(5), old.Incarnation())
	assert.Equal(t, uint32(0), old.Locks().Clock())

	// A node without swarm time persists an empty time part (4 bytes of
	// length 0) after its 12-byte airspace part.
	v3 := n.Persist()
	require.Equal(t, byte(3), v3[1])
	require.Equal(t, []byte{0, 0, 0, 0}, v3[len(v3)-4:])
	v2 := append([]byte{'S', 2}, v3[2:len(v3)-4]...)
	two := persistNode(t, 0, v2)
	assert.Equal(t, uint32(4), two.Incarnation(), "version 2 is still read")
	air := v2[len(v2)-12:] // length and the airspace part
	for name, bad := range map[string][]byte{
		"short airspace part": append(append(append([]byte{}, v2[:len(v2)-12]...), 0, 0, 0, 4), air[4:8]...),
		"version 4":           append([]byte{'S', 4}, v3[2:]...),
		"version 1 with a third part": append(append(append([]byte{}, v1...), 0, 0, 0, 8),
			air[4:]...),
		"version 2 with a fourth part": append(append([]byte{}, v2...), 0, 0, 0, 0),
		"truncated":                    v3[:len(v3)-1],
	} {
		_, err := swarm.New(swarm.Config{ID: 1, Members: []algorithms.NodeID{1, 2, 3}, TickNanos: int64(10 * sim.Millisecond), Key: key}, bad)
		assert.ErrorIs(t, err, swarm.ErrBadState, name)
	}
}

// A holder whose companion computer restarts with an empty state
// directory gets no incarnation from the simulator: its driver draws a
// boot nonce, which may be lower than the previous one. Drone 1 takes
// cell 3, holds it for 30 s, crashes, restarts at once without state and
// asks for cell 3 again (its first request again: stamp 1); drone 2 asks
// a second later. Every live drone's membership knows drone 1 by its new
// incarnation, and no drone is granted the cell while another holds it.
func TestRestartWithoutStateOrIncarnation(t *testing.T) {
	count := seeds.Count(t, 10)
	lower := 0
	for seed := uint64(1); seed <= uint64(count); seed++ {
		// The driver's own randomness, apart from the simulator's.
		boot := rand.New(rand.NewPCG(seed, 0xb007))
		nonces := map[algorithms.NodeID][]uint32{}
		s, ids := swarmOf(t, sim.Config{Drones: 13, Seed: seed, Loss: 0.05}, func(c *swarm.Config) {
			c.Incarnation = boot.Uint32()
			nonces[c.ID] = append(nonces[c.ID], c.Incarnation)
		})
		cell := []airspace.Cell{3}
		holding := map[algorithms.NodeID]bool{}
		var until sim.Time = -1 // the crashed incarnation's lease end
		var granted2, regranted1 sim.Time = -1, -1
		s.OnEvent(func(id algorithms.NodeID, ev algorithms.Event) {
			switch ev.(type) {
			case airspace.Acquired:
				for other, h := range holding {
					if h && other != id {
						s.Violation("me1", "drone %d granted cell 3 while drone %d holds it", id, other)
					}
				}
				if id != 1 && s.Now() < until {
					s.Violation("me1", "drone %d granted cell 3 at %v, before the crashed holder's lease ended at %v", id, s.Now(), until)
				}
				holding[id] = true
				if id == 2 && granted2 < 0 {
					granted2 = s.Now()
				}
				if id == 1 && until >= 0 && regranted1 < 0 {
					regranted1 = s.Now()
				}
			case airspace.Expired:
				holding[id] = false
			}
		})
		locksOf := func(id algorithms.NodeID) *airspace.Locks { return s.Core(id).(clocked).Locks() }
		s.At(15*sim.Second, func() {
			s.Call(1, func(c algorithms.Core) { require.NoError(t, c.(clocked).Locks().Acquire(cell)) })
		})
		ok := s.Run(40*sim.Second, func() bool { return locksOf(1).Holding() })
		require.True(t, ok, "seed=%d: drone 1 never got cell 3", seed)
		s.Run(s.Now()+30*sim.Second, nil)
		require.True(t, locksOf(1).Holding(), "seed=%d: drone 1 lost cell 3 before its crash", seed)
		l := locksOf(1)
		at, _ := l.LeaveBy()
		until = s.Now() + sim.Time(at-l.Now()+l.MarginTicks())*10*sim.Millisecond
		s.Crash(1)
		holding[1] = false
		require.NoError(t, s.Restart(1, false), "seed=%d", seed)
		restarted := s.Now()
		inc := nonces[1][len(nonces[1])-1]
		if inc < nonces[1][0] {
			lower++
		}
		s.Call(1, func(c algorithms.Core) { require.NoError(t, c.(clocked).Locks().Acquire(cell)) })
		s.After(sim.Second, func() {
			s.Call(2, func(c algorithms.Core) { require.NoError(t, c.(clocked).Locks().Acquire(cell)) })
		})
		// Whoever gets the cell holds it for 10 s, then releases it.
		for _, id := range []algorithms.NodeID{1, 2} {
			var watch func()
			watch = func() {
				if locksOf(id).Holding() {
					s.After(10*sim.Second, func() {
						holding[id] = false
						require.NoError(t, locksOf(id).Release())
					})
					return
				}
				s.After(10*sim.Millisecond, watch)
			}
			s.After(10*sim.Millisecond, watch)
		}
		s.Run(restarted+90*sim.Second, nil)
		require.Zero(t, s.Stats().Violations["me1"], "seed=%d: two drones in cell 3 after drone 1 restarted at %v (incarnation %#x, before %#x)", seed, restarted, inc, nonces[1][0])
		require.Positive(t, regranted1, "seed=%d: the restarted drone 1 never got cell 3 again", seed)
		require.Positive(t, granted2, "seed=%d: drone 2 never got cell 3", seed)
		for _, id := range ids[1:] {
			got, known := s.Core(id).(clocked).Membership().Incarnation(1)
			require.True(t, known && got == inc, "seed=%d: drone %d knows drone 1 as incarnation %#x, not %#x", seed, id, got, inc)
		}
	}
	t.Logf("%d seeds, %d restarts with a lower incarnation than before: 0 ME1", count, lower)
	require.Positive(t, lower, "no seed restarted drone 1 with a lower incarnation")
}

// A drone that restarts from its persisted state while no leader is
// there to ask takes up the swarm time it had (its clock ran on), so that
// if it is elected it serves the swarm's time, not its own clock. Drone
// 4 follows leader 5 at a clock offset; both crash, 4 restarts from its
// state 3 s later and is synchronised at once, within a few ms of the
// swarm time it had.
func TestPersistKeepsSwarmTime(t *testing.T) {
	s, _ := swarmOf(t, sim.Config{Drones: 5, Seed: 2, ClockOffset: 300 * sim.Millisecond, ClockDriftPPM: 50})
	s.Run(60*sim.Second, nil)
	four := func() *swarm.Node { return s.Core(4).(clocked).Node }
	require.True(t, four().TimeSync().Synced(), "drone 4 follows the leader's time")
	local := int64(s.LocalTime(4))
	before := four().SwarmTime(local)
	s.Crash(5)
	s.Crash(4)
	s.Run(63*sim.Second, nil)
	require.NoError(t, s.Restart(4, true))
	s.Run(63*sim.Second+50*sim.Millisecond, nil)
	require.True(t, four().TimeSync().Synced(), "the restarted drone took up its swarm time")
	later := int64(s.LocalTime(4))
	drift := four().SwarmTime(later) - before - (later - local)
	assert.Less(t, max(drift, -drift), int64(10*sim.Millisecond), "swarm time moved by %d ns across the restart", drift)
}
