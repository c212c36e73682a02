package skyc

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/skyquorum/skyquorum/swarm/show"
)

// Errors of Import; each is wrapped with the member, the drone and the
// field it is about.
var (
	// ErrFormat: the file is not a show this importer reads (not a ZIP,
	// no show.json, malformed JSON, a value of the wrong type or off its
	// range, another version).
	ErrFormat = errors.New("skyc: bad show file")
	// ErrRef: a $ref that names no member, leaves the archive, forms a
	// cycle or chains too deep.
	ErrRef = errors.New("skyc: bad $ref")
	// ErrTooLarge: the file is beyond the Options' bounds or the show
	// format's (drones, keyframes, bytes).
	ErrTooLarge = errors.New("skyc: too large")
)

// Default bounds of Options.
const (
	DefaultMaxBytes       = 256 << 20
	DefaultMaxMemberBytes = 256 << 20
	DefaultMaxMembers     = 1 << 18
)

// maxSmallValue bounds the JSON of a value decoded in one piece (a
// point, a vector, a cue), so that a hostile one costs little.
const maxSmallValue = 64 << 10

// maxPolygons bounds the geofence's polygons.
const maxPolygons = 256

// Options bound what Import may read. Zero fields take their defaults.
type Options struct {
	// MaxBytes is the most decompressed bytes read from the archive, all
	// members together (default 256 MiB).
	MaxBytes int64
	// MaxMemberBytes is the most decompressed bytes read from one member
	// (default 256 MiB, the whole budget).
	MaxMemberBytes int64
	// MaxMembers is the most members the archive may list (default
	// 262144: two per drone of the largest show, and more).
	MaxMembers int
}

func (o Options) withDefaults() Options {
	if o.MaxBytes <= 0 {
		o.MaxBytes = DefaultMaxBytes
	}
	if o.MaxMemberBytes <= 0 {
		o.MaxMemberBytes = DefaultMaxMemberBytes
	}
	if o.MaxMembers <= 0 {
		o.MaxMembers = DefaultMaxMembers
	}
	return o
}

// Warning is a part of the file that the show does not keep: it imports,
// but does not fly as designed there (yaw, pyrotechnics, audio, a
// geofence's exclusion zones, …).
type Warning struct {
	// Drone is the drone's number, counting from 1 (its swarm ID); 0 for
	// the whole show.
	Drone int
	// Part is the JSON part the warning is about, e.g. "yawControl".
	Part string
	// Text says what was dropped or changed.
	Text string
}

// String formats the warning on one line.
func (w Warning) String() string {
	if w.Drone == 0 {
		return fmt.Sprintf("show: %s: %s", w.Part, w.Text)
	}
	return fmt.Sprintf("drone %d: %s: %s", w.Drone, w.Part, w.Text)
}

// ImportFile imports the .skyc file at path with the default Options.
func ImportFile(path string) (*show.Show, []Warning, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, fmt.Errorf("skyc: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, nil, fmt.Errorf("skyc: %w", err)
	}
	s, warns, err := Import(f, fi.Size(), Options{})
	if err != nil {
		return nil, warns, fmt.Errorf("%s: %w", path, err)
	}
	return s, warns, nil
}

// Import reads a Skybrush .skyc show (size bytes read from r). It
// returns the show, quantized and well formed (show.Check), with the
// warnings of what it does not keep; or an error that names the member,
// the drone and the field. See the package comment for what is read.
func Import(r io.ReaderAt, size int64, opt Options) (*show.Show, []Warning, error) {
	opt = opt.withDefaults()
	a, err := openArchive(r, size, opt)
	if err != nil {
		return nil, nil, err
	}
	root, err := a.member("show.json")
	if err != nil {
		return nil, nil, err
	}
	a.used = int64(len(root))
	im := &importer{a: a}
	s, err := im.show(root)
	if err != nil {
		return nil, im.warns, err
	}
	return s, im.warns, nil
}

type importer struct {
	a     *archive
	warns []Warning
}

func (im *importer) warn(drone int, part, format string, a ...any) {
	im.warns = append(im.warns, Warning{Drone: drone, Part: part, Text: fmt.Sprintf(format, a...)})
}

func absent(raw json.RawMessage) bool {
	t := bytes.TrimSpace(raw)
	return len(t) == 0 || string(t) == "null"
}

// object resolves raw's $refs and decodes the object into v, a struct of
// json.RawMessage fields (and plain fields for values that cannot hold a
// $ref). It returns where the object lives.
func (im *importer) object(raw json.RawMessage, w at, v any) (at, error) {
	raw, w, err := im.a.resolve(raw, w)
	if err != nil {
		return w, err
	}
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) == 0 || t[0] != '{' {
		return w, w.errorf(ErrFormat, "want a JSON object")
	}
	if err := json.Unmarshal(raw, v); err != nil {
		return w, w.wrap(ErrFormat, err)
	}
	return w, nil
}

