package multicast

import (
	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/clock"
)

// Encoded sizes, in bytes, of the fields of the messages.
const (
	kindBytes   = 1
	countBytes  = 1
	flagBytes   = 1
	idBytes     = 2
	seqBytes    = 4
	stampBytes  = 6 // clock.Stamp: 4-byte time, 2-byte drone
	entryBytes  = idBytes + 2*seqBytes
	vectorEntry = 4
)

// Largest counts of list fields, bounded by the one-byte count.
const maxCount = 255

// Body is what the reliable multicast carries for the order above it:
// an application payload with the order's header, or the order's own
// control message (a sequencer's ORDER, ISIS's AGREED).
type Body interface {
	// Kind names the body as the paper does; a first transmission by the
	// origin is counted under it.
	Kind() string
	// Size is the encoded length in bytes.
	Size() int
}

// Headers of the reliable multicast's frames around a body, in bytes.
const (
	dataHeader   = kindBytes + seqBytes + countBytes                       // + entries + body
	relayHeader  = kindBytes + idBytes + seqBytes + countBytes             // + entries + body
	repairHeader = kindBytes + idBytes + seqBytes + countBytes             // + asked drones + body
	ackHeader    = kindBytes + 2*countBytes                                // + asked drones + entries
	nakHeader    = kindBytes + idBytes + countBytes                        // + missing sequence numbers
	maxBody      = MaxMessage - max(dataHeader, relayHeader, repairHeader) // a body fits every frame that carries it
)

// AckEntry announces what the sending drone holds of one origin's
// messages. Acknowledgements are cumulative, so one entry covers every
// message of the origin up to Held, and a lost one is made good by the next.
type AckEntry struct {
	Origin algorithms.NodeID
	// Held: the sender holds every message of Origin up to Held.
	Held uint32
	// Safe: MaxFaults+1 drones are known to hold every message of Origin
	// up to Safe, so any drone that holds one of them may deliver it.
	Safe uint32
}

// Data is the first transmission of a multicast by its origin, one
// broadcast frame. It carries the origin's own acknowledgements for free.
type Data struct {
	Seq  uint32
	Acks []AckEntry
	Body Body
}

// Relayed is the textbook's relay: a drone's one retransmission of a message
// it received for the first time, before it delivers it. The textbook
// counts relays as messages, so they are data frames.
type Relayed struct {
	ID   ID
	Acks []AckEntry
	Body Body
}

// Repair retransmits a message, after a negative acknowledgement or when
// the repairer has not heard every live drone acknowledge it. Drones in Ask
// that already hold it acknowledge again, because the repairer missed
// their acknowledgement.
type Repair struct {
	ID   ID
	Ask  []algorithms.NodeID
	Body Body
}

// Ack announces what the sender holds. With Ask set the sender is stuck:
// it holds messages it cannot deliver yet, and asks the committee members
// whose acknowledgement it has not heard to announce again what they hold
// of the origins in Entries.
type Ack struct {
	Ask     []algorithms.NodeID
	Entries []AckEntry
}

// Nak asks for the messages of Origin that the sender knows exist and does
// not hold.
type Nak struct {
	Origin  algorithms.NodeID
	Missing []uint32
}

// Kind implements algorithms.Message: the body's kind.
func (m Data) Kind() string { return m.Body.Kind() }

// Kind implements algorithms.Message.
func (Relayed) Kind() string { return "RELAY" }

// Kind implements algorithms.Message.
func (Repair) Kind() string { return "REPAIR" }

// Kind implements algorithms.Message.
func (Ack) Kind() string { return "ACK" }

// Kind implements algorithms.Message.
func (Nak) Kind() string { return "NAK" }

// Size implements algorithms.Message.
func (m Data) Size() int { return dataHeader + entryBytes*len(m.Acks) + m.Body.Size() }

// Size implements algorithms.Message.
func (m Relayed) Size() int { return relayHeader + entryBytes*len(m.Acks) + m.Body.Size() }

// Size implements algorithms.Message.
func (m Repair) Size() int { return repairHeader + idBytes*len(m.Ask) + m.Body.Size() }

// Size implements algorithms.Message.
func (m Ack) Size() int { return ackHeader + idBytes*len(m.Ask) + entryBytes*len(m.Entries) }

// Size implements algorithms.Message.
func (m Nak) Size() int { return nakHeader + seqBytes*len(m.Missing) }

// Class implements algorithms.Classifier: a repair repeats data.
func (Repair) Class() algorithms.Class { return algorithms.ClassRetransmission }

// Class implements algorithms.Classifier.
func (Ack) Class() algorithms.Class { return algorithms.ClassAck }

// Class implements algorithms.Classifier.
func (Nak) Class() algorithms.Class { return algorithms.ClassAck }

// Plain is the body of reliable and FIFO multicast: the payload alone (the
// reliable multicast's sequence number orders it).
type Plain struct {
	Payload []byte
}

// Stamped is the body of causal multicast: the payload and the sender's
// vector clock, one 4-byte entry per member.
type Stamped struct {
	VC      clock.Vector
	Payload []byte
}

