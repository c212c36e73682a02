package rth

import (
	"math"
	"slices"
)

// index finds the drones that may be near a place at a time: show time
// cut into bins of width w seconds, the plane into square cells of edge
// c metres, and for each bin and cell the drones whose trajectory's
// bounding box over that bin touches the cell. The last bin runs to the
// end of time: every drone is at its last position by then.
type index struct {
	w, c float64
	bins []map[uint64][]int32
}

const maxBins = 2048

func cellKey(ix, iy int64) uint64 { return uint64(ix+1<<31)<<32 | uint64(iy+1<<31)&(1<<32-1) }

func newIndex(trajs []traj, end, cell float64) *index {
	x := &index{c: cell, w: max(2, end/maxBins)}
	n := int(end/x.w) + 2
	x.bins = make([]map[uint64][]int32, n)
	for b := range x.bins {
		x.bins[b] = make(map[uint64][]int32)
	}
	for j := range trajs {
		tr := &trajs[j]
		put := func(b0, b1 int, lo, hi [2]float64) {
			i0, i1 := x.cellRange(lo[0], hi[0])
			k0, k1 := x.cellRange(lo[1], hi[1])
			for b := max(b0, 0); b <= min(b1, n-1); b++ {
				m := x.bins[b]
				for i := i0; i <= i1; i++ {
					for k := k0; k <= k1; k++ {
						key := cellKey(i, k)
						l := m[key]
						if len(l) == 0 || l[len(l)-1] != int32(j) {
							m[key] = append(l, int32(j))
						}
					}
				}
			}
		}
		f, l := tr.first, tr.last
		put(0, x.bin(tr.t0), [2]float64{f.X, f.Y}, [2]float64{f.X, f.Y})
		for _, g := range tr.segs {
			put(x.bin(g.a), x.bin(g.b), [2]float64{g.lo.X, g.lo.Y}, [2]float64{g.hi.X, g.hi.Y})
		}
		put(x.bin(tr.t1), n-1, [2]float64{l.X, l.Y}, [2]float64{l.X, l.Y})
	}
	return x
}

func (x *index) bin(t float64) int {
	return min(max(int(math.Floor(t/x.w)), 0), len(x.bins)-1)
}

func (x *index) cellRange(lo, hi float64) (int64, int64) {
	return int64(math.Floor(lo / x.c)), int64(math.Floor(hi / x.c))
}

// near appends to out the drones that may come within r of segment m,
// ascending, each once; seen is a scratch of one stamp per drone.
func (x *index) near(m *seg, r float64, seen []uint32, stamp uint32, out []int32) []int32 {
	i0, i1 := x.cellRange(m.lo.X-r, m.hi.X+r)
	k0, k1 := x.cellRange(m.lo.Y-r, m.hi.Y+r)
	if (i1-i0+1)*(k1-k0+1)*int64(x.bin(m.b)-x.bin(m.a)+1) > int64(len(seen)) {
		// A long leg: every drone costs less than every cell.
		for j := range seen {
			out = append(out, int32(j))
		}
		return out
	}
	for b := x.bin(m.a); b <= x.bin(m.b); b++ {
		bm := x.bins[b]
		for i := i0; i <= i1; i++ {
			for k := k0; k <= k1; k++ {
				for _, j := range bm[cellKey(i, k)] {
					if seen[j] != stamp {
						seen[j] = stamp
						out = append(out, j)
					}
				}
			}
		}
	}
	slices.Sort(out)
	return out
}
