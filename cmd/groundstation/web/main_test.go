package web

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// TestMain says on stderr, outside CI, that the browser tests will skip
// for want of Chromium: go test shows a skip's reason only with -v.
func TestMain(m *testing.M) {
	if os.Getenv("CI") == "" && chromium() == "" {
		fmt.Fprintln(os.Stderr, "notice: web TestBrowser and TestBrowserRender250 are skipped: chromium is not installed (apt-get install chromium); CI runs them")
	}
	os.Exit(m.Run())
}

// chromium returns the path of a Chromium, "" when there is none.
func chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}
