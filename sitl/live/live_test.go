package live_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/sitl/live"
)

// program builds the ground station once; its drone mode runs the drones.
func program(t *testing.T) []string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "groundstation")
	out, err := exec.Command("go", "build", "-o", bin, "../../cmd/groundstation").CombinedOutput()
	require.NoError(t, err, "build: %s", out)
	return []string{bin, "drone"}
}

func TestIDsSpreadOverNetworks(t *testing.T) {
	assert.Equal(t, [][]uint16{{1, 2, 3}}, live.IDs(3, 1))
	got := live.IDs(5, 2)
	assert.Equal(t, []uint16{1, 2, 3}, got[0])
	assert.Equal(t, []uint16{251, 252}, got[1])
}

// The drones' processes start with their own clock errors, die when
// killed, start again on their state, and stop cleanly on SIGTERM.
func TestProcessLifecycle(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the drone program")
	}
	prog := program(t)
	dir := t.TempDir()
	s, err := live.Start(live.Config{
		Drones: 3, Program: prog, Dir: dir, Seed: 7,
		HubAddr: func(int) string { return "127.0.0.1:9" },
	})
	require.NoError(t, err)
	defer s.Stop()
	require.Len(t, s.Procs(), 3)
	for _, p := range s.Procs() {
		assert.True(t, p.Running(), "drone %d", p.ID)
		assert.LessOrEqual(t, p.Offset.Abs(), 500*time.Millisecond)
		assert.LessOrEqual(t, max(p.Drift, -p.Drift), 50.0)
	}
	assert.NotEqual(t, s.Proc(1).Offset, s.Proc(2).Offset, "each drone has its own clock error")
	// Wait until drone 2 has started its node (its log says so), then
	// kill it.
	waitLog(t, s.Proc(2).Log, "node started", 1)
	require.Eventually(t, func() bool { return s.Proc(2).ControlAddr() != "" }, 30*time.Second, 50*time.Millisecond)
	assert.ErrorContains(t, s.Proc(2).Control("take 3"), `unknown command "take"`)
	assert.ErrorContains(t, s.Proc(2).Control("acquire x"), "not a cell number")
	require.NoError(t, s.Kill(2))
	assert.False(t, s.Proc(2).Running())
	assert.Error(t, s.Proc(2).Exit(), "killed, not exited")
	require.NoError(t, s.Restart(2))
	assert.True(t, s.Proc(2).Running())
	waitLog(t, s.Proc(2).Log, "node started", 2)
	require.NoError(t, s.Stop())
	for _, p := range s.Procs() {
		assert.False(t, p.Running(), "drone %d", p.ID)
		assert.NoError(t, p.Exit(), "drone %d stops with status 0 on SIGTERM on the ground", p.ID)
		assert.Positive(t, p.CPU(), "drone %d", p.ID)
	}
	j, err := live.ReadJournal(s.Proc(1).Journal)
	require.NoError(t, err)
	assert.Equal(t, uint16(1), j.ID)
	assert.Equal(t, s.Proc(1).Offset.Round(time.Microsecond), j.Offset.Round(time.Microsecond))
	require.NotEmpty(t, j.Clock)
	missed, ok := j.MissedTicks(10 * time.Millisecond)
	assert.True(t, ok, "the journal counts the runner's ticks")
	assert.True(t, missed >= 0 && missed <= 1, "missed share %v", missed)
	for _, c := range j.Clock {
		// The journal's real time, converted from the drone's skewed
		// clock, is the machine's clock: within a millisecond of it.
		assert.Less(t, c.Real.Sub(c.Machine).Abs(), time.Millisecond)
	}
	_, err = os.Stat(filepath.Join(dir, "drone-2"))
	assert.NoError(t, err, "the given directory is kept")
}

// waitLog waits until the log file holds text n times.
func waitLog(t *testing.T, path, text string, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		if b, _ := os.ReadFile(path); strings.Count(string(b), text) >= n {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	b, _ := os.ReadFile(path)
	t.Fatalf("%s did not log %q %d times:\n%s", path, text, n, b)
}
