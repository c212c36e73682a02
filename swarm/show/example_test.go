package show_test

import (
	"fmt"

	"github.com/skyquorum/skyquorum/swarm/command"
	"github.com/skyquorum/skyquorum/swarm/show"
)

// A drone plays the show commands of its log, then asks what to do at
// several swarm times.
func Example() {
	p := show.NewPlayer()
	for _, line := range []string{"LOAD 7 0x1122334455667788", "ARM", "TAKEOFF 10", "START 10", "PAUSE 20", "RESUME 25", "PAUSE 24"} {
		c, err := command.Parse(line)
		if err != nil {
			panic(err)
		}
		if err := p.Apply(c); err != nil {
			fmt.Println(err)
		}
	}
	for _, sec := range []int64{5, 15, 22, 30} {
		t := sec * 1_000_000_000
		st, ok := p.ShowTime(t)
		fmt.Printf("swarm %2ds: %-8s show time %s %v\n", sec, p.Phase(t), command.Seconds(st), ok)
	}
	// Output:
	// show: PAUSE at 24.000s refused in phase RUNNING: before the last RESUME at 25.000s: show: command refused
	// swarm  5s: AIRBORNE show time 0.000s false
	// swarm 15s: RUNNING  show time 5.000s true
	// swarm 22s: PAUSED   show time 10.000s true
	// swarm 30s: RUNNING  show time 15.000s true
}
