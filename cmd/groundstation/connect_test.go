package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/cmd/groundstation/operate"
	"github.com/skyquorum/skyquorum/cmd/groundstation/web"
	"github.com/skyquorum/skyquorum/sitl/hub"
	"github.com/skyquorum/skyquorum/sitl/live"
	"github.com/skyquorum/skyquorum/swarm/show/demo"
)

func TestOperateUsage(t *testing.T) {
	key := filepath.Join(t.TempDir(), "swarm.key")
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"connect", "--key", key, "--members", "1-3"}, "give the radio: --serial DEVICE, or --udp ADDR with --peer ADDR"},
		{[]string{"connect", "--serial", "/dev/null", "--udp", ":0", "--key", key, "--members", "1"}, "--serial and --udp: give one radio"},
		{[]string{"connect", "--udp", ":0", "--key", key, "--members", "1"}, "--udp needs --peer ADDR"},
		{[]string{"connect", "--serial", "/dev/null", "--hub", "--key", key, "--members", "1"}, "--peer and --hub go with --udp"},
		{[]string{"connect", "--serial", "/dev/null", "--members", "1"}, "--key FILE is required"},
		{[]string{"connect", "--serial", "/dev/null", "--key", key}, "--members LIST is required"},
		{[]string{"connect", "--serial", "/dev/null", "--key", key, "--members", "3-1"}, `--members: "3-1" is not an ID`},
		{[]string{"connect", "--serial", "/dev/null", "--key", key, "--members", "1-300"}, "--members: drone 251 is not in network 0"},
		{[]string{"connect", "--serial", "/dev/null", "--key", key, "--members", "1", "--network", "256"}, "--network 256: give 0 to 255"},
		{[]string{"connect", "--serial", "/dev/null", "--key", key, "--members", "1", "--baud", "300"}, "--baud 300"},
		{[]string{"connect", "--serial", "/dev/null", "--key", key, "--members", "1", "--show", "s.sqshow"}, "--show goes with --http"},
		{[]string{"status", "extra"}, `unexpected argument "extra"`},
		{[]string{"status", "--jsn"}, "flag provided but not defined: -jsn"},
		{[]string{"command"}, "give a command: arm, takeoff ALT"},
		{[]string{"command", "jump"}, "JUMP is not a command"},
		{[]string{"command", "takeoff"}, "expected TAKEOFF <metres>"},
		{[]string{"command", "lights", "300", "0", "0"}, `"300" is not a number from 0 to 255`},
		{[]string{"command", "hold", "--at", "+1s"}, "--at: hold is an emergency command"},
		{[]string{"command", "start", "--emergency"}, "--emergency: only land, return and hold"},
		{[]string{"command", "arm", "--emergency"}, "--emergency: only land, return and hold"},
		{[]string{"command", "pause"}, "pause needs --at"},
		{[]string{"command", "start", "--at", "10s"}, `--at: at "10s": give an offset such as +10s`},
		{[]string{"command", "start", "12"}, "start takes its swarm time from --at"},
		{[]string{"command", "arm", "--at", "+1s"}, "--at: only start, pause and resume"},
		{[]string{"command", "arm", "--timeout", "-1s"}, "--timeout -1s: give a positive duration"},
		{[]string{"command", "arm", "--show", "x.sqshow"}, "--show goes with load"},
		{[]string{"command", "load", "1", "--show", "/nonexistent.sqshow"}, "--show: open /nonexistent.sqshow"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		assert.Equal(t, exitUsage, code, "%v", tc.args)
		assert.Contains(t, stderr.String(), tc.msg, "%v", tc.args)
		assert.Contains(t, stderr.String(), "Usage: groundstation "+tc.args[0], "%v", tc.args)
		assert.Empty(t, stdout.String(), "%v", tc.args)
	}
	for _, name := range []string{"connect", "status", "command"} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, exitOK, run([]string{name, "--help"}, &stdout, &stderr), name)
		assert.Contains(t, stdout.String(), "Usage: groundstation "+name, name)
		assert.Empty(t, stderr.String(), name)
	}
	// No connect process behind the socket: exit 1, saying what to do.
	sock := filepath.Join(t.TempDir(), "none.sock")
	// Flags go anywhere among the command's words.
	for _, args := range [][]string{{"status", "--socket", sock}, {"command", "arm", "--socket", sock},
		{"command", "lights", "1", "--socket", sock, "2", "3"}, {"command", "--socket", sock, "--", "lights", "1", "2", "3"}} {
		var stdout, stderr bytes.Buffer
		assert.Equal(t, exitFail, run(args, &stdout, &stderr), "%v", args)
		assert.Contains(t, stderr.String(), "no groundstation connect is running on "+sock+": start one with groundstation connect", "%v", args)
	}
}

