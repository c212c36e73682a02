// Package swarm is the drone's coordination runtime. Node composes the
// swarm's protocols into one pure state machine with the shape of every
// core (package algorithms), so that the simulator and the drone runner
// drive it the same way:
//
//   - membership (package membership): heartbeats within an airtime budget
//     and a failure detector, whose verdicts go to every other protocol;
//   - the leader, by bully, and the command log it sequences
//     (package algorithms/cmdlog): show and operator commands, applied in
//     one order at every drone, a ground station's named by its issuer
//     and seq and carried out once however often committed (operator.go);
//   - time sync to the leader's clock (package timesync);
//   - lease-based airspace locks (package airspace), whose quorums are
//     rebuilt through the command log when a voter dies (view.go);
//   - signed emergency commands obeyed at once (package emergency);
//   - the show player (package show), fed the show commands of the log
//     (package command) in order.
//
// Node reads no clock: the driver passes the drone's local clock reading
// with SetClock before every Step and Tick, and the channel's busy time
// with ChannelBusy before every Tick (channel.go).
package swarm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/cmdlog"
	"github.com/skyquorum/skyquorum/algorithms/election"
	"github.com/skyquorum/skyquorum/algorithms/mutex"
	"github.com/skyquorum/skyquorum/swarm/airspace"
	"github.com/skyquorum/skyquorum/swarm/command"
	"github.com/skyquorum/skyquorum/swarm/emergency"
	"github.com/skyquorum/skyquorum/swarm/membership"
	"github.com/skyquorum/skyquorum/swarm/show"
	"github.com/skyquorum/skyquorum/swarm/timesync"
)

