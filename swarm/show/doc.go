// Package show is the show a swarm flies, and how a drone plays it.
//
// A Show holds every drone's part: a trajectory of keyframes joined by
// linear, quadratic or cubic Bézier segments, a light program, home and
// landing positions, takeoff and landing times; and for the whole show an
// origin on Earth, an orientation, a geofence, limits and cues. Encode
// gives its compact binary form, which the radio carries and whose
// SHA-256 (Hash) identifies the show; a Track gives any drone's position,
// velocity and colour at any show time. Check says whether a show is well
// formed; whether it is safe to fly is swarm/show/validate's question.
//
// The Player below plays the show commands of the command log
// (swarm/command): when the show runs, pauses and ends.
//
// Every drone feeds its Player the log's show commands in log order, and
// nothing else: no clock, no sensor, no message. A Player's state is
// therefore a function of the log prefix applied, so every drone that has
// applied the same prefix is in the same state, and a drone that restarts
// and applies the log again from index 1 ends where it was, whatever the
// time. Times come from the commands (START, PAUSE and RESUME carry a swarm
// time); the caller asks what to do at a swarm time, Phase(t) and
// ShowTime(t), so that a command takes effect on every drone at the same
// instant however late each one applied it.
//
// # Rules
//
// A command that breaks a rule is refused (an error wrapping ErrRefused,
// naming the command and the phase) and leaves the Player unchanged. Since
// every drone applies the same log, every drone refuses the same commands.
// The phase a rule looks at is the phase of the log, once every time it
// names has passed: after START at a future time, the log's phase is
// RUNNING even though Phase(now) is still AIRBORNE.
//
//   - LOAD in IDLE or LOADED: it selects the show, or replaces it; refused
//     once armed.
//   - ARM in LOADED only.
//   - TAKEOFF in ARMED only: after ARM, before START.
//   - START in ARMED or AIRBORNE (a show may start from the ground, its
//     trajectory then includes the takeoff), once: a show is started once.
//   - PAUSE while running, at a time not before the START and not before
//     the last RESUME. A PAUSE while paused is refused.
//   - RESUME while paused, at a time not before the PAUSE. A RESUME while
//     running is refused.
//   - LAND and RETURN once armed, in any phase from ARMED on, LANDING and
//     RETURNING included (the latest one wins); refused in IDLE and
//     LOADED, where there is nothing to land.
//   - LIGHTS at any time.
//   - VIEW and ACTIVATE are the swarm's own commands, for the airspace
//     membership: Apply returns ErrNotShow.
//
// Nothing follows LAND or RETURN but LIGHTS and another LAND or RETURN: a
// log flies one show.
//
// # Time
//
// Before START takes effect the drone is ARMED (on the ground) or AIRBORNE
// (after TAKEOFF, hovering at Altitude). From Start.At it is RUNNING, and
// PAUSED over every interval [Pause.At, Resume.At), the last one open
// until a RESUME. Show time is the swarm time since the start less the
// paused time:
//
//	ShowTime(t) = t − start − Σ |[pause, resume) ∩ [start, t)|
//
// which stands still while paused and never goes backwards. PAUSE and
// RESUME may name future times: the Player keeps every interval, so that
// ShowTime and Phase answer for any time.
//
// LAND and RETURN carry no time: they are for leaving the show now, and
// a drone obeys when it applies them. After LAND the show is over: ShowTime
// is false and Phase is LANDING (or RETURNING) at every time, so a drone
// that applies the log again after a restart does not fly the show again.
// To stop the show at a chosen instant on every drone, PAUSE first, then
// LAND.
package show
