package multicast_test

import (
	"fmt"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/algtest"
	"github.com/skyquorum/skyquorum/algorithms/multicast"
)

// Three drones, total order by a sequencer (drone 1): drones 2 and 3
// multicast at once, and every drone delivers both in the same order.
func ExampleNewSequencer() {
	members := []algorithms.NodeID{1, 2, 3}
	cores := map[algorithms.NodeID]algorithms.Core{}
	for _, id := range members {
		c, err := multicast.NewSequencer(multicast.Config{ID: id, Members: members}, 1)
		if err != nil {
			panic(err)
		}
		cores[id] = c
	}
	net := algtest.New(1, cores)
	for _, id := range []algorithms.NodeID{2, 3} {
		if _, err := cores[id].(multicast.Multicast).Broadcast([]byte(fmt.Sprintf("light show cue from %d", id))); err != nil {
			panic(err)
		}
	}
	net.RunTicks(100)
	got := map[algorithms.NodeID][]string{}
	for _, e := range net.Events {
		if d, ok := e.Event.(multicast.Delivered); ok {
			got[e.ID] = append(got[e.ID], fmt.Sprintf("%v %q", d.ID, d.Payload))
		}
	}
	for _, id := range members {
		fmt.Printf("drone %d: %v\n", id, got[id])
	}
	fmt.Println("data frames:", net.ByKind["DATA"]/2+net.ByKind["ORDER"]/2)
	// Output:
	// drone 1: [3.1 "light show cue from 3" 2.1 "light show cue from 2"]
	// drone 2: [3.1 "light show cue from 3" 2.1 "light show cue from 2"]
	// drone 3: [3.1 "light show cue from 3" 2.1 "light show cue from 2"]
	// data frames: 4
}
