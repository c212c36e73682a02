package command_test

import (
	"fmt"

	"github.com/skyquorum/skyquorum/swarm/command"
)

// An operator's line becomes the bytes of a log entry, and every drone
// reads them back.
func Example() {
	c, err := command.Parse("start 12.5")
	if err != nil {
		panic(err)
	}
	data := command.Encode(c)
	fmt.Printf("%x\n", data)

	back, _ := command.Decode(data)
	fmt.Println(back, command.IsSystem(back.Kind()))

	_, err = command.Decode([]byte{0x04, 0x00})
	fmt.Println(err)
	// Output:
	// 0400000002e90edd00
	// START at 12.500s false
	// command: malformed command: START of 2 bytes, expected 9
}
