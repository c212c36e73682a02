package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// Every number flag of every scenario that is not finite, or out of its
// range, is bad usage (exit 2) and the message names the flag; nothing
// runs.
func TestSimulateNumberFlagsChecked(t *testing.T) {
	base := map[string][]string{
		"mutex":     {"--algorithm", "central", "--entries", "2", "--drones", "5"},
		"election":  {"--algorithm", "bully", "--drones", "5"},
		"multicast": {"--messages", "2", "--drones", "5"},
		"log":       {"--commands", "2", "--drones", "5"},
		"show":      {"--drones", "5", "--duration", "5", "--settle", "1"},
		"upload":    {"--drones", "5", "--size", "1000"},
	}
	common := []string{"loss", "dup", "reorder"}
	own := map[string][]string{
		"mutex":     {"hold"},
		"multicast": {"crash"},
		"log":       {"crash", "commit-delay"},
		"show":      {"crash", "duration", "settle", "clock-offset", "clock-drift", "upload-share"},
		"upload":    {"share", "crash"},
	}
	for sc, args := range base {
		for _, flag := range append(append([]string{}, common...), own[sc]...) {
			for _, v := range []string{"NaN", "Inf", "-Inf", "1e300", "-1"} {
				a := append([]string{"simulate", sc}, args...)
				a = append(a, "--"+flag, v, "--json")
				code, out, errOut := runCmd(a...)
				assert.Equal(t, exitUsage, code, "%v: %s", a, errOut)
				assert.Contains(t, errOut, "--"+flag+" ", "%v", a)
				assert.Empty(t, out, "%v", a)
			}
		}
	}
}
