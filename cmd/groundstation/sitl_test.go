package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/cmd/groundstation/web"
)

func TestSITLUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		msg  string
	}{
		{[]string{"--drones", "0"}, "--drones 0: give 1 to 250"},
		{[]string{"--drones", "300"}, "--drones 300: give 1 to 250 (250 per network)"},
		{[]string{"--networks", "0"}, "--networks 0: give 1 to 16"},
		{[]string{"--loss", "1"}, "--loss 1: give a probability in [0, 1)"},
		{[]string{"--baud", "300"}, "--baud 300: give a serial rate of at least 1200"},
		{[]string{"--lead", "10ms"}, "--lead 10ms: give at least 1s"},
		{[]string{"extra"}, `unexpected argument "extra"`},
		{[]string{"--no-such-flag"}, "flag provided but not defined: -no-such-flag"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"sitl"}, tc.args...), &stdout, &stderr)
		assert.Equal(t, exitUsage, code, "%v", tc.args)
		assert.Contains(t, stderr.String(), tc.msg, "%v", tc.args)
		assert.Empty(t, stdout.String(), "%v", tc.args)
	}
	var stdout, stderr bytes.Buffer
	assert.Equal(t, exitOK, run([]string{"sitl", "--help"}, &stdout, &stderr))
	assert.Contains(t, stdout.String(), "Usage: groundstation sitl")
	assert.Contains(t, stdout.String(), "-drones N")
}

// buildGroundstation builds this program for tests that run it as a
// process.
func buildGroundstation(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "groundstation")
	out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput()
	require.NoError(t, err, "build: %s", out)
	return bin
}

// processesWith lists the processes whose command line contains s.
func processesWith(s string) []int {
	var out []int
	entries, _ := os.ReadDir("/proc")
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil || pid == os.Getpid() {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "cmdline"))
		if err != nil {
			continue
		}
		if st, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat")); err == nil {
			// A zombie (state Z) has ended; only its parent's wait is due.
			if f := strings.Fields(string(st[bytes.LastIndexByte(st, ')')+1:])); len(f) > 0 && f[0] == "Z" {
				continue
			}
		}
		if strings.Contains(string(b), s) {
			out = append(out, pid)
		}
	}
	return out
}

// Ctrl-C (SIGINT) stops the ground station and every drone process it
// started; so does killing the ground station outright (SIGKILL), which
// it cannot catch: its drones die with it.
func TestSITLLeavesNoOrphans(t *testing.T) {
	if testing.Short() {
		t.Skip("runs drone processes")
	}
	bin := buildGroundstation(t)
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			var stdout, stderr bytes.Buffer
			cmd := exec.Command(bin, "sitl", "--drones", "3", "--dir", dir, "--http", "off")
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			require.NoError(t, cmd.Start())
			defer cmd.Process.Kill()
			// The drones run with their state under dir: wait for all
			// three and their control sockets (they are up).
			require.Eventually(t, func() bool {
				if len(processesWith(dir+"/drone-")) < 3 {
					return false
				}
				for id := 1; id <= 3; id++ {
					b, _ := os.ReadFile(filepath.Join(dir, "drone-"+strconv.Itoa(id)+".log"))
					if !bytes.Contains(b, []byte("control socket")) {
						return false
					}
				}
				return true
			}, 60*time.Second, 100*time.Millisecond, "three drone processes; stdout:\n%s", &stdout)
			require.NoError(t, cmd.Process.Signal(sig))
			err := cmd.Wait()
			if sig == syscall.SIGINT {
				require.Error(t, err)
				assert.Equal(t, exitInterrupted, cmd.ProcessState.ExitCode(), "stderr:\n%s", &stderr)
				assert.Contains(t, stderr.String(), "interrupted; every process it started has ended")
				assert.Empty(t, processesWith(dir+"/drone-"), "drone processes left after Ctrl-C")
				return
			}
			assert.Eventually(t, func() bool { return len(processesWith(dir+"/drone-")) == 0 }, 10*time.Second,
				50*time.Millisecond, "drone processes left after the ground station was killed: %v", processesWith(dir+"/drone-"))
		})
	}
}

