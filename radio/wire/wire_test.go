package wire_test

import (
	"bytes"
	"encoding/binary"
	"testing"
	"time"

	mavdialect "github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/frame"
	"github.com/bluenviron/gomavlib/v3/pkg/message"
	"github.com/bluenviron/gomavlib/v3/pkg/x25"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/radio/dialect"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/radio/internal/mavtest"
	"github.com/skyquorum/skyquorum/radio/wire"
)

const network = 3

var (
	testKey  = wire.Key{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32}
	otherKey = wire.Key{31: 7, 0: 99}
	// base is the receiver's clock in the tests.
	base = wire.TimestampOf(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC))
)

func rw(t testing.TB) *mavdialect.ReadWriter {
	t.Helper()
	d, err := dialect.NewReadWriter()
	require.NoError(t, err)
	return d
}

// swarmMessages returns one sample of every swarm message, on network.
func swarmMessages() []message.Message {
	var out []message.Message
	for i, proto := range swarm.Dialect.Messages {
		m := mavtest.New(proto)
		mavtest.Sample(m, uint64(i+1))
		setNetwork(m, network)
		out = append(out, m)
	}
	return out
}

// setNetwork sets network_id of a swarm message by its field name.
func setNetwork(m message.Message, n uint8) { mavtest.SetNetwork(m, n) }

func sign(t testing.TB, enc *wire.Encoder, m message.Message, key wire.Key, ts wire.Timestamp) []byte {
	t.Helper()
	b, err := enc.Encode(m, &wire.Signature{Key: &key, LinkID: 0, Timestamp: ts})
	require.NoError(t, err)
	return b
}

func newReader(t testing.TB, src wire.Source, datagrams bool) *wire.Reader {
	return wire.NewReader(wire.ReaderConfig{
		Dialect:   rw(t),
		Verifier:  wire.NewVerifier(wire.VerifierConfig{Key: testKey, Network: network}),
		Source:    src,
		Datagrams: datagrams,
	})
}

func drain(r *wire.Reader, now wire.Timestamp) []wire.Frame {
	var out []wire.Frame
	for {
		f, ok := r.Next(now)
		if !ok {
			return out
		}
		out = append(out, f)
	}
}

func TestEverySwarmMessageRoundTrips(t *testing.T) {
	enc := wire.NewEncoder(rw(t), 12, 191)
	r := newReader(t, wire.SourceNetwork, false)
	msgs := swarmMessages()
	var stream []byte
	for i, m := range msgs {
		stream = append(stream, sign(t, enc, m, testKey, base+wire.Timestamp(i))...)
	}
	// Fed one byte at a time, as a slow serial line delivers it.
	var got []wire.Frame
	for _, b := range stream {
		r.Feed([]byte{b})
		got = append(got, drain(r, base)...)
	}
	require.Len(t, got, len(msgs))
	for i, f := range got {
		assert.Equal(t, msgs[i], f.Message)
		assert.True(t, f.Signed)
		assert.Equal(t, uint8(12), f.SystemID)
		assert.Equal(t, uint8(191), f.ComponentID)
		assert.Equal(t, uint8(i), f.Sequence)
		assert.Equal(t, base+wire.Timestamp(i), f.Timestamp)
	}
	c := r.Counters()
	assert.Equal(t, len(msgs), c.Frames)
	assert.Zero(t, c.TotalRejected())
	assert.Equal(t, len(stream), c.Bytes)
}

// TestGomavlibVerifiesOurSignatures reads our frames with gomavlib's own
// reader and key: the two implementations agree on CRC and signature.
func TestGomavlibVerifiesOurSignatures(t *testing.T) {
	d := rw(t)
	enc := wire.NewEncoder(d, 12, 191)
	var stream bytes.Buffer
	msgs := swarmMessages()
	for i, m := range msgs {
		stream.Write(sign(t, enc, m, testKey, base+wire.Timestamp(i)))
	}
	fr := &frame.Reader{ByteReader: &stream, DialectRW: d, InKey: frame.NewV2Key(testKey[:])}
	require.NoError(t, fr.Initialize())
	for _, m := range msgs {
		f, err := fr.Read()
		require.NoError(t, err)
		assert.Equal(t, m, f.GetMessage())
	}
}

func TestGarbageBetweenFrames(t *testing.T) {
	enc := wire.NewEncoder(rw(t), 12, 191)
	r := newReader(t, wire.SourceSerial, false)
	msgs := swarmMessages()
	var stream []byte
	for i, m := range msgs {
		stream = append(stream, 0xFD, 0x00, 0xFD, 0x09, 0x01, 0x55) // false starts
		stream = append(stream, sign(t, enc, m, testKey, base+wire.Timestamp(i))...)
	}
	r.Feed(stream)
	got := drain(r, base)
	require.Len(t, got, len(msgs))
	assert.Positive(t, r.Counters().Skipped)
}

// attack is one hostile or broken input, followed in every test by a good
// frame that must still be accepted.
type attack struct {
	name      string
	reason    wire.Reason
	datagrams bool
	src       wire.Source
	// bytes returns the attack; captured is a genuine frame already
	// accepted by the reader.
	bytes func(t testing.TB, enc *wire.Encoder, captured []byte) []byte
}