// lockedBuffer is a buffer a process writes while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// A live swarm of four drone processes on a radio hub: groundstation
// connect joins the hub over UDP, status shows every drone and the
// leader, so does a second connect on a serial radio, an ARM is not sent
// since no drone holds a show (exit 1, naming them), a LIGHTS is applied
// by all four (exit 0), an emergency HOLD is
// acknowledged by all four (exit 0), and a command sent
// right after a drone is killed fails within its short timeout naming
// that drone (exit 1). Ctrl-C stops connect with exit 130 and removes
// its socket.
func TestConnectEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("runs drone processes")
	}
	const drones = 4
	bin := buildGroundstation(t)
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := hub.Start(hub.Config{Baud: 57600, Seed: 1, Logger: quiet})
	require.NoError(t, err)
	defer h.Close()
	sw, err := live.Start(live.Config{Drones: drones, Program: []string{bin, "drone"}, Dir: t.TempDir(), Seed: 1,
		HubAddr: func(int) string { return h.Addr(1) }, Logger: quiet})
	require.NoError(t, err)
	defer sw.Stop()

	sock := filepath.Join(t.TempDir(), "gs.sock")
	var out, errOut lockedBuffer
	conn := exec.Command(bin, "connect", "--udp", "127.0.0.1:0", "--peer", h.Addr(1), "--hub",
		"--key", sw.KeyFile(), "--members", fmt.Sprintf("1-%d", drones), "--socket", sock, "--http", "127.0.0.1:0")
	conn.Stdout, conn.Stderr = &out, &errOut
	require.NoError(t, conn.Start())
	defer conn.Process.Kill()

	status := func() (operate.Status, bool) {
		var stdout, stderr bytes.Buffer
		if run([]string{"status", "--json", "--socket", sock}, &stdout, &stderr) != exitOK {
			return operate.Status{}, false
		}
		var st operate.Status
		require.NoError(t, json.Unmarshal(stdout.Bytes(), &st))
		return st, true
	}
	// Drones without state listen 20 s for a running swarm, then elect.
	var st operate.Status
	require.Eventually(t, func() bool {
		var ok bool
		st, ok = status()
		if !ok || st.Leader == 0 || !st.TimeSynced || len(st.Drones) != drones {
			return false
		}
		for _, d := range st.Drones {
			if !d.Live || d.Follows != st.Leader {
				return false
			}
		}
		return true
	}, 90*time.Second, 250*time.Millisecond, "a leader every drone follows; connect printed:\n%s\n%s", &out, &errOut)
	leader := st.Leader
	// connect prints its progress lines on its own tick, which may come
	// just after the status that shows the same facts.
	assert.Eventually(t, func() bool {
		return strings.Contains(out.String(), fmt.Sprintf("leader %d (term", leader)) &&
			strings.Contains(out.String(), "swarm time synced with leader")
	}, 5*time.Second, 100*time.Millisecond, "connect printed the leader and the swarm time; it printed:\n%s", &out)
	for id := 1; id <= drones; id++ {
		assert.Contains(t, out.String(), fmt.Sprintf("drone %d reporting", id))
	}
	// Its dashboard shows the same picture.
	dashURL := regexp.MustCompile(`dashboard: (http://127\.0\.0\.1:[0-9]+/)\n`).FindStringSubmatch(out.String())
	require.NotNil(t, dashURL, "connect printed no dashboard address:\n%s", &out)
	resp, err := http.Get(dashURL[1] + "api/snapshot")
	require.NoError(t, err)
	var dash web.Snapshot
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&dash))
	resp.Body.Close()
	require.Len(t, dash.Drones, drones)
	assert.Equal(t, []uint16{leader}, dash.Leaders)
	for _, d := range dash.Drones {
		assert.True(t, d.Reported, "drone %d on the dashboard: %+v", d.ID, d)
		assert.Equal(t, d.ID == leader, d.Leader, "drone %d's leader mark", d.ID)
	}

	// A second ground station, on a serial radio (a pseudo-terminal the
	// hub serves), with its own vehicle and link IDs and socket, sees
	// the same leader and every drone.
	dev, err := h.Serial(1)
	require.NoError(t, err)
	sock2 := filepath.Join(t.TempDir(), "gs2.sock")
	var out2, errOut2 lockedBuffer
	conn2 := exec.Command(bin, "connect", "--serial", dev, "--baud", "57600", "--issuer", "65001", "--link-id", "2",
		"--key", sw.KeyFile(), "--members", fmt.Sprintf("1-%d", drones), "--socket", sock2)
	conn2.Stdout, conn2.Stderr = &out2, &errOut2
	require.NoError(t, conn2.Start())
	defer conn2.Process.Kill()
	require.Eventually(t, func() bool {
		var stdout, stderr bytes.Buffer
		if run([]string{"status", "--json", "--socket", sock2}, &stdout, &stderr) != exitOK {
			return false
		}
		var st2 operate.Status
		require.NoError(t, json.Unmarshal(stdout.Bytes(), &st2))
		return st2.Leader == leader && len(st2.Drones) == drones && st2.Ready() == drones
	}, 20*time.Second, 250*time.Millisecond, "the serial station sees leader %d and every drone; it printed:\n%s\n%s", leader, &out2, &errOut2)
	require.NoError(t, conn2.Process.Signal(syscall.SIGINT))
	require.Error(t, conn2.Wait())
	assert.Equal(t, exitInterrupted, conn2.ProcessState.ExitCode(), "stderr:\n%s", &errOut2)

	var stdout, stderr bytes.Buffer
	require.Equal(t, exitOK, run([]string{"status", "--socket", sock}, &stdout, &stderr), stderr.String())
	table := stdout.String()
	t.Logf("status:\n%s", table)
	assert.Contains(t, table, fmt.Sprintf("network 0: leader %d", leader))
	for id := 1; id <= drones; id++ {
		mark := ""
		if uint16(id) == leader {
			mark = `\*\s+`
		}
		assert.Regexp(t, regexp.MustCompile(fmt.Sprintf(`(?m)^%d\s+standby\s+%s\d+%%`, id, mark)), table)
	}

	// No drone holds a show: an ARM is not sent, and says why.
	stdout.Reset()
	stderr.Reset()
	code := run([]string{"command", "arm", "--socket", sock, "--timeout", "1s"}, &stdout, &stderr)
	t.Logf("command arm: %s%s", &stdout, &stderr)
	require.Equal(t, exitFail, code, stderr.String())
	assert.Contains(t, stdout.String(), "ARM not sent: drones 1 2 3 4 lack the show")
	assert.Contains(t, stderr.String(), "4 live drones lack the loaded show: 1 (holds none), 2 (holds none)")

	stdout.Reset()
	stderr.Reset()
	code = run([]string{"command", "lights", "0", "0", "255", "--socket", sock, "--timeout", "20s"}, &stdout, &stderr)
	t.Logf("command lights: %s%s", &stdout, &stderr)
	require.Equal(t, exitOK, code, stderr.String())
	assert.Regexp(t, `LIGHTS #0000ff committed at index \d+ by leader \d+`, stdout.String())
	assert.Contains(t, stdout.String(), fmt.Sprintf("applied by %d of %d drones", drones, drones))

	// An emergency HOLD goes to every drone at once; all acknowledge it.
	stdout.Reset()
	stderr.Reset()
	code = run([]string{"command", "hold", "--socket", sock, "--timeout", "20s"}, &stdout, &stderr)
	t.Logf("command hold: %s%s", &stdout, &stderr)
	require.Equal(t, exitOK, code, stderr.String())
	assert.Regexp(t, `emergency HOLD \(id \d+\) sent to every drone`, stdout.String())
	assert.Contains(t, stdout.String(), fmt.Sprintf("acknowledged by %d of %d drones", drones, drones))

	// connect prints a command's outcome after it answered the command.
	for _, re := range []string{`  LIGHTS #0000ff committed at index \d+ by leader \d+ \(term \d+\); applied by 4 of 4 drones`,
		`  emergency HOLD \(id \d+\) sent to every drone; acknowledged by 4 of 4 drones`} {
		assert.Eventually(t, func() bool { return regexp.MustCompile(re).MatchString(out.String()) },
			5*time.Second, 50*time.Millisecond, "connect printed %s; it printed:\n%s", re, &out)
	}

	// A follower dies; a command with a short timeout names it.
	victim := uint16(1)
	if victim == leader {
		victim = 2
	}
	require.NoError(t, sw.Kill(victim))
	stdout.Reset()
	stderr.Reset()
	code = run([]string{"command", "lights", "255", "0", "0", "--socket", sock, "--timeout", "2s"}, &stdout, &stderr)
	t.Logf("command lights: %s%s", &stdout, &stderr)
	assert.Equal(t, exitFail, code)
	assert.Regexp(t, fmt.Sprintf(`LIGHTS #ff0000 not applied by every drone within the timeout: \d applied; .*(pending|silent) \([^)]*\): ([0-9 ]* )?%d\b`, victim),
		stderr.String())

	require.NoError(t, conn.Process.Signal(syscall.SIGINT))
	err = conn.Wait()
	t.Logf("connect printed:\n%s%s", &out, &errOut)
	require.Error(t, err)
	assert.Equal(t, exitInterrupted, conn.ProcessState.ExitCode(), "stderr:\n%s", &errOut)
	assert.Contains(t, errOut.String(), "connect: interrupted")
	_, err = os.Stat(sock)
	assert.True(t, os.IsNotExist(err), "socket left behind: %v", err)
	assert.False(t, strings.Contains(errOut.String(), "panic"), errOut.String())
}

