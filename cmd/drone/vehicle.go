package main

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"

	"github.com/skyquorum/skyquorum/firmware/autopilot"
	"github.com/skyquorum/skyquorum/firmware/runner"
	"github.com/skyquorum/skyquorum/swarm/show"
)

// commandTimeout bounds one attempt at a flight-controller command, its
// retries of COMMAND_LONG included; retryDelay separates two attempts.
const (
	commandTimeout = 15 * time.Second
	retryDelay     = time.Second
)

// fcVehicle is the flight controller as the runner drives it
// (runner.Vehicle), over the autopilot client. The runner calls it from its
// loop, which must not wait for an acknowledgement: a command runs in the
// background and is given again until the flight controller acknowledges
// it, unless another command replaces it first (the latest command wins);
// the call returns at once. Setpoints stream from the latest Follow at the
// client's rate.
type fcVehicle struct {
	c     *autopilot.Client
	ap    autopilot.Autopilot
	frame autopilot.Frame
	home  show.Vec3 // the drone's show home: where the flight controller's home is
	log   *slog.Logger
	ctx   context.Context

	mu        sync.Mutex
	pos, vel  show.Vec3
	hasTarget bool
	streaming bool
	cmd       string             // the command in flight ("" none)
	cancelCmd context.CancelFunc // ends it
	done      string             // the last command acknowledged, until another is given
	takeoff   bool               // a take-off was acknowledged since the last arming
	colour    show.RGB
	colourSet bool
	wg        sync.WaitGroup
}

var _ runner.Vehicle = (*fcVehicle)(nil)

// newFCVehicle drives c for the drone whose part of s is k (s nil: no
// show; the runner then flies nothing, and only asks State and, on a stop
// in the air, Hold or Land).
func newFCVehicle(ctx context.Context, c *autopilot.Client, ap autopilot.Autopilot, s *show.Show, k int, log *slog.Logger) *fcVehicle {
	v := &fcVehicle{c: c, ap: ap, log: log, ctx: ctx}
	if s != nil {
		v.frame, v.home = autopilot.FrameOf(s), s.Drones[k].Home
	}
	return v
}

// wait waits for the commands in flight.
func (v *fcVehicle) wait() { v.wg.Wait() }

// State implements runner.Vehicle.
func (v *fcVehicle) State() runner.VehicleState {
	t := v.c.Telemetry()
	st := runner.VehicleState{Armed: t.Armed}
	switch ardupilotmega.MAV_LANDED_STATE(t.LandedState) {
	case ardupilotmega.MAV_LANDED_STATE_IN_AIR, ardupilotmega.MAV_LANDED_STATE_TAKEOFF, ardupilotmega.MAV_LANDED_STATE_LANDING:
		st.Airborne = true
	case ardupilotmega.MAV_LANDED_STATE_ON_GROUND:
	default:
		// No EXTENDED_SYS_STATE: armed and above half a metre.
		st.Airborne = t.Armed && t.RelAlt > 0.5
	}
	if !t.PositionAt.IsZero() {
		x, y := v.frame.Local(t.Lat, t.Lon)
		st.Position = show.Vec3{X: x, Y: y, Z: v.home.Z + t.RelAlt}
	}
	return st
}

// do gives a command in the background, unless it is in flight or was
// the last one acknowledged; a command in flight that is another is
// abandoned. A refused command is logged and given again every retryDelay
// until it is acknowledged or replaced, or the drone stops.
func (v *fcVehicle) do(name string, fn func(ctx context.Context) error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cmd == name || (v.cmd == "" && v.done == name) {
		return
	}
	if v.cancelCmd != nil {
		v.cancelCmd()
	}
	ctx, cancel := context.WithCancel(v.ctx)
	v.cmd, v.cancelCmd, v.done = name, cancel, ""
	v.wg.Add(1)
	go func() {
		defer v.wg.Done()
		defer cancel()
		for attempt := 1; ; attempt++ {
			actx, acancel := context.WithTimeout(ctx, commandTimeout)
			err := fn(actx)
			acancel()
			v.mu.Lock()
			if ctx.Err() != nil { // replaced, or the drone stops
				v.mu.Unlock()
				return
			}
			if err == nil {
				v.cmd, v.cancelCmd, v.done = "", nil, name
				v.mu.Unlock()
				return
			}
			v.mu.Unlock()
			v.log.Warn("flight controller refused; trying again", "command", name, "attempt", attempt, "err", err)
			select {
			case <-ctx.Done():
				return
			case <-time.After(retryDelay):
			}
		}
	}()
}

