package codec_test

import (
	"errors"
	"testing"

	"github.com/bluenviron/gomavlib/v3/pkg/message"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/mutex"
	"github.com/skyquorum/skyquorum/radio/arq"
	"github.com/skyquorum/skyquorum/radio/codec"
	"github.com/skyquorum/skyquorum/radio/dialect"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
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
	_, _, err = c.DecodeMessage(&swarm.MessageSwarmMutex{Algorithm: swarm.SWARM_MUTEX_ALGORITHM_MAEKAWA, Kind: swarm.SWARM_MUTEX_KIND_YES})
	require.ErrorIs(t, err, codec.ErrUnknown)
	_, _, err = c.DecodeMessage(&swarm.MessageSwarmAck{Kind: swarm.SWARM_ACK_KIND_ACK})
	require.ErrorIs(t, err, codec.ErrUnknown)
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
