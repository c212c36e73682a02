// Package codec translates between the protocol cores' messages
// (algorithms.Message), the reliable delivery layer's frames (arq.Frame) and
// the swarm dialect's MAVLink messages (radio/dialect/swarm).
//
// A core message becomes the message of its protocol family (SWARM_MUTEX,
// SWARM_ELECTION, …) through a Binding: one table entry per core message
// type in Bindings. A reliable delivery frame becomes SWARM_DATA, which
// embeds the family message's MAVLink payload after the frame's stream
// entries and acknowledgements, or SWARM_ACK when it only acknowledges.
//
// SWARM_DATA has 240 bytes for the entries, the missing list, the
// acknowledgements and the embedded message, with counters packed as
// variable-length integers, so arq's own size estimate (Frame.Size) is an
// approximation: give arq.Config.MaxPayload some margin (200 leaves room
// for 32 destinations while sequence numbers stay below 16384).
// EncodeFrame never drops anything: acknowledgements that do not fit go
// out in extra SWARM_ACK messages, and a frame whose entries and payload
// alone do not fit is refused with ErrTooLarge.
//
// The codec is pure: no goroutines, no clock, no I/O.
package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"

	mavdialect "github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/radio/arq"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
)

// Sentinel errors; every error the codec returns wraps one of them.
var (
	// ErrUnknown: the message has no binding, or is not a swarm message.
	ErrUnknown = errors.New("codec: unknown message")
	// ErrMalformed: the dialect message is not a valid encoding.
	ErrMalformed = errors.New("codec: malformed message")
	// ErrTooLarge: the frame's entries, missing list and payload do not fit
	// one MAVLink payload; send fewer destinations or a smaller message.
	ErrTooLarge = errors.New("codec: frame does not fit one MAVLink payload")
)

// Header is the addressing every swarm message carries.
type Header struct {
	// Network is the swarm radio network.
	Network uint8
	// From is the sender's vehicle ID.
	From algorithms.NodeID
	// To is the destination's vehicle ID, algorithms.Everyone for all.
	To algorithms.NodeID
}

// Config configures a Codec.
type Config struct {
	// Network is the swarm radio network written into every message.
	Network uint8
	// Bindings are the core messages the codec knows (optional, default
	// Bindings()).
	Bindings []Binding
}

// Codec encodes and decodes swarm messages. It holds no per-message state
// and may be shared by the goroutines of one drone.
type Codec struct {
	network  uint8
	reg      *Registry
	rw       *mavdialect.ReadWriter
	maxLen   map[uint32]int
	dataSize int
	ackSize  int
}

// New returns a Codec for cfg.
func New(cfg Config) (*Codec, error) {
	bindings := cfg.Bindings
	if bindings == nil {
		bindings = Bindings()
	}
	reg, err := NewRegistry(bindings)
	if err != nil {
		return nil, err
	}
	rw := &mavdialect.ReadWriter{Dialect: swarm.Dialect}
	if err := rw.Initialize(); err != nil {
		return nil, fmt.Errorf("codec: swarm dialect: %w", err)
	}
	c := &Codec{network: cfg.Network, reg: reg, rw: rw, maxLen: map[uint32]int{}}
	for _, m := range swarm.Dialect.Messages {
		c.maxLen[m.GetID()] = maxPayload(rw, m)
	}
	c.dataSize = len(swarm.MessageSwarmData{}.Data)
	c.ackSize = len(swarm.MessageSwarmAck{}.Data)
	return c, nil
}

// Network returns the network the codec writes.
func (c *Codec) Network() uint8 { return c.network }

// EncodeMessage returns the family message of core message m, addressed
// by h (h.Network is replaced by the codec's network).
func (c *Codec) EncodeMessage(h Header, m algorithms.Message) (message.Message, error) {
	b, err := c.reg.forMessage(m)
	if err != nil {
		return nil, err
	}
	msg, err := b.encode(m)
	if err != nil {
		return nil, err
	}
	n, src, dst, ok := addressing(msg)
	if !ok {
		return nil, fmt.Errorf("codec: %s encodes to %T, not a swarm family message: %w", b.name, msg, ErrUnknown)
	}
	*n, *src, *dst = c.network, uint16(h.From), uint16(h.To)
	return msg, nil
}

// DecodeMessage returns the core message carried by a family message and
// its addressing.
func (c *Codec) DecodeMessage(msg message.Message) (Header, algorithms.Message, error) {
	h, ok := Addressing(msg)
	if !ok {
		return Header{}, nil, fmt.Errorf("codec: %T is not a swarm message: %w", msg, ErrUnknown)
	}
	b, err := c.reg.forDialect(msg)
	if err != nil {
		return Header{}, nil, err
	}
	m, err := b.decode(msg)
	if err != nil {
		return Header{}, nil, err
	}
	return h, m, nil
}

