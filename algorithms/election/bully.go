package election

import (
	"fmt"

	"github.com/skyquorum/skyquorum/algorithms"
)

// BullyConfig configures a Bully.
type BullyConfig struct {
	// ID is this drone's vehicle ID; it must be one of Members.
	ID algorithms.NodeID
	// Members lists every drone of the group, this one included, in any
	// order. Every drone of the group must be given the same list. A
	// sorted list is kept, not copied (algorithms.Sorted): do not change
	// it afterwards.
	Members []algorithms.NodeID
	// Timeout (optional, default 3) is the textbook's T in ticks: how long
	// a drone that sent ELECTION waits for an ANSWER before it declares
	// itself coordinator. It must cover a round trip and the time to
	// process: T = 2·T_trans + T_process (see BullyTimeout).
	Timeout int
	// CoordinatorTimeout (optional, default 2·Timeout) is how many ticks
	// a drone that got an ANSWER waits for COORDINATOR before it starts a
	// new election. It must exceed Timeout, since the drone that answered
	// may itself wait Timeout ticks before it declares.
	CoordinatorTimeout int
	// AutoCampaign (optional, default false) starts an election when the
	// failure detector reports the current leader down (PeerDown), and
	// when the drone has known no leader, and seen no election, for
	// CoordinatorTimeout ticks (at start, or after a restart that nobody
	// answered). Without it the driver decides who calls Campaign.
	AutoCampaign bool
	// Stay (optional, default false: the textbook) makes a drone restored
	// from persisted state (Restore) follow the first leader it learns
	// of, a lower one too, rather than take over: a leader that lived
	// through the drone's restart stays, and the swarm does not pay a
	// change of leader it did not need. Once it has followed that leader,
	// and without Restore, a higher drone takes over from a lower leader
	// as the textbook's does: a drone cut off alone declares itself in a
	// new term, and the highest drone that hears it takes the term back.
	Stay bool
}

// BullyTimeout returns the textbook's timeout T = 2·T_trans + T_process,
// in ticks, from the transmission and processing times in ticks.
func BullyTimeout(transTicks, processTicks int) int {
	return 2*transTicks + processTicks
}

// Messages of the bully algorithm.
type (
	// BullyElection is Garcia-Molina's ELECTION, sent in one frame to
	// every higher drone: "I am starting an election".
	BullyElection struct {
		Term uint32
	}
	// BullyAnswer is the ANSWER (OK) of a higher drone to ELECTION: "I am
	// alive and will take over".
	BullyAnswer struct {
		Term uint32
	}
	// BullyCoordinator is COORDINATOR: the new leader announces itself to
	// every lower drone, and any drone tells a stale sender the current
	// leader with it.
	BullyCoordinator struct {
		Term   uint32
		Leader algorithms.NodeID
	}
)

// Kind implements algorithms.Message.
func (BullyElection) Kind() string { return "ELECTION" }

// Kind implements algorithms.Message.
func (BullyAnswer) Kind() string { return "ANSWER" }

// Kind implements algorithms.Message.
func (BullyCoordinator) Kind() string { return "COORDINATOR" }

// Size implements algorithms.Message: kind, term.
func (BullyElection) Size() int { return kindBytes + termBytes }

// Size implements algorithms.Message: kind, term.
func (BullyAnswer) Size() int { return kindBytes + termBytes }

// Size implements algorithms.Message: kind, term, leader.
func (BullyCoordinator) Size() int { return kindBytes + termBytes + idBytes }

// Bully is Garcia-Molina's bully algorithm with terms. A drone that starts
// an election sends ELECTION to every higher drone the failure detector
// has not reported down. A drone that receives ELECTION answers it and
// starts its own election. A drone that gets no ANSWER within Timeout
// ticks is the leader and sends COORDINATOR to every lower drone; one that
// got an ANSWER but no COORDINATOR within CoordinatorTimeout ticks starts
// a new election. The highest drone, knowing it is the highest, declares
// at once; so does the second-highest once the highest is reported down.
type Bully struct {
	base
	timeout      int
	coordTimeout int

	phase bullyPhase
	timer int // ticks left in the phase; idle: ticks without a leader
	// back holds the higher drones reported up during this term's
	// election: the COORDINATOR goes to them too, or a drone that came
	// back in the middle of an election would never hear its result.
	back map[algorithms.NodeID]bool
	// abstain: the drone stands aside (Abstain).
	abstain bool
	// stay: restored with BullyConfig.Stay, and no leader followed yet.
	stay bool
}

type bullyPhase uint8

