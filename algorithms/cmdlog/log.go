package cmdlog

import (
	"fmt"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
)

// role is what a drone does in the current term.
type role uint8

const (
	follower   role = iota // committee member or learner
	recovering             // leader of the term, collecting promises
	leading                // leader of the term, sequencing
)

// maxPending bounds the APPENDs a drone keeps that do not apply yet, and the
// chunks of a fetch that arrived ahead of their turn.
const maxPending = 64

// Log is one drone's command log core: the leader's sequencer and recovery,
// a committee member's votes and acknowledgements, a learner's repair
// requests. Which of them a drone plays follows from the term (see
// LeaderChanged) and from the committee in its log.
type Log struct {
	algorithms.Outbox
	cfg     Config
	id      algorithms.NodeID
	members []algorithms.NodeID // ascending
	initial []algorithms.NodeID // the first committee, ascending

	// Persisted: the term, the vote of the term, the log and the commit
	// point.
	term    uint32
	vote    algorithms.NodeID
	entries []Entry // index i is entries[i-1]
	commit  uint32

	now int64
	rng uint64
	// caughtUp is the tick at which the drone last knew it had applied
	// every entry its leader had committed (-1: never).
	caughtUp int64
	// lastAck is when a committee member last acknowledged (it
	// acknowledges an idle leader's beacons every Confirm/4).
	lastAck int64
	// behindSince is the tick since which the drone has known of entries
	// of its leader that it has not applied (-1: none).
	behindSince int64
	leader      algorithms.NodeID // of term; 0 while unknown
	role        role
	applied     uint32
	// verified: the log up to here is known to equal the log of the
	// leader of term (it matched an APPEND's previous entry, or a
	// COMMIT's last entry). Committed entries are always verified.
	verified     uint32
	leaderLast   uint32 // the leader's last index, as far as known
	leaderCommit uint32
	pending      map[uint32]Append // by PrevIndex, not applicable yet
	nakTimer     int               // ticks to the next NAK; 0: none due
	nakBack      int               // backoff of the NAK timer while nothing progresses
	ackDue       bool
	// ackTimer counts down a committee member's deferred acknowledgement
	// (0: none) of the log up to ackFor; acked is the Match of its last
	// acknowledgement of the term; heard holds the highest Match
	// overheard from each drone in the term (not with Textbook).
	ackTimer   int
	ackFor     uint32
	acked      uint32
	heard      map[algorithms.NodeID]heardAck
	promisedTo algorithms.NodeID // a Promise of term already went to it
	down       map[algorithms.NodeID]bool

	cfgValid bool
	cfgIdx   uint32
	cfgCache []algorithms.NodeID

	// Leader.
	match        map[algorithms.NodeID]uint32
	heardAt      map[algorithms.NodeID]int64 // last acknowledgement or promise of the term
	sent         uint32                      // last index broadcast
	announced    uint32                      // last commit point broadcast
	noop         uint32                      // index of the term's first entry
	commitTimer  int
	commitDue    bool
	retransTimer int
	retransBack  int
	quiet        int // ticks since the last broadcast
	beaconBack   int
	// repairFrom, repairTo and repairAt: the last range repaired and
	// when.
	repairFrom, repairTo uint32
	repairAt             int64
	nakFrom, nakTo       uint32 // range asked for since the last tick; 0: none
	rec                  *recovery

	dirty bool
	saved []byte
}

// heardAck is the highest Match overheard from a committee member in the
// term, and the tick of its last acknowledgement.
type heardAck struct {
	match uint32
	at    int64
}

// promise is a member's vote for this drone, with its log's summary.
type promise struct {
	last   Position
	commit uint32
	at     int64 // tick of receipt
}

// recovery is a new leader's state until it sequences: the promises of its
// term, and the entries it is fetching from the most up-to-date member.
type recovery struct {
	promises map[algorithms.NodeID]promise
	asked    map[algorithms.NodeID]bool
	best     algorithms.NodeID // fetching from; 0: not fetching
	target   uint32            // best's last index
	from     uint32            // first index fetched
	fetched  []Entry
	chunks   map[uint32]Entries // by PrevIndex, ahead of the next expected
	timer    int
	rounds   int // retries so far
}

var (
	_ algorithms.Core         = (*Log)(nil)
	_ algorithms.PeerObserver = (*Log)(nil)
	_ algorithms.Persister    = (*Log)(nil)
)

