package membership

import (
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/swarm/internal/airtime"
)

// Defaults of Config.
const (
	// DefaultShare is the fraction of the channel heartbeats may take.
	DefaultShare = 0.05
	// DefaultJitter stretches each interval by up to this fraction.
	DefaultJitter = 0.1
	// DefaultTickNanos is the simulator's tick, 10 ms.
	DefaultTickNanos = 10_000_000
	// DefaultLoss and DefaultFalseSuspicion choose the default Missed:
	// at 10% frame loss, a member is wrongly suspected after a given
	// heartbeat with probability at most 1e-8.
	DefaultLoss           = 0.1
	DefaultFalseSuspicion = 1e-8
)

// Sentinel errors.
var (
	// ErrConfig: the configuration cannot work; the message names the field.
	ErrConfig = errors.New("membership: bad configuration")
	// ErrNotMember: a heartbeat came from a drone outside the roster.
	ErrNotMember = errors.New("membership: sender is not a member")
)

// Config configures a Membership.
type Config struct {
	// ID is this drone's vehicle ID; it must be one of Members.
	ID algorithms.NodeID
	// Members is the roster of the radio network, this drone included.
	Members []algorithms.NodeID
	// Incarnation tells this start of the drone from its earlier ones,
	// so that peers notice a restart. Only equality matters: a runner
	// with a state directory counts boots there, and a drone that has
	// none uses a random boot nonce from its driver.
	Incarnation uint32
	// TickNanos is the length of one tick in nanoseconds (optional,
	// default 10 ms).
	TickNanos int64
	// Baud is the radio's serial rate (optional, default 57600).
	Baud int
	// Unsigned sizes frames without the 13-byte MAVLink signature
	// (optional, default signed).
	Unsigned bool
	// Share is the fraction of the channel the heartbeats of all members
	// together may take (optional, default 0.05).
	Share float64
	// PeriodTicks overrides the period derived from the budget (optional;
	// tests use it).
	PeriodTicks int
	// Jitter stretches each interval by a random fraction in [0, Jitter]
	// (optional, default 0.1; negative for none).
	Jitter float64
	// Missed is how many heartbeat intervals may pass in silence before a
	// member is suspected (optional, default MissedFor(DefaultLoss,
	// DefaultFalseSuspicion) = 8).
	Missed int
	// Seed draws the jitter and the first heartbeat's phase.
	Seed uint64
}

// MissedFor returns how many intervals of silence to allow so that, at
// frame loss probability loss, a live member is suspected after any given
// heartbeat with probability at most target: ⌈log target / log loss⌉, at
// least 2.
func MissedFor(loss, target float64) int {
	if loss <= 0 || target <= 0 || target >= 1 {
		return 2
	}
	if loss >= 1 {
		return math.MaxInt32
	}
	return max(2, int(math.Ceil(math.Log(target)/math.Log(loss)-1e-9)))
}

// Heartbeat is the periodic liveness message. The sender's vehicle ID
// travels in the frame's addressing (src_vehicle).
type Heartbeat struct {
	// Incarnation of the sender; differs after every restart.
	Incarnation uint32
	// Status carries the sender's status bits (flight state, flags); the
	// driver sets them with SetStatus.
	Status uint8
	// Digest summarises the set of members the sender believes alive, so
	// that drones notice when their views differ.
	Digest uint16
}

// heartbeatBytes is the longest payload of a heartbeat on air, less the
// sender's and the destination's vehicle IDs (airtime.AddressBytes): a
// heartbeat travels in the swarm dialect's SWARM_HEARTBEAT, 12 bytes with
// every field set (incarnation, digest, the vehicle IDs, network_id,
// status), 11 when status is 0.
const heartbeatBytes = 12 - airtime.AddressBytes

// Kind implements algorithms.Message.
func (Heartbeat) Kind() string { return "HEARTBEAT" }

// Size implements algorithms.Message: see heartbeatBytes.
func (Heartbeat) Size() int { return heartbeatBytes }

