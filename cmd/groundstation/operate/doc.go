// Package operate is the operator's side of a real swarm on the command
// line: one process, groundstation connect, owns the radio and a
// station.Station and serves a control socket (Server); the short-lived
// commands groundstation status and groundstation command talk to it
// through that socket (Client).
//
// The socket is a Unix socket, mode 0600, so that only the operator's own
// user can command the swarm. Its protocol is one JSON object a line each
// way: a Request, then its Response, as many as the client likes on one
// connection. docs/operate.md describes the commands and the protocol.
//
// The station stays the only place that knows the wire; this package adds
// what the operator needs on top: swarm times given as offsets ("+10s"),
// the wait for every drone to apply a command, the wait for the drones to
// acknowledge an emergency command, and the picture turned into a table
// (Status, WriteTable) with the drones that are not ready first.
package operate
