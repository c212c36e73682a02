package mutex

import (
	"fmt"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/clock"
)

// Messages of Maekawa's algorithm with Sanders' deadlock-free rules
// (docs/algorithms.md, "Maekawa's deadlock, and Sanders' rules"). The
// requester's ID, the j of REQUEST(ts, j), is the frame's sender.
type (
	// MaekawaRequest asks the voters of the requester's quorum for a vote
	// on Resource, stamped with the requester's Lamport clock.
	MaekawaRequest struct {
		Resource  Resource
		Timestamp uint32
	}
	// MaekawaYes is a voter's vote for the requester.
	MaekawaYes struct{ Resource Resource }
	// MaekawaInquire asks the voter's current candidate to give the vote
	// back because an earlier request arrived. Timestamp names the
	// candidate's request, so that an INQUIRE that crosses the
	// candidate's RELEASE is not applied to the candidate's next request.
	MaekawaInquire struct {
		Resource  Resource
		Timestamp uint32
	}
	// MaekawaRelinquish gives a vote back in answer to an INQUIRE (also
	// called YIELD).
	MaekawaRelinquish struct{ Resource Resource }
	// MaekawaRelease frees the votes of the requester's quorum when it
	// leaves the critical section.
	MaekawaRelease struct{ Resource Resource }
)

// Kind implements algorithms.Message.
func (MaekawaRequest) Kind() string { return "REQUEST" }

// Kind implements algorithms.Message.
func (MaekawaYes) Kind() string { return "YES" }

// Kind implements algorithms.Message.
func (MaekawaInquire) Kind() string { return "INQUIRE" }

// Kind implements algorithms.Message.
func (MaekawaRelinquish) Kind() string { return "RELINQUISH" }

// Kind implements algorithms.Message.
func (MaekawaRelease) Kind() string { return "RELEASE" }

// Size implements algorithms.Message.
func (MaekawaRequest) Size() int { return kindBytes + resourceBytes + timestampBytes }

// Size implements algorithms.Message.
func (MaekawaYes) Size() int { return kindBytes + resourceBytes }

// Size implements algorithms.Message.
func (MaekawaInquire) Size() int { return kindBytes + resourceBytes + timestampBytes }

// Size implements algorithms.Message.
func (MaekawaRelinquish) Size() int { return kindBytes + resourceBytes }

// Size implements algorithms.Message.
func (MaekawaRelease) Size() int { return kindBytes + resourceBytes }

// Maekawa is Maekawa's voting algorithm with Sanders' rules: a drone
// enters when every member of its quorum has voted for it, and a voter
// votes for one request at a time. Requests are ordered by (Lamport
// timestamp, ID); a voter that has voted and sees an earlier request sends
// its candidate one INQUIRE (at most one outstanding), and a candidate that
// is still collecting votes gives the vote back with RELINQUISH. That makes
// it free of deadlock and starvation (ME1, ME2) but not ordered (no ME3).
//
// REQUEST and RELEASE are one frame each, addressed to the quorum members
// other than the drone, and the drone's vote for itself is free. Without
// contention an entry and exit cost 3(K−1) messages in K+1 frames, K the
// size of the requester's quorum including itself.
type Maekawa struct {
	algorithms.Outbox
	id      algorithms.NodeID
	quorums Quorums
	// quorum is the drone's own quorum, others the same without the
	// drone; selfVote is whether the drone votes for itself.
	quorum, others []algorithms.NodeID
	selfVote       bool
	clock          clock.Lamport
	req            map[Resource]*maekawaRequest
	voter          map[Resource]*maekawaVoter
}

// maekawaRequest is the drone's own request for one resource.
type maekawaRequest struct {
	state clientState
	stamp clock.Stamp
	votes map[algorithms.NodeID]bool
}

// maekawaVoter is the drone's voter state for one resource, present while
// it has voted.
type maekawaVoter struct {
	candidate clock.Stamp
	inquired  bool
	queue     []clock.Stamp // sorted by (T, ID)
}

var (
	_ Mutex                   = (*Maekawa)(nil)
	_ algorithms.PeerObserver = (*Maekawa)(nil)
)

