package radio_test

import (
	"bytes"
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/bluenviron/gomavlib/v3/pkg/message"
	"github.com/stretchr/testify/require"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/algorithms/mutex"
	"github.com/skyquorum/skyquorum/radio"
	"github.com/skyquorum/skyquorum/radio/arq"
	"github.com/skyquorum/skyquorum/radio/codec"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/radio/internal/ptypair"
	"github.com/skyquorum/skyquorum/radio/link"
	"github.com/skyquorum/skyquorum/radio/wire"
)

// The two-process acceptance test: the test binary runs itself twice as
// peer processes (TestPeerProcess, selected by environment variables),
// which exchange every swarm message, signed, over a socat pty pair at
// 57600 baud or over UDP on 127.0.0.1, and compare what they decode with
// what the other side sent, field for field.

const (
	envPeer        = "SKYQUORUM_RADIOPEER"
	envSysID       = "SKYQUORUM_RADIOPEER_SYSID"
	envPeerSysID   = "SKYQUORUM_RADIOPEER_PEER_SYSID"
	envDevice      = "SKYQUORUM_RADIOPEER_DEVICE"
	envListen      = "SKYQUORUM_RADIOPEER_LISTEN"
	envSendTo      = "SKYQUORUM_RADIOPEER_SENDTO"
	envKey         = "SKYQUORUM_RADIOPEER_KEY"
	envDir         = "SKYQUORUM_RADIOPEER_DIR"
	peerNetwork    = 9
	peerBaud       = 57600
	doneMarkerTerm = 0xC0FFEE
)

func TestTwoProcessesSerial(t *testing.T) {
	pair := ptypair.Start(t, t.TempDir())
	runPeers(t,
		[]string{envDevice + "=" + pair.A},
		[]string{envDevice + "=" + pair.B})
}

func TestTwoProcessesUDP(t *testing.T) {
	a, b := freeUDPPort(t), freeUDPPort(t)
	runPeers(t,
		[]string{envListen + "=" + a, envSendTo + "=" + b},
		[]string{envListen + "=" + b, envSendTo + "=" + a})
}

func freeUDPPort(t *testing.T) string {
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := c.LocalAddr().String()
	require.NoError(t, c.Close())
	return addr
}

// runPeers starts two peer processes, systems 1 and 2, and waits for both
// to report success.
func runPeers(t *testing.T, envA, envB []string) {
	key, err := wire.GenerateKey(nil)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	type result struct {
		out []byte
		err error
	}
	results := make([]chan result, 2)
	for i, env := range [][]string{envA, envB} {
		sys, peer := i+1, 2-i
		cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestPeerProcess$", "-test.count=1", "-test.v")
		cmd.Env = append(os.Environ(),
			envPeer+"=1",
			envSysID+"="+strconv.Itoa(sys),
			envPeerSysID+"="+strconv.Itoa(peer),
			envKey+"="+hex.EncodeToString(key[:]),
			envDir+"="+t.TempDir(),
		)
		cmd.Env = append(cmd.Env, env...)
		results[i] = make(chan result, 1)
		go func(cmd *exec.Cmd, ch chan result) {
			out, err := cmd.CombinedOutput()
			ch <- result{out, err}
		}(cmd, results[i])
	}
	for i, ch := range results {
		r := <-ch
		if r.err != nil || !bytes.Contains(r.out, []byte("PEER OK")) {
			t.Fatalf("peer process %d failed: %v\n%s", i+1, r.err, r.out)
		}
		for _, line := range strings.Split(string(r.out), "\n") {
			if strings.HasPrefix(strings.TrimSpace(line), "PEER") {
				t.Logf("peer %d: %s", i+1, strings.TrimSpace(line))
			}
		}
	}
}

// peerFrame is the reliable delivery frame each peer also sends, through
// the codec, with a core message as payload.
func peerFrame(sys int) *arq.Frame {
	return &arq.Frame{
		From: algorithms.NodeID(sys), Inc: 3,
		Entries: []arq.Entry{{To: algorithms.NodeID(3 - sys), Seq: 7, Low: 5}},
		Payload: mutex.CentralRequest{Resource: mutex.Resource(40 + sys)},
		Acks:    []arq.Ack{{To: algorithms.NodeID(3 - sys), ToInc: 1, Inc: 3, Cum: 6, Sack: 2}},
	}
}

// peerMessages is what system sys sends: every swarm message, each field
// drawn from a seed of sys, and the codec's encoding of peerFrame(sys).
func peerMessages(t testing.TB, c *codec.Codec, sys int) []message.Message {
	msgs := SwarmSamples(uint64(sys), peerNetwork)
	frame, err := c.EncodeFrame(peerFrame(sys))
	require.NoError(t, err)
	return append(msgs, frame...)
}

// TestPeerProcess is one peer of the two-process test; it only runs when
// runPeers starts it.
func TestPeerProcess(t *testing.T) {
	if os.Getenv(envPeer) == "" {
		t.Skip("runs as a child of TestTwoProcesses*")
	}
	if err := peerMain(t); err != nil {
		fmt.Println("PEER FAILED:", err)
		t.Fatal(err)
	}
}

