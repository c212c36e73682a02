package codec_test

import (
	"errors"
	"math"
	"reflect"
	"testing"

	"github.com/bluenviron/gomavlib/v3/pkg/message"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/clock"
	"github.com/skyquorum/skyquorum/algorithms/cmdlog"
	"github.com/skyquorum/skyquorum/algorithms/election"
	"github.com/skyquorum/skyquorum/algorithms/multicast"
	"github.com/skyquorum/skyquorum/algorithms/mutex"
	"github.com/skyquorum/skyquorum/radio/arq"
	"github.com/skyquorum/skyquorum/radio/codec"
	"github.com/skyquorum/skyquorum/radio/dialect"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/swarm/emergency"
	"github.com/skyquorum/skyquorum/swarm/timesync"
)

func newCodec(t testing.TB) *codec.Codec {
	t.Helper()
	c, err := codec.New(codec.Config{Network: testNetwork})
	require.NoError(t, err)
	return c
}

// wire sends msg through a MAVLink v2 encoding and back, trailing-zero
// truncation included.
func wire(t testing.TB, msg message.Message) message.Message {
	t.Helper()
	rw, err := dialect.NewReadWriter()
	require.NoError(t, err)
	mrw := rw.GetMessage(msg.GetID())
	raw := mrw.Write(msg, true)
	require.LessOrEqual(t, len(raw.Payload), algorithms.MaxPayload)
	back, err := mrw.Read(raw, true)
	require.NoError(t, err)
	return back
}

// decodeAll decodes the messages of one frame and merges their
// acknowledgements.
func decodeAll(c *codec.Codec, msgs []message.Message) (*arq.Frame, error) {
	var f *arq.Frame
	for _, m := range msgs {
		g, err := c.DecodeFrame(m)
		if err != nil {
			return nil, err
		}
		if f == nil {
			f = g
			continue
		}
		f.Acks = append(f.Acks, g.Acks...)
	}
	return f, nil
}

func TestRoundTrip(t *testing.T) {
	c := newCodec(t)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.frame == nil {
				msg, err := c.EncodeMessage(tc.hdr, tc.msg)
				require.NoError(t, err)
				h, m, err := c.DecodeMessage(wire(t, msg))
				require.NoError(t, err)
				assert.Equal(t, tc.hdr, h)
				assert.Equal(t, tc.msg, m)
				return
			}
			msgs, err := c.EncodeFrame(tc.frame)
			require.NoError(t, err)
			want := tc.parts
			if want == 0 {
				want = 1
			}
			require.Len(t, msgs, want)
			for i := range msgs {
				msgs[i] = wire(t, msgs[i])
				h, ok := codec.Addressing(msgs[i])
				require.True(t, ok)
				assert.Equal(t, uint8(testNetwork), h.Network)
				assert.Equal(t, tc.frame.From, h.From)
			}
			f, err := decodeAll(c, msgs)
			require.NoError(t, err)
			assert.Equal(t, tc.frame, f)
		})
	}
}

// TestLogCoordinatorIsNotTheBullys checks that the command log's
// unacknowledged COORDINATOR and the bully's own travel as different kinds
// of SWARM_ELECTION and each decodes to its own type: the command log hands
// the first to a bystander check that the second skips.
func TestLogCoordinatorIsNotTheBullys(t *testing.T) {
	c := newCodec(t)
	hdr := codec.Header{Network: testNetwork, From: 9, To: algorithms.Everyone}
	bully := election.BullyCoordinator{Term: 12, Leader: 9}
	for _, tc := range []struct {
		msg  algorithms.Message
		kind swarm.SWARM_ELECTION_KIND
	}{
		{bully, swarm.SWARM_ELECTION_KIND_COORDINATOR},
		{cmdlog.Coordinator{BullyCoordinator: bully}, swarm.SWARM_ELECTION_KIND_ANNOUNCE},
	} {
		msg, err := c.EncodeMessage(hdr, tc.msg)
		require.NoError(t, err, "%T", tc.msg)
		d := msg.(*swarm.MessageSwarmElection)
		assert.Equal(t, swarm.SWARM_ELECTION_ALGORITHM_BULLY, d.Algorithm, "%T", tc.msg)
		assert.Equal(t, tc.kind, d.Kind, "%T", tc.msg)
		assert.Equal(t, uint32(12), d.Term, "%T", tc.msg)
		assert.Equal(t, uint16(9), d.Candidate, "%T", tc.msg)
		_, m, err := c.DecodeMessage(wire(t, msg))
		require.NoError(t, err, "%T", tc.msg)
		assert.IsType(t, tc.msg, m)
		assert.Equal(t, tc.msg, m)
	}
}

