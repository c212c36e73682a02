package showcsv

import (
	"archive/zip"
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/swarm/show"
)

const sec = time.Second

// linearShow is a show of straight segments whose lights hold, fade and
// set at once.
func linearShow() *show.Show {
	red, blue, white := show.RGB{R: 255}, show.RGB{B: 255}, show.RGB{R: 255, G: 255, B: 255}
	s := &show.Show{
		Origin: show.Origin{Lat: 47.3977419, Lon: 8.5455938, AMSL: 488.5}, HasOrigin: true,
		Drones: []show.Drone{
			{
				Name: "Drone 1", Takeoff: 1 * sec, Landing: 9 * sec, Land: show.Vec3{X: 1},
				Path: []show.Keyframe{
					{At: 1 * sec}, {At: 3 * sec, Pos: show.Vec3{Z: 6}}, {At: 5500 * ms, Pos: show.Vec3{X: 3, Y: -2.5, Z: 6}},
					{At: 9 * sec, Pos: show.Vec3{X: 1}},
				},
				Lights: show.Program(nil).Sleep(1*sec).Set(red, 1*sec).Fade(blue, 2*sec).Set(white, 500*ms).Fade(show.RGB{}, 1*sec),
			},
			{
				Name: "Drone 2", Home: show.Vec3{X: 3}, Land: show.Vec3{X: 3}, Takeoff: 0, Landing: 8 * sec,
				Path:   []show.Keyframe{{At: 0, Pos: show.Vec3{X: 3}}, {At: 4 * sec, Pos: show.Vec3{X: 3, Z: 8}}, {At: 8 * sec, Pos: show.Vec3{X: 3}}},
				Lights: show.Program(nil).Set(show.RGB{G: 40}, 0),
			},
		},
	}
	s.Quantize()
	return s
}

func export(t *testing.T, s *show.Show, opt ExportOptions) []byte {
	t.Helper()
	var b bytes.Buffer
	require.NoError(t, ExportWith(&b, s, opt))
	return b.Bytes()
}

// TestRoundTrip: export then import gives back the same trajectories and
// lights, at every 10 ms of the show, and so does a second round trip;
// exporting keyframes only, the second round trip gives the same show.
func TestRoundTrip(t *testing.T) {
	s := linearShow()
	for _, period := range []time.Duration{-1, 0, 100 * ms} {
		b := export(t, s, ExportOptions{Period: period})
		got, err := importZip(b, Options{Origin: s.Origin, HasOrigin: true})
		require.NoError(t, err, "period %v", period)
		sameFlight(t, s, got, period)
		if period < 0 {
			// A hold from show time 0 to the first keyframe, then the
			// same keyframes.
			assert.Equal(t, show.Keyframe{Pos: s.Drones[0].Path[0].Pos}, got.Drones[0].Path[0])
			assert.Equal(t, s.Drones[0].Path, got.Drones[0].Path[1:])
			assert.Equal(t, s.Drones[1].Path, got.Drones[1].Path)
		}
		again, err := importZip(export(t, got, ExportOptions{Period: period}), Options{Origin: s.Origin, HasOrigin: true})
		require.NoError(t, err)
		sameFlight(t, s, again, period)
		if period < 0 {
			assert.Equal(t, got, again, "a second round trip changes nothing")
		}
	}
}

// sameFlight checks that got flies s: positions within 1.5 mm and colours
// within 2 of 255 at every 10 ms.
func sameFlight(t *testing.T, s, got *show.Show, period time.Duration) {
	t.Helper()
	require.Len(t, got.Drones, len(s.Drones))
	for k := range s.Drones {
		d, g := s.Drones[k], got.Drones[k]
		assert.Equal(t, d.Name, g.Name)
		assert.Equal(t, d.Path[len(d.Path)-1], g.Path[len(g.Path)-1])
		assert.Equal(t, d.Takeoff, g.Takeoff)
		assert.Equal(t, d.Landing, g.Landing)
		want, _ := s.Track(k)
		have, _ := got.Track(k)
		for at := time.Duration(0); at <= 10*sec; at += 10 * ms {
			p, _ := want.Position(at)
			q, _ := have.Position(at)
			require.InDelta(t, 0, p.Dist(q), 0.0015, "period %v drone %d at %v: %v, want %v", period, k+1, at, q, p)
			c, h := want.Colour(at), have.Colour(at)
			require.True(t, near(c, h, 2), "period %v drone %d at %v: colour %v, want %v", period, k+1, at, h, c)
		}
	}
}

