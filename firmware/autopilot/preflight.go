package autopilot

import (
	"fmt"
	"strings"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
)

// Names of preflight checks.
const (
	CheckLink       = "link"          // a HEARTBEAT in the last 3 s
	CheckGPSFix     = "gps-fix"       // fix type at least MinFixType
	CheckSatellites = "satellites"    // at least MinSatellites
	CheckBattery    = "battery"       // voltage and remaining charge
	CheckEKF        = "ekf"           // the estimator has an absolute position
	CheckArmable    = "armable"       // the autopilot's own pre-arm checks pass
	CheckHome       = "home-distance" // the drone stands at its show home
)

// PreflightLimits are what a drone needs before a show. Zero fields take
// their defaults.
type PreflightLimits struct {
	MinFixType      uint8         // GPS_FIX_TYPE (default 3, a 3D fix)
	MinSatellites   uint8         // default 10
	MinVoltage      float64       // V (default 0: not checked)
	MinRemaining    int           // % (default 80)
	MaxHomeDist     float64       // m (default 3)
	MaxTelemetryAge time.Duration // default 5 s: older telemetry fails its check
}

func (l PreflightLimits) withDefaults() PreflightLimits {
	if l.MinFixType == 0 {
		l.MinFixType = 3
	}
	if l.MinSatellites == 0 {
		l.MinSatellites = 10
	}
	if l.MinRemaining == 0 {
		l.MinRemaining = 80
	}
	if l.MaxHomeDist == 0 {
		l.MaxHomeDist = 3
	}
	if l.MaxTelemetryAge == 0 {
		l.MaxTelemetryAge = 5 * time.Second
	}
	return l
}

// Check is one preflight check's outcome.
type Check struct {
	Name   string
	OK     bool
	Detail string // what was measured, and the limit
}

// Report is a drone's preflight state.
type Report struct {
	Autopilot  Autopilot
	Mode       string
	Armed      bool
	FixType    uint8
	Satellites uint8
	Voltage    float64 // V
	Remaining  int     // %, −1 unknown
	// EKFHealthy: on ArduPilot, EKF_STATUS_REPORT has attitude, horizontal
	// and vertical velocity, and absolute horizontal and vertical
	// position, and neither constant-position mode nor a GPS glitch; on PX4,
	// SYS_STATUS marks its AHRS (the estimator) and GPS healthy.
	EKFHealthy bool
	EKFFlags   uint16
	// Armable: SYS_STATUS's MAV_SYS_STATUS_PREARM_CHECK bit is healthy
	// (both autopilots set it when their pre-arm checks pass); PreArm is the
	// latest reason the autopilot gave for not arming.
	Armable bool
	PreArm  string
	// HomeDistance is the distance in metres from the drone's position to
	// its show home.
	HomeDistance float64
	Checks       []Check
}

// OK reports whether every check passes.
func (r Report) OK() bool { return len(r.Failed()) == 0 }

// Failed returns the checks that fail.
func (r Report) Failed() []Check {
	var f []Check
	for _, c := range r.Checks {
		if !c.OK {
			f = append(f, c)
		}
	}
	return f
}

// String gives one line per failed check, or "preflight: ok".
func (r Report) String() string {
	f := r.Failed()
	if len(f) == 0 {
		return "preflight: ok"
	}
	var b strings.Builder
	for i, c := range f {
		if i > 0 {
			b.WriteByte('\n')
		}
		fmt.Fprintf(&b, "preflight: %s: %s", c.Name, c.Detail)
	}
	return b.String()
}

// ekfGood are the EKF_STATUS_REPORT flags ArduPilot needs to fly GUIDED.
const ekfGood = ardupilotmega.EKF_ATTITUDE | ardupilotmega.EKF_VELOCITY_HORIZ | ardupilotmega.EKF_VELOCITY_VERT |
	ardupilotmega.EKF_POS_HORIZ_ABS | ardupilotmega.EKF_POS_VERT_ABS
const ekfBad = ardupilotmega.EKF_CONST_POS_MODE | ardupilotmega.EKF_GPS_GLITCHING | ardupilotmega.EKF_UNINITIALIZED

// healthy reports whether SYS_STATUS marks a sensor present and healthy.
func (t *Telemetry) healthy(bit ardupilotmega.MAV_SYS_STATUS_SENSOR) bool {
	return t.SensorsPresent&uint32(bit) != 0 && t.SensorsHealth&uint32(bit) != 0
}

