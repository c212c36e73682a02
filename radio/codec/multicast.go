package codec

import (
	"fmt"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/clock"
	"github.com/skyquorum/skyquorum/algorithms/cmdlog"
	"github.com/skyquorum/skyquorum/algorithms/multicast"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
)

// SWARM_MULTICAST carries the messages of algorithms/multicast and
// algorithms/cmdlog. The fixed fields hold what they name (seq, stamp,
// term, commit, origin) and data (continued in data_ext, data_len bytes in
// all) packs the rest, little endian, with no padding:
//
//	multicast, protocol by body: Plain RELIABLE, Stamped CAUSAL,
//	Sequenced and Order TOTAL_SEQUENCER, Tagged and Agreed TOTAL_ISIS;
//	kind DATA, RELAY or REPAIR for a payload body, ORDER, RELAY_ORDER or
//	REPAIR_ORDER for Order, AGREED, RELAY_AGREED or REPAIR_AGREED for Agreed.
//	  Data     seq; count u8, count × (origin u16, held u32, safe u32), body
//	  Relayed  origin, seq (the ID); data as for Data
//	  Repair   origin, seq (the ID); count u8, count × vehicle u16, body
//	  bodies   Plain: payload. Stamped: count u8, count × u32 (the vector
//	           clock), payload. Sequenced: stamp = global; seq u32, payload.
//	           Order: stamp = global; origin u16, seq u32. Tagged: seq u32,
//	           payload. Agreed: stamp = priority time; seq u32, priority
//	           vehicle u16. A payload runs to the end of data.
//	  Ack      RELIABLE ACK; asked u8, entries u8, asked × u16, entries × 10
//	  Nak      RELIABLE REPAIR_REQUEST; origin; missing × u32 to the end
//	  Proposed TOTAL_ISIS PROPOSE; origin, seq, stamp = priority time;
//	           priority vehicle u16, flags u8 (bit 0: resend)
//	  Settled  TOTAL_ISIS SETTLED; stamp = upto time; upto vehicle u16,
//	           flags u8 (bit 0: answer), asked × u16 to the end
//	  Collect  TOTAL_ISIS COLLECT; seq; asked × u16 to the end
//	  BasicData BASIC DATA; seq; payload
//
//	command log, protocol LOG (entries: term u32, kind u8, length u8, bytes):
//	  Append   APPEND, or REPAIR when Repair; term, seq = previous index,
//	           stamp = previous term, commit; flags u8 (bit 0: retry),
//	           count u8, entries
//	  Commit   COMMIT; term, commit, seq = last index, stamp = last term
//	  Ack      APPEND_ACK; term, seq = match
//	  Nak      REPAIR_REQUEST; term, seq = from; to u32
//	  Stale    STALE; term, origin = leader
//	  Recover  RECOVER; term; flags u8 (bit 0: retry)
//	  Promise  PROMISE; term, seq = last index, stamp = last term, commit;
//	           flags u8 (bit 0: retry)
//	  Fetch    FETCH; term, seq = from; flags u8 (bit 0: retry)
//	  Entries  ENTRIES; term, seq = previous index, stamp = previous term;
//	           last u32, count u8, entries
//
// Decoding rejects a fixed field a message does not use that is not zero,
// bytes of data after data_len, and data_len bytes that are not exactly
// the message's layout. A message whose data exceeds 229 bytes (200 in
// data, 29 in data_ext) does not fit and encodes to ErrTooLarge.

type mcMsg = swarm.MessageSwarmMulticast

// mcFields names the fixed fields of SWARM_MULTICAST a message uses.
type mcFields uint8

const (
	useSeq mcFields = 1 << iota
	useStamp
	useTerm
	useCommit
	useOrigin
)

const flagBit = 1 // the one flag of the messages that have one

// confirmedBit is the second flag of a command log APPEND: the leader is
// confirmed by a committee majority (cmdlog.Append.Confirmed).
const confirmedBit = 2

var mcDataSize = len(mcMsg{}.Data) + len(mcMsg{}.DataExt)

