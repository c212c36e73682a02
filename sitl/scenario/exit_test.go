package scenario

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/skyquorum/skyquorum/algorithms"
)

// The exit rule reads the fields by name, the same for every scenario:
// violations, unfinished work and lost commands above 0, and two leaders
// in one term, fail a run; figures that are only reported do not.
func TestFailures(t *testing.T) {
	assert.Empty(t, Failures(ShowResult{LeadersPerTermMax: 1, LockAcquisitionsOpen: 9, ShowOutOfSyncDroneSeconds: 24469, BacklogCommands: 3, BacklogDroneCommands: 144}))
	assert.True(t, ShowResult{LeadersPerTermMax: 2}.Failed(), "two leaders in one term")
	assert.Equal(t, []string{"leaders_per_term_max 2"}, Failures(ShowResult{LeadersPerTermMax: 2}))
	assert.Equal(t, []string{"lock_acquisitions_unfinished 9"}, Failures(ShowResult{LockAcquisitionsUnfinished: 9}))
	assert.Equal(t, []string{"lost_committed 3", "me1_violations 1"}, Failures(ShowResult{LostCommitted: 3, ME1Violations: 1}))
	assert.Equal(t, []string{"leaders_per_term_max 2"}, Failures(ElectionResult{LeadersPerTermMax: 2}))
	assert.Equal(t, []string{"delivery_unfinished 1"}, Failures(MulticastResult{DeliveryUnfinished: 1}))
	assert.Equal(t, []string{"commands_unfinished 4"}, Failures(LogResult{CommandsUnfinished: 4}))
	// A check not made (null) is no failure.
	assert.Empty(t, Failures(MutexResult{}))
	three := 3
	assert.Equal(t, []string{"me3_violations 3"}, Failures(MutexResult{ME3Violations: &three}))
	// Separation: violations fail, pairs at risk are reported.
	assert.Equal(t, []string{"separation_violations 1"}, Failures(ShowResult{SeparationViolations: 1, SeparationAtRisk: 5, FailsafeVehicles: 2}))
	// A field added later falls under the rule by its name.
	later := struct {
		ShowResult
		UploadUnfinished int `json:"upload_unfinished"`
	}{UploadUnfinished: 1}
	assert.Equal(t, []string{"upload_unfinished 1"}, Failures(later))
}

// Lost commands are counted as commands, however many drones miss them:
// three commands missing at 48 live drones are 3 lost commands (144
// drone × command pairs), and a crashed drone misses nothing.
func TestCountMissingCountsCommands(t *testing.T) {
	var group []algorithms.NodeID
	applied := map[algorithms.NodeID]int{}
	for id := algorithms.NodeID(1); id <= 51; id++ {
		group = append(group, id)
		applied[id] = 40 // commands at log indexes 2…43 below
	}
	applied[49], applied[50] = 43, 43
	applied[51] = 0
	up := func(id algorithms.NodeID) bool { return id != 51 }
	var commands [][2]int
	for i := 2; i <= 43; i++ {
		commands = append(commands, [2]int{0, i})
	}
	m := countMissing(commands, [][]algorithms.NodeID{group}, up, func(id algorithms.NodeID) int { return applied[id] })
	assert.Equal(t, 3, m.commands)
	assert.Equal(t, 144, m.pairs)
	assert.Equal(t, 39, m.appliedMin)

	// Two networks: a command is missing in its own network only.
	m = countMissing([][2]int{{0, 1}, {1, 1}, {1, 2}}, [][]algorithms.NodeID{{1, 2}, {3, 4}},
		func(algorithms.NodeID) bool { return true },
		func(id algorithms.NodeID) int { return map[algorithms.NodeID]int{1: 1, 2: 1, 3: 2, 4: 1}[id] })
	assert.Equal(t, 1, m.commands)
	assert.Equal(t, 1, m.pairs)
	assert.Equal(t, 1, m.appliedMin)
}
