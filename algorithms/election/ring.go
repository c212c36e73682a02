package election

import (
	"fmt"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
)

// RingConfig configures a Ring.
type RingConfig struct {
	// ID is this drone's vehicle ID; it must be one of Members.
	ID algorithms.NodeID
	// Members lists every drone of the group, this one included, in any
	// order. Every drone of the group must be given the same list. A
	// sorted list is kept, not copied (algorithms.Sorted): do not change
	// it afterwards.
	Members []algorithms.NodeID
	// Descending (optional, default false) sends the messages round the
	// ring in descending ID order instead of ascending. It changes only
	// the figures: with everyone initiating, descending order is the
	// textbook's worst case, N(N+1)/2 ELECTION messages, and ascending
	// order costs 2N−1.
	Descending bool
	// AckTimeout (optional, default 3) is how many ticks a drone waits for
	// its successor to acknowledge a forwarded message before it skips the
	// successor and forwards to the next drone.
	AckTimeout int
	// ElectionTimeout (optional, default 4·N·AckTimeout) is how many ticks
	// a participant waits for ELECTED before it gives the election up and
	// campaigns in a new term: a crash can swallow the message that
	// carries the winning ID. It must cover a whole election, 3N−1 hops
	// and a skip per dead drone.
	ElectionTimeout int
	// AutoCampaign (optional, default false) starts an election when the
	// failure detector reports the current leader down (PeerDown), and
	// when the drone has known no leader for ElectionTimeout ticks (at
	// start, or after a restart that nobody answered). Without it the
	// driver decides who calls Campaign.
	AutoCampaign bool
}

// Messages of the ring election.
type (
	// RingElection is Chang and Roberts' ELECTION: it goes round the ring
	// carrying the highest candidate ID seen so far.
	RingElection struct {
		Term      uint32
		Candidate algorithms.NodeID
	}
	// RingElected is Chang and Roberts' ELECTED: it goes round the ring
	// from the new leader, or from a drone that tells a stale sender the
	// current leader.
	RingElected struct {
		Term   uint32
		Leader algorithms.NodeID
	}
	// RingAck acknowledges one ELECTION (or ELECTED, when Elected is set)
	// of Term carrying ID. It is link-level: the textbook figures do not
	// count it.
	RingAck struct {
		Elected bool
		Term    uint32
		ID      algorithms.NodeID
	}
)

// Kind implements algorithms.Message.
func (RingElection) Kind() string { return "ELECTION" }

// Kind implements algorithms.Message.
func (RingElected) Kind() string { return "ELECTED" }

// Kind implements algorithms.Message.
func (RingAck) Kind() string { return "ACK" }

// Size implements algorithms.Message: kind, term, candidate.
func (RingElection) Size() int { return kindBytes + termBytes + idBytes }

// Size implements algorithms.Message: kind, term, leader.
func (RingElected) Size() int { return kindBytes + termBytes + idBytes }

// Size implements algorithms.Message: kind, kind acknowledged, term, ID.
func (RingAck) Size() int { return kindBytes + 1 + termBytes + idBytes }

// Ring is Chang and Roberts' ring election with terms. The drones form a
// ring in ID order; an initiator sends ELECTION with its own ID to its
// successor; a drone forwards the larger of the received ID and its own
// (a drone already taking part drops a smaller one), and a drone that
// receives its own ID is the leader and sends ELECTED round the ring.
//
// Every hop is acknowledged: a successor that does not acknowledge within
// AckTimeout ticks is skipped, and so is a drone the failure detector
// reported down. A drone whose every peer fails to acknowledge keeps
// retrying round the ring; only the failure detector can tell it that it
// is alone, and a drone alone elects itself.
type Ring struct {
	base
	order           []algorithms.NodeID // members in ring order
	pos             int                 // index of this drone in order
	ackTimeout      int
	electionTimeout int

	participant bool
	leaderless  int                        // ticks without a leader in the current term
	noAck       map[algorithms.NodeID]bool // skipped: did not acknowledge in time
	unacked     []pending                  // forwarded, awaiting ACK, in send order
}

// pending is a forwarded message awaiting its ACK.
type pending struct {
	to  algorithms.NodeID
	msg algorithms.Message
	age int
}

var _ Election = (*Ring)(nil)

// NewRing returns the ring election core of drone cfg.ID.
func NewRing(cfg RingConfig, opts ...Option) (*Ring, error) {
	b, err := newBase("ring", cfg.ID, cfg.Members, cfg.AutoCampaign, opts)
	if err != nil {
		return nil, err
	}
	if cfg.AckTimeout < 0 || cfg.ElectionTimeout < 0 {
		return nil, fmt.Errorf("ring: timeouts %d and %d ticks: %w", cfg.AckTimeout, cfg.ElectionTimeout, ErrBadConfig)
	}
	r := &Ring{
		base:            b,
		ackTimeout:      cfg.AckTimeout,
		electionTimeout: cfg.ElectionTimeout,
		noAck:           map[algorithms.NodeID]bool{},
	}
	if r.ackTimeout == 0 {
		r.ackTimeout = 3
	}
	if r.electionTimeout == 0 {
		r.electionTimeout = 4 * len(r.members) * r.ackTimeout
	}
	r.order = slices.Clone(r.members)
	if cfg.Descending {
		slices.Reverse(r.order)
	}
	r.pos = slices.Index(r.order, r.id)
	return r, nil
}

