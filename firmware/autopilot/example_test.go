package autopilot_test

import (
	"fmt"

	"github.com/skyquorum/skyquorum/firmware/autopilot"
	"github.com/skyquorum/skyquorum/swarm/show"
)

// A show turned 90° has its X axis east and its Y axis north. A drone whose
// home stands 2 m up in the show, at 100 m along X and 20 m up, moving at
// −3 m/s along X (west), 1 m/s along Y (north) and 0.5 m/s up:
func ExampleFrame_Setpoint() {
	f := autopilot.Frame{Lat: 47.397742, Lon: 8.545594, Orientation: 90}
	lat, lon, relAlt, vn, ve, vd := f.Setpoint(show.Vec3{X: 100, Z: 20}, show.Vec3{X: -3, Y: 1, Z: 0.5}, show.Vec3{Z: 2})
	fmt.Printf("%.7f %.7f %.2f m above home\n", lat, lon, relAlt)
	fmt.Printf("velocity N %.2f E %.2f D %.2f m/s\n", vn, ve, vd)
	// Output:
	// 47.3977420 8.5469187 18.00 m above home
	// velocity N 1.00 E -3.00 D -0.50 m/s
}
