package runner

import (
	"crypto/sha256"
	"fmt"
	"time"

	"github.com/skyquorum/skyquorum/swarm/airspace"
	"github.com/skyquorum/skyquorum/swarm/command"
	"github.com/skyquorum/skyquorum/swarm/emergency"
	"github.com/skyquorum/skyquorum/swarm/rth"
	"github.com/skyquorum/skyquorum/swarm/show"
)

// Vehicle is the flight controller as the runner needs it (the autopilot
// client implements it). Positions and velocities are in the show's
// frame: metres from the show's origin, X north, Y west, Z up; the client
// converts them for the flight controller. Calls come from Run's
// goroutine only.
type Vehicle interface {
	// State reports what the flight controller last told.
	State() VehicleState
	// Arm arms the motors on the ground.
	Arm() error
	// Follow flies to pos with velocity vel as a position setpoint with
	// velocity feed-forward; an armed vehicle on the ground takes off
	// towards it.
	Follow(pos, vel show.Vec3) error
	// Hold stops and holds the current position.
	Hold() error
	// Land lands where the vehicle is.
	Land() error
	// Return flies back to the launch point and lands there.
	Return() error
	// SetColour sets the show light.
	SetColour(c show.RGB) error
}

// VehicleState is the flight controller's last report. Silent is true
// when the flight controller has not been heard lately: the drone then
// reports itself down to the swarm (StatusFCSilent).
type VehicleState struct {
	Silent          bool
	Armed, Airborne bool
	Position        show.Vec3
	// Battery is the charge left in percent, when HasBattery (the flight
	// controller reported it).
	Battery    float64
	HasBattery bool
	// HasPosition is true when Position is the flight controller's
	// estimate (the ground station's POSITION_OK).
	HasPosition bool
	// Voltage is the battery voltage in volts, 0 when unknown.
	Voltage float64
	// GPSFix is the GPS fix type (GPS_FIX_TYPE: 3 is a 3D fix) and
	// Satellites the satellites visible, when HasGPS.
	GPSFix, Satellites uint8
	HasGPS             bool
	// Preflight is 0 when the preflight checks pass or were not run,
	// else the number of the first failing check.
	Preflight uint8
}

// flight flies the drone's part of the show from what the node's player
// says, as the simulator's scenario does (sitl/scenario/show.go, follow).
type flight struct {
	// show is the show whose part the drone flies (digest its digest),
	// one of the shows it holds verified: configured (Config.Show) and
	// received (the last show a show upload put on it).
	show    *show.Show
	track   *show.Track
	home    show.Vec3
	takeoff time.Duration // the show time the drone's part leaves the ground
	// launched is set once the drone was given its path in time to take
	// off (show.LateTakeoff): a flight controller may report the vehicle
	// on the ground for a moment after it began to climb.
	launched bool
	landing  time.Duration // the show time the drone's part ends, down
	digest   uint64
	hasShow  bool
	held     [2]heldShow // configured, received
	refused  uint64      // the loaded digest whose refusal was logged
	last     string      // the last one-shot action given: "arm", "land", "return", "hold"
	// planner plans a path home (LeaveShow) on grid, leave is a
	// departure in progress (nil: none).
	planner *rth.Planner
	grid    airspace.Grid
	leave   *leave
	// outSince is the local clock reading since which the drone has been
	// out of sync while flying the show (0: in sync).
	outSince int64
	// silentLogged: the flight controller's silence was logged.
	silentLogged bool
	// colour is the light colour last set.
	colour show.RGB
	// alarm is the emergency command being carried out (0: none). It
	// overrides the show: LAND and RETURN for the rest of the run, HOLD
	// until the log applies a command that moves the show on (START,
	// RESUME, TAKEOFF, LAND, RETURN).
	alarm emergency.Op
}

