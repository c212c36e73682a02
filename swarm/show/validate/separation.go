package validate

import (
	"math"
	"sort"

	"github.com/skyquorum/skyquorum/swarm/show"
)

// grid is a spatial index of points: cells of a given size, each point
// keyed by its cell (z, y, x packed in 21 bits each), the points sorted by
// key. Two points closer than the cell size are in the same or in
// adjacent cells; the cells after a cell in key order that touch it lie
// in 5 runs of keys (the rest of its own row of X, and 3 cells in each of
// the 4 rows above it in Y and Z), and since a point's runs move forward
// with its key, a sweep with one pointer per run finds every pair closer
// than the cell size (and some farther), each once, in about O(N) per
// build. The order is kept from one build to the next, so sorting a
// swarm that moved a little is an insertion sort of few moves.
type grid struct {
	size  float64
	order []int32  // points by key
	key   []uint64 // per point
	sk    []uint64 // keys in order
}

const (
	cellBits = 21
	cellOff  = 1 << (cellBits - 1)
	// minCell keeps every cell index of a coordinate within
	// ±show.MaxCoordinate inside its 21 bits, with a cell to spare.
	minCell = show.MaxCoordinate / (cellOff - 4)
)

// rows are the key offsets of the 4 rows above a cell's, from one cell
// before in X.
var rows = [4]uint64{
	1<<cellBits - 1,
	1<<(2*cellBits) - 1<<cellBits - 1,
	1<<(2*cellBits) - 1,
	1<<(2*cellBits) + 1<<cellBits - 1,
}

func newGrid(n int) *grid {
	g := &grid{order: make([]int32, n), key: make([]uint64, n), sk: make([]uint64, n)}
	for i := range g.order {
		g.order[i] = int32(i)
	}
	return g
}

func (g *grid) build(pos []show.Vec3, size float64) {
	size = max(size, minCell)
	g.size = size
	inv := 1 / size
	cell := func(c float64) uint64 { return uint64(int64(math.Floor(c*inv)) + cellOff) }
	for i, p := range pos {
		g.key[i] = cell(p.Z)<<(2*cellBits) | cell(p.Y)<<cellBits | cell(p.X)
	}
	n, moves := len(pos), 0
	for a := 1; a < n; a++ {
		o := g.order[a]
		k := g.key[o]
		b := a
		for b > 0 && g.key[g.order[b-1]] > k {
			g.order[b] = g.order[b-1]
			b--
			moves++
		}
		g.order[b] = o
		if moves > 32*n {
			sort.Slice(g.order, func(x, y int) bool { return g.key[g.order[x]] < g.key[g.order[y]] })
			break
		}
	}
	for s, o := range g.order {
		g.sk[s] = g.key[o]
	}
}

// pairs calls f for every pair i < j in the same or adjacent cells and
// closer than the cell size, with their squared distance.
func (g *grid) pairs(pos []show.Vec3, f func(i, j int, d2 float64)) {
	n := len(pos)
	size2 := g.size * g.size
	var p [4]int
	near := func(i int, pi show.Vec3, t int) {
		j := int(g.order[t])
		d := pos[j].Sub(pi)
		if d2 := d.X*d.X + d.Y*d.Y + d.Z*d.Z; d2 < size2 {
			if j < i {
				f(j, i, d2)
			} else {
				f(i, j, d2)
			}
		}
	}
	for s := range n {
		k := g.sk[s]
		i := int(g.order[s])
		pi := pos[i]
		for t := s + 1; t < n && g.sk[t] <= k+1; t++ {
			near(i, pi, t)
		}
		for r, off := range rows {
			lo := k + off
			for p[r] < n && g.sk[p[r]] < lo {
				p[r]++
			}
			for t := p[r]; t < n && g.sk[t] <= lo+2; t++ {
				near(i, pi, t)
			}
		}
	}
}

// fastSpeed (m/s) is faster than any show drone flies: the separation
// check compares a drone whose speed bound exceeds it with every other
// drone, rather than widen the grid's cells for it.
const fastSpeed = 30.0

func sq(v show.Vec3) float64 { return v.X*v.X + v.Y*v.Y + v.Z*v.Z }