// The operator's words become the socket's requests.
func TestCommandRequest(t *testing.T) {
	for _, tc := range []struct {
		words []string
		at    string
		emerg bool
		want  operate.Request
	}{
		{[]string{"arm"}, "", false, operate.Request{Op: operate.OpCommand, Command: "ARM"}},
		{[]string{"Takeoff", "2.5"}, "", false, operate.Request{Op: operate.OpCommand, Command: "TAKEOFF 2.5"}},
		{[]string{"lights", "#ff0080"}, "", false, operate.Request{Op: operate.OpCommand, Command: "LIGHTS #ff0080"}},
		{[]string{"start"}, "", false, operate.Request{Op: operate.OpCommand, Command: "START", At: "+10s"}},
		{[]string{"resume"}, "+3s", false, operate.Request{Op: operate.OpCommand, Command: "RESUME", At: "+3s"}},
		{[]string{"land"}, "", false, operate.Request{Op: operate.OpCommand, Command: "LAND"}},
		{[]string{"land"}, "", true, operate.Request{Op: operate.OpEmergency, Command: "LAND"}},
		{[]string{"return"}, "", true, operate.Request{Op: operate.OpEmergency, Command: "RETURN"}},
		{[]string{"hold"}, "", false, operate.Request{Op: operate.OpEmergency, Command: "HOLD"}},
		{[]string{"hold"}, "", true, operate.Request{Op: operate.OpEmergency, Command: "HOLD"}},
	} {
		got, err := commandRequest(tc.words, tc.at, tc.emerg)
		require.NoError(t, err, "%v", tc.words)
		assert.Equal(t, tc.want, got, "%v", tc.words)
	}
}

