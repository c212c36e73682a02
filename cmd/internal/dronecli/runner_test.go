package dronecli

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
	"github.com/skyquorum/skyquorum/firmware/config"
	"github.com/skyquorum/skyquorum/firmware/runner"
	"github.com/skyquorum/skyquorum/sitl/vehicle"
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
failsafe: {on_stop: hold, low_battery_below: 22}
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
	assert.Equal(t, 22.0, rc.LowBattery)
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
