// Package cmdlog is the swarm's command log: light-show and operator
// commands delivered to every drone in one total order that survives the
// failure of the leader.
//
// Total order with failover is consensus (Coulouris et al., "Distributed Systems", group
// communication), so the log is built as Raft (Ongaro and Ousterhout,
// 2014) and Multi-Paxos are, restricted to a small committee: a sequencer,
// acknowledgement by a majority, and a term-safe change of sequencer.
//
//   - The leader is the sequencer. It is elected by Garcia-Molina's bully
//     algorithm (package election), whose terms are the log's terms: Node
//     composes the two, Log takes the election's result through
//     LeaderChanged.
//   - A committee of C voters (default 5; at first the C highest IDs)
//     acknowledges appended entries. An entry of the current term is
//     committed once a majority of the committee stores it, and every
//     drone applies committed entries only, in log order (Applied).
//   - A new leader first runs a recovery with a committee majority: each
//     member promises its vote of the term (persisted, one drone per term)
//     and reports its last entry; the leader adopts the most up-to-date log
//     among the promisers (the highest last term, then the longest),
//     fetching it if it is not its own, until a majority of the committee
//     that the adopted log puts in force has promised; then it appends a
//     no-op entry of its term, whose commitment commits everything before
//     it (Raft §5.4.2). Only then does it sequence commands (Leading).
//   - Committee members persist term, vote, log and commit point
//     (Persist), so that a restarted member rejoins with them (Restore);
//     they refuse entries from older terms and answer with STALE. The
//     rule of algorithms.Persister holds: a runner stores the bytes of
//     Persist before it transmits the Sends of the same Ready, so a
//     PROMISE or an ACK never leaves before the vote or the entries it
//     vouches for are durable. Learners may restart from nothing; a
//     committee member that lost its state must not vote as if it
//     remembered (the drone runner starts it as a learner, docs/drone.md).
//   - Every other drone is a learner: it takes the leader's broadcast
//     APPENDs and commit points, and asks for the entries it misses with a
//     NAK, which the leader answers with a broadcast REPAIR.
//   - When the failure detector reports a member dead, the leader replaces
//     it through the log: a config entry without it, committed, then a
//     config entry with the highest live drone outside the committee, one
//     change at a time, each in force where it is appended (Raft's
//     single-server changes), and only after the leader's no-op is
//     committed, so that two committees never decide at once.
//   - A leader is confirmed while a committee majority has acknowledged
//     it within Config.Confirm ticks (members acknowledge an idle leader's
//     commit repeats now and then) and its no-op is committed, and its
//     APPENDs and COMMITs say so. A
//     drone that takes a confirmed message whose commit point it has
//     applied is caught up (SinceCaughtUp): it knows every entry committed
//     more than Confirm ticks before. A deposed leader cut off with a
//     minority loses its confirmation, so it cannot make drones believe
//     they are caught up.
//
// docs/log.md gives the safety argument and the measured figures.
//
// # Radio
//
// Every message is a plain radio frame (algorithms.Unreliable): the log
// does its own repair. Without losses a command costs one APPEND broadcast
// and the broadcast acknowledgements of the members a majority of the
// committee needs besides the leader: majority(C) frames, whatever the
// swarm's size. Every drone counts the acknowledgements it overhears and
// infers the commit point from them (Raft's rule: an entry of the current
// term stored by a majority of the committee is committed); the other
// members keep quiet when they overhear that majority (Config.AckDelay),
// and a COMMIT follows only when no next APPEND carries the commit point
// within Config.CommitDelay. With Config.Textbook every member
// acknowledges to the leader alone and a COMMIT carries every commit
// point: C+1 frames. Through the reliable delivery layer every drone would
// acknowledge every APPEND. Each APPEND
// also repeats the entry before its new ones when they fit
// (Config.Redundancy), so that a drone that missed one APPEND takes the
// entry from the next instead of asking.
//
// The leader repeats uncommitted entries when the committee is slow to
// acknowledge (Config.Retransmit), and its commit point while idle
// (Config.Beacon, up to Config.BeaconMax apart), so that a drone that
// missed the last frames learns what it misses; drones wait a jittered delay before a NAK, hold theirs when
// they hear another drone ask for the same (SRM's suppression), and back
// off while nothing arrives, and the leader merges the NAKs of one tick
// into one repair, so that a busy channel does not fill with NAKs.
//
// # Election
//
// Node composes the log with the bully core. Only the highest live drone
// campaigns when the failure detector reports the leader dead, and its
// COORDINATOR goes out as one plain broadcast (Coordinator): a failover
// costs a few frames instead of the bully's O(N²) election and N−1
// acknowledgements. Terms and votes, not the election, keep the log safe
// when a live drone is wrongly suspected and two drones are elected in one
// term: at most one of them completes the term's recovery.
//
// With NodeConfig.Heartbeat, the leader that completed its recovery
// broadcasts its COORDINATOR again whenever it has broadcast nothing for
// that long, so that the drone next in line can take a few missed periods
// for its death (swarm.Node), and a drone that missed the election learns
// its result. Campaign lets a drone further down the line ask the drones
// above it to take over.
//
// # Clients
//
// Propose returns the position (index and term) of the command. A command
// is committed once some drone applies it. After a failover, a leader that
// has completed its recovery holds every committed entry: a client may
// propose a command again when the new leader holds (Has) none of the
// positions it was proposed at, all of earlier terms. None of them was
// committed, and none ever will be, so the command is committed at most
// once.
package cmdlog
