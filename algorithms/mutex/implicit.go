package mutex

import (
	"fmt"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/clock"
)

// Messages of ImplicitMaekawa. Every one names the request it is about by
// its Lamport timestamp TS (the requester's ID is the frame's sender, or
// its destination for a voter's messages), and those about a vote by the
// voter's grant number, so that a late copy of an earlier message is
// recognised and ignored. They go out as plain radio frames
// (algorithms.Unreliable): the protocol's own answers acknowledge them.
// again marks a repeat (Class ClassRetransmission); it is not on air.
type (
	// ImplicitRequest asks the voters of the requester's quorum for a
	// vote on Resource; one frame to the whole quorum.
	ImplicitRequest struct {
		Resource Resource
		TS       uint32
		again    bool
	}
	// ImplicitYes is vote Grant for request TS. It acknowledges the
	// REQUEST; repeated, it asks a holder whose RELEASE may have been lost
	// whether it still uses the vote.
	ImplicitYes struct {
		Resource Resource
		TS       uint32
		Grant    uint32
		again    bool
	}
	// ImplicitInquire asks the candidate to give vote Grant back.
	ImplicitInquire struct {
		Resource Resource
		TS       uint32
		Grant    uint32
		again    bool
	}
	// ImplicitRelinquish gives vote Grant back.
	ImplicitRelinquish struct {
		Resource Resource
		TS       uint32
		Grant    uint32
		again    bool
	}
	// ImplicitQueued tells a requester that repeated its REQUEST that
	// the voter has it queued behind its current vote (Maekawa's FAILED,
	// sent only in answer to a repeat): the requester stops repeating it
	// often. It only acknowledges (Class ClassAck).
	ImplicitQueued struct {
		Resource Resource
		TS       uint32
	}
	// ImplicitRelease frees the votes of request TS; one frame to the
	// whole quorum.
	ImplicitRelease struct {
		Resource Resource
		TS       uint32
		again    bool
	}
)

// Kind implements algorithms.Message.
func (ImplicitRequest) Kind() string { return "REQUEST" }

// Kind implements algorithms.Message.
func (ImplicitYes) Kind() string { return "YES" }

// Kind implements algorithms.Message.
func (ImplicitInquire) Kind() string { return "INQUIRE" }

// Kind implements algorithms.Message.
func (ImplicitRelinquish) Kind() string { return "RELINQUISH" }

// Kind implements algorithms.Message.
func (ImplicitRelease) Kind() string { return "RELEASE" }

// Kind implements algorithms.Message.
func (ImplicitQueued) Kind() string { return "FAILED" }

// Size implements algorithms.Message.
func (ImplicitQueued) Size() int { return kindBytes + resourceBytes + timestampBytes }

// Unreliable implements algorithms.Unreliable.
func (ImplicitQueued) Unreliable() {}

// Class implements algorithms.Classifier: an acknowledgement.
func (ImplicitQueued) Class() algorithms.Class { return algorithms.ClassAck }

// Size implements algorithms.Message.
func (ImplicitRequest) Size() int { return kindBytes + resourceBytes + timestampBytes }

// Size implements algorithms.Message.
func (ImplicitYes) Size() int { return kindBytes + resourceBytes + 2*timestampBytes }

// Size implements algorithms.Message.
func (ImplicitInquire) Size() int { return kindBytes + resourceBytes + 2*timestampBytes }

// Size implements algorithms.Message.
func (ImplicitRelinquish) Size() int { return kindBytes + resourceBytes + 2*timestampBytes }

// Size implements algorithms.Message.
func (ImplicitRelease) Size() int { return kindBytes + resourceBytes + timestampBytes }

// Unreliable implements algorithms.Unreliable.
func (ImplicitRequest) Unreliable() {}

// Unreliable implements algorithms.Unreliable.
func (ImplicitYes) Unreliable() {}

// Unreliable implements algorithms.Unreliable.
func (ImplicitInquire) Unreliable() {}

// Unreliable implements algorithms.Unreliable.
func (ImplicitRelinquish) Unreliable() {}

// Unreliable implements algorithms.Unreliable.
func (ImplicitRelease) Unreliable() {}

func classOf(again bool) algorithms.Class {
	if again {
		return algorithms.ClassRetransmission
	}
	return algorithms.ClassData
}

// Class implements algorithms.Classifier: a repeat is a retransmission.
func (m ImplicitRequest) Class() algorithms.Class { return classOf(m.again) }

