package rth

import (
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/skyquorum/skyquorum/swarm/airspace"
	"github.com/skyquorum/skyquorum/swarm/show"
)

// Cells returns the cells of grid that path p passes through, sorted by
// cell ID without repeats: the order in which the airspace locks are
// taken (airspace.Locks takes a set of cells one at a time in increasing
// ID), so that the runner can ask for them all before it flies. It fails
// if the path leaves the grid.
//
// The legs the planner makes are straight (a quadratic segment whose
// control point is one of its ends stays on the line between them) and
// get their exact cells (Grid.Segment). A curved segment (the drone's own
// show, while it follows it) is covered by chords no longer than a
// quarter of the smallest cell edge, each also shifted along each axis
// by a bound on the curve's distance from it.
func Cells(grid airspace.Grid, p Path) ([]airspace.Cell, error) {
	pt := func(v show.Vec3) airspace.Point { return airspace.Point{X: v.X, Y: v.Y, Z: v.Z} }
	k := p.Keyframes
	if len(k) == 0 {
		return nil, nil
	}
	first, err := grid.CellOf(pt(k[0].Pos))
	if err != nil {
		return nil, fmt.Errorf("rth: path start: %w", err)
	}
	out := []airspace.Cell{first}
	edge := min(grid.Size.X, grid.Size.Y, grid.Size.Z)
	for i := 1; i < len(k); i++ {
		s := show.SegmentOf(k, i)
		a, b := s.Points[0], s.Points[len(s.Points)-1]
		if straight(s.Points) {
			cells, err := grid.Segment(pt(a), pt(b))
			if err != nil {
				return nil, fmt.Errorf("rth: path segment ending at %v: %w", k[i].At, err)
			}
			out = append(out, cells...)
			continue
		}
		// A curve: chords of at most a quarter cell, each shifted by
		// the bound |P''|·h²/8 on the curve's distance from its chord
		// over a parameter step h (P'' bounded by the second
		// differences of the control points).
		var length, acc float64
		for j := 1; j < len(s.Points); j++ {
			length += s.Points[j].Dist(s.Points[j-1])
		}
		n := len(s.Points) - 1
		for j := 2; j < len(s.Points); j++ {
			acc = max(acc, s.Points[j].Sub(s.Points[j-1].Scale(2)).Add(s.Points[j-2]).Norm()*float64(n*(n-1)))
		}
		steps := max(1, int(math.Ceil(length/(edge/4))))
		h := 1 / float64(steps)
		pad := acc * h * h / 8
		prev := a
		span := s.End - s.Start
		for j := 1; j <= steps; j++ {
			cur, _ := s.At(s.Start + span*time.Duration(j)/time.Duration(steps))
			cells, err := padded(grid, prev, cur, pad)
			if err != nil {
				return nil, fmt.Errorf("rth: path segment ending at %v: %w", k[i].At, err)
			}
			out = append(out, cells...)
			prev = cur
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

// straight reports whether Bézier control points lie on the line between
// the first and the last.
func straight(pts []show.Vec3) bool {
	a, b := pts[0], pts[len(pts)-1]
	d := b.Sub(a)
	l := d.Norm()
	for _, p := range pts[1 : len(pts)-1] {
		w := p.Sub(a)
		if l == 0 {
			if w.Norm() > 1e-9 {
				return false
			}
			continue
		}
		u := (w.X*d.X + w.Y*d.Y + w.Z*d.Z) / (l * l)
		if u < -1e-9 || u > 1+1e-9 || w.Sub(d.Scale(u)).Norm() > 1e-9*max(1, l) {
			return false
		}
	}
	return true
}

// padded returns the cells of the chord from a to b and of the same
// chord shifted by ±pad along each axis.
func padded(grid airspace.Grid, a, b show.Vec3, pad float64) ([]airspace.Cell, error) {
	pt := func(v show.Vec3) airspace.Point { return airspace.Point{X: v.X, Y: v.Y, Z: v.Z} }
	out, err := grid.Segment(pt(a), pt(b))
	if err != nil || pad == 0 {
		return out, err
	}
	for _, off := range []show.Vec3{{X: pad}, {X: -pad}, {Y: pad}, {Y: -pad}, {Z: pad}, {Z: -pad}} {
		c, err := grid.Segment(pt(a.Add(off)), pt(b.Add(off)))
		if err != nil {
			return nil, err
		}
		out = append(out, c...)
	}
	return out, nil
}
