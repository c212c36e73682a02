package dronecli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/firmware/config"
	"github.com/skyquorum/skyquorum/radio/wire"
	"github.com/skyquorum/skyquorum/sitl/hub"
	"github.com/skyquorum/skyquorum/sitl/vehicle"
	"github.com/skyquorum/skyquorum/swarm/show/demo"
)

// runCmd runs one command line in process.
func runCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

// air is a UDP socket standing for the radio channel: test configs send
// every frame to it.
type air struct{ conn net.PacketConn }

func newAir(t *testing.T) *air {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	return &air{conn: c}
}

func (a *air) addr() string { return a.conn.LocalAddr().String() }

// assertSilent checks that nothing was sent on air.
func (a *air) assertSilent(t *testing.T) {
	t.Helper()
	require.NoError(t, a.conn.SetReadDeadline(time.Now().Add(200*time.Millisecond)))
	buf := make([]byte, 512)
	n, _, err := a.conn.ReadFrom(buf)
	var ne net.Error
	require.True(t, errors.As(err, &ne) && ne.Timeout(), "expected silence on air, got %d bytes (err %v)", n, err)
}

// setup is a drone's directory: a key, a state directory to be, and a
// config whose radio sends to air.
type setup struct {
	dir, key, state, config string
	air                     *air
}

func newSetup(t *testing.T) *setup {
	t.Helper()
	dir := t.TempDir()
	s := &setup{dir: dir, key: filepath.Join(dir, "swarm.key"), state: filepath.Join(dir, "state"), config: filepath.Join(dir, "drone.yaml"), air: newAir(t)}
	k, err := wire.GenerateKey(nil)
	require.NoError(t, err)
	require.NoError(t, wire.WriteKeyFile(s.key, k))
	s.write(t, s.yaml())
	return s
}

// yaml is a valid config, radio and flight controller on UDP.
func (s *setup) yaml() string {
	return fmt.Sprintf(`id: 3
members: 1-5
radio:
  udp:
    listen: 127.0.0.1:0
    peers: [%s]
flight_controller:
  udp: 127.0.0.1:14551
key_file: swarm.key
state_dir: state
log:
  format: json
`, s.air.addr())
}

func (s *setup) write(t *testing.T, content string) {
	t.Helper()
	require.NoError(t, os.WriteFile(s.config, []byte(content), 0o644))
}

// stubRunner replaces startRunner for the test and returns what it was
// given.
func stubRunner(t *testing.T) *[]*drone {
	var got []*drone
	old := startRunner
	startRunner = func(_ context.Context, d *drone) error {
		got = append(got, d)
		return nil
	}
	t.Cleanup(func() { startRunner = old })
	return &got
}