// Config configures a Node.
type Config struct {
	// ID is the drone's vehicle ID; Members lists the whole swarm (one
	// radio network), this drone included. A sorted list is kept, not
	// copied (algorithms.Sorted): do not change it afterwards.
	ID      algorithms.NodeID
	Members []algorithms.NodeID
	// Incarnation tells this start of the drone from every earlier one
	// (optional): membership, the airspace locks' requests and their
	// votes carry it. Only equality matters. When it is 0 and the
	// restored state carries an incarnation, the node takes that one plus
	// one; a drone that starts without state (an empty state directory)
	// must be given one that differs from its earlier ones: its driver
	// passes a random boot nonce.
	Incarnation uint32
	// Seed seeds the drone's own jitter.
	Seed uint64
	// TickNanos, Baud and Unsigned describe the tick and the radio; the
	// budgets of membership and time sync are computed from them.
	TickNanos int64
	Baud      int
	Unsigned  bool
	// HeartbeatShare and TimeSyncShare are the shares of the channel that
	// membership and time sync may use (optional, default 0.05 and 0.04:
	// time sync also spends a first poll of every drone within 20 s of the
	// start, about 0.02 of a 120 s run at 250 drones).
	HeartbeatShare float64
	TimeSyncShare  float64
	// Missed is how many heartbeat periods of silence make a drone
	// suspect (optional, membership's default).
	Missed int
	// Committee is the number of command-log voters (optional, default 5).
	Committee int
	// Election selects the leader election: "bully" (optional, the
	// default) or "ring".
	Election string
	// BullyTimeout is the bully's T in ticks (optional, the bully's
	// default). With the ring it is the wait for a successor's ACK.
	BullyTimeout int
	// CampaignTimeout is how long a drone without a live leader waits
	// before it campaigns (optional, cmdlog's default).
	CampaignTimeout int
	// LeaderTimeout is how many ticks of silence from the leader make a
	// drone that is not next in line suspect it (optional, default 1500).
	// A drone restarted from its state knows no leader until it hears
	// one: with the bully, it counts meanwhile the silence of the drone
	// the bully would elect, the highest member not reported down.
	LeaderTimeout int
	// LeaderHeartbeat is the longest a leader stays silent, in ticks
	// (optional, default 25: 250 ms at 10 ms ticks): with nothing else to
	// broadcast it repeats its COORDINATOR (cmdlog.NodeConfig.Heartbeat).
	// Negative: no heartbeat, and every drone waits LeaderTimeout.
	LeaderHeartbeat int
	// LeaderMissed is how many heartbeat periods of silence make the
	// drone next in line (the highest live drone but the leader)
	// suspect the leader and take over (optional, default 7: at 20 % loss
	// the chance that seven frames in a row are lost is 1.3·10⁻⁵, one
	// false suspicion in about 7 hours of a leader heard 4 times a
	// second). The second and third in line wait SuccessionDelay ticks
	// more each, and then, with the bully, ask the drones above them to
	// take over (cmdlog.Node.Campaign); the others wait LeaderTimeout,
	// and learn the new leader from its frames.
	LeaderMissed int
	// SuccessionDelay (optional, default 100) is how much longer each
	// drone further down the line waits, so that it steps in only when
	// the drones above it did not.
	SuccessionDelay int
	// Quorums are the airspace locks' voting quorums (optional, default
	// mutex.Best(Members)).
	Quorums mutex.Quorums
	// Substitute, when set, builds the quorums of a view change instead
	// of Substitute: it must return what Substitute returns, and may
	// return the same map for the same arguments, so that drones that
	// apply the same views share one copy (the simulator does; optional).
	Substitute func(q mutex.Quorums, retired, replacement algorithms.NodeID) mutex.Quorums
	// LeaseTicks is the airspace lease (optional, airspace's default).
	LeaseTicks int
	// ClockDriftPPM bounds the drift of every drone's clock, for leases
	// and time sync (optional, 200).
	ClockDriftPPM float64
	// Key is the swarm key that signs emergency commands.
	Key []byte
	// FenceTicks is how long a drone may go without knowing it is caught
	// up with its leader's commit point before it stops voting in the
	// airspace locks: it may have missed a change of view (optional,
	// default 2 × LeaderTimeout, so that a leader's failover does not
	// fence the voters).
	FenceTicks int
	// ActivationSlack is added to the delay between a view change and
	// its activation, for the error of swarm time between two drones, in
	// ns (optional, default 2 s).
	ActivationSlack int64
	// ShowSyncTicks is how recently the drone must have been caught up
	// with the command log to fly the show (InSync; optional, default
	// 300). Timed show commands (START, PAUSE, RESUME) should name a time
	// further ahead than this plus their time to commit, so that a drone
	// in sync has them before they take effect; one that commits later
	// takes effect late at the drones that apply it late, and drones hold
	// while they know of a command they have not applied (InSync).
	ShowSyncTicks int
	// GPSSlewPPM bounds how fast a leader with GPS time closes the gap
	// between swarm time and GPS time (optional, timesync's default:
	// ClockDriftPPM; gps.go).
	GPSSlewPPM float64
}

// ErrBadState is returned by New for persisted bytes it cannot read.
var ErrBadState = errors.New("swarm: malformed persisted state")

// Node is one drone's coordination runtime.
type Node struct {
	algorithms.Outbox
	id      algorithms.NodeID
	members *membership.Membership
	log     *cmdlog.Node
	clock   *timesync.TimeSync
	locks   *airspace.Locks
	alarm   *emergency.Core
	mux     algorithms.Mux // by value: one object less to read a tick
	leader  algorithms.NodeID
	term    uint32

	leaderTimeout int
	heartbeat     int // the leader's heartbeat period, 0 for none
	missed        int
	succession    int
	leaderSilent  int
	watched       algorithms.NodeID // the drone whose silence is counted
	restarted     bool              // started from persisted state
	suspected     algorithms.NodeID // the leader suspected for silence, or 0

	local int64 // the last local clock reading, ns
	now   int64 // ticks
	down  map[algorithms.NodeID]bool
	show  *show.Player
	// ops: the operator commands applied, by name, at the index of the
	// entry carried out (operator.go).
	ops map[OperatorID]uint32

	// The airspace view (view.go).
	memberList    []algorithms.NodeID
	above         int           // index in memberList of the first member above the drone
	quorums       mutex.Quorums // in force
	substitute    func(q mutex.Quorums, retired, replacement algorithms.NodeID) mutex.Quorums
	views         []viewChange
	inForce       int
	retired       map[algorithms.NodeID]bool
	fenceTicks    int64
	showSync      int64
	activateDelay int64 // ns

	// The swarm time last persisted, and when (Persist).
	clockSaved     []byte
	clockSavedAt   int64
	clockSaveTicks int64
	viewProposed   int64 // tick of the last VIEW or ACTIVATE proposed
}