func TestFrameDestination(t *testing.T) {
	c := newCodec(t)
	msgs, err := c.EncodeFrame(cases[4].frame)
	require.NoError(t, err)
	d := msgs[0].(*swarm.MessageSwarmData)
	assert.Equal(t, uint16(1), d.DstVehicle)
	assert.Equal(t, uint16(61000), d.PayloadMsgid)
	msgs, err = c.EncodeFrame(cases[5].frame)
	require.NoError(t, err)
	assert.Equal(t, uint16(0xFFFF), msgs[0].(*swarm.MessageSwarmData).DstVehicle)
}

func TestEncodeErrors(t *testing.T) {
	c := newCodec(t)
	entries := make([]arq.Entry, 60)
	for i := range entries {
		entries[i] = arq.Entry{To: algorithms.NodeID(i), Seq: 1 << 20, Low: 1 << 20}
	}
	_, err := c.EncodeFrame(&arq.Frame{From: 1, Entries: entries, Payload: mutex.CentralRequest{}})
	require.ErrorIs(t, err, codec.ErrTooLarge)

	_, err = c.EncodeMessage(codec.Header{}, emergency.Emergency{Acked: make([]byte, 226)})
	require.ErrorIs(t, err, codec.ErrTooLarge)

	for _, m := range []timesync.Reply{{T2: 1, T3: 0}, {T2: 0, T3: math.MaxUint32 + 1}, {T2: math.MinInt64, T3: math.MaxInt64}} {
		_, err = c.EncodeMessage(codec.Header{}, m)
		require.ErrorIs(t, err, codec.ErrTooLarge, "%+v", m)
	}
	_, err = c.EncodeMessage(codec.Header{}, timesync.Reply{T2: -1, T3: math.MaxUint32 - 1})
	require.NoError(t, err)

	_, err = c.EncodeMessage(codec.Header{}, probe{})
	require.ErrorIs(t, err, codec.ErrUnknown)
	_, err = c.EncodeFrame(&arq.Frame{From: 1, Entries: []arq.Entry{{To: 2}}, Payload: probe{}})
	require.ErrorIs(t, err, codec.ErrUnknown)
}