// last is the command in flight, or else the last one acknowledged.
func (v *fcVehicle) last() string {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.cmd != "" {
		return v.cmd
	}
	return v.done
}

// flyMode is the mode in which the autopilot flies setpoints.
func (v *fcVehicle) flyMode() autopilot.Mode {
	if v.ap == autopilot.PX4 {
		return autopilot.ModeOffboard
	}
	return autopilot.ModeGuided
}

// stream starts the setpoint stream if it is not running.
func (v *fcVehicle) stream() {
	v.mu.Lock()
	if v.streaming {
		v.mu.Unlock()
		return
	}
	v.streaming = true
	v.mu.Unlock()
	v.c.StartSetpoints(func(time.Time) (lat, lon, relAlt, vn, ve, vd float64) {
		v.mu.Lock()
		pos, vel, ok := v.pos, v.vel, v.hasTarget
		v.mu.Unlock()
		if !ok {
			return math.NaN(), math.NaN(), math.NaN(), 0, 0, 0
		}
		return v.frame.Setpoint(pos, vel, v.home)
	})
}

func (v *fcVehicle) unstream() {
	v.mu.Lock()
	was := v.streaming
	v.streaming = false
	v.mu.Unlock()
	if was {
		v.c.StopSetpoints()
	}
}

// Arm implements runner.Vehicle: the setpoint mode, then arming.
func (v *fcVehicle) Arm() error {
	if v.ap == autopilot.PX4 {
		v.stream() // PX4 enters OFFBOARD only while setpoints stream
	}
	v.do("arm", func(ctx context.Context) error {
		if err := v.c.SetMode(ctx, v.flyMode()); err != nil {
			return err
		}
		if err := v.c.Arm(ctx); err != nil {
			return err
		}
		v.mu.Lock()
		v.takeoff = false
		v.mu.Unlock()
		return nil
	})
	return nil
}

// Follow implements runner.Vehicle: the setpoint streams at the client's
// rate. An armed ArduPilot on the ground is told to take off towards it
// (it does not leave the ground on setpoints alone), and a drone this
// program told to hold goes back to the setpoint mode. A mode someone else
// chose (a pilot taking over with the remote control) is left alone.
func (v *fcVehicle) Follow(pos, vel show.Vec3) error {
	if math.IsNaN(pos.X+pos.Y+pos.Z) || math.IsInf(pos.X+pos.Y+pos.Z, 0) {
		return fmt.Errorf("setpoint %v is not a position", pos)
	}
	v.mu.Lock()
	v.pos, v.vel, v.hasTarget = pos, vel, true
	takeoff := v.takeoff
	v.mu.Unlock()
	v.stream()
	st := v.State()
	switch {
	case !st.Armed:
	case v.ap == autopilot.ArduPilot && !st.Airborne && !takeoff:
		alt := math.Max(pos.Z-v.home.Z, 1)
		v.do("takeoff", func(ctx context.Context) error {
			if err := v.c.SetMode(ctx, autopilot.ModeGuided); err != nil {
				return err
			}
			if err := v.c.Takeoff(ctx, alt); err != nil {
				return err
			}
			v.mu.Lock()
			v.takeoff = true
			v.mu.Unlock()
			return nil
		})
	case v.last() == "hold":
		v.do("fly", func(ctx context.Context) error { return v.c.SetMode(ctx, v.flyMode()) })
	}
	return nil
}

// Hold implements runner.Vehicle.
func (v *fcVehicle) Hold() error {
	v.unstream()
	v.do("hold", func(ctx context.Context) error { return v.c.SetMode(ctx, autopilot.ModeHold) })
	return nil
}

// Land implements runner.Vehicle.
func (v *fcVehicle) Land() error {
	v.unstream()
	v.do("land", v.c.Land)
	return nil
}

// Return implements runner.Vehicle.
func (v *fcVehicle) Return() error {
	v.unstream()
	v.do("return", v.c.Return)
	return nil
}

// SetColour implements runner.Vehicle; the light is sent when it changes.
func (v *fcVehicle) SetColour(c show.RGB) error {
	v.mu.Lock()
	same := v.colourSet && v.colour == c
	v.mu.Unlock()
	if same {
		return nil
	}
	if err := v.c.SetLight(c.R, c.G, c.B); err != nil {
		return err
	}
	v.mu.Lock()
	v.colour, v.colourSet = c, true
	v.mu.Unlock()
	return nil
}