// Class implements algorithms.Classifier.
func (m ImplicitYes) Class() algorithms.Class { return classOf(m.again) }

// Class implements algorithms.Classifier.
func (m ImplicitInquire) Class() algorithms.Class { return classOf(m.again) }

// Class implements algorithms.Classifier.
func (m ImplicitRelinquish) Class() algorithms.Class { return classOf(m.again) }

// Class implements algorithms.Classifier.
func (m ImplicitRelease) Class() algorithms.Class { return classOf(m.again) }

// ImplicitConfig sets the retransmission timers of ImplicitMaekawa, in
// ticks.
type ImplicitConfig struct {
	// RetryTicks is how long a requester waits at least after its
	// REQUEST (or its last new vote), plus PerVoterTicks for each voter
	// it still waits for, before it asks the voters it has no vote from
	// again, and how long a voter waits before it repeats an INQUIRE;
	// twice the measured round trip when that is longer. Each repeat
	// doubles the wait, up to MaxRetryTicks. Default 25.
	RetryTicks int64
	// PerVoterTicks is the time one answer takes on the channel, in
	// ticks. Default 1.
	PerVoterTicks int64
	// MaxRetryTicks caps the doubling. Default 4 × RetryTicks.
	MaxRetryTicks int64
	// AskTicks caps the doubling of a voter's questions to its candidate
	// (whether it still uses the vote). Default 8 × MaxRetryTicks.
	AskTicks int64
	// IdleTicks is when a requester first asks again a voter that has
	// told it its request waits in the queue, doubling after: only a
	// safety net, since such a voter repeats the vote it gives it.
	// Default 4 × AskTicks.
	IdleTicks int64
}

// ImplicitMaekawa is Maekawa's algorithm with Sanders' rules, like
// Maekawa, but over plain radio frames, with no acknowledgement frames:
// the protocol's own answers are its acknowledgements.
//
//   - REQUEST goes as one frame to the quorum; each voter's YES
//     acknowledges it. A requester that lacks votes a round trip after its
//     last new one (RetryTicks, or twice the measured round trip, plus
//     PerVoterTicks per vote still missing) sends the REQUEST again, in
//     one frame, to the voters it lacks; a voter answers a repeated
//     REQUEST it has voted for with its YES again, and one it has queued
//     with FAILED (ImplicitQueued), after which the requester asks that
//     voter again only after IdleTicks, doubling.
//   - RELEASE goes as one frame to the quorum and is never acknowledged.
//     A voter that lost it learns it from the requester's next REQUEST
//     (a later timestamp from the same drone ends the earlier request), or,
//     when another request waits for its vote, by repeating its YES to the
//     candidate once the vote has had the time to be used, doubling up to
//     AskTicks: a drone that gets a vote for a request it has finished
//     answers with the RELEASE again, one in the critical section ignores
//     it. A vote given to a request that waited in the queue is repeated
//     the same way, since that requester no longer asks.
//   - INQUIRE is repeated until the RELINQUISH (or a RELEASE) comes; a
//     RELINQUISH is sent again for every INQUIRE of a vote already given
//     back.
//
// Grant numbers tell a voter's successive votes apart, so that a late YES
// is never counted after its vote was given back, and a voter remembers
// the latest finished request of each requester, so that a late REQUEST
// is not taken for a new one. Without loss, an uncontended entry and exit
// cost 3(K−1) messages in K+1 frames and no other frame: one REQUEST,
// K−1 YES, one RELEASE, K the size of the requester's quorum including
// itself. Messages may be lost, duplicated and reordered.
type ImplicitMaekawa struct {
	algorithms.Outbox
	id      algorithms.NodeID
	quorums Quorums
	cfg     ImplicitConfig
	quorum  []algorithms.NodeID
	others  []algorithms.NodeID
	self    bool
	clock   clock.Lamport
	now     int64
	// srtt is the smoothed time from a REQUEST to its YES, in ticks
	// (0 until measured): the channel's queue, which a busy channel
	// makes long, is in it, so repeats wait for what is on its way.
	srtt  int64
	req   map[Resource]*implicitRequest
	voter map[Resource]*implicitVoter
}

type implicitRequest struct {
	state  clientState
	stamp  clock.Stamp
	votes  map[algorithms.NodeID]uint32 // grant held, by voter
	seen   map[algorithms.NodeID]uint32 // highest grant seen, by voter
	queued map[algorithms.NodeID]bool   // voters known to queue the request
	retry  int64                        // next repeat to the other voters
	wait   int64                        // current backoff
	idle   int64                        // next repeat to the queueing voters
	sent   int64                        // when the REQUEST was first sent
	again  bool                         // the REQUEST was repeated
	// idleWait doubles: a voter that queued the request repeats its
	// vote when it gives it, so this repeat is only a safety net.
	idleWait int64
}

