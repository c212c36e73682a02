package mutex

import "slices"

// sortedResources returns the keys of m in increasing order, so that a core
// iterating a map stays deterministic.
func sortedResources[V any](m map[Resource]V) []Resource {
	out := make([]Resource, 0, len(m))
	for r := range m {
		out = append(out, r)
	}
	slices.Sort(out)
	return out
}
