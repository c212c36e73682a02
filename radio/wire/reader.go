package wire

import (
	"bytes"
	"crypto/subtle"
	"encoding/binary"
	"time"

	mavdialect "github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/skyquorum/skyquorum/radio/dialect"
)

// Reason says why a frame was rejected.
type Reason int

// Reasons of rejection.
const (
	// BadCRC: the checksum does not match (line noise, or a frame cut short
	// by the next one).
	BadCRC Reason = iota
	// BadSignature: signed with another key, or forged.
	BadSignature
	// Replay: the timestamp is not above the last one of its stream, or a
	// new stream starts more than Window in the past.
	Replay
	// Unsigned: every swarm frame must be signed.
	Unsigned
	// UnknownMessage: the message ID is not in the dialect.
	UnknownMessage
	// WrongNetwork: a swarm message of another radio network.
	WrongNetwork
	// Truncated: a datagram ended inside a frame.
	Truncated
	// Oversize: the payload is longer than its message.
	Oversize
	// Malformed: unknown incompatibility flags, or a payload that does not
	// decode.
	Malformed
	// Ahead: correctly signed, but the timestamp is more than the
	// Verifier's Ahead ahead of the receiver's clock: the sender's clock is
	// wrong (or the receiver's is behind and has not caught up yet).
	Ahead
	// Version1: a MAVLink 1 frame, which cannot be signed.
	Version1
	numReasons
)

var reasonNames = [numReasons]string{"bad CRC", "bad signature", "replay", "unsigned", "unknown message", "wrong network", "truncated", "oversize", "malformed", "too far ahead", "MAVLink 1"}

// String implements fmt.Stringer.
func (r Reason) String() string {
	if r >= 0 && r < numReasons {
		return reasonNames[r]
	}
	return "unknown reason"
}

// Reasons lists every Reason.
func Reasons() []Reason {
	out := make([]Reason, numReasons)
	for i := range out {
		out[i] = Reason(i)
	}
	return out
}

// Counters are a Reader's running totals.
type Counters struct {
	Bytes       int // bytes fed
	Frames      int // signed frames accepted
	RadioStatus int // local RADIO_STATUS frames accepted
	Skipped     int // bytes skipped outside frames
	rejected    [numReasons]int
}

// Rejected returns how many frames were rejected for r.
func (c Counters) Rejected(r Reason) int {
	if r < 0 || r >= numReasons {
		return 0
	}
	return c.rejected[r]
}

// TotalRejected is the number of rejected frames.
func (c Counters) TotalRejected() int {
	n := 0
	for _, v := range c.rejected {
		n += v
	}
	return n
}

// VerifierConfig configures a Verifier.
type VerifierConfig struct {
	// Key is the swarm key.
	Key Key
	// Network is the local radio network: swarm messages of others are
	// rejected, and frames of other dialects belong to it.
	Network uint8
	// Window is how far in the past the first frame of a stream may be
	// (optional, default one minute, as in the MAVLink specification).
	Window time.Duration
	// Ahead is how far ahead of the receiver's clock a timestamp may be
	// (optional, default DefaultAhead): a frame beyond it is rejected as
	// Ahead, so that a sender whose clock reads far in the future is
	// neither heard nor followed.
	Ahead time.Duration
}

type streamKey struct {
	network, system, component, link uint8
}

// Verifier holds the replay state of every stream heard: the last
// timestamp per (network, system ID, component ID, link ID). One Verifier
// may serve several Readers (a frame heard on two links is accepted once).
// It is not safe for concurrent use.
type Verifier struct {
	key     Key
	network uint8
	window  Timestamp
	ahead   Timestamp
	streams map[streamKey]Timestamp
}

// NewVerifier returns a Verifier for cfg.
func NewVerifier(cfg VerifierConfig) *Verifier {
	w := cfg.Window
	if w <= 0 {
		w = time.Minute
	}
	a := cfg.Ahead
	if a <= 0 {
		a = DefaultAhead
	}
	return &Verifier{key: cfg.Key, network: cfg.Network, window: Duration(w), ahead: Duration(a), streams: map[streamKey]Timestamp{}}
}

// Source says where a Reader's bytes come from.
type Source int

const (
	// SourceNetwork: UDP or in-memory links; there is no local radio.
	SourceNetwork Source = iota
	// SourceSerial: a serial radio, whose own RADIO_STATUS is accepted
	// unsigned for pacing.
	SourceSerial
)

