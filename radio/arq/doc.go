// Package arq is the swarm's reliable delivery layer: a pure, tick-driven
// core (no goroutines, no clock, no I/O) that turns the radio's lossy,
// duplicating and reordering frames into exactly-once, in-order delivery
// per sender.
//
// # Streams
//
// Every sender keeps one point-to-point stream per peer and one stream to
// everyone. A message to one peer, or to an explicit set of peers, takes the
// next sequence number of each destination's point-to-point stream and goes
// out as one frame that lists (peer, sequence number) for every destination:
// on a broadcast radio one frame reaches them all. A message to everyone
// takes the next number of the everyone stream and names no peer. Delivery
// is in order within each stream; the two streams of one sender are not
// ordered with respect to each other.
//
// # Acknowledgements
//
// A receiver acknowledges each stream with a cumulative sequence number and
// a 32-bit selective bitmap of what it holds beyond it. Acknowledgements
// wait AckDelay ticks so that several are batched into one frame, and ride
// on any data frame the receiver sends meanwhile (every drone in range hears
// every frame, so an acknowledgement can ride on a frame addressed to
// someone else). Unacknowledged messages are retransmitted after an adaptive
// timeout (Jacobson/Karels, with Karn's rule), doubled after every
// retransmission up to MaxRTO; a retransmission names only the destinations
// still missing the message.
//
// # Restarts
//
// Every frame carries the sender's incarnation, which must grow across
// restarts (a persisted boot counter, or the signing timestamp). Each stream
// entry also carries the stream's low-water mark: the lowest sequence number
// some destination has not acknowledged. A receiver that meets a newer
// incarnation of a sender forgets what it knew of it; a receiver without
// state for a stream (it just restarted) starts at the low-water mark. A
// sender that meets a newer incarnation of a peer re-sends every message that
// peer had only selectively acknowledged. So a restarted drone receives
// everything sent after it came up, and nothing twice.
//
// A peer declared dead (PeerDead) is no longer waited for or sent to; messages
// sent while it was declared dead are never delivered to it.
package arq
