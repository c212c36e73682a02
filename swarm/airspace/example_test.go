package airspace_test

import (
	"fmt"

	"github.com/skyquorum/skyquorum/swarm/airspace"
)

// The cells a drone must lock for a flight, in the order it takes them.
func ExampleGrid_Path() {
	g, err := airspace.NewGrid(airspace.Point{X: 0, Y: 0, Z: -30}, airspace.Point{X: 10, Y: 10, Z: 10}, [3]int{20, 20, 3})
	if err != nil {
		panic(err)
	}
	cells, err := g.Path(airspace.Point{X: 35, Y: 5, Z: -5}, airspace.Point{X: 5, Y: 5, Z: -5}, airspace.Point{X: 5, Y: 25, Z: -5})
	if err != nil {
		panic(err)
	}
	fmt.Println(cells)
	// Output: [800 801 802 803 820 840]
}
