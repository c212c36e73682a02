package validate

import (
	"errors"
	"math"
	"math/rand/v2"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/skyquorum/skyquorum/sitl/sim/seeds"
	"github.com/skyquorum/skyquorum/swarm/show"
)

const sec = time.Second

func ms(n int) time.Duration { return time.Duration(n) * time.Millisecond }

type vec = show.Vec3

// ease is a cubic from a to b that starts and ends at rest: position
// a + (b − a)(3u² − 2u³), peak speed 1.5|b − a|/T at the middle,
// acceleration 6|b − a|/T² at either end.
func ease(at time.Duration, a, b vec) show.Keyframe {
	return show.Keyframe{At: at, Pos: b, Ctrl: []vec{a, b}}
}

func line(at time.Duration, b vec) show.Keyframe { return show.Keyframe{At: at, Pos: b} }

// hop is a drone at x that takes off to 10 m (0–10 s), moves 10 m along
// Y (10–20 s), back (20–30 s) and lands (30–40 s), every segment eased.
func hop(name string, x float64) show.Drone {
	home := vec{X: x}
	up := vec{X: x, Z: 10}
	side := vec{X: x, Y: 10, Z: 10}
	return show.Drone{
		Name: name, Home: home, Land: home, Takeoff: 0, Landing: 40 * sec,
		Path: []show.Keyframe{
			{At: 0, Pos: home},
			ease(10*sec, home, up), ease(20*sec, up, side), ease(30*sec, side, up), ease(40*sec, up, home),
		},
		Lights: show.Program(nil).Set(show.RGB{R: 255}, 20*sec).Fade(show.RGB{B: 255}, 10*sec).End(),
	}
}

// base is a valid show: three drones 4 m apart.
func base() *show.Show {
	return &show.Show{
		Title: "base",
		Limits: show.Limits{MaxAltitude: 50, MaxSpeedXY: 8, MaxSpeedUp: 4, MaxSpeedDown: 3, MaxAccel: 6,
			MinDistance: 1.5},
		Fence:  show.Fence{Polygon: [][2]float64{{-20, -20}, {20, -20}, {20, 20}, {-20, 20}}},
		Drones: []show.Drone{hop("Drone 1", 0), hop("Drone 2", 4), hop("Drone 3", 8)},
	}
}

