package algorithms_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/skyquorum/skyquorum/algorithms"
)

// A sorted member list is shared, and appending to it leaves the caller's
// array alone; an unsorted one is copied, and the caller's order kept.
func TestSorted(t *testing.T) {
	backing := []algorithms.NodeID{1, 2, 3, 9}
	sorted := backing[:3]
	got := algorithms.Sorted(sorted)
	assert.Same(t, &sorted[0], &got[0], "a sorted list is kept")
	_ = append(got, 4)
	assert.Equal(t, algorithms.NodeID(9), backing[3], "appending does not write into the caller's array")

	unsorted := []algorithms.NodeID{3, 1, 2}
	got = algorithms.Sorted(unsorted)
	assert.Equal(t, []algorithms.NodeID{1, 2, 3}, got)
	assert.Equal(t, []algorithms.NodeID{3, 1, 2}, unsorted, "the caller's list is not sorted in place")
}
