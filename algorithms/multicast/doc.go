// Package multicast holds the swarm's group communication cores: basic
// multicast, reliable multicast with uniform agreement (the textbook relay
// and a radio-aware variant), and FIFO, causal and total order on top of
// it, total order by a fixed sequencer or by ISIS agreed priorities.
//
// Every core follows the contract of package algorithms, implements
// Multicast, and runs over raw radio frames: it does its own reliability,
// and its acknowledgement, negative acknowledgement and repair messages say
// so through algorithms.Classifier. Properties are those of Coulouris,
// Dollimore and Kindberg, "Distributed Systems", group communication
// (Coulouris et al., "Distributed Systems"):
//
//   - integrity: a drone delivers a message at most once, and only a
//     message that was multicast;
//   - validity: a correct sender delivers its own message;
//   - uniform agreement: if any drone delivers a message, even one that
//     then crashes, every correct drone delivers it;
//   - FIFO, causal and total order.
//
// # Reliable multicast
//
// Both variants number each origin's messages 1, 2, … and deliver them in
// that order, and a drone delivers a message only once MaxFaults+1 drones
// (⌊(N−1)/2⌋ by default) are known to hold it: at least one of them is
// correct, and a correct holder keeps the message and repairs it until
// every live drone has acknowledged it. That is the whole of uniform
// agreement on a lossy radio, where a frame on air may reach nobody.
//
// Relay is the textbook: every drone broadcasts every message once when it
// first receives it, before delivering it; the relays are also the proof
// that their senders hold the message, so a fault-free run costs N data
// frames per message and no acknowledgement.
//
// Efficient sends one data frame per message. A committee of the
// MaxFaults+1 lowest live IDs acknowledges at once, with cumulative
// acknowledgements that cover every origin and batch what arrived within
// AckDelay ticks; everybody else acknowledges lazily (LazyAck) or on its
// own data frames. A drone that sees a gap asks with a NAK (held back when
// it hears someone else's); the origin, or once it is reported crashed the
// live holder with the lowest ID, repairs. That repairer also repeats a
// message that a live drone has not acknowledged after a while, naming the
// drones it waits for. A drone stuck with a message it cannot deliver asks
// the origin (which answers with how far its messages are known safe) or,
// when it is the origin, the committee members it has not heard. Timers
// that ask others wait a round-trip estimate learned from the traffic, so
// that a busy channel stretches them instead of being flooded.
// docs/multicast.md has the argument and the measured cost.
//
// Orders sit on top: FIFO (a hold-back queue on the sequence numbers),
// causal (vector clocks; at most MaxCausalMembers drones), total by a fixed
// sequencer (NewSequencer) and total by ISIS agreed priorities (NewISIS,
// with SETTLED announcements that keep the order when drones crash).
//
// Restarted drones are not supported: a core starts empty and would reuse
// its sequence numbers.
package multicast
