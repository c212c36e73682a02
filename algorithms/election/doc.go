// Package election holds the leader election cores of the swarm: Chang and
// Roberts' ring election (1979) and Garcia-Molina's bully algorithm (1982),
// both extended with terms.
//
// Both cores follow the contract of package algorithms (Step, Tick, Ready,
// no goroutines, no clock, no randomness) and implement Election. The
// figures they are checked against are those of the textbook (Coulouris et al., "Distributed Systems"),
// section Election: with one initiator and no failure the ring costs 2N
// messages at best and 3N−1 at worst, N(N+1)/2+N when everyone initiates;
// the bully costs N−2 COORDINATOR messages when the second-highest drone
// detects the crash of the highest, and N(N−1)/2 ELECTION + (N−1)(N−2)/2
// ANSWER + (N−2) COORDINATOR when the lowest does.
//
// # Terms
//
// The textbook algorithms elect two leaders when a live drone is wrongly
// suspected. Terms make that visible and resolve it. Every election runs in
// a term (a uint32); a campaign uses the highest term the drone has seen
// plus one, and every message carries its term. A drone follows the leader
// of the highest term it has seen: a message with a higher term makes it
// forget its leader, and a message with a lower term is answered with the
// current term and leader, so a stale leader that comes back is demoted. A
// drone that learns of a leader with a lower ID than its own takes over by
// campaigning in the next term (the bully's "a recovering higher ID takes
// over", applied to both cores), and a drone that hears of two leaders in
// one term reports a Conflict and campaigns in the next.
//
// A drone persists its term (Persist) and a restarted drone is built with
// Restore, so that it never campaigns again in a term it used before the
// restart.
//
// # Timing
//
// Timeouts are counted in ticks. The ring acknowledges every ELECTION and
// ELECTED hop with an ACK (link-level, counted under its own kind so that
// the textbook figures stay checkable) and skips a successor that does not
// acknowledge within RingConfig.AckTimeout ticks. The bully waits
// BullyConfig.Timeout ticks for an ANSWER (the textbook's T = 2·T_trans +
// T_process, see BullyTimeout) and BullyConfig.CoordinatorTimeout ticks for
// a COORDINATOR after an ANSWER; a ring participant that sees no ELECTED
// within RingConfig.ElectionTimeout ticks campaigns again. Like the
// textbook algorithms, the cores elect the highest live drone (E1) only
// while these timeouts hold, that is, while every message and its answer
// arrive within a timeout and the failure detector is right.
//
// # Failure detector
//
// PeerDown and PeerUp (algorithms.PeerObserver) take the verdicts of the
// swarm's failure detector. A drone reported down is skipped by the ring
// and not sent ELECTION by the bully; with AutoCampaign, a drone whose
// leader is reported down starts an election, and so does a drone that has
// known no leader for a timeout (at start, or after a restart). When a
// drone comes back, the leader tells it the current term and leader, and a
// returning drone with a higher ID than the leader then takes over. A
// restarted drone should wait to be told rather than campaign at once: its
// persisted term may be behind the swarm's, and a campaign in a term the
// swarm already used elects a second leader of that term (detected as a
// Conflict and resolved in the next term, but a second leader all the
// same).
package election
