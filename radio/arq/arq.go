package arq

import (
	"fmt"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
)

// Config configures an Endpoint.
type Config struct {
	// ID is this drone's vehicle ID.
	ID algorithms.NodeID
	// Incarnation must be larger after every restart of the drone.
	Incarnation uint32
	// Peers are the drones of the group, this one excluded or not.
	Peers []algorithms.NodeID
	// AckDelay is how many ticks an acknowledgement waits for a frame to
	// ride on or other acknowledgements to join (optional, default 2).
	AckDelay int64
	// MinRTO is the smallest retransmission timeout in ticks (optional,
	// default 10).
	MinRTO int64
	// InitialRTO is the timeout before the first round trip is measured
	// (optional, default 50).
	InitialRTO int64
	// MaxRTO caps the backed-off timeout (optional, default 400).
	MaxRTO int64
	// Window is the most unacknowledged messages per stream (optional,
	// default 32, at most 32 so that selective acknowledgements cover it).
	Window int
	// MaxPayload is the largest frame payload in bytes (optional, default
	// algorithms.MaxPayload).
	MaxPayload int
}

// Delivery is a message handed up to the core, exactly once and in order.
type Delivery struct {
	From algorithms.NodeID
	Msg  algorithms.Message
}

// Counters are the endpoint's running totals.
type Counters struct {
	DataFrames      int // first transmissions of frames with a payload
	AckFrames       int // frames that only acknowledge
	Retransmissions int // repeated transmissions of payloads
	Bytes           int // frame payload bytes sent
	Delivered       int // messages handed up
	Duplicates      int // payloads received again and suppressed
	Stale           int // frames from an older incarnation, ignored
	Overflow        int // payloads beyond the receive window, dropped
	DeadDrops       int // destinations skipped because they were declared dead
}

// Endpoint is one drone's reliable delivery state.
type Endpoint struct {
	cfg   Config
	now   int64
	peers map[algorithms.NodeID]bool // live peers
	dead  map[algorithms.NodeID]bool

	tx      map[algorithms.NodeID]*peerTx
	all     allTx
	msgs    []*outMsg // unacknowledged messages in creation order
	queue   []*outMsg // messages waiting for window room
	nextMsg uint64

	rx map[algorithms.NodeID]*peerRx

	frames    []*Frame
	delivered []Delivery
	counters  Counters
}

type outMsg struct {
	id      uint64
	payload algorithms.Message
	all     bool
	dests   []algorithms.NodeID          // destinations (point-to-point streams)
	seq     map[algorithms.NodeID]uint32 // point-to-point sequence numbers
	allSeq  uint32
	pending map[algorithms.NodeID]bool // destinations yet to acknowledge
	sacked  map[algorithms.NodeID]bool // held out of order, not yet cumulatively acknowledged
	sentAt  int64
	due     int64
	tries   int
}

type peerTx struct {
	inc      uint32
	known    bool
	next     uint32
	unacked  map[uint32]*outMsg
	srtt     int64 // smoothed round trip ×8, 0 before the first sample
	rttvar   int64 // ×4
	rtoTicks int64
}

type allTx struct {
	next    uint32
	unacked map[uint32]*outMsg
}

type rxStream struct {
	expected uint32 // 0 until synchronised
	buf      map[uint32]algorithms.Message
}

type peerRx struct {
	inc     uint32
	known   bool
	p2p     rxStream
	all     rxStream
	ackDue  int64 // tick at which an acknowledgement must go, or -1
	ackP2P  bool
	ackAll  bool
	lastAck int64
}

