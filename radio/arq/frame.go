package arq

import (
	"github.com/skyquorum/skyquorum/algorithms"
)

// Encoded sizes in bytes, used to size frames and count airtime.
const (
	headerBytes = 5 // flags 1, sender 2, incarnation 1, entry and ack counts 1
	entryBytes  = 6 // peer 2, sequence number 2, low-water mark 2
	ackBytes    = 10
	missBytes   = 2
)

// Entry places the frame's payload in one stream of one destination.
type Entry struct {
	// To is the destination, or algorithms.Everyone for the everyone stream.
	To algorithms.NodeID
	// Seq is the payload's sequence number in the stream.
	Seq uint32
	// Low is the stream's low-water mark: every number below it has been
	// acknowledged by the destination (or, for the everyone stream, by
	// every live peer).
	Low uint32
}

// Ack acknowledges one stream of one sender.
type Ack struct {
	// To is the sender whose stream is acknowledged.
	To algorithms.NodeID
	// ToInc is the incarnation of To that sent the stream.
	ToInc uint32
	// Inc is the acknowledging drone's incarnation.
	Inc uint32
	// All is true for the everyone stream.
	All bool
	// Cum is the highest sequence number delivered in order.
	Cum uint32
	// Sack has bit i set when Cum+1+i is held out of order.
	Sack uint32
}

// Frame is one transmission on the radio.
type Frame struct {
	// From is the transmitting drone.
	From algorithms.NodeID
	// Inc is the transmitting drone's incarnation.
	Inc uint32
	// Entries place Payload in destination streams; empty for a frame that
	// only acknowledges.
	Entries []Entry
	// Missing, on a retransmission in the everyone stream, lists the peers
	// still missing the payload; only they answer it. Empty means all.
	Missing []algorithms.NodeID
	// Payload is the core message carried, or nil.
	Payload algorithms.Message
	// Acks acknowledge streams of other senders.
	Acks []Ack
	// Retransmission marks a repeated transmission of a payload.
	Retransmission bool

	msg *outMsg // the message this transmission carries, for Transmitted
	try int
}

// Size is the encoded payload length of the frame in bytes (MAVLink
// payload; the radio adds the MAVLink header, checksum and signature).
func (f *Frame) Size() int {
	n := headerBytes + len(f.Entries)*entryBytes + len(f.Missing)*missBytes + len(f.Acks)*ackBytes
	if f.Payload != nil {
		n += f.Payload.Size()
	}
	return n
}

// IsData reports whether the frame carries a core message.
func (f *Frame) IsData() bool { return f.Payload != nil }

// Kind names the frame for traces: the payload's kind, or ACK.
func (f *Frame) Kind() string {
	if f.Payload != nil {
		return f.Payload.Kind()
	}
	return "ACK"
}

// Recipients returns the drones the frame concerns: every drone when it
// carries an everyone-stream entry, otherwise the listed destinations and
// acknowledged senders. Other drones that hear it ignore it.
func (f *Frame) Recipients() (ids []algorithms.NodeID, all bool) {
	seen := map[algorithms.NodeID]bool{}
	for _, e := range f.Entries {
		if e.To == algorithms.Everyone {
			return nil, true
		}
		if !seen[e.To] {
			seen[e.To] = true
			ids = append(ids, e.To)
		}
	}
	for _, a := range f.Acks {
		if !seen[a.To] {
			seen[a.To] = true
			ids = append(ids, a.To)
		}
	}
	return ids, false
}
