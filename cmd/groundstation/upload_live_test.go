package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/cmd/groundstation/operate"
	"github.com/skyquorum/skyquorum/sitl/hub"
	"github.com/skyquorum/skyquorum/sitl/live"
	"github.com/skyquorum/skyquorum/swarm/show/demo"
)

// A live swarm of ten drone processes configured with no show: a LOAD
// of the demo show is not sent while no drone holds it, naming all ten;
// the upload of a larger show, cut short by connect's end, is resumed by
// connect started again without sending a chunk twice;
// groundstation show upload puts the demo show on every drone over the hub's radio;
// then every drone reports holding it, LOAD, ARM and START commit and
// are applied by all ten, and the show flies from the uploaded show.
func TestShowUploadThenFly(t *testing.T) {
	if testing.Short() {
		t.Skip("runs drone processes")
	}
	const drones = 10
	bin := buildGroundstation(t)
	dir := t.TempDir()
	sh, err := demo.New(drones)
	require.NoError(t, err)
	b, err := sh.Encode()
	require.NoError(t, err)
	showFile := filepath.Join(dir, "demo.sqshow")
	require.NoError(t, os.WriteFile(showFile, b, 0o644))
	h, err := sh.Hash()
	require.NoError(t, err)
	digest := fmt.Sprintf("%#016x", h.Digest())

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	hb, err := hub.Start(hub.Config{Baud: 57600, Loss: 0.05, Seed: 1, Logger: quiet})
	require.NoError(t, err)
	defer hb.Close()
	sw, err := live.Start(live.Config{Drones: drones, Program: []string{bin, "drone"}, Dir: t.TempDir(), Seed: 1,
		HubAddr: func(int) string { return hb.Addr(1) }, Logger: quiet})
	require.NoError(t, err)
	defer sw.Stop()

	sock := filepath.Join(dir, "gs.sock")
	var out, errOut lockedBuffer
	startConnect := func() *exec.Cmd {
		conn := exec.Command(bin, "connect", "--udp", "127.0.0.1:0", "--peer", hb.Addr(1), "--hub",
			"--key", sw.KeyFile(), "--members", fmt.Sprintf("1-%d", drones), "--socket", sock)
		conn.Stdout, conn.Stderr = &out, &errOut
		require.NoError(t, conn.Start())
		t.Cleanup(func() { _ = conn.Process.Kill() })
		return conn
	}
	conn := startConnect()

	status := func() operate.Status {
		var stdout, stderr bytes.Buffer
		if run([]string{"status", "--json", "--socket", sock}, &stdout, &stderr) != exitOK {
			return operate.Status{}
		}
		var st operate.Status
		require.NoError(t, json.Unmarshal(stdout.Bytes(), &st))
		return st
	}
	every := func(st operate.Status, ok func(operate.Drone) bool) bool {
		if len(st.Drones) != drones {
			return false
		}
		for _, d := range st.Drones {
			if !d.Live || !ok(d) {
				return false
			}
		}
		return true
	}
	// Drones without state listen 20 s for a running swarm, then elect.
	require.Eventually(t, func() bool {
		st := status()
		return st.Leader != 0 && st.TimeSynced && every(st, func(d operate.Drone) bool { return d.Follows == st.Leader && d.Show == "" })
	}, 60*time.Second, 250*time.Millisecond, "a leader every drone follows, no show held; connect printed:\n%s\n%s", &out, &errOut)

	command := func(timeout string, args ...string) (int, string, string) {
		var stdout, stderr bytes.Buffer
		code := run(append([]string{"command", "--socket", sock, "--timeout", timeout}, args...), &stdout, &stderr)
		t.Logf("command %s: exit %d\n%s%s", strings.Join(args, " "), code, &stdout, &stderr)
		return code, stdout.String(), stderr.String()
	}
	code, _, stderr := command("1s", "load", "1", "--show", showFile)
	require.Equal(t, exitFail, code)
	assert.Contains(t, stderr, fmt.Sprintf("10 live drones lack show %s: 1 (holds none)", digest))

	// A larger show's upload is cut short by connect's end; connect
	// started again resumes it from the state it kept beside its socket:
	// a poll, then only repair symbols.
	big, err := demo.New(40)
	require.NoError(t, err)
	bb, err := big.Encode()
	require.NoError(t, err)
	bigFile := filepath.Join(dir, "demo40.sqshow")
	require.NoError(t, os.WriteFile(bigFile, bb, 0o644))
	go func() { _ = run([]string{"show", "upload", "--socket", sock, bigFile}, io.Discard, io.Discard) }()
	var before operate.UploadStatus
	require.Eventually(t, func() bool {
		resp, err := ask(context.Background(), sock, operate.Request{Op: operate.OpUploadStatus})
		if err != nil || !resp.OK {
			return false
		}
		before = *resp.Upload
		return before.Symbols >= before.Chunks/2
	}, 30*time.Second, 100*time.Millisecond, "half the larger show sent")
	require.NoError(t, conn.Process.Signal(syscall.SIGINT))
	_ = conn.Wait()
	conn = startConnect()
	require.Eventually(t, func() bool { st := status(); return st.Leader != 0 && st.TimeSynced },
		20*time.Second, 250*time.Millisecond, "the restarted connect finds the leader")
	began := time.Now()
	var resOut, resErr bytes.Buffer
	require.Equal(t, exitOK, run([]string{"show", "upload", "--socket", sock, bigFile}, &resOut, &resErr), "%s%s", &resOut, &resErr)
	resp, err := ask(context.Background(), sock, operate.Request{Op: operate.OpUploadStatus})
	require.NoError(t, err)
	after := resp.Upload
	t.Logf("show upload of %d bytes (%d chunks) cut after %d symbols; connect started again resumed it in %.1f s with %d symbols (%d repairs), %d polls answered\n%s",
		len(bb), after.Chunks, before.Symbols, time.Since(began).Seconds(), after.Symbols, after.Repairs, after.Rounds, &resOut)
	assert.True(t, after.Resumed)
	assert.Contains(t, resOut.String(), "resuming the upload connect stored")
	assert.Equal(t, after.Symbols, after.Repairs, "no chunk sent again")
	assert.Less(t, after.Symbols, after.Chunks)
	bh, err := big.Hash()
	require.NoError(t, err)
	assert.Eventually(t, func() bool {
		return every(status(), func(d operate.Drone) bool { return d.Show == fmt.Sprintf("%#016x", bh.Digest()) })
	}, 15*time.Second, 250*time.Millisecond, "every drone reports the larger show")

	began = time.Now()
	var upOut, upErr bytes.Buffer
	require.Equal(t, exitOK, run([]string{"show", "upload", "--socket", sock, showFile}, &upOut, &upErr), "%s%s", &upOut, &upErr)
	took := time.Since(began)
	resp, err = ask(context.Background(), sock, operate.Request{Op: operate.OpUploadStatus})
	require.NoError(t, err)
	require.True(t, resp.OK, resp.Error)
	u := resp.Upload
	t.Logf("show upload: %d bytes, %d chunks in %d blocks to %d drones in %.1f s: %d symbols sent (%d repairs), %d polls answered\n%s",
		len(b), u.Chunks, u.Blocks, drones, took.Seconds(), u.Symbols, u.Repairs, u.Rounds, &upOut)
	assert.True(t, u.Done)
	assert.GreaterOrEqual(t, u.Symbols, u.Chunks)

	// Every drone reports the show's digest; LOAD waits for that.
	code, stdout, stderr := command("30s", "load", "1", "--show", showFile)
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, fmt.Sprintf("applied by %d of %d drones", drones, drones))
	st := status()
	assert.True(t, every(st, func(d operate.Drone) bool { return d.Show == digest }), "%+v", st.Drones)
	assert.Eventually(t, func() bool {
		return every(status(), func(d operate.Drone) bool { return d.ShowLoaded })
	}, 10*time.Second, 250*time.Millisecond, "every drone reports the loaded show")
	var table, tableErr bytes.Buffer
	require.Equal(t, exitOK, run([]string{"status", "--socket", sock}, &table, &tableErr), tableErr.String())
	assert.Contains(t, table.String(), fmt.Sprintf("show %s (loaded) held by 10 drones: 1 2 3 4 5 6 7 8 9 10", digest))

	code, stdout, stderr = command("30s", "arm")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, fmt.Sprintf("applied by %d of %d drones", drones, drones))
	code, stdout, stderr = command("30s", "start", "--at", "+3s")
	require.Equal(t, exitOK, code, stderr)
	assert.Contains(t, stdout, fmt.Sprintf("applied by %d of %d drones", drones, drones))

	// The show flies: every drone is airborne with show time running.
	require.Eventually(t, func() bool {
		return every(status(), func(d operate.Drone) bool { return d.State == "flying" && d.ShowTimeMS > 4000 && d.Z > 1 })
	}, 40*time.Second, 500*time.Millisecond, "every drone flying the show; status:\n%+v", func() any { return status().Drones }())
	for _, id := range []int{1, drones} {
		log, err := os.ReadFile(sw.Proc(uint16(id)).Log)
		require.NoError(t, err)
		assert.Regexp(t, regexp.MustCompile(`flies the loaded show.*`+digest), string(log), "drone %d's log", id)
	}

	require.NoError(t, conn.Process.Signal(syscall.SIGINT))
	_ = conn.Wait()
	assert.False(t, strings.Contains(errOut.String(), "panic"), errOut.String())
}
