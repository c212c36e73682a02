package airspace

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/clock"
	"github.com/skyquorum/skyquorum/algorithms/mutex"
)

// retryJump is how far a drone's Lamport clock jumps when it gives up a
// request that waited WaitTicks and asks again.
const retryJump = 1 << 16

// Defaults of Config.
const (
	DefaultLeaseTicks = 1000 // 10 s at the simulator's 10 ms tick
	DefaultDriftPPM   = 200
)

// Sentinel errors.
var (
	// ErrConfig: the configuration cannot work; the message names the field.
	ErrConfig = errors.New("airspace: bad configuration")
	// ErrBusy: an acquisition is already outstanding or held.
	ErrBusy = errors.New("airspace: an acquisition is already outstanding")
	// ErrNotHeld: nothing to release.
	ErrNotHeld = errors.New("airspace: no acquisition to release")
	// ErrNoCells: an acquisition of no cells.
	ErrNoCells = errors.New("airspace: no cells to acquire")
)

// Config configures a Locks core.
type Config struct {
	// ID is this drone's vehicle ID; it must have a quorum.
	ID algorithms.NodeID
	// Incarnation tells this start of the drone from every earlier one:
	// its requests carry it, and voters take requests and messages of
	// another incarnation for other requests. Only equality matters, so
	// a drone without persisted state may use a random boot nonce
	// (optional, default 0: a drone that never restarts).
	Incarnation uint32
	// Clock is the Lamport clock an earlier incarnation persisted
	// (Locks.Clock; optional): requests of this one are stamped after it.
	Clock uint32
	// Quorums gives every member's Maekawa quorum (mutex.Best, shared
	// read-only between the cores of a group).
	Quorums mutex.Quorums
	// LeaseTicks is how long a vote lasts from the request or renewal it
	// answers (optional, default 1000).
	LeaseTicks int
	// MarginTicks is how long before its lease ends a holder that could
	// not renew is told to leave: the time it needs to fly out (optional,
	// default LeaseTicks/10).
	MarginTicks int
	// DriftPPM bounds how much faster one drone's ticks may run than
	// another's, in parts per million (optional, default 200). Voters wait
	// LeaseTicks × (1 + DriftPPM/1e6) + 2 ticks before a vote expires.
	DriftPPM float64
	// RenewTicks is the age of the oldest vote at which the holder renews
	// (optional, default (LeaseTicks − MarginTicks)/3, so that two more
	// renewals fit before it must leave).
	RenewTicks int
	// RetryTicks is the shortest interval between two RENEWs to one voter
	// (optional, default RenewTicks). Messages travel over the reliable
	// delivery layer, so asking again sooner only adds to a congested
	// channel.
	RetryTicks int
	// AnswerTicks is how long a requester waits for a voter's YES to a
	// REQUEST or RENEW before it asks again (optional, default
	// LeaseTicks/10). These go as plain frames, and a lost one is asked
	// again: every AnswerTicks while the voter's vote is in hand (a
	// renewal), doubling after every further ask up to LeaseTicks while
	// it is not (the voter may hold the request queued, and answers only
	// when it votes).
	AnswerTicks int
	// WaitTicks is how long an acquisition may wait for its votes before
	// it gives them back and asks again, later in the order (optional,
	// default 3 × LeaseTicks). A requester that cannot reach one of its
	// voters, over a link that fails one way only, would otherwise hold
	// the votes it has for ever, and every later request for the cell
	// behind it.
	WaitTicks int
	// TickNanos is the length of a tick in nanoseconds; with BusyShare it
	// lets the core measure the channel (ChannelBusy).
	TickNanos int64
	// BusyShare, when positive, holds back the first REQUEST of an
	// acquisition made while the channel, averaged over about a second,
	// is busier than this share (optional, default 0: never). The held
	// acquisition starts once it has waited WaitTicks × (share − own) /
	// BusyShare, own being its staggered share (BusyStagger): at once
	// when the channel falls below its own share, and the longer the
	// farther the channel is above it, BusyHoldTicks at most. Every frame
	// counts in the measure, retransmissions and repairs included, so on
	// a lossy channel the swarm starts fewer acquisitions at once instead
	// of answering loss with more traffic.
	BusyShare float64
	// BusyStagger, in [0, 1), spreads the share below which a held-back
	// acquisition starts: its own share is BusyShare × (1 − BusyStagger ×
	// u), with u in [0, 1) drawn from the drone's ID and the tick the
	// acquisition began (optional, default 0). Without it, every drone
	// held back by the same busy channel sees it fall below BusyShare in
	// the same tick, and all start at once.
	BusyStagger float64
	// BusyHoldTicks is the longest a held-back acquisition waits for the
	// channel (optional, default 3 × WaitTicks).
	BusyHoldTicks int
}

type vote struct {
	grant uint32
	basis int64 // requester's tick when it sent what the vote answers
	lease int64
}

// request is the drone's own request for one cell.
type request struct {
	stamp        clock.Stamp
	held         bool
	votes        map[algorithms.NodeID]vote
	relinquished map[algorithms.NodeID]uint32 // highest grant given back
	// asked is when this drone last sent the voter (others only) a
	// REQUEST or RENEW of this request.
	asked map[algorithms.NodeID]int64
	// unanswered holds the voters whose last REQUEST or RENEW has had no
	// YES yet, with the number of asks since the last YES.
	unanswered map[algorithms.NodeID]int
}

// candidate is the request a voter currently votes for.
type candidate struct {
	stamp   clock.Stamp
	inc     uint32 // the requester's incarnation
	grant   uint32
	expires int64 // voter tick
	sent    uint32
}

type queued struct {
	stamp clock.Stamp
	inc   uint32
	sent  uint32
}

// voter is the drone's voter state for one cell.
type voter struct {
	cand     *candidate
	inquired bool
	queue    []queued // sorted by stamp
}