// New returns the log core of drone cfg.ID. With Restore, a drone that
// restarted rejoins with its term, vote, log and commit point, and applies
// its committed entries again (Applied events in the first Ready).
func New(cfg Config, opts ...Option) (*Log, error) {
	if err := cfg.fill(); err != nil {
		return nil, err
	}
	members, err := checkMembers(cfg.ID, cfg.Members)
	if err != nil {
		return nil, err
	}
	l := &Log{
		cfg:         cfg,
		id:          cfg.ID,
		members:     members,
		initial:     slices.Clone(members[len(members)-cfg.Committee:]),
		rng:         cfg.Seed ^ uint64(cfg.ID)*0x9e3779b97f4a7c15,
		pending:     map[uint32]Append{},
		heard:       map[algorithms.NodeID]heardAck{},
		down:        map[algorithms.NodeID]bool{},
		nakBack:     1,
		caughtUp:    -1,
		behindSince: -1,
		dirty:       true,
	}
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if o.restore {
		st, err := decodeState(o.state, l.isMember)
		if err != nil {
			return nil, fmt.Errorf("cmdlog: restore drone %d: %w", cfg.ID, err)
		}
		l.term, l.vote, l.entries, l.commit = st.term, st.vote, st.entries, st.commit
		l.verified = l.commit
		l.apply()
	}
	return l, nil
}

// --- queries ---------------------------------------------------------------

// Term returns the highest term the drone has seen.
func (l *Log) Term() uint32 { return l.term }

// Leader returns the leader of the current term as far as the log knows:
// the drone itself while it recovers or leads, 0 while unknown.
func (l *Log) Leader() algorithms.NodeID { return l.leader }

// Leading reports whether the drone leads the current term and has
// completed its recovery: Propose succeeds.
func (l *Log) Leading() bool { return l.role == leading }

// Recovering reports whether the drone leads the current term and is still
// collecting the committee's promises and entries.
func (l *Log) Recovering() bool { return l.role == recovering }

// CommitIndex returns the drone's commit point.
func (l *Log) CommitIndex() uint32 { return l.commit }

// LastIndex returns the index of the drone's last entry.
func (l *Log) LastIndex() uint32 { return uint32(len(l.entries)) }

// AppliedIndex returns the last entry the drone applied.
func (l *Log) AppliedIndex() uint32 { return l.applied }

// Has reports whether the drone's log holds the entry at p. On a leader
// that has completed its recovery, a position it does not hold was never
// committed and never will be: the client may propose the command again.
func (l *Log) Has(p Position) bool {
	return p.Index >= 1 && int(p.Index) <= len(l.entries) && l.termAt(p.Index) == p.Term
}

// Entry returns the entry at index i, if the log holds it.
func (l *Log) Entry(i uint32) (Entry, bool) {
	if i < 1 || int(i) > len(l.entries) {
		return Entry{}, false
	}
	return l.entries[i-1], true
}

// Committee returns the committee in force at this drone: the one named by
// the last config entry of its log, committed or not (Raft's rule for
// single-server changes), or the first committee.
func (l *Log) Committee() []algorithms.NodeID { return slices.Clone(l.config()) }

// RecentCommittees returns the committees of the last two config entries
// of the drone's log, the one in force first (the first committee stands
// in for a missing entry). No older committee can decide again: a change
// is appended only once the previous one is committed.
func (l *Log) RecentCommittees() [][]algorithms.NodeID {
	var out [][]algorithms.NodeID
	for i := len(l.entries); i >= 1 && len(out) < 2; i-- {
		if e := l.entries[i-1]; e.Kind == KindConfig {
			ids, _ := decodeConfig(e.Data, l.isMember)
			out = append(out, ids)
		}
	}
	if len(out) < 2 {
		out = append(out, slices.Clone(l.initial))
	}
	return out
}

// CommittedCommittee returns the committee named by the last committed
// config entry, or the first committee.
func (l *Log) CommittedCommittee() []algorithms.NodeID {
	for i := l.commit; i >= 1; i-- {
		if e := l.entries[i-1]; e.Kind == KindConfig {
			ids, _ := decodeConfig(e.Data, l.isMember)
			return ids
		}
	}
	return slices.Clone(l.initial)
}

// --- helpers -----------------------------------------------------------------

func (l *Log) lastIndex() uint32 { return uint32(len(l.entries)) }

func (l *Log) termAt(i uint32) uint32 {
	if i == 0 || int(i) > len(l.entries) {
		return 0
	}
	return l.entries[i-1].Term
}

func (l *Log) lastPos() Position {
	return Position{Index: l.lastIndex(), Term: l.termAt(l.lastIndex())}
}

// newer reports whether a log ending at a is more up to date than one
// ending at b (Raft §5.4.1): a later last term, or the same and longer.
func newer(a, b Position) bool {
	return a.Term > b.Term || (a.Term == b.Term && a.Index > b.Index)
}

func (l *Log) isMember(id algorithms.NodeID) bool {
	_, ok := slices.BinarySearch(l.members, id)
	return ok
}

// config returns the committee in force (see Committee) without copying.
func (l *Log) config() []algorithms.NodeID {
	if !l.cfgValid {
		l.cfgIdx, l.cfgCache = 0, l.initial
		for i := len(l.entries); i >= 1; i-- {
			if e := l.entries[i-1]; e.Kind == KindConfig {
				ids, _ := decodeConfig(e.Data, l.isMember)
				l.cfgIdx, l.cfgCache = uint32(i), ids
				break
			}
		}
		l.cfgValid = true
	}
	return l.cfgCache
}

