package wire

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	mavdialect "github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
	"github.com/bluenviron/gomavlib/v3/pkg/x25"
)

// MAVLink 2 framing.
const (
	magic         = 0xFD
	magicV1       = 0xFE // MAVLink 1: never signed, so always rejected
	headerLenV1   = 6
	flagSigned    = 0x01
	headerLen     = 10
	checksumLen   = 2
	signatureLen  = 13
	MaxFrameBytes = headerLen + 255 + checksumLen + signatureLen // largest signed frame
	// Overhead is what a signed frame adds to its payload.
	Overhead = headerLen + checksumLen + signatureLen
)

// Local radio (SiK) identity: the radio injects unsigned RADIO_STATUS
// frames from this system and component.
const (
	RadioSystemID    = 51
	RadioComponentID = 68
	radioStatusID    = 109
)

// Frame is a frame the Reader accepted.
type Frame struct {
	SystemID    uint8
	ComponentID uint8
	Sequence    uint8
	// Signed is false only for the local radio's RADIO_STATUS.
	Signed    bool
	LinkID    uint8
	Timestamp Timestamp
	Message   message.Message
	// Raw is the frame as received.
	Raw []byte
}

// IsRadioStatus reports whether f is the local radio's RADIO_STATUS,
// which may only feed pacing.
func (f Frame) IsRadioStatus() bool { return !f.Signed && f.Message.GetID() == radioStatusID }

// Encoder writes MAVLink 2 frames of one sender.
type Encoder struct {
	systemID, componentID uint8
	rw                    *mavdialect.ReadWriter
	seq                   uint8
}

// NewEncoder returns an Encoder for system and component IDs, encoding
// messages of the dialect rw.
func NewEncoder(rw *mavdialect.ReadWriter, systemID, componentID uint8) *Encoder {
	return &Encoder{systemID: systemID, componentID: componentID, rw: rw}
}

// Signature says how to sign a frame.
type Signature struct {
	Key       *Key
	LinkID    uint8
	Timestamp Timestamp
}

// Encode returns the frame of msg, signed when sig is not nil, and
// advances the sequence number.
func (e *Encoder) Encode(msg message.Message, sig *Signature) ([]byte, error) {
	mrw := e.rw.GetMessage(msg.GetID())
	if mrw == nil {
		return nil, fmt.Errorf("wire: message %d (%T) is not in the dialect", msg.GetID(), msg)
	}
	payload := mrw.Write(msg, true).Payload
	var flags byte
	if sig != nil {
		flags = flagSigned
	}
	out := make([]byte, 0, headerLen+len(payload)+checksumLen+signatureLen)
	id := msg.GetID()
	out = append(out, magic, byte(len(payload)), flags, 0, e.seq, e.systemID, e.componentID,
		byte(id), byte(id>>8), byte(id>>16))
	out = append(out, payload...)
	out = binary.LittleEndian.AppendUint16(out, checksum(out, mrw.CRCExtra()))
	e.seq++
	if sig != nil {
		out = append(out, sig.LinkID)
		ts := uint64(sig.Timestamp)
		out = append(out, byte(ts), byte(ts>>8), byte(ts>>16), byte(ts>>24), byte(ts>>32), byte(ts>>40))
		s := signature(sig.Key, out)
		out = append(out, s[:]...)
	}
	return out, nil
}

// checksum is the X.25 CRC of a frame's header (after the magic byte) and
// payload, and the message's CRC extra.
func checksum(frame []byte, crcExtra byte) uint16 {
	h := x25.New()
	h.Write(frame[1:])
	h.Write([]byte{crcExtra})
	return h.Sum16()
}

// signature is the first 6 bytes of SHA-256(key, frame up to and including
// the timestamp).
func signature(key *Key, signed []byte) [6]byte {
	h := sha256.New()
	h.Write(key[:])
	h.Write(signed)
	var s [6]byte
	copy(s[:], h.Sum(nil))
	return s
}