func TestDecodeRejects(t *testing.T) {
	c := newCodec(t)
	good, err := c.EncodeFrame(cases[5].frame)
	require.NoError(t, err)
	base := *good[0].(*swarm.MessageSwarmData)

	mutate := map[string]func(d *swarm.MessageSwarmData){
		"unknown flag":         func(d *swarm.MessageSwarmData) { d.Flags |= 0x80 },
		"entries beyond data":  func(d *swarm.MessageSwarmData) { d.EntryCount = 200 },
		"wrong destination":    func(d *swarm.MessageSwarmData) { d.DstVehicle = 2 },
		"embeds itself":        func(d *swarm.MessageSwarmData) { d.PayloadMsgid = 61008 },
		"embeds a non-swarm":   func(d *swarm.MessageSwarmData) { d.PayloadMsgid = 109 },
		"embedded oversize":    func(d *swarm.MessageSwarmData) { d.Data[len(d.Data)-1] = 1 },
		"embedded other src":   func(d *swarm.MessageSwarmData) { d.SrcVehicle = 77 },
		"trailing without msg": func(d *swarm.MessageSwarmData) { d.PayloadMsgid = 0 },
	}
	for name, m := range mutate {
		t.Run(name, func(t *testing.T) {
			d := base
			m(&d)
			_, err := c.DecodeFrame(&d)
			require.Error(t, err)
			assert.True(t, errorsIsAny(err, codec.ErrMalformed, codec.ErrUnknown), "%v", err)
		})
	}

	_, _, err = c.DecodeMessage(&swarm.MessageSwarmMutex{Algorithm: swarm.SWARM_MUTEX_ALGORITHM_CENTRAL, Kind: swarm.SWARM_MUTEX_KIND_GRANT, Lease: 3})
	require.ErrorIs(t, err, codec.ErrMalformed)
	_, _, err = c.DecodeMessage(&swarm.MessageSwarmMutex{Algorithm: swarm.SWARM_MUTEX_ALGORITHM_MAEKAWA, Kind: swarm.SWARM_MUTEX_KIND_FAILED})
	require.ErrorIs(t, err, codec.ErrUnknown)
	_, _, err = c.DecodeMessage(&swarm.MessageSwarmAck{Kind: swarm.SWARM_ACK_KIND_ACK})
	require.ErrorIs(t, err, codec.ErrUnknown)
}