func peerMain(t *testing.T) error {
	sys, _ := strconv.Atoi(os.Getenv(envSysID))
	peer, _ := strconv.Atoi(os.Getenv(envPeerSysID))
	key, err := wire.ParseKey([]byte(os.Getenv(envKey)))
	if err != nil {
		return err
	}
	var l link.Link
	if dev := os.Getenv(envDevice); dev != "" {
		l, err = link.OpenSerial(link.SerialConfig{Device: dev, Baud: peerBaud})
	} else {
		l, err = link.ListenUDP(link.UDPConfig{Listen: os.Getenv(envListen), Peers: []string{os.Getenv(envSendTo)}})
	}
	if err != nil {
		return err
	}
	r, err := radio.Open(radio.Config{
		Link: l, Key: key, Network: peerNetwork, SystemID: uint8(sys), Baud: peerBaud,
		TimestampFile: filepath.Join(os.Getenv(envDir), "signing.ts"),
	})
	if err != nil {
		return err
	}
	defer r.Close()
	c, err := codec.New(codec.Config{Network: peerNetwork})
	if err != nil {
		return err
	}
	mine := peerMessages(t, c, sys)
	theirs := peerMessages(t, c, peer)
	got := make([]bool, len(theirs))
	have := 0
	marker := &swarm.MessageSwarmElection{NetworkId: peerNetwork, SrcVehicle: uint16(sys), DstVehicle: uint16(peer),
		Kind: swarm.SWARM_ELECTION_KIND_COORDINATOR, Term: doneMarkerTerm, Candidate: uint16(sys)}
	peerDone, farewell := false, 0
	var frameFromPeer *arq.Frame
	tick := time.NewTicker(500 * time.Millisecond)
	defer tick.Stop()
	deadline := time.After(60 * time.Second)
	send := func(m message.Message) {
		// Back-pressure is reported, not hidden: the message goes again
		// at the next round.
		if err := r.Send(m, link.Dest(peer)); err != nil {
			fmt.Println("PEER send:", err)
		}
	}
	round := func() {
		if !peerDone {
			for _, m := range mine {
				send(m)
			}
		}
		if have == len(theirs) {
			send(marker)
		}
	}
	round()
	for {
		select {
		case <-deadline:
			return fmt.Errorf("timed out: decoded %d of %d messages, peer done %v, counters %+v", have, len(theirs), peerDone, r.Counters())
		case <-tick.C:
			if have == len(theirs) && peerDone {
				farewell++
				if farewell > 3 {
					cnt := r.Counters()
					fmt.Printf("PEER OK system=%d decoded=%d frames=%d rejected=%d sent=%d airtime=%s link=%s\n",
						sys, have, cnt.Reader.Frames, cnt.Reader.TotalRejected(), cnt.Link.Sends, cnt.Queue.Airtime, l.Info().Name)
					if cnt.Reader.TotalRejected() != 0 {
						return fmt.Errorf("frames rejected on a clean link: %+v", cnt.Reader)
					}
					return nil
				}
			}
			round()
		case f, ok := <-r.Received():
			if !ok {
				return fmt.Errorf("radio closed")
			}
			if f.SystemID != uint8(peer) || !f.Signed {
				return fmt.Errorf("frame from system %d signed %v", f.SystemID, f.Signed)
			}
			if e, ok := f.Message.(*swarm.MessageSwarmElection); ok && e.Term == doneMarkerTerm && e.Candidate == uint16(peer) {
				peerDone = true
				continue
			}
			i := indexOf(theirs, f.Message)
			if i < 0 {
				return fmt.Errorf("decoded %T does not equal, field for field, any message the peer sent: %+v", f.Message, f.Message)
			}
			if _, isData := f.Message.(*swarm.MessageSwarmData); isData && i == len(theirs)-1 {
				fr, err := c.DecodeFrame(f.Message)
				if err != nil {
					return fmt.Errorf("decode the peer's frame: %w", err)
				}
				frameFromPeer = fr
			}
			if !got[i] {
				got[i] = true
				have++
			}
			if have == len(theirs) && frameFromPeer != nil && !reflect.DeepEqual(frameFromPeer, peerFrame(peer)) {
				return fmt.Errorf("decoded frame %+v, sent %+v", frameFromPeer, peerFrame(peer))
			}
		}
	}
}

func indexOf(msgs []message.Message, m message.Message) int {
	for i, x := range msgs {
		if sameOnAir(x, m) {
			return i
		}
	}
	return -1
}

// sameOnAir reports whether got is what was sent: field for field, but
// for a time-sync reply's hold, which grows by the time the reply waited
// in the sender's queue (at most a minute here).
func sameOnAir(sent, got message.Message) bool {
	s, ok1 := sent.(*swarm.MessageSwarmTimeReply)
	g, ok2 := got.(*swarm.MessageSwarmTimeReply)
	if ok1 && ok2 {
		grown := uint64(g.Hold) - uint64(s.Hold)
		if g.Hold < s.Hold || grown > uint64(time.Minute) {
			return false
		}
		held := *s
		held.Hold = g.Hold
		return reflect.DeepEqual(&held, g)
	}
	return reflect.DeepEqual(sent, got)
}
