package validate

import (
	"math"
	"testing"
	"time"

	"github.com/skyquorum/skyquorum/swarm/show"
)

// formation generates a show of rows × cols drones on a 1.6 m grid of
// homes that take off, fly a grid that turns, tilts and breathes with a
// keyframe every 3 s on smooth cubic segments (Catmull–Rom tangents,
// at rest at either end), come back over their homes and land: length
// long, lights fading all along.
func formation(rows, cols int, length time.Duration) *show.Show {
	const spacing, alt = 1.6, 40.0
	const step = 3 * time.Second
	takeoff, rise := 10*time.Second, 20*time.Second
	back, land := length-15*time.Second, length
	last := back - 20*time.Second
	nk := int((last-rise)/step) + 1
	last = rise + time.Duration(nk-1)*step
	s := &show.Show{
		Title: "formation",
		Limits: show.Limits{MaxAltitude: 120, MaxSpeedXY: 10, MaxSpeedUp: 5, MaxSpeedDown: 4, MaxAccel: 6,
			MinDistance: 1.5},
		Fence: show.Fence{Polygon: [][2]float64{{-300, -300}, {300, -300}, {300, 300}, {-300, 300}}},
	}
	q := make([]show.Vec3, nk)
	tan := make([]show.Vec3, nk)
	for r := range rows {
		for c := range cols {
			x, y := (float64(r)-float64(rows-1)/2)*spacing, (float64(c)-float64(cols-1)/2)*spacing
			home := show.Vec3{X: x, Y: y}
			over := show.Vec3{X: x, Y: y, Z: 20}
			for k := range nk {
				f := float64(k)
				th, ph, sc := 0.6*math.Sin(f/7), 0.5*math.Sin(f/11), 1.1+0.1*math.Sin(f/5)
				// Tilt about X, turn about Z, scale, lift.
				px, py := sc*x, sc*y*math.Cos(ph)
				pz := alt + sc*y*math.Sin(ph)
				q[k] = show.Vec3{X: px*math.Cos(th) - py*math.Sin(th), Y: px*math.Sin(th) + py*math.Cos(th), Z: pz}
			}
			for k := range nk {
				tan[k] = show.Vec3{}
				if k > 0 && k < nk-1 {
					tan[k] = q[k+1].Sub(q[k-1]).Scale(0.5)
				}
			}
			path := []show.Keyframe{{At: 0, Pos: home}, ease(takeoff, home, over), ease(rise, over, q[0])}
			for k := 1; k < nk; k++ {
				path = append(path, show.Keyframe{At: rise + time.Duration(k)*step, Pos: q[k],
					Ctrl: []show.Vec3{q[k-1].Add(tan[k-1].Scale(1.0 / 3)), q[k].Sub(tan[k].Scale(1.0 / 3))}})
			}
			path = append(path, ease(back, q[nk-1], over), ease(land, over, home))
			colour := show.RGB{R: uint8(r * 5), G: uint8(c * 5), B: 200}
			loop := show.Program(nil).Fade(colour, 5*time.Second).Fade(show.RGB{R: 255, G: 255, B: 255}, 5*time.Second)
			n := uint8(min(255, int((length-30*time.Second)/(10*time.Second))))
			s.Drones = append(s.Drones, show.Drone{
				Name: "Drone " + itoa(len(s.Drones)+1), Home: home, Land: home, Takeoff: 0, Landing: land,
				Path:   path,
				Lights: show.Program(nil).Loop(n, loop).End(),
			})
		}
	}
	s.Quantize()
	return s
}

func itoa(n int) string {
	if n < 10 {
		return string(rune('0' + n))
	}
	return itoa(n/10) + string(rune('0'+n%10))
}

func TestFormationIsValid(t *testing.T) {
	s := formation(6, 8, 2*time.Minute)
	rep := validateShow(t, s, Options{})
	if !rep.OK() {
		t.Fatalf("%d violations: %v", rep.Total, rep.Violations[:min(10, len(rep.Violations))])
	}
	if rep.MaxSpeedXY.Value <= 0 || rep.MaxAccel.Value <= 0 || rep.MaxAltitude.Value < 40 {
		t.Errorf("figures: %+v", rep)
	}
}

// BenchmarkValidate2000 validates a 2000-drone, 10-minute show: 200
// keyframes a drone, on one goroutine. It reports the CPU time per
// validation beside ns/op (wall-clock).
func BenchmarkValidate2000(b *testing.B) {
	s := formation(40, 50, 10*time.Minute)
	var rep Report
	cpu := cpuTime()
	for b.Loop() {
		var err error
		rep, err = Show(s, Options{})
		if err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric((cpuTime()-cpu).Seconds()/float64(b.N), "cpu-s/op")
	if !rep.OK() {
		b.Fatalf("%d violations: %v", rep.Total, rep.Violations[:min(10, len(rep.Violations))])
	}
	b.ReportMetric(float64(rep.Samples), "samples")
	b.ReportMetric(float64(rep.Refined), "refined")
	b.ReportMetric(rep.Closest.Distance, "closest-m")
	b.Logf("%d drones, %v, %d keyframes a drone; closest %.3f m (drones %v at %v); max speed xy %.2f up %.2f down %.2f m/s, accel %.2f m/s², altitude %.1f m",
		rep.Drones, rep.Duration, len(s.Drones[0].Path), rep.Closest.Distance, rep.Closest.Drones, rep.Closest.At,
		rep.MaxSpeedXY.Value, rep.MaxSpeedUp.Value, rep.MaxSpeedDown.Value, rep.MaxAccel.Value, rep.MaxAltitude.Value)
}
