package multicast

import (
	"fmt"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/clock"
)

// MaxCausalMembers is the largest group whose vector clock (one 4-byte
// entry per drone) fits one MAVLink payload with the reliable multicast's
// headers: 60 drones, with room left for a 1-byte payload. Every payload
// byte takes room from the clock: a 16-byte show command leaves room for 56
// drones (see MaxCausalPayload).
const MaxCausalMembers = (maxBody - 2*countBytes) / vectorEntry

// MaxCausalPayload is the largest payload causal multicast carries in a
// group of n drones, or a negative number when the group is too large.
func MaxCausalPayload(n int) int { return min(maxBody-2*countBytes-vectorEntry*n, maxCount) }

// Causal is causal-ordered reliable multicast with vector clocks (Birman,
// Schiper and Stephenson 1991, as in Coulouris): every message carries its
// sender's vector clock V_m, and drone i delivers a message from j when
// V_m[j] = V_i[j]+1 and V_m[k] ≤ V_i[k] for every k ≠ j, so that it
// delivers every message that happened-before it first.
//
// The clock has one 4-byte entry per member, so causal order is for small
// groups: NewCausal rejects a group of more than MaxCausalMembers drones
// with ErrGroupTooLarge. Larger swarms take their causality from total order.
type Causal struct {
	base
	vc      clock.Vector // messages delivered, per sender
	sent    uint32       // own multicasts
	holding map[ID]Stamped
}

// NewCausal returns the causal multicast core of drone c.ID.
func NewCausal(c Config) (*Causal, error) {
	members := slices.Clone(c.Members)
	slices.Sort(members)
	if n := len(slices.Compact(members)); n > MaxCausalMembers {
		return nil, fmt.Errorf("causal: %d drones need a %d-byte vector clock; at most %d drones fit one %d-byte MAVLink payload (use total order for larger groups): %w",
			n, vectorEntry*n, MaxCausalMembers, algorithms.MaxPayload, ErrGroupTooLarge)
	}
	cs := &Causal{holding: map[ID]Stamped{}}
	if err := cs.init("causal", c, cs); err != nil {
		return nil, err
	}
	cs.vc = clock.NewVector(cs.n())
	return cs, nil
}

// Broadcast implements Multicast. The message carries the clock of what
// this drone has delivered, with its own entry counting this message.
func (c *Causal) Broadcast(payload []byte) (ID, error) {
	if limit := MaxCausalPayload(c.n()); len(payload) > limit {
		return ID{}, fmt.Errorf("causal: payload of %d bytes, at most %d fit beside the %d-byte vector clock: %w",
			len(payload), limit, vectorEntry*c.n(), ErrTooLarge)
	}
	vm := c.vc.Clone()
	vm[c.index[c.id]] = c.sent + 1
	s, err := c.multicast(Stamped{VC: vm, Payload: slices.Clone(payload)})
	if err != nil {
		return ID{}, err
	}
	c.sent++
	return ID{Origin: c.id, Seq: s}, nil
}

// Step implements algorithms.Core.
func (c *Causal) Step(from algorithms.NodeID, m algorithms.Message) error {
	return c.stepReliable(from, m)
}

func (c *Causal) validate(origin algorithms.NodeID, b Body) error {
	st, ok := b.(Stamped)
	if !ok {
		return fmt.Errorf("%s body from %d: %w", b.Kind(), origin, ErrBadMessage)
	}
	if len(st.VC) != c.n() {
		return fmt.Errorf("vector clock of %d entries from %d in a group of %d: %w", len(st.VC), origin, c.n(), ErrBadMessage)
	}
	if st.VC[c.index[origin]] == 0 {
		return fmt.Errorf("vector clock from %d does not count its own message: %w", origin, ErrBadMessage)
	}
	return nil
}

func (c *Causal) rdeliver(id ID, b Body) {
	c.holding[id] = b.(Stamped)
	// Deliver whatever became deliverable, until nothing more does; the
	// hold-back queue is scanned in ID order to stay deterministic.
	for progress := true; progress; {
		progress = false
		ids := make([]ID, 0, len(c.holding))
		for id := range c.holding {
			ids = append(ids, id)
		}
		slices.SortFunc(ids, compareIDs)
		for _, id := range ids {
			m := c.holding[id]
			j := c.index[id.Origin]
			if !c.vc.Deliverable(m.VC, j) {
				continue
			}
			delete(c.holding, id)
			c.vc[j]++
			c.Emit(Delivered{ID: id, Payload: m.Payload})
			progress = true
		}
	}
}

func compareIDs(a, b ID) int {
	if a.Origin != b.Origin {
		return int(a.Origin) - int(b.Origin)
	}
	switch {
	case a.Seq < b.Seq:
		return -1
	case a.Seq > b.Seq:
		return 1
	}
	return 0
}

var _ Multicast = (*Causal)(nil)
