package codec_test

import (
	"math"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/clock"
	"github.com/skyquorum/skyquorum/algorithms/cmdlog"
	"github.com/skyquorum/skyquorum/algorithms/election"
	"github.com/skyquorum/skyquorum/algorithms/multicast"
	"github.com/skyquorum/skyquorum/algorithms/mutex"
	"github.com/skyquorum/skyquorum/radio/arq"
	"github.com/skyquorum/skyquorum/radio/codec"
	"github.com/skyquorum/skyquorum/swarm/airspace"
	"github.com/skyquorum/skyquorum/swarm/emergency"
	"github.com/skyquorum/skyquorum/swarm/membership"
	"github.com/skyquorum/skyquorum/swarm/show"
	"github.com/skyquorum/skyquorum/swarm/timesync"
	"github.com/skyquorum/skyquorum/swarm/upload"
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

// filled returns n bytes 1, 2, …, 255, 1, … (no zero, so that trailing
// zero truncation cannot hide a lost byte).
func filled(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i%255 + 1)
	}
	return b
}

// Largest contents that fit SWARM_MULTICAST's 229 data bytes.
const (
	maxPlain   = 229 - 1     // Data: ack count, payload
	maxCommand = 229 - 2 - 6 // Append: flags, count, one entry's header
	maxBitmap  = 225         // SWARM_EMERGENCY acked: 1800 members
)

