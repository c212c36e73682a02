// Package webtest opens the dashboard in a headless Chromium for tests:
// the web package's own browser tests and the ones that run the
// dashboard of a live swarm.
package webtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// Chromium returns the path of a Chromium, "" when there is none.
func Chromium() string {
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	return ""
}

// RequireChromium returns the path of a Chromium, or skips the test when
// there is none; under CI (CI set) a missing browser fails the test, so
// that CI never passes by skipping.
func RequireChromium(t testing.TB) string {
	t.Helper()
	if p := Chromium(); p != "" {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatal("a headless Chromium is required under CI: apt-get install -y chromium")
	}
	t.Skip("chromium not installed (apt-get install -y chromium); CI runs this test")
	return ""
}

// Browser opens a headless Chromium on a fresh profile, with a window of
// width×height, for at most timeout, and collects its console errors,
// uncaught exceptions and error log entries (such as content security
// policy violations).
func Browser(t testing.TB, width, height int, timeout time.Duration) (context.Context, func() []string) {
	t.Helper()
	exe := RequireChromium(t)
	// A profile of its own, removed by removeProfile: Chromium's helper
	// processes may still write into it for a moment after the browser
	// has closed, which t.TempDir's cleanup would report as a failure.
	profile, err := os.MkdirTemp("", "skyquorum-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(width, height),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	// chromedp reports events of this Chromium's newer protocol that its
	// pinned schema does not know; they are counted, not printed.
	var chatter sync.Map
	ctx, cancelB := chromedp.NewContext(actx, chromedp.WithErrorf(func(format string, _ ...any) {
		v, _ := chatter.LoadOrStore(format, new(int))
		*v.(*int)++
	}))
	ctx, cancelT := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		_ = chromedp.Cancel(ctx) // closes the browser and waits for it
		cancelT()
		cancelB()
		cancelA()
		removeProfile(t, profile)
	})
	var mu sync.Mutex
	var errs []string
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.APITypeError || ev.Type == runtime.APITypeAssert {
				var args []string
				for _, a := range ev.Args {
					args = append(args, string(a.Value))
				}
				errs = append(errs, "console: "+strings.Join(args, " "))
			}
		case *runtime.EventExceptionThrown:
			errs = append(errs, "exception: "+ev.ExceptionDetails.Error())
		case *cdplog.EventEntryAdded:
			if ev.Entry.Level == cdplog.LevelError {
				errs = append(errs, fmt.Sprintf("log (%s): %s %s", ev.Entry.Source, ev.Entry.Text, ev.Entry.URL))
			}
		}
	})
	if err := chromedp.Run(ctx, cdplog.Enable(), runtime.Enable()); err != nil {
		t.Fatalf("starting %s: %v", exe, err)
	}
	return ctx, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(errs)
	}
}

// EvalInt evaluates js in the page and returns its number.
func EvalInt(t testing.TB, ctx context.Context, js string) int {
	t.Helper()
	var n int
	if err := chromedp.Run(ctx, chromedp.Evaluate(js, &n)); err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return n
}

// removeProfile removes a browser profile, retrying while Chromium's
// last helper processes finish writing into it.
func removeProfile(t testing.TB, dir string) {
	var err error
	for range 50 {
		if err = os.RemoveAll(dir); err == nil {
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("browser profile %s not removed: %v", dir, err)
}
