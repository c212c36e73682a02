package skyc

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/skyquorum/skyquorum/swarm/show"
)

// oneDrone is a show.json with one drone whose settings are given.
func oneDrone(settings string) string {
	return `{"version": 1, "swarm": {"drones": [{"type": "generic", "settings": ` + settings + `}]}}`
}

const okTraj = `{"version": 1, "points": [[0, [0, 0, 0], []], [1, [0, 0, 1], []]]}`

// Every kind of broken or hostile file is refused with an error that
// wraps the right sentinel and names what is wrong.
func TestHostile(t *testing.T) {
	show1 := func(s string) []byte { return archiveOf(t, member{"show.json", s}) }
	withTraj := func(traj string) []byte {
		return archiveOf(t,
			member{"show.json", oneDrone(`{"name": "d", "trajectory": {"$ref": "./t.json"}}`)},
			member{"t.json", traj})
	}
	refTo := func(ref string, extra ...member) []byte {
		return archiveOf(t, append([]member{{"show.json", oneDrone(`{"name": "d", "trajectory": {"$ref": "` + ref + `"}}`)}}, extra...)...)
	}
	chain := []member{{"show.json", oneDrone(`{"trajectory": {"$ref": "./c0.json"}}`)}}
	for i := range maxRefChain + 1 {
		chain = append(chain, member{fmt.Sprintf("c%d.json", i), fmt.Sprintf(`{"$ref": "./c%d.json"}`, i+1)})
	}
	chain = append(chain, member{fmt.Sprintf("c%d.json", maxRefChain+1), okTraj})
	for _, c := range []struct {
		name     string
		file     []byte
		sentinel error
		want     []string
	}{
		{"not a zip", []byte("show.json: {}"), ErrFormat, []string{"not a ZIP archive"}},
		{"no show.json", archiveOf(t, member{"other.json", "{}"}), ErrFormat, []string{"no member show.json"}},
		{"malformed JSON", show1(`{"version": 1, "swarm": {"drones": [`), ErrFormat, []string{"show.json"}},
		{"not an object", show1(`[1, 2]`), ErrFormat, []string{"show.json", "want a JSON object"}},
		{"version 2", show1(`{"version": 2, "swarm": {"drones": []}}`), ErrFormat, []string{"show.json: version: version 2 is not supported"}},
		{"no version", show1(`{"swarm": {"drones": []}}`), ErrFormat, []string{"show.json: version: missing"}},
		{"no drones", show1(`{"version": 1, "swarm": {"drones": []}}`), ErrFormat, []string{"swarm.drones: ", "no drones"}},
		{"trajectory version", withTraj(`{"version": 2, "points": []}`), ErrFormat, []string{"t.json: drone 1 (d): trajectory.version: version 2"}},
		{"ref ..", refTo("../t.json"), ErrRef, []string{`$ref "../t.json"`, `".." leaves the archive`, "drone 1 (d): trajectory"}},
		{"ref inner ..", refTo("./a/../../t.json"), ErrRef, []string{`".." leaves the archive`}},
		{"ref absolute", refTo("/etc/passwd"), ErrRef, []string{`$ref "/etc/passwd"`, "absolute path"}},
		{"ref URL", refTo("https://example.com/t.json"), ErrRef, []string{"not a path inside the archive"}},
		{"ref fragment", refTo("./t.json#/points", member{"t.json", okTraj}), ErrRef, []string{"fragment #/points is not supported"}},
		{"ref missing", refTo("./nowhere.json"), ErrRef, []string{`$ref "./nowhere.json"`, "no member nowhere.json"}},
		{"ref cycle", refTo("./a.json", member{"a.json", `{"$ref": "./b.json"}`}, member{"b.json", `{"$ref": "a.json#"}`}),
			ErrRef, []string{`$ref "a.json#": a cycle (a.json → b.json → a.json)`}},
		{"ref self", refTo("./a.json", member{"a.json", `{"$ref": "./a.json"}`}), ErrRef, []string{"a cycle (a.json → a.json)"}},
		{"ref cycle inside a point", withTraj(`{"points": [{"$ref": "./p.json"}]}` + "\n") /* p.json missing */, ErrRef, []string{"no member p.json", "points[0]"}},
		{"ref chain too deep", archiveOf(t, chain...), ErrRef, []string{"more than 16 $refs in a chain"}},
		{"huge exponent in a point", withTraj(`{"points": [[0, [0, 1e400, 0], []]]}`), ErrFormat,
			[]string{"t.json: drone 1 (d): trajectory.points[0].position[1]: ", "1e400 is not a finite number"}},
		{"huge exponent in a time", withTraj(`{"points": [[1e400, [0, 0, 0], []]]}`), ErrFormat, []string{"points[0].t: ", "1e400 is not a finite number"}},
		{"huge exponent in a limit", show1(`{"version": 1, "settings": {"validation": {"max_altitude": -1e999}}, "swarm": {"drones": []}}`),
			ErrFormat, []string{"settings.validation.max_altitude: ", "-1e999 is not a finite number"}},
		{"huge exponent in the origin", show1(`{"version": 1, "environment": {"location": {"origin": [1e309, 0]}}, "swarm": {"drones": []}}`),
			ErrFormat, []string{"environment.location.origin[0]", "not a finite number"}},
		{"time backwards", withTraj(`{"points": [[0, [0, 0, 0], []], [2, [0, 0, 1], []], [1, [0, 0, 2], []]]}`), ErrFormat,
			[]string{"drone 1 (d): trajectory.points[2]: ", "time 1 s does not come after the previous point's 2 s"}},
		{"time standing still", withTraj(`{"points": [[0, [0, 0, 0], []], [1, [0, 0, 1], []], [1.0004, [0, 0, 2], []]]}`), ErrFormat,
			[]string{"points[2]", "does not come after"}},
		{"negative show time", withTraj(`{"takeoffTime": 1, "points": [[-2, [0, 0, 0], []]]}`), ErrFormat, []string{"points[0]", "off the show's 0"}},
		{"point beyond range", withTraj(`{"points": [[0, [0, 0, 200000], []]]}`), ErrFormat, []string{"position", "beyond 100000 m"}},
		{"three control points", withTraj(`{"points": [[0, [0, 0, 0], []], [1, [0, 0, 1], [[0,0,0],[0,0,0],[0,0,0]]]]}`), ErrFormat,
			[]string{"points[1].control points: ", "3 control points, at most 2"}},
		{"control points on the first point", withTraj(`{"points": [[0, [0, 0, 0], [[1, 1, 1]]]]}`), ErrFormat, []string{"first point has control points"}},
		{"point not a triple", withTraj(`{"points": [[0]]}`), ErrFormat, []string{"points[0]", "is not [t, [x, y, z]"}},
		{"no points", withTraj(`{"points": []}`), ErrFormat, []string{"points: ", "no points"}},
		{"no trajectory", show1(oneDrone(`{"name": "d"}`)), ErrFormat, []string{"drone 1 (d): trajectory: ", "missing"}},
		{"landing before takeoff", withTraj(`{"takeoffTime": 5, "landingTime": 2, "points": [[0, [0, 0, 0], []]]}`), ErrFormat,
			[]string{"landing at 2s comes before takeoff at 5s"}},
		{"lights not base64", show1(oneDrone(`{"trajectory": ` + okTraj + `, "lights": {"version": 1, "data": "!!"}}`)), ErrFormat,
			[]string{"drone 1: lights.data: ", "not base64"}},
		{"lights version", show1(oneDrone(`{"trajectory": ` + okTraj + `, "lights": {"version": 7, "data": ""}}`)), ErrFormat,
			[]string{"drone 1: lights.version: ", "version 7"}},
		{"second inclusion polygon", show1(`{"version": 1, "settings": {"geofence": {"polygons": [
			{"isInclusion": true, "points": [[0,0],[1,0],[1,1]]}, {"isInclusion": true, "points": [[0,0],[1,0],[1,1]]}]}},
			"swarm": {"drones": []}}`), ErrFormat, []string{"settings.geofence.polygons[1]: ", "second inclusion polygon"}},
		{"fence of two vertices", show1(`{"version": 1, "settings": {"geofence": {"polygons": [{"isInclusion": true, "points": [[0,0],[1,0]]}]}}, "swarm": {"drones": []}}`),
			ErrFormat, []string{"polygons[0].points: ", "2 vertices"}},
		{"negative limit", show1(`{"version": 1, "settings": {"validation": {"minDistance": -1}}, "swarm": {"drones": []}}`),
			ErrFormat, []string{"validation.minDistance: ", "negative"}},
		{"too many members", archiveOf(t, member{"show.json", "{}"}, member{"a", ""}, member{"b", ""}), ErrFormat, []string{"3 members in the archive, at most 2"}},
		{"duplicate member", archiveOf(t, member{"show.json", "{}"}, member{"./show.json", "{}"}), ErrFormat, []string{"member show.json appears twice"}},
		{"small value too large", withTraj(`{"points": [[0, [0, 0, 0], [` + strings.Repeat(" ", maxSmallValue) + `]]]}`), ErrTooLarge,
			[]string{"points[0]", "bytes of JSON, at most"}},
	} {
		opt := Options{}
		if c.name == "too many members" {
			opt.MaxMembers = 2
		}
		_, _, err := importBytes(c.file, opt)
		if err == nil {
			t.Errorf("%s: imported", c.name)
			continue
		}
		if !errors.Is(err, c.sentinel) {
			t.Errorf("%s: error %v does not wrap %v", c.name, err, c.sentinel)
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not say %q", c.name, err, w)
			}
		}
	}
}

