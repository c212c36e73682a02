package main

import (
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/swarm/show/demo"
	"github.com/skyquorum/skyquorum/swarm/show/showcsv"
	"github.com/skyquorum/skyquorum/swarm/show/skyc"
)

// writeCSVShow writes a small CSV show: n drones 3 m apart on a line,
// climbing to 5 m, moving 4 m north and landing, lights red then blue;
// drone 2 flies gap metres from drone 1 at its closest.
func writeCSVShow(t *testing.T, n int, gap float64) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "csv")
	require.NoError(t, os.Mkdir(dir, 0o755))
	for k := range n {
		y := 3 * float64(k)
		closest := y
		if k == 1 {
			closest = gap
		}
		rows := []string{showcsv.Header,
			fmt.Sprintf("0,0,%g,0,0,0,0", y),
			fmt.Sprintf("2000,0,%g,5,255,0,0", y),
			fmt.Sprintf("4000,2,%g,5,255,0,0", closest),
			fmt.Sprintf("6000,4,%g,5,0,0,255", y),
			fmt.Sprintf("8000,4,%g,0,0,0,255", y),
		}
		name := filepath.Join(dir, fmt.Sprintf("Drone %d.csv", k+1))
		require.NoError(t, os.WriteFile(name, []byte(strings.Join(rows, "\n")+"\n"), 0o644))
	}
	return dir
}

func TestShowUsage(t *testing.T) {
	dir := writeCSVShow(t, 2, 3)
	for _, args := range [][]string{
		{"show"},
		{"show", "bogus"},
		{"show", "info"},
		{"show", "info", dir, "extra"},
		{"show", "info", dir, "--bogus"},
		{"show", "validate", dir, "--sample-ms", "0"},
		{"show", "validate", dir, "--sample-ms", "x"},
		{"show", "import", dir},
		{"show", "import", dir, "--out", "x.bin", "--origin", "1,2,3"},
		{"show", "import", dir, "--out", filepath.Join(t.TempDir(), "x.sqshow"), "--origin", "1,2"},
		{"show", "import", dir, "--out", filepath.Join(t.TempDir(), "x.sqshow"), "--origin", "95,2,3"},
		{"show", "import", dir, "--out", filepath.Join(t.TempDir(), "x.sqshow"), "--origin", "1,2,3", "--fence", "0,0;1"},
		{"show", "export", dir},
		{"show", "export", dir, "--csv", "x.zip", "--period-ms", "-1"},
	} {
		code, _, errOut := runCmd(args...)
		assert.Equal(t, exitUsage, code, "%q: %s", args, errOut)
		assert.NotEmpty(t, errOut, "%q", args)
	}
	for _, sub := range []string{"import", "validate", "info", "export"} {
		code, _, errOut := runCmd("show", sub, "--help")
		assert.Equal(t, exitOK, code, sub)
		assert.Contains(t, errOut, "Usage: groundstation show "+sub)
	}
	code, out, _ := runCmd("show", "--help")
	assert.Equal(t, exitOK, code)
	assert.Contains(t, out, "import FILE --out")
	code, _, errOut := runCmd("show", "info", filepath.Join(t.TempDir(), "missing.sqshow"))
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "no such file")
}

// TestShowImportNeedsOrigin: a CSV carries no origin, and import refuses
// to write a show that is not placed.
func TestShowImportNeedsOrigin(t *testing.T) {
	dir := writeCSVShow(t, 2, 3)
	out := filepath.Join(t.TempDir(), "show.sqshow")
	code, _, errOut := runCmd("show", "import", dir, "--out", out)
	assert.Equal(t, exitUsage, code)
	assert.Contains(t, errOut, "pass --origin LAT,LON,AMSL")
	assert.NoFileExists(t, out)
	entries, err := os.ReadDir(filepath.Dir(out))
	require.NoError(t, err)
	assert.Empty(t, entries, "no temporary file left")
}

