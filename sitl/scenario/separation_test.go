package scenario

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/sitl/sim"
	"github.com/skyquorum/skyquorum/sitl/vehicle"
)

// flown returns a vehicle hovering at p.
func flown(t *testing.T, p vehicle.Point) *vehicle.Vehicle {
	t.Helper()
	v := vehicle.New(vehicle.Point{X: p.X, Y: p.Y}, vehicle.Limits{SpeedUp: 1000})
	require.NoError(t, v.Arm())
	require.NoError(t, v.Goto(p))
	v.Advance(1)
	return v
}

// The grid finds the same close pairs and the same smallest distance
// below its cell size as comparing every pair does.
func TestSeparationMatchesEveryPair(t *testing.T) {
	for seed := uint64(1); seed <= 5; seed++ {
		rng := rand.New(rand.NewPCG(seed, 0))
		vs := []*vehicle.Vehicle{nil}
		for range 300 {
			vs = append(vs, flown(t, vehicle.Point{X: rng.Float64()*60 - 30, Y: rng.Float64() * 60, Z: 1 + rng.Float64()*8}))
		}
		controlled := make([]bool, len(vs))
		for i := range vs {
			controlled[i] = i%7 != 1
		}
		sp := newSeparation(2)
		sp.check(vs, controlled)
		want, bad, risk := math.Inf(1), 0, 0
		for i := 1; i < len(vs); i++ {
			for j := i + 1; j < len(vs); j++ {
				d := vs[i].Position().Dist(vs[j].Position())
				want = min(want, d)
				if d < 2 {
					if !controlled[i] || !controlled[j] {
						risk++
					} else {
						bad++
					}
				}
			}
		}
		require.Less(t, want, separationBound, "seed=%d", seed)
		require.NotNil(t, sp.minSeparation(), "seed=%d", seed)
		assert.InDelta(t, want, *sp.minSeparation(), 1e-12, "seed=%d", seed)
		assert.Positive(t, bad, "seed=%d", seed)
		assert.Equal(t, bad, len(sp.violations), "seed=%d", seed)
		assert.Equal(t, risk, len(sp.atRisk), "seed=%d", seed)
	}
	// Two vehicles farther apart than the bound: no smallest distance.
	sp := newSeparation(2)
	sp.check([]*vehicle.Vehicle{nil, flown(t, vehicle.Point{Z: 5}), flown(t, vehicle.Point{X: 6, Z: 5}), vehicle.New(vehicle.Point{X: 1}, vehicle.Limits{})}, make([]bool, 4))
	assert.Nil(t, sp.minSeparation())
}

// Two vehicles put 1 m apart fly the show side by side under their
// drones' control: the run counts their pair as a separation violation
// and fails, with min_separation_m the 1 m between them.
func TestShowSeparationViolation(t *testing.T) {
	plan, err := DemoShow(10)
	require.NoError(t, err)
	// Move drone 2's whole part towards drone 3's, to 1 m from it.
	d2, d3 := &plan.Drones[1], plan.Drones[2]
	gap := d3.Home.Sub(d2.Home)
	off := gap.Scale((gap.Norm() - 1) / gap.Norm())
	d2.Home, d2.Land = d2.Home.Add(off), d2.Land.Add(off)
	for k := range d2.Path {
		d2.Path[k].Pos = d2.Path[k].Pos.Add(off)
		for c := range d2.Path[k].Ctrl {
			d2.Path[k].Ctrl[c] = d2.Path[k].Ctrl[c].Add(off)
		}
	}
	r, err := RunShow(Show{
		Common: Common{Drones: 10, Seed: 1}, Networks: 1, Duration: 60 * sim.Second, Settle: 10 * sim.Second, Plan: plan,
	})
	require.NoError(t, err)
	assert.Equal(t, 1, r.SeparationViolations, "seed=1")
	assert.Zero(t, r.SeparationAtRisk, "seed=1")
	require.NotNil(t, r.MinSeparationM, "seed=1")
	assert.InDelta(t, 1, *r.MinSeparationM, 0.05, "seed=1")
	assert.True(t, r.Failed(), "seed=1")
	assert.Contains(t, Failures(r), "separation_violations 1")
}