// Campaign implements Election: the drone sends ELECTION with its own ID
// in a new term.
func (r *Ring) Campaign() {
	if r.participant {
		return
	}
	t, ok := r.nextTerm()
	if !ok {
		return
	}
	r.adopt(t)
	r.participate()
	r.forward(RingElection{Term: t, Candidate: r.id})
}

// Follow implements Election: leader leads term, as another protocol
// learned (a composed command log hears the leader's own messages). Nothing
// goes round the ring.
func (r *Ring) Follow(leader algorithms.NodeID, term uint32) {
	if term < r.term || !r.isMember(leader) {
		return
	}
	if term > r.term {
		r.adopt(term)
	}
	if r.decided {
		if leader != r.leader {
			r.conflict(leader)
			r.Campaign()
		}
		return
	}
	r.participant = false
	r.unacked = nil
	r.decide(leader)
	if leader < r.id {
		// This drone was skipped although it is alive: take over.
		r.Campaign()
	}
}

// Leader implements Election.
func (r *Ring) Leader() (algorithms.NodeID, uint32, bool) { return r.leaderInfo() }

// Term implements Election.
func (r *Ring) Term() uint32 { return r.term }

// Participating implements Election: Chang and Roberts' participant mark.
func (r *Ring) Participating() bool { return r.participant }

// Persist implements algorithms.Persister: the bytes hold the term.
func (r *Ring) Persist() []byte { return encodeState(r.term) }

// Step implements algorithms.Core.
func (r *Ring) Step(from algorithms.NodeID, m algorithms.Message) error {
	if err := r.check(from, m); err != nil {
		return err
	}
	delete(r.noAck, from) // it is talking to us
	switch m := m.(type) {
	case RingElection:
		r.Send(algorithms.To(from), RingAck{Term: m.Term, ID: m.Candidate})
		r.stepElection(from, m)
	case RingElected:
		r.Send(algorithms.To(from), RingAck{Elected: true, Term: m.Term, ID: m.Leader})
		r.stepElected(from, m)
	case RingAck:
		r.stepAck(from, m)
	}
	return nil
}

func (r *Ring) check(from algorithms.NodeID, m algorithms.Message) error {
	var named algorithms.NodeID
	switch m := m.(type) {
	case RingElection:
		named = m.Candidate
	case RingElected:
		named = m.Leader
	case RingAck:
		named = m.ID
	default:
		return algorithms.Unknown("ring", m)
	}
	if err := r.checkFrom(from, m); err != nil {
		return err
	}
	return r.checkNamed(from, m, named)
}

func (r *Ring) stepElection(from algorithms.NodeID, m RingElection) {
	switch {
	case m.Term < r.term:
		r.stale(from)
		return
	case m.Term > r.term:
		r.adopt(m.Term)
	}
	c := m.Candidate
	if r.decided {
		// The election of this term is over. A live candidate above the
		// leader was skipped: let it take over in the next term.
		if c > r.leader && !r.suspected(c) {
			r.Campaign()
		}
		return
	}
	switch {
	case c == r.id:
		r.win()
	case c < r.id:
		if r.participant {
			return // a larger candidate is already on its way
		}
		r.participate()
		r.forward(RingElection{Term: r.term, Candidate: r.id})
	case r.suspected(c):
		// A dead candidate never gets its ID back: stand in for it.
		r.participate()
		r.forward(RingElection{Term: r.term, Candidate: r.id})
	default:
		r.participate()
		r.forward(m)
	}
}

func (r *Ring) stepElected(from algorithms.NodeID, m RingElected) {
	switch {
	case m.Term < r.term:
		r.stale(from)
		return
	case m.Term > r.term:
		r.adopt(m.Term)
	}
	if r.decided {
		if m.Leader != r.leader {
			r.conflict(m.Leader)
			r.Campaign()
		}
		return // the leader's ELECTED came back, or a duplicate
	}
	r.participant = false
	r.decide(m.Leader)
	if m.Leader == r.id {
		return
	}
	r.forward(m)
	if m.Leader < r.id {
		// This drone was skipped although it is alive: take over.
		r.Campaign()
	}
}

func (r *Ring) stepAck(from algorithms.NodeID, m RingAck) {
	for i, p := range r.unacked {
		if p.to == from && ackFor(p.msg) == m {
			r.unacked = slices.Delete(r.unacked, i, i+1)
			return
		}
	}
}

