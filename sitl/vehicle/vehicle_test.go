package vehicle

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func fly(v *Vehicle, seconds float64) {
	for range int(seconds * 10) {
		v.Advance(0.1)
	}
}

func TestTakeoffGotoLand(t *testing.T) {
	v := New(Point{1, 2, 0}, Limits{SpeedXY: 5, SpeedUp: 2, SpeedDown: 1})
	assert.ErrorIs(t, v.Goto(Point{1, 2, 10}), ErrNotArmed)
	require.NoError(t, v.Arm())
	require.NoError(t, v.Goto(Point{1, 2, 10}))
	fly(v, 4)
	assert.InDelta(t, 8, v.Position().Z, 1e-9, "climbs at 2 m/s")
	fly(v, 2)
	assert.Equal(t, Holding, v.Mode(), "holds at the setpoint")
	require.NoError(t, v.Goto(Point{51, 2, 10}))
	fly(v, 5)
	assert.InDelta(t, 26, v.Position().X, 1e-6, "5 m/s horizontally")
	v.Land()
	fly(v, 20)
	assert.Equal(t, Disarmed, v.Mode())
	assert.InDelta(t, 0, v.Position().Z, 1e-9)
	assert.InDelta(t, 10+25+10, v.Odometer(), 1e-6)
}

func TestReturnHome(t *testing.T) {
	v := New(Point{0, 0, 0}, Limits{})
	require.NoError(t, v.Arm())
	require.NoError(t, v.Goto(Point{30, 40, 20}))
	fly(v, 30)
	v.Return()
	assert.Equal(t, Returning, v.Mode())
	fly(v, 60)
	assert.Equal(t, Disarmed, v.Mode())
	assert.Equal(t, Point{0, 0, 0}, v.Position())
}

func TestHoldStops(t *testing.T) {
	v := New(Point{}, Limits{})
	require.NoError(t, v.Arm())
	require.NoError(t, v.Goto(Point{100, 0, 10}))
	fly(v, 3)
	p := v.Position()
	v.Hold()
	fly(v, 3)
	assert.Equal(t, p, v.Position())
}