// TestShowRoundTrip: import a CSV show, describe it, validate it, export
// it and import the export.
func TestShowRoundTrip(t *testing.T) {
	dir := writeCSVShow(t, 3, 3)
	out := filepath.Join(t.TempDir(), "show.sqshow")
	code, stdout, errOut := runCmd("show", "import", dir, "--out", out, "--origin", "47.3977419,8.5455938,488.5",
		"--orientation", "15", "--min-distance", "1.5", "--max-altitude", "20", "--fence", "-10,-10;10,-10;10,20;-10,20", "--title", "three")
	require.Equal(t, exitOK, code, errOut)
	assert.Contains(t, stdout, "wrote "+out+": 3 drones, 8.000 s")
	raw, err := os.ReadFile(out)
	require.NoError(t, err)
	sum := sha256.Sum256(raw)

	code, stdout, errOut = runCmd("show", "info", out, "--json")
	require.Equal(t, exitOK, code, errOut)
	var info map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &info))
	assert.Equal(t, "three", info["title"])
	assert.Equal(t, 3.0, info["drones"])
	assert.Equal(t, 8.0, info["duration_s"])
	assert.Equal(t, []any{0.0, 0.0, 0.0}, info["min_xyz_m"])
	assert.Equal(t, []any{4.0, 6.0, 5.0}, info["max_xyz_m"])
	assert.Equal(t, map[string]any{"Lat": 47.3977419, "Lon": 8.5455938, "AMSL": 488.5}, info["origin"])
	assert.Equal(t, 15.0, info["orientation_deg"])
	assert.Equal(t, 1.5, info["limits"].(map[string]any)["min_distance_m"])
	assert.Len(t, info["fence"], 4)
	assert.Equal(t, float64(len(raw)), info["encoded_bytes"])
	assert.Equal(t, fmt.Sprintf("%x", sum), info["hash"])
	assert.Equal(t, fmt.Sprintf("0x%x", sum[:8]), info["digest"])
	assert.Equal(t, 6.0, info["light_program_s"], "the fade to blue ends at 6 s")

	code, stdout, errOut = runCmd("show", "info", out)
	require.Equal(t, exitOK, code, errOut)
	assert.Regexp(t, `(?m)^drones\s+3$`, stdout)
	assert.Regexp(t, `(?m)^hash\s+`+fmt.Sprintf("%x", sum)+`$`, stdout)
	assert.Regexp(t, `(?m)^origin\s+47.3977419, 8.5455938, 488.500 m AMSL$`, stdout)

	code, stdout, errOut = runCmd("show", "validate", out)
	require.Equal(t, exitOK, code, errOut)
	assert.True(t, strings.HasPrefix(stdout, "OK"), stdout)

	zipPath := filepath.Join(t.TempDir(), "show.zip")
	code, _, errOut = runCmd("show", "export", out, "--csv", zipPath, "--period-ms", "0")
	require.Equal(t, exitOK, code, errOut)
	again := filepath.Join(t.TempDir(), "again.sqshow")
	code, _, errOut = runCmd("show", "import", zipPath, "--out", again, "--origin", "47.3977419,8.5455938,488.5",
		"--orientation", "15", "--min-distance", "1.5", "--max-altitude", "20", "--fence", "-10,-10;10,-10;10,20;-10,20", "--title", "three")
	require.Equal(t, exitOK, code, errOut)
	b, err := os.ReadFile(again)
	require.NoError(t, err)
	assert.Equal(t, raw, b, "exporting keyframes and importing them gives back the same show")

	// The flags of info override the file's.
	code, stdout, errOut = runCmd("show", "info", out, "--json", "--min-distance", "2")
	require.Equal(t, exitOK, code, errOut)
	require.NoError(t, json.Unmarshal([]byte(stdout), &info))
	assert.Equal(t, 2.0, info["limits"].(map[string]any)["min_distance_m"])
	assert.NotEqual(t, fmt.Sprintf("%x", sum), info["hash"])
}

