package algorithms

import (
	"errors"
	"fmt"
	"slices"
)

// Mux runs several cores as one: a received message goes to the first core
// that accepts it (the others answer ErrUnknownMessage), every Tick ticks
// them all in order, and Ready gathers their output in order. The cores'
// message types must not overlap.
//
// A composite such as the swarm node uses it to host its protocols and
// reads the events out of Ready to connect them (a failure detector's
// verdict to the election, the elected leader to the command log).
type Mux struct {
	cores []Core
	// few holds the cores when there are no more than its length, so
	// that a tick reads them from the Mux itself rather than from
	// another object.
	few [6]Core
	// boxed has bit i set when core i (of the first 64) is Boxed, its
	// output counted in queued: bits in the Mux itself, for a check that
	// reads no other memory.
	boxed  uint64
	queued int
}

// NewMux returns a Mux over cores, which it steps and ticks in this order.
func NewMux(cores ...Core) *Mux { return new(Mux).Init(cores...) }

// Init sets m up to host cores, as NewMux does, for a composite that
// holds its Mux by value (one object less to read on every tick). A Mux
// must not be copied once set up.
func (m *Mux) Init(cores ...Core) *Mux {
	*m = Mux{}
	if len(cores) <= len(m.few) {
		m.cores = m.few[:copy(m.few[:], cores)]
	} else {
		m.cores = slices.Clone(cores)
	}
	for i, c := range m.cores {
		if b, ok := c.(Boxed); ok && i < 64 {
			b.Box().Count(&m.queued)
			m.boxed |= 1 << i
		}
	}
	return m
}

// Cores returns the hosted cores.
func (m *Mux) Cores() []Core { return m.cores }

// Step hands msg to the core it belongs to.
func (m *Mux) Step(from NodeID, msg Message) error {
	for _, c := range m.cores {
		err := c.Step(from, msg)
		if errors.Is(err, ErrUnknownMessage) {
			continue
		}
		return err
	}
	if msg == nil {
		return fmt.Errorf("mux: nil message: %w", ErrUnknownMessage)
	}
	return fmt.Errorf("mux: %s (%T): %w", msg.Kind(), msg, ErrUnknownMessage)
}

// Tick ticks every core.
func (m *Mux) Tick() {
	for _, c := range m.cores {
		c.Tick()
	}
}

// Ready gathers every core's output. A Boxed core is read only when one
// has queued output since the last Ready.
func (m *Mux) Ready() Ready {
	var r Ready
	queued := m.queued
	m.queued = 0
	for i, c := range m.cores {
		if queued == 0 && m.boxed&(1<<i) != 0 {
			continue
		}
		cr := c.Ready()
		r.Sends = append(r.Sends, cr.Sends...)
		r.Events = append(r.Events, cr.Events...)
	}
	return r
}

// PeerDown forwards the failure detector's verdict to every core that
// observes peers.
func (m *Mux) PeerDown(id NodeID) {
	for _, c := range m.cores {
		if p, ok := c.(PeerObserver); ok {
			p.PeerDown(id)
		}
	}
}

// PeerUp forwards the failure detector's verdict to every core that
// observes peers.
func (m *Mux) PeerUp(id NodeID) {
	for _, c := range m.cores {
		if p, ok := c.(PeerObserver); ok {
			p.PeerUp(id)
		}
	}
}

var _ Core = (*Mux)(nil)
var _ PeerObserver = (*Mux)(nil)
