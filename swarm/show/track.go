package show

import (
	"sort"
	"time"
)

// State is where a drone of the show is at a show time, how it moves and
// what colour it shows.
type State struct {
	Pos, Vel Vec3
	Colour   RGB
}

// Track plays one drone's part of a show: its position, velocity and
// colour at any show time. Its light program runs as show time goes on
// (Lights), so a Track is for one goroutine.
type Track struct {
	path   []Keyframe
	lights *Lights
}

// Track returns drone k's track (k counts from 0). It fails when the
// drone's part is not well formed (Check).
func (s *Show) Track(k int) (*Track, error) {
	d := &s.Drones[k]
	if err := d.check(); err != nil {
		return nil, err
	}
	return &Track{path: d.Path, lights: NewLights(d.Lights)}, nil
}

// Tracks returns every drone's track, in the show's order.
func (s *Show) Tracks() ([]*Track, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	out := make([]*Track, len(s.Drones))
	for k := range s.Drones {
		t, err := s.Track(k)
		if err != nil {
			return nil, err
		}
		out[k] = t
	}
	return out, nil
}

// At returns the drone's state at show time t. Before the first keyframe
// it is at the first position, after the last at the last, at rest.
func (tr *Track) At(t time.Duration) State {
	pos, vel := tr.Position(t)
	return State{Pos: pos, Vel: vel, Colour: tr.lights.At(t)}
}

// Colour returns the drone's light colour at show time t.
func (tr *Track) Colour(t time.Duration) RGB { return tr.lights.At(t) }

// Path returns the drone's keyframes (not to be modified).
func (tr *Track) Path() []Keyframe { return tr.path }

// Position returns the drone's position and velocity at show time t.
func (tr *Track) Position(t time.Duration) (pos, vel Vec3) {
	p := tr.path
	if t <= p[0].At {
		return p[0].Pos, Vec3{}
	}
	if t >= p[len(p)-1].At {
		return p[len(p)-1].Pos, Vec3{}
	}
	// The segment that ends at keyframe k is the first with At > t.
	k := sort.Search(len(p), func(i int) bool { return p[i].At > t })
	seg := SegmentOf(p, k)
	return seg.At(t)
}

// Segment is one piece of a trajectory: a Bézier curve of order
// len(Points)−1 (1 linear, 2 quadratic, 3 cubic) flown from show time
// Start to End.
type Segment struct {
	Start, End time.Duration
	Points     []Vec3 // from the start position to the end position
}

// SegmentOf returns the segment of path that ends at keyframe k (k ≥ 1).
func SegmentOf(path []Keyframe, k int) Segment {
	a, b := path[k-1], path[k]
	pts := make([]Vec3, 0, 2+len(b.Ctrl))
	pts = append(pts, a.Pos)
	pts = append(pts, b.Ctrl...)
	pts = append(pts, b.Pos)
	return Segment{Start: a.At, End: b.At, Points: pts}
}

// At returns the position and velocity on the segment at show time t,
// clamped to the segment's times.
func (s Segment) At(t time.Duration) (pos, vel Vec3) {
	span := (s.End - s.Start).Seconds()
	u := 0.0
	if span > 0 {
		u = min(max((t-s.Start).Seconds()/span, 0), 1)
	}
	pos, d := bezier(s.Points, u)
	if span > 0 {
		vel = d.Scale(1 / span)
	}
	return pos, vel
}

// Hodograph returns the control points of the segment's velocity curve
// (in m/s), a Bézier of one order less: the velocity at every time of the
// segment lies in their convex hull, so their largest norm bounds the
// segment's speed. A linear segment has one: its constant velocity.
func (s Segment) Hodograph() []Vec3 {
	span := (s.End - s.Start).Seconds()
	n := len(s.Points) - 1
	out := make([]Vec3, n)
	for i := range n {
		out[i] = s.Points[i+1].Sub(s.Points[i]).Scale(float64(n) / span)
	}
	return out
}

// bezier evaluates the Bézier curve with control points pts at parameter
// u in [0, 1], and its derivative with respect to u.
func bezier(pts []Vec3, u float64) (pos, d Vec3) {
	v := 1 - u
	switch len(pts) {
	case 1:
		return pts[0], Vec3{}
	case 2:
		return pts[0].Scale(v).Add(pts[1].Scale(u)), pts[1].Sub(pts[0])
	case 3:
		pos = pts[0].Scale(v * v).Add(pts[1].Scale(2 * u * v)).Add(pts[2].Scale(u * u))
		d = pts[1].Sub(pts[0]).Scale(2 * v).Add(pts[2].Sub(pts[1]).Scale(2 * u))
		return pos, d
	default:
		p0, p1, p2, p3 := pts[0], pts[1], pts[2], pts[3]
		pos = p0.Scale(v * v * v).Add(p1.Scale(3 * u * v * v)).Add(p2.Scale(3 * u * u * v)).Add(p3.Scale(u * u * u))
		d = p1.Sub(p0).Scale(3 * v * v).Add(p2.Sub(p1).Scale(6 * u * v)).Add(p3.Sub(p2).Scale(3 * u * u))
		return pos, d
	}
}