func ackFor(m algorithms.Message) RingAck {
	switch m := m.(type) {
	case RingElection:
		return RingAck{Term: m.Term, ID: m.Candidate}
	case RingElected:
		return RingAck{Elected: true, Term: m.Term, ID: m.Leader}
	}
	return RingAck{}
}

// stale answers a message of an older term with the current leader, so
// that its sender moves to the current term.
func (r *Ring) stale(from algorithms.NodeID) {
	if r.decided {
		r.Send(algorithms.To(from), RingElected{Term: r.term, Leader: r.leader})
	}
}

// adopt moves to a higher term. Participation is per term, and so are the
// skips for want of an ACK: a successor that missed one election (its ACK
// lost, or it was restarting) is tried again in the next. The hops of
// older terms are no longer waited for.
func (r *Ring) adopt(t uint32) {
	r.base.adopt(t)
	r.participant = false
	r.leaderless = 0
	clear(r.noAck)
	r.unacked = nil
}

func (r *Ring) participate() {
	if !r.participant {
		r.participant = true
		r.leaderless = 0
		r.begin()
	}
}

func (r *Ring) win() {
	r.participant = false
	r.decide(r.id)
	r.forward(RingElected{Term: r.term, Leader: r.id})
}

// Tick implements algorithms.Core: a successor that has not acknowledged
// a message within AckTimeout ticks is skipped, and a participant that has
// not seen ELECTED within ElectionTimeout ticks campaigns again.
func (r *Ring) Tick() {
	expired := false
	for i := range r.unacked {
		p := &r.unacked[i]
		p.age++
		if p.age >= r.ackTimeout && !r.noAck[p.to] {
			r.noAck[p.to] = true
			expired = true
		}
	}
	if expired {
		r.reroute()
	}
	if !r.decided && (r.participant || r.auto) {
		r.leaderless++
		if r.leaderless >= r.electionTimeout {
			r.participant = false
			r.Campaign()
		}
	}
}

// PeerDown implements algorithms.PeerObserver: the ring skips id, and with
// AutoCampaign a drone whose leader is id starts an election.
func (r *Ring) PeerDown(id algorithms.NodeID) {
	if id == r.id || !r.isMember(id) {
		return
	}
	r.down[id] = true
	r.reroute()
	if r.auto && r.decided && r.leader == id {
		r.Campaign()
	}
}

// PeerUp implements algorithms.PeerObserver: the ring takes id back, sends
// it again what it has not acknowledged, and the leader tells id the
// current term and leader (id takes over if its ID is higher).
func (r *Ring) PeerUp(id algorithms.NodeID) {
	if id == r.id || !r.isMember(id) {
		return
	}
	delete(r.down, id)
	delete(r.noAck, id)
	// What was sent to id while it was unreachable may be lost: send it
	// again rather than skip id when the ACK does not come.
	for i := range r.unacked {
		if p := &r.unacked[i]; p.to == id {
			r.Send(algorithms.To(id), p.msg)
			p.age = 0
		}
	}
	if r.decided && r.leader == r.id {
		r.Send(algorithms.To(id), RingElected{Term: r.term, Leader: r.id})
	}
}

func (r *Ring) suspected(id algorithms.NodeID) bool { return r.down[id] || r.noAck[id] }

// successor returns the next drone round the ring that is neither down
// nor skipped. When every drone that is not down has been skipped, it
// forgives them all and starts again with the nearest one.
func (r *Ring) successor() (algorithms.NodeID, bool) {
	n := len(r.order)
	for i := 1; i < n; i++ {
		if x := r.order[(r.pos+i)%n]; !r.suspected(x) {
			return x, true
		}
	}
	for i := 1; i < n; i++ {
		if x := r.order[(r.pos+i)%n]; !r.down[x] {
			clear(r.noAck)
			return x, true
		}
	}
	return 0, false
}

// forward sends m to the successor and waits for its ACK.
func (r *Ring) forward(m algorithms.Message) {
	next, ok := r.successor()
	if !ok {
		// Every other drone is down: a drone alone elects itself.
		if e, isElection := m.(RingElection); isElection && e.Term == r.term && !r.decided {
			r.win()
		}
		return
	}
	r.Send(algorithms.To(next), m)
	r.unacked = append(r.unacked, pending{to: next, msg: m})
}

// reroute forwards again, in order, every unacknowledged message whose
// destination is now suspected.
func (r *Ring) reroute() {
	var keep, again []pending
	for _, p := range r.unacked {
		if r.suspected(p.to) {
			again = append(again, p)
		} else {
			keep = append(keep, p)
		}
	}
	if len(again) == 0 {
		return
	}
	r.unacked = keep
	for _, p := range again {
		r.forward(p.msg)
	}
}

// Class implements algorithms.Classifier: the ring's acknowledgements are
// link-level and not among the messages the textbook counts.
func (RingAck) Class() algorithms.Class { return algorithms.ClassAck }