// New returns an endpoint.
func New(cfg Config) *Endpoint {
	if cfg.AckDelay <= 0 {
		cfg.AckDelay = 2
	}
	if cfg.MinRTO <= 0 {
		cfg.MinRTO = 10
	}
	if cfg.InitialRTO <= 0 {
		cfg.InitialRTO = 50
	}
	if cfg.MaxRTO <= 0 {
		cfg.MaxRTO = 400
	}
	if cfg.Window <= 0 || cfg.Window > 32 {
		cfg.Window = 32
	}
	if cfg.MaxPayload <= 0 {
		cfg.MaxPayload = algorithms.MaxPayload
	}
	e := &Endpoint{
		cfg:   cfg,
		peers: map[algorithms.NodeID]bool{},
		dead:  map[algorithms.NodeID]bool{},
		tx:    map[algorithms.NodeID]*peerTx{},
		all:   allTx{next: 1, unacked: map[uint32]*outMsg{}},
		rx:    map[algorithms.NodeID]*peerRx{},
	}
	for _, p := range cfg.Peers {
		if p != cfg.ID {
			e.peers[p] = true
		}
	}
	return e
}

// Counters returns the running totals.
func (e *Endpoint) Counters() Counters { return e.counters }

// Pending is the number of messages not yet acknowledged by every live
// destination, queued ones included.
func (e *Endpoint) Pending() int { return len(e.msgs) + len(e.queue) }

// Send queues m for the destinations to; nil means every live peer. The
// drone itself and peers declared dead are skipped.
func (e *Endpoint) Send(to []algorithms.NodeID, m algorithms.Message) {
	msg := &outMsg{id: e.nextMsg, payload: m, all: to == nil}
	e.nextMsg++
	if !msg.all {
		seen := map[algorithms.NodeID]bool{}
		for _, d := range to {
			switch {
			case d == e.cfg.ID || seen[d]:
			case e.dead[d]:
				e.counters.DeadDrops++
			default:
				seen[d] = true
				msg.dests = append(msg.dests, d)
			}
		}
		if len(msg.dests) == 0 {
			return
		}
		// A long destination list does not fit one frame: split it.
		room := max(1, (e.cfg.MaxPayload-headerBytes-m.Size())/entryBytes)
		for len(msg.dests) > room {
			part := &outMsg{id: e.nextMsg, payload: m, dests: msg.dests[:room]}
			e.nextMsg++
			msg.dests = msg.dests[room:]
			e.queue = append(e.queue, part)
		}
	}
	e.queue = append(e.queue, msg)
	e.flushQueue()
}

// PeerDead stops sending to and waiting for id.
func (e *Endpoint) PeerDead(id algorithms.NodeID) {
	if id == e.cfg.ID || e.dead[id] {
		return
	}
	e.dead[id] = true
	delete(e.peers, id)
	for _, msg := range e.msgs {
		delete(msg.pending, id)
		delete(msg.sacked, id)
	}
	// Keep the stream's numbering, so that if the peer comes back its
	// receive state skips what was sent meanwhile instead of taking new
	// messages for duplicates.
	if t := e.tx[id]; t != nil {
		clear(t.unacked)
	}
	e.gc()
	e.flushQueue()
}

// PeerAlive makes id a live peer again after PeerDead (or adds a new one).
func (e *Endpoint) PeerAlive(id algorithms.NodeID) {
	if id == e.cfg.ID {
		return
	}
	delete(e.dead, id)
	e.peers[id] = true
}

// Tick advances time by one tick: retransmissions, queued sends and due
// acknowledgements go out.
func (e *Endpoint) Tick() {
	e.now++
	for _, msg := range e.msgs {
		if msg.due <= e.now && e.missing(msg) {
			e.transmit(msg, true)
		}
	}
	e.flushQueue()
	e.sendAcks(false)
}

// Ready returns the frames to transmit and the messages delivered since the
// last call, and clears them.
func (e *Endpoint) Ready() ([]*Frame, []Delivery) {
	f, d := e.frames, e.delivered
	e.frames, e.delivered = nil, nil
	return f, d
}

