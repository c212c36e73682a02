package mutex

import (
	"fmt"
	"math/bits"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
)

// constructions are the quorum builders under test.
var constructions = []struct {
	name  string
	build func([]algorithms.NodeID) Quorums
}{
	{"grid", Grid},
	{"plane", ProjectivePlane},
	{"best", Best},
}

// checkShape verifies, for every member, the second condition of
// docs/algorithms.md ("each node is in its own quorum") and that quorums
// are sorted sets of members.
func checkShape(t *testing.T, ids []algorithms.NodeID, q Quorums) {
	t.Helper()
	require.Len(t, q, len(ids))
	known := make([]bool, 1<<16)
	for _, id := range ids {
		known[id] = true
	}
	for _, id := range ids {
		members, ok := q[id]
		require.True(t, ok, "drone %d has no quorum", id)
		require.True(t, slices.IsSorted(members), "quorum of %d not sorted", id)
		for i := 1; i < len(members); i++ {
			if members[i] == members[i-1] {
				require.Failf(t, "repeated member", "quorum of %d repeats %d", id, members[i])
			}
		}
		_, self := slices.BinarySearch(members, id)
		require.True(t, self, "drone %d is not in its own quorum %v", id, members)
		for _, m := range members {
			if !known[m] {
				require.Failf(t, "unknown member", "quorum of %d names %d, not a member", id, m)
			}
		}
	}
}

// intersect reports whether two sorted quorums share a member.
func intersect(a, b []algorithms.NodeID) bool {
	i, j := 0, 0
	for i < len(a) && j < len(b) {
		switch {
		case a[i] == b[j]:
			return true
		case a[i] < b[j]:
			i++
		default:
			j++
		}
	}
	return false
}

// checkAllPairs verifies the first condition of docs/algorithms.md, "any
// two quorums intersect", on every pair, with one bitset per quorum.
func checkAllPairs(t *testing.T, ids []algorithms.NodeID, q Quorums) {
	t.Helper()
	words := (len(ids) + 63) / 64
	sets := make([][]uint64, len(ids))
	for i, id := range ids {
		sets[i] = make([]uint64, words)
		for _, m := range q[id] {
			k, _ := slices.BinarySearch(ids, m)
			sets[i][k/64] |= 1 << (k % 64)
		}
	}
	for a := range ids {
		for b := a + 1; b < len(ids); b++ {
			meet := false
			for w := range words {
				if sets[a][w]&sets[b][w] != 0 {
					meet = true
					break
				}
			}
			if !meet {
				require.Failf(t, "quorums do not intersect", "%d: %v and %d: %v", ids[a], q[ids[a]], ids[b], q[ids[b]])
			}
		}
	}
}

// checkSampledPairs checks the intersection on pairs drawn with a seeded
// generator (all pairs of a large group would take O(N²·K)).
func checkSampledPairs(t *testing.T, ids []algorithms.NodeID, q Quorums, pairs int, seed uint64) {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, uint64(len(ids))))
	for range pairs {
		a, b := ids[rng.IntN(len(ids))], ids[rng.IntN(len(ids))]
		require.True(t, intersect(q[a], q[b]), "seed=%d: quorums of %d and %d do not intersect", seed, a, b)
	}
}

// TestQuorumsEveryNUpTo300 checks both conditions of docs/algorithms.md's
// "Maekawa quorums" for every group size from 1 to 300, all pairs, and the
// size bounds: grid K ≤ 2⌈√N⌉−1, plane K ≤ q+1, Best no worse than either.
func TestQuorumsEveryNUpTo300(t *testing.T) {
	t.Parallel()
	for n := 1; n <= 300; n++ {
		ids := seqIDs(1, n)
		maxes := map[string]int{}
		for _, c := range constructions {
			q := c.build(ids)
			checkShape(t, ids, q)
			checkAllPairs(t, ids, q)
			maxes[c.name] = q.Stats().Max
		}
		c := isqrtCeil(n)
		order := planeOrder(n)
		assert.LessOrEqual(t, maxes["grid"], 2*c-1, "N=%d grid", n)
		assert.Equal(t, gridMax(n), maxes["grid"], "N=%d grid", n)
		assert.LessOrEqual(t, maxes["plane"], order+1, "N=%d plane", n)
		assert.LessOrEqual(t, maxes["best"], min(maxes["grid"], maxes["plane"]), "N=%d best", n)
	}
}

