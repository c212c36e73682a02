package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// uploadFields are the fields docs/simulate.md names for the upload
// scenario, besides the common ones.
var uploadFields = []string{
	"size", "share", "crash", "restart", "repair", "airtime_ms", "one_copy_airtime_ms", "ratio",
	"per_drone_baseline_airtime_ms", "completed_drones", "upload_seconds", "repair_frames",
	"commit_latency_ms_p99", "upload_unfinished", "trace",
}

func TestSimulateUploadJSON(t *testing.T) {
	code, out, errOut := runCmd("simulate", "upload", "--drones", "10", "--loss", "0.1", "--size", "30000", "--seed", "2", "--json")
	require.Equal(t, exitOK, code, errOut)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(out)), &got))
	for _, f := range uploadFields {
		assert.Contains(t, got, f)
	}
	assert.Equal(t, "coded", got["repair"])
	assert.Equal(t, 10.0, got["completed_drones"], "seed 2")
	assert.Equal(t, 0.0, got["upload_unfinished"], "seed 2")
	assert.LessOrEqual(t, got["ratio"].(float64), 1.3, "seed 2")
	assert.InDelta(t, got["airtime_ms"].(float64)/got["one_copy_airtime_ms"].(float64), got["ratio"].(float64), 1e-9)
	// Commands committed during the upload: above the fault-free 33 ms
	// of an idle channel (the upload holds the channel) and bounded.
	p99, ok := got["commit_latency_ms_p99"].(float64)
	require.True(t, ok, "commit_latency_ms_p99 %v, want a number (seed 2)", got["commit_latency_ms_p99"])
	assert.Greater(t, p99, 33.0, "seed 2")
	assert.Less(t, p99, 1000.0, "seed 2")
}

func TestSimulateUploadBadRepair(t *testing.T) {
	code, _, errOut := runCmd("simulate", "upload", "--repair", "fountain")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "--repair")
}
