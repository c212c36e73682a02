package rth_test

import (
	"fmt"

	"github.com/skyquorum/skyquorum/swarm/airspace"
	"github.com/skyquorum/skyquorum/swarm/rth"
	"github.com/skyquorum/skyquorum/swarm/show/demo"
)

// A drone of the demo show leaves in the wall and flies home; the runner
// locks the cells of its path before it flies.
func Example() {
	s, _ := demo.New(20)
	planner, _ := rth.New(s)
	tracks, _ := s.Tracks()
	at := s.Cues[3].At // the ring, on the wall
	pos, vel := tracks[19].Position(at)
	path, err := planner.Plan(19, pos, vel, at, rth.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	grid, _ := airspace.NewGrid(airspace.Point{X: -40, Y: -40, Z: -1}, airspace.Point{X: 5, Y: 5, Z: 5}, [3]int{16, 16, 8})
	cells, _ := rth.Cells(grid, path)
	fmt.Printf("leaves at %v from %v, lands at %v at %v\n", path.Start(), pos, path.Target, path.End().Round(100e6))
	fmt.Printf("layer %.1f m, %d cells to lock\n", path.Layer, len(cells))
	// Output:
	// leaves at 30s from (0.000, -6.000, 14.000), lands at (3.000, -6.000, 0.000) at 43s
	// layer 14.0 m, 4 cells to lock
}
