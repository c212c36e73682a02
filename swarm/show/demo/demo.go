// Package demo generates the demo show: a show for any number of drones,
// from 1 to show.MaxDrones, built into the binary so that a swarm can fly
// something without a show file.
//
// The swarm takes off together from a grid of homes, hovers as a flat
// carpet, tilts the carpet up into a vertical wall that faces the
// audience (to the south), draws a heart, a ring and a wave in colour on
// the wall, stretches the wall sideways and back, tilts it down again and
// lands every drone straight down on its home.
//
// # Why drones stay apart
//
// Every formation is an affine image of the home grid: drone i, at grid
// point q_i (metres, spacing Spacing), is at A·q_i + c for a 3×2 matrix A
// and an offset c shared by all drones. Every move flies all drones on the
// same time profile from one formation to the next, so at every instant
// the formation is A(t)·q_i + c(t) with A(t) the straight blend of the two
// matrices, and two drones are at least σ_min(A(t))·Spacing apart, σ_min
// the smaller singular value. The formations are the grid turned about
// the Y axis by 0°, 45° and 90° and stretched sideways by at least 1, so
// no blend shrinks the grid by more than cos 22.5° ≈ 0.92: drones stay
// 2.77 m apart, more than MinDistance. New checks the blends it flies and
// fails rather than return a show whose bound is below 1.1 × MinDistance.
//
// # Moves
//
// A move accelerates at a constant rate for a third of its time, cruises
// for a third and brakes for the last third: a quadratic Bézier segment,
// a straight one and a quadratic one, starting and ending at rest. The
// control points of each segment then bound its speed exactly (the peak
// is 1.5 times the average), and the acceleration is 4.5·d/T² for a move
// of d metres in T seconds. Each move lasts long enough for its longest
// path to stay within 90% of the show's limits; a bigger grid makes longer
// moves, and so a longer show.
package demo

import (
	"fmt"
	"math"
	"time"

	"github.com/skyquorum/skyquorum/swarm/show"
)

// The demo show's limits and geometry.
const (
	// Spacing is the distance between neighbouring homes, metres.
	Spacing = 3.0
	// Base is the altitude of the carpet and of the wall's bottom row.
	Base = 8.0
	// MaxRows bounds the rows of the home grid, and so the wall's
	// height: a bigger swarm gets a wider grid, not a taller one.
	MaxRows = 32
	// FenceMargin is how far the geofence keeps from the show's paths,
	// AltitudeMargin how far the altitude limit is above its top.
	FenceMargin    = 10.0
	AltitudeMargin = 10.0
	// DefaultDuration is the show's length unless Options say otherwise;
	// MinDuration is the shortest show, takeoff to landing, at any size.
	DefaultDuration = 90 * time.Second
	MinDuration     = 60 * time.Second
	// MinHold is the shortest time the wall holds each of its three
	// pictures (heart, ring, wave).
	MinHold = 8 * time.Second
	// use is the share of each limit a move may take.
	use = 0.9
)

// DefaultLimits are the demo show's limits: conservative speeds and
// accelerations, 2 m between drones. The altitude limit depends on the
// swarm's size (the wall's height) and is set by New.
var DefaultLimits = show.Limits{
	MaxSpeedXY:   5,
	MaxSpeedUp:   2.5,
	MaxSpeedDown: 1.5,
	MaxAccel:     3,
	MinDistance:  2,
}

// DefaultOrigin is where the demo show is placed unless the operator
// places it elsewhere when importing or loading it: Tempelhofer Feld, an
// open field in Berlin, with the frame's Z = 0 at ground level.
var DefaultOrigin = show.Origin{Lat: 52.4735, Lon: 13.4035, AMSL: 44}

// Options tune the demo show.
type Options struct {
	// Duration is the show's length, from takeoff (at show time 0) to the
	// last landing (optional, default DefaultDuration). The wall's
	// pictures take the time the moves leave; the show is never shorter
	// than MinDuration, nor than its moves and the shortest pictures
	// need, which for a big swarm is more than the default. A duration
	// below MinDuration asks for the shortest show.
	Duration time.Duration
}

// New returns the demo show for n drones with the default options.
func New(n int) (*show.Show, error) { return NewWith(n, Options{}) }

// shape is a formation: drone at grid point q is at A·q + c, with A's
// columns ax (for q's X) and ay (for q's Y).
type shape struct{ ax, ay, c show.Vec3 }

