package demo

import (
	"bytes"
	"math"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/skyquorum/skyquorum/sitl/sim/seeds"
	"github.com/skyquorum/skyquorum/swarm/show"
	"github.com/skyquorum/skyquorum/swarm/show/validate"
)

// sizes are the swarm sizes the tests fly: small and odd ones always, the
// big ones under soak only (they take minutes to sample).
func sizes(t *testing.T) []int {
	ns := []int{1, 2, 3, 7, 50, 250}
	if soak := seeds.Count(t, 1) > 1; soak {
		ns = append(ns, 2000, show.MaxDrones)
	}
	return ns
}

// sample is how often the tests look at the show.
const sample = 50 * time.Millisecond

// tolerance absorbs the millimetre rounding of positions.
const tolerance = 1e-3

// TestSafe flies the demo show by sampling every drone every 50 ms and
// checks it against its own limits: distance between every two drones,
// altitude, speeds, acceleration, geofence, and lights that end by the
// landing. Validation must find no violation either.
func TestSafe(t *testing.T) {
	for _, n := range sizes(t) {
		s, err := New(n)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		checkSafe(t, n, s)
		rep, err := validate.Show(s, validate.Options{})
		if err != nil {
			t.Fatalf("n=%d: validate: %v", n, err)
		}
		if !rep.OK() {
			t.Errorf("n=%d: validation finds %d violations, the first: %v", n, rep.Total, rep.Violations[:min(5, len(rep.Violations))])
		}
		t.Logf("n=%d: validation: closest approach found %v (%.3f m), peaks %.2f m/s horizontal, %.2f up, %.2f down, %.2f m/s², %.1f m high",
			n, rep.Closest.Found, rep.Closest.Distance, rep.MaxSpeedXY.Value, rep.MaxSpeedUp.Value, rep.MaxSpeedDown.Value, rep.MaxAccel.Value, rep.MaxAltitude.Value)
	}
}

type worst struct {
	value float64
	at    time.Duration
	drone int // 1-based; a second one for distances
	other int
}

func (w *worst) high(v float64, at time.Duration, k int) {
	if v > w.value {
		*w = worst{value: v, at: at, drone: k + 1}
	}
}

func checkSafe(t *testing.T, n int, s *show.Show) {
	t.Helper()
	l := s.Limits
	if l.MinDistance <= 0 || l.MaxAltitude <= 0 || l.MaxSpeedXY <= 0 || l.MaxSpeedUp <= 0 || l.MaxSpeedDown <= 0 || l.MaxAccel <= 0 {
		t.Fatalf("n=%d: a limit is missing: %+v", n, l)
	}
	if len(s.Fence.Polygon) < 3 {
		t.Fatalf("n=%d: no geofence", n)
	}
	tracks, err := s.Tracks()
	if err != nil {
		t.Fatalf("n=%d: %v", n, err)
	}
	end := s.Duration()
	pos := make([]show.Vec3, n)
	prevVel := make([]show.Vec3, n)
	near := worst{value: math.Inf(1)}
	var xy, up, down, acc, alt, out worst
	below := worst{value: math.Inf(1)}
	var cells spatial
	for at := time.Duration(0); at <= end+sample; at += sample {
		for k, tr := range tracks {
			p, v := tr.Position(at)
			pos[k] = p
			xy.high(math.Hypot(v.X, v.Y), at, k)
			up.high(v.Z, at, k)
			down.high(-v.Z, at, k)
			if at > 0 {
				acc.high(v.Sub(prevVel[k]).Norm()/sample.Seconds(), at, k)
			}
			prevVel[k] = v
			alt.high(p.Z, at, k)
			if p.Z < below.value {
				below = worst{value: p.Z, at: at, drone: k + 1}
			}
			out.high(outside(s.Fence.Polygon, p.X, p.Y), at, k)
		}
		if d, a, b := cells.closest(pos, 1.5*l.MinDistance); d < near.value {
			near = worst{value: d, at: at, drone: a + 1, other: b + 1}
		}
	}
	if near.value < l.MinDistance-tolerance {
		t.Errorf("n=%d: drones %d and %d are %.3f m apart at %v, want at least %.3f m", n, near.drone, near.other, near.value, near.at, l.MinDistance)
	}
	for _, c := range []struct {
		what  string
		w     worst
		limit float64
	}{
		{"horizontal speed (m/s)", xy, l.MaxSpeedXY},
		{"climb speed (m/s)", up, l.MaxSpeedUp},
		{"descent speed (m/s)", down, l.MaxSpeedDown},
		{"acceleration (m/s²)", acc, l.MaxAccel},
		{"altitude (m)", alt, l.MaxAltitude},
		{"distance outside the geofence (m)", out, 0},
	} {
		if c.w.value > c.limit+tolerance {
			t.Errorf("n=%d: %s of drone %d at %v is %.3f, limit %.3f", n, c.what, c.w.drone, c.w.at, c.w.value, c.limit)
		}
	}
	if below.value < -tolerance {
		t.Errorf("n=%d: drone %d is %.3f m below the ground at %v", n, below.drone, -below.value, below.at)
	}
	t.Logf("n=%d: %v long, closest drones %.3f m apart (%d and %d at %v); peaks: %.2f m/s horizontal, %.2f up, %.2f down, %.2f m/s², %.1f m high",
		n, end, near.value, near.drone, near.other, near.at, xy.value, up.value, down.value, acc.value, alt.value)

	for k := range s.Drones {
		d := &s.Drones[k]
		first, last := d.Path[0], d.Path[len(d.Path)-1]
		if first.Pos != d.Home || last.Pos != d.Land || d.Home.Z != 0 || first.At > d.Takeoff || last.At != d.Landing {
			t.Fatalf("n=%d: drone %d flies from %v at %v to %v at %v; home %v, land %v, takeoff %v, landing %v",
				n, k+1, first.Pos, first.At, last.Pos, last.At, d.Home, d.Land, d.Takeoff, d.Landing)
		}
		st, err := d.Lights.RunStats(d.Landing, 0)
		if err != nil || st.Truncated || st.End > d.Landing {
			t.Fatalf("n=%d: drone %d's lights run to %v (truncated %v, endless %v, %v), landing at %v", n, k+1, st.End, st.Truncated, st.Endless, err, d.Landing)
		}
		if c := show.NewLights(d.Lights).At(d.Landing); c != (show.RGB{}) {
			t.Fatalf("n=%d: drone %d shows %v when it lands, want black", n, k+1, c)
		}
	}
}

