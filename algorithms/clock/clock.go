// Package clock holds logical clocks: Lamport's scalar clock and vector
// clocks (Lamport 1978; Mattern and Fidge 1988).
//
// Both are plain values without goroutines or wall time, so protocol cores
// embed them directly.
package clock

import (
	"fmt"
	"slices"
	"strings"
)

// Lamport is a Lamport clock: Tick before every local event or send,
// Witness on every receive. If a happened-before b then L(a) < L(b).
type Lamport struct {
	t uint32
}

// Now returns the current value without advancing it.
func (l *Lamport) Now() uint32 { return l.t }

// Tick advances the clock for a local event or a send and returns the new
// timestamp.
func (l *Lamport) Tick() uint32 {
	l.t++
	return l.t
}

// Witness merges a received timestamp: the clock becomes max(own, ts)+1,
// and the new value is returned.
func (l *Lamport) Witness(ts uint32) uint32 {
	l.t = max(l.t, ts) + 1
	return l.t
}

// Stamp is a Lamport timestamp made total by the drone ID, the order used
// by Ricart–Agrawala and Maekawa: (T, ID) < (T', ID') when T < T', or
// T = T' and ID < ID'.
type Stamp struct {
	T  uint32
	ID uint16
}

// Less reports whether s is ordered before o.
func (s Stamp) Less(o Stamp) bool {
	if s.T != o.T {
		return s.T < o.T
	}
	return s.ID < o.ID
}

// Compare returns -1, 0 or +1 as s is before, equal to or after o.
func (s Stamp) Compare(o Stamp) int {
	switch {
	case s.Less(o):
		return -1
	case o.Less(s):
		return 1
	}
	return 0
}

// Vector is a vector clock over a fixed group of n processes indexed
// 0…n−1. V[i] counts the events of process i that the owner knows of.
type Vector []uint32

// NewVector returns a zero vector clock for n processes.
func NewVector(n int) Vector { return make(Vector, n) }

// Clone returns an independent copy.
func (v Vector) Clone() Vector { return slices.Clone(v) }

// Tick counts one local event of process i.
func (v Vector) Tick(i int) { v[i]++ }

// Merge sets v to the element-wise maximum of v and o. Vectors of
// different lengths are a programming error.
func (v Vector) Merge(o Vector) {
	if len(v) != len(o) {
		panic(fmt.Sprintf("clock: merge of vectors of length %d and %d", len(v), len(o)))
	}
	for i, x := range o {
		v[i] = max(v[i], x)
	}
}

// Order is the relation between two vector timestamps.
type Order int

// Relations between vector timestamps.
const (
	Equal Order = iota
	Before
	After
	Concurrent
)

// String names the relation.
func (o Order) String() string {
	return [...]string{"equal", "before", "after", "concurrent"}[o]
}

// Compare returns how v relates to o: Before when v happened-before o
// (v ≤ o element-wise and v ≠ o), After for the converse, Equal or
// Concurrent otherwise.
func (v Vector) Compare(o Vector) Order {
	if len(v) != len(o) {
		panic(fmt.Sprintf("clock: compare of vectors of length %d and %d", len(v), len(o)))
	}
	less, greater := false, false
	for i := range v {
		switch {
		case v[i] < o[i]:
			less = true
		case v[i] > o[i]:
			greater = true
		}
	}
	switch {
	case less && greater:
		return Concurrent
	case less:
		return Before
	case greater:
		return After
	}
	return Equal
}

// HappenedBefore reports whether v happened-before o.
func (v Vector) HappenedBefore(o Vector) bool { return v.Compare(o) == Before }

// Deliverable reports whether a message stamped m by process j may be
// delivered by a process whose clock is v under causal order:
// m[j] = v[j]+1 and m[k] ≤ v[k] for every k ≠ j.
func (v Vector) Deliverable(m Vector, j int) bool {
	if len(v) != len(m) {
		return false
	}
	for k := range v {
		if k == j {
			if m[k] != v[k]+1 {
				return false
			}
		} else if m[k] > v[k] {
			return false
		}
	}
	return true
}

// String formats v as [a b c].
func (v Vector) String() string {
	var b strings.Builder
	b.WriteByte('[')
	for i, x := range v {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprint(&b, x)
	}
	b.WriteByte(']')
	return b.String()
}
