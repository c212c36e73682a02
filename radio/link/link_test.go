package link_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/radio/dialect"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/radio/internal/ptypair"
	"github.com/skyquorum/skyquorum/radio/link"
	"github.com/skyquorum/skyquorum/radio/wire"
)

const network = 1

var key = wire.Key{7, 7, 7}

// peer encodes and verifies real signed frames on one end of a link.
type peer struct {
	t      *testing.T
	link   link.Link
	enc    *wire.Encoder
	reader *wire.Reader
	ts     wire.Timestamp
}

func newPeer(t *testing.T, l link.Link, sysid uint8) *peer {
	rw, err := dialect.NewReadWriter()
	require.NoError(t, err)
	src := wire.SourceNetwork
	if l.Info().LocalRadio {
		src = wire.SourceSerial
	}
	return &peer{
		t:    t,
		link: l,
		enc:  wire.NewEncoder(rw, sysid, 191),
		reader: wire.NewReader(wire.ReaderConfig{
			Dialect:   rw,
			Verifier:  wire.NewVerifier(wire.VerifierConfig{Key: key, Network: network}),
			Source:    src,
			Datagrams: l.Info().Datagrams,
		}),
		ts: wire.TimestampOf(time.Now()),
	}
}

func (p *peer) frame(resource uint16) []byte {
	p.ts++
	k := key
	b, err := p.enc.Encode(&swarm.MessageSwarmMutex{
		NetworkId: network, SrcVehicle: 1, DstVehicle: 2, Resource: resource,
		Algorithm: swarm.SWARM_MUTEX_ALGORITHM_CENTRAL, Kind: swarm.SWARM_MUTEX_KIND_REQUEST,
	}, &wire.Signature{Key: &k, Timestamp: p.ts})
	require.NoError(p.t, err)
	return b
}

func (p *peer) send(resource uint16, to link.Dest) error {
	return p.link.Send(p.frame(resource), to)
}

// expect receives until n frames are accepted, and returns their
// resources.
func (p *peer) expect(n int) []uint16 {
	p.t.Helper()
	var got []uint16
	done := make(chan struct{})
	go func() {
		defer close(done)
		for len(got) < n {
			pk, err := p.link.Receive()
			if err != nil {
				return
			}
			p.reader.Feed(pk.Data)
			for {
				f, ok := p.reader.Next(wire.TimestampOf(time.Now()))
				if !ok {
					break
				}
				got = append(got, f.Message.(*swarm.MessageSwarmMutex).Resource)
			}
		}
	}()
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		p.t.Fatalf("received %d of %d frames", len(got), n)
	}
	return got
}

func TestMemoryUnicastAndBroadcast(t *testing.T) {
	hub := link.NewHub()
	a, err := hub.Join(1)
	require.NoError(t, err)
	b, err := hub.Join(2)
	require.NoError(t, err)
	c, err := hub.Join(3)
	require.NoError(t, err)
	_, err = hub.Join(2)
	require.Error(t, err)

	pa, pb, pc := newPeer(t, a, 1), newPeer(t, b, 2), newPeer(t, c, 3)
	require.NoError(t, pa.send(10, 2))
	require.NoError(t, pa.send(11, link.Broadcast))
	assert.Equal(t, []uint16{10, 11}, pb.expect(2))
	assert.Equal(t, []uint16{11}, pc.expect(1), "the unicast went to 2 only")
	assert.Equal(t, 2, a.Counters().Sends)
	assert.Equal(t, 2, b.Counters().Packets)

	require.NoError(t, c.Close())
	_, err = c.Receive()
	require.ErrorIs(t, err, link.ErrClosed)
	require.ErrorIs(t, c.Send([]byte{1}, link.Broadcast), link.ErrClosed)
	require.NoError(t, a.Close())
	require.NoError(t, b.Close())
}

func TestUDPBothWaysAndUnicastRoute(t *testing.T) {
	a, err := link.ListenUDP(link.UDPConfig{Listen: "127.0.0.1:0"})
	require.NoError(t, err)
	b, err := link.ListenUDP(link.UDPConfig{Listen: "127.0.0.1:0", Peers: []string{a.Addr().String()}})
	require.NoError(t, err)
	// a learns nothing from configuration: it answers the address it
	// verified b's frames from.
	pa, pb := newPeer(t, a, 1), newPeer(t, b, 2)
	require.NoError(t, pb.send(1, link.Broadcast))
	require.NoError(t, pb.send(2, 1))
	assert.Equal(t, []uint16{1, 2}, pa.expect(2))
	a.Learn(2, b.Addr().String())
	require.NoError(t, pa.send(3, 2))
	assert.Equal(t, []uint16{3}, pb.expect(1))
	assert.True(t, a.Info().Datagrams)
	require.NoError(t, a.Close())
	require.NoError(t, b.Close())
	_, err = a.Receive()
	require.ErrorIs(t, err, link.ErrClosed)
}

