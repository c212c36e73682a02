package multicast

import (
	"fmt"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
)

// base is what every core over the reliable multicast shares: the outbox,
// the reliable multicast engine, and the failure detector's input.
type base struct {
	algorithms.Outbox
	*engine
	name string
}

func (b *base) init(name string, c Config, up upper) error {
	g, err := newGroup(name, c)
	if err != nil {
		return err
	}
	b.name = name
	b.engine = newEngine(g, &b.Outbox, up)
	return nil
}

// stepReliable hands m to the reliable multicast, or reports it unknown.
func (b *base) stepReliable(from algorithms.NodeID, m algorithms.Message) error {
	handled, err := b.step(from, m)
	if !handled {
		return algorithms.Unknown(b.name, m)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", b.name, err)
	}
	return nil
}

// Tick implements algorithms.Core: the reliable multicast's timers
// (acknowledgements, negative acknowledgements, repairs).
func (b *base) Tick() { b.tick() }

// PeerDown implements algorithms.PeerObserver: a crashed drone is no longer
// waited for, and if it was the origin of a message, the live holder with
// the lowest ID repairs that message.
func (b *base) PeerDown(id algorithms.NodeID) { b.peerDown(id) }

// PeerUp implements algorithms.PeerObserver.
func (b *base) PeerUp(id algorithms.NodeID) { b.peerUp(id) }

// Reliable is reliable multicast with uniform agreement: integrity (each
// message delivered at most once, and only if it was multicast), validity
// (a correct sender delivers its own message) and uniform agreement (if
// any drone delivers a message, crashed or not, every correct drone does).
// Config.Reliability picks the textbook relay or the radio-aware variant.
// Each origin's messages are delivered in the order it sent them.
type Reliable struct {
	base
}

// NewReliable returns the reliable multicast core of drone c.ID.
func NewReliable(c Config) (*Reliable, error) {
	r := &Reliable{}
	if err := r.init("reliable", c, r); err != nil {
		return nil, err
	}
	return r, nil
}

// Broadcast implements Multicast.
func (r *Reliable) Broadcast(payload []byte) (ID, error) { return r.broadcastPlain(payload) }

// Step implements algorithms.Core.
func (r *Reliable) Step(from algorithms.NodeID, m algorithms.Message) error {
	return r.stepReliable(from, m)
}

func (r *Reliable) validate(origin algorithms.NodeID, b Body) error { return plainOnly(origin, b) }

func (r *Reliable) rdeliver(id ID, b Body) {
	r.Emit(Delivered{ID: id, Payload: b.(Plain).Payload})
}

// FIFO is FIFO-ordered reliable multicast: every drone delivers each
// sender's messages in the order the sender multicast them. The reliable
// multicast's per-origin numbering is the textbook's S_g^p sequence number,
// and a hold-back queue delivers message S only after S−1.
type FIFO struct {
	base
	next    map[algorithms.NodeID]uint32
	holding map[ID][]byte
}

// NewFIFO returns the FIFO multicast core of drone c.ID.
func NewFIFO(c Config) (*FIFO, error) {
	f := &FIFO{next: map[algorithms.NodeID]uint32{}, holding: map[ID][]byte{}}
	if err := f.init("fifo", c, f); err != nil {
		return nil, err
	}
	return f, nil
}

// Broadcast implements Multicast.
func (f *FIFO) Broadcast(payload []byte) (ID, error) { return f.broadcastPlain(payload) }

// Step implements algorithms.Core.
func (f *FIFO) Step(from algorithms.NodeID, m algorithms.Message) error {
	return f.stepReliable(from, m)
}

func (f *FIFO) validate(origin algorithms.NodeID, b Body) error { return plainOnly(origin, b) }

func (f *FIFO) rdeliver(id ID, b Body) {
	f.holding[id] = b.(Plain).Payload
	for {
		next := ID{Origin: id.Origin, Seq: f.next[id.Origin] + 1}
		p, ok := f.holding[next]
		if !ok {
			return
		}
		delete(f.holding, next)
		f.next[id.Origin] = next.Seq
		f.Emit(Delivered{ID: next, Payload: p})
	}
}

// Compile-time checks.
var (
	_ Multicast = (*Reliable)(nil)
	_ Multicast = (*FIFO)(nil)
)

// broadcastPlain multicasts payload as a plain body, as the reliable and
// FIFO cores do.
func (b *base) broadcastPlain(payload []byte) (ID, error) {
	s, err := b.multicast(Plain{Payload: slices.Clone(payload)})
	return ID{Origin: b.id, Seq: s}, err
}

// plainOnly accepts only plain bodies, which is all the reliable and FIFO
// cores carry.
func plainOnly(origin algorithms.NodeID, b Body) error {
	if _, ok := b.(Plain); !ok {
		return fmt.Errorf("%s body from %d: %w", b.Kind(), origin, ErrBadMessage)
	}
	return nil
}
