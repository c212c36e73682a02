package station_test

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/skyquorum/skyquorum/cmd/groundstation/station"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/swarm/command"
)

// LOAD passes the gate when every live drone reports holding the show it
// names, ARM when every live drone holds the loaded show; a silent drone
// does not count, other commands always pass, and the refusal names each
// drone that lacks the show and what it holds.
func TestShowGate(t *testing.T) {
	const digest = 0x1122334455667788
	loaded := swarm.SWARM_MEMBER_FLAGS_SHOW_LOADED
	sn := station.Snapshot{Drones: []station.Drone{
		{ID: 1, Live: true, Show: digest, Flags: loaded},
		{ID: 2, Live: true, Show: 0x99},
		{ID: 3, Live: true},
		{ID: 4, Live: false}, // silent: not counted
	}}
	err := station.ShowGate(sn, command.Load{Show: 1, Digest: digest})
	assert.True(t, errors.Is(err, station.ErrShowNotHeld), "%v", err)
	assert.ErrorContains(t, err, "2 live drones lack show 0x1122334455667788: 2 (holds 0x0000000000000099), 3 (holds none)")
	assert.Equal(t, []uint16{2, 3}, station.Lacking(sn, command.Load{Show: 1, Digest: digest}))
	err = station.ShowGate(sn, command.Arm{})
	assert.ErrorContains(t, err, "2 live drones lack the loaded show: 2 (holds 0x0000000000000099), 3 (holds none)")
	assert.ErrorContains(t, station.ShowGate(sn, command.Load{Show: 1}), "names no digest")
	assert.NoError(t, station.ShowGate(sn, command.Lights{R: 1}))

	sn.Drones[1].Show, sn.Drones[2].Show = digest, digest
	assert.NoError(t, station.ShowGate(sn, command.Load{Show: 1, Digest: digest}))
	assert.Empty(t, station.Lacking(sn, command.Load{Show: 1, Digest: digest}))
	sn.Drones[1].Flags, sn.Drones[2].Flags = loaded, loaded
	assert.NoError(t, station.ShowGate(sn, command.Arm{}))
}
