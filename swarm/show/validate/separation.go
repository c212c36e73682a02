package validate

import (
	"math"

	"github.com/skyquorum/skyquorum/swarm/show"
)

// grid is a spatial index of points: cells of a given size, hashed into
// a table of linked lists, rebuilt for each sampling time. Two points
// closer than the cell size are in the same or in adjacent cells, so the
// pairs it yields are every pair closer than the cell size (and some
// farther), each once, at a cost that grows with the number of points.
type grid struct {
	size       float64
	mask       uint32
	head       []int32 // per bucket: first point + 1, valid when gen matches
	gen        []uint32
	cur        uint32
	next       []int32
	cx, cy, cz []int32
}

func newGrid(n int) *grid {
	b := 64
	for b < 2*n {
		b *= 2
	}
	return &grid{
		mask: uint32(b - 1), head: make([]int32, b), gen: make([]uint32, b),
		next: make([]int32, n), cx: make([]int32, n), cy: make([]int32, n), cz: make([]int32, n),
	}
}

func (g *grid) bucket(x, y, z int32) uint32 {
	h := uint32(x)*73856093 ^ uint32(y)*19349663 ^ uint32(z)*83492791
	return (h ^ h>>15) & g.mask
}

func (g *grid) build(pos []show.Vec3, size float64) {
	g.size = size
	g.cur++
	inv := 1 / size
	for i, p := range pos {
		x, y, z := int32(math.Floor(p.X*inv)), int32(math.Floor(p.Y*inv)), int32(math.Floor(p.Z*inv))
		g.cx[i], g.cy[i], g.cz[i] = x, y, z
		b := g.bucket(x, y, z)
		if g.gen[b] != g.cur {
			g.gen[b], g.head[b] = g.cur, 0
		}
		g.next[i] = g.head[b]
		g.head[b] = int32(i + 1)
	}
}

// forward are the 13 neighbour cells after a cell in (z, y, x) order:
// with the cell itself, every adjacent pair of cells is visited once.
var forward = func() (out [13][3]int32) {
	n := 0
	for dz := int32(-1); dz <= 1; dz++ {
		for dy := int32(-1); dy <= 1; dy++ {
			for dx := int32(-1); dx <= 1; dx++ {
				if dz > 0 || dz == 0 && (dy > 0 || dy == 0 && dx > 0) {
					out[n] = [3]int32{dx, dy, dz}
					n++
				}
			}
		}
	}
	return out
}()

// pairs calls f for every pair i < j in the same or adjacent cells, with
// their squared distance.
func (g *grid) pairs(pos []show.Vec3, f func(i, j int, d2 float64)) {
	for i := range pos {
		x, y, z := g.cx[i], g.cy[i], g.cz[i]
		pi := pos[i]
		visit := func(dx, dy, dz int32, same bool) {
			b := g.bucket(x+dx, y+dy, z+dz)
			if g.gen[b] != g.cur {
				return
			}
			for j1 := g.head[b]; j1 != 0; j1 = g.next[j1-1] {
				j := int(j1 - 1)
				if g.cx[j] != x+dx || g.cy[j] != y+dy || g.cz[j] != z+dz || same && j <= i {
					continue
				}
				d := pos[j].Sub(pi)
				d2 := d.X*d.X + d.Y*d.Y + d.Z*d.Z
				if d2 < g.size*g.size {
					a, c := i, j
					if c < a {
						a, c = c, a
					}
					f(a, c, d2)
				}
			}
		}
		visit(0, 0, 0, true)
		for _, o := range forward {
			visit(o[0], o[1], o[2], false)
		}
	}
}

// pairState follows a pair of drones through the separation check.
type pairState struct {
	refined int // the last sampling interval refined
	open    int // the violation index of the pair's current run, −1: none
	last    int // the last interval of that run
}

