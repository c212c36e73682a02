package show

import (
	"errors"
	"fmt"
	"math"

	"github.com/skyquorum/skyquorum/swarm/command"
)

// Phase is what a drone is doing.
type Phase uint8

// Phases, in the order a show goes through them.
const (
	// Idle: no show loaded.
	Idle Phase = iota
	// Loaded: a show loaded, motors not armed.
	Loaded
	// Armed: motors armed, on the ground.
	Armed
	// Airborne: hovering at Altitude after TAKEOFF, the show not running.
	Airborne
	// Running: flying the show at ShowTime.
	Running
	// Paused: holding the show's position at ShowTime, which stands still.
	Paused
	// Landing: landing where the drone is.
	Landing
	// Returning: flying back to the launch point to land.
	Returning
)

var phaseNames = [...]string{
	Idle: "IDLE", Loaded: "LOADED", Armed: "ARMED", Airborne: "AIRBORNE",
	Running: "RUNNING", Paused: "PAUSED", Landing: "LANDING", Returning: "RETURNING",
}

// String names the phase.
func (p Phase) String() string {
	if int(p) < len(phaseNames) {
		return phaseNames[p]
	}
	return fmt.Sprintf("Phase(%d)", uint8(p))
}

// Sentinel errors.
var (
	// ErrRefused: a show command that the rules refuse in the log's phase.
	ErrRefused = errors.New("show: command refused")
	// ErrNotShow: a command that is not a show command.
	ErrNotShow = errors.New("show: not a show command")
)

// pause is the interval [at, resume) during which show time stands still;
// resume is meaningless while the pause is open (Player.paused).
type pause struct{ at, resume int64 }

// Player is the show state of one drone, a function of the show commands
// applied. The zero Player is Idle and ready to use. It is not safe for
// concurrent use.
type Player struct {
	loaded     bool
	show       uint32
	digest     uint64
	armed      bool
	airborne   bool // TAKEOFF applied
	altitudeCM uint16
	started    bool
	start      int64
	pauses     []pause // in time order, not overlapping
	paused     bool    // the last pause has no RESUME yet
	latest     int64   // the latest START, PAUSE or RESUME time
	end        Phase   // Landing or Returning once LAND or RETURN applied, else Idle
	r, g, b    uint8
}

// NewPlayer returns an Idle player.
func NewPlayer() *Player { return &Player{} }

// logPhase is the phase once every time the log names has passed: the
// phase the rules look at.
func (p *Player) logPhase() Phase {
	switch {
	case p.end != Idle:
		return p.end
	case p.started && p.paused:
		return Paused
	case p.started:
		return Running
	}
	return p.groundPhase()
}

// groundPhase is the phase before the show starts.
func (p *Player) groundPhase() Phase {
	switch {
	case p.airborne:
		return Airborne
	case p.armed:
		return Armed
	case p.loaded:
		return Loaded
	}
	return Idle
}

// Apply plays the next show command of the log. A command the rules refuse
// (see the package documentation) returns an error wrapping ErrRefused
// and changes nothing; so does a command that command.Validate refuses
// (the error wraps command.ErrMalformed too). VIEW and ACTIVATE, and
// anything not a show command of package command, return an error wrapping
// ErrNotShow.
func (p *Player) Apply(c command.Command) error {
	switch c.(type) {
	case command.Load, command.Arm, command.Takeoff, command.Start, command.Pause,
		command.Resume, command.Land, command.Return, command.Lights:
	case command.View, command.Activate:
		return fmt.Errorf("show: %s: the swarm's own command, for the airspace membership, not the player: %w", c, ErrNotShow)
	default:
		return fmt.Errorf("show: %T: not a show command of package command: %w", c, ErrNotShow)
	}
	if err := command.Validate(c); err != nil {
		return fmt.Errorf("show: %s refused: %w: %w", c, err, ErrRefused)
	}
	phase := p.logPhase()
	refuse := func(format string, args ...any) error {
		return fmt.Errorf("show: %s refused in phase %s: %s: %w", c, phase, fmt.Sprintf(format, args...), ErrRefused)
	}
	switch c := c.(type) {
	case command.Load:
		if phase != Idle && phase != Loaded {
			return refuse("a show is loaded before ARM only")
		}
		p.loaded, p.show, p.digest = true, c.Show, c.Digest

	case command.Arm:
		switch phase {
		case Idle:
			return refuse("no show loaded; LOAD one first")
		case Loaded:
			p.armed = true
		default:
			return refuse("already armed")
		}

	case command.Takeoff:
		switch phase {
		case Idle, Loaded:
			return refuse("not armed; ARM first")
		case Armed:
			p.airborne, p.altitudeCM = true, c.AltitudeCM
		case Airborne:
			return refuse("already airborne")
		default:
			return refuse("TAKEOFF comes before START")
		}

	case command.Start:
		switch phase {
		case Idle, Loaded:
			return refuse("not armed; ARM first")
		case Armed, Airborne:
			p.started, p.start, p.latest = true, c.At, c.At
		case Running, Paused:
			return refuse("the show started at %s; a show starts once", command.Seconds(p.start))
		default:
			return refuse("the show is over")
		}

	case command.Pause:
		switch {
		case phase == Paused:
			return refuse("already paused at %s; RESUME first", command.Seconds(p.pauses[len(p.pauses)-1].at))
		case phase != Running:
			return refuse("no show running; START first")
		case c.At < p.start:
			return refuse("before the START at %s", command.Seconds(p.start))
		case c.At < p.latest:
			return refuse("before the last RESUME at %s", command.Seconds(p.latest))
		}
		p.pauses = append(p.pauses, pause{at: c.At})
		p.paused, p.latest = true, c.At

	case command.Resume:
		switch {
		case phase == Running:
			return refuse("not paused; PAUSE first")
		case phase != Paused:
			return refuse("no show paused")
		case c.At < p.latest:
			return refuse("before the PAUSE at %s", command.Seconds(p.latest))
		}
		p.pauses[len(p.pauses)-1].resume = c.At
		p.paused, p.latest = false, c.At

	case command.Land, command.Return:
		if phase == Idle || phase == Loaded {
			return refuse("not armed; nothing to land")
		}
		p.end = Landing
		if c.Kind() == command.KindReturn {
			p.end = Returning
		}

	case command.Lights:
		p.r, p.g, p.b = c.R, c.G, c.B
	}
	return nil
}

