package mutex

import (
	"fmt"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/clock"
)

// timestampBytes is the encoded size of a Lamport timestamp.
const timestampBytes = 4

// Messages of Ricart and Agrawala's algorithm.
type (
	// RicartRequest asks every other drone for Resource, stamped with the
	// requester's Lamport clock. The requester's ID, the tie-break of
	// the (Timestamp, ID) order, is the frame's sender.
	RicartRequest struct {
		Resource  Resource
		Timestamp uint32
	}
	// RicartReply is a drone's permission to enter Resource. It carries
	// the replier's Lamport clock so that a request made after a chain of
	// replies is stamped after every request that happened before it
	// (without it, ME3 fails across such chains).
	RicartReply struct {
		Resource  Resource
		Timestamp uint32
	}
)

// Kind implements algorithms.Message.
func (RicartRequest) Kind() string { return "REQUEST" }

// Kind implements algorithms.Message.
func (RicartReply) Kind() string { return "REPLY" }

// Size implements algorithms.Message.
func (RicartRequest) Size() int { return kindBytes + resourceBytes + timestampBytes }

// Size implements algorithms.Message.
func (RicartReply) Size() int { return kindBytes + resourceBytes + timestampBytes }

// Ricart is Ricart and Agrawala's algorithm: a requester multicasts a
// REQUEST stamped (Lamport time, ID) to every other drone and enters once
// all have replied; a drone that holds the resource, or wants it with an
// earlier stamp, defers its REPLY until it leaves. Entering costs 2(N−1)
// messages and N frames on a broadcast radio (one REQUEST frame, N−1
// REPLY frames); leaving sends the deferred replies, already counted. It
// gives ME1, ME2 and ME3 (docs/algorithms.md). One Lamport clock serves all
// resources of the drone.
type Ricart struct {
	algorithms.Outbox
	id algorithms.NodeID
	// all is every other configured drone; members those not reported
	// down, both sorted.
	all, members []algorithms.NodeID
	clock        clock.Lamport
	req          map[Resource]*ricartRequest
}

// ricartRequest is the drone's own request for one resource, from Request
// to Release.
type ricartRequest struct {
	state    clientState
	stamp    clock.Stamp
	waiting  map[algorithms.NodeID]bool
	deferred []algorithms.NodeID
}

var (
	_ Mutex                   = (*Ricart)(nil)
	_ algorithms.PeerObserver = (*Ricart)(nil)
)

// NewRicart returns the core of drone id in a group of the given members
// (id among them or not). The group must be every drone that the driver's
// "every peer" address reaches, because REQUEST is sent to everyone
// (algorithms.Send with To == nil); once a member is reported down the
// REQUEST names the live members explicitly.
func NewRicart(id algorithms.NodeID, members []algorithms.NodeID) *Ricart {
	all := removeID(normalizeIDs(members), id)
	return &Ricart{
		id:      id,
		all:     all,
		members: slices.Clone(all),
		req:     map[Resource]*ricartRequest{},
	}
}

// Request implements Mutex.
func (c *Ricart) Request(r Resource) error {
	if c.req[r] != nil {
		return fmt.Errorf("ricart: request %d: %w", r, ErrBusy)
	}
	q := &ricartRequest{
		state:   wanted,
		stamp:   clock.Stamp{T: c.clock.Tick(), ID: uint16(c.id)},
		waiting: make(map[algorithms.NodeID]bool, len(c.members)),
	}
	c.req[r] = q
	for _, id := range c.members {
		q.waiting[id] = true
	}
	if len(c.members) == 0 {
		c.enter(r, q)
		return nil
	}
	c.Send(c.everyone(), RicartRequest{Resource: r, Timestamp: q.stamp.T})
	return nil
}

// Release implements Mutex: the deferred replies go out now.
func (c *Ricart) Release(r Resource) error {
	q := c.req[r]
	if q == nil || q.state != held {
		return fmt.Errorf("ricart: release %d: %w", r, ErrNotHeld)
	}
	delete(c.req, r)
	for _, id := range q.deferred {
		c.reply(id, r)
	}
	return nil
}

// Step implements algorithms.Core.
func (c *Ricart) Step(from algorithms.NodeID, m algorithms.Message) error {
	switch m := m.(type) {
	case RicartRequest:
		return c.stepRequest(from, m)
	case RicartReply:
		return c.stepReply(from, m)
	default:
		return algorithms.Unknown("ricart", m)
	}
}

func (c *Ricart) stepRequest(from algorithms.NodeID, m RicartRequest) error {
	if !c.isMember(from) {
		return fmt.Errorf("ricart: REQUEST of %d from %d, which is not a live member (report it with PeerUp first)", m.Resource, from)
	}
	q := c.req[m.Resource]
	if q != nil && slices.Contains(q.deferred, from) {
		return fmt.Errorf("ricart: second REQUEST of %d from %d before the first was answered", m.Resource, from)
	}
	c.clock.Witness(m.Timestamp)
	theirs := clock.Stamp{T: m.Timestamp, ID: uint16(from)}
	if q != nil && (q.state == held || q.stamp.Less(theirs)) {
		q.deferred = append(q.deferred, from)
		return nil
	}
	c.reply(from, m.Resource)
	return nil
}

func (c *Ricart) stepReply(from algorithms.NodeID, m RicartReply) error {
	q := c.req[m.Resource]
	if q == nil || !q.waiting[from] {
		if !c.isMember(from) {
			// A late reply from a drone reported down: nothing waits
			// for it any more.
			return nil
		}
		return fmt.Errorf("ricart: unexpected REPLY of %d from %d", m.Resource, from)
	}
	c.clock.Witness(m.Timestamp)
	delete(q.waiting, from)
	if len(q.waiting) == 0 {
		c.enter(m.Resource, q)
	}
	return nil
}

// Tick implements algorithms.Core; Ricart–Agrawala has no timers.
func (c *Ricart) Tick() {}

// PeerDown implements algorithms.PeerObserver: the drone stops waiting for
// id's replies (entering if id was the last one missing), forgets id's
// deferred requests and leaves it out of later requests.
func (c *Ricart) PeerDown(id algorithms.NodeID) {
	if !c.isMember(id) {
		return
	}
	c.members = removeID(c.members, id)
	for _, r := range sortedResources(c.req) {
		q := c.req[r]
		q.deferred = removeID(q.deferred, id)
		if q.state == wanted && q.waiting[id] {
			delete(q.waiting, id)
			if len(q.waiting) == 0 {
				c.enter(r, q)
			}
		}
	}
}

// PeerUp implements algorithms.PeerObserver: a configured drone takes part
// again from the next request on.
func (c *Ricart) PeerUp(id algorithms.NodeID) {
	if !slices.Contains(c.all, id) {
		return
	}
	if i, found := slices.BinarySearch(c.members, id); !found {
		c.members = slices.Insert(c.members, i, id)
	}
}

func (c *Ricart) isMember(id algorithms.NodeID) bool {
	_, found := slices.BinarySearch(c.members, id)
	return found
}

// everyone addresses every peer while the whole group is alive, and the
// live members once some are down.
func (c *Ricart) everyone() []algorithms.NodeID {
	if len(c.members) == len(c.all) {
		return nil
	}
	return algorithms.To(c.members...)
}

func (c *Ricart) reply(to algorithms.NodeID, r Resource) {
	c.Send(algorithms.To(to), RicartReply{Resource: r, Timestamp: c.clock.Tick()})
}

func (c *Ricart) enter(r Resource, q *ricartRequest) {
	q.state = held
	c.Emit(Granted{Resource: r})
}
