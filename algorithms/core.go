package algorithms

import (
	"errors"
	"fmt"
	"slices"
)

// NodeID is a drone's 16-bit vehicle ID, carried in the swarm's own payloads
// (the one-byte MAVLink system ID only addresses a drone inside one radio
// network).
type NodeID uint16

// Everyone is the vehicle ID that addresses every drone.
const Everyone NodeID = 0xFFFF

// ErrUnknownMessage is returned by Step when a core is handed a message that
// does not belong to its protocol.
var ErrUnknownMessage = errors.New("algorithms: message does not belong to this core")

// Message is a protocol message of a core.
type Message interface {
	// Kind names the message as the paper does (REQUEST, GRANT, …).
	Kind() string
	// Size is the encoded payload length in bytes, used to size frames and
	// count airtime. It must not exceed MaxPayload once framed.
	Size() int
}

// MaxPayload is the largest MAVLink v2 payload in bytes.
const MaxPayload = 255

// Send is one message a core asks to transmit.
type Send struct {
	// To lists the destinations. One element is a unicast; several are one
	// broadcast frame that exactly these peers accept; nil addresses every
	// peer.
	To  []NodeID
	Msg Message
}

// Count is the number of point-to-point messages the textbook counts for s
// in a group of n drones: one per destination, n−1 for a send to everyone.
func (s Send) Count(n int) int {
	if s.To == nil {
		return n - 1
	}
	return len(s.To)
}

// ToAll reports whether s addresses every peer.
func (s Send) ToAll() bool { return s.To == nil }

// To returns a destination list for a unicast or an explicit set of peers.
// It never returns nil, so it cannot be mistaken for "everyone".
func To(ids ...NodeID) []NodeID {
	out := make([]NodeID, len(ids))
	copy(out, ids)
	return out
}

// Sorted returns ids in ascending order: ids itself, its capacity
// clipped, when it is sorted already, so that the drones of one swarm
// share one member list rather than each keeping a copy; a sorted copy
// otherwise. The caller must not change ids afterwards.
func Sorted(ids []NodeID) []NodeID {
	if slices.IsSorted(ids) {
		return slices.Clip(ids)
	}
	return slices.Sorted(slices.Values(ids))
}

// Event is something a core reports to its driver: a grant, an election
// result, a delivery. Each core package defines its own event types.
type Event interface{}

// Ready is the output of a core since the previous call to Ready.
type Ready struct {
	Sends  []Send
	Events []Event
}

// Empty reports whether r carries nothing.
func (r Ready) Empty() bool { return len(r.Sends) == 0 && len(r.Events) == 0 }

// Core is the contract every protocol core follows.
type Core interface {
	// Step hands the core a message received from a peer. Messages from
	// the reliable delivery layer arrive at most once and in order per
	// sender; a core that runs over an unreliable layer must tolerate
	// duplicates itself. Step returns an error (wrapping
	// ErrUnknownMessage, or describing why the message is invalid) and
	// leaves its state unchanged when it rejects a message.
	Step(from NodeID, m Message) error
	// Tick advances the core's logical time by one tick.
	Tick()
	// Ready returns the sends and events produced since the last call and
	// clears them.
	Ready() Ready
}

// PeerObserver is implemented by cores that react to the failure detector.
type PeerObserver interface {
	// PeerDown tells the core that the failure detector suspects id.
	PeerDown(id NodeID)
	// PeerUp tells the core that id is alive again (after a restart or a
	// healed partition).
	PeerUp(id NodeID)
}

// Persister is implemented by cores that keep state across a restart
// (terms, votes, logs). The one rule for a driver: store the bytes of
// Persist, durably, before transmitting the Sends of the same Ready. A
// vote or an acknowledgement must not leave the drone before the state it
// vouches for would survive a restart. The driver calls Persist after
// every Ready that carries sends or events (it may skip the store when
// the bytes did not change) and hands the bytes back when the drone
// restarts.
type Persister interface {
	Persist() []byte
}

// Outbox collects a core's output. Cores embed it and get Ready for free.
type Outbox struct {
	ready Ready
	// queued, when set (Count), counts the Sends and Emits.
	queued *int
}

// Send queues m for the destinations to (nil: every peer).
func (o *Outbox) Send(to []NodeID, m Message) {
	o.ready.Sends = append(o.ready.Sends, Send{To: to, Msg: m})
	if o.queued != nil {
		*o.queued++
	}
}

// Emit queues an event for the driver.
func (o *Outbox) Emit(e Event) {
	o.ready.Events = append(o.ready.Events, e)
	if o.queued != nil {
		*o.queued++
	}
}

// Count makes every Send and Emit add one to *n from now on, for the
// composite that hosts the core: while *n has not moved since the
// composite last read the core's Ready, that Ready is empty. One counter
// may serve several cores.
func (o *Outbox) Count(n *int) { o.queued = n }

// Boxed is a core whose Ready hands out exactly what it queued on its
// Outbox (Outbox.Ready, not a Ready of its own), and Box returns that
// Outbox. A Mux reads such a core's Ready only after it queued something,
// which spares a large swarm's simulator a read of every idle core on
// every tick. A core declares it itself: embedding an Outbox is not
// enough, since a core may have a Ready of its own.
type Boxed interface {
	Core
	Box() *Outbox
}

// Ready returns the queued output and clears it.
func (o *Outbox) Ready() Ready {
	r := o.ready
	o.ready = Ready{}
	return r
}

// Unknown wraps ErrUnknownMessage with the message kind for a core's Step.
func Unknown(core string, m Message) error {
	kind := "<nil>"
	if m != nil {
		kind = m.Kind()
	}
	return fmt.Errorf("%s: %s: %w", core, kind, ErrUnknownMessage)
}

// Class says how a transmission counts in the measurements of
// `groundstation simulate` (docs/simulate.md).
type Class int

// Classes of transmissions.
const (
	// ClassData is a first transmission that carries a core message.
	ClassData Class = iota
	// ClassAck only acknowledges or asks for repair.
	ClassAck
	// ClassRetransmission repeats a data message.
	ClassRetransmission
	// ClassHeartbeat is membership and liveness traffic.
	ClassHeartbeat
)

// Classifier is implemented by messages of cores that do their own
// reliability over raw frames (reliable multicast with negative
// acknowledgements, membership): a message that is not a Classifier is data.
type Classifier interface {
	Class() Class
}

// ClassOf returns the class of m.
func ClassOf(m Message) Class {
	if c, ok := m.(Classifier); ok {
		return c.Class()
	}
	return ClassData
}

// Unreliable is implemented by messages that go out as plain radio frames,
// without the reliable delivery layer, even where a core's other messages
// use it: heartbeats, time-sync probes, repeated emergency commands, and
// the traffic of cores that do their own repair.
type Unreliable interface {
	Unreliable()
}

// IsUnreliable reports whether m bypasses the reliable delivery layer.
func IsUnreliable(m Message) bool {
	_, ok := m.(Unreliable)
	return ok
}