// configIndex is the index of the config entry in force, 0 for the first
// committee.
func (l *Log) configIndex() uint32 {
	l.config()
	return l.cfgIdx
}

func (l *Log) inCommittee(id algorithms.NodeID) bool {
	_, ok := slices.BinarySearch(l.config(), id)
	return ok
}

// truncate drops the entries after index i.
func (l *Log) truncate(i uint32) {
	l.entries = l.entries[:i:i]
	l.cfgValid = false
	l.dirty = true
}

func (l *Log) appendEntries(es ...Entry) {
	l.entries = append(l.entries, es...)
	for _, e := range es {
		if e.Kind == KindConfig {
			l.cfgValid = false
		}
	}
	l.dirty = true
}

// apply emits Applied for the committed entries not applied yet.
func (l *Log) apply() {
	for l.applied < l.commit {
		l.applied++
		l.Emit(Applied{Index: l.applied, Entry: l.entries[l.applied-1]})
	}
}

// jitter draws from [0, n] with the drone's own generator (splitmix64).
func (l *Log) jitter(n int) int {
	if n <= 0 {
		return 0
	}
	l.rng += 0x9e3779b97f4a7c15
	z := l.rng
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return int(z % uint64(n+1))
}

// chunk returns the entries from index from on that fit one message.
func (l *Log) chunk(from uint32) []Entry {
	var out []Entry
	size := appendHeader
	for i := from; i <= l.lastIndex(); i++ {
		e := l.entries[i-1]
		if size+entryHeader+len(e.Data) > maxMessage || len(out) == 255 {
			break
		}
		size += entryHeader + len(e.Data)
		out = append(out, e)
	}
	return out
}

// newTerm moves to term t, whose leader is leader (0: unknown) and for
// which the drone has voted for vote (0: nobody yet).
func (l *Log) newTerm(t uint32, leader, vote algorithms.NodeID) {
	was := l.role
	l.term, l.leader, l.vote = t, leader, vote
	l.role = follower
	l.rec, l.match, l.heardAt = nil, nil, nil
	l.verified = l.commit
	l.leaderLast, l.leaderCommit = 0, 0
	clear(l.pending)
	l.nakTimer, l.nakBack = 0, 1
	l.ackDue = false
	l.ackTimer, l.ackFor, l.acked = 0, 0, 0
	clear(l.heard)
	l.promisedTo = 0
	l.dirty = true
	if was != follower && leader != l.id {
		l.Emit(Deposed{Term: t, Leader: leader})
	}
}

// --- local calls -------------------------------------------------------------

// LeaderChanged tells the log that leader was elected in term. The log
// follows the highest term: an older term is ignored, a newer one makes
// the drone a follower of leader (or, when leader is this drone, starts its
// recovery). It returns false when the drone is named leader of a term in
// which it cannot lead, because it has promised its vote of that term to
// another drone, or because it has seen a later term: the driver should
// then campaign in a new term.
func (l *Log) LeaderChanged(leader algorithms.NodeID, term uint32) bool {
	self := leader == l.id
	switch {
	case term < l.term:
		return !self
	case term > l.term:
		if self {
			l.newTerm(term, l.id, l.id)
			l.startRecovery()
			return true
		}
		l.newTerm(term, leader, 0)
		return true
	}
	if !self {
		if l.role == follower && l.leader == 0 {
			l.leader = leader
		}
		return true
	}
	switch {
	case l.role != follower:
		return true
	case l.vote == 0 || l.vote == l.id:
		l.vote, l.leader = l.id, l.id
		l.dirty = true
		l.startRecovery()
		return true
	}
	return false
}

// Propose appends a command to the log of a leader that has completed its
// recovery, and returns its position; the command is broadcast with the
// next Ready. Whether it is committed shows in Applied; after a failover,
// the new leader's Has tells whether it survived.
func (l *Log) Propose(cmd []byte) (Position, error) {
	if l.role != leading {
		return Position{}, ErrNotLeader
	}
	if len(cmd) > MaxCommand {
		return Position{}, fmt.Errorf("cmdlog: %d bytes, at most %d: %w", len(cmd), MaxCommand, ErrTooLarge)
	}
	l.appendEntries(Entry{Term: l.term, Kind: KindCommand, Data: slices.Clone(cmd)})
	l.advanceCommit() // a committee of one commits at once
	return l.lastPos(), nil
}

// PeerDown implements algorithms.PeerObserver: a leader replaces a
// committee member reported dead; a recovering leader drops its promise
// and stops fetching from it.
func (l *Log) PeerDown(id algorithms.NodeID) {
	if id == l.id || !l.isMember(id) {
		return
	}
	l.down[id] = true
	switch l.role {
	case leading:
		l.maybeReplace()
	case recovering:
		// Any majority of promisers serves, so a dead one's promise is
		// dropped: its log cannot be fetched.
		delete(l.rec.promises, id)
		if l.rec.best == id {
			l.rec.best, l.rec.fetched = 0, nil
			clear(l.rec.chunks)
		}
		l.checkRecovery()
	}
}

