package hub_test

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/skyquorum/skyquorum/sitl/hub"
)

// A hub with one network: drones send to its address, and the control
// commands split and heal the network.
func Example() {
	h, err := hub.Start(hub.Config{Loss: 0.05, Seed: 7, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer h.Close()
	fmt.Println(strings.HasPrefix(h.Addr(1), "127.0.0.1:"))
	fmt.Println(h.Command("partition 1 1,2 3"))
	fmt.Println(h.Command("heal 1"))
	fmt.Println(h.Command("heal 2"))
	// Output:
	// true
	// ok
	// ok
	// error: network "2": give a network number 1–1
}
