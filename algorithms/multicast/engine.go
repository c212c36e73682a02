package multicast

import (
	"fmt"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
)

// upper is the order that runs on top of the reliable multicast.
type upper interface {
	// validate checks a body from origin before the reliable multicast
	// stores it, so that Step can reject it with the state unchanged.
	validate(origin algorithms.NodeID, b Body) error
	// rdeliver hands up a message that the reliable multicast delivers,
	// in each origin's order.
	rdeliver(id ID, b Body)
}

// Limits that keep a malformed message from making a core allocate
// without bound.
const (
	maxAhead   = 1 << 16 // sequence numbers beyond the stable prefix
	maxMissing = 32      // sequence numbers in one NAK
)

// engine is the reliable multicast with uniform agreement, in either
// variant (see doc.go and docs/multicast.md). It numbers its own messages
// 1, 2, …; it delivers each origin's messages in that order, each once,
// and only once MaxFaults+1 drones are known to hold it.
type engine struct {
	*group
	out       *algorithms.Outbox
	up        upper
	now       int64
	down      []bool
	live      int
	committee bool // this drone acknowledges promptly (efficient)
	seq       uint32
	streams   []*stream // by member index, nil until used
	ackDue    int64     // next announcement (0: none due)
	settling  bool
	repairing bool // receive is handling a repair
	// rtt estimates how long a held message takes to become deliverable
	// (the acknowledgement round trip, queueing on the channel included):
	// the timers that ask others for something wait rtt.rto(), so that
	// they stretch when the channel is busy instead of adding to its load.
	rtt estimator
	// stab estimates how long a held message takes to become stable
	// (every live drone known to hold it, lazy acknowledgements
	// included): the repairer probes a message once that has passed.
	stab estimator
}

// minSamples is how many samples an estimator takes before it replaces
// its first, conservative timeout: the first exchanges of a run meet an
// idle channel and are faster than what follows.
const minSamples = 8

// estimator estimates a round trip in ticks as TCP does (RFC 6298): a
// smoothed mean and mean deviation of samples, and a timeout of the mean
// plus four deviations, but never less than twice the mean (delays on a
// shared channel vary with its load more than the deviation of recent
// samples shows). Samples of exchanges that had to be repeated are left
// out (Karn's rule), so that losses do not stretch the timeout that
// recovers from them; backoff covers a channel that is slower than the
// estimate.
type estimator struct {
	srtt, rttvar float64
	samples      int
	initial      int64 // before the first few samples
	floor        int64
	ceiling      int64
}

func (r *estimator) sample(d int64) {
	x := float64(d)
	r.samples++
	if r.samples == 1 {
		r.srtt, r.rttvar = x, x/2
		return
	}
	dev := r.srtt - x
	if dev < 0 {
		dev = -dev
	}
	r.rttvar = 0.75*r.rttvar + 0.25*dev
	r.srtt = 0.875*r.srtt + 0.125*x
}

func (r *estimator) rto() int64 {
	if r.samples < minSamples {
		return r.initial
	}
	return min(r.ceiling, max(r.floor, int64(2*r.srtt)+1, int64(r.srtt+4*r.rttvar)+1))
}

// stream is what a drone knows of one origin's messages.
type stream struct {
	origin algorithms.NodeID
	// held: every message up to held is here (or was, and is stable).
	// delivered ≤ held; safe: known held by MaxFaults+1 drones;
	// stable: known held by every live drone, and forgotten;
	// top: the highest sequence number known to exist.
	held, delivered, safe, stable, top uint32
	msgs                               map[uint32]*entry
	heldBy                             []uint32 // announced prefix, by member index
	announced                          uint32   // held, as this drone last announced it
	force                              bool     // announce even if unchanged
	dirty                              bool
	nakDue, nakWait                    int64
	stallDue, stallWait                int64
	stallSeq                           uint32 // the message stallDue waits for
	heldOff                            bool   // stallDue was put off for another's query
	answered                           int64  // last query answered
	lastDelivery                       int64  // tick of the last delivery
}