// acquisition is the drone's set of cells, taken in increasing order.
type acquisition struct {
	cells    []Cell
	next     int // index of the cell being requested; len(cells) when all held
	acquired bool
	since    int64 // tick of the Acquire, or of the last retry
	// held back: the first REQUEST waits for the channel (BusyShare).
	held bool
}

// pendingRelease is a RELEASE held back while the drone flies out of a
// cell it was told to leave: its voters must not give the cell to another
// drone before then.
type pendingRelease struct {
	cell Cell
	ts   uint32
	to   []algorithms.NodeID
	self bool
	at   int64
}

type dropKey struct {
	cell Cell
	ts   uint32
}

// Counters are a Locks core's tallies.
type Counters struct {
	// Stale counts messages of an earlier request or vote, ignored.
	Stale int
	// VotesExpired counts votes that ran out at this voter.
	VotesExpired int
	// Expired counts acquisitions this drone lost for want of renewal.
	Expired int
	// Renewals counts RENEW rounds sent.
	Renewals int
	// Retries counts acquisitions given up and asked again after
	// WaitTicks.
	Retries int
	// Misaddressed counts messages ignored because sender and receiver
	// disagree on the quorums: one of them has switched to a new view
	// (SetQuorums) and the other not yet.
	Misaddressed int
	// Fenced counts votes and renewals withheld while fenced (SetFenced,
	// Retire).
	Fenced int
	// HeldBack counts acquisitions whose first REQUEST waited for a busy
	// channel (Config.BusyShare).
	HeldBack int
}

// Locks is the lease-aware Maekawa core of one drone: airspace cells as
// mutex resources, several taken in increasing ID order, every vote a
// lease. It is not safe for concurrent use.
type Locks struct {
	algorithms.Outbox
	cfg            Config
	guard          int64 // voter's wait beyond the lease
	id             algorithms.NodeID
	inc            uint32
	quorums        mutex.Quorums
	quorum, others []algorithms.NodeID
	selfVote       bool
	now            int64
	quietUntil     int64
	voteSoon       int64 // no vote runs out before this tick (tickVoters)
	clock          clock.Lamport
	grants         uint32
	fenced         bool // votes nobody, renews nothing (SetFenced)
	retired        bool // no longer a voter (Retire)
	voters         map[Cell]*voter
	later          []pendingRelease
	// dropped holds the requests this drone gave up, with the tick from
	// which it is out of the cell, so that a vote still coming for one
	// (its RELEASE was lost: it goes as a plain frame) is released again.
	dropped  map[dropKey]int64
	reqs     map[Cell]*request
	acq      *acquisition
	counters Counters
	// busyTick is the channel's busy time reported since the last Tick,
	// busySeen the total at the last report, and busyShare the running
	// average of the busy share per tick, in parts per million (integer
	// arithmetic: every platform computes the same).
	busyTick, busySeen, busyShare int64
	// srtt8 and rttvar4 estimate the round trip of a renewal, from the
	// send time a YES echoes (Jacobson's estimator, in ticks × 8 and × 4:
	// integer arithmetic, the same on every platform); rttSeen says a
	// sample has come.
	srtt8, rttvar4 int64
	rttSeen        bool
}

var (
	_ algorithms.Core         = (*Locks)(nil)
	_ algorithms.PeerObserver = (*Locks)(nil)
)

// New returns the core of drone cfg.ID. A new core, whether at the swarm's
// start or after a restart that lost its state, votes for nobody during
// its first LeaseTicks + guard ticks: votes its previous incarnation gave
// may still be in use.
func New(cfg Config) (*Locks, error) {
	if cfg.LeaseTicks == 0 {
		cfg.LeaseTicks = DefaultLeaseTicks
	}
	if cfg.MarginTicks == 0 {
		cfg.MarginTicks = max(cfg.LeaseTicks/10, 1)
	}
	if cfg.DriftPPM == 0 {
		cfg.DriftPPM = DefaultDriftPPM
	}
	if cfg.RenewTicks == 0 {
		cfg.RenewTicks = max((cfg.LeaseTicks-cfg.MarginTicks)/3, 1)
	}
	if cfg.RetryTicks == 0 {
		cfg.RetryTicks = cfg.RenewTicks
	}
	if cfg.WaitTicks == 0 {
		cfg.WaitTicks = 3 * cfg.LeaseTicks
	}
	if cfg.AnswerTicks == 0 {
		cfg.AnswerTicks = max(cfg.LeaseTicks/10, 1)
	}
	if cfg.BusyHoldTicks == 0 {
		cfg.BusyHoldTicks = 3 * cfg.WaitTicks
	}
	own, ok := cfg.Quorums[cfg.ID]
	switch {
	case !ok || len(own) == 0:
		return nil, fmt.Errorf("%w: drone %d has no quorum", ErrConfig, cfg.ID)
	case cfg.LeaseTicks < 2:
		return nil, fmt.Errorf("%w: LeaseTicks %d", ErrConfig, cfg.LeaseTicks)
	case cfg.MarginTicks < 0 || cfg.MarginTicks >= cfg.LeaseTicks:
		return nil, fmt.Errorf("%w: MarginTicks %d not in [0, LeaseTicks)", ErrConfig, cfg.MarginTicks)
	case cfg.DriftPPM < 0 || cfg.DriftPPM >= 1e6:
		return nil, fmt.Errorf("%w: DriftPPM %v", ErrConfig, cfg.DriftPPM)
	case cfg.RenewTicks < 1 || cfg.RenewTicks >= cfg.LeaseTicks-cfg.MarginTicks:
		return nil, fmt.Errorf("%w: RenewTicks %d not in [1, LeaseTicks − MarginTicks)", ErrConfig, cfg.RenewTicks)
	case cfg.RetryTicks < 1:
		return nil, fmt.Errorf("%w: RetryTicks %d", ErrConfig, cfg.RetryTicks)
	case cfg.AnswerTicks < 1:
		return nil, fmt.Errorf("%w: AnswerTicks %d", ErrConfig, cfg.AnswerTicks)
	case cfg.WaitTicks < 1:
		return nil, fmt.Errorf("%w: WaitTicks %d", ErrConfig, cfg.WaitTicks)
	case cfg.BusyShare < 0 || cfg.BusyShare >= 1:
		return nil, fmt.Errorf("%w: BusyShare %v not in [0, 1)", ErrConfig, cfg.BusyShare)
	case cfg.BusyStagger < 0 || cfg.BusyStagger >= 1:
		return nil, fmt.Errorf("%w: BusyStagger %v not in [0, 1)", ErrConfig, cfg.BusyStagger)
	}
	quorum, others := normalize(cfg.ID, own)
	l := &Locks{
		cfg:      cfg,
		guard:    int64(math.Ceil(float64(cfg.LeaseTicks)*cfg.DriftPPM/1e6)) + 2,
		id:       cfg.ID,
		inc:      cfg.Incarnation,
		quorums:  cfg.Quorums,
		quorum:   quorum,
		others:   others,
		selfVote: len(others) < len(quorum),
		voters:   map[Cell]*voter{},
		reqs:     map[Cell]*request{},
		dropped:  map[dropKey]int64{},
	}
	l.quietUntil = int64(cfg.LeaseTicks) + l.guard
	l.voteSoon = math.MaxInt64
	if cfg.Clock > 0 {
		l.clock.Witness(cfg.Clock)
	}
	return l, nil
}

