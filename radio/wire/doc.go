// Package wire reads and writes MAVLink 2 frames on the swarm's radio
// links, signs every frame with the swarm key and verifies what it reads.
//
// gomavlib's own signing (Node.InKey) accepts exact replays up to ten
// seconds old, keeps one timestamp window per channel and drops the
// unsigned RADIO_STATUS that SiK radios inject, so the swarm verifies raw
// frames itself:
//
//   - every frame must be signed with the swarm key, except RADIO_STATUS
//     from the local radio (system 51, component 68, on a serial link),
//     which only feeds pacing;
//   - timestamps must grow strictly per (network, system ID, component ID,
//     link ID), and the first frame of a stream must not be older than
//     Window behind the receiver's clock;
//   - a timestamp more than Ahead (five minutes) ahead of the receiver's
//     clock is rejected: its sender's clock is wrong;
//   - swarm messages of another network are rejected.
//
// Every rejection is counted by Reason; nothing the reader is fed makes it
// panic or stop reading (FuzzReader).
//
// A sender never reuses a timestamp: Signer hands out strictly increasing
// timestamps, never behind the wall clock, and reserves them ahead in a
// persisted high-water mark so that a companion computer without a
// real-time clock does not go backwards after a reboot; it refuses to sign
// when the mark cannot be stored or the 48 bits are used up. It follows
// the swarm's signing time only within Ahead of its own estimate, and
// beyond it only a time that several senders agree on: a drone without a
// real-time clock joins, one drone whose clock reads far in the future
// moves no one. Frames are signed when they go on air, so a
// retransmission carries a new timestamp. docs/radio.md has the bound, the
// counters and the recovery from a wrong clock.
//
// Signer, Verifier and Reader are pure: no goroutines, and the time comes
// in as an argument.
package wire
