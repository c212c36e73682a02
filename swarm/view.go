package swarm

import (
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/mutex"
	"github.com/skyquorum/skyquorum/swarm/command"
)

// The airspace view: which drones vote in the airspace locks' quorums.
//
// The quorums start as mutex.Best over the members. When a voter is
// reported dead, the leader retires it through the command log: a VIEW
// entry names the retired voter and a live replacement, and, once the VIEW
// is committed, an ACTIVATE entry sets the swarm time at which every drone
// switches to the new quorums: each quorum with the retired voter in it
// gets the replacement instead. Substituting one drone for another keeps
// every two quorums intersecting, whether both are of the new view, or
// one is of the old view at a drone that has not switched yet, unless
// their only common voter was the retired one. So the switch is safe once
// the retired voter votes no more and every vote it gave has run out:
//
//   - a drone that applies a VIEW retiring it stops voting at once
//     (airspace.Locks.Retire);
//   - a drone that has not applied it stops voting FenceTicks after it was
//     last caught up (SetFenced): after a confirmed message of its leader
//     announcing a commit point it had applied (cmdlog's SinceCaughtUp).
//     A leader is confirmed while a committee majority has acknowledged it
//     within Confirm ticks, and a later leader commits only after a
//     majority has moved to its term, so a VIEW committed more than
//     Confirm before the drone was last caught up is one it has applied;
//   - the activation is Confirm + FenceTicks + LeaseTicks + the voters'
//     guard + ActivationSlack after the leader applied the VIEW: by then
//     the retired voter, whether dead, cut off with a deposed leader, or
//     unaware, has retired or been fenced long enough for its last vote
//     to have run out;
//   - a drone switches only when its swarm time is synchronised, so the
//     replacement votes for its new requesters no earlier than
//     the activation time less the swarm-time error. The slack
//     (ActivationSlack, 2 s) must cover that error and the time a frame
//     waits in the channel's queue (caught up is stamped on receipt,
//     confirmation when the leader sends); the campaigns measure errors
//     under 211 ms. A leader elected without a sample of the previous
//     one serves its own clock, which the slack does not cover: the
//     drones next in line to lead poll within 2 s of the start for that
//     reason.
//
// The leader proposes one change at a time: the next VIEW only once the
// previous one is in force at the leader.

// viewChange is one applied VIEW entry and the activation time its
// ACTIVATE set (0 while none is applied).
type viewChange struct {
	retired, replacement algorithms.NodeID
	at                   int64 // swarm time, ns
}

// applySystem applies a VIEW or ACTIVATE entry of the log. Entries that do
// not follow the one-change-at-a-time sequence are ignored; every drone
// applies the same log, so every drone ignores the same entries.
func (n *Node) applySystem(c command.Command) {
	switch c := c.(type) {
	case command.View:
		e := int(c.Epoch)
		if e != len(n.views)+1 || (e > 1 && n.views[e-2].at == 0) {
			return
		}
		d, r := algorithms.NodeID(c.Retired), algorithms.NodeID(c.Replacement)
		if n.retired[d] || n.retired[r] || !slices.Contains(n.memberList, d) || !slices.Contains(n.memberList, r) {
			return
		}
		n.views = append(n.views, viewChange{retired: d, replacement: r})
		n.retired[d] = true
		n.viewProposed = -viewRetryTicks // the leader may activate it at once
		if d == n.id {
			n.locks.Retire()
		}
	case command.Activate:
		e := int(c.Epoch)
		if e != len(n.views) || n.views[e-1].at != 0 || c.At <= 0 {
			return
		}
		n.views[e-1].at = c.At
		n.viewProposed = -viewRetryTicks
	}
}

// tickView fences the drone's voting while it may have missed a change of
// view, and switches to the views whose time has come.
func (n *Node) tickView() {
	since, ok := n.log.Log().SinceCaughtUp()
	n.locks.SetFenced(!ok || since > n.fenceTicks)
	if !n.clock.Synced() {
		return
	}
	now := n.clock.SwarmTime(n.local)
	for n.inForce < len(n.views) {
		v := n.views[n.inForce]
		if v.at == 0 || now < v.at {
			break
		}
		n.inForce++
		n.quorums = n.substitute(n.quorums, v.retired, v.replacement)
		// Every member keeps a quorum: a substitution only replaces.
		_ = n.locks.SetQuorums(n.quorums)
		n.Emit(ViewInForce{Epoch: n.inForce, Retired: v.retired, Replacement: v.replacement})
	}
}