// normalize returns a quorum sorted without repeats, and its members other
// than id.
func normalize(id algorithms.NodeID, own []algorithms.NodeID) (quorum, others []algorithms.NodeID) {
	quorum = slices.Compact(slices.Sorted(slices.Values(own)))
	others = slices.DeleteFunc(slices.Clone(quorum), func(v algorithms.NodeID) bool { return v == id })
	return quorum, others
}

// GuardTicks is how long past a lease a voter waits before it votes again:
// LeaseTicks × DriftPPM/1e6, rounded up, plus two ticks.
func (l *Locks) GuardTicks() int64 { return l.guard }

// MarginTicks is how long a holder told to leave (Expired) has to fly out
// before its lease ends.
func (l *Locks) MarginTicks() int64 { return int64(l.cfg.MarginTicks) }

// LeaseTicks is the lease of a vote, in ticks.
func (l *Locks) LeaseTicks() int64 { return int64(l.cfg.LeaseTicks) }

// Clock returns the drone's Lamport clock, for the swarm node to persist
// (Config.Clock).
func (l *Locks) Clock() uint32 { return l.clock.Now() }

// Incarnation returns the incarnation the drone's requests carry.
func (l *Locks) Incarnation() uint32 { return l.inc }

// Now returns the core's tick count.
func (l *Locks) Now() int64 { return l.now }

// Counters returns the core's tallies.
func (l *Locks) Counters() Counters { return l.counters }

// Quorum returns the drone's own quorum.
func (l *Locks) Quorum() []algorithms.NodeID { return slices.Clone(l.quorum) }

// Acquire asks for every cell of cells (a path), all or nothing: the cells
// are taken one at a time in increasing ID order, so that two drones that
// want overlapping sets never wait for each other in a cycle, and Acquired
// is emitted once all are held. One acquisition at a time.
func (l *Locks) Acquire(cells []Cell) error {
	if l.acq != nil {
		return fmt.Errorf("airspace: acquire %v: %w", cells, ErrBusy)
	}
	if len(cells) == 0 {
		return ErrNoCells
	}
	sorted := slices.Clone(cells)
	slices.Sort(sorted)
	l.acq = &acquisition{cells: slices.Compact(sorted), since: l.now}
	if l.channelBusy() {
		l.acq.held = true
		l.counters.HeldBack++
		return nil
	}
	l.requestNext()
	return nil
}

// busyMemory is how many ticks the channel's busy share is averaged over
// (an exponential average).
const busyMemory = 100

// ChannelBusy tells the core how long, in nanoseconds since the start, the
// drone's radio channel has carried frames, everyone's included (see
// Config.BusyShare). Call it before each Tick.
func (l *Locks) ChannelBusy(total int64) {
	if total > l.busySeen {
		l.busyTick += total - l.busySeen
		l.busySeen = total
	}
}

// BusyShare returns the channel's busy share as the core measures it, in
// [0, 1].
func (l *Locks) BusyShare() float64 { return float64(l.busyShare) / 1e6 }

// stagger returns the held-back acquisition a's own number u in [0, 1): a
// splitmix64 of the drone and the acquisition's first tick, so that the
// same inputs give the same number and no global randomness is read.
func (l *Locks) stagger(a *acquisition) float64 {
	h := uint64(l.cfg.ID)*0x9e3779b97f4a7c15 ^ uint64(a.since)*0xbf58476d1ce4e5b9
	h ^= h >> 31
	h *= 0x94d049bb133111eb
	h ^= h >> 29
	return float64(h>>11) / (1 << 53)
}

// holdTicks is how long the held-back acquisition a may wait for the
// channel at its present busy share: WaitTicks × (share − own)/BusyShare,
// where own is the acquisition's staggered share BusyShare × (1 −
// BusyStagger × u), and BusyHoldTicks at most. Nothing once the channel
// is below its own share; the farther above, the longer. Integer
// arithmetic: every platform computes the same.
func (l *Locks) holdTicks(a *acquisition) int64 {
	budget := int64(l.cfg.BusyShare * 1e6)
	own := budget - int64(l.cfg.BusyShare*l.cfg.BusyStagger*l.stagger(a)*1e6)
	if budget <= 0 || l.busyShare <= own {
		return 0
	}
	return min(int64(l.cfg.WaitTicks)*(l.busyShare-own)/budget, int64(l.cfg.BusyHoldTicks))
}

