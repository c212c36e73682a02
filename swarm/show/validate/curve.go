package validate

import (
	"math"
	"sort"

	"github.com/skyquorum/skyquorum/swarm/show"
)

// seg is one segment of a path as a cubic Bézier (linear and quadratic
// segments raised to cubic, which is exact) flown from t0 to t1 (show
// seconds), with a bound on its speed.
type seg struct {
	t0, t1 float64
	q      [4]show.Vec3
	vmax   float64 // largest norm of the hodograph's control points
	amax   float64 // largest acceleration (at an end: it is linear)
}

// track is a drone's path as the checks see it: the position at every
// show time, at its first position before the first keyframe and at its
// last after the last (on the ground, when the path starts at home and
// ends at the landing position).
type track struct {
	segs        []seg
	kfAt        []float64 // keyframe times, s
	first, last show.Vec3
	t0          float64
}

func newTrack(d *show.Drone) track {
	p := d.Path
	tr := track{first: p[0].Pos, last: p[len(p)-1].Pos, t0: p[0].At.Seconds()}
	tr.kfAt = make([]float64, len(p))
	for k := range p {
		tr.kfAt[k] = p[k].At.Seconds()
	}
	if len(p) > 1 {
		tr.segs = make([]seg, len(p)-1)
	}
	for k := 1; k < len(p); k++ {
		a, b := p[k-1].Pos, p[k].Pos
		var q [4]show.Vec3
		switch c := p[k].Ctrl; len(c) {
		case 0:
			d := b.Sub(a)
			q = [4]show.Vec3{a, a.Add(d.Scale(1.0 / 3)), a.Add(d.Scale(2.0 / 3)), b}
		case 1:
			q = [4]show.Vec3{a, a.Add(c[0].Sub(a).Scale(2.0 / 3)), b.Add(c[0].Sub(b).Scale(2.0 / 3)), b}
		default:
			q = [4]show.Vec3{a, c[0], c[1], b}
		}
		s := seg{t0: tr.kfAt[k-1], t1: tr.kfAt[k], q: q}
		span := s.t1 - s.t0
		for j := range 3 {
			s.vmax = max(s.vmax, q[j+1].Sub(q[j]).Norm()*3/span)
		}
		m := measure{kind: kAccel}
		s.amax = max(m.value(&q, span, false), m.value(&q, span, true))
		tr.segs[k-1] = s
	}
	return tr
}

// at returns the position on the cubic at parameter u.
func (s *seg) at(u float64) show.Vec3 {
	v := 1 - u
	b0, b1, b2, b3 := v*v*v, 3*u*v*v, 3*u*u*v, u*u*u
	q := &s.q
	return show.Vec3{
		X: b0*q[0].X + b1*q[1].X + b2*q[2].X + b3*q[3].X,
		Y: b0*q[0].Y + b1*q[1].Y + b2*q[2].Y + b3*q[3].Y,
		Z: b0*q[0].Z + b1*q[1].Z + b2*q[2].Z + b3*q[3].Z,
	}
}

// vel returns the velocity on the cubic at parameter u.
func (s *seg) vel(u float64) show.Vec3 {
	v := 1 - u
	q := &s.q
	d := q[1].Sub(q[0]).Scale(v * v).Add(q[2].Sub(q[1]).Scale(2 * u * v)).Add(q[3].Sub(q[2]).Scale(u * u))
	return d.Scale(3 / (s.t1 - s.t0))
}

// pos returns the position at show time t (seconds).
func (tr *track) pos(t float64) show.Vec3 {
	n := len(tr.segs)
	if n == 0 || t <= tr.t0 {
		return tr.first
	}
	if t >= tr.segs[n-1].t1 {
		return tr.last
	}
	k := sort.Search(n, func(i int) bool { return tr.segs[i].t1 >= t })
	s := &tr.segs[k]
	return s.at((t - s.t0) / (s.t1 - s.t0))
}

// split cuts a cubic in two at u = 1/2 (de Casteljau).
func split(q [4]show.Vec3) (l, r [4]show.Vec3) {
	mid := func(a, b show.Vec3) show.Vec3 { return a.Add(b).Scale(0.5) }
	p01, p12, p23 := mid(q[0], q[1]), mid(q[1], q[2]), mid(q[2], q[3])
	p012, p123 := mid(p01, p12), mid(p12, p23)
	m := mid(p012, p123)
	return [4]show.Vec3{q[0], p01, p012, m}, [4]show.Vec3{m, p123, p23, q[3]}
}

type kind int

const (
	kAltitude kind = iota
	kSpeedXY
	kSpeedUp
	kSpeedDown
	kAccel
	kFence
)

// measure is a quantity along a piece of a cubic: its value at either end,
// and an upper bound over the whole piece that tends to the values as the
// piece shrinks. Altitude: the control points' Z (the curve lies in their
// hull). Speeds: the hodograph's control points 3(q[i+1]−q[i])/span (the
// velocity lies in their hull; the horizontal norm and the vertical
// component are convex, so their maximum over the hull is at a control
// point). Acceleration: linear along a cubic, so its norm is largest at an
// end. Fence: how far outside the polygon, bounded by the distance of the
// piece's bounding box centre plus half its diagonal.
type measure struct {
	kind  kind
	fence *polygon
}

