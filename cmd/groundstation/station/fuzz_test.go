package station

import (
	"io"
	"log/slog"
	"testing"

	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/skyquorum/skyquorum/radio/dialect"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/radio/link"
	"github.com/skyquorum/skyquorum/radio/wire"
	"github.com/skyquorum/skyquorum/swarm/command"
)

// FuzzReceive hands the station genuine (verified) frames with arbitrary
// contents, of the messages it reads: it must neither panic nor take in
// a status out of range.
func FuzzReceive(f *testing.F) {
	rw, err := dialect.NewReadWriter()
	if err != nil {
		f.Fatal(err)
	}
	ids := []uint32{
		(&swarm.MessageSwarmStatus{}).GetID(),
		(&swarm.MessageSwarmOperatorCommand{}).GetID(),
		(&swarm.MessageSwarmTimeReply{}).GetID(),
		(&swarm.MessageSwarmEmergency{}).GetID(),
		(&swarm.MessageSwarmHeartbeat{}).GetID(),
	}
	for _, m := range []message.Message{
		&swarm.MessageSwarmStatus{SrcVehicle: 3, DstVehicle: 65535, NetworkId: 1, Flags: 1, Term: 2, Leader: 3, Applied: 4},
		&swarm.MessageSwarmOperatorCommand{SrcVehicle: 3, DstVehicle: DefaultIssuer, NetworkId: 1, Kind: 2, Issuer: DefaultIssuer, Seq: 9, Index: 1, Term: 2},
		&swarm.MessageSwarmOperatorCommand{SrcVehicle: 3, DstVehicle: DefaultIssuer, NetworkId: 1, Kind: 3, Issuer: DefaultIssuer, Seq: 9, Leader: 4, Term: 2},
		&swarm.MessageSwarmTimeReply{SrcVehicle: 3, DstVehicle: DefaultIssuer, NetworkId: 1, T1: 5, T2: 6},
		&swarm.MessageSwarmEmergency{SrcVehicle: 3, DstVehicle: DefaultIssuer, NetworkId: 1, Kind: 3, Issuer: DefaultIssuer, CommandId: 1},
	} {
		for i, id := range ids {
			if id == m.GetID() {
				f.Add(uint8(i), uint8(3), rw.GetMessage(id).Write(m, true).Payload)
			}
		}
	}
	f.Fuzz(func(t *testing.T, which, sys uint8, payload []byte) {
		id := ids[int(which)%len(ids)]
		msg, err := rw.GetMessage(id).Read(&message.MessageRaw{ID: id, Payload: payload}, true)
		if err != nil {
			return
		}
		hub := link.NewHub()
		l, err := hub.Join(SystemID)
		if err != nil {
			t.Fatal(err)
		}
		s, err := Open(Config{Link: l, Network: 1, FirstSeq: 9, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		s.mu.Lock()
		s.seq = 9
		s.pending[9] = &request{seq: 9, cmd: command.Arm{}, data: command.Encode(command.Arm{}), done: make(chan outcome, 1)}
		s.mu.Unlock()
		for range 2 {
			s.receive(wire.Frame{SystemID: sys, Signed: true, Message: msg})
		}
		sn := s.Snapshot()
		for _, d := range sn.Drones {
			if d.Reported && (d.Loss > 100 || d.Battery > 100 || d.State > swarm.SWARM_MEMBER_STATE_FAILSAFE) {
				t.Fatalf("status out of range taken in: %+v", d)
			}
		}
		s.Applied(1)
	})
}
