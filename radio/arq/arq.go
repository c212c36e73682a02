package arq

import (
	"fmt"
	"math"
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
	// ride on or other acknowledgements to join (optional, default 5).
	AckDelay int64
	// MinRTO is the smallest retransmission timeout in ticks (optional,
	// default 25).
	MinRTO int64
	// InitialRTO is the timeout before the first round trip is measured
	// (optional, default 50).
	InitialRTO int64
	// MaxRTO caps the backed-off timeout, before PerDestination is added
	// (optional, default 400).
	MaxRTO int64
	// PerDestination is added to a message's timeout for every destination
	// still to acknowledge it, in ticks: each answers with a frame of its
	// own on the shared channel, so the last answer comes later the more
	// there are (optional, default 0; about one frame's airtime).
	PerDestination int64
	// Window is the most unacknowledged messages per stream (optional,
	// default 32, at most 32 so that selective acknowledgements cover it).
	Window int
	// MaxPayload is the largest frame payload in bytes (optional, default
	// algorithms.MaxPayload).
	MaxPayload int
	// TimeFromAir starts a frame's retransmission timer when the runner
	// reports, with Transmitted, that the frame has left the radio, instead
	// of when the endpoint hands it out. On a busy shared channel a frame
	// can wait long in the transmit queue; timing that wait as a lost
	// acknowledgement causes retransmissions that make the queue longer.
	// A runner that sets it must report every frame.
	TimeFromAir bool
	// TickNanos is the length of a tick in nanoseconds, needed only by
	// ChannelBusy.
	TickNanos int64
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
	// ackSoon: no acknowledgement is due before this tick (nextAck).
	ackSoon int64
	// rtt pools every sample, for peers without samples of their own.
	rtt rttEstimate
	// busySeen is the channel's busy time at the last ChannelBusy call;
	// busyRest the part of a tick not yet applied.
	busySeen, busyRest int64

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
	rto     int64 // timeout of the latest transmission
	// deferred counts the ticks the timeout was pushed back because the
	// channel was busy.
	deferred int64
	tries    int
}

type peerTx struct {
	inc      uint32
	known    bool
	next     uint32
	unacked  map[uint32]*outMsg
	rtt      rttEstimate
	rtoTicks int64 // backed-off timeout, when backedOff
	// backedOff is set by a timeout and cleared by the next sample.
	backedOff bool
}

// rttEstimate is a smoothed round trip (Jacobson/Karels, RFC 6298).
type rttEstimate struct {
	srtt   int64 // ×8, 0 before the first sample
	rttvar int64 // ×4
	rto    int64
}

func (r *rttEstimate) sample(rtt, lo, hi int64) {
	rtt = max(rtt, 1)
	if r.srtt == 0 {
		r.srtt = rtt * 8
		r.rttvar = rtt * 2
	} else {
		delta := rtt - r.srtt/8
		r.srtt += delta
		r.rttvar += abs(delta) - r.rttvar/4
	}
	r.rto = min(max(r.srtt/8+r.rttvar, lo), hi)
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
	inc    uint32
	known  bool
	p2p    rxStream
	all    rxStream
	ackDue int64 // tick at which an acknowledgement must go, or -1
	ackP2P bool
	ackAll bool
}