func sq1(x float64) float64 { return x * x }

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
	// Drones exactly MinDistance apart keep the limit: a micrometre,
	// far below the format's millimetre, absorbs the rounding of the
	// curves' arithmetic.
	D := v.s.Limits.MinDistance - 1e-6
	end := v.rep.Duration.Seconds()
	dt := v.period
	samples := int(math.Ceil(end/dt)) + 1
	v.rep.Samples = samples
	if v.s.Limits.MinDistance <= 0 {
		return
	}
	n := len(v.tracks)
	at := func(k int) float64 { return min(float64(k)*dt, end) }
	// Positions at the previous, the current and the next sampling time.
	prev, pos, next := make([]show.Vec3, n), make([]show.Vec3, n), make([]show.Vec3, n)
	vb := make([]float64, n)
	// For the intervals from the previous and from the current sampling
	// time: each drone's velocity at its start and a bound on its
	// acceleration over it (+Inf when a keyframe falls inside, where the
	// velocity may jump).
	ivVel := [2][]show.Vec3{make([]show.Vec3, n), make([]show.Vec3, n)}
	ivAcc := [2][]float64{make([]float64, n), make([]float64, n)}
	cur := make([]int, n) // segment index at the latest time positioned
	lo := make([]int, n)  // segment index at the previous sampling time
	g := newGrid(n)
	pairs := map[uint64]*pairState{}
	best := math.Inf(1)
	position := func(i int, t float64) show.Vec3 {
		tr := &v.tracks[i]
		segs := tr.segs
		for cur[i] < len(segs) && segs[cur[i]].t1 < t {
			cur[i]++
		}
		switch c := cur[i]; {
		case len(segs) == 0 || t <= tr.t0:
			return tr.first
		case c == len(segs):
			return tr.last
		default:
			s := &segs[c]
			return s.at((t - s.t0) / (s.t1 - s.t0))
		}
	}

	for k := range samples {
		t, tPrev, tNext := at(k), at(max(k-1, 0)), at(k+1)
		vAll := 0.0
		for i := range v.tracks {
			if k == 0 {
				pos[i] = position(i, t)
			}
			next[i] = position(i, tNext)
			tr := &v.tracks[i]
			segs := tr.segs
			switch c := cur[i]; {
			case len(segs) == 0 || tNext <= tr.t0 || t >= segs[len(segs)-1].t1:
				ivVel[1][i], ivAcc[1][i] = show.Vec3{}, 0 // at rest
			case c < len(segs) && segs[c].t0 <= t:
				sg := &segs[c]
				ivVel[1][i], ivAcc[1][i] = sg.vel((t-sg.t0)/(sg.t1-sg.t0)), sg.amax
			default:
				ivVel[1][i], ivAcc[1][i] = show.Vec3{}, math.Inf(1)
			}
			for lo[i] < len(segs) && segs[lo[i]].t1 < tPrev {
				lo[i]++
			}
			sp := 0.0
			for j := lo[i]; j < len(segs) && segs[j].t0 <= tNext; j++ {
				sp = max(sp, segs[j].vmax)
			}
			vb[i] = sp
			vAll = max(vAll, sp)
		}
		// Drones faster than fastSpeed (a glitch, a teleport) would make
		// every cell huge: they are checked against every drone instead.
		vcap := min(vAll, fastSpeed)
		pair := func(i, j int, d2 float64) {
			d := math.Sqrt(d2)
			if d < best {
				best = d
				v.rep.Closest = Closest{Distance: d, Drones: [2]int{i + 1, j + 1}, At: seconds(t), Found: true}
			}
			// Lipschitz bounds of the pair's distance over each interval:
			// their speeds added, or better their relative velocity at
			// the interval's start plus their accelerations over it.
			var Ls [2]float64
			for w := range 2 {
				h := at(k+w) - at(k+w-1)
				Ls[w] = min(vb[i]+vb[j], ivVel[w][i].Sub(ivVel[w][j]).Norm()+(ivAcc[w][i]+ivAcc[w][j])*h)
			}
			if d >= D+max(Ls[0], Ls[1])*dt/2 {
				return
			}
			var ps *pairState
			for m := max(k-1, 0); m <= k && m < samples-1; m++ {
				// The interval is clear if the bound on the distance
				// from both its samples proves it.
				other := next[i].Dist(next[j])
				if m < k {
					other = prev[i].Dist(prev[j])
				}
				if d >= D && (d+other)/2-Ls[m-k+1]*(at(m+1)-at(m))/2 >= D-v.tol {
					continue
				}
				if ps == nil {
					key := uint64(i)<<32 | uint64(j)
					if ps = pairs[key]; ps == nil {
						ps = &pairState{refined: -1, open: -1}
						pairs[key] = ps
					}
				}
				if m <= ps.refined {
					continue
				}
				ps.refined = m
				lb := (d+other)/2 - Ls[m-k+1]*(at(m+1)-at(m))/2
				if ps.open >= 0 && ps.last >= m-1 && min(d, other) < D && lb >= v.viol[ps.open].Value-v.tol {
					// The run goes on and cannot come closer here than it
					// already has: nothing to refine.
					ps.last = m
					continue
				}
				v.rep.Refined++
				first, dmin, tmin, ok := v.closest(i, j, at(m), at(m+1), D, Ls[m-k+1])
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
					ps.open = v.add(MinDistance, first, v.s.Limits.MinDistance, dmin, "", i, j)
				}
				ps.last = m
			}
		}
		g.build(pos, D+vcap*dt)
		g.pairs(pos, func(i, j int, d2 float64) {
			if vb[i] <= vcap && vb[j] <= vcap {
				pair(i, j, d2)
			}
		})
		if vAll > vcap {
			for f := range n {
				if vb[f] <= vcap {
					continue
				}
				for j := range n {
					if j == f || vb[j] > vcap && j < f {
						continue
					}
					if d2 := sq(pos[f].Sub(pos[j])); d2 < sq1(D+(vb[f]+vb[j])*dt/2) {
						pair(min(f, j), max(f, j), d2)
					}
				}
			}
		}
		prev, pos, next = pos, next, prev
		ivVel[0], ivVel[1] = ivVel[1], ivVel[0]
		ivAcc[0], ivAcc[1] = ivAcc[1], ivAcc[0]
	}
}

// closest searches drones i and j over show times [a, b] for a distance
// under D: the first time (ok) and the closest distance and its time, to
// the validator's tolerance. L bounds how fast their distance changes
// over [a, b].
func (v *validator) closest(i, j int, a, b, D, L float64) (first, dmin, tmin float64, ok bool) {
	ti, tj := &v.tracks[i], &v.tracks[j]
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
