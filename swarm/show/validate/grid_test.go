package validate

import (
	"math/rand/v2"
	"testing"

	"github.com/skyquorum/skyquorum/swarm/show"
)

// The grid yields every pair closer than the cell size, once, as brute
// force does, on clustered points around the origin (negative cells
// included), moved between builds.
func TestGridFindsEveryPair(t *testing.T) {
	const seed = 7
	rng := rand.New(rand.NewPCG(seed, 0))
	n := 400
	pos := make([]show.Vec3, n)
	for i := range pos {
		pos[i] = show.Vec3{X: rng.Float64()*20 - 10, Y: rng.Float64()*20 - 10, Z: rng.Float64()*6 - 3}
	}
	g := newGrid(n)
	for round := range 5 {
		size := 0.8 + 0.3*float64(round)
		g.build(pos, size)
		got := map[[2]int]int{}
		g.pairs(pos, func(i, j int, d2 float64) {
			if i >= j {
				t.Fatalf("seed=%d: pair (%d, %d) out of order", seed, i, j)
			}
			got[[2]int{i, j}]++
		})
		want := 0
		for i := range n {
			for j := i + 1; j < n; j++ {
				if pos[i].Dist(pos[j]) < size {
					want++
					if got[[2]int{i, j}] != 1 {
						t.Fatalf("seed=%d round %d: pair (%d, %d) at %.3f m found %d times, want 1", seed, round, i, j, pos[i].Dist(pos[j]), got[[2]int{i, j}])
					}
				}
			}
		}
		if len(got) != want {
			t.Fatalf("seed=%d round %d: %d pairs, want %d", seed, round, len(got), want)
		}
		for i := range pos {
			pos[i] = pos[i].Add(show.Vec3{X: rng.Float64() - 0.5, Y: rng.Float64() - 0.5, Z: rng.Float64() - 0.5})
		}
	}
}