// entry is one message beyond the stable prefix (or a placeholder for one
// that is known to exist).
type entry struct {
	body       Body
	heldAt     int64    // tick at which the body arrived
	retried    bool     // it took a NAK, a repair or a query
	holders    []uint64 // by member index
	count      int
	repairedAt int64
	probeDue   int64
	probeWait  int64
}

func newEngine(g *group, out *algorithms.Outbox, up upper) *engine {
	e := &engine{
		group:   g,
		out:     out,
		up:      up,
		down:    make([]bool, g.n()),
		live:    g.n(),
		streams: make([]*stream, g.n()),
	}
	e.rtt = estimator{initial: g.t.stallAfter, floor: g.t.stallAfter / 4, ceiling: 4 * g.t.stallAfter}
	e.stab = estimator{initial: g.t.repairAfter, floor: g.t.lazyAck + 20, ceiling: 4 * g.t.repairAfter}
	e.recomputeCommittee()
	return e
}

func (e *engine) stream(origin algorithms.NodeID) *stream {
	i := e.index[origin]
	st := e.streams[i]
	if st == nil {
		st = &stream{origin: origin, msgs: map[uint32]*entry{}, heldBy: make([]uint32, e.n()), answered: -1 << 62}
		e.streams[i] = st
	}
	return st
}

// entry returns the entry of s, creating a placeholder.
func (e *engine) entry(st *stream, s uint32) *entry {
	en := st.msgs[s]
	if en == nil {
		en = &entry{holders: make([]uint64, (e.n()+63)/64), repairedAt: -1 << 62}
		st.msgs[s] = en
	}
	st.top = max(st.top, s)
	return en
}

func (e *engine) addHolder(en *entry, id algorithms.NodeID) {
	i := e.index[id]
	w, b := i/64, uint64(1)<<(i%64)
	if en.holders[w]&b == 0 {
		en.holders[w] |= b
		en.count++
	}
}

func (e *engine) holds(en *entry, i int) bool { return en.holders[i/64]&(1<<(i%64)) != 0 }

// multicast sends b as this drone's next message and returns its number.
func (e *engine) multicast(b Body) (uint32, error) {
	if b.Size() > maxBody {
		return 0, fmt.Errorf("multicast: %s of %d bytes, at most %d fit: %w", b.Kind(), b.Size(), maxBody, ErrTooLarge)
	}
	st := e.stream(e.id)
	e.seq++
	s := e.seq
	en := e.entry(st, s)
	en.body = b
	en.heldAt = e.now
	e.addHolder(en, e.id)
	st.dirty = true
	if e.n() > 1 {
		acks := e.piggyback(MaxMessage-dataHeader-b.Size(), e.id)
		e.out.Send(nil, Data{Seq: s, Acks: acks, Body: b})
	}
	e.settle()
	return s, nil
}

