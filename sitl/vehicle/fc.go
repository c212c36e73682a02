package vehicle

import (
	"fmt"
	"math"
	"math/rand/v2"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
)

// Autopilot is the flight-controller firmware an FC imitates.
type Autopilot int

// Firmware an FC imitates.
const (
	ArduPilot Autopilot = iota + 1 // ArduCopter: GUIDED, LED_CONTROL, EKF_STATUS_REPORT
	PX4                            // PX4: OFFBOARD, no LED_CONTROL
)

func (a Autopilot) String() string {
	if a == PX4 {
		return "PX4"
	}
	return "ArduPilot"
}

// Custom modes an FC uses (ArduCopter's mode numbers; PX4's main mode in
// byte 2 and sub mode in byte 3 of custom_mode).
const (
	copterStabilize = 0
	copterGuided    = 4
	copterLoiter    = 5
	copterRTL       = 6
	copterLand      = 9
	copterBrake     = 17

	px4Offboard   = 6 << 16
	px4AutoLoiter = 4<<16 | 3<<24
	px4AutoRTL    = 4<<16 | 5<<24
	px4AutoLand   = 4<<16 | 6<<24
)

// FCConfig configures a simulated flight controller.
type FCConfig struct {
	Autopilot Autopilot
	// SystemID (optional, default 1); the FC speaks as component 1.
	SystemID uint8
	// Lat, Lon, AMSL place the vehicle's home (its local origin, where it
	// stands at start) on Earth: the FC's EKF origin.
	Lat, Lon, AMSL float64
	// Limits of the vehicle's motion.
	Limits Limits
	// Noise is the standard deviation in metres of the horizontal position
	// GLOBAL_POSITION_INT reports (optional, default 0), drawn from Seed.
	Noise float64
	Seed  uint64
	// TimeOffset is added to the time Advance is given to make SYSTEM_TIME
	// (the FC's GPS time), so that a test can give the FC a clock of its own.
	TimeOffset time.Duration
	// FailsafeDelay is how long an ArduPilot FC holds in GUIDED without
	// setpoints before it lands (optional, default 5 s). The FC decides
	// this itself; it does not use the vehicle's LinkLost.
	FailsafeDelay time.Duration
	// Endurance is the flight time that drains the battery from 100 % to
	// 0 % (optional, default 15 min).
	Endurance time.Duration
}

// OffboardTimeout is how recent PX4 wants setpoints to enter OFFBOARD and
// how long it waits without them before it leaves OFFBOARD for Hold.
const OffboardTimeout = 500 * time.Millisecond

// FC is a simulated flight controller around a Vehicle: it takes MAVLink
// messages (Handle) and a clock (Advance) and returns the messages it sends.
// It is deterministic and reads no clock; FCServer puts it on UDP.
//
// The vehicle's frame is north-east-up metres from home; setpoints arrive
// as latitude, longitude and altitude above home and are converted with a
// local equirectangular projection at home (exact enough over a few
// hundred metres, and independent of the client's conversion). The vehicle
// flies them with Follow: position and velocity, the velocity carried
// forward between setpoints for up to 3 s (ArduPilot's GUID_TIMEOUT),
// after which it stops where the last one led.
type FC struct {
	cfg  FCConfig
	v    *Vehicle
	rng  *rand.Rand
	boot time.Time // first Advance
	now  time.Time

	custom   uint32
	armed    bool
	airborne bool // took off since arming

	intervals map[uint32]time.Duration
	next      map[uint32]time.Time
	nextHB    time.Time
	nextPre   time.Time

	lastSetpoint  time.Time // zero: none yet
	flownSetpoint bool      // a setpoint flown since entering GUIDED or taking off
	// The last setpoint flown: position and velocity in the vehicle's
	// frame, when it came, and whether its horizon has passed.
	spPos, spVel Point
	spAt         time.Time
	spStopped    bool
	setpoints    int
	light        [3]uint8
	lights       int // LED_CONTROL messages obeyed
	flown        time.Duration

	gpsLost    bool
	battery    float64 // % drained by faults
	refuseArm  string
	statustext []string
}

