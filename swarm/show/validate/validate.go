package validate

import (
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/skyquorum/skyquorum/swarm/show"
)

// Rule names what a violation breaks.
type Rule string

// The rules Show checks. The limit each one compares with is in
// show.Limits (zero: not checked) unless said otherwise.
const (
	// MinDistance: two drones closer than Limits.MinDistance at some show
	// time, in the air or on the ground.
	MinDistance Rule = "min-distance"
	// MaxAltitude: a drone above Limits.MaxAltitude (Z, metres above the
	// origin).
	MaxAltitude Rule = "max-altitude"
	// SpeedXY: horizontal speed above Limits.MaxSpeedXY.
	SpeedXY Rule = "speed-xy"
	// SpeedUp: climb rate above Limits.MaxSpeedUp.
	SpeedUp Rule = "speed-up"
	// SpeedDown: descent rate above Limits.MaxSpeedDown.
	SpeedDown Rule = "speed-down"
	// Acceleration: 3-D acceleration above Limits.MaxAccel, within a
	// segment or as a velocity jump at a keyframe.
	Acceleration Rule = "acceleration"
	// Geofence: a drone outside the fence polygon (the limit is 0 m, the
	// value how far outside).
	Geofence Rule = "geofence"
	// TakeoffSpacing: two homes, or two landing positions, closer than
	// Limits.MinDistance.
	TakeoffSpacing Rule = "takeoff-spacing"
	// HomeMismatch: a path that does not start at the drone's home or does
	// not end at its landing position (more than 1 cm away): the drone
	// would have to jump there.
	HomeMismatch Rule = "home-mismatch"
	// DuplicateDrone: two drones with the same name, or the same path.
	DuplicateDrone Rule = "duplicate-drone"
	// MissingDrone: a gap in numbered names ("Drone 1", "Drone 3": the
	// value is the first missing number), or a drone whose path never
	// leaves its first position by more than StaticMove (the value is how
	// far it moves): a drone in the show that flies nothing.
	MissingDrone Rule = "missing-drone"
	// LightsOutlast: a light program that ends by itself after the
	// drone's landing (the limit is the landing time in seconds, the value
	// when the program ends).
	LightsOutlast Rule = "lights-outlast"
	// LightsError: a light program that fails when run (a loop without a
	// duration, too many steps): its colour would freeze.
	LightsError Rule = "lights-error"
)

// StaticMove is how far (m) a drone's path must leave its first position
// for the drone to count as flying (MissingDrone).
const StaticMove = 0.1

// Options tune Show. The zero value is the defaults.
type Options struct {
	// Period is the sampling period of the separation check (optional,
	// default 50 ms). A shorter period costs more time and refines fewer
	// pairs; the check is exact to Tolerance whatever the period.
	Period time.Duration
	// Tolerance (optional, default 1 mm) is how far beyond a limit a
	// violation may be and still be missed: a distance less than
	// MinDistance − Tolerance, an altitude above MaxAltitude + Tolerance,
	// a point more than Tolerance outside the fence are always found.
	// Speeds and accelerations use it in m/s and m/s².
	Tolerance float64
	// MaxViolations is how many violations Report keeps, the earliest
	// (optional, default 1000); Report.Total counts them all.
	MaxViolations int
}

func (o Options) withDefaults() Options {
	if o.Period <= 0 {
		o.Period = 50 * time.Millisecond
	}
	if o.Tolerance <= 0 {
		o.Tolerance = 0.001
	}
	if o.MaxViolations <= 0 {
		o.MaxViolations = 1000
	}
	return o
}

// Violation is one way in which the show is not safe to fly.
type Violation struct {
	Rule Rule
	// Drones are the drones involved, 1-based (the swarm IDs that fly
	// them), in increasing order.
	Drones []int
	// At is the show time it starts: the first time the limit is broken
	// (to Tolerance; within 1 ms for a per-drone limit).
	At time.Duration
	// Limit is the limit broken and Value the worst value measured: the
	// closest distance of a pair, the highest altitude, the fastest speed
	// over the violation's extent.
	Limit, Value float64
	// Detail says more, when there is more to say (optional).
	Detail string
}