// step handles the reliable multicast's messages; handled is false for
// any other message.
func (e *engine) step(from algorithms.NodeID, m algorithms.Message) (handled bool, err error) {
	switch m := m.(type) {
	case Data:
		if err := e.checkPayload(from, ID{Origin: from, Seq: m.Seq}, m.Body); err != nil {
			return true, err
		}
		if err := e.checkEntries(from, m.Acks); err != nil {
			return true, err
		}
		e.announce(from, m.Acks)
		e.receive(from, ID{Origin: from, Seq: m.Seq}, m.Body, nil)
	case Relayed:
		if m.ID.Origin == from {
			return true, fmt.Errorf("multicast: RELAY of %v from its own origin: %w", m.ID, ErrBadMessage)
		}
		if err := e.checkPayload(from, m.ID, m.Body); err != nil {
			return true, err
		}
		if err := e.checkEntries(from, m.Acks); err != nil {
			return true, err
		}
		e.announce(from, m.Acks)
		e.receive(from, m.ID, m.Body, nil)
	case Repair:
		if err := e.checkPayload(from, m.ID, m.Body); err != nil {
			return true, err
		}
		for _, id := range m.Ask {
			if err := e.checkMember("multicast: REPAIR", id); err != nil {
				return true, err
			}
		}
		e.repairing = true
		e.receive(from, m.ID, m.Body, m.Ask)
		e.repairing = false
	case Ack:
		if err := e.checkEntries(from, m.Entries); err != nil {
			return true, err
		}
		for _, id := range m.Ask {
			if err := e.checkMember("multicast: ACK", id); err != nil {
				return true, err
			}
		}
		e.announce(from, m.Entries)
		for _, a := range m.Entries {
			st := e.stream(a.Origin)
			if slices.Contains(m.Ask, e.id) && e.now-st.answered >= e.rto()/2 {
				// Answer each stream's queries at most twice a round
				// trip: many drones stuck on one loss ask at once.
				st.answered = e.now
				e.forceAnnounce(st)
			}
			if len(m.Ask) > 0 && st.stallDue != 0 && !st.heldOff && a.Safe <= st.safe {
				// Everyone hears the answers to a drone stuck where this
				// one is: wait for them before asking, once a round (the
				// answers may not be enough for this drone).
				st.heldOff = true
				st.stallDue = max(st.stallDue, e.now+e.rto())
			}
		}
	case Nak:
		if err := e.checkNak(from, m); err != nil {
			return true, err
		}
		e.nak(from, m)
	default:
		return false, nil
	}
	e.settle()
	return true, nil
}

func (e *engine) checkPayload(from algorithms.NodeID, id ID, b Body) error {
	if err := e.checkMember("multicast", from); err != nil {
		return err
	}
	if err := e.checkMember("multicast", id.Origin); err != nil {
		return err
	}
	if from == e.id {
		return fmt.Errorf("multicast: message %v from this drone itself: %w", id, ErrBadMessage)
	}
	if b == nil {
		return fmt.Errorf("multicast: message %v without a body: %w", id, ErrBadMessage)
	}
	if id.Seq == 0 {
		return fmt.Errorf("multicast: message %v: sequence numbers start at 1: %w", id, ErrBadMessage)
	}
	st := e.streams[e.index[id.Origin]]
	if id.Origin == e.id && id.Seq > e.seq {
		return fmt.Errorf("multicast: message %v that this drone never sent: %w", id, ErrBadMessage)
	}
	if st != nil && id.Seq > st.stable+maxAhead || st == nil && id.Seq > maxAhead {
		return fmt.Errorf("multicast: message %v too far ahead: %w", id, ErrBadMessage)
	}
	if b.Size() > maxBody {
		return fmt.Errorf("multicast: message %v of %d bytes: %w", id, b.Size(), ErrTooLarge)
	}
	return e.up.validate(id.Origin, b)
}

func (e *engine) checkEntries(from algorithms.NodeID, entries []AckEntry) error {
	if err := e.checkMember("multicast: ACK", from); err != nil {
		return err
	}
	if from == e.id {
		return fmt.Errorf("multicast: ACK from this drone itself: %w", ErrBadMessage)
	}
	for _, a := range entries {
		if err := e.checkMember("multicast: ACK", a.Origin); err != nil {
			return err
		}
		st := e.streams[e.index[a.Origin]]
		var stable uint32
		if st != nil {
			stable = st.stable
		}
		switch {
		case a.Origin == e.id && max(a.Held, a.Safe) > e.seq:
			return fmt.Errorf("multicast: ACK from %d of %d.%d, which this drone never sent: %w", from, a.Origin, max(a.Held, a.Safe), ErrBadMessage)
		case max(a.Held, a.Safe) > stable+maxAhead:
			return fmt.Errorf("multicast: ACK from %d of %d.%d, too far ahead: %w", from, a.Origin, max(a.Held, a.Safe), ErrBadMessage)
		}
	}
	return nil
}