// separation checks MinDistance between every two drones over the whole
// show.
//
// Every drone's position is sampled at times t_k = k·Period (and at the
// show's end). Between two samples the distance d of two drones changes
// at most as fast as v_i + v_j, where v bounds each drone's speed over
// the interval (from its segments' hodographs), so on [t_k, t_k+1]
//
//	d(t) ≥ (d(t_k) + d(t_k+1))/2 − (v_i + v_j)·Period/2.
//
// A pair is therefore a candidate at sample k when d(t_k) < MinDistance
// + (v_i + v_j)·Period/2, with v over [t_k−1, t_k+1]: a pair that breaks
// the limit inside an interval is a candidate at one of its ends. The
// grid finds candidates in about O(N) per sample (cell size MinDistance
// + max v·Period). For each candidate, both intervals next to the sample
// are refined by branch and bound on the same Lipschitz bound, halving
// until the bound proves the pair at least MinDistance − Tolerance apart,
// or finds it closer than MinDistance: no violation deeper than
// Tolerance is missed, however fast the drones cross. A pair's violating
// intervals in a row make one violation, from its first time to its
// closest distance.
func (v *validator) separation() {
	D := v.s.Limits.MinDistance
	end := v.rep.Duration.Seconds()
	dt := v.period
	samples := int(math.Ceil(end/dt)) + 1
	v.rep.Samples = samples
	if D <= 0 {
		return
	}
	n := len(v.tracks)
	at := func(k int) float64 { return min(float64(k)*dt, end) }
	pos := make([]show.Vec3, n)
	vb := make([]float64, n)
	cur := make([]int, n) // segment index at the sample time
	lo := make([]int, n)  // segment index at the previous sample time
	g := newGrid(n)
	pairs := map[uint64]*pairState{}
	best := math.Inf(1)

	for k := range samples {
		t, tPrev, tNext := at(k), at(max(k-1, 0)), at(k+1)
		vAll := 0.0
		for i := range v.tracks {
			tr := &v.tracks[i]
			segs := tr.segs
			for lo[i] < len(segs) && segs[lo[i]].t1 < tPrev {
				lo[i]++
			}
			for cur[i] < len(segs) && segs[cur[i]].t1 < t {
				cur[i]++
			}
			switch c := cur[i]; {
			case len(segs) == 0 || t <= tr.t0:
				pos[i] = tr.first
			case c == len(segs):
				pos[i] = tr.last
			default:
				s := &segs[c]
				pos[i] = s.at((t - s.t0) / (s.t1 - s.t0))
			}
			sp := 0.0
			for j := lo[i]; j < len(segs) && segs[j].t0 <= tNext; j++ {
				sp = max(sp, segs[j].vmax)
			}
			vb[i] = sp
			vAll = max(vAll, sp)
		}
		g.build(pos, D+vAll*dt)
		g.pairs(pos, func(i, j int, d2 float64) {
			d := math.Sqrt(d2)
			if d < best {
				best = d
				v.rep.Closest = Closest{Distance: d, Drones: [2]int{i + 1, j + 1}, At: seconds(t), Found: true}
			}
			if d >= D+(vb[i]+vb[j])*dt/2 {
				return
			}
			key := uint64(i)<<32 | uint64(j)
			ps := pairs[key]
			if ps == nil {
				ps = &pairState{refined: -1, open: -1}
				pairs[key] = ps
			}
			for m := max(k-1, 0); m <= k && m < samples-1; m++ {
				if m <= ps.refined {
					continue
				}
				ps.refined = m
				v.rep.Refined++
				first, dmin, tmin, ok := v.closest(i, j, at(m), at(m+1), D)
				if dmin < best {
					best = dmin
					v.rep.Closest = Closest{Distance: dmin, Drones: [2]int{i + 1, j + 1}, At: seconds(tmin), Found: true}
				}
				if !ok {
					continue
				}
				if ps.open >= 0 && ps.last >= m-1 {
					vi := &v.viol[ps.open]
					vi.Value = min(vi.Value, dmin)
				} else {
					ps.open = v.add(MinDistance, first, D, dmin, "", i, j)
				}
				ps.last = m
			}
		})
	}
}

// closest searches drones i and j over show times [a, b] for a distance
// under D: the first time (ok) and the closest distance and its time, to
// the validator's tolerance.
func (v *validator) closest(i, j int, a, b, D float64) (first, dmin, tmin float64, ok bool) {
	ti, tj := &v.tracks[i], &v.tracks[j]
	L := ti.vmax(a, b) + tj.vmax(a, b)
	dist := func(t float64) float64 { return ti.pos(t).Dist(tj.pos(t)) }
	tol := v.tol
	type iv struct{ a, b, da, db float64 }
	// First pass, in time order: the first time closer than D.
	da, db := dist(a), dist(b)
	dmin, tmin = da, a
	if db < dmin {
		dmin, tmin = db, b
	}
	stack := []iv{{a, b, da, db}}
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if n.da < D {
			first, ok = n.a, true
			break
		}
		if (n.da+n.db)/2-L*(n.b-n.a)/2 >= D-tol || n.b-n.a < 1e-6 {
			if n.db < D {
				first, ok = n.b, true
				break
			}
			continue
		}
		m := (n.a + n.b) / 2
		dm := dist(m)
		if dm < dmin {
			dmin, tmin = dm, m
		}
		stack = append(stack, iv{m, n.b, dm, n.db}, iv{n.a, m, n.da, dm})
	}
	if !ok {
		return 0, dmin, tmin, false
	}
	// Second pass: the closest distance, to the tolerance.
	stack = append(stack[:0], iv{a, b, da, db})
	for len(stack) > 0 {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if (n.da+n.db)/2-L*(n.b-n.a)/2 >= dmin-tol || n.b-n.a < 1e-6 {
			continue
		}
		m := (n.a + n.b) / 2
		dm := dist(m)
		if dm < dmin {
			dmin, tmin = dm, m
		}
		stack = append(stack, iv{m, n.b, dm, n.db}, iv{n.a, m, n.da, dm})
	}
	return first, dmin, tmin, true
}
