// Package vehicle is the simulator's multicopter: a point that flies
// towards its setpoint at bounded horizontal and vertical speeds, with the
// modes a flight controller gives a companion computer (disarmed, armed on
// the ground, flying to a setpoint, tracking a moving one, holding,
// landing, returning home). It is enough kinematics to check airspace
// separation and show timing. FC (fc.go) puts a vehicle behind the MAVLink
// a real ArduPilot or PX4 flight controller speaks.
//
// It is deterministic and reads no clock: Advance moves it by the time the
// caller gives.
//
// The autopilot's failsafe: when the vehicle's drone stops sending it
// setpoints and commands (the drone's computer crashed, or the drone lost
// its swarm), the caller says so with LinkLost. A flying vehicle then
// holds where it is for Limits.FailsafeDelay (default 5 s) of Advance's
// time, then lands straight down and disarms on the ground; a vehicle on
// the ground disarms at once. The vehicle stays in failsafe (Failsafe)
// until its drone commands it again: any of Arm, Goto, Hold, Land or
// Return takes control back, as a companion computer does by switching
// the flight controller back to guided mode.
package vehicle

import (
	"errors"
	"fmt"
	"math"
)

// Point is a position in metres (or a velocity in m/s) in the caller's
// local frame, Z up.
type Point struct{ X, Y, Z float64 }

// Sub returns p − q.
func (p Point) Sub(q Point) Point { return Point{p.X - q.X, p.Y - q.Y, p.Z - q.Z} }

// Dist returns the distance between p and q.
func (p Point) Dist(q Point) float64 {
	d := p.Sub(q)
	return math.Sqrt(d.X*d.X + d.Y*d.Y + d.Z*d.Z)
}

// Mode is what the vehicle is doing.
type Mode int

// Modes of a vehicle.
const (
	Disarmed  Mode = iota
	Armed          // on the ground, motors running
	Flying         // towards its setpoint
	Holding        // in place
	Landing        // straight down
	Returning      // to above home, then landing
	Tracking       // a moving setpoint (Follow)
)

func (m Mode) String() string {
	return [...]string{"disarmed", "armed", "flying", "holding", "landing", "returning", "tracking"}[m]
}

// Errors of commands a vehicle refuses in its mode.
var (
	ErrNotArmed = errors.New("vehicle: not armed")
	ErrOnGround = errors.New("vehicle: on the ground")
)

// Limits bound a vehicle's motion.
type Limits struct {
	SpeedXY   float64 // m/s (optional, default 6)
	SpeedUp   float64 // m/s (optional, default 3)
	SpeedDown float64 // m/s (optional, default 2)
	// Accel bounds how fast a tracking vehicle (Follow) changes its
	// velocity, m/s² (optional, default 5).
	Accel float64
	// FailsafeDelay is how long a flying vehicle whose link was lost
	// holds before it lands, in seconds (optional, default 5).
	FailsafeDelay float64
}

// Vehicle is one simulated multicopter.
type Vehicle struct {
	limits   Limits
	home     Point
	pos      Point
	setpoint Point
	mode     Mode
	odometer float64
	// vel is the velocity of the last Advance; ffvel the velocity of
	// the setpoint that Follow gave.
	vel, ffvel Point
	// failsafe is set from LinkLost until the next command; held counts
	// the seconds held in it.
	failsafe bool
	held     float64
}

// New returns a disarmed vehicle on the ground at home.
func New(home Point, limits Limits) *Vehicle {
	if limits.SpeedXY <= 0 {
		limits.SpeedXY = 6
	}
	if limits.SpeedUp <= 0 {
		limits.SpeedUp = 3
	}
	if limits.SpeedDown <= 0 {
		limits.SpeedDown = 2
	}
	if limits.Accel <= 0 {
		limits.Accel = 5
	}
	if limits.FailsafeDelay <= 0 {
		limits.FailsafeDelay = 5
	}
	home.Z = 0
	return &Vehicle{limits: limits, home: home, pos: home, setpoint: home}
}