var (
	_ algorithms.Core      = (*Node)(nil)
	_ algorithms.Persister = (*Node)(nil)
)

// New returns the node of drone cfg.ID; restored is what Persist returned
// before the drone restarted, or nil.
func New(cfg Config, restored []byte) (*Node, error) {
	if cfg.TimeSyncShare == 0 {
		cfg.TimeSyncShare = 0.04
	}
	if cfg.ClockDriftPPM == 0 {
		cfg.ClockDriftPPM = 200
	}
	if cfg.Quorums == nil {
		cfg.Quorums = mutex.Best(cfg.Members)
	}
	logState, alarmState, air, clockState, err := splitState(restored)
	if err != nil {
		return nil, err
	}
	if cfg.Incarnation == 0 && air.known {
		cfg.Incarnation = air.inc + 1
	}
	if cfg.LeaderTimeout <= 0 {
		cfg.LeaderTimeout = 1500
	}
	if cfg.LeaderHeartbeat == 0 {
		cfg.LeaderHeartbeat = 25
	}
	if cfg.LeaderMissed <= 0 {
		cfg.LeaderMissed = 7
	}
	if cfg.SuccessionDelay <= 0 {
		cfg.SuccessionDelay = 100
	}
	if cfg.FenceTicks <= 0 {
		cfg.FenceTicks = 2 * cfg.LeaderTimeout
	}
	if cfg.ActivationSlack <= 0 {
		cfg.ActivationSlack = 2e9
	}
	if cfg.ShowSyncTicks <= 0 {
		cfg.ShowSyncTicks = 300
	}
	n := &Node{
		id: cfg.ID, leaderTimeout: cfg.LeaderTimeout, heartbeat: max(cfg.LeaderHeartbeat, 0),
		missed: cfg.LeaderMissed, succession: cfg.SuccessionDelay, down: map[algorithms.NodeID]bool{}, show: show.NewPlayer(),
		ops:        map[OperatorID]uint32{},
		memberList: algorithms.Sorted(cfg.Members), quorums: cfg.Quorums, substitute: cfg.Substitute,
		retired: map[algorithms.NodeID]bool{}, fenceTicks: int64(cfg.FenceTicks), viewProposed: -viewRetryTicks,
		showSync: int64(cfg.ShowSyncTicks), restarted: len(restored) > 0,
	}
	if n.substitute == nil {
		n.substitute = Substitute
	}
	if i, self := slices.BinarySearch(n.memberList, n.id); self {
		n.above = i + 1
	} else {
		n.above = i
	}
	n.members, err = membership.New(membership.Config{
		ID: cfg.ID, Members: cfg.Members, Incarnation: cfg.Incarnation, TickNanos: cfg.TickNanos,
		Baud: cfg.Baud, Unsigned: cfg.Unsigned, Share: cfg.HeartbeatShare, Missed: cfg.Missed, Seed: cfg.Seed,
	})
	if err != nil {
		return nil, fmt.Errorf("swarm: drone %d: %w", cfg.ID, err)
	}
	second := int(1e9 / max(cfg.TickNanos, 1))
	var opts []cmdlog.Option
	if logState != nil {
		opts = append(opts, cmdlog.Restore(logState))
	}
	n.log, err = cmdlog.NewNode(cmdlog.NodeConfig{
		// An idle leader repeats its commit point at least every third
		// of ShowSyncTicks, so that drones stay in sync with the show.
		Log: cmdlog.Config{
			ID: cfg.ID, Members: cfg.Members, Committee: cfg.Committee, Seed: cfg.Seed,
			BeaconMax: max(cfg.ShowSyncTicks/3, 50),
		},
		Election:     cfg.Election,
		BullyTimeout: cfg.BullyTimeout,
		// A leader that lives through a drone's restart stays: the
		// restarted drone follows it, a lower one too, rather than start
		// a term whose new leader must first recover the log. Before,
		// almost every term started while a leader lived under heavy
		// loss was the old leader taking its place back on restarting.
		BullyStay:      true,
		RingAckTimeout: cfg.BullyTimeout,
		// A ring participant that sees no ELECTED campaigns again after
		// twice the leader's silence timeout and 120 ms a hop: a crash
		// can take the message that carries the winner with it, and the
		// ring's default (4·N hops of the ACK wait, the bully's T: 46
		// minutes at 50 drones and 20% loss) left such swarms leaderless
		// to the end. A timeout that ends an election still under way
		// costs one more term, never a second leader of one.
		RingElectionTimeout: 2*cfg.LeaderTimeout + len(cfg.Members)*max(12*second/100, 1),
		CampaignTimeout:     cfg.CampaignTimeout,
		Heartbeat:           max(cfg.LeaderHeartbeat, 0),
	}, opts...)
	if err != nil {
		return nil, fmt.Errorf("swarm: drone %d: %w", cfg.ID, err)
	}
	// The drones next in line to lead (the highest IDs, as the bully
	// elects) synchronise first, so that a new leader serves the swarm
	// time rather than its own clock.
	//
	// Every other drone synchronises within 20 s of its start, 2 s of a
	// restart, instead of spreading its first poll over the budget's
	// period (87 s at 250 drones): a drone that does not know the swarm
	// time holds instead of flying the show. Those first polls take at
	// most a quarter of the channel (longer than 20 s from about 340
	// drones on: 2 minutes at 2000).
	firstPoll, syncPoll, syncShare := 0, 20*second, 0.25
	if rank := higherMembers(cfg.ID, cfg.Members); rank < max(cfg.Committee, 5) {
		firstPoll = 2 * second
	}
	// A restart is a start from persisted state: a drone that starts
	// without state has an incarnation too (its boot nonce), and taking
	// it for a restart made every drone of a cold swarm ask within 2 s of
	// the election, on a channel busy with it.
	if len(restored) > 0 {
		syncPoll, syncShare = 2*second, 0 // a few drones restart at once
	}
	n.clockSaveTicks = int64(clockSaveSeconds * second)
	n.clock, err = timesync.New(timesync.Config{
		ID: cfg.ID, Members: len(cfg.Members), TickNanos: cfg.TickNanos, Baud: cfg.Baud,
		Unsigned: cfg.Unsigned, Share: cfg.TimeSyncShare, DriftPPM: cfg.ClockDriftPPM, Seed: cfg.Seed,
		FirstPollTicks: firstPoll, SyncPollTicks: syncPoll, SyncShare: syncShare,
		Restored: clockState, GPSSlewPPM: cfg.GPSSlewPPM,
	})
	if err != nil {
		return nil, fmt.Errorf("swarm: drone %d: %w", cfg.ID, err)
	}
	n.locks, err = airspace.New(airspace.Config{
		ID: cfg.ID, Incarnation: cfg.Incarnation, Clock: air.clock,
		Quorums: cfg.Quorums, LeaseTicks: cfg.LeaseTicks, DriftPPM: cfg.ClockDriftPPM,
		TickNanos: cfg.TickNanos, BusyShare: LockBusyShare, BusyStagger: LockBusyStagger,
	})
	if err != nil {
		return nil, fmt.Errorf("swarm: drone %d: %w", cfg.ID, err)
	}
	// A view is activated once a voter that missed it is fenced and its
	// last vote has run out: a deposed leader's confirmation, the fence,
	// a lease with the voters' guard, and the slack for the error of swarm
	// time (view.go).
	lease := n.locks.LeaseTicks() + n.locks.GuardTicks()
	n.activateDelay = (n.log.Log().ConfirmTicks()+n.fenceTicks+lease)*max(cfg.TickNanos, 1) + cfg.ActivationSlack
	n.alarm, err = emergency.New(emergency.Config{
		ID: cfg.ID, Key: cfg.Key, Members: cfg.Members, Seed: cfg.Seed, State: alarmState,
	})
	if err != nil {
		return nil, fmt.Errorf("swarm: drone %d: %w", cfg.ID, err)
	}
	n.mux.Init(n.members, n.log, n.clock, n.locks, n.alarm)
	return n, nil
}