// A $ref inside a point (and anywhere the importer reads) stands for its
// member; a string that mentions "$ref" is just a string.
func TestRefAnywhere(t *testing.T) {
	file := archiveOf(t,
		member{"show.json", `{"version": {"$ref": "v.json"}, "meta": {"title": "about \"$ref\""},
		  "settings": {"cues": {"$ref": "./cues.json"}}, "swarm": {"$ref": "./swarm.json#"}}`},
		member{"cues.json", `{"version": 1, "items": [{"time": 1.5, "name": "go"}]}`},
		member{"v.json", `1`},
		member{"swarm.json", `{"drones": [{"settings": {"home": {"$ref": "home.json"}, "trajectory": {"points": {"$ref": "drones/Drone 1/points.json"}}}}]}`},
		member{"home.json", `[1, 2, 0]`},
		member{"drones/Drone 1/points.json", `[[0, {"$ref": "p0.json"}, []], {"$ref": "pt1.json"}]`},
		member{"p0.json", `[1, 2, 0]`},
		member{"pt1.json", `[3, [1, 2, {"$ref": "z.json"}], []]`},
		member{"z.json", `7`},
	)
	s, _, err := importBytes(file, Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := s.Drones[0]
	if len(s.Cues) != 1 || s.Cues[0] != (show.Cue{Name: "go", At: 1500 * time.Millisecond}) {
		t.Errorf("cues %v", s.Cues)
	}
	if s.Title != `about "$ref"` || d.Home != (show.Vec3{X: 1, Y: 2}) || len(d.Path) != 2 || d.Path[1].Pos != (show.Vec3{X: 1, Y: 2, Z: 7}) {
		t.Fatalf("title %q home %v path %v", s.Title, d.Home, d.Path)
	}
	// A member $ref'd by itself below a point: a cycle.
	file = archiveOf(t,
		member{"show.json", oneDrone(`{"trajectory": {"points": [[0, {"$ref": "p.json"}, []]]}}`)},
		member{"p.json", `[1, 2, {"$ref": "p.json"}]`})
	if _, _, err := importBytes(file, Options{}); !errors.Is(err, ErrRef) || !strings.Contains(err.Error(), "a cycle through p.json") {
		t.Fatalf("self-reference below a point: %v", err)
	}
	// One small member $ref'd many times over expands beyond the bound.
	file = archiveOf(t,
		member{"show.json", oneDrone(`{"trajectory": {"points": [[0, {"$ref": "p.json"}, []]]}}`)},
		member{"p.json", `[` + strings.Repeat(`{"$ref": "q.json"},`, 99) + `{"$ref": "q.json"}]`},
		member{"q.json", `[` + strings.Repeat(`1,`, 999) + `1]`})
	if _, _, err := importBytes(file, Options{}); !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "expands beyond") {
		t.Fatalf("expansion: %v", err)
	}
}