const (
	reliable  = swarm.SWARM_MULTICAST_PROTOCOL_RELIABLE
	causal    = swarm.SWARM_MULTICAST_PROTOCOL_CAUSAL
	sequencer = swarm.SWARM_MULTICAST_PROTOCOL_TOTAL_SEQUENCER
	isis      = swarm.SWARM_MULTICAST_PROTOCOL_TOTAL_ISIS
	basic     = swarm.SWARM_MULTICAST_PROTOCOL_BASIC
	logProto  = swarm.SWARM_MULTICAST_PROTOCOL_LOG
)

// mcBinding binds a core message to SWARM_MULTICAST. encode returns the
// message with its kind fields and used fixed fields set, and the packed
// data; decode reads the packed data from r, which must be left empty.
func mcBinding[M algorithms.Message](kinds []*mcMsg, used mcFields,
	encode func(M) (*mcMsg, []byte, error), decode func(*mcMsg, *reader) (M, error)) Binding {
	return BindKinds(kinds,
		func(m M) (*mcMsg, error) {
			d, data, err := encode(m)
			if err != nil {
				return nil, err
			}
			if len(data) > mcDataSize {
				return nil, fmt.Errorf("codec: %T %s of %d data bytes, at most %d fit SWARM_MULTICAST: %w", m, m.Kind(), len(data), mcDataSize, ErrTooLarge)
			}
			d.DataLen = uint8(len(data))
			n := copy(d.Data[:], data)
			copy(d.DataExt[:], data[n:])
			return d, nil
		},
		func(d *mcMsg) (M, error) {
			var zero M
			if err := mcUnused(d, used); err != nil {
				return zero, err
			}
			data, err := mcData(d)
			if err != nil {
				return zero, err
			}
			r := &reader{buf: data}
			m, err := decode(d, r)
			if err == nil {
				err = r.err
			}
			if err == nil && len(r.buf) > 0 {
				err = fmt.Errorf("codec: %s %s has %d bytes of data after its content: %w", d.Protocol, d.Kind, len(r.buf), ErrMalformed)
			}
			if err != nil {
				return zero, err
			}
			return m, nil
		})
}

func mcUnused(d *mcMsg, used mcFields) error {
	if (used&useSeq == 0 && d.Seq != 0) || (used&useStamp == 0 && d.Stamp != 0) ||
		(used&useTerm == 0 && d.Term != 0) || (used&useCommit == 0 && d.Commit != 0) ||
		(used&useOrigin == 0 && d.Origin != 0) {
		return fmt.Errorf("codec: %s %s carries fields it does not use: %w", d.Protocol, d.Kind, ErrMalformed)
	}
	return nil
}

// mcData returns the data_len bytes of data and data_ext, and checks that
// the bytes after them are zero.
func mcData(d *mcMsg) ([]byte, error) {
	buf := make([]byte, 0, mcDataSize)
	buf = append(append(buf, d.Data[:]...), d.DataExt[:]...)
	if int(d.DataLen) > len(buf) {
		return nil, fmt.Errorf("codec: data_len %d exceeds %d: %w", d.DataLen, len(buf), ErrMalformed)
	}
	if !allZero(buf[d.DataLen:]) {
		return nil, fmt.Errorf("codec: SWARM_MULTICAST has bytes after its data_len %d: %w", d.DataLen, ErrMalformed)
	}
	return buf[:d.DataLen], nil
}

func mcKinds(proto swarm.SWARM_MULTICAST_PROTOCOL, kinds ...swarm.SWARM_MULTICAST_KIND) []*mcMsg {
	out := make([]*mcMsg, len(kinds))
	for i, k := range kinds {
		out[i] = &mcMsg{Protocol: proto, Kind: k}
	}
	return out
}

// count returns n as a count byte.
func count(what string, n int) (byte, error) {
	if n > 0xFF {
		return 0, fmt.Errorf("codec: %d %s, at most 255: %w", n, what, ErrTooLarge)
	}
	return byte(n), nil
}

func flagByte(set bool) byte {
	if set {
		return flagBit
	}
	return 0
}

func appendIDs(b []byte, ids []algorithms.NodeID) []byte {
	for _, id := range ids {
		b = appendU16(b, uint16(id))
	}
	return b
}

// Frames of the reliable multicast and their bodies.

// frameRole is which frame carries a body: first transmission, relay or
// repair; it picks the kind.
type frameRole int

const (
	asData frameRole = iota
	asRelay
	asRepair
)