type implicitVoter struct {
	voting    bool
	candidate clock.Stamp
	grant     uint32 // the candidate's grant; grows with every vote
	inquired  bool
	inquireAt int64
	inquireRT int64
	votedAt   int64
	probeAt   int64
	probeRT   int64
	waited    bool              // the candidate's request waited in the queue
	queue     []clock.Stamp     // sorted by (T, ID)
	done      map[uint16]uint32 // latest finished request, by requester
}

var (
	_ Mutex                   = (*ImplicitMaekawa)(nil)
	_ algorithms.PeerObserver = (*ImplicitMaekawa)(nil)
)

// NewImplicitMaekawa returns the core of drone id, with quorums as for
// NewMaekawa. It panics if id has no quorum, a configuration error.
func NewImplicitMaekawa(id algorithms.NodeID, quorums Quorums, cfg ImplicitConfig) *ImplicitMaekawa {
	own, ok := quorums[id]
	if !ok || len(own) == 0 {
		panic(fmt.Sprintf("mutex: NewImplicitMaekawa: drone %d has no quorum", id))
	}
	if cfg.RetryTicks <= 0 {
		cfg.RetryTicks = 25
	}
	if cfg.PerVoterTicks <= 0 {
		cfg.PerVoterTicks = 1
	}
	if cfg.MaxRetryTicks < cfg.RetryTicks {
		cfg.MaxRetryTicks = 4 * cfg.RetryTicks
	}
	if cfg.AskTicks < cfg.MaxRetryTicks {
		cfg.AskTicks = 8 * cfg.MaxRetryTicks
	}
	if cfg.IdleTicks < cfg.AskTicks {
		cfg.IdleTicks = 4 * cfg.AskTicks
	}
	quorum := normalizeIDs(own)
	return &ImplicitMaekawa{
		id:      id,
		quorums: quorums,
		cfg:     cfg,
		quorum:  quorum,
		others:  removeID(slices.Clone(quorum), id),
		self:    slices.Contains(quorum, id),
		req:     map[Resource]*implicitRequest{},
		voter:   map[Resource]*implicitVoter{},
	}
}

// Quorum returns the drone's own quorum, itself included when it votes.
func (m *ImplicitMaekawa) Quorum() []algorithms.NodeID { return slices.Clone(m.quorum) }

// Request implements Mutex.
func (m *ImplicitMaekawa) Request(r Resource) error {
	if m.req[r] != nil {
		return fmt.Errorf("maekawa: request %d: %w", r, ErrBusy)
	}
	q := &implicitRequest{
		state:    wanted,
		stamp:    clock.Stamp{T: m.clock.Tick(), ID: uint16(m.id)},
		votes:    make(map[algorithms.NodeID]uint32, len(m.quorum)),
		seen:     make(map[algorithms.NodeID]uint32, len(m.quorum)),
		queued:   map[algorithms.NodeID]bool{},
		wait:     m.retryTicks(),
		sent:     m.now,
		idle:     m.now + m.cfg.IdleTicks,
		idleWait: m.cfg.IdleTicks,
	}
	q.retry = m.now + q.wait + m.cfg.PerVoterTicks*int64(len(m.others))
	m.req[r] = q
	if len(m.others) > 0 {
		m.Send(algorithms.To(m.others...), ImplicitRequest{Resource: r, TS: q.stamp.T})
	}
	if m.self {
		m.voterRequest(r, q.stamp)
	}
	m.checkEntry(r)
	return nil
}

// Release implements Mutex.
func (m *ImplicitMaekawa) Release(r Resource) error {
	q := m.req[r]
	if q == nil || q.state != held {
		return fmt.Errorf("maekawa: release %d: %w", r, ErrNotHeld)
	}
	delete(m.req, r)
	if len(m.others) > 0 {
		m.Send(algorithms.To(m.others...), ImplicitRelease{Resource: r, TS: q.stamp.T})
	}
	if m.self {
		m.voterRelease(r, m.id, q.stamp.T)
	}
	return nil
}