// NewMaekawa returns the core of drone id, with quorums giving every
// member's quorum (Best, Grid, ProjectivePlane or a hand-made table). The
// map is shared, not copied: every core of a group may use the same one.
// It panics if id has no quorum, a configuration error.
func NewMaekawa(id algorithms.NodeID, quorums Quorums) *Maekawa {
	own, ok := quorums[id]
	if !ok || len(own) == 0 {
		panic(fmt.Sprintf("mutex: NewMaekawa: drone %d has no quorum", id))
	}
	quorum := normalizeIDs(own)
	return &Maekawa{
		id:       id,
		quorums:  quorums,
		quorum:   quorum,
		others:   removeID(slices.Clone(quorum), id),
		selfVote: slices.Contains(quorum, id),
		req:      map[Resource]*maekawaRequest{},
		voter:    map[Resource]*maekawaVoter{},
	}
}

// Quorum returns the drone's own quorum, itself included when it votes.
func (m *Maekawa) Quorum() []algorithms.NodeID { return slices.Clone(m.quorum) }

// Request implements Mutex.
func (m *Maekawa) Request(r Resource) error {
	if m.req[r] != nil {
		return fmt.Errorf("maekawa: request %d: %w", r, ErrBusy)
	}
	q := &maekawaRequest{
		state: wanted,
		stamp: clock.Stamp{T: m.clock.Tick(), ID: uint16(m.id)},
		votes: make(map[algorithms.NodeID]bool, len(m.quorum)),
	}
	m.req[r] = q
	if len(m.others) > 0 {
		m.Send(algorithms.To(m.others...), MaekawaRequest{Resource: r, Timestamp: q.stamp.T})
	}
	if m.selfVote {
		m.voterRequest(r, q.stamp)
	}
	return nil
}

// Release implements Mutex.
func (m *Maekawa) Release(r Resource) error {
	q := m.req[r]
	if q == nil || q.state != held {
		return fmt.Errorf("maekawa: release %d: %w", r, ErrNotHeld)
	}
	delete(m.req, r)
	if len(m.others) > 0 {
		m.Send(algorithms.To(m.others...), MaekawaRelease{Resource: r})
	}
	if m.selfVote {
		m.voterFree(r)
	}
	return nil
}

// Step implements algorithms.Core. Every check comes before any change, so
// a rejected message leaves the state as it was.
func (m *Maekawa) Step(from algorithms.NodeID, msg algorithms.Message) error {
	if from == m.id {
		return fmt.Errorf("maekawa: %s from the drone itself", kindOf(msg))
	}
	switch msg := msg.(type) {
	case MaekawaRequest:
		if !slices.Contains(m.quorums[from], m.id) {
			return fmt.Errorf("maekawa: REQUEST of %d from %d, whose quorum does not include this drone", msg.Resource, from)
		}
		if v := m.voter[msg.Resource]; v != nil && (v.candidate.ID == uint16(from) || slices.ContainsFunc(v.queue, func(s clock.Stamp) bool { return s.ID == uint16(from) })) {
			return fmt.Errorf("maekawa: second REQUEST of %d from %d before its RELEASE", msg.Resource, from)
		}
		m.clock.Witness(msg.Timestamp)
		m.voterRequest(msg.Resource, clock.Stamp{T: msg.Timestamp, ID: uint16(from)})
	case MaekawaYes:
		q := m.req[msg.Resource]
		if !m.inQuorum(from) || q == nil || q.state != wanted || q.votes[from] {
			return fmt.Errorf("maekawa: unexpected YES for %d from %d", msg.Resource, from)
		}
		m.yes(msg.Resource, from)
	case MaekawaInquire:
		if !m.inQuorum(from) {
			return fmt.Errorf("maekawa: INQUIRE for %d from %d, which is not in this drone's quorum", msg.Resource, from)
		}
		q := m.req[msg.Resource]
		if q != nil && q.state == wanted && q.stamp.T == msg.Timestamp && !q.votes[from] {
			return fmt.Errorf("maekawa: INQUIRE for %d from %d, whose vote this drone does not hold", msg.Resource, from)
		}
		m.inquire(msg.Resource, from, msg.Timestamp)
	case MaekawaRelinquish:
		v := m.voter[msg.Resource]
		if v == nil || v.candidate.ID != uint16(from) || !v.inquired {
			return fmt.Errorf("maekawa: RELINQUISH of %d from %d, which was not asked for its vote", msg.Resource, from)
		}
		m.voterRelinquish(msg.Resource)
	case MaekawaRelease:
		v := m.voter[msg.Resource]
		if v == nil || v.candidate.ID != uint16(from) {
			return fmt.Errorf("maekawa: RELEASE of %d from %d, which does not hold this drone's vote", msg.Resource, from)
		}
		m.voterFree(msg.Resource)
	default:
		return algorithms.Unknown("maekawa", msg)
	}
	return nil
}