var (
	payloadKinds = [3]swarm.SWARM_MULTICAST_KIND{swarm.SWARM_MULTICAST_KIND_DATA, swarm.SWARM_MULTICAST_KIND_RELAY, swarm.SWARM_MULTICAST_KIND_REPAIR}
	orderKinds   = [3]swarm.SWARM_MULTICAST_KIND{swarm.SWARM_MULTICAST_KIND_ORDER, swarm.SWARM_MULTICAST_KIND_RELAY_ORDER, swarm.SWARM_MULTICAST_KIND_REPAIR_ORDER}
	agreedKinds  = [3]swarm.SWARM_MULTICAST_KIND{swarm.SWARM_MULTICAST_KIND_AGREED, swarm.SWARM_MULTICAST_KIND_RELAY_AGREED, swarm.SWARM_MULTICAST_KIND_REPAIR_AGREED}
)

// bodyKinds are the kinds a frame of role carries.
func bodyKinds(role frameRole) []*mcMsg {
	return []*mcMsg{
		{Protocol: reliable, Kind: payloadKinds[role]},
		{Protocol: causal, Kind: payloadKinds[role]},
		{Protocol: sequencer, Kind: payloadKinds[role]},
		{Protocol: sequencer, Kind: orderKinds[role]},
		{Protocol: isis, Kind: payloadKinds[role]},
		{Protocol: isis, Kind: agreedKinds[role]},
	}
}

// encodeBody sets the protocol, kind and stamp of d for body b in a frame
// of role and appends the body's packed bytes to buf.
func encodeBody(d *mcMsg, role frameRole, b multicast.Body, buf []byte) ([]byte, error) {
	d.Kind = payloadKinds[role]
	switch b := b.(type) {
	case multicast.Plain:
		d.Protocol = reliable
		return append(buf, b.Payload...), nil
	case multicast.Stamped:
		d.Protocol = causal
		n, err := count("vector clock entries", len(b.VC))
		if err != nil {
			return nil, err
		}
		buf = append(buf, n)
		for _, v := range b.VC {
			buf = appendU32(buf, v)
		}
		return append(buf, b.Payload...), nil
	case multicast.Sequenced:
		d.Protocol, d.Stamp = sequencer, b.Global
		return append(appendU32(buf, b.Seq), b.Payload...), nil
	case multicast.Order:
		d.Protocol, d.Kind, d.Stamp = sequencer, orderKinds[role], b.Global
		return appendU32(appendU16(buf, uint16(b.ID.Origin)), b.ID.Seq), nil
	case multicast.Tagged:
		d.Protocol = isis
		return append(appendU32(buf, b.Seq), b.Payload...), nil
	case multicast.Agreed:
		d.Protocol, d.Kind, d.Stamp = isis, agreedKinds[role], b.Priority.T
		return appendU16(appendU32(buf, b.Seq), b.Priority.ID), nil
	case nil:
		return nil, fmt.Errorf("codec: multicast frame without a body: %w", ErrUnknown)
	default:
		return nil, fmt.Errorf("codec: multicast body %T has no binding: %w", b, ErrUnknown)
	}
}

// decodeBody reads the body of a frame from the rest of r.
func decodeBody(d *mcMsg, r *reader) (multicast.Body, error) {
	var b multicast.Body
	stamped := false
	switch {
	case d.Protocol == reliable && isPayloadKind(d.Kind):
		b = multicast.Plain{Payload: r.rest()}
	case d.Protocol == causal && isPayloadKind(d.Kind):
		n := int(r.u8())
		var vc clock.Vector
		for range n {
			vc = append(vc, r.fixed32())
		}
		b = multicast.Stamped{VC: vc, Payload: r.rest()}
	case d.Protocol == sequencer && isPayloadKind(d.Kind):
		seq := r.fixed32()
		b, stamped = multicast.Sequenced{Seq: seq, Global: d.Stamp, Payload: r.rest()}, true
	case d.Protocol == sequencer:
		origin := r.u16()
		seq := r.fixed32()
		b, stamped = multicast.Order{Global: d.Stamp, ID: multicast.ID{Origin: algorithms.NodeID(origin), Seq: seq}}, true
	case d.Protocol == isis && isPayloadKind(d.Kind):
		seq := r.fixed32()
		b = multicast.Tagged{Seq: seq, Payload: r.rest()}
	case d.Protocol == isis:
		seq := r.fixed32()
		id := r.u16()
		b, stamped = multicast.Agreed{Seq: seq, Priority: clock.Stamp{T: d.Stamp, ID: id}}, true
	default:
		return nil, fmt.Errorf("codec: %s %s is not a multicast frame: %w", d.Protocol, d.Kind, ErrUnknown)
	}
	if !stamped && d.Stamp != 0 {
		return nil, fmt.Errorf("codec: %s %s carries a stamp it does not use: %w", d.Protocol, d.Kind, ErrMalformed)
	}
	return b, nil
}

