package multicast

import (
	"fmt"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/clock"
)

// ISIS is total order by agreed priorities (Birman and Joseph 1987, as in
// Coulouris): the sender multicasts its message; every drone q puts it in
// its hold-back queue with the proposed priority max(A_q, P_q)+1 (made
// unique by q's ID) and sends the proposal to the sender; the sender takes
// the largest proposal as the agreed priority and multicasts it (AGREED);
// a drone delivers the message at the head of its queue once its priority
// is agreed. The message and AGREED travel by reliable multicast with
// uniform agreement: 2 broadcast data frames and N−1 proposals per message.
//
// With crashes the sender stops waiting for the proposals of drones the
// failure detector reports; then a drone could deliver a message and crash
// before it ever saw another message that the others, without its
// proposal, agree to deliver first. So a drone delivers a message of agreed
// priority a only when every live drone has announced (SETTLED, an
// acknowledgement) that it knows an agreed priority of at least a and
// holds nothing of a lower priority still undecided; see docs/multicast.md
// for the argument. A sender that crashes before its AGREED is delivered
// leaves its message undecided, and the queue behind it waits: liveness
// is promised only while senders live.
type ISIS struct {
	base
	sent     uint32
	agreed   uint32 // A_q: the largest agreed priority seen
	proposed uint32 // P_q: the largest priority proposed
	queue    map[ID]*queued
	early    map[ID]clock.Stamp // AGREED before the message (not expected)
	ballots  map[uint32]*ballot // own messages awaiting proposals
	settled  []clock.Stamp      // latest SETTLED of each member
	mine     clock.Stamp        // this drone's settled priority
	last     clock.Stamp        // agreed priority of the last delivered message
	due      int64              // next SETTLED (0: none)
	// The head of the queue, waiting, is agreed and waits for other
	// drones' SETTLED; ask them again at askDue.
	waiting                    clock.Stamp
	waitSince, askDue, askWait int64
	answered                   int64       // last ask answered
	heldOff                    bool        // askDue was put off for another's ask
	told                       clock.Stamp // mine, as last announced
	byAnswer                   bool        // the last SETTLED that raised one was an answer
	// How long proposals and SETTLED take to come (see estimator).
	proposeRTT, settleRTT estimator
}

type queued struct {
	payload    []byte
	priority   clock.Stamp
	proposal   clock.Stamp // this drone's own proposal
	proposedAt int64
	decided    bool
}

type ballot struct {
	proposals map[algorithms.NodeID]clock.Stamp
	done      bool
	// Once the sender has proposed (at since), it waits for the others
	// until due, then asks those it has not heard from.
	since, due, wait int64
	lastResent       bool // the last proposal heard was a repetition
}

// NewISIS returns the ISIS total order core of drone c.ID.
func NewISIS(c Config) (*ISIS, error) {
	s := &ISIS{queue: map[ID]*queued{}, early: map[ID]clock.Stamp{}, ballots: map[uint32]*ballot{}}
	if err := s.init("isis", c, s); err != nil {
		return nil, err
	}
	s.settled = make([]clock.Stamp, s.n())
	s.proposeRTT = estimator{initial: s.t.stallAfter, floor: s.t.nakRetry, ceiling: 4 * s.t.stallAfter}
	s.settleRTT = s.proposeRTT
	s.answered = -1 << 62
	return s, nil
}

// Broadcast implements Multicast.
func (s *ISIS) Broadcast(payload []byte) (ID, error) {
	b := Tagged{Seq: s.sent + 1, Payload: slices.Clone(payload)}
	if b.Size() > maxBody {
		return ID{}, fmt.Errorf("isis: payload of %d bytes, at most %d fit: %w", len(payload), maxBody-(b.Size()-len(payload)), ErrTooLarge)
	}
	s.sent++
	s.ballots[b.Seq] = &ballot{proposals: map[algorithms.NodeID]clock.Stamp{}}
	if _, err := s.multicast(b); err != nil {
		panic(fmt.Sprintf("isis: %v", err)) // the size was checked above
	}
	return ID{Origin: s.id, Seq: b.Seq}, nil
}