// higherMembers counts the members with an ID above id.
func higherMembers(id algorithms.NodeID, members []algorithms.NodeID) int {
	n := 0
	for _, m := range members {
		if m > id {
			n++
		}
	}
	return n
}

// Log returns the command log with its election.
func (n *Node) Log() *cmdlog.Node { return n.log }

// Locks returns the airspace locks.
func (n *Node) Locks() *airspace.Locks { return n.locks }

// Emergency returns the emergency-command core.
func (n *Node) Emergency() *emergency.Core { return n.alarm }

// Membership returns the membership core.
func (n *Node) Membership() *membership.Membership { return n.members }

// TimeSync returns the time-sync core.
func (n *Node) TimeSync() *timesync.TimeSync { return n.clock }

// Leader returns the leader the election declared and its term (0 when
// none). The election may declare two drones in one term; only the one a
// committee majority promised the term leads it (Log().Log().Leading()),
// sequences commands and serves swarm time.
func (n *Node) Leader() (algorithms.NodeID, uint32) { return n.leader, n.term }

// Show returns the show player: the show commands of the log applied in
// order, which tell the vehicle what to fly at a swarm time.
func (n *Node) Show() *show.Player { return n.show }

// InSync reports whether the drone may fly the show: it knows the swarm
// time, it was caught up with the command log within ShowSyncTicks, and
// it has not known of a command it has not applied for more than a
// second, so that its show player holds every PAUSE and RESUME the swarm
// follows.
// A drone that restarted mid-show, or lost the leader, holds its position
// until it is in sync again.
func (n *Node) InSync() bool {
	since, ok := n.log.Log().SinceCaughtUp()
	return ok && since <= n.showSync && n.clock.Synced() && n.log.Log().SinceBehind() <= behindTicks
}

