package codec_test

import (
	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/mutex"
	"github.com/skyquorum/skyquorum/radio/arq"
	"github.com/skyquorum/skyquorum/radio/codec"
)

// codecCase is one entry of the table that feeds the round-trip tests and
// seeds the fuzz targets: a reliable delivery frame, or a core message sent
// on its own.
type codecCase struct {
	name  string
	frame *arq.Frame
	hdr   codec.Header
	msg   algorithms.Message
	// parts is how many dialect messages the frame takes (0: one).
	parts int
}

const testNetwork = 7

func manyAcks(n int) []arq.Ack {
	acks := make([]arq.Ack, n)
	for i := range acks {
		acks[i] = arq.Ack{To: algorithms.NodeID(100 + i), ToInc: 1<<31 + uint32(i), Inc: 1 << 30, All: i%2 == 0, Cum: uint32(1000 * i), Sack: 0xFFFF_FFFF}
	}
	return acks
}

var cases = []codecCase{
	{name: "central request", hdr: codec.Header{Network: testNetwork, From: 2, To: 1}, msg: mutex.CentralRequest{Resource: 17}},
	{name: "central grant", hdr: codec.Header{Network: testNetwork, From: 1, To: 2}, msg: mutex.CentralGrant{Resource: 17}},
	{name: "central release to everyone", hdr: codec.Header{Network: testNetwork, From: 2, To: algorithms.Everyone}, msg: mutex.CentralRelease{Resource: 0xFFFF}},
	{name: "central request resource zero", hdr: codec.Header{Network: testNetwork, From: 0xFFFE, To: 0}, msg: mutex.CentralRequest{}},
	{name: "data unicast", frame: &arq.Frame{
		From: 2, Inc: 1,
		Entries: []arq.Entry{{To: 1, Seq: 1, Low: 1}},
		Payload: mutex.CentralRequest{Resource: 3},
	}},
	{name: "data to three with piggybacked acks", frame: &arq.Frame{
		From: 1, Inc: 5,
		Entries: []arq.Entry{{To: 2, Seq: 10, Low: 8}, {To: 3, Seq: 200, Low: 190}, {To: 4, Seq: 20000, Low: 19999}},
		Payload: mutex.CentralGrant{Resource: 9},
		Acks:    []arq.Ack{{To: 2, ToInc: 1, Inc: 5, Cum: 4, Sack: 0b101}, {To: 3, ToInc: 2, Inc: 5, All: true, Cum: 77}},
	}},
	{name: "everyone retransmission with missing list", frame: &arq.Frame{
		From: 9, Inc: 3,
		Entries:        []arq.Entry{{To: algorithms.Everyone, Seq: 42, Low: 40}},
		Missing:        []algorithms.NodeID{3, 7},
		Payload:        mutex.CentralRelease{Resource: 1},
		Retransmission: true,
	}},
	{name: "largest counters", frame: &arq.Frame{
		From: 0xFFFE, Inc: 0xFFFF_FFFF,
		Entries: []arq.Entry{{To: 0xFFFD, Seq: 0xFFFF_FFFF, Low: 0xFFFF_FFFE}},
		Payload: mutex.CentralRequest{Resource: 0xFFFF},
		Acks:    []arq.Ack{{To: 0xFFFC, ToInc: 0xFFFF_FFFF, Inc: 0xFFFF_FFFF, All: true, Cum: 0xFFFF_FFFF, Sack: 0xFFFF_FFFF}},
	}},
	{name: "ack only", frame: &arq.Frame{
		From: 4, Inc: 2,
		Acks: []arq.Ack{{To: 1, ToInc: 1, Inc: 2, Cum: 12}, {To: 2, ToInc: 1, Inc: 2, All: true, Cum: 3, Sack: 1}, {To: 3, ToInc: 9, Inc: 2, Cum: 1}},
	}},
	{name: "ack only one sender", frame: &arq.Frame{
		From: 4, Inc: 2,
		Acks: []arq.Ack{{To: 1, ToInc: 1, Inc: 2, Cum: 12}, {To: 1, ToInc: 1, Inc: 2, All: true, Cum: 6}},
	}},
	{name: "empty frame", frame: &arq.Frame{From: 4, Inc: 2}},
	{name: "retransmission without payload", frame: &arq.Frame{From: 4, Inc: 2, Entries: []arq.Entry{{To: 5, Seq: 3, Low: 2}}, Retransmission: true}},
	{name: "acks overflow into SWARM_ACK", frame: &arq.Frame{
		From: 6, Inc: 1,
		Entries: []arq.Entry{{To: algorithms.Everyone, Seq: 2, Low: 1}},
		Payload: mutex.CentralRequest{Resource: 5},
		Acks:    manyAcks(30),
	}, parts: 3},
	{name: "ack only overflow", frame: &arq.Frame{From: 6, Inc: 1, Acks: manyAcks(20)}, parts: 2},
}
