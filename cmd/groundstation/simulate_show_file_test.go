package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/swarm/show"
	"github.com/skyquorum/skyquorum/swarm/show/skyc"
)

// moves is a small show of four drones 4 m apart flying segments of every
// order, all starting and ending at rest: a cubic climb to 6 m, a move 6 m
// north as a quadratic speed-up, a straight cruise and a quadratic
// slow-down (uniform acceleration of 0.75 m/s²), a cubic landing; lights
// with sets, fades, a loop and a wait.
func moves() *show.Show {
	s := &show.Show{
		Title: "moves", HasOrigin: true, Origin: show.Origin{Lat: 46.5, Lon: 6.6, AMSL: 372},
		Fence:  show.Fence{Polygon: [][2]float64{{-50, -50}, {50, -50}, {50, 50}, {-50, 50}}},
		Limits: show.Limits{MaxAltitude: 20, MaxSpeedXY: 3, MaxSpeedUp: 2, MaxSpeedDown: 2, MaxAccel: 2, MinDistance: 2},
	}
	sec := func(v float64) time.Duration { return time.Duration(v * float64(time.Second)) }
	for i := range 4 {
		h := show.Vec3{Y: 4 * float64(i)}
		up := h.Add(show.Vec3{Z: 6})
		at := func(x float64) show.Vec3 { return up.Add(show.Vec3{X: x}) }
		end := h.Add(show.Vec3{X: 6})
		lights := show.Program(nil).Set(show.RGB{R: 255}, sec(2)).Fade(show.RGB{B: 255}, sec(4)).
			Loop(5, show.Program(nil).Set(show.RGB{R: 255, G: 255, B: 255}, sec(0.2)).Set(show.RGB{}, sec(0.2))).
			WaitUntil(sec(14)).Fade(show.RGB{G: 255}, sec(4)).End()
		s.Drones = append(s.Drones, show.Drone{
			Name: "drone " + string(rune('1'+i)), Home: h, Land: end, Takeoff: 0, Landing: sec(18),
			Path: []show.Keyframe{
				{At: 0, Pos: h},
				{At: sec(6), Pos: up, Ctrl: []show.Vec3{h, up}},
				{At: sec(8), Pos: at(1.5), Ctrl: []show.Vec3{up}},
				{At: sec(10), Pos: at(4.5)},
				{At: sec(12), Pos: at(6), Ctrl: []show.Vec3{at(6)}},
				{At: sec(18), Pos: end, Ctrl: []show.Vec3{at(6), end}},
			},
			Lights: lights,
		})
	}
	s.Quantize()
	return s
}

// A .skyc written from the format description imports, validates and is
// flown by `simulate show --show`: no two vehicles closer than the show's
// minimum distance, and every vehicle within half of it of its path.
func TestSimulateShowFlysSkyc(t *testing.T) {
	path := filepath.Join(t.TempDir(), "moves.skyc")
	f, err := os.Create(path)
	require.NoError(t, err)
	require.NoError(t, skyc.Export(f, moves()))
	require.NoError(t, f.Close())

	code, out, errOut := runCmd("show", "validate", path)
	require.Equal(t, exitOK, code, "validate: %s%s", out, errOut)

	code, out, errOut = runCmd("simulate", "show", "--show", path, "--duration", "60", "--settle", "20", "--seed", "3", "--json")
	require.Equal(t, exitOK, code, "seed=3: %s", errOut)
	var got map[string]any
	require.NoError(t, json.Unmarshal([]byte(strings.TrimSpace(out)), &got))
	assert.Equal(t, 4.0, got["drones"], "--drones comes from the show")
	assert.Equal(t, 4.0, got["show_drones"])
	assert.Equal(t, 18.0, got["show_duration_s"])
	assert.Equal(t, "LANDING", got["show_phase"], "seed=3")
	assert.Equal(t, 0.0, got["separation_violations"], "seed=3")
	assert.Less(t, got["show_deviation_m_max"], 1.0, "seed=3: within half the 2 m minimum distance")
	assert.Greater(t, got["min_separation_m"], 3.0, "seed=3: drones 4 m apart stay about that")
	t.Logf("seed=3: show_deviation_m_max %.3f m, min_separation_m %.3f m", got["show_deviation_m_max"], got["min_separation_m"])

	code, _, errOut = runCmd("simulate", "show", "--show", path, "--drones", "5")
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "the show has 4 drones")
	code, _, errOut = runCmd("simulate", "show", "--show", filepath.Join(t.TempDir(), "missing.skyc"))
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "missing.skyc")
}
