package showcsv

import (
	"archive/zip"
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/skyquorum/skyquorum/swarm/show"
)

// Header is the header row of every file.
const Header = "Time [msec],x [m],y [m],z [m],Red,Green,Blue"

var columns = []string{"Time [msec]", "x [m]", "y [m]", "z [m]", "Red", "Green", "Blue"}

// Bounds of the import.
const (
	// DefaultMaxBytes is how many decompressed bytes Import reads at most
	// when Options.MaxBytes is 0: a show of 1000 drones for 20 minutes
	// sampled at 24 Hz takes about 1 GiB.
	DefaultMaxBytes = 2 << 30
	// MaxLine is the longest line, in bytes.
	MaxLine = 1024
	// Tolerance is how far (m) a dropped row may be from the straight
	// segment that replaces it.
	Tolerance = 0.001
	// maxEntries bounds the entries of a directory tree or ZIP looked at,
	// files that are not CSV included.
	maxEntries = 4 * show.MaxDrones
	// window bounds the rows that one simplified segment or fade may
	// span, when it is not a hold: the cost of simplifying stays linear.
	window = 256
)

// ErrFormat wraps every error about the input: a file that is not a CSV
// show.
var ErrFormat = errors.New("showcsv: not a CSV show")

// Options are what a CSV does not carry.
type Options struct {
	// Title of the show (optional).
	Title string
	// Origin places the show on Earth; HasOrigin false leaves it unplaced
	// (a show that cannot be flown).
	Origin    show.Origin
	HasOrigin bool
	// Orientation is the direction of the X axis, degrees clockwise from
	// true north.
	Orientation float64
	// Fence, Limits: the show's geofence and limits (optional).
	Fence  show.Fence
	Limits show.Limits
	// KeepRows makes every row a keyframe (default: rows within
	// Tolerance of a straight segment are dropped).
	KeepRows bool
	// MaxBytes bounds the decompressed bytes read (optional, default
	// DefaultMaxBytes).
	MaxBytes int64
}

// Error is an input error, with where it is.
type Error struct {
	File         string
	Line, Column int // 1-based; 0 when the error is not on one line or column
	Err          error
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "showcsv: %s", e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ": line %d", e.Line)
	}
	if e.Column > 0 {
		fmt.Fprintf(&b, ", column %d (%s)", e.Column, columnName(e.Column))
	}
	fmt.Fprintf(&b, ": %v", e.Err)
	return b.String()
}

func columnName(c int) string {
	if c-1 < len(columns) {
		return columns[c-1]
	}
	return "Yaw"
}

// Unwrap makes an Error an ErrFormat, and exposes its cause.
func (e *Error) Unwrap() []error { return []error{ErrFormat, e.Err} }

// Import reads the CSV show at path: a ZIP (by its content), a directory
// of CSV files, or a single CSV file.
func Import(name string, opt Options) (*show.Show, error) {
	st, err := os.Stat(name)
	if err != nil {
		return nil, fmt.Errorf("showcsv: %w", err)
	}
	if st.IsDir() {
		return ImportFS(os.DirFS(name), opt)
	}
	f, err := os.Open(name)
	if err != nil {
		return nil, fmt.Errorf("showcsv: %w", err)
	}
	defer f.Close()
	var magic [4]byte
	if n, _ := f.ReadAt(magic[:], 0); n == 4 && string(magic[:]) == "PK\x03\x04" || n == 4 && string(magic[:]) == "PK\x05\x06" {
		return ImportZip(f, st.Size(), opt)
	}
	return ImportFile(path.Base(strings.ReplaceAll(name, string(os.PathSeparator), "/")), f, opt)
}

// ImportZip reads a ZIP of CSV files.
func ImportZip(r io.ReaderAt, size int64, opt Options) (*show.Show, error) {
	z, err := zip.NewReader(r, size)
	if err != nil {
		return nil, &Error{File: "ZIP", Err: err}
	}
	if len(z.File) > maxEntries {
		return nil, &Error{File: "ZIP", Err: fmt.Errorf("%d entries, at most %d", len(z.File), maxEntries)}
	}
	return ImportFS(z, opt)
}

// ImportFile reads a single CSV file: a show of one drone named after the
// file.
func ImportFile(name string, r io.Reader, opt Options) (*show.Show, error) {
	im := newImporter(opt)
	if err := im.file(name, r); err != nil {
		return nil, err
	}
	return im.finish()
}

