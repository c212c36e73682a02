package show

import (
	"bytes"
	"errors"
	"math"
	"reflect"
	"testing"
	"time"
)

const sec = time.Second

// sample is a two-drone show with a segment of every order, a light
// program with fades, a loop and a wait, an origin, a fence and cues.
func sample() *Show {
	lights := Program(nil).Set(RGB{255, 0, 0}, 1*sec).Fade(RGB{0, 0, 255}, 2*sec).
		Loop(3, Program(nil).Set(RGB{255, 255, 255}, 200*time.Millisecond).Set(RGB{}, 200*time.Millisecond)).
		WaitUntil(6*sec).Set(RGB{0, 255, 0}, 0).End()
	return &Show{
		Title:       "sample",
		Origin:      Origin{Lat: 47.3977419, Lon: 8.5455938, AMSL: 488.5},
		HasOrigin:   true,
		Orientation: 12.5,
		Fence:       Fence{Polygon: [][2]float64{{-50, -50}, {50, -50}, {50, 50}, {-50, 50}}},
		Limits:      Limits{MaxAltitude: 50, MaxSpeedXY: 8, MaxSpeedUp: 3, MaxSpeedDown: 2, MaxAccel: 4, MinDistance: 1.5},
		Cues:        []Cue{{Name: "heart", At: 4 * sec}},
		Drones: []Drone{
			{
				Name: "one", Home: Vec3{0, 0, 0}, Land: Vec3{0, 0, 0}, Takeoff: 0, Landing: 10 * sec,
				Path: []Keyframe{
					{At: 0, Pos: Vec3{0, 0, 0}},
					{At: 2 * sec, Pos: Vec3{0, 0, 4}},                                          // linear
					{At: 4 * sec, Pos: Vec3{4, 0, 4}, Ctrl: []Vec3{{2, 2, 4}}},                 // quadratic
					{At: 6 * sec, Pos: Vec3{4, 4, 4}, Ctrl: []Vec3{{6, 0, 4}, {6, 4, 4}}},      // cubic
					{At: 10 * sec, Pos: Vec3{0, 0, 0}, Ctrl: []Vec3{{4, 4, 0.5}, {0, 0, 0.5}}}, // cubic down
				},
				Lights: lights,
			},
			{
				Name: "two", Home: Vec3{3, 0, 0}, Land: Vec3{3, 0, 0}, Takeoff: 1 * sec, Landing: 9 * sec,
				Path:   []Keyframe{{At: 1 * sec, Pos: Vec3{3, 0, 0}}, {At: 3 * sec, Pos: Vec3{3, 0, 5}}, {At: 9 * sec, Pos: Vec3{3, 0, 0}}},
				Lights: Program(nil).Set(RGB{10, 20, 30}, 5*sec),
			},
		},
	}
}

func near(a, b Vec3) bool { return a.Dist(b) < 1e-9 }

// Positions and velocities computed by hand from the Bézier formulas.
func TestTrackPositions(t *testing.T) {
	tr, err := sample().Track(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		at       time.Duration
		pos, vel Vec3
	}{
		{-sec, Vec3{0, 0, 0}, Vec3{}},
		{0, Vec3{0, 0, 0}, Vec3{}},
		{1 * sec, Vec3{0, 0, 2}, Vec3{0, 0, 2}},
		// quadratic (0,0,4) (2,2,4) (4,0,4) at u = 1/2: 1/4·P0 + 1/2·P1 + 1/4·P2;
		// velocity 2[(1−u)(P1−P0) + u(P2−P1)]/2 s = (P2−P0)/2 s.
		{3 * sec, Vec3{2, 1, 4}, Vec3{2, 0, 0}},
		// cubic (4,0,4) (6,0,4) (6,4,4) (4,4,4) at u = 1/2: (P0 + 3P1 + 3P2 + P3)/8;
		// velocity 3[(1/4)(P1−P0) + (1/2)(P2−P1) + (1/4)(P3−P2)]/2 s.
		{5 * sec, Vec3{5.5, 2, 4}, Vec3{0, 3, 0}},
		{6 * sec, Vec3{4, 4, 4}, Vec3{}}, // velocity: see below
		{20 * sec, Vec3{0, 0, 0}, Vec3{}},
	} {
		pos, vel := tr.Position(c.at)
		if !near(pos, c.pos) {
			t.Errorf("position at %v = %v, want %v", c.at, pos, c.pos)
		}
		if c.at == 6*sec {
			// At a keyframe the segment that starts there applies:
			// cubic (4,4,4) (4,4,0.5) (0,0,0.5) (0,0,0) over 4 s, u = 0:
			// velocity 3(P1 − P0)/4 s = (0, 0, −2.625).
			c.vel = Vec3{0, 0, -2.625}
		}
		if !near(vel, c.vel) {
			t.Errorf("velocity at %v = %v, want %v", c.at, vel, c.vel)
		}
	}
}