const (
	idle     bullyPhase = iota
	electing            // sent ELECTION, waiting for an ANSWER
	waiting             // got an ANSWER, waiting for COORDINATOR
)

var _ Election = (*Bully)(nil)

// NewBully returns the bully core of drone cfg.ID.
func NewBully(cfg BullyConfig, opts ...Option) (*Bully, error) {
	b, err := newBase("bully", cfg.ID, cfg.Members, cfg.AutoCampaign, opts)
	if err != nil {
		return nil, err
	}
	c := &Bully{base: b, timeout: cfg.Timeout, coordTimeout: cfg.CoordinatorTimeout, back: map[algorithms.NodeID]bool{}}
	if c.timeout < 0 || c.coordTimeout < 0 {
		return nil, fmt.Errorf("bully: timeouts %d and %d ticks: %w", cfg.Timeout, cfg.CoordinatorTimeout, ErrBadConfig)
	}
	if c.timeout == 0 {
		c.timeout = 3
	}
	if c.coordTimeout == 0 {
		c.coordTimeout = 2 * c.timeout
	}
	c.stay = cfg.Stay && b.restored
	if c.coordTimeout <= c.timeout {
		return nil, fmt.Errorf("bully: CoordinatorTimeout %d ticks must exceed Timeout %d: %w", c.coordTimeout, c.timeout, ErrBadConfig)
	}
	return c, nil
}

// Campaign implements Election: the drone starts an election in a new
// term.
func (c *Bully) Campaign() {
	if c.phase != idle || c.abstain {
		return
	}
	t, ok := c.nextTerm()
	if !ok {
		return
	}
	c.adopt(t)
	c.startElection()
}

// Abstain makes the drone stand aside while on: it never campaigns, nor
// takes over from a lower leader, nor answers an ELECTION, so the others
// elect among themselves as if it were down; it follows the leader they
// declare. A drone that restarted without its state stands aside until it
// has caught up with the swarm (its runner decides when).
func (c *Bully) Abstain(on bool) { c.abstain = on }

// Abstaining reports whether the drone stands aside.
func (c *Bully) Abstaining() bool { return c.abstain }

// Leader implements Election.
func (c *Bully) Leader() (algorithms.NodeID, uint32, bool) { return c.leaderInfo() }

// Term implements Election.
func (c *Bully) Term() uint32 { return c.term }

// Participating implements Election: the drone waits for an ANSWER or for
// COORDINATOR.
func (c *Bully) Participating() bool { return c.phase != idle }

// Persist implements algorithms.Persister: the bytes hold the term.
func (c *Bully) Persist() []byte { return encodeState(c.term) }

// Step implements algorithms.Core.
func (c *Bully) Step(from algorithms.NodeID, m algorithms.Message) error {
	if err := c.check(from, m); err != nil {
		return err
	}
	var t uint32
	switch m := m.(type) {
	case BullyElection:
		t = m.Term
	case BullyAnswer:
		t = m.Term
	case BullyCoordinator:
		t = m.Term
	}
	switch {
	case t < c.term:
		c.stale(from, m)
		return nil
	case t > c.term:
		c.adopt(t)
	}
	switch m := m.(type) {
	case BullyElection:
		if c.abstain {
			return nil
		}
		if c.decided {
			c.tell(from)
			return nil
		}
		c.Send(algorithms.To(from), BullyAnswer{Term: c.term})
		if c.phase == idle {
			c.startElection()
		}
	case BullyAnswer:
		if !c.decided && c.phase != waiting {
			c.begin()
			c.wait()
		}
	case BullyCoordinator:
		c.stepCoordinator(m)
	}
	return nil
}

func (c *Bully) check(from algorithms.NodeID, m algorithms.Message) error {
	switch m := m.(type) {
	case BullyElection:
		if err := c.checkFrom(from, m); err != nil {
			return err
		}
		if from > c.id {
			return fmt.Errorf("bully: ELECTION from higher drone %d: %w", from, ErrBadMessage)
		}
	case BullyAnswer:
		if err := c.checkFrom(from, m); err != nil {
			return err
		}
		if from < c.id {
			return fmt.Errorf("bully: ANSWER from lower drone %d: %w", from, ErrBadMessage)
		}
	case BullyCoordinator:
		if err := c.checkFrom(from, m); err != nil {
			return err
		}
		return c.checkNamed(from, m, m.Leader)
	default:
		return algorithms.Unknown("bully", m)
	}
	return nil
}

