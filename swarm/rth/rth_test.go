package rth_test

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/skyquorum/skyquorum/sitl/sim/seeds"
	"github.com/skyquorum/skyquorum/swarm/airspace"
	"github.com/skyquorum/skyquorum/swarm/rth"
	"github.com/skyquorum/skyquorum/swarm/show"
	"github.com/skyquorum/skyquorum/swarm/show/demo"
)

// moment is an instant of the demo show to leave at.
type moment struct {
	name string
	at   time.Duration
}

// moments returns instants of every phase of the demo show: the takeoff,
// the carpet, the tilt, the wall, the stretch, the descent and the
// landing.
func moments(s *show.Show) []moment {
	cue := func(name string) time.Duration {
		for _, c := range s.Cues {
			if c.Name == name {
				return c.At
			}
		}
		panic(name)
	}
	p := s.Drones[0].Path
	carpet := p[3].At // end of the takeoff
	half := p[6].At   // end of the tilt to 45°
	return []moment{
		{"takeoff", carpet / 2},
		{"carpet", carpet},
		{"tilt", (carpet + half) / 2},
		{"wall", cue("ring")},
		{"stretch", cue("wave") + 2*time.Second},
		{"descent", cue("descent") + time.Second},
		{"landing", cue("landing") + 2*time.Second},
	}
}

// margin is the planner's default margin.
const margin = 0.5

// verify checks a path against the show on its own terms, by dense
// sampling: it starts where and how the drone was, ends at rest on the
// ground at home, stays within the limits and the fence, and keeps
// MinDistance from every other drone at every sampled instant. It
// returns the least distance to another drone.
func verify(t *testing.T, s *show.Show, tracks []*show.Track, drone int, from, vel show.Vec3, at time.Duration, p rth.Path) float64 {
	t.Helper()
	const dt = 10 * time.Millisecond
	l := s.Limits
	if p.Start() != at {
		t.Fatalf("path starts at %v, want %v", p.Start(), at)
	}
	if pos, v := p.Position(at); pos.Dist(from) > 1e-6 || v.Dist(vel) > 1e-6 {
		t.Fatalf("path starts at %v with %v, want %v with %v", pos, v, from, vel)
	}
	home := s.Drones[drone].Home
	if end := p.Keyframes[len(p.Keyframes)-1].Pos; end.Dist(home) > 1e-6 {
		t.Fatalf("path ends at %v, want home %v", end, home)
	}
	if _, v := p.Position(p.End() - time.Millisecond); v.Norm() > 0.01 {
		t.Fatalf("drone lands at %.3f m/s", v.Norm())
	}
	least := math.Inf(1)
	var prevV show.Vec3
	for at2 := p.Start(); at2 <= p.End(); at2 += dt {
		pos, v := p.Position(at2)
		if h := math.Hypot(v.X, v.Y); h > l.MaxSpeedXY+1e-9 {
			t.Fatalf("show time %v: horizontal speed %.3f m/s, limit %.3f", at2, h, l.MaxSpeedXY)
		}
		if v.Z > l.MaxSpeedUp+1e-9 || -v.Z > l.MaxSpeedDown+1e-9 {
			t.Fatalf("show time %v: vertical speed %.3f m/s, limits +%.3f −%.3f", at2, v.Z, l.MaxSpeedUp, l.MaxSpeedDown)
		}
		if at2 > p.Start() {
			if a := v.Sub(prevV).Norm() / dt.Seconds(); a > l.MaxAccel+1e-6 {
				t.Fatalf("show time %v: acceleration %.3f m/s², limit %.3f", at2, a, l.MaxAccel)
			}
		}
		prevV = v
		if pos.Z > l.MaxAltitude || pos.Z < -1e-9 {
			t.Fatalf("show time %v: altitude %.3f m, want 0 to %.3f", at2, pos.Z, l.MaxAltitude)
		}
		if !inside(s.Fence.Polygon, pos.X, pos.Y) {
			t.Fatalf("show time %v: %v outside the geofence", at2, pos)
		}
		for j, tr := range tracks {
			if j == drone {
				continue
			}
			q, _ := tr.Position(at2)
			d := q.Dist(pos)
			// The show's own spacing where the path follows it, the
			// planner's guarantee elsewhere.
			want := l.MinDistance + margin/2
			if at2 < p.Start()+p.Follow {
				want = l.MinDistance
			}
			if d < want {
				t.Fatalf("show time %v: %.3f m from drone %d, want %.2f m", at2, d, j+1, want)
			}
			least = min(least, d)
		}
	}
	// Landed, the drone stays at home to the end of the show.
	home = p.Keyframes[len(p.Keyframes)-1].Pos
	for at2 := p.End(); at2 <= s.Duration()+time.Second; at2 += 5 * dt {
		for j, tr := range tracks {
			if q, _ := tr.Position(at2); j != drone && q.Dist(home) < l.MinDistance {
				t.Fatalf("show time %v: landed at %v, %.3f m from drone %d", at2, home, q.Dist(home), j+1)
			}
		}
	}
	return least
}