// PeerUp implements algorithms.PeerObserver: a leader tells a drone that
// comes back its term and commit point at once, so that it asks for what
// it misses.
func (l *Log) PeerUp(id algorithms.NodeID) {
	if id == l.id || !l.isMember(id) {
		return
	}
	delete(l.down, id)
	switch l.role {
	case leading:
		l.Send(algorithms.To(id), l.commitMsg())
		l.maybeReplace()
	case recovering:
		if _, ok := l.rec.promises[id]; !ok && l.inCommittee(id) {
			l.Send(algorithms.To(id), Recover{Term: l.term, Retry: l.rec.asked[id]})
			l.rec.asked[id] = true
		}
	}
}

// Persist implements algorithms.Persister: term, vote, log and commit
// point.
func (l *Log) Persist() []byte {
	if l.dirty {
		l.saved = encodeState(state{term: l.term, vote: l.vote, entries: l.entries, commit: l.commit})
		l.dirty = false
	}
	return l.saved
}

// Ready implements algorithms.Core: new entries and a due commit point go
// out as broadcasts, a due acknowledgement to the leader.
func (l *Log) Ready() algorithms.Ready {
	l.flush()
	return l.Outbox.Ready()
}

// Tick implements algorithms.Core.
func (l *Log) Tick() {
	l.now++
	defer l.trackBehind()
	switch l.role {
	case leading:
		l.tickLeader()
	case recovering:
		l.tickRecovery()
	}
	if l.role == follower {
		// This drone's own acknowledgement counts once it has been
		// persisted, with the Ready that sent it.
		l.followCommit()
	}
	if l.ackTimer > 0 {
		l.ackTimer--
		if l.ackTimer == 0 && l.role == follower && l.ackForConfirm(l.verified > l.acked) {
			switch {
			case !l.othersHold(l.ackFor):
				l.ackDue = true
			case l.verified > l.ackFor:
				// Entries arrived meanwhile: give their
				// acknowledgements the same time.
				r, quick := l.ackRank()
				l.ackTimer, l.ackFor = l.cfg.AckDelay*(r-quick+1), l.verified
			default:
				// A majority acknowledged recently, which also keeps
				// the leader confirmed.
				l.lastAck = l.now
			}
		}
	}
	if l.nakTimer > 0 {
		l.nakTimer--
		if l.nakTimer == 0 && l.gap() && l.role == follower {
			l.Send(nil, Nak{Term: l.term, From: l.verified + 1, To: l.gapEnd()})
			// Back off while nothing progresses: on a busy channel
			// the repair may be queued behind other frames, and NAKs
			// that repeat faster only make the queue longer.
			l.nakTimer = l.cfg.Retransmit*l.nakBack + l.jitter(l.cfg.NakJitter)
			l.nakBack = min(2*l.nakBack, 8)
		}
	}
}

// --- Step ----------------------------------------------------------------------

// Step implements algorithms.Core. It rejects, without a change of state,
// a message from outside the swarm or from the drone itself, a message no
// drone sends that way, and a message that would overwrite an entry the
// drone knows to be committed.
func (l *Log) Step(from algorithms.NodeID, m algorithms.Message) error {
	if err := l.validate(from, m); err != nil {
		return err
	}
	switch m := m.(type) {
	case Append:
		return l.stepAppend(from, m)
	case Commit:
		return l.stepCommit(from, m)
	case Ack:
		if l.role == follower {
			l.overhear(from, m)
		} else {
			l.stepAck(from, m)
		}
	case Nak:
		l.stepNak(m)
	case Stale:
		l.stepStale(m)
	case Recover:
		l.stepRecover(from, m)
	case Promise:
		l.stepPromise(from, m)
	case Fetch:
		l.stepFetch(from, m)
	case Entries:
		return l.stepEntries(from, m)
	}
	return nil
}

