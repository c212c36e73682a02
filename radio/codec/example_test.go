package codec_test

import (
	"fmt"

	"github.com/skyquorum/skyquorum/algorithms/mutex"
	"github.com/skyquorum/skyquorum/radio/arq"
	"github.com/skyquorum/skyquorum/radio/codec"
)

// A reliable delivery frame carrying a central server REQUEST becomes one
// SWARM_DATA message, and back.
func ExampleCodec_EncodeFrame() {
	c, err := codec.New(codec.Config{Network: 1})
	if err != nil {
		panic(err)
	}
	msgs, err := c.EncodeFrame(&arq.Frame{
		From: 2, Inc: 1,
		Entries: []arq.Entry{{To: 1, Seq: 1, Low: 1}},
		Payload: mutex.CentralRequest{Resource: 7},
	})
	if err != nil {
		panic(err)
	}
	f, err := c.DecodeFrame(msgs[0])
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d message(s), ID %d; %s of resource %d from %d\n",
		len(msgs), msgs[0].GetID(), f.Payload.Kind(), f.Payload.(mutex.CentralRequest).Resource, f.From)
	// Output: 1 message(s), ID 61008; REQUEST of resource 7 from 2
}
