package scenario

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/sitl/sim"
)

// A show run reports its progress in simulated time, about once per
// simulated second and once at the end, and is the same run with the
// callback as without it.
func TestShowProgress(t *testing.T) {
	const seed = 3
	sh := Show{Common: Common{Drones: 8, Seed: seed}, Networks: 1, Duration: 30 * sim.Second, Settle: 5 * sim.Second}
	plain, err := RunShow(sh)
	require.NoError(t, err, "seed=%d", seed)

	var done []sim.Time
	sh.Progress = func(d, total sim.Time) {
		assert.Equal(t, 35*sim.Second, total, "seed=%d", seed)
		done = append(done, d)
	}
	observed, err := RunShow(sh)
	require.NoError(t, err, "seed=%d", seed)
	assert.Equal(t, plain.TraceHash, observed.TraceHash, "seed=%d: the callback only observes", seed)
	assert.Equal(t, plain.CommandsCommitted, observed.CommandsCommitted, "seed=%d", seed)

	require.NotEmpty(t, done, "seed=%d", seed)
	assert.Equal(t, sim.Time(0), done[0], "seed=%d", seed)
	assert.Equal(t, 35*sim.Second, done[len(done)-1], "seed=%d: the end is reported", seed)
	for i := 1; i < len(done)-1; i++ {
		assert.GreaterOrEqual(t, done[i]-done[i-1], sim.Second, "seed=%d: at most once per simulated second", seed)
	}
	assert.InDelta(t, 36, len(done), 2, "seed=%d: about once per simulated second", seed)
}
