package main

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/firmware/autopilot"
	"github.com/skyquorum/skyquorum/firmware/config"
	"github.com/skyquorum/skyquorum/firmware/runner"
	"github.com/skyquorum/skyquorum/sitl/vehicle"
	"github.com/skyquorum/skyquorum/swarm/show"
)

// eventually polls cond until it holds, or fails after a generous
// deadline (no test asserts a speed).
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 30 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func TestStopActionsMatchTheRunner(t *testing.T) {
	assert.Equal(t, string(runner.OnStopLand), config.ActionLand)
	assert.Equal(t, string(runner.OnStopHold), config.ActionHold)
}

// The config reaches the runner: who the drone is, its radio, key, state,
// show, stop action, airspace grid and lease.
func TestRunnerConfig(t *testing.T) {
	c, err := config.Parse([]byte(`id: 260
members: 251-255, 260
radio: {serial: /dev/ttyUSB0, baud: 115200}
flight_controller: {serial: /dev/serial0}
failsafe: {on_stop: hold}
airspace: {origin: [-50, -50, 0], cell_size: 5, cells: [20, 20, 8], lease: 12.345s}
`), "d.yaml")
	require.NoError(t, err)
	d := &drone{cfg: c, key: [32]byte{7}, stateDir: "/state", log: slog.New(slog.DiscardHandler)}
	rc, err := runnerConfig(d, nil)
	require.NoError(t, err)
	assert.Equal(t, algorithms.NodeID(260), rc.ID)
	assert.Equal(t, []algorithms.NodeID{251, 252, 253, 254, 255, 260}, rc.Members)
	assert.Equal(t, uint8(1), rc.Network)
	assert.Equal(t, uint8(10), rc.SystemID, "260 = 10 + 250 × 1")
	assert.Equal(t, 115200, rc.Baud)
	assert.Equal(t, d.key, rc.Key)
	assert.Equal(t, "/state", rc.StateDir)
	assert.Equal(t, runner.OnStopHold, rc.OnStop)
	require.NotNil(t, rc.Grid)
	assert.Equal(t, [3]int{20, 20, 8}, rc.Grid.Dims)
	assert.Equal(t, 5.0, rc.Grid.Size.Z)
	assert.Equal(t, -50.0, rc.Grid.Origin.X)
	assert.Equal(t, 1235, rc.Swarm.LeaseTicks, "12.345 s in 10 ms ticks, rounded up")
	assert.Nil(t, rc.Clock, "the system clock")

	c.Airspace = nil
	rc, err = runnerConfig(d, nil)
	require.NoError(t, err)
	assert.Nil(t, rc.Grid, "the runner's grid over the show's fence")
	assert.Zero(t, rc.Swarm.LeaseTicks)
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// drone run with a simulated flight controller: the flight controller is
// connected, the runner starts its node on the radio prepare opened, and
// stops and stores the node's state when the context ends.
func TestRunDrivesTheRunner(t *testing.T) {
	s := newSetup(t)
	writeDemoShow(t, filepath.Join(s.dir, "show.sqshow"), 5)
	sh, err := loadShow(filepath.Join(s.dir, "show.sqshow"), 3)
	require.NoError(t, err)
	home := showHome(sh, 3)
	fc, err := vehicle.ServeFC(vehicle.FCServerConfig{FC: vehicle.FCConfig{Autopilot: vehicle.ArduPilot, SystemID: 3, Lat: home[0], Lon: home[1]}})
	require.NoError(t, err)
	defer fc.Close()
	s.write(t, strings.Replace(s.yaml(), "udp: 127.0.0.1:14551", "udp: "+fc.Addr(), 1)+"show: show.sqshow\n")

	ctx, cancel := context.WithCancel(context.Background())
	old := runContext
	runContext = func() (context.Context, context.CancelFunc) { return ctx, cancel }
	defer func() { runContext = old }()
	listen = 500 * time.Millisecond
	defer func() { listen = 0 }()
	var stdout, stderr syncBuffer
	done := make(chan int, 1)
	go func() { done <- run([]string{"run", "--config", s.config}, &stdout, &stderr) }()
	eventually(t, "the node started", func() bool { return strings.Contains(stderr.String(), `"msg":"runner: node started"`) })
	logs := stderr.String()
	assert.Contains(t, logs, `"msg":"flight controller connected","autopilot":"ArduPilot"`)
	assert.Contains(t, logs, `"drone":3`)
	cancel()
	select {
	case code := <-done:
		assert.Equal(t, exitOK, code, stderr.String())
	case <-time.After(30 * time.Second):
		t.Fatal("drone run did not stop")
	}
	assert.Contains(t, stderr.String(), `"msg":"runner: stopping on the ground"`)
	_, err = os.Stat(filepath.Join(s.state, "node.state"))
	assert.NoError(t, err, "the node's state is stored")
}

// A flight controller that does not answer stops the drone before its
// runner starts: nothing goes on air.
func TestRunWithoutFlightController(t *testing.T) {
	s := newSetup(t)
	heartbeatWait = 300 * time.Millisecond
	defer func() { heartbeatWait = time.Minute }()
	code, _, errOut := runCmd("run", "--config", s.config)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "drone run: no HEARTBEAT from an ArduPilot or PX4 flight controller within 300ms: is it powered, and are the port and baud rate right?")
	s.air.assertSilent(t)
}