// TestQuorumsLargeN samples pairs of large groups.
func TestQuorumsLargeN(t *testing.T) {
	t.Parallel()
	for _, n := range []int{500, 1000, 2000, 4000, 10000, 65534} {
		ids := seqIDs(0, n)
		for _, c := range constructions {
			if n == 65534 && c.name != "best" {
				continue // Best is the plane here; building it once is enough
			}
			t.Run(fmt.Sprintf("%s/N=%d", c.name, n), func(t *testing.T) {
				q := c.build(ids)
				checkShape(t, ids, q)
				checkSampledPairs(t, ids, q, 20000, 1)
				st := q.Stats()
				assert.LessOrEqual(t, st.Max, 2*isqrtCeil(n)-1)
				if c.name != "grid" {
					assert.LessOrEqual(t, st.Max, planeOrder(n)+1)
				}
			})
		}
	}
}

// TestQuorumSizeTargets pins the quorum sizes the swarm is sized for.
func TestQuorumSizeTargets(t *testing.T) {
	cases := []struct {
		n, maxK int
	}{
		{7, 3},    // the Fano plane: q = 2
		{13, 4},   // q = 3
		{57, 8},   // q = 7
		{21, 5},   // q = 4
		{73, 9},   // q = 8
		{91, 10},  // q = 9
		{250, 17}, // one radio network: q = 16
		{2000, 48},
		{65534, 257}, // q = 256
	}
	for _, c := range cases {
		st := Best(seqIDs(1, c.n)).Stats()
		assert.LessOrEqual(t, st.Max, c.maxK, "N=%d: %v", c.n, st)
		assert.LessOrEqual(t, st.Max, 2*isqrtCeil(c.n)-1, "N=%d: %v", c.n, st)
		assert.GreaterOrEqual(t, st.Min, 1)
	}
}

// TestSingerSets checks that the difference set behind ProjectivePlane is
// perfect for every prime-power order up to 257 (the constructions use up
// to 256, which covers N = 65534): its q+1 elements have q(q+1) = P−1
// distinct nonzero differences, so two lines D+s, D+s' share exactly one
// point, and so any two quorums of the plane intersect.
func TestSingerSets(t *testing.T) {
	orders := 0
	for q := 2; q <= 257; q++ {
		if !isPrimePower(q) {
			continue
		}
		orders++
		points := q*q + q + 1
		d := singerSet(q)
		require.Len(t, d, q+1, "q=%d", q)
		seen := make([]bool, points)
		for _, a := range d {
			for _, b := range d {
				if a == b {
					continue
				}
				diff := ((a-b)%points + points) % points
				require.False(t, seen[diff], "q=%d: difference %d twice", q, diff)
				seen[diff] = true
			}
		}
	}
	assert.Equal(t, 71, orders, "prime powers from 2 to 257") // 55 primes, 16 higher powers
}

// TestPlanesOfEveryOrder builds the full plane of every prime-power order
// up to 32 (N = q²+q+1, one point per drone) and checks all pairs: every
// quorum has q+1 members and any two meet in exactly one drone.
func TestPlanesOfEveryOrder(t *testing.T) {
	t.Parallel()
	for q := 2; q <= 32; q++ {
		if !isPrimePower(q) {
			continue
		}
		n := q*q + q + 1
		ids := seqIDs(1, n)
		quorums := ProjectivePlane(ids)
		checkShape(t, ids, quorums)
		words := (n + 63) / 64
		sets := make([][]uint64, n)
		for i, id := range ids {
			require.Len(t, quorums[id], q+1, "q=%d drone %d", q, id)
			sets[i] = make([]uint64, words)
			for _, m := range quorums[id] {
				k := int(m) - 1
				sets[i][k/64] |= 1 << (k % 64)
			}
		}
		for a := range n {
			for b := a + 1; b < n; b++ {
				common := 0
				for w := range words {
					common += bits.OnesCount64(sets[a][w] & sets[b][w])
				}
				if common != 1 {
					require.Failf(t, "lines do not meet once", "q=%d: quorums of %d %v and %d %v share %d", q, ids[a], quorums[ids[a]], ids[b], quorums[ids[b]], common)
				}
			}
		}
	}
}