// behindTicks is how long a drone may know of a command it has not
// applied and still fly the show: a command commits in tens of
// milliseconds; one that takes longer may be a PAUSE or RESUME whose time
// comes before the drone has it, so the drone holds until it has it.
const behindTicks = 100

// SetClock passes the drone's local clock reading in nanoseconds; call it
// before every Step and Tick.
func (n *Node) SetClock(local int64) {
	n.local = local
	n.clock.SetClock(local)
}

// SwarmTime is the swarm's time (the leader's clock) at the local reading.
func (n *Node) SwarmTime(local int64) int64 { return n.clock.SwarmTime(local) }

// ErrSystemCommand is returned by Propose for VIEW and ACTIVATE: the leader
// issues them itself, with the delays that keep the airspace safe.
var ErrSystemCommand = errors.New("swarm: VIEW and ACTIVATE are issued by the leader, not proposed")

// Propose appends a show or operator command to the command log; only the
// leader sequences (see cmdlog). A command that fails command.Validate is
// refused here rather than by every drone.
func (n *Node) Propose(c command.Command) (cmdlog.Position, error) {
	if err := checkProposal(c); err != nil {
		return cmdlog.Position{}, err
	}
	return n.log.Propose(command.Encode(c))
}

// checkProposal refuses what no one may propose: nothing, the swarm's
// own commands, and invalid ones.
func checkProposal(c command.Command) error {
	if c == nil {
		return fmt.Errorf("swarm: propose nil: %w", command.ErrMalformed)
	}
	if command.IsSystem(c.Kind()) {
		return fmt.Errorf("swarm: propose %v: %w", c, ErrSystemCommand)
	}
	if err := command.Validate(c); err != nil {
		return fmt.Errorf("swarm: propose %v: %w", c, err)
	}
	return nil
}

// ErrNotMember is returned by Step for a message from outside the swarm
// that only members send: a ground station may ask for swarm time and
// send emergency commands, nothing else, so it never votes, leads or
// counts as a member.
var ErrNotMember = errors.New("swarm: sender is not a member of the swarm")

