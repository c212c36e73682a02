package clock

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Lamport's clock condition: a send happens before its receive, so the
// receive's timestamp is larger.
func TestLamportClockCondition(t *testing.T) {
	var a, b Lamport
	a.Tick()
	a.Tick()
	sent := a.Tick()
	require.Equal(t, uint32(3), sent)
	got := b.Witness(sent)
	assert.Greater(t, got, sent)
	// A receiver already ahead keeps its own time plus one.
	for range 10 {
		b.Tick()
	}
	assert.Equal(t, b.Now()+1, b.Witness(1))
}

func TestStampOrder(t *testing.T) {
	cases := []struct {
		a, b Stamp
		want int
	}{
		{Stamp{1, 5}, Stamp{2, 1}, -1},
		{Stamp{2, 1}, Stamp{2, 5}, -1},
		{Stamp{2, 5}, Stamp{2, 5}, 0},
		{Stamp{3, 1}, Stamp{2, 9}, 1},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, c.a.Compare(c.b), "%v vs %v", c.a, c.b)
		assert.Equal(t, c.want < 0, c.a.Less(c.b))
	}
}

func TestVectorCompare(t *testing.T) {
	cases := []struct {
		a, b Vector
		want Order
	}{
		{Vector{1, 0, 0}, Vector{1, 0, 0}, Equal},
		{Vector{1, 0, 0}, Vector{1, 1, 0}, Before},
		{Vector{2, 1, 0}, Vector{1, 1, 0}, After},
		{Vector{1, 0, 0}, Vector{0, 1, 0}, Concurrent},
	}
	for _, c := range cases {
		assert.Equal(t, c.want, c.a.Compare(c.b), "%v vs %v", c.a, c.b)
	}
	assert.True(t, Vector{0, 1}.HappenedBefore(Vector{1, 1}))
	assert.Equal(t, "[1 2 3]", Vector{1, 2, 3}.String())
}

// The causal delivery rule of the textbook (Coulouris et al., "Distributed Systems"): deliver m from j at
// i when V_m[j] = V_i[j]+1 and V_m[k] ≤ V_i[k] for k ≠ j.
func TestVectorDeliverable(t *testing.T) {
	v := Vector{2, 1, 0}
	assert.True(t, v.Deliverable(Vector{2, 2, 0}, 1))
	assert.False(t, v.Deliverable(Vector{2, 3, 0}, 1), "gap in the sender's sequence")
	assert.False(t, v.Deliverable(Vector{2, 2, 1}, 1), "depends on an undelivered message of 2")
	assert.False(t, v.Deliverable(Vector{2, 1, 0}, 1), "already delivered")
	assert.False(t, v.Deliverable(Vector{2, 2}, 1), "wrong length")
}

func TestVectorMergeTick(t *testing.T) {
	a := NewVector(3)
	a.Tick(0)
	b := Vector{0, 4, 1}
	c := a.Clone()
	c.Merge(b)
	assert.Equal(t, Vector{1, 4, 1}, c)
	assert.Equal(t, Vector{1, 0, 0}, a, "clone is independent")
	assert.Panics(t, func() { a.Merge(Vector{1}) })
}