// Position returns where the vehicle is.
func (v *Vehicle) Position() Point { return v.pos }

// Home returns where the vehicle took off, on the ground.
func (v *Vehicle) Home() Point { return v.home }

// Setpoint returns where the vehicle is flying to.
func (v *Vehicle) Setpoint() Point { return v.setpoint }

// Mode returns what the vehicle is doing.
func (v *Vehicle) Mode() Mode { return v.mode }

// Airborne reports whether the vehicle is off the ground.
func (v *Vehicle) Airborne() bool { return v.pos.Z > 0.05 }

// Odometer returns the distance flown in metres.
func (v *Vehicle) Odometer() float64 { return v.odometer }

// Failsafe reports whether the autopilot flies the vehicle on its own
// since LinkLost: holding, landing or landed, until its drone commands it
// again.
func (v *Vehicle) Failsafe() bool { return v.failsafe }

// LinkLost tells the autopilot that its drone stopped sending setpoints
// and commands: a flying vehicle holds where it is, and lands straight
// down once it has held for Limits.FailsafeDelay; a vehicle on the ground
// disarms. Calling it again while in failsafe changes nothing.
func (v *Vehicle) LinkLost() {
	if v.failsafe {
		return
	}
	v.failsafe = true
	v.held = 0
	switch {
	case !v.Airborne():
		v.mode = Disarmed
	case v.mode == Landing:
		// Already going straight down.
	default:
		v.setpoint = v.pos
		v.mode = Holding
	}
}

// Arm starts the motors on the ground.
func (v *Vehicle) Arm() error {
	v.failsafe = false
	if v.Airborne() {
		return fmt.Errorf("arm: %w", errors.New("vehicle: already flying"))
	}
	v.mode = Armed
	return nil
}

// Goto sets a setpoint to fly to (a take-off is a Goto straight up).
func (v *Vehicle) Goto(p Point) error {
	v.failsafe = false
	if v.mode == Disarmed {
		return fmt.Errorf("goto: %w", ErrNotArmed)
	}
	v.setpoint = p
	v.mode = Flying
	return nil
}

// Follow flies a moving setpoint: the vehicle should be at pos now and
// move on at vel, as a companion computer streams a trajectory's position
// and velocity. Each Advance aims at where the setpoint will be at its
// end, with the setpoint's velocity fed forward and the remaining error
// closed over TrackingTime, within the speed limits and Limits.Accel. A
// vehicle that gets no further setpoint stops where the last one led (an
// autopilot in guided mode stops at its last setpoint).
func (v *Vehicle) Follow(pos, vel Point) error {
	v.failsafe = false
	if v.mode == Disarmed {
		return fmt.Errorf("follow: %w", ErrNotArmed)
	}
	v.setpoint, v.ffvel = pos, vel
	v.mode = Tracking
	return nil
}

// TrackingTime is the time constant in which a tracking vehicle closes its
// distance to the setpoint, in seconds.
const TrackingTime = 0.5

// Velocity returns the vehicle's velocity over the last Advance.
func (v *Vehicle) Velocity() Point { return v.vel }

// track advances a tracking vehicle by dt.
func (v *Vehicle) track(dt float64) {
	target := Point{v.setpoint.X + v.ffvel.X*dt, v.setpoint.Y + v.ffvel.Y*dt, max(0, v.setpoint.Z+v.ffvel.Z*dt)}
	k := 1 / max(TrackingTime, dt)
	d := target.Sub(v.pos)
	want := Point{v.ffvel.X + d.X*k, v.ffvel.Y + d.Y*k, v.ffvel.Z + d.Z*k}
	// No faster than to reach the target in this step, nor than it can
	// brake to a stop there (beyond the setpoint's own speed).
	dist, speed := d.Dist(Point{}), want.Dist(Point{})
	if lim := min(dist/dt, math.Sqrt(2*v.limits.Accel*dist)+v.ffvel.Dist(Point{})); speed > lim {
		want = Point{want.X * lim / speed, want.Y * lim / speed, want.Z * lim / speed}
	}
	want = v.limitSpeed(want)
	dv := want.Sub(v.vel)
	if n, lim := dv.Dist(Point{}), v.limits.Accel*dt; n > lim {
		dv = Point{dv.X * lim / n, dv.Y * lim / n, dv.Z * lim / n}
	}
	nv := v.limitSpeed(Point{v.vel.X + dv.X, v.vel.Y + dv.Y, v.vel.Z + dv.Z})
	next := Point{v.pos.X + nv.X*dt, v.pos.Y + nv.Y*dt, max(0, v.pos.Z+nv.Z*dt)}
	v.odometer += next.Dist(v.pos)
	v.vel = Point{(next.X - v.pos.X) / dt, (next.Y - v.pos.Y) / dt, (next.Z - v.pos.Z) / dt}
	v.pos = next
	// Without a new setpoint, the vehicle stops where this one led.
	v.setpoint, v.ffvel = target, Point{}
}

