package hub_test

import (
	"bufio"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/radio"
	"github.com/skyquorum/skyquorum/radio/dialect"
	"github.com/skyquorum/skyquorum/radio/link"
	"github.com/skyquorum/skyquorum/radio/wire"
	"github.com/skyquorum/skyquorum/sitl/hub"
)

var testKey = wire.Key{1: 0x42, 30: 0x24}

const testNetwork = 1

var quiet = slog.New(slog.DiscardHandler)

// start runs a hub for the test; RADIO_STATUS is off unless cfg sets it.
func start(t *testing.T, cfg hub.Config) *hub.Hub {
	t.Helper()
	if cfg.StatusEvery == 0 {
		cfg.StatusEvery = time.Hour
	}
	cfg.Logger = quiet
	h, err := hub.Start(cfg)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, h.Close()) })
	return h
}

// station is a raw UDP socket that sends signed frames from one system ID
// to the hub and reads what the hub relays.
type station struct {
	t     *testing.T
	conn  *net.UDPConn
	hub   *net.UDPAddr
	enc   *wire.Encoder
	ts    wire.Timestamp
	sysid uint8
}

func newStation(t *testing.T, h *hub.Hub, network int, sysid uint8) *station {
	t.Helper()
	conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: net.IPv4(127, 0, 0, 1)})
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	addr, err := net.ResolveUDPAddr("udp", h.Addr(network))
	require.NoError(t, err)
	rw, err := dialect.NewReadWriter()
	require.NoError(t, err)
	return &station{t: t, conn: conn, hub: addr, enc: wire.NewEncoder(rw, sysid, 191), ts: wire.Timestamp(1e9), sysid: sysid}
}

// send sends one signed HEARTBEAT whose custom mode is tag, and returns
// its bytes.
func (s *station) send(tag uint32) []byte {
	s.t.Helper()
	s.ts++
	f, err := s.enc.Encode(&ardupilotmega.MessageHeartbeat{CustomMode: tag}, &wire.Signature{Key: &testKey, Timestamp: s.ts})
	require.NoError(s.t, err)
	_, err = s.conn.WriteToUDP(f, s.hub)
	require.NoError(s.t, err)
	return f
}

// read returns the datagrams that arrive within quiet of each other.
func (s *station) read(quiet time.Duration) [][]byte {
	s.t.Helper()
	var out [][]byte
	buf := make([]byte, 2048)
	for {
		require.NoError(s.t, s.conn.SetReadDeadline(time.Now().Add(quiet)))
		n, _, err := s.conn.ReadFromUDP(buf)
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return out
		}
		require.NoError(s.t, err)
		out = append(out, append([]byte(nil), buf[:n]...))
	}
}

// readN returns the next n datagrams.
func (s *station) readN(n int) [][]byte {
	s.t.Helper()
	var out [][]byte
	buf := make([]byte, 2048)
	require.NoError(s.t, s.conn.SetReadDeadline(time.Now().Add(10*time.Second)))
	for len(out) < n {
		size, _, err := s.conn.ReadFromUDP(buf)
		require.NoError(s.t, err, "system %d received %d of %d frames", s.sysid, len(out), n)
		out = append(out, append([]byte(nil), buf[:size]...))
	}
	return out
}

// join makes every station known to the hub, then drains what they got.
func join(t *testing.T, h *hub.Hub, network int, ss ...*station) {
	t.Helper()
	for _, s := range ss {
		s.send(0)
	}
	require.Eventually(t, func() bool {
		nc := h.Counters().Networks[network-1]
		return len(nc.Endpoints) == len(ss) && nc.Frames == len(ss)
	}, 10*time.Second, 5*time.Millisecond)
	for _, s := range ss {
		s.read(100 * time.Millisecond)
	}
}