func (f shape) at(qx, qy float64) show.Vec3 {
	return f.ax.Scale(qx).Add(f.ay.Scale(qy)).Add(f.c)
}

// blend is the formation a fraction e of the way from f to g.
func blend(f, g shape, e float64) shape {
	mix := func(a, b show.Vec3) show.Vec3 { return a.Scale(1 - e).Add(b.Scale(e)) }
	return shape{mix(f.ax, g.ax), mix(f.ay, g.ay), mix(f.c, g.c)}
}

// sigmaMin returns the smaller singular value of the matrix [ax ay].
func (f shape) sigmaMin() float64 {
	dot := func(a, b show.Vec3) float64 { return a.X*b.X + a.Y*b.Y + a.Z*b.Z }
	a, b, c := dot(f.ax, f.ax), dot(f.ax, f.ay), dot(f.ay, f.ay)
	// Eigenvalues of the Gram matrix [[a b] [b c]].
	mean, d := (a+c)/2, math.Hypot((a-c)/2, b)
	return math.Sqrt(max(mean-d, 0))
}

// grid is the home grid: rows along X (north), columns along Y (west),
// centred on the origin. Drone i is in row i/cols, column i%cols.
type grid struct {
	n, rows, cols int
	hx, hy        float64 // half extents, metres
}

func newGrid(n int) grid {
	cols := max(int(math.Ceil(math.Sqrt(2*float64(n)))), (n+MaxRows-1)/MaxRows)
	cols = min(cols, n)
	rows := (n + cols - 1) / cols
	return grid{n: n, rows: rows, cols: cols, hx: float64(rows-1) * Spacing / 2, hy: float64(cols-1) * Spacing / 2}
}

// q returns drone i's grid point: row 0 is the southernmost, column 0
// the westernmost (the audience's left).
func (g grid) q(i int) (qx, qy float64) {
	r, c := i/g.cols, i%g.cols
	return float64(r)*Spacing - g.hx, g.hy - float64(c)*Spacing
}

// tilted is the grid turned up by deg degrees about its middle row (the
// north edge rising), stretched sideways by k, its lowest row at z.
func tilted(g grid, deg, k, z float64) shape {
	s, c := math.Sincos(deg * math.Pi / 180)
	return shape{ax: show.Vec3{X: c, Z: s}, ay: show.Vec3{Y: k}, c: show.Vec3{Z: z + s*g.hx}}
}

// move is one move of the whole swarm from one formation to another.
type move struct {
	from, to shape
	start, t time.Duration
}

// quantum is the unit of a move's duration: a third of it is a whole
// number of light-program units, so keyframes and light steps line up.
const quantum = 3 * show.LightUnit

// duration returns how long the move from f to g must take for its
// longest path to stay within the limits. The displacement is affine in
// q, and every bound is a convex function of it, so the grid's corners
// bound all drones.
func duration(g grid, f, h shape, l show.Limits) time.Duration {
	var dxy, up, down, d3 float64
	for _, qx := range []float64{-g.hx, g.hx} {
		for _, qy := range []float64{-g.hy, g.hy} {
			d := h.at(qx, qy).Sub(f.at(qx, qy))
			dxy = max(dxy, math.Hypot(d.X, d.Y))
			up, down = max(up, d.Z), max(down, -d.Z)
			d3 = max(d3, d.Norm())
		}
	}
	// Peak speed 1.5·d/T, acceleration 4.5·d/T².
	sec := max(3,
		1.5*dxy/(use*l.MaxSpeedXY),
		1.5*up/(use*l.MaxSpeedUp),
		1.5*down/(use*l.MaxSpeedDown),
		math.Sqrt(4.5*d3/(use*l.MaxAccel)))
	t := time.Duration(math.Ceil(sec * float64(time.Second) / float64(quantum)))
	return t * quantum
}

