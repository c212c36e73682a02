package runner

import (
	"sync"
	"testing"
	"time"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/radio"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/radio/link"
	"github.com/skyquorum/skyquorum/radio/wire"
	"github.com/skyquorum/skyquorum/swarm/command"

	swarmnode "github.com/skyquorum/skyquorum/swarm"
)

// gsIssuer is the test ground station's vehicle ID.
const gsIssuer = 65000

// groundStation is a bare ground station on the harness's network:
// MAVLink system ID 255, its own signing link, and every frame it hears.
type groundStation struct {
	h     *harness
	radio *radio.Radio
	mu    sync.Mutex
	heard []wire.Frame
	at    []time.Time // the fake clock when each frame was heard
}

func newGroundStation(t *testing.T, h *harness) *groundStation {
	t.Helper()
	mem, err := h.hub.Join(255)
	if err != nil {
		t.Fatal(err)
	}
	r, err := radio.Open(radio.Config{
		Link: mem, Key: h.key, Network: testNetwork, SystemID: 255, ComponentID: 190, LinkID: 1, Clock: h.clk,
	})
	if err != nil {
		t.Fatalf("seed %d: ground station radio: %v", h.seed, err)
	}
	g := &groundStation{h: h, radio: r}
	go func() {
		for f := range r.Received() {
			g.mu.Lock()
			g.heard = append(g.heard, f)
			g.at = append(g.at, h.clk.Now())
			g.mu.Unlock()
		}
	}()
	t.Cleanup(func() { _ = r.Close() })
	return g
}

// frames returns the frames heard so far, from index from on.
func (g *groundStation) frames(from int) []wire.Frame {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]wire.Frame(nil), g.heard[min(from, len(g.heard)):]...)
}

func (g *groundStation) count() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.heard)
}

// request sends REQUEST seq with data to vehicle to.
func (g *groundStation) request(t *testing.T, to algorithms.NodeID, seq uint32, data []byte) {
	t.Helper()
	m := &swarm.MessageSwarmOperatorCommand{
		Seq: seq, Issuer: gsIssuer, SrcVehicle: gsIssuer, DstVehicle: uint16(to), NetworkId: testNetwork,
		Kind: swarm.SWARM_OPERATOR_KIND_REQUEST,
	}
	m.DataLen = uint8(copy(m.Data[:], data))
	dest := link.Broadcast
	if to != algorithms.Everyone {
		dest = link.Dest(to)
	}
	if err := g.radio.Send(m, dest); err != nil {
		t.Fatal(err)
	}
}

// answers returns the answers to seq heard from index from on.
func (g *groundStation) answers(from int, seq uint32) []*swarm.MessageSwarmOperatorCommand {
	var out []*swarm.MessageSwarmOperatorCommand
	for _, f := range g.frames(from) {
		if m, ok := f.Message.(*swarm.MessageSwarmOperatorCommand); ok && m.Kind != swarm.SWARM_OPERATOR_KIND_REQUEST && m.Seq == seq {
			out = append(out, m)
		}
	}
	return out
}

// ask sends REQUEST seq to vehicle to every second, as a ground station
// retries, until an answer of kind comes (at most 30 s); it returns the
// answers heard meanwhile.
func (g *groundStation) ask(t *testing.T, to algorithms.NodeID, seq uint32, c []byte, kind swarm.SWARM_OPERATOR_KIND) []*swarm.MessageSwarmOperatorCommand {
	t.Helper()
	from := g.count()
	for range 30 {
		g.request(t, to, seq, c)
		for range 100 {
			g.h.advance(1)
			for _, a := range g.answers(from, seq) {
				if a.Kind == kind {
					g.h.advance(20) // let other answers, if any, arrive
					return g.answers(from, seq)
				}
			}
		}
	}
	t.Fatalf("seed %d: no %v to seq %d from %d after 30 s; heard %+v", g.h.seed, kind, seq, to, g.answers(from, seq))
	return nil
}