// Preflight checks telemetry against limits at Clock time now, for a drone
// whose show home is at homeLat, homeLon.
func (t *Telemetry) Preflight(now time.Time, homeLat, homeLon float64, l PreflightLimits) Report {
	l = l.withDefaults()
	r := Report{
		Autopilot: t.Autopilot, Mode: ModeName(t.Autopilot, t.CustomMode), Armed: t.Armed,
		FixType: t.FixType, Satellites: t.Satellites, Voltage: t.Voltage, Remaining: t.BatteryRemaining,
		EKFFlags: uint16(t.EKFFlags), PreArm: t.PreArm,
	}
	fresh := func(at time.Time) bool { return !at.IsZero() && now.Sub(at) <= l.MaxTelemetryAge }
	add := func(name string, ok bool, format string, a ...any) {
		r.Checks = append(r.Checks, Check{Name: name, OK: ok, Detail: fmt.Sprintf(format, a...)})
	}
	stale := func(what string) string { return "no " + what + " in the last " + l.MaxTelemetryAge.String() }

	add(CheckLink, !t.Heartbeat.IsZero() && now.Sub(t.Heartbeat) <= 3*time.Second,
		"last HEARTBEAT %v ago, want under 3s", now.Sub(t.Heartbeat).Round(time.Millisecond))

	if fresh(t.GPSAt) {
		add(CheckGPSFix, t.FixType >= l.MinFixType, "fix type %d, want %d or better", t.FixType, l.MinFixType)
		add(CheckSatellites, t.Satellites != 255 && t.Satellites >= l.MinSatellites,
			"%d satellites, want %d", t.Satellites, l.MinSatellites)
	} else {
		add(CheckGPSFix, false, "%s", stale("GPS_RAW_INT"))
		add(CheckSatellites, false, "%s", stale("GPS_RAW_INT"))
	}

	if fresh(t.SysStatusAt) {
		ok := t.BatteryRemaining >= l.MinRemaining && t.Voltage >= l.MinVoltage
		add(CheckBattery, ok, "%.2f V, %d%% remaining, want %d%% and %.2f V", t.Voltage, t.BatteryRemaining,
			l.MinRemaining, l.MinVoltage)
		r.Armable = t.healthy(ardupilotmega.MAV_SYS_STATUS_PREARM_CHECK)
		why := r.PreArm
		if why == "" {
			why = "no reason given yet"
		}
		if r.Armable {
			add(CheckArmable, true, "pre-arm checks pass")
		} else {
			add(CheckArmable, false, "pre-arm checks fail: %s", why)
		}
	} else {
		add(CheckBattery, false, "%s", stale("SYS_STATUS"))
		add(CheckArmable, false, "%s", stale("SYS_STATUS"))
	}

	switch t.Autopilot {
	case ArduPilot:
		f := ardupilotmega.EKF_STATUS_FLAGS(t.EKFFlags)
		r.EKFHealthy = fresh(t.EKFAt) && f&ekfGood == ekfGood && f&ekfBad == 0
		if fresh(t.EKFAt) {
			add(CheckEKF, r.EKFHealthy, "EKF_STATUS_REPORT flags %#04x, want %#04x set and %#04x clear",
				t.EKFFlags, uint16(ekfGood), uint16(ekfBad))
		} else {
			add(CheckEKF, false, "%s", stale("EKF_STATUS_REPORT"))
		}
	default:
		r.EKFHealthy = fresh(t.SysStatusAt) && t.healthy(ardupilotmega.MAV_SYS_STATUS_AHRS) &&
			t.healthy(ardupilotmega.MAV_SYS_STATUS_SENSOR_GPS)
		add(CheckEKF, r.EKFHealthy, "SYS_STATUS AHRS and GPS healthy: %v", r.EKFHealthy)
	}

	if fresh(t.PositionAt) {
		r.HomeDistance = Distance(homeLat, homeLon, t.Lat, t.Lon)
		add(CheckHome, r.HomeDistance <= l.MaxHomeDist, "%.2f m from its show home, want %.1f m at most",
			r.HomeDistance, l.MaxHomeDist)
	} else {
		add(CheckHome, false, "%s", stale("GLOBAL_POSITION_INT"))
	}
	return r
}

// Preflight reports the drone's preflight state now (see
// Telemetry.Preflight).
func (c *Client) Preflight(homeLat, homeLon float64, l PreflightLimits) Report {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.tel.Preflight(c.clock.Now(), homeLat, homeLon, l)
}