// TestRelaysUnchangedToEveryOtherEndpoint sends one frame from each of
// three stations and checks that each station gets exactly the two frames
// of the others, byte for byte, and never its own.
func TestRelaysUnchangedToEveryOtherEndpoint(t *testing.T) {
	h := start(t, hub.Config{Seed: 1})
	ss := []*station{newStation(t, h, 1, 1), newStation(t, h, 1, 2), newStation(t, h, 1, 255)}
	join(t, h, 1, ss...)
	// How many of the joining frames reached whom depends on when the hub
	// learnt each station: count deliveries from here.
	joined := h.Counters().Networks[0]
	sent := map[uint8][]byte{}
	for _, s := range ss {
		sent[s.sysid] = s.send(uint32(s.sysid))
	}
	for _, s := range ss {
		got := s.readN(2)
		got = append(got, s.read(200*time.Millisecond)...)
		var want [][]byte
		for _, o := range ss {
			if o != s {
				want = append(want, sent[o.sysid])
			}
		}
		assert.ElementsMatch(t, want, got, "system %d", s.sysid)
	}
	nc := h.Counters().Networks[0]
	assert.Equal(t, 6, nc.Frames)
	assert.Equal(t, 6, nc.Delivered-joined.Delivered)
	assert.Equal(t, 6*len(sent[1]), nc.Bytes)
	assert.Equal(t, 6*hub.Airtime(len(sent[1]), 57600), nc.Airtime, "6 frames of %d bytes at 57600 baud", len(sent[1]))
	for i, ep := range nc.Endpoints {
		assert.Equal(t, ss[i].sysid, ep.SystemID)
		assert.Equal(t, "udp:"+ss[i].conn.LocalAddr().String(), ep.Endpoint)
		assert.Equal(t, 2, ep.Frames)
		assert.Equal(t, 2, ep.Received-joined.Endpoints[i].Received)
	}
}

// TestNetworksAreSeparateChannels checks that a frame stays on its own
// network.
func TestNetworksAreSeparateChannels(t *testing.T) {
	h := start(t, hub.Config{Networks: 2})
	require.NotEqual(t, h.Addr(1), h.Addr(2))
	assert.Equal(t, "", h.Addr(3))
	a, b := newStation(t, h, 1, 1), newStation(t, h, 1, 2)
	c := newStation(t, h, 2, 3)
	join(t, h, 1, a, b)
	join(t, h, 2, c)
	f := a.send(7)
	assert.Equal(t, [][]byte{f}, b.readN(1))
	assert.Empty(t, c.read(200*time.Millisecond))
	assert.Equal(t, 0, h.Counters().Networks[1].Delivered)
}

// control sends commands on the hub's control port.
type control struct {
	t    *testing.T
	conn net.Conn
	r    *bufio.Reader
}

func dialControl(t *testing.T, h *hub.Hub) *control {
	t.Helper()
	conn, err := net.Dial("tcp", h.ControlAddr())
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	return &control{t: t, conn: conn, r: bufio.NewReader(conn)}
}

func (c *control) do(cmd string) string {
	c.t.Helper()
	_, err := c.conn.Write([]byte(cmd + "\n"))
	require.NoError(c.t, err)
	line, err := c.r.ReadString('\n')
	require.NoError(c.t, err)
	return strings.TrimSuffix(line, "\n")
}