func (l *Log) validate(from algorithms.NodeID, m algorithms.Message) error {
	switch m.(type) {
	case Append, Commit, Ack, Nak, Stale, Recover, Promise, Fetch, Entries:
	default:
		return algorithms.Unknown("cmdlog", m)
	}
	if from == l.id {
		return fmt.Errorf("cmdlog: %s from drone %d itself: %w", m.Kind(), from, ErrBadMessage)
	}
	if !l.isMember(from) {
		return fmt.Errorf("cmdlog: %s from drone %d: %w", m.Kind(), from, ErrNotMember)
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("cmdlog: %s from drone %d: %s: %w", m.Kind(), from, fmt.Sprintf(format, args...), ErrBadMessage)
	}
	checkRun := func(term, prevIndex, prevTerm uint32, es []Entry) error {
		switch {
		case term == 0:
			return bad("term 0")
		case prevTerm > term:
			return bad("previous entry of term %d after term %d", prevTerm, term)
		case (prevIndex == 0) != (prevTerm == 0):
			return bad("previous entry %d of term %d", prevIndex, prevTerm)
		case len(es) > 255:
			return bad("%d entries", len(es))
		case uint64(prevIndex)+uint64(len(es)) > 1<<32-1:
			return bad("index overflow")
		case m.Size() > maxMessage:
			return bad("%d bytes, at most %d", m.Size(), maxMessage)
		}
		t := prevTerm
		for i, e := range es {
			if err := checkEntry(e, l.isMember); err != nil {
				return bad("entry %d: %v", prevIndex+1+uint32(i), err)
			}
			if e.Term < t || e.Term > term {
				return bad("entry %d of term %d after term %d, in term %d", prevIndex+1+uint32(i), e.Term, t, term)
			}
			t = e.Term
		}
		return nil
	}
	switch m := m.(type) {
	case Append:
		if len(m.Entries) == 0 {
			return bad("no entries")
		}
		return checkRun(m.Term, m.PrevIndex, m.PrevTerm, m.Entries)
	case Entries:
		if err := checkRun(m.Term, m.PrevIndex, m.PrevTerm, m.Entries); err != nil {
			return err
		}
		if m.Last < m.PrevIndex+uint32(len(m.Entries)) {
			return bad("last index %d before the entries' end", m.Last)
		}
	case Commit:
		if m.Term == 0 || m.LastTerm > m.Term || (m.LastIndex == 0) != (m.LastTerm == 0) || m.Commit > m.LastIndex {
			return bad("term %d, commit %d, last entry %d of term %d", m.Term, m.Commit, m.LastIndex, m.LastTerm)
		}
	case Promise:
		if m.Term == 0 || m.LastTerm > m.Term || (m.LastIndex == 0) != (m.LastTerm == 0) || m.Commit > m.LastIndex {
			return bad("term %d, commit %d, last entry %d of term %d", m.Term, m.Commit, m.LastIndex, m.LastTerm)
		}
	case Ack:
		if m.Term == 0 {
			return bad("term 0")
		}
	case Nak:
		if m.Term == 0 || m.From == 0 || m.To < m.From {
			return bad("term %d, from %d to %d", m.Term, m.From, m.To)
		}
	case Fetch:
		if m.Term == 0 || m.From == 0 {
			return bad("term %d, from %d", m.Term, m.From)
		}
	case Recover:
		if m.Term == 0 {
			return bad("term 0")
		}
	case Stale:
		if m.Term == 0 || (m.Leader != 0 && !l.isMember(m.Leader)) {
			return bad("term %d, leader %d", m.Term, m.Leader)
		}
	}
	return nil
}

// follow handles the term of a message that only the leader of that term
// sends (APPEND, COMMIT): an older term is answered by a committee member
// with STALE; a newer one makes the drone follow its sender. It returns
// false when the message is to be ignored.
func (l *Log) follow(from algorithms.NodeID, term uint32) (bool, error) {
	switch {
	case term < l.term:
		if l.inCommittee(l.id) {
			l.Send(algorithms.To(from), Stale{Term: l.term, Leader: l.leader})
		}
		return false, nil
	case term > l.term:
		l.newTerm(term, from, from)
		return true, nil
	}
	switch l.role {
	case leading:
		return false, fmt.Errorf("cmdlog: drone %d leads term %d too: %w", from, term, ErrBadMessage)
	case recovering:
		// Another drone completed the recovery of this term: it holds a
		// majority of the votes, and this drone cannot.
		l.role, l.rec, l.leader = follower, nil, from
		l.Emit(Deposed{Term: term, Leader: from})
	}
	l.leader = from
	return true, nil
}

func (l *Log) stepAppend(from algorithms.NodeID, m Append) error {
	if m.Term == l.term && l.role == leading {
		return fmt.Errorf("cmdlog: drone %d leads term %d too: %w", from, m.Term, ErrBadMessage)
	}
	if m.Term >= l.term {
		// Refuse, before any change, what would overwrite a committed
		// entry.
		if err := l.checkSafe(m.PrevIndex, m.PrevTerm, m.Entries); err != nil {
			return fmt.Errorf("cmdlog: %s from drone %d: %w", m.Kind(), from, err)
		}
	}
	ok, err := l.follow(from, m.Term)
	if !ok || err != nil {
		return err
	}
	if l.vote == 0 {
		l.vote = from
		l.dirty = true
	}
	l.leaderCommit = max(l.leaderCommit, m.Commit)
	l.leaderLast = max(l.leaderLast, m.PrevIndex+uint32(len(m.Entries)))
	progressed := l.accept(m)
	l.followCommit()
	l.noteCaughtUp(m.Commit, m.Confirmed)
	switch {
	case !l.inCommittee(l.id):
	case m.Retry:
		// The leader lacks a majority: everyone at once.
		l.ackDue = true
	case l.ackForConfirm(progressed):
		l.wantAck()
	}
	l.armNak(progressed && m.Repair)
	return nil
}

