package show

import (
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"time"
)

// Version is the encoding's version, its first byte.
const Version = 1

// ErrEncoding wraps every error of Decode: bytes that are not a show.
var ErrEncoding = errors.New("show: bad encoding")

// Hash identifies a show: the SHA-256 of its encoding.
type Hash [sha256.Size]byte

// String formats the hash in hexadecimal.
func (h Hash) String() string { return fmt.Sprintf("%x", h[:]) }

// Digest returns the hash's first 8 bytes, big-endian: what a LOAD
// command names.
func (h Hash) Digest() uint64 { return binary.BigEndian.Uint64(h[:8]) }

// Hash returns the show's hash, the SHA-256 of its encoding.
func (s *Show) Hash() (Hash, error) {
	b, err := s.Encode()
	if err != nil {
		return Hash{}, err
	}
	return sha256.Sum256(b), nil
}

// Encode returns the show's compact binary encoding, the form the radio
// carries and the hash identifies. Positions are stored to the
// millimetre and times to the millisecond (Quantize), mostly as
// differences from the previous value in zig-zag varints, so a keyframe
// of a smooth path takes a few bytes:
//
//	version        byte (1)
//	title          string (uvarint length, bytes)
//	flags          byte: bit 0 the show has an origin
//	origin         if flagged: latitude, longitude (int32 big-endian, 1e-7°),
//	               AMSL (varint mm)
//	orientation    uvarint, millidegrees
//	limits         6 uvarints (mm, mm/s, mm/s²): max altitude, max speed
//	               horizontal, up, down, max acceleration, min distance
//	fence          uvarint count, then X, Y of each vertex (varint mm,
//	               difference from the previous vertex)
//	cues           uvarint count, then per cue: name, time (uvarint ms)
//	drones         uvarint count, then per drone:
//	  name         string
//	  home, land   3 varints mm each
//	  takeoff      uvarint ms; landing − takeoff, uvarint ms
//	  path         uvarint count; first keyframe: time (uvarint ms),
//	               position (3 varints mm); every next: time since the
//	               previous (uvarint ms), control-point count (byte),
//	               control points then position (3 varints mm each,
//	               difference from the previous keyframe's position)
//	  lights       uvarint length, program bytes
//
// It fails when the show is not well formed (Check).
func (s *Show) Encode() ([]byte, error) {
	if err := s.Check(); err != nil {
		return nil, err
	}
	var e encoder
	e.b = append(e.b, Version)
	e.str(s.Title)
	var flags byte
	if s.HasOrigin {
		flags |= 1
	}
	e.b = append(e.b, flags)
	if s.HasOrigin {
		e.b = binary.BigEndian.AppendUint32(e.b, uint32(int32(math.Round(s.Origin.Lat*1e7))))
		e.b = binary.BigEndian.AppendUint32(e.b, uint32(int32(math.Round(s.Origin.Lon*1e7))))
		e.mm(s.Origin.AMSL)
	}
	e.uv(uint64(math.Round(s.Orientation*1e3)) % 360_000)
	l := s.Limits
	for _, v := range []float64{l.MaxAltitude, l.MaxSpeedXY, l.MaxSpeedUp, l.MaxSpeedDown, l.MaxAccel, l.MinDistance} {
		e.uv(uint64(math.Round(v * 1e3)))
	}
	e.uv(uint64(len(s.Fence.Polygon)))
	var px, py int64
	for _, p := range s.Fence.Polygon {
		x, y := mm(p[0]), mm(p[1])
		e.v(x - px)
		e.v(y - py)
		px, py = x, y
	}
	e.uv(uint64(len(s.Cues)))
	for _, c := range s.Cues {
		e.str(c.Name)
		e.uv(uint64(ms(c.At)))
	}
	e.uv(uint64(len(s.Drones)))
	for i := range s.Drones {
		d := &s.Drones[i]
		e.str(d.Name)
		e.vec(d.Home, Vec3{})
		e.vec(d.Land, Vec3{})
		e.uv(uint64(ms(d.Takeoff)))
		e.uv(uint64(ms(d.Landing) - ms(d.Takeoff)))
		e.uv(uint64(len(d.Path)))
		var prevT int64
		var prev Vec3
		for k, kf := range d.Path {
			t := ms(kf.At)
			if k == 0 {
				e.uv(uint64(t))
			} else {
				e.uv(uint64(t - prevT))
				e.b = append(e.b, byte(len(kf.Ctrl)))
				for _, c := range kf.Ctrl {
					e.vec(c, prev)
				}
			}
			e.vec(kf.Pos, prev)
			prevT, prev = t, kf.Pos
		}
		e.uv(uint64(len(d.Lights)))
		e.b = append(e.b, d.Lights...)
	}
	return e.b, nil
}

