package scenario

import (
	"testing"

	"github.com/skyquorum/skyquorum/sitl/vehicle"
)

// The separation check of one vehicle update at 2000 drones flying the
// show: the per-update cost the simulator pays.
func BenchmarkSeparation2000(b *testing.B) {
	vs := []*vehicle.Vehicle{nil}
	for id := 1; id <= 2000; id++ {
		v := vehicle.New(vehicle.Point{X: float64(id%50) * 3, Y: float64(id/50) * 3}, vehicle.Limits{SpeedUp: 1000})
		_ = v.Arm()
		_ = v.Goto(vehicle.Point{X: float64(id%50)*3 + 2, Y: float64(id/50) * 3, Z: 10})
		v.Advance(1)
		vs = append(vs, v)
	}
	ctl := make([]bool, len(vs))
	sp := newSeparation(2)
	for b.Loop() {
		sp.check(vs, ctl)
	}
}