func (e *engine) checkNak(from algorithms.NodeID, m Nak) error {
	if err := e.checkMember("multicast: NAK", from); err != nil {
		return err
	}
	if err := e.checkMember("multicast: NAK", m.Origin); err != nil {
		return err
	}
	if from == e.id {
		return fmt.Errorf("multicast: NAK from this drone itself: %w", ErrBadMessage)
	}
	st := e.streams[e.index[m.Origin]]
	for _, s := range m.Missing {
		switch {
		case s == 0:
			return fmt.Errorf("multicast: NAK from %d of %d.0: %w", from, m.Origin, ErrBadMessage)
		case m.Origin == e.id && s > e.seq:
			return fmt.Errorf("multicast: NAK from %d of %d.%d, which this drone never sent: %w", from, m.Origin, s, ErrBadMessage)
		case st == nil && s > maxAhead || st != nil && s > st.stable+maxAhead:
			return fmt.Errorf("multicast: NAK from %d of %d.%d, too far ahead: %w", from, m.Origin, s, ErrBadMessage)
		}
	}
	return nil
}

// receive handles a message's body, from its origin, a relay or a repair.
func (e *engine) receive(from algorithms.NodeID, id ID, b Body, ask []algorithms.NodeID) {
	st := e.stream(id.Origin)
	st.dirty = true
	asked := slices.Contains(ask, e.id)
	if id.Seq <= st.stable {
		if asked {
			e.forceAnnounce(st)
		}
		return
	}
	en := e.entry(st, id.Seq)
	e.addHolder(en, from)
	e.addHolder(en, id.Origin)
	if en.body == nil {
		en.body = b
		en.heldAt = e.now
		en.retried = ask != nil || e.repairing
		e.addHolder(en, e.id)
		e.advanceHeld(st)
		if e.rel == Relay {
			// The textbook: relay on first receipt, before delivering.
			acks := e.piggyback(MaxMessage-relayHeader-b.Size(), id.Origin)
			e.out.Send(nil, Relayed{ID: id, Acks: acks, Body: b})
		}
	}
	if asked {
		e.forceAnnounce(st)
	}
}

// announce records what from announces it holds.
func (e *engine) announce(from algorithms.NodeID, entries []AckEntry) {
	fi := e.index[from]
	for _, a := range entries {
		st := e.stream(a.Origin)
		st.dirty = true
		if a.Held > st.heldBy[fi] {
			for s := max(st.heldBy[fi], st.stable) + 1; s <= a.Held; s++ {
				e.addHolder(e.entry(st, s), from)
			}
			st.heldBy[fi] = a.Held
		}
		st.top = max(st.top, a.Held, a.Safe)
		st.safe = max(st.safe, a.Safe)
	}
}

func (e *engine) forceAnnounce(st *stream) {
	st.force = true
	e.scheduleAck(e.t.ackDelay)
}

// nak answers a negative acknowledgement, if this drone is the repairer,
// and holds back its own for the same messages.
func (e *engine) nak(from algorithms.NodeID, m Nak) {
	st := e.stream(m.Origin)
	st.dirty = true
	suppress := false
	for _, s := range m.Missing {
		st.top = max(st.top, s)
		en := st.msgs[s]
		if s > st.held && (en == nil || en.body == nil) {
			suppress = true
		}
		if en == nil || en.body == nil || !e.isRepairer(st, en) || e.now-en.repairedAt < e.t.repairGap {
			continue
		}
		en.repairedAt = e.now
		e.out.Send(nil, Repair{ID: ID{Origin: m.Origin, Seq: s}, Body: en.body})
	}
	if suppress && st.nakDue != 0 {
		st.nakDue = max(st.nakDue, e.now+e.rto())
	}
}