// landInPlace is what a drone without a plan does: it stops where it is
// and descends straight down at the show's descent limit, then stays on
// the ground. It returns the least distance to another drone.
func landInPlace(s *show.Show, tracks []*show.Track, drone int, from show.Vec3, at time.Duration) float64 {
	least := math.Inf(1)
	for t := at; t <= s.Duration()+time.Second; t += 50 * time.Millisecond {
		pos := from
		pos.Z = max(0, from.Z-s.Limits.MaxSpeedDown*(t-at).Seconds())
		for j, tr := range tracks {
			if j != drone {
				q, _ := tr.Position(t)
				least = min(least, q.Dist(pos))
			}
		}
	}
	return least
}

func inside(f [][2]float64, x, y float64) bool {
	in := false
	for i := range f {
		a, b := f[i], f[(i+1)%len(f)]
		if (a[1] > y) != (b[1] > y) && x < a[0]+(y-a[1])*(b[0]-a[0])/(b[1]-a[1]) {
			in = !in
		}
	}
	return in
}

func TestDemoReturnsKeepApart(t *testing.T) {
	for _, n := range []int{20, 50, 250} {
		s, err := demo.New(n)
		if err != nil {
			t.Fatal(err)
		}
		tracks, err := s.Tracks()
		if err != nil {
			t.Fatal(err)
		}
		planner, err := rth.New(s)
		if err != nil {
			t.Fatal(err)
		}
		drones := []int{0, n / 2, n - 1, n / 3}
		if testing.Short() {
			drones = drones[:2] // the race pass: a corner and the middle
		}
		worst, baseWorst := math.Inf(1), math.Inf(1)
		cases, baseBad := 0, 0
		var longest time.Duration
		for _, m := range moments(s) {
			for _, k := range drones {
				from, vel := tracks[k].Position(m.at)
				p, err := planner.Plan(k, from, vel, m.at, rth.Options{})
				if err != nil {
					t.Errorf("%d drones, drone %d leaving in the %s at %v: %v", n, k+1, m.name, m.at, err)
					continue
				}
				least := verify(t, s, tracks, k, from, vel, m.at, p)
				worst = min(worst, least)
				base := landInPlace(s, tracks, k, from, m.at)
				baseWorst = min(baseWorst, base)
				cases++
				if base < s.Limits.MinDistance {
					baseBad++
				}
				longest = max(longest, p.End()-p.Start())
				t.Logf("%3d drones, drone %3d, %-8s at %6v: %5.1f s (follow %4.1f s, wait %4.1f s), layer %4.1f m, clearance %.2f m (planner %.2f m)",
					n, k+1, m.name, m.at, (p.End() - p.Start()).Seconds(), p.Follow.Seconds(), p.Wait.Seconds(), p.Layer, least, p.Clearance)
			}
		}
		t.Logf("%d drones: worst clearance %.2f m (MinDistance %.1f m), longest return %.1f s; landing in place instead comes closer than MinDistance in %d of %d cases, down to %.2f m",
			n, worst, s.Limits.MinDistance, longest.Seconds(), baseBad, cases, baseWorst)
		if worst < s.Limits.MinDistance+margin/2 {
			t.Errorf("%d drones: worst clearance %.2f m, want %.2f m", n, worst, s.Limits.MinDistance+margin/2)
		}
	}
}

