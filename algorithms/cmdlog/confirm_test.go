package cmdlog

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
)

// An idle leader stays confirmed, as its committee acknowledges its
// beacons now and then, and keeps every drone caught up; a leader cut off
// from its committee loses its confirmation within Confirm ticks, and the
// drones that still hear it stop counting as caught up.
func TestConfirmation(t *testing.T) {
	cfg := harnessConfig(3)
	cfg.Confirm = 200
	sw := newSwarm(t, 1, 7, cfg, nil)
	sw.elect(7, 1)
	sw.net.RunTicks(5)
	require.True(t, sw.log(7).Leading())
	sw.propose(7, "a")
	sw.net.RunTicks(5)
	acksBefore := 0
	for range 100 {
		sw.net.RunTicks(10)
		require.True(t, sw.log(7).confirmed(), "an idle leader lost its confirmation")
		for _, id := range ids(6) {
			since, ok := sw.log(id).SinceCaughtUp()
			require.True(t, ok, "drone %d", id)
			require.LessOrEqual(t, since, int64(8*cfg.Beacon+1), "drone %d", id)
		}
		acksBefore = max(acksBefore, int(sw.log(7).heardAt[6]))
	}
	assert.Positive(t, acksBefore)
	// Drone 6 is the member a majority needs besides the leader; drone 5
	// overhears its acknowledgements and keeps quiet, until drone 6
	// stops acknowledging.
	assert.Less(t, sw.log(7).heardAt[5], int64(10), "drone 5 acknowledged beside drone 6")
	sw.net.Drop = func(from, _ algorithms.NodeID, m algorithms.Message) bool {
		_, ack := m.(Ack)
		return ack && from == 6
	}
	for range 2 * cfg.Confirm / 10 {
		sw.net.RunTicks(10)
		require.True(t, sw.log(7).confirmed(), "an idle leader lost its confirmation without drone 6")
	}
	assert.Greater(t, sw.log(7).heardAt[5], int64(acksBefore), "drone 5 took over")
	sw.net.Drop = nil

	// The committee (5 and 6) no longer hears the leader.
	sw.slots[5].dead, sw.slots[6].dead = true, true
	sw.net.RunTicks(cfg.Confirm + 1)
	assert.False(t, sw.log(7).confirmed(), "a leader without a committee majority is confirmed")
	sw.net.RunTicks(cfg.Confirm)
	for _, id := range []algorithms.NodeID{1, 2, 3, 4} {
		since, ok := sw.log(id).SinceCaughtUp()
		require.True(t, ok)
		assert.Greater(t, since, int64(cfg.Confirm), "drone %d still caught up by an unconfirmed leader", id)
	}
	since, _ := sw.log(7).SinceCaughtUp()
	assert.Greater(t, since, int64(cfg.Confirm), "the unconfirmed leader counts itself caught up")
}

// SinceBehind counts how long a drone has known of an entry it has not
// applied: while the committee does not answer, at the leader and at the
// learners that took the APPEND; back to 0 once the entry commits.
func TestSinceBehind(t *testing.T) {
	sw := newSwarm(t, 1, 7, harnessConfig(3), nil)
	sw.elect(7, 1)
	sw.net.RunTicks(5)
	require.True(t, sw.log(7).Leading())
	for _, id := range ids(7) {
		assert.Zero(t, sw.log(id).SinceBehind(), "drone %d", id)
	}
	sw.slots[5].dead, sw.slots[6].dead = true, true // no majority
	sw.propose(7, "held up")
	sw.net.RunTicks(30)
	assert.GreaterOrEqual(t, sw.log(7).SinceBehind(), int64(29))
	assert.GreaterOrEqual(t, sw.log(1).SinceBehind(), int64(29), "a learner that took the APPEND")
	sw.slots[5].dead, sw.slots[6].dead = false, false
	sw.net.RunTicks(60)
	for _, id := range ids(7) {
		assert.Zero(t, sw.log(id).SinceBehind(), "drone %d after the commit", id)
	}
}
