package rth

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/skyquorum/skyquorum/swarm/show"
)

// ErrNoPath wraps every error of a plan that found no clear path.
var ErrNoPath = errors.New("rth: no clear path home")

// ErrInput wraps the errors of a request that cannot be planned: a drone
// not in the show, a position or velocity that is not finite.
var ErrInput = errors.New("rth: bad request")

// DefaultMaxFollow is how long a drone may follow its show before it
// leaves, unless Options say otherwise.
const DefaultMaxFollow = 2 * time.Minute

// minMargin is the smallest Margin.
const minMargin = 0.05

// DefaultLimits stand in for a show limit of zero (no limit): a drone
// still flies home at a finite speed.
var DefaultLimits = show.Limits{MaxSpeedXY: 5, MaxSpeedUp: 2.5, MaxSpeedDown: 1.5, MaxAccel: 3}

// Options tune a plan. The zero value is the default for every field.
type Options struct {
	// Margin is kept beyond the show's MinDistance at sampled instants,
	// half of it at every instant (default 0.5 m, at least 5 cm: the
	// sweep steps by the margin's worth of closing). A drone leaves its
	// show from where the show put it: a margin larger than the show's
	// own spacing beyond MinDistance leaves it no clear first leg.
	Margin float64
	// FenceMargin is kept from the geofence's edges (default 1 m).
	FenceMargin float64
	// Use is the share of each speed and acceleration limit the path
	// may take (default 0.9, at most 1).
	Use float64
	// MaxWait bounds the total hovering of a path (default 2 min).
	MaxWait time.Duration
	// Step is the unit of waits and of following the show (default
	// 500 ms).
	Step time.Duration
	// MaxFollow is how long the drone may keep flying its show before it
	// leaves it (default 2 min; negative: it leaves at once, for a
	// drone that must not fly on). Following needs the drone within
	// Tolerance of its show position and velocity.
	MaxFollow time.Duration
	// Tolerance is how close (m, and m/s) the drone must be to its show
	// state to follow its show (default 1).
	Tolerance float64
	// Land makes the path end at the drone's landing position instead of
	// its home.
	Land bool
}

func (o Options) withDefaults() Options {
	if !(o.Margin > 0) {
		o.Margin = 0.5
	}
	o.Margin = max(o.Margin, minMargin)
	if !(o.FenceMargin >= 0) {
		o.FenceMargin = 0
	} else if o.FenceMargin == 0 {
		o.FenceMargin = 1
	}
	if !(o.Use > 0) || o.Use > 1 {
		o.Use = 0.9
	}
	if o.MaxWait <= 0 {
		o.MaxWait = 2 * time.Minute
	}
	if o.Step <= 0 {
		o.Step = 500 * time.Millisecond
	}
	switch {
	case o.MaxFollow == 0:
		o.MaxFollow = DefaultMaxFollow
	case o.MaxFollow < 0:
		o.MaxFollow = 0
	}
	if !(o.Tolerance > 0) {
		o.Tolerance = 1
	}
	return o
}

// Path is a planned return: keyframes in show time from the instant the
// drone leaves to the instant it is on the ground at its target, at rest.
type Path struct {
	// Keyframes: the first at the leaving time where the drone is (at
	// its show position, if the path follows the show: within
	// Options.Tolerance), the last on the ground at the target; segments
	// as in a show.
	Keyframes []show.Keyframe
	// Target is where the path lands (the home or the landing position).
	Target show.Vec3
	// Layer is the transit altitude.
	Layer float64
	// Follow is how long the path keeps to the drone's show trajectory;
	// Wait how long it hovers in all.
	Follow, Wait time.Duration
	// Clearance is the least distance to another drone at the instants
	// the planner sampled; drones whose bounding boxes stayed farther
	// than MinDistance + Margin are not sampled, and when none came that
	// close it is +Inf.
	Clearance float64
}

// Start and End are the show times of the path's first and last
// keyframes.
func (p Path) Start() time.Duration { return p.Keyframes[0].At }

// End is the show time the drone is on the ground.
func (p Path) End() time.Duration { return p.Keyframes[len(p.Keyframes)-1].At }