// TestPartitionOverControlPort partitions a network of three stations
// through the control port and checks that exactly the frames between
// groups are blocked, until heal.
func TestPartitionOverControlPort(t *testing.T) {
	h := start(t, hub.Config{})
	s1, s2, s3 := newStation(t, h, 1, 1), newStation(t, h, 1, 2), newStation(t, h, 1, 3)
	join(t, h, 1, s1, s2, s3)
	ctl := dialControl(t, h)
	require.Equal(t, "ok", ctl.do("partition 1 1 2,3"))

	f1, f2, f3 := s1.send(1), s2.send(2), s3.send(3)
	assert.Equal(t, [][]byte{f3}, s2.readN(1))
	assert.Equal(t, [][]byte{f2}, s3.readN(1))
	assert.Empty(t, s1.read(200*time.Millisecond), "system 1 is cut off")
	assert.Empty(t, s2.read(50*time.Millisecond))
	assert.Empty(t, s3.read(50*time.Millisecond))
	_ = f1

	var c hub.Counters
	require.NoError(t, json.Unmarshal([]byte(ctl.do("counters")), &c))
	require.Len(t, c.Networks, 1)
	assert.Equal(t, 4, c.Networks[0].PartitionDrops, "1→2, 1→3, 2→1, 3→1")
	assert.Equal(t, []int{2, 1, 1}, []int{c.Networks[0].Endpoints[0].PartitionDrops, c.Networks[0].Endpoints[1].PartitionDrops, c.Networks[0].Endpoints[2].PartitionDrops})

	require.Equal(t, "ok", ctl.do("heal 1"))
	f1 = s1.send(11)
	assert.Equal(t, [][]byte{f1}, s2.readN(1))
	assert.Equal(t, [][]byte{f1}, s3.readN(1))
	assert.Equal(t, 4, h.Counters().Networks[0].PartitionDrops)

	// The Go API does the same.
	h.Partition(1, []uint8{3})
	s3.send(12)
	assert.Empty(t, s1.read(200*time.Millisecond))
	h.Heal(1)
	f3 = s3.send(13)
	assert.Equal(t, [][]byte{f3}, s1.readN(1))
}

// TestControlPortErrorsSayWhatToFix checks the reply to every kind of bad
// command.
func TestControlPortErrorsSayWhatToFix(t *testing.T) {
	h := start(t, hub.Config{Networks: 2})
	ctl := dialControl(t, h)
	for cmd, want := range map[string]string{
		"frobnicate":            `error: unknown command "frobnicate"; commands: "partition NET 1,2,3 4,5"`,
		"heal":                  "error: heal takes one network number: heal NET",
		"heal 3":                `error: network "3": give a network number 1–2`,
		"heal x":                `error: network "x": give a network number 1–2`,
		"partition 1":           "error: partition takes a network number and at least one group of system IDs: partition NET 1,2,3 4,5",
		"partition 0 1":         `error: network "0": give a network number 1–2`,
		"partition 1 1,x":       `error: group "1,x": "x" is not a MAVLink system ID (1–255); write a group as IDs joined by commas, such as 1,2,3`,
		"partition 1 1,256":     `error: group "1,256": "256" is not a MAVLink system ID (1–255)`,
		"partition 1 1,2 2,3":   "error: hub: system ID 2 is in groups 1 and 2: put it in one",
		"counters please":       "error: counters takes no arguments",
		"help":                  `commands: "partition NET 1,2,3 4,5" (groups of system IDs), "heal NET", "counters", "help"`,
		"partition 2 1,2 3 255": "ok",
	} {
		assert.True(t, strings.HasPrefix(ctl.do(cmd), want), "%q: got %q, want it to begin %q", cmd, ctl.do(cmd), want)
	}
}