// Step hands a received message to the protocol it belongs to. Every frame
// proves its sender alive.
func (n *Node) Step(from algorithms.NodeID, m algorithms.Message) error {
	if _, member := slices.BinarySearch(n.memberList, from); !member {
		switch m.(type) {
		case timesync.Request, emergency.Emergency:
		default:
			return fmt.Errorf("swarm: %s from %d: %w", m.Kind(), from, ErrNotMember)
		}
	}
	n.syncTimeServer()
	defer n.syncTimeServer()
	n.members.Heard(from)
	if from == n.watched {
		n.leaderSilent = 0
	}
	if from == n.suspected {
		n.suspected = 0
		n.route(membership.Up{ID: from})
	}
	return n.mux.Step(from, m)
}

// Tick advances every protocol by one tick, and suspects a silent leader
// (watchLeader).
func (n *Node) Tick() {
	n.now++
	n.syncTimeServer()
	n.holdGPSGap()
	n.mux.Tick()
	n.syncTimeServer()
	n.tickView()
	n.leadView()
	n.watchLeader()
}

// watchLeader counts the silence of the leader (or, at a drone restarted
// with the bully that knows none yet, of the drone the bully would elect)
// and suspects it when it lasts: after LeaderMissed heartbeat periods at
// the drone next in line, which takes over, SuccessionDelay ticks more at
// each of the next two, which ask the drones above them to, and
// LeaderTimeout at the others. Only frames the drone hears count: a
// leader is never silent for long, since it repeats its COORDINATOR when
// it has nothing else to broadcast. A drone started afresh does not watch
// before it knows a leader: the highest drone campaigns at its first tick
// (cmdlog.Node), and a ring election takes longer than a heartbeat period.
func (n *Node) watchLeader() {
	w := n.leader
	if w == 0 && n.restarted && n.log.Bully() != nil {
		w = n.presumedLeader()
	}
	if w != n.watched {
		n.watched, n.leaderSilent = w, 0
	}
	if w == 0 || w == n.id || n.suspected == w {
		return
	}
	n.leaderSilent++
	limit, next := n.leaderTimeout, false
	if n.heartbeat > 0 {
		limit = min(n.missed*n.heartbeat, limit) // the shortest, next in line
	}
	if n.leaderSilent < limit {
		return // not long enough for any place in line: skip rankInLine
	}
	limit = n.leaderTimeout
	if r := n.rankInLine(w); n.heartbeat > 0 && r <= successors {
		limit, next = min(n.missed*n.heartbeat+(r-1)*n.succession, limit), true
	}
	if n.leaderSilent >= limit {
		n.suspected = w
		n.route(membership.Down{ID: w})
		if next && n.log.Bully() != nil {
			n.log.Campaign()
		}
	}
}

// successors is how many drones next in line watch the leader closely.
const successors = 3

// presumedLeader returns the member the bully would elect as far as the
// drone knows: the highest one not reported down, 0 when that is the
// drone itself.
func (n *Node) presumedLeader() algorithms.NodeID {
	for i := len(n.memberList) - 1; i >= 0; i-- {
		m := n.memberList[i]
		if m == n.id {
			return 0
		}
		if !n.down[m] {
			return m
		}
	}
	return 0
}

// rankInLine returns the drone's place in line to succeed leader: 1 when
// every member above it but the leader is reported down, and
// successors+1 when it is further down than the successors. A drone that
// restarted above a live leader follows it (BullyStay), and is first in
// line: it declares itself at once when it campaigns.
func (n *Node) rankInLine(leader algorithms.NodeID) int {
	// Counted upward from the drone: it runs every tick of a silence
	// longer than the shortest limit, and only the few live members just
	// above it matter.
	r := 1
	for i := n.above; i < len(n.memberList) && r <= successors; i++ {
		if m := n.memberList[i]; m != leader && !n.down[m] {
			r++
		}
	}
	return r
}