// Step implements algorithms.Core.
func (s *ISIS) Step(from algorithms.NodeID, m algorithms.Message) error {
	switch m := m.(type) {
	case Proposed:
		if err := s.checkMember("isis: PROPOSED", from); err != nil {
			return err
		}
		switch {
		case m.ID.Origin != s.id || m.ID.Seq == 0 || m.ID.Seq > s.sent:
			return fmt.Errorf("isis: PROPOSED from %d for %v, not a message of this drone: %w", from, m.ID, ErrBadMessage)
		case m.Priority.ID != uint16(from):
			return fmt.Errorf("isis: PROPOSED from %d with the priority of %d: %w", from, m.Priority.ID, ErrBadMessage)
		}
		if b := s.ballots[m.ID.Seq]; b != nil && !b.done {
			b.proposals[from] = m.Priority
			b.lastResent = m.Resend
			s.decide(m.ID.Seq)
		}
		s.settle()
		return nil
	case Collect:
		if err := s.checkMember("isis: COLLECT", from); err != nil {
			return err
		}
		for _, id := range m.Ask {
			if err := s.checkMember("isis: COLLECT", id); err != nil {
				return err
			}
		}
		if q := s.queue[ID{Origin: from, Seq: m.Seq}]; q != nil && slices.Contains(m.Ask, s.id) && s.now-q.proposedAt >= s.rto()/2 {
			// A proposal sent a moment ago is most likely still
			// waiting for the channel: it is not repeated yet.
			s.Send(algorithms.To(from), Proposed{ID: ID{Origin: from, Seq: m.Seq}, Priority: q.proposal, Resend: true})
		}
		return nil
	case Settled:
		if err := s.checkMember("isis: SETTLED", from); err != nil {
			return err
		}
		for _, id := range m.Ask {
			if err := s.checkMember("isis: SETTLED", id); err != nil {
				return err
			}
		}
		i := s.index[from]
		if s.settled[i].Less(m.Upto) {
			s.settled[i] = m.Upto
			s.byAnswer = m.Answer
		}
		if slices.Contains(m.Ask, s.id) && s.due == 0 && s.now-s.answered >= s.settleRTT.rto()/2 {
			// Answer at most twice a round trip: many drones ask at once.
			s.answered = s.now
			s.due = s.now + s.t.ackDelay
		}
		if len(m.Ask) > 0 && s.askDue != 0 && !s.heldOff && s.covers(m.Ask) {
			// Everyone hears the answers to an ask of the drones this
			// one waits for: wait for them before asking, once a round.
			s.heldOff = true
			s.askDue = max(s.askDue, s.now+s.settleRTT.rto())
		}
		s.deliver()
		return nil
	}
	return s.stepReliable(from, m)
}

// Tick implements algorithms.Core: the reliable multicast's timers,
// SETTLED, and COLLECT for proposals that have not come.
func (s *ISIS) Tick() {
	s.tick()
	if s.due != 0 && s.now >= s.due {
		s.due = 0
		s.Send(nil, Settled{Upto: s.mine, Answer: s.mine == s.told})
		s.told = s.mine
	}
	if s.askDue != 0 && s.now >= s.askDue {
		s.askWait = s.retry(s.askWait, s.settleRTT.rto())
		s.askDue, s.heldOff = s.now+s.askWait, false
		ask := s.unsettled()
		ask = ask[:min(len(ask), (MaxMessage-Settled{}.Size())/idBytes, maxCount)]
		s.due = 0
		s.Send(nil, Settled{Upto: s.mine, Ask: ask, Answer: s.mine == s.told})
		s.told = s.mine
	}
	for _, seq := range s.sortedBallots() {
		b := s.ballots[seq]
		if b.due == 0 || s.now < b.due {
			continue
		}
		b.wait = s.retry(b.wait, s.proposeRTT.rto())
		b.due = s.now + b.wait
		limit := min((MaxMessage-Collect{}.Size())/idBytes, maxCount)
		var ask []algorithms.NodeID
		for i, m := range s.members {
			if _, ok := b.proposals[m]; !ok && !s.down[i] && len(ask) < limit {
				ask = append(ask, m)
			}
		}
		s.Send(nil, Collect{Seq: seq, Ask: ask})
	}
}

// PeerDown implements algorithms.PeerObserver: the sender stops waiting
// for the crashed drone's proposals.
func (s *ISIS) PeerDown(id algorithms.NodeID) {
	s.peerDown(id)
	for _, seq := range s.sortedBallots() {
		s.decide(seq)
	}
	s.settle()
	s.deliver()
}

func (s *ISIS) validate(origin algorithms.NodeID, b Body) error {
	switch b := b.(type) {
	case Tagged:
		if b.Seq == 0 {
			return fmt.Errorf("message %d.0: %w", origin, ErrBadMessage)
		}
	case Agreed:
		if b.Seq == 0 || !s.member(algorithms.NodeID(b.Priority.ID)) {
			return fmt.Errorf("AGREED %v for %d.%d: %w", b.Priority, origin, b.Seq, ErrBadMessage)
		}
	default:
		return fmt.Errorf("%s body from %d: %w", b.Kind(), origin, ErrBadMessage)
	}
	return nil
}

func (s *ISIS) rdeliver(id ID, b Body) {
	switch b := b.(type) {
	case Tagged:
		mid := ID{Origin: id.Origin, Seq: b.Seq}
		if _, dup := s.queue[mid]; dup {
			return
		}
		s.proposed = max(s.agreed, s.proposed) + 1
		p := clock.Stamp{T: s.proposed, ID: uint16(s.id)}
		q := &queued{payload: b.Payload, priority: p, proposal: p, proposedAt: s.now}
		s.queue[mid] = q
		if a, ok := s.early[mid]; ok {
			delete(s.early, mid)
			s.agree(q, a)
		}
		if id.Origin == s.id {
			if bl := s.ballots[b.Seq]; bl != nil {
				bl.proposals[s.id] = p
				bl.since, bl.due = s.now, s.now+s.proposeRTT.rto()
				s.decide(b.Seq)
			}
		} else if !q.decided {
			s.Send(algorithms.To(id.Origin), Proposed{ID: mid, Priority: p})
		}
	case Agreed:
		mid := ID{Origin: id.Origin, Seq: b.Seq}
		q := s.queue[mid]
		if q == nil {
			s.early[mid] = b.Priority
			return
		}
		s.agree(q, b.Priority)
	}
	s.updateSettled()
	s.deliver()
}

