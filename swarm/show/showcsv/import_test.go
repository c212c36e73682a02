package showcsv

import (
	"archive/zip"
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/swarm/show"
)

const ms = time.Millisecond

// zipOf returns a ZIP of the files, in the order given.
func zipOf(t testing.TB, files ...string) []byte {
	t.Helper()
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for i := 0; i < len(files); i += 2 {
		w, err := z.Create(files[i])
		require.NoError(t, err)
		_, err = w.Write([]byte(files[i+1]))
		require.NoError(t, err)
	}
	require.NoError(t, z.Close())
	return b.Bytes()
}

func importZip(b []byte, opt Options) (*show.Show, error) {
	return ImportZip(bytes.NewReader(b), int64(len(b)), opt)
}

// TestImportHandComputed checks one small show against keyframes and a
// light program worked out by hand.
func TestImportHandComputed(t *testing.T) {
	one := Header + "\n" +
		"0,0,0,0,0,0,0\n" +
		"1000,0,0,1,0,0,0\n" +
		"2000,0,0,2,255,0,0\n" + // on the line from row 1 to row 3: dropped
		"3000,1,0,2,255,0,0\n" +
		"4000,1,0,2,255,0,0\n"
	// A BOM, CRLF, a Yaw column, spaces, a decimal time and "255.0".
	ten := "\ufeffTime [msec], x [m],y [m],z [m],Red,Green,Blue,Yaw [deg]\r\n" +
		"0, 5,0,0,0,0,255.0,0\r\n" +
		"500.4,5,0,0,0,0,255,90\r\n"
	b := zipOf(t, "show/Drone 10.csv", ten, "show/Drone 1.csv", one, "show/Drone 2.csv", one, "show/readme.txt", "x", "__MACOSX/._Drone 1.csv", "junk")
	opt := Options{Title: "hand", Origin: show.Origin{Lat: 47.5, Lon: 8.5, AMSL: 400}, HasOrigin: true, Orientation: 30,
		Limits: show.Limits{MaxAltitude: 100, MinDistance: 1}}
	s, err := importZip(b, opt)
	require.NoError(t, err)
	require.Len(t, s.Drones, 3)
	assert.Equal(t, []string{"Drone 1", "Drone 2", "Drone 10"}, []string{s.Drones[0].Name, s.Drones[1].Name, s.Drones[2].Name})
	assert.Equal(t, "hand", s.Title)
	assert.True(t, s.HasOrigin)
	assert.Equal(t, 47.5, s.Origin.Lat)
	assert.Equal(t, 30.0, s.Orientation)
	assert.Equal(t, 1.0, s.Limits.MinDistance)

	d := s.Drones[0]
	assert.Equal(t, []show.Keyframe{
		{At: 0, Pos: show.Vec3{}},
		{At: 2000 * ms, Pos: show.Vec3{Z: 2}},
		{At: 3000 * ms, Pos: show.Vec3{X: 1, Z: 2}},
		{At: 4000 * ms, Pos: show.Vec3{X: 1, Z: 2}},
	}, d.Path)
	assert.Equal(t, show.Vec3{}, d.Home)
	assert.Equal(t, show.Vec3{X: 1, Z: 2}, d.Land)
	assert.Equal(t, time.Duration(0), d.Takeoff)
	assert.Equal(t, 3000*ms, d.Landing)
	// Black until 1 s (the program starts black), then a fade to red over
	// the next row's 1 s: wait until 1000 ms (varint e8 07), fade to
	// 255,0,0 over 50 units of 20 ms.
	assert.Equal(t, show.Program{show.OpWaitUntil, 0xe8, 0x07, show.OpFadeColour, 255, 0, 0, 50}, d.Lights)
	tr, err := s.Track(0)
	require.NoError(t, err)
	assert.Equal(t, show.RGB{}, tr.Colour(500*ms))
	assert.Equal(t, show.RGB{R: 128}, tr.Colour(1500*ms)) // half way: 127.5 rounds up
	assert.Equal(t, show.RGB{R: 255}, tr.Colour(3500*ms))
	pos, vel := tr.Position(500 * ms)
	assert.InDelta(t, 0.5, pos.Z, 1e-9)
	assert.InDelta(t, 1.0, vel.Z, 1e-9)

	d = s.Drones[2]
	assert.Equal(t, []show.Keyframe{{At: 0, Pos: show.Vec3{X: 5}}, {At: 500 * ms, Pos: show.Vec3{X: 5}}}, d.Path)
	assert.Equal(t, show.Program(show.Program(nil).Set(show.RGB{B: 255}, 0)), d.Lights, "blue from time 0, held")
	assert.Equal(t, time.Duration(0), d.Takeoff, "a drone that never moves")
	assert.Equal(t, 500*ms, d.Landing)

	enc, err := s.Encode()
	require.NoError(t, err)
	back, err := show.Decode(enc)
	require.NoError(t, err)
	assert.Equal(t, s, back, "the import is quantized: it equals its decoded encoding")

	// KeepRows keeps the collinear row.
	s, err = importZip(b, Options{KeepRows: true})
	require.NoError(t, err)
	assert.Len(t, s.Drones[0].Path, 5)
	assert.False(t, s.HasOrigin)
}