// Ready returns what the protocols produced, after connecting them: the
// failure detector's verdicts reach every protocol, and the leader the
// command log recognises becomes the time server (syncTimeServer).
func (n *Node) Ready() algorithms.Ready {
	for {
		r := n.mux.Ready()
		n.syncTimeServer()
		if r.Empty() {
			return n.Outbox.Ready()
		}
		for _, s := range r.Sends {
			n.Send(s.To, s.Msg)
		}
		for _, ev := range r.Events {
			n.route(ev)
			n.Emit(ev)
		}
	}
}

func (n *Node) route(ev algorithms.Event) {
	switch ev := ev.(type) {
	case cmdlog.Applied:
		n.applyEntry(ev)
	case membership.Down:
		n.down[ev.ID] = true
		n.log.PeerDown(ev.ID)
		n.locks.PeerDown(ev.ID)
		n.alarm.PeerDown(ev.ID)
	case membership.Up:
		delete(n.down, ev.ID)
		n.log.PeerUp(ev.ID)
		n.locks.PeerUp(ev.ID)
		n.alarm.PeerUp(ev.ID)
	case election.Elected:
		if ev.Term >= n.term {
			if ev.Leader != n.leader {
				n.leaderSilent = 0
			}
			n.leader, n.term = ev.Leader, ev.Term
		}
	}
}

// syncTimeServer makes the time server the leader the command log
// recognises, not the one the election declared: the election may declare
// two drones in one term (a live leader wrongly suspected, whose ANSWER
// or COORDINATOR is lost), but only one of them gathers the promises of a
// committee majority for that term. The drone serves swarm time only
// while it leads its term with those promises (cmdlog's Leading), and
// follows the drone its log names leader of its current term; while the
// log names none, it keeps asking the last one.
func (n *Node) syncTimeServer() {
	lg := n.log.Log()
	want := lg.Leader()
	if want == n.id && !lg.Leading() {
		want = 0
	}
	if cur := n.clock.Leader(); want == 0 && cur != n.id {
		want = cur
	}
	if want != n.clock.Leader() {
		n.clock.SetLeader(want)
	}
}

// Refused is emitted for a committed command the drone does not carry out:
// data that is no command (Err wraps command.ErrMalformed), or a show
// command refused in the show's phase (Err wraps show.ErrRefused). Every
// drone applies the same log and refuses the same commands.
type Refused struct {
	Index uint32
	Err   error
}

// applyEntry carries out a committed command: the swarm's own (airspace
// views) or a show command for the player.
// An operator command whose name was carried out before is skipped
// (operator.go); the first entry of a name counts as carried out even
// when it is refused, at every drone alike.
func (n *Node) applyEntry(a cmdlog.Applied) {
	if a.Entry.Kind != cmdlog.KindCommand {
		return
	}
	e, err := DecodeEntry(a.Entry.Data)
	if op := e.Operator; op.Issuer != 0 {
		if first, ok := n.ops[op]; ok {
			n.Emit(Duplicate{Index: a.Index, Operator: op, First: first})
			return
		}
		n.ops[op] = a.Index
	}
	if err != nil {
		n.Emit(Refused{Index: a.Index, Err: err})
		return
	}
	c := e.Command
	if command.IsSystem(c.Kind()) {
		if e.Operator.Issuer != 0 {
			n.Emit(Refused{Index: a.Index, Err: fmt.Errorf("swarm: operator command %v: %w", e.Operator, ErrSystemCommand)})
			return
		}
		n.applySystem(c)
		return
	}
	if err := n.show.Apply(c); err != nil {
		n.Emit(Refused{Index: a.Index, Err: err})
		return
	}
	n.Emit(Executed{Index: a.Index, Operator: e.Operator, Command: c})
}

// PeerDown lets a driver with its own failure detector report a drone
// down, beside the node's own membership.
func (n *Node) PeerDown(id algorithms.NodeID) { n.route(membership.Down{ID: id}) }

// PeerUp reports a drone up again.
func (n *Node) PeerUp(id algorithms.NodeID) { n.route(membership.Up{ID: id}) }