// NewWith returns the demo show for n drones.
func NewWith(n int, opt Options) (*show.Show, error) {
	if n < 1 || n > show.MaxDrones {
		return nil, fmt.Errorf("demo: %d drones, want 1 to %d", n, show.MaxDrones)
	}
	if opt.Duration == 0 {
		opt.Duration = DefaultDuration
	}
	if opt.Duration < 0 || opt.Duration > show.MaxDuration {
		return nil, fmt.Errorf("demo: duration %v, want 0 (default) to %v", opt.Duration, show.MaxDuration)
	}
	g := newGrid(n)
	l := DefaultLimits
	// Stretch the wall by half, or by 20 m at each end for a wide one.
	k := 1 + min(0.5, 40/max(2*g.hy, 1))
	var (
		ground  = shape{ax: show.Vec3{X: 1}, ay: show.Vec3{Y: 1}}
		carpet  = tilted(g, 0, 1, Base)
		half    = tilted(g, 45, 1, Base)
		wall    = tilted(g, 90, 1, Base)
		stretch = tilted(g, 90, k, Base)
	)
	// The moves, and the holds after two of them: after the climb into
	// the wall, the heart and the ring; after the stretch, the wave.
	path := []shape{ground, carpet, half, wall, stretch, wall, half, carpet, ground}
	moves := make([]move, len(path)-1)
	var moving time.Duration
	for m := range moves {
		moves[m] = move{from: path[m], to: path[m+1], t: duration(g, path[m], path[m+1], l)}
		moving += moves[m].t
		// The separation bound along the blend, which is a smooth
		// function of the blend's fraction: sampled finely.
		for s := 0; s <= 256; s++ {
			if sm := blend(path[m], path[m+1], float64(s)/256).sigmaMin(); sm*Spacing < l.MinDistance*1.1 {
				return nil, fmt.Errorf("demo: move %d shrinks the grid to %.3f of its spacing, %.2f m between drones, want %.2f m", m, sm, sm*Spacing, l.MinDistance*1.1)
			}
		}
	}
	// Share what the moves leave among the three pictures.
	hold, wave := MinHold, MinHold
	if spare := max(opt.Duration, MinDuration) - moving; spare > 3*MinHold {
		hold = spare / 3 / quantum * quantum
		wave = (spare - 2*hold) / quantum * quantum
	}
	var t time.Duration
	var tl timeline
	for m := range moves {
		moves[m].start = t
		t += moves[m].t
		switch m {
		case 2:
			tl.wall = t
			t += 2 * hold
		case 3:
			tl.stretch = moves[m].start
			t += wave
		case 4:
			tl.unstretched = t
		case 7:
			tl.land = moves[m].start
		}
	}
	tl.hold, tl.end, tl.takeoff = hold, t, moves[0].t

	s := &show.Show{
		Title:     fmt.Sprintf("Skyquorum demo, %d drones", n),
		Origin:    DefaultOrigin,
		HasOrigin: true,
		Limits:    l,
		Cues: []show.Cue{
			{Name: "takeoff", At: 0},
			{Name: "wall", At: tl.wall},
			{Name: "heart", At: tl.wall},
			{Name: "ring", At: tl.wall + hold},
			{Name: "wave", At: tl.stretch},
			{Name: "descent", At: tl.unstretched},
			{Name: "landing", At: tl.land},
		},
		Drones: make([]show.Drone, n),
	}
	s.Limits.MaxAltitude = math.Ceil(Base + 2*g.hx + AltitudeMargin)
	xmin, xmax := -g.hx-FenceMargin, g.hx+FenceMargin
	ymin, ymax := -k*g.hy-FenceMargin, k*g.hy+FenceMargin
	s.Fence.Polygon = [][2]float64{{xmin, ymin}, {xmax, ymin}, {xmax, ymax}, {xmin, ymax}}

	for i := range s.Drones {
		qx, qy := g.q(i)
		home := ground.at(qx, qy)
		kf := make([]show.Keyframe, 0, 1+3*len(moves)+2)
		kf = append(kf, show.Keyframe{At: 0, Pos: home})
		for m, mv := range moves {
			a, b := mv.from.at(qx, qy), mv.to.at(qx, qy)
			d := b.Sub(a)
			third := mv.t / 3
			kf = append(kf,
				show.Keyframe{At: mv.start + third, Pos: a.Add(d.Scale(0.25)), Ctrl: []show.Vec3{a}},
				show.Keyframe{At: mv.start + 2*third, Pos: a.Add(d.Scale(0.75))},
				show.Keyframe{At: mv.start + mv.t, Pos: b, Ctrl: []show.Vec3{b}})
			if m+1 < len(moves) && moves[m+1].start > mv.start+mv.t {
				kf = append(kf, show.Keyframe{At: moves[m+1].start, Pos: b})
			}
		}
		s.Drones[i] = show.Drone{
			Home:    home,
			Land:    home,
			Takeoff: 0,
			Landing: tl.end,
			Path:    kf,
			Lights:  lights(g, i, tl),
		}
	}
	s.Quantize()
	if err := s.Check(); err != nil {
		return nil, fmt.Errorf("demo: %d drones: %w", n, err)
	}
	return s, nil
}
