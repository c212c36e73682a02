package multicast

import (
	"fmt"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
)

// Basic is basic multicast: one broadcast frame per message and no
// guarantee beyond integrity (duplicated frames are delivered once) and
// the sender delivering its own message at once. A drone that misses the
// frame never delivers the message. It is the baseline that reliable
// multicast is measured against.
type Basic struct {
	algorithms.Outbox
	g    *group
	sent uint32
	seen map[algorithms.NodeID]*seenSet
}

// seenSet remembers the sequence numbers received from one origin: every
// number up to low, and those above it in above.
type seenSet struct {
	low   uint32
	above map[uint32]bool
}

func (s *seenSet) add(seq uint32) bool {
	if seq <= s.low || s.above[seq] {
		return false
	}
	s.above[seq] = true
	for s.above[s.low+1] {
		delete(s.above, s.low+1)
		s.low++
	}
	return true
}

// NewBasic returns the basic multicast core of drone c.ID.
func NewBasic(c Config) (*Basic, error) {
	g, err := newGroup("basic", c)
	if err != nil {
		return nil, err
	}
	return &Basic{g: g, seen: map[algorithms.NodeID]*seenSet{}}, nil
}

// Broadcast implements Multicast.
func (b *Basic) Broadcast(payload []byte) (ID, error) {
	m := BasicData{Seq: b.sent + 1, Payload: slices.Clone(payload)}
	if m.Size() > MaxMessage {
		return ID{}, fmt.Errorf("basic: payload of %d bytes, at most %d fit: %w", len(payload), MaxMessage-(m.Size()-len(payload)), ErrTooLarge)
	}
	b.sent++
	id := ID{Origin: b.g.id, Seq: m.Seq}
	if b.g.n() > 1 {
		b.Send(nil, m)
	}
	b.Emit(Delivered{ID: id, Payload: m.Payload})
	return id, nil
}

// Step implements algorithms.Core.
func (b *Basic) Step(from algorithms.NodeID, m algorithms.Message) error {
	d, ok := m.(BasicData)
	if !ok {
		return algorithms.Unknown("basic", m)
	}
	if err := b.g.checkMember("basic", from); err != nil {
		return err
	}
	if from == b.g.id || d.Seq == 0 {
		return fmt.Errorf("basic: DATA %d.%d from %d: %w", from, d.Seq, from, ErrBadMessage)
	}
	s := b.seen[from]
	if s == nil {
		s = &seenSet{above: map[uint32]bool{}}
		b.seen[from] = s
	}
	if s.add(d.Seq) {
		b.Emit(Delivered{ID: ID{Origin: from, Seq: d.Seq}, Payload: d.Payload})
	}
	return nil
}

// Tick implements algorithms.Core; basic multicast has no timers.
func (b *Basic) Tick() {}

// PeerDown implements algorithms.PeerObserver; basic multicast ignores it.
func (b *Basic) PeerDown(algorithms.NodeID) {}

// PeerUp implements algorithms.PeerObserver.
func (b *Basic) PeerUp(algorithms.NodeID) {}

var _ Multicast = (*Basic)(nil)