// New returns an endpoint.
func New(cfg Config) *Endpoint {
	if cfg.AckDelay <= 0 {
		cfg.AckDelay = 5
	}
	if cfg.MinRTO <= 0 {
		cfg.MinRTO = 25
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
		// No acknowledgement is pending.
		ackSoon: math.MaxInt64,
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
			// Back off every destination that timed out, not only this
			// message (Karn): its next messages start from the longer
			// timeout until a fresh round trip is measured.
			for _, d := range e.targets(msg) {
				t := e.peerTx(d)
				t.rtoTicks = min(2*e.rto(t), e.cfg.MaxRTO)
				t.backedOff = true
			}
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
		e.ackSoon = min(e.ackSoon, r.ackDue)
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
		t = &peerTx{next: 1, unacked: map[uint32]*outMsg{}}
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

// sampleRTT records a round trip to the peer, in ticks.
func (e *Endpoint) sampleRTT(t *peerTx, rtt int64) {
	t.rtt.sample(rtt, e.cfg.MinRTO, e.cfg.MaxRTO)
	e.rtt.sample(rtt, e.cfg.MinRTO, e.cfg.MaxRTO)
	t.backedOff = false
}

// rto is the retransmission timeout for a peer: its backed-off timeout
// after a loss, else its own estimate, else the estimate over all peers
// (a peer the drone rarely talks to is most likely as far as the others),
// else InitialRTO.
func (e *Endpoint) rto(t *peerTx) int64 {
	switch {
	case t.backedOff:
		return t.rtoTicks
	case t.rtt.srtt != 0:
		return t.rtt.rto
	case e.rtt.srtt != 0:
		return e.rtt.rto
	}
	return e.cfg.InitialRTO
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
// have window room. A message whose stream is full waits, and so does every
// later message to any of its streams (order within a stream is kept), but
// messages to other streams go ahead: a peer that stopped answering must
// not hold up the rest of the swarm.
func (e *Endpoint) flushQueue() {
	var (
		blocked    map[algorithms.NodeID]bool
		allBlocked bool
		keep       = e.queue[:0]
	)
	for _, msg := range e.queue {
		if !e.admit(msg, blocked, allBlocked) {
			if msg.all {
				allBlocked = true
			} else {
				if blocked == nil {
					blocked = map[algorithms.NodeID]bool{}
				}
				for _, d := range msg.dests {
					blocked[d] = true
				}
			}
			keep = append(keep, msg)
			continue
		}
		if len(msg.pending) == 0 {
			continue // every destination died meanwhile
		}
		e.msgs = append(e.msgs, msg)
		e.transmit(msg, false)
	}
	clear(e.queue[len(keep):])
	e.queue = keep
}

// admit numbers msg in its streams if they all have room and none of them
// is blocked by an earlier message.
func (e *Endpoint) admit(msg *outMsg, blocked map[algorithms.NodeID]bool, allBlocked bool) bool {
	if msg.all {
		if allBlocked || len(e.all.unacked) >= e.cfg.Window {
			return false
		}
		msg.pending = map[algorithms.NodeID]bool{}
		msg.sacked = map[algorithms.NodeID]bool{}
		msg.allSeq = e.all.next
		e.all.next++
		e.all.unacked[msg.allSeq] = msg
		for p := range e.peers {
			msg.pending[p] = true
		}
		return true
	}
	for _, d := range msg.dests {
		if e.dead[d] {
			continue
		}
		if blocked[d] || len(e.peerTx(d).unacked) >= e.cfg.Window {
			return false
		}
	}
	live := make([]algorithms.NodeID, 0, len(msg.dests))
	for _, d := range msg.dests {
		if e.dead[d] {
			e.counters.DeadDrops++
			continue
		}
		live = append(live, d)
	}
	msg.dests = live
	msg.pending = map[algorithms.NodeID]bool{}
	msg.sacked = map[algorithms.NodeID]bool{}
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
				rto = max(rto, e.rto(e.peerTx(d)))
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
			rto = max(rto, e.rto(t))
		}
	}
	msg.tries++
	f.msg, f.try = msg, msg.tries
	msg.rto = min(rto<<min(msg.tries-1, 16), e.cfg.MaxRTO) + e.cfg.PerDestination*int64(len(msg.pending))
	if e.cfg.TimeFromAir {
		msg.due = math.MaxInt64 // until Transmitted
	} else {
		msg.due = e.now + msg.rto
		msg.deferred = 0
		if !again {
			msg.sentAt = e.now
		}
	}
	e.piggyback(f)
	e.emit(f)
}

// ChannelBusy tells the endpoint how long, in nanoseconds since the
// start, its radio channel has carried frames (its own and everyone's).
// On a shared half-duplex channel no acknowledgement can arrive while
// another frame is on air, so retransmission timeouts are pushed back by
// the busy time, up to four timeouts: a slow answer behind a queue of
// other drones' frames is not taken for a lost frame, and a saturated
// channel still retransmits in the end.
func (e *Endpoint) ChannelBusy(total int64) {
	if e.cfg.TickNanos <= 0 || total <= e.busySeen {
		return
	}
	e.busyRest += total - e.busySeen
	e.busySeen = total
	ticks := e.busyRest / e.cfg.TickNanos
	e.busyRest %= e.cfg.TickNanos
	if ticks == 0 {
		return
	}
	for _, msg := range e.msgs {
		if msg.due == math.MaxInt64 || msg.deferred >= 4*msg.rto {
			continue
		}
		d := min(ticks, 4*msg.rto-msg.deferred)
		msg.due += d
		msg.deferred += d
	}
}

// Transmitted tells the endpoint that f has left the radio (see
// Config.TimeFromAir): the retransmission timer of its payload starts now.
func (e *Endpoint) Transmitted(f *Frame) {
	msg := f.msg
	if !e.cfg.TimeFromAir || msg == nil || f.try != msg.tries || len(msg.pending) == 0 {
		return
	}
	msg.due = e.now + msg.rto
	msg.deferred = 0
	if f.try == 1 {
		msg.sentAt = e.now
	}
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
	if e.ackSoon == math.MaxInt64 {
		return // none pending
	}
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
	if !force && e.now < e.ackSoon {
		return // nothing is due yet: no need to look at every peer
	}
	if due := e.nextAck(); !force && due > e.now {
		return
	}
	for {
		f := &Frame{From: e.cfg.ID, Inc: e.cfg.Incarnation}
		e.piggyback(f)
		if len(f.Acks) == 0 {
			break
		}
		e.emit(f)
	}
	e.nextAck()
}

// nextAck sets and returns ackSoon, the earliest tick at which an
// acknowledgement is due (math.MaxInt64 when none is pending). Between
// calls ackSoon only moves earlier, as acknowledgements are asked for, so
// it never passes one that is due.
func (e *Endpoint) nextAck() int64 {
	next := int64(math.MaxInt64)
	for _, r := range e.rx {
		if r.ackDue >= 0 {
			next = min(next, r.ackDue)
		}
	}
	e.ackSoon = next
	return next
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
