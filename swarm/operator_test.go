package swarm_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/cmdlog"
	"github.com/skyquorum/skyquorum/sitl/sim"
	"github.com/skyquorum/skyquorum/sitl/sim/seeds"
	"github.com/skyquorum/skyquorum/swarm"
	"github.com/skyquorum/skyquorum/swarm/command"
)

// Old entries, plain command.Encode, still decode, without a name; an
// operator entry decodes to its name and command.
func TestDecodeEntry(t *testing.T) {
	plain, err := swarm.DecodeEntry(command.Encode(command.Lights{R: 1, G: 2, B: 3}))
	require.NoError(t, err)
	assert.Equal(t, swarm.Entry{Command: command.Lights{R: 1, G: 2, B: 3}}, plain)

	id := swarm.OperatorID{Issuer: 65000, Seq: 0x01020304}
	data := swarm.EncodeOperator(id, command.Takeoff{AltitudeCM: 250})
	assert.Len(t, data, 7+3)
	op, err := swarm.DecodeEntry(data)
	require.NoError(t, err)
	assert.Equal(t, swarm.Entry{Operator: id, Command: command.Takeoff{AltitudeCM: 250}}, op)

	_, err = swarm.DecodeEntry(data[:5])
	assert.ErrorIs(t, err, command.ErrMalformed)
	bad, err := swarm.DecodeEntry(data[:8]) // a TAKEOFF cut short
	assert.ErrorIs(t, err, command.ErrMalformed)
	assert.Equal(t, id, bad.Operator, "the name of a malformed operator command is still read")
}

// An operator command committed three times under one name, twice by the
// first leader and once more by its successor after the first leader
// crashed, is carried out once at every drone, at the index of its first
// entry, and skipped at the other two: also by a drone restarted from its
// state, one restarted without state (it learns the log from scratch),
// and the old leader restarted from its state.
func TestOperatorCommandAppliedOnce(t *testing.T) {
	id := swarm.OperatorID{Issuer: 65000, Seq: 7}
	other := swarm.OperatorID{Issuer: 65000, Seq: 8}
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 3)); seed++ {
		s, ids := swarmOf(t, sim.Config{Drones: 5, Seed: seed, Loss: 0.05, ClockOffset: 100 * sim.Millisecond, ClockDriftPPM: 50})
		// What each drone did with the two names in its current run:
		// the indexes carried out and skipped.
		type seen struct{ executed, skipped []uint32 }
		runs := map[algorithms.NodeID]map[swarm.OperatorID]*seen{}
		reset := func(d algorithms.NodeID) {
			runs[d] = map[swarm.OperatorID]*seen{id: {}, other: {}}
		}
		for _, d := range ids {
			reset(d)
		}
		s.OnEvent(func(d algorithms.NodeID, ev algorithms.Event) {
			switch ev := ev.(type) {
			case swarm.Executed:
				if r := runs[d][ev.Operator]; r != nil {
					r.executed = append(r.executed, ev.Index)
				}
			case swarm.Duplicate:
				if r := runs[d][ev.Operator]; r != nil {
					r.skipped = append(r.skipped, ev.Index)
				}
			}
		})
		leading := func() algorithms.NodeID {
			for _, d := range ids {
				if s.Up(d) && s.Core(d).(clocked).Log().Log().Leading() {
					return d
				}
			}
			return 0
		}
		propose := func(at sim.Time, op swarm.OperatorID, c command.Command) {
			s.At(at, func() {
				l := leading()
				require.NotZero(t, l, "seed=%d: no leader at %v", seed, at)
				s.Call(l, func(c0 algorithms.Core) {
					_, err := c0.(clocked).ProposeOperator(op, c)
					require.NoError(t, err, "seed=%d", seed)
				})
			})
		}
		first := ids[len(ids)-1]
		propose(20*sim.Second, id, command.Lights{R: 7})
		propose(20*sim.Second, id, command.Lights{R: 7})
		propose(21*sim.Second, other, command.Lights{G: 8})
		var found cmdlog.Position
		s.At(25*sim.Second, func() { s.Crash(first) })
		s.At(50*sim.Second, func() {
			l := leading()
			require.NotZero(t, l, "seed=%d: no leader after the failover", seed)
			require.NotEqual(t, first, l, "seed=%d", seed)
			var committed, ok bool
			found, committed, ok = s.Core(l).(clocked).FindOperator(id)
			require.True(t, ok && committed, "seed=%d: the new leader %d does not hold %v committed", seed, l, id)
		})
		propose(50*sim.Second, id, command.Lights{R: 7})
		// Restarts: drone 2 from its state, drone 1 without, the old
		// leader from its state.
		s.At(60*sim.Second, func() { s.Crash(2); s.Crash(1) })
		s.At(62*sim.Second, func() {
			for _, d := range []algorithms.NodeID{1, 2, first} {
				reset(d) // a restarted drone applies its log again
			}
			require.NoError(t, s.Restart(2, true))
			require.NoError(t, s.Restart(1, false))
			require.NoError(t, s.Restart(first, true))
		})
		s.Run(120*sim.Second, nil)

		for _, d := range ids {
			n := s.Core(d).(clocked)
			p, committed, ok := n.FindOperator(id)
			require.True(t, ok && committed, "seed=%d drone %d: %v not in its log", seed, d, id)
			assert.Equal(t, found, p, "seed=%d drone %d: the first entry of %v", seed, d, id)
			r := runs[d][id]
			assert.Equal(t, []uint32{p.Index}, r.executed, "seed=%d drone %d: %v carried out at", seed, d, id)
			assert.Len(t, r.skipped, 2, "seed=%d drone %d: %v skipped at %v", seed, d, id, r.skipped)
			for _, i := range r.skipped {
				assert.Greater(t, i, p.Index, "seed=%d drone %d", seed, d)
			}
			o := runs[d][other]
			assert.Len(t, o.executed, 1, "seed=%d drone %d: %v carried out at", seed, d, other)
			assert.Empty(t, o.skipped, "seed=%d drone %d", seed, d)
		}
	}
}