// Decode reads a show from its encoding. It refuses, with an error
// wrapping ErrEncoding that names the part, any bytes that Encode would
// not have written: another version, a truncated or overlong field, a
// count beyond the format's bounds or beyond what the bytes left could
// hold, trailing bytes, a show that is not well formed. Memory stays
// within a small multiple of len(b).
func Decode(b []byte) (*Show, error) {
	d := decoder{b: b}
	s, err := d.show()
	if err == nil && d.pos != len(b) {
		err = fmt.Errorf("%d trailing bytes after the last drone", len(b)-d.pos)
	}
	if err == nil {
		err = s.Check()
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrEncoding, err)
	}
	// One encoding per show, so that the hash identifies it: refuse
	// overlong varints and the like, which Encode never writes.
	again, err := s.Encode()
	if err != nil || !bytes.Equal(again, b) {
		return nil, fmt.Errorf("%w: not in canonical form (an overlong varint or a value beyond its field)", ErrEncoding)
	}
	return s, nil
}

type encoder struct{ b []byte }

func (e *encoder) uv(v uint64) { e.b = binary.AppendUvarint(e.b, v) }
func (e *encoder) v(v int64)   { e.b = binary.AppendVarint(e.b, v) }
func (e *encoder) mm(v float64) {
	e.v(mm(v))
}
func (e *encoder) str(s string) {
	e.uv(uint64(len(s)))
	e.b = append(e.b, s...)
}
func (e *encoder) vec(v, from Vec3) {
	e.v(mm(v.X) - mm(from.X))
	e.v(mm(v.Y) - mm(from.Y))
	e.v(mm(v.Z) - mm(from.Z))
}

func mm(v float64) int64           { return int64(math.Round(v * 1e3)) }
func ms(d time.Duration) int64     { return int64(d.Round(Tick) / Tick) }
func fromMM(v int64) float64       { return float64(v) / 1e3 }
func fromMS(v int64) time.Duration { return time.Duration(v) * Tick }

type decoder struct {
	b   []byte
	pos int
	err error
	// what names the part being read, for errors.
	what string
}

func (d *decoder) fail(format string, a ...any) {
	if d.err == nil {
		d.err = fmt.Errorf("%s at byte %d: %s", d.what, d.pos, fmt.Sprintf(format, a...))
	}
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if d.pos >= len(d.b) {
		d.fail("truncated")
		return 0
	}
	v := d.b[d.pos]
	d.pos++
	return v
}

func (d *decoder) uv() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b[d.pos:])
	if n <= 0 {
		d.fail("truncated or overlong varint")
		return 0
	}
	d.pos += n
	return v
}

// bounded reads a uvarint no larger than limit.
func (d *decoder) bounded(limit uint64) int64 {
	v := d.uv()
	if v > limit {
		d.fail("%d is beyond %d", v, limit)
		return 0
	}
	return int64(v)
}

func (d *decoder) v() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b[d.pos:])
	if n <= 0 {
		d.fail("truncated or overlong varint")
		return 0
	}
	if v > math.MaxInt32 || v < math.MinInt32 {
		d.fail("%d mm is beyond the format's range", v)
		return 0
	}
	d.pos += n
	return v
}

// count reads an element count no larger than limit, nor than the bytes
// left divided by each element's smallest size.
func (d *decoder) count(limit, minSize int) int {
	n := d.bounded(uint64(limit))
	if d.err == nil && n*int64(minSize) > int64(len(d.b)-d.pos) {
		d.fail("%d elements cannot fit in the %d bytes left", n, len(d.b)-d.pos)
		return 0
	}
	return int(n)
}

func (d *decoder) bytes(limit int) []byte {
	n := d.count(limit, 1)
	if d.err != nil {
		return nil
	}
	out := d.b[d.pos : d.pos+n]
	d.pos += n
	return out
}

