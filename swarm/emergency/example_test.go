package emergency_test

import (
	"fmt"

	"github.com/skyquorum/skyquorum/swarm/emergency"
)

// The ground station signs LAND; a drone obeys it once, and rejects a
// tampered copy.
func Example() {
	key := []byte("the swarm key, 32 bytes long....")
	drone, _ := emergency.New(emergency.Config{ID: 7, Key: key})
	land := emergency.Sign(key, 255, 1, emergency.Land)

	_ = drone.Step(255, emergency.Emergency{Cmd: land})
	_ = drone.Step(255, emergency.Emergency{Cmd: land}) // heard again
	for _, ev := range drone.Ready().Events {
		if o, ok := ev.(emergency.Obey); ok {
			fmt.Println("obey", o.Cmd.Op, o.Cmd.ID)
		}
	}

	tampered := land
	tampered.Op = emergency.Return
	fmt.Println(drone.Step(255, emergency.Emergency{Cmd: tampered}))
	// Output:
	// obey LAND 1
	// emergency: RETURN 1 of 255 from 255: emergency: forged command
}