func (s *ISIS) agree(q *queued, a clock.Stamp) {
	q.priority, q.decided = a, true
	s.agreed = max(s.agreed, a.T)
}

// decide: once every live drone has proposed, the sender multicasts the
// largest proposal as the agreed priority.
func (s *ISIS) decide(seq uint32) {
	b := s.ballots[seq]
	if b == nil || b.done {
		return
	}
	for i, m := range s.members {
		if _, ok := b.proposals[m]; !ok && !s.down[i] {
			return
		}
	}
	var a clock.Stamp
	for _, m := range s.members {
		if p, ok := b.proposals[m]; ok && a.Less(p) {
			a = p
		}
	}
	if b.due != 0 && (b.wait == 0 || !b.lastResent) {
		// Karn's rule: a round that ended with a proposal sent only
		// once measures the round trip, even if COLLECT went out
		// (then it went out too early).
		s.proposeRTT.sample(s.now - b.since)
	}
	b.done = true
	delete(s.ballots, seq)
	if _, err := s.multicast(Agreed{Seq: seq, Priority: a}); err != nil {
		panic(fmt.Sprintf("isis: an AGREED does not fit: %v", err))
	}
}

// updateSettled recomputes the largest agreed priority below every
// undecided one, and announces it when it grew.
func (s *ISIS) updateSettled() {
	var low *clock.Stamp
	for _, q := range s.queue {
		if !q.decided && (low == nil || q.priority.Less(*low)) {
			p := q.priority
			low = &p
		}
	}
	best := s.last
	for _, q := range s.queue {
		if q.decided && best.Less(q.priority) && (low == nil || q.priority.Less(*low)) {
			best = q.priority
		}
	}
	if s.mine.Less(best) {
		s.mine = best
		s.settled[s.index[s.id]] = best
		if s.n() > 1 && s.due == 0 {
			s.due = s.now + s.t.ackDelay
		}
	}
}

// deliver delivers the head of the queue while its priority is agreed and
// every live drone has settled past it.
func (s *ISIS) deliver() {
	for {
		var head ID
		var hq *queued
		for id, q := range s.queue {
			if hq == nil || q.priority.Less(hq.priority) {
				head, hq = id, q
			}
		}
		if hq == nil || !hq.decided {
			s.askDue, s.askWait = 0, 0
			return
		}
		for i := range s.members {
			if !s.down[i] && s.settled[i].Less(hq.priority) {
				if s.askDue == 0 || s.waiting != hq.priority {
					s.waiting, s.waitSince, s.heldOff = hq.priority, s.now, false
					rto := s.settleRTT.rto()
					s.askDue, s.askWait = s.now+rto+spreadOf(s.id, hq.priority.T, rto/2), 0
				}
				return
			}
		}
		if s.askDue != 0 && s.waiting == hq.priority && (s.askWait == 0 || !s.byAnswer) {
			// Karn's rule, as for proposals.
			s.settleRTT.sample(s.now - s.waitSince)
		}
		s.askDue, s.askWait = 0, 0
		delete(s.queue, head)
		s.last = hq.priority
		s.Emit(Delivered{ID: head, Payload: hq.payload})
		s.updateSettled()
	}
}

// unsettled lists the live drones whose SETTLED this drone waits for.
func (s *ISIS) unsettled() []algorithms.NodeID {
	var out []algorithms.NodeID
	for i, m := range s.members {
		if !s.down[i] && m != s.id && s.settled[i].Less(s.waiting) {
			out = append(out, m)
		}
	}
	return out
}

// covers reports whether ask names every drone this drone waits for.
func (s *ISIS) covers(ask []algorithms.NodeID) bool {
	for _, m := range s.unsettled() {
		if !slices.Contains(ask, m) {
			return false
		}
	}
	return true
}

func (s *ISIS) sortedBallots() []uint32 {
	seqs := make([]uint32, 0, len(s.ballots))
	for seq := range s.ballots {
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	return seqs
}

var _ Multicast = (*ISIS)(nil)

// spreadOf returns a delay in [0, width) that differs between drones, so
// that drones waiting for the same thing do not all ask at once.
func spreadOf(id algorithms.NodeID, salt uint32, width int64) int64 {
	if width <= 1 {
		return 0
	}
	return int64((uint64(id)*2654435761 + uint64(salt)*97) % uint64(width))
}