// channelBusy reports whether the channel is busier than BusyShare.
func (l *Locks) channelBusy() bool { return l.busierThan(1) }

// busierThan reports whether the channel is busier than the share f ×
// BusyShare; never without BusyShare.
func (l *Locks) busierThan(f float64) bool {
	return l.cfg.BusyShare > 0 && float64(l.busyShare) > l.cfg.BusyShare*f*1e6
}

// Release gives up the acquisition, held or still outstanding.
func (l *Locks) Release() error {
	if l.acq == nil {
		return ErrNotHeld
	}
	l.dropAcquisition(false)
	return nil
}

// Holding reports whether the drone holds its whole acquisition.
func (l *Locks) Holding() bool { return l.acq != nil && l.acq.acquired }

// Cells returns the cells of the current acquisition (nil when none).
func (l *Locks) Cells() []Cell {
	if l.acq == nil {
		return nil
	}
	return slices.Clone(l.acq.cells)
}

// LeaveBy returns the tick by which the drone must have left its cells
// unless it renews first: the earliest of its cells' lease ends, less
// MarginTicks. It is false when the drone holds no cell.
func (l *Locks) LeaveBy() (int64, bool) {
	if l.acq == nil {
		return 0, false
	}
	at, ok := int64(math.MaxInt64), false
	for _, c := range l.acq.cells {
		if r := l.reqs[c]; r != nil && r.held {
			at, ok = min(at, l.leaveBy(r)), true
		}
	}
	return at, ok
}

// Requester side.

func (l *Locks) requestNext() {
	a := l.acq
	c := a.cells[a.next]
	r := &request{
		stamp:        clock.Stamp{T: l.clock.Tick(), ID: uint16(l.id)},
		votes:        map[algorithms.NodeID]vote{},
		relinquished: map[algorithms.NodeID]uint32{},
		asked:        make(map[algorithms.NodeID]int64, len(l.others)),
		unanswered:   make(map[algorithms.NodeID]int, len(l.others)),
	}
	for _, v := range l.others {
		r.asked[v] = l.now
		r.unanswered[v] = 1
	}
	l.reqs[c] = r
	if len(l.others) > 0 {
		l.Send(algorithms.To(l.others...), Request{Cell: c, TS: r.stamp.T, Sent: uint32(l.now), Inc: l.inc})
	}
	if l.selfVote {
		l.voterRequest(c, r.stamp, l.inc, uint32(l.now))
	}
	l.checkHeld(c)
}

func (l *Locks) leaveBy(r *request) int64 {
	at := int64(math.MaxInt64)
	for _, v := range r.votes {
		at = min(at, v.basis+v.lease-int64(l.cfg.MarginTicks))
	}
	return at
}

// checkHeld enters cell c when the whole quorum has voted and every vote
// has at least RenewTicks of its lease left (a vote given from the queue
// may echo an old stamp, and a waiting request does not renew its votes:
// they are renewed now, and their renewal awaited rather than entering
// only to leave at once), and moves the acquisition on.
func (l *Locks) checkHeld(c Cell) {
	r := l.reqs[c]
	if r == nil || r.held || len(r.votes) < len(l.quorum) {
		return
	}
	var stale []algorithms.NodeID
	fresh, self := true, false
	for _, id := range l.quorum {
		v := r.votes[id]
		if l.now+int64(l.cfg.RenewTicks) <= v.basis+v.lease-int64(l.cfg.MarginTicks) {
			continue
		}
		fresh = false
		switch {
		case id == l.id:
			self = true
		case r.unanswered[id] == 0:
			stale = append(stale, id)
		}
	}
	if !fresh {
		// Every voter has voted, but some votes are too old to enter
		// on: renew them all at once, in one frame, except those
		// whose renewal is already on its way.
		if self || len(stale) > 0 {
			l.renew(c, r, stale, self)
		}
		return
	}
	r.held = true
	a := l.acq
	if a == nil || a.acquired || a.cells[a.next] != c {
		return
	}
	a.next++
	a.since = l.now // WaitTicks bounds the wait for each cell
	if a.next < len(a.cells) {
		l.requestNext()
		return
	}
	a.acquired = true
	at, _ := l.LeaveBy()
	l.Emit(Acquired{Cells: slices.Clone(a.cells), LeaveBy: at})
}

// yes counts a vote, or renews one.
func (l *Locks) yes(c Cell, from algorithms.NodeID, m Yes) {
	if m.Inc != l.inc || int64(m.Sent) > l.now {
		// A vote for a request of an earlier incarnation of this
		// drone, which may still be in the cell until the vote's lease
		// ends: leave it alone. Its send time is a tick of the old
		// incarnation's count, which means nothing to this one.
		l.counters.Stale++
		return
	}
	r := l.reqs[c]
	if r == nil || r.stamp.T != m.TS {
		// A vote for a request this drone no longer has. If this
		// incarnation gave the request up and is out of the cell, its
		// RELEASE was lost: send it again.
		l.counters.Stale++
		if at, ok := l.dropped[dropKey{c, m.TS}]; ok && l.now >= at && from != l.id {
			l.Send(algorithms.To(from), Release{Cell: c, TS: m.TS, Inc: l.inc})
		}
		return
	}
	if m.Grant <= r.relinquished[from] {
		l.counters.Stale++
		return
	}
	v := vote{grant: m.Grant, basis: int64(m.Sent), lease: min(int64(m.Lease), int64(l.cfg.LeaseTicks))}
	if old, ok := r.votes[from]; ok && old.grant == m.Grant {
		v.basis = max(v.basis, old.basis)
	} else if ok && v.basis < old.basis {
		// A late copy of an earlier vote (YES goes as a plain frame):
		// the vote in hand answers a later question.
		l.counters.Stale++
		return
	}
	if old, ok := r.votes[from]; ok && old.grant == m.Grant && from != l.id {
		// The voter answers a renewal at once, echoing the latest ask it
		// heard: the round trip of that ask, queueing included. A vote
		// handed from the queue echoes an older ask, and is no sample.
		l.sampleRTT(l.now - int64(m.Sent))
	}
	r.votes[from] = v
	delete(r.unanswered, from)
	if r.held && from != l.id && l.now-v.basis >= int64(l.cfg.RenewTicks) && l.now-r.asked[from] >= int64(l.cfg.RetryTicks) {
		// A vote given from the queue echoes what the voter last heard
		// from this drone, which may be old: refresh it now.
		l.renew(c, r, []algorithms.NodeID{from}, false)
	}
	l.checkHeld(c)
}

