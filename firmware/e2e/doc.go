// Package e2e holds the drone's end-to-end tests: whole runners
// (firmware/runner) on a lossy in-memory radio network, each flying a
// simulated flight controller (sitl/vehicle) over MAVLink on loopback UDP
// through the autopilot client (firmware/autopilot) and the runner's
// vehicle (firmware/fcvehicle), in real time. docs/drone.md describes
// them and what they measured.
package e2e
