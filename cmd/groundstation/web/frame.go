// Package web is the operator's dashboard: an HTTP server that serves an
// embedded page (plain HTML, CSS and JavaScript, no build step, nothing
// fetched from elsewhere) and streams the live picture of the swarm to it
// by server-sent events, several times a second. Operator commands come
// back as JSON POSTs and go out through the Source.
//
// The dashboard knows the swarm only through a Source: GroupSource feeds
// it from a live station.Group (groundstation sitl, groundstation
// connect), ShowSource from an in-process simulation of a show.
package web

import (
	"context"
	"errors"
	"time"

	"github.com/skyquorum/skyquorum/swarm/airspace"
)

// Source is what the dashboard shows and commands.
type Source interface {
	// Snapshot returns the picture now.
	Snapshot() Snapshot
	// Command carries out an operator command and returns a line for
	// the operator. It may block until the swarm accepted it (ctx).
	Command(ctx context.Context, c Command) (string, error)
}

// Snapshot is the picture the page draws.
type Snapshot struct {
	// At is when the picture was taken (the source's clock).
	At time.Time `json:"at"`
	// Drones are every drone known, by ID.
	Drones []Drone `json:"drones"`
	// Leaders are the leaders of the networks (0 where none).
	Leaders []uint16 `json:"leaders"`
	// Log is the command log: commands sent, oldest first.
	Log []LogEntry `json:"log"`
	// Show is the show clock.
	Show ShowClock `json:"show"`
	// Channels are each network's channel figures now.
	Channels []Channel `json:"channels"`
	// Fence is the geofence polygon (X north, Y west, in metres), empty
	// when the show has none.
	Fence [][2]float64 `json:"fence"`
	// Grid is the airspace grid whose cells the drones lock, for shading
	// the cells held; nil when the source does not know it.
	Grid *Grid `json:"grid"`
	// Ended is set once the source has stopped following the swarm (the
	// flight of groundstation sitl is over): why, for the operator.
	Ended string `json:"ended,omitempty"`
}

// Grid is an airspace grid: cell c is (i, j, k) = (c mod Dims[0],
// c / Dims[0] mod Dims[1], c / (Dims[0] Dims[1])) and spans Origin +
// (i, j, k) × Size to Origin + (i+1, j+1, k+1) × Size, in the show's
// frame (X north, Y west, Z up, metres).
type Grid struct {
	Origin [3]float64 `json:"origin"`
	Size   [3]float64 `json:"size"`
	Dims   [3]int     `json:"dims"`
}

// GridOf converts an airspace grid.
func GridOf(g airspace.Grid) *Grid {
	return &Grid{Origin: [3]float64{g.Origin.X, g.Origin.Y, g.Origin.Z},
		Size: [3]float64{g.Size.X, g.Size.Y, g.Size.Z}, Dims: g.Dims}
}

// Drone is one drone of the picture.
type Drone struct {
	ID      uint16 `json:"id"`
	Network uint8  `json:"net"`
	// Reported is false while no status was heard; Live whether its
	// data is recent.
	Reported bool `json:"reported"`
	Live     bool `json:"live"`
	// State is "booting", "standby", "armed", "flying", "holding",
	// "landing", "returning" or "failsafe"; Mode its flags in words
	// ("synced pos show emergency").
	State string `json:"state"`
	Mode  string `json:"mode"`
	// Leader marks the network's leader.
	Leader bool `json:"leader"`
	// Battery is in percent (-1 unknown); GPSFix the fix type and
	// Satellites the satellites seen (-1 unknown).
	Battery    int   `json:"battery"`
	GPSFix     uint8 `json:"gps"`
	Satellites int   `json:"sats"`
	// Loss is the share of frames it missed lately (percent),
	// Retransmits its recent retransmissions.
	Loss        int `json:"loss"`
	Retransmits int `json:"retx"`
	// Color is "#rrggbb".
	Color string `json:"color"`
	// Cell is the first airspace cell it holds (-1 none), Cells how many.
	Cell  int `json:"cell"`
	Cells int `json:"cells"`
	// Preflight is 0 when its preflight checks pass, else the first
	// failing check.
	Preflight uint8 `json:"preflight"`
	// Ready is true when it is live, reports, passes preflight and has
	// a position: not-ready drones come first in the table.
	Ready bool `json:"ready"`
	// Pos is where it is (X north, Y west, Z up, metres); Planned where
	// the show wants it now, nil when no show plays.
	Pos     [3]float64  `json:"pos"`
	Planned *[3]float64 `json:"planned,omitempty"`
	// ShowT is the show time it reports, in seconds (0: no show runs).
	ShowT float64 `json:"showT"`
	// Show is the digest of the show it holds verified, "0x…" (""
	// none).
	Show string `json:"show,omitempty"`
	// Applied is the log index of the last command it applied.
	Applied uint32 `json:"applied"`
	// AgeMS is the age of its data in milliseconds (-1 never heard).
	AgeMS int64 `json:"ageMs"`
}