// TestGroundStationCommands: a ground station (system ID 255, vehicle ID
// 65000) on a 5-drone network at 5% loss asks a drone that does not lead
// (NOT_LEADER naming the leader), the leader (ACCEPTED with the index
// once committed), the leader again with the same seq and every vehicle
// with it (the same index; one entry in the log, carried out once), reuses
// the seq for another command and sends invalid and system commands
// (REFUSED with a reason), hears every
// drone's SWARM_STATUS with applied at or past the index, at the period
// the channel budget gives, and gets its SWARM_TIME_REPLY from the
// leader.
func TestGroundStationCommands(t *testing.T) {
	const seed = 11
	h := newHarness(t, 5, 0.05, seed)
	for _, id := range h.members {
		h.start(id)
	}
	gs := newGroundStation(t, h)
	var lead *drone
	if !h.until(3000, func() bool {
		var ok bool
		lead, ok = h.leader()
		return ok
	}) {
		t.Fatalf("seed %d: no leader every drone agrees on after 30 s", seed)
	}
	var term uint32
	lead.r.Inspect(func(n *swarmNode) { term = n.Log().Log().Term() })
	other := h.members[0]
	lights := command.Encode(command.Lights{R: 9, G: 8, B: 7})

	// A drone that does not lead names the leader.
	got := gs.ask(t, other, 1, lights, swarm.SWARM_OPERATOR_KIND_NOT_LEADER)
	for _, a := range got {
		if a.Kind != swarm.SWARM_OPERATOR_KIND_NOT_LEADER || a.SrcVehicle != uint16(other) || a.DstVehicle != gsIssuer ||
			a.Leader != uint16(lead.id) || a.Term != term || a.Issuer != gsIssuer {
			t.Fatalf("seed %d: drone %d answered %+v; want NOT_LEADER naming %d in term %d", seed, other, a, lead.id, term)
		}
	}

	// The leader accepts once the command is committed.
	got = gs.ask(t, lead.id, 1, lights, swarm.SWARM_OPERATOR_KIND_ACCEPTED)
	index := got[len(got)-1].Index
	for _, a := range got {
		if a.Kind != swarm.SWARM_OPERATOR_KIND_ACCEPTED || a.SrcVehicle != uint16(lead.id) || a.Index == 0 || a.Index != index || a.Term != term {
			t.Fatalf("seed %d: the leader answered %+v", seed, a)
		}
	}
	var committed uint32
	lead.r.Inspect(func(n *swarmNode) { committed = n.Log().Log().CommitIndex() })
	if committed < index {
		t.Fatalf("seed %d: ACCEPTED index %d, but the leader's commit index is %d", seed, index, committed)
	}

	// A retry with the same seq, to the leader and to every vehicle, gets
	// the same index; only the leader answers the broadcast.
	for _, to := range []algorithms.NodeID{lead.id, algorithms.Everyone} {
		for _, a := range gs.ask(t, to, 1, lights, swarm.SWARM_OPERATOR_KIND_ACCEPTED) {
			if a.Kind != swarm.SWARM_OPERATOR_KIND_ACCEPTED || a.Index != index || a.SrcVehicle != uint16(lead.id) {
				t.Fatalf("seed %d: retry to %d answered %+v; want ACCEPTED at %d from %d", seed, to, a, index, lead.id)
			}
		}
	}

	// The same seq for another command (a ground station that restarted
	// and counts from 1 again) is refused, not passed off as accepted.
	for _, a := range gs.ask(t, lead.id, 1, command.Encode(command.Land{}), swarm.SWARM_OPERATOR_KIND_REFUSED) {
		if a.Kind != swarm.SWARM_OPERATOR_KIND_REFUSED {
			t.Fatalf("seed %d: seq 1 reused for LAND answered %+v; want REFUSED", seed, a)
		}
		t.Logf("seq 1 reused: %s", a.Data[:a.DataLen])
	}

	// Invalid data and a system command are refused, with a reason.
	for seq, data := range map[uint32][]byte{
		2: {0xEE},
		3: command.Encode(command.Takeoff{}),
		4: command.Encode(command.View{Epoch: 9, Retired: 1, Replacement: 2}),
	} {
		for _, a := range gs.ask(t, lead.id, seq, data, swarm.SWARM_OPERATOR_KIND_REFUSED) {
			if a.Kind != swarm.SWARM_OPERATOR_KIND_REFUSED || a.DataLen == 0 {
				t.Fatalf("seed %d: seq %d answered %+v; want REFUSED with a reason", seed, seq, a)
			}
			t.Logf("seq %d refused: %s", seq, a.Data[:a.DataLen])
		}
	}

	// Every drone applied the command once: one entry of its name in the
	// log, carried out at index.
	start := gs.count()
	if !h.until(1000, func() bool { return h.applied() >= index }) {
		t.Fatalf("seed %d: index %d not applied everywhere", seed, index)
	}
	for _, d := range h.running() {
		var entries int
		var at uint32
		d.r.Inspect(func(n *swarmNode) {
			lg := n.Log().Log()
			for i := uint32(1); i <= lg.LastIndex(); i++ {
				e, _ := lg.Entry(i)
				if de, err := swarmnode.DecodeEntry(e.Data); err == nil && de.Operator == (swarmnode.OperatorID{Issuer: gsIssuer, Seq: 1}) {
					entries++
				}
			}
			p, _, _ := n.FindOperator(swarmnode.OperatorID{Issuer: gsIssuer, Seq: 1})
			at = p.Index
		})
		if entries != 1 || at != index {
			t.Errorf("seed %d: drone %d holds %d entries of 65000/1, the first at %d; want 1 at %d", seed, d.id, entries, at, index)
		}
	}

	// Status: every drone's, with applied at or past index, at the budget's
	// period.
	period := StatusPeriod(len(h.members), 0, 0)
	const window = 30 * time.Second
	h.advance(int(window / testTick))
	statuses := map[uint16][]*swarm.MessageSwarmStatus{}
	for _, f := range gs.frames(start) {
		if m, ok := f.Message.(*swarm.MessageSwarmStatus); ok {
			statuses[m.SrcVehicle] = append(statuses[m.SrcVehicle], m)
		}
	}
	want := float64(window) / float64(period)
	for _, id := range h.members {
		s := statuses[uint16(id)]
		if len(s) == 0 {
			t.Errorf("seed %d: no SWARM_STATUS from drone %d in %v", seed, id, window)
			continue
		}
		last := s[len(s)-1]
		if last.Applied < index || last.Leader != uint16(lead.id) || last.Term != term || last.Battery != 255 {
			t.Errorf("seed %d: drone %d's last status %+v; want applied >= %d, leader %d, term %d", seed, id, last, index, lead.id, term)
		}
		if leads := last.Flags&swarm.SWARM_MEMBER_FLAGS_LEADER != 0; leads != (id == lead.id) {
			t.Errorf("seed %d: drone %d's status flags %v", seed, id, last.Flags)
		}
		// Frames are lost at 5% on the way from 5 drones only at their
		// receivers, not the ground station's: all arrive.
		if n := float64(len(s)); n < 0.85*want || n > 1.15*want+1 {
			t.Errorf("seed %d: drone %d sent %d statuses in %v; want about %.1f (period %v)", seed, id, len(s), window, want, period)
		}
	}
	t.Logf("status period %v: %.1f expected in %v, drone 1 sent %d", period, want, window, len(statuses[1]))

	// Swarm time: the leader answers the ground station as a follower. A
	// time request is a plain frame, which the leader's receiver loses at
	// 5% like any other: the ground station asks again, as a real one does.
	var reply *swarm.MessageSwarmTimeReply
	for try := 0; try < 3 && reply == nil; try++ {
		from := gs.count()
		if err := gs.radio.Send(&swarm.MessageSwarmTimeRequest{
			T1: 123456789, SrcVehicle: gsIssuer, DstVehicle: uint16(lead.id), NetworkId: testNetwork,
		}, link.Dest(lead.id)); err != nil {
			t.Fatal(err)
		}
		h.until(100, func() bool {
			for _, f := range gs.frames(from) {
				if m, ok := f.Message.(*swarm.MessageSwarmTimeReply); ok && m.DstVehicle == gsIssuer {
					reply = m
				}
			}
			return reply != nil
		})
	}
	if reply == nil || reply.T1 != 123456789 || reply.SrcVehicle != uint16(lead.id) || reply.T2 <= 0 {
		t.Fatalf("seed %d: time reply %+v; want t1 123456789 from the leader %d", seed, reply, lead.id)
	}
	var swarmTime int64
	lead.r.Inspect(func(n *swarmNode) { swarmTime = n.SwarmTime(h.clk.Now().UnixNano()) })
	if d := time.Duration(swarmTime - reply.T2); d < 0 || d > time.Second {
		t.Errorf("seed %d: the reply's t2 is %v before the leader's swarm time", seed, d)
	}
	// The ground station never became a member: no drone's committee or
	// membership names it.
	for _, d := range h.running() {
		d.r.Inspect(func(n *swarmNode) {
			for _, m := range n.Log().Log().Committee() {
				if m == gsIssuer {
					t.Errorf("seed %d: drone %d's committee holds the ground station", seed, d.id)
				}
			}
		})
	}
}

