package codec_test

import (
	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/election"
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

	// Every other core message kind of algorithms/mutex and
	// algorithms/election, at boundary values.
	{name: "token", hdr: codec.Header{Network: testNetwork, From: 3, To: 4}, msg: mutex.Token{Resource: 0xFFFF}},
	{name: "token resource one", hdr: codec.Header{Network: testNetwork, From: 0xFFFE, To: 1}, msg: mutex.Token{Resource: 1}},
	{name: "ricart request to everyone", hdr: codec.Header{Network: testNetwork, From: 5, To: algorithms.Everyone}, msg: mutex.RicartRequest{Resource: 0xFFFF, Timestamp: 0xFFFF_FFFF}},
	{name: "ricart request timestamp one", hdr: codec.Header{Network: testNetwork, From: 1, To: 2}, msg: mutex.RicartRequest{Resource: 1, Timestamp: 1}},
	{name: "ricart reply", hdr: codec.Header{Network: testNetwork, From: 2, To: 5}, msg: mutex.RicartReply{Resource: 0xFFFE, Timestamp: 1 << 31}},
	{name: "ricart reply largest", hdr: codec.Header{Network: testNetwork, From: 0xFFFE, To: 0xFFFD}, msg: mutex.RicartReply{Resource: 0xFFFF, Timestamp: 0xFFFF_FFFF}},
	{name: "maekawa request", hdr: codec.Header{Network: testNetwork, From: 6, To: algorithms.Everyone}, msg: mutex.MaekawaRequest{Resource: 0x8000, Timestamp: 0xFFFF_FFFF}},
	{name: "maekawa yes", hdr: codec.Header{Network: testNetwork, From: 7, To: 6}, msg: mutex.MaekawaYes{Resource: 0xFFFF}},
	{name: "maekawa inquire", hdr: codec.Header{Network: testNetwork, From: 7, To: 6}, msg: mutex.MaekawaInquire{Resource: 1, Timestamp: 0xFFFF_FFFE}},
	{name: "maekawa relinquish", hdr: codec.Header{Network: testNetwork, From: 6, To: 7}, msg: mutex.MaekawaRelinquish{Resource: 0xFFFE}},
	{name: "maekawa release to everyone", hdr: codec.Header{Network: testNetwork, From: 0xFFFE, To: algorithms.Everyone}, msg: mutex.MaekawaRelease{Resource: 0xFFFF}},
	{name: "ring election", hdr: codec.Header{Network: testNetwork, From: 8, To: 9}, msg: election.RingElection{Term: 0xFFFF_FFFF, Candidate: 0xFFFE}},
	{name: "ring election term one", hdr: codec.Header{Network: testNetwork, From: 9, To: 1}, msg: election.RingElection{Term: 1, Candidate: 1}},
	{name: "ring elected", hdr: codec.Header{Network: testNetwork, From: 0xFFFE, To: 1}, msg: election.RingElected{Term: 1 << 31, Leader: 0xFFFE}},
	{name: "ring ack of election", hdr: codec.Header{Network: testNetwork, From: 9, To: 8}, msg: election.RingAck{Term: 0xFFFF_FFFF, ID: 0xFFFE}},
	{name: "ring ack of elected", hdr: codec.Header{Network: testNetwork, From: 1, To: 0xFFFE}, msg: election.RingAck{Elected: true, Term: 1, ID: 1}},
	{name: "bully election", hdr: codec.Header{Network: testNetwork, From: 1, To: algorithms.Everyone}, msg: election.BullyElection{Term: 0xFFFF_FFFF}},
	{name: "bully answer", hdr: codec.Header{Network: testNetwork, From: 0xFFFE, To: 1}, msg: election.BullyAnswer{Term: 1}},
	{name: "bully coordinator", hdr: codec.Header{Network: testNetwork, From: 0xFFFE, To: algorithms.Everyone}, msg: election.BullyCoordinator{Term: 1 << 31, Leader: 0xFFFE}},

	// Frames embedding messages of the other families and algorithms.
	{name: "ricart request in a frame to everyone", frame: &arq.Frame{
		From: 5, Inc: 2,
		Entries: []arq.Entry{{To: algorithms.Everyone, Seq: 300, Low: 299}},
		Payload: mutex.RicartRequest{Resource: 12, Timestamp: 0xFFFF_FFFF},
		Acks:    []arq.Ack{{To: 2, ToInc: 1, Inc: 2, Cum: 17, Sack: 0b11}},
	}},
	{name: "maekawa inquire retransmission", frame: &arq.Frame{
		From: 7, Inc: 1,
		Entries:        []arq.Entry{{To: 6, Seq: 9, Low: 9}},
		Payload:        mutex.MaekawaInquire{Resource: 0xFFFF, Timestamp: 1 << 31},
		Retransmission: true,
	}},
	{name: "ring ack of elected in a frame", frame: &arq.Frame{
		From: 9, Inc: 0xFFFF_FFFF,
		Entries: []arq.Entry{{To: 8, Seq: 0xFFFF_FFFF, Low: 0xFFFF_FFFE}},
		Payload: election.RingAck{Elected: true, Term: 0xFFFF_FFFF, ID: 0xFFFE},
		Acks:    []arq.Ack{{To: 8, ToInc: 0xFFFF_FFFF, Inc: 0xFFFF_FFFF, All: true, Cum: 0xFFFF_FFFF, Sack: 0xFFFF_FFFF}},
	}},
	{name: "bully coordinator to three", frame: &arq.Frame{
		From: 0xFFFE, Inc: 4,
		Entries: []arq.Entry{{To: 1, Seq: 1, Low: 1}, {To: 2, Seq: 2, Low: 1}, {To: 3, Seq: 128, Low: 127}},
		Missing: []algorithms.NodeID{2},
		Payload: election.BullyCoordinator{Term: 0xFFFF_FFFF, Leader: 0xFFFE},
	}},
	{name: "token in a frame", frame: &arq.Frame{
		From: 3, Inc: 1,
		Entries: []arq.Entry{{To: 4, Seq: 16384, Low: 16383}},
		Payload: mutex.Token{Resource: 0xFFFF},
	}},
}
