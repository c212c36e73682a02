package demo_test

import (
	"fmt"

	"github.com/skyquorum/skyquorum/swarm/show/demo"
)

// The demo show for 50 drones: its length, limits and cues.
func ExampleNew() {
	s, err := demo.New(50)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d drones, %v, at most %.0f m high, %.0f m apart\n", len(s.Drones), s.Duration(), s.Limits.MaxAltitude, s.Limits.MinDistance)
	for _, c := range s.Cues {
		fmt.Printf("%-8s %v\n", c.Name, c.At)
	}
	// Output:
	// 50 drones, 1m30s, at most 30 m high, 2 m apart
	// takeoff  0s
	// wall     14.1s
	// heart    14.1s
	// ring     29.7s
	// wave     45.3s
	// descent  1m7.62s
	// landing  1m21.06s
}