// Follow implements Election: leader leads term, as another protocol
// learned; it is taken as a COORDINATOR would be, without a reply.
func (c *Bully) Follow(leader algorithms.NodeID, term uint32) {
	if term < c.term || !c.isMember(leader) {
		return
	}
	if term > c.term {
		c.adopt(term)
	}
	c.stepCoordinator(BullyCoordinator{Term: term, Leader: leader})
}

func (c *Bully) stepCoordinator(m BullyCoordinator) {
	if c.decided {
		if m.Leader != c.leader {
			c.conflict(m.Leader)
			c.Campaign()
		}
		return
	}
	c.phase = idle
	c.decide(m.Leader)
	stay := c.stay
	c.stay = false
	if m.Leader < c.id && !stay {
		// A lower drone leads because this one was thought dead: the
		// higher ID takes over.
		c.Campaign()
	}
}

// stale answers a message of an older term so that its sender moves to
// the current term: with the leader when it is known, and an ELECTION
// (always from a lower drone) with an ANSWER as the textbook does.
func (c *Bully) stale(from algorithms.NodeID, m algorithms.Message) {
	if c.decided {
		c.tell(from)
		return
	}
	if _, ok := m.(BullyElection); !ok || c.abstain {
		return
	}
	c.Send(algorithms.To(from), BullyAnswer{Term: c.term})
	if c.phase == idle {
		// Restored, and no election running: the current term may
		// already have a leader elsewhere, so campaign in the next.
		c.Campaign()
	}
}

// tell sends the current term and leader to one drone.
func (c *Bully) tell(to algorithms.NodeID) {
	c.Send(algorithms.To(to), BullyCoordinator{Term: c.term, Leader: c.leader})
}

func (c *Bully) startElection() {
	c.begin()
	higher := c.above(true)
	if len(higher) == 0 {
		c.declare()
		return
	}
	c.Send(algorithms.To(higher...), BullyElection{Term: c.term})
	c.phase = electing
	c.timer = c.timeout
}

// adopt moves to a higher term, leaving any election of an older one.
func (c *Bully) adopt(t uint32) {
	c.base.adopt(t)
	c.phase = idle
	c.timer = 0
	clear(c.back)
}

func (c *Bully) wait() {
	c.phase = waiting
	c.timer = c.coordTimeout
}

func (c *Bully) declare() {
	c.phase = idle
	c.decide(c.id)
	to := c.below()
	for _, m := range c.members {
		if m > c.id && c.back[m] {
			to = append(to, m)
		}
	}
	if len(to) > 0 {
		c.Send(algorithms.To(to...), BullyCoordinator{Term: c.term, Leader: c.id})
	}
}

// Tick implements algorithms.Core: a drone that got no ANSWER in time
// declares itself; one that got no COORDINATOR in time starts again; with
// AutoCampaign, so does one that has known no leader for
// CoordinatorTimeout ticks.
func (c *Bully) Tick() {
	switch c.phase {
	case idle:
		if c.decided || !c.auto {
			return
		}
		c.timer++
		if c.timer >= c.coordTimeout {
			c.Campaign()
		}
		return
	}
	c.timer--
	if c.timer > 0 {
		return
	}
	switch c.phase {
	case electing:
		c.declare()
	case waiting:
		c.phase = idle
		c.Campaign()
	}
}

// PeerDown implements algorithms.PeerObserver: the drone no longer sends
// ELECTION to id, and with AutoCampaign a drone whose leader is id starts
// an election. A drone waiting for an ANSWER declares itself once every
// drone above it is reported down, as it does when it campaigns knowing
// that: no ANSWER can come, and Timeout, which covers a live drone's
// answer through every retransmission, would only delay it.
func (c *Bully) PeerDown(id algorithms.NodeID) {
	if id == c.id || !c.isMember(id) {
		return
	}
	c.down[id] = true
	switch {
	case c.auto && c.decided && c.leader == id:
		c.Campaign()
	case c.phase == electing && id > c.id && len(c.above(true)) == 0:
		c.declare()
	}
}

// PeerUp implements algorithms.PeerObserver: the leader tells id the
// current term and leader, and a drone that becomes leader later in the
// term tells id with its COORDINATOR; a returning id higher than the
// leader then takes over (unless it restarted with BullyConfig.Stay).
func (c *Bully) PeerUp(id algorithms.NodeID) {
	if id == c.id || !c.isMember(id) {
		return
	}
	delete(c.down, id)
	switch {
	case c.decided && c.leader == c.id:
		c.tell(id)
	case !c.decided && id > c.id:
		c.back[id] = true
	}
}