// TestImportGradualFade: rows sampled from one linear fade make one fade
// instruction; positions on one straight line make two keyframes.
func TestImportGradualFade(t *testing.T) {
	var b strings.Builder
	b.WriteString(Header + "\n")
	for i := 0; i <= 100; i++ { // 4 s at 25 Hz: from black to 200,100,0
		fmt.Fprintf(&b, "%d,%.3f,0,10,%d,%d,0\n", i*40, float64(i)*0.02, int(float64(i)*2), int(float64(i)*1))
	}
	s, err := ImportFile("Drone 1.csv", strings.NewReader(b.String()), Options{})
	require.NoError(t, err)
	d := s.Drones[0]
	assert.Equal(t, []show.Keyframe{{At: 0, Pos: show.Vec3{Z: 10}}, {At: 4 * time.Second, Pos: show.Vec3{X: 2, Z: 10}}}, d.Path)
	assert.Equal(t, show.Program(nil).Fade(show.RGB{R: 200, G: 100}, 4*time.Second), d.Lights)
}

func TestNaturalOrder(t *testing.T) {
	names := []string{"Drone 10", "Drone 9", "Drone 010b", "Drone 1", "Drone 01", "a", "Drone 100"}
	slicesSort(names)
	assert.Equal(t, []string{"Drone 01", "Drone 1", "Drone 9", "Drone 10", "Drone 010b", "Drone 100", "a"}, names)
}

func slicesSort(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && naturalCompare(s[j-1], s[j]) > 0; j-- {
			s[j-1], s[j] = s[j], s[j-1]
		}
	}
}

// hostileCases are broken files, each with what its error must say; the
// fuzz corpus starts from them.
var hostileCases = []struct {
	name, csv string
	want      []string
}{
	{"bad header", "Time,x,y,z,r,g,b\n0,0,0,0,0,0,0\n", []string{"Drone 1.csv: line 1:", "header"}},
	{"empty", "", []string{"Drone 1.csv:", "empty file"}},
	{"header only", Header + "\n", []string{"no rows"}},
	{"not a number", Header + "\n0,0,0,0,0,0,0\n40,0,abc,0,0,0,0\n", []string{"line 3, column 3 (y [m])", `"abc" is not a number`}},
	{"NaN", Header + "\n0,NaN,0,0,0,0,0\n", []string{"line 2, column 2 (x [m])", "not a finite number"}},
	{"Inf", Header + "\n0,0,0,+Inf,0,0,0\n", []string{"line 2, column 4 (z [m])", "not a finite number"}},
	{"negative time", Header + "\n-40,0,0,0,0,0,0\n", []string{"line 2, column 1 (Time [msec])", "negative time"}},
	{"repeated time", Header + "\n0,0,0,0,0,0,0\n40,0,0,0,0,0,0\n40,0,0,0,0,0,0\n", []string{"line 4, column 1", "repeats the time of line 3"}},
	{"time backwards", Header + "\n0,0,0,0,0,0,0\n80,0,0,0,0,0,0\n40,0,0,0,0,0,0\n", []string{"line 4, column 1", "comes before the time of line 3"}},
	{"same millisecond", Header + "\n0,0,0,0,0,0,0\n0.2,0,0,0,0,0,0\n", []string{"line 3", "repeats"}},
	{"colour too big", Header + "\n0,0,0,0,0,256,0\n", []string{"line 2, column 6 (Green)", "0 to 255"}},
	{"colour negative", Header + "\n0,0,0,0,-1,0,0\n", []string{"column 5 (Red)", "0 to 255"}},
	{"colour fraction", Header + "\n0,0,0,0,0,0,0.5\n", []string{"column 7 (Blue)", "integer"}},
	{"too few columns", Header + "\n0,0,0,0,0,0\n", []string{"line 2, column 7", "6 columns, want 7"}},
	{"too many columns", Header + "\n0,0,0,0,0,0,0,0\n", []string{"line 2, column 8", "more than 7 columns"}},
	{"far away", Header + "\n0,0,0,100001,0,0,0\n", []string{"column 4", "beyond 100000 m"}},
	{"too long", Header + "\n" + strings.Repeat(" ", MaxLine+1) + "\n", []string{"line 2", "longer than 1024 bytes"}},
	{"too late", Header + "\n86400001,0,0,0,0,0,0\n", []string{"column 1", "beyond 24h"}},
}

func TestImportHostile(t *testing.T) {
	for _, c := range hostileCases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ImportFile("Drone 1.csv", strings.NewReader(c.csv), Options{})
			require.Error(t, err)
			assert.ErrorIs(t, err, ErrFormat)
			for _, w := range c.want {
				assert.Contains(t, err.Error(), w)
			}
		})
	}
}