// A show with no room: the only other drone ends its show hovering 1 m
// over the returning drone's home, and stays there.
func TestNoRoomFailsNamingTheDrone(t *testing.T) {
	s := &show.Show{
		Limits: show.Limits{MaxAltitude: 12, MaxSpeedXY: 5, MaxSpeedUp: 2.5, MaxSpeedDown: 1.5, MaxAccel: 3, MinDistance: 2},
		Drones: []show.Drone{
			{Home: show.Vec3{}, Land: show.Vec3{}, Landing: 60 * time.Second, Path: []show.Keyframe{
				{At: 0, Pos: show.Vec3{}},
				{At: 10 * time.Second, Pos: show.Vec3{X: 20, Z: 10}},
				{At: 60 * time.Second, Pos: show.Vec3{X: 20, Z: 10}},
			}},
			{Home: show.Vec3{X: 5}, Land: show.Vec3{X: 5}, Landing: 60 * time.Second, Path: []show.Keyframe{
				{At: 0, Pos: show.Vec3{X: 5}},
				{At: 10 * time.Second, Pos: show.Vec3{X: 0, Z: 1}},
				{At: 60 * time.Second, Pos: show.Vec3{X: 0, Z: 1}},
			}},
		},
	}
	_, err := rth.Plan(s, 0, show.Vec3{X: 20, Z: 10}, show.Vec3{}, 20*time.Second, rth.Options{MaxWait: 20 * time.Second})
	var c *rth.Conflict
	if !errors.Is(err, rth.ErrNoPath) || !errors.As(err, &c) {
		t.Fatalf("got %v, want ErrNoPath with a Conflict", err)
	}
	if c.Drone != 2 {
		t.Errorf("conflict with drone %d, want 2: %v", c.Drone, err)
	}
	t.Log(err)
}