// ReaderConfig configures a Reader.
type ReaderConfig struct {
	// Dialect decodes messages (radio/dialect.NewReadWriter).
	Dialect *mavdialect.ReadWriter
	// Verifier checks signatures and replays.
	Verifier *Verifier
	// Source is the kind of link.
	Source Source
	// Datagrams is true when every Feed is a whole datagram: a frame left
	// incomplete at its end is rejected as Truncated instead of waiting for
	// more bytes.
	Datagrams bool
	// OnAhead, if not nil, is called with every correctly signed frame
	// rejected as Ahead, so that a receiver whose clock is behind can catch
	// up with the swarm (Signer.ObserveAhead).
	OnAhead func(Frame)
}

// Reader splits a byte stream into frames, verifies them, and counts what
// it rejects. It resynchronises after garbage by scanning for the next
// magic byte, as the MAVLink C library does.
type Reader struct {
	cfg      ReaderConfig
	buf      []byte
	maxLen   map[uint32]int
	counters Counters
}

// NewReader returns a Reader for cfg.
func NewReader(cfg ReaderConfig) *Reader {
	return &Reader{cfg: cfg, maxLen: map[uint32]int{}}
}

// Counters returns the running totals.
func (r *Reader) Counters() Counters { return r.counters }

// Feed appends received bytes.
func (r *Reader) Feed(p []byte) {
	r.counters.Bytes += len(p)
	r.buf = append(r.buf, p...)
}

// Next returns the next accepted frame; ok is false when the bytes fed so
// far hold no more. now is the receiver's clock (Signer.Now).
func (r *Reader) Next(now Timestamp) (f Frame, ok bool) {
	for {
		i := indexMagic(r.buf)
		if i < 0 {
			r.counters.Skipped += len(r.buf)
			r.buf = r.buf[:0]
			return Frame{}, false
		}
		r.counters.Skipped += i
		r.buf = r.buf[i:]
		if r.buf[0] == magicV1 {
			switch n := r.version1(); {
			case n > 0 && bytes.IndexByte(r.buf[1:n], magic) >= 0:
				// Its length is not authenticated: it must not swallow
				// a MAVLink 2 frame that may start inside it.
				r.reject(Version1, 1)
			case n > 0:
				r.reject(Version1, n)
			case n < 0:
				return r.incomplete()
			default:
				r.counters.Skipped++
				r.buf = r.buf[1:]
			}
			continue
		}
		if len(r.buf) < headerLen {
			return r.incomplete()
		}
		plen := int(r.buf[1])
		flags := r.buf[2]
		if flags&^flagSigned != 0 {
			r.reject(Malformed, 1)
			continue
		}
		signed := flags&flagSigned != 0
		total := headerLen + plen + checksumLen
		if signed {
			total += signatureLen
		}
		if len(r.buf) < total {
			return r.incomplete()
		}
		raw := r.buf[:total]
		id := uint32(raw[7]) | uint32(raw[8])<<8 | uint32(raw[9])<<16
		mrw := r.cfg.Dialect.GetMessage(id)
		if mrw == nil {
			if signed && r.signatureOK(raw) {
				r.reject(UnknownMessage, total) // genuine: skip it whole
			} else {
				r.reject(UnknownMessage, 1)
			}
			continue
		}
		sum := binary.LittleEndian.Uint16(raw[headerLen+plen:])
		if checksum(raw[:headerLen+plen], mrw.CRCExtra()) != sum {
			r.reject(BadCRC, 1)
			continue
		}
		// A well-formed frame: from here on it is consumed whole.
		frame := Frame{
			SystemID:    raw[5],
			ComponentID: raw[6],
			Sequence:    raw[4],
			Signed:      signed,
			Raw:         bytes.Clone(raw),
		}
		reason, accepted, genuine := r.verify(&frame, mrw, id, plen, now)
		if !accepted {
			// Only a correctly signed frame's length can be trusted: after
			// anything else, rescan from the next byte, so that bytes an
			// attacker sends never swallow the genuine frame behind them.
			if genuine {
				r.reject(reason, total)
			} else {
				r.reject(reason, 1)
			}
			continue
		}
		r.buf = r.buf[total:]
		if frame.Signed {
			r.counters.Frames++
		} else {
			r.counters.RadioStatus++
		}
		return frame, true
	}
}