func TestRunFailsBeforeAnythingGoesOnAir(t *testing.T) {
	for _, tc := range []struct {
		name string
		edit func(t *testing.T, s *setup) // breaks the setup
		want []string                     // in the one error line
	}{
		{"missing config file", func(t *testing.T, s *setup) { require.NoError(t, os.Remove(s.config)) },
			[]string{"drone.yaml: no such file or directory"}},
		{"bad YAML", func(t *testing.T, s *setup) {
			s.write(t, strings.Replace(s.yaml(), "members: 1-5", "members: [1-5", 1))
		}, []string{"drone.yaml:", "not valid YAML"}},
		{"unknown field", func(t *testing.T, s *setup) {
			s.write(t, strings.Replace(s.yaml(), "key_file:", "keyfile:", 1))
		}, []string{"drone.yaml:9: keyfile: unknown field; did you mean key_file? The fields of the file's top level are id, network, members, radio, flight_controller, key_file"}},
		{"bad baud", func(t *testing.T, s *setup) {
			s.write(t, strings.Replace(s.yaml(), "  udp: 127.0.0.1:14551", "  serial: /dev/ttyAMA0\n  baud: 57000", 1))
		}, []string{"drone.yaml:9: flight_controller.baud: 57000 is not a standard serial rate: write one of 9600"}},
		{"id not a member", func(t *testing.T, s *setup) {
			s.write(t, strings.Replace(s.yaml(), "members: 1-5", "members: [1, 2, 4]", 1))
		}, []string{"drone.yaml:2: members: does not include this drone's id 3: add it"}},
		{"missing key file", func(t *testing.T, s *setup) { require.NoError(t, os.Remove(s.key)) },
			[]string{"key_file ", "swarm.key: no such file or directory", "groundstation keygen"}},
		{"key file of the wrong size", func(t *testing.T, s *setup) {
			require.NoError(t, os.Remove(s.key))
			require.NoError(t, os.WriteFile(s.key, []byte("0123456789"), 0o600))
		}, []string{"key_file ", "a swarm key is 64 hexadecimal digits or 32 bytes, got 10 bytes"}},
		{"key file others may read", func(t *testing.T, s *setup) { require.NoError(t, os.Chmod(s.key, 0o644)) },
			[]string{"has mode -rw-r--r--: run chmod 600"}},
		{"state directory not writable", func(t *testing.T, s *setup) {
			require.NoError(t, os.WriteFile(filepath.Join(s.dir, "file"), nil, 0o644))
			s.write(t, strings.Replace(s.yaml(), "state_dir: state", "state_dir: file/state", 1))
		}, []string{"state_dir ", "file/state", "not a directory", "set state_dir to a writable directory"}},
		{"serial radio that does not exist", func(t *testing.T, s *setup) {
			y := s.yaml()
			i, j := strings.Index(y, "  udp:\n"), strings.Index(y, "flight_controller:")
			s.write(t, y[:i]+"  serial: /dev/ttyNOSUCHRADIO0\n  baud: 57600\n"+y[j:])
		}, []string{"radio.serial: device /dev/ttyNOSUCHRADIO0 does not exist: is the radio plugged in"}},
		{"show file that is not a show", func(t *testing.T, s *setup) {
			require.NoError(t, os.WriteFile(filepath.Join(s.dir, "show.sqshow"), []byte("not a show"), 0o644))
			s.write(t, s.yaml()+"show: show.sqshow\n")
		}, []string{"show ", "show.sqshow: show: bad encoding", "(write it with groundstation show import)"}},
		{"show without a part for the drone", func(t *testing.T, s *setup) {
			writeDemoShow(t, filepath.Join(s.dir, "show.sqshow"), 2)
			s.write(t, s.yaml()+"show: show.sqshow\n")
		}, []string{"show.sqshow has 2 drones: drone 3 has no part in it"}},
		{"UDP address in use", func(t *testing.T, s *setup) {
			s.write(t, strings.Replace(s.yaml(), "listen: 127.0.0.1:0", "listen: "+s.air.addr(), 1))
		}, []string{"radio.udp: link: listen on 127.0.0.1:", "address already in use"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ran := stubRunner(t)
			s := newSetup(t)
			tc.edit(t, s)
			code, out, errOut := runCmd("run", "--config", s.config)
			assert.Equal(t, exitFail, code)
			assert.Empty(t, out)
			lines := strings.Split(strings.TrimSpace(errOut), "\n")
			require.Len(t, lines, 1, "one error: %s", errOut)
			assert.True(t, strings.HasPrefix(lines[0], "drone run: "), lines[0])
			for _, w := range tc.want {
				assert.Contains(t, lines[0], w)
			}
			assert.Empty(t, *ran, "the runner was not started")
			s.air.assertSilent(t)
		})
	}
}

// writeDemoShow writes the demo show for n drones to path.
func writeDemoShow(t *testing.T, path string, n int) {
	t.Helper()
	sh, err := demo.New(n)
	require.NoError(t, err)
	b, err := sh.Encode()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

func TestRunReachesTheRunner(t *testing.T) {
	ran := stubRunner(t)
	s := newSetup(t)
	writeDemoShow(t, filepath.Join(s.dir, "show.sqshow"), 5)
	s.write(t, s.yaml()+"show: show.sqshow\n")
	code, out, errOut := runCmd("run", "--config", s.config)
	require.Equal(t, exitOK, code, errOut)
	assert.Empty(t, out)
	require.Len(t, *ran, 1)
	d := (*ran)[0]
	want, err := wire.LoadKeyFile(s.key)
	require.NoError(t, err)
	assert.Equal(t, want, d.key)
	assert.Equal(t, s.state, d.stateDir)
	assert.Equal(t, uint8(3), d.cfg.SystemID())
	require.NotNil(t, d.show)
	assert.Len(t, d.show.Drones, 5)
	assert.True(t, strings.HasPrefix(d.link.Info().Name, "udp:127.0.0.1:"), d.link.Info().Name)
	st, err := os.Stat(s.state)
	require.NoError(t, err, "the state directory is created")
	assert.True(t, st.IsDir())
	assert.Contains(t, errOut, `"msg":"drone ready"`, "JSON logs")
	assert.Contains(t, errOut, `"system_id":3`)
	s.air.assertSilent(t)
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"help"}, {"-h"}, {"run", "--help"}, {"check", "-h"}, {"sitl", "--help"}, {"version", "--help"}} {
		code, out, errOut := runCmd(args...)
		assert.Equal(t, exitOK, code, "%v", args)
		assert.Regexp(t, `Usage:\s+drone`, out, "%v", args)
		assert.Empty(t, errOut, "%v", args)
	}
	_, out, _ := runCmd("run", "--help")
	assert.Contains(t, out, "-config FILE")
	_, out, _ = runCmd("sitl", "--help")
	assert.Contains(t, out, "-clock-drift PPM")
	assert.Contains(t, out, "-serial DEV")
	assert.Contains(t, out, "-baud B")
}

func TestBadUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{nil, "Usage:"},
		{[]string{"fly"}, `drone: unknown command "fly"`},
		{[]string{"run"}, "drone run: --config FILE is required"},
		{[]string{"check"}, "drone check: --config FILE is required"},
		{[]string{"run", "--bogus"}, "flag provided but not defined: -bogus"},
		{[]string{"run", "--config"}, "flag needs an argument: -config"},
		{[]string{"run", "--config", "a.yaml", "extra"}, `drone run: unexpected argument "extra"`},
		{[]string{"version", "now"}, `drone version: unexpected argument "now"`},
		{[]string{"sitl", "--hub", "127.0.0.1:1", "--key", "k"}, "drone sitl: --id N is required"},
		{[]string{"sitl", "--id", "2", "--key", "k"}, "drone sitl: --hub ADDR or --serial DEV is required"},
		{[]string{"sitl", "--id", "2", "--key", "k", "--hub", "h:1", "--serial", "/dev/ttyUSB0"}, "drone sitl: --hub ADDR and --serial DEV: give one of them"},
		{[]string{"sitl", "--id", "2", "--key", "k", "--hub", "h:1", "--baud", "9600"}, "drone sitl: --baud applies to a serial radio: give --serial DEV too, or leave --baud out"},
		{[]string{"sitl", "--id", "2", "--key", "k", "--serial", "/dev/ttyUSB0", "--listen", "127.0.0.1:0"}, "drone sitl: --listen applies to a UDP radio"},
		{[]string{"sitl", "--id", "2", "--key", "k", "--serial", "/dev/ttyUSB0", "--baud", "fast"}, `invalid value "fast" for flag -baud`},
		{[]string{"sitl", "--id", "2", "--hub", "127.0.0.1:1"}, "drone sitl: --key FILE is required"},
		{[]string{"sitl", "--id", "70000", "--hub", "h:1", "--key", "k"}, "--id 70000: a vehicle ID is 1–65534"},
		{[]string{"sitl", "--id", "2", "--hub", "h:1", "--key", "k", "--members", "1-x"}, `--members: "1-x" is not an ID or a range`},
		{[]string{"sitl", "--id", "2", "--hub", "h:1", "--key", "k", "--clock-drift", "abc"}, `invalid value "abc" for flag -clock-drift`},
	} {
		code, out, errOut := runCmd(tc.args...)
		assert.Equal(t, exitUsage, code, "%v", tc.args)
		assert.Empty(t, out, "%v", tc.args)
		assert.Contains(t, errOut, tc.want, "%v", tc.args)
	}
}