var units = map[Rule]string{
	MinDistance: "m", MaxAltitude: "m", SpeedXY: "m/s", SpeedUp: "m/s", SpeedDown: "m/s",
	Acceleration: "m/s²", Geofence: "m outside", TakeoffSpacing: "m", HomeMismatch: "m",
	LightsOutlast: "s",
}

// String is one line: rule, drones, show time, value and limit.
func (v Violation) String() string {
	ids := make([]string, len(v.Drones))
	for i, d := range v.Drones {
		ids[i] = strconv.Itoa(d)
	}
	who := "drone " + strings.Join(ids, ", ")
	if len(ids) > 1 {
		who = "drones " + strings.Join(ids, ", ")
	}
	s := fmt.Sprintf("%s: %s at %.3f s: %.3f", v.Rule, who, v.At.Seconds(), v.Value)
	if u := units[v.Rule]; u != "" {
		s += " " + u
	}
	s += fmt.Sprintf(" (limit %.3f)", v.Limit)
	if v.Detail != "" {
		s += ": " + v.Detail
	}
	return s
}

// Extreme is the largest value of a quantity over the show, and where.
type Extreme struct {
	Value float64
	Drone int // 1-based; 0 when no drone moves
	At    time.Duration
}

// Closest is the closest approach of two drones that the separation
// check measured.
type Closest struct {
	Distance float64
	Drones   [2]int // 1-based
	At       time.Duration
	// Found is false when no two drones came within the check's reach
	// (MinDistance plus the sampling margin) of each other, or
	// MinDistance is 0 (no check).
	Found bool
}

// Report is what Show found.
type Report struct {
	// Violations are the earliest Options.MaxViolations violations, by
	// show time; Total counts them all.
	Violations []Violation
	Total      int
	// Figures of the show: its size and length, how many sampling times
	// the separation check used and how many pair intervals it refined.
	Drones   int
	Duration time.Duration
	Samples  int
	Refined  int
	Closest  Closest
	// The largest altitude, speeds and acceleration over every drone's
	// path (the acceleration counts velocity jumps at keyframes).
	MaxAltitude, MaxSpeedXY, MaxSpeedUp, MaxSpeedDown, MaxAccel Extreme
}

// OK reports whether the show broke no rule.
func (r *Report) OK() bool { return r.Total == 0 }

// Show checks whether s is safe to fly: every rule above, against
// s.Limits and s.Fence. A show that is not well formed (s.Check fails)
// is an error, not a violation.
func Show(s *show.Show, opt Options) (Report, error) {
	if err := s.Check(); err != nil {
		return Report{}, fmt.Errorf("validate: %w", err)
	}
	opt = opt.withDefaults()
	v := &validator{s: s, opt: opt, tol: opt.Tolerance, period: opt.Period.Seconds()}
	v.rep.Drones = len(s.Drones)
	v.rep.Duration = s.Duration()
	v.tracks = make([]track, len(s.Drones))
	for i := range s.Drones {
		v.tracks[i] = newTrack(&s.Drones[i])
	}
	if len(s.Fence.Polygon) > 0 {
		v.fence = newPolygon(s.Fence.Polygon)
	}
	for i := range s.Drones {
		v.drone(i)
	}
	v.spacing()
	v.duplicates()
	v.missing()
	v.separation()

	all := v.viol
	sort.SliceStable(all, func(a, b int) bool {
		if all[a].At != all[b].At {
			return all[a].At < all[b].At
		}
		if all[a].Rule != all[b].Rule {
			return all[a].Rule < all[b].Rule
		}
		return less(all[a].Drones, all[b].Drones)
	})
	v.rep.Total = len(all)
	if len(all) > opt.MaxViolations {
		all = all[:opt.MaxViolations]
	}
	v.rep.Violations = all
	return v.rep, nil
}

func less(a, b []int) bool {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return a[i] < b[i]
		}
	}
	return len(a) < len(b)
}

