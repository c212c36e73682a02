package election_test

import (
	"fmt"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/algtest"
	"github.com/skyquorum/skyquorum/algorithms/election"
)

// Three drones run the bully algorithm; the highest crashes, the failure
// detector of the others reports it, and they elect the next one in a new
// term.
func Example() {
	members := []algorithms.NodeID{1, 2, 3}
	drones := map[algorithms.NodeID]*election.Bully{}
	cores := map[algorithms.NodeID]algorithms.Core{}
	for _, id := range members {
		c, err := election.NewBully(election.BullyConfig{ID: id, Members: members, Timeout: 2, AutoCampaign: true})
		if err != nil {
			fmt.Println(err)
			return
		}
		drones[id], cores[id] = c, c
	}
	net := algtest.New(1, cores)
	drones[1].Campaign()
	net.RunTicks(10)
	l, term, _ := drones[1].Leader()
	fmt.Printf("leader %d in term %d\n", l, term)

	net.Crash(3)
	drones[1].PeerDown(3)
	drones[2].PeerDown(3)
	net.RunTicks(10)
	l, term, _ = drones[1].Leader()
	fmt.Printf("leader %d in term %d\n", l, term)
	// Output:
	// leader 3 in term 1
	// leader 2 in term 2
}

// A drone stores Persist's bytes after every Ready that changed them and
// builds its core with Restore after a restart, so that its next campaign
// is in a term it has never used.
func ExampleRestore() {
	members := []algorithms.NodeID{1, 2}
	c, _ := election.NewRing(election.RingConfig{ID: 1, Members: members})
	c.PeerDown(2)
	c.Campaign() // alone: elected in term 1
	c.Campaign() // and again in term 2
	state := c.Persist()

	restarted, err := election.NewRing(election.RingConfig{ID: 1, Members: members}, election.Restore(state))
	if err != nil {
		fmt.Println(err)
		return
	}
	restarted.Campaign()
	fmt.Println(restarted.Ready().Events[0])

	_, err = election.NewRing(election.RingConfig{ID: 1, Members: members}, election.Restore(state[:3]))
	fmt.Println(err)
	// Output:
	// {3}
	// ring: restore drone 1: election: malformed persisted state: 3 bytes, want 6 (pass the bytes Persist returned)
}
