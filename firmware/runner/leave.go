package runner

import (
	"math"
	"slices"
	"time"

	"github.com/skyquorum/skyquorum/swarm/airspace"
	"github.com/skyquorum/skyquorum/swarm/rth"
	"github.com/skyquorum/skyquorum/swarm/show"
)

// LeaveShow asks the drone to leave the show and fly home (a low battery,
// an operator recalling this drone). On the next ticks the runner:
//
//  1. plans a path home that keeps clear of every other drone's part of
//     the show (swarm/rth), from where the drone is in its show;
//  2. asks the airspace locks for every cell along that path, in the
//     locks' fixed global order, and keeps flying its show meanwhile: the
//     locks keep apart the drones that fly off the show, which the show's
//     plan does not know about;
//  3. once it holds them, plans again from where it is then, and flies the
//     new path if its cells are among those held (else it gives them back
//     and asks for the new ones);
//  4. flies the path by show time, as it flies the show (a PAUSE stops it
//     where the show stops), lands at home, and gives the cells back.
//
// A drone whose show is not running returns home with its flight
// controller's own return; one on the ground stays there. It may
// be called from any goroutine; the reason is logged.
func (r *Runner) LeaveShow(reason string) {
	r.leaveReq.Store(&reason)
}

// Leaving reports whether the drone is leaving the show, and whether it
// flies its planned path home now.
func (r *Runner) Leaving() (leaving, flying bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	l := r.fly.leave
	return l != nil, l != nil && l.path != nil
}

// leave is a departure from the show in progress.
type leave struct {
	reason string
	asked  []airspace.Cell // the cells asked for, nil: none
	path   *rth.Path       // the path flown, once its cells are held
	landed bool
	// retryAt is the swarm time from which to plan again after a plan
	// failed.
	retryAt int64
}

// replanEvery is how long a drone that could not plan its way home flies
// its show before it tries again.
const replanEvery = int64(time.Second)

// ShowGrid is the airspace grid for paths home when Config.Grid is not
// given: the show's fence (or its drones' paths) up to its altitude limit,
// in cells of about 10 m, within airspace.MaxCells. The dashboard shades
// the cells drones hold in this grid.
func ShowGrid(s *show.Show) (airspace.Grid, error) {
	lo := show.Vec3{X: math.Inf(1), Y: math.Inf(1)}
	hi := show.Vec3{X: math.Inf(-1), Y: math.Inf(-1), Z: s.Limits.MaxAltitude}
	grow := func(x, y, z float64) {
		lo.X, lo.Y = min(lo.X, x), min(lo.Y, y)
		hi.X, hi.Y, hi.Z = max(hi.X, x), max(hi.Y, y), max(hi.Z, z)
	}
	for _, p := range s.Fence.Polygon {
		grow(p[0], p[1], 0)
	}
	for _, d := range s.Drones {
		for _, k := range d.Path {
			grow(k.Pos.X, k.Pos.Y, k.Pos.Z)
			for _, c := range k.Ctrl {
				grow(c.X, c.Y, c.Z)
			}
		}
	}
	lo, hi = lo.Sub(show.Vec3{X: 5, Y: 5}), hi.Add(show.Vec3{X: 5, Y: 5, Z: 5})
	size := hi.Sub(lo)
	cell := 10.0
	for {
		dims := [3]int{int(math.Ceil(size.X / cell)), int(math.Ceil(size.Y / cell)), int(math.Ceil(size.Z / cell))}
		if dims[0]*dims[1]*dims[2] <= airspace.MaxCells {
			return airspace.NewGrid(airspace.Point{X: lo.X, Y: lo.Y, Z: 0},
				airspace.Point{X: cell, Y: cell, Z: cell}, dims)
		}
		cell *= 1.5
	}
}

// departing flies a departure from the show at swarm time now, and
// reports whether it took over the vehicle (false: fly the show).
func (f *flight) departing(r *Runner, now int64, st VehicleState) bool {
	l := f.leave
	p := r.node.Show()
	ph := p.Phase(now)
	v := r.cfg.Vehicle
	if l.path == nil && (ph != show.Running && ph != show.Paused || !st.Airborne || f.planner == nil) {
		// Not in a show's flight: nothing to plan around; the flight
		// controller's own return flies it home.
		if st.Airborne {
			f.once(r, "return", v.Return)
		}
		return true
	}
	t, rate, ok := p.FlightTime(now)
	if !ok {
		return false
	}
	at := time.Duration(t)
	locks := r.node.Locks()
	if l.path != nil {
		if at < l.path.End() {
			pos, vel := l.path.Position(at)
			f.follow(r, pos, vel.Scale(rate))
			return true
		}
		if !l.landed {
			f.once(r, "land", v.Land)
			if !st.Airborne {
				l.landed = true
				if err := locks.Release(); err != nil {
					r.log.Warn("runner: airspace cells not released", "err", err)
				}
				r.log.Info("runner: home after leaving the show", "reason", l.reason)
			}
		}
		return true
	}
	if l.asked != nil && locks.Cells() == nil {
		// The request ended without a grant (its lease ran out, the
		// locks were reset): ask again.
		l.asked = nil
	}
	// Plan only when the plan can be used: to ask for its cells (the
	// locks free), or once they are held. Planning costs up to tens of
	// milliseconds in a big show; the loop runs it at most once per
	// fly step, and not while the grant is awaited.
	if now < l.retryAt || l.asked == nil && locks.Cells() != nil || l.asked != nil && !locks.Holding() {
		return false
	}
	_, vel := f.track.Position(at)
	path, err := f.planner.Plan(r.showIndex(), st.Position, vel.Scale(rate), at, rth.Options{})
	if err == nil {
		var cells []airspace.Cell
		if cells, err = rth.Cells(f.grid, path); err == nil {
			switch {
			case l.asked == nil && locks.Cells() == nil:
				if err = locks.Acquire(cells); err == nil {
					l.asked = cells
					r.log.Info("runner: leaving the show: asking for the cells of the path home", "reason", l.reason, "cells", len(cells))
				}
			case l.asked != nil && locks.Holding():
				if subset(cells, l.asked) {
					l.path = &path
					r.log.Info("runner: leaving the show: flying home", "reason", l.reason, "layer_m", path.Layer, "until_s", path.End().Seconds())
					return f.departing(r, now, st)
				}
				// The path moved on while the cells were granted: ask
				// for the new ones.
				err = locks.Release()
				l.asked = nil
			}
		}
	}
	if err != nil {
		r.log.Warn("runner: leaving the show: no path home yet; flying the show meanwhile", "err", err)
		l.retryAt = now + replanEvery
	}
	return false
}

// subset reports whether every cell of a is in b (both sorted).
func subset(a, b []airspace.Cell) bool {
	for _, c := range a {
		if _, ok := slices.BinarySearch(b, c); !ok {
			return false
		}
	}
	return true
}
