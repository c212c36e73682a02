package station_test

import (
	"fmt"

	"github.com/skyquorum/skyquorum/cmd/groundstation/station"
	"github.com/skyquorum/skyquorum/radio/link"
)

// A station joins a network (here an in-memory one) and lists the
// expected drones before it hears them.
func Example() {
	hub := link.NewHub()
	l, err := hub.Join(station.SystemID)
	if err != nil {
		panic(err)
	}
	st, err := station.Open(station.Config{Link: l, Key: testKey, Network: 1, Members: []uint16{1, 2, 3}, Logger: quiet()})
	if err != nil {
		panic(err)
	}
	defer st.Close()
	snap := st.Snapshot()
	leader, _ := st.Leader()
	fmt.Println("issuer", st.Issuer(), "leader", leader, "status period", snap.StatusPeriod, "live", snap.Live)
	for _, d := range snap.Drones {
		fmt.Println("drone", d.ID, "reported", d.Reported)
	}
	// Output:
	// issuer 65000 leader 0 status period 1s live 5s
	// drone 1 reported false
	// drone 2 reported false
	// drone 3 reported false
}