// Class implements algorithms.Classifier: heartbeats are membership traffic.
func (Heartbeat) Class() algorithms.Class { return algorithms.ClassHeartbeat }

// Unreliable implements algorithms.Unreliable: a lost heartbeat is not
// repeated, the next one replaces it.
func (Heartbeat) Unreliable() {}

// Down reports that the member is suspected: nothing was heard from it for
// the timeout, or it restarted (then Up follows at once).
type Down struct {
	ID algorithms.NodeID
}

// Up reports that a suspected or restarted member is alive.
type Up struct {
	ID          algorithms.NodeID
	Incarnation uint32
}

// pastIncarnations is how many earlier incarnations of a member are
// remembered, so that their late frames are not taken for a restart.
const pastIncarnations = 4

// member is what a drone knows of one member: 32 bytes, as every drone
// holds one per member of its network (a member's earlier incarnations,
// which only a restart gives it, are kept in Membership.past).
type member struct {
	beat   int64 // tick of the last heartbeat of inc
	last   int64 // tick when last heard
	inc    uint32
	digest uint16
	alive  bool
	known  bool // a heartbeat arrived: inc is the member's
	status uint8
}

// Membership is the membership and failure detection core of one drone.
// It is not safe for concurrent use.
type Membership struct {
	algorithms.Outbox
	cfg     Config
	period  int // ticks
	longest int // longest interval, ticks
	timeout int // ticks
	now     int64
	next    int64
	rng     *rand.Rand
	status  uint8
	ids     []algorithms.NodeID // sorted, without this drone
	members []member            // members[i] is ids[i]'s
	// past holds the earlier incarnations of the members that have
	// restarted, oldest first.
	past map[algorithms.NodeID][]uint32
	// check is the earliest tick at which a member can fall silent for
	// longer than the timeout: Tick scans only then.
	check int64
}

var (
	_ algorithms.Core    = (*Membership)(nil)
	_ algorithms.Message = Heartbeat{}
)

// New returns the core of drone cfg.ID. Every member is presumed alive at
// the start; one never heard from is suspected after the timeout.
func New(cfg Config) (*Membership, error) {
	if cfg.TickNanos == 0 {
		cfg.TickNanos = DefaultTickNanos
	}
	if cfg.Baud == 0 {
		cfg.Baud = airtime.DefaultBaud
	}
	if cfg.Share == 0 {
		cfg.Share = DefaultShare
	}
	if cfg.Jitter == 0 {
		cfg.Jitter = DefaultJitter
	}
	cfg.Jitter = max(cfg.Jitter, 0)
	if cfg.Missed == 0 {
		cfg.Missed = MissedFor(DefaultLoss, DefaultFalseSuspicion)
	}
	switch {
	case !slices.Contains(cfg.Members, cfg.ID):
		return nil, fmt.Errorf("%w: ID %d is not one of Members", ErrConfig, cfg.ID)
	case cfg.Missed < 1:
		return nil, fmt.Errorf("%w: Missed %d must be at least 1", ErrConfig, cfg.Missed)
	case cfg.PeriodTicks < 0:
		return nil, fmt.Errorf("%w: PeriodTicks %d is negative", ErrConfig, cfg.PeriodTicks)
	}
	m := &Membership{
		cfg: cfg,
		rng: rand.New(rand.NewPCG(cfg.Seed, uint64(cfg.ID)<<32|0x4ea7)),
	}
	if err := m.setMembers(cfg.Members); err != nil {
		return nil, err
	}
	// The first heartbeat at a random point of the first period, so that
	// drones booted together do not beat together.
	m.next = 1 + m.rng.Int64N(int64(m.period))
	return m, nil
}

// SetMembers replaces the roster (a membership view agreed through the
// command log) and derives the period again from the new size. New members
// are presumed alive from now; removed ones are forgotten without events.
func (m *Membership) SetMembers(ids []algorithms.NodeID) error {
	if !slices.Contains(ids, m.cfg.ID) {
		return fmt.Errorf("%w: ID %d is not one of the new members", ErrConfig, m.cfg.ID)
	}
	if err := m.setMembers(ids); err != nil {
		return err
	}
	m.next = min(m.next, m.now+int64(m.interval()))
	return nil
}