// Tick implements algorithms.Core; Maekawa's algorithm has no timers.
func (m *Maekawa) Tick() {}

// PeerDown implements algorithms.PeerObserver on the voter side: the dead
// drone's queued requests are dropped and a vote it holds is given to the
// next request, as if it had released (the textbook leaves failures open;
// the swarm uses leases). A request of this drone whose quorum contains
// the dead drone waits until it comes back: quorums are not rebuilt here.
func (m *Maekawa) PeerDown(id algorithms.NodeID) {
	if id == m.id {
		return
	}
	for _, r := range sortedResources(m.voter) {
		v := m.voter[r]
		v.queue = slices.DeleteFunc(v.queue, func(s clock.Stamp) bool { return s.ID == uint16(id) })
		if v.candidate.ID == uint16(id) {
			m.voterFree(r)
		}
	}
}

// PeerUp implements algorithms.PeerObserver; nothing to restore.
func (m *Maekawa) PeerUp(algorithms.NodeID) {}

func (m *Maekawa) inQuorum(id algorithms.NodeID) bool {
	_, found := slices.BinarySearch(m.quorum, id)
	return found
}

// Requester side.

// yes counts a vote; the last one enters the critical section.
func (m *Maekawa) yes(r Resource, voter algorithms.NodeID) {
	q := m.req[r]
	q.votes[voter] = true
	if len(q.votes) == len(m.quorum) {
		q.state = held
		m.Emit(Granted{Resource: r})
	}
}

// inquire answers a voter's INQUIRE: give the vote back while still
// collecting votes for the inquired request; ignore it in the critical
// section (RELEASE will follow) or when it names an earlier request.
func (m *Maekawa) inquire(r Resource, voter algorithms.NodeID, ts uint32) {
	q := m.req[r]
	if q == nil || q.state != wanted || q.stamp.T != ts {
		return
	}
	delete(q.votes, voter)
	if voter == m.id {
		m.voterRelinquish(r)
		return
	}
	m.Send(algorithms.To(voter), MaekawaRelinquish{Resource: r})
}

// Voter side.

// voterRequest applies REQUEST(ts, j): vote if free; otherwise queue it and
// inquire the candidate if the request is earlier and no INQUIRE is out.
func (m *Maekawa) voterRequest(r Resource, s clock.Stamp) {
	v := m.voter[r]
	if v == nil {
		m.vote(r, s, nil)
		return
	}
	i, _ := slices.BinarySearchFunc(v.queue, s, clock.Stamp.Compare)
	v.queue = slices.Insert(v.queue, i, s)
	if s.Less(v.candidate) && !v.inquired {
		v.inquired = true
		to := algorithms.NodeID(v.candidate.ID)
		if to == m.id {
			m.inquire(r, to, v.candidate.T)
			return
		}
		m.Send(algorithms.To(to), MaekawaInquire{Resource: r, Timestamp: v.candidate.T})
	}
}

// voterRelinquish takes the candidate's vote back: it rejoins the queue and
// the earliest queued request gets the vote.
func (m *Maekawa) voterRelinquish(r Resource) {
	v := m.voter[r]
	i, _ := slices.BinarySearchFunc(v.queue, v.candidate, clock.Stamp.Compare)
	v.queue = slices.Insert(v.queue, i, v.candidate)
	m.voterFree(r)
}

// voterFree ends the current vote: the earliest queued request gets the
// vote, or the voter becomes free.
func (m *Maekawa) voterFree(r Resource) {
	v := m.voter[r]
	if len(v.queue) == 0 {
		delete(m.voter, r)
		return
	}
	next := v.queue[0]
	m.vote(r, next, v.queue[1:])
}

// vote gives the vote for r to s, with queue as what remains waiting.
func (m *Maekawa) vote(r Resource, s clock.Stamp, queue []clock.Stamp) {
	m.voter[r] = &maekawaVoter{candidate: s, queue: queue}
	to := algorithms.NodeID(s.ID)
	if to == m.id {
		m.yes(r, to)
		return
	}
	m.Send(algorithms.To(to), MaekawaYes{Resource: r})
}

func kindOf(m algorithms.Message) string {
	if m == nil {
		return "<nil>"
	}
	return m.Kind()
}
