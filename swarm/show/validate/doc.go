// Package validate says whether a show is safe to fly: drones far enough
// apart at every show time, within the altitude, speed and acceleration
// limits and inside the geofence, homes far enough apart, no duplicate or
// missing drone, light programs that end with the flight.
//
// Show checks a well-formed show (show.Show.Check) against the show's own
// Limits and Fence and returns a Report: every Violation, with its rule,
// the drones (1-based, the swarm IDs that fly them), the show time, the
// limit and the value measured, and figures of the show (closest
// approach, largest altitude, speeds and acceleration). A limit of zero is
// not checked.
//
// # Where a drone is
//
// A drone is somewhere at every show time, from 0 to the show's end: on
// its path between its first and last keyframes, at its first position
// before (on the ground at its home: HomeMismatch reports a path that
// does not start there) and at its last after (at its landing position).
// A drone waiting on the ground, or landed, is an obstacle like any
// other: one flying low over it is a MinDistance violation.
//
// # Exactness
//
// Per-drone limits are checked on the Bézier segments themselves, not on
// samples: a branch and bound on the curve's control points (the curve,
// its velocity and its acceleration lie in the convex hulls of the
// curve's, the hodograph's and the second hodograph's control points)
// finds every excursion more than Options.Tolerance beyond a limit and its
// first time to 1 ms. The separation check samples positions every
// Options.Period and refines every pair that could have come closer than
// MinDistance between two samples (a bound on how fast the pair's
// distance changes, from the segments' hodographs and accelerations), so
// it too misses no violation deeper than Tolerance.
//
// # Acceleration at a keyframe
//
// Where two segments meet with different velocities (a kink of a linear
// path, or a start from rest at full speed) the acceleration is infinite
// in the curve but not in flight: the drone's controller smooths it. The
// check counts a velocity jump Δv as the acceleration Δv/τ, where τ is the
// mean of the two segments' durations, at most Period: the second
// difference of positions sampled at the path's own pace, which is what a
// tool that validates sampled frames computes (a show imported from
// frames at 24 fps has 41.7 ms segments, and its jumps are its frames'
// accelerations). Before the first keyframe and after the last the drone
// is at rest.
package validate
