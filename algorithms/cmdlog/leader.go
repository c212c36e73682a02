package cmdlog

import (
	"fmt"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
)

// --- recovery ------------------------------------------------------------------

// startRecovery opens the recovery of the current term, which this drone
// leads: it asks the committee for its votes (Paxos' phase 1, Viewstamped
// Replication's view change).
func (l *Log) startRecovery() {
	l.role, l.leader = recovering, l.id
	l.rec = &recovery{
		promises: map[algorithms.NodeID]promise{l.id: {last: l.lastPos(), commit: l.commit}},
		asked:    map[algorithms.NodeID]bool{},
		chunks:   map[uint32]Entries{},
		timer:    l.cfg.RecoverRetry,
	}
	l.promisedTo = l.id
	l.checkRecovery()
}

// askPromises sends RECOVER, in one frame, to the members of the committee
// in force that have not promised and are not reported down: those never
// asked, or with retry every one of them. When the failure detector
// reports too many of them down for a majority, the committee this drone's
// log names is outdated (the drone restarted from an old state): it asks
// every drone, since one with a newer log names the newer committee.
func (l *Log) askPromises(retry bool) {
	if l.role != recovering {
		return
	}
	cfg := l.config()
	live := 0
	for _, m := range cfg {
		if !l.down[m] {
			live++
		}
	}
	if retry && live < majority(len(cfg)) {
		l.Send(nil, Recover{Term: l.term, Retry: true})
		return
	}
	var to []algorithms.NodeID
	again := true
	for _, m := range cfg {
		if _, ok := l.rec.promises[m]; ok || l.down[m] || (l.rec.asked[m] && !retry) {
			continue
		}
		to = append(to, m)
		if !l.rec.asked[m] {
			again = false
			l.rec.asked[m] = true
		}
	}
	if len(to) > 0 {
		l.Send(algorithms.To(to...), Recover{Term: l.term, Retry: again})
	}
}

func (l *Log) stepPromise(from algorithms.NodeID, m Promise) {
	if m.Term != l.term || l.role != recovering {
		return
	}
	l.rec.promises[from] = promise{last: Position{Index: m.LastIndex, Term: m.LastTerm}, commit: m.Commit, at: l.now}
	l.checkRecovery()
}

// checkRecovery adopts the most up-to-date log among the promisers,
// fetching it when it is not this drone's, and ends the recovery once a
// majority of the committee that the adopted log puts in force has
// promised. It is a Raft election (§5.2, §5.4.1) in which the candidate
// holds the adopted log: every voter's log is at most as up to date, and
// every voter has given the term's vote to this drone alone and refuses
// older terms from then on. A stale committee in this drone's own log does
// not decide: the adopted log names the committee whose majority counts.
func (l *Log) checkRecovery() {
	r := l.rec
	if l.role != recovering || r.best != 0 {
		return
	}
	best, pos := l.id, l.lastPos()
	ids := make([]algorithms.NodeID, 0, len(r.promises))
	for id := range r.promises {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		if p := r.promises[id]; id != l.id && newer(p.last, pos) {
			best, pos = id, p.last
		}
	}
	if best != l.id {
		// Everything up to this drone's commit point is committed, so
		// every log holds it: fetch what follows.
		r.best, r.target, r.from, r.fetched = best, pos.Index, l.commit+1, nil
		clear(r.chunks)
		r.timer = l.cfg.RecoverRetry
		l.Send(algorithms.To(best), Fetch{Term: l.term, From: r.from})
		return
	}
	cfg := l.config()
	n := 0
	for _, m := range cfg {
		if _, ok := r.promises[m]; ok {
			n++
		}
	}
	if n >= majority(len(cfg)) {
		l.finishRecovery()
		return
	}
	l.askPromises(false)
}