// obey carries out an emergency command at once (no majority needed).
func (f *flight) obey(r *Runner, op emergency.Op) {
	if f.alarm == emergency.Land || f.alarm == emergency.Return {
		if op == emergency.Hold {
			return // a landing or return is not stopped by a HOLD
		}
	}
	f.alarm = op
	r.log.Warn("runner: emergency command", "op", op)
	v := r.cfg.Vehicle
	if v == nil {
		return
	}
	var err error
	switch op {
	case emergency.Hold:
		err = v.Hold()
		f.last = "hold"
	case emergency.Land:
		err = v.Land()
		f.last = "land"
	case emergency.Return:
		err = v.Return()
		f.last = "return"
	}
	if err != nil {
		r.log.Error("runner: vehicle refused the emergency command", "op", op, "err", err)
	}
}

// applied takes up the show a LOAD names at once, so that the next
// status says whether the drone holds it, and ends an emergency HOLD when
// the log moves the show on.
func (f *flight) applied(r *Runner, c command.Command) {
	if c.Kind() == command.KindLoad && r.node != nil {
		f.loaded(r, r.node.Show())
	}
	if f.alarm != emergency.Hold {
		return
	}
	switch c.Kind() {
	case command.KindStart, command.KindResume, command.KindTakeoff, command.KindLand, command.KindReturn:
		f.alarm = 0
		r.log.Info("runner: emergency HOLD ended by the log", "command", c.Kind())
	}
}

// heldShow is a show the drone holds, and its digest (the first 8 bytes
// of the SHA-256 of its encoding, as LOAD names it).
type heldShow struct {
	show   *show.Show
	digest uint64
}

const (
	heldConfigured = iota
	heldReceived
)

// init takes the configured show, and the received one when a restored
// upload holds a whole show, and flies the configured one (the received
// one when there is none) until a LOAD names another.
func (f *flight) init(r *Runner) {
	if s := r.cfg.Show; s != nil {
		h, err := s.Hash()
		if err != nil {
			r.log.Error("runner: the show cannot be hashed", "err", err)
		} else {
			f.held[heldConfigured] = heldShow{show: s, digest: h.Digest()}
		}
	}
	if b := r.upload.rx.Show(); b != nil {
		f.received(r, b)
	}
	for _, h := range f.held {
		if h.show != nil {
			f.use(r, h)
			return
		}
	}
}

// received takes in a show the upload put on the drone, its SHA-256
// checked against the offer's.
func (f *flight) received(r *Runner, b []byte) {
	s, err := show.Decode(b)
	if err != nil {
		r.log.Error("runner: the received show does not decode; the drone does not hold it", "err", err)
		return
	}
	h := sha256.Sum256(b)
	f.held[heldReceived] = heldShow{show: s, digest: show.Hash(h).Digest()}
	r.log.Info("runner: holds a received show", "digest", fmt.Sprintf("%#016x", show.Hash(h).Digest()), "drones", len(s.Drones))
}

// holds returns the held show of the given digest: the configured one,
// the received one, or the one it flies (which a later upload may have
// replaced as the received one).
func (f *flight) holds(digest uint64) (heldShow, bool) {
	if digest == 0 {
		return heldShow{}, false
	}
	if f.hasShow && f.digest == digest {
		return heldShow{show: f.show, digest: f.digest}, true
	}
	for _, h := range f.held {
		if h.show != nil && h.digest == digest {
			return h, true
		}
	}
	return heldShow{}, false
}

// heldDigest is the digest SWARM_STATUS reports: the loaded show's when
// the drone holds it, else the received show's, else the configured
// show's; 0 when it holds none.
func (f *flight) heldDigest(r *Runner) uint64 {
	if r.node != nil {
		if _, d, ok := r.node.Show().Show(); ok {
			if _, held := f.holds(d); held {
				return d
			}
		}
	}
	for _, i := range []int{heldReceived, heldConfigured} {
		if f.held[i].show != nil {
			return f.held[i].digest
		}
	}
	return 0
}