func (d *decoder) vec(from Vec3) Vec3 {
	x, y, z := d.v(), d.v(), d.v()
	return Vec3{fromMM(mm(from.X) + x), fromMM(mm(from.Y) + y), fromMM(mm(from.Z) + z)}
}

func (d *decoder) show() (*Show, error) {
	s := &Show{}
	d.what = "version"
	if v := d.byte(); d.err == nil && v != Version {
		return nil, fmt.Errorf("version %d, this reader knows version %d", v, Version)
	}
	d.what = "title"
	s.Title = string(d.bytes(MaxNameBytes))
	d.what = "flags"
	flags := d.byte()
	if flags&^1 != 0 {
		d.fail("unknown flags %#x", flags)
	}
	if flags&1 != 0 {
		d.what = "origin"
		s.HasOrigin = true
		var u [8]byte
		for i := range u {
			u[i] = d.byte()
		}
		s.Origin.Lat = float64(int32(binary.BigEndian.Uint32(u[:4]))) / 1e7
		s.Origin.Lon = float64(int32(binary.BigEndian.Uint32(u[4:]))) / 1e7
		s.Origin.AMSL = fromMM(d.v())
	}
	d.what = "orientation"
	s.Orientation = float64(d.bounded(359_999)) / 1e3
	d.what = "limits"
	l := &s.Limits
	for _, p := range []*float64{&l.MaxAltitude, &l.MaxSpeedXY, &l.MaxSpeedUp, &l.MaxSpeedDown, &l.MaxAccel, &l.MinDistance} {
		*p = fromMM(d.bounded(uint64(MaxCoordinate * 1e3)))
	}
	d.what = "geofence"
	if n := d.count(MaxFenceVertices, 2); n > 0 {
		s.Fence.Polygon = make([][2]float64, n)
		var x, y int64
		for i := range n {
			x += d.v()
			y += d.v()
			s.Fence.Polygon[i] = [2]float64{fromMM(x), fromMM(y)}
		}
	}
	d.what = "cues"
	if n := d.count(MaxCues, 2); n > 0 {
		s.Cues = make([]Cue, n)
		for i := range n {
			s.Cues[i].Name = string(d.bytes(MaxNameBytes))
			s.Cues[i].At = fromMS(d.bounded(uint64(MaxDuration / Tick)))
		}
	}
	d.what = "drones"
	n := d.count(MaxDrones, 12)
	if d.err != nil {
		return nil, d.err
	}
	s.Drones = make([]Drone, n)
	for i := range n {
		dr := &s.Drones[i]
		d.what = fmt.Sprintf("drone %d", i+1)
		dr.Name = string(d.bytes(MaxNameBytes))
		dr.Home = d.vec(Vec3{})
		dr.Land = d.vec(Vec3{})
		dr.Takeoff = fromMS(d.bounded(uint64(MaxDuration / Tick)))
		dr.Landing = dr.Takeoff + fromMS(d.bounded(uint64(MaxDuration/Tick)))
		d.what = fmt.Sprintf("drone %d path", i+1)
		k := d.count(MaxKeyframes, 4)
		if d.err != nil {
			return nil, d.err
		}
		dr.Path = make([]Keyframe, k)
		var t int64
		var prev Vec3
		for j := range k {
			kf := &dr.Path[j]
			t += d.bounded(uint64(MaxDuration / Tick))
			kf.At = fromMS(t)
			if j > 0 {
				nc := d.byte()
				if nc > 2 {
					d.fail("keyframe %d has %d control points, at most 2", j, nc)
				}
				if d.err != nil {
					return nil, d.err
				}
				if nc > 0 {
					kf.Ctrl = make([]Vec3, nc)
					for c := range kf.Ctrl {
						kf.Ctrl[c] = d.vec(prev)
					}
				}
			}
			kf.Pos = d.vec(prev)
			prev = kf.Pos
			if d.err != nil {
				return nil, d.err
			}
		}
		d.what = fmt.Sprintf("drone %d lights", i+1)
		if p := d.bytes(MaxProgramBytes); len(p) > 0 {
			dr.Lights = append(Program(nil), p...)
		}
		if d.err != nil {
			return nil, d.err
		}
	}
	return s, d.err
}
