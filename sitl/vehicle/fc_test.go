package vehicle

import (
	"math"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 6, 1, 20, 0, 0, 0, time.UTC)

// fcRun drives an FC in 20 ms steps of a synthetic clock.
type fcRun struct {
	f   *FC
	now time.Time
	out []message.Message
}

func newRun(cfg FCConfig) *fcRun {
	r := &fcRun{f: NewFC(cfg), now: t0}
	r.f.Advance(t0)
	return r
}

func (r *fcRun) advance(d time.Duration) {
	for end := r.now.Add(d); r.now.Before(end); {
		r.now = r.now.Add(20 * time.Millisecond)
		r.out = append(r.out, r.f.Advance(r.now)...)
	}
}

func (r *fcRun) cmd(c common.MAV_CMD, p ...float32) common.MAV_RESULT {
	var q [7]float32
	copy(q[:], p)
	for _, m := range r.f.Handle(&ardupilotmega.MessageCommandLong{TargetSystem: 1, Command: c,
		Param1: q[0], Param2: q[1], Param3: q[2], Param7: q[6]}) {
		if a, ok := m.(*ardupilotmega.MessageCommandAck); ok && a.Command == c {
			return a.Result
		}
	}
	return 255
}

func (r *fcRun) setpoint(p Point) {
	lat, lon := r.f.LatLon(p)
	r.f.Handle(&ardupilotmega.MessageSetPositionTargetGlobalInt{TargetSystem: 1,
		CoordinateFrame: common.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, TypeMask: 3520,
		LatInt: int32(math.Round(lat * 1e7)), LonInt: int32(math.Round(lon * 1e7)), Alt: float32(p.Z)})
}

func count[T message.Message](out []message.Message) (n int) {
	for _, m := range out {
		if _, ok := m.(T); ok {
			n++
		}
	}
	return n
}

var home = FCConfig{Lat: 47.3977, Lon: 8.5456, AMSL: 488}

// PX4 takes OFFBOARD only with a setpoint in the last 0.5 s, and leaves it
// for AUTO.LOITER (Hold) once setpoints have stopped for longer.
func TestPX4Offboard(t *testing.T) {
	cfg := home
	cfg.Autopilot = PX4
	r := newRun(cfg)
	assert.Equal(t, common.MAV_RESULT_TEMPORARILY_REJECTED, r.cmd(common.MAV_CMD_DO_SET_MODE, 1, 6))
	r.setpoint(Point{0, 0, 5})
	r.advance(600 * time.Millisecond)
	assert.Equal(t, common.MAV_RESULT_TEMPORARILY_REJECTED, r.cmd(common.MAV_CMD_DO_SET_MODE, 1, 6), "setpoint 0.6 s old")
	for range 10 {
		r.setpoint(Point{0, 0, 5})
		r.advance(100 * time.Millisecond)
	}
	require.Equal(t, common.MAV_RESULT_ACCEPTED, r.cmd(common.MAV_CMD_DO_SET_MODE, 1, 6))
	require.Equal(t, common.MAV_RESULT_ACCEPTED, r.cmd(common.MAV_CMD_COMPONENT_ARM_DISARM, 1))
	for range 50 {
		r.setpoint(Point{0, 0, 5})
		r.advance(100 * time.Millisecond)
	}
	assert.InDelta(t, 5, r.f.Vehicle().Position().Z, 0.01, "took off on setpoints")
	r.advance(380 * time.Millisecond) // the last setpoint was 0.1 s before the loop ended
	assert.Equal(t, uint32(px4Offboard), r.f.CustomMode(), "0.48 s without setpoints")
	r.advance(60 * time.Millisecond)
	assert.Equal(t, uint32(px4AutoLoiter), r.f.CustomMode())
	assert.Equal(t, Holding, r.f.Vehicle().Mode())
	assert.True(t, r.f.Armed())
}

// ArduPilot in GUIDED holds without setpoints, and lands FailsafeDelay
// after the last one.
func TestArduPilotFailsafe(t *testing.T) {
	cfg := home
	cfg.FailsafeDelay = 4 * time.Second
	r := newRun(cfg)
	require.Equal(t, common.MAV_RESULT_ACCEPTED, r.cmd(common.MAV_CMD_DO_SET_MODE, 1, 4))
	require.Equal(t, common.MAV_RESULT_ACCEPTED, r.cmd(common.MAV_CMD_COMPONENT_ARM_DISARM, 1))
	r.setpoint(Point{10, 0, 5})
	assert.Equal(t, Armed, r.f.Vehicle().Mode(), "no setpoints on the ground")
	require.Equal(t, common.MAV_RESULT_ACCEPTED, r.cmd(common.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 5))
	r.advance(10 * time.Second)
	assert.Equal(t, uint32(copterGuided), r.f.CustomMode(), "waits for setpoints after take-off")
	r.setpoint(Point{3, 4, 5})
	r.advance(3980 * time.Millisecond)
	assert.Equal(t, uint32(copterGuided), r.f.CustomMode())
	p := r.f.Vehicle().Position()
	assert.InDelta(t, 3, p.X, 0.01)
	assert.InDelta(t, 4, p.Y, 0.01)
	r.advance(40 * time.Millisecond)
	assert.Equal(t, uint32(copterLand), r.f.CustomMode())
	r.advance(5 * time.Second)
	assert.False(t, r.f.Armed())
	assert.InDelta(t, 0, r.f.Vehicle().Position().Z, 1e-9)
}

