package skyc

import (
	"archive/zip"
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/skyquorum/skyquorum/swarm/show"
)

const sec = time.Second

// member is one file of a test archive.
type member struct{ name, body string }

// archiveOf zips members, in order.
func archiveOf(t testing.TB, members ...member) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	for _, m := range members {
		f, err := zw.Create(m.name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(f, m.body); err != nil {
			t.Fatal(err)
		}
	}
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func importBytes(b []byte, opt Options) (*show.Show, []Warning, error) {
	return Import(bytes.NewReader(b), int64(len(b)), opt)
}

// everyOp is a light program with every instruction a show may use:
// set colour, grey, black, white; the four fades; sleep; wait until;
// a loop; reset clock; a nop; a jump (to the end); end.
func everyOp() show.Program {
	p := show.Program{show.OpNop}
	p = p.Set(show.RGB{R: 255}, 1*sec)
	p = append(p, show.OpSetGrey, 100, 10, show.OpSetBlack, 10, show.OpSetWhite, 10)
	p = p.Fade(show.RGB{B: 255}, 2*sec)
	p = append(p, show.OpFadeGrey, 50, 25, show.OpFadeBlack, 25, show.OpFadeWhite, 25)
	p = p.Sleep(500 * time.Millisecond)
	p = p.Loop(3, show.Program(nil).Set(show.RGB{G: 255}, 200*time.Millisecond).Set(show.RGB{}, 200*time.Millisecond))
	p = p.WaitUntil(9 * sec)
	p = append(p, show.OpResetClock)
	p = p.Set(show.RGB{R: 1, G: 2, B: 3}, 1*sec)
	p = append(p, show.OpJump, byte(len(p)+2))
	return p.End()
}

// sample has a segment of each order, every light instruction, an
// origin, a fence, cues and every limit.
func sample() *show.Show {
	s := &show.Show{
		Title:       "round trip",
		Origin:      show.Origin{Lat: 47.3977419, Lon: 8.5455938, AMSL: 488.5},
		HasOrigin:   true,
		Orientation: 12.5,
		Fence:       show.Fence{Polygon: [][2]float64{{-50, -50}, {50, -50}, {50, 50}, {-50, 50}}},
		Limits:      show.Limits{MaxAltitude: 50, MaxSpeedXY: 8, MaxSpeedUp: 3, MaxSpeedDown: 2, MaxAccel: 4, MinDistance: 1.5},
		Cues:        []show.Cue{{Name: "heart", At: 4 * sec}, {Name: "end", At: 9500 * time.Millisecond}},
		Drones: []show.Drone{
			{
				Name: "one", Home: show.Vec3{}, Land: show.Vec3{}, Takeoff: 0, Landing: 10 * sec,
				Path: []show.Keyframe{
					{At: 0, Pos: show.Vec3{}},
					{At: 2 * sec, Pos: show.Vec3{Z: 4}},
					{At: 4 * sec, Pos: show.Vec3{X: 4, Z: 4}, Ctrl: []show.Vec3{{X: 2, Y: 2, Z: 4}}},
					{At: 6 * sec, Pos: show.Vec3{X: 4, Y: 4, Z: 4}, Ctrl: []show.Vec3{{X: 6, Z: 4}, {X: 6, Y: 4, Z: 4}}},
					{At: 10 * sec, Pos: show.Vec3{}, Ctrl: []show.Vec3{{X: 4, Y: 4, Z: 0.5}, {Z: 0.5}}},
				},
				Lights: everyOp(),
			},
			{
				Name: "two", Home: show.Vec3{X: 3}, Land: show.Vec3{X: 3, Y: 1}, Takeoff: 1500 * time.Millisecond, Landing: 9 * sec,
				Path: []show.Keyframe{
					{At: 1500 * time.Millisecond, Pos: show.Vec3{X: 3}},
					{At: 3 * sec, Pos: show.Vec3{X: 3, Z: 5.125}},
					{At: 9 * sec, Pos: show.Vec3{X: 3, Y: 1}},
				},
				Lights: show.Program(nil).Set(show.RGB{R: 10, G: 20, B: 30}, 5*sec),
			},
		},
	}
	s.Quantize()
	return s
}

func TestRoundTrip(t *testing.T) {
	want := sample()
	if err := want.Check(); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := Export(&buf, want); err != nil {
		t.Fatal(err)
	}
	// The trajectories and programs are $ref'd members.
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, f := range zr.File {
		names = append(names, f.Name)
	}
	wantNames := []string{"drones/drone_01/trajectory.json", "drones/drone_01/lights.json",
		"drones/drone_02/trajectory.json", "drones/drone_02/lights.json", "show.json"}
	if !reflect.DeepEqual(names, wantNames) {
		t.Fatalf("members %v, want %v", names, wantNames)
	}
	got, warns, err := importBytes(buf.Bytes(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(warns) != 0 {
		t.Errorf("warnings %v, want none", warns)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
	h1, _ := want.Hash()
	h2, _ := got.Hash()
	if h1 != h2 {
		t.Fatalf("hash %v, want %v", h2, h1)
	}
}

// The limits read the same in camelCase and snake_case; maxVelocityZ
// alone limits both climb and descent.
func TestValidationSpellings(t *testing.T) {
	traj := `{"version": 1, "points": [[0, [0, 0, 0], []], [1, [0, 0, 1], []]]}`
	for _, c := range []struct {
		name, val string
		want      show.Limits
	}{
		{"camel", `{"maxAltitude": 50, "maxVelocityXY": 8, "maxVelocityZ": 2, "maxVelocityZUp": 3, "minDistance": 1.5}`,
			show.Limits{MaxAltitude: 50, MaxSpeedXY: 8, MaxSpeedUp: 3, MaxSpeedDown: 2, MinDistance: 1.5}},
		{"snake", `{"max_altitude": 50, "max_velocity_xy": 8, "max_velocity_z": 2, "max_velocity_z_up": 3, "min_distance": 1.5}`,
			show.Limits{MaxAltitude: 50, MaxSpeedXY: 8, MaxSpeedUp: 3, MaxSpeedDown: 2, MinDistance: 1.5}},
		{"z only", `{"maxVelocityZ": 2.5}`, show.Limits{MaxSpeedUp: 2.5, MaxSpeedDown: 2.5}},
		{"snake z only", `{"max_velocity_z": 2.5}`, show.Limits{MaxSpeedUp: 2.5, MaxSpeedDown: 2.5}},
		{"both, equal", `{"maxAltitude": 50, "max_altitude": 50}`, show.Limits{MaxAltitude: 50}},
	} {
		doc := `{"version": 1, "settings": {"validation": ` + c.val + `}, "swarm": {"drones": [{"type": "generic", "settings": {"trajectory": ` + traj + `}}]}}`
		s, _, err := importBytes(archiveOf(t, member{"show.json", doc}), Options{})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if s.Limits != c.want {
			t.Errorf("%s: limits %+v, want %+v", c.name, s.Limits, c.want)
		}
	}
	doc := `{"version": 1, "settings": {"validation": {"maxAltitude": 50, "max_altitude": 60}}, "swarm": {"drones": [{"settings": {"trajectory": ` + traj + `}}]}}`
	_, _, err := importBytes(archiveOf(t, member{"show.json", doc}), Options{})
	if err == nil || !strings.Contains(err.Error(), "maxAltitude is 50 but max_altitude is 60") {
		t.Fatalf("conflicting spellings: %v", err)
	}
}

// A round trip through snake_case: the exported show.json rewritten
// with the older spelling imports the same show.
func TestRoundTripSnakeCase(t *testing.T) {
	want := sample()
	var buf bytes.Buffer
	if err := Export(&buf, want); err != nil {
		t.Fatal(err)
	}
	zr, err := zip.NewReader(bytes.NewReader(buf.Bytes()), int64(buf.Len()))
	if err != nil {
		t.Fatal(err)
	}
	var members []member
	for _, f := range zr.File {
		rc, _ := f.Open()
		b, _ := io.ReadAll(rc)
		rc.Close()
		body := string(b)
		if f.Name == "show.json" {
			r := strings.NewReplacer(`"maxAltitude"`, `"max_altitude"`, `"maxVelocityXY"`, `"max_velocity_xy"`,
				`"maxVelocityZ"`, `"max_velocity_z"`, `"maxVelocityZUp"`, `"max_velocity_z_up"`,
				`"minDistance"`, `"min_distance"`, `"maxAcceleration"`, `"max_acceleration"`)
			if body = r.Replace(body); !strings.Contains(body, "max_velocity_z_up") {
				t.Fatalf("no validation keys to rewrite in %s", body)
			}
		}
		members = append(members, member{f.Name, body})
	}
	got, _, err := importBytes(archiveOf(t, members...), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("snake_case round trip:\n got %+v\nwant %+v", got.Limits, want.Limits)
	}
}

// b64 is the base64 of a program written out byte by byte.
func b64(p ...byte) string { return base64.StdEncoding.EncodeToString(p) }

// handWritten is a .skyc written from the format's description, not by
// Export: the test's expected values are computed by hand from it.
func handWritten(t testing.TB) []byte {
	// Drone 1's light program, byte by byte (durations in 20 ms units):
	//  0: 04 ff 00 00 32   set colour red for 50 units = 1 s      [0 s, 1 s)
	//  5: 08 00 00 ff 64   fade to blue over 100 units = 2 s      [1 s, 3 s)
	// 10: 0c 03            loop 3 times:
	// 12: 07 0a              set white for 10 units = 200 ms
	// 14: 06 0a              set black for 200 ms
	// 16: 0d               loop end: [3.0 s, 4.2 s), white at 3.0, 3.4, 3.8
	// 17: 03 f0 2e         wait until 6000 ms: 6000 = 46·128 + 112,
	//                      LEB128 0x70|0x80 = 0xf0, then 46 = 0x2e  [4.2 s, 6 s) black
	// 20: 05 80 32         set grey 128 for 1 s                   [6 s, 7 s)
	// 23: 0a 19            fade to black over 25 units = 500 ms   [7 s, 7.5 s)
	// 25: 00               end
	lights1 := b64(0x04, 0xff, 0x00, 0x00, 0x32, 0x08, 0x00, 0x00, 0xff, 0x64, 0x0c, 0x03, 0x07, 0x0a, 0x06, 0x0a, 0x0d,
		0x03, 0xf0, 0x2e, 0x05, 0x80, 0x32, 0x0a, 0x19, 0x00)
	// Drone 2's: set green for 1 s; set pyro (0x14) channel 1 on (0x81);
	// set pyro all (0x15) off (0x00); set blue for 1 s.
	lights2 := b64(0x04, 0x00, 0xff, 0x00, 0x32, 0x14, 0x81, 0x15, 0x00, 0x04, 0x00, 0x00, 0xff, 0x32)
	showJSON := `{
	  "version": 1,
	  "meta": {"title": "by hand", "segments": {"show": [10, 20]}},
	  "environment": {"type": "outdoor", "location": {"origin": [47.5, 19.25, 120], "orientation": -90}},
	  "media": {"audio": {"data": {"$ref": "./assets/music.mp3"}, "mediaType": "audio/mpeg", "startTime": 0}},
	  "settings": {
	    "cues": {"version": 1, "items": [{"name": "heart", "time": 12.5}]},
	    "geofence": {"version": 1, "polygons": [
	      {"isInclusion": true, "points": [[-50, -50, 0], [50, -50, 0], [50, 50, 0], [-50, 50, 0], [-50, -50, 0]]},
	      {"isInclusion": false, "points": [[1, 1, 0], [2, 1, 0], [2, 2, 0]]}
	    ], "action": "land"},
	    "validation": {"max_altitude": 50, "maxVelocityXY": 8, "max_velocity_z": 2, "minDistance": 1.5}
	  },
	  "swarm": {"drones": [
	    {"type": "generic", "settings": {"name": "a", "home": [0, 0, 0],
	      "trajectory": {"$ref": "./drones/drone_01/trajectory.json#"},
	      "lights": {"$ref": "drones/drone_01/lights.json"}}},
	    {"type": "generic", "settings": {"name": "b", "home": [3, 0, 0], "landAt": [3, 1, 0],
	      "trajectory": {"version": 1, "points": [
	        [0, [3, 0, 0], []], [5, [3, 0, 0], []], [8, [3, 0, 5], []], [12, [3, 0, 5], []], [15, [3, 1, 0], []], [20, [3, 1, 0], []]]},
	      "lights": {"version": 1, "data": "` + lights2 + `"},
	      "yawControl": {"version": 1, "setpoints": [[0, 0], [10, 90]], "autoYaw": false}}}
	  ]}
	}`
	// Drone 1 takes off at show time 10 s: its point times count from there.
	traj1 := `{"version": 1, "takeoffTime": 10, "points": [
	  [0, [0, 0, 0], []],
	  [2, [0, 0, 4], []],
	  [4, [4, 0, 4], [[2, 2, 4]]],
	  [6, [4, 4, 4], [[6, 0, 4], [6, 4, 4]]],
	  [10, [0, 0, 0], []]
	]}`
	return archiveOf(t,
		member{"show.json", showJSON},
		member{"drones/drone_01/trajectory.json", traj1},
		member{"drones/drone_01/lights.json", `{"data": "` + lights1 + `"}`},
		member{"assets/music.mp3", "\xff\xfb\x90\x00 not JSON"},
	)
}

func TestHandWritten(t *testing.T) {
	s, warns, err := importBytes(handWritten(t), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if s.Title != "by hand" || !s.HasOrigin || s.Origin != (show.Origin{Lat: 47.5, Lon: 19.25, AMSL: 120}) {
		t.Errorf("title %q origin %+v (%v)", s.Title, s.Origin, s.HasOrigin)
	}
	if s.Orientation != 270 { // −90° normalised to [0, 360)
		t.Errorf("orientation %v, want 270", s.Orientation)
	}
	// maxVelocityZ without maxVelocityZUp limits both ways.
	if want := (show.Limits{MaxAltitude: 50, MaxSpeedXY: 8, MaxSpeedUp: 2, MaxSpeedDown: 2, MinDistance: 1.5}); s.Limits != want {
		t.Errorf("limits %+v, want %+v", s.Limits, want)
	}
	// The closing vertex repeated is dropped; the exclusion zone too.
	if want := [][2]float64{{-50, -50}, {50, -50}, {50, 50}, {-50, 50}}; !reflect.DeepEqual(s.Fence.Polygon, want) {
		t.Errorf("fence %v, want %v", s.Fence.Polygon, want)
	}
	if want := []show.Cue{{Name: "show", At: 10 * sec}, {Name: "heart", At: 12500 * time.Millisecond}}; !reflect.DeepEqual(s.Cues, want) {
		t.Errorf("cues %v, want %v", s.Cues, want)
	}
	// Drone 1: takeoffTime 10 s; landing derived: the last segment above
	// the ground ends at 10 + 10 = 20 s. Drone 2: no takeoffTime; it
	// leaves the ground on the segment [5 s, 8 s) and is down at 15 s.
	a, b := s.Drones[0], s.Drones[1]
	if a.Name != "a" || a.Takeoff != 10*sec || a.Landing != 20*sec || a.Home != (show.Vec3{}) || a.Land != (show.Vec3{}) {
		t.Errorf("drone a: %q takeoff %v landing %v home %v land %v", a.Name, a.Takeoff, a.Landing, a.Home, a.Land)
	}
	if b.Name != "b" || b.Takeoff != 5*sec || b.Landing != 15*sec || b.Home != (show.Vec3{X: 3}) || b.Land != (show.Vec3{X: 3, Y: 1}) {
		t.Errorf("drone b: %q takeoff %v landing %v home %v land %v", b.Name, b.Takeoff, b.Landing, b.Home, b.Land)
	}
	tr, err := s.Tracks()
	if err != nil {
		t.Fatal(err)
	}
	ms := time.Millisecond
	for _, c := range []struct {
		at  time.Duration
		pos show.Vec3
	}{
		{9 * sec, show.Vec3{}},                  // before the first point (show time 10 s)
		{11 * sec, show.Vec3{Z: 2}},             // linear (0,0,0)→(0,0,4) over [10, 12], u = 1/2
		{13 * sec, show.Vec3{X: 2, Y: 1, Z: 4}}, // quadratic P0 (0,0,4), P1 (2,2,4), P2 (4,0,4) over [12, 14], u = 1/2:
		// ¼P0 + ½P1 + ¼P2 = (0 + 1 + 1, 0 + 1 + 0, 1 + 2 + 1)
		{12500 * ms, show.Vec3{X: 1, Y: 0.75, Z: 4}}, // u = 1/4: weights (3/4)² = 9/16, 2·¼·¾ = 6/16, (1/4)² = 1/16:
		// x = 6/16·2 + 1/16·4 = 1, y = 6/16·2 = 0.75
		{15 * sec, show.Vec3{X: 5.5, Y: 2, Z: 4}}, // cubic P0 (4,0,4), P1 (6,0,4), P2 (6,4,4), P3 (4,4,4) over [14, 16], u = 1/2:
		// (P0 + 3P1 + 3P2 + P3)/8: x = (4 + 18 + 18 + 4)/8 = 5.5, y = (0 + 0 + 12 + 4)/8 = 2
		{14500 * ms, show.Vec3{X: 5.125, Y: 0.625, Z: 4}}, // u = 1/4: weights 27/64, 27/64, 9/64, 1/64:
		// x = (27·4 + 27·6 + 9·6 + 1·4)/64 = 328/64 = 5.125, y = (9·4 + 4)/64 = 0.625
		{18 * sec, show.Vec3{X: 2, Y: 2, Z: 2}}, // linear (4,4,4)→(0,0,0) over [16, 20], u = 1/2
		{25 * sec, show.Vec3{}},                 // after the last point
	} {
		if pos, _ := tr[0].Position(c.at); pos.Dist(c.pos) > 1e-9 {
			t.Errorf("drone a at %v: %v, want %v", c.at, pos, c.pos)
		}
	}
	// The light clock starts at the show's start, not at the takeoff.
	for _, c := range []struct {
		at   time.Duration
		want show.RGB
	}{
		{500 * ms, show.RGB{R: 255}},                  // set red [0, 1 s)
		{1500 * ms, show.RGB{R: 191, B: 64}},          // fade red→blue over [1, 3 s), f = 1/4: R = 255·¾ = 191.25, B = 63.75
		{3100 * ms, show.RGB{R: 255, G: 255, B: 255}}, // loop pass 1: white [3.0, 3.2)
		{3300 * ms, show.RGB{}},                       // black [3.2, 3.4)
		{3900 * ms, show.RGB{R: 255, G: 255, B: 255}}, // pass 3: white [3.8, 4.0)
		{4100 * ms, show.RGB{}},                       // black [4.0, 4.2)
		{5 * sec, show.RGB{}},                         // waiting until 6000 ms, black
		{6500 * ms, show.RGB{R: 128, G: 128, B: 128}}, // grey 128 [6, 7 s)
		{7250 * ms, show.RGB{R: 64, G: 64, B: 64}},    // fade 128→0 over [7, 7.5 s), f = 1/2
		{9 * sec, show.RGB{}},                         // ended black
	} {
		if got := tr[0].Colour(c.at); got != c.want {
			t.Errorf("drone a colour at %v: %v, want %v", c.at, got, c.want)
		}
	}
	// Drone 2: the pyro instructions became nops; green then blue.
	if got := tr[1].Colour(500 * ms); got != (show.RGB{G: 255}) {
		t.Errorf("drone b colour at 0.5 s: %v, want green", got)
	}
	if got := tr[1].Colour(1500 * ms); got != (show.RGB{B: 255}) {
		t.Errorf("drone b colour at 1.5 s: %v, want blue", got)
	}
	if want := (show.Program{4, 0, 255, 0, 50, 1, 1, 1, 1, 4, 0, 0, 255, 50}); !bytes.Equal(b.Lights, want) {
		t.Errorf("drone b program % x, want % x", b.Lights, want)
	}
	// Warnings: the audio, the exclusion zone, drone 2's pyro and yaw.
	var got []string
	for _, w := range warns {
		got = append(got, w.String())
	}
	want := []string{
		"show: media.audio: the show's audio is not played",
		"show: settings.geofence.polygons[1]: exclusion zone dropped: the show's geofence keeps its inclusion polygon only",
		"drone 2: lights: 2 pyrotechnic instructions (the first at byte 5) became nops: pyrotechnics are not fired",
		"drone 2: yawControl: yaw control is not flown: the drone keeps its heading",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("warnings:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// The importer rejects what it does not know, naming it.
func TestUnsupportedLightOps(t *testing.T) {
	for _, c := range []struct {
		prog []byte
		want string
	}{
		{[]byte{0x04, 0, 0, 0, 0x32, 0x10, 0, 1, 2, 0x32}, "set colour from channels (code 16) at byte 5"},
		{[]byte{0x11, 0, 1, 2, 0x32}, "fade to colour from channels (code 17) at byte 0"},
		{[]byte{0x01, 0x01, 0x13, 0x10, 0x00}, "triggered jump (code 19) at byte 2"},
		{[]byte{0x0f}, "unused (code 15) at byte 0"},
	} {
		doc := fmt.Sprintf(`{"version": 1, "swarm": {"drones": [{"settings": {"name": "x",
		  "trajectory": {"points": [[0, [0, 0, 0]]]}, "lights": {"version": 1, "data": %q}}}]}}`, b64(c.prog...))
		_, _, err := importBytes(archiveOf(t, member{"show.json", doc}), Options{})
		var op *show.OpError
		if !errors.As(err, &op) || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), "drone 1 (x): lights") {
			t.Errorf("program % x: error %v, want an *show.OpError naming %q and drone 1's lights", c.prog, err, c.want)
		}
	}
}

func TestImportFile(t *testing.T) {
	path := t.TempDir() + "/show.skyc"
	var buf bytes.Buffer
	if err := Export(&buf, sample()); err != nil {
		t.Fatal(err)
	}
	if err := writeFile(path, buf.Bytes()); err != nil {
		t.Fatal(err)
	}
	s, _, err := ImportFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(s, sample()) {
		t.Fatal("ImportFile differs from the exported show")
	}
	if _, _, err := ImportFile(path + ".missing"); err == nil {
		t.Fatal("a missing file imported")
	}
}

// A minimal show as public Skybrush readers accept it: no meta, no
// settings, a point without its control-point list, a trajectory without
// a version, cameras in the environment, yaw control.
func TestMinimal(t *testing.T) {
	doc := `{"version": 1,
	  "environment": {"type": "indoor", "cameras": [{"name": "front", "position": [0, -10, 2]}]},
	  "swarm": {"drones": [{"type": "generic", "settings": {
	    "trajectory": {"points": [[5, [1, 2, 3]]]},
	    "lights": {"version": 1, "data": "` + b64(0x07, 0xa3, 0x10, 0x00) + `"},
	    "yawControl": {"version": 1, "setpoints": [[5, 42]]}}}]}}`
	s, warns, err := importBytes(archiveOf(t, member{"show.json", doc}), Options{})
	if err != nil {
		t.Fatal(err)
	}
	d := s.Drones[0]
	// One point: at (1, 2, 3) from show time 5 s, taking off and landing
	// there; home and landing default to it.
	if s.HasOrigin || len(d.Path) != 1 || d.Path[0].At != 5*sec || d.Home != (show.Vec3{X: 1, Y: 2, Z: 3}) || d.Takeoff != 5*sec || d.Landing != 5*sec {
		t.Fatalf("show %+v", s)
	}
	// Set white for 0xa3 0x10 = 35 + 16·128 = 2083 units of 20 ms = 41.66 s.
	tr, _ := s.Track(0)
	if tr.Colour(41*sec) != (show.RGB{R: 255, G: 255, B: 255}) {
		t.Errorf("colour at 41 s: %v, want white", tr.Colour(41*sec))
	}
	if len(warns) != 1 || warns[0].Part != "yawControl" || warns[0].Drone != 1 {
		t.Errorf("warnings %v, want drone 1's yawControl", warns)
	}
}

// Bytes after a program's end instruction, which players never run, are
// dropped with a warning, unless a jump might reach them.
func TestAfterEnd(t *testing.T) {
	for _, c := range []struct {
		name string
		prog []byte
		want show.Program // nil: refused
	}{
		// set white for 0x8c 0x25 = 12 + 37·128 = 4748 units; end; then a
		// loop begin and bytes that are no instruction.
		{"garbage", []byte{0x07, 0x8c, 0x25, 0x00, 0x0c, 0x0a, 0xff, 0xff, 0xff}, show.Program{0x07, 0x8c, 0x25, 0x00}},
		{"an unclosed loop", []byte{0x06, 0x01, 0x00, 0x0c, 0x05}, show.Program{0x06, 0x01, 0x00}},
		{"a jump before the end", []byte{0x12, 0x03, 0x00, 0x06, 0x01, 0xff}, nil},
		{"garbage before the end", []byte{0xff, 0x00}, nil},
	} {
		doc := fmt.Sprintf(`{"version": 1, "swarm": {"drones": [{"settings": {
		  "trajectory": {"points": [[0, [0, 0, 0]]]}, "lights": {"data": %q}}}]}}`, b64(c.prog...))
		s, warns, err := importBytes(archiveOf(t, member{"show.json", doc}), Options{})
		switch {
		case c.want == nil && err == nil:
			t.Errorf("%s: imported", c.name)
		case c.want != nil && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.want != nil && (!bytes.Equal(s.Drones[0].Lights, c.want) || len(warns) != 1 || !strings.Contains(warns[0].Text, "after the program's end")):
			t.Errorf("%s: program % x, warnings %v; want % x and a warning", c.name, s.Drones[0].Lights, warns, c.want)
		}
	}
}
