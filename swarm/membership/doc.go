// Package membership is the swarm's membership and failure detection core:
// every drone broadcasts a small heartbeat, and every drone suspects a
// member it has not heard from for a number of heartbeat periods.
//
// # Airtime budget
//
// One radio network of 250 drones at 57600 baud carries about 128 signed
// frames a second in all (docs/mavlink.md#scale): 250 drones beating at
// 1 Hz would take the whole channel. So the heartbeat period is not a
// constant but derived from a budget: with N members, a heartbeat frame of
// airtime A and a share s of the channel (default 0.05),
//
//	period = N × A / s
//
// rounded up to whole ticks. At N = 250, signed, the heartbeat frame is
// 37 bytes at most (SWARM_HEARTBEAT: 12 payload bytes), takes 6.4 ms, and
// the period is 32.1 s. Intervals are drawn from
// [period, period × (1 + Jitter)] by a generator seeded from Config.Seed,
// so that drones do not beat in step and the long-run share stays below
// the budget; the first heartbeat goes out at a random point of the first
// period.
//
// # Failure detection
//
// A member is suspected (event Down) when nothing was heard from it for
// Missed × the longest interval, plus one tick: at least Missed heartbeats
// were lost in a row, which at frame loss p happens with probability at
// most p^Missed (MissedFor picks Missed for a target probability). A
// heartbeat from a suspected member, or one with another incarnation (the
// member restarted and lost its state), is reported as Up; a restart seen
// without a suspicion first is reported as Down followed by Up, so that
// other cores drop what they knew of the old incarnation.
//
// Incarnations are compared for equality only: a drone that keeps state
// counts its boots, but one with an empty state directory starts from a
// random boot nonce, which may be lower than its previous incarnation. A
// heartbeat of one of the last few incarnations of a member is a late
// frame and ignored while the current incarnation beats; if the current
// one has been silent for the timeout, the old one is taken back. The driver
// forwards Down and Up to the other cores as PeerDown and PeerUp, and may
// call Heard for any other frame it receives from a member: every frame
// proves life, so busy members are never suspected for want of heartbeats.
//
// Heartbeats are algorithms.Unreliable (plain frames, no acknowledgement)
// and of class algorithms.ClassHeartbeat.
package membership
