package station

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/swarm/command"
)

// Sentinel errors of Send and WaitApplied.
var (
	// ErrRefused: the leader refused the command; the error carries its
	// reason.
	ErrRefused = errors.New("station: the leader refused the command")
	// ErrNoLeader: no drone answered as leader, and none named one.
	ErrNoLeader = errors.New("station: no leader known")
	// ErrLeaderSilent: the leader the station believes in has not been
	// heard since the command was first sent.
	ErrLeaderSilent = errors.New("station: leader silent")
	// ErrNotAccepted: the leader is heard but has not accepted the
	// command: it is not committed yet (a majority of the log's committee
	// has not stored it).
	ErrNotAccepted = errors.New("station: command not accepted yet")
	// ErrInvalid: the command is not one an operator may send.
	ErrInvalid = errors.New("station: invalid command")
	// ErrNotApplied: live drones had not applied the command when the
	// wait ended.
	ErrNotApplied = errors.New("station: command not applied by every live drone")
)

// Result is the leader's acceptance of a command.
type Result struct {
	// Seq is the command's sequence number at this station.
	Seq uint32
	// Index is the command's index in the network's command log, Term the
	// term of the leader that accepted it, Leader that leader.
	Index  uint32
	Term   uint32
	Leader uint16
	// Attempts is the number of requests sent, first send included.
	Attempts int
}

// request is a command waiting for the leader's answer.
type request struct {
	seq      uint32
	cmd      command.Command
	data     []byte
	first    time.Time
	next     time.Time // when to send again
	target   uint16    // where the last copy went
	attempts int
	silent   int // copies since the last answer of any kind
	// redirected is when a NOT_LEADER hint last sent a copy at once: at
	// most one a Retry, so that two drones naming each other cannot make
	// the station send without pause.
	redirected time.Time
	hint       string
	done       chan outcome // buffered, receives once
}

type outcome struct {
	res Result
	err error
}

