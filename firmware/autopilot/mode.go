package autopilot

import "fmt"

// Autopilot is the flight controller's firmware, as its HEARTBEAT's
// autopilot field tells.
type Autopilot int

// Autopilots the client knows.
const (
	Unknown   Autopilot = iota
	ArduPilot           // MAV_AUTOPILOT_ARDUPILOTMEGA (3)
	PX4                 // MAV_AUTOPILOT_PX4 (12)
)

// MAV_AUTOPILOT values of the HEARTBEAT.
const (
	mavAutopilotArduPilot = 3
	mavAutopilotPX4       = 12
	mavAutopilotInvalid   = 8
)

func (a Autopilot) String() string {
	switch a {
	case ArduPilot:
		return "ArduPilot"
	case PX4:
		return "PX4"
	}
	return "unknown autopilot"
}

// autopilotOf maps a HEARTBEAT's autopilot field.
func autopilotOf(mavAutopilot uint8) Autopilot {
	switch mavAutopilot {
	case mavAutopilotArduPilot:
		return ArduPilot
	case mavAutopilotPX4:
		return PX4
	}
	return Unknown
}

// Mode is a flight mode in the terms a show needs; each autopilot has its
// own numbers for it (see CustomMode).
type Mode int

// Modes. Guided is ArduPilot's GUIDED and Offboard PX4's OFFBOARD: the modes
// in which the autopilot flies the companion computer's setpoints. Hold is
// ArduPilot's LOITER and PX4's AUTO.LOITER ("Hold").
const (
	ModeOther Mode = iota // a mode the client does not use
	ModeGuided
	ModeOffboard
	ModeHold
	ModeBrake // ArduPilot only
	ModeLand
	ModeReturn
	ModeTakeoff // PX4's AUTO.TAKEOFF
)

func (m Mode) String() string {
	switch m {
	case ModeGuided:
		return "GUIDED"
	case ModeOffboard:
		return "OFFBOARD"
	case ModeHold:
		return "HOLD"
	case ModeBrake:
		return "BRAKE"
	case ModeLand:
		return "LAND"
	case ModeReturn:
		return "RTL"
	case ModeTakeoff:
		return "TAKEOFF"
	}
	return "other"
}

// ArduCopter's mode numbers (ArduCopter mode.h, Mode::Number).
const (
	CopterStabilize = 0
	CopterGuided    = 4
	CopterLoiter    = 5
	CopterRTL       = 6
	CopterLand      = 9
	CopterBrake     = 17
)

// PX4's custom_mode: main mode in byte 2 (bits 16–23), sub mode in byte 3
// (bits 24–31) (PX4 px4_custom_mode.h).
const (
	PX4MainManual   = 1
	PX4MainAltctl   = 2
	PX4MainPosctl   = 3
	PX4MainAuto     = 4
	PX4MainOffboard = 6

	PX4SubAutoTakeoff = 2
	PX4SubAutoLoiter  = 3
	PX4SubAutoMission = 4
	PX4SubAutoRTL     = 5
	PX4SubAutoLand    = 6
)

// PX4CustomMode packs a PX4 main and sub mode into a HEARTBEAT custom_mode.
func PX4CustomMode(main, sub uint8) uint32 { return uint32(main)<<16 | uint32(sub)<<24 }

// PX4Modes unpacks a PX4 custom_mode into its main and sub mode.
func PX4Modes(custom uint32) (main, sub uint8) { return uint8(custom >> 16), uint8(custom >> 24) }

// DecodeMode reads a HEARTBEAT's custom_mode.
func DecodeMode(a Autopilot, custom uint32) Mode {
	switch a {
	case ArduPilot:
		switch custom {
		case CopterGuided:
			return ModeGuided
		case CopterLoiter:
			return ModeHold
		case CopterBrake:
			return ModeBrake
		case CopterLand:
			return ModeLand
		case CopterRTL:
			return ModeReturn
		}
	case PX4:
		main, sub := PX4Modes(custom)
		switch {
		case main == PX4MainOffboard:
			return ModeOffboard
		case main == PX4MainAuto && sub == PX4SubAutoLoiter:
			return ModeHold
		case main == PX4MainAuto && sub == PX4SubAutoLand:
			return ModeLand
		case main == PX4MainAuto && sub == PX4SubAutoRTL:
			return ModeReturn
		case main == PX4MainAuto && sub == PX4SubAutoTakeoff:
			return ModeTakeoff
		}
	}
	return ModeOther
}

// ModeName names a custom_mode as the autopilot's ground stations do
// ("GUIDED", "AUTO.LOITER"), or gives its number.
func ModeName(a Autopilot, custom uint32) string {
	switch a {
	case ArduPilot:
		if name, ok := map[uint32]string{0: "STABILIZE", 1: "ACRO", 2: "ALT_HOLD", 3: "AUTO", 4: "GUIDED",
			5: "LOITER", 6: "RTL", 7: "CIRCLE", 9: "LAND", 16: "POSHOLD", 17: "BRAKE", 21: "SMART_RTL"}[custom]; ok {
			return name
		}
	case PX4:
		main, sub := PX4Modes(custom)
		names := map[uint8]string{PX4MainManual: "MANUAL", PX4MainAltctl: "ALTCTL", PX4MainPosctl: "POSCTL",
			PX4MainAuto: "AUTO", 5: "ACRO", PX4MainOffboard: "OFFBOARD", 7: "STABILIZED"}
		subs := map[uint8]string{1: "READY", PX4SubAutoTakeoff: "TAKEOFF", PX4SubAutoLoiter: "LOITER",
			PX4SubAutoMission: "MISSION", PX4SubAutoRTL: "RTL", PX4SubAutoLand: "LAND"}
		if n, ok := names[main]; ok {
			if main == PX4MainAuto {
				if s, ok := subs[sub]; ok {
					return n + "." + s
				}
			}
			return n
		}
	}
	return fmt.Sprintf("mode %d", custom)
}

// setModeParams returns MAV_CMD_DO_SET_MODE's first three parameters for
// m on a: base mode MAV_MODE_FLAG_CUSTOM_MODE_ENABLED, then ArduPilot's
// mode number, or PX4's main and sub mode.
func setModeParams(a Autopilot, m Mode) (p1, p2, p3 float32, err error) {
	const customModeEnabled = 1
	switch a {
	case ArduPilot:
		n, ok := map[Mode]int{ModeGuided: CopterGuided, ModeHold: CopterLoiter, ModeBrake: CopterBrake,
			ModeLand: CopterLand, ModeReturn: CopterRTL}[m]
		if ok {
			return customModeEnabled, float32(n), 0, nil
		}
	case PX4:
		ms, ok := map[Mode][2]int{ModeOffboard: {PX4MainOffboard, 0}, ModeHold: {PX4MainAuto, PX4SubAutoLoiter},
			ModeLand: {PX4MainAuto, PX4SubAutoLand}, ModeReturn: {PX4MainAuto, PX4SubAutoRTL},
			ModeTakeoff: {PX4MainAuto, PX4SubAutoTakeoff}}[m]
		if ok {
			return customModeEnabled, float32(ms[0]), float32(ms[1]), nil
		}
	default:
		return 0, 0, 0, fmt.Errorf("autopilot: set mode %v: %w", m, ErrUnknownAutopilot)
	}
	return 0, 0, 0, fmt.Errorf("autopilot: %v has no mode %v", a, m)
}