// checkSafe reports an error when entries after prev would replace an
// entry at or before the commit point, or when prev itself contradicts a
// committed entry.
func (l *Log) checkSafe(prev, prevTerm uint32, es []Entry) error {
	if prev <= l.commit && prev > 0 && l.termAt(prev) != prevTerm {
		return fmt.Errorf("entry %d of term %d, committed here with term %d: %w", prev, prevTerm, l.termAt(prev), ErrSafety)
	}
	for i, e := range es {
		idx := prev + 1 + uint32(i)
		if idx > l.commit {
			break
		}
		if l.termAt(idx) != e.Term {
			return fmt.Errorf("entry %d of term %d, committed here with term %d: %w", idx, e.Term, l.termAt(idx), ErrSafety)
		}
	}
	return nil
}

// accept appends the entries of an APPEND (or REPAIR) of the current
// term's leader after checking that the log holds its previous entry
// (Raft's consistency check). An APPEND that does not apply yet, beyond a
// gap or after entries not yet known to be the leader's, is kept until a
// repair makes it apply. It reports whether the verified prefix grew.
func (l *Log) accept(m Append) bool {
	grew := l.acceptOne(m)
	if !grew {
		l.keep(m)
		return false
	}
	for more := true; more && len(l.pending) > 0; {
		more = false
		keys := make([]uint32, 0, len(l.pending))
		for k := range l.pending {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			p := l.pending[k]
			switch {
			case p.PrevIndex+uint32(len(p.Entries)) <= l.verified:
				delete(l.pending, k) // nothing new in it
			case k > l.lastIndex() || l.termAt(k) != p.PrevTerm:
				// Still beyond a gap, or after entries that a repair
				// will replace.
			case l.checkSafe(p.PrevIndex, p.PrevTerm, p.Entries) != nil:
				delete(l.pending, k)
			default:
				delete(l.pending, k)
				if l.acceptOne(p) {
					more = true
				}
			}
		}
	}
	return true
}

// keep holds an APPEND that does not apply yet.
func (l *Log) keep(m Append) {
	if m.PrevIndex+uint32(len(m.Entries)) <= l.verified {
		return
	}
	if _, ok := l.pending[m.PrevIndex]; ok || len(l.pending) < maxPending {
		l.pending[m.PrevIndex] = m
	}
}

func (l *Log) acceptOne(m Append) bool {
	if m.PrevIndex > l.lastIndex() || l.termAt(m.PrevIndex) != m.PrevTerm {
		return false
	}
	for i, e := range m.Entries {
		idx := m.PrevIndex + 1 + uint32(i)
		if idx <= l.lastIndex() {
			if l.termAt(idx) == e.Term {
				continue
			}
			l.truncate(idx - 1)
		}
		l.appendEntries(e)
	}
	end := m.PrevIndex + uint32(len(m.Entries))
	if end > l.verified {
		l.verified = end
		l.nakBack = 1
		return true
	}
	return false
}

// gapEnd is the last index a NAK asks for: up to the first APPEND kept
// for later, or to the leader's last entry.
func (l *Log) gapEnd() uint32 {
	end := max(l.leaderLast, l.leaderCommit)
	for k := range l.pending {
		if k > l.verified && k < end {
			end = k
		}
	}
	return max(end, l.verified+1)
}

// followCommit advances a follower's commit point to the leader's, as far
// as its log is known to equal the leader's, or to what the
// acknowledgements it overheard show committed.
func (l *Log) followCommit() {
	if c := max(min(l.leaderCommit, l.verified), l.inferred()); c > l.commit {
		l.commit = c
		l.dirty = true
		l.apply()
	}
}

// ackForConfirm reports whether a committee member acknowledges a message
// of its leader: what made progress, and otherwise one now and then
// (every Confirm/4), so that a leader sending only repeats or repairs stays
// confirmed.
func (l *Log) ackForConfirm(progressed bool) bool {
	return progressed || l.now-l.lastAck >= int64(l.cfg.Confirm/4)
}

// noteCaughtUp records that the drone is caught up when, after a message of
// its leader announcing commit point c, it has applied up to c, and the
// leader was confirmed by a committee majority when it sent it.
func (l *Log) noteCaughtUp(c uint32, confirmed bool) {
	if confirmed && l.applied >= c {
		l.caughtUp = l.now
	}
}