// inquire answers a voter's INQUIRE: give the vote back while the cell is
// still wanted (Sanders' rule); a holder ignores it, its RELEASE follows.
func (l *Locks) inquire(c Cell, from algorithms.NodeID, m Inquire) {
	r := l.reqs[c]
	if r == nil || r.stamp.T != m.TS || m.Inc != l.inc || r.held {
		return
	}
	delete(r.votes, from)
	r.relinquished[from] = max(r.relinquished[from], m.Grant)
	back := Relinquish{Cell: c, TS: m.TS, Grant: m.Grant, Inc: l.inc}
	if from == l.id {
		l.voterRelinquish(c, l.id, back)
		return
	}
	l.Send(algorithms.To(from), back)
}

// dropAcquisition releases every cell requested so far. When the drone is
// leaving cells it held (leaving: told to by Expired), the RELEASEs of
// those cells wait MarginTicks, the time it has to fly out; the others go
// at once.
func (l *Locks) dropAcquisition(leaving bool) {
	for _, c := range l.acq.cells {
		r := l.reqs[c]
		if r == nil {
			continue
		}
		delete(l.reqs, c)
		if leaving && r.held {
			at := l.now + int64(l.cfg.MarginTicks)
			l.dropped[dropKey{c, r.stamp.T}] = at
			l.later = append(l.later, pendingRelease{
				cell: c, ts: r.stamp.T, to: slices.Clone(l.others), self: l.selfVote, at: at,
			})
			continue
		}
		l.dropped[dropKey{c, r.stamp.T}] = l.now
		l.release(c, r.stamp.T, l.others, l.selfVote)
	}
	l.acq = nil
}

func (l *Locks) release(c Cell, ts uint32, to []algorithms.NodeID, self bool) {
	if len(to) > 0 {
		l.Send(algorithms.To(to...), Release{Cell: c, TS: ts, Inc: l.inc})
	}
	if self {
		l.voterRelease(c, l.id, ts, l.inc)
	}
}

// tickReleases sends the RELEASEs whose margin has passed, and forgets
// given-up requests whose votes have run out anyway.
func (l *Locks) tickReleases() {
	if l.now%int64(l.cfg.LeaseTicks) == 0 {
		for k, at := range l.dropped {
			if l.now-at > int64(l.cfg.LeaseTicks)+l.guard {
				delete(l.dropped, k)
			}
		}
	}
	n := 0
	for _, p := range l.later {
		if l.now >= p.at {
			l.release(p.cell, p.ts, p.to, p.self)
			continue
		}
		l.later[n] = p
		n++
	}
	l.later = l.later[:n]
}

// tickRequests expires what can no longer be renewed in time and renews
// what is due.
func (l *Locks) tickRequests() {
	if l.acq == nil {
		return
	}
	if l.acq.held {
		// Held back by a busy channel: ask once it has waited as long
		// as the channel's share asks (holdTicks), at once when it is
		// below the acquisition's own share. The wait for votes counts
		// from then.
		if l.now-l.acq.since >= l.holdTicks(l.acq) {
			l.acq.held = false
			l.acq.since = l.now
			l.requestNext()
		}
		return
	}
	var held []Cell
	due := false
	for _, c := range l.acq.cells {
		if r := l.reqs[c]; r != nil && r.held {
			held = append(held, c)
			due = due || l.now >= l.leaveBy(r)
		}
	}
	if due {
		l.counters.Expired++
		l.Emit(Expired{Cells: held})
		l.dropAcquisition(l.acq.acquired)
		return
	}
	if !l.acq.acquired && l.now-l.acq.since >= int64(l.cfg.WaitTicks) {
		// Waited too long: give every vote back, and ask again with
		// new timestamps, behind the requests that came meanwhile. Cells
		// already held are given back too: all or nothing.
		// The drone never entered: Acquired comes with the last cell.
		// The Lamport clock jumps, so that the new requests go behind
		// those made meanwhile, which it may not have seen: clocks
		// advance by one per request a drone sees, far fewer than
		// retryJump in a show.
		l.counters.Retries++
		cells := l.acq.cells
		l.dropAcquisition(false)
		if l.clock.Now() < math.MaxUint32-retryJump {
			l.clock.Witness(l.clock.Now() + retryJump)
		}
		_ = l.Acquire(cells)
		return
	}
	for _, c := range l.acq.cells {
		r := l.reqs[c]
		if r == nil {
			continue
		}
		// A held request renews the votes that are getting old; when one
		// renewal is due, votes past half their renewal age join it, so
		// that the votes of a request stay in step and cost one frame a
		// round. A request still waiting for votes only keeps them: it
		// renews a vote once it is LeaseTicks − MarginTicks − RenewTicks
		// old (the latest at which the renewed vote still counts when
		// the last one comes), never while a renewal is unanswered, and
		// renews the old ones all at once when the last voter has voted
		// (checkHeld). Either asks the voters that have not voted again
		// once a lease, in case one of them restarted and lost the
		// request.
		var due, soon []algorithms.NodeID
		keep := int64(l.cfg.LeaseTicks - l.cfg.MarginTicks - l.cfg.RenewTicks)
		for _, id := range l.others {
			v, ok := r.votes[id]
			asked := l.now - r.asked[id]
			switch {
			case r.unanswered[id] > 0 && asked >= l.answerWait(r.unanswered[id], ok, v.basis+v.lease-int64(l.cfg.MarginTicks)-l.now):
				due = append(due, id)
			case !ok && asked >= int64(l.cfg.LeaseTicks):
				due = append(due, id)
			case !ok:
			case !r.held:
				if l.now-v.basis >= keep && asked >= int64(l.cfg.RetryTicks) && r.unanswered[id] == 0 {
					due = append(due, id)
				}
			case l.now-v.basis >= int64(l.cfg.RenewTicks) && asked >= int64(l.cfg.RetryTicks):
				due = append(due, id)
			case l.now-v.basis >= int64(l.cfg.RenewTicks/2) && asked >= int64(l.cfg.RetryTicks/2):
				soon = append(soon, id)
			}
		}
		if len(due) > 0 {
			due = append(due, soon...)
			slices.Sort(due)
		}
		self := false
		// The drone's own vote costs no airtime: it is renewed whether
		// held or waiting.
		if v, ok := r.votes[l.id]; ok && l.now-v.basis >= int64(l.cfg.RenewTicks) {
			self = true
		}
		if len(due) > 0 || self {
			l.renew(c, r, due, self)
		}
	}
}

