package vehicle

import (
	"errors"
	"math"
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

// A lost link: the vehicle holds where it is for the failsafe delay, then
// lands straight down at its descent speed and disarms, and stays in
// failsafe until its drone commands it again.
func TestLinkLostHoldsThenLands(t *testing.T) {
	v := New(Point{}, Limits{SpeedDown: 2, FailsafeDelay: 3})
	require.NoError(t, v.Arm())
	require.NoError(t, v.Goto(Point{20, 0, 10}))
	fly(v, 2)
	at := v.Position()
	assert.InDelta(t, 12, at.X, 1e-6)
	v.LinkLost()
	assert.True(t, v.Failsafe())
	assert.Equal(t, Holding, v.Mode())
	fly(v, 2.9)
	assert.Equal(t, at, v.Position(), "holds for the 3 s delay")
	fly(v, 0.2)
	assert.Equal(t, Landing, v.Mode(), "lands after the delay")
	fly(v, 1)
	assert.InDelta(t, at.Z-2, v.Position().Z, 0.21, "down at 2 m/s")
	assert.Equal(t, at.X, v.Position().X, "straight down")
	fly(v, 5)
	assert.Equal(t, Disarmed, v.Mode())
	assert.Equal(t, Point{at.X, at.Y, 0}, v.Position())
	assert.True(t, v.Failsafe(), "in failsafe until commanded")
	require.NoError(t, v.Arm())
	assert.False(t, v.Failsafe(), "a command takes control back")

	// The default delay is 5 s, and a command in the hold ends the failsafe.
	w := New(Point{}, Limits{})
	require.NoError(t, w.Arm())
	require.NoError(t, w.Goto(Point{0, 0, 10}))
	fly(w, 5)
	w.LinkLost()
	fly(w, 4.9)
	assert.Equal(t, Holding, w.Mode())
	assert.InDelta(t, 10, w.Position().Z, 1e-9)
	fly(w, 0.2)
	assert.Equal(t, Landing, w.Mode())
	require.NoError(t, w.Goto(Point{0, 0, 10}))
	assert.False(t, w.Failsafe())
	fly(w, 10)
	assert.Equal(t, Holding, w.Mode())
	assert.InDelta(t, 10, w.Position().Z, 1e-9)

	// On the ground a lost link disarms.
	g := New(Point{}, Limits{})
	require.NoError(t, g.Arm())
	g.LinkLost()
	assert.Equal(t, Disarmed, g.Mode())
}

// A vehicle following a setpoint that moves at constant speed stays on it
// once it has caught up, and on a circle (centripetal acceleration
// v²/r = 1.25 m/s², within its 5 m/s²) within a few centimetres.
func TestFollowTracksMovingSetpoint(t *testing.T) {
	v := New(Point{}, Limits{})
	if err := v.Follow(Point{Z: 1}, Point{}); !errors.Is(err, ErrNotArmed) {
		t.Fatalf("follow while disarmed: %v", err)
	}
	if err := v.Arm(); err != nil {
		t.Fatal(err)
	}
	const dt = 0.1
	// Climb to 10 m along a ramp at 2 m/s, then a circle of radius 5 m at
	// 2.5 m/s.
	worst := 0.0
	for i := 0; i < 600; i++ {
		tm := float64(i) * dt
		var pos, vel Point
		if tm < 5 {
			pos, vel = Point{5, 0, 2 * tm}, Point{0, 0, 2}
		} else {
			a := (tm - 5) * 0.5
			pos, vel = Point{5 * math.Cos(a), 5 * math.Sin(a), 10}, Point{-2.5 * math.Sin(a), 2.5 * math.Cos(a), 0}
		}
		if i > 0 && tm > 8 { // caught up by then
			worst = max(worst, v.Position().Dist(pos))
		}
		if err := v.Follow(pos, vel); err != nil {
			t.Fatal(err)
		}
		v.Advance(dt)
	}
	if worst > 0.1 {
		t.Errorf("tracking error up to %.3f m on the circle, want under 0.1 m", worst)
	}
	// The limits hold: a setpoint 100 m away is approached at 6 m/s.
	p := v.Position()
	_ = v.Follow(Point{p.X + 100, p.Y, 10}, Point{})
	for range 50 {
		v.Advance(dt)
	}
	if got := v.Velocity(); math.Hypot(got.X, got.Y) > 6+1e-9 || got.X < 5.9 {
		t.Errorf("velocity towards a far setpoint %v, want the 6 m/s limit", got)
	}
	// Without new setpoints it stops where the last one led.
	for range 300 {
		v.Advance(dt)
	}
	if got := v.Position(); math.Abs(got.X-(p.X+100)) > 0.01 {
		t.Errorf("stopped at X %.3f, want %.3f", got.X, p.X+100)
	}
}