func isPayloadKind(k swarm.SWARM_MULTICAST_KIND) bool {
	return k == payloadKinds[asData] || k == payloadKinds[asRelay] || k == payloadKinds[asRepair]
}

// appendAckEntries appends the count of acks and acks.
func appendAckEntries(buf []byte, acks []multicast.AckEntry) ([]byte, error) {
	n, err := count("acknowledgement entries", len(acks))
	if err != nil {
		return nil, err
	}
	return appendAckList(append(buf, n), acks), nil
}

func appendAckList(buf []byte, acks []multicast.AckEntry) []byte {
	for _, a := range acks {
		buf = appendU32(appendU32(appendU16(buf, uint16(a.Origin)), a.Held), a.Safe)
	}
	return buf
}

func readAckEntries(r *reader, n int) []multicast.AckEntry {
	var out []multicast.AckEntry
	for range n {
		origin := r.u16()
		held := r.fixed32()
		safe := r.fixed32()
		if r.err != nil {
			return nil
		}
		out = append(out, multicast.AckEntry{Origin: algorithms.NodeID(origin), Held: held, Safe: safe})
	}
	return out
}

func readIDs(r *reader, n int) []algorithms.NodeID {
	var out []algorithms.NodeID
	for range n {
		id := r.u16()
		if r.err != nil {
			return nil
		}
		out = append(out, algorithms.NodeID(id))
	}
	return out
}

// Command log entries.

func appendLogEntries(buf []byte, es []cmdlog.Entry) ([]byte, error) {
	n, err := count("log entries", len(es))
	if err != nil {
		return nil, err
	}
	buf = append(buf, n)
	for _, e := range es {
		l, err := count("bytes in a log entry", len(e.Data))
		if err != nil {
			return nil, err
		}
		buf = append(appendU32(buf, e.Term), byte(e.Kind), l)
		buf = append(buf, e.Data...)
	}
	return buf, nil
}

func readLogEntries(r *reader) []cmdlog.Entry {
	n := int(r.u8())
	var out []cmdlog.Entry
	for range n {
		term := r.fixed32()
		kind := r.u8()
		l := int(r.u8())
		data := r.bytes(l)
		if r.err != nil {
			return nil
		}
		out = append(out, cmdlog.Entry{Term: term, Kind: cmdlog.EntryKind(kind), Data: data})
	}
	return out
}

