package autopilot_test

import (
	"context"
	"errors"
	"math"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/firmware/autopilot"
	"github.com/skyquorum/skyquorum/sitl/vehicle"
	"github.com/skyquorum/skyquorum/swarm/show"
)

// The show: its frame, and the drone's home in it, on a 1.5 m platform so
// that relative altitudes differ from show heights.
var (
	frame    = autopilot.Frame{Lat: 47.3975, Lon: 8.5453, Orientation: 30}
	showHome = show.Vec3{X: 20, Y: -10, Z: 1.5}
)

const gpsOffset = 1234 * time.Second // the FC's GPS clock runs ahead of ours

type rig struct {
	fc     *vehicle.FCServer
	c      *autopilot.Client
	ctx    context.Context
	homeLL [2]float64
}

// start runs a simulated FC standing at the drone's show home and a client
// connected to it over UDP on the loopback.
func start(t *testing.T, ap vehicle.Autopilot, mod func(*vehicle.FCConfig, *autopilot.Config)) *rig {
	t.Helper()
	lat, lon := frame.LatLon(showHome)
	fcCfg := vehicle.FCConfig{Autopilot: ap, SystemID: 7, Lat: lat, Lon: lon, AMSL: 488, Noise: 0.05, Seed: 1,
		TimeOffset: gpsOffset, FailsafeDelay: 1500 * time.Millisecond,
		Limits: vehicle.Limits{SpeedXY: 6, SpeedUp: 5, SpeedDown: 5}}
	cfg := autopilot.Config{SystemID: 7}
	if mod != nil {
		mod(&fcCfg, &cfg)
	}
	fc, err := vehicle.ServeFC(vehicle.FCServerConfig{FC: fcCfg})
	require.NoError(t, err)
	t.Cleanup(fc.Close)
	cfg.Endpoint = gomavlib.EndpointUDPClient{Address: fc.Addr()}
	c, err := autopilot.New(cfg)
	require.NoError(t, err)
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	got, err := c.WaitHeartbeat(ctx)
	require.NoError(t, err)
	want := autopilot.ArduPilot
	if ap == vehicle.PX4 {
		want = autopilot.PX4
	}
	require.Equal(t, want, got)
	return &rig{fc: fc, c: c, ctx: ctx, homeLL: [2]float64{lat, lon}}
}

// eventually polls cond until it holds or a generous deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 15 s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (r *rig) telemetry(t *testing.T) {
	t.Helper()
	require.NoError(t, r.c.RequestTelemetry(r.ctx))
	defer func() {
		if t.Failed() {
			t.Logf("telemetry: %+v", r.c.Telemetry())
		}
	}()
	eventually(t, "telemetry", func() bool {
		tel := r.c.Telemetry()
		ok := !tel.PositionAt.IsZero() && !tel.SysStatusAt.IsZero() && !tel.GPSAt.IsZero() &&
			!tel.UnixTimeAt.IsZero() && tel.LandedState != 0
		if tel.Autopilot == autopilot.ArduPilot {
			ok = ok && !tel.EKFAt.IsZero()
		}
		return ok
	})
}

func (r *rig) vehicle() (p vehicle.Point, custom uint32, armed bool) {
	r.fc.Do(func(f *vehicle.FC) { p, custom, armed = f.Vehicle().Position(), f.CustomMode(), f.Armed() })
	return
}

// fcPoint is where a show point is in the FC's own frame.
func (r *rig) fcPoint(p show.Vec3) (q vehicle.Point) {
	lat, lon := frame.LatLon(p)
	r.fc.Do(func(f *vehicle.FC) { q = f.Local(lat, lon, p.Z-showHome.Z) })
	return
}

// plan is the show trajectory the setpoint stream follows, switchable.
type plan struct {
	mu sync.Mutex
	fn func(now time.Time) (pos, vel show.Vec3)
}

func (p *plan) set(fn func(now time.Time) (pos, vel show.Vec3)) {
	p.mu.Lock()
	p.fn = fn
	p.mu.Unlock()
}

