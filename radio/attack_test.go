package radio_test

import (
	"bytes"
	"encoding/binary"
	"net"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/x25"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/radio/dialect"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/radio/link"
	"github.com/skyquorum/skyquorum/radio/wire"
)

// TestAttacksOnTheLink runs the acceptance list of attacks against a
// receiving Radio on UDP, starting from a frame an eavesdropper captured
// from the link: each is rejected with the right counter, and a genuine
// frame sent after all of them is still delivered.
func TestAttacksOnTheLink(t *testing.T) {
	eve, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	defer eve.Close()
	lb, err := link.ListenUDP(link.UDPConfig{Listen: "127.0.0.1:0"})
	require.NoError(t, err)
	la, err := link.ListenUDP(link.UDPConfig{Listen: "127.0.0.1:0", Peers: []string{lb.Addr().String(), eve.LocalAddr().String()}})
	require.NoError(t, err)
	a := open(t, la, 1, nil)
	b := open(t, lb, 2, nil)

	msg := &swarm.MessageSwarmMutex{NetworkId: testNetwork, SrcVehicle: 1, DstVehicle: 2, Resource: 8,
		Algorithm: swarm.SWARM_MUTEX_ALGORITHM_CENTRAL, Kind: swarm.SWARM_MUTEX_KIND_REQUEST}
	require.NoError(t, a.Send(msg, link.Broadcast))
	receive(t, b, 1)
	buf := make([]byte, 512)
	require.NoError(t, eve.SetReadDeadline(time.Now().Add(10*time.Second)))
	n, _, err := eve.ReadFromUDP(buf)
	require.NoError(t, err)
	captured := append([]byte(nil), buf[:n]...)

	rw, err := dialect.NewReadWriter()
	require.NoError(t, err)
	// An insider of another network (same swarm key) and a drone whose
	// frames were recorded two minutes ago.
	key := testKey
	insider := wire.NewEncoder(rw, 1, 191)
	signed := func(enc *wire.Encoder, k wire.Key, ts wire.Timestamp, network uint8) []byte {
		m := *msg
		m.NetworkId = network
		f, err := enc.Encode(&m, &wire.Signature{Key: &k, Timestamp: ts})
		require.NoError(t, err)
		return f
	}
	now := wire.TimestampOf(time.Now())
	plen := int(captured[1])
	fixCRC := func(f []byte) []byte {
		h := x25.New()
		h.Write(f[1 : 10+int(f[1])])
		h.Write([]byte{rw.GetMessage(61000).CRCExtra()})
		binary.LittleEndian.PutUint16(f[10+int(f[1]):], h.Sum16())
		return f
	}
	attacks := []struct {
		name   string
		frame  []byte
		reason wire.Reason
	}{
		{"replayed", captured, wire.Replay},
		{"forged", func() []byte {
			f := bytes.Clone(captured)
			f[10] ^= 0x01 // change the payload, fix the public CRC
			return fixCRC(f)
		}(), wire.BadSignature},
		{"old timestamp", signed(wire.NewEncoder(rw, 77, 191), key, now-wire.Duration(2*time.Minute), testNetwork), wire.Replay},
		{"wrong key", signed(wire.NewEncoder(rw, 78, 191), wire.Key{1}, now, testNetwork), wire.BadSignature},
		{"truncated", captured[:len(captured)-4], wire.Truncated},
		{"bad CRC", func() []byte {
			f := bytes.Clone(captured)
			f[10+plen] ^= 0xFF
			return f
		}(), wire.BadCRC},
		{"unsigned", func() []byte {
			f, err := wire.NewEncoder(rw, 79, 191).Encode(msg, nil)
			require.NoError(t, err)
			return f
		}(), wire.Unsigned},
		{"oversize", func() []byte {
			f := append(bytes.Clone(captured[:10+plen]), make([]byte, 30)...)
			f[10+plen+29] = 1
			f[1] = byte(plen + 30)
			f = fixCRC(append(f, captured[10+plen:]...))
			return f
		}(), wire.Oversize},
		{"wrong network", signed(insider, key, now+wire.Duration(time.Second), testNetwork+1), wire.WrongNetwork},
	}
	for _, at := range attacks {
		_, err := eve.WriteToUDP(at.frame, lb.Addr().(*net.UDPAddr))
		require.NoError(t, err, at.name)
	}
	// A genuine frame after the attacks still gets through.
	require.NoError(t, a.Send(msg, link.Broadcast))
	f := receive(t, b, 1)[0]
	assert.Equal(t, msg, f.Message)

	c := b.Counters().Reader
	want := map[wire.Reason]int{}
	for _, at := range attacks {
		want[at.reason]++
	}
	for _, reason := range wire.Reasons() {
		assert.Equal(t, want[reason], c.Rejected(reason), "rejected as %s", reason)
	}
	assert.Equal(t, 2, c.Frames)
	select {
	case extra := <-b.Received():
		t.Fatalf("an attack was delivered: %+v", extra)
	default:
	}
}
