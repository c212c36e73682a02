package mutex

import (
	"fmt"

	"github.com/skyquorum/skyquorum/algorithms"
)

// Messages of the central server algorithm.
type (
	// CentralRequest asks the server for Resource.
	CentralRequest struct{ Resource Resource }
	// CentralGrant gives Resource to the requester.
	CentralGrant struct{ Resource Resource }
	// CentralRelease returns Resource to the server.
	CentralRelease struct{ Resource Resource }
)

// Kind implements algorithms.Message.
func (CentralRequest) Kind() string { return "REQUEST" }

// Kind implements algorithms.Message.
func (CentralGrant) Kind() string { return "GRANT" }

// Kind implements algorithms.Message.
func (CentralRelease) Kind() string { return "RELEASE" }

// Size implements algorithms.Message.
func (CentralRequest) Size() int { return kindBytes + resourceBytes }

// Size implements algorithms.Message.
func (CentralGrant) Size() int { return kindBytes + resourceBytes }

// Size implements algorithms.Message.
func (CentralRelease) Size() int { return kindBytes + resourceBytes }

// Central is the central server algorithm: one drone, the server, keeps a
// token per resource and a FIFO queue of requesters. Entering costs two
// messages (REQUEST, GRANT) and leaving one (RELEASE); the server's own
// entries cost none. It gives ME1 and ME2 while the server lives, not ME3.
type Central struct {
	algorithms.Outbox
	id     algorithms.NodeID
	server algorithms.NodeID

	// Client side.
	state map[Resource]clientState

	// Server side.
	holder map[Resource]algorithms.NodeID
	queue  map[Resource][]algorithms.NodeID
}

type clientState uint8

const (
	released clientState = iota
	wanted
	held
)

var _ Mutex = (*Central)(nil)

// NewCentral returns the core of drone id, with server as the lock server.
func NewCentral(id, server algorithms.NodeID) *Central {
	return &Central{
		id:     id,
		server: server,
		state:  map[Resource]clientState{},
		holder: map[Resource]algorithms.NodeID{},
		queue:  map[Resource][]algorithms.NodeID{},
	}
}

// Request implements Mutex.
func (c *Central) Request(r Resource) error {
	if c.state[r] != released {
		return fmt.Errorf("central: request %d: %w", r, ErrBusy)
	}
	c.state[r] = wanted
	if c.id == c.server {
		c.serverRequest(c.id, r)
		return nil
	}
	c.Send(algorithms.To(c.server), CentralRequest{Resource: r})
	return nil
}

// Release implements Mutex.
func (c *Central) Release(r Resource) error {
	if c.state[r] != held {
		return fmt.Errorf("central: release %d: %w", r, ErrNotHeld)
	}
	delete(c.state, r)
	if c.id == c.server {
		c.serverRelease(c.id, r)
		return nil
	}
	c.Send(algorithms.To(c.server), CentralRelease{Resource: r})
	return nil
}

// Step implements algorithms.Core.
func (c *Central) Step(from algorithms.NodeID, m algorithms.Message) error {
	switch m := m.(type) {
	case CentralRequest:
		if c.id != c.server {
			return fmt.Errorf("central: REQUEST from %d at a drone that is not the server", from)
		}
		c.serverRequest(from, m.Resource)
	case CentralRelease:
		if c.id != c.server {
			return fmt.Errorf("central: RELEASE from %d at a drone that is not the server", from)
		}
		if c.holder[m.Resource] != from {
			return fmt.Errorf("central: RELEASE of %d from %d, which does not hold it", m.Resource, from)
		}
		c.serverRelease(from, m.Resource)
	case CentralGrant:
		if from != c.server || c.state[m.Resource] != wanted {
			return fmt.Errorf("central: unexpected GRANT of %d from %d", m.Resource, from)
		}
		c.enter(m.Resource)
	default:
		return algorithms.Unknown("central", m)
	}
	return nil
}

// Tick implements algorithms.Core; the central server has no timers.
func (c *Central) Tick() {}

// PeerDown implements algorithms.PeerObserver: a dead drone's queued
// requests are dropped, and a dead holder's lock is given to the next
// requester (the textbook leaves this open; the swarm uses leases).
func (c *Central) PeerDown(id algorithms.NodeID) {
	if c.id != c.server {
		return
	}
	for r, q := range c.queue {
		c.queue[r] = removeID(q, id)
	}
	for _, r := range sortedResources(c.holder) {
		if c.holder[r] == id {
			c.serverRelease(id, r)
		}
	}
}

// PeerUp implements algorithms.PeerObserver.
func (c *Central) PeerUp(algorithms.NodeID) {}

func (c *Central) enter(r Resource) {
	c.state[r] = held
	c.Emit(Granted{Resource: r})
}

func (c *Central) serverRequest(from algorithms.NodeID, r Resource) {
	if _, busy := c.holder[r]; busy {
		c.queue[r] = append(c.queue[r], from)
		return
	}
	c.grant(from, r)
}

func (c *Central) serverRelease(from algorithms.NodeID, r Resource) {
	delete(c.holder, r)
	q := c.queue[r]
	if len(q) == 0 {
		delete(c.queue, r)
		return
	}
	next := q[0]
	c.queue[r] = q[1:]
	c.grant(next, r)
}

func (c *Central) grant(to algorithms.NodeID, r Resource) {
	c.holder[r] = to
	if to == c.id {
		c.enter(r)
		return
	}
	c.Send(algorithms.To(to), CentralGrant{Resource: r})
}

func removeID(ids []algorithms.NodeID, id algorithms.NodeID) []algorithms.NodeID {
	out := ids[:0]
	for _, x := range ids {
		if x != id {
			out = append(out, x)
		}
	}
	return out
}