// TestRadioStatusPacesTheDroneRadio runs a drone's radio (package radio)
// on a UDP link to a slow hub: the hub's RADIO_STATUS frames reach it as
// its local radio's, report the transmit queue filling up, and the radio
// slows down, so that the hub's queue overflows less than it does for the
// same traffic without RADIO_STATUS; once the queue empties the radio
// speeds up again.
func TestRadioStatusPacesTheDroneRadio(t *testing.T) {
	// 30 signed HEARTBEATs of 34 bytes: 1020 bytes offered at 57600 baud
	// into a 400-byte queue drained at 2400 baud (142 ms a frame).
	const frames = 30
	flood := func(statusEvery time.Duration) (ep hub.EndpointCounters, statuses []*ardupilotmega.MessageRadioStatus, slowed bool) {
		h := start(t, hub.Config{Baud: 2400, QueueBytes: 400, StatusEvery: statusEvery})
		l, err := link.ListenUDP(link.UDPConfig{Listen: "127.0.0.1:0", Peers: []string{h.Addr(1)}, Hub: true})
		require.NoError(t, err)
		r, err := radio.Open(radio.Config{Link: l, Key: testKey, Network: testNetwork, SystemID: 1, Baud: 57600})
		require.NoError(t, err)
		defer r.Close()
		for i := range frames {
			require.NoError(t, r.Send(&ardupilotmega.MessageHeartbeat{CustomMode: uint32(i)}, link.Broadcast))
		}
		deadline := time.After(30 * time.Second)
		for {
			c := r.Counters()
			slowed = slowed || c.Queue.Slowdown > 0
			ep = hub.EndpointCounters{}
			if eps := h.Counters().Networks[0].Endpoints; len(eps) > 0 {
				ep = eps[0]
			}
			settled := c.Queue.Frames[0] == frames && ep.Frames+ep.QueueDrops == frames && ep.Queued == 0 && c.Queue.Slowdown == 0
			if settled && (statusEvery == time.Hour || statuses[len(statuses)-1].Txbuf == 100) {
				return ep, statuses, slowed
			}
			select {
			case f := <-r.Received():
				require.True(t, f.IsRadioStatus(), "only RADIO_STATUS comes back: %T", f.Message)
				assert.Equal(t, uint8(wire.RadioSystemID), f.SystemID)
				assert.Equal(t, uint8(wire.RadioComponentID), f.ComponentID)
				statuses = append(statuses, f.Message.(*ardupilotmega.MessageRadioStatus))
			case <-time.After(10 * time.Millisecond):
			case <-deadline:
				t.Fatalf("the radio sent %d of %d frames, the hub put %d on air and dropped %d", c.Queue.Frames[0], frames, ep.Frames, ep.QueueDrops)
			}
		}
	}

	unpaced, _, slowed := flood(time.Hour)
	require.False(t, slowed)
	require.Positive(t, unpaced.QueueDrops, "without RADIO_STATUS the radio overflows the hub's queue")

	paced, statuses, slowed := flood(20 * time.Millisecond)
	require.True(t, slowed, "RADIO_STATUS slowed the radio down")
	lowest := uint8(100)
	for _, st := range statuses {
		lowest = min(lowest, st.Txbuf)
		assert.GreaterOrEqual(t, st.Rssi, uint8(150))
		assert.GreaterOrEqual(t, st.Remrssi, uint8(150))
		assert.GreaterOrEqual(t, st.Noise, uint8(40))
	}
	assert.Less(t, lowest, uint8(50), "the hub reported its queue filling")
	assert.Equal(t, uint8(100), statuses[len(statuses)-1].Txbuf, "and empty again")
	assert.Less(t, paced.QueueDrops, unpaced.QueueDrops)
	assert.Equal(t, uint8(1), paced.SystemID)
	assert.GreaterOrEqual(t, paced.Status, len(statuses))
	t.Logf("%d frames: without RADIO_STATUS %d dropped; with it %d dropped, lowest txbuf %d%%, %d RADIO_STATUS",
		frames, unpaced.QueueDrops, paced.QueueDrops, lowest, len(statuses))
}