func near(a, b show.RGB, d int) bool {
	diff := func(x, y uint8) int { return max(int(x)-int(y), int(y)-int(x)) }
	return diff(a.R, b.R) <= d && diff(a.G, b.G) <= d && diff(a.B, b.B) <= d
}

// TestExportFiles: the ZIP holds "NAME.csv" per drone with the header and
// rows of the format, and drones whose names would not sort back into
// the show's order are written as "Drone N".
func TestExportFiles(t *testing.T) {
	s := linearShow()
	b := export(t, s, ExportOptions{Period: -1})
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	require.Len(t, z.File, 2)
	assert.Equal(t, "Drone 1.csv", z.File[0].Name)
	f, err := z.File[1].Open()
	require.NoError(t, err)
	text, err := io.ReadAll(f)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(text)), "\r\n")
	assert.Equal(t, Header, lines[0])
	assert.Equal(t, "0,3,0,0,0,40,0", lines[1])
	assert.Equal(t, "4000,3,0,8,0,40,0", lines[2])
	assert.Equal(t, "8000,3,0,0,0,40,0", lines[3])

	s.Drones[0].Name, s.Drones[1].Name = "zeta", "alpha"
	b = export(t, s, ExportOptions{})
	z, err = zip.NewReader(bytes.NewReader(b), int64(len(b)))
	require.NoError(t, err)
	assert.Equal(t, "Drone 2.csv", z.File[1].Name)

	// Import reads the ZIP from a file, a directory and a single CSV.
	dir := t.TempDir()
	zipPath := filepath.Join(dir, "show.zip")
	require.NoError(t, os.WriteFile(zipPath, b, 0o644))
	fromZip, err := Import(zipPath, Options{})
	require.NoError(t, err)
	sub := filepath.Join(dir, "csv")
	require.NoError(t, os.Mkdir(sub, 0o755))
	for _, zf := range z.File {
		r, _ := zf.Open()
		data, _ := io.ReadAll(r)
		require.NoError(t, os.WriteFile(filepath.Join(sub, zf.Name), data, 0o644))
	}
	fromDir, err := Import(sub, Options{})
	require.NoError(t, err)
	assert.Equal(t, fromZip, fromDir)
	single, err := Import(filepath.Join(sub, "Drone 2.csv"), Options{})
	require.NoError(t, err)
	assert.Equal(t, fromZip.Drones[1], single.Drones[0])
}

func FuzzImport(f *testing.F) {
	for _, c := range hostileCases {
		f.Add([]byte(c.csv))
	}
	f.Add([]byte(Header + "\n0,0,0,0,0,0,0\n40,1,2,3,255,128,0\n80,1,2,4,255,128,0\n"))
	var b bytes.Buffer
	s := linearShow()
	_ = ExportWith(&b, s, ExportOptions{Period: -1})
	f.Add(b.Bytes())
	f.Fuzz(func(t *testing.T, data []byte) {
		opt := Options{MaxBytes: 1 << 20}
		var s *show.Show
		var err error
		if bytes.HasPrefix(data, []byte("PK")) {
			s, err = importZip(data, opt)
		} else {
			s, err = ImportFile("Drone 1.csv", bytes.NewReader(data), opt)
		}
		if err != nil {
			if !errors.Is(err, ErrFormat) {
				t.Fatalf("error %v does not wrap ErrFormat", err)
			}
			return
		}
		enc, err := s.Encode()
		if err != nil {
			t.Fatalf("imported show does not encode: %v", err)
		}
		back, err := show.Decode(enc)
		if err != nil {
			t.Fatalf("imported show does not decode: %v", err)
		}
		if h1, h2 := must(s.Hash()), must(back.Hash()); h1 != h2 {
			t.Fatal("hash changes across encoding")
		}
		var out bytes.Buffer
		if len(enc) < 1<<16 {
			if err := ExportWith(&out, s, ExportOptions{Period: -1}); err != nil {
				t.Fatalf("imported show does not export: %v", err)
			}
			if _, err := importZip(out.Bytes(), Options{}); err != nil {
				t.Fatalf("export does not import: %v", err)
			}
		}
	})
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
