package codec_test

import (
	"fmt"
	"testing"

	"github.com/bluenviron/gomavlib/v3/pkg/message"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/radio/dialect"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/radio/internal/mavtest"
)

type codecSeed struct {
	name    string
	id      uint16
	payload []byte
}

// codecSeeds are the MAVLink payloads of every case of the table.
func codecSeeds(t testing.TB) []codecSeed {
	c := newCodec(t)
	rw, err := dialect.NewReadWriter()
	require.NoError(t, err)
	var out []codecSeed
	for _, tc := range cases {
		var msgs []message.Message
		if tc.frame != nil {
			msgs, err = c.EncodeFrame(tc.frame)
		} else {
			var m message.Message
			m, err = c.EncodeMessage(tc.hdr, tc.msg)
			msgs = []message.Message{m}
		}
		require.NoError(t, err, tc.name)
		for i, m := range msgs {
			raw := rw.GetMessage(m.GetID()).Write(m, true)
			out = append(out, codecSeed{fmt.Sprintf("%s-%d", tc.name, i), uint16(m.GetID()), raw.Payload})
		}
	}
	return out
}

// TestCodecCorpus keeps testdata/fuzz/FuzzCodec in step with the case
// table (rewritten when SKYQUORUM_UPDATE_CORPUS is set).
func TestCodecCorpus(t *testing.T) {
	if !mavtest.UpdateCorpus() {
		t.Skipf("set %s=1 to rewrite the seed corpus", mavtest.UpdateCorpusEnv)
	}
	for _, s := range codecSeeds(t) {
		require.NoError(t, mavtest.WriteCorpusFile("FuzzCodec", s.name, s.id, s.payload))
	}
}

// FuzzCodec decodes arbitrary payloads of swarm messages; whatever decodes
// must encode back to the same frame or message.
func FuzzCodec(f *testing.F) {
	for _, s := range codecSeeds(f) {
		f.Add(s.id, s.payload)
	}
	c := newCodec(f)
	rw, err := dialect.NewReadWriter()
	require.NoError(f, err)
	f.Fuzz(func(t *testing.T, id uint16, payload []byte) {
		mrw := rw.GetMessage(uint32(id))
		if mrw == nil || !dialect.IsSwarm(uint32(id)) {
			return
		}
		msg, err := mrw.Read(&message.MessageRaw{ID: uint32(id), Payload: payload}, true)
		if err != nil {
			return
		}
		switch m := msg.(type) {
		case *swarm.MessageSwarmData, *swarm.MessageSwarmAck:
			if a, ok := m.(*swarm.MessageSwarmAck); ok && a.Kind != swarm.SWARM_ACK_KIND_ACK {
				break
			}
			fr, err := c.DecodeFrame(msg)
			if err != nil {
				return
			}
			if h, _ := codecAddressing(msg); h != testNetwork {
				return // the codec writes its own network
			}
			msgs, err := c.EncodeFrame(fr)
			require.NoError(t, err, "a decoded frame must encode: %+v", fr)
			back, err := decodeAll(c, msgs)
			require.NoError(t, err)
			require.Equal(t, fr, back)
			return
		}
		h, core, err := c.DecodeMessage(msg)
		if err != nil || h.Network != testNetwork {
			return
		}
		again, err := c.EncodeMessage(h, core)
		require.NoError(t, err)
		require.Equal(t, msg, again)
	})
}

func codecAddressing(msg message.Message) (uint8, bool) {
	switch m := msg.(type) {
	case *swarm.MessageSwarmData:
		return m.NetworkId, true
	case *swarm.MessageSwarmAck:
		return m.NetworkId, true
	}
	return 0, false
}