// TestUDPHubIgnoresStrays checks that a link to a radio hub takes
// datagrams only from the hub, and tells the radio that the hub stands for
// its local radio.
func TestUDPHubIgnoresStrays(t *testing.T) {
	hub, err := link.ListenUDP(link.UDPConfig{Listen: "127.0.0.1:0"})
	require.NoError(t, err)
	defer hub.Close()
	stray, err := link.ListenUDP(link.UDPConfig{Listen: "127.0.0.1:0"})
	require.NoError(t, err)
	defer stray.Close()
	d, err := link.ListenUDP(link.UDPConfig{Listen: "127.0.0.1:0", Peers: []string{hub.Addr().String()}, Hub: true})
	require.NoError(t, err)
	defer d.Close()
	assert.True(t, d.Info().LocalRadio)
	stray.Learn(9, d.Addr().String())
	require.NoError(t, stray.Send([]byte("stray"), 9))
	hub.Learn(9, d.Addr().String())
	require.NoError(t, hub.Send([]byte("hub"), 9))
	p, err := d.Receive()
	require.NoError(t, err)
	assert.Equal(t, "hub", string(p.Data))
	c := d.Counters()
	assert.Equal(t, 1, c.Packets)
	assert.Equal(t, 1, c.Strays)
}

// TestSerialOverPtyPair runs real signed frames both ways over a socat pty
// pair, pulls the "radio" out (socat stops, both devices vanish), checks
// that sends fail instead of vanishing, puts it back, and checks that
// frames flow again both ways.
func TestSerialOverPtyPair(t *testing.T) {
	dir := t.TempDir()
	pair := ptypair.Start(t, dir)
	a, err := link.OpenSerial(link.SerialConfig{Device: pair.A, Baud: 57600, Retry: 50 * time.Millisecond})
	require.NoError(t, err)
	defer a.Close()
	b, err := link.OpenSerial(link.SerialConfig{Device: pair.B, Baud: 57600, Retry: 50 * time.Millisecond})
	require.NoError(t, err)
	defer b.Close()
	pa, pb := newPeer(t, a, 1), newPeer(t, b, 2)
	assert.True(t, a.Info().LocalRadio)

	for i := range 20 {
		require.NoError(t, pa.send(uint16(i), link.Broadcast))
		require.NoError(t, pb.send(uint16(100+i), link.Broadcast))
	}
	assert.Len(t, pb.expect(20), 20)
	assert.Len(t, pa.expect(20), 20)

	pair.Stop()
	waitFor(t, "both links notice the device vanished", func() bool {
		return !a.Connected() && !b.Connected()
	})
	err = pa.send(999, link.Broadcast)
	require.ErrorIs(t, err, link.ErrDisconnected, "a send while the device is gone fails, it is not dropped silently")
	assert.GreaterOrEqual(t, a.Counters().Disconnects, 1)

	ptypair.Start(t, dir) // the radio is back (stopped when the test ends)
	waitFor(t, "both links reopen the device", func() bool { return a.Connected() && b.Connected() })
	assert.GreaterOrEqual(t, a.Counters().Reconnects, 1)
	for i := range 10 {
		require.NoError(t, pa.send(uint16(200+i), link.Broadcast))
		require.NoError(t, pb.send(uint16(300+i), link.Broadcast))
	}
	got := pb.expect(10)
	assert.Equal(t, uint16(200), got[0])
	got = pa.expect(10)
	assert.Equal(t, uint16(300), got[0])
	assert.Zero(t, pa.reader.Counters().TotalRejected())
	assert.Zero(t, pb.reader.Counters().TotalRejected())
}

func TestSerialOpenErrors(t *testing.T) {
	_, err := link.OpenSerial(link.SerialConfig{Device: "/nonexistent/tty", Baud: 57600})
	require.ErrorContains(t, err, "is the radio plugged in")
	_, err = link.OpenSerial(link.SerialConfig{Device: "/nonexistent/tty"})
	require.ErrorContains(t, err, "baud")
}

func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting until %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
