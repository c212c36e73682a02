// Package seeds sizes the seed campaigns of the simulator tests: the
// normal count in `make test`, a tenth of it under -short (the -race pass),
// and ten times it under `make soak` (SKYQUORUM_SOAK=1).
package seeds

import (
	"os"
	"testing"
)

// Count returns how many seeds a campaign of normal seeds runs.
func Count(t testing.TB, normal int) int {
	t.Helper()
	switch {
	case os.Getenv("SKYQUORUM_SOAK") != "":
		return normal * 10
	case testing.Short():
		return max(normal/10, 1)
	}
	return normal
}