// TestStatusAfterLeaderChange: with a status period of 286 s (a share of
// 0.0002 of the channel), every drone still reports a new leader within
// 2 s of learning it: a change of leader or flight state sends one extra
// status.
func TestStatusAfterLeaderChange(t *testing.T) {
	const seed = 12
	h := newHarness(t, 5, 0, seed)
	h.statusShare = 0.0002
	for _, id := range h.members {
		h.start(id)
	}
	gs := newGroundStation(t, h)
	var lead *drone
	if !h.until(3000, func() bool {
		var ok bool
		lead, ok = h.leader()
		return ok
	}) {
		t.Fatalf("seed %d: no leader every drone agrees on after 30 s", seed)
	}
	old := lead.id
	if err := h.stop(old); err != nil {
		t.Fatal(err)
	}
	from := gs.count()
	learned := map[algorithms.NodeID]time.Time{}
	if !h.until(6000, func() bool {
		for _, d := range h.running() {
			var l algorithms.NodeID
			d.r.Inspect(func(n *swarmNode) {
				if lg := n.Log().Log(); lg.Leader() != old && lg.Leader() != 0 {
					l = lg.Leader()
				}
			})
			if _, ok := learned[d.id]; !ok && l != 0 {
				learned[d.id] = h.clk.Now()
			}
		}
		return len(learned) == len(h.running())
	}) {
		t.Fatalf("seed %d: the drones did not all follow a new leader within 60 s", seed)
	}
	h.advance(300)
	g := gs.frames(0)
	for _, d := range h.running() {
		var reported time.Time
		for i := from; i < len(g); i++ {
			if m, ok := g[i].Message.(*swarm.MessageSwarmStatus); ok && algorithms.NodeID(m.SrcVehicle) == d.id &&
				m.Leader != 0 && algorithms.NodeID(m.Leader) != old {
				gs.mu.Lock()
				reported = gs.at[i]
				gs.mu.Unlock()
				break
			}
		}
		if reported.IsZero() {
			t.Errorf("seed %d: drone %d never reported its new leader (period %v)", seed, d.id, StatusPeriod(5, 0, 0.0002))
			continue
		}
		if lag := reported.Sub(learned[d.id]); lag > 2*time.Second {
			t.Errorf("seed %d: drone %d reported its new leader %v after learning it", seed, d.id, lag)
		} else {
			t.Logf("drone %d reported its new leader %v after learning it", d.id, lag)
		}
	}
}
