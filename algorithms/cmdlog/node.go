package cmdlog

import (
	"fmt"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/election"
)

// NodeConfig configures a Node.
type NodeConfig struct {
	// Log configures the command log; its ID and Members are the
	// election's too.
	Log Config
	// Election (optional, default "bully") selects the leader election:
	// "bully" (Garcia-Molina) or "ring" (Chang and Roberts).
	Election string
	// BullyTimeout and CoordinatorTimeout (optional, the bully's defaults)
	// are election.BullyConfig's Timeout and CoordinatorTimeout.
	BullyTimeout       int
	CoordinatorTimeout int
	// BullyStay is election.BullyConfig's Stay: a restarted drone follows
	// the leader it finds, a lower one too, rather than take over.
	BullyStay bool
	// RingAckTimeout and RingElectionTimeout (optional, the ring's
	// defaults) are election.RingConfig's AckTimeout and ElectionTimeout.
	RingAckTimeout      int
	RingElectionTimeout int
	// CampaignTimeout (optional, default 300) is how long a drone goes
	// without a live leader, outside an election, before it campaigns
	// itself. The highest live drone campaigns at once when the failure
	// detector reports the leader dead; the others only after this long,
	// so that a leader's crash costs one COORDINATOR rather than the
	// bully's O(N²) election storm.
	CampaignTimeout int
	// LeaderlessTimeout (optional, default 100) is how long the highest
	// live drone waits to be told the leader (after a restart) before it
	// campaigns.
	LeaderlessTimeout int
	// Heartbeat (optional, 0 for none) is the longest a leader that has
	// completed its recovery stays silent: when it has broadcast nothing
	// (APPEND, COMMIT, REPAIR, COORDINATOR) for Heartbeat ticks, it
	// broadcasts its COORDINATOR again, one plain frame, or the log's
	// beacon (a COMMIT) when that is due within Heartbeat. The drones next
	// in line take a leader silent for a few of these periods for dead
	// (swarm.Node), and a drone that missed the election learns its
	// result from the next one. A new bully leader broadcasts every
	// Heartbeat/5 ticks for its first Heartbeat ticks, and repeats its
	// COORDINATOR while it recovers, for 8 periods at most (Node.Tick).
	Heartbeat int
}

// Coordinator carries the bully's COORDINATOR of a new leader to every
// drone as one plain broadcast frame. Through the reliable delivery layer
// every drone would acknowledge it, N−1 frames that delay the new leader's
// recovery behind them; a drone that misses it learns the term and its
// leader from the log's own broadcasts (APPEND, COMMIT, repeated while
// idle), which only that leader sends.
type Coordinator struct {
	election.BullyCoordinator
}

// Unreliable implements algorithms.Unreliable.
func (Coordinator) Unreliable() {}

// Node is the command log with its leader election: Garcia-Molina's bully
// (package election), or Chang and Roberts' ring, elects the highest live
// drone, and its terms are the log's terms. It routes election messages to
// the election and log messages to the log, hands every Elected to
// Log.LeaderChanged, keeps the election's term at least the log's (a log
// message of a later term tells who leads it, as a COORDINATOR would), and
// campaigns in a new term when the log cannot lead the term the election
// elected it in. A new bully leader's COORDINATOR goes out as one plain
// broadcast (Coordinator); the election's other messages go through the
// reliable delivery layer.
type Node struct {
	algorithms.Outbox
	id      algorithms.NodeID
	members []algorithms.NodeID
	elect   election.Election
	bully   *election.Bully // when the election is the bully
	ring    *election.Ring  // when it is the ring
	log     *Log
	down    map[algorithms.NodeID]bool
	ndown   int // len(down), read on every tick without the map
	// electQueued counts the election's output since settle last read it.
	electQueued     int
	idle            int
	campaignTimeout int
	leaderless      int
	fresh           bool // built without Restore
	started         bool
	heartbeat       int
	quiet           int // ticks since the node last broadcast
	// age counts the ticks the drone has been the declared leader of the
	// log's term electedIn (recovering or leading).
	age       int
	electedIn uint32

	savedBully, savedLog, saved []byte
}

var (
	_ algorithms.Core         = (*Node)(nil)
	_ algorithms.PeerObserver = (*Node)(nil)
	_ algorithms.Persister    = (*Node)(nil)
)

// The persisted state of a Node: a marker byte, a version byte, the length
// of the bully's state, the bully's state, then the log's.
const (
	nodeMarker  = 'N'
	nodeVersion = 1
)

