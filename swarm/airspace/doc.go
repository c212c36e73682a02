// Package airspace serialises access to the swarm's airspace: a 3-D grid of
// cells (Grid), and a lock core (Locks) that runs Maekawa's algorithm with
// Sanders' deadlock-free rules once per cell, every vote a lease.
//
// # Several cells
//
// A drone asks for all the cells of a path at once (Acquire), and the core
// takes them one at a time in increasing cell ID, holding what it has while
// it waits for the next: a global order, so two drones that want
// overlapping paths never wait for each other in a cycle. Acquired is
// emitted when every cell is held; Release gives them all up.
//
// # Leases
//
// A dead or cut-off holder must never leave two drones in one cell, and a
// voter cannot tell the two apart. So every vote is a lease, measured by
// both sides on their own tick counts:
//
//   - the requester stamps each REQUEST and RENEW with its tick count, and
//     the voter echoes the stamp in its YES; the requester counts the vote
//     from that stamp, a moment before the voter granted or extended it;
//   - the holder renews its votes every RenewTicks (a request still
//     waiting for votes renews later: see below); if any vote has not been
//     renewed LeaseTicks − MarginTicks after its stamp, the holder emits
//     Expired (leave now: MarginTicks remain) and drops the cells, sending
//     their RELEASE only once MarginTicks have passed, when it is out;
//   - a voter lets a vote expire LeaseTicks + GuardTicks after it last
//     granted or extended it, GuardTicks covering the drift between two
//     drones' clocks and a tick of rounding on each side, and only then
//     votes again (VoteExpired).
//
// Since the holder's count starts no later than the voter's and runs out
// earlier by MarginTicks + GuardTicks, a holder cut off from everyone
// leaves the cell before any voter gives its vote to someone else.
// Messages of an earlier request carry its Lamport timestamp and grant
// number and are ignored as stale, so leases that run out on one side
// never confuse the other.
//
// A core that starts (or restarts without its state) votes for nobody for
// LeaseTicks + GuardTicks: votes of its previous incarnation may still be
// in use.
//
// # Incarnations
//
// A drone that restarts without its state stamps its requests from 1 and
// counts its ticks from 0 again. So every message carries the requester's
// incarnation (Config.Incarnation), and a request is known by requester,
// incarnation and timestamp: a voter never extends or hands over a vote
// of an earlier incarnation to a new request with the same stamp (it runs
// out with its lease: the old incarnation may still be in the cell), and
// a drone ignores votes of other incarnations and send times it has not
// reached. Incarnations are compared for equality only: a boot count, or
// a random boot nonce from the driver of a drone without state.
//
// # Waiting costs little on air
//
// A request still waiting for votes only keeps those it has: it renews a
// vote once it is LeaseTicks − MarginTicks − RenewTicks old (6 s of a 10 s
// lease), the latest at which the renewed vote still counts when the last
// one comes, instead of every RenewTicks as a holder does, and never while
// its last question to that voter is unanswered (see "Plain frames" for
// when it asks again). When every voter of the
// quorum has voted, the votes with less than RenewTicks of lease left are
// renewed at once in one RENEW frame, and the drone enters once every
// vote is fresh. A voter that has not voted is asked again once a lease,
// in case it restarted and lost the request. On a lossy, busy channel the
// waiting requests of a swarm used to take most of the channel with
// renewals of votes they could not use yet; the queue of frames then grew,
// answers came later than leases last, and fewer drones got through
// (docs/swarm.md, "Heavy loss").
//
// # A budget for new acquisitions
//
// With Config.BusyShare set, the core measures its channel: the runner
// reports how long the channel has carried frames (ChannelBusy, every
// drone's frames, retransmissions and repairs included), and the core
// keeps the busy share averaged over about 100 ticks. An acquisition made
// while that share is above BusyShare sends nothing yet: its first REQUEST
// goes once it has waited WaitTicks × (share − own)/BusyShare, own being
// the acquisition's staggered share (BusyStagger), so at once when the
// channel falls below it, and the longer the busier the channel, at most
// BusyHoldTicks (3 × WaitTicks), so that a drone never waits for ever on
// a channel that other traffic keeps busy. The wait is measured against
// the share of each tick: when the channel quietens, it shrinks, and the
// drones that have waited longest go first. Acquisitions already under
// way go on. So when loss makes every vote cost more frames, the swarm
// starts fewer acquisitions at once rather than more: the channel stays
// short of full, and the answers of those under way arrive while their
// leases last; a channel just above its budget delays acquisitions
// little. A fixed wait (WaitTicks at most, whatever the share) let every
// held-back drone start after it on a channel that stayed busy, so that
// the heavy-loss show kept its channel above half busy in half of its
// runs; a longer fixed wait kept the crossings of a fault-free swarm,
// whose channel sits just above the budget, waiting as long
// (docs/swarm.md, "Heavy loss"). The swarm node sets BusyShare to 0.15
// and BusyStagger to 0.7 (swarm.LockBusyShare, swarm.LockBusyStagger).
//
// # Plain frames
//
// REQUEST, RENEW, YES and RELEASE go as plain radio frames
// (algorithms.Unreliable), as the implicit Maekawa of algorithms/mutex
// does: the protocol's own answers stand for the acknowledgements. A YES
// answers a REQUEST or RENEW; a requester whose question has had no YES
// within AnswerTicks (1 s of a 10 s lease) asks that voter again, in one
// RENEW frame with every other voter then due: every AnswerTicks while it
// holds the voter's vote (a renewal), sooner as the vote nears the time
// it would force the holder out (a quarter of what is left, AnswerTicks/4
// at the least: a connected holder does not lose its cell to a run of
// lost frames), and after AnswerTicks, twice that,
// then every RetryTicks while it does not (the voter may hold the request
// queued behind its vote for another, and answers only when it votes).
// Never sooner than the round trip the drone measures: a voter answers a
// renewal at once, echoing the ask's send time, and the requester keeps
// TCP's smoothed round trip and deviation of those answers (Jacobson),
// waiting at least their sum with four deviations, LeaseTicks at most.
// On a channel so full that frames wait seconds in the sender's queue, an
// ask sent a quarter of AnswerTicks after the last one comes no sooner
// and only lengthens the queue: before this rule, holders sent up to 11
// RENEW frames a second into such a queue, and held the channel full for
// tens of seconds.
// Through the reliable delivery layer every voter acknowledged each
// REQUEST and RENEW with a frame of its own, and the requester each YES;
// at 250 drones a cell cost 21.6 frames fault-free and 59.1 at 10% loss,
// now 17.9 and 44.2 (docs/mutex.md). INQUIRE and RELINQUISH, rare and
// each owed one answer that does not come back on its own, still go
// through the reliable delivery layer.
//
// Plain frames are lost, repeated, late and out of order, and safety does
// not depend on their delivery: a requester counts a vote from the send
// time its YES echoes, which precedes the voter's grant or extension,
// whenever and however often the YES arrives; a YES that echoes an
// earlier send time than the vote in hand is a late copy and ignored;
// grant numbers and the requester's incarnation tell a vote given back or
// of an earlier incarnation from a new one. A late REQUEST or RENEW can
// only make a voter vote for a request its requester gave up (which
// answers the YES with a RELEASE, or lets the vote run out with its lease)
// or hold a vote longer, never shorter.
//
// RELEASE goes as one plain frame. A drone that gave a request up and
// still receives a vote for it sends the RELEASE again; a lost RELEASE
// otherwise costs the cell the rest of the vote's lease. A request that
// waits WaitTicks for a cell gives its votes back and asks again, behind
// the requests made meanwhile, so that a requester that cannot reach one
// voter does not hold the others for ever. The failure detector's PeerDown only drops the suspect's queued
// requests; its vote runs out with its lease.
//
// INQUIRE and RELINQUISH go over the reliable delivery layer (radio/arq),
// FIFO per sender. Quorums come from mutex.Best over the members. When a voter dies
// the swarm node rebuilds them through the command log (swarm/view.go),
// with three calls: Retire ends a drone's part as a voter, SetFenced stops
// a voter that may have missed a change of view from granting or renewing
// votes (so that its votes run out with their leases), and SetQuorums puts
// the new quorums in force. Messages from a drone that has not switched yet
// are ignored (Counters.Misaddressed), not treated as errors.
package airspace
