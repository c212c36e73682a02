package autopilot

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestModes(t *testing.T) {
	for _, tc := range []struct {
		ap     Autopilot
		custom uint32
		mode   Mode
		name   string
	}{
		{ArduPilot, 4, ModeGuided, "GUIDED"},
		{ArduPilot, 5, ModeHold, "LOITER"},
		{ArduPilot, 6, ModeReturn, "RTL"},
		{ArduPilot, 9, ModeLand, "LAND"},
		{ArduPilot, 17, ModeBrake, "BRAKE"},
		{ArduPilot, 0, ModeOther, "STABILIZE"},
		{PX4, 0x00060000, ModeOffboard, "OFFBOARD"},
		{PX4, 0x03040000, ModeHold, "AUTO.LOITER"},
		{PX4, 0x05040000, ModeReturn, "AUTO.RTL"},
		{PX4, 0x06040000, ModeLand, "AUTO.LAND"},
		{PX4, 0x02040000, ModeTakeoff, "AUTO.TAKEOFF"},
		{PX4, 0x00030000, ModeOther, "POSCTL"},
	} {
		assert.Equal(t, tc.mode, DecodeMode(tc.ap, tc.custom), "%v %#x", tc.ap, tc.custom)
		assert.Equal(t, tc.name, ModeName(tc.ap, tc.custom))
		if tc.mode == ModeOther {
			continue
		}
		p1, p2, p3, err := setModeParams(tc.ap, tc.mode)
		require.NoError(t, err)
		assert.Equal(t, float32(1), p1, "MAV_MODE_FLAG_CUSTOM_MODE_ENABLED")
		if tc.ap == ArduPilot {
			assert.Equal(t, float32(tc.custom), p2)
		} else {
			main, sub := PX4Modes(tc.custom)
			assert.Equal(t, float32(main), p2)
			assert.Equal(t, float32(sub), p3)
			assert.Equal(t, tc.custom, PX4CustomMode(main, sub))
		}
	}
	_, _, _, err := setModeParams(ArduPilot, ModeOffboard)
	assert.Error(t, err)
	_, _, _, err = setModeParams(Unknown, ModeLand)
	assert.ErrorIs(t, err, ErrUnknownAutopilot)
}