// ImportFS reads every .csv file of fsys, at any depth (names starting
// with a dot, and __MACOSX, skipped).
func ImportFS(fsys fs.FS, opt Options) (*show.Show, error) {
	var names []string
	entries := 0
	err := fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if entries++; entries > maxEntries {
			return fmt.Errorf("more than %d entries", maxEntries)
		}
		base := d.Name()
		if p != "." && (strings.HasPrefix(base, ".") || base == "__MACOSX") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if !d.IsDir() && strings.EqualFold(path.Ext(base), ".csv") {
			if len(names) >= show.MaxDrones {
				return fmt.Errorf("more than %d CSV files: a show has at most %d drones", show.MaxDrones, show.MaxDrones)
			}
			names = append(names, p)
		}
		return nil
	})
	if err != nil {
		return nil, &Error{File: "input", Err: err}
	}
	if len(names) == 0 {
		return nil, &Error{File: "input", Err: errors.New("no .csv file")}
	}
	slices.SortFunc(names, func(a, b string) int { return naturalCompare(a, b) })
	im := newImporter(opt)
	for _, n := range names {
		f, err := fsys.Open(n)
		if err != nil {
			return nil, &Error{File: n, Err: err}
		}
		err = im.file(n, f)
		f.Close()
		if err != nil {
			return nil, err
		}
	}
	return im.finish()
}

// row is one sample.
type row struct {
	t   time.Duration
	p   show.Vec3
	c   show.RGB
	cf  [3]float64
	num int // line number
}

type importer struct {
	opt    Options
	budget int64 // decompressed bytes left
	rows   []row // reused across files
	drones []show.Drone
}

func newImporter(opt Options) *importer {
	b := opt.MaxBytes
	if b <= 0 {
		b = DefaultMaxBytes
	}
	return &importer{opt: opt, budget: b}
}

// file reads one drone's file.
func (im *importer) file(name string, r io.Reader) error {
	fail := func(line, col int, format string, a ...any) error {
		return &Error{File: name, Line: line, Column: col, Err: fmt.Errorf(format, a...)}
	}
	if len(im.drones) >= show.MaxDrones {
		return fail(0, 0, "more than %d files: a show has at most %d drones", show.MaxDrones, show.MaxDrones)
	}
	lr := &io.LimitedReader{R: r, N: im.budget + 1}
	sc := bufio.NewScanner(lr)
	sc.Buffer(make([]byte, 0, MaxLine), MaxLine)
	rows := im.rows[:0]
	line, ncol := 0, 0
	for sc.Scan() {
		line++
		text := strings.TrimSpace(strings.TrimSuffix(sc.Text(), "\r"))
		if ncol == 0 {
			text = strings.TrimPrefix(text, "\ufeff")
			n, err := header(text)
			if err != nil {
				return fail(line, 0, "%w", err)
			}
			ncol = n
			continue
		}
		if text == "" {
			continue
		}
		if len(rows) >= show.MaxKeyframes {
			return fail(line, 0, "more than %d rows", show.MaxKeyframes)
		}
		rw, col, err := parseRow(text, ncol)
		if err != nil {
			return fail(line, col, "%w", err)
		}
		rw.num = line
		if n := len(rows); n > 0 && rw.t <= rows[n-1].t {
			what := "comes before"
			if rw.t == rows[n-1].t {
				what = "repeats"
			}
			return fail(line, 1, "time %d ms %s the time of line %d (%d ms): times must increase", rw.t.Milliseconds(), what, rows[n-1].num, rows[n-1].t.Milliseconds())
		}
		rows = append(rows, rw)
	}
	im.rows = rows
	if lr.N <= 0 {
		return fail(line, 0, "the input is more than %d bytes decompressed (a ZIP bomb?)", im.maxBytes())
	}
	if err := sc.Err(); err != nil {
		if errors.Is(err, bufio.ErrTooLong) {
			return fail(line+1, 0, "line longer than %d bytes", MaxLine)
		}
		return fail(line, 0, "%w", err)
	}
	im.budget = lr.N - 1
	if ncol == 0 {
		return fail(0, 0, "empty file: want the header %q", Header)
	}
	if len(rows) == 0 {
		return fail(0, 0, "no rows after the header")
	}
	droneName := strings.TrimSuffix(path.Base(name), path.Ext(name))
	if len(droneName) > show.MaxNameBytes {
		droneName = droneName[:show.MaxNameBytes]
	}
	im.drones = append(im.drones, drone(droneName, rows, im.opt.KeepRows))
	return nil
}