// isRepairer reports whether this drone repairs en: the origin while it is
// not suspected, then the live holder with the lowest ID that this drone
// knows of.
func (e *engine) isRepairer(st *stream, en *entry) bool {
	if en.body == nil {
		return false
	}
	if !e.down[e.index[st.origin]] {
		return st.origin == e.id
	}
	for i, m := range e.members {
		switch {
		case e.down[i]:
		case m == e.id:
			return true
		case e.holds(en, i):
			return false
		}
	}
	return false
}

func (e *engine) advanceHeld(st *stream) {
	for {
		en := st.msgs[st.held+1]
		if en == nil || en.body == nil {
			return
		}
		st.held++
	}
}

// settle brings every changed stream up to date: delivers what may be
// delivered, schedules announcements, negative acknowledgements and
// queries, and forgets what is stable. Deliveries may make the order above
// multicast again; that only marks the own stream changed.
func (e *engine) settle() {
	if e.settling {
		return
	}
	e.settling = true
	defer func() { e.settling = false }()
	for again := true; again; {
		again = false
		for _, st := range e.streams {
			if st != nil && st.dirty {
				st.dirty = false
				e.progress(st)
				again = true
			}
		}
	}
}

func (e *engine) progress(st *stream) {
	e.advanceHeld(st)
	for st.delivered < st.held {
		s := st.delivered + 1
		en := st.msgs[s]
		if st.safe < s && en.count < e.faults+1 {
			break
		}
		st.delivered = s
		st.safe = max(st.safe, s)
		if !en.retried {
			// From when the message was both held and next in line.
			e.rtt.sample(e.now - max(en.heldAt, st.lastDelivery))
		}
		st.lastDelivery = e.now
		e.up.rdeliver(ID{Origin: st.origin, Seq: s}, en.body)
	}
	if st.origin != e.id && st.held > st.announced {
		if e.rel == Efficient && e.committee {
			e.scheduleAck(e.t.ackDelay)
		} else {
			e.scheduleAck(e.t.lazyAck)
		}
	}
	if e.missing(st, 1) != nil {
		if st.nakDue == 0 {
			// Spread over more time the more drones may miss one
			// frame, so that most hear another's NAK first.
			st.nakDue = e.now + e.t.nakDelay + e.spread(st, max(e.t.nakSpread, e.rto()*int64(e.n())/256))
		}
	} else {
		st.nakDue, st.nakWait = 0, 0
	}
	if st.held > st.delivered {
		if st.stallDue == 0 || st.stallSeq != st.delivered+1 {
			st.stallSeq, st.heldOff = st.delivered+1, false
			st.stallDue, st.stallWait = e.now+e.rto()+e.spread(st, e.rto()), 0
		}
	} else {
		st.stallDue, st.stallWait = 0, 0
	}
	for st.stable < st.delivered && e.stable(st.msgs[st.stable+1]) {
		if en := st.msgs[st.stable+1]; !en.retried && en.probeWait == 0 {
			e.stab.sample(e.now - en.heldAt)
		}
		delete(st.msgs, st.stable+1)
		st.stable++
	}
}

// stable reports whether every live drone is known to hold en.
func (e *engine) stable(en *entry) bool {
	if en.count < e.live {
		return false
	}
	for i := range e.members {
		if !e.down[i] && !e.holds(en, i) {
			return false
		}
	}
	return true
}

// missing lists up to limit messages of st known to exist and not held.
func (e *engine) missing(st *stream, limit int) []uint32 {
	var out []uint32
	for s := st.held + 1; s <= st.top && len(out) < limit; s++ {
		if en := st.msgs[s]; en == nil || en.body == nil {
			out = append(out, s)
		}
	}
	return out
}

// spread returns a delay in [0, width) that differs between drones, so
// that drones that notice the same loss at once do not all ask at once and
// most hear another's request first.
func (e *engine) spread(st *stream, width int64) int64 {
	if width <= 1 {
		return 0
	}
	h := uint64(e.id)*2654435761 + uint64(st.origin)*40503 + uint64(st.held)*97
	return int64(h % uint64(width))
}

// rto is how long to wait before asking the committee again.
func (e *engine) rto() int64 { return e.rtt.rto() }

