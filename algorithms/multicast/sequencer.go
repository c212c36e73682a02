package multicast

import (
	"fmt"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
)

// Sequencer is total order by a fixed sequencer, broadcast by the sender
// (Amoeba's BB method; Kaashoek and Tanenbaum 1989, as in Coulouris): the
// sender multicasts its message, the sequencer multicasts an ORDER that
// gives it the next position, and every drone delivers position g once it
// holds the message and the ORDER of g and has delivered every position
// before g. A message of the sequencer carries its position itself. Both
// travel by reliable multicast with uniform agreement, so that costs 2 data
// frames per message (1 when the sequencer sends) besides acknowledgements.
//
// Safety does not depend on the sequencer: only it assigns positions, each
// once, and a position delivered anywhere reaches every correct drone. If
// the sequencer crashes, messages it has not ordered stay undelivered;
// taking over the sequence without losing a committed message needs
// consensus (the swarm's command log).
type Sequencer struct {
	base
	sequencer algorithms.NodeID
	sent      uint32 // own multicasts
	assigned  uint32 // the sequencer's last position
	next      uint32 // next position to deliver, from 1
	orders    map[uint32]ID
	data      map[ID][]byte
}

// NewSequencer returns the core of drone c.ID in a group ordered by
// sequencer.
func NewSequencer(c Config, sequencer algorithms.NodeID) (*Sequencer, error) {
	s := &Sequencer{sequencer: sequencer, next: 1, orders: map[uint32]ID{}, data: map[ID][]byte{}}
	if err := s.init("sequencer", c, s); err != nil {
		return nil, err
	}
	if !s.member(sequencer) {
		return nil, fmt.Errorf("sequencer: sequencer %d is not a member: %w", sequencer, ErrBadConfig)
	}
	return s, nil
}

// Broadcast implements Multicast.
func (s *Sequencer) Broadcast(payload []byte) (ID, error) {
	b := Sequenced{Seq: s.sent + 1, Payload: slices.Clone(payload)}
	if b.Size() > maxBody {
		return ID{}, fmt.Errorf("sequencer: payload of %d bytes, at most %d fit: %w", len(payload), maxBody-(b.Size()-len(payload)), ErrTooLarge)
	}
	s.sent++
	if s.id == s.sequencer {
		s.assigned++
		b.Global = s.assigned
	}
	if _, err := s.multicast(b); err != nil {
		panic(fmt.Sprintf("sequencer: %v", err)) // the size was checked above
	}
	return ID{Origin: s.id, Seq: b.Seq}, nil
}

// Step implements algorithms.Core.
func (s *Sequencer) Step(from algorithms.NodeID, m algorithms.Message) error {
	return s.stepReliable(from, m)
}

func (s *Sequencer) validate(origin algorithms.NodeID, b Body) error {
	switch b := b.(type) {
	case Sequenced:
		switch {
		case b.Seq == 0:
			return fmt.Errorf("message %d.0 from %d: %w", origin, origin, ErrBadMessage)
		case b.Global != 0 && origin != s.sequencer:
			return fmt.Errorf("message with position %d from %d, which is not the sequencer: %w", b.Global, origin, ErrBadMessage)
		}
	case Order:
		switch {
		case origin != s.sequencer:
			return fmt.Errorf("ORDER from %d, which is not the sequencer: %w", origin, ErrBadMessage)
		case b.Global == 0 || b.ID.Seq == 0:
			return fmt.Errorf("ORDER of %v at %d: %w", b.ID, b.Global, ErrBadMessage)
		case !s.member(b.ID.Origin):
			return fmt.Errorf("ORDER of %v: %w", b.ID, ErrNotMember)
		}
	default:
		return fmt.Errorf("%s body from %d: %w", b.Kind(), origin, ErrBadMessage)
	}
	return nil
}

func (s *Sequencer) rdeliver(id ID, b Body) {
	switch b := b.(type) {
	case Sequenced:
		mid := ID{Origin: id.Origin, Seq: b.Seq}
		s.data[mid] = b.Payload
		switch {
		case b.Global != 0:
			s.orders[b.Global] = mid
		case s.id == s.sequencer:
			// The sequencer orders a message once it has delivered it
			// reliably, so every correct drone will hold it; and it
			// delivers it, as everyone does, only once the ORDER is
			// delivered reliably (back to itself), so that a position it
			// delivers and then crashes reaches every correct drone.
			s.assigned++
			if _, err := s.multicast(Order{Global: s.assigned, ID: mid}); err != nil {
				panic(fmt.Sprintf("sequencer: an ORDER does not fit: %v", err))
			}
		}
	case Order:
		s.orders[b.Global] = b.ID
	}
	for {
		mid, ok := s.orders[s.next]
		if !ok {
			return
		}
		p, ok := s.data[mid]
		if !ok {
			return
		}
		delete(s.orders, s.next)
		delete(s.data, mid)
		s.next++
		s.Emit(Delivered{ID: mid, Payload: p})
	}
}

var _ Multicast = (*Sequencer)(nil)