// SinceCaughtUp returns how many ticks ago the drone last knew it had
// applied every entry committed: when a confirmed message of the leader it
// follows announced a commit point it had applied, or, for a confirmed
// leader, at its last tick. It is false when the drone never was.
//
// A drone that has not been caught up for a while may have missed
// committed entries: a leader confirmed at some moment had heard from a
// committee majority within Confirm before it, and a later leader can
// only commit after a majority has promised it its term and stopped
// acknowledging older ones, so an entry committed by a later leader was
// committed no earlier than Confirm before the moment the drone was last
// caught up. The airspace locks use this to fence a voter that may not
// know of a change of view.
func (l *Log) SinceCaughtUp() (int64, bool) {
	if l.caughtUp < 0 {
		return 0, false
	}
	return l.now - l.caughtUp, true
}

// SinceBehind returns how many ticks the drone has known of entries of its
// leader that it has not applied (the leader: of entries not committed
// yet), 0 when it knows of none. A command whose effect is timed may take
// effect before a drone applies it when its commit takes this long.
func (l *Log) SinceBehind() int64 {
	if l.behindSince < 0 {
		return 0
	}
	return l.now - l.behindSince
}

// trackBehind updates behindSince at every tick.
func (l *Log) trackBehind() {
	last := l.leaderLast
	if l.role == leading {
		last = l.lastIndex()
	}
	switch {
	case l.applied >= last:
		l.behindSince = -1
	case l.behindSince < 0:
		l.behindSince = l.now
	}
}

// ConfirmTicks is Config.Confirm: how recent a committee majority's
// acknowledgements keep the leader confirmed.
func (l *Log) ConfirmTicks() int64 { return int64(l.cfg.Confirm) }

// gap reports whether the leader holds entries this drone has not
// verified.
func (l *Log) gap() bool { return l.verified < l.leaderLast || l.verified < l.leaderCommit }

// armNak schedules a repair request while there is a gap; soon reschedules
// it early, after a repair that made progress.
func (l *Log) armNak(soon bool) {
	if !l.gap() || l.role != follower {
		l.nakTimer = 0
		return
	}
	d := l.cfg.NakDelay + l.jitter(l.cfg.NakJitter)
	if l.nakTimer == 0 || (soon && d < l.nakTimer) {
		l.nakTimer = d
	}
}

func (l *Log) stepCommit(from algorithms.NodeID, m Commit) error {
	ok, err := l.follow(from, m.Term)
	if !ok || err != nil {
		return err
	}
	l.leaderCommit = max(l.leaderCommit, m.Commit)
	l.leaderLast = max(l.leaderLast, m.LastIndex)
	progressed := false
	if m.LastIndex > l.verified && m.LastIndex <= l.lastIndex() && l.termAt(m.LastIndex) == m.LastTerm {
		// Log Matching: the same entry at the same index, the same log
		// up to it.
		l.verified = m.LastIndex
		progressed = true
	}
	l.followCommit()
	l.noteCaughtUp(m.Commit, m.Confirmed)
	// A member acknowledges what made progress, and an idle leader's
	// beacon now and then, so that the leader stays confirmed.
	if l.inCommittee(l.id) && l.ackForConfirm(progressed) {
		l.wantAck()
	}
	l.armNak(false)
	return nil
}

func (l *Log) stepNak(m Nak) {
	if m.Term != l.term {
		return
	}
	switch l.role {
	case leading:
		l.askRepair(m.From, m.To)
	case follower:
		// Someone asked for what this drone misses too: wait a
		// repair's round trip rather than ask again (SRM's
		// suppression).
		if l.nakTimer > 0 && m.From <= l.verified+1 {
			l.nakTimer = max(l.nakTimer, l.cfg.Retransmit+l.jitter(l.cfg.NakJitter))
		}
	}
}

func (l *Log) stepStale(m Stale) {
	switch {
	case m.Term > l.term:
		l.newTerm(m.Term, m.Leader, 0)
	case m.Term == l.term && l.role == recovering && m.Leader != 0 && m.Leader != l.id:
		// A member promised this term's vote to another drone: two
		// drones were elected in one term. Neither may need this vote,
		// but stepping down lets the election resolve it in a new term.
		l.role, l.rec, l.leader = follower, nil, m.Leader
		l.Emit(Deposed{Term: l.term, Leader: m.Leader})
	}
}

// stepRecover is a member's answer to a recovering leader: its vote of the
// term, at most one drone per term, persisted with the next Ready before
// the PROMISE goes out.
func (l *Log) stepRecover(from algorithms.NodeID, m Recover) {
	switch {
	case m.Term < l.term:
		l.Send(algorithms.To(from), Stale{Term: l.term, Leader: l.leader})
		return
	case m.Term > l.term:
		l.newTerm(m.Term, from, from)
	case l.vote != 0 && l.vote != from:
		l.Send(algorithms.To(from), Stale{Term: l.term, Leader: l.vote})
		return
	default:
		if l.vote != from || l.leader != from {
			l.vote, l.leader = from, from
			l.dirty = true
		}
	}
	last := l.lastPos()
	l.Send(algorithms.To(from), Promise{Term: l.term, LastIndex: last.Index, LastTerm: last.Term, Commit: l.commit, Retry: l.promisedTo == from})
	l.promisedTo = from
}