// use makes h the show the drone flies; one it cannot fly (no part for
// this drone, malformed) is not tried again until another is loaded.
func (f *flight) use(r *Runner, h heldShow) {
	f.show, f.track, f.hasShow, f.planner, f.digest = nil, nil, false, nil, h.digest
	s := h.show
	k := r.showIndex()
	if k < 0 || k >= len(s.Drones) {
		r.log.Warn("runner: the show has no part for this drone", "digest", fmt.Sprintf("%#016x", h.digest), "drones", len(s.Drones))
		return
	}
	tr, err := s.Track(k)
	if err != nil {
		r.log.Error("runner: the show's part for this drone is malformed", "err", err)
		return
	}
	f.show, f.track, f.home, f.takeoff, f.landing, f.digest, f.hasShow, f.launched = s, tr, s.Drones[k].Home, s.Drones[k].Takeoff, s.Drones[k].Landing, h.digest, true, false
	if f.planner, err = rth.New(s); err != nil {
		r.log.Error("runner: no path home can be planned for this show", "err", err)
		return
	}
	if r.cfg.Grid != nil {
		f.grid = *r.cfg.Grid
	} else if f.grid, err = ShowGrid(s); err != nil {
		r.log.Error("runner: no airspace grid for this show", "err", err)
		f.planner = nil
	}
}

// loaded flies the show the swarm loaded when the drone holds it, and
// reports whether it does; a drone that does not hold it says so once
// per LOAD, and neither arms nor flies.
func (f *flight) loaded(r *Runner, p *show.Player) bool {
	_, digest, ok := p.Show()
	if !ok {
		return false
	}
	if digest != f.digest {
		if h, held := f.holds(digest); held {
			r.log.Info("runner: flies the loaded show", "digest", fmt.Sprintf("%#016x", digest))
			f.use(r, h)
		}
	}
	if f.hasShow && digest == f.digest {
		return true
	}
	if f.refused != digest {
		f.refused = digest
		r.log.Error("runner: refuses to arm: the swarm loaded a show this drone does not hold verified (or one with no part for it); it does not fly it",
			"loaded", fmt.Sprintf("%#016x", digest), "holds", fmt.Sprintf("%#016x", f.heldDigest(r)))
	}
	return false
}

// once gives a one-shot command, again only after another was given.
func (f *flight) once(r *Runner, what string, do func() error) {
	if f.last == what {
		return
	}
	if err := do(); err != nil {
		r.log.Warn("runner: vehicle refused", "action", what, "err", err)
		return
	}
	f.last = what
}

// step gives the vehicle what the show asks of it at the local clock
// reading: a drone out of sync with the swarm flies on, one that does
// not know swarm time holds; one whose loaded show is not Config.Show
// stays on the ground or holds.
func (f *flight) step(r *Runner, local int64) {
	v := r.cfg.Vehicle
	if v == nil || r.node == nil {
		return
	}
	st := v.State()
	f.status(r, st)
	if f.alarm != 0 {
		return
	}
	if low := r.cfg.LowBattery; low > 0 && st.HasBattery && st.Battery < low && st.Airborne && f.leave == nil {
		// The battery may not last the show: leave it and fly home, on
		// a path clear of the others with its airspace cells taken
		// (LeaveShow), or with the flight controller's own return when
		// no path can be planned for this show.
		r.log.Warn("runner: battery low: leaving the show", "remaining", st.Battery, "threshold", low)
		if f.planner == nil {
			f.alarm, f.last = emergency.Return, "return"
			if err := v.Return(); err != nil {
				r.log.Error("runner: vehicle refused to return", "err", err)
			}
			return
		}
		f.leave = &leave{reason: "battery low"}
	}
	p := r.node.Show()
	now := r.node.SwarmTime(local)
	ph := p.Phase(now)
	// A drone out of sync (it heard no leader lately, and may have
	// missed a PAUSE) flies on by its own show time: holding still in a
	// show whose paths cross that place would put it in the others' way
	// (docs/swarm.md). Only a drone that does not know swarm time at all
	// holds.
	if !r.node.TimeSync().Synced() {
		if st.Airborne {
			f.once(r, "hold", v.Hold)
		}
		return
	}
	if ph == show.Idle {
		return
	}
	if !f.loaded(r, p) {
		if st.Airborne {
			f.once(r, "hold", v.Hold)
		}
		return
	}
	if reason := r.leaveReq.Swap(nil); reason != nil && f.leave == nil {
		f.leave = &leave{reason: *reason} // the loop holds r.mu
		r.log.Warn("runner: leaving the show", "reason", *reason)
	}
	if f.failsafe(r, local, st, ph == show.Running || ph == show.Paused) {
		return
	}
	if f.leave != nil && f.departing(r, now, st) {
		return
	}
	switch ph {
	case show.Armed:
		if !st.Armed && caughtUp(r) {
			f.once(r, "arm", v.Arm)
		}
	case show.Airborne:
		f.follow(r, show.Vec3{X: f.home.X, Y: f.home.Y, Z: f.home.Z + p.Altitude()}, show.Vec3{})
	case show.Running, show.Paused:
		t, rate, ok := p.FlightTime(now)
		if !ok {
			return
		}
		if time.Duration(t) >= f.landing {
			// The drone's part is over and it is down at its landing
			// point: LAND stops the motors (the autopilot disarms on
			// the ground), and it is not armed again.
			if st.Armed || st.Airborne {
				f.once(r, "land", v.Land)
			}
			return
		}
		if !st.Airborne && !f.launched && time.Duration(t) > f.takeoff+show.LateTakeoff {
			// It missed its take-off: it stays down (show.LateTakeoff).
			return
		}
		if !st.Airborne && !f.launched && !caughtUp(r) {
			return
		}
		if !st.Armed {
			f.once(r, "arm", v.Arm)
		}
		f.launched = true
		pos, vel := f.track.Position(time.Duration(t))
		f.follow(r, pos, vel.Scale(rate))
		c := f.track.Colour(time.Duration(t))
		if err := v.SetColour(c); err != nil {
			r.log.Debug("runner: colour not set", "err", err)
		} else {
			f.colour = c
		}
	case show.Landing:
		if st.Airborne {
			f.once(r, "land", v.Land)
		}
	case show.Returning:
		if st.Airborne {
			f.once(r, "return", v.Return)
		}
	}
}