// Step implements algorithms.Core. Late, repeated and stale messages are
// expected on plain frames and ignored without an error.
func (m *ImplicitMaekawa) Step(from algorithms.NodeID, msg algorithms.Message) error {
	if from == m.id {
		return fmt.Errorf("maekawa: %s from the drone itself", kindOf(msg))
	}
	switch msg := msg.(type) {
	case ImplicitRequest:
		if !slices.Contains(m.quorums[from], m.id) {
			return fmt.Errorf("maekawa: REQUEST of %d from %d, whose quorum does not include this drone", msg.Resource, from)
		}
		m.clock.Witness(msg.TS)
		m.voterRequest(msg.Resource, clock.Stamp{T: msg.TS, ID: uint16(from)})
	case ImplicitRelease:
		m.voterRelease(msg.Resource, from, msg.TS)
	case ImplicitRelinquish:
		m.voterRelinquish(msg.Resource, from, msg.TS, msg.Grant)
	case ImplicitYes:
		if !m.inQuorum(from) {
			return fmt.Errorf("maekawa: YES for %d from %d, which is not in this drone's quorum", msg.Resource, from)
		}
		m.yes(msg.Resource, from, msg.TS, msg.Grant)
	case ImplicitQueued:
		if q := m.req[msg.Resource]; q != nil && q.state == wanted && q.stamp.T == msg.TS && m.inQuorum(from) {
			if _, voted := q.votes[from]; !voted {
				q.queued[from] = true
			}
		}
	case ImplicitInquire:
		if !m.inQuorum(from) {
			return fmt.Errorf("maekawa: INQUIRE for %d from %d, which is not in this drone's quorum", msg.Resource, from)
		}
		m.inquire(msg.Resource, from, msg.TS, msg.Grant)
	default:
		return algorithms.Unknown("maekawa", msg)
	}
	return nil
}

// Tick implements algorithms.Core: the repeats.
func (m *ImplicitMaekawa) Tick() {
	m.now++
	for _, r := range sortedResources(m.req) {
		q := m.req[r]
		if q.state != wanted {
			continue
		}
		fast, idle := m.now >= q.retry, m.now >= q.idle
		if !fast && !idle {
			continue
		}
		var missing []algorithms.NodeID
		for _, v := range m.others {
			if _, ok := q.votes[v]; !ok && (idle || !q.queued[v]) {
				missing = append(missing, v)
			}
		}
		if len(missing) > 0 {
			m.Send(missing, ImplicitRequest{Resource: r, TS: q.stamp.T, again: true})
			q.again = true
		}
		if idle {
			q.idleWait *= 2
			q.idle = m.now + q.idleWait
		}
		if fast {
			q.wait = min(2*q.wait, max(m.cfg.MaxRetryTicks, 4*m.retryTicks()))
			q.retry = m.now + q.wait + m.cfg.PerVoterTicks*int64(len(missing))
		}
	}
	for _, r := range sortedResources(m.voter) {
		v := m.voter[r]
		if !v.voting || v.candidate.ID == uint16(m.id) {
			continue
		}
		to := algorithms.NodeID(v.candidate.ID)
		if v.inquired && m.now >= v.inquireAt {
			m.Send(algorithms.To(to), ImplicitInquire{Resource: r, TS: v.candidate.T, Grant: v.grant, again: true})
			v.inquireRT = min(2*v.inquireRT, m.cfg.MaxRetryTicks)
			v.inquireAt = m.now + v.inquireRT
		}
		if (len(v.queue) > 0 || v.waited) && m.now >= v.probeAt {
			m.probe(r, v)
		}
	}
}

// PeerDown implements algorithms.PeerObserver as Maekawa does: the dead
// drone's queued requests are dropped and its vote goes to the next.
func (m *ImplicitMaekawa) PeerDown(id algorithms.NodeID) {
	if id == m.id {
		return
	}
	for _, r := range sortedResources(m.voter) {
		v := m.voter[r]
		v.queue = slices.DeleteFunc(v.queue, func(s clock.Stamp) bool { return s.ID == uint16(id) })
		if v.voting && v.candidate.ID == uint16(id) {
			m.voterFree(r)
		}
	}
}

// PeerUp implements algorithms.PeerObserver: a drone that comes back may
// have restarted and count its timestamps from the start again.
func (m *ImplicitMaekawa) PeerUp(id algorithms.NodeID) {
	for _, v := range m.voter {
		delete(v.done, uint16(id))
	}
}

func (m *ImplicitMaekawa) inQuorum(id algorithms.NodeID) bool {
	_, found := slices.BinarySearch(m.quorum, id)
	return found
}

// Requester side.