// Position returns the position and velocity on the path at show time t:
// before its start at the first keyframe (with the velocity the path
// starts with), after its end at the target, at rest.
func (p Path) Position(t time.Duration) (pos, vel show.Vec3) {
	k := p.Keyframes
	if len(k) == 1 || t >= k[len(k)-1].At {
		return k[len(k)-1].Pos, show.Vec3{}
	}
	if t <= k[0].At {
		_, v := show.SegmentOf(k, 1).At(k[0].At)
		return k[0].Pos, v
	}
	i := sort.Search(len(k), func(i int) bool { return k[i].At > t })
	return show.SegmentOf(k, i).At(t)
}

// Conflict is why a leg was refused: it would bring the drone within
// Limit of drone Drone (1-based, the swarm ID) at show time At.
type Conflict struct {
	Drone    int
	At       time.Duration
	Distance float64
	Limit    float64
	Layer    float64 // NaN while following the show
	What     string  // the leg: "brake", "climb", "transit", "descent", "hover", "landed", "following the show"
}

func (c *Conflict) Error() string {
	leg := c.What
	if !math.IsNaN(c.Layer) {
		leg = fmt.Sprintf("%s at layer %.1f m", c.What, c.Layer)
	}
	return fmt.Sprintf("%s meets drone %d at show time %v: %.2f m apart, want %.2f m",
		leg, c.Drone, c.At.Round(time.Millisecond), c.Distance, c.Limit)
}

// seg is a piece of a trajectory with what the sweep needs: its times
// in seconds, its bounding box and a bound on its speed.
type seg struct {
	s      show.Segment
	a, b   float64 // start and end, seconds
	lo, hi show.Vec3
	v      float64
}

func newSeg(s show.Segment) seg {
	g := seg{s: s, a: s.Start.Seconds(), b: s.End.Seconds()}
	g.lo, g.hi = s.Points[0], s.Points[0]
	for _, p := range s.Points[1:] {
		g.lo = show.Vec3{X: min(g.lo.X, p.X), Y: min(g.lo.Y, p.Y), Z: min(g.lo.Z, p.Z)}
		g.hi = show.Vec3{X: max(g.hi.X, p.X), Y: max(g.hi.Y, p.Y), Z: max(g.hi.Z, p.Z)}
	}
	if s.End > s.Start && len(s.Points) > 1 {
		for _, h := range s.Hodograph() {
			g.v = max(g.v, h.Norm())
		}
	}
	return g
}

func (g *seg) at(t float64) show.Vec3 {
	if g.v == 0 {
		return g.s.Points[0]
	}
	p, _ := g.s.At(secs(t))
	return p
}

func secs(t float64) time.Duration { return time.Duration(math.Round(t * 1e9)) }

// boxDist is the distance between two axis-aligned boxes.
func boxDist(alo, ahi, blo, bhi show.Vec3) float64 {
	gap := func(al, ah, bl, bh float64) float64 { return max(0, bl-ah, al-bh) }
	return math.Sqrt(sq(gap(alo.X, ahi.X, blo.X, bhi.X)) + sq(gap(alo.Y, ahi.Y, blo.Y, bhi.Y)) + sq(gap(alo.Z, ahi.Z, blo.Z, bhi.Z)))
}

func sq(v float64) float64 { return v * v }

// traj is another drone's trajectory: at its first position until first,
// its segments, at its last position from last on.
type traj struct {
	segs        []seg
	first, last show.Vec3
	t0, t1      float64
}

// Planner holds a show prepared for planning: every drone's segments with
// their bounding boxes and speed bounds. It is read only once built, so
// that one Planner serves any number of Plan calls, concurrent ones too.
type Planner struct {
	s      *show.Show
	trajs  []traj
	tops   []float64 // highest point of each trajectory
	ground float64   // lowest home or landing position
	end    float64   // the show's end, seconds
	index  *index
}

// New prepares s for planning. It fails if s is not well formed.
func New(s *show.Show) (*Planner, error) {
	if err := s.Check(); err != nil {
		return nil, fmt.Errorf("rth: %w", err)
	}
	p := &Planner{s: s, trajs: make([]traj, len(s.Drones)), tops: make([]float64, len(s.Drones)), ground: math.Inf(1), end: s.Duration().Seconds()}
	for k := range s.Drones {
		d := &s.Drones[k]
		path := d.Path
		tr := traj{first: path[0].Pos, last: path[len(path)-1].Pos, t0: path[0].At.Seconds(), t1: path[len(path)-1].At.Seconds()}
		tr.segs = make([]seg, 0, len(path)-1)
		top := max(tr.first.Z, tr.last.Z)
		for i := 1; i < len(path); i++ {
			g := newSeg(show.SegmentOf(path, i))
			tr.segs = append(tr.segs, g)
			top = max(top, g.hi.Z)
		}
		p.trajs[k], p.tops[k] = tr, top
		p.ground = min(p.ground, d.Home.Z, d.Land.Z)
	}
	p.index = newIndex(p.trajs, p.end, max(5, 2*s.Limits.MinDistance))
	return p, nil
}