// TestDecodeRejectsUnusedFields sets, in a valid encoding of each bound
// kind, a field its core message does not carry.
func TestDecodeRejectsUnusedFields(t *testing.T) {
	c := newCodec(t)
	type (
		mx = swarm.MessageSwarmMutex
		el = swarm.MessageSwarmElection
		em = swarm.MessageSwarmEmergency
	)
	const (
		central = swarm.SWARM_MUTEX_ALGORITHM_CENTRAL
		token   = swarm.SWARM_MUTEX_ALGORITHM_TOKEN_RING
		ricart  = swarm.SWARM_MUTEX_ALGORITHM_RICART_AGRAWALA
		maekawa = swarm.SWARM_MUTEX_ALGORITHM_MAEKAWA
		lease   = swarm.SWARM_MUTEX_ALGORITHM_LEASE
		ring    = swarm.SWARM_ELECTION_ALGORITHM_RING
		bully   = swarm.SWARM_ELECTION_ALGORITHM_BULLY
	)
	malformed := map[string]message.Message{
		"central request with timestamp":   &mx{Algorithm: central, Kind: swarm.SWARM_MUTEX_KIND_REQUEST, Timestamp: 1},
		"central release with node":        &mx{Algorithm: central, Kind: swarm.SWARM_MUTEX_KIND_RELEASE, Node: 1},
		"token with timestamp":             &mx{Algorithm: token, Kind: swarm.SWARM_MUTEX_KIND_TOKEN, Resource: 1, Timestamp: 1},
		"token with lease":                 &mx{Algorithm: token, Kind: swarm.SWARM_MUTEX_KIND_TOKEN, Lease: 1},
		"token with node":                  &mx{Algorithm: token, Kind: swarm.SWARM_MUTEX_KIND_TOKEN, Node: 0xFFFF},
		"ricart request with lease":        &mx{Algorithm: ricart, Kind: swarm.SWARM_MUTEX_KIND_REQUEST, Timestamp: 3, Lease: 1},
		"ricart request with node":         &mx{Algorithm: ricart, Kind: swarm.SWARM_MUTEX_KIND_REQUEST, Timestamp: 3, Node: 1},
		"ricart reply with lease":          &mx{Algorithm: ricart, Kind: swarm.SWARM_MUTEX_KIND_REPLY, Lease: 0xFFFF_FFFF},
		"ricart reply with node":           &mx{Algorithm: ricart, Kind: swarm.SWARM_MUTEX_KIND_REPLY, Node: 2},
		"maekawa request with node":        &mx{Algorithm: maekawa, Kind: swarm.SWARM_MUTEX_KIND_REQUEST, Timestamp: 3, Node: 2},
		"maekawa yes with timestamp":       &mx{Algorithm: maekawa, Kind: swarm.SWARM_MUTEX_KIND_YES, Timestamp: 3},
		"maekawa yes with node":            &mx{Algorithm: maekawa, Kind: swarm.SWARM_MUTEX_KIND_YES, Node: 3},
		"maekawa inquire with lease":       &mx{Algorithm: maekawa, Kind: swarm.SWARM_MUTEX_KIND_INQUIRE, Timestamp: 3, Lease: 3},
		"maekawa relinquish with stamp":    &mx{Algorithm: maekawa, Kind: swarm.SWARM_MUTEX_KIND_RELINQUISH, Timestamp: 0xFFFF_FFFF},
		"maekawa release with timestamp":   &mx{Algorithm: maekawa, Kind: swarm.SWARM_MUTEX_KIND_RELEASE, Timestamp: 1},
		"maekawa release with lease":       &mx{Algorithm: maekawa, Kind: swarm.SWARM_MUTEX_KIND_RELEASE, Lease: 1},
		"ring election with acked":         &el{Algorithm: ring, Kind: swarm.SWARM_ELECTION_KIND_ELECTION, Term: 1, Candidate: 2, Acked: swarm.SWARM_ELECTION_KIND_ELECTION},
		"ring elected with acked":          &el{Algorithm: ring, Kind: swarm.SWARM_ELECTION_KIND_COORDINATOR, Term: 1, Candidate: 2, Acked: swarm.SWARM_ELECTION_KIND_COORDINATOR},
		"ring ack of nothing":              &el{Algorithm: ring, Kind: swarm.SWARM_ELECTION_KIND_ACK, Term: 1, Candidate: 2},
		"ring ack of an answer":            &el{Algorithm: ring, Kind: swarm.SWARM_ELECTION_KIND_ACK, Term: 1, Candidate: 2, Acked: swarm.SWARM_ELECTION_KIND_ANSWER},
		"ring ack of an ack":               &el{Algorithm: ring, Kind: swarm.SWARM_ELECTION_KIND_ACK, Term: 1, Candidate: 2, Acked: swarm.SWARM_ELECTION_KIND_ACK},
		"bully election with candidate":    &el{Algorithm: bully, Kind: swarm.SWARM_ELECTION_KIND_ELECTION, Term: 1, Candidate: 2},
		"bully election with acked":        &el{Algorithm: bully, Kind: swarm.SWARM_ELECTION_KIND_ELECTION, Term: 1, Acked: swarm.SWARM_ELECTION_KIND_ELECTION},
		"bully answer with candidate":      &el{Algorithm: bully, Kind: swarm.SWARM_ELECTION_KIND_ANSWER, Term: 1, Candidate: 0xFFFF},
		"bully coordinator with acked":     &el{Algorithm: bully, Kind: swarm.SWARM_ELECTION_KIND_COORDINATOR, Term: 1, Candidate: 2, Acked: swarm.SWARM_ELECTION_KIND_COORDINATOR},
		"log coordinator with acked":       &el{Algorithm: bully, Kind: swarm.SWARM_ELECTION_KIND_ANNOUNCE, Term: 1, Candidate: 2, Acked: swarm.SWARM_ELECTION_KIND_COORDINATOR},
		"ring election with kind overflow": &el{Algorithm: ring, Kind: 0x100},
		"mc data with origin":              mcm(swarm.SWARM_MULTICAST_PROTOCOL_RELIABLE, swarm.SWARM_MULTICAST_KIND_DATA, func(d *mc) { d.Origin = 1; d.DataLen = 1 }),
		"mc data plain with stamp":         mcm(swarm.SWARM_MULTICAST_PROTOCOL_RELIABLE, swarm.SWARM_MULTICAST_KIND_DATA, func(d *mc) { d.Stamp = 1; d.DataLen = 1 }),
		"mc data with term":                mcm(swarm.SWARM_MULTICAST_PROTOCOL_TOTAL_ISIS, swarm.SWARM_MULTICAST_KIND_AGREED, func(d *mc) { d.Term = 1; d.DataLen = 7 }),
		"mc data without ack count":        mcm(swarm.SWARM_MULTICAST_PROTOCOL_RELIABLE, swarm.SWARM_MULTICAST_KIND_DATA, nil),
		"mc data bytes after data_len":     mcm(swarm.SWARM_MULTICAST_PROTOCOL_RELIABLE, swarm.SWARM_MULTICAST_KIND_DATA, func(d *mc) { d.DataLen = 1; d.DataExt[28] = 1 }),
		"mc data_len beyond data":          mcm(swarm.SWARM_MULTICAST_PROTOCOL_RELIABLE, swarm.SWARM_MULTICAST_KIND_DATA, func(d *mc) { d.DataLen = 230 }),
		"mc order short":                   mcm(swarm.SWARM_MULTICAST_PROTOCOL_TOTAL_SEQUENCER, swarm.SWARM_MULTICAST_KIND_ORDER, func(d *mc) { d.DataLen = 3 }),
		"mc order trailing byte":           mcm(swarm.SWARM_MULTICAST_PROTOCOL_TOTAL_SEQUENCER, swarm.SWARM_MULTICAST_KIND_ORDER, func(d *mc) { d.DataLen = 8 }),
		"mc relay with commit":             mcm(swarm.SWARM_MULTICAST_PROTOCOL_RELIABLE, swarm.SWARM_MULTICAST_KIND_RELAY, func(d *mc) { d.Commit = 1; d.DataLen = 1 }),
		"mc nak odd length":                mcm(swarm.SWARM_MULTICAST_PROTOCOL_RELIABLE, swarm.SWARM_MULTICAST_KIND_REPAIR_REQUEST, func(d *mc) { d.DataLen = 3 }),
		"mc ack with seq":                  mcm(swarm.SWARM_MULTICAST_PROTOCOL_RELIABLE, swarm.SWARM_MULTICAST_KIND_ACK, func(d *mc) { d.Seq = 1; d.DataLen = 2 }),
		"isis proposed unknown flag":       mcm(swarm.SWARM_MULTICAST_PROTOCOL_TOTAL_ISIS, swarm.SWARM_MULTICAST_KIND_PROPOSE, func(d *mc) { d.DataLen = 3; d.Data[2] = 2 }),
		"isis settled odd ask":             mcm(swarm.SWARM_MULTICAST_PROTOCOL_TOTAL_ISIS, swarm.SWARM_MULTICAST_KIND_SETTLED, func(d *mc) { d.DataLen = 4 }),
		"isis collect with origin":         mcm(swarm.SWARM_MULTICAST_PROTOCOL_TOTAL_ISIS, swarm.SWARM_MULTICAST_KIND_COLLECT, func(d *mc) { d.Origin = 2 }),
		"basic data with term":             mcm(swarm.SWARM_MULTICAST_PROTOCOL_BASIC, swarm.SWARM_MULTICAST_KIND_DATA, func(d *mc) { d.Term = 2 }),
		"log append without flags":         mcm(swarm.SWARM_MULTICAST_PROTOCOL_LOG, swarm.SWARM_MULTICAST_KIND_APPEND, nil),
		"log append with origin":           mcm(swarm.SWARM_MULTICAST_PROTOCOL_LOG, swarm.SWARM_MULTICAST_KIND_APPEND, func(d *mc) { d.Origin = 1; d.DataLen = 2 }),
		"log append entry beyond data":     mcm(swarm.SWARM_MULTICAST_PROTOCOL_LOG, swarm.SWARM_MULTICAST_KIND_APPEND, func(d *mc) { d.DataLen = 2; d.Data[1] = 1 }),
		"log commit with data":             mcm(swarm.SWARM_MULTICAST_PROTOCOL_LOG, swarm.SWARM_MULTICAST_KIND_COMMIT, func(d *mc) { d.DataLen = 2 }),
		"log commit without flags":         mcm(swarm.SWARM_MULTICAST_PROTOCOL_LOG, swarm.SWARM_MULTICAST_KIND_COMMIT, nil),
		"log commit unknown flag":          mcm(swarm.SWARM_MULTICAST_PROTOCOL_LOG, swarm.SWARM_MULTICAST_KIND_COMMIT, func(d *mc) { d.DataLen = 1; d.Data[0] = 4 }),
		"log ack with stamp":               mcm(swarm.SWARM_MULTICAST_PROTOCOL_LOG, swarm.SWARM_MULTICAST_KIND_APPEND_ACK, func(d *mc) { d.Stamp = 1 }),
		"log ack with origin":              mcm(swarm.SWARM_MULTICAST_PROTOCOL_LOG, swarm.SWARM_MULTICAST_KIND_APPEND_ACK, func(d *mc) { d.Origin = 1 }),
		"log nak without to":               mcm(swarm.SWARM_MULTICAST_PROTOCOL_LOG, swarm.SWARM_MULTICAST_KIND_REPAIR_REQUEST, nil),
		"log stale with seq":               mcm(swarm.SWARM_MULTICAST_PROTOCOL_LOG, swarm.SWARM_MULTICAST_KIND_STALE, func(d *mc) { d.Seq = 1 }),
		"log recover with commit":          mcm(swarm.SWARM_MULTICAST_PROTOCOL_LOG, swarm.SWARM_MULTICAST_KIND_RECOVER, func(d *mc) { d.Commit = 1; d.DataLen = 1 }),
		"log recover unknown flag":         mcm(swarm.SWARM_MULTICAST_PROTOCOL_LOG, swarm.SWARM_MULTICAST_KIND_RECOVER, func(d *mc) { d.DataLen = 1; d.Data[0] = 0x80 }),
		"log promise with origin":          mcm(swarm.SWARM_MULTICAST_PROTOCOL_LOG, swarm.SWARM_MULTICAST_KIND_PROMISE, func(d *mc) { d.Origin = 1; d.DataLen = 1 }),
		"log fetch with stamp":             mcm(swarm.SWARM_MULTICAST_PROTOCOL_LOG, swarm.SWARM_MULTICAST_KIND_FETCH, func(d *mc) { d.Stamp = 1; d.DataLen = 1 }),
		"log entries with commit":          mcm(swarm.SWARM_MULTICAST_PROTOCOL_LOG, swarm.SWARM_MULTICAST_KIND_ENTRIES, func(d *mc) { d.Commit = 1; d.DataLen = 5 }),
		"maekawa yes with grant":           &mx{Algorithm: maekawa, Kind: swarm.SWARM_MUTEX_KIND_YES, Grant: 1},
		"ricart request with sent":         &mx{Algorithm: ricart, Kind: swarm.SWARM_MUTEX_KIND_REQUEST, Sent: 1},
		"maekawa request with incarnation": &mx{Algorithm: maekawa, Kind: swarm.SWARM_MUTEX_KIND_REQUEST, Incarnation: 1},
		"lease request with grant":         &mx{Algorithm: lease, Kind: swarm.SWARM_MUTEX_KIND_REQUEST, Grant: 1},
		"lease release with sent":          &mx{Algorithm: lease, Kind: swarm.SWARM_MUTEX_KIND_RELEASE, Sent: 1},
		"lease inquire with lease":         &mx{Algorithm: lease, Kind: swarm.SWARM_MUTEX_KIND_INQUIRE, Lease: 1},
		"lease renew with node":            &mx{Algorithm: lease, Kind: swarm.SWARM_MUTEX_KIND_RENEW, Node: 1},
		"timesync reply t3 overflows":      &swarm.MessageSwarmTimeReply{T2: math.MaxInt64, Hold: 1},
		"emergency with issued":            &em{Kind: swarm.SWARM_EMERGENCY_KIND_COMMAND, Issued: 1},
		"emergency command with bitmap":    &em{Kind: swarm.SWARM_EMERGENCY_KIND_COMMAND, AckedLen: 1},
		"emergency repeat after acked_len": &em{Kind: swarm.SWARM_EMERGENCY_KIND_REPEAT, AckedLen: 1, Acked: [225]byte{1, 1}},
		"emergency ack with mac":           &em{Kind: swarm.SWARM_EMERGENCY_KIND_ACK, Mac: [8]byte{1}},
		"emergency ack with command":       &em{Kind: swarm.SWARM_EMERGENCY_KIND_ACK, Command: swarm.SWARM_EMERGENCY_COMMAND_HOLD},
	}
	for name, msg := range malformed {
		t.Run(name, func(t *testing.T) {
			_, _, err := c.DecodeMessage(msg)
			require.ErrorIs(t, err, codec.ErrMalformed)
		})
	}

	unknown := map[string]message.Message{
		"mc fifo data":               mcm(swarm.SWARM_MULTICAST_PROTOCOL_FIFO, swarm.SWARM_MULTICAST_KIND_DATA, nil),
		"mc reliable order":          mcm(swarm.SWARM_MULTICAST_PROTOCOL_RELIABLE, swarm.SWARM_MULTICAST_KIND_ORDER, nil),
		"log propose":                mcm(swarm.SWARM_MULTICAST_PROTOCOL_LOG, swarm.SWARM_MULTICAST_KIND_PROPOSE, nil),
		"maekawa failed":             &mx{Algorithm: maekawa, Kind: swarm.SWARM_MUTEX_KIND_FAILED},
		"token ring request":         &mx{Algorithm: token, Kind: swarm.SWARM_MUTEX_KIND_REQUEST},
		"ricart grant":               &mx{Algorithm: ricart, Kind: swarm.SWARM_MUTEX_KIND_GRANT},
		"central token":              &mx{Algorithm: central, Kind: swarm.SWARM_MUTEX_KIND_TOKEN},
		"ring answer":                &el{Algorithm: ring, Kind: swarm.SWARM_ELECTION_KIND_ANSWER, Term: 1},
		"bully ack":                  &el{Algorithm: bully, Kind: swarm.SWARM_ELECTION_KIND_ACK, Term: 1, Acked: swarm.SWARM_ELECTION_KIND_ELECTION},
		"ring announce":              &el{Algorithm: ring, Kind: swarm.SWARM_ELECTION_KIND_ANNOUNCE, Term: 1, Candidate: 2},
		"election without algorithm": &el{Kind: swarm.SWARM_ELECTION_KIND_COORDINATOR, Term: 1, Candidate: 2},
		"emergency without kind":     &em{Issuer: 1, CommandId: 1, Command: swarm.SWARM_EMERGENCY_COMMAND_HOLD},
		"lease grant":                &mx{Algorithm: lease, Kind: swarm.SWARM_MUTEX_KIND_GRANT},
		"member status":              &swarm.MessageSwarmMember{Battery: 1},
		"mc timesync protocol":       mcm(8, 23, func(d *mc) { d.DataLen = 8 }),
	}
	for name, msg := range unknown {
		t.Run(name, func(t *testing.T) {
			_, _, err := c.DecodeMessage(msg)
			require.ErrorIs(t, err, codec.ErrUnknown)
		})
	}
}

