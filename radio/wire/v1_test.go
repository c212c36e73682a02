package wire_test

import (
	"testing"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/x25"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/radio/wire"
)

// v1Frame is a MAVLink 1 frame (magic 0xFE, unsignable) of msg.
func v1Frame(t testing.TB, msg *ardupilotmega.MessageHeartbeat) []byte {
	t.Helper()
	mrw := rw(t).GetMessage(msg.GetID())
	require.NotNil(t, mrw)
	payload := mrw.Write(msg, false).Payload
	b := append([]byte{0xFE, byte(len(payload)), 7, 1, 1, byte(msg.GetID())}, payload...)
	h := x25.New()
	h.Write(b[1:])
	h.Write([]byte{mrw.CRCExtra()})
	s := h.Sum16()
	return append(b, byte(s), byte(s>>8))
}

// TestMAVLink1Counted: MAVLink 1 frames cannot be signed, so they are
// rejected, and counted as such, on streams and datagrams alike; the
// frames around them still get through.
func TestMAVLink1Counted(t *testing.T) {
	for _, datagrams := range []bool{false, true} {
		r := newReader(t, wire.SourceSerial, datagrams)
		enc := wire.NewEncoder(rw(t), 12, 191)
		v1 := v1Frame(t, &ardupilotmega.MessageHeartbeat{Type: 2, Autopilot: 3, SystemStatus: 4, MavlinkVersion: 3})
		var got []wire.Frame
		if datagrams {
			for _, d := range [][]byte{v1, sign(t, enc, mutexMsg(network), testKey, base), v1} {
				r.Feed(d)
				got = append(got, drain(r, base)...)
			}
		} else {
			var stream []byte
			stream = append(stream, v1...)
			stream = append(stream, sign(t, enc, mutexMsg(network), testKey, base)...)
			stream = append(stream, 0xFE, 0x00, 0x01) // a stray 0xFE is not a frame
			stream = append(stream, v1...)
			r.Feed(stream)
			got = drain(r, base)
		}
		assert.Len(t, got, 1, "datagrams %v", datagrams)
		c := r.Counters()
		assert.Equal(t, 2, c.TotalRejected(), "datagrams %v: both MAVLink 1 frames counted: %+v", datagrams, c)
	}
}

// TestMAVLink1CannotSwallowAFrame: a MAVLink 1 frame whose (unsigned)
// length and CRC cover the genuine frame behind it does not take it along.
func TestMAVLink1CannotSwallowAFrame(t *testing.T) {
	r := newReader(t, wire.SourceSerial, false)
	enc := wire.NewEncoder(rw(t), 12, 191)
	genuine := sign(t, enc, mutexMsg(network), testKey, base)
	mrw := rw(t).GetMessage(0) // HEARTBEAT
	b := append([]byte{0xFE, byte(len(genuine)), 7, 1, 1, 0}, genuine...)
	h := x25.New()
	h.Write(b[1:])
	h.Write([]byte{mrw.CRCExtra()})
	sum := h.Sum16()
	b = append(b, byte(sum), byte(sum>>8))
	r.Feed(b)
	got := drain(r, base)
	require.Len(t, got, 1)
	assert.Equal(t, genuine, got[0].Raw)
	assert.Equal(t, 1, r.Counters().Rejected(wire.Version1))
}