var (
	mcHdr      = codec.Header{Network: testNetwork, From: 3, To: algorithms.Everyone}
	mcAcks     = []multicast.AckEntry{{Origin: 0xFFFE, Held: 0xFFFF_FFFF, Safe: 0xFFFF_FFFE}, {Origin: 1, Held: 1}}
	logHdr     = codec.Header{Network: testNetwork, From: 0xFFFE, To: algorithms.Everyone}
	logReply   = codec.Header{Network: testNetwork, From: 2, To: 0xFFFE}
	maxID      = multicast.ID{Origin: 0xFFFE, Seq: 0xFFFF_FFFF}
	maxStamp   = clock.Stamp{T: 0xFFFF_FFFF, ID: 0xFFFE}
	logEntries = []cmdlog.Entry{
		{Term: 0xFFFF_FFFF, Kind: cmdlog.KindCommand, Data: []byte{0xFF}},
		{Term: 1, Kind: cmdlog.KindNoop},
		{Term: 2, Kind: cmdlog.KindConfig, Data: []byte{0, 1, 0xFF, 0xFE}},
	}
)

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
	{name: "implicit maekawa request", hdr: codec.Header{Network: testNetwork, From: 6, To: algorithms.Everyone}, msg: mutex.ImplicitRequest{Resource: 0x8000, TS: 0xFFFF_FFFF}},
	{name: "implicit maekawa yes", hdr: codec.Header{Network: testNetwork, From: 7, To: 6}, msg: mutex.ImplicitYes{Resource: 0xFFFF, TS: 1, Grant: 0xFFFF_FFFF}},
	{name: "implicit maekawa inquire", hdr: codec.Header{Network: testNetwork, From: 7, To: 6}, msg: mutex.ImplicitInquire{Resource: 1, TS: 0xFFFF_FFFE, Grant: 2}},
	{name: "implicit maekawa relinquish", hdr: codec.Header{Network: testNetwork, From: 6, To: 7}, msg: mutex.ImplicitRelinquish{Resource: 0xFFFE, TS: 3, Grant: 1 << 31}},
	{name: "implicit maekawa queued", hdr: codec.Header{Network: testNetwork, From: 7, To: 6}, msg: mutex.ImplicitQueued{Resource: 2, TS: 0xFFFF_FFFF}},
	{name: "implicit maekawa release to everyone", hdr: codec.Header{Network: testNetwork, From: 0xFFFE, To: algorithms.Everyone}, msg: mutex.ImplicitRelease{Resource: 0xFFFF, TS: 7}},
	{name: "ring election", hdr: codec.Header{Network: testNetwork, From: 8, To: 9}, msg: election.RingElection{Term: 0xFFFF_FFFF, Candidate: 0xFFFE}},
	{name: "ring election term one", hdr: codec.Header{Network: testNetwork, From: 9, To: 1}, msg: election.RingElection{Term: 1, Candidate: 1}},
	{name: "ring elected", hdr: codec.Header{Network: testNetwork, From: 0xFFFE, To: 1}, msg: election.RingElected{Term: 1 << 31, Leader: 0xFFFE}},
	{name: "ring ack of election", hdr: codec.Header{Network: testNetwork, From: 9, To: 8}, msg: election.RingAck{Term: 0xFFFF_FFFF, ID: 0xFFFE}},
	{name: "ring ack of elected", hdr: codec.Header{Network: testNetwork, From: 1, To: 0xFFFE}, msg: election.RingAck{Elected: true, Term: 1, ID: 1}},
	{name: "bully election", hdr: codec.Header{Network: testNetwork, From: 1, To: algorithms.Everyone}, msg: election.BullyElection{Term: 0xFFFF_FFFF}},
	{name: "bully answer", hdr: codec.Header{Network: testNetwork, From: 0xFFFE, To: 1}, msg: election.BullyAnswer{Term: 1}},
	{name: "bully coordinator", hdr: codec.Header{Network: testNetwork, From: 0xFFFE, To: algorithms.Everyone}, msg: election.BullyCoordinator{Term: 1 << 31, Leader: 0xFFFE}},
	{name: "log coordinator", hdr: codec.Header{Network: testNetwork, From: 0xFFFE, To: algorithms.Everyone}, msg: cmdlog.Coordinator{BullyCoordinator: election.BullyCoordinator{Term: 0xFFFF_FFFF, Leader: 0xFFFE}}},
	{name: "log coordinator term one", hdr: codec.Header{Network: testNetwork, From: 1, To: algorithms.Everyone}, msg: cmdlog.Coordinator{BullyCoordinator: election.BullyCoordinator{Term: 1, Leader: 1}}},

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

	// Every message of algorithms/multicast, on SWARM_MULTICAST, with
	// every body at boundary values.
	{name: "mc data plain largest", hdr: mcHdr, msg: multicast.Data{Seq: 0xFFFF_FFFF, Body: multicast.Plain{Payload: filled(maxPlain)}}},
	{name: "mc data plain empty with acks", hdr: mcHdr, msg: multicast.Data{Seq: 1, Acks: mcAcks, Body: multicast.Plain{}}},
	{name: "mc data stamped", hdr: mcHdr, msg: multicast.Data{Seq: 2, Acks: mcAcks[:1], Body: multicast.Stamped{VC: clock.Vector{0, 0xFFFF_FFFF, 7}, Payload: filled(3)}}},
	{name: "mc data stamped empty", hdr: mcHdr, msg: multicast.Data{Body: multicast.Stamped{}}},
	{name: "mc data sequenced", hdr: mcHdr, msg: multicast.Data{Seq: 3, Body: multicast.Sequenced{Seq: 0xFFFF_FFFF, Global: 0xFFFF_FFFF, Payload: filled(1)}}},
	{name: "mc data sequenced not yet ordered", hdr: mcHdr, msg: multicast.Data{Seq: 4, Body: multicast.Sequenced{Seq: 1}}},
	{name: "mc data order", hdr: mcHdr, msg: multicast.Data{Seq: 0xFFFF_FFFF, Acks: mcAcks, Body: multicast.Order{Global: 0xFFFF_FFFF, ID: maxID}}},
	{name: "mc data tagged", hdr: mcHdr, msg: multicast.Data{Seq: 5, Body: multicast.Tagged{Seq: 0xFFFF_FFFF, Payload: filled(200)}}},
	{name: "mc data agreed", hdr: mcHdr, msg: multicast.Data{Seq: 6, Body: multicast.Agreed{Seq: 0xFFFF_FFFF, Priority: maxStamp}}},
	{name: "mc relayed plain", hdr: codec.Header{Network: testNetwork, From: 0xFFFE, To: algorithms.Everyone}, msg: multicast.Relayed{ID: maxID, Acks: mcAcks, Body: multicast.Plain{Payload: filled(7)}}},
	{name: "mc relayed stamped", hdr: mcHdr, msg: multicast.Relayed{ID: multicast.ID{Origin: 1, Seq: 1}, Body: multicast.Stamped{VC: clock.Vector{1}, Payload: filled(1)}}},
	{name: "mc relayed sequenced", hdr: mcHdr, msg: multicast.Relayed{ID: maxID, Body: multicast.Sequenced{Seq: 1, Global: 1}}},
	{name: "mc relayed order", hdr: mcHdr, msg: multicast.Relayed{ID: maxID, Body: multicast.Order{Global: 1, ID: multicast.ID{Origin: 1, Seq: 2}}}},
	{name: "mc relayed tagged", hdr: mcHdr, msg: multicast.Relayed{ID: maxID, Acks: mcAcks, Body: multicast.Tagged{Seq: 1}}},
	{name: "mc relayed agreed", hdr: mcHdr, msg: multicast.Relayed{ID: maxID, Body: multicast.Agreed{Seq: 1, Priority: clock.Stamp{T: 1, ID: 1}}}},
	{name: "mc repair plain", hdr: codec.Header{Network: testNetwork, From: 4, To: 5}, msg: multicast.Repair{ID: maxID, Ask: []algorithms.NodeID{5}, Body: multicast.Plain{Payload: filled(2)}}},
	{name: "mc repair stamped", hdr: mcHdr, msg: multicast.Repair{ID: maxID, Ask: []algorithms.NodeID{1, 0xFFFE}, Body: multicast.Stamped{VC: clock.Vector{0xFFFF_FFFF, 0}}}},
	{name: "mc repair sequenced", hdr: mcHdr, msg: multicast.Repair{ID: maxID, Body: multicast.Sequenced{Seq: 0xFFFF_FFFF, Global: 1, Payload: filled(4)}}},
	{name: "mc repair order", hdr: mcHdr, msg: multicast.Repair{ID: maxID, Ask: []algorithms.NodeID{2}, Body: multicast.Order{Global: 0xFFFF_FFFF, ID: maxID}}},
	{name: "mc repair tagged", hdr: mcHdr, msg: multicast.Repair{ID: multicast.ID{Origin: 1, Seq: 1}, Body: multicast.Tagged{Seq: 0xFFFF_FFFF, Payload: filled(9)}}},
	{name: "mc repair agreed", hdr: mcHdr, msg: multicast.Repair{ID: maxID, Ask: []algorithms.NodeID{0xFFFE}, Body: multicast.Agreed{Seq: 0xFFFF_FFFF, Priority: maxStamp}}},
	{name: "mc ack", hdr: mcHdr, msg: multicast.Ack{Ask: []algorithms.NodeID{1, 0xFFFE}, Entries: mcAcks}},
	{name: "mc ack entries only", hdr: mcHdr, msg: multicast.Ack{Entries: mcAcks[:1]}},
	{name: "mc ack empty", hdr: mcHdr, msg: multicast.Ack{}},
	{name: "mc nak", hdr: mcHdr, msg: multicast.Nak{Origin: 0xFFFE, Missing: []uint32{1, 0xFFFF_FFFF}}},
	{name: "mc nak empty", hdr: mcHdr, msg: multicast.Nak{Origin: 1}},
	{name: "isis proposed resend", hdr: codec.Header{Network: testNetwork, From: 2, To: 0xFFFE}, msg: multicast.Proposed{ID: maxID, Priority: maxStamp, Resend: true}},
	{name: "isis proposed", hdr: codec.Header{Network: testNetwork, From: 2, To: 1}, msg: multicast.Proposed{ID: multicast.ID{Origin: 1, Seq: 1}, Priority: clock.Stamp{T: 1, ID: 2}}},
	{name: "isis settled answer", hdr: mcHdr, msg: multicast.Settled{Upto: maxStamp, Ask: []algorithms.NodeID{1, 0xFFFE}, Answer: true}},
	{name: "isis settled zero", hdr: mcHdr, msg: multicast.Settled{}},
	{name: "isis collect", hdr: mcHdr, msg: multicast.Collect{Seq: 0xFFFF_FFFF, Ask: []algorithms.NodeID{0xFFFE, 1}}},
	{name: "isis collect nobody", hdr: mcHdr, msg: multicast.Collect{Seq: 1}},
	{name: "basic data largest", hdr: mcHdr, msg: multicast.BasicData{Seq: 0xFFFF_FFFF, Payload: filled(229)}},
	{name: "basic data empty", hdr: mcHdr, msg: multicast.BasicData{}},

	// Every message of algorithms/cmdlog, on SWARM_MULTICAST.
	{name: "log append largest command", hdr: logHdr, msg: cmdlog.Append{
		Term: 0xFFFF_FFFF, PrevIndex: 0xFFFF_FFFF, PrevTerm: 0xFFFF_FFFF, Commit: 0xFFFF_FFFF,
		Entries: []cmdlog.Entry{{Term: 0xFFFF_FFFF, Kind: cmdlog.KindCommand, Data: filled(maxCommand)}}, Retry: true,
	}},
	{name: "log append max command", hdr: logHdr, msg: cmdlog.Append{Term: 1, PrevIndex: 1, PrevTerm: 1, Commit: 1, Entries: []cmdlog.Entry{{Term: 1, Kind: cmdlog.KindCommand, Data: filled(cmdlog.MaxCommand)}}}},
	{name: "log append entries", hdr: logHdr, msg: cmdlog.Append{Term: 2, PrevIndex: 7, PrevTerm: 1, Commit: 6, Entries: logEntries, Confirmed: true}},
	{name: "log append empty", hdr: logHdr, msg: cmdlog.Append{Term: 1}},
	{name: "log repair", hdr: logReply, msg: cmdlog.Append{Term: 0xFFFF_FFFF, PrevIndex: 1, Entries: logEntries[:2], Repair: true}},
	{name: "log repair retry", hdr: logHdr, msg: cmdlog.Append{Term: 1, Commit: 0xFFFF_FFFF, Repair: true, Retry: true}},
	{name: "log commit", hdr: logHdr, msg: cmdlog.Commit{Term: 0xFFFF_FFFF, Commit: 0xFFFF_FFFF, LastIndex: 0xFFFF_FFFF, LastTerm: 0xFFFF_FFFF, Confirmed: true}},
	{name: "log commit zero", hdr: logHdr, msg: cmdlog.Commit{}},
	{name: "log ack", hdr: logReply, msg: cmdlog.Ack{Term: 0xFFFF_FFFF, Match: 0xFFFF_FFFF}},
	{name: "log nak", hdr: logReply, msg: cmdlog.Nak{Term: 0xFFFF_FFFF, From: 1, To: 0xFFFF_FFFF}},
	{name: "log nak zero", hdr: logReply, msg: cmdlog.Nak{}},
	{name: "log stale", hdr: logReply, msg: cmdlog.Stale{Term: 0xFFFF_FFFF, Leader: 0xFFFE}},
	{name: "log stale no leader", hdr: logReply, msg: cmdlog.Stale{Term: 1}},
	{name: "log recover retry", hdr: logHdr, msg: cmdlog.Recover{Term: 0xFFFF_FFFF, Retry: true}},
	{name: "log recover", hdr: logHdr, msg: cmdlog.Recover{Term: 1}},
	{name: "log promise", hdr: logReply, msg: cmdlog.Promise{Term: 0xFFFF_FFFF, LastIndex: 0xFFFF_FFFF, LastTerm: 0xFFFF_FFFE, Commit: 0xFFFF_FFFD, Retry: true}},
	{name: "log promise empty log", hdr: logReply, msg: cmdlog.Promise{Term: 1}},
	{name: "log fetch", hdr: codec.Header{Network: testNetwork, From: 0xFFFE, To: 2}, msg: cmdlog.Fetch{Term: 0xFFFF_FFFF, From: 0xFFFF_FFFF, Retry: true}},
	{name: "log fetch first", hdr: codec.Header{Network: testNetwork, From: 0xFFFE, To: 2}, msg: cmdlog.Fetch{Term: 1, From: 1}},
	{name: "log entries", hdr: logReply, msg: cmdlog.Entries{Term: 0xFFFF_FFFF, PrevIndex: 0xFFFF_FFFF, PrevTerm: 0xFFFF_FFFF, Last: 0xFFFF_FFFF, Entries: logEntries}},
	{name: "log entries none", hdr: logReply, msg: cmdlog.Entries{Term: 1}},

	// The swarm node's cores: membership, timesync, airspace, emergency.
	{name: "heartbeat", hdr: codec.Header{Network: testNetwork, From: 0xFFFE, To: algorithms.Everyone}, msg: membership.Heartbeat{Incarnation: 0xFFFF_FFFF, Status: 0xFF, Digest: 0xFFFF}},
	{name: "heartbeat zero", hdr: codec.Header{Network: testNetwork, From: 1, To: algorithms.Everyone}, msg: membership.Heartbeat{}},
	{name: "heartbeat small", hdr: codec.Header{Network: testNetwork, From: 2, To: 3}, msg: membership.Heartbeat{Incarnation: 1, Status: 1, Digest: 1}},
	{name: "timesync request", hdr: codec.Header{Network: testNetwork, From: 2, To: 1}, msg: timesync.Request{T1: math.MaxInt64}},
	{name: "timesync request negative", hdr: codec.Header{Network: testNetwork, From: 0xFFFE, To: 1}, msg: timesync.Request{T1: math.MinInt64}},
	{name: "timesync request zero", hdr: codec.Header{Network: testNetwork, From: 2, To: 1}, msg: timesync.Request{}},
	{name: "timesync reply", hdr: codec.Header{Network: testNetwork, From: 1, To: 2}, msg: timesync.Reply{T1: math.MaxInt64, T2: math.MinInt64, T3: math.MinInt64 + math.MaxUint32}},
	{name: "timesync reply small", hdr: codec.Header{Network: testNetwork, From: 1, To: 0xFFFE}, msg: timesync.Reply{T1: -1, T2: 1, T3: 2}},
	{name: "timesync reply at once", hdr: codec.Header{Network: testNetwork, From: 1, To: 2}, msg: timesync.Reply{T1: 5, T2: math.MaxInt64, T3: math.MaxInt64}},
	{name: "lease request", hdr: codec.Header{Network: testNetwork, From: 4, To: algorithms.Everyone}, msg: airspace.Request{Cell: 0xFFFF, TS: 0xFFFF_FFFF, Sent: 0xFFFF_FFFF, Inc: 0xFFFF_FFFF}},
	{name: "lease request zero", hdr: codec.Header{Network: testNetwork, From: 4, To: 5}, msg: airspace.Request{}},
	{name: "lease yes", hdr: codec.Header{Network: testNetwork, From: 5, To: 4}, msg: airspace.Yes{Cell: 0xFFFF, TS: 0xFFFF_FFFF, Grant: 0xFFFF_FFFF, Sent: 0xFFFF_FFFF, Lease: 0xFFFF_FFFF, Inc: 0xFFFF_FFFF}},
	{name: "lease yes small", hdr: codec.Header{Network: testNetwork, From: 0xFFFE, To: 1}, msg: airspace.Yes{Cell: 1, TS: 2, Grant: 3, Sent: 4, Lease: 5, Inc: 6}},
	{name: "lease inquire", hdr: codec.Header{Network: testNetwork, From: 5, To: 4}, msg: airspace.Inquire{Cell: 0xFFFE, TS: 0xFFFF_FFFF, Grant: 0xFFFF_FFFF, Inc: 7}},
	{name: "lease relinquish", hdr: codec.Header{Network: testNetwork, From: 4, To: 5}, msg: airspace.Relinquish{Cell: 0xFFFF, TS: 1, Grant: 0xFFFF_FFFF, Inc: 0xFFFF_FFFF}},
	{name: "lease release", hdr: codec.Header{Network: testNetwork, From: 4, To: algorithms.Everyone}, msg: airspace.Release{Cell: 0xFFFF, TS: 0xFFFF_FFFF, Inc: 0xFFFF_FFFF}},
	{name: "lease renew", hdr: codec.Header{Network: testNetwork, From: 4, To: algorithms.Everyone}, msg: airspace.Renew{Cell: 0xFFFF, TS: 0xFFFF_FFFF, Sent: 0xFFFF_FFFF, Inc: 0xFFFF_FFFF}},
	{name: "lease renew small", hdr: codec.Header{Network: testNetwork, From: 4, To: 5}, msg: airspace.Renew{Cell: 1, TS: 1, Sent: 1}},
	{name: "emergency command", hdr: codec.Header{Network: testNetwork, From: 0xFFFE, To: algorithms.Everyone}, msg: emergency.Emergency{Cmd: emergency.Command{
		Issuer: 0xFFFE, ID: 0xFFFF_FFFF, Op: emergency.Return, MAC: [emergency.MACBytes]byte{0xFF, 0, 1, 2, 3, 4, 5, 0xFE},
	}}},
	{name: "emergency command relayed", hdr: codec.Header{Network: testNetwork, From: 3, To: algorithms.Everyone}, msg: emergency.Emergency{Cmd: emergency.Command{Issuer: 1, ID: 1, Op: emergency.Hold}}},
	{name: "emergency command unknown op", hdr: codec.Header{Network: testNetwork, From: 3, To: algorithms.Everyone}, msg: emergency.Emergency{Cmd: emergency.Command{Issuer: 1, ID: 1, Op: 0xFF}}},
	{name: "emergency repeat largest bitmap", hdr: codec.Header{Network: testNetwork, From: 0xFFFE, To: algorithms.Everyone}, msg: emergency.Emergency{
		Cmd:   emergency.Command{Issuer: 0xFFFE, ID: 7, Op: emergency.Land, MAC: [emergency.MACBytes]byte{1, 2, 3, 4, 5, 6, 7, 8}},
		Acked: filled(maxBitmap),
	}},
	{name: "emergency repeat bitmap with trailing zero", hdr: codec.Header{Network: testNetwork, From: 1, To: algorithms.Everyone}, msg: emergency.Emergency{
		Cmd: emergency.Command{Issuer: 1, ID: 2, Op: emergency.Hold}, Acked: []byte{0xFF, 0},
	}},
	{name: "emergency repeat empty bitmap", hdr: codec.Header{Network: testNetwork, From: 1, To: algorithms.Everyone}, msg: emergency.Emergency{
		Cmd: emergency.Command{Issuer: 1, ID: 2, Op: emergency.Hold}, Acked: []byte{},
	}},
	{name: "emergency ack", hdr: codec.Header{Network: testNetwork, From: 2, To: 0xFFFE}, msg: emergency.Ack{Issuer: 0xFFFE, ID: 0xFFFF_FFFF}},
	{name: "emergency ack zero", hdr: codec.Header{Network: testNetwork, From: 2, To: 1}, msg: emergency.Ack{}},
	{name: "timesync request in a frame", frame: &arq.Frame{
		From: 3, Inc: 2,
		Entries: []arq.Entry{{To: 1, Seq: 4, Low: 1}},
		Payload: timesync.Request{T1: math.MaxInt64},
	}},
	{name: "timesync reply in a frame", frame: &arq.Frame{
		From: 1, Inc: 1,
		Entries: []arq.Entry{{To: 3, Seq: 9, Low: 2}},
		Payload: timesync.Reply{T1: math.MaxInt64, T2: 1 << 40, T3: 1<<40 + 7},
	}},
	{name: "heartbeat in a frame", frame: &arq.Frame{
		From: 2, Inc: 0xFFFF_FFFF,
		Entries: []arq.Entry{{To: algorithms.Everyone, Seq: 1, Low: 1}},
		Payload: membership.Heartbeat{Incarnation: 0xFFFF_FFFF, Status: 0x80, Digest: 0xFFFF},
	}},
	{name: "emergency repeat in a frame", frame: &arq.Frame{
		From: 1, Inc: 2,
		Entries: []arq.Entry{{To: 3, Seq: 4, Low: 4}},
		Payload: emergency.Emergency{Cmd: emergency.Command{Issuer: 1, ID: 9, Op: emergency.Land, MAC: [emergency.MACBytes]byte{9, 8, 7, 6, 5, 4, 3, 2}}, Acked: []byte{0b1011, 0}},
	}},
	{name: "emergency ack in a frame", frame: &arq.Frame{
		From: 3, Inc: 1,
		Entries: []arq.Entry{{To: 1, Seq: 0xFFFF_FFFF, Low: 1}},
		Payload: emergency.Ack{Issuer: 1, ID: 0xFFFF_FFFF},
	}},
	{name: "lease yes in a frame", frame: &arq.Frame{
		From: 5, Inc: 1,
		Entries: []arq.Entry{{To: 4, Seq: 3, Low: 2}},
		Payload: airspace.Yes{Cell: 0xFFFF, TS: 0xFFFF_FFFF, Grant: 0xFFFF_FFFF, Sent: 0xFFFF_FFFF, Lease: 0xFFFF_FFFF, Inc: 0xFFFF_FFFF},
	}},

	// The show upload (swarm/upload).
	{name: "upload offer poll nack", hdr: codec.Header{Network: testNetwork, From: 0xFFFE, To: algorithms.Everyone}, msg: upload.Offer{
		Hash: show.Hash(filled(32)), Layout: upload.Layout{Size: 100000, Blocks: 3}, Scheme: upload.NACK, Round: 0xFF, Poll: true,
	}},
	{name: "upload offer smallest", hdr: codec.Header{Network: testNetwork, From: 1, To: algorithms.Everyone}, msg: upload.Offer{Layout: upload.Layout{Size: 1, Blocks: 1}}},
	{name: "upload symbol", hdr: codec.Header{Network: testNetwork, From: 0xFFFE, To: algorithms.Everyone}, msg: upload.Symbol{
		Show: 0xFFFF_FFFF, Check: 0xFFFF_FFFF, Block: 0xFFFF, Index: 0xFF, Data: filled(upload.ChunkBytes),
	}},
	{name: "upload symbol padded", hdr: codec.Header{Network: testNetwork, From: 2, To: algorithms.Everyone}, msg: upload.Symbol{
		Show: 1, Check: 2, Data: append(filled(10), make([]byte, upload.ChunkBytes-10)...),
	}},
	{name: "upload need counts", hdr: codec.Header{Network: testNetwork, From: 3, To: algorithms.Everyone}, msg: upload.Need{
		Show: 0xFFFF_FFFF, Round: 0xFF, Entries: []upload.Entry{{Block: 0, Count: 1}, {Block: 0xFFFF, Count: 0xFF}},
	}},
	{name: "upload need bitmaps", hdr: codec.Header{Network: testNetwork, From: 3, To: algorithms.Everyone}, msg: upload.Need{
		Show: 7, Round: 1, Entries: []upload.Entry{{Block: 2, Missing: []byte{0xFF, 0, 1}}, {Block: 3, Missing: []byte{0x10, 0}}},
	}},
	{name: "upload need offer", hdr: codec.Header{Network: testNetwork, From: 3, To: algorithms.Everyone}, msg: upload.Need{Show: 9, Unknown: true}},
	{name: "upload offer in a frame", frame: &arq.Frame{
		From: 0xFFFE, Inc: 1,
		Entries: []arq.Entry{{To: algorithms.Everyone, Seq: 1, Low: 1}},
		Payload: upload.Offer{Hash: show.Hash(filled(32)), Layout: upload.Layout{Size: 5000, Blocks: 1}, Round: 3},
	}},
	{name: "upload symbol in a frame", frame: &arq.Frame{
		From: 0xFFFE, Inc: 1,
		Entries: []arq.Entry{{To: algorithms.Everyone, Seq: 2, Low: 1}},
		Payload: upload.Symbol{Show: 1, Check: 2, Block: 3, Index: 4, Data: append(filled(100), make([]byte, upload.ChunkBytes-100)...)},
	}},
	{name: "upload need in a frame", frame: &arq.Frame{
		From: 4, Inc: 2,
		Entries: []arq.Entry{{To: 0xFFFE, Seq: 1, Low: 1}},
		Payload: upload.Need{Show: 1, Round: 2, Entries: []upload.Entry{{Block: 1, Count: 9}}},
	}},

	// SWARM_MULTICAST embedded in reliable delivery frames.
	{name: "mc data in a frame", frame: &arq.Frame{
		From: 3, Inc: 2,
		Entries: []arq.Entry{{To: algorithms.Everyone, Seq: 5, Low: 4}},
		Payload: multicast.Data{Seq: 0xFFFF_FFFF, Acks: mcAcks, Body: multicast.Stamped{VC: clock.Vector{1, 2}, Payload: filled(20)}},
	}},
	{name: "log append in a frame", frame: &arq.Frame{
		From: 0xFFFE, Inc: 1,
		Entries: []arq.Entry{{To: 1, Seq: 1, Low: 1}, {To: 2, Seq: 1, Low: 1}},
		Payload: cmdlog.Append{Term: 3, PrevIndex: 9, PrevTerm: 2, Commit: 8, Entries: logEntries},
	}},
	{name: "isis proposed in a frame", frame: &arq.Frame{
		From: 2, Inc: 0xFFFF_FFFF,
		Entries: []arq.Entry{{To: 0xFFFE, Seq: 0xFFFF_FFFF, Low: 0xFFFF_FFFF}},
		Payload: multicast.Proposed{ID: maxID, Priority: maxStamp, Resend: true},
	}},
}
