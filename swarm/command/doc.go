// Package command defines the commands that travel as the opaque data of
// command-log entries (algorithms/cmdlog), and their binary encoding.
//
// Show commands (LOAD, ARM, TAKEOFF, START, PAUSE, RESUME, LAND, RETURN,
// LIGHTS) are proposed by the ground station on an operator's behalf and
// played by every drone (swarm/show) in log order. System commands (VIEW,
// ACTIVATE) are proposed by the swarm itself to change the airspace
// membership; IsSystem tells them apart, and Parse refuses them.
//
// # Encoding
//
// One byte of kind, then the kind's fields at fixed offsets, big-endian.
// The kind byte doubles as the version: a changed layout takes a new kind
// byte, so that a drone that does not know it refuses the entry (ErrMalformed,
// not a command) rather than misreads it.
//
//	kind      byte  fields                                   bytes
//	LOAD      1     show uint32, digest uint64                 13
//	ARM       2     -                                           1
//	TAKEOFF   3     altitude uint16 (cm, > 0)                   3
//	START     4     at int64 (swarm time, ns, ≥ 0)              9
//	PAUSE     5     at int64 (swarm time, ns, ≥ 0)              9
//	RESUME    6     at int64 (swarm time, ns, ≥ 0)              9
//	LAND      7     -                                           1
//	RETURN    8     -                                           1
//	LIGHTS    9     r, g, b uint8                               4
//	VIEW      10    epoch, retired, replacement uint16 (> 0)    7
//	ACTIVATE  11    epoch uint16 (> 0), at int64 (ns, ≥ 0)     11
//
// Every encoding is at most MaxSize bytes, well under the log's
// cmdlog.MaxCommand, so that a command never costs an APPEND a second
// frame. Decode accepts exactly these lengths and values (Validate), so
// that whatever decodes encodes back to the same bytes: every drone reads
// an entry the same way, or refuses it the same way.
//
// Times are swarm time (swarm/timesync) in nanoseconds: a START, PAUSE or
// RESUME takes effect on every drone at the same instant of the swarm's
// clock, whenever each drone learns of it, as long as it learns of it
// beforehand.
package command