// spatial finds the closest two drones of those closer than a radius:
// drones hashed into cubes of the radius's side (or larger, to bound the
// cubes' count), each compared with those of its own and the 26
// neighbouring cubes.
type spatial struct {
	head []int32 // per cube: a drone in it, or -1
	next []int32 // per drone: the next drone in its cube, or -1
	cube []int   // per drone: its cube
}

// closest returns the smallest distance below r between two of the
// positions, and which two (counting from 0); +Inf when none is closer.
func (sp *spatial) closest(pos []show.Vec3, r float64) (float64, int, int) {
	lo, hi := pos[0], pos[0]
	for _, p := range pos {
		lo = show.Vec3{X: min(lo.X, p.X), Y: min(lo.Y, p.Y), Z: min(lo.Z, p.Z)}
		hi = show.Vec3{X: max(hi.X, p.X), Y: max(hi.Y, p.Y), Z: max(hi.Z, p.Z)}
	}
	size := r
	var nx, ny, nz int
	for {
		nx, ny, nz = int((hi.X-lo.X)/size)+1, int((hi.Y-lo.Y)/size)+1, int((hi.Z-lo.Z)/size)+1
		if nx*ny*nz <= 1<<24 {
			break
		}
		size *= 2
	}
	if len(sp.head) < nx*ny*nz {
		sp.head = make([]int32, nx*ny*nz)
		for i := range sp.head {
			sp.head[i] = -1
		}
	}
	if len(sp.next) < len(pos) {
		sp.next, sp.cube = make([]int32, len(pos)), make([]int, len(pos))
	}
	at := func(p show.Vec3) (int, int, int) {
		return int((p.X - lo.X) / size), int((p.Y - lo.Y) / size), int((p.Z - lo.Z) / size)
	}
	for k, p := range pos {
		x, y, z := at(p)
		c := (x*ny+y)*nz + z
		sp.cube[k], sp.next[k], sp.head[c] = c, sp.head[c], int32(k)
	}
	best, a, b := math.Inf(1), -1, -1
	for k, p := range pos {
		x, y, z := at(p)
		for i := max(x-1, 0); i <= min(x+1, nx-1); i++ {
			for j := max(y-1, 0); j <= min(y+1, ny-1); j++ {
				for m := max(z-1, 0); m <= min(z+1, nz-1); m++ {
					for o := sp.head[(i*ny+j)*nz+m]; o >= 0; o = sp.next[o] {
						if int(o) > k {
							if d := p.Dist(pos[o]); d < r && d < best {
								best, a, b = d, k, int(o)
							}
						}
					}
				}
			}
		}
	}
	for _, c := range sp.cube[:len(pos)] {
		sp.head[c] = -1
	}
	return best, a, b
}

