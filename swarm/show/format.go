package show

import (
	"errors"
	"fmt"
	"math"
	"time"
)

// Vec3 is a position (metres) or a velocity (metres per second) in the
// show's frame: X north, Y west, Z up, from the show's origin, with the
// axes turned by the show's Orientation.
type Vec3 struct{ X, Y, Z float64 }

// Add returns v + w.
func (v Vec3) Add(w Vec3) Vec3 { return Vec3{v.X + w.X, v.Y + w.Y, v.Z + w.Z} }

// Sub returns v − w.
func (v Vec3) Sub(w Vec3) Vec3 { return Vec3{v.X - w.X, v.Y - w.Y, v.Z - w.Z} }

// Scale returns k·v.
func (v Vec3) Scale(k float64) Vec3 { return Vec3{k * v.X, k * v.Y, k * v.Z} }

// Norm returns the length of v.
func (v Vec3) Norm() float64 { return math.Sqrt(v.X*v.X + v.Y*v.Y + v.Z*v.Z) }

// Dist returns the distance between v and w.
func (v Vec3) Dist(w Vec3) float64 { return v.Sub(w).Norm() }

// finite reports whether every coordinate is a finite number.
func (v Vec3) finite() bool {
	return !math.IsNaN(v.X+v.Y+v.Z) && !math.IsInf(v.X+v.Y+v.Z, 0)
}

// String formats v to the format's resolution.
func (v Vec3) String() string { return fmt.Sprintf("(%.3f, %.3f, %.3f)", v.X, v.Y, v.Z) }

// RGB is a light colour.
type RGB struct{ R, G, B uint8 }

// String formats c as #rrggbb.
func (c RGB) String() string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

// Resolution of the format: positions are kept to the millimetre and
// times to the millisecond, which is what the encoding stores. Quantize
// rounds a show to it (and empty slices to nil), so that a show and its
// decoded encoding are equal.
const (
	Millimetre = 0.001
	Tick       = time.Millisecond
)

// Origin places the show on Earth.
type Origin struct {
	Lat, Lon float64 // degrees, WGS 84
	AMSL     float64 // metres above mean sea level of the frame's Z = 0
}

// Limits are what the show may ask of a drone, and how far apart drones
// must stay. Zero means no limit (MinDistance: no separation check).
type Limits struct {
	MaxAltitude  float64 // m above the origin
	MaxSpeedXY   float64 // m/s, horizontal
	MaxSpeedUp   float64 // m/s, climbing
	MaxSpeedDown float64 // m/s, descending
	MaxAccel     float64 // m/s², magnitude of the 3-D acceleration
	MinDistance  float64 // m, between any two drones at every show time
}

// Fence is the geofence: drones stay inside the polygon (X, Y of each
// vertex in the show's frame, in order, implicitly closed). An empty
// polygon means no fence.
type Fence struct {
	Polygon [][2]float64
}

// Cue is a named show time (a song's bar, a shape), for operators.
type Cue struct {
	Name string
	At   time.Duration
}

// Keyframe ends a segment of a trajectory: the drone is at Pos at show
// time At. Ctrl holds the segment's inner Bézier control points, from the
// previous keyframe to this one: none for a straight line, one for a
// quadratic, two for a cubic. The first keyframe has none.
type Keyframe struct {
	At   time.Duration
	Pos  Vec3
	Ctrl []Vec3
}

// Drone is one drone's part of the show: where it takes off and lands,
// its path and its lights. Show times count from the show's start.
type Drone struct {
	Name string
	// Home is where the drone takes off; Land where it lands (often Home).
	Home, Land Vec3
	// Takeoff is the show time the drone leaves the ground, Landing the
	// time it is down again. Its trajectory covers both.
	Takeoff, Landing time.Duration
	// Path is the trajectory, keyframes in increasing time. Before the
	// first keyframe the drone is at its first position, after the last
	// at its last.
	Path []Keyframe
	// Lights is the drone's light program (see Program).
	Lights Program
}

// LateTakeoff is how long after its Takeoff a drone still on the ground
// may leave it. A drone that missed its take-off (it did not know swarm
// time, or restarted) stays down: flying straight from its home to where
// the show has got to would cross the others' paths out of phase.
const LateTakeoff = time.Second

// Show is a whole show: where it is flown, what it may ask of a drone,
// and every drone's part. Drone k (counting from 0) is flown by the drone
// with swarm ID k+1.
type Show struct {
	Title string
	// Origin is where the frame's origin is on Earth; HasOrigin is false
	// for a show not yet placed (a CSV import without --origin).
	Origin    Origin
	HasOrigin bool
	// Orientation is the direction of the show's X axis, in degrees
	// clockwise from true north.
	Orientation float64
	Fence       Fence
	Limits      Limits
	Cues        []Cue
	Drones      []Drone
}