type validator struct {
	s      *show.Show
	opt    Options
	tol    float64
	period float64 // s
	tracks []track
	fence  *polygon
	viol   []Violation
	rep    Report
}

func (v *validator) add(r Rule, at float64, limit, value float64, detail string, drones ...int) int {
	for i := range drones {
		drones[i]++
	}
	sort.Ints(drones)
	v.viol = append(v.viol, Violation{Rule: r, Drones: drones, At: seconds(at), Limit: limit, Value: value, Detail: detail})
	return len(v.viol) - 1
}

// seconds turns show seconds into a Duration, rounded to the microsecond.
func seconds(t float64) time.Duration {
	return time.Duration(math.Round(t*1e6)) * time.Microsecond
}

// run groups a drone's violations of one rule: consecutive segments (or
// a segment and the keyframe next to it) that break the limit make one
// violation, from the first time to the worst value.
type run struct {
	idx  int // violation index, -1 when none is open
	last int // event index of the last violating event
}

// event indexes: keyframe k is 2k, the segment ending at keyframe k is
// 2k−1. Consecutive events follow each other, and so do two segments
// that meet at a keyframe.
func (v *validator) extend(r *run, rule Rule, drone, event int, first, worst, limit float64, detail string) {
	if r.idx >= 0 && (event-r.last == 1 || event-r.last == 2 && event%2 == 1 && r.last%2 == 1) {
		vi := &v.viol[r.idx]
		vi.Value = max(vi.Value, worst)
		r.last = event
		return
	}
	r.idx = v.add(rule, first, limit, worst, detail, drone)
	r.last = event
}

func (v *validator) figure(e *Extreme, value float64, drone int, at float64) {
	if value > e.Value || e.Drone == 0 && value >= e.Value {
		*e = Extreme{Value: value, Drone: drone + 1, At: seconds(at)}
	}
}

