// Package config is a drone's configuration file: who the drone is in the
// swarm, how it reaches its radio and its flight controller, where its key
// and state live, and what it does when things go wrong.
//
// The file is YAML (docs/drone-config.md lists every field). Load and Parse
// read it and check every value; an error names the file, the line, the
// field and what to write instead. Write stores a Config atomically, so
// that the tool that flashes a drone from a roster can produce the file and
// a power cut never leaves half of one.
//
// # Vehicle IDs, networks and MAVLink system IDs
//
// The swarm addresses a drone by its 16-bit vehicle ID (1–65534). A MAVLink
// system ID is one byte, and one radio network carries at most 250 drones,
// so vehicle IDs are grouped into networks of 250:
//
//	vehicle ID = system ID + 250 × network
//
// Network 0 holds IDs 1–250, network 1 holds 251–500, and so on up to
// network 255 (IDs 63751–64000). The network is derived from the ID when
// the file does not give it; when it does, the ID must lie in that network.
// Every member of the swarm must lie in the drone's network: one swarm is
// one radio network.
package config

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/skyquorum/skyquorum/swarm/airspace"
)

// Limits of vehicle IDs and networks.
const (
	// MaxID is the largest vehicle ID (0xFFFF addresses everyone).
	MaxID = 65534
	// PerNetwork is the number of system IDs (1–250) of one radio network.
	PerNetwork = 250
	// MaxNetwork is the largest network number.
	MaxNetwork = 255
)

// Default values of optional fields.
const (
	DefaultRadioBaud    = 57600  // SiK telemetry radios
	DefaultFCBaud       = 921600 // a flight controller's companion port
	DefaultKeyFile      = "/etc/skyquorum/swarm.key"
	DefaultStateDir     = "/var/lib/skyquorum"
	DefaultLinkLossWait = 10 * time.Second
)

// Failsafe actions.
const (
	ActionContinue = "continue" // fly the show on
	ActionHold     = "hold"     // hold position
	ActionLand     = "land"     // land where the drone is
	ActionReturn   = "return"   // return to the show home and land
)

// Log formats.
const (
	LogAuto = "auto" // text on a terminal, JSON otherwise
	LogText = "text"
	LogJSON = "json"
)

// Baud rates accepted for serial devices: the standard rates from 9600 up
// that Linux sets on a UART, among them what SiK radios (57600 by default)
// and flight-controller ports (57600, 115200, 921600, 1500000) use. Any
// other number is most likely a typo, so it is refused.
var Bauds = []int{9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600, 1000000, 1500000, 2000000}

// Config is a drone's configuration.
type Config struct {
	// ID is the drone's vehicle ID, 1–65534 (1–64000 in practice: see
	// the package comment).
	ID uint16
	// Network is the drone's radio network, 0–255 (optional, default
	// (ID−1)/250).
	Network uint8
	// Members are the vehicle IDs of the whole swarm, this drone
	// included, sorted.
	Members []uint16
	// Radio is the swarm radio.
	Radio Radio
	// FlightController is the link to the flight controller.
	FlightController FlightController
	// KeyFile is the swarm key (optional, default DefaultKeyFile).
	KeyFile string
	// StateDir is where the drone persists its state (optional, default
	// DefaultStateDir); created when missing.
	StateDir string
	// Show is the show file (.sqshow) whose part for this drone it flies
	// (optional: without it the drone takes part in the swarm's protocols
	// and flies no show).
	Show string
	// ShowDrone is the show's drone (from 1) whose part this drone flies
	// (optional, default ID). A show over several radio networks numbers
	// its drones 1 to N, while network n's vehicle IDs start at 250n+1.
	ShowDrone uint16
	// Failsafe is what the drone does when something goes wrong.
	Failsafe Failsafe
	// Airspace is the airspace grid (optional; nil: the runner lays one
	// over the show's fence).
	Airspace *Airspace
	// Log configures logging.
	Log Log
	// Dir is the directory of the file the Config was loaded from:
	// relative paths in the file are relative to it (empty: the working
	// directory). It is not written to the file.
	Dir string
}

// Radio is the swarm radio: a serial device, or UDP (SITL, or a radio
// bridged over a network).
type Radio struct {
	// Serial is the radio's serial device, such as /dev/ttyUSB0.
	Serial string
	// Baud is the serial rate (optional, default DefaultRadioBaud).
	Baud int
	// UDP is set instead of Serial for a UDP link.
	UDP *UDP
}

// UDP is a UDP radio link.
type UDP struct {
	// Listen is the local address, host:port.
	Listen string
	// Peers are the addresses every frame is sent to (the other drones,
	// or a SITL radio hub).
	Peers []string
	// Hub says that the peer is a SITL radio hub, which stands for the
	// drone's own radio: its RADIO_STATUS frames pace the drone. drone
	// sitl sets it; a config file has no such key.
	Hub bool
}

// FlightController is the link to the flight controller: a serial device,
// or a UDP address (a simulated flight controller).
type FlightController struct {
	// Serial is the device, such as /dev/serial0.
	Serial string
	// Baud is the serial rate (optional, default DefaultFCBaud).
	Baud int
	// UDP is the flight controller's address, host:port, set instead of
	// Serial.
	UDP string
}