// caughtUp reports whether the drone has been caught up with the leader's
// command log since it started. A drone that starts again on the ground
// knows only the commands it stored: the ARM it stored may have been
// followed by a START, a LAND or another show while it was down, so it
// starts no motors until it hears where the log is now.
func caughtUp(r *Runner) bool {
	_, ok := r.node.Log().Log().SinceCaughtUp()
	return ok
}

func (f *flight) follow(r *Runner, pos, vel show.Vec3) {
	if err := r.cfg.Vehicle.Follow(pos, vel); err != nil {
		r.log.Warn("runner: setpoint refused", "err", err)
		return
	}
	f.last = ""
}

// stopping is a stop in progress.
type stopping struct {
	landing   bool  // waiting for the vehicle to be down
	released  bool  // the airspace cells were released
	drainTill int64 // tick until which the release may take to go out
}

// beginStop starts a stop: an airborne drone holds or lands
// (Config.OnStop); one on the ground stops at once.
func (r *Runner) beginStop() *stopping {
	s := &stopping{}
	v := r.cfg.Vehicle
	if v == nil || !v.State().Airborne {
		r.log.Info("runner: stopping on the ground")
		return s
	}
	switch r.cfg.OnStop {
	case OnStopHold:
		r.log.Warn("runner: stopping in the air: holding; the airspace cells stay taken until their leases end")
		if err := v.Hold(); err != nil {
			r.log.Error("runner: hold refused", "err", err)
		}
	default:
		r.log.Warn("runner: stopping in the air: landing first")
		if err := v.Land(); err != nil {
			r.log.Error("runner: land refused", "err", err)
		}
		s.landing = true
	}
	return s
}

// finished reports whether the stop is complete: a landing drone is down
// and its released cells had time to go out.
func (s *stopping) finished(r *Runner) bool {
	if s == nil {
		return false
	}
	if !s.landing {
		return true
	}
	if r.cfg.Vehicle.State().Airborne {
		return false
	}
	if !s.released {
		s.released = true
		if r.node != nil && r.node.Locks().Cells() != nil {
			// Down, so out of its cells: give them back.
			if err := r.node.Locks().Release(); err != nil {
				r.log.Warn("runner: release refused", "err", err)
			}
			r.flush()
			s.drainTill = r.ticks + int64(time.Second/r.cfg.Tick)
		}
		r.log.Info("runner: landed; airspace released")
	}
	return r.ticks >= s.drainTill || r.ep.Pending() == 0
}