// LogEntry is one command of the log.
type LogEntry struct {
	// At is when it was sent; Network, Index where it was committed
	// (Index 0: emergency, or not accepted).
	At      time.Time `json:"at"`
	Network uint8     `json:"net"`
	Index   uint32    `json:"index"`
	Command string    `json:"command"`
	// Applied counts the drones that applied it, Of the drones of its
	// network.
	Applied int `json:"applied"`
	Of      int `json:"of"`
	// Error is why it failed, empty when it did not.
	Error string `json:"error,omitempty"`
}

// ShowClock is the show's progress.
type ShowClock struct {
	// Loaded is true when a show is known; Running once it started.
	Loaded  bool `json:"loaded"`
	Running bool `json:"running"`
	// T is the show time and Duration the show's length, in seconds;
	// Progress T over Duration in [0, 1].
	T        float64 `json:"t"`
	Duration float64 `json:"duration"`
	Progress float64 `json:"progress"`
	// SwarmTime is the swarm time (Unix ms), 0 when not synced.
	SwarmTime int64 `json:"swarmTime"`
}

// Channel is one network's channel now.
type Channel struct {
	Network uint8 `json:"net"`
	// Airtime is the share of the channel busy lately, in [0, 1]; Loss
	// the mean share of frames the drones missed, in [0, 1]; ClockErrMS
	// the error bound of the station's swarm time, in ms (-1: none, as
	// before the leader's time is heard, or just after a new leader).
	Airtime    float64 `json:"airtime"`
	Loss       float64 `json:"loss"`
	ClockErrMS float64 `json:"clockErrMs"`
}

// Sample is one point of a channel's time series.
type Sample struct {
	// T is seconds since the server started.
	T float64 `json:"t"`
	Channel
}

// Command is an operator command from the page.
type Command struct {
	// Op is "arm", "start", "pause", "resume", "land", "return", or
	// with Emergency "hold", "land", "return".
	Op string `json:"op"`
	// Emergency sends the signed emergency command, obeyed at once by
	// every drone; Confirm must then be true (the page asks first).
	Emergency bool `json:"emergency"`
	Confirm   bool `json:"confirm"`
}

// Errors of Command.Check.
var (
	ErrUnknownOp   = errors.New("web: unknown command")
	ErrUnconfirmed = errors.New("web: an emergency command needs confirm: true")
)

// Ops are the ordinary commands; EmergencyOps the emergency ones.
var (
	Ops          = []string{"arm", "start", "pause", "resume", "land", "return"}
	EmergencyOps = []string{"hold", "land", "return"}
)

// Check reports whether c is a command the dashboard sends.
func (c Command) Check() error {
	ops := Ops
	if c.Emergency {
		ops = EmergencyOps
	}
	for _, op := range ops {
		if c.Op == op {
			if c.Emergency && !c.Confirm {
				return ErrUnconfirmed
			}
			return nil
		}
	}
	return ErrUnknownOp
}
