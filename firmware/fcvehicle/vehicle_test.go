package fcvehicle_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3"

	"github.com/skyquorum/skyquorum/firmware/autopilot"
	"github.com/skyquorum/skyquorum/firmware/fcvehicle"
	"github.com/skyquorum/skyquorum/sitl/vehicle"
	"github.com/skyquorum/skyquorum/swarm/show"
)

// The show's frame, and the drone's home in it on a 1.5 m platform, so
// that altitudes above home differ from show heights.
var (
	frame = autopilot.Frame{Lat: 47.3975, Lon: 8.5453, Orientation: 30}
	home  = show.Vec3{X: 20, Y: -10, Z: 1.5}
)

type rig struct {
	fc *vehicle.FCServer
	v  *fcvehicle.Vehicle
}

// start runs a simulated flight controller standing at the drone's home
// and a Vehicle over a client connected to it on loopback UDP.
func start(t *testing.T, ap vehicle.Autopilot, mod func(*vehicle.FCConfig)) *rig {
	t.Helper()
	lat, lon := frame.LatLon(home)
	fcc := vehicle.FCConfig{Autopilot: ap, SystemID: 3, Lat: lat, Lon: lon, AMSL: 400, Noise: 0.1, Seed: 1}
	if mod != nil {
		mod(&fcc)
	}
	fc, err := vehicle.ServeFC(vehicle.FCServerConfig{FC: fcc})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fc.Close)
	c, err := autopilot.New(autopilot.Config{Endpoint: gomavlib.EndpointUDPClient{Address: fc.Addr()}, SystemID: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	got, err := c.WaitHeartbeat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.RequestTelemetry(ctx); err != nil {
		t.Fatal(err)
	}
	v, err := fcvehicle.New(fcvehicle.Config{Client: c, Autopilot: got, Frame: frame, Home: home,
		RetryEvery: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(v.Close)
	return &rig{fc: fc, v: v}
}

// truth is where the simulated vehicle is, in the show's frame, whether
// it is armed, and its mode.
func (r *rig) truth() (p show.Vec3, armed bool, custom uint32) {
	var lat, lon, z float64
	r.fc.Do(func(f *vehicle.FC) {
		q := f.Vehicle().Position()
		lat, lon = f.LatLon(q)
		z, armed, custom = q.Z, f.Armed(), f.CustomMode()
	})
	x, y := frame.Local(lat, lon)
	return show.Vec3{X: x, Y: y, Z: home.Z + z}, armed, custom
}

// eventually polls cond until it holds or a generous deadline passes (a
// hang guard, not a speed check).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 20 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func check(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestLandDuringTakeoff: a LAND given while the take-off command is being
// carried out is not dropped: the vehicle lands and disarms.
func TestLandDuringTakeoff(t *testing.T) {
	r := start(t, vehicle.ArduPilot, nil)
	check(t, r.v.Arm())
	eventually(t, "armed", func() bool { return r.v.State().Armed })
	check(t, r.v.Follow(home.Add(show.Vec3{Z: 5}), show.Vec3{}))
	check(t, r.v.Land()) // at once: the take-off is still in flight
	eventually(t, "in LAND", func() bool { _, _, m := r.truth(); return m == autopilot.CopterLand })
	eventually(t, "disarmed", func() bool { _, armed, _ := r.truth(); return !armed })
	p, _, _ := r.truth()
	if off := p.Dist(home); off > 0.05 {
		t.Errorf("down %.3f m from home, want within 0.05 m", off)
	}
}

// TestArduPilotFliesSetpoints: armed in GUIDED, an ArduPilot takes off at
// the first setpoint above the ground and flies the setpoints, in the
// show's frame; Return brings it home and it disarms there.
func TestArduPilotFliesSetpoints(t *testing.T) {
	r := start(t, vehicle.ArduPilot, nil)
	check(t, r.v.Arm())
	eventually(t, "armed", func() bool { return r.v.State().Armed })
	target := home.Add(show.Vec3{X: 3, Y: 2, Z: 4})
	eventually(t, "at the setpoint", func() bool {
		check(t, r.v.Follow(target, show.Vec3{}))
		p, _, _ := r.truth()
		return p.Dist(target) < 0.01
	})
	eventually(t, "airborne and near the setpoint in telemetry", func() bool {
		st := r.v.State()
		return st.Airborne && st.Position.Dist(target) < 1 && st.HasBattery
	})
	check(t, r.v.Return())
	eventually(t, "home and disarmed", func() bool {
		p, armed, _ := r.truth()
		return !armed && p.Dist(home) < 0.05
	})
	if st := r.v.State(); st.Armed && st.Airborne {
		// Telemetry lags the FC by up to a second; it only must not stay so.
		eventually(t, "telemetry down", func() bool { st := r.v.State(); return !st.Armed && !st.Airborne })
	}
}

// TestPX4ArmsOnTheGround: PX4 is armed in OFFBOARD on a setpoint at its
// home on the ground, so arming does not lift it; the first setpoint
// above the ground does.
func TestPX4ArmsOnTheGround(t *testing.T) {
	r := start(t, vehicle.PX4, nil)
	check(t, r.v.Arm())
	eventually(t, "armed in OFFBOARD", func() bool {
		_, armed, m := r.truth()
		return armed && m == autopilot.PX4CustomMode(autopilot.PX4MainOffboard, 0)
	})
	time.Sleep(500 * time.Millisecond)
	if p, _, _ := r.truth(); p.Dist(home) > 0.01 {
		t.Fatalf("armed PX4 at %v, %.3f m from its home %v; want it standing there", p, p.Dist(home), home)
	}
	target := home.Add(show.Vec3{Z: 3})
	eventually(t, "at the setpoint", func() bool {
		check(t, r.v.Follow(target, show.Vec3{}))
		p, _, _ := r.truth()
		return p.Dist(target) < 0.01
	})
}

// TestRefusedArmGivenAgain: an arm the flight controller refuses is given
// again in the background, its error reported by Err meanwhile, until it
// succeeds; the runner need not call Arm again.
func TestRefusedArmGivenAgain(t *testing.T) {
	r := start(t, vehicle.ArduPilot, nil)
	r.fc.Do(func(f *vehicle.FC) { f.RefuseArm("Compass not calibrated") })
	check(t, r.v.Arm())
	eventually(t, "the refusal reported", func() bool { return errors.Is(r.v.Err(), autopilot.ErrRefused) })
	t.Logf("Err: %v", r.v.Err())
	r.fc.Do(func(f *vehicle.FC) { f.RefuseArm("") })
	eventually(t, "armed", func() bool { _, armed, _ := r.truth(); return armed })
	eventually(t, "no error", func() bool { return r.v.Err() == nil })
}

// TestColourSent: SetColour sends LED_CONTROL to an ArduPilot.
func TestColourSent(t *testing.T) {
	r := start(t, vehicle.ArduPilot, nil)
	c := show.RGB{R: 230, G: 10, B: 180}
	check(t, r.v.SetColour(c))
	eventually(t, "the light on", func() bool {
		var rgb [3]uint8
		r.fc.Do(func(f *vehicle.FC) { rgb, _ = f.Light() })
		return rgb == [3]uint8{c.R, c.G, c.B}
	})
}

// TestStateCarriesStatusTelemetry: the state reports what the ground
// station's status needs: the position estimate, the GPS, the voltage,
// and the preflight checks, which pass for a drone at its home.
func TestStateCarriesStatusTelemetry(t *testing.T) {
	r := start(t, vehicle.ArduPilot, nil)
	eventually(t, "position, GPS and voltage", func() bool {
		st := r.v.State()
		return st.HasPosition && st.HasGPS && st.Voltage > 0
	})
	st := r.v.State()
	if st.GPSFix < 3 || st.Satellites == 0 || st.Satellites == 255 || st.Position.Dist(home) > 1 {
		t.Errorf("state %+v: want a 3D fix, satellites known, within 1 m of home %v", st, home)
	}
	eventually(t, "preflight passes", func() bool { return r.v.State().Preflight == 0 })
	if n := fcvehicle.PreflightNumber(autopilot.CheckHome); n != 7 {
		t.Errorf("home-distance numbered %d, want 7", n)
	}
}

// TestPreflightInTheAir: an armed drone flying 10 m from its show home
// passes its preflight, which a status would otherwise report as failing
// on the home distance for the whole show; disarmed at the same place, it
// fails on the home distance (7).
func TestPreflightInTheAir(t *testing.T) {
	r := start(t, vehicle.ArduPilot, nil)
	eventually(t, "preflight passes", func() bool { return r.v.State().Preflight == 0 })
	check(t, r.v.Arm())
	eventually(t, "armed", func() bool { _, armed, _ := r.truth(); return armed })
	target := home.Add(show.Vec3{X: 10, Z: 3})
	eventually(t, "10 m from home", func() bool {
		check(t, r.v.Follow(target, show.Vec3{}))
		p, _, _ := r.truth()
		return p.Dist(target) < 0.05 && r.v.State().Position.Dist(target) < 0.5
	})
	if st := r.v.State(); st.Preflight != 0 {
		t.Errorf("armed 10 m from home: preflight %d, want 0 (the home distance is checked on the ground)", st.Preflight)
	}
	check(t, r.v.Land())
	eventually(t, "landed and disarmed", func() bool { _, armed, _ := r.truth(); return !armed })
	eventually(t, "on the ground 10 m from home, the home distance fails", func() bool {
		return r.v.State().Preflight == fcvehicle.PreflightNumber(autopilot.CheckHome)
	})
}

// TestGPSTime: the vehicle reports the flight controller's GPS time (its
// clock 250 ms behind here) while it has a fix, and none once it lost it.
func TestGPSTime(t *testing.T) {
	r := start(t, vehicle.ArduPilot, func(c *vehicle.FCConfig) { c.TimeOffset = -250 * time.Millisecond })
	eventually(t, "GPS time", func() bool { _, ok := r.v.GPSTime(); return ok })
	gps, _ := r.v.GPSTime()
	if off := time.Since(gps); off < 200*time.Millisecond || off > 300*time.Millisecond {
		t.Errorf("GPS time %v behind the clock, want 250 ms within 50 ms", off)
	}
	r.fc.Do(func(f *vehicle.FC) { f.SetGPSLost(true) })
	eventually(t, "no GPS time", func() bool { _, ok := r.v.GPSTime(); return !ok })
}
