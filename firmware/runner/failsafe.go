package runner

import (
	"time"

	"github.com/skyquorum/skyquorum/swarm/emergency"
)

// LinkAction is what a drone does when it lost its swarm (Config.LinkLoss).
type LinkAction int

// Link-loss actions.
const (
	LinkContinue LinkAction = iota
	LinkHold
	LinkLand
)

// DefaultLinkLossAfter is how long a drone is out of sync before its
// link-loss action, unless Config.LinkLossAfter says otherwise.
const DefaultLinkLossAfter = 10 * time.Second

// failsafe applies the link-loss and geofence failsafes at swarm time now
// (local: the local clock), and reports whether it took over the vehicle.
func (f *flight) failsafe(r *Runner, local int64, st VehicleState, running bool) bool {
	v := r.cfg.Vehicle
	if s := f.show; s != nil && st.Airborne && !r.cfg.NoGeofence {
		out := s.Limits.MaxAltitude > 0 && st.Position.Z > s.Limits.MaxAltitude
		if poly := s.Fence.Polygon; len(poly) >= 3 && !inside(poly, st.Position.X, st.Position.Y) {
			out = true
		}
		if out {
			r.log.Error("runner: outside the show's geofence: landing", "position", st.Position)
			f.alarm, f.last = emergency.Land, "land"
			if err := v.Land(); err != nil {
				r.log.Error("runner: vehicle refused to land", "err", err)
			}
			return true
		}
	}
	if r.node.InSync() || !running || !st.Airborne {
		f.outSince = 0
		return false
	}
	if f.outSince == 0 {
		f.outSince = local
	}
	after := r.cfg.LinkLossAfter
	if after <= 0 {
		after = DefaultLinkLossAfter
	}
	if local-f.outSince < int64(after) {
		return false
	}
	switch r.cfg.LinkLoss {
	case LinkHold:
		if f.last != "hold" {
			r.log.Warn("runner: swarm lost: holding until it is heard again", "for", time.Duration(local-f.outSince))
		}
		f.once(r, "hold", v.Hold)
		return true
	case LinkLand:
		r.log.Error("runner: swarm lost: landing", "for", time.Duration(local-f.outSince))
		f.alarm, f.last = emergency.Land, "land"
		if err := v.Land(); err != nil {
			r.log.Error("runner: vehicle refused to land", "err", err)
		}
		return true
	}
	return false
}

// inside reports whether (x, y) is inside the polygon (even-odd rule).
func inside(poly [][2]float64, x, y float64) bool {
	in := false
	for i, j := 0, len(poly)-1; i < len(poly); j, i = i, i+1 {
		a, b := poly[i], poly[j]
		if (a[1] > y) != (b[1] > y) && x < (b[0]-a[0])*(y-a[1])/(b[1]-a[1])+a[0] {
			in = !in
		}
	}
	return in
}

// Status bits a drone's heartbeats carry (membership.SetStatus), so that
// the leader and the ground station see each drone's state.
const (
	StatusArmed    = 1 << 0 // the vehicle is armed
	StatusAirborne = 1 << 1 // the vehicle is off the ground
	StatusFCSilent = 1 << 2 // the flight controller has not been heard lately: the drone is down
	StatusLeaving  = 1 << 3 // leaving the show (LeaveShow, a low battery)
	StatusFailsafe = 1 << 4 // a failsafe or an emergency command flies it
)

// status sets the status bits the drone's heartbeats carry.
func (f *flight) status(r *Runner, st VehicleState) {
	var bits uint8
	if st.Armed {
		bits |= StatusArmed
	}
	if st.Airborne {
		bits |= StatusAirborne
	}
	if st.Silent {
		bits |= StatusFCSilent
	}
	if f.leave != nil {
		bits |= StatusLeaving
	}
	if f.alarm != 0 {
		bits |= StatusFailsafe
	}
	if bits&StatusFCSilent != 0 && !f.silentLogged {
		r.log.Error("runner: the flight controller is silent: reporting this drone down to the swarm")
	}
	f.silentLogged = bits&StatusFCSilent != 0
	r.node.Membership().SetStatus(bits)
}