// NewNode returns the node of drone cfg.Log.ID. With Restore, the bytes
// are those Node.Persist returned. A node built fresh that is the highest
// member campaigns at its first tick; a restarted one waits to be told the
// leader (the leader answers the failure detector's PeerUp), and takes
// over if its ID is higher.
func NewNode(cfg NodeConfig, opts ...Option) (*Node, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	var bopts []election.Option
	var lopts []Option
	if o.restore {
		b := o.state
		switch {
		case len(b) < 3:
			return nil, fmt.Errorf("cmdlog: restore drone %d: %w: %d bytes (pass the bytes Persist returned)", cfg.Log.ID, ErrBadState, len(b))
		case b[0] != nodeMarker:
			return nil, fmt.Errorf("cmdlog: restore drone %d: %w: marker %#x, want %#x (not a node state)", cfg.Log.ID, ErrBadState, b[0], nodeMarker)
		case b[1] != nodeVersion:
			return nil, fmt.Errorf("cmdlog: restore drone %d: %w: version %d, want %d", cfg.Log.ID, ErrBadState, b[1], nodeVersion)
		case len(b) < 3+int(b[2]):
			return nil, fmt.Errorf("cmdlog: restore drone %d: %w: election state of %d bytes truncated", cfg.Log.ID, ErrBadState, b[2])
		}
		bopts = append(bopts, election.Restore(b[3:3+int(b[2])]))
		lopts = append(lopts, Restore(b[3+int(b[2]):]))
	}
	lg, err := New(cfg.Log, lopts...)
	if err != nil {
		return nil, err
	}
	n := &Node{
		id:              cfg.Log.ID,
		members:         lg.members,
		log:             lg,
		down:            map[algorithms.NodeID]bool{},
		campaignTimeout: cfg.CampaignTimeout,
		fresh:           !o.restore,
	}
	switch cfg.Election {
	case "", "bully":
		n.bully, err = election.NewBully(election.BullyConfig{
			ID: cfg.Log.ID, Members: cfg.Log.Members,
			Timeout: cfg.BullyTimeout, CoordinatorTimeout: cfg.CoordinatorTimeout,
			Stay: cfg.BullyStay,
		}, bopts...)
		n.elect = n.bully
	case "ring":
		n.ring, err = election.NewRing(election.RingConfig{
			ID: cfg.Log.ID, Members: cfg.Log.Members,
			AckTimeout: cfg.RingAckTimeout, ElectionTimeout: cfg.RingElectionTimeout,
		}, bopts...)
		n.elect = n.ring
	default:
		return nil, fmt.Errorf("cmdlog: election %q: want bully or ring: %w", cfg.Election, ErrBadConfig)
	}
	if err != nil {
		return nil, fmt.Errorf("cmdlog: %w", err)
	}
	n.elect.(algorithms.Boxed).Box().Count(&n.electQueued)
	if n.campaignTimeout < 0 || cfg.LeaderlessTimeout < 0 || cfg.Heartbeat < 0 {
		return nil, fmt.Errorf("cmdlog: timeouts of %d, %d and %d ticks: %w", cfg.CampaignTimeout, cfg.LeaderlessTimeout, cfg.Heartbeat, ErrBadConfig)
	}
	n.heartbeat = cfg.Heartbeat
	if n.campaignTimeout == 0 {
		n.campaignTimeout = 300
	}
	n.leaderless = cfg.LeaderlessTimeout
	if n.leaderless == 0 {
		n.leaderless = 100
	}
	return n, nil
}

// Log returns the node's command log, for queries.
func (n *Node) Log() *Log { return n.log }

// Bully returns the node's bully election core, for queries; nil when the
// election is the ring.
func (n *Node) Bully() *election.Bully { return n.bully }

// Election returns the node's election core, for queries.
func (n *Node) Election() election.Election { return n.elect }

// Propose appends a command at the leader; see Log.Propose.
func (n *Node) Propose(cmd []byte) (Position, error) { return n.log.Propose(cmd) }

// Step implements algorithms.Core.
func (n *Node) Step(from algorithms.NodeID, m algorithms.Message) error {
	var err error
	switch m := m.(type) {
	case election.BullyElection, election.BullyAnswer, election.BullyCoordinator,
		election.RingElection, election.RingElected, election.RingAck:
		err = n.elect.Step(from, m)
	case Coordinator:
		if n.bully == nil {
			err = fmt.Errorf("cmdlog: COORDINATOR from drone %d, but the election is the ring: %w", from, ErrBadMessage)
			break
		}
		if m.Leader != from {
			err = fmt.Errorf("cmdlog: COORDINATOR from drone %d names drone %d: %w", from, m.Leader, ErrBadMessage)
			break
		}
		if n.bystander(m) {
			break
		}
		err = n.bully.Step(from, m.BullyCoordinator)
	default:
		err = n.log.Step(from, m)
	}
	n.settle()
	return err
}

