package swarm

import (
	"math"

	"github.com/skyquorum/skyquorum/swarm/show"
)

// GPS time (docs/swarm.md, "Swarm time and GPS time"): the driver passes
// the flight controller's GPS time; the leader steers the swarm time it
// serves towards it (package timesync) while the swarm names no swarm
// time yet, and holds the gap to it from a show's START to its end.

// SetGPSTime passes a reading of the flight controller's GPS time, gps (ns
// since the Unix epoch), taken at local clock reading local. The driver
// passes one every second or so while the flight controller has a fix,
// and calls LoseGPS when it has none.
func (n *Node) SetGPSTime(local, gps int64) {
	n.holdGPSGap()
	n.clock.SetGPSTime(local, gps)
}

// LoseGPS tells that the flight controller has no GPS time: the leader
// serves the swarm time it has at its own clock's rate.
func (n *Node) LoseGPS() { n.clock.LoseGPS() }

// GPSGap returns the drone's swarm time minus its GPS time (ns); ok is
// false while it has either not. On the leader it is the gap it steers;
// on a follower, that gap plus its own error against the leader (a few
// ms). Swarm time is GPS time while ok and the gap is within a few ms.
func (n *Node) GPSGap() (gap int64, ok bool) { return n.clock.GPSGap() }

// holdGPSGap tells time sync to keep the gap between swarm time and GPS
// time while the swarm has named a swarm time that has not passed, or
// flies by swarm time: a show STARTed (its START pending, running or
// paused) and not over, or an airspace view waiting for its activation.
// Closing the gap then would move those times against GPS time, and
// between the networks of one show.
func (n *Node) holdGPSGap() {
	phase := n.show.Phase(math.MaxInt64) // once every time the log named has passed
	n.clock.HoldGPSGap(phase == show.Running || phase == show.Paused || n.inForce < len(n.views))
}