// multicastBindings binds every message of algorithms/multicast.
func multicastBindings() []Binding {
	return []Binding{
		mcBinding(bodyKinds(asData), useSeq|useStamp,
			func(m multicast.Data) (*mcMsg, []byte, error) {
				d := &mcMsg{Seq: m.Seq}
				buf, err := appendAckEntries(nil, m.Acks)
				if err != nil {
					return nil, nil, err
				}
				buf, err = encodeBody(d, asData, m.Body, buf)
				return d, buf, err
			},
			func(d *mcMsg, r *reader) (multicast.Data, error) {
				acks := readAckEntries(r, int(r.u8()))
				body, err := decodeBody(d, r)
				return multicast.Data{Seq: d.Seq, Acks: acks, Body: body}, err
			}),
		mcBinding(bodyKinds(asRelay), useSeq|useStamp|useOrigin,
			func(m multicast.Relayed) (*mcMsg, []byte, error) {
				d := &mcMsg{Origin: uint16(m.ID.Origin), Seq: m.ID.Seq}
				buf, err := appendAckEntries(nil, m.Acks)
				if err != nil {
					return nil, nil, err
				}
				buf, err = encodeBody(d, asRelay, m.Body, buf)
				return d, buf, err
			},
			func(d *mcMsg, r *reader) (multicast.Relayed, error) {
				acks := readAckEntries(r, int(r.u8()))
				body, err := decodeBody(d, r)
				id := multicast.ID{Origin: algorithms.NodeID(d.Origin), Seq: d.Seq}
				return multicast.Relayed{ID: id, Acks: acks, Body: body}, err
			}),
		mcBinding(bodyKinds(asRepair), useSeq|useStamp|useOrigin,
			func(m multicast.Repair) (*mcMsg, []byte, error) {
				d := &mcMsg{Origin: uint16(m.ID.Origin), Seq: m.ID.Seq}
				n, err := count("asked vehicles", len(m.Ask))
				if err != nil {
					return nil, nil, err
				}
				buf, err := encodeBody(d, asRepair, m.Body, appendIDs([]byte{n}, m.Ask))
				return d, buf, err
			},
			func(d *mcMsg, r *reader) (multicast.Repair, error) {
				ask := readIDs(r, int(r.u8()))
				body, err := decodeBody(d, r)
				id := multicast.ID{Origin: algorithms.NodeID(d.Origin), Seq: d.Seq}
				return multicast.Repair{ID: id, Ask: ask, Body: body}, err
			}),
		mcBinding(mcKinds(reliable, swarm.SWARM_MULTICAST_KIND_ACK), 0,
			func(m multicast.Ack) (*mcMsg, []byte, error) {
				d := &mcMsg{Protocol: reliable, Kind: swarm.SWARM_MULTICAST_KIND_ACK}
				na, err := count("asked vehicles", len(m.Ask))
				if err != nil {
					return nil, nil, err
				}
				ne, err := count("acknowledgement entries", len(m.Entries))
				if err != nil {
					return nil, nil, err
				}
				return d, appendAckList(appendIDs([]byte{na, ne}, m.Ask), m.Entries), nil
			},
			func(_ *mcMsg, r *reader) (multicast.Ack, error) {
				na := int(r.u8())
				ne := int(r.u8())
				ask := readIDs(r, na)
				return multicast.Ack{Ask: ask, Entries: readAckEntries(r, ne)}, nil
			}),
		mcBinding(mcKinds(reliable, swarm.SWARM_MULTICAST_KIND_REPAIR_REQUEST), useOrigin,
			func(m multicast.Nak) (*mcMsg, []byte, error) {
				d := &mcMsg{Protocol: reliable, Kind: swarm.SWARM_MULTICAST_KIND_REPAIR_REQUEST, Origin: uint16(m.Origin)}
				var buf []byte
				for _, s := range m.Missing {
					buf = appendU32(buf, s)
				}
				return d, buf, nil
			},
			func(d *mcMsg, r *reader) (multicast.Nak, error) {
				if len(r.buf)%4 != 0 {
					return multicast.Nak{}, fmt.Errorf("codec: NAK of %d bytes is not a list of sequence numbers: %w", len(r.buf), ErrMalformed)
				}
				var missing []uint32
				for len(r.buf) > 0 {
					missing = append(missing, r.fixed32())
				}
				return multicast.Nak{Origin: algorithms.NodeID(d.Origin), Missing: missing}, nil
			}),
		mcBinding(mcKinds(isis, swarm.SWARM_MULTICAST_KIND_PROPOSE), useSeq|useStamp|useOrigin,
			func(m multicast.Proposed) (*mcMsg, []byte, error) {
				d := &mcMsg{Protocol: isis, Kind: swarm.SWARM_MULTICAST_KIND_PROPOSE,
					Origin: uint16(m.ID.Origin), Seq: m.ID.Seq, Stamp: m.Priority.T}
				return d, append(appendU16(nil, m.Priority.ID), flagByte(m.Resend)), nil
			},
			func(d *mcMsg, r *reader) (multicast.Proposed, error) {
				id := r.u16()
				f := r.flags(flagBit)
				return multicast.Proposed{
					ID:       multicast.ID{Origin: algorithms.NodeID(d.Origin), Seq: d.Seq},
					Priority: clock.Stamp{T: d.Stamp, ID: id},
					Resend:   f&flagBit != 0,
				}, nil
			}),
		mcBinding(mcKinds(isis, swarm.SWARM_MULTICAST_KIND_SETTLED), useStamp,
			func(m multicast.Settled) (*mcMsg, []byte, error) {
				d := &mcMsg{Protocol: isis, Kind: swarm.SWARM_MULTICAST_KIND_SETTLED, Stamp: m.Upto.T}
				buf := append(appendU16(nil, m.Upto.ID), flagByte(m.Answer))
				return d, appendIDs(buf, m.Ask), nil
			},
			func(d *mcMsg, r *reader) (multicast.Settled, error) {
				id := r.u16()
				f := r.flags(flagBit)
				ask := r.ids()
				return multicast.Settled{Upto: clock.Stamp{T: d.Stamp, ID: id}, Ask: ask, Answer: f&flagBit != 0}, nil
			}),
		mcBinding(mcKinds(isis, swarm.SWARM_MULTICAST_KIND_COLLECT), useSeq,
			func(m multicast.Collect) (*mcMsg, []byte, error) {
				d := &mcMsg{Protocol: isis, Kind: swarm.SWARM_MULTICAST_KIND_COLLECT, Seq: m.Seq}
				return d, appendIDs(nil, m.Ask), nil
			},
			func(d *mcMsg, r *reader) (multicast.Collect, error) {
				return multicast.Collect{Seq: d.Seq, Ask: r.ids()}, nil
			}),
		mcBinding(mcKinds(basic, swarm.SWARM_MULTICAST_KIND_DATA), useSeq,
			func(m multicast.BasicData) (*mcMsg, []byte, error) {
				return &mcMsg{Protocol: basic, Kind: swarm.SWARM_MULTICAST_KIND_DATA, Seq: m.Seq}, m.Payload, nil
			},
			func(d *mcMsg, r *reader) (multicast.BasicData, error) {
				return multicast.BasicData{Seq: d.Seq, Payload: r.rest()}, nil
			}),
	}
}

