package cmdlog_test

import (
	"fmt"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/algtest"
	"github.com/skyquorum/skyquorum/algorithms/cmdlog"
)

// Five drones, a committee of three: the highest drone is elected, runs
// its recovery and sequences two show commands, which every drone applies
// in one order after the term's no-op.
func Example() {
	nodes := map[algorithms.NodeID]*cmdlog.Node{}
	cores := map[algorithms.NodeID]algorithms.Core{}
	for _, id := range []algorithms.NodeID{1, 2, 3, 4, 5} {
		n, err := cmdlog.NewNode(cmdlog.NodeConfig{Log: cmdlog.Config{ID: id, Members: []algorithms.NodeID{1, 2, 3, 4, 5}, Committee: 3}})
		if err != nil {
			fmt.Println(err)
			return
		}
		nodes[id], cores[id] = n, n
	}
	net := algtest.New(1, cores)
	net.OnEvent = func(id algorithms.NodeID, ev algorithms.Event) {
		if a, ok := ev.(cmdlog.Applied); ok && id == 1 {
			fmt.Printf("drone 1 applies %d: %s %q\n", a.Index, a.Entry.Kind, a.Entry.Data)
		}
	}
	net.RunTicks(3)
	fmt.Println("committee", nodes[1].Log().Committee())
	for _, c := range []string{"takeoff", "red"} {
		if _, err := nodes[5].Propose([]byte(c)); err != nil {
			fmt.Println(err)
		}
	}
	net.RunTicks(3)
	// Output:
	// drone 1 applies 1: noop ""
	// committee [3 4 5]
	// drone 1 applies 2: command "takeoff"
	// drone 1 applies 3: command "red"
}