// Tick implements algorithms.Core.
func (n *Node) Tick() {
	n.elect.Tick()
	n.log.Tick()
	if n.fresh && !n.started && n.highestLive() {
		n.elect.Campaign()
	}
	n.started = true
	l, _, ok := n.elect.Leader()
	switch {
	case (ok && !n.isDown(l)) || n.elect.Participating():
		n.idle = 0
	default:
		n.idle++
		if n.idle >= n.campaignTimeout || (n.idle >= n.leaderless && n.highestLive()) {
			n.idle = 0
			n.elect.Campaign()
		}
	}
	n.settle()
	n.quiet++
	if n.heartbeat == 0 {
		return
	}
	leads, recovers := n.leads(), n.recovers()
	if !leads && !recovers {
		return
	}
	if n.electedIn != n.log.Term() {
		n.electedIn, n.age = n.log.Term(), 0
	}
	n.age++
	// A new bully leader announces itself: for its first heartbeat period
	// in the term it is never quiet for more than a fifth of one. At 20%
	// loss a frame misses 1 drone in 5, and k frames of the new leader
	// reach all of 49 others with probability (1 − 0.2^k)^49: 0.67 for 3,
	// 0.92 for 4, 0.98 for 5; the next in line takes over about 1.75 s
	// after the old leader's last frame, so 5 frames in the quarter
	// second after its COORDINATOR end most failovers within 2 s. Until
	// then a drone that missed the one COORDINATOR learned of the new
	// leader only from the frames that followed its recovery.
	period := n.heartbeat
	if n.bully != nil && n.age <= n.heartbeat {
		period = max(n.heartbeat/5, 1)
	}
	if n.quiet < period {
		return
	}
	switch {
	case leads:
		if !n.log.beaconWithin(period) {
			n.broadcast(Coordinator{election.BullyCoordinator{Term: n.log.Term(), Leader: n.id}})
		}
	case n.age <= recoverRepeats*n.heartbeat:
		// Elected, and still recovering (gathering the committee's
		// promises: 50 ms to a few seconds at 20% loss), the drone
		// repeats its COORDINATOR, or it would broadcast nothing until
		// its recovery completes, and the drones next in line would
		// take it for dead.
		//
		// One leader per term holds: the repeat is the COORDINATOR the
		// drone already sent, the same term and leader, which any drone
		// could have received the first time; what a leader does
		// (APPEND, COMMIT, serve the time) still waits for the
		// promises, which a member gives one drone a term. A drone
		// declared beside the term's real leader stops at once when its
		// log learns of it (a member's STALE in answer to its RECOVER,
		// or the real leader's APPEND or COMMIT: it is deposed and
		// recovers no longer), and after recoverRepeats periods in any
		// case. Meanwhile followers of the real leader ignore it
		// (bystander), and the real leader answers it with a new term,
		// as it does the first one.
		n.broadcast(Coordinator{election.BullyCoordinator{Term: n.log.Term(), Leader: n.id}})
	}
}

// recoverRepeats is how many heartbeat periods after its election a
// recovering drone repeats its COORDINATOR: 2 s at the swarm's 250 ms, 12
// frames at most (5 in the first period, then one a period).
const recoverRepeats = 8

// recovers reports whether the bully declared the drone leader of its
// log's term and the log is recovering that term: it has broadcast its
// COORDINATOR of the term and is gathering the committee's promises.
func (n *Node) recovers() bool {
	if n.bully == nil {
		return false
	}
	l, t, ok := n.bully.Leader()
	return ok && l == n.id && t == n.log.Term() && n.log.Recovering()
}

// leads reports whether the drone leads its term with the promises of a
// committee majority, as the election declared: only one drone a term
// does, so its heartbeat never contradicts another leader of the term.
func (n *Node) leads() bool {
	l, t, ok := n.elect.Leader()
	return ok && l == n.id && t == n.log.Term() && n.log.Leading()
}

// Campaign starts an election in a new term unless one is running or the
// drone knows a leader it has not been told is dead. A drone next in line
// calls it when it takes a silent leader for dead although a drone above
// it is thought alive: the bully asks that drone to take over, and takes
// over itself when it does not answer.
func (n *Node) Campaign() {
	if l, _, ok := n.elect.Leader(); (ok && !n.isDown(l)) || n.elect.Participating() {
		return
	}
	n.idle = 0
	n.elect.Campaign()
	n.settle()
}

// broadcast sends m to every drone and restarts the heartbeat's count.
func (n *Node) broadcast(m algorithms.Message) {
	n.quiet = 0
	n.Send(nil, m)
}