// NewFC returns a disarmed FC on the ground at home.
func NewFC(cfg FCConfig) *FC {
	if cfg.SystemID == 0 {
		cfg.SystemID = 1
	}
	if cfg.Autopilot == 0 {
		cfg.Autopilot = ArduPilot
	}
	if cfg.FailsafeDelay <= 0 {
		cfg.FailsafeDelay = 5 * time.Second
	}
	if cfg.Endurance <= 0 {
		cfg.Endurance = 15 * time.Minute
	}
	f := &FC{
		cfg: cfg, v: New(Point{}, cfg.Limits), rng: rand.New(rand.NewPCG(cfg.Seed, 0x5eed)),
		intervals: map[uint32]time.Duration{}, next: map[uint32]time.Time{},
	}
	if cfg.Autopilot == PX4 {
		f.custom = px4AutoLoiter
	} else {
		f.custom = copterStabilize
	}
	return f
}

// Vehicle returns the simulated vehicle (for inspection).
func (f *FC) Vehicle() *Vehicle { return f.v }

// CustomMode returns the HEARTBEAT custom_mode.
func (f *FC) CustomMode() uint32 { return f.custom }

// Armed reports whether the motors are armed.
func (f *FC) Armed() bool { return f.armed }

// Light returns the last LED_CONTROL colour and how many it obeyed.
func (f *FC) Light() (rgb [3]uint8, n int) { return f.light, f.lights }

// Setpoints returns how many position setpoints arrived.
func (f *FC) Setpoints() int { return f.setpoints }

// Faults.

// SetGPSLost makes the GPS lose (true) or regain its fix.
func (f *FC) SetGPSLost(lost bool) { f.gpsLost = lost }

// SetBatteryRemaining drains the battery to pct percent now.
func (f *FC) SetBatteryRemaining(pct float64) { f.battery = 100 - pct - f.flownPct() }

// RefuseArm makes the FC refuse to arm with reason ("" to stop).
func (f *FC) RefuseArm(reason string) { f.refuseArm = reason }

func (f *FC) flownPct() float64 { return 100 * f.flown.Seconds() / f.cfg.Endurance.Seconds() }

// Remaining returns the battery's charge in percent.
func (f *FC) Remaining() float64 { return math.Max(0, math.Min(100, 100-f.battery-f.flownPct())) }

// preArmFailure returns why the FC would not arm now, or "".
func (f *FC) preArmFailure() string {
	switch {
	case f.refuseArm != "":
		return f.refuseArm
	case f.gpsLost:
		if f.cfg.Autopilot == PX4 {
			return "GPS fix too low"
		}
		return "Need 3D Fix"
	case f.Remaining() < 20:
		if f.cfg.Autopilot == PX4 {
			return "low battery"
		}
		return "Battery 1 below minimum arming capacity"
	}
	return ""
}

// preArmText is how the firmware words a pre-arm failure.
func (f *FC) preArmText(reason string) string {
	if f.cfg.Autopilot == PX4 {
		return "Preflight Fail: " + reason
	}
	return "PreArm: " + reason
}

func (f *FC) setMode(custom uint32) {
	f.custom = custom
	switch custom {
	case copterLand, px4AutoLand:
		f.v.Land()
	case copterRTL, px4AutoRTL:
		f.v.Return()
	case copterLoiter, copterBrake, px4AutoLoiter, copterGuided, px4Offboard:
		f.v.Hold()
	}
	f.flownSetpoint = false
}

func (f *FC) ack(cmd common.MAV_CMD, r common.MAV_RESULT) message.Message {
	return &ardupilotmega.MessageCommandAck{Command: cmd, Result: r}
}

func (f *FC) text(sev common.MAV_SEVERITY, s string) message.Message {
	return &ardupilotmega.MessageStatustext{Severity: sev, Text: s}
}

// Handle takes one message addressed to the FC (or to everyone) and
// returns the FC's answers.
func (f *FC) Handle(m message.Message) []message.Message {
	switch m := m.(type) {
	case *ardupilotmega.MessageCommandLong:
		if m.TargetSystem != 0 && m.TargetSystem != f.cfg.SystemID {
			return nil
		}
		return f.command(m)
	case *ardupilotmega.MessageSetPositionTargetGlobalInt:
		if m.TargetSystem != 0 && m.TargetSystem != f.cfg.SystemID {
			return nil
		}
		f.setpoint(m)
	case *ardupilotmega.MessageLedControl:
		// AP_Notify's RGB LEDs: custom_len 3 is a solid colour, any
		// instance and pattern. PX4 ignores LED_CONTROL.
		if f.cfg.Autopilot == ArduPilot && (m.CustomLen == 3 || m.CustomLen == 4) {
			f.light = [3]uint8{m.CustomBytes[0], m.CustomBytes[1], m.CustomBytes[2]}
			f.lights++
		}
	}
	return nil
}

