package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"image"
	"image/png"
	"io"
	"log/slog"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/cmd/groundstation/web"
	"github.com/skyquorum/skyquorum/cmd/groundstation/web/webtest"
	"github.com/skyquorum/skyquorum/firmware/runner"
	"github.com/skyquorum/skyquorum/sitl/hub"
	"github.com/skyquorum/skyquorum/sitl/live"
	"github.com/skyquorum/skyquorum/swarm/airspace"
	"github.com/skyquorum/skyquorum/swarm/show/demo"
)

// artifactsDir is where a test saves what CI keeps (screenshots): a
// directory of the test's own under $SKYQUORUM_ARTIFACTS, or a temporary
// one.
func artifactsDir(t *testing.T) string {
	base := os.Getenv("SKYQUORUM_ARTIFACTS")
	if base == "" {
		return t.TempDir()
	}
	dir := filepath.Join(base, t.Name())
	require.NoError(t, os.MkdirAll(dir, 0o755))
	return dir
}

// drawnDrone is a drone as the page drew it in the top view (canvas
// pixels), from window.sqStats.top.
type drawnDrone struct {
	ID    uint16  `json:"id"`
	Color string  `json:"color"`
	X     float64 `json:"x"`
	Y     float64 `json:"y"`
	R     float64 `json:"r"`
}

// drawnCell is a shaded airspace cell of the top view (canvas pixels).
type drawnCell struct {
	Cell int     `json:"cell"`
	ID   uint16  `json:"id"`
	X    float64 `json:"x"`
	Y    float64 `json:"y"`
	W    float64 `json:"w"`
	H    float64 `json:"h"`
}

// row is a row of the page's drone table, by its data attributes.
type row struct {
	ID     string `json:"id"`
	Color  string `json:"color"`
	Leader string `json:"leader"`
	Cell   string `json:"cell"`
}

// pageView is the picture the page holds still: its table, what it drew
// in the top view, and a screenshot of the top view.
type pageView struct {
	rows  []row
	top   []drawnDrone
	cells []drawnCell
	shot  image.Image
	scale float64
}

// holdAndLook holds the page's picture still (window.sqHold), reads it
// and screenshots the top view, saving the page's screenshot as name.
func holdAndLook(t *testing.T, ctx context.Context, dir, name string) pageView {
	t.Helper()
	var v pageView
	var topPNG, pagePNG []byte
	var width int
	err := chromedp.Run(ctx,
		chromedp.Evaluate(`window.sqHold = true`, nil),
		// A frame drawn just before the hold is complete.
		chromedp.Sleep(100*time.Millisecond),
		chromedp.Evaluate(`[...document.querySelectorAll("#drones tbody tr")].map(r => ({id: r.dataset.id, color: r.dataset.color, leader: r.dataset.leader, cell: r.dataset.cell}))`, &v.rows),
		chromedp.Evaluate(`window.sqStats.top || []`, &v.top),
		chromedp.Evaluate(`window.sqStats.cells || []`, &v.cells),
		chromedp.Evaluate(`document.getElementById("top").width`, &width),
		chromedp.Screenshot("#top", &topPNG, chromedp.ByID),
		chromedp.FullScreenshot(&pagePNG, 100),
		chromedp.Evaluate(`window.sqHold = false`, nil),
	)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, name), pagePNG, 0o644))
	img, err := png.Decode(bytes.NewReader(topPNG))
	require.NoError(t, err)
	v.shot = img
	// The element's screenshot includes its 1 px border.
	v.scale = float64(img.Bounds().Dx()) / float64(width+2)
	return v
}

// rgb parses "#rrggbb".
func rgb(s string) [3]int {
	var c [3]int
	if len(s) == 7 {
		for i := range 3 {
			v, _ := strconv.ParseUint(s[1+2*i:3+2*i], 16, 8)
			c[i] = int(v)
		}
	}
	return c
}

// at is the screenshot's colour at canvas pixel (x, y).
func (v pageView) at(x, y float64) [3]int {
	b := v.shot.Bounds()
	r, g, bl, _ := v.shot.At(b.Min.X+int((x+1)*v.scale), b.Min.Y+int((y+1)*v.scale)).RGBA()
	return [3]int{int(r >> 8), int(g >> 8), int(bl >> 8)}
}

// drawnInColour reports whether the screenshot shows drone d's disc in
// its colour: a pixel within 1 px of its centre within 24 of the colour
// on each channel.
func (v pageView) drawnInColour(d drawnDrone) bool {
	want := rgb(d.Color)
	for dx := -1.0; dx <= 1; dx++ {
		for dy := -1.0; dy <= 1; dy++ {
			got := v.at(d.X+dx, d.Y+dy)
			ok := true
			for i := range 3 {
				if got[i]-want[i] > 24 || want[i]-got[i] > 24 {
					ok = false
				}
			}
			if ok {
				return true
			}
		}
	}
	return false
}

