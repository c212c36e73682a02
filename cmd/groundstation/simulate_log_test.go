package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// logFields are the fields docs/simulate.md names for the log
// scenario, common ones included.
var logFields = []string{
	"drones", "seed", "baud", "signed", "loss", "dup", "reorder", "messages", "data_frames", "ack_frames",
	"retransmissions", "heartbeat_frames", "frames", "airtime_ms", "sim_seconds", "wall_seconds",
	"real_time_factor", "commands", "committee", "crash_leader", "crash", "restart", "committed", "applied_min",
	"lost_committed", "order_violations", "data_frames_per_command", "frames_per_command",
	"commit_latency_ms_p50", "commit_latency_ms_p99", "failover_ms", "terms", "textbook", "trace",
}

func TestSimulateLogJSON(t *testing.T) {
	code, out, errOut := runCmd("simulate", "log", "--drones", "12", "--commands", "20", "--crash-leader", "--json")
	require.Equal(t, exitOK, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 1, "exactly one JSON object on stdout")
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &got))
	for _, f := range logFields {
		assert.Contains(t, got, f)
	}
	assert.Equal(t, 20.0, got["committed"])
	assert.Equal(t, 20.0, got["applied_min"])
	assert.Equal(t, 5.0, got["committee"])
	assert.Equal(t, true, got["crash_leader"])
	assert.Equal(t, 0.0, got["lost_committed"])
	assert.NotNil(t, got["failover_ms"])

	code, out, _ = runCmd("simulate", "log", "--drones", "8", "--commands", "5", "--json")
	require.Equal(t, exitOK, code)
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(out)), &got))
	assert.Nil(t, got["failover_ms"], "no leader crash, no failover")
	assert.Equal(t, false, got["textbook"])
	assert.Equal(t, 3.0, got["frames_per_command"], "APPEND and two ACKs")

	code, out, _ = runCmd("simulate", "log", "--drones", "8", "--commands", "5", "--textbook", "--json")
	require.Equal(t, exitOK, code)
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(out)), &got))
	assert.Equal(t, true, got["textbook"])
	assert.Equal(t, 6.0, got["frames_per_command"], "APPEND, four ACKs and a COMMIT")
}

// Bad usage exits 2 with a message naming the bad flag.
func TestSimulateLogBadUsage(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--committee", "0"}, "--committee 0"},
		{[]string{"--drones", "4", "--committee", "5"}, "--committee 5"},
		{[]string{"--commands", "0"}, "--commands 0"},
		{[]string{"--crash", "1"}, "--crash 1"},
		{[]string{"--commit-delay", "-5"}, "--commit-delay"},
		{[]string{"--loss", "2"}, "--loss"},
		{[]string{"--interval", "0"}, "--interval 0"},
		{[]string{"--upload-size", "-1"}, "--upload-size -1"},
		{[]string{"--upload-size", "1000", "--upload-share", "1.5"}, "--upload-share 1.5"},
	} {
		code, _, errOut := runCmd(append([]string{"simulate", "log"}, c.args...)...)
		assert.Equal(t, exitUsage, code, "%v", c.args)
		assert.Contains(t, errOut, c.want, "%v", c.args)
	}
}
