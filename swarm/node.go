// Package swarm is the drone's coordination runtime. Node composes the
// swarm's protocols into one pure state machine with the shape of every
// core (package algorithms), so that the simulator and the drone runner
// drive it the same way:
//
//   - membership (package membership): heartbeats within an airtime budget
//     and a failure detector, whose verdicts go to every other protocol;
//   - the leader, by bully, and the command log it sequences
//     (package algorithms/cmdlog): show and operator commands, applied in
//     one order at every drone;
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
	// radio network), this drone included.
	ID      algorithms.NodeID
	Members []algorithms.NodeID
	// Incarnation grows with every restart of the drone.
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
	// LeaderTimeout is how many ticks of silence from the leader make the
	// drone suspect it (optional, default 1500). The leader is never
	// silent for long: its command-log beacons, time-sync replies and
	// heartbeats reach everyone, so its failure is detected much sooner
	// than membership's budgeted heartbeats would.
	LeaderTimeout int
	// Quorums are the airspace locks' voting quorums (optional, default
	// mutex.Best(Members)).
	Quorums mutex.Quorums
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
	mux     *algorithms.Mux
	leader  algorithms.NodeID
	term    uint32

	leaderTimeout int
	leaderSilent  int
	suspected     algorithms.NodeID // the leader suspected for silence, or 0

	local int64 // the last local clock reading, ns
	now   int64 // ticks
	down  map[algorithms.NodeID]bool
	show  *show.Player

	// The airspace view (view.go).
	memberList    []algorithms.NodeID
	quorums       mutex.Quorums // in force
	views         []viewChange
	inForce       int
	retired       map[algorithms.NodeID]bool
	fenceTicks    int64
	showSync      int64
	activateDelay int64 // ns
	viewProposed  int64 // tick of the last VIEW or ACTIVATE proposed
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
	logState, alarmState, err := splitState(restored)
	if err != nil {
		return nil, err
	}
	if cfg.LeaderTimeout <= 0 {
		cfg.LeaderTimeout = 1500
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
		id: cfg.ID, leaderTimeout: cfg.LeaderTimeout, down: map[algorithms.NodeID]bool{}, show: show.NewPlayer(),
		memberList: slices.Sorted(slices.Values(cfg.Members)), quorums: cfg.Quorums,
		retired: map[algorithms.NodeID]bool{}, fenceTicks: int64(cfg.FenceTicks), viewProposed: -viewRetryTicks,
		showSync: int64(cfg.ShowSyncTicks),
	}
	n.members, err = membership.New(membership.Config{
		ID: cfg.ID, Members: cfg.Members, Incarnation: cfg.Incarnation, TickNanos: cfg.TickNanos,
		Baud: cfg.Baud, Unsigned: cfg.Unsigned, Share: cfg.HeartbeatShare, Missed: cfg.Missed, Seed: cfg.Seed,
	})
	if err != nil {
		return nil, fmt.Errorf("swarm: drone %d: %w", cfg.ID, err)
	}
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
		Election:        cfg.Election,
		BullyTimeout:    cfg.BullyTimeout,
		RingAckTimeout:  cfg.BullyTimeout,
		CampaignTimeout: cfg.CampaignTimeout,
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
	second := int(1e9 / max(cfg.TickNanos, 1))
	firstPoll, syncPoll, syncShare := 0, 20*second, 0.25
	if rank := higherMembers(cfg.ID, cfg.Members); rank < max(cfg.Committee, 5) {
		firstPoll = 2 * second
	}
	if cfg.Incarnation > 0 {
		syncPoll, syncShare = 2*second, 0 // a few drones restart at once
	}
	n.clock, err = timesync.New(timesync.Config{
		ID: cfg.ID, Members: len(cfg.Members), TickNanos: cfg.TickNanos, Baud: cfg.Baud,
		Unsigned: cfg.Unsigned, Share: cfg.TimeSyncShare, DriftPPM: cfg.ClockDriftPPM, Seed: cfg.Seed,
		FirstPollTicks: firstPoll, SyncPollTicks: syncPoll, SyncShare: syncShare,
	})
	if err != nil {
		return nil, fmt.Errorf("swarm: drone %d: %w", cfg.ID, err)
	}
	n.locks, err = airspace.New(airspace.Config{
		ID: cfg.ID, Quorums: cfg.Quorums, LeaseTicks: cfg.LeaseTicks, DriftPPM: cfg.ClockDriftPPM,
		TickNanos: cfg.TickNanos, BusyShare: LockBusyShare,
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
	n.mux = algorithms.NewMux(n.members, n.log, n.clock, n.locks, n.alarm)
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

// Leader returns the leader the drone follows and its term (0 when none).
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
	if c == nil {
		return cmdlog.Position{}, fmt.Errorf("swarm: propose nil: %w", command.ErrMalformed)
	}
	if command.IsSystem(c.Kind()) {
		return cmdlog.Position{}, fmt.Errorf("swarm: propose %v: %w", c, ErrSystemCommand)
	}
	if err := command.Validate(c); err != nil {
		return cmdlog.Position{}, fmt.Errorf("swarm: propose %v: %w", c, err)
	}
	return n.log.Propose(command.Encode(c))
}

// Step hands a received message to the protocol it belongs to. Every frame
// proves its sender alive.
func (n *Node) Step(from algorithms.NodeID, m algorithms.Message) error {
	n.members.Heard(from)
	if from == n.leader {
		n.leaderSilent = 0
		if n.suspected == from {
			n.suspected = 0
			n.route(membership.Up{ID: from})
		}
	}
	return n.mux.Step(from, m)
}

// Tick advances every protocol by one tick, and suspects a leader that has
// been silent for LeaderTimeout ticks.
func (n *Node) Tick() {
	n.now++
	n.mux.Tick()
	n.tickView()
	n.leadView()
	if n.leader == 0 || n.leader == n.id || n.suspected == n.leader {
		return
	}
	n.leaderSilent++
	if n.leaderSilent >= n.leaderTimeout {
		n.suspected = n.leader
		n.route(membership.Down{ID: n.leader})
	}
}

// Ready returns what the protocols produced, after connecting them: the
// failure detector's verdicts reach every protocol, and the elected leader
// becomes the time server.
func (n *Node) Ready() algorithms.Ready {
	for {
		r := n.mux.Ready()
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
			n.clock.SetLeader(ev.Leader)
		}
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
func (n *Node) applyEntry(a cmdlog.Applied) {
	if a.Entry.Kind != cmdlog.KindCommand {
		return
	}
	c, err := command.Decode(a.Entry.Data)
	if err != nil {
		n.Emit(Refused{Index: a.Index, Err: err})
		return
	}
	if command.IsSystem(c.Kind()) {
		n.applySystem(c)
		return
	}
	if err := n.show.Apply(c); err != nil {
		n.Emit(Refused{Index: a.Index, Err: err})
	}
}

// PeerDown lets a driver with its own failure detector report a drone
// down, beside the node's own membership.
func (n *Node) PeerDown(id algorithms.NodeID) { n.route(membership.Down{ID: id}) }

// PeerUp reports a drone up again.
func (n *Node) PeerUp(id algorithms.NodeID) { n.route(membership.Up{ID: id}) }

// The persisted state: a marker, a version, then the command log's state
// and the emergency core's, each with a 4-byte length.
const (
	stateMarker  = 'S'
	stateVersion = 1
)

// Persist implements algorithms.Persister: the command log (with the
// election's term and vote) and the last emergency command obeyed.
func (n *Node) Persist() []byte {
	out := []byte{stateMarker, stateVersion}
	for _, part := range [][]byte{n.log.Persist(), n.alarm.Persist()} {
		out = binary.BigEndian.AppendUint32(out, uint32(len(part)))
		out = append(out, part...)
	}
	return out
}

func splitState(b []byte) (logState, alarmState []byte, err error) {
	if b == nil {
		return nil, nil, nil
	}
	if len(b) < 2 || b[0] != stateMarker || b[1] != stateVersion {
		return nil, nil, fmt.Errorf("%w: not a swarm node state (pass the bytes Persist returned)", ErrBadState)
	}
	rest := b[2:]
	var parts [2][]byte
	for i := range parts {
		if len(rest) < 4 {
			return nil, nil, fmt.Errorf("%w: truncated", ErrBadState)
		}
		l := binary.BigEndian.Uint32(rest)
		rest = rest[4:]
		if uint64(l) > uint64(len(rest)) {
			return nil, nil, fmt.Errorf("%w: part %d claims %d bytes, %d left", ErrBadState, i, l, len(rest))
		}
		parts[i], rest = rest[:l], rest[l:]
	}
	if len(rest) != 0 {
		return nil, nil, fmt.Errorf("%w: %d trailing bytes", ErrBadState, len(rest))
	}
	return parts[0], parts[1], nil
}