// The vehicle the runner drives: arm (again after a refusal), take off
// towards a setpoint, fly it, set the light, hold and resume, land, on a
// simulated ArduPilot.
func TestFCVehicleFlies(t *testing.T) {
	sh, err := demoShow(5)
	require.NoError(t, err)
	home := showHome(sh, 2)
	fc, err := vehicle.ServeFC(vehicle.FCServerConfig{FC: vehicle.FCConfig{Autopilot: vehicle.ArduPilot, SystemID: 2, Lat: home[0], Lon: home[1]}})
	require.NoError(t, err)
	defer fc.Close()
	log := slog.New(slog.DiscardHandler)
	c, err := autopilot.New(autopilot.Config{Endpoint: fcEndpoint(config.FlightController{UDP: fc.Addr()}), SystemID: 2, Logger: log})
	require.NoError(t, err)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	ap, err := c.WaitHeartbeat(ctx)
	require.NoError(t, err)
	require.NoError(t, c.RequestTelemetry(ctx))
	v := newFCVehicle(ctx, c, ap, sh, 1, log)
	defer v.wait()

	// A refused arm is given again until the autopilot accepts it.
	fc.Do(func(f *vehicle.FC) { f.RefuseArm("PreArm: Need 3D Fix") })
	require.NoError(t, v.Arm())
	eventually(t, "the arm refused", func() bool { return strings.Contains(v.c.Telemetry().PreArm, "Need 3D Fix") })
	assert.False(t, v.State().Armed)
	fc.Do(func(f *vehicle.FC) { f.RefuseArm("") })
	eventually(t, "armed on a later attempt", func() bool { return v.State().Armed })
	target := sh.Drones[1].Home
	target.Z += 5
	eventually(t, "airborne at the setpoint", func() bool {
		require.NoError(t, v.Follow(target, show.Vec3{}))
		st := v.State()
		return st.Airborne && st.Position.Sub(target).Norm() < 1
	})
	require.NoError(t, v.SetColour(show.RGB{R: 255}))
	eventually(t, "the light set", func() bool {
		var rgb [3]uint8
		fc.Do(func(f *vehicle.FC) { rgb, _ = f.Light() })
		return rgb == [3]uint8{255, 0, 0}
	})

	// A hold, then the show resumes: back to GUIDED, on to the next
	// setpoint.
	require.NoError(t, v.Hold())
	eventually(t, "holding", func() bool { return v.c.Telemetry().Mode == autopilot.ModeHold })
	next := target
	next.X += 3
	eventually(t, "at the next setpoint", func() bool {
		require.NoError(t, v.Follow(next, show.Vec3{}))
		st := v.State()
		return v.c.Telemetry().Mode == autopilot.ModeGuided && st.Position.Sub(next).Norm() < 1
	})
	eventually(t, "landed", func() bool { _ = v.Land(); return !v.State().Airborne })
	assert.InDelta(t, next.X, v.State().Position.X, 1.5, "landed where it was")
	assert.InDelta(t, next.Y, v.State().Position.Y, 1.5)
	assert.InDelta(t, sh.Drones[1].Home.Z, v.State().Position.Z, 0.5)
}