func (p *plan) setpoint(now time.Time) (lat, lon, relAlt, vn, ve, vd float64) {
	p.mu.Lock()
	fn := p.fn
	p.mu.Unlock()
	pos, vel := fn(now)
	return frame.Setpoint(pos, vel, showHome)
}

func hover(p show.Vec3) func(time.Time) (show.Vec3, show.Vec3) {
	return func(time.Time) (show.Vec3, show.Vec3) { return p, show.Vec3{} }
}

// line flies from a to b at speed m/s from t0, then stays at b.
func line(a, b show.Vec3, speed float64, t0 time.Time) func(time.Time) (show.Vec3, show.Vec3) {
	d := b.Sub(a)
	dur := d.Norm() / speed
	return func(now time.Time) (show.Vec3, show.Vec3) {
		s := now.Sub(t0).Seconds()
		switch {
		case s <= 0:
			return a, show.Vec3{}
		case s >= dur:
			return b, show.Vec3{}
		}
		return a.Add(d.Scale(s / dur)), d.Scale(speed / d.Norm())
	}
}

// Positions are compared to 1 cm: SET_POSITION_TARGET_GLOBAL_INT carries
// latitude and longitude in 1e-7 degrees (1.1 cm of latitude).

// flyLine streams a 9 m line at 4 m/s and checks where the FC's vehicle
// is, halfway and at the end, and what the client's telemetry says.
func (r *rig) flyLine(t *testing.T, p *plan, from show.Vec3) show.Vec3 {
	t.Helper()
	to := from.Add(show.Vec3{X: 8, Y: -4, Z: 2})
	t0 := time.Now()
	p.set(line(from, to, 4, t0))
	dur := to.Sub(from).Norm() / 4
	time.Sleep(time.Duration(dur / 2 * float64(time.Second)))
	// Halfway (however late this runs), the vehicle is over the line and
	// between its heights. (Vertically it may run ahead of the line when
	// it lags far enough for the horizontal speed limit to bind.)
	a, want := r.fcPoint(from), r.fcPoint(to)
	v, _, _ := r.vehicle()
	ab, av := want.Sub(a), v.Sub(a)
	along := (ab.X*av.X + ab.Y*av.Y) / (ab.X*ab.X + ab.Y*ab.Y)
	cross := math.Hypot(av.X-along*ab.X, av.Y-along*ab.Y)
	assert.Less(t, cross, 0.05, "halfway: vehicle %v, %.2f along the line", v, along)
	assert.Greater(t, along, 0.05)
	assert.True(t, v.Z >= a.Z-0.01 && v.Z <= want.Z+0.01, "halfway: height %.2f, line from %.2f to %.2f", v.Z, a.Z, want.Z)
	eventually(t, "at the end of the line", func() bool { v, _, _ := r.vehicle(); return v.Dist(want) < 0.01 })
	v, _, _ = r.vehicle()
	assert.InDelta(t, want.X, v.X, 0.01)
	assert.InDelta(t, want.Y, v.Y, 0.01)
	assert.InDelta(t, to.Z-showHome.Z, v.Z, 0.01)
	// The client sees it there too, to the FC's position noise (5 cm).
	eventually(t, "telemetry at the end of the line", func() bool {
		tel := r.c.Telemetry()
		x, y := frame.Local(tel.Lat, tel.Lon)
		return math.Hypot(x-to.X, y-to.Y) < 0.3 && math.Abs(tel.RelAlt-(to.Z-showHome.Z)) < 0.01
	})
	return to
}