// MaxDrones is the largest show: drone IDs are 1 to 65534.
const MaxDrones = 65534

// Bounds on a show's parts, which Check enforces and the decoder and the
// importers refuse beyond: they bound the memory a hostile file can make
// a reader allocate.
const (
	MaxKeyframes     = 1 << 20 // per drone
	MaxProgramBytes  = 1 << 20 // per drone
	MaxFenceVertices = 4096
	MaxCues          = 4096
	MaxNameBytes     = 255
	MaxDuration      = 24 * time.Hour
	MaxCoordinate    = 100_000.0 // m from the origin
)

// ErrInvalid wraps every error of Check: a show that is not well formed.
var ErrInvalid = errors.New("show: invalid")

// Duration returns the show's length: the latest landing or keyframe.
func (s *Show) Duration() time.Duration {
	var d time.Duration
	for i := range s.Drones {
		dr := &s.Drones[i]
		d = max(d, dr.Landing)
		if n := len(dr.Path); n > 0 {
			d = max(d, dr.Path[n-1].At)
		}
	}
	return d
}

// Check reports the first way in which s is not well formed: a drone
// without a path, keyframes out of order, a non-finite number, a time or a
// position off the format's range, a bad light program. It does not check
// that the show is safe to fly (swarm/show/validate does).
func (s *Show) Check() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
	}
	if len(s.Title) > MaxNameBytes {
		return bad("title is %d bytes, at most %d", len(s.Title), MaxNameBytes)
	}
	if n := len(s.Drones); n == 0 || n > MaxDrones {
		return bad("%d drones, want 1 to %d", n, MaxDrones)
	}
	if s.HasOrigin {
		o := s.Origin
		if !finite(o.Lat, o.Lon, o.AMSL) || math.Abs(o.Lat) > 90 || math.Abs(o.Lon) > 180 || math.Abs(o.AMSL) > 20_000 {
			return bad("origin %v is not a place on Earth (latitude ±90°, longitude ±180°, AMSL ±20 km)", o)
		}
	}
	if !finite(s.Orientation) || s.Orientation < 0 || s.Orientation >= 360 {
		return bad("orientation %v°, want 0 to 360", s.Orientation)
	}
	l := s.Limits
	for _, f := range []struct {
		name string
		v    float64
	}{{"max altitude", l.MaxAltitude}, {"max horizontal speed", l.MaxSpeedXY}, {"max climb speed", l.MaxSpeedUp},
		{"max descent speed", l.MaxSpeedDown}, {"max acceleration", l.MaxAccel}, {"min distance", l.MinDistance}} {
		if !finite(f.v) || f.v < 0 || f.v > MaxCoordinate {
			return bad("limit %s is %v, want 0 (none) or a positive number", f.name, f.v)
		}
	}
	if n := len(s.Fence.Polygon); n > MaxFenceVertices || (n > 0 && n < 3) {
		return bad("geofence has %d vertices, want 0 (none) or 3 to %d", n, MaxFenceVertices)
	}
	for i, p := range s.Fence.Polygon {
		if !inRange(p[0]) || !inRange(p[1]) {
			return bad("geofence vertex %d (%v, %v) is not a finite coordinate within %.0f m", i, p[0], p[1], MaxCoordinate)
		}
	}
	if len(s.Cues) > MaxCues {
		return bad("%d cues, at most %d", len(s.Cues), MaxCues)
	}
	for i, c := range s.Cues {
		if len(c.Name) > MaxNameBytes {
			return bad("cue %d: name is %d bytes, at most %d", i, len(c.Name), MaxNameBytes)
		}
		if c.At < 0 || c.At > MaxDuration {
			return bad("cue %q at %v, want 0 to %v", c.Name, c.At, MaxDuration)
		}
	}
	for i := range s.Drones {
		if err := s.Drones[i].check(); err != nil {
			return fmt.Errorf("%w: drone %d (%s): %w", ErrInvalid, i+1, s.Drones[i].Name, err)
		}
	}
	return nil
}