// answerWait is how long a requester waits for a YES after its asks-th
// unanswered REQUEST or RENEW to a voter: AnswerTicks while it holds the
// voter's vote, doubling from AnswerTicks up to LeaseTicks while not. A
// held vote that forces its holder out within left ticks is asked for
// sooner, a quarter of what is left (AnswerTicks/4 at the least): a
// holder that meets a run of lost frames at the end of a vote still has
// several asks before it must leave, not the one or two a whole
// AnswerTicks apart would give it.
//
// Never sooner than the round trip measured (rto): when the channel is
// full, frames wait in the sender's queue for seconds, and an ask queued
// behind the last one adds to the queue without coming sooner.
func (l *Locks) answerWait(asks int, voted bool, left int64) int64 {
	w := int64(l.cfg.AnswerTicks)
	if voted {
		return max(min(w, left/4), max(w/4, 1), l.rto())
	}
	return max(min(w<<min(asks-1, 20), int64(max(l.cfg.RetryTicks, l.cfg.AnswerTicks))), l.rto())
}

// sampleRTT takes one round trip of a renewal, in ticks, into the
// estimate (gains 1/8 and 1/4, as TCP's).
func (l *Locks) sampleRTT(rtt int64) {
	rtt = max(rtt, 0)
	if !l.rttSeen {
		l.rttSeen = true
		l.srtt8, l.rttvar4 = rtt<<3, rtt<<1
		return
	}
	err := rtt - l.srtt8>>3
	l.srtt8 += err
	if err < 0 {
		err = -err
	}
	l.rttvar4 += err - l.rttvar4>>2
}

// rto is the shortest wait for the answer to an ask: the smoothed round
// trip and four times its deviation, LeaseTicks at most; 0 before the
// first sample.
func (l *Locks) rto() int64 {
	if !l.rttSeen {
		return 0
	}
	return min(l.srtt8>>3+l.rttvar4, int64(l.cfg.LeaseTicks))
}

// renew sends RENEW to the voters to (one frame) and renews the drone's
// vote for itself when self is set.
func (l *Locks) renew(c Cell, r *request, to []algorithms.NodeID, self bool) {
	m := Renew{Cell: c, TS: r.stamp.T, Sent: uint32(l.now), Inc: l.inc}
	if len(to) > 0 {
		l.counters.Renewals++
		for _, id := range to {
			r.asked[id] = l.now
			r.unanswered[id]++
		}
		l.Send(algorithms.To(to...), m)
	}
	if self {
		l.voterRenew(c, l.id, m)
	}
}

// Voter side.

func (l *Locks) voterOf(c Cell) *voter {
	v := l.voters[c]
	if v == nil {
		v = &voter{}
		l.voters[c] = v
	}
	return v
}

// voterRequest applies REQUEST(ts, j) of j's incarnation inc: drop j's
// earlier queued requests, and those of its other incarnations (their
// RELEASE was lost with a restart or a partition; a vote j holds is left
// to its lease), then vote if free or queue, and inquire the candidate if
// the request is earlier and no INQUIRE is out. A request of another
// incarnation is another request, even with the same timestamp: the vote
// of the old one is neither extended nor handed over.
func (l *Locks) voterRequest(c Cell, s clock.Stamp, inc, sent uint32) {
	v := l.voterOf(c)
	v.queue = slices.DeleteFunc(v.queue, func(q queued) bool {
		return q.stamp.ID == s.ID && (q.inc != inc || q.stamp.T < s.T)
	})
	if v.cand != nil && v.cand.stamp == s && v.cand.inc == inc {
		l.voterRenew(c, algorithms.NodeID(s.ID), Renew{Cell: c, TS: s.T, Sent: sent, Inc: inc})
		return
	}
	if i := slices.IndexFunc(v.queue, func(q queued) bool { return q.stamp == s }); i >= 0 {
		v.queue[i].sent = max(v.queue[i].sent, sent)
		return
	}
	i, _ := slices.BinarySearchFunc(v.queue, s, func(q queued, t clock.Stamp) int { return q.stamp.Compare(t) })
	v.queue = slices.Insert(v.queue, i, queued{stamp: s, inc: inc, sent: sent})
	if v.cand == nil {
		l.voterNext(c)
		return
	}
	if v.cand.stamp.ID == s.ID {
		// The candidate is an earlier incarnation of the requester: it
		// cannot give the vote back, which runs out with its lease.
		return
	}
	if s.Less(v.cand.stamp) && !v.inquired {
		v.inquired = true
		to := algorithms.NodeID(v.cand.stamp.ID)
		m := Inquire{Cell: c, TS: v.cand.stamp.T, Grant: v.cand.grant, Inc: v.cand.inc}
		if to == l.id {
			l.inquire(c, to, m)
			return
		}
		l.Send(algorithms.To(to), m)
	}
}