func validateShow(t *testing.T, s *show.Show, opt Options) Report {
	t.Helper()
	r, err := Show(s, opt)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// only returns the violations of rule r, failing unless there are n.
func only(t *testing.T, rep Report, r Rule, n int) []Violation {
	t.Helper()
	var out []Violation
	for _, v := range rep.Violations {
		if v.Rule == r {
			out = append(out, v)
		}
	}
	if len(out) != n {
		t.Fatalf("%d %s violations, want %d; report: %v", len(out), r, n, rep.Violations)
	}
	return out
}

func approx(t *testing.T, what string, got, want, tol float64) {
	t.Helper()
	if math.Abs(got-want) > tol {
		t.Errorf("%s = %.6f, want %.6f ± %g", what, got, want, tol)
	}
}

func check(t *testing.T, v Violation, drones []int, at time.Duration, atTol time.Duration, limit, value, valueTol float64) {
	t.Helper()
	if !reflect.DeepEqual(v.Drones, drones) {
		t.Errorf("%s: drones %v, want %v", v.Rule, v.Drones, drones)
	}
	if d := v.At - at; d < -atTol || d > atTol {
		t.Errorf("%s: at %v, want %v ± %v", v.Rule, v.At, at, atTol)
	}
	approx(t, string(v.Rule)+" limit", v.Limit, limit, 1e-9)
	approx(t, string(v.Rule)+" value", v.Value, value, valueTol)
	if s := v.String(); !strings.HasPrefix(s, string(v.Rule)+": drone") {
		t.Errorf("String() = %q, want it to start with the rule and the drones", s)
	}
}

func TestValidShowPasses(t *testing.T) {
	rep := validateShow(t, base(), Options{})
	if !rep.OK() || len(rep.Violations) != 0 {
		t.Fatalf("valid show: %d violations: %v", rep.Total, rep.Violations)
	}
	// Figures, from the ease formulas: 10 m in 10 s peaks at 1.5 m/s,
	// with 0.6 m/s² at either end.
	approx(t, "max altitude", rep.MaxAltitude.Value, 10, 1e-9)
	approx(t, "max climb", rep.MaxSpeedUp.Value, 1.5, 0.001)
	approx(t, "max descent", rep.MaxSpeedDown.Value, 1.5, 0.001)
	approx(t, "max horizontal speed", rep.MaxSpeedXY.Value, 1.5, 0.001)
	approx(t, "max acceleration", rep.MaxAccel.Value, 0.6, 1e-9)
	if rep.Closest.Found {
		t.Errorf("closest approach %+v: no two drones come within reach of the check", rep.Closest)
	}
	if rep.Drones != 3 || rep.Duration != 40*sec || rep.Samples != 801 {
		t.Errorf("figures: %d drones, %v, %d samples; want 3, 40s, 801", rep.Drones, rep.Duration, rep.Samples)
	}
}

func TestStructuralErrorIsAnError(t *testing.T) {
	s := base()
	s.Drones[1].Path = nil
	if _, err := Show(s, Options{}); !errors.Is(err, show.ErrInvalid) {
		t.Fatalf("err = %v, want show.ErrInvalid", err)
	}
}

// A drone crosses 1 m from a hovering one at 48.8 m/s, at 13.025 s,
// halfway between two samples 50 ms apart, where both sampled distances
// are 1.58 m: over the 1.5 m limit. The check still finds the crossing,
// its first time under 1.5 m (x = −1.118 m) and its closest distance.
func TestCrossingBetweenSamples(t *testing.T) {
	hover := vec{Z: 10}
	from, to := vec{X: -50, Y: 1, Z: 10}, vec{X: 50, Y: 1, Z: 10}
	s := &show.Show{
		Limits: show.Limits{MinDistance: 1.5},
		Drones: []show.Drone{
			{Name: "a", Landing: 30 * sec, Path: []show.Keyframe{{At: 0}, ease(10*sec, vec{}, hover), line(20*sec, hover), ease(30*sec, hover, vec{})}},
			{Name: "b", Home: vec{X: -50, Y: 1}, Land: vec{X: 50, Y: 1}, Landing: 30 * sec, Path: []show.Keyframe{
				{At: 0, Pos: vec{X: -50, Y: 1}}, ease(10*sec, vec{X: -50, Y: 1}, from), line(12*sec, from), line(ms(14050), to),
				ease(30*sec, to, vec{X: 50, Y: 1})}},
		},
	}
	speed := 100 / 2.05
	// Sampling alone misses it.
	ta, _ := s.Track(0)
	tb, _ := s.Track(1)
	for _, at := range []time.Duration{ms(13000), ms(13050)} {
		pa, _ := ta.Position(at)
		pb, _ := tb.Position(at)
		if d := pa.Dist(pb); d < 1.5 {
			t.Fatalf("sampled distance at %v is %.3f m: the test needs a crossing between samples", at, d)
		}
	}
	rep := validateShow(t, s, Options{Period: 50 * time.Millisecond})
	v := only(t, rep, MinDistance, 1)[0]
	first := 12 + (50-math.Sqrt(1.5*1.5-1))/speed
	check(t, v, []int{1, 2}, seconds(first), time.Millisecond, 1.5, 1.0, 0.001)
	if rep.Refined == 0 {
		t.Error("no pair refined")
	}
	approx(t, "closest", rep.Closest.Distance, 1.0, 0.001)
	approx(t, "closest at", rep.Closest.At.Seconds(), 12+50/speed, 0.001)
}

// Two drones that take off 1 m apart: their homes break the spacing, and
// they are too close from the start to the end of the show, which is one
// violation, not one per sample.
func TestTooCloseGroupedAndTakeoffSpacing(t *testing.T) {
	s := base()
	d := hop("Drone 2", 1)
	d.Lights = s.Drones[1].Lights
	s.Drones[1] = d
	rep := validateShow(t, s, Options{})
	check(t, only(t, rep, TakeoffSpacing, 2)[0], []int{1, 2}, 0, 0, 1.5, 1, 1e-9)
	check(t, only(t, rep, TakeoffSpacing, 2)[1], []int{1, 2}, 40*sec, 0, 1.5, 1, 1e-9)
	check(t, only(t, rep, MinDistance, 1)[0], []int{1, 2}, 0, 0, 1.5, 1, 1e-9)
}

// A drone parked on the ground counts: drone 3 waits at (4, 5, 0) until
// 50 s while drone 2 dips to (4, 5, 1) at 15 s, 1 m above it.
func TestParkedDroneCounts(t *testing.T) {
	s := base()
	parked := vec{X: 4, Y: 5}
	s.Drones[2] = show.Drone{Name: "Drone 3", Home: parked, Land: parked, Takeoff: 50 * sec, Landing: 60 * sec,
		Path: []show.Keyframe{{At: 50 * sec, Pos: parked}, ease(55*sec, parked, vec{X: 4, Y: 5, Z: 5}), ease(60*sec, vec{X: 4, Y: 5, Z: 5}, parked)}}
	d := &s.Drones[1]
	up, low, side := vec{X: 4, Z: 10}, vec{X: 4, Y: 5, Z: 1}, vec{X: 4, Y: 10, Z: 10}
	d.Path = []show.Keyframe{d.Path[0], d.Path[1], ease(15*sec, up, low), ease(20*sec, low, side), d.Path[3], d.Path[4]}
	rep := validateShow(t, s, Options{})
	v := only(t, rep, MinDistance, 1)[0]
	u := solve(func(u float64) float64 {
		p := up.Add(low.Sub(up).Scale(3*u*u - 2*u*u*u))
		return p.Dist(parked) - 1.5
	})
	check(t, v, []int{2, 3}, seconds(10+5*u), time.Millisecond, 1.5, 1, 0.001)
}

// solve finds u in [0, 1] where f, increasing or decreasing, is zero.
func solve(f func(float64) float64) float64 {
	a, b := 0.0, 1.0
	for range 60 {
		m := (a + b) / 2
		if (f(a) < 0) == (f(m) < 0) {
			a = m
		} else {
			b = m
		}
	}
	return (a + b) / 2
}

func TestMaxAltitude(t *testing.T) {
	s := base()
	d := &s.Drones[1]
	d.Path[1] = ease(10*sec, vec{X: 4}, vec{X: 4, Z: 60})
	d.Path[2] = ease(20*sec, vec{X: 4, Z: 60}, vec{X: 4, Y: 10, Z: 10})
	rep := validateShow(t, s, Options{})
	u := solve(func(u float64) float64 { return 60*(3*u*u-2*u*u*u) - 50 })
	check(t, only(t, rep, MaxAltitude, 1)[0], []int{2}, seconds(10*u), time.Millisecond, 50, 60, 0.001)
	approx(t, "figure", rep.MaxAltitude.Value, 60, 0.001)
	if rep.MaxAltitude.Drone != 2 || rep.MaxAltitude.At != 10*sec {
		t.Errorf("highest: drone %d at %v, want 2 at 10s", rep.MaxAltitude.Drone, rep.MaxAltitude.At)
	}
}

// 12 m eased over 2 s peaks at 9 m/s; it passes 8 m/s at u = 1/3.
func TestSpeedXY(t *testing.T) {
	s := base()
	d := &s.Drones[2]
	d.Path[2] = ease(12*sec, vec{X: 8, Z: 10}, vec{X: 8, Y: 12, Z: 10})
	d.Path[3] = ease(30*sec, vec{X: 8, Y: 12, Z: 10}, vec{X: 8, Z: 10})
	rep := validateShow(t, s, Options{})
	check(t, only(t, rep, SpeedXY, 1)[0], []int{3}, 10*sec+ms(667), time.Millisecond, 8, 9, 0.001)
}

// 10 m eased over 2 s peaks at 7.5 m/s; it passes 4 m/s (up) or 3 m/s
// (down) where 30u(1 − u) is that speed.
func TestSpeedUpDown(t *testing.T) {
	s := base()
	d := &s.Drones[0]
	d.Path[1] = ease(2*sec, vec{}, vec{Z: 10})
	d.Path[4] = ease(40*sec, vec{Z: 10}, vec{})
	d.Path = append(d.Path[:4:4], line(38*sec, vec{Z: 10}), d.Path[4])
	d.Path[3] = ease(30*sec, vec{Y: 10, Z: 10}, vec{Z: 10})
	rep := validateShow(t, s, Options{})
	uUp := (1 - math.Sqrt(1-4*4.0/30)) / 2
	check(t, only(t, rep, SpeedUp, 1)[0], []int{1}, seconds(2*uUp), time.Millisecond, 4, 7.5, 0.001)
	uDown := (1 - math.Sqrt(1-4*3.0/30)) / 2
	check(t, only(t, rep, SpeedDown, 1)[0], []int{1}, seconds(38+2*uDown), time.Millisecond, 3, 7.5, 0.001)
}

func TestAcceleration(t *testing.T) {
	// Within a segment: 10 m eased over 3 s starts at 6·10/9 = 6.667 m/s².
	s := base()
	d := &s.Drones[1]
	d.Path[2] = ease(13*sec, vec{X: 4, Z: 10}, vec{X: 4, Y: 10, Z: 10})
	d.Path[3] = ease(30*sec, vec{X: 4, Y: 10, Z: 10}, vec{X: 4, Z: 10})
	rep := validateShow(t, s, Options{})
	check(t, only(t, rep, Acceleration, 1)[0], []int{2}, 10*sec, time.Millisecond, 6, 60.0/9, 0.001)

	// A velocity jump: a linear segment at 2 m/s between hovers: 2 m/s in
	// 50 ms (the period; the segments last longer) is 40 m/s², at the
	// keyframe where it starts.
	s = base()
	d = &s.Drones[1]
	d.Path[2] = line(15*sec, vec{X: 4, Y: 10, Z: 10})
	d.Path = append(d.Path[:2:2], line(15*sec, vec{X: 4, Y: 10, Z: 10}))
	d.Path[2] = line(15*sec, vec{X: 4, Z: 10})
	d.Path = append(d.Path, line(20*sec, vec{X: 4, Y: 10, Z: 10}), ease(30*sec, vec{X: 4, Y: 10, Z: 10}, vec{X: 4, Z: 10}), ease(40*sec, vec{X: 4, Z: 10}, vec{X: 4}))
	rep = validateShow(t, s, Options{})
	vs := only(t, rep, Acceleration, 2)
	check(t, vs[0], []int{2}, 15*sec, 0, 6, 40, 1e-9)
	check(t, vs[1], []int{2}, 20*sec, 0, 6, 40, 1e-9)
}

// The fence is at Y = 20; a drone eased from Y = 0 to Y = 25 crosses it
// where 25(3u² − 2u³) = 20, and is 5 m outside at worst.
func TestGeofence(t *testing.T) {
	s := base()
	d := &s.Drones[2]
	d.Path[2] = ease(20*sec, vec{X: 8, Z: 10}, vec{X: 8, Y: 25, Z: 10})
	d.Path[3] = ease(30*sec, vec{X: 8, Y: 25, Z: 10}, vec{X: 8, Z: 10})
	rep := validateShow(t, s, Options{})
	u := solve(func(u float64) float64 { return 25*(3*u*u-2*u*u*u) - 20 })
	// To the tolerance: within 1 mm outside may count as inside.
	check(t, only(t, rep, Geofence, 1)[0], []int{3}, seconds(10+10*u), 2*time.Millisecond, 0, 5, 0.001)
}

func TestDuplicateAndMissing(t *testing.T) {
	s := base()
	s.Drones[2].Name = "Drone 1"
	rep := validateShow(t, s, Options{})
	check(t, only(t, rep, DuplicateDrone, 1)[0], []int{1, 3}, 0, 0, 0, 0, 0)

	s = base()
	d := hop("Drone 9", 12)
	d.Path = s.Drones[0].Path
	d.Home, d.Land = s.Drones[0].Home, s.Drones[0].Land
	s.Drones = append(s.Drones, d)
	rep = validateShow(t, s, Options{})
	v := only(t, rep, DuplicateDrone, 1)[0]
	check(t, v, []int{1, 4}, 0, 0, 0, 0, 0)
	if v.Detail != "the same path" {
		t.Errorf("detail %q", v.Detail)
	}
	// Drones 4 to 8 are missing between Drone 3 and Drone 9.
	check(t, only(t, rep, MissingDrone, 1)[0], []int{3, 4}, 0, 0, 0, 4, 0)

	s = base()
	s.Drones[1].Name = "Drone 7"
	s.Drones[2].Name = "Drone 2"
	s.Drones[1].Path = s.Drones[1].Path[:1]
	s.Drones[1].Land = s.Drones[1].Home
	rep = validateShow(t, s, Options{})
	vs := only(t, rep, MissingDrone, 2)
	check(t, vs[0], []int{2}, 0, 0, StaticMove, 0, 0)
	check(t, vs[1], []int{2, 3}, 0, 0, 0, 3, 0) // "Drone 2", "Drone 7"
}

func TestLights(t *testing.T) {
	s := base()
	s.Drones[1].Lights = show.Program(nil).Set(show.RGB{G: 255}, 50*sec).End()
	s.Drones[2].Lights = show.Program{show.OpLoopBegin, 0, show.OpNop, show.OpLoopEnd}
	rep := validateShow(t, s, Options{})
	check(t, only(t, rep, LightsOutlast, 1)[0], []int{2}, 40*sec, 0, 40, 50, 1e-9)
	check(t, only(t, rep, LightsError, 1)[0], []int{3}, 0, 0, 0, 0, 0)
}

func TestHomeMismatch(t *testing.T) {
	s := base()
	s.Drones[0].Land = vec{Y: 2}
	rep := validateShow(t, s, Options{})
	check(t, only(t, rep, HomeMismatch, 1)[0], []int{1}, 40*sec, 0, 0.01, 2, 1e-9)
}

func TestMaxViolationsAndString(t *testing.T) {
	s := base()
	s.Limits.MaxAltitude = 5
	rep := validateShow(t, s, Options{MaxViolations: 2})
	if rep.Total != 3 || len(rep.Violations) != 2 {
		t.Fatalf("total %d, kept %d; want 3 and 2", rep.Total, len(rep.Violations))
	}
	if v := rep.Violations[0]; v.Rule != MaxAltitude || v.Drones[0] != 1 {
		t.Errorf("first violation %v, want drone 1's altitude", v)
	}
	v := Violation{Rule: MinDistance, Drones: []int{3, 17}, At: 12*sec + ms(345), Limit: 1.5, Value: 1.2}
	if got, want := v.String(), "min-distance: drones 3, 17 at 12.345 s: 1.200 m (limit 1.500)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// A drone at rest at 13.000 s darts through a hovering one between the
// samples at 13.000 and 13.050 s (keyframes at 13.010 and 13.040 s, 200
// m/s), and is at rest again 3 m away at the next sample: at the first
// sample both are still, so only the bound that accounts for a keyframe
// inside the interval catches it.
func TestDartBetweenSamples(t *testing.T) {
	hover := vec{Z: 10}
	a, b := vec{Y: 3, Z: 10}, vec{Y: -3, Z: 10}
	s := &show.Show{
		Limits: show.Limits{MinDistance: 1.5},
		Drones: []show.Drone{
			{Name: "a", Landing: 30 * sec, Path: []show.Keyframe{{At: 0}, ease(10*sec, vec{}, hover), line(20*sec, hover), ease(30*sec, hover, vec{})}},
			{Name: "b", Home: vec{Y: 3}, Land: vec{Y: -3}, Landing: 30 * sec, Path: []show.Keyframe{
				{At: 0, Pos: vec{Y: 3}}, ease(10*sec, vec{Y: 3}, a), line(ms(13010), a), line(ms(13040), b),
				ease(30*sec, b, vec{Y: -3})}},
		},
	}
	rep := validateShow(t, s, Options{Period: 50 * time.Millisecond})
	check(t, only(t, rep, MinDistance, 1)[0], []int{1, 2}, ms(13010)+7500*time.Microsecond, 100*time.Microsecond, 1.5, 0, 0.001)

	// The same when the dart is the end of b's path: at rest before and
	// after the sampling interval, moving inside it.
	d := &s.Drones[1]
	d.Path, d.Land, d.Landing = d.Path[:4], b, ms(13040)
	rep = validateShow(t, s, Options{Period: 50 * time.Millisecond})
	check(t, only(t, rep, MinDistance, 1)[0], []int{1, 2}, ms(13010)+7500*time.Microsecond, 100*time.Microsecond, 1.5, 0, 0.001)
}

// Random shows of 6 drones on random cubic segments (some kinked, some
// crossing at speed), checked with a 1 s period: the pairs the check reports too close are those
// that brute force, every 0.25 ms, finds too close (to 1 cm either way:
// the brute force's own resolution), with the same closest distance.
func TestSeparationMatchesBruteForce(t *testing.T) {
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 20)); seed++ {
		rng := rand.New(rand.NewPCG(seed, 1))
		const n, D = 6, 2.0
		s := &show.Show{Limits: show.Limits{MinDistance: D}}
		pt := func() vec { return vec{X: rng.Float64() * 12, Y: rng.Float64() * 12, Z: 2 + rng.Float64()*8} }
		for i := range n {
			home := pt()
			path := []show.Keyframe{{At: 0, Pos: home}}
			at := time.Duration(0)
			for range 8 {
				at += time.Duration(300+rng.IntN(2000)) * time.Millisecond
				kf := show.Keyframe{At: at, Pos: pt()}
				for range rng.IntN(3) {
					kf.Ctrl = append(kf.Ctrl, pt())
				}
				path = append(path, kf)
			}
			s.Drones = append(s.Drones, show.Drone{Name: itoa(i), Home: home, Land: path[len(path)-1].Pos, Landing: at, Path: path})
		}
		// A long period: most close approaches fall between samples.
		rep := validateShow(t, s, Options{Period: time.Second})
		got := map[[2]int]float64{}
		for _, v := range rep.Violations {
			if v.Rule == MinDistance {
				k := [2]int{v.Drones[0], v.Drones[1]}
				if d, ok := got[k]; !ok || v.Value < d {
					got[k] = v.Value
				}
			}
		}
		tracks, err := s.Tracks()
		if err != nil {
			t.Fatal(err)
		}
		brute := map[[2]int]float64{}
		end := s.Duration()
		step := 250 * time.Microsecond
		pos := make([]vec, n)
		for at := time.Duration(0); at <= end; at += step {
			for i := range n {
				pos[i], _ = tracks[i].Position(at)
			}
			for i := range n {
				for j := i + 1; j < n; j++ {
					k := [2]int{i + 1, j + 1}
					if d := pos[i].Dist(pos[j]); d < D {
						if b, ok := brute[k]; !ok || d < b {
							brute[k] = d
						}
					}
				}
			}
		}
		for k, b := range brute {
			g, ok := got[k]
			if b < D-0.01 && !ok {
				t.Errorf("seed=%d: drones %v come %.4f m apart; not reported", seed, k, b)
			}
			if ok && math.Abs(g-b) > 0.01 {
				t.Errorf("seed=%d: drones %v: closest %.4f m reported, brute force %.4f m", seed, k, g, b)
			}
		}
		for k, g := range got {
			if _, ok := brute[k]; !ok && g < D-0.01 {
				t.Errorf("seed=%d: drones %v reported at %.4f m; brute force never under %.1f m", seed, k, g, D)
			}
		}
	}
}