func (d *Drone) check() error {
	if len(d.Name) > MaxNameBytes {
		return fmt.Errorf("name is %d bytes, at most %d", len(d.Name), MaxNameBytes)
	}
	if !inRange3(d.Home) || !inRange3(d.Land) {
		return fmt.Errorf("home %v or landing position %v is not a finite position within %.0f m", d.Home, d.Land, MaxCoordinate)
	}
	if d.Takeoff < 0 || d.Landing < d.Takeoff || d.Landing > MaxDuration {
		return fmt.Errorf("takeoff at %v and landing at %v, want 0 ≤ takeoff ≤ landing ≤ %v", d.Takeoff, d.Landing, MaxDuration)
	}
	if len(d.Path) == 0 {
		return errors.New("no trajectory")
	}
	if len(d.Path) > MaxKeyframes {
		return fmt.Errorf("%d keyframes, at most %d", len(d.Path), MaxKeyframes)
	}
	for k, kf := range d.Path {
		if kf.At < 0 || kf.At > MaxDuration {
			return fmt.Errorf("keyframe %d at %v, want 0 to %v", k, kf.At, MaxDuration)
		}
		if k > 0 && kf.At <= d.Path[k-1].At {
			return fmt.Errorf("keyframe %d at %v does not come after keyframe %d at %v: times must increase", k, kf.At, k-1, d.Path[k-1].At)
		}
		if k == 0 && len(kf.Ctrl) > 0 {
			return errors.New("the first keyframe has control points: they belong to the segment that ends at a keyframe")
		}
		if len(kf.Ctrl) > 2 {
			return fmt.Errorf("keyframe %d at %v has %d control points, at most 2 (cubic Bézier)", k, kf.At, len(kf.Ctrl))
		}
		if !inRange3(kf.Pos) {
			return fmt.Errorf("keyframe %d at %v: position %v is not finite or beyond %.0f m", k, kf.At, kf.Pos, MaxCoordinate)
		}
		for _, c := range kf.Ctrl {
			if !inRange3(c) {
				return fmt.Errorf("keyframe %d at %v: control point %v is not finite or beyond %.0f m", k, kf.At, c, MaxCoordinate)
			}
		}
	}
	if len(d.Lights) > MaxProgramBytes {
		return fmt.Errorf("light program is %d bytes, at most %d", len(d.Lights), MaxProgramBytes)
	}
	return d.Lights.Check()
}

func finite(vs ...float64) bool {
	for _, v := range vs {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return false
		}
	}
	return true
}

func inRange(v float64) bool { return finite(v) && math.Abs(v) <= MaxCoordinate }

func inRange3(v Vec3) bool { return inRange(v.X) && inRange(v.Y) && inRange(v.Z) }

// Quantize rounds every position of s to the millimetre and every time to
// the millisecond, the format's resolution; importers call it, so that the
// show they return equals its own decoded encoding.
func (s *Show) Quantize() {
	s.Origin.Lat = roundTo(s.Origin.Lat, 1e7)
	s.Origin.Lon = roundTo(s.Origin.Lon, 1e7)
	s.Origin.AMSL = roundTo(s.Origin.AMSL, 1e3)
	s.Orientation = roundTo(s.Orientation, 1e3)
	if s.Orientation >= 360 {
		s.Orientation = 0
	}
	l := &s.Limits
	for _, p := range []*float64{&l.MaxAltitude, &l.MaxSpeedXY, &l.MaxSpeedUp, &l.MaxSpeedDown, &l.MaxAccel, &l.MinDistance} {
		*p = roundTo(*p, 1e3)
	}
	for i := range s.Fence.Polygon {
		s.Fence.Polygon[i][0] = roundTo(s.Fence.Polygon[i][0], 1e3)
		s.Fence.Polygon[i][1] = roundTo(s.Fence.Polygon[i][1], 1e3)
	}
	for i := range s.Cues {
		s.Cues[i].At = s.Cues[i].At.Round(Tick)
	}
	if len(s.Fence.Polygon) == 0 {
		s.Fence.Polygon = nil
	}
	if len(s.Cues) == 0 {
		s.Cues = nil
	}
	for i := range s.Drones {
		d := &s.Drones[i]
		if len(d.Lights) == 0 {
			d.Lights = nil
		}
		d.Home, d.Land = roundVec(d.Home), roundVec(d.Land)
		d.Takeoff, d.Landing = d.Takeoff.Round(Tick), d.Landing.Round(Tick)
		for k := range d.Path {
			kf := &d.Path[k]
			kf.At = kf.At.Round(Tick)
			kf.Pos = roundVec(kf.Pos)
			if len(kf.Ctrl) == 0 {
				kf.Ctrl = nil
			}
			for c := range kf.Ctrl {
				kf.Ctrl[c] = roundVec(kf.Ctrl[c])
			}
		}
	}
}

func roundTo(v, per float64) float64 {
	if !finite(v) {
		return v
	}
	r := math.Round(v*per) / per
	if r == 0 {
		return 0 // no negative zero: it would encode like zero and compare unequal
	}
	return r
}

func roundVec(v Vec3) Vec3 { return Vec3{roundTo(v.X, 1e3), roundTo(v.Y, 1e3), roundTo(v.Z, 1e3)} }