func (f *FC) command(m *ardupilotmega.MessageCommandLong) []message.Message {
	px4 := f.cfg.Autopilot == PX4
	switch m.Command {
	case common.MAV_CMD_SET_MESSAGE_INTERVAL:
		id, us := uint32(m.Param1), m.Param2
		switch {
		case us < 0:
			delete(f.intervals, id)
		case us == 0:
			f.intervals[id] = time.Second
		default:
			f.intervals[id] = time.Duration(us) * time.Microsecond
		}
		f.next[id] = f.now
		return []message.Message{f.ack(m.Command, common.MAV_RESULT_ACCEPTED)}

	case common.MAV_CMD_DO_SET_MODE:
		var custom uint32
		if px4 {
			main, sub := uint32(m.Param2), uint32(m.Param3)
			custom = main << 16
			if main == 4 { // AUTO: the sub mode counts
				custom |= sub << 24
			}
		} else {
			custom = uint32(m.Param2)
		}
		switch custom {
		case copterGuided, copterLoiter, copterBrake, copterLand, copterRTL, copterStabilize:
			if px4 {
				return []message.Message{f.ack(m.Command, common.MAV_RESULT_DENIED)}
			}
		case px4Offboard:
			if !px4 {
				return []message.Message{f.ack(m.Command, common.MAV_RESULT_DENIED)}
			}
			if f.lastSetpoint.IsZero() || f.now.Sub(f.lastSetpoint) > OffboardTimeout {
				return []message.Message{f.ack(m.Command, common.MAV_RESULT_TEMPORARILY_REJECTED),
					f.text(common.MAV_SEVERITY_CRITICAL, "Switching to Offboard is currently not available")}
			}
		case px4AutoLoiter, px4AutoLand, px4AutoRTL:
			if !px4 {
				return []message.Message{f.ack(m.Command, common.MAV_RESULT_DENIED)}
			}
		default:
			return []message.Message{f.ack(m.Command, common.MAV_RESULT_DENIED)}
		}
		f.setMode(custom)
		return []message.Message{f.ack(m.Command, common.MAV_RESULT_ACCEPTED)}

	case common.MAV_CMD_COMPONENT_ARM_DISARM:
		if m.Param1 == 0 {
			if f.v.Airborne() {
				return []message.Message{f.ack(m.Command, common.MAV_RESULT_FAILED)}
			}
			f.disarm()
			return []message.Message{f.ack(m.Command, common.MAV_RESULT_ACCEPTED)}
		}
		if f.armed {
			return []message.Message{f.ack(m.Command, common.MAV_RESULT_ACCEPTED)}
		}
		if why := f.preArmFailure(); why != "" {
			r := common.MAV_RESULT_FAILED
			if px4 {
				r = common.MAV_RESULT_TEMPORARILY_REJECTED
			}
			return []message.Message{f.text(common.MAV_SEVERITY_CRITICAL, f.preArmText(why)), f.ack(m.Command, r)}
		}
		if !px4 && f.custom != copterGuided && f.custom != copterLoiter && f.custom != copterStabilize {
			return []message.Message{f.text(common.MAV_SEVERITY_CRITICAL, "Arm: Mode not armable"),
				f.ack(m.Command, common.MAV_RESULT_FAILED)}
		}
		if err := f.v.Arm(); err != nil {
			return []message.Message{f.ack(m.Command, common.MAV_RESULT_FAILED)}
		}
		f.armed, f.airborne = true, false
		return []message.Message{f.ack(m.Command, common.MAV_RESULT_ACCEPTED)}

	case common.MAV_CMD_NAV_TAKEOFF:
		if px4 || !f.armed || f.custom != copterGuided || f.v.Airborne() || m.Param7 <= 0 {
			return []message.Message{f.ack(m.Command, common.MAV_RESULT_FAILED)}
		}
		p := f.v.Position()
		if err := f.v.Goto(Point{p.X, p.Y, float64(m.Param7)}); err != nil {
			return []message.Message{f.ack(m.Command, common.MAV_RESULT_FAILED)}
		}
		f.airborne, f.flownSetpoint = true, false
		return []message.Message{f.ack(m.Command, common.MAV_RESULT_ACCEPTED)}

	case common.MAV_CMD_NAV_LAND:
		if px4 {
			f.setMode(px4AutoLand)
		} else {
			f.setMode(copterLand)
		}
		return []message.Message{f.ack(m.Command, common.MAV_RESULT_ACCEPTED)}

	case common.MAV_CMD_NAV_RETURN_TO_LAUNCH:
		if px4 {
			f.setMode(px4AutoRTL)
		} else {
			f.setMode(copterRTL)
		}
		return []message.Message{f.ack(m.Command, common.MAV_RESULT_ACCEPTED)}
	}
	return []message.Message{f.ack(m.Command, common.MAV_RESULT_UNSUPPORTED)}
}

