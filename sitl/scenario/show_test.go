package scenario

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/sitl/sim"
	"github.com/skyquorum/skyquorum/sitl/sim/seeds"
)

// The whole node, fault-free: one leader, every command applied by every
// drone in one order, airspace entries without two drones in a cell, and
// membership within its airtime budget.
func TestShowFaultFree(t *testing.T) {
	r, err := RunShow(Show{Common: Common{Drones: 30, Seed: 2}, Networks: 1, Duration: 90 * sim.Second})
	require.NoError(t, err)
	assert.False(t, r.Failed(), "seed=2: %+v", r)
	assert.Equal(t, 30, r.Leader)
	assert.Equal(t, 1, r.LeadersPerTermMax)
	assert.Positive(t, r.CommandsCommitted)
	assert.Equal(t, r.CommandsCommitted, r.CommandsAppliedMin)
	assert.Positive(t, r.LockEntries)
	assert.Zero(t, r.ME1Violations)
	assert.LessOrEqual(t, r.HeartbeatAirtimeShare, 0.05)
	assert.Positive(t, r.ClockErrorMsMax)
}

// Loss, clock offset and drift, a leader crash and other crashes with
// restarts: nothing committed is lost or reordered and no two drones share
// a cell, over a handful of seeds (the long campaign of the issue is not
// reached yet; see the note).
func TestShowUnderFaults(t *testing.T) {
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 20)); seed++ {
		r, err := RunShow(Show{
			Common:   Common{Drones: 20, Seed: seed, Loss: 0.1},
			Networks: 1, Duration: 120 * sim.Second, CrashLeader: true, Crash: 0.05, Restart: true,
			ClockOffset: 500 * sim.Millisecond, ClockDrift: 50,
		})
		require.NoError(t, err)
		assert.Zero(t, r.LostCommitted, "seed=%d", seed)
		assert.Zero(t, r.OrderViolations, "seed=%d", seed)
		assert.Zero(t, r.ME1Violations, "seed=%d", seed)
	}
}