func (m measure) value(q *[4]show.Vec3, span float64, end bool) float64 {
	switch m.kind {
	case kAltitude:
		if end {
			return q[3].Z
		}
		return q[0].Z
	case kSpeedXY, kSpeedUp, kSpeedDown:
		d := q[1].Sub(q[0])
		if end {
			d = q[3].Sub(q[2])
		}
		return speed(m.kind, d.Scale(3/span))
	case kAccel:
		a := q[0].Sub(q[1].Scale(2)).Add(q[2])
		if end {
			a = q[1].Sub(q[2].Scale(2)).Add(q[3])
		}
		return a.Scale(6 / (span * span)).Norm()
	default:
		p := q[0]
		if end {
			p = q[3]
		}
		return m.fence.outside(p.X, p.Y)
	}
}

func speed(k kind, v show.Vec3) float64 {
	switch k {
	case kSpeedXY:
		return math.Hypot(v.X, v.Y)
	case kSpeedUp:
		return v.Z
	default:
		return -v.Z
	}
}

func (m measure) bound(q *[4]show.Vec3, span float64) float64 {
	switch m.kind {
	case kAltitude:
		return max(q[0].Z, q[1].Z, q[2].Z, q[3].Z)
	case kSpeedXY, kSpeedUp, kSpeedDown:
		b := math.Inf(-1)
		for j := range 3 {
			b = max(b, speed(m.kind, q[j+1].Sub(q[j]).Scale(3/span)))
		}
		return b
	case kAccel:
		return max(m.value(q, span, false), m.value(q, span, true))
	default:
		x0, x1, y0, y1 := q[0].X, q[0].X, q[0].Y, q[0].Y
		for _, p := range q[1:] {
			x0, x1, y0, y1 = min(x0, p.X), max(x1, p.X), min(y0, p.Y), max(y1, p.Y)
		}
		cx, cy := (x0+x1)/2, (y0+y1)/2
		return max(0, m.fence.signed(cx, cy)+math.Hypot(x1-x0, y1-y0)/2)
	}
}

// found is what search found on a segment.
type found struct {
	found          bool
	first          float64 // the first time the value exceeds the limit
	worst, worstAt float64 // the largest value seen, and when (−1: none)
}

// search looks along a segment (control points q, show times t0 to t1)
// for where the measure exceeds limit, by branch and bound: pieces whose
// bound is at most limit + tol (or, once a violation is found, at most
// the worst value + tol) are dropped; the others are halved, down to
// ttol seconds. It visits pieces in time order, so the first point found
// above the limit is the first time the limit is broken, to ttol; no
// point more than tol above the limit is missed.
func (m measure) search(q [4]show.Vec3, t0, t1, limit, tol, ttol float64) found {
	type piece struct {
		q    [4]show.Vec3
		a, b float64
		va   float64
	}
	r := found{worst: math.Inf(-1), worstAt: -1}
	var stack [64]piece
	stack[0] = piece{q, t0, t1, m.value(&q, t1-t0, false)}
	sp := 1
	for sp > 0 {
		sp--
		p := stack[sp]
		if p.va > r.worst {
			r.worst, r.worstAt = p.va, p.a
		}
		if p.va > limit && !r.found {
			r.found, r.first = true, p.a
		}
		span := p.b - p.a
		vb := m.value(&p.q, span, true)
		if p.b == t1 && vb > r.worst {
			r.worst, r.worstAt = vb, p.b
		}
		thr := limit
		if r.found {
			thr = max(limit, r.worst)
		}
		hi := m.bound(&p.q, span)
		leaf := hi <= thr+tol || span <= ttol || sp+2 > len(stack)
		if leaf {
			if p.b == t1 && vb > limit && !r.found {
				r.found, r.first = true, p.b
			}
			continue
		}
		l, rt := split(p.q)
		mid := (p.a + p.b) / 2
		stack[sp] = piece{rt, mid, p.b, m.value(&rt, span/2, false)}
		stack[sp+1] = piece{l, p.a, mid, p.va}
		sp += 2
	}
	return r
}

// polygon is the geofence.
type polygon struct {
	x, y []float64
}

func newPolygon(v [][2]float64) *polygon {
	p := &polygon{x: make([]float64, len(v)), y: make([]float64, len(v))}
	for i := range v {
		p.x[i], p.y[i] = v[i][0], v[i][1]
	}
	return p
}

// signed returns the distance from (x, y) to the polygon's boundary,
// negative inside.
func (p *polygon) signed(x, y float64) float64 {
	n := len(p.x)
	inside := false
	d2 := math.Inf(1)
	for i, j := 0, n-1; i < n; j, i = i, i+1 {
		xi, yi, xj, yj := p.x[i], p.y[i], p.x[j], p.y[j]
		if (yi > y) != (yj > y) && x < (xj-xi)*(y-yi)/(yj-yi)+xi {
			inside = !inside
		}
		ex, ey := xj-xi, yj-yi
		t := 0.0
		if l2 := ex*ex + ey*ey; l2 > 0 {
			t = min(max(((x-xi)*ex+(y-yi)*ey)/l2, 0), 1)
		}
		dx, dy := x-(xi+t*ex), y-(yi+t*ey)
		d2 = min(d2, dx*dx+dy*dy)
	}
	if inside {
		return -math.Sqrt(d2)
	}
	return math.Sqrt(d2)
}

// outside returns how far (x, y) is outside the polygon, 0 inside.
func (p *polygon) outside(x, y float64) float64 { return max(0, p.signed(x, y)) }