func (m *Membership) setMembers(ids []algorithms.NodeID) error {
	sorted := slices.Clone(ids)
	slices.Sort(sorted)
	sorted = slices.Compact(sorted)
	period := m.cfg.PeriodTicks
	if period == 0 {
		var err error
		period, err = airtime.Budget{
			Members:         len(sorted),
			FramesPerPeriod: 1,
			FrameBytes:      airtime.FrameBytes(heartbeatBytes, !m.cfg.Unsigned),
			Baud:            m.cfg.Baud,
			Share:           m.cfg.Share,
			TickNanos:       m.cfg.TickNanos,
		}.PeriodTicks()
		if err != nil {
			return fmt.Errorf("%w: heartbeat period: %w", ErrConfig, err)
		}
	}
	m.period = period
	m.longest = period + int(math.Ceil(float64(period)*m.cfg.Jitter))
	// One extra tick: a heartbeat sent at the end of a tick is heard in
	// the next one.
	m.timeout = m.cfg.Missed*m.longest + 1
	var (
		keepIDs []algorithms.NodeID
		keep    = make([]member, 0, len(sorted))
	)
	for _, id := range sorted {
		if id == m.cfg.ID {
			continue
		}
		keepIDs = append(keepIDs, id)
		if old := m.member(id); old != nil {
			keep = append(keep, *old)
		} else {
			keep = append(keep, member{last: m.now, alive: true})
			delete(m.past, id) // a new member: no earlier incarnation
		}
	}
	for id := range m.past {
		if _, ok := slices.BinarySearch(keepIDs, id); !ok {
			delete(m.past, id)
		}
	}
	m.ids, m.members, m.check = keepIDs, keep, 0
	return nil
}

// member returns the state of id, nil for a stranger.
func (m *Membership) member(id algorithms.NodeID) *member {
	if i, ok := slices.BinarySearch(m.ids, id); ok {
		return &m.members[i]
	}
	return nil
}

// PeriodTicks returns the heartbeat period derived from the budget.
func (m *Membership) PeriodTicks() int { return m.period }

// TimeoutTicks returns how long a member may be silent before it is
// suspected: Missed × the longest interval, plus one tick.
func (m *Membership) TimeoutTicks() int { return m.timeout }

// SetStatus sets the status bits the next heartbeats carry.
func (m *Membership) SetStatus(bits uint8) { m.status = bits }

// Alive returns the members believed alive, this drone included, in
// increasing order.
func (m *Membership) Alive() []algorithms.NodeID {
	out := make([]algorithms.NodeID, 0, len(m.ids)+1)
	self := false
	for i, id := range m.ids {
		if !self && id > m.cfg.ID {
			out = append(out, m.cfg.ID)
			self = true
		}
		if m.members[i].alive {
			out = append(out, id)
		}
	}
	if !self {
		out = append(out, m.cfg.ID)
	}
	return out
}

// IsAlive reports whether id is a member believed alive (this drone is).
func (m *Membership) IsAlive(id algorithms.NodeID) bool {
	if id == m.cfg.ID {
		return true
	}
	mb := m.member(id)
	return mb != nil && mb.alive
}

// Silence returns how many ticks have passed since anything was last
// heard from id (0 for this drone; the ticks since the start for a member
// never heard).
func (m *Membership) Silence(id algorithms.NodeID) int64 {
	if id == m.cfg.ID {
		return 0
	}
	mb := m.member(id)
	if mb == nil {
		return m.now
	}
	return m.now - mb.last
}

// Incarnation returns the incarnation id's heartbeats carry, and whether a
// heartbeat of id was ever heard.
func (m *Membership) Incarnation(id algorithms.NodeID) (uint32, bool) {
	mb := m.member(id)
	if mb == nil {
		return 0, false
	}
	return mb.inc, mb.known
}

