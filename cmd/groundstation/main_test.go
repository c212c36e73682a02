package main

import (
	"fmt"
	"os"
	"testing"

	"github.com/skyquorum/skyquorum/cmd/groundstation/web/webtest"
)

// TestMain says on stderr, outside CI, that the dashboard's browser test
// of a live swarm will skip for want of Chromium: go test shows a skip's
// reason only with -v.
func TestMain(m *testing.M) {
	if os.Getenv("CI") == "" && webtest.Chromium() == "" {
		fmt.Fprintln(os.Stderr, "notice: groundstation TestDashboardLiveSwarm is skipped: chromium is not installed (apt-get install chromium); CI runs it")
	}
	os.Exit(m.Run())
}