// Step handles a frame heard on the radio.
func (e *Endpoint) Step(f *Frame) error {
	if f == nil {
		return fmt.Errorf("arq: nil frame")
	}
	if f.From == e.cfg.ID {
		return nil
	}
	r := e.rx[f.From]
	if r == nil {
		r = &peerRx{ackDue: -1}
		e.rx[f.From] = r
	}
	switch {
	case !r.known:
		r.known, r.inc = true, f.Inc
		e.learnInc(f.From, f.Inc)
	case f.Inc < r.inc:
		e.counters.Stale++
		return nil
	case f.Inc > r.inc:
		// The sender restarted: what it sent before is gone, and it no
		// longer knows what we sent it.
		*r = peerRx{known: true, inc: f.Inc, ackDue: -1}
		e.learnInc(f.From, f.Inc)
	}
	for _, a := range f.Acks {
		if a.To == e.cfg.ID {
			e.handleAck(f.From, a)
		}
	}
	if f.Payload == nil {
		return nil
	}
	for _, en := range f.Entries {
		switch {
		case en.To == e.cfg.ID:
			e.receive(f.From, r, &r.p2p, false, en, f.Payload, true)
		case en.To == algorithms.Everyone:
			ask := len(f.Missing) == 0 || slices.Contains(f.Missing, e.cfg.ID)
			e.receive(f.From, r, &r.all, true, en, f.Payload, ask)
		}
	}
	e.flushQueue()
	return nil
}

func (e *Endpoint) receive(from algorithms.NodeID, r *peerRx, s *rxStream, all bool, en Entry, m algorithms.Message, ask bool) {
	if s.buf == nil {
		s.buf = map[uint32]algorithms.Message{}
	}
	if s.expected == 0 {
		s.expected = max(en.Low, 1)
	}
	// Everything below the low-water mark was acknowledged by an earlier
	// incarnation of this drone: deliver what we hold of it and move on.
	for s.expected < en.Low {
		if held, ok := s.buf[s.expected]; ok {
			delete(s.buf, s.expected)
			e.deliver(from, held)
		}
		s.expected++
	}
	switch {
	case en.Seq < s.expected || s.buf[en.Seq] != nil:
		e.counters.Duplicates++
	case en.Seq >= s.expected+uint32(e.cfg.Window)*2:
		e.counters.Overflow++
		return
	default:
		s.buf[en.Seq] = m
	}
	for {
		held, ok := s.buf[s.expected]
		if !ok {
			break
		}
		delete(s.buf, s.expected)
		e.deliver(from, held)
		s.expected++
	}
	if !ask {
		return
	}
	if all {
		r.ackAll = true
	} else {
		r.ackP2P = true
	}
	if r.ackDue < 0 {
		r.ackDue = e.now + e.cfg.AckDelay
	}
}

func (e *Endpoint) deliver(from algorithms.NodeID, m algorithms.Message) {
	e.counters.Delivered++
	e.delivered = append(e.delivered, Delivery{From: from, Msg: m})
}

// learnInc records the incarnation of a peer. A newer incarnation lost its
// receive state, so what it only held out of order must be sent again.
func (e *Endpoint) learnInc(id algorithms.NodeID, inc uint32) {
	t := e.peerTx(id)
	if t.known && inc <= t.inc {
		return
	}
	restarted := t.known
	t.known, t.inc = true, inc
	if !restarted {
		return
	}
	for _, msg := range e.msgs {
		if msg.sacked[id] {
			delete(msg.sacked, id)
			msg.due = e.now
		}
		if msg.pending[id] {
			msg.due = e.now
		}
	}
}

func (e *Endpoint) peerTx(id algorithms.NodeID) *peerTx {
	t := e.tx[id]
	if t == nil {
		t = &peerTx{next: 1, unacked: map[uint32]*outMsg{}, rtoTicks: e.cfg.InitialRTO}
		e.tx[id] = t
	}
	return t
}

