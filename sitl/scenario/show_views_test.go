package scenario

import (
	"reflect"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/mutex"
	"github.com/skyquorum/skyquorum/swarm"
)

// Drones that apply the same view changes to the same quorums get one
// copy of each result, equal to what swarm.Substitute builds; another
// change, or the same change to other quorums, gets its own.
func TestSharedViews(t *testing.T) {
	ids := make([]algorithms.NodeID, 250)
	for i := range ids {
		ids[i] = algorithms.NodeID(i + 1)
	}
	base := mutex.Best(ids)
	v := newSharedViews()
	a := v.substitute(base, 7, 9)
	b := v.substitute(base, 7, 9)
	assert.Equal(t, reflect.ValueOf(a).Pointer(), reflect.ValueOf(b).Pointer(), "one copy")
	assert.Equal(t, swarm.Substitute(base, 7, 9), a)
	a2 := v.substitute(a, 9, 11)
	assert.Equal(t, reflect.ValueOf(a2).Pointer(), reflect.ValueOf(v.substitute(b, 9, 11)).Pointer())
	assert.Equal(t, swarm.Substitute(swarm.Substitute(base, 7, 9), 9, 11), a2)
	other := v.substitute(base, 8, 9)
	assert.NotEqual(t, reflect.ValueOf(a).Pointer(), reflect.ValueOf(other).Pointer())
	assert.NotEqual(t, reflect.ValueOf(a).Pointer(), reflect.ValueOf(v.substitute(mutex.Best(ids), 7, 9)).Pointer())
}
