package mutex

import (
	"fmt"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
)

// Quorums maps every member of a Maekawa group to its quorum (its voting
// set), sorted by ID. Maekawa's algorithm is safe when any two quorums
// intersect, and a drone's vote for itself is free when it belongs to its
// own quorum (Maekawa, 1985). The
// constructions of this file give both for any group size.
//
// One Quorums value is shared read-only by every core of a group: do not
// modify it once cores use it.
type Quorums map[algorithms.NodeID][]algorithms.NodeID

// QuorumStats summarises the quorum sizes of a group.
type QuorumStats struct {
	// Members is the number of drones in the group.
	Members int
	// Min, Max and Mean are quorum sizes counting the owner itself.
	Min, Max int
	Mean     float64
}

// String formats the figures as the benchmarks print them.
func (s QuorumStats) String() string {
	return fmt.Sprintf("N=%d quorum_size min=%d max=%d mean=%.2f", s.Members, s.Min, s.Max, s.Mean)
}

// Stats returns the smallest, largest and mean quorum size.
func (q Quorums) Stats() QuorumStats {
	s := QuorumStats{Members: len(q)}
	if len(q) == 0 {
		return s
	}
	total := 0
	s.Min = int(^uint(0) >> 1)
	for _, members := range q {
		k := len(members)
		total += k
		s.Min = min(s.Min, k)
		s.Max = max(s.Max, k)
	}
	s.Mean = float64(total) / float64(len(q))
	return s
}