func TestCheck(t *testing.T) {
	s := newSetup(t)
	// A simulated flight controller standing at drone 3's show home.
	writeDemoShow(t, filepath.Join(s.dir, "show.sqshow"), 5)
	sh, err := loadShow(filepath.Join(s.dir, "show.sqshow"), 3)
	require.NoError(t, err)
	home := showHome(sh, 3)
	fc, err := vehicle.ServeFC(vehicle.FCServerConfig{FC: vehicle.FCConfig{Autopilot: vehicle.ArduPilot, SystemID: 3, Lat: home[0], Lon: home[1], AMSL: 488}})
	require.NoError(t, err)
	defer fc.Close()
	withFC := strings.Replace(s.yaml(), "udp: 127.0.0.1:14551", "udp: "+fc.Addr(), 1)
	s.write(t, withFC+"show: show.sqshow\n")
	code, out, errOut := runCmd("check", "--config", s.config, "--fc-wait", "30s")
	require.Equal(t, exitOK, code, out+errOut)
	t.Logf("drone check:\n%s", out)
	assert.Regexp(t, `(?m)^ok    config +.*drone.yaml: drone 3, network 0, system ID 3, 5 members$`, out)
	assert.Regexp(t, `(?m)^ok    key_file `, out)
	assert.Regexp(t, `(?m)^ok    state_dir +.*state: writable$`, out)
	assert.Regexp(t, `(?m)^ok    show +.*show.sqshow: 5 drones, this one's part is drone 3's$`, out)
	assert.Regexp(t, `(?m)^ok    radio +udp:127.0.0.1:\d+: opens$`, out)
	assert.Regexp(t, `(?m)^ok    flight_controller +udp 127.0.0.1:\d+ resolves$`, out)
	assert.Regexp(t, `(?m)^ok    preflight/autopilot +ArduPilot, mode `, out)
	for _, c := range []string{"link", "gps-fix", "satellites", "battery", "armable", "ekf"} {
		assert.Regexp(t, `(?m)^ok    preflight/`+c+` `, out)
	}
	assert.Regexp(t, `(?m)^ok    preflight/home-distance +0.\d\d m from its show home, want 3.0 m at most$`, out)
	s.air.assertSilent(t)

	// Without a show, the distance to the show home is not checked.
	s.write(t, withFC)
	code, out, errOut = runCmd("check", "--config", s.config, "--fc-wait", "30s")
	require.Equal(t, exitOK, code, out+errOut)
	assert.Regexp(t, `(?m)^skip  show +no show file in the config$`, out)
	assert.Regexp(t, `(?m)^skip  preflight/home-distance +needs the show's home: no show file in the config$`, out)

	// No flight controller answers.
	s.write(t, s.yaml())
	code, out, _ = runCmd("check", "--config", s.config, "--fc-wait", "300ms")
	assert.Equal(t, exitFail, code)
	assert.Regexp(t, `(?m)^FAIL  preflight +no HEARTBEAT from an ArduPilot or PX4 flight controller within 300ms: is it powered`, out)
	code, out, _ = runCmd("check", "--config", s.config, "--no-preflight")
	assert.Equal(t, exitOK, code, out)
	assert.Regexp(t, `(?m)^skip  preflight +--no-preflight$`, out)

	// A failed check fails the command, and the other checks still run.
	require.NoError(t, os.Remove(s.key))
	s.write(t, strings.Replace(s.yaml(), "  udp: 127.0.0.1:14551", "  serial: /dev/ttyNOSUCHFC0", 1))
	code, out, _ = runCmd("check", "--config", s.config)
	assert.Equal(t, exitFail, code)
	assert.Regexp(t, `(?m)^FAIL  key_file +wire: swarm key: .*swarm.key: no such file or directory \(create one with .groundstation keygen.\)$`, out)
	assert.Regexp(t, `(?m)^ok    radio `, out)
	assert.Regexp(t, `(?m)^FAIL  flight_controller +flight_controller.serial: device /dev/ttyNOSUCHFC0 does not exist`, out)
	assert.Regexp(t, `(?m)^skip  preflight +the flight controller's port does not open$`, out)
	s.air.assertSilent(t)

	s.write(t, "id: 3\nmembers: 1-5\nradio: {serial: /dev/x, baud: 12}\n")
	code, out, _ = runCmd("check", "--config", s.config)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, out, "FAIL  config")
	assert.Contains(t, out, "drone.yaml:3: radio.baud: 12 is not a standard serial rate")
	assert.Contains(t, out, "flight_controller: missing")
}

func TestSITL(t *testing.T) {
	ran := stubRunner(t)
	s := newSetup(t)
	code, _, errOut := runCmd("sitl", "--id", "4", "--hub", s.air.addr(), "--key", s.key, "--members", "1-3,4,7-8",
		"--state", s.state, "--clock-offset", "250", "--clock-drift", "-100", "--log-format", "json")
	require.Equal(t, exitOK, code, errOut)
	require.Len(t, *ran, 1)
	d := (*ran)[0]
	assert.Equal(t, []uint16{1, 2, 3, 4, 7, 8}, d.cfg.Members)
	assert.Regexp(t, `^127\.0\.0\.1:\d+$`, d.cfg.FlightController.UDP, "a simulated flight controller in process")
	assert.NotEqual(t, "127.0.0.1:1", d.cfg.FlightController.UDP, "its real address, not the stand-in the checks saw")
	require.NotNil(t, d.clock)
	assert.InDelta(t, 250*time.Millisecond, d.clock.offset, 0)
	assert.InDelta(t, 1-100e-6, d.clock.rate, 1e-12)
	assert.Contains(t, errOut, `"clock_drift_ppm":-100`)
	s.air.assertSilent(t)

	code, _, errOut = runCmd("sitl", "--id", "12", "--hub", s.air.addr(), "--key", s.key, "--state", s.state)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "drone sitl: members: does not include this drone's id 12: add it")
}

