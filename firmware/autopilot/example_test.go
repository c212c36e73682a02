package autopilot_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"time"

	"github.com/bluenviron/gomavlib/v3"

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

// A drone's show flight: connect over the flight controller's UART, check
// it, take off the way its autopilot wants, fly the show's track, land.
// (Compiled, not run: it needs a flight controller.)
func ExampleClient() {
	c, err := autopilot.New(autopilot.Config{
		Endpoint: gomavlib.EndpointSerial{Device: "/dev/serial0", Baud: 921600},
		SystemID: 12,
	})
	if err != nil {
		log.Fatal(err)
	}
	defer c.Close()
	ctx := context.Background()
	ap, err := c.WaitHeartbeat(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if err := c.RequestTelemetry(ctx); err != nil {
		log.Fatal(err)
	}

	s := &show.Show{} // the show, loaded elsewhere
	drone := s.Drones[11]
	frame := autopilot.FrameOf(s)
	homeLat, homeLon := frame.LatLon(drone.Home)
	if r := c.Preflight(homeLat, homeLon, autopilot.PreflightLimits{}); !r.OK() {
		log.Fatal(r)
	}

	track, err := s.Track(11)
	if err != nil {
		log.Fatal(err)
	}
	var start time.Time // the show's start, in the client's clock
	c.StartSetpoints(func(now time.Time) (lat, lon, relAlt, vn, ve, vd float64) {
		pos, vel := track.Position(now.Sub(start))
		return frame.Setpoint(pos, vel, drone.Home)
	})
	switch ap {
	case autopilot.ArduPilot:
		err = errors.Join(c.SetMode(ctx, autopilot.ModeGuided), c.Arm(ctx), c.Takeoff(ctx, 3))
	case autopilot.PX4:
		err = errors.Join(c.SetMode(ctx, autopilot.ModeOffboard), c.Arm(ctx))
	}
	if err != nil {
		log.Fatal(err) // names the command, the result and a pre-arm reason
	}
	// ... SetLight as the show's lights change; at the end:
	_ = c.Land(ctx)
	c.StopSetpoints()
}