// yes counts vote grant of voter for request ts; a vote for a request
// that is over is answered with its RELEASE.
func (m *ImplicitMaekawa) yes(r Resource, voter algorithms.NodeID, ts, grant uint32) {
	q := m.req[r]
	if q == nil || q.stamp.T != ts {
		if q == nil || ts < q.stamp.T {
			m.release(r, voter, ts)
		}
		return
	}
	if grant <= q.seen[voter] {
		return // a repeat, or a vote given back already
	}
	q.seen[voter] = grant
	q.votes[voter] = grant
	delete(q.queued, voter)
	if !q.again && voter != m.id {
		// Karn's rule: only answers to a REQUEST sent once are timed.
		sample := m.now - q.sent
		if m.srtt == 0 {
			m.srtt = sample
		} else {
			m.srtt += (sample - m.srtt) / 8
		}
	}
	if q.state == wanted {
		// Progress: the next repeat waits for the answers still to come,
		// but the backoff is kept, so that a request queued behind others
		// for long repeats itself rarely.
		q.retry = max(q.retry, m.now+m.retryTicks()+m.cfg.PerVoterTicks*int64(len(m.quorum)-len(q.votes)))
		m.checkEntry(r)
	}
}

// checkEntry enters the critical section once every vote is in.
func (m *ImplicitMaekawa) checkEntry(r Resource) {
	q := m.req[r]
	if q != nil && q.state == wanted && len(q.votes) == len(m.quorum) {
		q.state = held
		m.Emit(Granted{Resource: r})
	}
}

// inquire answers INQUIRE for vote grant: give it back while still
// collecting votes for request ts (again if it was given back already);
// ignore it in the critical section; answer with the RELEASE when the
// request is over.
func (m *ImplicitMaekawa) inquire(r Resource, voter algorithms.NodeID, ts, grant uint32) {
	q := m.req[r]
	if q == nil || ts < q.stamp.T {
		m.release(r, voter, ts)
		return
	}
	if ts != q.stamp.T || q.state != wanted {
		return
	}
	if q.votes[voter] == grant {
		delete(q.votes, voter)
		q.queued[voter] = true // the voter queues the request again
	}
	q.seen[voter] = max(q.seen[voter], grant)
	if voter == m.id {
		m.voterRelinquish(r, m.id, ts, grant)
		return
	}
	m.Send(algorithms.To(voter), ImplicitRelinquish{Resource: r, TS: ts, Grant: grant})
}

// release repeats the RELEASE of request ts to one voter.
func (m *ImplicitMaekawa) release(r Resource, voter algorithms.NodeID, ts uint32) {
	if voter == m.id {
		m.voterRelease(r, m.id, ts)
		return
	}
	m.Send(algorithms.To(voter), ImplicitRelease{Resource: r, TS: ts, again: true})
}

// Voter side.

func (m *ImplicitMaekawa) voterOf(r Resource) *implicitVoter {
	v := m.voter[r]
	if v == nil {
		v = &implicitVoter{done: map[uint16]uint32{}}
		m.voter[r] = v
	}
	return v
}

// voterRequest applies REQUEST(ts, j), new or repeated.
func (m *ImplicitMaekawa) voterRequest(r Resource, s clock.Stamp) {
	v := m.voterOf(r)
	if s.T <= v.done[s.ID] {
		return // a late copy of a finished request
	}
	if v.voting && v.candidate.ID == s.ID {
		switch {
		case v.candidate.T == s.T:
			// The YES was lost: send it again.
			m.sendYes(r, v, true)
			return
		case v.candidate.T > s.T:
			return
		}
		// A later request of the candidate ends its earlier one: its
		// RELEASE was lost.
		v.done[s.ID] = v.candidate.T
		m.voterFree(r)
	}
	if i := slices.IndexFunc(v.queue, func(q clock.Stamp) bool { return q.ID == s.ID }); i >= 0 {
		if v.queue[i].T > s.T {
			return
		}
		if v.queue[i].T == s.T {
			// Queued already: say so.
			if s.ID != uint16(m.id) {
				m.Send(algorithms.To(algorithms.NodeID(s.ID)), ImplicitQueued{Resource: r, TS: s.T})
			}
			return
		}
		v.done[s.ID] = v.queue[i].T
		v.queue = slices.Delete(v.queue, i, i+1)
	}
	if !v.voting {
		m.vote(r, s)
		return
	}
	i, _ := slices.BinarySearchFunc(v.queue, s, clock.Stamp.Compare)
	v.queue = slices.Insert(v.queue, i, s)
	if len(v.queue) == 1 {
		// The first request to wait for the vote: ask the candidate at
		// once if it has had the time to use the vote and give it back.
		v.probeAt = max(v.votedAt+m.useTicks(v.candidate), m.now)
	}
	if s.Less(v.candidate) && !v.inquired {
		v.inquired = true
		v.inquireRT = m.retryTicks()
		v.inquireAt = m.now + v.inquireRT
		to := algorithms.NodeID(v.candidate.ID)
		if to == m.id {
			m.inquire(r, to, v.candidate.T, v.grant)
			return
		}
		m.Send(algorithms.To(to), ImplicitInquire{Resource: r, TS: v.candidate.T, Grant: v.grant})
	}
}

