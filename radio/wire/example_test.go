package wire_test

import (
	"fmt"
	"time"

	"github.com/skyquorum/skyquorum/radio/dialect"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/radio/wire"
)

// A frame signed by one drone is accepted once by another; the same bytes
// heard again are a replay.
func ExampleReader() {
	rw, err := dialect.NewReadWriter()
	if err != nil {
		panic(err)
	}
	key := wire.Key{1, 2, 3}
	now := time.Date(2026, 6, 1, 20, 0, 0, 0, time.UTC)
	signer := wire.NewSigner(wire.SignerConfig{})
	ts, err := signer.Next(now, nil)
	if err != nil {
		panic(err)
	}
	enc := wire.NewEncoder(rw, 7, 191)
	frame, err := enc.Encode(&swarm.MessageSwarmEmergency{NetworkId: 1, SrcVehicle: 7, DstVehicle: 0xFFFF,
		Command: swarm.SWARM_EMERGENCY_COMMAND_LAND}, &wire.Signature{Key: &key, Timestamp: ts})
	if err != nil {
		panic(err)
	}

	r := wire.NewReader(wire.ReaderConfig{
		Dialect:  rw,
		Verifier: wire.NewVerifier(wire.VerifierConfig{Key: key, Network: 1}),
	})
	r.Feed(frame)
	r.Feed(frame)
	for {
		f, ok := r.Next(wire.TimestampOf(now))
		if !ok {
			break
		}
		fmt.Println("accepted", f.Message.(*swarm.MessageSwarmEmergency).Command, "from system", f.SystemID)
	}
	fmt.Println("replays rejected:", r.Counters().Rejected(wire.Replay))
	// Output:
	// accepted SWARM_EMERGENCY_COMMAND_LAND from system 7
	// replays rejected: 1
}
