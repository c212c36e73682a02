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

// A leader whose clock is 40 ms ahead of GPS time: once its GPS readings
// span 30 s it closes the gap at GPSSlewPPM (here 1000 ppm: 1 ms a
// second), and holds it where it is while a show needs it.
func ExampleTimeSync_SetGPSTime() {
	const s = int64(1_000_000_000)
	leader, _ := timesync.New(timesync.Config{ID: 1, Leader: 1, GPSSlewPPM: 1000})
	gps := func(at int64) { leader.SetGPSTime(at+40e6, at) } // GPS time at, local clock at+40 ms
	for at := s; at <= 41*s; at += s {
		gps(at)
	}
	gap, _ := leader.GPSGap()
	fmt.Println(gap/1e6, "ms after 41 s")
	leader.HoldGPSGap(true) // a START applied
	for at := 42 * s; at <= 80*s; at += s {
		gps(at)
	}
	gap, _ = leader.GPSGap()
	fmt.Println(gap/1e6, "ms, held, after 80 s")
	leader.HoldGPSGap(false) // the show is over
	for at := 81 * s; at <= 120*s; at += s {
		gps(at)
	}
	gap, _ = leader.GPSGap()
	fmt.Println(gap/1e6, "ms after 120 s")
	// Output:
	// 30 ms after 41 s
	// 30 ms, held, after 80 s
	// 0 ms after 120 s
}