// EncodeFrame returns the dialect messages of one reliable delivery frame:
// one SWARM_DATA (or SWARM_ACK for a frame that only acknowledges), followed
// by SWARM_ACK messages for acknowledgements that did not fit. Decoding the
// messages in order and merging their acknowledgements gives f back.
func (c *Codec) EncodeFrame(f *arq.Frame) ([]message.Message, error) {
	if f.Payload == nil && len(f.Entries) == 0 && len(f.Missing) == 0 && !f.Retransmission {
		return c.encodeAcks(f.From, f.Inc, f.Acks), nil
	}
	d := &swarm.MessageSwarmData{
		Incarnation:  f.Inc,
		SrcVehicle:   uint16(f.From),
		DstVehicle:   uint16(frameDest(f)),
		NetworkId:    c.network,
		EntryCount:   uint8(len(f.Entries)),
		MissingCount: uint8(len(f.Missing)),
	}
	if len(f.Entries) > 0xFF || len(f.Missing) > 0xFF {
		return nil, fmt.Errorf("codec: %d entries, %d missing: %w", len(f.Entries), len(f.Missing), ErrTooLarge)
	}
	if f.Retransmission {
		d.Flags |= swarm.SWARM_DATA_FLAGS_RETRANSMISSION
	}
	var buf []byte
	for _, e := range f.Entries {
		buf = appendEntry(buf, e)
	}
	for _, id := range f.Missing {
		buf = appendU16(buf, uint16(id))
	}
	var payload []byte
	if f.Payload != nil {
		inner, err := c.EncodeMessage(Header{From: f.From, To: algorithms.NodeID(d.DstVehicle)}, f.Payload)
		if err != nil {
			return nil, err
		}
		d.PayloadMsgid = uint16(inner.GetID())
		payload = c.rw.GetMessage(inner.GetID()).Write(inner, true).Payload
	}
	room := c.dataSize - len(buf) - len(payload)
	if room < 0 {
		return nil, fmt.Errorf("codec: %s frame needs %d bytes, %d fit: %w", f.Kind(), len(buf)+len(payload), c.dataSize, ErrTooLarge)
	}
	acks := f.Acks
	for len(acks) > 0 && d.AckCount < 0xFF {
		a := appendAck(nil, acks[0])
		if len(a) > room {
			break
		}
		buf = append(buf, a...)
		room -= len(a)
		acks = acks[1:]
		d.AckCount++
	}
	buf = append(buf, payload...)
	copy(d.Data[:], buf)
	out := []message.Message{d}
	if len(acks) > 0 {
		out = append(out, c.encodeAcks(f.From, f.Inc, acks)...)
	}
	return out, nil
}

func (c *Codec) encodeAcks(from algorithms.NodeID, inc uint32, acks []arq.Ack) []message.Message {
	var out []message.Message
	for {
		m := &swarm.MessageSwarmAck{
			Incarnation: inc,
			SrcVehicle:  uint16(from),
			DstVehicle:  uint16(ackDest(acks)),
			NetworkId:   c.network,
			Kind:        swarm.SWARM_ACK_KIND_ACK,
		}
		var buf []byte
		for len(acks) > 0 && m.AckCount < 0xFF {
			a := appendAck(nil, acks[0])
			if len(buf)+len(a) > c.ackSize {
				break
			}
			buf = append(buf, a...)
			acks = acks[1:]
			m.AckCount++
		}
		copy(m.Data[:], buf)
		out = append(out, m)
		if len(acks) == 0 {
			return out
		}
	}
}

// frameDest is the only destination of a frame, or Everyone.
func frameDest(f *arq.Frame) algorithms.NodeID {
	if len(f.Entries) == 0 {
		return algorithms.Everyone
	}
	to := f.Entries[0].To
	for _, e := range f.Entries[1:] {
		if e.To != to {
			return algorithms.Everyone
		}
	}
	return to
}

func ackDest(acks []arq.Ack) algorithms.NodeID {
	if len(acks) == 0 {
		return algorithms.Everyone
	}
	to := acks[0].To
	for _, a := range acks[1:] {
		if a.To != to {
			return algorithms.Everyone
		}
	}
	return to
}

