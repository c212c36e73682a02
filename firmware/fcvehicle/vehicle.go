// Package fcvehicle is the flight controller as the drone's runner drives
// it: a runner.Vehicle on top of the MAVLink client of package
// firmware/autopilot, for ArduPilot (GUIDED) and PX4 (OFFBOARD).
//
// It is a package of its own, not part of firmware/autopilot, because it
// binds the two sides: it imports firmware/runner for the Vehicle
// interface, and the autopilot client stays free of the runner and
// everything the runner brings (radio, swarm). The drone binary and the
// end-to-end tests both build their vehicles with it.
//
// # Never blocking the runner
//
// The runner calls the Vehicle from its loop, which must not stall: a
// command to the flight controller waits for its COMMAND_ACK (a second or
// more with resends). So every call returns at once and only records what
// the runner wants: Follow the latest setpoint; Arm, Hold, Land and Return
// an intent. One goroutine of the Vehicle's own works the intent out
// against the telemetry, one command at a time: it gives the mode, arming
// and take-off commands the intent still needs, and gives a failed command
// again every RetryEvery until it succeeds or the intent changes. A newer
// intent replaces an older one (a LAND given while a take-off is being
// acknowledged is carried out right after it, never dropped). Errors are
// logged (once per distinct error) and kept for Err; State reports what
// the flight controller last told.
//
// See docs/autopilot.md, "The runner's vehicle".
package fcvehicle

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

// Config configures a Vehicle.
type Config struct {
	// Client is the flight controller's link, its autopilot known
	// (WaitHeartbeat returned) and its telemetry requested.
	Client *autopilot.Client
	// Autopilot is what WaitHeartbeat returned: ArduPilot or PX4.
	Autopilot autopilot.Autopilot
	// Frame places the show on Earth (autopilot.FrameOf), Home is the
	// drone's home in the show: where the flight controller armed, so
	// that altitudes above its home are show heights less Home.Z.
	Frame autopilot.Frame
	Home  show.Vec3
	// Clock (optional, default autopilot.SystemClock): the client's.
	Clock autopilot.Clock
	// Logger (optional, default slog.Default()).
	Logger *slog.Logger
	// CommandTimeout bounds one command, its resends included (optional,
	// default 15 s); RetryEvery is the wait before a failed command is
	// given again (optional, default 1 s).
	CommandTimeout time.Duration
	RetryEvery     time.Duration
	// Extrapolate is how far the setpoint stream carries the latest
	// Follow forward at its velocity, between the runner's setpoints
	// (optional, default 0.5 s; negative: not at all).
	Extrapolate time.Duration
	// LightEvery is how often the current light colour is sent again:
	// LED_CONTROL is not acknowledged (optional, default 1 s).
	LightEvery time.Duration
}

// intent is what the runner last asked for.
type intent int

const (
	intentNone   intent = iota
	intentFly           // Arm or Follow: the setpoint mode
	intentHold          // Hold
	intentLand          // Land
	intentReturn        // Return
)

func (i intent) String() string {
	return [...]string{"none", "fly", "hold", "land", "return"}[i]
}

// Vehicle is a runner.Vehicle over an autopilot client. Its methods are
// safe for concurrent use.
type Vehicle struct {
	cfg Config
	c   *autopilot.Client
	log *slog.Logger

	mu        sync.Mutex
	want      intent
	gen       int  // counts intents; a command succeeds for one
	arm       bool // Arm asked, not yet seen armed
	target    bool // a setpoint was given
	pos, vel  show.Vec3
	at        time.Time // when the setpoint was given (Clock)
	streaming bool
	tookOff   bool // NAV_TAKEOFF accepted since the last arming (ArduPilot)
	flown     bool // airborne since the last arming
	sent      map[string]sentAt
	err       error
	logged    string
	colour    show.RGB
	colourAt  time.Time
	hasColour bool

	wake   chan struct{}
	ctx    context.Context
	cancel context.CancelFunc
	done   chan struct{}
}

// sentAt is a command that succeeded: for which intent, and when.
type sentAt struct {
	gen int
	at  time.Time
}