// Colours computed by hand from the program: red 0–1 s, a fade to blue
// 1–3 s, three white/black blinks of 200 ms 3–4.2 s, black until 6 s,
// then green for ever.
func TestLightsColours(t *testing.T) {
	tr, err := sample().Track(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		at   time.Duration
		want RGB
	}{
		{-sec, RGB{}},
		{0, RGB{255, 0, 0}},
		{999 * time.Millisecond, RGB{255, 0, 0}},
		{1 * sec, RGB{255, 0, 0}},
		{1500 * time.Millisecond, RGB{191, 0, 64}}, // 255·¾ = 191.25, 255·¼ = 63.75
		{2 * sec, RGB{128, 0, 128}},                // 127.5 rounds up
		{3 * sec, RGB{255, 255, 255}},
		{3100 * time.Millisecond, RGB{255, 255, 255}},
		{3300 * time.Millisecond, RGB{}},
		{3500 * time.Millisecond, RGB{255, 255, 255}},
		{3900 * time.Millisecond, RGB{255, 255, 255}},
		{4100 * time.Millisecond, RGB{}},
		{5 * sec, RGB{}},
		{6 * sec, RGB{0, 255, 0}},
		{60 * sec, RGB{0, 255, 0}},
		{1 * sec, RGB{255, 0, 0}}, // back in time: the program runs again
	} {
		if got := tr.Colour(c.at); got != c.want {
			t.Errorf("colour at %v = %v, want %v", c.at, got, c.want)
		}
	}
}

func TestLightsForeverAndReset(t *testing.T) {
	// Blink for ever with a reset clock: wait-until counts from the reset.
	p := Program(nil).Sleep(sec)
	p = append(p, OpResetClock)
	p = p.WaitUntil(500*time.Millisecond).Loop(0, Program(nil).Set(RGB{1, 1, 1}, 100*time.Millisecond).Set(RGB{2, 2, 2}, 100*time.Millisecond))
	l := NewLights(p)
	for _, c := range []struct {
		at   time.Duration
		want RGB
	}{{1400 * time.Millisecond, RGB{}}, {1550 * time.Millisecond, RGB{1, 1, 1}}, {1650 * time.Millisecond, RGB{2, 2, 2}}, {100*sec + 550*time.Millisecond, RGB{1, 1, 1}}} {
		if got := l.At(c.at); got != c.want {
			t.Errorf("colour at %v = %v, want %v", c.at, got, c.want)
		}
	}
	st, err := p.RunStats(10*sec, 0)
	if err != nil || !st.Truncated || !st.Endless || st.Outlasts() {
		t.Errorf("RunStats = %+v, %v: want truncated, endless, not outlasting", st, err)
	}
	short := Program(nil).Set(RGB{9, 9, 9}, 20*sec)
	if st, err := short.RunStats(10*sec, 0); err != nil || !st.Outlasts() {
		t.Errorf("a 20 s program against a 10 s horizon: %+v, %v, want outlasting", st, err)
	}
}

func TestProgramRefused(t *testing.T) {
	for _, c := range []struct {
		name   string
		p      Program
		op     byte
		offset int
	}{
		{"channels", Program{OpNop, OpSetChannels, 0, 1, 2, 5}, OpSetChannels, 1},
		{"trigger", Program{OpNop, OpNop, OpTriggeredJump, 0x10, 0}, OpTriggeredJump, 2},
		{"pyro", Program{OpSetPyro, 0x81}, OpSetPyro, 0},
		{"unused", Program{OpUnused}, OpUnused, 0},
		{"unknown", Program{OpNop, 99}, 99, 1},
		{"truncated colour", Program{OpSetColour, 1, 2}, OpSetColour, 0},
		{"truncated varint", Program{OpSleep, 0x80}, OpSleep, 0},
		{"jump mid-instruction", Program{OpSetColour, 1, 2, 3, 4, OpJump, 2}, OpJump, 5},
		{"loop end alone", Program{OpLoopEnd}, OpLoopEnd, 0},
	} {
		err := c.p.Check()
		var oe *OpError
		if !errors.As(err, &oe) || oe.Op != c.op || oe.Offset != c.offset || !errors.Is(err, ErrProgram) {
			t.Errorf("%s: Check = %v, want an OpError for code %d at byte %d", c.name, err, c.op, c.offset)
		}
	}
	// A loop without a duration fails when run, not for ever.
	spin := Program{OpLoopBegin, 0, OpNop, OpLoopEnd}
	if _, err := spin.RunStats(sec, 0); !errors.Is(err, ErrProgram) {
		t.Errorf("endless loop without duration: %v, want ErrProgram", err)
	}
	flip := Program{OpLoopBegin, 0, OpSetColour, 1, 0, 0, 0, OpSetColour, 2, 0, 0, 0, OpLoopEnd}
	if _, err := flip.RunStats(sec, 0); !errors.Is(err, ErrProgram) {
		t.Errorf("endless colour flips without duration: %v, want ErrProgram", err)
	}
}