func recrc(t testing.TB, raw []byte) {
	t.Helper()
	id := uint32(raw[7]) | uint32(raw[8])<<8 | uint32(raw[9])<<16
	mrw := rw(t).GetMessage(id)
	plen := int(raw[1])
	h := x25.New()
	h.Write(raw[1 : 10+plen])
	h.Write([]byte{mrw.CRCExtra()})
	binary.LittleEndian.PutUint16(raw[10+plen:], h.Sum16())
}

func mutexMsg(n uint8) *swarm.MessageSwarmMutex {
	return &swarm.MessageSwarmMutex{NetworkId: n, SrcVehicle: 2, DstVehicle: 1, Algorithm: swarm.SWARM_MUTEX_ALGORITHM_CENTRAL, Kind: swarm.SWARM_MUTEX_KIND_REQUEST, Resource: 4}
}

var attacks = []attack{
	{name: "forged", reason: wire.BadSignature, bytes: func(t testing.TB, enc *wire.Encoder, _ []byte) []byte {
		b := sign(t, enc, mutexMsg(network), testKey, base+100)
		copy(b[len(b)-6:], []byte{1, 2, 3, 4, 5, 6})
		return b
	}},
	{name: "forged timestamp", reason: wire.BadSignature, bytes: func(t testing.TB, enc *wire.Encoder, captured []byte) []byte {
		b := bytes.Clone(captured)
		b[len(b)-12]++ // timestamp's low byte: the signature no longer matches
		return b
	}},
	{name: "replayed", reason: wire.Replay, bytes: func(t testing.TB, enc *wire.Encoder, captured []byte) []byte {
		return bytes.Clone(captured)
	}},
	{name: "old timestamp in stream", reason: wire.Replay, bytes: func(t testing.TB, enc *wire.Encoder, _ []byte) []byte {
		return sign(t, enc, mutexMsg(network), testKey, base-5)
	}},
	{name: "old timestamp new stream", reason: wire.Replay, bytes: func(t testing.TB, _ *wire.Encoder, _ []byte) []byte {
		other := wire.NewEncoder(rw(t), 77, 191)
		return sign(t, other, mutexMsg(network), testKey, base-wire.Duration(2*time.Minute))
	}},
	{name: "wrong key", reason: wire.BadSignature, bytes: func(t testing.TB, enc *wire.Encoder, _ []byte) []byte {
		return sign(t, enc, mutexMsg(network), otherKey, base+100)
	}},
	{name: "truncated datagram", reason: wire.Truncated, datagrams: true, bytes: func(t testing.TB, enc *wire.Encoder, _ []byte) []byte {
		b := sign(t, enc, mutexMsg(network), testKey, base+100)
		return b[:len(b)-3]
	}},
	{name: "truncated in a stream", reason: wire.BadCRC, bytes: func(t testing.TB, enc *wire.Encoder, _ []byte) []byte {
		b := sign(t, enc, mutexMsg(network), testKey, base+100)
		return b[:20]
	}},
	{name: "bad CRC", reason: wire.BadCRC, bytes: func(t testing.TB, enc *wire.Encoder, _ []byte) []byte {
		b := sign(t, enc, mutexMsg(network), testKey, base+100)
		b[12] ^= 0x40
		return b
	}},
	{name: "unsigned", reason: wire.Unsigned, bytes: func(t testing.TB, enc *wire.Encoder, _ []byte) []byte {
		b, err := enc.Encode(mutexMsg(network), nil)
		require.NoError(t, err)
		return b
	}},
	{name: "unsigned radio status on UDP", reason: wire.Unsigned, bytes: func(t testing.TB, _ *wire.Encoder, _ []byte) []byte {
		radio := wire.NewEncoder(rw(t), wire.RadioSystemID, wire.RadioComponentID)
		b, err := radio.Encode(&ardupilotmega.MessageRadioStatus{Txbuf: 10}, nil)
		require.NoError(t, err)
		return b
	}},
	{name: "unsigned radio status from a drone", reason: wire.Unsigned, src: wire.SourceSerial, bytes: func(t testing.TB, enc *wire.Encoder, _ []byte) []byte {
		b, err := enc.Encode(&ardupilotmega.MessageRadioStatus{Txbuf: 10}, nil)
		require.NoError(t, err)
		return b
	}},
	{name: "oversize", reason: wire.Oversize, bytes: func(t testing.TB, enc *wire.Encoder, _ []byte) []byte {
		b := sign(t, enc, mutexMsg(network), testKey, base+100)
		plen := int(b[1])
		// Grow the payload past SWARM_MUTEX's 19 bytes, then fix the CRC
		// and sign again: only the length is wrong.
		grown := append(append(bytes.Clone(b[:10+plen]), bytes.Repeat([]byte{0xAA}, 40)...), b[10+plen:]...)
		grown[1] = byte(plen + 40)
		recrc(t, grown)
		resign(grown, testKey)
		return grown
	}},
	{name: "wrong network", reason: wire.WrongNetwork, bytes: func(t testing.TB, enc *wire.Encoder, _ []byte) []byte {
		return sign(t, enc, mutexMsg(network+1), testKey, base+100)
	}},
	{name: "unknown message", reason: wire.UnknownMessage, bytes: func(t testing.TB, enc *wire.Encoder, _ []byte) []byte {
		b := sign(t, enc, mutexMsg(network), testKey, base+100)
		b[9] = 0x7F // message ID 0x7FEE48: not in the dialect
		resign(b, testKey)
		return b
	}},
	{name: "unknown incompatibility flag", reason: wire.Malformed, bytes: func(t testing.TB, enc *wire.Encoder, _ []byte) []byte {
		b := sign(t, enc, mutexMsg(network), testKey, base+100)
		b[2] |= 0x80
		return b
	}},
	{name: "years ahead", reason: wire.Ahead, bytes: func(t testing.TB, enc *wire.Encoder, _ []byte) []byte {
		return sign(t, enc, mutexMsg(network), testKey, base+wire.Duration(3*365*24*time.Hour))
	}},
	{name: "MAVLink 1", reason: wire.Version1, bytes: func(t testing.TB, _ *wire.Encoder, _ []byte) []byte {
		return v1Frame(t, &ardupilotmega.MessageHeartbeat{Type: 2, Autopilot: 3, MavlinkVersion: 3})
	}},
}