func (e *engine) scheduleAck(after int64) {
	due := e.now + after
	if e.ackDue == 0 || due < e.ackDue {
		e.ackDue = due
	}
}

func (st *stream) pending(self algorithms.NodeID) bool {
	return st.force || st.origin != self && st.held > st.announced
}

func (e *engine) takeEntry(st *stream) AckEntry {
	st.announced = max(st.announced, st.held)
	st.force = false
	return AckEntry{Origin: st.origin, Held: st.held, Safe: st.safe}
}

// piggyback takes the pending announcements that fit in space bytes, the
// stream of prefer first, for a data frame; when none is left pending, no
// acknowledgement frame is due any more.
func (e *engine) piggyback(space int, prefer algorithms.NodeID) []AckEntry {
	limit := min(space/entryBytes, maxCount)
	var out []AckEntry
	if st := e.streams[e.index[prefer]]; st != nil && st.pending(e.id) && limit > 0 {
		out = append(out, e.takeEntry(st))
	}
	left := false
	for _, st := range e.streams {
		if st == nil || !st.pending(e.id) {
			continue
		}
		if len(out) >= limit {
			left = true
			break
		}
		out = append(out, e.takeEntry(st))
	}
	if !left {
		e.ackDue = 0
	}
	return out
}

// sendAcks announces everything pending, in as many frames as it takes.
func (e *engine) sendAcks() {
	e.ackDue = 0
	limit := min((MaxMessage-ackHeader)/entryBytes, maxCount)
	var entries []AckEntry
	for _, st := range e.streams {
		if st == nil || !st.pending(e.id) {
			continue
		}
		entries = append(entries, e.takeEntry(st))
		if len(entries) == limit {
			e.out.Send(nil, Ack{Entries: entries})
			entries = nil
		}
	}
	if len(entries) > 0 {
		e.out.Send(nil, Ack{Entries: entries})
	}
}

func (e *engine) backoff(wait, first int64) int64 {
	if wait == 0 {
		return first
	}
	return min(2*wait, e.t.backoffMax*first)
}

// retry is the backoff of requests that only a few drones answer (a NAK,
// a query, COLLECT): doubling once is enough to let a busy channel drain,
// and keeps recovery from a run of losses quick.
func (e *engine) retry(wait, first int64) int64 {
	if wait == 0 {
		return first
	}
	return min(2*wait, 2*first)
}

// tick runs the timers: announcements, negative acknowledgements, queries
// of stuck drones, and the repairer's probes.
func (e *engine) tick() {
	e.now++
	if e.ackDue != 0 && e.now >= e.ackDue {
		e.sendAcks()
	}
	var query []AckEntry
	var ask []algorithms.NodeID
	for _, st := range e.streams {
		if st == nil {
			continue
		}
		if st.nakDue != 0 && e.now >= st.nakDue {
			if miss := e.missing(st, maxMissing); len(miss) > 0 {
				e.out.Send(nil, Nak{Origin: st.origin, Missing: miss})
				st.nakWait = e.retry(st.nakWait, e.rto())
				st.nakDue = e.now + st.nakWait
			} else {
				st.nakDue, st.nakWait = 0, 0
			}
		}
		if st.stallDue != 0 && e.now >= st.stallDue {
			query = append(query, AckEntry{Origin: st.origin, Held: st.held, Safe: st.safe})
			ask = e.unheard(st, ask)
			if en := st.msgs[st.delivered+1]; en != nil {
				en.retried = true
			}
			st.stallWait = e.retry(st.stallWait, e.rto())
			st.stallDue, st.heldOff = e.now+st.stallWait, false
		}
		for s := st.stable + 1; s <= st.top; s++ {
			en := st.msgs[s]
			if en == nil || en.body == nil {
				continue
			}
			due := en.probeDue
			if due == 0 {
				due = en.heldAt + e.stab.rto()
			}
			if e.now >= due && e.isRepairer(st, en) {
				e.probe(st, s, en)
			}
		}
	}
	if len(query) > 0 {
		slices.Sort(ask)
		ask = slices.Compact(ask)
		ask = ask[:min(len(ask), maxCount, (MaxMessage-ackHeader-entryBytes)/idBytes)]
		limit := min((MaxMessage-ackHeader-idBytes*len(ask))/entryBytes, maxCount)
		e.out.Send(nil, Ack{Ask: ask, Entries: query[:min(len(query), limit)]})
	}
	e.settle()
}

