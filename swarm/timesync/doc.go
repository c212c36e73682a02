// Package timesync gives every drone the swarm's time: the leader's clock,
// estimated over TIMESYNC-style exchanges (reference/MAVLINK.md, TIMESYNC;
// the NTP on-wire protocol).
//
// A follower sends REQUEST(t1), t1 its local clock at sending; the leader
// answers REPLY(t1, t2, t3) with t2 its swarm time at receipt and t3 at
// sending; at receipt t4 the follower computes
//
//	offset = ((t2 − t1) + (t3 − t4)) / 2    round trip = (t4 − t1) − (t3 − t2)
//
// and keeps the last Window samples. Both frames reach their receiver
// when their last byte does, so the reply's longer time on air is
// subtracted (the radio's serial airtime, from Baud and the frame sizes).
// The estimate is the sample with the smallest error bound, round trip/2
// plus its age × the drift it may have missed (NTP's clock filter: the
// smallest round trip among the recent samples, with old samples
// penalised for the drift since). Once the samples span three poll
// periods, the leader's drift against the local clock is estimated by
// least squares and applied, and the age penalty drops to a tenth: with
// polls a minute or more apart, drift, not delay, is what limits the
// error. The error of a sample is at most half its round trip, whatever
// the delays.
//
// # Reading the clock
//
// A core never reads a clock. The driver passes the local clock reading,
// in nanoseconds, with SetClock before every Step and Tick (and the
// simulator's test driver does the same from sim.LocalTime), and asks for
// the swarm time of any reading with SwarmTime(local).
//
// # No jumps
//
// The first estimate sets the swarm clock at once (Synced is emitted);
// after that the applied offset follows the estimated drift and slews
// towards the estimate, changing by at most SlewPPM (default 10 000 ppm,
// 1 ms per 100 ms) of the elapsed local time, so swarm time never runs
// backwards and never gains or loses more than the slew bound. The leader
// answers with its own swarm time, not its raw clock: the first leader's
// offset is zero, and a drone that becomes leader keeps the offset (and
// drift) it had estimated of the previous leader, so a change of leader
// does not make swarm time jump.
//
// # Airtime
//
// Each follower polls once per period derived from an airtime budget like
// the heartbeats' (package membership): N members × 2 frames (request and
// reply) × frame airtime / Share. Requests and replies are
// algorithms.Unreliable: a lost one is not repeated, the next poll
// replaces it, except that a follower without any sample of the current
// leader asks again after ReplyTicks.
package timesync