// voterRenew extends the vote of the candidate that renews, re-queues a
// request the voter had dropped, and refreshes a queued one.
func (l *Locks) voterRenew(c Cell, from algorithms.NodeID, m Renew) {
	s := clock.Stamp{T: m.TS, ID: uint16(from)}
	v := l.voterOf(c)
	if v.cand != nil && v.cand.stamp == s && v.cand.inc == m.Inc {
		if l.fenced || l.retired {
			// A fenced voter may no longer be in the view: the vote
			// runs out with its lease.
			l.counters.Fenced++
			return
		}
		v.cand.expires = max(v.cand.expires, l.now+int64(l.cfg.LeaseTicks)+l.guard)
		v.cand.sent = max(v.cand.sent, m.Sent)
		l.sendYes(c, v.cand)
		return
	}
	l.voterRequest(c, s, m.Inc, m.Sent)
}

// voterRelinquish takes vote Grant back: the candidate rejoins the queue
// and the earliest request gets the vote.
func (l *Locks) voterRelinquish(c Cell, from algorithms.NodeID, m Relinquish) {
	v := l.voters[c]
	if v == nil || v.cand == nil || v.cand.stamp != (clock.Stamp{T: m.TS, ID: uint16(from)}) ||
		v.cand.inc != m.Inc || v.cand.grant != m.Grant {
		l.counters.Stale++
		return
	}
	back := queued{stamp: v.cand.stamp, inc: v.cand.inc, sent: v.cand.sent}
	i, _ := slices.BinarySearchFunc(v.queue, back.stamp, func(q queued, t clock.Stamp) int { return q.stamp.Compare(t) })
	v.queue = slices.Insert(v.queue, i, back)
	v.cand, v.inquired = nil, false
	l.voterNext(c)
}

// voterRelease frees the vote of request ts of from's incarnation inc, or
// takes it out of the queue.
func (l *Locks) voterRelease(c Cell, from algorithms.NodeID, ts, inc uint32) {
	v := l.voters[c]
	if v == nil {
		return
	}
	s := clock.Stamp{T: ts, ID: uint16(from)}
	v.queue = slices.DeleteFunc(v.queue, func(q queued) bool { return q.stamp == s && q.inc == inc })
	if v.cand != nil && v.cand.stamp == s && v.cand.inc == inc {
		l.voterFree(c)
		return
	}
	if v.cand == nil && len(v.queue) == 0 {
		delete(l.voters, c)
	}
}

// voterFree ends the current vote and passes it on.
func (l *Locks) voterFree(c Cell) {
	v := l.voters[c]
	v.cand, v.inquired = nil, false
	l.voterNext(c)
}

// voterNext gives the vote to the earliest queued request, unless the
// voter is still in its quiet period after a start.
func (l *Locks) voterNext(c Cell) {
	v := l.voters[c]
	if v.cand != nil {
		return
	}
	if len(v.queue) == 0 {
		delete(l.voters, c)
		return
	}
	if l.now < l.quietUntil {
		return
	}
	if l.fenced || l.retired {
		l.counters.Fenced++
		return
	}
	q := v.queue[0]
	v.queue = v.queue[1:]
	l.grants++
	v.cand = &candidate{stamp: q.stamp, inc: q.inc, grant: l.grants, expires: l.now + int64(l.cfg.LeaseTicks) + l.guard, sent: q.sent}
	l.voteSoon = min(l.voteSoon, v.cand.expires)
	l.sendYes(c, v.cand)
}

func (l *Locks) sendYes(c Cell, cand *candidate) {
	m := Yes{Cell: c, TS: cand.stamp.T, Grant: cand.grant, Sent: cand.sent, Lease: uint32(l.cfg.LeaseTicks), Inc: cand.inc}
	to := algorithms.NodeID(cand.stamp.ID)
	if to == l.id {
		l.yes(c, to, m)
		return
	}
	l.Send(algorithms.To(to), m)
}

// tickVoters lets votes whose lease and guard have run out expire, and
// ends the quiet period.
//
// voteSoon is at most the earliest end of a vote (a vote is only ever
// extended), so a tick before it, and not the end of the quiet period,
// has nothing to do: most ticks at most voters.
func (l *Locks) tickVoters() {
	if l.now < l.voteSoon && l.now != l.quietUntil {
		return
	}
	next := int64(math.MaxInt64)
	l.voteSoon = next // votes granted in the loop lower it again
	for _, c := range sortedCells(l.voters) {
		v := l.voters[c]
		if v == nil {
			continue
		}
		if v.cand != nil && l.now < v.cand.expires {
			next = min(next, v.cand.expires)
		}
		if v.cand != nil && l.now >= v.cand.expires {
			holder := algorithms.NodeID(v.cand.stamp.ID)
			l.counters.VotesExpired++
			l.Emit(VoteExpired{Cell: c, Holder: holder})
			l.voterFree(c)
			continue
		}
		if v.cand == nil && l.now == l.quietUntil {
			l.voterNext(c)
		}
	}
	l.voteSoon = min(l.voteSoon, next)
}