type mc = swarm.MessageSwarmMulticast

// mcm returns a SWARM_MULTICAST of protocol and kind, changed by set.
func mcm(p swarm.SWARM_MULTICAST_PROTOCOL, k swarm.SWARM_MULTICAST_KIND, set func(*mc)) *mc {
	d := &mc{Protocol: p, Kind: k}
	if set != nil {
		set(d)
	}
	return d
}

// TestMulticastTooLarge checks that a core message whose data does not fit
// SWARM_MULTICAST is refused, not truncated.
func TestMulticastTooLarge(t *testing.T) {
	c := newCodec(t)
	for name, m := range map[string]algorithms.Message{
		"plain":         multicast.Data{Body: multicast.Plain{Payload: make([]byte, 229)}},
		"basic":         multicast.BasicData{Payload: make([]byte, 230)},
		"append":        cmdlog.Append{Entries: []cmdlog.Entry{{Data: make([]byte, 222)}}},
		"entry of 256":  cmdlog.Entries{Entries: []cmdlog.Entry{{Data: make([]byte, 256)}}},
		"256 asked":     multicast.Collect{Ask: make([]algorithms.NodeID, 115)},
		"256 vc":        multicast.Data{Body: multicast.Stamped{VC: make(clock.Vector, 256)}},
		"settled asked": multicast.Settled{Ask: make([]algorithms.NodeID, 114)},
	} {
		_, err := c.EncodeMessage(codec.Header{}, m)
		require.ErrorIs(t, err, codec.ErrTooLarge, name)
	}
	_, err := c.EncodeMessage(codec.Header{}, multicast.Data{})
	require.ErrorIs(t, err, codec.ErrUnknown, "a frame without a body")
}