// small resolves raw and every $ref below it, for a value decoded in one
// piece, and bounds its size.
func (im *importer) small(raw json.RawMessage, w at) (json.RawMessage, at, error) {
	raw, w, err := im.a.resolve(raw, w)
	if err != nil {
		return nil, w, err
	}
	if len(raw) > maxSmallValue {
		return nil, w, w.errorf(ErrTooLarge, "%d bytes of JSON, at most %d for this value", len(raw), maxSmallValue)
	}
	raw, err = im.a.expand(raw, w, maxSmallValue)
	return raw, w, err
}

// number decodes a finite JSON number. JSON has no NaN nor infinity,
// but a literal like 1e400 overflows a float64: it is refused.
func (im *importer) number(raw json.RawMessage, w at) (float64, error) {
	raw, w, err := im.small(raw, w)
	if err != nil {
		return 0, err
	}
	return parseNumber(raw, w)
}

func parseNumber(raw json.RawMessage, w at) (float64, error) {
	if v, ok := quickNumber(raw); ok {
		return v, nil
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil || n == "" {
		return 0, w.errorf(ErrFormat, "%s is not a number", clip(raw))
	}
	v, err := strconv.ParseFloat(string(n), 64)
	if err != nil || math.IsInf(v, 0) || math.IsNaN(v) {
		return 0, w.errorf(ErrFormat, "%s is not a finite number", clip(raw))
	}
	return v, nil
}

// numbers decodes an array of between lo and hi finite numbers.
func (im *importer) numbers(raw json.RawMessage, w at, lo, hi int) ([]float64, error) {
	raw, w, err := im.small(raw, w)
	if err != nil {
		return nil, err
	}
	return parseNumbers(raw, w, lo, hi)
}

func parseNumbers(raw json.RawMessage, w at, lo, hi int) ([]float64, error) {
	if v, ok := quickNumbers(raw, hi); ok && len(v) >= lo {
		return v, nil
	}
	var els []json.RawMessage
	if err := json.Unmarshal(raw, &els); err != nil {
		return nil, w.errorf(ErrFormat, "%s is not an array of numbers", clip(raw))
	}
	if len(els) < lo || len(els) > hi {
		if lo == hi {
			return nil, w.errorf(ErrFormat, "%d numbers, want %d", len(els), lo)
		}
		return nil, w.errorf(ErrFormat, "%d numbers, want %d to %d", len(els), lo, hi)
	}
	out := make([]float64, len(els))
	for i, e := range els {
		v, err := parseNumber(e, w)
		if err != nil {
			_, err = parseNumber(e, w.index(i)) // the error, naming the element
		}
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// position decodes [x, y, z] in metres within the format's range.
func position(raw json.RawMessage, w at) (show.Vec3, error) {
	v, err := parseNumbers(raw, w, 3, 3)
	if err != nil {
		return show.Vec3{}, err
	}
	for _, c := range v {
		if math.Abs(c) > show.MaxCoordinate {
			return show.Vec3{}, w.errorf(ErrFormat, "coordinate %v m is beyond %.0f m from the origin", c, show.MaxCoordinate)
		}
	}
	return show.Vec3{X: v[0], Y: v[1], Z: v[2]}, nil
}

func (im *importer) position(raw json.RawMessage, w at) (show.Vec3, error) {
	raw, w, err := im.small(raw, w)
	if err != nil {
		return show.Vec3{}, err
	}
	return position(raw, w)
}

// text decodes a string, cut to show.MaxNameBytes with a warning.
func (im *importer) text(raw json.RawMessage, w at, drone int) (string, error) {
	raw, w, err := im.small(raw, w)
	if err != nil {
		return "", err
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return "", w.errorf(ErrFormat, "%s is not a string", clip(raw))
	}
	if len(s) > show.MaxNameBytes {
		cut := show.MaxNameBytes
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		im.warn(drone, w.path(), "%d bytes, cut to %d", len(s), cut)
		s = s[:cut]
	}
	return s, nil
}

// each calls f for every element of the JSON array raw (after its $ref),
// streaming it, and refuses more than max elements before reading them.
func (im *importer) each(raw json.RawMessage, w at, max int, f func(i int, el json.RawMessage, w at) error) error {
	raw, w, err := im.a.resolve(raw, w)
	if err != nil {
		return err
	}
	if n := countElements(raw, max+1); n > max {
		return w.errorf(ErrTooLarge, "more than %d elements", max)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
		return w.errorf(ErrFormat, "want a JSON array")
	}
	for i := 0; dec.More(); i++ {
		if i == max {
			return w.errorf(ErrTooLarge, "more than %d elements", max)
		}
		var el json.RawMessage
		if err := dec.Decode(&el); err != nil {
			return w.index(i).wrap(ErrFormat, err)
		}
		if err := f(i, el, w.index(i)); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil {
		return w.wrap(ErrFormat, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return w.errorf(ErrFormat, "trailing data after the array")
	}
	return nil
}

// countElements counts the elements of the JSON array raw, up to stop,
// by scanning its bytes (strings and nesting respected), so that an
// array beyond a bound is refused before any element is decoded. It
// trusts nothing: a malformed array gets some count, and the decoder
// reports it.
func countElements(raw []byte, stop int) int {
	depth, n := 0, 0
	inString, escaped, empty := false, false, true
	for _, c := range raw {
		if inString {
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
			continue
		}
		switch c {
		case '"':
			inString = true
		case '[', '{':
			depth++
		case ']', '}':
			depth--
		case ',':
			if depth == 1 {
				if n++; n >= stop {
					return n
				}
			}
		}
		if depth >= 1 && c != ' ' && c != '\t' && c != '\n' && c != '\r' && !(depth == 1 && (c == '[' || c == ']')) {
			empty = false
		}
		if depth == 0 && !empty {
			break
		}
	}
	if empty {
		return 0
	}
	return n + 1
}

// quickNumber reads a JSON number literal without the reflection of
// encoding/json, for the common case; false sends the caller down the
// general path, which also words the error.
func quickNumber(raw []byte) (float64, bool) {
	raw = trimJSON(raw)
	if !isNumber(raw) {
		return 0, false
	}
	v, err := strconv.ParseFloat(string(raw), 64)
	if err != nil || math.IsInf(v, 0) {
		return 0, false
	}
	return v, true
}

// quickNumbers reads a flat JSON array of at most hi number literals,
// like quickNumber.
func quickNumbers(raw []byte, hi int) ([]float64, bool) {
	raw = trimJSON(raw)
	if len(raw) < 2 || raw[0] != '[' || raw[len(raw)-1] != ']' {
		return nil, false
	}
	inner := trimJSON(raw[1 : len(raw)-1])
	if len(inner) == 0 {
		return nil, hi >= 0
	}
	out := make([]float64, 0, hi)
	for len(inner) > 0 {
		if len(out) == hi {
			return nil, false
		}
		el := inner
		if i := bytes.IndexByte(inner, ','); i >= 0 {
			el, inner = inner[:i], inner[i+1:]
			if len(trimJSON(inner)) == 0 {
				return nil, false // a trailing comma
			}
		} else {
			inner = nil
		}
		v, ok := quickNumber(el)
		if !ok {
			return nil, false
		}
		out = append(out, v)
	}
	return out, true
}

// trimJSON trims JSON's whitespace (not Unicode's, nor form feeds).
func trimJSON(b []byte) []byte { return bytes.Trim(b, " \t\r\n") }

// isNumber reports whether b is a JSON number literal:
// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
func isNumber(b []byte) bool {
	i := 0
	digits := func() int {
		n := 0
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if i < len(b) && b[i] == '-' {
		i++
	}
	switch {
	case i < len(b) && b[i] == '0':
		i++
	case digits() == 0:
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(b)
}

func clip(raw []byte) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) > 40 {
		return string(raw[:40]) + "…"
	}
	return string(raw)
}

// seconds converts a time in seconds to a duration, refusing what is off
// the format's range.
func seconds(v float64, w at) (time.Duration, error) {
	if v < 0 || v > show.MaxDuration.Seconds() {
		return 0, w.errorf(ErrFormat, "time %v s, want 0 to %v", v, show.MaxDuration.Seconds())
	}
	return time.Duration(math.Round(v * 1e9)), nil
}

// The show.json document.
type showDoc struct {
	Version     json.RawMessage `json:"version"`
	Meta        json.RawMessage `json:"meta"`
	Environment json.RawMessage `json:"environment"`
	Media       json.RawMessage `json:"media"`
	Settings    json.RawMessage `json:"settings"`
	Swarm       json.RawMessage `json:"swarm"`
}

func (im *importer) show(root []byte) (*show.Show, error) {
	var doc showDoc
	w, err := im.object(root, at{member: "show.json"}, &doc)
	if err != nil {
		return nil, err
	}
	if err := im.version(doc.Version, w.in("version"), true); err != nil {
		return nil, err
	}
	s := &show.Show{}
	if err := im.meta(s, doc.Meta, w.in("meta")); err != nil {
		return nil, err
	}
	if err := im.environment(s, doc.Environment, w.in("environment")); err != nil {
		return nil, err
	}
	if !absent(doc.Media) {
		var media struct {
			Audio json.RawMessage `json:"audio"`
		}
		if _, err := im.object(doc.Media, w.in("media"), &media); err != nil {
			return nil, err
		}
		if !absent(media.Audio) {
			im.warn(0, "media.audio", "the show's audio is not played")
		}
	}
	if err := im.settings(s, doc.Settings, w.in("settings")); err != nil {
		return nil, err
	}
	if absent(doc.Swarm) {
		return nil, w.in("swarm").errorf(ErrFormat, "missing: the show has no drones")
	}
	var swarm struct {
		Drones json.RawMessage `json:"drones"`
	}
	sw, err := im.object(doc.Swarm, w.in("swarm"), &swarm)
	if err != nil {
		return nil, err
	}
	err = im.each(swarm.Drones, sw.in("drones"), show.MaxDrones, func(i int, el json.RawMessage, w at) error {
		d, err := im.drone(i+1, el, w)
		if err != nil {
			return err
		}
		s.Drones = append(s.Drones, d)
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(s.Drones) == 0 {
		return nil, sw.in("drones").errorf(ErrFormat, "no drones")
	}
	s.Quantize()
	if err := s.Check(); err != nil {
		return nil, fmt.Errorf("skyc: %w", err)
	}
	return s, nil
}

// version accepts 1, and an absent version where the format allows it.
func (im *importer) version(raw json.RawMessage, w at, required bool) error {
	if absent(raw) {
		if required {
			return w.errorf(ErrFormat, "missing (want 1)")
		}
		return nil
	}
	v, err := im.number(raw, w)
	if err != nil {
		return err
	}
	if v != 1 {
		return w.errorf(ErrFormat, "version %v is not supported: this importer reads version 1", v)
	}
	return nil
}

func (im *importer) meta(s *show.Show, raw json.RawMessage, w at) error {
	if absent(raw) {
		return nil
	}
	var meta struct {
		Title           json.RawMessage `json:"title"`
		TimestampOffset json.RawMessage `json:"timestampOffset"`
		Segments        json.RawMessage `json:"segments"`
	}
	w, err := im.object(raw, w, &meta)
	if err != nil {
		return err
	}
	if !absent(meta.Title) {
		if s.Title, err = im.text(meta.Title, w.in("title"), 0); err != nil {
			return err
		}
	}
	if !absent(meta.TimestampOffset) {
		off, err := im.number(meta.TimestampOffset, w.in("timestampOffset"))
		if err != nil {
			return err
		}
		if off != 0 {
			im.warn(0, "meta.timestampOffset", "%v s ignored: show times count from the trajectories' own 0", off)
		}
	}
	if absent(meta.Segments) {
		return nil
	}
	// The segments become cues at their starts, in this order.
	var seg struct {
		Takeoff json.RawMessage `json:"takeoff"`
		Show    json.RawMessage `json:"show"`
		Landing json.RawMessage `json:"landing"`
	}
	sw, err := im.object(meta.Segments, w.in("segments"), &seg)
	if err != nil {
		return err
	}
	for _, p := range []struct {
		name string
		raw  json.RawMessage
	}{{"takeoff", seg.Takeoff}, {"show", seg.Show}, {"landing", seg.Landing}} {
		if absent(p.raw) {
			continue
		}
		pw := sw.in(p.name)
		v, err := im.numbers(p.raw, pw, 2, 2)
		if err != nil {
			return err
		}
		if v[1] < v[0] {
			return pw.errorf(ErrFormat, "segment [%v, %v) ends before it starts", v[0], v[1])
		}
		start, err := seconds(v[0], pw)
		if err != nil {
			return err
		}
		if _, err := seconds(v[1], pw); err != nil {
			return err
		}
		s.Cues = append(s.Cues, show.Cue{Name: p.name, At: start})
	}
	return nil
}

func (im *importer) environment(s *show.Show, raw json.RawMessage, w at) error {
	if absent(raw) {
		return nil
	}
	var env struct {
		Location json.RawMessage `json:"location"`
	}
	w, err := im.object(raw, w, &env)
	if err != nil || absent(env.Location) {
		return err
	}
	var loc struct {
		Origin      json.RawMessage `json:"origin"`
		Orientation json.RawMessage `json:"orientation"`
	}
	lw, err := im.object(env.Location, w.in("location"), &loc)
	if err != nil {
		return err
	}
	if !absent(loc.Origin) {
		ow := lw.in("origin")
		o, err := im.numbers(loc.Origin, ow, 2, 3)
		if err != nil {
			return err
		}
		if len(o) == 2 {
			o = append(o, 0)
		}
		if math.Abs(o[0]) > 90 || math.Abs(o[1]) > 180 {
			// Integers in 1e-7 degrees and millimetres, as some tools
			// write them.
			im.warn(0, "environment.location.origin", "[%v, %v, %v] read as 1e-7 degrees and millimetres", o[0], o[1], o[2])
			o[0], o[1], o[2] = o[0]/1e7, o[1]/1e7, o[2]/1e3
		}
		if math.Abs(o[0]) > 90 || math.Abs(o[1]) > 180 || math.Abs(o[2]) > 20_000 {
			return ow.errorf(ErrFormat, "[%v, %v, %v] is not a place on Earth (latitude, longitude in degrees, altitude in metres)", o[0], o[1], o[2])
		}
		s.Origin = show.Origin{Lat: o[0], Lon: o[1], AMSL: o[2]}
		s.HasOrigin = true
	}
	if !absent(loc.Orientation) {
		v, err := im.number(loc.Orientation, lw.in("orientation"))
		if err != nil {
			return err
		}
		v = math.Mod(v, 360)
		if v < 0 {
			v += 360
		}
		s.Orientation = v
	}
	return nil
}

func (im *importer) settings(s *show.Show, raw json.RawMessage, w at) error {
	if absent(raw) {
		return nil
	}
	var set struct {
		Cues       json.RawMessage `json:"cues"`
		Geofence   json.RawMessage `json:"geofence"`
		Validation json.RawMessage `json:"validation"`
	}
	w, err := im.object(raw, w, &set)
	if err != nil {
		return err
	}
	if err := im.cues(s, set.Cues, w.in("cues")); err != nil {
		return err
	}
	if err := im.geofence(s, set.Geofence, w.in("geofence")); err != nil {
		return err
	}
	return im.validation(s, set.Validation, w.in("validation"))
}

func (im *importer) cues(s *show.Show, raw json.RawMessage, w at) error {
	if absent(raw) {
		return nil
	}
	var cues struct {
		Items json.RawMessage `json:"items"`
	}
	w, err := im.object(raw, w, &cues)
	if err != nil || absent(cues.Items) {
		return err
	}
	return im.each(cues.Items, w.in("items"), show.MaxCues-len(s.Cues), func(_ int, el json.RawMessage, w at) error {
		var c struct {
			Name json.RawMessage `json:"name"`
			Time json.RawMessage `json:"time"`
		}
		w, err := im.object(el, w, &c)
		if err != nil {
			return err
		}
		var cue show.Cue
		if !absent(c.Name) {
			if cue.Name, err = im.text(c.Name, w.in("name"), 0); err != nil {
				return err
			}
		}
		t, err := im.number(c.Time, w.in("time"))
		if err != nil {
			return err
		}
		if cue.At, err = seconds(t, w.in("time")); err != nil {
			return err
		}
		s.Cues = append(s.Cues, cue)
		return nil
	})
}

// geofence keeps the one inclusion polygon. Exclusion polygons are
// dropped with a warning (the show's fence has none); several inclusion
// polygons are refused, since which of them a drone must stay in is not
// the show's to guess.
func (im *importer) geofence(s *show.Show, raw json.RawMessage, w at) error {
	if absent(raw) {
		return nil
	}
	var fence struct {
		Version  json.RawMessage `json:"version"`
		Polygons json.RawMessage `json:"polygons"`
	}
	w, err := im.object(raw, w, &fence)
	if err != nil {
		return err
	}
	if err := im.version(fence.Version, w.in("version"), false); err != nil {
		return err
	}
	if absent(fence.Polygons) {
		return nil
	}
	inclusions := 0
	err = im.each(fence.Polygons, w.in("polygons"), maxPolygons, func(i int, el json.RawMessage, w at) error {
		var p struct {
			IsInclusion json.RawMessage `json:"isInclusion"`
			Points      json.RawMessage `json:"points"`
		}
		w, err := im.object(el, w, &p)
		if err != nil {
			return err
		}
		incl := true // a polygon that does not say is an inclusion zone
		if !absent(p.IsInclusion) {
			raw, iw, err := im.small(p.IsInclusion, w.in("isInclusion"))
			if err != nil {
				return err
			}
			if err := json.Unmarshal(raw, &incl); err != nil {
				return iw.errorf(ErrFormat, "%s is not true or false", clip(raw))
			}
		}
		if !incl {
			im.warn(0, fmt.Sprintf("settings.geofence.polygons[%d]", i), "exclusion zone dropped: the show's geofence keeps its inclusion polygon only")
			return nil
		}
		if inclusions++; inclusions > 1 {
			return w.errorf(ErrFormat, "a second inclusion polygon: the show's geofence is one polygon; merge them")
		}
		var poly [][2]float64
		err = im.each(p.Points, w.in("points"), show.MaxFenceVertices+1, func(_ int, el json.RawMessage, w at) error {
			v, err := im.numbers(el, w, 2, 3)
			if err != nil {
				return err
			}
			poly = append(poly, [2]float64{v[0], v[1]})
			return nil
		})
		if err != nil {
			return err
		}
		if n := len(poly); n > 1 && poly[0] == poly[n-1] {
			poly = poly[:n-1] // explicitly closed
		}
		if n := len(poly); n < 3 || n > show.MaxFenceVertices {
			return w.in("points").errorf(ErrFormat, "%d vertices, want 3 to %d", n, show.MaxFenceVertices)
		}
		s.Fence.Polygon = poly
		return nil
	})
	return err
}

// validation reads the limits in either spelling: camelCase, or the
// snake_case of older files.
func (im *importer) validation(s *show.Show, raw json.RawMessage, w at) error {
	if absent(raw) {
		return nil
	}
	var v struct {
		MaxAltitude      json.RawMessage `json:"maxAltitude"`
		MaxAltitudeS     json.RawMessage `json:"max_altitude"`
		MaxVelocityXY    json.RawMessage `json:"maxVelocityXY"`
		MaxVelocityXYS   json.RawMessage `json:"max_velocity_xy"`
		MaxVelocityZ     json.RawMessage `json:"maxVelocityZ"`
		MaxVelocityZS    json.RawMessage `json:"max_velocity_z"`
		MaxVelocityZUp   json.RawMessage `json:"maxVelocityZUp"`
		MaxVelocityZUpS  json.RawMessage `json:"max_velocity_z_up"`
		MinDistance      json.RawMessage `json:"minDistance"`
		MinDistanceS     json.RawMessage `json:"min_distance"`
		MaxAcceleration  json.RawMessage `json:"maxAcceleration"`
		MaxAccelerationS json.RawMessage `json:"max_acceleration"`
	}
	w, err := im.object(raw, w, &v)
	if err != nil {
		return err
	}
	// limit returns the value of a key in either spelling (0: absent).
	limit := func(camel, snake json.RawMessage, cname, sname string) (float64, bool, error) {
		var val [2]float64
		var have [2]bool
		for i, k := range []struct {
			raw  json.RawMessage
			name string
		}{{camel, cname}, {snake, sname}} {
			if absent(k.raw) {
				continue
			}
			x, err := im.number(k.raw, w.in(k.name))
			if err != nil {
				return 0, false, err
			}
			if x < 0 {
				return 0, false, w.in(k.name).errorf(ErrFormat, "%v is negative", x)
			}
			val[i], have[i] = x, true
		}
		if have[0] && have[1] && val[0] != val[1] {
			return 0, false, w.errorf(ErrFormat, "%s is %v but %s is %v: give one", cname, val[0], sname, val[1])
		}
		if have[1] {
			return val[1], true, nil
		}
		return val[0], have[0], nil
	}
	l := &s.Limits
	var ok bool
	if l.MaxAltitude, _, err = limit(v.MaxAltitude, v.MaxAltitudeS, "maxAltitude", "max_altitude"); err != nil {
		return err
	}
	if l.MaxSpeedXY, _, err = limit(v.MaxVelocityXY, v.MaxVelocityXYS, "maxVelocityXY", "max_velocity_xy"); err != nil {
		return err
	}
	if l.MaxSpeedDown, _, err = limit(v.MaxVelocityZ, v.MaxVelocityZS, "maxVelocityZ", "max_velocity_z"); err != nil {
		return err
	}
	if l.MaxSpeedUp, ok, err = limit(v.MaxVelocityZUp, v.MaxVelocityZUpS, "maxVelocityZUp", "max_velocity_z_up"); err != nil {
		return err
	}
	if !ok {
		l.MaxSpeedUp = l.MaxSpeedDown
	}
	if l.MinDistance, _, err = limit(v.MinDistance, v.MinDistanceS, "minDistance", "min_distance"); err != nil {
		return err
	}
	if l.MaxAccel, _, err = limit(v.MaxAcceleration, v.MaxAccelerationS, "maxAcceleration", "max_acceleration"); err != nil {
		return err
	}
	return nil
}

// The settings of a drone.
type droneSettings struct {
	Name       json.RawMessage `json:"name"`
	Home       json.RawMessage `json:"home"`
	LandAt     json.RawMessage `json:"landAt"`
	Trajectory json.RawMessage `json:"trajectory"`
	Lights     json.RawMessage `json:"lights"`
	YawControl json.RawMessage `json:"yawControl"`
	Pyro       json.RawMessage `json:"pyro"`
}

func (im *importer) drone(k int, raw json.RawMessage, w at) (show.Drone, error) {
	var d show.Drone
	var doc struct {
		Type     json.RawMessage `json:"type"`
		Settings json.RawMessage `json:"settings"`
	}
	w, err := im.object(raw, w, &doc)
	if err != nil {
		return d, err
	}
	if absent(doc.Settings) {
		return d, w.in("settings").errorf(ErrFormat, "missing")
	}
	var set droneSettings
	w, err = im.object(doc.Settings, w.in("settings"), &set)
	if err != nil {
		return d, err
	}
	if !absent(set.Name) {
		if d.Name, err = im.text(set.Name, w.in("name"), k); err != nil {
			return d, err
		}
	}
	// Errors below name the drone.
	dw := func(part string) at {
		if d.Name != "" {
			return at{member: w.member, field: fmt.Sprintf("drone %d (%s): %s", k, d.Name, part)}
		}
		return at{member: w.member, field: fmt.Sprintf("drone %d: %s", k, part)}
	}
	if absent(set.Trajectory) {
		return d, dw("trajectory").errorf(ErrFormat, "missing")
	}
	if err := im.trajectory(&d, set.Trajectory, dw("trajectory")); err != nil {
		return d, err
	}
	d.Home, d.Land = d.Path[0].Pos, d.Path[len(d.Path)-1].Pos
	if !absent(set.Home) {
		if d.Home, err = im.position(set.Home, dw("home")); err != nil {
			return d, err
		}
	}
	if !absent(set.LandAt) {
		if d.Land, err = im.position(set.LandAt, dw("landAt")); err != nil {
			return d, err
		}
	}
	if d.Takeoff < 0 {
		d.Takeoff = takeoffOf(d.Path, d.Home.Z)
	}
	if d.Landing < 0 {
		d.Landing = landingOf(d.Path, d.Land.Z)
	}
	if d.Landing < d.Takeoff {
		return d, dw("trajectory").errorf(ErrFormat, "landing at %v comes before takeoff at %v", d.Landing, d.Takeoff)
	}
	if absent(set.Lights) {
		im.warn(k, "lights", "no light program: the drone stays dark")
	} else if err := im.lights(k, &d, set.Lights, dw("lights")); err != nil {
		return d, err
	}
	if !absent(set.YawControl) {
		im.warn(k, "yawControl", "yaw control is not flown: the drone keeps its heading")
	}
	if !absent(set.Pyro) {
		im.warn(k, "pyro", "pyrotechnic events are not fired")
	}
	return d, nil
}

// trajectory reads the points; their times count from takeoffTime when
// the file gives one. It sets Takeoff and Landing from takeoffTime and
// landingTime, or to −1 when the file has none.
func (im *importer) trajectory(d *show.Drone, raw json.RawMessage, w at) error {
	var tr struct {
		Version     json.RawMessage `json:"version"`
		Points      json.RawMessage `json:"points"`
		TakeoffTime json.RawMessage `json:"takeoffTime"`
		LandingTime json.RawMessage `json:"landingTime"`
	}
	w, err := im.object(raw, w, &tr)
	if err != nil {
		return err
	}
	if err := im.version(tr.Version, w.in("version"), false); err != nil {
		return err
	}
	var base float64
	d.Takeoff, d.Landing = -1, -1
	if !absent(tr.TakeoffTime) {
		if base, err = im.number(tr.TakeoffTime, w.in("takeoffTime")); err != nil {
			return err
		}
		if d.Takeoff, err = seconds(base, w.in("takeoffTime")); err != nil {
			return err
		}
	}
	if !absent(tr.LandingTime) {
		v, err := im.number(tr.LandingTime, w.in("landingTime"))
		if err != nil {
			return err
		}
		if d.Landing, err = seconds(v, w.in("landingTime")); err != nil {
			return err
		}
	}
	if absent(tr.Points) {
		return w.in("points").errorf(ErrFormat, "missing")
	}
	err = im.each(tr.Points, w.in("points"), show.MaxKeyframes, func(k int, el json.RawMessage, w at) error {
		el, w, err := im.small(el, w)
		if err != nil {
			return err
		}
		var parts []json.RawMessage
		if err := json.Unmarshal(el, &parts); err != nil || len(parts) < 2 || len(parts) > 3 {
			return w.errorf(ErrFormat, "%s is not [t, [x, y, z], [control points]]", clip(el))
		}
		// Fields are named only once an error needs them: this runs for
		// every point.
		t, err := parseNumber(parts[0], w)
		if err != nil {
			_, err = parseNumber(parts[0], w.in("t"))
			return err
		}
		abs := base + t
		if abs < 0 || abs > show.MaxDuration.Seconds() {
			return w.errorf(ErrFormat, "time %v s (show time %v s) is off the show's 0 to %v s", t, abs, show.MaxDuration.Seconds())
		}
		kf := show.Keyframe{At: time.Duration(math.Round(abs * 1e9))}
		if kf.Pos, err = position(parts[1], w); err != nil {
			_, err = position(parts[1], w.in("position"))
			return err
		}
		if len(parts) == 3 {
			var ctrl []json.RawMessage
			if err := json.Unmarshal(parts[2], &ctrl); err != nil {
				return w.in("control points").errorf(ErrFormat, "%s is not a list of points", clip(parts[2]))
			}
			if len(ctrl) > 2 {
				return w.in("control points").errorf(ErrFormat, "%d control points, at most 2 (a cubic Bézier)", len(ctrl))
			}
			if k == 0 && len(ctrl) > 0 {
				return w.in("control points").errorf(ErrFormat, "the first point has control points, but no segment ends there")
			}
			for i, c := range ctrl {
				p, err := position(c, w.in("control points").index(i))
				if err != nil {
					return err
				}
				kf.Ctrl = append(kf.Ctrl, p)
			}
		}
		if n := len(d.Path); n > 0 {
			prev := d.Path[n-1].At
			if kf.At.Round(show.Tick) <= prev.Round(show.Tick) {
				return w.errorf(ErrFormat, "time %v s does not come after the previous point's %v s (to the millisecond): times must increase",
					abs, prev.Seconds())
			}
		}
		d.Path = append(d.Path, kf)
		return nil
	})
	if err != nil {
		return err
	}
	if len(d.Path) == 0 {
		return w.in("points").errorf(ErrFormat, "no points")
	}
	return nil
}

// groundTolerance is how far above its home (or landing) altitude a
// drone may be and still count as on the ground.
const groundTolerance = 0.1

// takeoffOf returns when a path leaves the ground at altitude z: the
// start of the first segment with a point (start, control or end) more
// than groundTolerance above z; the first keyframe's time if none.
func takeoffOf(path []show.Keyframe, z float64) time.Duration {
	for k := 1; k < len(path); k++ {
		if segmentAbove(path, k, z) {
			return path[k-1].At
		}
	}
	return path[0].At
}

// landingOf returns when a path is down at altitude z for good: the end
// of the last segment with a point above z + groundTolerance; the last
// keyframe's time if none.
func landingOf(path []show.Keyframe, z float64) time.Duration {
	for k := len(path) - 1; k >= 1; k-- {
		if segmentAbove(path, k, z) {
			return path[k].At
		}
	}
	return path[len(path)-1].At
}

func segmentAbove(path []show.Keyframe, k int, z float64) bool {
	above := func(p show.Vec3) bool { return p.Z > z+groundTolerance }
	if above(path[k-1].Pos) || above(path[k].Pos) {
		return true
	}
	for _, c := range path[k].Ctrl {
		if above(c) {
			return true
		}
	}
	return false
}

func (im *importer) lights(k int, d *show.Drone, raw json.RawMessage, w at) error {
	var lj struct {
		Version json.RawMessage `json:"version"`
		Data    json.RawMessage `json:"data"`
	}
	w, err := im.object(raw, w, &lj)
	if err != nil {
		return err
	}
	if err := im.version(lj.Version, w.in("version"), false); err != nil {
		return err
	}
	if absent(lj.Data) {
		im.warn(k, "lights", "no light program data: the drone stays dark")
		return nil
	}
	data, dw, err := im.a.resolve(lj.Data, w.in("data"))
	if err != nil {
		return err
	}
	if max := base64.StdEncoding.EncodedLen(show.MaxProgramBytes) + 2; len(data) > max {
		return dw.errorf(ErrTooLarge, "%d bytes of base64, a program of at most %d bytes", len(data), show.MaxProgramBytes)
	}
	var b64 string
	if err := json.Unmarshal(data, &b64); err != nil {
		return dw.errorf(ErrFormat, "%s is not a base64 string", clip(data))
	}
	prog, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		if prog, err = base64.RawStdEncoding.DecodeString(b64); err != nil {
			return dw.errorf(ErrFormat, "not base64: %v", err)
		}
	}
	if len(prog) > show.MaxProgramBytes {
		return dw.errorf(ErrTooLarge, "a program of %d bytes, at most %d", len(prog), show.MaxProgramBytes)
	}
	if n, first := stripPyro(prog); n > 0 {
		im.warn(k, "lights", "%d pyrotechnic instructions (the first at byte %d) became nops: pyrotechnics are not fired", n, first)
	}
	p := show.Program(prog)
	if err := p.Check(); err != nil {
		// Players stop at the end instruction: bytes after it, when no
		// jump can reach them, are dropped rather than refused.
		end, jumps := endOf(p)
		if end == len(p) || jumps || p[:end].Check() != nil {
			return dw.wrap(nil, err)
		}
		im.warn(k, "lights", "%d bytes after the program's end (byte %d) dropped: no player runs them", len(p)-end, end-1)
		p = p[:end]
	}
	d.Lights = p
	return nil
}

// walk visits the instructions of p in order, the way
// show.Program.Check reads them, with each one's offset and the offset
// after it; it stops at the end of p, at an op code it does not know
// (Check refuses it), at a truncated instruction, or when visit returns
// false.
func walk(p []byte, visit func(pc, next int) bool) {
	for pc := 0; pc < len(p); {
		next := pc + 1
		varint := func() bool {
			for next < len(p) {
				b := p[next]
				next++
				if b < 0x80 {
					return true
				}
			}
			return false
		}
		ok := true
		switch p[pc] {
		case show.OpEnd, show.OpNop, show.OpLoopEnd, show.OpResetClock:
		case show.OpSleep, show.OpWaitUntil, show.OpSetBlack, show.OpSetWhite, show.OpFadeBlack, show.OpFadeWhite, show.OpJump:
			ok = varint()
		case show.OpSetColour, show.OpFadeColour, show.OpSetChannels, show.OpFadeChannels:
			next += 3
			ok = next <= len(p) && varint()
		case show.OpSetGrey, show.OpFadeGrey:
			next++
			ok = next <= len(p) && varint()
		case show.OpLoopBegin, show.OpSetPyro, show.OpSetPyroAll:
			next++
		case show.OpTriggeredJump:
			next++
			if next <= len(p) && p[next-1]&0x30 != 0 {
				ok = varint()
			}
		default:
			return
		}
		if !ok || next > len(p) || !visit(pc, next) {
			return
		}
		pc = next
	}
}

// stripPyro turns every pyrotechnic instruction of p (set pyro, set pyro
// all channels: an op code and a byte) into as many nops, so that
// addresses stay right. It returns how many it turned and the offset of
// the first.
func stripPyro(p []byte) (n, first int) {
	first = -1
	walk(p, func(pc, next int) bool {
		if op := p[pc]; op == show.OpSetPyro || op == show.OpSetPyroAll {
			for i := pc; i < next; i++ {
				p[i] = show.OpNop
			}
			if n++; first < 0 {
				first = pc
			}
		}
		return true
	})
	return n, first
}

// endOf returns the offset just after p's first end instruction, or
// len(p), and whether a jump comes before it (which may reach past it).
func endOf(p []byte) (end int, jumps bool) {
	end = len(p)
	walk(p, func(pc, next int) bool {
		switch p[pc] {
		case show.OpJump, show.OpTriggeredJump:
			jumps = true
		case show.OpEnd:
			end = next
			return false
		}
		return true
	})
	return end, jumps
}