// On random paths, the largest altitude, speeds and acceleration within
// segments that the branch and bound reports match brute force every
// 0.25 ms (to what the brute force's step can miss), and a limit set
// halfway is first broken when brute force first sees it broken.
func TestLimitsMatchBruteForce(t *testing.T) {
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 20)); seed++ {
		rng := rand.New(rand.NewPCG(seed, 2))
		pt := func() vec { return vec{X: rng.Float64()*40 - 20, Y: rng.Float64()*40 - 20, Z: rng.Float64() * 30} }
		home := pt()
		path := []show.Keyframe{{At: 0, Pos: home}}
		at := time.Duration(0)
		for range 6 {
			at += time.Duration(1000+rng.IntN(4000)) * time.Millisecond
			path = append(path, show.Keyframe{At: at, Pos: pt(), Ctrl: []vec{pt(), pt()}})
		}
		s := &show.Show{Drones: []show.Drone{{Name: "x", Home: home, Land: path[len(path)-1].Pos, Landing: at, Path: path}}}
		tr, err := s.Track(0)
		if err != nil {
			t.Fatal(err)
		}
		step := 250 * time.Microsecond
		var alt, xy, up, down float64
		for t := time.Duration(0); t <= at; t += step {
			p, v := tr.Position(t)
			alt, xy = max(alt, p.Z), max(xy, math.Hypot(v.X, v.Y))
			up, down = max(up, v.Z), max(down, -v.Z)
		}
		rep := validateShow(t, s, Options{})
		// 0.25 ms at up to ~200 m/s and ~2000 m/s²: 5 cm and 0.5 m/s.
		for _, c := range []struct {
			name      string
			got, want float64
			tol       float64
		}{
			{"altitude", rep.MaxAltitude.Value, alt, 0.05},
			{"speed xy", rep.MaxSpeedXY.Value, xy, 0.5},
			{"speed up", rep.MaxSpeedUp.Value, up, 0.5},
			{"speed down", rep.MaxSpeedDown.Value, down, 0.5},
		} {
			if c.got < c.want-0.001 || c.got > c.want+c.tol {
				t.Errorf("seed=%d: largest %s %.4f, brute force %.4f", seed, c.name, c.got, c.want)
			}
		}
		// Halfway limits: the first violation is where brute force first
		// sees the value above the limit. The same for an L-shaped fence.
		s.Limits = show.Limits{MaxAltitude: alt / 2, MaxSpeedXY: xy / 2}
		s.Fence.Polygon = [][2]float64{{-15, -15}, {15, -15}, {15, 0}, {0, 0}, {0, 15}, {-15, 15}}
		fence := newPolygon(s.Fence.Polygon)
		rep = validateShow(t, s, Options{})
		firstAbove := func(f func(p, v vec) bool) time.Duration {
			for t := time.Duration(0); t <= at; t += step {
				if p, v := tr.Position(t); f(p, v) {
					return t
				}
			}
			return -1
		}
		for _, c := range []struct {
			rule Rule
			want time.Duration
		}{
			{MaxAltitude, firstAbove(func(p, _ vec) bool { return p.Z > alt/2 })},
			{SpeedXY, firstAbove(func(_, v vec) bool { return math.Hypot(v.X, v.Y) > xy/2 })},
			{Geofence, firstAbove(func(p, _ vec) bool { return fence.outside(p.X, p.Y) > 0 })},
		} {
			if c.want < 0 {
				continue // never outside the fence
			}
			var first *Violation
			for i := range rep.Violations {
				if v := &rep.Violations[i]; v.Rule == c.rule && first == nil {
					first = v
				}
			}
			if first == nil {
				t.Errorf("seed=%d: no %s violation at half the largest value", seed, c.rule)
				continue
			}
			if d := first.At - c.want; d < -2*time.Millisecond || d > 2*time.Millisecond {
				t.Errorf("seed=%d: %s first at %v, brute force %v", seed, c.rule, first.At, c.want)
			}
		}
	}
}

// Drones exactly the minimum distance apart keep the limit: the curves'
// rounding does not make them a violation.
func TestExactlyAtMinDistance(t *testing.T) {
	s := base()
	s.Limits.MinDistance = 4 // the drones fly 4 m apart, side by side
	rep := validateShow(t, s, Options{})
	if len(rep.Violations) != 0 || math.Abs(rep.Closest.Distance-4) > 1e-9 {
		t.Errorf("drones exactly 4 m apart against a 4 m limit: %v, closest %.9f m", rep.Violations, rep.Closest.Distance)
	}
	s.Limits.MinDistance = 4.001
	rep = validateShow(t, s, Options{})
	if v := only(t, rep, MinDistance, 2); len(v) != 2 {
		t.Errorf("against 4.001 m: %v", v)
	}
}