// voterRelease applies RELEASE(ts) of requester from.
func (m *ImplicitMaekawa) voterRelease(r Resource, from algorithms.NodeID, ts uint32) {
	v := m.voterOf(r)
	if ts <= v.done[uint16(from)] {
		return
	}
	v.done[uint16(from)] = ts
	v.queue = slices.DeleteFunc(v.queue, func(s clock.Stamp) bool { return s.ID == uint16(from) && s.T <= ts })
	if v.voting && v.candidate.ID == uint16(from) && v.candidate.T <= ts {
		m.voterFree(r)
	}
}

// voterRelinquish takes vote grant back from the candidate in answer to
// the INQUIRE; the candidate rejoins the queue.
func (m *ImplicitMaekawa) voterRelinquish(r Resource, from algorithms.NodeID, ts, grant uint32) {
	v := m.voter[r]
	if v == nil || !v.voting || !v.inquired || v.candidate != (clock.Stamp{T: ts, ID: uint16(from)}) || v.grant != grant {
		return
	}
	i, _ := slices.BinarySearchFunc(v.queue, v.candidate, clock.Stamp.Compare)
	v.queue = slices.Insert(v.queue, i, v.candidate)
	m.voterFree(r)
}

// voterFree ends the current vote: the earliest queued request gets the
// next one.
func (m *ImplicitMaekawa) voterFree(r Resource) {
	v := m.voter[r]
	v.voting, v.inquired = false, false
	if len(v.queue) == 0 {
		return
	}
	next := v.queue[0]
	v.queue = slices.Delete(v.queue, 0, 1)
	m.vote(r, next)
	// The requester may rely on this voter and not repeat its REQUEST:
	// the vote is repeated until the candidate is heard of.
	v.waited = true
}

// vote gives a new vote for r to s.
func (m *ImplicitMaekawa) vote(r Resource, s clock.Stamp) {
	v := m.voter[r]
	v.voting, v.inquired, v.waited = true, false, false
	v.candidate = s
	v.grant++
	v.votedAt = m.now
	v.probeRT = 2 * m.retryTicks()
	v.probeAt = m.now + m.useTicks(s)
	m.sendYes(r, v, false)
}

// probe repeats the vote to the candidate, to learn whether it still
// uses it: one that is done answers with its RELEASE.
func (m *ImplicitMaekawa) probe(r Resource, v *implicitVoter) {
	if v.candidate.ID == uint16(m.id) {
		return
	}
	m.Send(algorithms.To(algorithms.NodeID(v.candidate.ID)), ImplicitYes{Resource: r, TS: v.candidate.T, Grant: v.grant, again: true})
	v.probeRT = min(2*v.probeRT, m.cfg.AskTicks)
	v.probeAt = m.now + v.probeRT
}

// useTicks is how long a vote for s takes to be used: the requester's
// wait for its votes before it repeats its REQUEST.
func (m *ImplicitMaekawa) useTicks(s clock.Stamp) int64 {
	return m.retryTicks() + m.cfg.PerVoterTicks*int64(len(m.quorums[algorithms.NodeID(s.ID)]))
}

// retryTicks is the first wait for an answer: RetryTicks, or twice the
// measured round trip when that is longer.
func (m *ImplicitMaekawa) retryTicks() int64 {
	return max(m.cfg.RetryTicks, 2*m.srtt)
}

func (m *ImplicitMaekawa) sendYes(r Resource, v *implicitVoter, again bool) {
	to := algorithms.NodeID(v.candidate.ID)
	if to == m.id {
		m.yes(r, to, v.candidate.T, v.grant)
		return
	}
	m.Send(algorithms.To(to), ImplicitYes{Resource: r, TS: v.candidate.T, Grant: v.grant, again: again})
}
