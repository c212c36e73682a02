// Package station is the ground station on the wire: it joins one swarm
// radio network as MAVLink system ID 255, component 190, and
//
//   - learns the network's leader from the drones' SWARM_STATUS (the
//     LEADER flag, the leader and term each drone follows), from the
//     leader's answers and from NOT_LEADER hints;
//   - keeps the swarm time by SWARM_TIME_REQUEST/REPLY with the leader,
//     with the same estimator as the drones (swarm/timesync: the sample
//     with the smallest round trip of the recent ones);
//   - sends operator commands exactly once (Send): each command gets the
//     next sequence number, and every retry, to the same or a new leader,
//     carries the same one, so the leader commits it to the command log
//     once whatever the losses; the command's log index then tells which
//     drones have applied it (Applied, WaitApplied);
//   - sends signed emergency commands to every drone at once (Emergency);
//   - keeps the live picture of the swarm (Snapshot): every drone's last
//     status and the age of that data.
//
// A Station owns one radio and one goroutine, both stopped by Close. A
// show spread over several networks uses one Station per network, held
// together by a Group. docs/groundstation.md describes the exchanges.
package station
