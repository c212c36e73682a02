package codec

import (
	"encoding/binary"
	"fmt"
	"math"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/radio/arq"
)

// Packed layouts inside SWARM_DATA.data and SWARM_ACK.data (documented in
// swarm.xml): vehicle IDs as uint16 little endian, counters as unsigned
// LEB128 (encoding/binary's Uvarint), which keeps small sequence numbers
// to one or two bytes of airtime.

const ackAll = 1 // flags bit of an acknowledgement of the everyone stream

func appendU16(b []byte, v uint16) []byte { return binary.LittleEndian.AppendUint16(b, v) }

func appendEntry(b []byte, e arq.Entry) []byte {
	b = appendU16(b, uint16(e.To))
	b = binary.AppendUvarint(b, uint64(e.Seq))
	return binary.AppendUvarint(b, uint64(e.Low))
}

func appendAck(b []byte, a arq.Ack) []byte {
	b = appendU16(b, uint16(a.To))
	var flags byte
	if a.All {
		flags |= ackAll
	}
	b = append(b, flags)
	b = binary.AppendUvarint(b, uint64(a.ToInc))
	b = binary.AppendUvarint(b, uint64(a.Inc))
	b = binary.AppendUvarint(b, uint64(a.Cum))
	return binary.AppendUvarint(b, uint64(a.Sack))
}

// reader consumes a packed buffer; the first error sticks.
type reader struct {
	buf []byte
	err error
}

func (r *reader) fail(what string) {
	if r.err == nil {
		r.err = fmt.Errorf("codec: packed data ends inside %s: %w", what, ErrMalformed)
	}
}

func (r *reader) u8() byte {
	if r.err != nil || len(r.buf) < 1 {
		r.fail("a flags byte")
		return 0
	}
	v := r.buf[0]
	r.buf = r.buf[1:]
	return v
}

func (r *reader) u16() uint16 {
	if r.err != nil || len(r.buf) < 2 {
		r.fail("a vehicle ID")
		return 0
	}
	v := binary.LittleEndian.Uint16(r.buf)
	r.buf = r.buf[2:]
	return v
}

func (r *reader) u32() uint32 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.buf)
	if n <= 0 {
		r.fail("a counter")
		return 0
	}
	if v > math.MaxUint32 {
		r.err = fmt.Errorf("codec: packed counter %d exceeds 32 bits: %w", v, ErrMalformed)
		return 0
	}
	r.buf = r.buf[n:]
	return uint32(v)
}

func (r *reader) entry() arq.Entry {
	to := r.u16()
	seq := r.u32()
	low := r.u32()
	return arq.Entry{To: algorithms.NodeID(to), Seq: seq, Low: low}
}

func (r *reader) ack() arq.Ack {
	to := r.u16()
	flags := r.u8()
	if r.err == nil && flags&^ackAll != 0 {
		r.err = fmt.Errorf("codec: acknowledgement flags %#x unknown: %w", flags, ErrMalformed)
	}
	toInc := r.u32()
	inc := r.u32()
	cum := r.u32()
	sack := r.u32()
	return arq.Ack{To: algorithms.NodeID(to), ToInc: toInc, Inc: inc, All: flags&ackAll != 0, Cum: cum, Sack: sack}
}

func appendU32(b []byte, v uint32) []byte { return binary.LittleEndian.AppendUint32(b, v) }

// fixed32 reads a uint32, little endian (SWARM_MULTICAST layouts).
func (r *reader) fixed32() uint32 {
	if r.err != nil || len(r.buf) < 4 {
		r.fail("a 32-bit field")
		return 0
	}
	v := binary.LittleEndian.Uint32(r.buf)
	r.buf = r.buf[4:]
	return v
}

// bytes reads n bytes; nil when n is 0.
func (r *reader) bytes(n int) []byte {
	if r.err != nil || len(r.buf) < n {
		r.fail("a byte string")
		return nil
	}
	if n == 0 {
		return nil
	}
	v := append([]byte(nil), r.buf[:n]...)
	r.buf = r.buf[n:]
	return v
}

// rest reads every byte left; nil when none is.
func (r *reader) rest() []byte { return r.bytes(len(r.buf)) }

// flags reads a flags byte of which only the bits of known may be set.
func (r *reader) flags(known byte) byte {
	f := r.u8()
	if r.err == nil && f&^known != 0 {
		r.err = fmt.Errorf("codec: flags %#x unknown: %w", f, ErrMalformed)
	}
	return f
}

// ids reads vehicle IDs (uint16, little endian) up to the end of the
// buffer; nil when none is left.
func (r *reader) ids() []algorithms.NodeID {
	if r.err == nil && len(r.buf)%2 != 0 {
		r.err = fmt.Errorf("codec: %d bytes is not a list of vehicle IDs: %w", len(r.buf), ErrMalformed)
	}
	var out []algorithms.NodeID
	for r.err == nil && len(r.buf) > 0 {
		out = append(out, algorithms.NodeID(r.u16()))
	}
	return out
}