func TestArduPilotShowFlight(t *testing.T) {
	r := start(t, vehicle.ArduPilot, nil)
	r.telemetry(t)

	rep := r.c.Preflight(r.homeLL[0], r.homeLL[1], autopilot.PreflightLimits{})
	require.True(t, rep.OK(), "%v", rep)
	assert.Equal(t, uint8(3), rep.FixType)
	assert.Equal(t, uint8(16), rep.Satellites)
	assert.True(t, rep.EKFHealthy)
	assert.True(t, rep.Armable)
	assert.Equal(t, 100, rep.Remaining)
	assert.InDelta(t, 16.8, rep.Voltage, 0.001)
	assert.Less(t, rep.HomeDistance, 0.3)

	gps, ok := r.c.GPSTime()
	require.True(t, ok)
	assert.InDelta(t, 0, gps.Sub(time.Now().Add(gpsOffset)).Seconds(), 0.5)

	require.NoError(t, r.c.SetMode(r.ctx, autopilot.ModeGuided))
	require.NoError(t, r.c.Arm(r.ctx))
	require.NoError(t, r.c.Takeoff(r.ctx, 5))
	eventually(t, "GUIDED, armed in telemetry", func() bool {
		tel := r.c.Telemetry()
		return tel.Mode == autopilot.ModeGuided && tel.Armed
	})
	eventually(t, "take-off to 5 m", func() bool { v, _, _ := r.vehicle(); return v.Z > 4.999 })

	var p plan
	above := showHome.Add(show.Vec3{Z: 5})
	p.set(hover(above))
	r.c.StartSetpoints(p.setpoint)
	r.flyLine(t, &p, above)

	require.NoError(t, r.c.SetLight(255, 128, 0))
	eventually(t, "LED colour", func() bool {
		var rgb [3]uint8
		r.fc.Do(func(f *vehicle.FC) { rgb, _ = f.Light() })
		return rgb == [3]uint8{255, 128, 0}
	})

	require.NoError(t, r.c.Land(r.ctx))
	r.c.StopSetpoints()
	eventually(t, "landed and disarmed", func() bool {
		tel := r.c.Telemetry()
		return !tel.Armed && tel.Mode == autopilot.ModeLand && tel.LandedState == uint8(common.MAV_LANDED_STATE_ON_GROUND)
	})
	v, _, _ := r.vehicle()
	assert.InDelta(t, 0, v.Z, 1e-9)
}

func TestPX4ShowFlight(t *testing.T) {
	r := start(t, vehicle.PX4, nil)
	r.telemetry(t)
	assert.True(t, r.c.Telemetry().EKFAt.IsZero(), "EKF_STATUS_REPORT is not asked of PX4")

	rep := r.c.Preflight(r.homeLL[0], r.homeLL[1], autopilot.PreflightLimits{})
	require.True(t, rep.OK(), "%v", rep)
	assert.True(t, rep.EKFHealthy)

	gps, ok := r.c.GPSTime()
	require.True(t, ok)
	assert.InDelta(t, 0, gps.Sub(time.Now().Add(gpsOffset)).Seconds(), 0.5)

	// OFFBOARD without setpoints: the client refuses, and so does PX4.
	require.ErrorIs(t, r.c.SetMode(r.ctx, autopilot.ModeOffboard), autopilot.ErrNoSetpoints)
	err := r.c.Command(r.ctx, common.MAV_CMD_DO_SET_MODE, 1, autopilot.PX4MainOffboard)
	var ce *autopilot.CommandError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, common.MAV_RESULT_TEMPORARILY_REJECTED, ce.Result)
	assert.Contains(t, err.Error(), "MAV_CMD_DO_SET_MODE")

	var p plan
	above := showHome.Add(show.Vec3{Z: 5})
	p.set(hover(above))
	r.c.StartSetpoints(p.setpoint)
	require.NoError(t, r.c.SetMode(r.ctx, autopilot.ModeOffboard))
	require.NoError(t, r.c.Arm(r.ctx))
	eventually(t, "take-off to 5 m in OFFBOARD", func() bool { v, _, _ := r.vehicle(); return v.Z > 4.999 })
	end := r.flyLine(t, &p, above)

	// PX4 has no LED_CONTROL: nothing is sent.
	require.NoError(t, r.c.SetLight(255, 0, 0))

	// Setpoints stop: PX4 leaves OFFBOARD for Hold, where it is.
	r.c.StopSetpoints()
	eventually(t, "Hold after setpoints stop", func() bool { return r.c.Telemetry().Mode == autopilot.ModeHold })
	// Hold keeps the vehicle where it was. Where that is depends on when
	// the last setpoint went out: under the race detector on a loaded
	// machine a stream can stall past PX4's 0.5 s and Hold comes early,
	// a centimetre or two short of the line's end.
	held, _, armed := r.vehicle()
	time.Sleep(time.Second)
	v, _, _ := r.vehicle()
	assert.True(t, armed)
	assert.Less(t, v.Dist(held), 0.01, "Hold moved the vehicle")
	assert.Less(t, v.Dist(r.fcPoint(end)), 0.05)
	var lights int
	r.fc.Do(func(f *vehicle.FC) { _, lights = f.Light() })
	assert.Zero(t, lights)

	require.NoError(t, r.c.Land(r.ctx))
	eventually(t, "landed and disarmed", func() bool {
		tel := r.c.Telemetry()
		return !tel.Armed && tel.Mode == autopilot.ModeLand && tel.LandedState == uint8(common.MAV_LANDED_STATE_ON_GROUND)
	})
}

