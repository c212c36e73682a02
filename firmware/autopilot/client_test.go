package autopilot_test

import (
	"context"
	"math"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/common"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/firmware/autopilot"
)

// fakeClock fires its timers only when the test advances it.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	timers []fakeTimer
}

type fakeTimer struct {
	at time.Time
	d  time.Duration
	ch chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	ch := make(chan time.Time, 1)
	c.timers = append(c.timers, fakeTimer{c.now.Add(d), d, ch})
	return ch
}

// advance moves the clock and fires the timers due.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
	kept := c.timers[:0]
	for _, t := range c.timers {
		if t.at.After(c.now) {
			kept = append(kept, t)
			continue
		}
		t.ch <- c.now
	}
	c.timers = kept
}

// waitTimer waits (in real time) until a timer of length d is pending.
func (c *fakeClock) waitTimer(t *testing.T, d time.Duration) {
	t.Helper()
	eventually(t, "a pending "+d.String()+" timer", func() bool {
		c.mu.Lock()
		defer c.mu.Unlock()
		for _, tm := range c.timers {
			if tm.d == d {
				return true
			}
		}
		return false
	})
}

// silentFC is an ArduPilot that sends heartbeats and never acknowledges
// (but with ackTo, it acknowledges to that system and component),
// recording the COMMAND_LONGs it gets.
func silentFC(t *testing.T, ackTo ...uint8) (addr string, got func() []*ardupilotmega.MessageCommandLong) {
	addr, got, _ = recordingFC(t, ackTo...)
	return addr, got
}

// recordingFC is silentFC that also returns the setpoints it got.
func recordingFC(t *testing.T, ackTo ...uint8) (addr string, got func() []*ardupilotmega.MessageCommandLong,
	sps func() []*ardupilotmega.MessageSetPositionTargetGlobalInt) {
	var setpoints []*ardupilotmega.MessageSetPositionTargetGlobalInt
	pc, err := net.ListenPacket("udp4", "127.0.0.1:0")
	require.NoError(t, err)
	addr = pc.LocalAddr().String()
	require.NoError(t, pc.Close())
	node := &gomavlib.Node{Endpoints: []gomavlib.EndpointConf{gomavlib.EndpointUDPServer{Address: addr}},
		Dialect: ardupilotmega.Dialect, OutVersion: gomavlib.V2, OutSystemID: 1,
		HeartbeatPeriod: 100 * time.Millisecond, HeartbeatSystemType: 2, HeartbeatAutopilotType: 3}
	require.NoError(t, node.Initialize())
	t.Cleanup(node.Close)
	var mu sync.Mutex
	var cmds []*ardupilotmega.MessageCommandLong
	go func() {
		for ev := range node.Events() {
			if fr, ok := ev.(*gomavlib.EventFrame); ok {
				if m, ok := fr.Message().(*ardupilotmega.MessageSetPositionTargetGlobalInt); ok {
					mu.Lock()
					setpoints = append(setpoints, m)
					mu.Unlock()
				}
				if m, ok := fr.Message().(*ardupilotmega.MessageCommandLong); ok {
					mu.Lock()
					cmds = append(cmds, m)
					mu.Unlock()
					if len(ackTo) == 2 {
						_ = node.WriteMessageAll(&ardupilotmega.MessageCommandAck{Command: m.Command,
							Result: common.MAV_RESULT_ACCEPTED, TargetSystem: ackTo[0], TargetComponent: ackTo[1]})
					}
				}
			}
		}
	}()
	return addr, func() []*ardupilotmega.MessageCommandLong {
			mu.Lock()
			defer mu.Unlock()
			return append([]*ardupilotmega.MessageCommandLong(nil), cmds...)
		}, func() []*ardupilotmega.MessageSetPositionTargetGlobalInt {
			mu.Lock()
			defer mu.Unlock()
			return append([]*ardupilotmega.MessageSetPositionTargetGlobalInt(nil), setpoints...)
		}
}

func fakeClient(t *testing.T, addr string, clk *fakeClock, timeout time.Duration, retries int) (*autopilot.Client, context.Context) {
	c, err := autopilot.New(autopilot.Config{Endpoint: gomavlib.EndpointUDPClient{Address: addr}, SystemID: 1,
		Clock: clk, CommandTimeout: timeout, CommandRetries: retries})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	ap, err := c.WaitHeartbeat(ctx)
	require.NoError(t, err)
	require.Equal(t, autopilot.ArduPilot, ap)
	return c, ctx
}