// Send commits c to the network's command log, exactly once: it sends a
// REQUEST with the next sequence number to the leader the station
// believes in (to every drone while it knows none), again every
// Config.Retry with the same sequence number, following the NOT_LEADER
// hints, until the leader answers ACCEPTED (the Result gives the log
// index) or REFUSED (ErrRefused, with the reason), or ctx ends (ErrNoLeader,
// ErrLeaderSilent or ErrNotAccepted, with ctx's error).
func (s *Station) Send(ctx context.Context, c command.Command) (Result, error) {
	if c == nil {
		return Result{}, fmt.Errorf("%w: no command", ErrInvalid)
	}
	if command.IsSystem(c.Kind()) {
		return Result{}, fmt.Errorf("%w: %s is a system command, only the swarm issues it", ErrInvalid, c)
	}
	if err := command.Validate(c); err != nil {
		return Result{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	data := command.Encode(c)
	if len(data) > len(swarm.MessageSwarmOperatorCommand{}.Data) {
		return Result{}, fmt.Errorf("%w: %s encodes to %d bytes, more than a request carries", ErrInvalid, c, len(data))
	}
	s.mu.Lock()
	if s.closed() {
		s.mu.Unlock()
		return Result{}, ErrClosed
	}
	now := s.clock.Now()
	s.seq++
	r := &request{seq: s.seq, cmd: c, data: data, first: now, done: make(chan outcome, 1)}
	s.pending[r.seq] = r
	s.transmit(now, r)
	s.mu.Unlock()

	select {
	case o := <-r.done:
		return o.res, o.err
	case <-s.done:
		s.drop(r)
		return Result{}, fmt.Errorf("station: %s (seq %d): %w", c, r.seq, ErrClosed)
	case <-ctx.Done():
		s.drop(r)
		select {
		case o := <-r.done: // answered meanwhile
			return o.res, o.err
		default:
		}
		return Result{}, s.failure(r, ctx.Err())
	}
}

// drop forgets a request nobody waits for.
func (s *Station) drop(r *request) {
	s.mu.Lock()
	delete(s.pending, r.seq)
	s.mu.Unlock()
}

// failure explains why r was not accepted in time.
func (s *Station) failure(r *request, cause error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.clock.Now()
	what := fmt.Sprintf("station: %s (seq %d, %d requests over %s)", r.cmd, r.seq, r.attempts, now.Sub(r.first).Round(time.Millisecond))
	if r.hint != "" {
		what += "; last answer: " + r.hint
	}
	heard := s.leaderHeard()
	switch {
	case s.leader == 0:
		return fmt.Errorf("%s: %w: no drone answered as leader or named one: %w", what, ErrNoLeader, cause)
	case heard.IsZero():
		return fmt.Errorf("%s: %w: leader %d (term %d), named by other drones, never heard: %w",
			what, ErrLeaderSilent, s.leader, s.term, cause)
	case !heard.After(r.first):
		return fmt.Errorf("%s: %w: leader %d (term %d) not heard for %s: %w",
			what, ErrLeaderSilent, s.leader, s.term, now.Sub(heard).Round(time.Millisecond), cause)
	default:
		return fmt.Errorf("%s: %w: leader %d (term %d), heard %s ago, has not committed it: %w",
			what, ErrNotAccepted, s.leader, s.term, now.Sub(heard).Round(time.Millisecond), cause)
	}
}

// target is where a copy of r goes: the leader, unless it has been
// silent (heard nothing for the live age) or several copies went
// unanswered, when every other copy goes to every drone (only the leader
// answers those). Call with s.mu held.
func (s *Station) target(now time.Time, r *request) uint16 {
	if s.leader == 0 {
		return Everyone
	}
	if h := s.leaderHeard(); !h.IsZero() && now.Sub(h) > s.live() {
		return Everyone
	}
	if r.silent >= 3 && r.silent%2 == 1 {
		return Everyone
	}
	return s.leader
}

// transmit sends one copy of r. Call with s.mu held.
func (s *Station) transmit(now time.Time, r *request) {
	r.target = s.target(now, r)
	msg := &swarm.MessageSwarmOperatorCommand{
		Seq:        r.seq,
		Issuer:     s.cfg.Issuer,
		SrcVehicle: s.cfg.Issuer,
		DstVehicle: r.target,
		NetworkId:  s.cfg.Network,
		Kind:       swarm.SWARM_OPERATOR_KIND_REQUEST,
		DataLen:    uint8(len(r.data)),
	}
	copy(msg.Data[:], r.data)
	if r.attempts > 0 {
		s.counters.Retries++
	}
	r.attempts++
	r.silent++
	r.next = now.Add(s.cfg.Retry)
	s.counters.Requests++
	_ = s.send(msg, r.target) // counted; the next retry sends again
	s.log.Debug("station: request", "seq", r.seq, "cmd", r.cmd.String(), "to", r.target, "attempt", r.attempts)
}

// retry sends again the requests that are due. Call with s.mu held.
func (s *Station) retry(now time.Time) {
	for _, seq := range slices.Sorted(mapKeys(s.pending)) {
		if r := s.pending[seq]; !now.Before(r.next) {
			s.transmit(now, r)
		}
	}
}

func mapKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// answer takes in a drone's SWARM_OPERATOR_COMMAND. Call with s.mu held.
func (s *Station) answer(now time.Time, from uint16, m *swarm.MessageSwarmOperatorCommand) {
	switch m.Kind {
	case swarm.SWARM_OPERATOR_KIND_REQUEST:
		s.counters.Ignored++ // a request is for the leader, not for a station
		return
	case swarm.SWARM_OPERATOR_KIND_ACCEPTED, swarm.SWARM_OPERATOR_KIND_NOT_LEADER, swarm.SWARM_OPERATOR_KIND_REFUSED:
	default:
		s.counters.Malformed++
		return
	}
	if m.Issuer != s.cfg.Issuer {
		return // an answer to another station
	}
	if int(m.DataLen) > len(m.Data) {
		s.counters.Malformed++
		return
	}
	r := s.pending[m.Seq]
	switch m.Kind {
	case swarm.SWARM_OPERATOR_KIND_ACCEPTED:
		if m.Index == 0 || m.Term == 0 {
			s.counters.Malformed++
			return
		}
		s.counters.Accepted++
		if m.Term >= s.term {
			s.setLeader(now, from, m.Term, "accepted")
		}
		if r == nil {
			s.counters.Stale++ // an answer to a retry of a command already accepted
			return
		}
		delete(s.pending, r.seq)
		r.done <- outcome{res: Result{Seq: r.seq, Index: m.Index, Term: m.Term, Leader: from, Attempts: r.attempts}}
		s.log.Info("station: command accepted", "cmd", r.cmd.String(), "seq", r.seq, "index", m.Index, "term", m.Term, "leader", from)
	case swarm.SWARM_OPERATOR_KIND_REFUSED:
		s.counters.Refused++
		if r == nil {
			s.counters.Stale++
			return
		}
		reason := string(m.Data[:m.DataLen])
		delete(s.pending, r.seq)
		r.done <- outcome{err: fmt.Errorf("station: %s (seq %d): %w by %d: %s", r.cmd, r.seq, ErrRefused, from, reason)}
		s.log.Warn("station: command refused", "cmd", r.cmd.String(), "seq", r.seq, "leader", from, "reason", reason)
	case swarm.SWARM_OPERATOR_KIND_NOT_LEADER:
		s.counters.NotLeader++
		s.notLeader(now, from, m.Leader, m.Term)
		if r == nil {
			s.counters.Stale++
			return
		}
		r.silent = 0
		r.hint = fmt.Sprintf("drone %d is not the leader (it follows %d, term %d)", from, m.Leader, m.Term)
		if t := s.target(now, r); t != r.target && t != Everyone && (r.redirected.IsZero() || now.Sub(r.redirected) >= s.cfg.Retry) {
			r.redirected = now
			s.transmit(now, r) // to the leader it named, at once
		}
	}
}

// notLeader takes in a NOT_LEADER hint: drone from follows leader of
// term. Call with s.mu held.
func (s *Station) notLeader(now time.Time, from, leader uint16, term uint32) {
	switch {
	case leader != 0 && leader != from && (term > s.term || term == s.term && s.leader != leader && (s.leader == 0 || s.leader == from)):
		s.setLeader(now, leader, term, "not-leader hint")
	case from == s.leader && term >= s.term:
		// The drone we took for the leader does not lead, and knows no
		// other: ask everyone until someone does.
		s.setLeader(now, 0, term, "not-leader hint")
	}
}

// Progress is how far a command at one log index has been applied.
type Progress struct {
	// Index is the command's log index.
	Index uint32
	// Applied are the drones whose last status shows the index applied.
	Applied []uint16
	// Pending are the live drones that have not applied it yet.
	Pending []uint16
	// Silent are the drones (heard before, or expected members) whose
	// status is too old to count as live and that had not applied it.
	Silent []uint16
}

// Done reports whether every live drone has applied the command.
func (p Progress) Done() bool { return len(p.Pending) == 0 && len(p.Applied) > 0 }

// String is a one-line account, e.g. "index 12: applied by 9, pending 3 7,
// silent 11".
func (p Progress) String() string {
	s := fmt.Sprintf("index %d: applied by %d", p.Index, len(p.Applied))
	if len(p.Pending) > 0 {
		s += fmt.Sprintf(", pending %v", p.Pending)
	}
	if len(p.Silent) > 0 {
		s += fmt.Sprintf(", silent %v", p.Silent)
	}
	return s
}

// Applied reports how far the command at log index has been applied: a
// drone has applied it when its last SWARM_STATUS.applied is at least
// index.
func (s *Station) Applied(index uint32) Progress {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.progress(index)
}

// progress computes Applied. Call with s.mu held.
func (s *Station) progress(index uint32) Progress {
	now := s.clock.Now()
	live := s.live()
	p := Progress{Index: index}
	ids := slices.Clone(s.members)
	for id, d := range s.drones {
		if d.statuses > 0 {
			ids = append(ids, id)
		}
	}
	slices.Sort(ids)
	for _, id := range slices.Compact(ids) {
		d := s.drones[id]
		switch {
		case d != nil && d.statuses > 0 && d.st.Applied >= index:
			p.Applied = append(p.Applied, id)
		case s.isLive(d, now, live):
			p.Pending = append(p.Pending, id)
		default:
			p.Silent = append(p.Silent, id)
		}
	}
	return p
}

// SendAndWait sends c (Send) and waits until every live drone has
// applied it (WaitApplied), both within ctx. When the command was
// accepted but not applied in time, the Result gives its index and the
// error (ErrNotApplied) names the drones that had not applied it.
func (s *Station) SendAndWait(ctx context.Context, c command.Command) (Result, Progress, error) {
	res, err := s.Send(ctx, c)
	if err != nil {
		return res, Progress{}, err
	}
	p, err := s.WaitApplied(ctx, res.Index)
	return res, p, err
}

// LastSeq returns the sequence number of the last command sent (FirstSeq
// - 1 before the first): store it to pass LastSeq()+1 as FirstSeq after a
// restart.
func (s *Station) LastSeq() uint32 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.seq
}

// WaitApplied waits until every live drone has applied the command at log
// index (Progress.Done), or ctx ends: then the error wraps ErrNotApplied
// and names the drones that had not applied it.
func (s *Station) WaitApplied(ctx context.Context, index uint32) (Progress, error) {
	for {
		s.mu.Lock()
		p := s.progress(index)
		changed := s.changed
		s.mu.Unlock()
		if p.Done() {
			return p, nil
		}
		select {
		case <-changed:
		case <-s.done:
			return p, fmt.Errorf("station: %s: %w", p, ErrClosed)
		case <-ctx.Done():
			s.mu.Lock()
			p = s.progress(index)
			s.mu.Unlock()
			if p.Done() {
				return p, nil
			}
			return p, fmt.Errorf("station: command at %s: %w: %w", p, ErrNotApplied, ctx.Err())
		}
	}
}
