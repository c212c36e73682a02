package skyc_test

import (
	"bytes"
	"fmt"
	"time"

	"github.com/skyquorum/skyquorum/swarm/show"
	"github.com/skyquorum/skyquorum/swarm/show/skyc"
)

// A show exported to .skyc and imported back.
func Example() {
	s := &show.Show{Title: "hop", Drones: []show.Drone{{
		Name: "d1", Takeoff: 0, Landing: 4 * time.Second,
		Path: []show.Keyframe{
			{At: 0, Pos: show.Vec3{}},
			{At: 2 * time.Second, Pos: show.Vec3{Z: 3}},
			{At: 4 * time.Second, Pos: show.Vec3{}, Ctrl: []show.Vec3{{X: 1, Z: 3}}},
		},
		Lights: show.Program(nil).Fade(show.RGB{R: 255}, 2*time.Second),
	}}}
	var file bytes.Buffer
	if err := skyc.Export(&file, s); err != nil {
		panic(err)
	}
	got, warnings, err := skyc.Import(bytes.NewReader(file.Bytes()), int64(file.Len()), skyc.Options{})
	if err != nil {
		panic(err)
	}
	tr, _ := got.Track(0)
	st := tr.At(time.Second)
	fmt.Println(got.Title, len(got.Drones), "drone,", len(warnings), "warnings")
	fmt.Println("at 1 s:", st.Pos, st.Colour)
	// Output:
	// hop 1 drone, 0 warnings
	// at 1 s: (0.000, 0.000, 1.500) #800000
}