// SetLearner makes the drone stand aside in the leader election while on
// (election.Bully.Abstain; the ring election has no such mode): it never
// campaigns nor takes over, so it never leads. A runner sets it for a
// drone that restarted without its state until it has caught up with the
// log, and withholds the drone's votes meanwhile (docs/drone.md).
func (n *Node) SetLearner(on bool) {
	if b := n.log.Bully(); b != nil {
		b.Abstain(on)
	}
}

// Incarnation returns the incarnation the drone runs as (Config).
func (n *Node) Incarnation() uint32 { return n.locks.Incarnation() }

// The persisted state: a marker, a version, then the command log's state,
// the emergency core's, the airspace part and the swarm time, each with a
// 4-byte length. The airspace part is the incarnation and the locks'
// Lamport clock, 4 bytes each; the swarm time is timesync's Persist (empty
// while the drone has none). Version 1 (without the airspace part and the
// swarm time) and version 2 (without the swarm time) are still read.
const (
	stateMarker  = 'S'
	stateVersion = 3
	airBytes     = 8
)

// clockSaveSeconds is how often the persisted swarm time is refreshed: timesync's Persist changes at every tick, and a runner that
// stores the state whenever it changes would write every tick. A restart
// takes the saved swarm time up only while its age, downtime included,
// keeps the drift within timesync's RestoreError.
const clockSaveSeconds = 10

// airState is the airspace part of the persisted state.
type airState struct {
	known      bool // the state carries it (version 2 and later)
	inc, clock uint32
}

// Persist implements algorithms.Persister: the command log (with the
// election's term and vote), the last emergency command obeyed, and the
// incarnation with the airspace locks' Lamport clock.
func (n *Node) Persist() []byte {
	air := binary.BigEndian.AppendUint32(nil, n.locks.Incarnation())
	air = binary.BigEndian.AppendUint32(air, n.locks.Clock())
	out := []byte{stateMarker, stateVersion}
	if n.clockSaved == nil || n.now-n.clockSavedAt >= n.clockSaveTicks {
		if b := n.clock.Persist(); b != nil {
			n.clockSaved, n.clockSavedAt = b, n.now
		}
	}
	for _, part := range [][]byte{n.log.Persist(), n.alarm.Persist(), air, n.clockSaved} {
		out = binary.BigEndian.AppendUint32(out, uint32(len(part)))
		out = append(out, part...)
	}
	return out
}

func splitState(b []byte) (logState, alarmState []byte, air airState, clockState []byte, err error) {
	if b == nil {
		return nil, nil, airState{}, nil, nil
	}
	if len(b) < 2 || b[0] != stateMarker || b[1] < 1 || b[1] > stateVersion {
		return nil, nil, airState{}, nil, fmt.Errorf("%w: not a swarm node state (pass the bytes Persist returned)", ErrBadState)
	}
	rest := b[2:]
	parts := make([][]byte, 1+int(b[1])) // version 1: 2 parts, 2: 3, 3: 4
	for i := range parts {
		if len(rest) < 4 {
			return nil, nil, airState{}, nil, fmt.Errorf("%w: truncated", ErrBadState)
		}
		l := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(l) > uint64(len(rest)) {
			return nil, nil, airState{}, nil, fmt.Errorf("%w: part %d claims %d bytes, %d left", ErrBadState, i, l, len(rest))
		}
		parts[i], rest = rest[:l], rest[l:]
	}
	if len(rest) != 0 {
		return nil, nil, airState{}, nil, fmt.Errorf("%w: %d trailing bytes", ErrBadState, len(rest))
	}
	if len(parts) >= 3 {
		if len(parts[2]) != airBytes {
			return nil, nil, airState{}, nil, fmt.Errorf("%w: airspace part of %d bytes, want %d", ErrBadState, len(parts[2]), airBytes)
		}
		air = airState{known: true, inc: binary.BigEndian.Uint32(parts[2]), clock: binary.BigEndian.Uint32(parts[2][4:])}
	}
	if len(parts) >= 4 && len(parts[3]) > 0 {
		clockState = parts[3]
	}
	return parts[0], parts[1], air, clockState, nil
}