// Status returns the status bits and view digest id last sent, and whether
// a heartbeat of id was ever heard.
func (m *Membership) Status(id algorithms.NodeID) (status uint8, digest uint16, ok bool) {
	mb := m.member(id)
	if mb == nil {
		return 0, 0, false
	}
	return mb.status, mb.digest, mb.known
}

// Digest summarises the members believed alive (FNV-1a over their IDs,
// folded to 16 bits); two drones with the same view have the same digest.
func (m *Membership) Digest() uint16 {
	h := uint32(2166136261)
	for _, id := range m.Alive() {
		h = (h ^ uint32(id&0xff)) * 16777619
		h = (h ^ uint32(id>>8)) * 16777619
	}
	return uint16(h>>16) ^ uint16(h)
}

// Step implements algorithms.Core: a heartbeat proves its sender alive.
func (m *Membership) Step(from algorithms.NodeID, msg algorithms.Message) error {
	hb, ok := msg.(Heartbeat)
	if !ok {
		return algorithms.Unknown("membership", msg)
	}
	if from == m.cfg.ID {
		return fmt.Errorf("membership: heartbeat from the drone itself")
	}
	mb := m.member(from)
	if mb == nil {
		return fmt.Errorf("membership: heartbeat from %d: %w", from, ErrNotMember)
	}
	if mb.known && hb.Incarnation != mb.inc {
		if slices.Contains(m.past[from], hb.Incarnation) && m.now-mb.beat <= int64(m.timeout) {
			// A late frame of an earlier incarnation, while the
			// current one beats. An incarnation is a boot counter or a
			// random nonce, so none is "older" by its value; an old one
			// that outlives the current by a timeout is taken back.
			return nil
		}
		// Restarted: the old incarnation's state is gone.
		if mb.alive {
			m.Emit(Down{ID: from})
			mb.alive = false
		}
		past := append(slices.DeleteFunc(m.past[from], func(i uint32) bool { return i == hb.Incarnation }), mb.inc)
		if len(past) > pastIncarnations {
			past = past[len(past)-pastIncarnations:]
		}
		if m.past == nil {
			m.past = map[algorithms.NodeID][]uint32{}
		}
		m.past[from] = past
	}
	mb.inc, mb.status, mb.digest, mb.known, mb.beat = hb.Incarnation, hb.Status, hb.Digest, true, m.now
	m.heard(from, mb)
	return nil
}

// Heard tells the core that some other frame came from id: any traffic
// proves life. Unknown IDs are ignored.
func (m *Membership) Heard(id algorithms.NodeID) {
	if mb := m.member(id); mb != nil {
		m.heard(id, mb)
	}
}

func (m *Membership) heard(id algorithms.NodeID, mb *member) {
	mb.last = m.now
	m.check = min(m.check, m.now+int64(m.timeout))
	if !mb.alive {
		mb.alive = true
		m.Emit(Up{ID: id, Incarnation: mb.inc})
	}
}

// Box implements algorithms.Boxed: Ready is the Outbox's.
func (m *Membership) Box() *algorithms.Outbox { return &m.Outbox }

// Tick implements algorithms.Core: suspect silent members, and send the
// heartbeat when it is due.
func (m *Membership) Tick() {
	m.now++
	if m.now > m.check {
		m.check = math.MaxInt64
		for i := range m.members {
			mb := &m.members[i]
			if !mb.alive {
				continue
			}
			if m.now-mb.last > int64(m.timeout) {
				mb.alive = false
				m.Emit(Down{ID: m.ids[i]})
				continue
			}
			m.check = min(m.check, mb.last+int64(m.timeout))
		}
	}
	if m.now >= m.next {
		m.Send(nil, Heartbeat{Incarnation: m.cfg.Incarnation, Status: m.status, Digest: m.Digest()})
		m.next = m.now + int64(m.interval())
	}
}

// interval draws the next interval from [period, longest].
func (m *Membership) interval() int {
	return m.period + m.rng.IntN(m.longest-m.period+1)
}

var _ algorithms.Boxed = (*Membership)(nil)
