package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/sitl/scenario"
)

// Without --json a run prints a short summary in four groups, numbers
// rounded and with units, and a verdict as its last line.
func TestSimulateSummary(t *testing.T) {
	code, out, errOut := runCmd("simulate", "log", "--drones", "8", "--commands", "10")
	require.Equal(t, exitOK, code, errOut)
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	assert.LessOrEqual(t, len(lines), 24, "a short summary:\n%s", out)
	for _, g := range []string{"swarm", "radio", "safety", "timing"} {
		assert.Regexp(t, `(?m)^`+g+`\b`, out)
	}
	assert.NotContains(t, out, "map[", "no Go maps")
	assert.Empty(t, regexp.MustCompile(`\.0*[1-9]\d{4,}`).FindAllString(out, -1), "no full-precision floats:\n%s", out)
	assert.Regexp(t, `airtime_ms [0-9.]+ ms`, out)
	assert.Regexp(t, `APPEND \d+`, out)
	assert.Equal(t, "passed: no violations, nothing unfinished or lost", lines[len(lines)-1])

	withScenario(t, showOutput{ShowResult: scenario.ShowResult{LeadersPerTermMax: 2, LostCommitted: 3}}, func() {
		code, out, _ := runCmd("simulate", "fake")
		assert.Equal(t, exitFail, code)
		lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
		assert.Equal(t, "FAILED: leaders_per_term_max 2, lost_committed 3", lines[len(lines)-1])
	})
}

// --json prints the fields exactly as before: one object, every field in
// order, floats at full precision.
func TestSimulateJSONUnchanged(t *testing.T) {
	code, out, errOut := runCmd("simulate", "log", "--drones", "8", "--commands", "10", "--json")
	require.Equal(t, exitOK, code, errOut)
	assert.Equal(t, 1, strings.Count(out, "\n"))
	assert.True(t, strings.HasPrefix(out, `{"drones":8,"seed":1,"baud":57600,"signed":true,"loss":0,`), out)
	assert.Contains(t, out, `"airtime_ms":430.38192,`)
	assert.Contains(t, out, `"messages_by_kind":{"ACK":0,"APPEND":77,`)
	assert.True(t, strings.HasSuffix(out, `,"trace":null}`+"\n"), out)
}

// Without --upload-size the show scenario prints no upload or commit
// latency field: its JSON is what it was before the upload flags.
func TestSimulateShowJSONWithoutUpload(t *testing.T) {
	code, out, errOut := runCmd("simulate", "show", "--drones", "5", "--duration", "20", "--settle", "0", "--json")
	require.Equal(t, exitOK, code, errOut)
	assert.NotContains(t, out, `"upload_`)
	assert.NotContains(t, out, `"commit_latency_`)
	assert.NotContains(t, out, `"commands_during_upload"`)
	assert.True(t, strings.HasSuffix(out, `"failsafe_vehicles":0,"unencodable_frames":0,"frame_violations":0,"trace":null}`+"\n"), out)

	code, out, errOut = runCmd("simulate", "show", "--drones", "5", "--duration", "20", "--settle", "0", "--upload-size", "2000", "--json")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, out, `"drones":5,`)
	assert.Contains(t, out, `"upload_size":2000,"upload_share":0.6,"upload_begin_s":0,`)
	assert.Contains(t, out, `"upload_unfinished":0,`)
	// The fields docs/simulate.md names for the show with an upload.
	for _, f := range []string{"upload_size", "upload_share", "upload_begin_s", "upload_seconds", "upload_unfinished",
		"upload_airtime_share", "commit_latency_ms_p50", "commit_latency_ms_p99", "commit_latency_ms_max",
		"commands_during_upload", "commit_latency_ms_p50_upload", "commit_latency_ms_p99_upload"} {
		assert.Contains(t, out, `"`+f+`":`)
	}

	code, _, errOut = runCmd("simulate", "show", "--drones", "6", "--networks", "2", "--upload-size", "2000")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "--networks 2")
}
