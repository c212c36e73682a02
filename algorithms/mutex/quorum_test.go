package mutex

import (
	"fmt"
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
		{250, 18}, // one radio network: q = 17
		{2000, 48},
		{65534, 258},
	}
	for _, c := range cases {
		st := Best(seqIDs(1, c.n)).Stats()
		assert.LessOrEqual(t, st.Max, c.maxK, "N=%d: %v", c.n, st)
		assert.LessOrEqual(t, st.Max, 2*isqrtCeil(c.n)-1, "N=%d: %v", c.n, st)
		assert.GreaterOrEqual(t, st.Min, 1)
	}
}

// TestSingerSets checks that the difference set behind ProjectivePlane is
// perfect for every prime order the constructions use (up to 257, which
// covers N = 65534): its q+1 elements have q(q+1) = P−1 distinct nonzero
// differences, so two lines D+s, D+s' share exactly one point.
func TestSingerSets(t *testing.T) {
	for q := 2; q <= 257; q++ {
		if !isPrime(q) {
			continue
		}
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
	// N=250 quorum_size min=17 max=18 mean=17.77
	// N=250 quorum_size min=25 max=31 mean=30.40
}
