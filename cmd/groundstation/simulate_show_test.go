package main

import (
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/sitl/scenario"
)

// showFields are the fields docs/simulate.md names for the show scenario,
// common ones included.
var showFields = []string{
	"drones", "seed", "baud", "signed", "loss", "dup", "reorder", "messages", "data_frames", "ack_frames",
	"retransmissions", "heartbeat_frames", "frames", "airtime_ms", "sim_seconds", "wall_seconds",
	"real_time_factor", "trace_hash", "networks", "duration", "settle", "crash_leader", "crash", "restart",
	"clock_offset", "clock_drift", "election", "leader", "terms", "commands_committed", "commands_applied_min",
	"lost_committed", "order_violations", "lock_entries", "me1_violations", "leader_failover_ms",
	"heartbeat_airtime_share", "coordination_airtime_share", "clock_error_ms_max", "clock_spread_ms_max", "clock_spread_network_ms_max", "show_time_jump_ms_max", "memory_bytes_per_drone",
	"leaders_per_term_max", "commands_refused", "show_phase", "show_phase_mismatch", "show_time_error_ms_max",
	"show_out_of_sync_drone_seconds", "views_in_force", "views_in_force_min", "voters_retired",
	"lock_wait_ms_max", "lock_frames_per_entry", "lock_acquisitions_open", "backlog_commands", "backlog_drone_commands",
	"lock_acquisitions_unfinished", "min_separation_m", "separation_violations", "separation_at_risk",
	"failsafe_vehicles", "unencodable_frames", "frame_violations", "show_start_spread_ms", "show_start_spread_ms_network", "cross_network_cell_overlaps", "trace",
}

// withScenario runs f with a scenario named "fake" that returns res.
func withScenario(t *testing.T, res result, f func()) {
	t.Helper()
	scenarios["fake"] = scenarioCmd{"a fixed result", func(_ []string, _ *commonFlags, _ io.Writer) (result, error) { return res, nil }}
	defer delete(scenarios, "fake")
	f()
}

// The show's exit status follows the rule of every scenario: two leaders
// in one term or work left unfinished after settling exit 1 and are named
// on stderr; reported figures alone exit 0.
func TestSimulateShowExitRule(t *testing.T) {
	for _, c := range []struct {
		res  scenario.ShowResult
		code int
		want string
	}{
		{scenario.ShowResult{LeadersPerTermMax: 2}, exitFail, "leaders_per_term_max 2"},
		{scenario.ShowResult{LeadersPerTermMax: 1, LostCommitted: 3}, exitFail, "lost_committed 3"},
		{scenario.ShowResult{LeadersPerTermMax: 1, LockAcquisitionsUnfinished: 9}, exitFail, "lock_acquisitions_unfinished 9"},
		{scenario.ShowResult{LeadersPerTermMax: 1, SeparationViolations: 1}, exitFail, "separation_violations 1"},
		{scenario.ShowResult{LeadersPerTermMax: 1, SeparationAtRisk: 4, FailsafeVehicles: 3}, exitOK, ""},
		{scenario.ShowResult{LeadersPerTermMax: 1, LockAcquisitionsOpen: 9, BacklogCommands: 3, BacklogDroneCommands: 144, ShowOutOfSyncDroneSeconds: 24469}, exitOK, ""},
	} {
		withScenario(t, showOutput{ShowResult: c.res}, func() {
			code, _, errOut := runCmd("simulate", "fake", "--json")
			assert.Equal(t, c.code, code, "%+v", c.res)
			if c.want != "" {
				assert.Contains(t, errOut, c.want)
			}
		})
	}
}

// The heavy-loss show (seed 2): at the end of --duration three commands
// were missing at 48 drones, which is a backlog of 3 commands and 144
// drone × command pairs; lost_committed counts commands, and after the
// settling period none is missing.
func TestSimulateShowLostCountsCommands(t *testing.T) {
	if testing.Short() {
		t.Skip("two runs of 50 drones for 240 s of simulated time at 20% loss")
	}
	heavy := []string{"simulate", "show", "--drones", "50", "--duration", "120", "--loss", "0.2", "--dup", "0.05",
		"--reorder", "50", "--crash-leader", "--crash", "0.1", "--restart", "--clock-offset", "500",
		"--clock-drift", "50", "--seed", "2", "--json"}
	fields := func(args ...string) map[string]any {
		_, out, errOut := runCmd(args...)
		var got map[string]any
		require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(out)), &got), "seed=2: %s", errOut)
		return got
	}
	got := fields(heavy...)
	for _, f := range showFields {
		assert.Contains(t, got, f)
	}
	assert.Equal(t, 120.0, got["settle"])
	assert.Equal(t, 240.0, got["sim_seconds"])
	assert.LessOrEqual(t, got["lost_committed"], got["commands_committed"], "seed=2: lost commands, not pairs")
	assert.Equal(t, 0.0, got["lost_committed"], "seed=2: every command at every live drone after settling")
	assert.Equal(t, got["commands_committed"], got["commands_applied_min"], "seed=2")

	// Without settling, what is lost is the backlog at the end of --duration.
	now := fields(append(heavy, "--settle", "0")...)
	assert.Equal(t, 120.0, now["sim_seconds"])
	assert.Equal(t, now["backlog_commands"], now["lost_committed"], "seed=2")
	assert.LessOrEqual(t, now["lost_committed"], now["commands_committed"], "seed=2")
	assert.GreaterOrEqual(t, now["backlog_drone_commands"], now["backlog_commands"], "seed=2")
	assert.LessOrEqual(t, now["backlog_drone_commands"], now["backlog_commands"].(float64)*50, "seed=2")
	// Settling changes nothing before the end of --duration.
	for _, f := range []string{"backlog_commands", "backlog_drone_commands", "lock_acquisitions_open", "coordination_airtime_share", "heartbeat_airtime_share"} {
		assert.Equal(t, now[f], got[f], "seed=2: %s", f)
	}

	code, _, errOut := runCmd("simulate", "show", "--settle", "-1")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "--settle")
}

// A fault-free show settles and exits 0: nothing lost, no airspace request
// left waiting, every command at every drone. Without settling, the
// requests still waiting at the end of --duration are unfinished.
func TestSimulateShowSettledCleanRun(t *testing.T) {
	code, out, errOut := runCmd("simulate", "show", "--drones", "30", "--duration", "120", "--seed", "2", "--json")
	require.Equal(t, exitOK, code, "seed=2: %s", errOut)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(out)), &got))
	assert.Equal(t, 120.0, got["settle"])
	assert.Equal(t, 0.0, got["lost_committed"], "seed=2")
	assert.Equal(t, 0.0, got["lock_acquisitions_unfinished"], "seed=2")
	assert.Equal(t, 0.0, got["backlog_commands"], "seed=2")
	assert.Equal(t, got["commands_committed"], got["commands_applied_min"], "seed=2")
	assert.Equal(t, "LANDING", got["show_phase"], "seed=2")

	_, out, _ = runCmd("simulate", "show", "--drones", "30", "--duration", "120", "--seed", "2", "--settle", "0", "--json")
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(out)), &got))
	assert.Equal(t, got["lock_acquisitions_open"], got["lock_acquisitions_unfinished"], "seed=2")
}