// ArduPilot in GUIDED holds where the last setpoint put it, then lands
// once FailsafeDelay has passed without setpoints.
func TestArduPilotHoldsThenLands(t *testing.T) {
	r := start(t, vehicle.ArduPilot, nil)
	r.telemetry(t)
	require.NoError(t, r.c.SetMode(r.ctx, autopilot.ModeGuided))
	require.NoError(t, r.c.Arm(r.ctx))
	require.NoError(t, r.c.Takeoff(r.ctx, 4))
	eventually(t, "take-off", func() bool { v, _, _ := r.vehicle(); return v.Z > 3.999 })
	var p plan
	target := showHome.Add(show.Vec3{X: 3, Z: 4})
	p.set(hover(target))
	r.c.StartSetpoints(p.setpoint)
	want := r.fcPoint(target)
	eventually(t, "at the setpoint", func() bool { v, _, _ := r.vehicle(); return v.Dist(want) < 0.01 })
	r.c.StopSetpoints()
	stopped := time.Now()
	time.Sleep(500 * time.Millisecond)
	v, custom, _ := r.vehicle()
	if time.Since(stopped) < 1500*time.Millisecond { // before the failsafe delay, it must hold
		assert.Equal(t, uint32(autopilot.CopterGuided), custom)
		assert.Less(t, v.Dist(want), 0.01)
	}
	eventually(t, "LAND after the failsafe delay", func() bool { return r.c.Telemetry().Mode == autopilot.ModeLand })
	assert.GreaterOrEqual(t, time.Since(stopped), 1500*time.Millisecond)
	eventually(t, "landed", func() bool { _, _, armed := r.vehicle(); return !armed })
	v, _, _ = r.vehicle()
	assert.InDelta(t, want.X, v.X, 0.01)
	assert.InDelta(t, 0, v.Z, 1e-9)
}