var _ runner.Vehicle = (*Vehicle)(nil)

// New starts a Vehicle's command goroutine; Close stops it.
func New(cfg Config) (*Vehicle, error) {
	if cfg.Client == nil {
		return nil, fmt.Errorf("fcvehicle: a Client is required")
	}
	if cfg.Autopilot != autopilot.ArduPilot && cfg.Autopilot != autopilot.PX4 {
		return nil, fmt.Errorf("fcvehicle: autopilot %v: want ArduPilot or PX4", cfg.Autopilot)
	}
	if cfg.Clock == nil {
		cfg.Clock = autopilot.SystemClock{}
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.CommandTimeout <= 0 {
		cfg.CommandTimeout = 15 * time.Second
	}
	if cfg.RetryEvery <= 0 {
		cfg.RetryEvery = time.Second
	}
	if cfg.Extrapolate == 0 {
		cfg.Extrapolate = 500 * time.Millisecond
	}
	if cfg.LightEvery <= 0 {
		cfg.LightEvery = time.Second
	}
	ctx, cancel := context.WithCancel(context.Background())
	v := &Vehicle{
		cfg: cfg, c: cfg.Client, log: cfg.Logger, sent: map[string]sentAt{},
		wake: make(chan struct{}, 1), ctx: ctx, cancel: cancel, done: make(chan struct{}),
	}
	go v.work()
	return v, nil
}

// Close stops the command goroutine (a command in flight is abandoned)
// and the setpoint stream. It does not close the client.
func (v *Vehicle) Close() {
	v.cancel()
	<-v.done
	v.unstream()
}

// Err returns the last command error, nil once a command succeeded after
// it.
func (v *Vehicle) Err() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.err
}

// flyMode is the mode in which the autopilot flies setpoints.
func (v *Vehicle) flyMode() autopilot.Mode {
	if v.cfg.Autopilot == autopilot.PX4 {
		return autopilot.ModeOffboard
	}
	return autopilot.ModeGuided
}

// State implements runner.Vehicle: armed from the HEARTBEAT, airborne from
// EXTENDED_SYS_STATE while armed (or, without it, armed and above half a
// metre), the position from GLOBAL_POSITION_INT in the show's frame, the
// battery from SYS_STATUS, the GPS from GPS_RAW_INT.
// SilentAfter is how long without a heartbeat from the flight controller
// makes it silent (runner.VehicleState.Silent).
const SilentAfter = 3 * time.Second

func (v *Vehicle) State() runner.VehicleState {
	return v.state(v.c.Telemetry())
}

func (v *Vehicle) state(t autopilot.Telemetry) runner.VehicleState {
	st := runner.VehicleState{Armed: t.Armed}
	// Heartbeats come every second: three missed, the flight controller
	// is silent.
	st.Silent = t.Heartbeat.IsZero() || v.cfg.Clock.Now().Sub(t.Heartbeat) > SilentAfter
	switch ardupilotmega.MAV_LANDED_STATE(t.LandedState) {
	case ardupilotmega.MAV_LANDED_STATE_IN_AIR, ardupilotmega.MAV_LANDED_STATE_TAKEOFF, ardupilotmega.MAV_LANDED_STATE_LANDING:
		// Disarmed is down, whatever an older EXTENDED_SYS_STATE said.
		st.Airborne = t.Armed
	case ardupilotmega.MAV_LANDED_STATE_ON_GROUND:
	default:
		st.Airborne = t.Armed && t.RelAlt > 0.5
	}
	if !t.PositionAt.IsZero() {
		x, y := v.cfg.Frame.Local(t.Lat, t.Lon)
		st.Position, st.HasPosition = show.Vec3{X: x, Y: y, Z: v.cfg.Home.Z + t.RelAlt}, true
	}
	if !t.SysStatusAt.IsZero() {
		st.Voltage = t.Voltage
		if t.BatteryRemaining >= 0 {
			st.Battery, st.HasBattery = float64(t.BatteryRemaining), true
		}
	}
	if !t.GPSAt.IsZero() {
		st.GPSFix, st.Satellites, st.HasGPS = t.FixType, t.Satellites, true
	}
	lat, lon := v.cfg.Frame.LatLon(v.cfg.Home)
	for _, c := range t.Preflight(v.cfg.Clock.Now(), lat, lon, autopilot.PreflightLimits{}).Checks {
		// Once armed, the drone has left its home for the show and
		// arming is behind it: those two checks are for the ground.
		if t.Armed && (c.Name == autopilot.CheckHome || c.Name == autopilot.CheckArmable) {
			continue
		}
		if !c.OK {
			st.Preflight = PreflightNumber(c.Name)
			break
		}
	}
	return st
}