// Telemetry flows at the requested rates; SYSTEM_TIME is the clock plus
// the FC's offset; the battery drains with flight time.
func TestFCTelemetry(t *testing.T) {
	cfg := home
	cfg.TimeOffset = 3 * time.Second
	cfg.Endurance = 10 * time.Minute
	r := newRun(cfg)
	require.Equal(t, common.MAV_RESULT_ACCEPTED, r.cmd(common.MAV_CMD_SET_MESSAGE_INTERVAL, 33, 200_000))
	require.Equal(t, common.MAV_RESULT_ACCEPTED, r.cmd(common.MAV_CMD_SET_MESSAGE_INTERVAL, 2, 1_000_000))
	r.advance(2 * time.Second)
	assert.Equal(t, 10, count[*ardupilotmega.MessageGlobalPositionInt](r.out))
	assert.Equal(t, 2, count[*ardupilotmega.MessageSystemTime](r.out))
	assert.Equal(t, 2, count[*ardupilotmega.MessageHeartbeat](r.out))
	assert.Zero(t, count[*ardupilotmega.MessageSysStatus](r.out), "not requested")
	for _, m := range r.out {
		if st, ok := m.(*ardupilotmega.MessageSystemTime); ok {
			assert.Equal(t, t0.Add(20*time.Millisecond+3*time.Second).UnixMicro(), int64(st.TimeUnixUsec))
			break
		}
	}
	assert.Equal(t, common.MAV_RESULT_ACCEPTED, r.cmd(common.MAV_CMD_SET_MESSAGE_INTERVAL, 33, -1))
	r.out = nil
	r.advance(time.Second)
	assert.Zero(t, count[*ardupilotmega.MessageGlobalPositionInt](r.out), "disabled")

	require.Equal(t, common.MAV_RESULT_ACCEPTED, r.cmd(common.MAV_CMD_DO_SET_MODE, 1, 4))
	require.Equal(t, common.MAV_RESULT_ACCEPTED, r.cmd(common.MAV_CMD_COMPONENT_ARM_DISARM, 1))
	require.Equal(t, common.MAV_RESULT_ACCEPTED, r.cmd(common.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 3))
	r.advance(60 * time.Second)
	assert.InDelta(t, 90, r.f.Remaining(), 0.01, "a minute of a ten-minute battery")
	assert.Equal(t, common.MAV_RESULT_UNSUPPORTED, r.cmd(common.MAV_CMD_DO_FLIGHTTERMINATION))
}

// The position noise comes from the seed: the same seed gives the same
// reports, and its spread is the configured one.
func TestFCNoise(t *testing.T) {
	for _, seed := range []uint64{1, 2} {
		reports := func() []int32 {
			cfg := home
			cfg.Noise, cfg.Seed = 0.5, seed
			r := newRun(cfg)
			r.cmd(common.MAV_CMD_SET_MESSAGE_INTERVAL, 33, 20_000)
			r.advance(40 * time.Second)
			var lat []int32
			for _, m := range r.out {
				if g, ok := m.(*ardupilotmega.MessageGlobalPositionInt); ok {
					lat = append(lat, g.Lat)
				}
			}
			return lat
		}
		a, b := reports(), reports()
		require.Equal(t, a, b, "seed=%d", seed)
		var sum, sq float64
		for _, l := range a {
			d := float64(l-int32(math.Round(home.Lat*1e7))) * 0.0111
			sum += d
			sq += d * d
		}
		n := float64(len(a))
		sd := math.Sqrt(sq/n - (sum/n)*(sum/n))
		assert.InDelta(t, 0.5, sd, 0.05, "seed=%d: %d reports", seed, len(a))
	}
}

func (r *fcRun) setpointVel(p, v Point) {
	lat, lon := r.f.LatLon(p)
	r.f.Handle(&ardupilotmega.MessageSetPositionTargetGlobalInt{TargetSystem: 1,
		CoordinateFrame: common.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, TypeMask: 3520,
		LatInt: int32(math.Round(lat * 1e7)), LonInt: int32(math.Round(lon * 1e7)), Alt: float32(p.Z),
		Vx: float32(v.X), Vy: float32(v.Y), Vz: float32(-v.Z)})
}

// Position and velocity setpoints at 10 Hz along a line at 4 m/s: with the
// velocity fed forward, the vehicle keeps up to within 10 cm; when they
// stop, ArduPilot carries the last one forward for 3 s, then stops there.
func TestFCFollowsLine(t *testing.T) {
	cfg := home
	cfg.FailsafeDelay = 20 * time.Second
	r := newRun(cfg)
	r.cmd(common.MAV_CMD_DO_SET_MODE, 1, 4)
	r.cmd(common.MAV_CMD_COMPONENT_ARM_DISARM, 1)
	r.cmd(common.MAV_CMD_NAV_TAKEOFF, 0, 0, 0, 0, 0, 0, 5)
	r.advance(5 * time.Second)
	vel := Point{0, 4, 0} // east
	for i := range 100 {
		s := float64(i) * 0.1
		r.setpointVel(Point{0, 4 * s, 5}, vel)
		if i == 50 || i == 90 {
			p := r.f.Vehicle().Position()
			assert.InDelta(t, 4*s, p.Y, 0.1, "along the line after %.1f s", s)
			assert.InDelta(t, 0, p.X, 1e-3)
			assert.InDelta(t, 5, p.Z, 1e-3)
		}
		r.advance(100 * time.Millisecond)
	}
	// The last setpoint was at 39.6 m, 4 m/s east: carried 3 s to 51.6 m.
	r.advance(10 * time.Second)
	p := r.f.Vehicle().Position()
	assert.InDelta(t, 39.6+12, p.Y, 0.05)
	assert.Equal(t, uint32(copterGuided), r.f.CustomMode())
}