func TestEncodeRoundTrip(t *testing.T) {
	s := sample()
	s.Quantize()
	b, err := s.Encode()
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, s) {
		t.Fatalf("decoded show differs:\n got %+v\nwant %+v", got, s)
	}
	h1, _ := s.Hash()
	got.Drones[1].Path[1].Pos.Z += Millimetre
	h2, _ := got.Hash()
	if h1 == h2 {
		t.Error("a 1 mm change left the hash unchanged")
	}
	// Every strict prefix is refused, and so is a trailing byte.
	for n := range len(b) {
		if _, err := Decode(b[:n]); !errors.Is(err, ErrEncoding) {
			t.Fatalf("prefix of %d of %d bytes: %v, want ErrEncoding", n, len(b), err)
		}
	}
	if _, err := Decode(append(bytes.Clone(b), 0)); !errors.Is(err, ErrEncoding) {
		t.Errorf("trailing byte: %v", err)
	}
	bad := bytes.Clone(b)
	bad[0] = 2
	if _, err := Decode(bad); !errors.Is(err, ErrEncoding) {
		t.Errorf("version 2: %v", err)
	}
}

func TestCheckRefuses(t *testing.T) {
	for _, c := range []struct {
		name   string
		break_ func(*Show)
	}{
		{"no drones", func(s *Show) { s.Drones = nil }},
		{"time backwards", func(s *Show) { s.Drones[0].Path[2].At = s.Drones[0].Path[1].At }},
		{"NaN", func(s *Show) { s.Drones[1].Path[1].Pos.X = math.NaN() }},
		{"inf control point", func(s *Show) { s.Drones[0].Path[2].Ctrl[0].Y = math.Inf(1) }},
		{"three control points", func(s *Show) { s.Drones[0].Path[1].Ctrl = make([]Vec3, 3) }},
		{"landing before takeoff", func(s *Show) { s.Drones[1].Landing = 0 }},
		{"origin off Earth", func(s *Show) { s.Origin.Lat = 91 }},
		{"fence of two vertices", func(s *Show) { s.Fence.Polygon = s.Fence.Polygon[:2] }},
		{"pyro in lights", func(s *Show) { s.Drones[1].Lights = Program{OpSetPyroAll, 1} }},
	} {
		s := sample()
		c.break_(s)
		if err := s.Check(); !errors.Is(err, ErrInvalid) {
			t.Errorf("%s: Check = %v, want ErrInvalid", c.name, err)
		}
		if _, err := s.Encode(); err == nil {
			t.Errorf("%s: Encode succeeded", c.name)
		}
	}
}

func FuzzDecode(f *testing.F) {
	s := sample()
	s.Quantize()
	b, _ := s.Encode()
	f.Add(b)
	f.Add([]byte{Version})
	f.Fuzz(func(t *testing.T, b []byte) {
		s, err := Decode(b)
		if err != nil {
			if !errors.Is(err, ErrEncoding) {
				t.Fatalf("error %v does not wrap ErrEncoding", err)
			}
			return
		}
		again, err := s.Encode()
		if err != nil || !bytes.Equal(again, b) {
			t.Fatalf("decoded show does not encode back: %v", err)
		}
	})
}

// A jump leaves the loops it is in: a jump back to a loop's start from
// inside its body restarts the loop with its full count, rather than
// nesting a second loop in the first.
func TestJumpLeavesLoops(t *testing.T) {
	// 0: loop begin 2; 2: set red 1 unit; 7: jump 0 — an endless red,
	// with a loop stack that would grow without bound if jumps kept it.
	p := Program{OpLoopBegin, 2, OpSetColour, 255, 0, 0, 1, OpJump, 0, OpLoopEnd}
	if err := p.Check(); err != nil {
		t.Fatal(err)
	}
	st, err := p.RunStats(10*sec, 0)
	if err != nil || !st.Endless || st.Steps != 501 {
		t.Fatalf("RunStats = %+v, %v; want 501 steps of 20 ms (0 s to 10 s inclusive), endless", st, err)
	}
}