// load --show FILE names the show's digest, as show info prints it.
func TestCommandLoadShow(t *testing.T) {
	dir := t.TempDir()
	sh, err := demo.New(3)
	require.NoError(t, err)
	b, err := sh.Encode()
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "s.sqshow"), b, 0o644))
	var stdout, stderr bytes.Buffer
	require.Equal(t, exitOK, run([]string{"show", "info", "--json", filepath.Join(dir, "s.sqshow")}, &stdout, &stderr), stderr.String())
	var info struct{ Digest string }
	require.NoError(t, json.Unmarshal(stdout.Bytes(), &info))
	got, err := showDigest(filepath.Join(dir, "s.sqshow"))
	require.NoError(t, err)
	assert.Equal(t, info.Digest, got)
	assert.Regexp(t, `^0x[0-9a-f]{16}$`, got)
}

// connect keeps the state of a show upload beside its socket unless told
// where, or told not to.
func TestUploadStatePath(t *testing.T) {
	assert.Equal(t, "/run/user/1/gs.sock.upload", uploadStatePath(connectFlags{socket: "/run/user/1/gs.sock"}))
	assert.Equal(t, "/var/lib/gs/upload", uploadStatePath(connectFlags{socket: "/run/user/1/gs.sock", uploadState: "/var/lib/gs/upload"}))
	assert.Equal(t, "", uploadStatePath(connectFlags{socket: "/run/user/1/gs.sock", uploadState: "off"}))
}