// TestSITLFliesTheShow runs groundstation sitl --drones 10 as a user
// would: it flies the demo show to the end, every drone lands, and it
// exits 0 having stopped every drone process. Its dashboard stays up
// until the program exits, and its stream's last event says that the
// show is over and the program has exited.
func TestSITLFliesTheShow(t *testing.T) {
	if testing.Short() {
		t.Skip("flies a 90 s show with ten drone processes")
	}
	bin := buildGroundstation(t)
	dir := t.TempDir()
	var stdout, stderr lockedBuffer
	cmd := exec.Command(bin, "sitl", "--drones", "10", "--dir", dir, "--http", "127.0.0.1:0")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	start := time.Now()
	require.NoError(t, cmd.Start())
	defer cmd.Process.Kill()
	// Mid-show, the dashboard shows every drone flying with its planned
	// position, the leader, and LOAD, ARM and START applied by all ten.
	var dash web.Snapshot
	require.Eventually(t, func() bool {
		m := regexp.MustCompile(`dashboard: (http://\S+)\n`).FindStringSubmatch(stdout.String())
		if m == nil || !strings.Contains(stdout.String(), "show  ") {
			return false
		}
		resp, err := http.Get(m[1] + "api/snapshot")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		dash = web.Snapshot{}
		if json.NewDecoder(resp.Body).Decode(&dash) != nil || !dash.Show.Running || dash.Show.T < 5 {
			return false
		}
		planned := 0
		for _, d := range dash.Drones {
			if d.Planned != nil {
				planned++
			}
		}
		return planned == 10
	}, 120*time.Second, 500*time.Millisecond, "the dashboard never showed ten drones flying with a plan; stdout:\n%s", &stdout)
	// A page's stream, read to its end.
	m := regexp.MustCompile(`dashboard: (http://\S+)\n`).FindStringSubmatch(stdout.String())
	events, err := http.Get(m[1] + "events")
	require.NoError(t, err)
	defer events.Body.Close()
	type streamEnd struct{ end string }
	streamed := make(chan streamEnd, 1)
	go func() {
		var se streamEnd
		sc := bufio.NewScanner(events.Body)
		sc.Buffer(nil, 1<<20)
		inEnd := false
		for sc.Scan() {
			line := sc.Text()
			switch {
			case line == "event: end":
				inEnd = true
			case inEnd && strings.HasPrefix(line, "data: "):
				se.end, inEnd = strings.TrimPrefix(line, "data: "), false
			}
		}
		streamed <- se
	}()
	require.Len(t, dash.Drones, 10)
	require.Len(t, dash.Leaders, 1)
	leaders := 0
	for _, d := range dash.Drones {
		if d.Leader {
			leaders++
			assert.Equal(t, dash.Leaders[0], d.ID)
		}
	}
	assert.Equal(t, 1, leaders, "leader marks")
	require.Len(t, dash.Log, 3)
	for i, c := range []string{"LOAD", "ARM", "START"} {
		assert.True(t, strings.HasPrefix(dash.Log[i].Command, c), "log entry %d: %+v", i, dash.Log[i])
		assert.Equal(t, 10, dash.Log[i].Applied, "log entry %d applied", i)
	}
	err = cmd.Wait()
	t.Logf("groundstation sitl --drones 10: %.1f s\n%s", time.Since(start).Seconds(), &stdout)
	require.NoError(t, err, "stderr:\n%s", &stderr)
	select {
	case se := <-streamed:
		assert.Contains(t, se.end, "every drone has landed; groundstation sitl has exited", "the stream's last event")
	case <-time.After(5 * time.Second):
		t.Error("the dashboard's stream did not end when groundstation sitl exited")
	}
	out := stdout.String()
	assert.Contains(t, out, "every drone has landed")
	assert.Contains(t, out, "landed: 10 of 10")
	assert.Regexp(t, `dashboard: http://127\.0\.0\.1:[1-9][0-9]*/\n`, out)
	for _, c := range []string{"LOAD show 1", "ARM", "START at"} {
		assert.Regexp(t, c+`.*applied by 10 drones`, out)
	}
	assert.Empty(t, processesWith(dir+"/drone-"), "drone processes left")
}