func (im *importer) maxBytes() int64 {
	if im.opt.MaxBytes > 0 {
		return im.opt.MaxBytes
	}
	return DefaultMaxBytes
}

func (im *importer) finish() (*show.Show, error) {
	o := im.opt
	s := &show.Show{
		Title: o.Title, Origin: o.Origin, HasOrigin: o.HasOrigin, Orientation: o.Orientation,
		Fence: show.Fence{Polygon: slices.Clone(o.Fence.Polygon)}, Limits: o.Limits, Drones: im.drones,
	}
	s.Quantize()
	if err := s.Check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrFormat, err)
	}
	return s, nil
}

// header checks the header line and returns its number of columns.
func header(text string) (int, error) {
	fields := strings.Split(text, ",")
	for i := range fields {
		fields[i] = strings.Trim(strings.TrimSpace(fields[i]), `"`)
	}
	ok := len(fields) == 7 || len(fields) == 8 && strings.HasPrefix(strings.ToLower(fields[7]), "yaw")
	for i := 0; ok && i < 7; i++ {
		ok = strings.EqualFold(fields[i], columns[i])
	}
	if !ok {
		return 0, fmt.Errorf("header %q, want %q (and optionally a Yaw column)", trunc(text), Header)
	}
	return len(fields), nil
}

func trunc(s string) string {
	if len(s) > 80 {
		return s[:80] + "…"
	}
	return s
}

// parseRow parses one data line; on error it returns the 1-based column.
func parseRow(text string, ncol int) (row, int, error) {
	var rw row
	col := 0
	for f := range strings.SplitSeq(text, ",") {
		col++
		if col > ncol {
			return rw, col, fmt.Errorf("more than %d columns", ncol)
		}
		if col == 8 {
			continue // yaw, ignored
		}
		f = strings.TrimSpace(f)
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return rw, col, fmt.Errorf("%q is not a number", trunc(f))
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return rw, col, fmt.Errorf("%q is not a finite number", f)
		}
		switch col {
		case 1:
			if v < 0 {
				return rw, col, fmt.Errorf("negative time %v ms", v)
			}
			if v > float64(show.MaxDuration/time.Millisecond) {
				return rw, col, fmt.Errorf("time %v ms is beyond %v", v, show.MaxDuration)
			}
			rw.t = time.Duration(math.Round(v)) * time.Millisecond
		case 2, 3, 4:
			if math.Abs(v) > show.MaxCoordinate {
				return rw, col, fmt.Errorf("coordinate %v m is beyond %.0f m", v, show.MaxCoordinate)
			}
			v = math.Round(v*1e3) / 1e3
			switch col {
			case 2:
				rw.p.X = v
			case 3:
				rw.p.Y = v
			default:
				rw.p.Z = v
			}
		default:
			if v < 0 || v > 255 || v != math.Trunc(v) {
				return rw, col, fmt.Errorf("colour component %s, want an integer 0 to 255", f)
			}
			rw.cf[col-5] = v
		}
	}
	if col < ncol {
		return rw, col + 1, fmt.Errorf("%d columns, want %d", col, ncol)
	}
	rw.c = show.RGB{R: uint8(rw.cf[0]), G: uint8(rw.cf[1]), B: uint8(rw.cf[2])}
	return rw, 0, nil
}

