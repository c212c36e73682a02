// Package emergency carries the swarm's emergency commands, HOLD, LAND and
// RETURN, from the ground station to every drone that can hear them, with
// or without a majority, and without waiting for the command log.
//
// A command is signed by its issuer with the swarm key: an HMAC-SHA256
// over the issuer, the command ID and the operation, truncated to 8 bytes
// (Sign, Verify). A drone that receives a command
//
//   - rejects it if the MAC is wrong (ErrForged), or if its ID is older
//     than the last command it obeyed from that issuer (ErrReplayed), with
//     counters;
//   - obeys it at once (event Obey) if its ID is newer, and remembers the ID
//     (Persist), so a command is obeyed once however often it is heard and
//     a replay stays rejected after a restart;
//   - relays it, Trickle-style, so that it reaches drones that missed it or
//     are out of the issuer's range: in rounds of doubling length
//     (RelayTicks, 2×, 4×, … MaxRelays rounds), at a random point of each
//     round, unless it has already heard Redundancy copies from others in
//     that round;
//   - acknowledges it to the issuer (Ack) once the relay rounds are over,
//     at a random point of the next AckSpreadTicks, so that
//     acknowledgements neither delay the relays nor all queue at once.
//
// The issuer repeats the command every RepeatTicks, at most MaxRepeats
// times, until every member has acknowledged it (Delivered; otherwise
// Unacknowledged lists who did not). Its repeats carry a bitmap of the
// members that have acknowledged, so only the others acknowledge again.
//
// Every message is algorithms.Unreliable: repetition and relaying are the
// protocol's own, and a frame queued behind a slow link is worse than one
// repeated.
package emergency