// limitSpeed bounds a velocity by the horizontal, climb and descent
// limits.
func (v *Vehicle) limitSpeed(w Point) Point {
	if h := math.Hypot(w.X, w.Y); h > v.limits.SpeedXY {
		w.X, w.Y = w.X*v.limits.SpeedXY/h, w.Y*v.limits.SpeedXY/h
	}
	w.Z = min(max(w.Z, -v.limits.SpeedDown), v.limits.SpeedUp)
	return w
}

// Hold stops where the vehicle is.
func (v *Vehicle) Hold() {
	v.failsafe = false
	if v.mode == Disarmed || v.mode == Armed {
		return
	}
	v.setpoint = v.pos
	v.mode = Holding
}

// Land descends straight down and disarms on the ground.
func (v *Vehicle) Land() {
	v.failsafe = false
	if !v.Airborne() {
		v.mode = Disarmed
		return
	}
	v.setpoint = Point{v.pos.X, v.pos.Y, 0}
	v.mode = Landing
}

// Return flies back above home at the current altitude, then lands.
func (v *Vehicle) Return() {
	v.failsafe = false
	if !v.Airborne() {
		v.mode = Disarmed
		return
	}
	v.setpoint = Point{v.home.X, v.home.Y, v.pos.Z}
	v.mode = Returning
}

// Advance moves the vehicle by dt seconds.
func (v *Vehicle) Advance(dt float64) {
	if dt <= 0 || v.mode == Disarmed || v.mode == Armed {
		return
	}
	if v.failsafe && v.mode == Holding {
		v.vel = Point{}
		v.held += dt
		if v.held < v.limits.FailsafeDelay {
			return
		}
		v.setpoint = Point{v.pos.X, v.pos.Y, 0}
		v.mode = Landing
		v.vel = Point{}
		return
	}
	if v.mode == Tracking {
		v.track(dt)
		return
	}
	d := v.setpoint.Sub(v.pos)
	horiz := math.Hypot(d.X, d.Y)
	step := v.limits.SpeedXY * dt
	var nx, ny float64
	if horiz <= step {
		nx, ny = v.setpoint.X, v.setpoint.Y
	} else {
		nx, ny = v.pos.X+d.X/horiz*step, v.pos.Y+d.Y/horiz*step
	}
	nz := v.pos.Z
	switch {
	case d.Z > 0:
		nz = math.Min(v.setpoint.Z, v.pos.Z+v.limits.SpeedUp*dt)
	case d.Z < 0:
		nz = math.Max(v.setpoint.Z, v.pos.Z-v.limits.SpeedDown*dt)
	}
	next := Point{nx, ny, nz}
	v.odometer += next.Dist(v.pos)
	v.vel = Point{(next.X - v.pos.X) / dt, (next.Y - v.pos.Y) / dt, (next.Z - v.pos.Z) / dt}
	v.pos = next
	if v.pos != v.setpoint {
		return
	}
	switch v.mode {
	case Returning:
		v.Land()
	case Landing:
		v.mode = Disarmed
	case Flying:
		v.mode = Holding
	}
}