// verify checks a frame whose CRC is correct. genuine reports whether its
// signature is valid, whatever the verdict.
func (r *Reader) verify(f *Frame, mrw *message.ReadWriter, id uint32, plen int, now Timestamp) (reason Reason, accepted, genuine bool) {
	payload := f.Raw[headerLen : headerLen+plen]
	if plen > r.payloadLimit(id, mrw) {
		return Oversize, false, f.Signed && r.signatureOK(f.Raw)
	}
	if !f.Signed {
		if id != radioStatusID || f.SystemID != RadioSystemID || f.ComponentID != RadioComponentID || r.cfg.Source != SourceSerial {
			return Unsigned, false, false
		}
		msg, err := mrw.Read(&message.MessageRaw{ID: id, Payload: bytes.Clone(payload)}, true)
		if err != nil {
			return Malformed, false, false
		}
		f.Message = msg
		return 0, true, false
	}
	if !r.signatureOK(f.Raw) {
		return BadSignature, false, false
	}
	tail := f.Raw[headerLen+plen+checksumLen:]
	f.LinkID = tail[0]
	f.Timestamp = Timestamp(uint64(tail[1]) | uint64(tail[2])<<8 | uint64(tail[3])<<16 |
		uint64(tail[4])<<24 | uint64(tail[5])<<32 | uint64(tail[6])<<40)
	msg, err := mrw.Read(&message.MessageRaw{ID: id, Payload: bytes.Clone(payload)}, true)
	if err != nil {
		return Malformed, false, true
	}
	f.Message = msg
	v := r.cfg.Verifier
	network := v.network
	if n, ok := dialect.Network(msg); ok {
		if n != v.network {
			return WrongNetwork, false, true
		}
		network = n
	}
	key := streamKey{network, f.SystemID, f.ComponentID, f.LinkID}
	last, seen := v.streams[key]
	if seen && f.Timestamp <= last {
		return Replay, false, true
	}
	if !seen && f.Timestamp+v.window < now {
		return Replay, false, true
	}
	if f.Timestamp > now && f.Timestamp-now > v.ahead {
		if r.cfg.OnAhead != nil {
			r.cfg.OnAhead(*f)
		}
		return Ahead, false, true
	}
	v.streams[key] = f.Timestamp
	return 0, true, true
}

// indexMagic is the index of the first MAVLink 2 or MAVLink 1 start byte.
func indexMagic(b []byte) int {
	for i, c := range b {
		if c == magic || c == magicV1 {
			return i
		}
	}
	return -1
}

// version1 checks for a MAVLink 1 frame at the start of the buffer: its
// length when the frame is whole and its CRC matches a message of the
// dialect, -1 when more bytes may complete it, 0 when the start byte is
// not the start of one. A frame cut short on a stream is waited for only
// while no MAVLink 2 start byte follows, so that a stray 0xFE never holds
// back the frames behind it.
func (r *Reader) version1() int {
	if len(r.buf) >= headerLenV1 {
		total := headerLenV1 + int(r.buf[1]) + checksumLen
		if len(r.buf) >= total {
			mrw := r.cfg.Dialect.GetMessage(uint32(r.buf[5]))
			if mrw != nil && checksum(r.buf[:total-checksumLen], mrw.CRCExtra()) == binary.LittleEndian.Uint16(r.buf[total-checksumLen:]) {
				return total
			}
			return 0
		}
	}
	if r.cfg.Datagrams || bytes.IndexByte(r.buf[1:], magic) >= 0 {
		return 0
	}
	return -1
}

func (r *Reader) signatureOK(raw []byte) bool {
	if len(raw) < signatureLen {
		return false
	}
	s := signature(&r.cfg.Verifier.key, raw[:len(raw)-6])
	return subtle.ConstantTimeCompare(s[:], raw[len(raw)-6:]) == 1
}

// payloadLimit is the full length of message id: decoding a payload of
// non-zero bytes and encoding it again leaves nothing to trim.
func (r *Reader) payloadLimit(id uint32, mrw *message.ReadWriter) int {
	if n, ok := r.maxLen[id]; ok {
		return n
	}
	msg, err := mrw.Read(&message.MessageRaw{ID: id, Payload: bytes.Repeat([]byte{1}, 255)}, true)
	n := 255
	if err == nil {
		n = len(mrw.Write(msg, true).Payload)
	}
	r.maxLen[id] = n
	return n
}

// incomplete handles a frame that needs more bytes than were fed.
func (r *Reader) incomplete() (Frame, bool) {
	if r.cfg.Datagrams && len(r.buf) > 0 {
		r.counters.rejected[Truncated]++
		r.buf = r.buf[:0]
	}
	return Frame{}, false
}

// reject counts a rejection and drops n bytes. A datagram holds one frame,
// so on a datagram link the rest of it goes too: rescanning its bytes for
// another frame would only count the same bad datagram again, as many
// times as its random bytes happen to hold a magic byte.
func (r *Reader) reject(reason Reason, n int) {
	r.counters.rejected[reason]++
	if r.cfg.Datagrams {
		r.buf = r.buf[:0]
		return
	}
	r.buf = r.buf[n:]
}
