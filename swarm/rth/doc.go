// Package rth plans a drone's return home from the middle of a show: a
// drone that leaves the show in flight (low battery, an operator's RETURN
// for it, a failsafe) flies to above its home and lands there, while every
// other drone keeps flying its show trajectory.
//
// Plan is pure and deterministic: the same show, drone, state, time and
// options give the same path, on every drone and every run. It reads no
// clock and draws no random number.
//
// # The path
//
// A Path is a list of show.Keyframe in show time, as a show trajectory is
// (linear and quadratic Bézier segments, plus the drone's own show
// segments when it follows its show before leaving): the position and
// velocity at every instant, so that a drone flies it with the same
// follower it flies the show with. It is made of, in order:
//
//  1. optionally, the drone's own show trajectory for a while (Follow):
//     a drone that leaves in the middle of a move cannot always brake in
//     formation without the drone behind it catching up, so the planner
//     may keep it on its show until a later instant from which it can
//     leave (Options.MaxFollow);
//  2. a brake to rest along its velocity, at a constant deceleration;
//  3. a vertical leg to the transit layer (Layer), a horizontal leg at
//     that altitude to above the target (the drone's home, or its landing
//     position), and a vertical descent to the target on the ground;
//     each leg starts and ends at rest, accelerating, cruising and
//     braking within Options.Use of the show's limits;
//  4. before any of the legs, a hover in place where the leg would meet
//     another drone, as long as the hover itself is clear (Wait); not
//     before the first leg of a drone that leaves from rest while it may
//     still follow its show, which is at least as safe as hovering.
//
// The transit layers tried are: above every other drone's highest point
// (the top of the convex hulls of their control points) by MinDistance +
// Margin, if that is under the show's altitude limit; the drone's own
// altitude (no vertical leg first: a drone above its home just lands);
// and six layers evenly below the top one, down to MinDistance + Margin
// above the ground. Of the layers on which every leg is clear, with the
// waits allowed, the one that lands first wins (the first in that order
// on a tie). The planner leaves at the first instant from which some
// layer works.
//
// # What it guarantees
//
// Every candidate leg is checked against every other drone's show
// trajectory (before its first keyframe at its first position, after its
// last at its last: waiting and landed drones count), and the landed
// drone at its target is checked up to the end of the show. A leg is
// clear of a drone when, at instants sampled along it, the two are at
// least R = MinDistance + Margin apart, with the next instant no later
// than the two could close to MinDistance + Margin/2 at their top speeds
// (the largest control point of each segment's hodograph bounds its
// speed). So along a returned path, off its show, the drone is at least
// MinDistance + Margin/2 from every other drone at every instant, not
// only at samples. Where it follows its show it is as far as the show
// keeps it: the planner checks MinDistance at the samples and 99% of it
// between them, and refuses to follow a show that comes closer (the
// show's safety is swarm/show/validate's question). Pieces of
// trajectories whose bounding boxes are R apart are skipped without
// sampling; a spatial index of the show (time bins, cells of the plane)
// finds the trajectories worth looking at.
//
// The path stays inside the geofence, FenceMargin from its edges, and
// its transit layer under the show's altitude limit. A drone that starts
// outside the fence (it breached it) is only asked to end each leg
// inside it.
//
// The path is flyable: its velocity is continuous (it starts with the
// drone's velocity and ends at rest on the ground), its horizontal,
// climb and descent speeds and its acceleration stay within Options.Use
// of the show's limits (a limit of zero gets DefaultLimits'), given a
// starting velocity within them.
//
// The plan says nothing about other drones that leave the show at the
// same time: their paths are kept apart by the airspace locks
// (swarm/airspace). Cells gives the grid cells a path passes through, in
// the order in which the locks are taken.
//
// # When there is no path
//
// If no layer works within Options.MaxWait of hovering and MaxFollow of
// following the show, Plan fails with an error wrapping ErrNoPath that
// names the layer tried last, the drone it would meet and the show time
// (a *Conflict).
package rth
