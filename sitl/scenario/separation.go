package scenario

import (
	"math"

	"github.com/skyquorum/skyquorum/sitl/vehicle"
)

// separationBound is the distance within which min_separation_m is exact:
// the separation check looks at pairs of vehicles in neighbouring cells of
// a uniform grid whose cells are max(minimum distance, separationBound)
// wide, so it finds every pair closer than the cell size and no pair
// farther apart than about 3.5 cell sizes.
const separationBound = 5.0 // m

// separation checks the distance between airborne vehicles at one moment
// at a time. A pair closer than the show's minimum distance is a
// violation when both vehicles fly as their swarm says (the caller's
// controlled), and at risk when at least one does not: its drone crashed
// and the autopilot's failsafe flies it, or its drone lost the swarm and
// holds. The pairs are counted once each however
// long and however often they are close. Each check costs O(N) for
// vehicles spread as a show spreads them: a uniform grid (spatial hash)
// holds them, and each vehicle is compared with those of its own and its
// neighbouring cells only.
type separation struct {
	minDist float64
	cell    float64
	// min is the smallest distance seen between two airborne vehicles
	// closer than cell, or +Inf while none was.
	min        float64
	violations map[[2]int]bool
	atRisk     map[[2]int]bool
	// Reused per check: the first vehicle of each cell, the next one in
	// the same cell (-1 ends), each vehicle's cell.
	heads map[uint64]int32
	next  []int32
	cells [][3]int32
}

func newSeparation(minDist float64) *separation {
	return &separation{
		minDist:    minDist,
		cell:       max(minDist, separationBound),
		min:        math.Inf(1),
		violations: map[[2]int]bool{},
		atRisk:     map[[2]int]bool{},
		heads:      map[uint64]int32{},
	}
}

// check looks at the vehicles as they are now; vs[i] is vehicle i, nil
// for none, and controlled[i] whether it flies as its swarm says. Pairs are named by index, the smaller first. It returns the
// pairs that became violations in this check, for the caller to report.
func (sp *separation) check(vs []*vehicle.Vehicle, controlled []bool) [][2]int {
	clear(sp.heads)
	sp.next = sp.next[:0]
	sp.cells = sp.cells[:0]
	for i, v := range vs {
		sp.next = append(sp.next, -1)
		var c [3]int32
		if v != nil && v.Airborne() {
			p := v.Position()
			c = [3]int32{int32(math.Floor(p.X / sp.cell)), int32(math.Floor(p.Y / sp.cell)), int32(math.Floor(p.Z / sp.cell))}
			if h, ok := sp.heads[cellKey(c)]; ok {
				sp.next[i] = h
			}
			sp.heads[cellKey(c)] = int32(i)
		}
		sp.cells = append(sp.cells, c)
	}
	var fresh [][2]int
	for i, v := range vs {
		if v == nil || !v.Airborne() {
			continue
		}
		p := v.Position()
		c := sp.cells[i]
		for _, o := range halfNeighbourhood {
			h, ok := sp.heads[cellKey([3]int32{c[0] + o[0], c[1] + o[1], c[2] + o[2]})]
			if !ok {
				continue
			}
			for j := h; j >= 0; j = sp.next[j] {
				// Each pair once: in its own cell from its higher
				// index, across cells from one side.
				if o == [3]int32{} && int(j) >= i {
					continue
				}
				w := vs[j]
				d := p.Dist(w.Position())
				if d >= sp.cell {
					continue
				}
				sp.min = min(sp.min, d)
				if d >= sp.minDist {
					continue
				}
				k := [2]int{min(i, int(j)), max(i, int(j))}
				switch {
				case !controlled[i] || !controlled[j]:
					sp.atRisk[k] = true
				case !sp.violations[k]:
					sp.violations[k] = true
					fresh = append(fresh, k)
				}
			}
		}
	}
	return fresh
}

// cellKey packs a cell's coordinates into one map key, 21 bits each
// (cells of 2 m or more: ±2000 km).
func cellKey(c [3]int32) uint64 {
	const bias = 1 << 20
	return uint64(c[0]+bias)<<42 | uint64(c[1]+bias)<<21 | uint64(c[2]+bias)
}

// halfNeighbourhood is a cell and the 13 of its 26 neighbours that come
// after it in (x, y, z) order: every pair of neighbouring cells once.
var halfNeighbourhood = func() [][3]int32 {
	out := [][3]int32{{}}
	for dx := int32(-1); dx <= 1; dx++ {
		for dy := int32(-1); dy <= 1; dy++ {
			for dz := int32(-1); dz <= 1; dz++ {
				if dx > 0 || dx == 0 && (dy > 0 || dy == 0 && dz > 0) {
					out = append(out, [3]int32{dx, dy, dz})
				}
			}
		}
	}
	return out
}()

// minSeparation is the smallest distance seen between two airborne
// vehicles, or nil when no two came within the cell size.
func (sp *separation) minSeparation() *float64 {
	if math.IsInf(sp.min, 1) {
		return nil
	}
	m := sp.min
	return &m
}