// setIntent records what the runner wants and wakes the command
// goroutine.
func (v *Vehicle) setIntent(i intent) {
	v.mu.Lock()
	if v.want != i {
		v.want = i
		v.gen++
	}
	v.mu.Unlock()
	v.poke()
}

func (v *Vehicle) poke() {
	select {
	case v.wake <- struct{}{}:
	default:
	}
}

// Arm implements runner.Vehicle: the setpoint mode (GUIDED, or OFFBOARD
// with setpoints streaming: PX4 takes it only then), then arming, in the
// background. PX4 is streamed its home, on the ground, until the first
// Follow: arming in OFFBOARD does not lift it.
func (v *Vehicle) Arm() error {
	v.mu.Lock()
	v.arm = true
	v.mu.Unlock()
	if v.cfg.Autopilot == autopilot.PX4 {
		v.stream()
	}
	v.setIntent(intentFly)
	return nil
}

// Follow implements runner.Vehicle: the setpoint streams at the client's
// rate, carried forward at its velocity until the next. An armed
// ArduPilot on the ground is told to take off when the first setpoint
// above the ground comes (it flies setpoints only once airborne); an
// autopilot that left the setpoint mode is put back in it.
func (v *Vehicle) Follow(pos, vel show.Vec3) error {
	if bad(pos) {
		return fmt.Errorf("fcvehicle: setpoint %v is not a position", pos)
	}
	if bad(vel) {
		vel = show.Vec3{}
	}
	v.mu.Lock()
	v.pos, v.vel, v.at, v.target = pos, vel, v.cfg.Clock.Now(), true
	v.mu.Unlock()
	v.stream()
	v.setIntent(intentFly)
	return nil
}

func bad(p show.Vec3) bool {
	s := p.X + p.Y + p.Z
	return math.IsNaN(s) || math.IsInf(s, 0)
}

// Hold implements runner.Vehicle: the setpoints stop and the autopilot is
// put in its hold mode.
func (v *Vehicle) Hold() error { return v.stop(intentHold) }

// Land implements runner.Vehicle: the setpoints stop and the autopilot
// lands where it is (MAV_CMD_NAV_LAND), disarming on the ground.
func (v *Vehicle) Land() error { return v.stop(intentLand) }

// Return implements runner.Vehicle: the setpoints stop and the autopilot
// flies home and lands (MAV_CMD_NAV_RETURN_TO_LAUNCH).
func (v *Vehicle) Return() error { return v.stop(intentReturn) }

func (v *Vehicle) stop(i intent) error {
	v.mu.Lock()
	v.arm, v.target = false, false
	v.mu.Unlock()
	v.unstream()
	v.setIntent(i)
	return nil
}

// SetColour implements runner.Vehicle: LED_CONTROL when the colour
// changes, and again every LightEvery (it is not acknowledged). PX4 has
// no LED_CONTROL: nothing is sent (the client logs it once).
func (v *Vehicle) SetColour(c show.RGB) error {
	now := v.cfg.Clock.Now()
	v.mu.Lock()
	same := v.hasColour && v.colour == c && now.Sub(v.colourAt) < v.cfg.LightEvery
	v.mu.Unlock()
	if same {
		return nil
	}
	if err := v.c.SetLight(c.R, c.G, c.B); err != nil {
		return fmt.Errorf("fcvehicle: light: %w", err)
	}
	v.mu.Lock()
	v.colour, v.colourAt, v.hasColour = c, now, true
	v.mu.Unlock()
	return nil
}