// A command is resent after each timeout of the client's clock, with the
// confirmation field counting, and fails with ErrNoAck after the last.
func TestCommandRetries(t *testing.T) {
	addr, got := silentFC(t)
	clk := &fakeClock{now: time.Unix(1_000_000, 0)}
	const timeout, retries = 700 * time.Millisecond, 3
	c, ctx := fakeClient(t, addr, clk, timeout, retries)

	errc := make(chan error, 1)
	go func() { errc <- c.Land(ctx) }()
	for i := range retries + 1 {
		eventually(t, "command sent", func() bool { return len(got()) == i+1 })
		clk.waitTimer(t, timeout)
		clk.advance(timeout)
	}
	err := <-errc
	require.ErrorIs(t, err, autopilot.ErrNoAck)
	assert.Contains(t, err.Error(), "MAV_CMD_NAV_LAND after 4 tries 700ms apart")
	cmds := got()
	require.Len(t, cmds, retries+1)
	for i, m := range cmds {
		assert.Equal(t, common.MAV_CMD_NAV_LAND, m.Command)
		assert.Equal(t, uint8(i), m.Confirmation)
		assert.Equal(t, uint8(1), m.TargetSystem)
		assert.Equal(t, uint8(1), m.TargetComponent)
	}
}

// An ACK addressed to another component (a ground station's command of the
// same kind) does not answer the client's command; one addressed to it does.
func TestAckForAnotherComponent(t *testing.T) {
	for _, tc := range []struct {
		to   [2]uint8
		want error
	}{{[2]uint8{1, 190}, autopilot.ErrNoAck}, {[2]uint8{255, 191}, autopilot.ErrNoAck}, {[2]uint8{1, 191}, nil}} {
		addr, got := silentFC(t, tc.to[0], tc.to[1])
		clk := &fakeClock{now: time.Unix(1_000_000, 0)}
		const timeout = 900 * time.Millisecond // not the heartbeat's 1 s
		c, ctx := fakeClient(t, addr, clk, timeout, 1)
		errc := make(chan error, 1)
		go func() { errc <- c.Return(ctx) }()
		if tc.want != nil {
			for i := range 2 {
				eventually(t, "command sent", func() bool { return len(got()) == i+1 })
				clk.waitTimer(t, timeout)
				clk.advance(timeout)
			}
		}
		err := <-errc
		if tc.want == nil {
			assert.NoError(t, err, "ACK to %v", tc.to)
		} else {
			assert.ErrorIs(t, err, tc.want, "ACK to %v", tc.to)
		}
	}
}

// Setpoints go out at SetpointRate (20 Hz by default) by the client's clock: one per period,
// the k-th from the callback at start + k periods, with the show's numbers
// in MAVLink's units; a NaN velocity sends the position alone.
func TestSetpointStream(t *testing.T) {
	addr, _, sps := recordingFC(t)
	clk := &fakeClock{now: time.Unix(1_000_000, 0)}
	c, _ := fakeClient(t, addr, clk, 900*time.Millisecond, 1)
	start := clk.Now()
	var mu sync.Mutex
	var asked []time.Duration
	c.StartSetpoints(func(now time.Time) (lat, lon, relAlt, vn, ve, vd float64) {
		mu.Lock()
		asked = append(asked, now.Sub(start))
		n := len(asked)
		mu.Unlock()
		vn = 1.5
		if n == 3 {
			vn = math.NaN()
		}
		return 47.1234567, -8.7654321, 12.25, vn, -2, 0.5
	})
	defer c.StopSetpoints()
	for i := range 5 {
		eventually(t, "setpoint sent", func() bool { return len(sps()) == i+1 })
		clk.waitTimer(t, 50*time.Millisecond)
		clk.advance(50 * time.Millisecond)
	}
	eventually(t, "setpoint sent", func() bool { return len(sps()) == 6 })
	got := sps()
	mu.Lock()
	assert.Equal(t, []time.Duration{0, 50, 100, 150, 200, 250}, func() []time.Duration {
		var ms []time.Duration
		for _, d := range asked {
			ms = append(ms, d/time.Millisecond)
		}
		return ms
	}())
	mu.Unlock()
	m := got[0]
	assert.Equal(t, int32(471234567), m.LatInt)
	assert.Equal(t, int32(-87654321), m.LonInt)
	assert.Equal(t, float32(12.25), m.Alt)
	assert.Equal(t, [3]float32{1.5, -2, 0.5}, [3]float32{m.Vx, m.Vy, m.Vz})
	assert.Equal(t, common.MAV_FRAME_GLOBAL_RELATIVE_ALT_INT, m.CoordinateFrame)
	assert.Equal(t, common.POSITION_TARGET_TYPEMASK(3520), m.TypeMask)
	assert.Equal(t, uint8(1), m.TargetSystem)
	assert.Equal(t, uint8(1), m.TargetComponent)
	assert.Equal(t, common.POSITION_TARGET_TYPEMASK(3520|8|16|32), got[2].TypeMask, "NaN velocity")
	assert.Equal(t, uint32(100), got[2].TimeBootMs)
}