// Members returns the drones of the group in increasing order.
func (q Quorums) Members() []algorithms.NodeID {
	out := make([]algorithms.NodeID, 0, len(q))
	for id := range q {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

// normalizeIDs returns a sorted copy of ids without duplicates.
func normalizeIDs(ids []algorithms.NodeID) []algorithms.NodeID {
	out := slices.Clone(ids)
	slices.Sort(out)
	return slices.Compact(out)
}

// isqrtCeil returns ⌈√n⌉ for n ≥ 0.
func isqrtCeil(n int) int {
	c := 0
	for c*c < n {
		c++
	}
	return c
}

// gridColumns is the number of columns of the grid of n drones: ⌈√n⌉.
func gridColumns(n int) int { return max(isqrtCeil(n), 1) }

// gridMax is the largest quorum of Grid for n drones: a full row plus the
// full first column, 2⌈√n⌉−1 at most.
func gridMax(n int) int {
	if n == 0 {
		return 0
	}
	c := gridColumns(n)
	rows := (n + c - 1) / c
	return c + rows - 1
}

// Grid lays the drones out row by row in ⌈√N⌉ columns (the last row may be
// partial) and gives each drone its whole row plus its whole column,
// K ≤ 2⌈√N⌉−1. Two quorums meet where one drone's row crosses the other's
// column; when that cell is missing from a partial last row, the other
// crossing exists. IDs are sorted (and duplicates dropped) first.
func Grid(ids []algorithms.NodeID) Quorums {
	ids = normalizeIDs(ids)
	n := len(ids)
	q := make(Quorums, n)
	if n == 0 {
		return q
	}
	c := gridColumns(n)
	for i, id := range ids {
		row, col := i/c, i%c
		lo, hi := row*c, min((row+1)*c, n)
		members := make([]algorithms.NodeID, 0, hi-lo+(n+c-1)/c-1)
		for j := col; j < lo; j += c {
			members = append(members, ids[j])
		}
		members = append(members, ids[lo:hi]...)
		for j := row*c + c + col; j < n; j += c {
			members = append(members, ids[j])
		}
		q[id] = members
	}
	return q
}

// ProjectivePlane builds quorums from the finite projective plane of
// prime-power order q (2, 3, 4, 5, 7, 8, 9, 11, 13, 16, …), the smallest
// with q²+q+1 ≥ N. The plane is cyclic (a
// Singer difference set D): point p is p mod P with P = q²+q+1, and the
// lines are the translates D+s. Point p belongs to the drone of index
// p mod N, so every drone owns at least one point, and drone i takes the
// line D+i−D[0], which passes through its own point i. Its quorum is the
// owners of the q+1 points on that line (K ≤ q+1 ≈ √N). Two drones have
// different lines, any two lines of a projective plane meet, and the owner
// of the common point is in both quorums. IDs are sorted (and duplicates
// dropped) first. It takes O(N·q) time.
func ProjectivePlane(ids []algorithms.NodeID) Quorums {
	ids = normalizeIDs(ids)
	n := len(ids)
	q := make(Quorums, n)
	if n == 0 {
		return q
	}
	order := planeOrder(n)
	points := order*order + order + 1
	diff := singerSet(order)
	shift0 := diff[0]
	// One backing array for all quorums: N small allocations would
	// dominate the cost at N = 65534.
	backing := make([]algorithms.NodeID, 0, n*len(diff))
	var pts, merged, scratch []int
	for i, id := range ids {
		// The points of line D+s in increasing order: those that wrap
		// around P come first.
		s := (i - shift0 + points) % points
		split, _ := slices.BinarySearch(diff, points-s)
		pts = pts[:0]
		for _, d := range diff[split:] {
			pts = append(pts, d+s-points)
		}
		for _, d := range diff[:split] {
			pts = append(pts, d+s)
		}
		// Owners p mod N increase within each block [kN, (k+1)N), so
		// the owners are a few sorted runs to merge.
		merged, scratch = merged[:0], scratch[:0]
		base := pts[0] / n * n
		for _, p := range pts {
			if p >= base+n {
				merged = mergeUnique(merged, scratch)
				scratch = scratch[:0]
				base = p / n * n
			}
			scratch = append(scratch, p-base)
		}
		merged = mergeUnique(merged, scratch)
		first := len(backing)
		for _, o := range merged {
			backing = append(backing, ids[o])
		}
		q[id] = backing[first:len(backing):len(backing)]
	}
	return q
}

// Best returns whichever of Grid and ProjectivePlane has the smaller
// largest quorum for this group (then the smaller mean; the grid on a tie).
// The grid only ties, at N = 1, 2 and 4; from N = 3 on the projective plane
// is smaller (K ≤ 18 at N = 250, K ≤ 48 at N = 2000), and the result is
// never above the grid's 2⌈√N⌉−1.
func Best(ids []algorithms.NodeID) Quorums {
	ids = normalizeIDs(ids)
	plane := ProjectivePlane(ids)
	ps := plane.Stats()
	if ps.Max < gridMax(len(ids)) {
		return plane
	}
	grid := Grid(ids)
	gs := grid.Stats()
	if gs.Max < ps.Max || (gs.Max == ps.Max && gs.Mean <= ps.Mean) {
		return grid
	}
	return plane
}

// mergeUnique merges the sorted run b into the sorted set a, dropping
// duplicates, and returns the result (reusing a's array when it can).
func mergeUnique(a, b []int) []int {
	if len(a) == 0 {
		return append(a, b...)
	}
	out := make([]int, 0, len(a)+len(b))
	i, j := 0, 0
	for i < len(a) || j < len(b) {
		var v int
		switch {
		case j == len(b) || (i < len(a) && a[i] < b[j]):
			v = a[i]
			i++
		case i == len(a) || b[j] < a[i]:
			v = b[j]
			j++
		default:
			v = a[i]
			i++
			j++
		}
		if len(out) == 0 || out[len(out)-1] != v {
			out = append(out, v)
		}
	}
	return append(a[:0], out...)
}

// planeOrder returns the smallest prime power q with q²+q+1 ≥ n.
func planeOrder(n int) int {
	q := 2
	for q*q+q+1 < n || !isPrimePower(q) {
		q++
	}
	return q
}

func isPrime(n int) bool {
	if n < 2 {
		return false
	}
	for d := 2; d*d <= n; d++ {
		if n%d == 0 {
			return false
		}
	}
	return true
}

// singerSet returns a perfect difference set modulo P = q²+q+1 for a prime
// power q, sorted: q+1 residues whose pairwise differences hit every
// nonzero residue exactly once (Singer 1938). It works in GF(q³) =
// GF(q)[x]/(f) for a monic irreducible cubic f in which x generates
// GF(q³)*/GF(q)* (a group of order P): the projective points are the
// powers x^i, i < P, and D collects those that lie on the plane
// {c₀ + c₁x}, i.e. on one line. GF(q) itself is table-based (galois).
func singerSet(q int) []int {
	f := newGalois(q)
	points := q*q + q + 1
	for a := 0; a < q; a++ {
		for b := 0; b < q; b++ {
			for c := 1; c < q; c++ {
				if !cubicIrreducible(f, a, b, c) {
					continue
				}
				if d := singerCandidate(f, points, a, b, c); d != nil {
					return d
				}
			}
		}
	}
	// Every prime power order has a Singer cycle; reaching this is a bug.
	panic(fmt.Sprintf("mutex: no Singer difference set found for order %d", q))
}

// cubicIrreducible reports whether x³+ax²+bx+c has no root in GF(q), which
// for a cubic means it is irreducible.
func cubicIrreducible(f *galois, a, b, c int) bool {
	for t := 0; t < f.q; t++ {
		t2 := f.Mul(t, t)
		v := f.Add(f.Add(f.Mul(t2, t), f.Mul(a, t2)), f.Add(f.Mul(b, t), c))
		if v == 0 {
			return false
		}
	}
	return true
}

// singerCandidate walks the powers of x modulo x³+ax²+bx+c and returns the
// difference set, or nil when x reaches a scalar before the P-th power (its
// class does not generate the whole plane).
func singerCandidate(f *galois, points, a, b, c int) []int {
	c0, c1, c2 := 1, 0, 0 // x⁰
	d := make([]int, 0, f.q+1)
	for i := 0; i < points; i++ {
		if i > 0 && c1 == 0 && c2 == 0 {
			return nil
		}
		if c2 == 0 {
			d = append(d, i)
		}
		// Multiply by x, reducing x³ = −ax² − bx − c.
		c0, c1, c2 = f.Sub(0, f.Mul(c, c2)), f.Sub(c0, f.Mul(b, c2)), f.Sub(c1, f.Mul(a, c2))
	}
	if len(d) != f.q+1 {
		return nil
	}
	return d
}