func (l *Log) stepFetch(from algorithms.NodeID, m Fetch) {
	switch {
	case m.Term < l.term:
		l.Send(algorithms.To(from), Stale{Term: l.term, Leader: l.leader})
		return
	case m.Term > l.term || l.vote != from || m.From > l.lastIndex()+1:
		return
	}
	// Up to four frames at once: a recovery waits for all of it.
	for i, next := 0, m.From; i < 4 && (i == 0 || next <= l.lastIndex()); i++ {
		es := l.chunk(next)
		l.Send(algorithms.To(from), Entries{Term: l.term, PrevIndex: next - 1, PrevTerm: l.termAt(next - 1), Last: l.lastIndex(), Entries: es})
		next += uint32(len(es))
	}
}

// --- overheard acknowledgements ---------------------------------------------

// wantAck schedules a committee member's acknowledgement of entries that
// made progress, or of a leader to keep confirmed. With Textbook every
// member acknowledges at once. Otherwise the first members by rank, as
// many as a majority needs with the leader, acknowledge at once; the
// others wait AckDelay per rank beyond them and keep quiet when they have
// overheard, within Confirm/4, a majority acknowledge what they store
// (their next acknowledgement carries their Match).
func (l *Log) wantAck() {
	if l.cfg.Textbook {
		l.ackDue = true
		return
	}
	r, quick := l.ackRank()
	switch {
	case r < quick:
		l.ackDue = true
	case l.ackTimer == 0:
		l.ackTimer, l.ackFor = l.cfg.AckDelay*(r-quick+1), l.verified
	}
}

// ackRank returns this member's rank among the committee members other
// than the leader that are not reported down, highest ID first, and how
// many of them a majority needs besides the leader.
func (l *Log) ackRank() (rank, quick int) {
	cfg := l.config()
	quick = majority(len(cfg))
	if _, ok := slices.BinarySearch(cfg, l.leader); ok {
		quick--
	}
	for i := len(cfg) - 1; i >= 0; i-- {
		m := cfg[i]
		if m == l.id {
			break
		}
		if m != l.leader && !l.down[m] {
			rank++
		}
	}
	return rank, quick
}

// overhear takes an acknowledgement sent to the leader of the term by a
// committee member: the member stores the leader's log up to Match.
func (l *Log) overhear(from algorithms.NodeID, m Ack) {
	if l.cfg.Textbook || m.Term != l.term {
		return
	}
	h := l.heard[from]
	l.heard[from] = heardAck{match: max(h.match, m.Match), at: l.now}
	if m.Match > h.match {
		l.followCommit()
	}
}

// othersHold reports whether the leader and the acknowledgements this
// member overheard within Confirm/4 make a majority of the committee that
// stores the leader's log up to i.
func (l *Log) othersHold(i uint32) bool {
	cfg := l.config()
	n := 0
	for _, m := range cfg {
		h, ok := l.heard[m]
		if m == l.leader || (m != l.id && ok && h.match >= i && l.now-h.at <= int64(l.cfg.Confirm/4)) {
			n++
		}
	}
	return n >= majority(len(cfg))
}

// inferred returns the highest entry that a follower knows to be
// committed from the acknowledgements it overheard (0: none beyond its
// commit point): an entry of the current term, in the prefix of its log
// known to equal the leader's, that a majority of the committee stores,
// counting the leader, this drone as far as it acknowledged, and every
// acknowledgement of the term it overheard (Raft §5.4.2). The committee
// is the one in force at the end of that prefix: the leader's may be one
// change later, whose majorities intersect this one's (and an entry
// before a committed change is committed with it).
func (l *Log) inferred() uint32 {
	if l.cfg.Textbook || l.role != follower || l.leader == 0 || l.verified <= l.commit || l.termAt(l.verified) != l.term {
		return 0
	}
	cfg := l.configAt(l.verified)
	held := make([]uint32, 0, len(cfg))
	for _, m := range cfg {
		switch m {
		case l.leader:
			held = append(held, l.verified)
		case l.id:
			held = append(held, min(l.acked, l.verified))
		default:
			held = append(held, min(l.heard[m].match, l.verified))
		}
	}
	slices.Sort(held)
	n := held[len(held)-majority(len(held))]
	if n <= l.commit || l.termAt(n) != l.term {
		return 0
	}
	return n
}

// configAt returns the committee in force at index i: named by the last
// config entry at or before i, or the first committee.
func (l *Log) configAt(i uint32) []algorithms.NodeID {
	if l.configIndex() <= i {
		return l.config()
	}
	for j := min(i, l.lastIndex()); j >= 1; j-- {
		if e := l.entries[j-1]; e.Kind == KindConfig {
			ids, _ := decodeConfig(e.Data, l.isMember)
			return ids
		}
	}
	return l.initial
}