// stream starts the setpoint stream if it is not running.
func (v *Vehicle) stream() {
	v.mu.Lock()
	if v.streaming {
		v.mu.Unlock()
		return
	}
	v.streaming = true
	v.mu.Unlock()
	v.c.StartSetpoints(v.setpoint)
}

func (v *Vehicle) unstream() {
	v.mu.Lock()
	was := v.streaming
	v.streaming = false
	v.mu.Unlock()
	if was {
		v.c.StopSetpoints()
	}
}

// setpoint is the stream's callback: the latest Follow carried forward at
// its velocity (up to Extrapolate), or before the first one the drone's
// home, on the ground, where it stands (PX4 arming in OFFBOARD; GPS
// noise would make the vehicle's own reading wander).
func (v *Vehicle) setpoint(now time.Time) (lat, lon, relAlt, vn, ve, vd float64) {
	v.mu.Lock()
	pos, vel, at, ok := v.pos, v.vel, v.at, v.target
	v.mu.Unlock()
	if !ok {
		return v.cfg.Frame.Setpoint(v.cfg.Home, show.Vec3{}, v.cfg.Home)
	}
	if lim := v.cfg.Extrapolate; lim > 0 {
		dt := min(max(now.Sub(at), 0), lim).Seconds()
		pos = pos.Add(vel.Scale(dt))
	}
	return v.cfg.Frame.Setpoint(pos, vel, v.cfg.Home)
}

// work is the command goroutine: it gives the commands the intent needs,
// one at a time.
func (v *Vehicle) work() {
	defer close(v.done)
	const poll = 200 * time.Millisecond
	for {
		select {
		case <-v.ctx.Done():
			return
		case <-v.wake:
		case <-v.cfg.Clock.After(poll):
		}
		name, gen, fn := v.next()
		if fn == nil {
			continue
		}
		ctx, cancel := context.WithTimeout(v.ctx, v.cfg.CommandTimeout)
		err := fn(ctx)
		cancel()
		if v.ctx.Err() != nil {
			return
		}
		v.done1(name, gen, err)
		if err != nil {
			select {
			case <-v.ctx.Done():
				return
			case <-v.cfg.Clock.After(v.cfg.RetryEvery):
			}
		}
	}
}

// done1 records a command's outcome.
func (v *Vehicle) done1(name string, gen int, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if err != nil {
		v.err = fmt.Errorf("fcvehicle: %s for %s: %w", name, v.want, err)
		if msg := v.err.Error(); msg != v.logged {
			v.logged = msg
			v.log.Warn("fcvehicle: flight controller command failed; giving it again", "command", name, "err", err)
		}
		return
	}
	v.err, v.logged = nil, ""
	v.sent[name] = sentAt{gen: gen, at: v.cfg.Clock.Now()}
	switch name {
	case "arm":
		v.tookOff, v.flown = false, false
	case "takeoff":
		v.tookOff = true
	}
}

// settle is how long after a command succeeded its effect may take to
// show in the telemetry (the HEARTBEAT comes at 1 Hz): the command is not
// given again before.
const settle = 2500 * time.Millisecond

// recent reports whether command name succeeded for intent gen within
// settle.
func (v *Vehicle) recent(name string, gen int, now time.Time) bool {
	s, ok := v.sent[name]
	return ok && s.gen == gen && now.Sub(s.at) < settle
}

