package web

import (
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/skyquorum/skyquorum/cmd/groundstation/web/webtest"
)

// waitCommands waits until src has recorded n commands.
func waitCommands(t *testing.T, src *ShowSource, n int) []Command {
	t.Helper()
	for range 100 {
		if c := src.Commands(); len(c) >= n {
			return c
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("the source recorded %v, want %d commands", src.Commands(), n)
	return nil
}

func TestBrowser(t *testing.T) {
	ctx, consoleErrors := webtest.Browser(t, 1400, 1000, 60*time.Second)
	const n = 12
	src := newShowSource(t, n)
	if _, err := src.Command(t.Context(), Command{Op: "start"}); err != nil {
		t.Fatal(err)
	}
	src.Step(3 * time.Second)
	srv, err := Listen("127.0.0.1:0", Config{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	err = chromedp.Run(ctx,
		chromedp.Navigate(srv.URL()),
		chromedp.Poll(`window.sqStats && window.sqStats.frames >= 3`, nil, chromedp.WithPollingTimeout(20*time.Second)),
	)
	if err != nil {
		t.Fatalf("the page drew no frames: %v (console: %q)", err, consoleErrors())
	}
	if rows := webtest.EvalInt(t, ctx, `document.querySelectorAll("#drones tbody tr").length`); rows != n {
		t.Errorf("%d drone rows, want %d", rows, n)
	}
	// Drone 6 fails preflight in the simulation: not ready, so first.
	if first := webtest.EvalInt(t, ctx, `+document.querySelector("#drones tbody tr").dataset.id`); first != 6 {
		t.Errorf("first row is drone %d, want the not-ready drone 6", first)
	}
	if marks := webtest.EvalInt(t, ctx, `document.querySelectorAll("#drones .leader-mark").length`); marks != 1 {
		t.Errorf("%d leader marks in the table, want 1", marks)
	}
	if lead := webtest.EvalInt(t, ctx, `+document.querySelector("#drones .leader-mark").closest("tr").dataset.id`); lead != 1 {
		t.Errorf("leader mark on drone %d, want 1", lead)
	}
	if marks := webtest.EvalInt(t, ctx, `window.sqStats.leaderMarks`); marks != 2 {
		t.Errorf("%d leader marks drawn, want 2 (top and side views)", marks)
	}
	// The top view has drawn: count its painted pixels.
	painted := `(() => { const c = document.getElementById(%q); const d = c.getContext("2d").getImageData(0, 0, c.width, c.height).data;
		let k = 0; for (let i = 3; i < d.length; i += 4) if (d[i]) k++; return k; })()`
	for _, id := range []string{"top", "side", "plotAir"} {
		if px := webtest.EvalInt(t, ctx, fmt.Sprintf(painted, id)); px < 50 {
			t.Errorf("canvas %s has %d painted pixels, want at least 50", id, px)
		}
	}

	// An ordinary command goes straight out.
	if err := chromedp.Run(ctx, chromedp.Click(`#controls button[data-op="arm"]:not([data-emergency])`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if c := waitCommands(t, src, 2); c[1] != (Command{Op: "arm"}) {
		t.Fatalf("the page sent %+v, want arm", c[1])
	}
	// An emergency asks first: cancel sends nothing, confirm sends it.
	emergencyHold := `#controls button[data-op="hold"][data-emergency]`
	if err := chromedp.Run(ctx, chromedp.Click(emergencyHold, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if open := webtest.EvalInt(t, ctx, `document.getElementById("confirm").open ? 1 : 0`); open != 1 {
		t.Fatal("the HOLD button did not ask for confirmation")
	}
	if err := chromedp.Run(ctx, chromedp.Click(`#confirmNo`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if c := src.Commands(); len(c) != 2 {
		t.Fatalf("cancelled emergency sent: %+v", c)
	}
	if err := chromedp.Run(ctx, chromedp.Click(emergencyHold, chromedp.ByQuery), chromedp.Click(`#confirmYes`, chromedp.ByQuery)); err != nil {
		t.Fatal(err)
	}
	if c := waitCommands(t, src, 3); c[2] != (Command{Op: "hold", Emergency: true, Confirm: true}) {
		t.Fatalf("the page sent %+v, want a confirmed emergency hold", c[2])
	}
	if err := chromedp.Run(ctx, chromedp.Poll(`document.querySelectorAll("#log tbody tr").length >= 3`, nil, chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		t.Errorf("the command log does not show the 3 commands: %v", err)
	}
	if errs := consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
	// The server stops: the page says why, in place of retrying.
	if err := srv.CloseWith("the show is over"); err != nil {
		t.Fatal(err)
	}
	ended := `document.getElementById("ended").textContent == "the show is over" && !document.getElementById("ended").hidden &&
		document.getElementById("conn").textContent == "ended"`
	if err := chromedp.Run(ctx, chromedp.Poll(ended, nil, chromedp.WithPollingTimeout(5*time.Second))); err != nil {
		t.Errorf("the page does not say that its server has ended: %v", err)
	}
}

// TestBrowserRender250 reports how long the page takes to draw a frame of
// 250 drones (both views, the table, the log and the plots); it asserts
// only that every drone is drawn, not the time.
func TestBrowserRender250(t *testing.T) {
	ctx, consoleErrors := webtest.Browser(t, 1400, 1000, 60*time.Second)
	src := newShowSource(t, 250)
	if _, err := src.Command(t.Context(), Command{Op: "start"}); err != nil {
		t.Fatal(err)
	}
	src.Step(20 * time.Second)
	srv, err := Listen("127.0.0.1:0", Config{Source: src})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	const frames = 15
	err = chromedp.Run(ctx,
		chromedp.Navigate(srv.URL()),
		chromedp.Poll(fmt.Sprintf(`window.sqStats && window.sqStats.frames >= %d`, frames), nil, chromedp.WithPollingTimeout(30*time.Second)),
	)
	if err != nil {
		t.Fatalf("the page drew fewer than %d frames: %v (console: %q)", frames, err, consoleErrors())
	}
	var st struct {
		Frames      int     `json:"frames"`
		RenderMs    float64 `json:"renderMs"`
		MaxRenderMs float64 `json:"maxRenderMs"`
		Rows        int     `json:"rows"`
	}
	if err := chromedp.Run(ctx, chromedp.Evaluate(`window.sqStats`, &st)); err != nil {
		t.Fatal(err)
	}
	if st.Rows != 250 {
		t.Errorf("%d rows, want 250", st.Rows)
	}
	t.Logf("250 drones: last frame rendered in %.1f ms, slowest of %d frames %.1f ms (headless Chromium, software rendering)",
		st.RenderMs, st.Frames, st.MaxRenderMs)
	if errs := consoleErrors(); len(errs) > 0 {
		t.Errorf("console errors: %q", errs)
	}
}