func (l *Log) stepEntries(from algorithms.NodeID, m Entries) error {
	r := l.rec
	if l.role != recovering || m.Term != l.term || from != r.best {
		return nil
	}
	prev := r.from - 1 + uint32(len(r.fetched))
	if m.PrevIndex < prev || m.PrevIndex > r.target {
		return nil // a duplicate, or an answer to an earlier FETCH
	}
	if m.PrevIndex > prev {
		// Ahead of a chunk still on its way.
		if len(r.chunks) < maxPending {
			r.chunks[m.PrevIndex] = m
		}
		return nil
	}
	for {
		want := l.termAt(prev)
		if len(r.fetched) > 0 {
			want = r.fetched[len(r.fetched)-1].Term
		}
		if m.PrevTerm != want {
			return fmt.Errorf("cmdlog: ENTRIES from drone %d: entry %d of term %d, committed here with term %d: %w", from, prev, m.PrevTerm, want, ErrSafety)
		}
		r.fetched = append(r.fetched, m.Entries...)
		r.target = m.Last
		prev += uint32(len(m.Entries))
		next, ok := r.chunks[prev]
		delete(r.chunks, prev)
		if !ok || len(m.Entries) == 0 {
			break
		}
		m = next
	}
	if prev < r.target {
		r.timer = l.cfg.RecoverRetry
		l.Send(algorithms.To(from), Fetch{Term: l.term, From: prev + 1})
		return nil
	}
	// Adopt the most up-to-date log: keep the committed prefix, replace
	// the rest.
	l.truncate(r.from - 1)
	l.appendEntries(r.fetched...)
	r.best, r.fetched = 0, nil
	clear(r.chunks)
	l.checkRecovery()
	return nil
}

func (l *Log) tickRecovery() {
	r := l.rec
	r.timer--
	if r.timer > 0 {
		return
	}
	r.rounds++
	r.timer = l.cfg.RecoverRetry << min(r.rounds, 3)
	if r.best != 0 {
		l.Send(algorithms.To(r.best), Fetch{Term: l.term, From: r.from + uint32(len(r.fetched)), Retry: true})
		return
	}
	l.askPromises(true)
}

// finishRecovery makes the drone sequence: it takes the highest commit
// point a promiser reported (a committed prefix, which its log holds),
// appends the term's no-op entry, whose commitment commits every entry
// before it, and broadcasts its log from the lowest commit point among the
// promisers, so that the committee stores the adopted entries.
func (l *Log) finishRecovery() {
	r := l.rec
	from := l.commit
	for _, p := range r.promises {
		if p.commit > l.commit && p.commit <= l.lastIndex() {
			l.commit = p.commit
		}
	}
	l.match = map[algorithms.NodeID]uint32{}
	l.heardAt = map[algorithms.NodeID]int64{}
	for m, p := range r.promises {
		l.heardAt[m] = p.at
	}
	for _, m := range l.config() {
		if p, ok := r.promises[m]; ok && m != l.id {
			l.match[m] = min(p.commit, l.commit)
			from = min(from, p.commit)
		}
	}
	l.role, l.rec = leading, nil
	l.verified = l.lastIndex()
	l.Emit(Leading{Term: l.term})
	l.apply()
	l.appendEntries(Entry{Term: l.term, Kind: KindNoop})
	l.noop = l.lastIndex()
	l.sent, l.announced = from, 0
	l.commitTimer, l.commitDue = 0, false
	l.retransTimer, l.retransBack = l.cfg.Retransmit, 1
	l.quiet, l.beaconBack = 0, 1
	l.repairFrom, l.repairTo, l.repairAt = 0, 0, 0
	l.nakFrom, l.nakTo = 0, 0
	l.advanceCommit()
}

// --- sequencing ----------------------------------------------------------------

// commitMsg is the leader's commit point with its last entry.
func (l *Log) commitMsg() Commit {
	last := l.lastPos()
	return Commit{Term: l.term, Commit: l.commit, LastIndex: last.Index, LastTerm: last.Term, Confirmed: l.confirmed()}
}

// confirmed reports whether a majority of the committee in force, the
// leader included, acknowledged the leader within Confirm ticks, and the
// leader's no-op is committed: before that its commit point may lag what
// earlier terms committed (Raft §5.4.2, §8).
func (l *Log) confirmed() bool {
	if l.role != leading || l.commit < l.noop {
		return false
	}
	cfg := l.config()
	n := 0
	for _, m := range cfg {
		if at, ok := l.heardAt[m]; m == l.id || (ok && l.now-at <= int64(l.cfg.Confirm)) {
			n++
		}
	}
	return n > len(cfg)/2
}