func (e *Endpoint) handleAck(from algorithms.NodeID, a Ack) {
	if a.ToInc != e.cfg.Incarnation || e.dead[from] {
		return
	}
	e.learnInc(from, a.Inc)
	t := e.peerTx(from)
	if a.Inc != t.inc {
		return // from an older incarnation of the peer
	}
	var unacked map[uint32]*outMsg
	if a.All {
		unacked = e.all.unacked
	} else {
		unacked = t.unacked
	}
	seqs := make([]uint32, 0, len(unacked))
	for seq := range unacked {
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	for _, seq := range seqs {
		msg := unacked[seq]
		if !msg.pending[from] {
			continue
		}
		switch {
		case seq <= a.Cum:
			if msg.tries == 1 {
				e.sampleRTT(t, e.now-msg.sentAt)
			}
			delete(msg.pending, from)
			delete(msg.sacked, from)
			if !a.All {
				delete(unacked, seq)
			}
		case seq-a.Cum-1 < 32 && a.Sack&(1<<(seq-a.Cum-1)) != 0:
			msg.sacked[from] = true
		}
	}
	e.gc()
}

// sampleRTT updates the peer's timeout (Jacobson/Karels, RFC 6298), in
// ticks.
func (e *Endpoint) sampleRTT(t *peerTx, rtt int64) {
	rtt = max(rtt, 1)
	if t.srtt == 0 {
		t.srtt = rtt * 8
		t.rttvar = rtt * 2
	} else {
		delta := rtt - t.srtt/8
		t.srtt += delta
		t.rttvar += abs(delta) - t.rttvar/4
	}
	t.rtoTicks = min(max(t.srtt/8+t.rttvar, e.cfg.MinRTO), e.cfg.MaxRTO)
}

func abs(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// gc forgets messages every live destination has acknowledged.
func (e *Endpoint) gc() {
	keep := e.msgs[:0]
	for _, msg := range e.msgs {
		if len(msg.pending) > 0 {
			keep = append(keep, msg)
			continue
		}
		if msg.all {
			delete(e.all.unacked, msg.allSeq)
		} else {
			for d, seq := range msg.seq {
				if t := e.tx[d]; t != nil {
					delete(t.unacked, seq)
				}
			}
		}
	}
	clear(e.msgs[len(keep):])
	e.msgs = keep
}

// missing reports whether some destination has not cumulatively
// acknowledged msg. A selective acknowledgement only spares the first
// retransmissions: if the cumulative one that should follow is lost, the
// receiver has nothing left to acknowledge, so the message goes out again
// to make it answer.
func (e *Endpoint) missing(msg *outMsg) bool { return len(msg.pending) > 0 }

// targets returns the destinations a retransmission of msg names: those
// without even a selective acknowledgement, or else every pending one.
func (e *Endpoint) targets(msg *outMsg) []algorithms.NodeID {
	var out []algorithms.NodeID
	for _, d := range sortedIDs(msg.pending) {
		if !msg.sacked[d] {
			out = append(out, d)
		}
	}
	if len(out) == 0 {
		out = sortedIDs(msg.pending)
	}
	return out
}

// flushQueue sends queued messages, oldest first, while their streams
// have window room.
func (e *Endpoint) flushQueue() {
	for len(e.queue) > 0 {
		msg := e.queue[0]
		if !e.admit(msg) {
			return
		}
		e.queue = e.queue[1:]
		if len(msg.pending) == 0 {
			continue // every destination died meanwhile
		}
		e.msgs = append(e.msgs, msg)
		e.transmit(msg, false)
	}
}

// admit numbers msg in its streams if they have room.
func (e *Endpoint) admit(msg *outMsg) bool {
	msg.pending = map[algorithms.NodeID]bool{}
	msg.sacked = map[algorithms.NodeID]bool{}
	if msg.all {
		if len(e.all.unacked) >= e.cfg.Window {
			return false
		}
		msg.allSeq = e.all.next
		e.all.next++
		e.all.unacked[msg.allSeq] = msg
		for p := range e.peers {
			msg.pending[p] = true
		}
		return true
	}
	live := msg.dests[:0]
	for _, d := range msg.dests {
		if e.dead[d] {
			e.counters.DeadDrops++
			continue
		}
		if len(e.peerTx(d).unacked) >= e.cfg.Window {
			return false
		}
		live = append(live, d)
	}
	msg.dests = live
	msg.seq = map[algorithms.NodeID]uint32{}
	for _, d := range msg.dests {
		t := e.peerTx(d)
		msg.seq[d] = t.next
		t.unacked[t.next] = msg
		t.next++
		msg.pending[d] = true
	}
	return true
}

// transmit sends msg to the destinations still missing it.
func (e *Endpoint) transmit(msg *outMsg, again bool) {
	f := &Frame{From: e.cfg.ID, Inc: e.cfg.Incarnation, Payload: msg.payload, Retransmission: again}
	rto := e.cfg.InitialRTO
	if msg.all {
		f.Entries = []Entry{{To: algorithms.Everyone, Seq: msg.allSeq, Low: e.allLow()}}
		if again {
			f.Missing = e.targets(msg)
			if f.Size() > e.cfg.MaxPayload {
				f.Missing = nil
			}
		}
		if len(msg.pending) > 0 {
			rto = 0
			for d := range msg.pending {
				rto = max(rto, e.peerTx(d).rtoTicks)
			}
		}
	} else {
		rto = 0
		dests := msg.dests
		if again {
			dests = e.targets(msg)
		}
		for _, d := range dests {
			t := e.peerTx(d)
			f.Entries = append(f.Entries, Entry{To: d, Seq: msg.seq[d], Low: t.low()})
			rto = max(rto, t.rtoTicks)
		}
	}
	msg.tries++
	if !again {
		msg.sentAt = e.now
	}
	backoff := rto << min(msg.tries-1, 16)
	msg.due = e.now + min(backoff, e.cfg.MaxRTO)
	e.piggyback(f)
	e.emit(f)
}

func (t *peerTx) low() uint32 {
	low := t.next
	for seq := range t.unacked {
		low = min(low, seq)
	}
	return low
}

func (e *Endpoint) allLow() uint32 {
	low := e.all.next
	for seq := range e.all.unacked {
		low = min(low, seq)
	}
	return low
}

// piggyback adds every pending acknowledgement that fits to f.
func (e *Endpoint) piggyback(f *Frame) {
	for _, id := range sortedIDs(e.rx) {
		r := e.rx[id]
		if !r.ackP2P && !r.ackAll {
			continue
		}
		acks := e.acksFor(id, r)
		if f.Size()+len(acks)*ackBytes > e.cfg.MaxPayload {
			return
		}
		f.Acks = append(f.Acks, acks...)
		r.ackP2P, r.ackAll, r.ackDue = false, false, -1
	}
}

func (e *Endpoint) acksFor(id algorithms.NodeID, r *peerRx) []Ack {
	var out []Ack
	mk := func(s *rxStream, all bool) Ack {
		a := Ack{To: id, ToInc: r.inc, Inc: e.cfg.Incarnation, All: all}
		if s.expected > 0 {
			a.Cum = s.expected - 1
		}
		for seq := range s.buf {
			if off := seq - a.Cum - 1; off < 32 {
				a.Sack |= 1 << off
			}
		}
		return a
	}
	if r.ackP2P {
		out = append(out, mk(&r.p2p, false))
	}
	if r.ackAll {
		out = append(out, mk(&r.all, true))
	}
	return out
}

// sendAcks sends the acknowledgements that are due, with every other
// pending one, in as few frames as fit.
func (e *Endpoint) sendAcks(force bool) {
	due := force
	for _, r := range e.rx {
		if r.ackDue >= 0 && r.ackDue <= e.now {
			due = true
			break
		}
	}
	if !due {
		return
	}
	for {
		f := &Frame{From: e.cfg.ID, Inc: e.cfg.Incarnation}
		e.piggyback(f)
		if len(f.Acks) == 0 {
			return
		}
		e.emit(f)
	}
}

func (e *Endpoint) emit(f *Frame) {
	switch {
	case f.Payload == nil:
		e.counters.AckFrames++
	case f.Retransmission:
		e.counters.Retransmissions++
	default:
		e.counters.DataFrames++
	}
	e.counters.Bytes += f.Size()
	e.frames = append(e.frames, f)
}

func sortedIDs[V any](m map[algorithms.NodeID]V) []algorithms.NodeID {
	out := make([]algorithms.NodeID, 0, len(m))
	for id := range m {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}