// TestSITLSerial runs drone sitl on a radio hub's pseudo-terminal, and
// checks what a wrong device or rate says.
func TestSITLSerial(t *testing.T) {
	ran := stubRunner(t)
	s := newSetup(t)
	h, err := hub.Start(hub.Config{Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	defer h.Close()
	dev, err := h.Serial(1)
	require.NoError(t, err)
	code, _, errOut := runCmd("sitl", "--id", "4", "--serial", dev, "--baud", "115200", "--key", s.key, "--state", s.state)
	require.Equal(t, exitOK, code, errOut)
	require.Len(t, *ran, 1)
	d := (*ran)[0]
	assert.Equal(t, config.Radio{Serial: dev, Baud: 115200}, d.cfg.Radio)
	assert.Equal(t, "serial:"+dev, d.link.Info().Name)
	assert.True(t, d.link.Info().LocalRadio)

	code, _, errOut = runCmd("sitl", "--id", "4", "--serial", dev, "--key", s.key, "--state", s.state)
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, config.DefaultRadioBaud, (*ran)[1].cfg.Radio.Baud)

	code, _, errOut = runCmd("sitl", "--id", "4", "--hub", h.Addr(1), "--key", s.key, "--state", s.state)
	require.Equal(t, exitOK, code, errOut)
	assert.True(t, (*ran)[2].cfg.Radio.UDP.Hub)
	assert.True(t, (*ran)[2].link.Info().LocalRadio, "the hub's RADIO_STATUS paces the drone")

	code, _, errOut = runCmd("sitl", "--id", "4", "--serial", dev, "--baud", "1234", "--key", s.key, "--state", s.state)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "radio.baud: 1234 is not a standard serial rate")

	code, _, errOut = runCmd("sitl", "--id", "4", "--serial", "/dev/ttyNOSUCHRADIO", "--key", s.key, "--state", s.state)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "radio.serial: device /dev/ttyNOSUCHRADIO does not exist")
}

func TestSkewedClock(t *testing.T) {
	start := time.Date(2026, 5, 1, 20, 0, 0, 0, time.UTC)
	c := newSkewedClock(start, 5*time.Millisecond, 100)
	assert.Equal(t, start.Add(5*time.Millisecond), c.at(start))
	// 1000 s later the clock is 100 ms ahead of the offset: 100 ppm.
	assert.Equal(t, start.Add(1000*time.Second+105*time.Millisecond), c.at(start.Add(1000*time.Second)))
	slow := newSkewedClock(start, -time.Second, -50)
	assert.Equal(t, start.Add(2000*time.Second-time.Second-100*time.Millisecond), slow.at(start.Add(2000*time.Second)))
}

func TestVersion(t *testing.T) {
	old := goBuildInfo
	defer func() { goBuildInfo = old }()
	goBuildInfo = func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{Main: debug.Module{Version: "v0.3.0"}, Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123abcd"}, {Key: "vcs.time", Value: "2026-12-01T10:00:00Z"}, {Key: "vcs.modified", Value: "true"}}}, true
	}
	code, out, _ := runCmd("version")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "drone v0.3.0\ncommit 0123abcd (modified)\nbuilt 2026-12-01T10:00:00Z\n")

	// Stamped values win over the build information.
	version, commit, date = "v1.0.0", "fedc9876", "2026-12-06T08:00:00Z"
	defer func() { version, commit, date = "", "", "" }()
	_, out, _ = runCmd("version")
	assert.Contains(t, out, "drone v1.0.0\ncommit fedc9876\nbuilt 2026-12-06T08:00:00Z\n")

	goBuildInfo = func() (*debug.BuildInfo, bool) { return nil, false }
	version, commit, date = "", "", ""
	_, out, _ = runCmd("version")
	assert.Contains(t, out, "drone (devel)\ncommit unknown\nbuilt unknown\n")
}
