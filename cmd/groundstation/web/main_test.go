package web

import (
	"fmt"
	"os"
	"testing"

	"github.com/skyquorum/skyquorum/cmd/groundstation/web/webtest"
)

// TestMain says on stderr, outside CI, that the browser tests will skip
// for want of Chromium: go test shows a skip's reason only with -v.
func TestMain(m *testing.M) {
	if os.Getenv("CI") == "" && webtest.Chromium() == "" {
		fmt.Fprintln(os.Stderr, "notice: web TestBrowser and TestBrowserRender250 are skipped: chromium is not installed (apt-get install chromium); CI runs them")
	}
	os.Exit(m.Run())
}
