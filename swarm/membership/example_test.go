package membership_test

import (
	"fmt"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/swarm/membership"
)

// The heartbeat period of a full radio network, from the 5% budget.
func Example() {
	ids := make([]algorithms.NodeID, 250)
	for i := range ids {
		ids[i] = algorithms.NodeID(i + 1)
	}
	m, err := membership.New(membership.Config{ID: 1, Members: ids, TickNanos: 10_000_000})
	if err != nil {
		panic(err)
	}
	fmt.Printf("period %.2f s, suspect after %.1f s of silence\n",
		float64(m.PeriodTicks())/100, float64(m.TimeoutTicks())/100)
	// Output: period 32.12 s, suspect after 282.7 s of silence
}