// Sequenced is the body of a multicast in total order by a sequencer: the
// sender's own number for it, and its position in the total order when the
// sender is the sequencer (0 otherwise: an Order assigns it).
type Sequenced struct {
	Seq     uint32
	Global  uint32
	Payload []byte
}

// Order is the sequencer's assignment of a position in the total order to
// a message.
type Order struct {
	Global uint32
	ID     ID
}

// Tagged is the body of an ISIS multicast: the sender's own number for it
// and the payload.
type Tagged struct {
	Seq     uint32
	Payload []byte
}

// Agreed is the ISIS sender's agreed priority for its message Seq: the
// largest of the proposals.
type Agreed struct {
	Seq      uint32
	Priority clock.Stamp
}

// Kind implements Body.
func (Plain) Kind() string { return "DATA" }

// Kind implements Body.
func (Stamped) Kind() string { return "DATA" }

// Kind implements Body.
func (Sequenced) Kind() string { return "DATA" }

// Kind implements Body.
func (Order) Kind() string { return "ORDER" }

// Kind implements Body.
func (Tagged) Kind() string { return "DATA" }

// Kind implements Body.
func (Agreed) Kind() string { return "AGREED" }

// Size implements Body.
func (b Plain) Size() int { return countBytes + len(b.Payload) }

// Size implements Body.
func (b Stamped) Size() int { return countBytes + vectorEntry*len(b.VC) + countBytes + len(b.Payload) }

// Size implements Body.
func (b Sequenced) Size() int { return 2*seqBytes + countBytes + len(b.Payload) }

// Size implements Body.
func (Order) Size() int { return seqBytes + idBytes + seqBytes }

// Size implements Body.
func (b Tagged) Size() int { return seqBytes + countBytes + len(b.Payload) }

// Size implements Body.
func (Agreed) Size() int { return seqBytes + stampBytes }

// Messages of ISIS that do not travel by reliable multicast.
type (
	// Proposed is a drone's proposed priority for a message, sent to the
	// message's sender alone. Resend marks a repetition, on the sender's
	// COLLECT.
	Proposed struct {
		ID       ID
		Priority clock.Stamp
		Resend   bool
	}
	// Settled announces that the sender has learned an agreed priority
	// of at least Upto and holds no message of a lower priority whose
	// agreed priority it does not know. A drone delivers a message only
	// once every live drone has settled past it, which keeps total order
	// when drones crash (see docs/multicast.md). A drone that has waited
	// too long for some drones' SETTLED names them in Ask, and they
	// announce again.
	Settled struct {
		Upto   clock.Stamp
		Ask    []algorithms.NodeID
		Answer bool // sent because asked, not because Upto grew
	}
)

// Collect is sent by an ISIS sender that has waited too long for the
// proposals of the drones in Ask for its message Seq; those that have
// proposed repeat their proposal.
type Collect struct {
	Seq uint32
	Ask []algorithms.NodeID
}

// Kind implements algorithms.Message.
func (Collect) Kind() string { return "COLLECT" }

// Size implements algorithms.Message.
func (m Collect) Size() int { return kindBytes + seqBytes + countBytes + idBytes*len(m.Ask) }

// Class implements algorithms.Classifier.
func (Collect) Class() algorithms.Class { return algorithms.ClassAck }

// Kind implements algorithms.Message.
func (Proposed) Kind() string { return "PROPOSED" }

// Kind implements algorithms.Message.
func (Settled) Kind() string { return "SETTLED" }

// Size implements algorithms.Message.
func (Proposed) Size() int { return kindBytes + idBytes + seqBytes + stampBytes + flagBytes }

// Size implements algorithms.Message.
func (m Settled) Size() int {
	return kindBytes + flagBytes + stampBytes + countBytes + idBytes*len(m.Ask)
}

// Class implements algorithms.Classifier: the first proposal is data, the
// textbook's N−1 proposals; a repeated one is a retransmission.
func (m Proposed) Class() algorithms.Class {
	if m.Resend {
		return algorithms.ClassRetransmission
	}
	return algorithms.ClassData
}

// Class implements algorithms.Classifier.
func (Settled) Class() algorithms.Class { return algorithms.ClassAck }

// BasicData is basic multicast's one broadcast frame.
type BasicData struct {
	Seq     uint32
	Payload []byte
}

// Kind implements algorithms.Message.
func (BasicData) Kind() string { return "DATA" }

// Size implements algorithms.Message.
func (m BasicData) Size() int { return kindBytes + seqBytes + countBytes + len(m.Payload) }

// Compile-time checks.
var (
	_ algorithms.Message    = Data{}
	_ algorithms.Message    = Relayed{}
	_ algorithms.Classifier = Repair{}
	_ algorithms.Classifier = Ack{}
	_ algorithms.Classifier = Nak{}
	_ algorithms.Classifier = Proposed{}
	_ algorithms.Classifier = Settled{}
	_ algorithms.Classifier = Collect{}
	_ algorithms.Message    = BasicData{}
	_ Body                  = Plain{}
	_ Body                  = Stamped{}
	_ Body                  = Sequenced{}
	_ Body                  = Order{}
	_ Body                  = Tagged{}
	_ Body                  = Agreed{}
)