// snapshot reads the dashboard's picture from its API.
func snapshot(t *testing.T, url string) web.Snapshot {
	t.Helper()
	resp, err := http.Get(url + "api/snapshot")
	require.NoError(t, err)
	defer resp.Body.Close()
	var sn web.Snapshot
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&sn))
	return sn
}

// TestDashboardLiveSwarm opens the dashboard of groundstation connect on
// a live SITL swarm (a radio hub and six drone processes) in a headless
// Chromium, and checks what an operator sees: every drone in the table
// and drawn in its colour (the screenshot's pixels), the leader mark
// moving to another drone when the leader's process is killed, the show
// clock stopping after a click on Pause, the airspace cells drones hold
// shaded, and the command log. Its screenshots are saved under
// $SKYQUORUM_ARTIFACTS.
func TestDashboardLiveSwarm(t *testing.T) {
	if testing.Short() {
		t.Skip("runs drone processes and a browser in real time")
	}
	ctx, consoleErrors := webtest.Browser(t, 1280, 800, 170*time.Second)
	born := time.Now()
	dir := artifactsDir(t)
	const drones = 6
	bin := buildGroundstation(t)
	work := t.TempDir()
	sh, err := demo.New(drones)
	require.NoError(t, err)
	b, err := sh.Encode()
	require.NoError(t, err)
	showPath := filepath.Join(work, "demo.sqshow")
	require.NoError(t, os.WriteFile(showPath, b, 0o644))
	grid, err := runner.ShowGrid(sh)
	require.NoError(t, err)

	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	h, err := hub.Start(hub.Config{Baud: 57600, Seed: 3, Logger: quiet})
	require.NoError(t, err)
	defer h.Close()
	sw, err := live.Start(live.Config{Drones: drones, Program: []string{bin, "drone"}, Dir: work,
		Show: showPath, Seed: 3, HubAddr: func(int) string { return h.Addr(1) }, Logger: quiet})
	require.NoError(t, err)
	defer sw.Stop()
	sock := filepath.Join(work, "gs.sock")
	var out, errOut lockedBuffer
	conn := exec.Command(bin, "connect", "--udp", "127.0.0.1:0", "--peer", h.Addr(1), "--hub", "--key", sw.KeyFile(),
		"--members", fmt.Sprintf("1-%d", drones), "--socket", sock, "--http", "127.0.0.1:0", "--show", showPath)
	conn.Stdout, conn.Stderr = &out, &errOut
	require.NoError(t, conn.Start())
	defer conn.Process.Kill()
	var url string
	require.Eventually(t, func() bool {
		m := regexp.MustCompile(`dashboard: (http://127\.0\.0\.1:[0-9]+/)\n`).FindStringSubmatch(out.String())
		if m != nil {
			url = m[1]
		}
		return m != nil
	}, 20*time.Second, 50*time.Millisecond, "connect printed no dashboard address:\n%s\n%s", &out, &errOut)
	require.NoError(t, chromedp.Run(ctx, chromedp.Navigate(url)))

	// Every drone reporting under one leader (drones without state
	// listen 20 s for a running swarm, then elect).
	everyDrone := fmt.Sprintf(`(() => { const s = window.sqStats; if (!s || !s.top) return false;
		const rows = document.querySelectorAll("#drones tbody tr");
		return rows.length == %d && document.querySelectorAll('#drones tr[data-leader="1"]').length == 1 &&
			[...rows].every(r => !r.classList.contains("dead") && !r.classList.contains("notready")) && s.top.length == %d; })()`, drones, drones)
	err = chromedp.Run(ctx, chromedp.Poll(everyDrone, nil, chromedp.WithPollingTimeout(60*time.Second), chromedp.WithPollingInterval(200*time.Millisecond)))
	require.NoError(t, err, "the page never showed %d ready drones under one leader; console %q; connect:\n%s", drones, consoleErrors(), &out)
	t.Logf("%.1f s: the page shows %d ready drones under one leader", time.Since(born).Seconds(), drones)
	check := func(v pageView, when string) (leader uint16) {
		t.Helper()
		require.Len(t, v.rows, drones, when)
		ids := map[string]bool{}
		for _, r := range v.rows {
			ids[r.ID] = true
			assert.Regexp(t, `^#[0-9a-f]{6}$`, r.Color, "%s: drone %s's colour attribute", when, r.ID)
			if r.Leader == "1" {
				id, _ := strconv.Atoi(r.ID)
				leader = uint16(id)
			}
		}
		for id := 1; id <= drones; id++ {
			assert.True(t, ids[strconv.Itoa(id)], "%s: no row of drone %d", when, id)
		}
		require.Len(t, v.top, drones, when)
		seen, hidden := 0, 0
		for i, d := range v.top {
			// A drone drawn later within a disc's width covers it (from
			// above, drones one over the other).
			covered := false
			for _, e := range v.top[i+1:] {
				if (e.X-d.X)*(e.X-d.X)+(e.Y-d.Y)*(e.Y-d.Y) < 4*d.R*d.R {
					covered = true
				}
			}
			switch {
			case covered:
				hidden++
			case v.drawnInColour(d):
				seen++
			default:
				t.Errorf("%s: drone %d is not drawn in %s at (%.0f, %.0f) of the top view: the screenshot has %v there",
					when, d.ID, d.Color, d.X, d.Y, v.at(d.X, d.Y))
			}
		}
		assert.GreaterOrEqual(t, seen, drones/2, "%s: drones seen in their colours (%d hidden under others)", when, hidden)
		t.Logf("%s: %d of %d drones drawn in their colours, %d hidden under others; leader %d", when, seen, drones, hidden, leader)
		return leader
	}
	v := holdAndLook(t, ctx, dir, "1-ready.png")
	leader := check(v, "ready")
	require.NotZero(t, leader, "no row marked as the leader")
	assert.Equal(t, []uint16{leader}, snapshot(t, url).Leaders, "the page's leader and the API's")

	// LOAD, ARM and START through connect's control socket.
	for _, args := range [][]string{{"load", "1", "--show", showPath}, {"arm"}, {"start", "--at", "+6s"}} {
		var stdout, stderr bytes.Buffer
		code := run(append(append([]string{"command"}, args...), "--socket", sock, "--timeout", "20s"), &stdout, &stderr)
		require.Equal(t, exitOK, code, "command %v: %s%s", args, &stdout, &stderr)
	}
	showT := func() float64 {
		var s string
		require.NoError(t, chromedp.Run(ctx, chromedp.Text("#showT", &s, chromedp.ByID)))
		f, _ := strconv.ParseFloat(s, 64)
		return f
	}
	err = chromedp.Run(ctx, chromedp.Poll(`parseFloat(document.getElementById("showT").textContent) >= 2`, nil,
		chromedp.WithPollingTimeout(30*time.Second), chromedp.WithPollingInterval(200*time.Millisecond)))
	require.NoError(t, err, "the show clock never passed 2 s; connect:\n%s", &out)
	t.Logf("%.1f s: the show runs: show time %.1f s", time.Since(born).Seconds(), showT())

	// The leader's process dies; another drone takes the mark.
	require.NoError(t, sw.Kill(leader))
	killed := time.Now()
	newLeader := fmt.Sprintf(`(() => { const r = document.querySelector('#drones tr[data-leader="1"]');
		return r && r.dataset.id != "%d" && !r.classList.contains("dead") && window.sqStats.leaderMarks == 2; })()`, leader)
	err = chromedp.Run(ctx, chromedp.Poll(newLeader, nil, chromedp.WithPollingTimeout(45*time.Second), chromedp.WithPollingInterval(200*time.Millisecond)))
	require.NoError(t, err, "the leader mark stayed on killed drone %d; connect:\n%s", leader, &out)
	v = holdAndLook(t, ctx, dir, "2-new-leader.png")
	var next uint16
	for _, r := range v.rows {
		if r.Leader == "1" {
			id, _ := strconv.Atoi(r.ID)
			next = uint16(id)
		}
	}
	t.Logf("%.1f s: leader %d killed; the mark moved to drone %d after %.1f s", time.Since(born).Seconds(), leader, next,
		time.Since(killed).Seconds())
	assert.NotEqual(t, leader, next)

	// Mid-show, once the lights are bright: every drone drawn in its
	// colour (the dead one in grey).
	err = chromedp.Run(ctx, chromedp.Poll(`[...document.querySelectorAll("#drones tbody tr:not(.dead)")].every(r =>
		Math.max(...[1, 3, 5].map(i => parseInt(r.dataset.color.substr(i, 2), 16))) >= 128)`, nil,
		chromedp.WithPollingTimeout(30*time.Second), chromedp.WithPollingInterval(200*time.Millisecond)))
	require.NoError(t, err, "the drones' lights never lit up; connect:\n%s", &out)
	check(holdAndLook(t, ctx, dir, "3-show.png"), "mid-show")

	// Pause from the page: the show clock stops (5 s ahead in swarm
	// time, so that every drone has it in time).
	before := showT()
	require.NoError(t, chromedp.Run(ctx, chromedp.Click(`#controls button[data-op="pause"]:not([data-emergency])`, chromedp.ByQuery)))
	// Two followers take the cells they are in meanwhile.
	sn := snapshot(t, url)
	want := map[uint16]int{}
	used := map[int]bool{}
	for _, d := range sn.Drones {
		if d.ID == leader || d.ID == next || !d.Live || len(want) == 2 {
			continue
		}
		c, err := grid.CellOf(airspace.Point{X: d.Pos[0], Y: d.Pos[1], Z: d.Pos[2]})
		require.NoError(t, err, "drone %d at %v", d.ID, d.Pos)
		for used[int(c)] {
			c = (c + 1) % airspace.Cell(grid.Cells())
		}
		used[int(c)] = true
		require.NoError(t, sw.Proc(d.ID).Control(fmt.Sprintf("acquire %d", c)))
		want[d.ID] = int(c)
	}
	err = chromedp.Run(ctx, chromedp.Poll(`[...document.querySelectorAll("#log tbody tr")].some(r => r.textContent.includes("PAUSE"))`, nil,
		chromedp.WithPollingTimeout(20*time.Second), chromedp.WithPollingInterval(200*time.Millisecond)))
	require.NoError(t, err, "the command log never showed the PAUSE; connect:\n%s", &out)
	t.Logf("drones take airspace cells %v", want)
	var paused []float64
	require.Eventually(t, func() bool {
		a := showT()
		time.Sleep(1200 * time.Millisecond)
		b := showT()
		paused = []float64{a, b}
		return a > before && a == b
	}, 25*time.Second, 100*time.Millisecond, "the show clock did not stop after Pause (read %v, %.1f s before the click)", paused, before)
	t.Logf("%.1f s: paused: the show clock read %.1f s twice 1.2 s apart (%.1f s when Pause was clicked)",
		time.Since(born).Seconds(), paused[0], before)

	// The held cells are shaded: each drone's cell, where its rectangle
	// is not covered by a drone, is the shade's colour, lighter and bluer
	// than the empty view.
	cellsShown := func() bool {
		var rows []row
		if chromedp.Run(ctx, chromedp.Evaluate(`[...document.querySelectorAll("#drones tbody tr")].map(r => ({id: r.dataset.id, cell: r.dataset.cell}))`, &rows)) != nil {
			return false
		}
		n := 0
		for _, r := range rows {
			id, _ := strconv.Atoi(r.ID)
			if c, ok := want[uint16(id)]; ok && r.Cell == strconv.Itoa(c) {
				n++
			}
		}
		return n == len(want)
	}
	require.Eventually(t, cellsShown, 20*time.Second, 200*time.Millisecond, "the table never showed cells %v held", want)
	v = holdAndLook(t, ctx, dir, "4-paused-cells-log.png")
	for id, c := range want {
		var dc *drawnCell
		for i := range v.cells {
			if v.cells[i].Cell == c {
				dc = &v.cells[i]
			}
		}
		if !assert.NotNil(t, dc, "cell %d of drone %d not shaded; shaded: %+v", c, id, v.cells) {
			continue
		}
		assert.InDelta(t, grid.Size.X, dc.H/dc.W*grid.Size.Y, 0.01, "cell %d drawn %.0f×%.0f px, not the grid's %v×%v m", c, dc.W, dc.H, grid.Size.Y, grid.Size.X)
		// Sample a 5×5 lattice inside the cell, away from the drones.
		shaded, samples := 0, 0
		for i := 1; i <= 5; i++ {
			for j := 1; j <= 5; j++ {
				x, y := dc.X+dc.W*float64(i)/6, dc.Y+dc.H*float64(j)/6
				near := false
				for _, d := range v.top {
					if (d.X-x)*(d.X-x)+(d.Y-y)*(d.Y-y) < (d.R+14)*(d.R+14) {
						near = true
					}
				}
				if near {
					continue
				}
				samples++
				if p := v.at(x, y); p[2] > 50 && p[2] > p[0]+20 {
					shaded++
				}
			}
		}
		t.Logf("cell %d of drone %d: %.0f×%.0f px; %d of %d samples shaded", c, id, dc.W, dc.H, shaded, samples)
		assert.Greater(t, samples, 5, "cell %d: too few samples clear of the drones", c)
		assert.Equal(t, samples, shaded, "cell %d of drone %d: shaded samples", c, id)
	}
	var logText string
	require.NoError(t, chromedp.Run(ctx, chromedp.Text("#log", &logText, chromedp.ByID)))
	for _, c := range []string{"LOAD", "ARM", "START", "PAUSE"} {
		assert.Contains(t, logText, c, "the command log")
	}
	assert.Empty(t, consoleErrors(), "console errors")
	t.Logf("%.1f s in all; screenshots in %s", time.Since(born).Seconds(), dir)
}