// Plan plans drone's return home (drone counts from 0) from position
// from with velocity vel at show time at, in show s. See the package
// documentation for what the path guarantees.
func Plan(s *show.Show, drone int, from, vel show.Vec3, at time.Duration, opt Options) (Path, error) {
	p, err := New(s)
	if err != nil {
		return Path{}, err
	}
	return p.Plan(drone, from, vel, at, opt)
}

// plan is one Plan call's state.
type plan struct {
	*Planner
	drone   int
	opt     Options
	lim     show.Limits // the share of the limits the path may use
	minDist float64     // MinDistance
	r       float64     // MinDistance + Margin: clear at samples
	guard   float64     // MinDistance + Margin/2: clear at every instant
	fence   [][2]float64
	clear   float64 // least distance sampled on the legs accepted so far
	last    *Conflict
	// noFirstWait: no hover before the first leg of a drone leaving
	// from rest (it may follow its show instead).
	noFirstWait bool
	measure     bool     // check only measures: no distance is a conflict
	seen        []uint32 // scratch of the index's queries
	stamp       uint32
	near        []int32
}

// Plan plans drone's return home; see the package function Plan.
func (p *Planner) Plan(drone int, from, vel show.Vec3, at time.Duration, opt Options) (Path, error) {
	if drone < 0 || drone >= len(p.trajs) {
		return Path{}, fmt.Errorf("%w: drone %d, the show has %d (0 to %d)", ErrInput, drone, len(p.trajs), len(p.trajs)-1)
	}
	for _, v := range []float64{from.X, from.Y, from.Z, vel.X, vel.Y, vel.Z} {
		if math.IsNaN(v) || math.IsInf(v, 0) || math.Abs(v) > show.MaxCoordinate {
			return Path{}, fmt.Errorf("%w: position %v or velocity %v is not finite", ErrInput, from, vel)
		}
	}
	if at < 0 || at > show.MaxDuration {
		return Path{}, fmt.Errorf("%w: show time %v, want 0 to %v", ErrInput, at, show.MaxDuration)
	}
	opt = opt.withDefaults()
	l := p.s.Limits
	pick := func(v, def float64) float64 {
		if v > 0 {
			return v * opt.Use
		}
		return def * opt.Use
	}
	q := &plan{Planner: p, drone: drone, opt: opt, minDist: l.MinDistance, fence: p.s.Fence.Polygon, clear: math.Inf(1),
		seen: make([]uint32, len(p.trajs))}
	q.lim = show.Limits{
		MaxSpeedXY:   pick(l.MaxSpeedXY, DefaultLimits.MaxSpeedXY),
		MaxSpeedUp:   pick(l.MaxSpeedUp, DefaultLimits.MaxSpeedUp),
		MaxSpeedDown: pick(l.MaxSpeedDown, DefaultLimits.MaxSpeedDown),
		MaxAccel:     pick(l.MaxAccel, DefaultLimits.MaxAccel),
	}
	q.r = l.MinDistance + opt.Margin
	q.guard = l.MinDistance + opt.Margin/2
	target := p.s.Drones[drone].Home
	if opt.Land {
		target = p.s.Drones[drone].Land
	}

	// The instants the drone may leave from: now, from where it is, and
	// (if it is on its show) later instants of its show.
	own := &p.trajs[drone]
	showPos, showVel := trajAt(own, at.Seconds())
	follow := opt.MaxFollow > 0 && from.Dist(showPos) <= opt.Tolerance && vel.Dist(showVel) <= opt.Tolerance
	var firstErr error
	var prefix []seg
	for te := at; te <= at+opt.MaxFollow; te += opt.Step {
		start, v := from, vel
		if te > at {
			if !follow {
				break
			}
			piece := ownPiece(own, (te - opt.Step).Seconds(), te.Seconds())
			if c := q.checkShow(piece); c != nil {
				// Its own show brings it close to another drone: the
				// show is not safe, following it further is no way out.
				q.last = c
				break
			}
			prefix = append(prefix, piece...)
			start, v = trajAt(own, te.Seconds())
		}
		// While it may follow its show longer, a drone at rest does not
		// hover before its first leg: following the show is at least as
		// safe, and the next instants are tried anyway.
		q.noFirstWait = follow && te+opt.Step <= at+opt.MaxFollow
		path, err := q.from(prefix, start, v, te, target)
		if err == nil {
			path.Follow = te - at
			if len(prefix) > 0 {
				path.Keyframes = append(keyframesOf(prefix), path.Keyframes[1:]...)
			}
			return path, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr == nil {
		firstErr = q.last
	}
	how := fmt.Sprintf("waiting up to %v", opt.MaxWait)
	if follow {
		how += fmt.Sprintf(", following its show up to %v", opt.MaxFollow)
	}
	return Path{}, fmt.Errorf("%w for drone %d leaving at %v from %v (%s); leaving at once, %w", ErrNoPath, drone+1, at, from, how, firstErr)
}

// from plans from start with velocity v at show time te: brake, then the
// legs through the first layer that works.
func (q *plan) from(prefix []seg, start, v show.Vec3, te time.Duration, target show.Vec3) (Path, error) {
	t := te.Seconds()
	var brake []seg
	p0 := start
	first := q.noFirstWait
	if speed := v.Norm(); speed > 1e-9 {
		dur := speed / q.lim.MaxAccel
		p1 := start.Add(v.Scale(dur / 2))
		brake = []seg{newSeg(show.Segment{Start: secs(t), End: secs(t + dur), Points: []show.Vec3{start, p1, p1}})}
		if err := q.fenceLeg(start, p1); err != nil {
			return Path{}, err
		}
		if p1.Z < min(q.ground, target.Z) {
			return Path{}, fmt.Errorf("braking from %v at %v ends %.2f m below the ground", start, v, min(q.ground, target.Z)-p1.Z)
		}
		if c := q.check(brake, "brake", math.NaN()); c != nil {
			q.last = c
			return Path{}, c
		}
		t += dur
		p0 = p1
		first = false
	}
	var firstErr error
	var best Path
	var bestLegs []seg
	for _, z := range q.layers(p0, target) {
		legs, wait, err := q.legs(p0, t, z, target, first)
		if err != nil {
			if firstErr == nil {
				firstErr = err
			}
			continue
		}
		kf := []show.Keyframe{{At: te, Pos: start}}
		if len(brake)+len(legs) > 0 {
			kf = keyframesOf(append(append([]seg{}, brake...), legs...))
		}
		// The layer that lands first wins; the first tried on a tie.
		if best.Keyframes == nil || kf[len(kf)-1].At < best.End() {
			best = Path{Keyframes: kf, Target: target, Layer: z, Wait: wait}
			bestLegs = legs
		}
	}
	if best.Keyframes != nil {
		// Measure the chosen path's clearance on its own, sampling on
		// past distances closer than R (the show's own, while it
		// follows it).
		q.clear, q.measure = math.Inf(1), true
		q.check(append(append(append([]seg{}, prefix...), brake...), bestLegs...), "path", best.Layer)
		best.Clearance, q.measure = q.clear, false
		return best, nil
	}
	if firstErr == nil {
		firstErr = errors.New("no transit layer fits under the altitude limit")
	}
	return Path{}, firstErr
}

// layers returns the transit altitudes to try, in order.
func (q *plan) layers(p0, target show.Vec3) []float64 {
	var out []float64
	ceiling := q.s.Limits.MaxAltitude
	fits := func(z float64) bool { return ceiling <= 0 || z <= ceiling }
	top := math.Inf(-1)
	for j, z := range q.tops {
		if j != q.drone {
			top = max(top, z)
		}
	}
	top += q.r
	if fits(top) {
		out = append(out, top)
	}
	if fits(p0.Z) && p0.Z >= max(q.ground, target.Z) {
		out = append(out, p0.Z)
	}
	low := max(q.ground, target.Z) + q.r
	for k := 1; k <= 6; k++ {
		z := top - float64(k)*(top-low)/6
		if z >= low && fits(z) {
			out = append(out, z)
		}
	}
	return out
}

// legs plans the climb (or descent) to layer z, the transit at z and the
// descent to target from p0 at rest at time t (seconds), each after the
// shortest wait that makes it clear, and checks the landed drone to the
// end of the show.
func (q *plan) legs(p0 show.Vec3, t, z float64, target show.Vec3, noFirstWait bool) ([]seg, time.Duration, error) {
	var out []seg
	waited := 0.0
	maxWait := q.opt.MaxWait.Seconds()
	step := q.opt.Step.Seconds()
	pts := []show.Vec3{p0, {X: p0.X, Y: p0.Y, Z: z}, {X: target.X, Y: target.Y, Z: z}, target}
	names := []string{"climb", "transit", "descent"}
	cur := p0
	for i := 1; i < len(pts); i++ {
		next := pts[i]
		if next.Dist(cur) < 1e-6 {
			continue
		}
		if err := q.fenceLeg(cur, next); err != nil {
			return nil, 0, err
		}
		leg := q.straight(cur, next, t)
		var hover []seg
		for {
			c := q.check(leg, names[i-1], z)
			if c == nil {
				break
			}
			q.last = c
			if waited+step > maxWait+1e-9 || (noFirstWait && cur == p0) {
				return nil, 0, c
			}
			h := newSeg(show.Segment{Start: secs(t), End: secs(t + step), Points: []show.Vec3{cur}})
			if hc := q.check([]seg{h}, "hover", z); hc != nil {
				q.last = hc
				return nil, 0, hc
			}
			hover = append(hover, h)
			waited += step
			t += step
			leg = q.straight(cur, next, t)
		}
		if len(hover) > 0 {
			out = append(out, newSeg(show.Segment{Start: hover[0].s.Start, End: hover[len(hover)-1].s.End, Points: []show.Vec3{cur, cur}}))
		}
		out = append(out, leg...)
		t = leg[len(leg)-1].b
		cur = next
	}
	// Landed, the drone is an obstacle to the others until the show ends.
	parked := newSeg(show.Segment{Start: secs(t), End: secs(max(t, q.end) + 1), Points: []show.Vec3{target}})
	if c := q.check([]seg{parked}, "landed", z); c != nil {
		q.last = c
		return nil, 0, c
	}
	return out, secs(waited), nil
}

// straight returns the segments of a rest-to-rest straight flight from a
// to b starting at t (seconds): accelerate, cruise, brake, within the
// limits for the leg's direction.
func (q *plan) straight(a, b show.Vec3, t float64) []seg {
	d := b.Sub(a)
	dist := d.Norm()
	dir := d.Scale(1 / dist)
	// Speed along the leg so that its horizontal and vertical parts stay
	// within their limits.
	vmax := math.Inf(1)
	if h := math.Hypot(dir.X, dir.Y); h > 1e-12 {
		vmax = q.lim.MaxSpeedXY / h
	}
	if dir.Z > 1e-12 {
		vmax = min(vmax, q.lim.MaxSpeedUp/dir.Z)
	} else if dir.Z < -1e-12 {
		vmax = min(vmax, q.lim.MaxSpeedDown/-dir.Z)
	}
	acc := q.lim.MaxAccel
	ta := vmax / acc
	sa := vmax * ta / 2
	var tc float64
	if 2*sa >= dist {
		sa = dist / 2
		ta = math.Sqrt(dist / acc)
	} else {
		tc = (dist - 2*sa) / vmax
	}
	m1 := a.Add(dir.Scale(sa))
	m2 := b.Sub(dir.Scale(sa))
	t1, t2, t3 := t+ta, t+ta+tc, t+2*ta+tc
	out := []seg{newSeg(show.Segment{Start: secs(t), End: secs(t1), Points: []show.Vec3{a, a, m1}})}
	if tc > 0 {
		out = append(out, newSeg(show.Segment{Start: secs(t1), End: secs(t2), Points: []show.Vec3{m1, m2}}))
	}
	return append(out, newSeg(show.Segment{Start: secs(t2), End: secs(t3), Points: []show.Vec3{m2, b, b}}))
}

// checkShow checks a piece of the drone's own show trajectory: it only
// needs to keep MinDistance at the samples, as the show does, and
// MinDistance less 1% (the sweep's step) between them.
func (q *plan) checkShow(mine []seg) *Conflict {
	r, guard := q.r, q.guard
	q.r, q.guard = q.minDist, 0.99*q.minDist
	defer func() { q.r, q.guard = r, guard }()
	return q.check(mine, "following the show", math.NaN())
}

// check sweeps mine against every other drone and returns the first
// conflict, or nil. It records the least distance it sampled.
func (q *plan) check(mine []seg, what string, layer float64) *Conflict {
	for m := range mine {
		q.stamp++
		q.near = q.index.near(&mine[m], q.r, q.seen, q.stamp, q.near[:0])
		for _, j := range q.near {
			if int(j) == q.drone {
				continue
			}
			if c := q.sweep(&mine[m], &q.trajs[j]); c != nil {
				c.Drone, c.What, c.Layer, c.Limit = int(j)+1, what, layer, q.r
				return c
			}
		}
	}
	return nil
}

// sweep checks one of the path's segments against one trajectory.
func (q *plan) sweep(m *seg, tr *traj) *Conflict {
	lo, hi := m.a, m.b
	// Before the trajectory's first keyframe and after its last, the
	// drone stands still.
	if lo < tr.t0 {
		st := seg{s: show.Segment{Points: []show.Vec3{tr.first}}, lo: tr.first, hi: tr.first}
		if c := q.window(m, &st, lo, min(hi, tr.t0)); c != nil {
			return c
		}
	}
	if hi > tr.t1 {
		st := seg{s: show.Segment{Points: []show.Vec3{tr.last}}, lo: tr.last, hi: tr.last}
		if c := q.window(m, &st, max(lo, tr.t1), hi); c != nil {
			return c
		}
	}
	// The segments that overlap [lo, hi].
	i := sort.Search(len(tr.segs), func(i int) bool { return tr.segs[i].b > lo })
	for ; i < len(tr.segs) && tr.segs[i].a < hi; i++ {
		o := &tr.segs[i]
		if c := q.window(m, o, max(lo, o.a), min(hi, o.b)); c != nil {
			return c
		}
	}
	return nil
}

// window sweeps two segments over [lo, hi] (seconds).
func (q *plan) window(m, o *seg, lo, hi float64) *Conflict {
	if hi < lo || boxDist(m.lo, m.hi, o.lo, o.hi) >= q.r {
		return nil
	}
	vrel := m.v + o.v
	t := lo
	for {
		d := m.at(t).Dist(o.at(t))
		q.clear = min(q.clear, d)
		if d < q.r && !q.measure {
			return &Conflict{At: secs(t), Distance: d}
		}
		if t >= hi || vrel == 0 {
			return nil
		}
		// A measure steps no farther than the two could close to R, or
		// 0.1 m of relative motion closer in; 1 µs at least, should
		// MinDistance be 0 (checkShow).
		step := (d - q.guard) / vrel
		if q.measure {
			step = max(d-q.r, 0.1) / vrel
		}
		t = min(t+max(step, 1e-6), hi)
	}
}

// fenceLeg checks a straight flight from a to b against the geofence.
func (q *plan) fenceLeg(a, b show.Vec3) error {
	f := q.fence
	if len(f) == 0 {
		return nil
	}
	m := q.opt.FenceMargin
	if !insideBy(f, a.X, a.Y, m) {
		// Outside already (a breach): the leg must end inside.
		if !insideBy(f, b.X, b.Y, m) && (a.X != b.X || a.Y != b.Y) {
			return fmt.Errorf("leg from %v to %v ends outside the geofence (or within %.1f m of it)", a, b, m)
		}
		return nil
	}
	for i := range f {
		c, d := f[i], f[(i+1)%len(f)]
		if segDist(a.X, a.Y, b.X, b.Y, c[0], c[1], d[0], d[1]) < m {
			return fmt.Errorf("leg from %v to %v comes within %.1f m of the geofence", a, b, m)
		}
	}
	return nil
}

// insideBy reports whether (x, y) is inside polygon f and at least m from
// its edges.
func insideBy(f [][2]float64, x, y, m float64) bool {
	in := false
	for i := range f {
		a, b := f[i], f[(i+1)%len(f)]
		if (a[1] > y) != (b[1] > y) && x < a[0]+(y-a[1])*(b[0]-a[0])/(b[1]-a[1]) {
			in = !in
		}
		if ptSegDist(x, y, a[0], a[1], b[0], b[1]) < m {
			return false
		}
	}
	return in
}

func ptSegDist(px, py, ax, ay, bx, by float64) float64 {
	dx, dy := bx-ax, by-ay
	u := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		u = min(max(((px-ax)*dx+(py-ay)*dy)/l, 0), 1)
	}
	return math.Hypot(px-ax-u*dx, py-ay-u*dy)
}

// segDist is the distance between segments ab and cd in the plane.
func segDist(ax, ay, bx, by, cx, cy, dx, dy float64) float64 {
	cross := func(ox, oy, px, py, qx, qy float64) float64 { return (px-ox)*(qy-oy) - (py-oy)*(qx-ox) }
	d1, d2 := cross(ax, ay, bx, by, cx, cy), cross(ax, ay, bx, by, dx, dy)
	d3, d4 := cross(cx, cy, dx, dy, ax, ay), cross(cx, cy, dx, dy, bx, by)
	if ((d1 > 0) != (d2 > 0)) && ((d3 > 0) != (d4 > 0)) && d1 != 0 && d2 != 0 && d3 != 0 && d4 != 0 {
		return 0
	}
	return min(ptSegDist(ax, ay, cx, cy, dx, dy), ptSegDist(bx, by, cx, cy, dx, dy),
		ptSegDist(cx, cy, ax, ay, bx, by), ptSegDist(dx, dy, ax, ay, bx, by))
}

// trajAt is a trajectory's position and velocity at t (seconds).
func trajAt(tr *traj, t float64) (show.Vec3, show.Vec3) {
	if t <= tr.t0 {
		return tr.first, show.Vec3{}
	}
	if t >= tr.t1 {
		return tr.last, show.Vec3{}
	}
	i := sort.Search(len(tr.segs), func(i int) bool { return tr.segs[i].b > t })
	return tr.segs[i].s.At(secs(t))
}

// ownPiece returns the drone's own show trajectory from a to b (seconds)
// as segments, cut with de Casteljau's construction.
func ownPiece(tr *traj, a, b float64) []seg {
	var out []seg
	if a < tr.t0 {
		e := min(b, tr.t0)
		out = append(out, newSeg(show.Segment{Start: secs(a), End: secs(e), Points: []show.Vec3{tr.first, tr.first}}))
		a = e
	}
	i := sort.Search(len(tr.segs), func(i int) bool { return tr.segs[i].b > a })
	for ; i < len(tr.segs) && tr.segs[i].a < b && a < b; i++ {
		o := tr.segs[i].s
		s, e := max(a, tr.segs[i].a), min(b, tr.segs[i].b)
		span := tr.segs[i].b - tr.segs[i].a
		pts := cut(o.Points, (s-tr.segs[i].a)/span, (e-tr.segs[i].a)/span)
		out = append(out, newSeg(show.Segment{Start: secs(s), End: secs(e), Points: pts}))
	}
	if b > tr.t1 {
		s := max(a, tr.t1)
		out = append(out, newSeg(show.Segment{Start: secs(s), End: secs(b), Points: []show.Vec3{tr.last, tr.last}}))
	}
	return out
}

// cut returns the control points of the Bézier curve pts restricted to
// parameters [u0, u1].
func cut(pts []show.Vec3, u0, u1 float64) []show.Vec3 {
	left := func(p []show.Vec3, u float64) []show.Vec3 { // the part [0, u]
		w := append([]show.Vec3(nil), p...)
		out := []show.Vec3{w[0]}
		for n := len(w) - 1; n > 0; n-- {
			for k := 0; k < n; k++ {
				w[k] = w[k].Scale(1 - u).Add(w[k+1].Scale(u))
			}
			out = append(out, w[0])
		}
		return out
	}
	right := func(p []show.Vec3, u float64) []show.Vec3 { // the part [u, 1]
		r := append([]show.Vec3(nil), p...)
		for i, j := 0, len(r)-1; i < j; i, j = i+1, j-1 {
			r[i], r[j] = r[j], r[i]
		}
		l := left(r, 1-u)
		for i, j := 0, len(l)-1; i < j; i, j = i+1, j-1 {
			l[i], l[j] = l[j], l[i]
		}
		return l
	}
	head := left(pts, u1)
	if u1 <= 0 {
		return head
	}
	return right(head, u0/u1)
}

// keyframesOf turns consecutive segments into keyframes.
func keyframesOf(segs []seg) []show.Keyframe {
	out := []show.Keyframe{{At: segs[0].s.Start, Pos: segs[0].s.Points[0]}}
	for _, g := range segs {
		if g.s.End <= out[len(out)-1].At {
			continue
		}
		p := g.s.Points
		var ctrl []show.Vec3
		if len(p) > 2 {
			ctrl = append(ctrl, p[1:len(p)-1]...)
		}
		out = append(out, show.Keyframe{At: g.s.End, Pos: p[len(p)-1], Ctrl: ctrl})
	}
	return out
}