// logFixed binds a command log message of one kind whose fields are all
// fixed fields and, when flagged, one flag.
func logFixed[M algorithms.Message](kind swarm.SWARM_MULTICAST_KIND, used mcFields, flagged bool,
	encode func(M) (d mcMsg, flag bool), decode func(d *mcMsg, flag bool) M) Binding {
	return mcBinding(mcKinds(logProto, kind), used,
		func(m M) (*mcMsg, []byte, error) {
			d, f := encode(m)
			d.Protocol, d.Kind = logProto, kind
			if !flagged {
				return &d, nil, nil
			}
			return &d, []byte{flagByte(f)}, nil
		},
		func(d *mcMsg, r *reader) (M, error) {
			f := false
			if flagged {
				f = r.flags(flagBit)&flagBit != 0
			}
			return decode(d, f), nil
		})
}

// cmdlogBindings binds every message of algorithms/cmdlog.
func cmdlogBindings() []Binding {
	const (
		appendKind = swarm.SWARM_MULTICAST_KIND_APPEND
		repairKind = swarm.SWARM_MULTICAST_KIND_REPAIR
	)
	return []Binding{
		mcBinding(mcKinds(logProto, appendKind, repairKind), useTerm|useSeq|useStamp|useCommit,
			func(m cmdlog.Append) (*mcMsg, []byte, error) {
				d := &mcMsg{Protocol: logProto, Kind: appendKind, Term: m.Term, Seq: m.PrevIndex, Stamp: m.PrevTerm, Commit: m.Commit}
				if m.Repair {
					d.Kind = repairKind
				}
				flags := flagByte(m.Retry)
				if m.Confirmed {
					flags |= confirmedBit
				}
				buf, err := appendLogEntries([]byte{flags}, m.Entries)
				return d, buf, err
			},
			func(d *mcMsg, r *reader) (cmdlog.Append, error) {
				f := r.flags(flagBit | confirmedBit)
				return cmdlog.Append{
					Term: d.Term, PrevIndex: d.Seq, PrevTerm: d.Stamp, Commit: d.Commit,
					Entries: readLogEntries(r), Retry: f&flagBit != 0, Repair: d.Kind == repairKind,
					Confirmed: f&confirmedBit != 0,
				}, nil
			}),
		logFixed(swarm.SWARM_MULTICAST_KIND_COMMIT, useTerm|useCommit|useSeq|useStamp, true,
			func(m cmdlog.Commit) (mcMsg, bool) {
				return mcMsg{Term: m.Term, Commit: m.Commit, Seq: m.LastIndex, Stamp: m.LastTerm}, m.Confirmed
			},
			func(d *mcMsg, f bool) cmdlog.Commit {
				return cmdlog.Commit{Term: d.Term, Commit: d.Commit, LastIndex: d.Seq, LastTerm: d.Stamp, Confirmed: f}
			}),
		logFixed(swarm.SWARM_MULTICAST_KIND_APPEND_ACK, useTerm|useSeq, false,
			func(m cmdlog.Ack) (mcMsg, bool) { return mcMsg{Term: m.Term, Seq: m.Match}, false },
			func(d *mcMsg, _ bool) cmdlog.Ack { return cmdlog.Ack{Term: d.Term, Match: d.Seq} }),
		mcBinding(mcKinds(logProto, swarm.SWARM_MULTICAST_KIND_REPAIR_REQUEST), useTerm|useSeq,
			func(m cmdlog.Nak) (*mcMsg, []byte, error) {
				d := &mcMsg{Protocol: logProto, Kind: swarm.SWARM_MULTICAST_KIND_REPAIR_REQUEST, Term: m.Term, Seq: m.From}
				return d, appendU32(nil, m.To), nil
			},
			func(d *mcMsg, r *reader) (cmdlog.Nak, error) {
				return cmdlog.Nak{Term: d.Term, From: d.Seq, To: r.fixed32()}, nil
			}),
		logFixed(swarm.SWARM_MULTICAST_KIND_STALE, useTerm|useOrigin, false,
			func(m cmdlog.Stale) (mcMsg, bool) { return mcMsg{Term: m.Term, Origin: uint16(m.Leader)}, false },
			func(d *mcMsg, _ bool) cmdlog.Stale {
				return cmdlog.Stale{Term: d.Term, Leader: algorithms.NodeID(d.Origin)}
			}),
		logFixed(swarm.SWARM_MULTICAST_KIND_RECOVER, useTerm, true,
			func(m cmdlog.Recover) (mcMsg, bool) { return mcMsg{Term: m.Term}, m.Retry },
			func(d *mcMsg, f bool) cmdlog.Recover { return cmdlog.Recover{Term: d.Term, Retry: f} }),
		logFixed(swarm.SWARM_MULTICAST_KIND_PROMISE, useTerm|useSeq|useStamp|useCommit, true,
			func(m cmdlog.Promise) (mcMsg, bool) {
				return mcMsg{Term: m.Term, Seq: m.LastIndex, Stamp: m.LastTerm, Commit: m.Commit}, m.Retry
			},
			func(d *mcMsg, f bool) cmdlog.Promise {
				return cmdlog.Promise{Term: d.Term, LastIndex: d.Seq, LastTerm: d.Stamp, Commit: d.Commit, Retry: f}
			}),
		logFixed(swarm.SWARM_MULTICAST_KIND_FETCH, useTerm|useSeq, true,
			func(m cmdlog.Fetch) (mcMsg, bool) { return mcMsg{Term: m.Term, Seq: m.From}, m.Retry },
			func(d *mcMsg, f bool) cmdlog.Fetch { return cmdlog.Fetch{Term: d.Term, From: d.Seq, Retry: f} }),
		mcBinding(mcKinds(logProto, swarm.SWARM_MULTICAST_KIND_ENTRIES), useTerm|useSeq|useStamp,
			func(m cmdlog.Entries) (*mcMsg, []byte, error) {
				d := &mcMsg{Protocol: logProto, Kind: swarm.SWARM_MULTICAST_KIND_ENTRIES, Term: m.Term, Seq: m.PrevIndex, Stamp: m.PrevTerm}
				buf, err := appendLogEntries(appendU32(nil, m.Last), m.Entries)
				return d, buf, err
			},
			func(d *mcMsg, r *reader) (cmdlog.Entries, error) {
				last := r.fixed32()
				return cmdlog.Entries{Term: d.Term, PrevIndex: d.Seq, PrevTerm: d.Stamp, Last: last, Entries: readLogEntries(r)}, nil
			}),
	}
}