func TestImportTooMany(t *testing.T) {
	t.Run("rows", func(t *testing.T) {
		if testing.Short() {
			t.Skip("a million rows: not in -short runs")
		}
		var b strings.Builder
		b.WriteString(Header + "\n")
		for i := range show.MaxKeyframes + 1 {
			fmt.Fprintf(&b, "%d,0,0,0,0,0,0\n", i)
		}
		_, err := ImportFile("Drone 1.csv", strings.NewReader(b.String()), Options{})
		require.ErrorIs(t, err, ErrFormat)
		assert.Contains(t, err.Error(), fmt.Sprintf("Drone 1.csv: line %d: more than %d rows", show.MaxKeyframes+2, show.MaxKeyframes))
	})
	t.Run("files", func(t *testing.T) {
		fsys := fstest.MapFS{}
		for i := range show.MaxDrones + 1 {
			fsys[fmt.Sprintf("Drone %d.csv", i+1)] = &fstest.MapFile{Data: []byte(Header + "\n0,0,0,0,0,0,0\n")}
		}
		_, err := ImportFS(fsys, Options{})
		require.ErrorIs(t, err, ErrFormat)
		assert.Contains(t, err.Error(), "more than 65534 CSV files")
	})
	t.Run("no csv", func(t *testing.T) {
		_, err := ImportFS(fstest.MapFS{"a.txt": &fstest.MapFile{}}, Options{})
		require.ErrorIs(t, err, ErrFormat)
		assert.Contains(t, err.Error(), "no .csv file")
	})
	t.Run("not a zip", func(t *testing.T) {
		_, err := importZip([]byte("PK\x03\x04 not really"), Options{})
		require.ErrorIs(t, err, ErrFormat)
	})
}

// allocated returns the bytes f allocates.
func allocated(f func()) uint64 {
	var a, b runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&a)
	f()
	runtime.ReadMemStats(&b)
	return b.TotalAlloc - a.TotalAlloc
}

// TestZipBomb: 16 MiB of blank lines deflate to about 16 KiB; then the
// same ZIP with a header that claims 10 bytes. Reading stops at MaxBytes,
// and memory stays far below what the file would expand to.
func TestZipBomb(t *testing.T) {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	w, err := z.CreateHeader(&zip.FileHeader{Name: "Drone 1.csv", Method: zip.Deflate})
	require.NoError(t, err)
	_, _ = w.Write([]byte(Header + "\n0,0,0,0,0,0,0\n"))
	blank := bytes.Repeat([]byte("\n"), 1<<20)
	mib := 16
	if testing.Short() {
		mib = 4
	}
	for range mib {
		_, _ = w.Write(blank)
	}
	require.NoError(t, z.Close())
	bomb := b.Bytes()
	require.Less(t, len(bomb), 1<<20, "the bomb is small")

	var ierr error
	used := allocated(func() { _, ierr = importZip(bomb, Options{MaxBytes: 1 << 20}) })
	require.ErrorIs(t, ierr, ErrFormat)
	assert.Contains(t, ierr.Error(), "more than 1048576 bytes decompressed")
	t.Logf("a %d-byte ZIP of %d MiB, capped at 1 MiB: allocated %d bytes", len(bomb), mib, used)
	assert.Less(t, used, uint64(1<<20), "allocated %d bytes reading a %d MiB bomb capped at 1 MiB", used, mib)

	// A header that lies about the sizes does not help: the bytes read are
	// counted, and the ZIP reader refuses more than its header claims.
	lie := bytes.Clone(bomb)
	cd := bytes.LastIndex(lie, []byte("PK\x01\x02"))
	require.Positive(t, cd)
	copy(lie[cd+24:], []byte{10, 0, 0, 0}) // uncompressed size: 10 bytes
	_, err = importZip(lie, Options{MaxBytes: 1 << 20})
	require.ErrorIs(t, err, ErrFormat)
	assert.Contains(t, err.Error(), "Drone 1.csv")
}

// TestImportMemory: an import allocates a bounded multiple of its input:
// the rows of one file, then its keyframes.
func TestImportMemory(t *testing.T) {
	var b strings.Builder
	b.WriteString(Header + "\n")
	n := 100_000
	if testing.Short() {
		n = 20_000
	}
	for i := range n {
		fmt.Fprintf(&b, "%d,%d.5,%d,%d,%d,%d,%d\n", i*40, i%97, i%89, i%83, i%256, (i*7)%256, (i*13)%256)
	}
	in := b.String()
	var err error
	used := allocated(func() { _, err = ImportFile("Drone 1.csv", strings.NewReader(in), Options{KeepRows: true}) })
	require.NoError(t, err)
	perByte := float64(used) / float64(len(in))
	t.Logf("input %d bytes, %d rows: allocated %d bytes, %.1f per input byte", len(in), n, used, perByte)
	assert.Less(t, perByte, 40.0)
}

func TestImportErrorsWrap(t *testing.T) {
	_, err := ImportFile("x.csv", strings.NewReader(Header+"\n0,0,0,0,0,0,x\n"), Options{})
	var e *Error
	require.True(t, errors.As(err, &e))
	assert.Equal(t, "x.csv", e.File)
	assert.Equal(t, 2, e.Line)
	assert.Equal(t, 7, e.Column)
	_, err = Import("/nonexistent/show.zip", Options{})
	assert.ErrorIs(t, err, fs.ErrNotExist)
}