// drone checks drone i's own rules: altitude, speeds, acceleration,
// geofence, home and landing positions, lights.
func (v *validator) drone(i int) {
	d := &v.s.Drones[i]
	tr := &v.tracks[i]
	l := v.s.Limits
	const ttol = 0.001 // s: the resolution of a first time

	if dist := d.Home.Dist(d.Path[0].Pos); dist > 0.01 {
		v.add(HomeMismatch, d.Path[0].At.Seconds(), 0.01, dist, fmt.Sprintf("path starts at %v, home is %v", d.Path[0].Pos, d.Home), i)
	}
	if dist := d.Land.Dist(d.Path[len(d.Path)-1].Pos); dist > 0.01 {
		v.add(HomeMismatch, d.Path[len(d.Path)-1].At.Seconds(), 0.01, dist, fmt.Sprintf("path ends at %v, landing position is %v", d.Path[len(d.Path)-1].Pos, d.Land), i)
	}

	// The first position, for a path of one keyframe (otherwise the
	// first segment covers it).
	p0, t0 := tr.first, tr.t0
	v.figure(&v.rep.MaxAltitude, p0.Z, i, t0)
	if len(tr.segs) == 0 {
		if l.MaxAltitude > 0 && p0.Z > l.MaxAltitude {
			v.add(MaxAltitude, t0, l.MaxAltitude, p0.Z, "", i)
		}
		if v.fence != nil {
			if out := v.fence.outside(p0.X, p0.Y); out > 0 {
				v.add(Geofence, t0, 0, out, "", i)
			}
		}
	}

	type check struct {
		rule  Rule
		kind  kind
		limit float64
		fig   *Extreme
	}
	checks := []check{
		{MaxAltitude, kAltitude, l.MaxAltitude, &v.rep.MaxAltitude},
		{SpeedXY, kSpeedXY, l.MaxSpeedXY, &v.rep.MaxSpeedXY},
		{SpeedUp, kSpeedUp, l.MaxSpeedUp, &v.rep.MaxSpeedUp},
		{SpeedDown, kSpeedDown, l.MaxSpeedDown, &v.rep.MaxSpeedDown},
		{Acceleration, kAccel, l.MaxAccel, &v.rep.MaxAccel},
	}
	if v.fence != nil {
		checks = append(checks, check{Geofence, kFence, 0, nil})
	}
	runs := make([]run, len(checks))
	for c := range runs {
		runs[c].idx = -1
	}
	accel := 0 // index of the acceleration check
	for c := range checks {
		if checks[c].kind == kAccel {
			accel = c
		}
	}
	m := measure{fence: v.fence}
	var prevVel show.Vec3 // at rest before the path
	prevSpan := math.Inf(1)
	for k := 0; k <= len(tr.segs); k++ {
		// The velocity jump at keyframe k (between segment k−1 and k).
		var next show.Vec3
		span := math.Inf(1)
		if k < len(tr.segs) {
			sg := &tr.segs[k]
			span = sg.t1 - sg.t0
			next = sg.q[1].Sub(sg.q[0]).Scale(3 / span)
		}
		// The jump counts as the acceleration that a second difference of
		// positions sampled at the segments' pace (at most Period) sees.
		a, b := prevSpan, span
		if math.IsInf(a, 1) {
			a = b
		}
		if math.IsInf(b, 1) {
			b = a
		}
		tau := min(v.period, (a+b)/2)
		at := tr.kfAt[k]
		if jump := next.Sub(prevVel).Norm(); jump > 0 {
			acc := jump / tau
			v.figure(&v.rep.MaxAccel, acc, i, at)
			if l.MaxAccel > 0 && acc > l.MaxAccel+v.tol {
				v.extend(&runs[accel], Acceleration, i, 2*k, at, acc, l.MaxAccel,
					fmt.Sprintf("velocity jumps by %.3f m/s at a keyframe (over %.0f ms)", jump, tau*1000))
			}
		}
		if k == len(tr.segs) {
			break
		}
		sg := &tr.segs[k]
		for c, ch := range checks {
			m.kind = ch.kind
			if ch.fig != nil {
				// The figure: the largest value over the show so far
				// prunes most segments at once.
				floor := ch.fig.Value
				if ch.fig.Drone == 0 {
					floor = math.Inf(-1)
				}
				if r := m.search(sg.q, sg.t0, sg.t1, floor, v.tol, ttol); r.worstAt >= 0 && r.worst > floor {
					v.figure(ch.fig, r.worst, i, r.worstAt)
				}
			}
			if ch.limit <= 0 && ch.kind != kFence {
				continue
			}
			if r := m.search(sg.q, sg.t0, sg.t1, ch.limit, v.tol, ttol); r.found {
				v.extend(&runs[c], ch.rule, i, 2*k+1, r.first, r.worst, ch.limit, "")
			}
		}
		prevVel = sg.q[3].Sub(sg.q[2]).Scale(3 / span)
		prevSpan = span
	}

	v.lights(i)
}

func (v *validator) lights(i int) {
	d := &v.s.Drones[i]
	if len(d.Lights) == 0 {
		return
	}
	st, err := d.Lights.RunStats(d.Landing, show.MaxLightSteps)
	if err != nil {
		v.add(LightsError, 0, 0, 0, err.Error(), i)
		return
	}
	if st.Outlasts() {
		end := math.Inf(1)
		if all, err := d.Lights.RunStats(show.MaxDuration, show.MaxLightSteps); err == nil && !all.Truncated {
			end = all.End.Seconds()
		}
		v.add(LightsOutlast, d.Landing.Seconds(), d.Landing.Seconds(), end, "the light program runs after landing", i)
	}
}

// spacing checks that homes, and landing positions, are MinDistance
// apart.
func (v *validator) spacing() {
	D := v.s.Limits.MinDistance
	if D <= 0 {
		return
	}
	n := len(v.s.Drones)
	g := newGrid(n)
	pos := make([]show.Vec3, n)
	for _, land := range []bool{false, true} {
		for i := range v.s.Drones {
			if land {
				pos[i] = v.s.Drones[i].Land
			} else {
				pos[i] = v.s.Drones[i].Home
			}
		}
		g.build(pos, D)
		g.pairs(pos, func(i, j int, d2 float64) {
			if d2 >= D*D {
				return
			}
			di, dj := &v.s.Drones[i], &v.s.Drones[j]
			at, what := 0.0, "homes"
			if land {
				at, what = max(di.Landing, dj.Landing).Seconds(), "landing positions"
			}
			v.add(TakeoffSpacing, at, D, math.Sqrt(d2), what, i, j)
		})
	}
}