// Ready implements algorithms.Core.
func (n *Node) Ready() algorithms.Ready {
	for {
		n.settle()
		r := n.log.Ready()
		if r.Empty() {
			break
		}
		for _, s := range r.Sends {
			if s.To == nil {
				n.quiet = 0
			}
			n.Send(s.To, s.Msg)
		}
		for _, ev := range r.Events {
			n.Emit(ev)
		}
	}
	return n.Outbox.Ready()
}

// PeerDown implements algorithms.PeerObserver: when the leader is reported
// dead, or is not known, the highest live drone campaigns. A drone that has
// just restarted may campaign in a term the swarm has used: the drones
// that follow that term's leader leave the conflict to the two leaders
// (see Coordinator), and the log's votes depose the one elected second,
// which campaigns again in a new term.
func (n *Node) PeerDown(id algorithms.NodeID) {
	n.down[id] = true
	n.ndown = len(n.down)
	n.elect.PeerDown(id)
	n.log.PeerDown(id)
	if l, _, ok := n.elect.Leader(); (!ok || n.isDown(l)) && n.highestLive() && !n.elect.Participating() {
		n.elect.Campaign()
	}
	n.settle()
}

// PeerUp implements algorithms.PeerObserver.
func (n *Node) PeerUp(id algorithms.NodeID) {
	delete(n.down, id)
	n.ndown = len(n.down)
	n.elect.PeerUp(id)
	n.log.PeerUp(id)
	n.settle()
}

// isDown reports whether the failure detector has reported id down.
func (n *Node) isDown(id algorithms.NodeID) bool { return n.ndown > 0 && n.down[id] }

// Persist implements algorithms.Persister: the election's term and the
// log's state.
func (n *Node) Persist() []byte {
	bs, ls := n.elect.Persist(), n.log.Persist()
	if n.saved != nil && string(bs) == string(n.savedBully) && len(ls) == len(n.savedLog) && &ls[0] == &n.savedLog[0] {
		return n.saved
	}
	b := make([]byte, 0, 3+len(bs)+len(ls))
	b = append(b, nodeMarker, nodeVersion, byte(len(bs)))
	b = append(b, bs...)
	b = append(b, ls...)
	n.savedBully, n.savedLog, n.saved = bs, ls, b
	return b
}

// bystander reports whether a broadcast COORDINATOR is one that only its
// sender and this term's leader need to hear: a second leader of the term
// this drone follows, or a leader of an older term. Handed to the bully,
// it would make every drone campaign (a conflict) or answer (a stale
// term), O(N) frames each; the leader it contradicts resolves it alone,
// since the log deposes whichever of the two lacks the term's votes and
// that one campaigns in a new term.
func (n *Node) bystander(m Coordinator) bool {
	l, t, ok := n.bully.Leader()
	switch {
	case m.Term < n.bully.Term():
		return !ok || l != n.id
	case m.Term == t && ok:
		return l != m.Leader && l != n.id
	}
	return false
}

// highestLive reports whether every member above this drone is reported
// down.
func (n *Node) highestLive() bool {
	for i := len(n.members) - 1; i >= 0 && n.members[i] > n.id; i-- {
		if !n.isDown(n.members[i]) {
			return false
		}
	}
	return true
}

// settle moves the bully's output along and keeps the two cores' terms in
// step.
func (n *Node) settle() {
	for range 64 {
		var r algorithms.Ready
		if n.electQueued > 0 {
			n.electQueued = 0
			r = n.elect.Ready()
		}
		for _, s := range r.Sends {
			if c, ok := s.Msg.(election.BullyCoordinator); ok && len(s.To) > 1 {
				n.broadcast(Coordinator{c})
				continue
			}
			n.Send(s.To, s.Msg)
		}
		acted := false
		for _, ev := range r.Events {
			n.Emit(ev)
			if e, ok := ev.(election.Elected); ok && !n.log.LeaderChanged(e.Leader, e.Term) {
				acted = true
			}
		}
		lt, ll := n.log.Term(), n.log.Leader()
		bl, bt, decided := n.elect.Leader()
		switch {
		case ll != 0 && ll != n.id && (lt > bt || (lt == bt && !decided && (!n.elect.Participating() || n.ring != nil))):
			// A log message of this term, or a later one, came from
			// its leader. On the ring, a participant takes it too
			// rather than wait for ELECTED to come round: the log's
			// leader of a term holds that term's votes.
			n.elect.Follow(ll, lt)
			acted = true
		case n.elect.Participating():
		case lt > bt && ll == 0:
			n.elect.Campaign()
			acted = true
		case decided && bl == n.id && bt == lt && ll != n.id:
			// Elected in a term whose votes went to another drone, or
			// deposed: a new term.
			n.elect.Campaign()
			acted = true
		}
		if r.Empty() && !acted {
			return
		}
	}
}