// resign recomputes the signature of a signed frame.
func resign(b []byte, key wire.Key) {
	sig := sha256Sum(key, b[:len(b)-6])
	copy(b[len(b)-6:], sig[:6])
}

func TestAttacksRejected(t *testing.T) {
	for _, a := range attacks {
		t.Run(a.name, func(t *testing.T) {
			enc := wire.NewEncoder(rw(t), 12, 191)
			r := newReader(t, a.src, a.datagrams)
			captured := sign(t, enc, mutexMsg(network), testKey, base)
			r.Feed(captured)
			require.Len(t, drain(r, base), 1)

			require.NotPanics(t, func() {
				r.Feed(a.bytes(t, enc, captured))
				assert.Empty(t, drain(r, base), "the attack must not be accepted")
			})
			// The link goes on: a good frame after the attack is accepted
			// (on a serial stream, a frame cut short is only known to be
			// bad once the next one arrives).
			good := sign(t, enc, mutexMsg(network), testKey, base+1000)
			r.Feed(good)
			got := drain(r, base)
			require.Len(t, got, 1)
			assert.Equal(t, good, got[0].Raw)

			c := r.Counters()
			assert.Equal(t, 1, c.Rejected(a.reason), "%s counted once as %s", a.name, a.reason)
			assert.Equal(t, 1, c.TotalRejected(), "%s counted for no other reason: %+v", a.name, c)
		})
	}
}

func TestLocalRadioStatusFeedsPacing(t *testing.T) {
	r := newReader(t, wire.SourceSerial, false)
	radio := wire.NewEncoder(rw(t), wire.RadioSystemID, wire.RadioComponentID)
	b, err := radio.Encode(&ardupilotmega.MessageRadioStatus{Txbuf: 42, Rssi: 200}, nil)
	require.NoError(t, err)
	r.Feed(b)
	got := drain(r, base)
	require.Len(t, got, 1)
	assert.True(t, got[0].IsRadioStatus())
	assert.Equal(t, uint8(42), got[0].Message.(*ardupilotmega.MessageRadioStatus).Txbuf)
	assert.Equal(t, 1, r.Counters().RadioStatus)
	assert.Zero(t, r.Counters().Frames)
}

func TestNonSwarmSignedMessagesBelongToTheLocalNetwork(t *testing.T) {
	r := newReader(t, wire.SourceNetwork, false)
	enc := wire.NewEncoder(rw(t), 12, 191)
	r.Feed(sign(t, enc, &ardupilotmega.MessageTimesync{Tc1: 1, Ts1: 2}, testKey, base))
	got := drain(r, base)
	require.Len(t, got, 1)
	assert.Equal(t, &ardupilotmega.MessageTimesync{Tc1: 1, Ts1: 2}, got[0].Message)
}

func TestStreamsAreSeparate(t *testing.T) {
	r := newReader(t, wire.SourceNetwork, false)
	a := wire.NewEncoder(rw(t), 1, 191)
	b := wire.NewEncoder(rw(t), 2, 191)
	r.Feed(sign(t, a, mutexMsg(network), testKey, base+10))
	// Another system's stream has its own last timestamp.
	r.Feed(sign(t, b, mutexMsg(network), testKey, base+5))
	// Another link of system 1 too.
	k := testKey
	lb, err := a.Encode(mutexMsg(network), &wire.Signature{Key: &k, LinkID: 1, Timestamp: base + 5})
	require.NoError(t, err)
	r.Feed(lb)
	assert.Len(t, drain(r, base), 3)
	assert.Zero(t, r.Counters().TotalRejected())
}

func TestReasonsHaveNames(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range wire.Reasons() {
		assert.NotEqual(t, "unknown reason", r.String())
		assert.False(t, seen[r.String()])
		seen[r.String()] = true
	}
}