// TestEveryBindingHasACase keeps the case table, and so the fuzz seeds,
// covering every binding, both on its own and embedded in a frame for
// each family.
func TestEveryBindingHasACase(t *testing.T) {
	alone := map[reflect.Type]algorithms.Message{}
	families := map[uint32]bool{}
	c := newCodec(t)
	for _, tc := range cases {
		if tc.msg != nil {
			alone[reflect.TypeOf(tc.msg)] = tc.msg
		}
		if tc.frame != nil && tc.frame.Payload != nil {
			m, err := c.EncodeMessage(codec.Header{}, tc.frame.Payload)
			require.NoError(t, err)
			families[m.GetID()] = true
		}
	}
	for _, b := range codec.Bindings() {
		typ := codec.BindingType(b)
		sample, ok := alone[typ]
		assert.True(t, ok, "no case sends %s on its own", typ)
		if !ok {
			// The zero value stands in (a multicast frame's needs a body).
			sample = reflect.Zero(typ).Interface().(algorithms.Message)
		}
		m, err := c.EncodeMessage(codec.Header{}, sample)
		require.NoError(t, err)
		assert.True(t, families[m.GetID()], "no frame case embeds a message %d (%s)", m.GetID(), typ)
	}
}

func errorsIsAny(err error, targets ...error) bool {
	for _, t := range targets {
		if errors.Is(err, t) {
			return true
		}
	}
	return false
}

// probe is a core message without a binding.
type probe struct{}

func (probe) Kind() string { return "PROBE" }
func (probe) Size() int    { return 1 }

func TestRegistryRejectsDuplicates(t *testing.T) {
	b := codec.Bindings()
	_, err := codec.NewRegistry(append(b, b[0]))
	require.Error(t, err)
	_, err = codec.New(codec.Config{Bindings: append(b, codec.Bind(
		func(probe) *swarm.MessageSwarmMutex {
			return &swarm.MessageSwarmMutex{Algorithm: swarm.SWARM_MUTEX_ALGORITHM_CENTRAL, Kind: swarm.SWARM_MUTEX_KIND_GRANT}
		},
		func(*swarm.MessageSwarmMutex) (probe, error) { return probe{}, nil }))})
	require.Error(t, err, "a second binding for CENTRAL GRANT")
}