// unheard adds to ask whom a drone stuck on the first message of st that
// it cannot deliver asks: the origin, which counts the holders of its own
// messages and answers with one announcement that carries its safe prefix;
// or, when this drone is the origin or the origin is down, as many live
// committee members not known to hold the message as it needs to hear from.
// Asking one drone where one answer does keeps a loss that many drones
// notice at once from turning into an implosion of answers.
func (e *engine) unheard(st *stream, ask []algorithms.NodeID) []algorithms.NodeID {
	if st.origin != e.id && !e.down[e.index[st.origin]] {
		return append(ask, st.origin)
	}
	en := st.msgs[st.delivered+1]
	need := e.faults + 1
	if en != nil {
		need -= en.count
	}
	rank := 0
	for i, m := range e.members {
		if e.down[i] {
			continue
		}
		if rank > e.faults || need <= 0 {
			break
		}
		rank++
		if m != e.id && m != st.origin && (en == nil || !e.holds(en, i)) {
			ask = append(ask, m)
			need--
		}
	}
	return ask
}

// probe repeats a message that some live drone has not acknowledged,
// asking those drones to acknowledge.
func (e *engine) probe(st *stream, s uint32, en *entry) {
	en.probeWait = e.backoff(en.probeWait, e.stab.rto())
	en.probeDue = e.now + en.probeWait
	var ask []algorithms.NodeID
	for i, m := range e.members {
		if !e.down[i] && !e.holds(en, i) {
			ask = append(ask, m)
		}
	}
	if len(ask) == 0 {
		return
	}
	// As many asked drones as fit beside the body; the rest, if any,
	// are asked by acknowledgement frames that name the origin.
	k := min(len(ask), maxCount, (MaxMessage-repairHeader-en.body.Size())/idBytes)
	en.repairedAt = e.now
	e.out.Send(nil, Repair{ID: ID{Origin: st.origin, Seq: s}, Ask: ask[:k], Body: en.body})
	entry := []AckEntry{{Origin: st.origin, Held: st.held, Safe: st.safe}}
	for rest, limit := ask[k:], min((MaxMessage-ackHeader-entryBytes)/idBytes, maxCount); len(rest) > 0; {
		j := min(len(rest), limit)
		e.out.Send(nil, Ack{Ask: rest[:j], Entries: entry})
		rest = rest[j:]
	}
}

func (e *engine) recomputeCommittee() {
	rank := 0
	e.committee = false
	for i, m := range e.members {
		if e.down[i] {
			continue
		}
		if m == e.id {
			e.committee = rank <= e.faults
			return
		}
		rank++
	}
}

func (e *engine) peerDown(id algorithms.NodeID) {
	i, ok := e.index[id]
	if !ok || e.down[i] || id == e.id {
		return
	}
	e.down[i] = true
	e.live--
	was := e.committee
	e.recomputeCommittee()
	for _, st := range e.streams {
		if st == nil {
			continue
		}
		st.dirty = true
		if e.committee && !was && st.origin != e.id && st.held > 0 {
			e.forceAnnounce(st)
		}
	}
	e.settle()
}

func (e *engine) peerUp(id algorithms.NodeID) {
	i, ok := e.index[id]
	if !ok || !e.down[i] {
		return
	}
	e.down[i] = false
	e.live++
	e.recomputeCommittee()
	for _, st := range e.streams {
		if st != nil {
			st.dirty = true
		}
	}
	e.settle()
}
