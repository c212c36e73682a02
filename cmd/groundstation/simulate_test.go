package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// mutexFields are the fields docs/simulate.md names for the mutex
// scenario, common ones included.
var mutexFields = []string{
	"drones", "seed", "baud", "signed", "loss", "dup", "reorder", "messages", "data_frames", "ack_frames",
	"retransmissions", "heartbeat_frames", "frames", "airtime_ms", "sim_seconds", "wall_seconds",
	"real_time_factor", "algorithm", "entries", "concurrency", "hold", "completed", "quorum_size_min",
	"quorum_size_max", "quorum_size_mean", "messages_per_entry", "data_frames_per_entry", "frames_per_entry",
	"airtime_ms_per_entry", "token_passes_per_entry", "client_delay_ms_p50", "client_delay_ms_p99",
	"sync_delay_ms_p50", "me1_violations", "me2_unfinished", "me3_violations", "me3_inversions", "trace",
}

func runCmd(args ...string) (code int, stdout, stderr string) {
	var o, e bytes.Buffer
	code = run(args, &o, &e)
	return code, o.String(), e.String()
}

func TestSimulateMutexJSON(t *testing.T) {
	code, out, errOut := runCmd("simulate", "mutex", "--algorithm", "central", "--drones", "16", "--entries", "40", "--json")
	require.Equal(t, exitOK, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 1, "exactly one JSON object on stdout")
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &got))
	for _, f := range mutexFields {
		assert.Contains(t, got, f)
	}
	assert.Equal(t, 16.0, got["drones"])
	assert.Equal(t, true, got["signed"])
	assert.Equal(t, 40.0, got["completed"])
	assert.Equal(t, 0.0, got["me1_violations"])
	assert.Nil(t, got["me3_violations"], "ME3 is checked for Ricart–Agrawala only")
	assert.Equal(t, got["frames"], got["data_frames"].(float64)+got["ack_frames"].(float64)+got["retransmissions"].(float64))
}

func TestSimulateTable(t *testing.T) {
	code, out, _ := runCmd("simulate", "mutex", "--algorithm", "central", "--entries", "5", "--unsigned")
	require.Equal(t, exitOK, code)
	assert.Contains(t, out, "signed no")
	assert.Contains(t, out, "completed 5,")
}

func TestSimulateTrace(t *testing.T) {
	path := filepath.Join(t.TempDir(), "trace.jsonl")
	code, out, errOut := runCmd("simulate", "mutex", "--algorithm", "central", "--entries", "5", "--trace", path, "--json")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, `"trace":"`+path+`"`)
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		var v map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &v), line)
	}
	assert.Contains(t, string(b), `"ev":"grant"`)
}

// Bad usage exits 2 with a message naming the bad flag.
func TestSimulateBadUsage(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"simulate", "mutex", "--algorithm", "bogus"}, "--algorithm"},
		{[]string{"simulate", "mutex", "--algorithm", "central", "--loss", "1"}, "--loss"},
		{[]string{"simulate", "mutex", "--algorithm", "central", "--dup", "-0.5"}, "--dup"},
		{[]string{"simulate", "mutex", "--algorithm", "central", "--drones", "0"}, "--drones"},
		{[]string{"simulate", "mutex", "--algorithm", "central", "--drones", "65535"}, "--drones"},
		{[]string{"simulate", "mutex", "--algorithm", "central", "--reorder", "-1"}, "--reorder"},
		{[]string{"simulate", "mutex", "--algorithm", "central", "--entries", "0"}, "--entries"},
		{[]string{"simulate", "mutex", "--algorithm", "central", "--concurrency", "0"}, "--concurrency"},
		{[]string{"simulate", "mutex", "--algorithm", "central", "--baud", "0"}, "--baud"},
		{[]string{"simulate", "mutex", "--algorithm", "central", "--seed", "x"}, "-seed"},
		{[]string{"simulate", "mutex", "--nope"}, "-nope"},
		{[]string{"simulate", "mutex"}, "--algorithm"},
		{[]string{"simulate", "nosuch"}, "nosuch"},
		{[]string{"simulate", "--drones", "3"}, "scenario"},
		{[]string{"bogus"}, "bogus"},
		{nil, "Usage"},
	}
	for _, c := range cases {
		code, _, errOut := runCmd(c.args...)
		assert.Equal(t, exitUsage, code, "%v", c.args)
		assert.Contains(t, errOut, c.want, "%v", c.args)
	}
}

func TestHelp(t *testing.T) {
	for _, args := range [][]string{{"--help"}, {"simulate", "--help"}, {"simulate", "mutex", "--help"}} {
		code, out, errOut := runCmd(args...)
		assert.Equal(t, exitOK, code, "%v", args)
		assert.Contains(t, out+errOut, "Usage", "%v", args)
	}
}