// ViewInForce is emitted when the drone switches to a new airspace view.
type ViewInForce struct {
	Epoch                int
	Retired, Replacement algorithms.NodeID
}

// Epoch returns the airspace view in force at the drone (0: the initial
// one) and the number of views it has applied.
func (n *Node) Epoch() (inForce, applied int) { return n.inForce, len(n.views) }

// Quorums returns the airspace quorums in force at the drone (shared: do
// not modify).
func (n *Node) Quorums() mutex.Quorums { return n.quorums }

// leadView is the leader's part: activate a VIEW that has none, or retire
// a voter reported dead once every view is in force. Proposals are
// repeated at most every viewRetryTicks while they are not applied: a
// change of leader may lose them, and duplicates are ignored.
func (n *Node) leadView() {
	if !n.log.Log().Leading() || !n.clock.Synced() || n.now-n.viewProposed < viewRetryTicks {
		return
	}
	now := n.clock.SwarmTime(n.local)
	if k := len(n.views); k > 0 && n.views[k-1].at == 0 {
		n.proposeSystem(command.Activate{Epoch: uint16(k), At: now + n.activateDelay})
		return
	}
	if n.inForce < len(n.views) {
		return
	}
	if !slices.ContainsFunc(n.memberList, func(id algorithms.NodeID) bool {
		return id != n.id && n.down[id] && !n.retired[id]
	}) {
		return
	}
	votes := load(n.quorums)
	d := n.deadVoter(votes)
	if d == 0 {
		return
	}
	r := n.replacementFor(d, votes)
	if r == 0 {
		return
	}
	n.proposeSystem(command.View{Epoch: uint16(len(n.views) + 1), Retired: uint16(d), Replacement: uint16(r)})
}

const viewRetryTicks = 1000

func (n *Node) proposeSystem(c command.Command) {
	if _, err := n.log.Propose(command.Encode(c)); err == nil {
		n.viewProposed = n.now
	}
}

// deadVoter returns the lowest voter of the quorums in force (votes: the
// quorums each drone is in) that the drone believes down, or 0.
func (n *Node) deadVoter(votes map[algorithms.NodeID]int) algorithms.NodeID {
	for _, id := range n.memberList {
		if id != n.id && n.down[id] && !n.retired[id] && votes[id] > 0 {
			return id
		}
	}
	return 0
}

// replacementFor returns the live, unretired drone in the fewest quorums
// (the lowest ID among equals), other than d, heard from within half a
// failure detector's timeout; 0 if there is none. Drones cut off together
// are suspected one by one, up to a timeout apart (their last heartbeats
// were heard at different times): when d is suspected, another drone of
// the same cut is most likely not suspected yet, but silent for about a
// timeout already. Choosing it made a change of view, a minute to
// activate, that left the quorums as unreachable as before.
func (n *Node) replacementFor(d algorithms.NodeID, votes map[algorithms.NodeID]int) algorithms.NodeID {
	var best algorithms.NodeID
	for _, id := range n.memberList {
		if id == d || n.retired[id] || n.down[id] || 2*n.members.Silence(id) >= int64(n.members.TimeoutTicks()) {
			continue
		}
		if best == 0 || votes[id] < votes[best] {
			best = id
		}
	}
	return best
}

// Substitute returns q with r in place of d in every quorum, a new map
// (q is not changed).
func Substitute(q mutex.Quorums, d, r algorithms.NodeID) mutex.Quorums {
	out := make(mutex.Quorums, len(q))
	for id, qs := range q {
		if !slices.Contains(qs, d) {
			out[id] = qs
			continue
		}
		ns := make([]algorithms.NodeID, 0, len(qs))
		for _, v := range qs {
			if v == d {
				v = r
			}
			ns = append(ns, v)
		}
		slices.Sort(ns)
		out[id] = slices.Compact(ns)
	}
	return out
}

// load counts the quorums each drone votes in.
func load(q mutex.Quorums) map[algorithms.NodeID]int {
	out := map[algorithms.NodeID]int{}
	for _, qs := range q {
		for _, v := range qs {
			out[v]++
		}
	}
	return out
}

// Views returns the voters retired by the views applied, in order.
func (n *Node) Views() []algorithms.NodeID {
	out := make([]algorithms.NodeID, len(n.views))
	for i, v := range n.views {
		out[i] = v.retired
	}
	return out
}