// Step implements algorithms.Core.
func (l *Locks) Step(from algorithms.NodeID, msg algorithms.Message) error {
	if from == l.id {
		return fmt.Errorf("airspace: %s from the drone itself", msg.Kind())
	}
	switch m := msg.(type) {
	case Request:
		if !slices.Contains(l.quorums[from], l.id) || l.retired {
			l.counters.Misaddressed++
			return nil
		}
		l.clock.Witness(m.TS)
		l.voterRequest(m.Cell, clock.Stamp{T: m.TS, ID: uint16(from)}, m.Inc, m.Sent)
	case Renew:
		if !slices.Contains(l.quorums[from], l.id) || l.retired {
			l.counters.Misaddressed++
			return nil
		}
		l.clock.Witness(m.TS)
		l.voterRenew(m.Cell, from, m)
	case Relinquish:
		l.voterRelinquish(m.Cell, from, m)
	case Release:
		l.voterRelease(m.Cell, from, m.TS, m.Inc)
	case Yes:
		if _, ok := slices.BinarySearch(l.quorum, from); !ok {
			l.counters.Misaddressed++
			return nil
		}
		l.yes(m.Cell, from, m)
	case Inquire:
		if _, ok := slices.BinarySearch(l.quorum, from); !ok {
			l.counters.Misaddressed++
			return nil
		}
		l.inquire(m.Cell, from, m)
	default:
		return algorithms.Unknown("airspace", msg)
	}
	return nil
}

// Box implements algorithms.Boxed: Ready is the Outbox's.
func (l *Locks) Box() *algorithms.Outbox { return &l.Outbox }

// Tick implements algorithms.Core: leases run out, renewals go out.
func (l *Locks) Tick() {
	l.now++
	if l.cfg.TickNanos > 0 {
		sample := min(l.busyTick*1e6/l.cfg.TickNanos, 1e6)
		l.busyShare += (sample - l.busyShare) / busyMemory
		l.busyTick = 0
	}
	l.tickReleases()
	l.tickVoters()
	l.tickRequests()
}

// PeerDown implements algorithms.PeerObserver: the suspect's queued
// requests are dropped. A vote it holds is not taken back: the suspect may
// only be cut off and still inside the cell, so its vote runs out with its
// lease.
func (l *Locks) PeerDown(id algorithms.NodeID) {
	for _, c := range sortedCells(l.voters) {
		v := l.voters[c]
		v.queue = slices.DeleteFunc(v.queue, func(q queued) bool { return q.stamp.ID == uint16(id) })
		if v.cand == nil && len(v.queue) == 0 {
			delete(l.voters, c)
		}
	}
}

// SetFenced stops (true) or resumes (false) the drone's voting: a fenced
// voter grants no vote and extends none, so every vote it gave runs out
// with its lease; requests still queue. The swarm node fences a voter that
// may have missed a change of view (see swarm.Node).
func (l *Locks) SetFenced(fenced bool) {
	if l.fenced == fenced {
		return
	}
	l.fenced = fenced
	if !fenced {
		for _, c := range sortedCells(l.voters) {
			if v := l.voters[c]; v != nil && v.cand == nil {
				l.voterNext(c)
			}
		}
	}
}

// Fenced reports whether the drone votes for nobody (SetFenced, Retire).
func (l *Locks) Fenced() bool { return l.fenced || l.retired }

// Retired reports whether the drone is no longer a voter (Retire).
func (l *Locks) Retired() bool { return l.retired }

// Retire ends the drone's part as a voter for good: a view without it as a
// voter is in force or coming. Its queued requests are dropped, requests
// that reach it later are ignored, and the votes it gave run out with
// their leases. Once the view without it is in force (SetQuorums) it may
// still acquire cells through its own new quorum; before, its own vote is
// missing from its old one.
func (l *Locks) Retire() {
	if l.retired {
		return
	}
	l.retired = true
	for _, c := range sortedCells(l.voters) {
		v := l.voters[c]
		v.queue = nil
		if v.cand == nil {
			delete(l.voters, c)
		}
	}
}

// SetQuorums puts new quorums in force (a new view of the swarm, switched
// to at the same swarm time by every drone). When the drone's own quorum
// changes, an acquisition in progress is given up at the old voters: a
// held one is lost (Expired: leave now), one still waiting is asked for
// again from the new quorum.
func (l *Locks) SetQuorums(q mutex.Quorums) error {
	own, ok := q[l.id]
	if !ok || len(own) == 0 {
		return fmt.Errorf("%w: drone %d has no quorum in the new view", ErrConfig, l.id)
	}
	quorum, others := normalize(l.id, own)
	changed := !slices.Equal(quorum, l.quorum)
	var cells, held []Cell
	if changed && l.acq != nil {
		cells = l.acq.cells
		for _, c := range cells {
			if r := l.reqs[c]; r != nil && r.held {
				held = append(held, c)
			}
		}
		if !l.acq.acquired {
			held = nil // never entered: ask again below
		}
		l.dropAcquisition(held != nil)
	}
	l.quorums, l.quorum, l.others = q, quorum, others
	l.selfVote = len(others) < len(quorum)
	switch {
	case len(held) > 0:
		// Not reached when views change as the swarm node changes
		// them: by the switch, every vote of the retired voter has run
		// out, and with it any hold that needed it. Kept for callers
		// that switch sooner.
		l.counters.Expired++
		l.Emit(Expired{Cells: held})
	case cells != nil:
		return l.Acquire(cells)
	}
	return nil
}

// PeerUp implements algorithms.PeerObserver; nothing to restore.
func (l *Locks) PeerUp(algorithms.NodeID) {}

func sortedCells[V any](m map[Cell]V) []Cell {
	out := make([]Cell, 0, len(m))
	for c := range m {
		out = append(out, c)
	}
	slices.Sort(out)
	return out
}

var _ algorithms.Boxed = (*Locks)(nil)