// Failsafe is the failsafe policy, which the drone program carries out
// (docs/drone-config.md).
type Failsafe struct {
	// LinkLoss is what to do when the swarm has not been heard for a
	// while.
	LinkLoss LinkLoss
	// LowBattery is the action on a low battery: ActionReturn (the
	// default) or ActionLand.
	LowBattery string
	// LowBatteryBelow is the charge in percent below which an airborne
	// drone takes LowBattery's action (optional, default 0: never; the
	// flight controller's own battery failsafe acts regardless). The drone
	// program carries out ActionReturn only: the drone leaves the show on
	// a path home clear of the others.
	LowBatteryBelow float64
	// Geofence is the action when the drone leaves the show's fence or
	// climbs above its altitude limit: ActionLand (the default and the
	// only one).
	Geofence string
	// OnStop is the action when the drone program is stopped while the
	// drone flies: ActionLand (the default) or ActionHold.
	OnStop string
}

// LinkLoss is the link-loss failsafe.
type LinkLoss struct {
	// Action is ActionContinue (the default: the show is loaded and the
	// clock synchronised, so the drone flies its validated path on),
	// ActionHold or ActionLand.
	Action string
	// After is how long the swarm must have been silent before Action is
	// taken (optional, default DefaultLinkLossWait; not used by continue).
	After time.Duration
}

// Airspace is the airspace grid whose cells the drones lock
// (swarm/airspace).
type Airspace struct {
	// Origin is the corner of cell (0, 0, 0) in the show frame, metres.
	Origin [3]float64
	// CellSize is a cell's edge along each axis, metres.
	CellSize [3]float64
	// Cells is the number of cells along each axis.
	Cells [3]int
	// Lease is how long a lock lasts without renewal (optional, zero: the
	// airspace package's default).
	Lease time.Duration
}

// Log configures logging.
type Log struct {
	// Format is LogAuto (the default), LogText or LogJSON.
	Format string
	// Level is debug, info (the default), warn or error.
	Level string
}

// SystemID is the drone's MAVLink system ID in its network.
func (c *Config) SystemID() uint8 { return SystemIDOf(c.ID, c.Network) }

// SystemIDOf is the MAVLink system ID of vehicle id in network, or 0 when
// id is not in network.
func SystemIDOf(id uint16, network uint8) uint8 {
	s := int(id) - PerNetwork*int(network)
	if s < 1 || s > PerNetwork {
		return 0
	}
	return uint8(s)
}

// NetworkOf is the network that holds vehicle id (ok false above
// the last network).
func NetworkOf(id uint16) (n uint8, ok bool) {
	if id == 0 {
		return 0, false
	}
	v := (int(id) - 1) / PerNetwork
	return uint8(v), v <= MaxNetwork
}

// Path resolves a path of the file: relative paths are relative to Dir.
func (c *Config) Path(p string) string {
	if p == "" || filepath.IsAbs(p) || c.Dir == "" {
		return p
	}
	return filepath.Join(c.Dir, p)
}

// KeyPath is the swarm key's path, resolved.
func (c *Config) KeyPath() string { return c.Path(c.KeyFile) }

// StatePath is the state directory's path, resolved.
func (c *Config) StatePath() string { return c.Path(c.StateDir) }

// Part is the show's drone (from 1) whose part this drone flies:
// ShowDrone, or its ID.
func (c *Config) Part() uint16 {
	if c.ShowDrone != 0 {
		return c.ShowDrone
	}
	return c.ID
}

// ShowPath is the show file's path, resolved ("" without one).
func (c *Config) ShowPath() string { return c.Path(c.Show) }

// Grid is the airspace grid (ok false when the file sets none).
func (c *Config) Grid() (g airspace.Grid, ok bool, err error) {
	a := c.Airspace
	if a == nil {
		return airspace.Grid{}, false, nil
	}
	g, err = airspace.NewGrid(
		airspace.Point{X: a.Origin[0], Y: a.Origin[1], Z: a.Origin[2]},
		airspace.Point{X: a.CellSize[0], Y: a.CellSize[1], Z: a.CellSize[2]},
		a.Cells)
	if err != nil {
		return airspace.Grid{}, false, fmt.Errorf("config: airspace: %w", err)
	}
	return g, true, nil
}

// setDefaults fills in the optional fields left empty.
func (c *Config) setDefaults() {
	if c.Radio.Serial != "" && c.Radio.Baud == 0 {
		c.Radio.Baud = DefaultRadioBaud
	}
	if c.FlightController.Serial != "" && c.FlightController.Baud == 0 {
		c.FlightController.Baud = DefaultFCBaud
	}
	if c.KeyFile == "" {
		c.KeyFile = DefaultKeyFile
	}
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir
	}
	f := &c.Failsafe
	if f.LinkLoss.Action == "" {
		f.LinkLoss.Action = ActionContinue
	}
	if f.LinkLoss.After == 0 {
		f.LinkLoss.After = DefaultLinkLossWait
	}
	if f.LowBattery == "" {
		f.LowBattery = ActionReturn
	}
	if f.Geofence == "" {
		f.Geofence = ActionLand
	}
	if f.OnStop == "" {
		f.OnStop = ActionLand
	}
	if c.Log.Format == "" {
		c.Log.Format = LogAuto
	}
	if c.Log.Level == "" {
		c.Log.Level = "info"
	}
}