// ProposeOperator refuses what Propose refuses, and issuers that are no
// vehicle ID; FindOperator finds the first entry of a name.
func TestProposeOperatorRefusesAndFinds(t *testing.T) {
	n, err := swarm.New(swarm.Config{ID: 1, Members: []algorithms.NodeID{1}, TickNanos: int64(10 * sim.Millisecond), Baud: 57600, Key: key}, nil)
	require.NoError(t, err)
	id := swarm.OperatorID{Issuer: 65000, Seq: 1}
	_, err = n.ProposeOperator(id, command.View{Epoch: 1, Retired: 2, Replacement: 3})
	assert.ErrorIs(t, err, swarm.ErrSystemCommand)
	_, err = n.ProposeOperator(id, command.Takeoff{})
	assert.ErrorIs(t, err, command.ErrMalformed)
	_, err = n.ProposeOperator(swarm.OperatorID{Issuer: 0, Seq: 1}, command.Land{})
	assert.ErrorIs(t, err, swarm.ErrBadIssuer)
	_, err = n.ProposeOperator(swarm.OperatorID{Issuer: 65535, Seq: 1}, command.Land{})
	assert.ErrorIs(t, err, swarm.ErrBadIssuer)
	_, _, ok := n.FindOperator(id)
	assert.False(t, ok)
}

// A ground station is no member: of its messages the node takes only
// time-sync requests and emergency commands.
func TestNonMemberOnlyAsksTime(t *testing.T) {
	n, err := swarm.New(swarm.Config{ID: 1, Members: []algorithms.NodeID{1, 2, 3}, TickNanos: int64(10 * sim.Millisecond), Baud: 57600, Key: key}, nil)
	require.NoError(t, err)
	err = n.Step(65000, cmdlog.Ack{Term: 1})
	assert.ErrorIs(t, err, swarm.ErrNotMember)
}