// Phase returns what the drone should be doing at swarm time t (ns).
func (p *Player) Phase(t int64) Phase {
	switch {
	case p.end != Idle:
		return p.end
	case !p.started || t < p.start:
		return p.groundPhase()
	}
	if n := len(p.pauses); n > 0 {
		// Pauses are in time order: only the last one that began by t
		// can contain it.
		for i := n - 1; i >= 0; i-- {
			if q := p.pauses[i]; t >= q.at {
				if (i == n-1 && p.paused) || t < q.resume {
					return Paused
				}
				break
			}
		}
	}
	return Running
}

// ShowTime returns the show time at swarm time t, in ns: the time since
// the start, less the time paused. It is false when no show has started by
// t, and once LAND or RETURN is applied: LAND carries no time, so the show
// ends, at every drone, when the drone applies it.
func (p *Player) ShowTime(t int64) (int64, bool) {
	if !p.started || p.end != Idle {
		return 0, false
	}
	if t < p.start {
		return 0, false
	}
	st := t - p.start
	for i, q := range p.pauses {
		if t <= q.at {
			break
		}
		resume := t
		if i < len(p.pauses)-1 || !p.paused {
			resume = min(q.resume, t)
		}
		st -= resume - q.at
	}
	return st, true
}

// Show returns the loaded show's ID and digest, false if none is loaded.
func (p *Player) Show() (id uint32, digest uint64, ok bool) {
	return p.show, p.digest, p.loaded
}

// Lights returns the colour of the last LIGHTS, black before any.
func (p *Player) Lights() (r, g, b uint8) { return p.r, p.g, p.b }

// Altitude returns the altitude of the last TAKEOFF in metres, 0 before
// any.
func (p *Player) Altitude() float64 { return float64(p.altitudeCM) / 100 }

// Brake is how long the show takes to come to a stop after a PAUSE, and
// to get back to full speed after a RESUME (FlightTime).
const Brake = 2_000_000_000 // ns

// FlightTime returns the show time a drone flies at swarm time t, and how
// fast show time runs then (1 at full speed, 0 stopped). It is ShowTime
// made flyable: a drone cannot stop dead, so from a PAUSE the show's rate
// falls linearly to 0 over Brake, and from a RESUME it rises back to 1
// over Brake (from where it was, if the RESUME came before the show had
// stopped). Every drone brakes on the same show time, so the formation
// stays what the show plans at every instant, and a drone flying its path
// at the rate needs only its path's speed divided by Brake of
// deceleration. Show time then runs on for Brake/2 after the PAUSE's time
// and stands still at that point until the RESUME; it never goes
// backwards. The second result is false when ShowTime's is.
func (p *Player) FlightTime(t int64) (st int64, rate float64, ok bool) {
	if !p.started || p.end != Idle || t < p.start {
		return 0, 0, false
	}
	// Integrate the rate, piecewise linear, from the start to t.
	var (
		at   = p.start // where the integration has got to
		r    = 1.0     // the rate there
		show float64   // show time accumulated, ns
	)
	// run integrates from at to the end (at most t) with the rate moving
	// towards target at 1/Brake per ns.
	run := func(end int64, target float64) {
		end = min(end, t)
		if end <= at {
			return
		}
		span := float64(end - at)
		if r != target {
			ramp := math.Abs(target-r) * Brake // ns to reach the target
			d := math.Min(ramp, span)
			next := r + (target-r)*d/ramp
			show += (r + next) / 2 * d
			r = next
			span -= d
			if d == ramp {
				r = target
			}
		}
		show += r * span
		at = end
	}
	for i, q := range p.pauses {
		run(q.at, 1)
		resume := q.resume
		if i == len(p.pauses)-1 && p.paused {
			resume = math.MaxInt64
		}
		run(resume, 0)
	}
	run(math.MaxInt64, 1)
	return int64(math.Round(show)), r, true
}