// TestShowValidateViolation: drone 2 comes within 1 m of drone 1 at 4 s;
// with --min-distance 1.5 validate prints the violation and exits 1, and
// --json reports it.
func TestShowValidateViolation(t *testing.T) {
	dir := writeCSVShow(t, 3, 1)
	code, stdout, errOut := runCmd("show", "validate", dir, "--min-distance", "1.5")
	require.Equal(t, exitFail, code, errOut)
	lines := strings.Split(strings.TrimSpace(stdout), "\n")
	require.Len(t, lines, 1, stdout)
	assert.Contains(t, lines[0], "min-distance")
	assert.Contains(t, lines[0], "drones 1, 2")
	assert.Contains(t, lines[0], "1.000 m")

	code, stdout, errOut = runCmd("show", "validate", dir, "--min-distance", "1.5", "--json")
	require.Equal(t, exitFail, code, errOut)
	var rep map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &rep))
	assert.Equal(t, false, rep["ok"])
	assert.Equal(t, 1.0, rep["violations_total"])
	v := rep["violations"].([]any)[0].(map[string]any)
	assert.Equal(t, "min-distance", v["rule"])
	assert.Equal(t, []any{1.0, 2.0}, v["drones"])
	assert.InDelta(t, 1.0, v["value"], 1e-9)
	assert.Equal(t, 1.5, v["limit"])

	// Within the limit: OK with the figures.
	code, stdout, errOut = runCmd("show", "validate", dir, "--min-distance", "0.99")
	require.Equal(t, exitOK, code, errOut)
	assert.Regexp(t, `^OK: 3 drones, 8.000 s; closest approach 1.000 m \(drones 1, 2 at 4.000 s\)`, stdout)
}

// TestShowKinds: a single CSV is a one-drone show; a file of another kind
// is refused, naming the kinds read.
func TestShowKinds(t *testing.T) {
	dir := writeCSVShow(t, 2, 3)
	code, stdout, errOut := runCmd("show", "info", filepath.Join(dir, "Drone 2.csv"), "--json")
	require.Equal(t, exitOK, code, errOut)
	var info map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &info))
	assert.Equal(t, 1.0, info["drones"])
	assert.Equal(t, []any{0.0, 3.0, 0.0}, info["min_xyz_m"])

	other := filepath.Join(t.TempDir(), "show.txt")
	require.NoError(t, os.WriteFile(other, []byte("hello"), 0o644))
	code, _, errOut = runCmd("show", "info", other)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "not a show file: want .sqshow, .skyc, .zip or .csv")

	bad := filepath.Join(t.TempDir(), "bad.sqshow")
	require.NoError(t, os.WriteFile(bad, []byte{1, 2, 3}, 0o644))
	code, _, errOut = runCmd("show", "validate", bad)
	assert.Equal(t, exitFail, code)
	assert.Contains(t, errOut, "bad.sqshow: show: bad encoding")
}

// TestShowSkyc: a .skyc (here the demo show, exported by swarm/show/skyc)
// imports, describes and validates like any show file.
func TestShowSkyc(t *testing.T) {
	s, err := demo.New(4)
	require.NoError(t, err)
	dir := t.TempDir()
	in := filepath.Join(dir, "demo.skyc")
	f, err := os.Create(in)
	require.NoError(t, err)
	require.NoError(t, skyc.Export(f, s))
	require.NoError(t, f.Close())

	out := filepath.Join(dir, "demo.sqshow")
	code, _, errOut := runCmd("show", "import", in, "--out", out, "--origin", "47.3977419,8.5455938,488.5")
	require.Equal(t, exitOK, code, errOut)
	code, stdout, errOut := runCmd("show", "info", out, "--json")
	require.Equal(t, exitOK, code, errOut)
	var info map[string]any
	require.NoError(t, json.Unmarshal([]byte(stdout), &info))
	assert.Equal(t, 4.0, info["drones"])
	assert.Equal(t, s.Duration().Seconds(), info["duration_s"])
	code, stdout, errOut = runCmd("show", "validate", in)
	require.Equal(t, exitOK, code, errOut)
	assert.True(t, strings.HasPrefix(stdout, "OK: 4 drones"), stdout)
}