// duplicates finds drones with the same name, or the same path.
func (v *validator) duplicates() {
	names := map[string]int{}
	for i := range v.s.Drones {
		name := v.s.Drones[i].Name
		if name == "" {
			continue
		}
		if j, ok := names[name]; ok {
			v.add(DuplicateDrone, 0, 0, 0, fmt.Sprintf("both named %q", name), j, i)
			continue
		}
		names[name] = i
	}
	paths := map[uint64][]int{}
	for i := range v.s.Drones {
		h := pathHash(v.s.Drones[i].Path)
		for _, j := range paths[h] {
			if samePath(v.s.Drones[j].Path, v.s.Drones[i].Path) {
				v.add(DuplicateDrone, 0, 0, 0, "the same path", j, i)
				break
			}
		}
		paths[h] = append(paths[h], i)
	}
}

func pathHash(p []show.Keyframe) uint64 {
	h := uint64(14695981039346656037)
	mix := func(x uint64) {
		h ^= x
		h *= 1099511628211
	}
	for _, kf := range p {
		mix(uint64(kf.At))
		for _, c := range append([]show.Vec3{kf.Pos}, kf.Ctrl...) {
			mix(math.Float64bits(c.X))
			mix(math.Float64bits(c.Y))
			mix(math.Float64bits(c.Z))
		}
	}
	return h
}

func samePath(a, b []show.Keyframe) bool {
	if len(a) != len(b) {
		return false
	}
	for k := range a {
		if a[k].At != b[k].At || a[k].Pos != b[k].Pos || len(a[k].Ctrl) != len(b[k].Ctrl) {
			return false
		}
		for c := range a[k].Ctrl {
			if a[k].Ctrl[c] != b[k].Ctrl[c] {
				return false
			}
		}
	}
	return true
}

// missing finds gaps in numbered names and drones that fly nothing.
func (v *validator) missing() {
	type named struct{ num, drone int }
	groups := map[string][]named{}
	for i := range v.s.Drones {
		name := v.s.Drones[i].Name
		j := len(name)
		for j > 0 && name[j-1] >= '0' && name[j-1] <= '9' {
			j--
		}
		if j == len(name) || len(name)-j > 9 {
			continue
		}
		n, _ := strconv.Atoi(name[j:])
		groups[name[:j]] = append(groups[name[:j]], named{n, i})
	}
	for prefix, g := range groups {
		if len(g) < 2 {
			continue
		}
		sort.Slice(g, func(a, b int) bool { return g[a].num < g[b].num })
		for k := 1; k < len(g); k++ {
			if gap := g[k].num - g[k-1].num; gap > 1 {
				detail := fmt.Sprintf("no drone named %q", fmt.Sprintf("%s%d", prefix, g[k-1].num+1))
				if gap > 2 {
					detail = fmt.Sprintf("no drones named %q to %q", fmt.Sprintf("%s%d", prefix, g[k-1].num+1), fmt.Sprintf("%s%d", prefix, g[k].num-1))
				}
				v.add(MissingDrone, 0, 0, float64(g[k-1].num+1), detail, g[k-1].drone, g[k].drone)
			}
		}
	}
	for i := range v.s.Drones {
		p := v.s.Drones[i].Path
		far := 0.0
		for _, kf := range p {
			far = max(far, kf.Pos.Dist(p[0].Pos))
			for _, c := range kf.Ctrl {
				far = max(far, c.Dist(p[0].Pos))
			}
		}
		if far < StaticMove {
			v.add(MissingDrone, 0, StaticMove, far, "the drone's path never leaves its first position: it flies nothing", i)
		}
	}
}