// outside returns how far (x, y) is outside the polygon, 0 inside.
func outside(poly [][2]float64, x, y float64) float64 {
	in := false
	best := math.Inf(1)
	for i := range poly {
		a, b := poly[i], poly[(i+1)%len(poly)]
		if (a[1] > y) != (b[1] > y) && x < a[0]+(y-a[1])*(b[0]-a[0])/(b[1]-a[1]) {
			in = !in
		}
		// Distance to the edge a-b.
		ex, ey := b[0]-a[0], b[1]-a[1]
		u := max(0, min(1, ((x-a[0])*ex+(y-a[1])*ey)/(ex*ex+ey*ey)))
		best = min(best, math.Hypot(x-a[0]-u*ex, y-a[1]-u*ey))
	}
	if in {
		return 0
	}
	return best
}

// TestLength: a small swarm's show lasts 90 s by default, and as long as
// asked when its moves leave time, but never less than a minute; a big
// one takes longer, as its moves need.
func TestLength(t *testing.T) {
	for _, n := range []int{1, 7, 50, 100, 250} {
		s, err := New(n)
		if err != nil {
			t.Fatal(err)
		}
		if d := s.Duration(); d < 90*time.Second || d > 120*time.Second {
			t.Errorf("n=%d: the show lasts %v, want 90 s (the default) to 120 s", n, d)
		}
	}
	for _, n := range []int{1, 7, 20} {
		s, err := NewWith(n, Options{Duration: 60 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		if d := s.Duration(); d != 60*time.Second {
			t.Errorf("n=%d: asked for 60 s, the show lasts %v", n, d)
		}
		checkSafe(t, n, s)
	}
	for _, c := range []struct {
		n    int
		want time.Duration
	}{{1, MinDuration}, {20, MinDuration}, {250, 102720 * time.Millisecond}} {
		s, err := NewWith(c.n, Options{Duration: time.Nanosecond})
		if err != nil {
			t.Fatal(err)
		}
		if d := s.Duration(); d != c.want {
			t.Errorf("n=%d: the shortest show lasts %v, want %v", c.n, d, c.want)
		}
	}
	if _, err := New(0); err == nil {
		t.Error("New(0) did not fail")
	}
	if _, err := New(show.MaxDrones + 1); err == nil {
		t.Errorf("New(%d) did not fail", show.MaxDrones+1)
	}
}

// TestDeterministic: the same size gives the same show, byte for byte, and
// the show is its own decoded encoding.
func TestDeterministic(t *testing.T) {
	for _, n := range []int{1, 250} {
		a, err := New(n)
		if err != nil {
			t.Fatal(err)
		}
		b, err := New(n)
		if err != nil {
			t.Fatal(err)
		}
		ea, err := a.Encode()
		if err != nil {
			t.Fatal(err)
		}
		eb, err := b.Encode()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(ea, eb) {
			t.Fatalf("n=%d: two encodings differ (%d and %d bytes)", n, len(ea), len(eb))
		}
		d, err := show.Decode(ea)
		if err != nil {
			t.Fatalf("n=%d: %v", n, err)
		}
		if again, _ := d.Encode(); !bytes.Equal(again, ea) {
			t.Fatalf("n=%d: the decoded show encodes to %d bytes, not the same %d", n, len(again), len(ea))
		}
		if !a.HasOrigin || a.Origin != DefaultOrigin || a.Orientation != 0 {
			t.Fatalf("n=%d: origin %v (set %v), orientation %v", n, a.Origin, a.HasOrigin, a.Orientation)
		}
	}
}

// TestSpatial: the closest pair the cubes find is the one comparing all
// pairs finds.
func TestSpatial(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var sp spatial
	for trial := range 50 {
		pos := make([]show.Vec3, 2+rng.IntN(300))
		for k := range pos {
			pos[k] = show.Vec3{X: rng.Float64() * 60, Y: rng.Float64() * 30, Z: rng.Float64() * 20}
		}
		want := math.Inf(1)
		for i := range pos {
			for j := i + 1; j < len(pos); j++ {
				if d := pos[i].Dist(pos[j]); d < 3 {
					want = min(want, d)
				}
			}
		}
		if got, a, b := sp.closest(pos, 3); got != want {
			t.Fatalf("trial %d, %d points: closest pair %d, %d at %.4f m, all pairs give %.4f m", trial, len(pos), a, b, got, want)
		}
	}
}