// appendMsg is an APPEND of the entries from index from on that fit one
// frame.
func (l *Log) appendMsg(from uint32) Append {
	return Append{Term: l.term, PrevIndex: from - 1, PrevTerm: l.termAt(from - 1), Commit: l.commit, Entries: l.chunk(from), Confirmed: l.confirmed()}
}

// flush sends what is due: the leader's new entries (several commands
// proposed at once share a frame), its commit point when no APPEND carried
// it, and a member's acknowledgement.
func (l *Log) flush() {
	if l.role == leading {
		for first := true; l.sent < l.lastIndex(); first = false {
			start := l.sent + 1
			if first {
				start = l.redundant(start)
			}
			m := l.appendMsg(start)
			l.Send(nil, m)
			l.sent = start - 1 + uint32(len(m.Entries))
			l.announced = l.commit
			l.sentSomething()
		}
		if l.commit > l.announced && (l.commitDue || l.cfg.CommitDelay == 0) {
			l.Send(nil, l.commitMsg())
			l.announced = l.commit
			l.sentSomething()
		}
		if l.announced >= l.commit {
			l.commitDue, l.commitTimer = false, 0
		}
	}
	if l.ackDue && l.leader != 0 && l.leader != l.id && l.role == follower {
		// Broadcast, so that every drone counts it towards the commit
		// point; with Textbook, to the leader.
		var to []algorithms.NodeID
		if l.cfg.Textbook {
			to = algorithms.To(l.leader)
		}
		l.Send(to, Ack{Term: l.term, Match: l.verified})
		l.lastAck, l.acked, l.ackTimer = l.now, l.verified, 0
	}
	l.ackDue = false
}

// redundant returns where an APPEND of the entries from index next on
// starts when it repeats the Config.Redundancy entries before them, as
// far as the first new entry still fits the frame: a drone that missed
// the previous APPEND takes its entries from this one, without a NAK.
func (l *Log) redundant(next uint32) uint32 {
	size := appendHeader + entryHeader + len(l.entries[next-1].Data)
	start := next
	for r := 0; r < l.cfg.Redundancy && start > 1; r++ {
		size += entryHeader + len(l.entries[start-2].Data)
		if size > maxMessage {
			break
		}
		start--
	}
	return start
}

// sentSomething restarts the beacon's backoff after a broadcast.
func (l *Log) sentSomething() {
	l.quiet, l.beaconBack = 0, 1
}

func (l *Log) beacon() {
	l.Send(nil, l.commitMsg())
	l.announced = l.commit
	l.quiet, l.beaconBack = 0, min(2*l.beaconBack, max(l.cfg.BeaconMax/l.cfg.Beacon, 1))
}

// beaconWithin sends the idle leader's next beacon now if it is due
// within the next ticks, and reports whether it did: a frame that must go
// out now (Node's heartbeat) is the beacon rather than one more frame.
func (l *Log) beaconWithin(ticks int) bool {
	if l.role != leading || l.quiet+ticks < l.cfg.Beacon*l.beaconBack {
		return false
	}
	l.beacon()
	return true
}

func (l *Log) tickLeader() {
	if l.confirmed() {
		l.caughtUp = l.now // a leader has applied what it committed
	}
	if l.commitTimer > 0 {
		l.commitTimer--
		if l.commitTimer == 0 {
			l.commitDue = true
		}
	}
	if l.commit < l.lastIndex() {
		l.retransTimer--
		if l.retransTimer <= 0 {
			// The committee has not acknowledged in time: broadcast
			// the oldest uncommitted entries again.
			m := l.appendMsg(l.commit + 1)
			m.Retry = true
			l.Send(nil, m)
			l.announced = l.commit
			l.sentSomething()
			l.retransBack = min(2*l.retransBack, 8)
			l.retransTimer = l.cfg.Retransmit * l.retransBack
		}
	} else {
		l.retransTimer, l.retransBack = l.cfg.Retransmit, 1
	}
	l.quiet++
	if l.quiet >= l.cfg.Beacon*l.beaconBack {
		// Nothing went out for a while: repeat the commit point, so
		// that a drone that missed the last frames learns what to ask
		// for.
		l.beacon()
	}
	if l.nakFrom != 0 {
		l.repair(l.nakFrom, l.nakTo)
		l.nakFrom, l.nakTo = 0, 0
	}
	l.maybeReplace()
}