// DecodeFrame returns the reliable delivery frame carried by a SWARM_DATA
// message or a SWARM_ACK message of kind ACK.
func (c *Codec) DecodeFrame(msg message.Message) (*arq.Frame, error) {
	switch m := msg.(type) {
	case *swarm.MessageSwarmData:
		return c.decodeData(m)
	case *swarm.MessageSwarmAck:
		if m.Kind != swarm.SWARM_ACK_KIND_ACK {
			return nil, fmt.Errorf("codec: SWARM_ACK kind %s is not a frame: %w", m.Kind, ErrUnknown)
		}
		if m.First != 0 || m.Mask != 0 || m.Origin != 0 {
			return nil, fmt.Errorf("codec: SWARM_ACK kind ACK with repair fields set: %w", ErrMalformed)
		}
		f := &arq.Frame{From: algorithms.NodeID(m.SrcVehicle), Inc: m.Incarnation}
		r := reader{buf: m.Data[:]}
		for range m.AckCount {
			f.Acks = append(f.Acks, r.ack())
		}
		if r.err != nil {
			return nil, r.err
		}
		if !allZero(r.buf) {
			return nil, fmt.Errorf("codec: SWARM_ACK has bytes after its %d acks: %w", m.AckCount, ErrMalformed)
		}
		if ackDest(f.Acks) != algorithms.NodeID(m.DstVehicle) {
			return nil, fmt.Errorf("codec: SWARM_ACK dst_vehicle %d does not match its acks: %w", m.DstVehicle, ErrMalformed)
		}
		return f, nil
	default:
		return nil, fmt.Errorf("codec: %T is not a frame: %w", msg, ErrUnknown)
	}
}

func (c *Codec) decodeData(m *swarm.MessageSwarmData) (*arq.Frame, error) {
	if m.Flags&^swarm.SWARM_DATA_FLAGS_RETRANSMISSION != 0 {
		return nil, fmt.Errorf("codec: SWARM_DATA flags %#x unknown: %w", uint64(m.Flags), ErrMalformed)
	}
	f := &arq.Frame{
		From:           algorithms.NodeID(m.SrcVehicle),
		Inc:            m.Incarnation,
		Retransmission: m.Flags&swarm.SWARM_DATA_FLAGS_RETRANSMISSION != 0,
	}
	r := reader{buf: m.Data[:]}
	for range m.EntryCount {
		f.Entries = append(f.Entries, r.entry())
	}
	for range m.MissingCount {
		f.Missing = append(f.Missing, algorithms.NodeID(r.u16()))
	}
	for range m.AckCount {
		f.Acks = append(f.Acks, r.ack())
	}
	if r.err != nil {
		return nil, r.err
	}
	if frameDest(f) != algorithms.NodeID(m.DstVehicle) {
		return nil, fmt.Errorf("codec: SWARM_DATA dst_vehicle %d does not match its entries: %w", m.DstVehicle, ErrMalformed)
	}
	rest := r.buf
	if m.PayloadMsgid == 0 {
		if !allZero(rest) {
			return nil, fmt.Errorf("codec: SWARM_DATA without payload has trailing bytes: %w", ErrMalformed)
		}
		return f, nil
	}
	id := uint32(m.PayloadMsgid)
	limit, ok := c.maxLen[id]
	if !ok || id == (&swarm.MessageSwarmData{}).GetID() || id == (&swarm.MessageSwarmAck{}).GetID() {
		return nil, fmt.Errorf("codec: SWARM_DATA cannot embed message %d: %w", id, ErrUnknown)
	}
	rest = trimZeros(rest)
	if len(rest) > limit {
		return nil, fmt.Errorf("codec: embedded message %d is %d bytes, at most %d: %w", id, len(rest), limit, ErrMalformed)
	}
	inner, err := c.rw.GetMessage(id).Read(&message.MessageRaw{ID: id, Payload: rest}, true)
	if err != nil {
		return nil, fmt.Errorf("codec: embedded message %d: %v: %w", id, err, ErrMalformed)
	}
	h, core, err := c.DecodeMessage(inner)
	if err != nil {
		return nil, err
	}
	if h.Network != m.NetworkId || h.From != f.From || h.To != algorithms.NodeID(m.DstVehicle) {
		return nil, fmt.Errorf("codec: embedded message addressing %+v differs from its frame's: %w", h, ErrMalformed)
	}
	f.Payload = core
	return f, nil
}

func allZero(b []byte) bool {
	for _, x := range b {
		if x != 0 {
			return false
		}
	}
	return true
}

func trimZeros(b []byte) []byte {
	for len(b) > 0 && b[len(b)-1] == 0 {
		b = b[:len(b)-1]
	}
	return b
}

// maxPayload is the length of the largest MAVLink 2 payload of message
// proto: its v1 encoding, which is never truncated and leaves out the
// extension fields, plus the extension fields.
func maxPayload(rw *mavdialect.ReadWriter, proto message.Message) int {
	n := len(rw.GetMessage(proto.GetID()).Write(proto, false).Payload)
	t := reflect.TypeOf(proto).Elem()
	for i := range t.NumField() {
		f := t.Field(i)
		if f.Tag.Get("mavext") != "true" {
			continue
		}
		switch f.Tag.Get("mavenum") {
		case "uint8", "int8":
			n++
		case "uint16", "int16":
			n += 2
		case "uint32", "int32":
			n += 4
		case "":
			n += binary.Size(reflect.Zero(f.Type).Interface())
		default:
			n += 8
		}
	}
	return n
}