// TestGalois checks the field axioms of GF(q) for every prime power up to
// 64 and for 256: addition and multiplication are commutative groups (0
// excluded for multiplication), multiplication distributes.
func TestGalois(t *testing.T) {
	for q := 2; q <= 256; q++ {
		if !isPrimePower(q) || (q > 64 && q != 256) {
			continue
		}
		f := newGalois(q)
		step := 1
		if q > 16 {
			step = q/16 + 1 // sampled: all triples of GF(256) would take 16M
		}
		for a := 0; a < q; a++ {
			require.Equal(t, 0, f.Add(a, f.Sub(0, a)), "q=%d: a + (−a), a=%d", q, a)
			if a != 0 {
				inverses := 0
				for b := 1; b < q; b++ {
					if f.Mul(a, b) == 1 {
						inverses++
					}
				}
				require.Equal(t, 1, inverses, "q=%d: inverses of %d", q, a)
			}
			for b := 0; b < q; b += step {
				require.Equal(t, f.Add(a, b), f.Add(b, a), "q=%d", q)
				require.Equal(t, f.Mul(a, b), f.Mul(b, a), "q=%d", q)
				for c := 0; c < q; c += step {
					require.Equal(t, f.Mul(a, f.Add(b, c)), f.Add(f.Mul(a, b), f.Mul(a, c)), "q=%d: %d(%d+%d)", q, a, b, c)
					require.Equal(t, f.Mul(a, f.Mul(b, c)), f.Mul(f.Mul(a, b), c), "q=%d", q)
					require.Equal(t, f.Add(a, f.Add(b, c)), f.Add(f.Add(a, b), c), "q=%d", q)
				}
			}
		}
	}
	p, k, ok := primePower(81)
	assert.Equal(t, []int{3, 4}, []int{p, k})
	assert.True(t, ok)
	for _, q := range []int{0, 1, 6, 12, 100} {
		assert.False(t, isPrimePower(q), "%d", q)
	}
}

// TestQuorumsArbitraryIDs: IDs need not be contiguous, sorted or unique.
func TestQuorumsArbitraryIDs(t *testing.T) {
	ids := []algorithms.NodeID{900, 3, 77, 3, 1200, 41, 5, 64000, 9, 10, 11, 250, 251}
	norm := normalizeIDs(ids)
	for _, c := range constructions {
		q := c.build(ids)
		checkShape(t, norm, q)
		checkAllPairs(t, norm, q)
		assert.Equal(t, norm, q.Members(), c.name)
	}
	assert.Empty(t, Best(nil))
	assert.Equal(t, QuorumStats{}, Best(nil).Stats())
}

// TestGridLayout pins the grid of docs/algorithms.md on N = 7: three columns,
// rows {1 2 3} {4 5 6} {7}.
func TestGridLayout(t *testing.T) {
	q := Grid(seqIDs(1, 7))
	want := Quorums{
		1: {1, 2, 3, 4, 7},
		2: {1, 2, 3, 5},
		3: {1, 2, 3, 6},
		4: {1, 4, 5, 6, 7},
		5: {2, 4, 5, 6},
		6: {3, 4, 5, 6},
		7: {1, 4, 7},
	}
	assert.Equal(t, want, q)
	assert.Equal(t, QuorumStats{Members: 7, Min: 3, Max: 5, Mean: 29.0 / 7}, q.Stats())
}

func BenchmarkBest65534(b *testing.B) {
	ids := seqIDs(0, 65534)
	for b.Loop() {
		Best(ids)
	}
}

// Best picks the projective plane for a full radio network of 250 drones.
func ExampleBest() {
	ids := make([]algorithms.NodeID, 250)
	for i := range ids {
		ids[i] = algorithms.NodeID(i + 1)
	}
	fmt.Println(Best(ids).Stats())
	fmt.Println(Grid(ids).Stats())
	// Output:
	// N=250 quorum_size min=16 max=17 mean=16.91
	// N=250 quorum_size min=25 max=31 mean=30.40
}