// The show format's counts: more drones than show.MaxDrones, more points
// than show.MaxKeyframes, are refused as soon as the count is passed.
func TestTooMany(t *testing.T) {
	if testing.Short() {
		t.Skip("builds files of a few megabytes")
	}
	var sb strings.Builder
	sb.WriteString(`{"version": 1, "swarm": {"drones": [`)
	for i := range show.MaxDrones + 1 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"settings": {"trajectory": {"points": [[0, [0, 0, 0]]]}, "lights": {"data": ""}}}`)
	}
	sb.WriteString(`]}}`)
	_, _, err := importBytes(archiveOf(t, member{"show.json", sb.String()}), Options{})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "swarm.drones: ") || !strings.Contains(err.Error(), fmt.Sprintf("more than %d elements", show.MaxDrones)) {
		t.Fatalf("%d drones: %v", show.MaxDrones+1, err)
	}
	sb.Reset()
	sb.WriteString(`{"points": [`)
	for i := range show.MaxKeyframes + 1 {
		if i > 0 {
			sb.WriteByte(',')
		}
		fmt.Fprintf(&sb, "[%d.%02d,[0,0,0]]", i/20, i%20*5) // every 50 ms
	}
	sb.WriteString(`]}`)
	file := archiveOf(t, member{"show.json", oneDrone(`{"trajectory": {"$ref": "t.json"}}`)}, member{"t.json", sb.String()})
	_, _, err = importBytes(file, Options{})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "t.json: drone 1: trajectory.points: ") ||
		!strings.Contains(err.Error(), fmt.Sprintf("more than %d elements", show.MaxKeyframes)) {
		t.Fatalf("%d points: %v", show.MaxKeyframes+1, err)
	}
}

// bomb returns a ZIP whose member name is n bytes of zeros, deflated to
// about n/1000 bytes, with the header declaring declared bytes. It is
// built from one compressed MiB repeated (each a sync-flushed run of
// non-final blocks), so building it costs little.
func bomb(t testing.TB, name string, n, declared uint64) []byte {
	t.Helper()
	var chunk bytes.Buffer
	fw, _ := flate.NewWriter(&chunk, flate.BestCompression)
	fw.Write(make([]byte, 1<<20))
	fw.Flush()
	one := bytes.Clone(chunk.Bytes())
	chunk.Reset()
	fw.Close() // the final, empty block
	tail := chunk.Bytes()
	var data bytes.Buffer
	for range n >> 20 {
		data.Write(one)
	}
	data.Write(tail)
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	f, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Deflate,
		CompressedSize64: uint64(data.Len()), UncompressedSize64: declared})
	if err != nil {
		t.Fatal(err)
	}
	f.Write(data.Bytes())
	zw.Close()
	return buf.Bytes()
}

// Zip bombs of 1 GiB are refused without reading them: the memory that
// importing one allocates in all stays far below its size.
func TestZipBomb(t *testing.T) {
	const gib = 1 << 30
	for _, c := range []struct {
		name     string
		file     []byte
		opt      Options
		sentinel error
		want     string
	}{
		// The header says 1 GiB: refused before reading.
		{"declared", bomb(t, "show.json", gib, gib), Options{}, ErrTooLarge, "member show.json declares 1073741824 bytes"},
		// The header says 1000 bytes: reading stops there (archive/zip
		// refuses a member longer than its header; the LimitReader would
		// stop it at the cap otherwise).
		{"lying header", bomb(t, "show.json", gib, 1000), Options{}, ErrFormat, "member show.json"},
		// Under a smaller cap, a header of 4 MiB is refused as well.
		{"small cap", bomb(t, "show.json", gib, 4<<20), Options{MaxMemberBytes: 1 << 20}, ErrTooLarge, "member show.json declares"},
	} {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		_, _, err := importBytes(c.file, c.opt)
		runtime.ReadMemStats(&after)
		if !errors.Is(err, c.sentinel) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want %v saying %q", c.name, err, c.sentinel, c.want)
		}
		alloc := after.TotalAlloc - before.TotalAlloc
		t.Logf("%s: a bomb of %d bytes in %d: %d bytes allocated", c.name, gib, len(c.file), alloc)
		if alloc > 16<<20 {
			t.Errorf("%s: importing a bomb of %d bytes (%d compressed) allocated %d bytes, want at most 16 MiB", c.name, gib, len(c.file), alloc)
		}
	}
}

// Members within their cap that together pass Options.MaxBytes: the
// limit on the total stops the one that passes it, however many bytes
// its header declares.
func TestTotalBytes(t *testing.T) {
	pad := strings.Repeat(" ", 600<<10)
	file := archiveOf(t,
		member{"show.json", `{"version": 1, "swarm": {"drones": [
		  {"settings": {"trajectory": {"$ref": "a.json"}}}, {"settings": {"trajectory": {"$ref": "b.json"}}}]}}`},
		member{"a.json", okTraj + pad},
		member{"b.json", okTraj + pad})
	if _, _, err := importBytes(file, Options{}); err != nil {
		t.Fatal(err)
	}
	_, _, err := importBytes(file, Options{MaxBytes: 1 << 20})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "member b.json") || !strings.Contains(err.Error(), "drone 2: trajectory") {
		t.Fatalf("past the total: %v", err)
	}
}

func TestCountElements(t *testing.T) {
	for _, c := range []struct {
		raw  string
		want int
	}{
		{`[]`, 0}, {` [ ] `, 0}, {`[1]`, 1}, {`[1, 2]`, 2}, {`[[1, 2], [3, [4, 5]], {"a": 1, "b": [6, 7]}]`, 3},
		{`["a,b", "c\",d", "\\", 4]`, 4}, {`[{}, []]`, 2}, {`[1, 2, 3, 4, 5, 6]`, 5 /* stops at 5 */},
	} {
		if got := countElements([]byte(c.raw), 5); got != c.want {
			t.Errorf("countElements(%s) = %d, want %d", c.raw, got, c.want)
		}
	}
}

// One member named by every drone costs as much as if each drone held
// it: the show's JSON, $refs expanded, stays within Options.MaxBytes.
func TestRefReuse(t *testing.T) {
	traj := okTraj + strings.Repeat(" ", 90<<10) // about 90 kB
	drones := strings.Repeat(`{"settings": {"trajectory": {"$ref": "t.json"}}},`, 99) + `{"settings": {"trajectory": {"$ref": "t.json"}}}`
	file := archiveOf(t, member{"show.json", `{"version": 1, "swarm": {"drones": [` + drones + `]}}`}, member{"t.json", traj})
	s, _, err := importBytes(file, Options{})
	if err != nil || len(s.Drones) != 100 {
		t.Fatalf("100 drones naming one trajectory: %v", err)
	}
	// 100 × 90 kB is past a bound of 4 MB, though every member is read once.
	_, _, err = importBytes(file, Options{MaxBytes: 4 << 20})
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "expand the show beyond 4194304 bytes") {
		t.Fatalf("past the bound: %v", err)
	}
}

func TestQuickNumbers(t *testing.T) {
	for _, c := range []struct {
		raw string
		ok  bool
	}{
		{"0", true}, {"-0", true}, {"1.5", true}, {"-12.25e-3", true}, {"1E+2", true}, {" 7 ", true},
		{"01", false}, {"1.", false}, {".5", false}, {"+1", false}, {"1e", false}, {"0x10", false}, {"Inf", false},
		{"NaN", false}, {"1_0", false}, {"1e400", false}, {"", false}, {"-", false}, {`"1"`, false},
	} {
		if _, ok := quickNumber([]byte(c.raw)); ok != c.ok {
			t.Errorf("quickNumber(%q) ok = %v, want %v", c.raw, ok, c.ok)
		}
	}
	for _, c := range []struct {
		raw string
		n   int
		ok  bool
	}{
		{"[]", 0, true}, {"[1, 2, 3]", 3, true}, {" [ 1 ,2 ] ", 2, true}, {"[1, 2, 3, 4]", 0, false},
		{"[1,]", 0, false}, {"[,1]", 0, false}, {`[1, {"$ref": "x"}]`, 0, false}, {"[[1]]", 0, false}, {"[1 2]", 0, false},
	} {
		v, ok := quickNumbers([]byte(c.raw), 3)
		if ok != c.ok || len(v) != c.n {
			t.Errorf("quickNumbers(%q) = %v, %v; want %d numbers, %v", c.raw, v, ok, c.n, c.ok)
		}
	}
}