// TestSerialEndToEnd runs a drone's radio on a serial link opened on the
// hub's pty and another radio on UDP, and exchanges signed
// frames both ways through the hub.
func TestSerialEndToEnd(t *testing.T) {
	h := start(t, hub.Config{StatusEvery: 50 * time.Millisecond})
	dev, err := h.Serial(1)
	require.NoError(t, err)
	sl, err := link.OpenSerial(link.SerialConfig{Device: dev, Baud: 57600})
	require.NoError(t, err)
	drone, err := radio.Open(radio.Config{Link: sl, Key: testKey, Network: testNetwork, SystemID: 1, Baud: 57600})
	require.NoError(t, err)
	defer drone.Close()
	ul, err := link.ListenUDP(link.UDPConfig{Listen: "127.0.0.1:0", Peers: []string{h.Addr(1)}, Hub: true})
	require.NoError(t, err)
	gcs, err := radio.Open(radio.Config{Link: ul, Key: testKey, Network: testNetwork, SystemID: 250})
	require.NoError(t, err)
	defer gcs.Close()

	// expect returns the first signed frame r receives.
	expect := func(r *radio.Radio) wire.Frame {
		t.Helper()
		timeout := time.After(10 * time.Second)
		for {
			select {
			case f := <-r.Received():
				if !f.IsRadioStatus() {
					return f
				}
			case <-timeout:
				t.Fatal("no frame through the hub")
			}
		}
	}
	require.NoError(t, gcs.Send(&ardupilotmega.MessageHeartbeat{CustomMode: 250}, link.Broadcast))
	f := expect(drone)
	assert.True(t, f.Signed)
	assert.Equal(t, uint8(250), f.SystemID)
	assert.Equal(t, uint32(250), f.Message.(*ardupilotmega.MessageHeartbeat).CustomMode)

	require.NoError(t, drone.Send(&ardupilotmega.MessageHeartbeat{CustomMode: 1}, link.Broadcast))
	f = expect(gcs)
	assert.True(t, f.Signed)
	assert.Equal(t, uint8(1), f.SystemID)
	assert.Equal(t, uint32(1), f.Message.(*ardupilotmega.MessageHeartbeat).CustomMode)

	require.Eventually(t, func() bool { return drone.Counters().Reader.RadioStatus > 0 }, 10*time.Second, 10*time.Millisecond,
		"the drone's serial radio takes the hub's RADIO_STATUS")
	nc := h.Counters().Networks[0]
	require.Len(t, nc.Endpoints, 2)
	assert.Equal(t, "pty:"+dev, nc.Endpoints[0].Endpoint)
	assert.Equal(t, uint8(1), nc.Endpoints[0].SystemID)
	assert.Equal(t, uint8(250), nc.Endpoints[1].SystemID)
	assert.Zero(t, nc.Endpoints[0].Garbage)
	_, err = h.Serial(2)
	assert.ErrorContains(t, err, "no network 2: this hub has networks 1–1")
}

// TestStartRejectsBadConfig checks that a bad Config says what to fix.
func TestStartRejectsBadConfig(t *testing.T) {
	for _, tc := range []struct {
		cfg  hub.Config
		want string
	}{
		{hub.Config{Loss: 1}, "loss 1: give a probability in [0, 1)"},
		{hub.Config{Duplicate: -0.1}, "duplicate -0.1"},
		{hub.Config{Reorder: -1}, "reorder -1ns is negative"},
		{hub.Config{Networks: 65}, "networks 65: use 1–64"},
		{hub.Config{Host: "localhost"}, `host "localhost": give an IP address`},
	} {
		tc.cfg.Logger = quiet
		_, err := hub.Start(tc.cfg)
		require.ErrorIs(t, err, hub.ErrConfig)
		assert.ErrorContains(t, err, tc.want)
	}
}

// TestCloseStopsEverything checks that Close returns once, stops the
// ports (goleak, in TestMain, checks the goroutines) and may be repeated.
func TestCloseStopsEverything(t *testing.T) {
	h, err := hub.Start(hub.Config{Networks: 2, StatusEvery: 10 * time.Millisecond, Logger: quiet})
	require.NoError(t, err)
	_, err = h.Serial(1)
	require.NoError(t, err)
	ctl, err := net.Dial("tcp", h.ControlAddr())
	require.NoError(t, err)
	defer ctl.Close()
	addr := h.ControlAddr()
	require.NoError(t, h.Close())
	require.NoError(t, h.Close())
	_, err = net.Dial("tcp", addr)
	assert.Error(t, err, "the control port is closed")
	_, err = bufio.NewReader(ctl).ReadString('\n')
	assert.Error(t, err, "control sessions are closed")
}