// Cells covers every point of a path (sampled every 10 ms), in the
// increasing order the airspace locks are taken, without repeats; for a
// path of straight legs it is exactly Grid.Path of its keyframes.
func TestCellsInLockOrder(t *testing.T) {
	s, err := demo.New(50)
	if err != nil {
		t.Fatal(err)
	}
	tracks, _ := s.Tracks()
	grid, err := airspace.NewGrid(airspace.Point{X: -40, Y: -60, Z: -1}, airspace.Point{X: 4, Y: 4, Z: 4}, [3]int{20, 30, 10})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range moments(s) {
		for _, k := range []int{0, 25, 49} {
			from, vel := tracks[k].Position(m.at)
			p, err := rth.Plan(s, k, from, vel, m.at, rth.Options{})
			if err != nil {
				t.Fatal(err)
			}
			cells, err := rth.Cells(grid, p)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.IsSorted(cells) || len(slices.Compact(slices.Clone(cells))) != len(cells) {
				t.Fatalf("drone %d, %s: cells %v not in increasing order without repeats", k+1, m.name, cells)
			}
			for at := p.Start(); at <= p.End(); at += 10 * time.Millisecond {
				pos, _ := p.Position(at)
				c, err := grid.CellOf(airspace.Point{X: pos.X, Y: pos.Y, Z: pos.Z})
				if err != nil {
					t.Fatal(err)
				}
				if _, ok := slices.BinarySearch(cells, c); !ok {
					t.Fatalf("drone %d, %s: at show time %v the path is in cell %d, not in Cells", k+1, m.name, at, c)
				}
			}
			if p.Follow == 0 {
				var pts []airspace.Point
				for _, kf := range p.Keyframes {
					pts = append(pts, airspace.Point{X: kf.Pos.X, Y: kf.Pos.Y, Z: kf.Pos.Z})
				}
				want, err := grid.Path(pts...)
				if err != nil {
					t.Fatal(err)
				}
				if !slices.Equal(cells, want) {
					t.Fatalf("drone %d, %s: cells %v, Grid.Path gives %v", k+1, m.name, cells, want)
				}
			}
		}
	}
	// A path that leaves the grid is refused.
	small, _ := airspace.NewGrid(airspace.Point{X: -5, Y: -5, Z: -1}, airspace.Point{X: 2, Y: 2, Z: 2}, [3]int{5, 5, 5})
	from, vel := tracks[0].Position(s.Cues[2].At)
	p, err := rth.Plan(s, 0, from, vel, s.Cues[2].At, rth.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rth.Cells(small, p); !errors.Is(err, airspace.ErrOutside) {
		t.Fatalf("got %v, want ErrOutside", err)
	}
}

// BenchmarkPlan plans returns from every phase of the demo show, for the
// drone in the middle of the grid (which, in the wall, must follow the
// show until the wall tilts down) and for one at a corner.
func BenchmarkPlan(b *testing.B) {
	for _, n := range []int{250, 2000} {
		s, err := demo.New(n)
		if err != nil {
			b.Fatal(err)
		}
		planner, err := rth.New(s)
		if err != nil {
			b.Fatal(err)
		}
		tracks, _ := s.Tracks()
		for _, m := range moments(s) {
			for _, k := range []int{0, n / 2} {
				from, vel := tracks[k].Position(m.at)
				b.Run(fmt.Sprintf("drones=%d/%s/drone=%d", n, m.name, k+1), func(b *testing.B) {
					for b.Loop() {
						if _, err := planner.Plan(k, from, vel, m.at, rth.Options{}); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		}
		// No path: the middle of the wall, not allowed to follow its
		// show, cannot leave; every layer is tried with every wait.
		wall := moments(s)[3].at
		from, vel := tracks[n/2].Position(wall)
		b.Run(fmt.Sprintf("drones=%d/no-path", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := planner.Plan(n/2, from, vel, wall, rth.Options{MaxFollow: -1}); err == nil {
					b.Fatal("planned a path out of the middle of the wall")
				}
			}
		})
		b.Run(fmt.Sprintf("drones=%d/New", n), func(b *testing.B) {
			for b.Loop() {
				if _, err := rth.New(s); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// lShow is a show of two drones in an L-shaped geofence: drone 1 flies
// from its home in the L's north arm to the far end of its east arm,
// drone 2 stays on the ground in the corner.
func lShow() *show.Show {
	return &show.Show{
		Limits: show.Limits{MaxAltitude: 30, MaxSpeedXY: 5, MaxSpeedUp: 2.5, MaxSpeedDown: 1.5, MaxAccel: 3, MinDistance: 2},
		Fence:  show.Fence{Polygon: [][2]float64{{0, 0}, {40, 0}, {40, 10}, {10, 10}, {10, 40}, {0, 40}}},
		Drones: []show.Drone{
			{Home: show.Vec3{X: 5, Y: 35}, Land: show.Vec3{X: 35, Y: 5}, Landing: 60 * time.Second, Path: []show.Keyframe{
				{At: 0, Pos: show.Vec3{X: 5, Y: 35}},
				{At: 10 * time.Second, Pos: show.Vec3{X: 5, Y: 35, Z: 10}},
				{At: 30 * time.Second, Pos: show.Vec3{X: 5, Y: 5, Z: 10}},
				{At: 40 * time.Second, Pos: show.Vec3{X: 35, Y: 5, Z: 10}},
				{At: 60 * time.Second, Pos: show.Vec3{X: 35, Y: 5}},
			}},
			{Home: show.Vec3{X: 3, Y: 3}, Land: show.Vec3{X: 3, Y: 3}, Path: []show.Keyframe{{At: 0, Pos: show.Vec3{X: 3, Y: 3}}}},
		},
	}
}

// The transit leg is straight: from the east arm to home in the north
// arm it would cut the corner outside the fence, and the plan says so.
// To its landing position, in the same arm, it stays inside.
func TestFence(t *testing.T) {
	s := lShow()
	at := 45 * time.Second
	tracks, _ := s.Tracks()
	from, vel := tracks[0].Position(at)
	_, err := rth.Plan(s, 0, from, vel, at, rth.Options{})
	if !errors.Is(err, rth.ErrNoPath) || !strings.Contains(err.Error(), "geofence") {
		t.Fatalf("got %v, want ErrNoPath naming the geofence", err)
	}
	t.Log(err)
	p, err := rth.Plan(s, 0, from, vel, at, rth.Options{Land: true})
	if err != nil {
		t.Fatal(err)
	}
	if end := p.Keyframes[len(p.Keyframes)-1].Pos; end != s.Drones[0].Land {
		t.Fatalf("path ends at %v, want the landing position %v", end, s.Drones[0].Land)
	}
	// A drone that breached the fence flies back in.
	out := show.Vec3{X: 45, Y: 5, Z: 10}
	p, err = rth.Plan(s, 0, out, show.Vec3{}, at, rth.Options{Land: true})
	if err != nil {
		t.Fatal(err)
	}
	for at := p.Start(); at <= p.End(); at += 100 * time.Millisecond {
		pos, _ := p.Position(at)
		if pos.X > 45+1e-9 {
			t.Fatalf("show time %v: %v, farther out than where it breached", at, pos)
		}
	}
	if end := p.Keyframes[len(p.Keyframes)-1].Pos; !inside(s.Fence.Polygon, end.X, end.Y) {
		t.Fatalf("path ends at %v, outside the fence", end)
	}
}

// The same request gives the same path, from one planner or another,
// alone or beside another request.
func TestDeterministic(t *testing.T) {
	s, err := demo.New(50)
	if err != nil {
		t.Fatal(err)
	}
	tracks, _ := s.Tracks()
	a, _ := rth.New(s)
	b, _ := rth.New(s)
	for _, m := range moments(s) {
		from, vel := tracks[25].Position(m.at)
		opt := rth.Options{}
		p1, err1 := a.Plan(25, from, vel, m.at, opt)
		a.Plan(3, from, vel, m.at, opt) // another request in between
		p2, err2 := a.Plan(25, from, vel, m.at, opt)
		p3, err3 := b.Plan(25, from, vel, m.at, opt)
		if err1 != nil || err2 != nil || err3 != nil {
			t.Fatal(err1, err2, err3)
		}
		// One planner serves concurrent requests.
		var p4 rth.Path
		var err4 error
		done := make(chan struct{})
		go func() {
			p4, err4 = a.Plan(25, from, vel, m.at, opt)
			close(done)
		}()
		a.Plan(3, from, vel, m.at, opt)
		<-done
		if err4 != nil {
			t.Fatal(err4)
		}
		if !reflect.DeepEqual(p1, p2) || !reflect.DeepEqual(p1, p3) || !reflect.DeepEqual(p1, p4) {
			t.Fatalf("%s: the same request planned four times differs", m.name)
		}
	}
}

// Any drone leaving at any instant of the demo show (20 or 50 drones)
// gets a path, which keeps its distances; one told to leave at once
// (MaxFollow < 0) gets one or a conflict, and a path it gets keeps its
// distances too.
func TestLeaveAnywhere(t *testing.T) {
	type setup struct {
		s      *show.Show
		tracks []*show.Track
		p      *rth.Planner
	}
	var setups []setup
	for _, n := range []int{20, 50} {
		s, err := demo.New(n)
		if err != nil {
			t.Fatal(err)
		}
		tracks, _ := s.Tracks()
		p, err := rth.New(s)
		if err != nil {
			t.Fatal(err)
		}
		setups = append(setups, setup{s, tracks, p})
	}
	count := seeds.Count(t, 40)
	atOnce := 0
	for seed := uint64(1); seed <= uint64(count); seed++ {
		rng := rand.New(rand.NewPCG(seed, 0))
		su := setups[rng.IntN(len(setups))]
		k := rng.IntN(len(su.s.Drones))
		at := time.Duration(rng.Int64N(int64(su.s.Duration() + 2*time.Second)))
		from, vel := su.tracks[k].Position(at)
		p, err := su.p.Plan(k, from, vel, at, rth.Options{})
		if err != nil {
			t.Fatalf("seed %d: %d drones, drone %d leaving at %v: %v", seed, len(su.s.Drones), k+1, at, err)
		}
		verify(t, su.s, su.tracks, k, from, vel, at, p)
		p, err = su.p.Plan(k, from, vel, at, rth.Options{MaxFollow: -1})
		var c *rth.Conflict
		switch {
		case err == nil:
			atOnce++
			if p.Follow != 0 {
				t.Fatalf("seed %d: told to leave at once, it follows its show for %v", seed, p.Follow)
			}
			verify(t, su.s, su.tracks, k, from, vel, at, p)
		case !errors.Is(err, rth.ErrNoPath) || !errors.As(err, &c):
			t.Fatalf("seed %d: leaving at once: %v, want a path or ErrNoPath with a Conflict", seed, err)
		}
	}
	t.Logf("%d returns from random instants, all planned; leaving at once, %d planned", count, atOnce)
}