func (f *FC) disarm() {
	f.armed, f.airborne = false, false
	if f.v.Mode() != Disarmed {
		f.v.Land() // on the ground: disarms the vehicle
	}
}

// earth returns the metres per degree of latitude and longitude at home.
func (f *FC) earth() (mLat, mLon float64) {
	const a, e2 = 6378137.0, 6.69437999014e-3
	s := math.Sin(f.cfg.Lat * math.Pi / 180)
	w := 1 - e2*s*s
	mLat = a * (1 - e2) / (w * math.Sqrt(w)) * math.Pi / 180
	mLon = a / math.Sqrt(w) * math.Cos(f.cfg.Lat*math.Pi/180) * math.Pi / 180
	return mLat, mLon
}

// Local converts a latitude, longitude and altitude above home into the
// vehicle's north-east-up frame.
func (f *FC) Local(lat, lon, relAlt float64) Point {
	mLat, mLon := f.earth()
	return Point{(lat - f.cfg.Lat) * mLat, (lon - f.cfg.Lon) * mLon, relAlt}
}

// LatLon converts a point of the vehicle's frame into latitude and
// longitude.
func (f *FC) LatLon(p Point) (lat, lon float64) {
	mLat, mLon := f.earth()
	return f.cfg.Lat + p.X/mLat, f.cfg.Lon + p.Y/mLon
}

func (f *FC) setpoint(m *ardupilotmega.MessageSetPositionTargetGlobalInt) {
	if m.CoordinateFrame != common.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT ||
		m.TypeMask&(common.POSITION_TARGET_TYPEMASK_X_IGNORE|common.POSITION_TARGET_TYPEMASK_Y_IGNORE|
			common.POSITION_TARGET_TYPEMASK_Z_IGNORE) != 0 {
		return // this FC flies position setpoints in relative-altitude frame only
	}
	f.lastSetpoint = f.now
	f.setpoints++
	p := f.Local(float64(m.LatInt)/1e7, float64(m.LonInt)/1e7, float64(m.Alt))
	var vel Point
	if m.TypeMask&(common.POSITION_TARGET_TYPEMASK_VX_IGNORE|common.POSITION_TARGET_TYPEMASK_VY_IGNORE|
		common.POSITION_TARGET_TYPEMASK_VZ_IGNORE) == 0 {
		vel = Point{float64(m.Vx), float64(m.Vy), -float64(m.Vz)} // NED to north-east-up
	}
	if f.cfg.Autopilot == PX4 && f.custom == px4Offboard && f.armed && p.Z > 0 {
		f.airborne = true
	}
	if !f.tracking() {
		return // ArduPilot flies setpoints in GUIDED after its take-off
	}
	f.spPos, f.spVel, f.spAt, f.spStopped = p, vel, f.now, false
	f.flownSetpoint = true
	_ = f.v.Follow(p, vel) // armed: cannot fail
}

// tracking reports whether the FC flies the companion computer's
// setpoints now.
func (f *FC) tracking() bool {
	if f.cfg.Autopilot == PX4 {
		return f.custom == px4Offboard && f.armed
	}
	return f.custom == copterGuided && f.armed && f.airborne
}

// setpointHorizon is how long the FC carries a setpoint forward at its
// velocity: ArduPilot's GUID_TIMEOUT (3 s); PX4 leaves OFFBOARD sooner.
const setpointHorizon = 3 * time.Second

