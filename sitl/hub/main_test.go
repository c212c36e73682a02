package hub_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if any goroutine outlives them: every
// Hub a test starts must stop all of its own on Close.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}