// next chooses the command the intent needs now, nil for none.
func (v *Vehicle) next() (string, int, func(context.Context) error) {
	t := v.c.Telemetry()
	st := v.state(t)
	now := v.cfg.Clock.Now()
	v.mu.Lock()
	defer v.mu.Unlock()
	gen := v.gen
	if t.Armed && st.Airborne {
		v.flown = true
	}
	if t.Armed {
		v.arm = false // seen armed: a later disarm (a landing) is not undone
	}
	mode := func(name string, m autopilot.Mode) (string, int, func(context.Context) error) {
		if t.Mode == m || v.recent(name, gen, now) {
			return "", 0, nil
		}
		return name, gen, func(ctx context.Context) error {
			v.log.Info("fcvehicle: changing mode", "from", autopilot.ModeName(t.Autopilot, t.CustomMode), "to", m)
			return v.c.SetMode(ctx, m)
		}
	}
	switch v.want {
	case intentHold:
		if !t.Armed {
			return "", 0, nil
		}
		return mode("hold", autopilot.ModeHold)
	case intentLand:
		if !t.Armed || t.Mode == autopilot.ModeLand || v.recent("land", gen, now) {
			return "", 0, nil
		}
		return "land", gen, v.c.Land
	case intentReturn:
		if !t.Armed || t.Mode == autopilot.ModeReturn || v.recent("return", gen, now) {
			return "", 0, nil
		}
		return "return", gen, v.c.Return
	case intentFly:
	default:
		return "", 0, nil
	}
	fly := v.flyMode()
	switch {
	case !t.Armed && v.arm:
		if v.recent("arm", gen, now) {
			return "", 0, nil
		}
		return "arm", gen, func(ctx context.Context) error {
			if t.Mode != fly {
				if err := v.c.SetMode(ctx, fly); err != nil {
					return err
				}
			}
			return v.c.Arm(ctx)
		}
	case !t.Armed:
		return "", 0, nil
	case v.cfg.Autopilot == autopilot.ArduPilot && !st.Airborne && !v.tookOff && !v.flown &&
		v.target && v.pos.Z-v.cfg.Home.Z > takeoffAbove:
		// GUIDED flies setpoints only once airborne: take off at the
		// first setpoint above the ground, to its height. The take-off
		// only hands the vehicle to the stream, which takes over at
		// once: a take-off to a higher altitude would climb ahead of the
		// show's own climb.
		alt := max(v.pos.Z-v.cfg.Home.Z, takeoffAbove)
		return "takeoff", gen, func(ctx context.Context) error {
			v.log.Info("fcvehicle: taking off", "altitude", alt)
			if t.Mode != autopilot.ModeGuided {
				if err := v.c.SetMode(ctx, autopilot.ModeGuided); err != nil {
					return err
				}
			}
			return v.c.Takeoff(ctx, alt)
		}
	}
	return mode("fly", fly)
}

// takeoffAbove is how high above home a setpoint must be to take an
// ArduPilot on the ground off (the show's positions are in millimetres).
const takeoffAbove = 0.02

// PreflightNumber is the number a status gives a failing preflight check
// (SWARM_STATUS preflight): link 1, gps-fix 2, satellites 3, battery 4,
// ekf 5, armable 6, home-distance 7; 255 for a check of another name.
func PreflightNumber(name string) uint8 {
	switch name {
	case autopilot.CheckLink:
		return 1
	case autopilot.CheckGPSFix:
		return 2
	case autopilot.CheckSatellites:
		return 3
	case autopilot.CheckBattery:
		return 4
	case autopilot.CheckEKF:
		return 5
	case autopilot.CheckArmable:
		return 6
	case autopilot.CheckHome:
		return 7
	}
	return 255
}

// GPSStale is how long ago the flight controller's last SYSTEM_TIME and
// GPS_RAW_INT may have come for its GPS time to count (GPSTime).
const GPSStale = 5 * time.Second

var _ runner.GPSClock = (*Vehicle)(nil)

// GPSTime implements runner.GPSClock: the flight controller's GPS time now
// (autopilot.Telemetry.GPSTime), while it has a 3D fix and both its
// SYSTEM_TIME and its GPS_RAW_INT came within GPSStale. An autopilot that
// lost its fix goes on with its own clock, which the swarm does not take
// for GPS time.
func (v *Vehicle) GPSTime() (time.Time, bool) {
	t := v.c.Telemetry()
	now := v.cfg.Clock.Now()
	fresh := func(at time.Time) bool { return !at.IsZero() && now.Sub(at) <= GPSStale }
	if !fresh(t.UnixTimeAt) || !fresh(t.GPSAt) || t.FixType < 3 {
		return time.Time{}, false
	}
	return t.GPSTime(now)
}
