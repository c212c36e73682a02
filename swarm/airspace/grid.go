package airspace

import (
	"errors"
	"fmt"
	"math"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms/mutex"
)

// Cell is one cell of the airspace grid; it is the mutex.Resource of the
// cell's lock, so a grid has at most 65 536 cells.
type Cell = mutex.Resource

// MaxCells is the most cells a grid may have.
const MaxCells = 1 << 16

// Point is a position in metres in the show's frame (north, east, down, or
// any other right-handed frame the show uses).
type Point struct{ X, Y, Z float64 }

// Errors of the grid.
var (
	// ErrGrid: the grid's dimensions cannot work.
	ErrGrid = errors.New("airspace: bad grid")
	// ErrOutside: a position lies outside the grid.
	ErrOutside = errors.New("airspace: position outside the grid")
)

// Grid is a 3-D grid of equal cells: cell (i, j, k) spans
// [Origin + (i, j, k) × Size, Origin + (i+1, j+1, k+1) × Size).
type Grid struct {
	// Origin is the corner of cell (0, 0, 0).
	Origin Point
	// Size is the edge length of a cell along each axis, in metres.
	Size Point
	// Dims is the number of cells along each axis.
	Dims [3]int
}

// NewGrid checks and returns a grid.
func NewGrid(origin, size Point, dims [3]int) (Grid, error) {
	g := Grid{Origin: origin, Size: size, Dims: dims}
	for i, s := range []float64{size.X, size.Y, size.Z} {
		if !(s > 0) || math.IsInf(s, 0) {
			return Grid{}, fmt.Errorf("%w: cell size %v along axis %d must be positive", ErrGrid, s, i)
		}
	}
	total := 1
	for i, d := range dims {
		if d < 1 || d > MaxCells {
			return Grid{}, fmt.Errorf("%w: %d cells along axis %d", ErrGrid, d, i)
		}
		total *= d
		if total > MaxCells {
			return Grid{}, fmt.Errorf("%w: %d×%d×%d cells, at most %d", ErrGrid, dims[0], dims[1], dims[2], MaxCells)
		}
	}
	return g, nil
}

// Cells is the number of cells of the grid.
func (g Grid) Cells() int { return g.Dims[0] * g.Dims[1] * g.Dims[2] }

// index returns the integer coordinates of p (unchecked).
func (g Grid) index(p Point) [3]int {
	return [3]int{
		int(math.Floor((p.X - g.Origin.X) / g.Size.X)),
		int(math.Floor((p.Y - g.Origin.Y) / g.Size.Y)),
		int(math.Floor((p.Z - g.Origin.Z) / g.Size.Z)),
	}
}

func (g Grid) inside(ix [3]int) bool {
	for a := range 3 {
		if ix[a] < 0 || ix[a] >= g.Dims[a] {
			return false
		}
	}
	return true
}

func (g Grid) id(ix [3]int) Cell {
	return Cell(ix[0] + g.Dims[0]*(ix[1]+g.Dims[1]*ix[2]))
}

// CellOf returns the cell that contains p.
func (g Grid) CellOf(p Point) (Cell, error) {
	ix := g.index(p)
	if !g.inside(ix) {
		return 0, fmt.Errorf("%w: (%.2f, %.2f, %.2f)", ErrOutside, p.X, p.Y, p.Z)
	}
	return g.id(ix), nil
}

// Coords returns the integer coordinates of cell c.
func (g Grid) Coords(c Cell) (i, j, k int) {
	n := int(c)
	return n % g.Dims[0], n / g.Dims[0] % g.Dims[1], n / (g.Dims[0] * g.Dims[1])
}

// Center returns the centre of cell c.
func (g Grid) Center(c Cell) Point {
	i, j, k := g.Coords(c)
	return Point{
		g.Origin.X + (float64(i)+0.5)*g.Size.X,
		g.Origin.Y + (float64(j)+0.5)*g.Size.Y,
		g.Origin.Z + (float64(k)+0.5)*g.Size.Z,
	}
}

// Segment returns the cells the straight segment from a to b passes
// through, in the order it visits them (Amanatides and Woo's voxel
// traversal). A segment that passes exactly through an edge or a corner
// visits one of the cells that meet there and its neighbours along the
// axes, never skipping diagonally.
func (g Grid) Segment(a, b Point) ([]Cell, error) {
	cur, end := g.index(a), g.index(b)
	if !g.inside(cur) {
		return nil, fmt.Errorf("%w: (%.2f, %.2f, %.2f)", ErrOutside, a.X, a.Y, a.Z)
	}
	if !g.inside(end) {
		return nil, fmt.Errorf("%w: (%.2f, %.2f, %.2f)", ErrOutside, b.X, b.Y, b.Z)
	}
	pa := [3]float64{a.X, a.Y, a.Z}
	dir := [3]float64{b.X - a.X, b.Y - a.Y, b.Z - a.Z}
	org := [3]float64{g.Origin.X, g.Origin.Y, g.Origin.Z}
	size := [3]float64{g.Size.X, g.Size.Y, g.Size.Z}
	var step [3]int
	var tMax, tDelta [3]float64
	steps := 0
	for ax := range 3 {
		steps += abs(end[ax] - cur[ax])
		switch {
		case dir[ax] > 0:
			step[ax] = 1
			tMax[ax] = (org[ax] + float64(cur[ax]+1)*size[ax] - pa[ax]) / dir[ax]
			tDelta[ax] = size[ax] / dir[ax]
		case dir[ax] < 0:
			step[ax] = -1
			tMax[ax] = (org[ax] + float64(cur[ax])*size[ax] - pa[ax]) / dir[ax]
			tDelta[ax] = -size[ax] / dir[ax]
		default:
			tMax[ax] = math.Inf(1)
		}
	}
	out := make([]Cell, 0, steps+1)
	out = append(out, g.id(cur))
	// Each step moves one axis one cell towards the end cell: exactly
	// steps of them, whatever rounding does to tMax.
	for range steps {
		ax := -1
		for c := range 3 {
			if cur[c] == end[c] {
				continue
			}
			if ax < 0 || tMax[c] < tMax[ax] {
				ax = c
			}
		}
		cur[ax] += step[ax]
		tMax[ax] += tDelta[ax]
		out = append(out, g.id(cur))
	}
	return out, nil
}

// Path returns the cells a polyline through points passes through, sorted
// by ID without repeats: the order in which a drone must take their locks.
func (g Grid) Path(points ...Point) ([]Cell, error) {
	if len(points) == 0 {
		return nil, nil
	}
	if len(points) == 1 {
		c, err := g.CellOf(points[0])
		if err != nil {
			return nil, err
		}
		return []Cell{c}, nil
	}
	var out []Cell
	for i := 1; i < len(points); i++ {
		seg, err := g.Segment(points[i-1], points[i])
		if err != nil {
			return nil, err
		}
		out = append(out, seg...)
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}

func abs(v int) int {
	if v < 0 {
		return -v
	}
	return v
}