// Injected faults fail named preflight checks, and the arm refusal names
// the autopilot's reason.
func TestPreflightFaults(t *testing.T) {
	for _, ap := range []vehicle.Autopilot{vehicle.ArduPilot, vehicle.PX4} {
		for _, tc := range []struct {
			name   string
			inject func(*vehicle.FC)
			failed []string
			reason map[vehicle.Autopilot]string
		}{
			{"gps lost", func(f *vehicle.FC) { f.SetGPSLost(true) },
				[]string{autopilot.CheckGPSFix, autopilot.CheckSatellites, autopilot.CheckEKF, autopilot.CheckArmable},
				map[vehicle.Autopilot]string{vehicle.ArduPilot: "PreArm: Need 3D Fix", vehicle.PX4: "Preflight Fail: GPS fix too low"}},
			{"low battery", func(f *vehicle.FC) { f.SetBatteryRemaining(10) },
				[]string{autopilot.CheckBattery, autopilot.CheckArmable},
				map[vehicle.Autopilot]string{vehicle.ArduPilot: "PreArm: Battery 1 below minimum arming capacity",
					vehicle.PX4: "Preflight Fail: low battery"}},
			{"refused", func(f *vehicle.FC) { f.RefuseArm("Compass not calibrated") },
				[]string{autopilot.CheckArmable},
				map[vehicle.Autopilot]string{vehicle.ArduPilot: "PreArm: Compass not calibrated",
					vehicle.PX4: "Preflight Fail: Compass not calibrated"}},
		} {
			t.Run(ap.String()+"/"+tc.name, func(t *testing.T) {
				r := start(t, ap, nil)
				r.fc.Do(tc.inject)
				r.telemetry(t)
				var rep autopilot.Report
				eventually(t, "failed checks", func() bool {
					rep = r.c.Preflight(r.homeLL[0], r.homeLL[1], autopilot.PreflightLimits{})
					return len(rep.Failed()) == len(tc.failed)
				})
				var names []string
				for _, c := range rep.Failed() {
					names = append(names, c.Name)
				}
				assert.ElementsMatch(t, tc.failed, names, "%v", rep)
				assert.False(t, rep.Armable)

				if ap == vehicle.ArduPilot {
					require.NoError(t, r.c.SetMode(r.ctx, autopilot.ModeGuided))
				}
				err := r.c.Arm(r.ctx)
				require.ErrorIs(t, err, autopilot.ErrRefused)
				var ce *autopilot.CommandError
				require.ErrorAs(t, err, &ce)
				assert.Equal(t, tc.reason[ap], ce.Reason)
				assert.Contains(t, err.Error(), "MAV_CMD_COMPONENT_ARM_DISARM")
				assert.Contains(t, err.Error(), tc.reason[ap])
				_, _, armed := r.vehicle()
				assert.False(t, armed)
				if tc.name == "gps lost" {
					_, ok := r.c.GPSTime()
					assert.False(t, ok, "no GPS time without a fix")
				}
			})
		}
	}
}

// A dead link: commands fail after their retries, naming the command.
func TestDeadLink(t *testing.T) {
	r := start(t, vehicle.ArduPilot, func(_ *vehicle.FCConfig, c *autopilot.Config) {
		c.CommandTimeout, c.CommandRetries = 100*time.Millisecond, 2
	})
	r.fc.SetLinkDead(true)
	err := r.c.Arm(r.ctx)
	require.ErrorIs(t, err, autopilot.ErrNoAck)
	assert.Contains(t, err.Error(), "MAV_CMD_COMPONENT_ARM_DISARM after 3 tries")
	assert.False(t, errors.Is(err, autopilot.ErrRefused))
	r.fc.SetLinkDead(false)
	require.NoError(t, r.c.SetMode(r.ctx, autopilot.ModeGuided))
}

// A link that dies in flight: the FC hears no more setpoints and lands
// after its failsafe delay; the client hears nothing meanwhile, and sees
// it landed once the link is back.
func TestDeadLinkInFlight(t *testing.T) {
	r := start(t, vehicle.ArduPilot, nil)
	r.telemetry(t)
	require.NoError(t, r.c.SetMode(r.ctx, autopilot.ModeGuided))
	require.NoError(t, r.c.Arm(r.ctx))
	require.NoError(t, r.c.Takeoff(r.ctx, 3))
	var p plan
	target := showHome.Add(show.Vec3{Z: 3})
	p.set(hover(target))
	r.c.StartSetpoints(p.setpoint)
	want := r.fcPoint(target)
	eventually(t, "at the setpoint", func() bool { v, _, _ := r.vehicle(); return v.Dist(want) < 0.01 })

	r.fc.SetLinkDead(true)
	cut := r.c.Telemetry().Heartbeat
	eventually(t, "landed on its own", func() bool {
		v, custom, armed := r.vehicle()
		return custom == autopilot.CopterLand && !armed && v.Z == 0
	})
	assert.False(t, r.c.Telemetry().Heartbeat.After(cut.Add(100*time.Millisecond)), "nothing heard while the link is dead")

	r.c.StopSetpoints()
	r.fc.SetLinkDead(false)
	eventually(t, "landed, as the client sees it", func() bool {
		tel := r.c.Telemetry()
		return tel.Mode == autopilot.ModeLand && !tel.Armed
	})
}