// drone turns one file's rows into a drone.
func drone(name string, rows []row, keepAll bool) show.Drone {
	keep := func(onLine func(a, k, e int) bool, same func(a, k int) bool) []int {
		if keepAll {
			out := make([]int, len(rows))
			for i := range out {
				out[i] = i
			}
			return out
		}
		return simplify(len(rows), onLine, same)
	}
	posKeep := keep(func(a, k, e int) bool {
		f := float64(rows[k].t-rows[a].t) / float64(rows[e].t-rows[a].t)
		want := rows[a].p.Add(rows[e].p.Sub(rows[a].p).Scale(f))
		return want.Dist(rows[k].p) <= Tolerance+1e-9
	}, func(a, k int) bool { return rows[a].p == rows[k].p })
	d := show.Drone{Name: name, Path: make([]show.Keyframe, len(posKeep))}
	for i, k := range posKeep {
		d.Path[i] = show.Keyframe{At: rows[k].t, Pos: rows[k].p}
	}
	last := len(rows) - 1
	d.Home, d.Land = rows[0].p, rows[last].p
	d.Takeoff, d.Landing = rows[0].t, rows[last].t
	if i := slices.IndexFunc(rows, func(r row) bool { return r.p != rows[0].p }); i > 0 {
		d.Takeoff = rows[i-1].t
		j := last
		for j > 0 && rows[j-1].p == rows[last].p {
			j--
		}
		d.Landing = rows[j].t
	}
	colKeep := keep(func(a, k, e int) bool {
		f := float64(rows[k].t-rows[a].t) / float64(rows[e].t-rows[a].t)
		for ch := range 3 {
			want := rows[a].cf[ch] + (rows[e].cf[ch]-rows[a].cf[ch])*f
			if math.Abs(want-rows[k].cf[ch]) > 1 {
				return false
			}
		}
		return true
	}, func(a, k int) bool { return rows[a].c == rows[k].c })
	d.Lights = lights(rows, colKeep)
	return d
}

// simplify returns the indices of the rows to keep: the first, the last,
// and every row that the straight line between kept rows does not pass
// (onLine(a, k, e): row k is on the line from row a to row e). A hold,
// rows all equal to the first (same), grows in constant time per row;
// any other segment spans at most window rows.
func simplify(n int, onLine func(a, k, e int) bool, same func(a, k int) bool) []int {
	out := []int{0}
	for a := 0; a < n-1; {
		e, hold := a+1, same(a, a+1)
		for c := e + 1; c < n; c++ {
			if hold && same(a, c) {
				e = c
				continue
			}
			hold = false
			if c-a > window {
				break
			}
			ok := true
			for k := a + 1; k < c && ok; k++ {
				ok = onLine(a, k, c)
			}
			if !ok {
				break
			}
			e = c
		}
		out = append(out, e)
		a = e
	}
	return out
}

// lights writes the light program that fades between the kept rows.
func lights(rows []row, keep []int) show.Program {
	var p show.Program
	if c := rows[0].c; c != (show.RGB{}) {
		p = p.Set(c, 0)
	}
	var now time.Duration
	for i := 1; i < len(keep); i++ {
		a, e := rows[keep[i-1]], rows[keep[i]]
		if a.c == e.c {
			continue
		}
		if e.t-a.t < show.LightUnit/2 {
			// Too short for a fade: the colour changes at once, at the
			// later row, so that both rows keep their colour.
			if now < e.t {
				p = p.WaitUntil(e.t)
				now = e.t
			}
			p = p.Set(e.c, 0)
			continue
		}
		if now < a.t {
			p = p.WaitUntil(a.t)
			now = a.t
		}
		units := max(0, (e.t-now+show.LightUnit/2)/show.LightUnit)
		p = p.Fade(e.c, units*show.LightUnit)
		now += units * show.LightUnit
	}
	return p
}

// naturalCompare orders names with the numbers in them compared as
// numbers: "Drone 2" before "Drone 10".
func naturalCompare(x, y string) int {
	a, b := x, y
	for a != "" && b != "" {
		da, db := isDigit(a[0]), isDigit(b[0])
		if da && db {
			na, ra := digits(a)
			nb, rb := digits(b)
			ta, tb := strings.TrimLeft(na, "0"), strings.TrimLeft(nb, "0")
			if c := len(ta) - len(tb); c != 0 {
				return c
			}
			if c := strings.Compare(ta, tb); c != 0 {
				return c
			}
			a, b = ra, rb
			continue
		}
		if a[0] != b[0] {
			return int(a[0]) - int(b[0])
		}
		a, b = a[1:], b[1:]
	}
	if c := len(a) - len(b); c != 0 {
		return c
	}
	return strings.Compare(x, y)
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

func digits(s string) (string, string) {
	i := 0
	for i < len(s) && isDigit(s[i]) {
		i++
	}
	return s[:i], s[i:]
}