// follow carries the last setpoint forward at its velocity to now, and
// stops it at the horizon.
func (f *FC) follow() {
	if !f.flownSetpoint || f.spStopped || !f.tracking() {
		return
	}
	age := f.now.Sub(f.spAt)
	if age > setpointHorizon {
		age, f.spStopped = setpointHorizon, true
	}
	s := age.Seconds()
	pos := Point{f.spPos.X + f.spVel.X*s, f.spPos.Y + f.spVel.Y*s, max(0, f.spPos.Z+f.spVel.Z*s)}
	vel := f.spVel
	if f.spStopped {
		vel = Point{}
	}
	_ = f.v.Follow(pos, vel)
}

// Advance moves the FC to now (monotonic; the first call only starts its
// clock) and returns what it sends by then: HEARTBEAT at 1 Hz, requested
// telemetry, pre-arm failures every 5 s while disarmed.
func (f *FC) Advance(now time.Time) []message.Message {
	if f.boot.IsZero() {
		f.boot, f.now, f.nextHB = now, now, now
	}
	var out []message.Message
	if dt := now.Sub(f.now); dt > 0 {
		f.now = now
		f.step(dt)
		for _, s := range f.statustext {
			out = append(out, f.text(common.MAV_SEVERITY_WARNING, s))
		}
		f.statustext = nil
	}
	if !now.Before(f.nextHB) {
		out = append(out, f.heartbeat())
		f.nextHB = now.Add(time.Second)
	}
	if !f.armed && !now.Before(f.nextPre) {
		if why := f.preArmFailure(); why != "" {
			out = append(out, f.text(common.MAV_SEVERITY_CRITICAL, f.preArmText(why)))
		}
		f.nextPre = now.Add(5 * time.Second)
	}
	for _, id := range []uint32{33, 1, 24, 2, 245, 193} {
		iv, ok := f.intervals[id]
		if !ok || now.Before(f.next[id]) {
			continue
		}
		if m := f.telemetry(id); m != nil {
			out = append(out, m)
		}
		f.next[id] = now.Add(iv)
	}
	return out
}

func (f *FC) step(dt time.Duration) {
	if f.v.Airborne() {
		f.flown += dt
	}
	sinceSetpoint := f.now.Sub(f.lastSetpoint)
	if f.lastSetpoint.IsZero() {
		sinceSetpoint = time.Duration(math.MaxInt64)
	}
	switch {
	case f.cfg.Autopilot == PX4 && f.custom == px4Offboard && sinceSetpoint > OffboardTimeout:
		// PX4 leaves OFFBOARD when setpoints stop (COM_OF_LOSS_T), for Hold.
		f.setMode(px4AutoLoiter)
		f.statustext = append(f.statustext, "Failsafe: offboard control lost")
	case f.cfg.Autopilot == ArduPilot && f.custom == copterGuided && f.airborne && f.v.Airborne() &&
		f.flownSetpoint && sinceSetpoint > f.cfg.FailsafeDelay:
		// Only once the companion computer has flown this flight: before
		// its first setpoint, the FC waits above its take-off point.
		f.setMode(copterLand)
		f.statustext = append(f.statustext, "Failsafe: no setpoints, landing")
	}
	f.follow()
	f.v.Advance(dt.Seconds())
	if f.armed && f.v.Mode() == Disarmed {
		f.armed, f.airborne = false, false // landed and disarmed
	}
}

func (f *FC) heartbeat() message.Message {
	base := ardupilotmega.MAV_MODE_FLAG_CUSTOM_MODE_ENABLED | ardupilotmega.MAV_MODE_FLAG_GUIDED_ENABLED |
		ardupilotmega.MAV_MODE_FLAG_STABILIZE_ENABLED
	state := ardupilotmega.MAV_STATE_STANDBY
	if f.armed {
		base |= ardupilotmega.MAV_MODE_FLAG_SAFETY_ARMED
		state = ardupilotmega.MAV_STATE_ACTIVE
	}
	ap := ardupilotmega.MAV_AUTOPILOT_ARDUPILOTMEGA
	if f.cfg.Autopilot == PX4 {
		ap = ardupilotmega.MAV_AUTOPILOT_PX4
	}
	return &ardupilotmega.MessageHeartbeat{Type: ardupilotmega.MAV_TYPE_QUADROTOR, Autopilot: ap,
		BaseMode: base, CustomMode: f.custom, SystemStatus: state, MavlinkVersion: 3}
}

