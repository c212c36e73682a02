package timesync_test

import (
	"fmt"

	"github.com/skyquorum/skyquorum/swarm/timesync"
)

// One exchange between a follower whose clock is 500 ms behind the
// leader's; the driver passes each drone's clock before Step and Tick.
func Example() {
	const ms = 1_000_000
	leader, _ := timesync.New(timesync.Config{ID: 1, Leader: 1})
	follower, _ := timesync.New(timesync.Config{ID: 2, Leader: 1, PollTicks: 1})

	follower.SetClock(1000 * ms)
	follower.Tick()
	req := follower.Ready().Sends[0].Msg

	leader.SetClock(1500*ms + 6_597_222) // the request's time on air later
	_ = leader.Step(2, req)
	rep := leader.Ready().Sends[0].Msg

	follower.SetClock(1000*ms + 6_597_222 + 7_986_111) // and the reply's
	_ = follower.Step(1, rep)
	fmt.Println(follower.Ready().Events)
	fmt.Println(follower.SwarmTime(2000*ms) / ms)
	// Output:
	// [{500000000}]
	// 2500
}
