package autopilot

import (
	"strings"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
)

// Telemetry is what the client last heard from the flight controller. Each
// part has the (Clock) time it arrived; a zero time means never.
type Telemetry struct {
	Autopilot  Autopilot
	SystemID   uint8
	CustomMode uint32 // HEARTBEAT custom_mode
	Mode       Mode
	Armed      bool
	Heartbeat  time.Time

	// GLOBAL_POSITION_INT.
	Lat, Lon    float64 // degrees
	AltMSL      float64 // m
	RelAlt      float64 // m above home
	VN, VE, VD  float64 // m/s
	PositionAt  time.Time
	LandedState uint8 // EXTENDED_SYS_STATE landed_state (MAV_LANDED_STATE; 0 unknown)

	// GPS_RAW_INT.
	FixType    uint8 // GPS_FIX_TYPE: 3 = 3D fix
	Satellites uint8 // 255 = unknown
	GPSAt      time.Time

	// SYS_STATUS.
	Voltage          float64 // V
	BatteryRemaining int     // %, −1 unknown
	SensorsPresent   uint32  // MAV_SYS_STATUS_SENSOR bits
	SensorsHealth    uint32
	SysStatusAt      time.Time

	// EKF_STATUS_REPORT (ArduPilot).
	EKFFlags uint16
	EKFAt    time.Time

	// SYSTEM_TIME: the autopilot's Unix time (GPS time once it has a fix;
	// zero while it has none) and the Clock time it arrived.
	UnixTime   time.Time
	UnixTimeAt time.Time

	// PreArm is the latest pre-arm failure the autopilot reported in a
	// STATUSTEXT ("PreArm: Need 3D Fix" on ArduPilot, "Preflight Fail: …" or
	// "Arming denied: …" on PX4), PreArmAt when; Texts the recent
	// STATUSTEXTs, oldest first.
	PreArm   string
	PreArmAt time.Time
	Texts    []string
	// PreArms are the recent distinct pre-arm failures, oldest first
	// (ArduPilot reports one failing check at a time).
	PreArms []string
}

// How many recent STATUSTEXTs, and distinct pre-arm failures, Telemetry
// keeps.
const (
	maxTexts   = 16
	maxPreArms = 8
)

// preArmPrefixes mark the STATUSTEXTs that say why an autopilot will not arm.
var preArmPrefixes = []string{"PreArm:", "Arm:", "Preflight Fail:", "Arming denied:"}

// isPreArm reports whether a STATUSTEXT is a pre-arm failure.
func isPreArm(text string) bool {
	for _, p := range preArmPrefixes {
		if strings.HasPrefix(text, p) {
			return true
		}
	}
	return false
}

// update folds in one message from the autopilot, received at now.
func (t *Telemetry) update(m message.Message, now time.Time) {
	switch m := m.(type) {
	case *ardupilotmega.MessageHeartbeat:
		t.Autopilot = autopilotOf(uint8(m.Autopilot))
		t.CustomMode = m.CustomMode
		t.Mode = DecodeMode(t.Autopilot, m.CustomMode)
		t.Armed = m.BaseMode&ardupilotmega.MAV_MODE_FLAG_SAFETY_ARMED != 0
		t.Heartbeat = now
	case *ardupilotmega.MessageGlobalPositionInt:
		t.Lat, t.Lon = float64(m.Lat)/1e7, float64(m.Lon)/1e7
		t.AltMSL, t.RelAlt = float64(m.Alt)/1e3, float64(m.RelativeAlt)/1e3
		t.VN, t.VE, t.VD = float64(m.Vx)/100, float64(m.Vy)/100, float64(m.Vz)/100
		t.PositionAt = now
	case *ardupilotmega.MessageGpsRawInt:
		t.FixType, t.Satellites, t.GPSAt = uint8(m.FixType), m.SatellitesVisible, now
	case *ardupilotmega.MessageSysStatus:
		t.Voltage = float64(m.VoltageBattery) / 1000
		t.BatteryRemaining = int(m.BatteryRemaining)
		t.SensorsPresent = uint32(m.OnboardControlSensorsPresent)
		t.SensorsHealth = uint32(m.OnboardControlSensorsHealth)
		t.SysStatusAt = now
	case *ardupilotmega.MessageEkfStatusReport:
		t.EKFFlags, t.EKFAt = uint16(m.Flags), now
	case *ardupilotmega.MessageExtendedSysState:
		t.LandedState = uint8(m.LandedState)
	case *ardupilotmega.MessageSystemTime:
		if m.TimeUnixUsec == 0 {
			t.UnixTime = time.Time{}
		} else {
			t.UnixTime = time.UnixMicro(int64(m.TimeUnixUsec)).UTC()
		}
		t.UnixTimeAt = now
	case *ardupilotmega.MessageStatustext:
		t.Texts = append(t.Texts, m.Text)
		if len(t.Texts) > maxTexts {
			t.Texts = append([]string(nil), t.Texts[len(t.Texts)-maxTexts:]...)
		}
		if isPreArm(m.Text) {
			t.PreArm, t.PreArmAt = m.Text, now
			kept := []string{}
			for _, p := range t.PreArms {
				if p != m.Text {
					kept = append(kept, p)
				}
			}
			t.PreArms = append(kept, m.Text)
			if len(t.PreArms) > maxPreArms {
				t.PreArms = t.PreArms[len(t.PreArms)-maxPreArms:]
			}
		}
	}
}

// GPSTime returns the autopilot's GPS (Unix) time extrapolated to now, from
// the latest SYSTEM_TIME.time_unix_usec and the Clock time it arrived. It
// is false while the autopilot has no time (no GPS fix yet). Accuracy is
// the link's delay plus the autopilot's own error: milliseconds on a
// serial link.
//
// GPS_RAW_INT.time_usec is not used: it is the time since the autopilot
// booted on most firmware, not GPS time.
func (t *Telemetry) GPSTime(now time.Time) (time.Time, bool) {
	if t.UnixTime.IsZero() {
		return time.Time{}, false
	}
	return t.UnixTime.Add(now.Sub(t.UnixTimeAt)), true
}