func (l *Log) stepAck(from algorithms.NodeID, m Ack) {
	if m.Term != l.term || l.role != leading || m.Match > l.lastIndex() {
		return
	}
	l.heardAt[from] = l.now
	if m.Match > l.match[from] {
		l.match[from] = m.Match
		l.advanceCommit()
	}
}

// advanceCommit moves the commit point to the highest entry of the current
// term that a majority of the committee in force stores (Raft §5.3, and
// §5.4.2: entries of earlier terms are committed only by an entry of the
// current term after them).
func (l *Log) advanceCommit() {
	if l.role != leading {
		return
	}
	cfg := l.config()
	held := make([]uint32, 0, len(cfg))
	for _, m := range cfg {
		if m == l.id {
			held = append(held, l.lastIndex())
		} else {
			held = append(held, l.match[m])
		}
	}
	slices.Sort(held)
	n := held[len(held)-majority(len(held))]
	if n <= l.commit || l.termAt(n) != l.term {
		return
	}
	l.commit = n
	l.verified = l.lastIndex()
	l.dirty = true
	l.apply()
	l.retransTimer, l.retransBack = l.cfg.Retransmit, 1
	if l.cfg.CommitDelay > 0 && l.commitTimer == 0 && !l.commitDue {
		l.commitTimer = l.cfg.CommitDelay
	}
	l.maybeReplace()
}

// askRepair takes a NAK: the ranges asked for within one tick are
// repaired at once, from the lowest index asked for to the highest, except
// what a repair sent less than RepairGap ago covers, since it may still be
// on its way.
func (l *Log) askRepair(from, to uint32) {
	if from > l.lastIndex()+1 {
		return
	}
	if l.now-l.repairAt < int64(l.cfg.RepairGap) && from >= l.repairFrom && from <= l.repairTo {
		return
	}
	if l.nakFrom == 0 {
		l.nakFrom, l.nakTo = from, to
		return
	}
	l.nakFrom, l.nakTo = min(l.nakFrom, from), max(l.nakTo, to)
}

// repair broadcasts the entries from index from to index to, in up to
// three frames, so that every drone missing them takes them.
func (l *Log) repair(from, to uint32) {
	to = min(max(to, from), l.lastIndex())
	l.repairFrom, l.repairAt = from, l.now
	if from > to {
		l.repairTo = from
		l.Send(nil, l.commitMsg())
		return
	}
	for i := 0; i < 3 && from <= to; i++ {
		m := l.appendMsg(from)
		if n := to - from + 1; uint32(len(m.Entries)) > n {
			m.Entries = m.Entries[:n]
		}
		m.Repair = true
		l.Send(nil, m)
		from += uint32(len(m.Entries))
	}
	l.repairTo = from - 1
	l.announced = max(l.announced, l.commit)
	l.sentSomething()
}

// maybeReplace changes the committee through the log, one member at a
// time (Raft's single-server changes): it removes a member the failure
// detector reports dead, and adds the highest live drone outside the
// committee while the committee is short. A change waits until the term's
// no-op and the previous change are committed, so that two committees
// never decide at once.
func (l *Log) maybeReplace() {
	if l.role != leading || l.commit < l.noop || l.configIndex() > l.commit {
		return
	}
	cfg := l.config()
	for i, m := range cfg {
		if m != l.id && l.down[m] && len(cfg) > 1 {
			next := slices.Delete(slices.Clone(cfg), i, i+1)
			l.appendEntries(Entry{Term: l.term, Kind: KindConfig, Data: encodeConfig(next)})
			delete(l.match, m)
			l.advanceCommit()
			return
		}
	}
	if len(cfg) >= l.cfg.Committee {
		return
	}
	for i := len(l.members) - 1; i >= 0; i-- {
		c := l.members[i]
		if _, in := slices.BinarySearch(cfg, c); in || l.down[c] {
			continue
		}
		next := append(slices.Clone(cfg), c)
		slices.Sort(next)
		l.appendEntries(Entry{Term: l.term, Kind: KindConfig, Data: encodeConfig(next)})
		l.advanceCommit()
		return
	}
}
