package autopilot_test

import (
	"context"
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

// silentFC is an ArduPilot that sends heartbeats and never acknowledges,
// recording the COMMAND_LONGs it gets.
func silentFC(t *testing.T) (addr string, got func() []*ardupilotmega.MessageCommandLong) {
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
				if m, ok := fr.Message().(*ardupilotmega.MessageCommandLong); ok {
					mu.Lock()
					cmds = append(cmds, m)
					mu.Unlock()
				}
			}
		}
	}()
	return addr, func() []*ardupilotmega.MessageCommandLong {
		mu.Lock()
		defer mu.Unlock()
		return append([]*ardupilotmega.MessageCommandLong(nil), cmds...)
	}
}

// A command is resent after each timeout of the client's clock, with the
// confirmation field counting, and fails with ErrNoAck after the last.
func TestCommandRetries(t *testing.T) {
	addr, got := silentFC(t)
	clk := &fakeClock{now: time.Unix(1_000_000, 0)}
	const timeout, retries = 700 * time.Millisecond, 3
	c, err := autopilot.New(autopilot.Config{Endpoint: gomavlib.EndpointUDPClient{Address: addr}, SystemID: 1,
		Clock: clk, CommandTimeout: timeout, CommandRetries: retries})
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	ap, err := c.WaitHeartbeat(ctx)
	require.NoError(t, err)
	require.Equal(t, autopilot.ArduPilot, ap)

	errc := make(chan error, 1)
	go func() { errc <- c.Land(ctx) }()
	for i := range retries + 1 {
		eventually(t, "command sent", func() bool { return len(got()) == i+1 })
		clk.waitTimer(t, timeout)
		clk.advance(timeout)
	}
	err = <-errc
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
