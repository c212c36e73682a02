// Package autopilot is the companion computer's MAVLink client for its
// flight controller, a stock ArduPilot (ArduCopter) or PX4, over a serial
// port or UDP (any gomavlib endpoint).
//
// The client speaks as the drone's system ID, component 191
// (MAV_COMP_ID_ONBOARD_COMPUTER). It recognises the autopilot from its
// HEARTBEAT and decodes its flight mode; asks for the telemetry a show needs
// with MAV_CMD_SET_MESSAGE_INTERVAL; sends commands (mode, arm, take-off,
// land, return) as COMMAND_LONG, retried until a COMMAND_ACK, with errors that
// name the command, the autopilot's MAV_RESULT and its latest pre-arm
// reason; streams SET_POSITION_TARGET_GLOBAL_INT setpoints (position and
// velocity) from a callback; sets the light colour with LED_CONTROL on
// ArduPilot; reads GPS time from SYSTEM_TIME; and sums it all up in a
// preflight Report.
//
// Frame converts the show's local North-West-Up metres into latitude and
// longitude (a tangent plane at the show's origin, turned by the show's
// orientation) and relative altitude above the drone's home.
//
// The client reads time only through a Clock, so that tests can drive it.
// docs/autopilot.md describes the modes, messages, rates and the rules each
// autopilot imposes.
package autopilot