func (f *FC) telemetry(id uint32) message.Message {
	bootMs := uint32(f.now.Sub(f.boot).Milliseconds())
	p := f.v.Position()
	switch id {
	case 33:
		n := Point{p.X + f.rng.NormFloat64()*f.cfg.Noise, p.Y + f.rng.NormFloat64()*f.cfg.Noise, p.Z}
		lat, lon := f.LatLon(n)
		return &ardupilotmega.MessageGlobalPositionInt{TimeBootMs: bootMs,
			Lat: int32(math.Round(lat * 1e7)), Lon: int32(math.Round(lon * 1e7)),
			Alt: int32(math.Round((f.cfg.AMSL + p.Z) * 1000)), RelativeAlt: int32(math.Round(p.Z * 1000)),
			Hdg: 65535}
	case 1:
		sensors := common.MAV_SYS_STATUS_SENSOR_3D_GYRO | common.MAV_SYS_STATUS_SENSOR_3D_ACCEL |
			common.MAV_SYS_STATUS_SENSOR_GPS | common.MAV_SYS_STATUS_AHRS | common.MAV_SYS_STATUS_PREARM_CHECK |
			common.MAV_SYS_STATUS_SENSOR_BATTERY
		health := sensors
		if f.gpsLost {
			health &^= common.MAV_SYS_STATUS_SENSOR_GPS | common.MAV_SYS_STATUS_AHRS
		}
		if f.preArmFailure() != "" {
			health &^= common.MAV_SYS_STATUS_PREARM_CHECK
		}
		rem := f.Remaining()
		return &ardupilotmega.MessageSysStatus{OnboardControlSensorsPresent: sensors,
			OnboardControlSensorsEnabled: sensors, OnboardControlSensorsHealth: health,
			VoltageBattery: uint16(math.Round((14.0 + 2.8*rem/100) * 1000)), CurrentBattery: -1,
			BatteryRemaining: int8(math.Round(rem))}
	case 24:
		fix, sats := common.GPS_FIX_TYPE_3D_FIX, uint8(16)
		if f.gpsLost {
			fix, sats = common.GPS_FIX_TYPE_NO_FIX, 0
		}
		lat, lon := f.LatLon(p)
		return &ardupilotmega.MessageGpsRawInt{TimeUsec: uint64(f.now.Sub(f.boot).Microseconds()), FixType: fix,
			Lat: int32(math.Round(lat * 1e7)), Lon: int32(math.Round(lon * 1e7)),
			Alt: int32(math.Round((f.cfg.AMSL + p.Z) * 1000)), Eph: 70, Epv: 120, SatellitesVisible: sats}
	case 2:
		m := &ardupilotmega.MessageSystemTime{TimeBootMs: bootMs}
		if !f.gpsLost {
			m.TimeUnixUsec = uint64(f.now.Add(f.cfg.TimeOffset).UnixMicro())
		}
		return m
	case 245:
		landed := common.MAV_LANDED_STATE_ON_GROUND
		switch {
		case f.v.Mode() == Landing && f.v.Airborne():
			landed = common.MAV_LANDED_STATE_LANDING
		case f.v.Airborne():
			landed = common.MAV_LANDED_STATE_IN_AIR
		}
		return &ardupilotmega.MessageExtendedSysState{LandedState: landed}
	case 193:
		if f.cfg.Autopilot != ArduPilot {
			return nil
		}
		flags := ardupilotmega.EKF_ATTITUDE | ardupilotmega.EKF_VELOCITY_HORIZ | ardupilotmega.EKF_VELOCITY_VERT |
			ardupilotmega.EKF_POS_HORIZ_REL | ardupilotmega.EKF_POS_HORIZ_ABS | ardupilotmega.EKF_POS_VERT_ABS |
			ardupilotmega.EKF_PRED_POS_HORIZ_REL | ardupilotmega.EKF_PRED_POS_HORIZ_ABS
		if f.gpsLost {
			flags = ardupilotmega.EKF_ATTITUDE | ardupilotmega.EKF_VELOCITY_VERT | ardupilotmega.EKF_POS_VERT_ABS |
				ardupilotmega.EKF_CONST_POS_MODE
		}
		return &ardupilotmega.MessageEkfStatusReport{Flags: flags, VelocityVariance: 0.1, PosHorizVariance: 0.1,
			PosVertVariance: 0.1, CompassVariance: 0.05}
	}
	return nil
}

// String describes the FC's state.
func (f *FC) String() string {
	return fmt.Sprintf("%v mode %d armed=%v %v at %v", f.cfg.Autopilot, f.custom, f.armed, f.v.Mode(), f.v.Position())
}
