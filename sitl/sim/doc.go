// Package sim is the swarm's deterministic discrete-event simulator.
//
// One Sim owns virtual time, one seeded random source and the radio medium,
// and runs the real protocol cores (package algorithms) behind the real
// reliable delivery layer (package radio/arq), thousands of drones in one
// process. Nothing in it reads the wall clock or global randomness: the same
// seed and build give the same run, event for event, and a hash of the
// trace proves it.
//
// # The radio medium
//
// Each radio network is one shared half-duplex channel: a frame occupies it
// for its MAVLink v2 length × 10 / baud (10 header bytes + payload + 2 CRC,
// + 13 when signed; Config.Wire gives the payload lengths the radio's codec
// writes, one frame for each dialect message a transmission takes), and
// transmissions wait for the channel in the order they
// were queued (an ideal MAC: no collisions, no idle gaps). When a frame ends,
// each drone it concerns independently misses it (Loss), receives it twice
// (Dup), and receives it after an extra delay drawn from [0, Reorder], which
// reorders frames. Partitions cut drones off from each other; a crashed drone
// hears nothing. Before every tick, each drone's reliable delivery endpoint,
// and its core if it has a ChannelBusy method, is told how long its channel
// has carried frames so far, as a radio's status would tell a real drone.
// Stats count airtime per network, in total and per 10 s window
// (AirtimeWindows, BusiestWindowShare).
//
// # Faults
//
// Crash stops a drone; Restart brings it back with a higher incarnation,
// either from the state its core persisted (algorithms.Persister) or from
// nothing. Every drone's local clock has its own offset and drift. An
// optional failure detector tells every live drone of a crash, or of a
// restart, after a fixed delay (scenarios that run the swarm's own membership
// protocol turn it off).
//
// # Checking
//
// Scenarios observe core events as they happen and call Violation when an
// invariant breaks; every violation is logged with the run's seed, so
// `--seed N` replays it exactly.
package sim
