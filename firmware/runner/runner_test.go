package runner

import (
	"fmt"
	"math"
	"os"
	"testing"
	"time"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/radio/arq"
	"github.com/skyquorum/skyquorum/swarm/airspace"
	"github.com/skyquorum/skyquorum/swarm/command"
	"github.com/skyquorum/skyquorum/swarm/emergency"
	"github.com/skyquorum/skyquorum/swarm/show"
	"github.com/skyquorum/skyquorum/swarm/show/demo"
)

// electAndCommit runs h until a leader leads with every drone's agreement
// and proposes cmds there; it returns the log index of the last one once
// every running drone applied it.
func electAndCommit(t *testing.T, h *harness, cmds ...command.Command) uint32 {
	t.Helper()
	var lead *drone
	if !h.until(3000, func() bool {
		var ok bool
		lead, ok = h.leader()
		return ok
	}) {
		t.Fatalf("seed %d: no leader every drone agrees on after 30 s", h.seed)
	}
	var last uint32
	for _, c := range cmds {
		p, err := lead.r.Propose(c)
		if err != nil {
			t.Fatalf("seed %d: propose %v at leader %d: %v", h.seed, c, lead.id, err)
		}
		last = p.Index
	}
	if !h.until(3000, func() bool { return h.applied() >= last }) {
		t.Fatalf("seed %d: index %d not applied everywhere after 30 s (lowest applied %d)", h.seed, last, h.applied())
	}
	return last
}

func demoShow(t *testing.T, n int) (*show.Show, uint64) {
	t.Helper()
	s, err := demo.New(n)
	if err != nil {
		t.Fatal(err)
	}
	hash, err := s.Hash()
	if err != nil {
		t.Fatal(err)
	}
	return s, hash.Digest()
}

func swarmNow(d *drone, clk *FakeClock) (now int64) {
	d.r.Inspect(func(n *swarmNode) { now = n.SwarmTime(clk.Now().UnixNano()) })
	return now
}

// TestSwarmFliesShow: five runners on a lossy in-memory network elect a
// leader, commit LOAD, ARM and START at every drone, and fly their parts
// of the show; every vote leaves only after the state it vouches for is
// stored.
func TestSwarmFliesShow(t *testing.T) {
	const seed = 1
	h := newHarness(t, 5, 0.05, seed)
	// START 3 s ahead, then fly 5 s of the show.
	sh := startShow(t, h, seed, 3*time.Second, 800)
	for _, d := range h.running() {
		var phase show.Phase
		var st int64
		var inSync bool
		d.r.Inspect(func(n *swarmNode) {
			now := n.SwarmTime(h.clk.Now().UnixNano())
			phase, inSync = n.Show().Phase(now), n.InSync()
			st, _, _ = n.Show().FlightTime(now)
		})
		sp, _, _, last := d.veh.counts()
		tr, err := sh.Track(int(d.id) - 1)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := tr.Position(time.Duration(st))
		off := last.Dist(want)
		t.Logf("drone %d: phase %s, in sync %v, %d setpoints, last %v, planned now %v (%.3f m apart)", d.id, phase, inSync, sp, last, want, off)
		if phase != show.Running || !inSync {
			t.Errorf("seed %d: drone %d: phase %s, in sync %v; want RUNNING, in sync", seed, d.id, phase, inSync)
		}
		// Setpoints go out every 100 ms; the show moves at a few m/s.
		if sp < 30 || off > 1 {
			t.Errorf("seed %d: drone %d: %d setpoints, the last %.3f m from the plan; want at least 30, within 1 m", seed, d.id, sp, off)
		}
	}
	// An emergency LAND, issued by drone 1 as a ground station would,
	// lands every drone at once and ends its show flight.
	h.drones[1].r.Inspect(func(n *swarmNode) { n.Emergency().Issue(emergency.Land) })
	h.advance(100)
	before := map[algorithms.NodeID]int{}
	for _, d := range h.running() {
		before[d.id], _, _, _ = d.veh.counts()
	}
	h.advance(100)
	for _, d := range h.running() {
		sp, _, lands, _ := d.veh.counts()
		if lands != 1 || sp != before[d.id] {
			t.Errorf("seed %d: drone %d: %d landings, %d setpoints in the second after the emergency LAND; want 1 landing, no setpoint", seed, d.id, lands, sp-before[d.id])
		}
	}
	votes, unsaved := 0, 0
	for _, d := range h.drones {
		d.mu.Lock()
		votes, unsaved = votes+d.votes, unsaved+d.unsaved
		d.mu.Unlock()
	}
	t.Logf("%d PROMISE and ACK sent, %d before the log they vouch for was stored", votes, unsaved)
	if votes < 10 || unsaved != 0 {
		t.Errorf("seed %d: %d votes sent, %d of them before their state was stored; want at least 10, none", seed, votes, unsaved)
	}
	for _, d := range h.running() {
		if c := d.r.Radio().Counters(); c.Reader.TotalRejected() != 0 {
			t.Errorf("seed %d: drone %d rejected %d frames: %+v", seed, d.id, c.Reader.TotalRejected(), c.Reader)
		}
	}
}

// TestRestartFromState: a drone stopped on the ground and started again
// from its state directory runs a higher incarnation with its log, and
// its peers accept every frame it sends (no signing timestamp reused).
func TestRestartFromState(t *testing.T) {
	const seed = 2
	h := newHarness(t, 5, 0.05, seed)
	for _, id := range h.members {
		h.start(id)
	}
	idx := electAndCommit(t, h, command.Lights{R: 1, G: 2, B: 3})
	// Restart a drone that is not the leader.
	lead, _ := h.leader()
	id := algorithms.NodeID(1)
	if lead.id == id {
		id = 2
	}
	d := h.drones[id]
	oldInc, oldArq := d.r.Incarnation(), d.r.arqInc
	if err := h.stop(id); err != nil {
		t.Fatalf("seed %d: stop on the ground: %v", seed, err)
	}
	framesFrom := func() (n int) {
		for _, p := range h.running() {
			n += p.r.Radio().Counters().Reader.Frames
		}
		return n
	}
	before := framesFrom()
	h.advance(50)
	h.start(id)
	if got := d.r.Incarnation(); got != oldInc+1 {
		t.Errorf("seed %d: incarnation %d after a restart from %d; want %d", seed, got, oldInc, oldInc+1)
	}
	if d.r.arqInc <= oldArq {
		t.Errorf("seed %d: reliable delivery incarnation %d, not above the previous %d", seed, d.r.arqInc, oldArq)
	}
	var commit uint32
	d.r.Inspect(func(n *swarmNode) { commit = n.Log().Log().CommitIndex() })
	if commit < idx {
		t.Errorf("seed %d: restored commit index %d; want at least %d", seed, commit, idx)
	}
	// A new command commits at the restarted drone too.
	idx2 := electAndCommit(t, h, command.Lights{R: 4, G: 5, B: 6})
	if idx2 <= idx {
		t.Fatalf("seed %d: second command at %d, first at %d", seed, idx2, idx)
	}
	if !h.until(1000, func() bool {
		var ok bool
		d.r.Inspect(func(n *swarmNode) { ok = n.InSync() })
		return ok
	}) {
		t.Errorf("seed %d: restarted drone not in sync after 10 s", seed)
	}
	for _, p := range h.running() {
		if c := p.r.Radio().Counters(); c.Reader.TotalRejected() != 0 {
			t.Errorf("seed %d: drone %d rejected %d frames: %+v", seed, p.id, c.Reader.TotalRejected(), c.Reader)
		}
	}
	if framesFrom() <= before {
		t.Errorf("seed %d: no frames accepted after the restart", seed)
	}
	if d.r.Learner() {
		t.Errorf("seed %d: a drone restarted from its state is a learner", seed)
	}
}

// TestEmptyStateRejoinsAsLearner: a committee member whose state directory
// is gone starts with a fresh incarnation and as a learner: it sends no
// PROMISE or ACK until it has caught up with the log, then votes again.
func TestEmptyStateRejoinsAsLearner(t *testing.T) {
	const seed = 3
	h := newHarness(t, 5, 0.05, seed)
	for _, id := range h.members {
		h.start(id)
	}
	idx := electAndCommit(t, h, command.Lights{R: 9})
	lead, _ := h.leader()
	id := algorithms.NodeID(4)
	if lead.id == id {
		id = 3
	}
	d := h.drones[id]
	oldInc, oldArq := d.r.Incarnation(), d.r.arqInc
	if err := h.stop(id); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(d.dir); err != nil {
		t.Fatal(err)
	}
	h.advance(200) // two seconds later
	h.start(id)
	inc := d.r.Incarnation()
	if inc == oldInc || inc < 1<<31 {
		t.Errorf("seed %d: incarnation %#x after losing the state (was %#x); want a new boot nonce with the high bit set", seed, inc, oldInc)
	}
	// Without the signing high-water mark, the signing time is the clock's,
	// two seconds on.
	if d.r.arqInc <= oldArq {
		t.Errorf("seed %d: reliable delivery incarnation %d, not above the previous %d", seed, d.r.arqInc, oldArq)
	}
	if !h.until(400, func() bool { return d.r.Inspect(func(*swarmNode) {}) }) {
		t.Fatalf("seed %d: node not started after listening", seed)
	}
	d.mu.Lock()
	votesBefore := d.votes
	d.mu.Unlock()
	learnerSeen := d.r.Learner()
	if !h.until(3000, func() bool { return !d.r.Learner() }) {
		t.Fatalf("seed %d: still a learner after 30 s", seed)
	}
	var applied uint32
	d.r.Inspect(func(n *swarmNode) { applied = n.Log().Log().AppliedIndex() })
	if applied < idx {
		t.Errorf("seed %d: caught up with %d applied; want at least %d", seed, applied, idx)
	}
	electAndCommit(t, h, command.Lights{G: 9})
	h.advance(100)
	d.mu.Lock()
	defer d.mu.Unlock()
	t.Logf("learner at start %v; withheld %d; votes %d before caught up, %d after, %d as learner", learnerSeen, d.r.Counters().Withheld, votesBefore, d.votes, d.learnerVotes)
	if !learnerSeen || d.learnerVotes != 0 {
		t.Errorf("seed %d: learner %v at start, %d votes sent as a learner; want a learner that sends none", seed, learnerSeen, d.learnerVotes)
	}
	if d.votes <= votesBefore {
		t.Errorf("seed %d: no vote after catching up (%d before, %d after)", seed, votesBefore, d.votes)
	}
}

// TestColdStartVotes: a swarm whose drones all start without state
// (nobody hears a confirmed leader while listening) elects and commits:
// they are not learners.
func TestColdStartNotLearners(t *testing.T) {
	h := newHarness(t, 3, 0, 4)
	for _, id := range h.members {
		h.start(id)
	}
	electAndCommit(t, h, command.Lights{B: 1})
	for _, d := range h.running() {
		if d.r.Learner() {
			t.Errorf("drone %d is a learner after a cold start", d.id)
		}
	}
}

// TestStopInAir: told to stop while airborne, a runner lands first and
// returns only once the vehicle is down, having released its airspace
// cells; with OnStopHold it holds and returns at once, keeping its cells.
func TestStopInAir(t *testing.T) {
	for _, tc := range []struct {
		onStop  StopAction
		release bool
	}{{OnStopLand, true}, {OnStopHold, false}} {
		t.Run(string(tc.onStop), func(t *testing.T) {
			h := newHarness(t, 3, 0, 5)
			h.onStop = tc.onStop
			for _, id := range h.members {
				h.start(id)
			}
			d := h.drones[1]
			electAndCommit(t, h, command.Lights{R: 1})
			if !h.until(1000, func() bool {
				var fenced bool
				d.r.Inspect(func(n *swarmNode) { fenced = n.Locks().Fenced() })
				return !fenced
			}) {
				t.Fatal("the drone's airspace votes stay fenced")
			}
			d.r.Inspect(func(n *swarmNode) {
				if err := n.Locks().Acquire([]airspaceCell{1, 2}); err != nil {
					t.Fatal(err)
				}
			})
			// A new voter is quiet for a lease and its guard first.
			if !h.until(3000, func() bool {
				var holding bool
				d.r.Inspect(func(n *swarmNode) { holding = n.Locks().Holding() })
				return holding
			}) {
				t.Fatal("cells not granted")
			}
			d.veh.mu.Lock()
			d.veh.st = VehicleState{Armed: true, Airborne: true}
			d.veh.mu.Unlock()
			saves := d.store.saveCount()
			d.stopping = true
			d.cancel()
			returned := func() bool {
				select {
				case err := <-d.done:
					if err != nil {
						t.Fatalf("Run: %v", err)
					}
					d.cancel = nil
					return true
				default:
					return false
				}
			}
			if tc.onStop == OnStopHold {
				if !h.until(100, returned) {
					t.Fatal("hold: Run did not return")
				}
				_, holds, lands, _ := d.veh.counts()
				if holds != 1 || lands != 0 {
					t.Errorf("hold: %d holds, %d landings; want 1, 0", holds, lands)
				}
				if cells := len(d.r.node.Locks().Cells()); cells != 2 {
					t.Errorf("hold: %d cells kept; want 2 (still in them)", cells)
				}
				return
			}
			if h.until(500, returned) {
				t.Fatal("land: Run returned while the vehicle was airborne")
			}
			var cells int
			d.r.Inspect(func(n *swarmNode) { cells = len(n.Locks().Cells()) })
			if _, _, lands, _ := d.veh.counts(); lands != 1 || cells != 2 {
				t.Errorf("land: %d landings, %d cells held while airborne; want 1, 2", lands, cells)
			}
			d.veh.touchDown()
			if !h.until(200, returned) {
				t.Fatal("land: Run did not return after touchdown")
			}
			if n := len(d.r.node.Locks().Cells()); n != 0 {
				t.Errorf("land: %d cells still held after landing; want 0", n)
			}
			if d.store.saveCount() <= saves {
				t.Errorf("land: state not stored at the stop (%d saves before, %d after)", saves, d.store.saveCount())
			}
		})
	}
}

// TestReliableIncarnationOrdered shows why the reliable delivery layer does
// not take the node's incarnation, a random nonce after a start without
// state: arq orders incarnations, and takes the frames of a restarted
// drone with a lower one for stale ones, forever.
func TestReliableIncarnationOrdered(t *testing.T) {
	peers := []algorithms.NodeID{1, 2}
	recv := arq.New(arq.Config{ID: 2, Incarnation: 1, Peers: peers})
	deliver := func(inc uint32) int {
		send := arq.New(arq.Config{ID: 1, Incarnation: inc, Peers: peers})
		send.Send(algorithms.To(2), airspace.Release{Cell: 1})
		send.Tick()
		frames, _ := send.Ready()
		for _, f := range frames {
			if err := recv.Step(f); err != nil {
				t.Fatal(err)
			}
		}
		_, dels := recv.Ready()
		return len(dels)
	}
	first := deliver(0x9000_0000)  // a boot nonce
	second := deliver(0x8000_0001) // the next start's nonce, lower
	if first != 1 || second != 0 || recv.Counters().Stale == 0 {
		t.Fatalf("delivered %d then %d, stale %d: want 1, 0 and the second start stale", first, second, recv.Counters().Stale)
	}
}

// TestLeaderLosesState: the leader restarts without its state. It listens
// long enough for the others to elect a new leader, rejoins as a learner,
// catches up and votes again, and the swarm commits on.
func TestLeaderLosesState(t *testing.T) {
	const seed = 6
	h := newHarness(t, 5, 0.05, seed)
	for _, id := range h.members {
		h.start(id)
	}
	idx := electAndCommit(t, h, command.Lights{R: 7})
	h.listen = 0 // the default: longer than the others take to replace the leader
	old, _ := h.leader()
	if err := h.stop(old.id); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(old.dir); err != nil {
		t.Fatal(err)
	}
	h.advance(100)
	h.start(old.id)
	d := old
	if !h.until(3000, func() bool { return d.r.Inspect(func(*swarmNode) {}) }) {
		t.Fatalf("seed %d: node not started after listening", seed)
	}
	if !d.r.Learner() {
		t.Fatalf("seed %d: the old leader, without state, did not start as a learner", seed)
	}
	if !h.until(3000, func() bool { return !d.r.Learner() }) {
		var term, applied uint32
		var leader algorithms.NodeID
		d.r.Inspect(func(n *swarmNode) {
			term, leader, applied = n.Log().Log().Term(), n.Log().Log().Leader(), n.Log().Log().AppliedIndex()
		})
		t.Fatalf("seed %d: still a learner after 30 s: term %d, leader %d, applied %d", seed, term, leader, applied)
	}
	idx2 := electAndCommit(t, h, command.Lights{G: 7})
	var applied uint32
	d.r.Inspect(func(n *swarmNode) { applied = n.Log().Log().AppliedIndex() })
	d.mu.Lock()
	defer d.mu.Unlock()
	t.Logf("old leader %d: applied %d (first command at %d, second at %d), %d votes, %d as a learner", d.id, applied, idx, idx2, d.votes, d.learnerVotes)
	if applied < idx2 || d.learnerVotes != 0 {
		t.Errorf("seed %d: applied %d, want %d; %d votes as a learner, want 0", seed, applied, idx2, d.learnerVotes)
	}
}

func TestAirtime(t *testing.T) {
	// A 45-byte signed frame at 57600 baud: 7.8 ms (docs: the radio).
	if got := airtime(45, 57600); got != 7_812_500 {
		t.Fatalf("airtime(45, 57600) = %d ns, want 7812500", got)
	}
}

// TestLowBatteryReturns: an airborne drone whose vehicle reports less
// charge than Config.LowBattery leaves the show (LeaveShow: its path home
// planned and its cells taken) for good; the others fly on.
func TestLowBatteryReturns(t *testing.T) {
	const seed = 3
	h := newHarness(t, 5, 0.05, seed)
	h.lowBattery = 25
	startShow(t, h, seed, time.Second, 300)
	for _, d := range h.running() {
		d.veh.setBattery(60)
	}
	low := h.drones[2]
	low.veh.setBattery(24)
	h.advance(50)
	if leaving, _ := low.r.Leaving(); !leaving {
		t.Fatalf("seed %d: drone %d at 24%% is not leaving the show", seed, low.id)
	}
	flying := false
	for range 300 { // up to 30 s for its cells
		h.advance(10)
		if _, flying = low.r.Leaving(); flying {
			break
		}
	}
	if !flying {
		t.Errorf("seed %d: drone %d at 24%% never flew its path home", seed, low.id)
	}
	for _, d := range h.running() {
		if d == low {
			continue
		}
		if leaving, _ := d.r.Leaving(); leaving {
			t.Errorf("seed %d: drone %d at 60%% is leaving the show", seed, d.id)
		}
		d.veh.mu.Lock()
		returns, lands := d.veh.returns, d.veh.lands
		d.veh.mu.Unlock()
		if returns != 0 || lands != 0 {
			t.Errorf("seed %d: drone %d at 60%%: %d returns, %d landings; want the show", seed, d.id, returns, lands)
		}
	}
}

// TestLeaveShowTakesCellsAndKeepsClear: a drone told to leave the show
// mid-flight (a low battery) takes the airspace cells of its path home
// before it leaves its show trajectory, flies home keeping at least the
// show's minimum distance from every other drone's setpoints, lands, and
// gives the cells back; the others fly on.
func TestLeaveShowTakesCellsAndKeepsClear(t *testing.T) {
	const seed = 2
	h := newHarness(t, 5, 0.05, seed)
	sh := startShow(t, h, seed, 3*time.Second, 1500) // 15 s: the swarm climbs and hovers as a carpet
	const leaver = algorithms.NodeID(3)
	d := h.drones[leaver]
	d.r.LeaveShow("battery low")
	var (
		heldWhenFlying = true
		flewPath       bool
		closest        = math.Inf(1)
		minDist        = sh.Limits.MinDistance
	)
	for step := 0; step < 2000; step++ { // up to 200 s, 100 ms a step
		h.advance(10)
		leaving, flying := d.r.Leaving()
		if !leaving {
			t.Fatalf("seed %d: drone %d is not leaving after LeaveShow", seed, leaver)
		}
		if flying && !flewPath {
			flewPath = true
			d.r.Inspect(func(n *swarmNode) { heldWhenFlying = n.Locks().Holding() })
		}
		_, _, lands, mine := d.veh.counts()
		if flying && lands == 0 {
			for _, o := range h.running() {
				if o.id == leaver {
					continue
				}
				_, _, _, theirs := o.veh.counts()
				closest = min(closest, mine.Dist(theirs))
			}
		}
		if lands > 0 {
			d.veh.touchDown()
			h.advance(50)
			break
		}
	}
	_, _, lands, last := d.veh.counts()
	var holding bool
	d.r.Inspect(func(n *swarmNode) { holding = n.Locks().Cells() != nil })
	home := sh.Drones[leaver-1].Home
	t.Logf("seed %d: drone %d flew its path: %v; cells held when it started: %v; closest to another drone %.2f m; landed %d, at %v (home %v); cells still held: %v",
		seed, leaver, flewPath, heldWhenFlying, closest, lands, last, home, holding)
	switch {
	case !flewPath:
		t.Fatalf("seed %d: drone %d never flew a path home", seed, leaver)
	case !heldWhenFlying:
		t.Errorf("seed %d: drone %d left its show before it held the cells of its path", seed, leaver)
	case closest < minDist:
		t.Errorf("seed %d: drone %d came %.2f m from another drone, under the show's %.1f m", seed, leaver, closest, minDist)
	case lands == 0 || last.Dist(home) > 0.5:
		t.Errorf("seed %d: drone %d: %d landings, last setpoint %v, %.2f m from its home %v", seed, leaver, lands, last, last.Dist(home), home)
	case holding:
		t.Errorf("seed %d: drone %d still holds its cells after landing", seed, leaver)
	}
	// The others still fly their show.
	for _, o := range h.running() {
		if o.id == leaver {
			continue
		}
		if _, _, lands, _ := o.veh.counts(); lands != 0 {
			t.Errorf("seed %d: drone %d landed; only drone %d left the show", seed, o.id, leaver)
		}
	}
}

// startShow runs h's drones until the demo show for them, STARTed lead
// ahead, has been applied everywhere and flown for ticks ticks; it
// returns the show.
func startShow(t *testing.T, h *harness, seed uint64, lead time.Duration, ticks int) *show.Show {
	t.Helper()
	idx := loadAndArm(t, h)
	awaitInSync(t, h)
	l, _ := h.leader()
	if _, err := l.r.Propose(command.Start{At: swarmNow(l, h.clk) + int64(lead)}); err != nil {
		t.Fatalf("seed %d: START: %v", seed, err)
	}
	if !h.until(3000, func() bool { return h.applied() > idx }) {
		t.Fatalf("seed %d: START not applied everywhere", seed)
	}
	h.advance(ticks)
	return h.show
}

// awaitInSync advances until every running drone is in sync with the
// swarm (it knows swarm time and is caught up with the log): a drone that
// is not by its take-off time stays on the ground (show.LateTakeoff), and
// one that has not caught up since it started does not arm.
func awaitInSync(t *testing.T, h *harness) {
	t.Helper()
	if !h.until(3000, func() bool {
		for _, d := range h.running() {
			var ok bool
			d.r.Inspect(func(n *swarmNode) { ok = n.InSync() })
			if !ok {
				return false
			}
		}
		return true
	}) {
		t.Fatalf("seed %d: drones not in sync with the swarm after 30 s", h.seed)
	}
}

// loadAndArm starts h's drones with the demo show for them, has LOAD and
// ARM committed and applied everywhere, and returns the index of the ARM.
func loadAndArm(t *testing.T, h *harness) uint32 {
	t.Helper()
	sh, digest := demoShow(t, len(h.members))
	h.show = sh
	for _, id := range h.members {
		h.start(id)
	}
	return electAndCommit(t, h, command.Load{Show: 1, Digest: digest}, command.Arm{})
}

// TestGeofenceLands: a drone whose vehicle strays outside the show's
// fence lands, and flies no more setpoints; the others fly on.
func TestGeofenceLands(t *testing.T) {
	const seed = 4
	h := newHarness(t, 5, 0.05, seed)
	startShow(t, h, seed, time.Second, 1000)
	d := h.drones[2]
	poly := h.show.Fence.Polygon
	out := show.Vec3{X: poly[0][0] - 20, Y: poly[0][1] - 20, Z: 10}
	d.veh.mu.Lock()
	d.veh.stray = &out
	d.veh.mu.Unlock()
	h.advance(30)
	sp0, _, lands, _ := d.veh.counts()
	h.advance(100)
	sp1, _, _, _ := d.veh.counts()
	if lands != 1 || sp1 != sp0 {
		t.Errorf("seed %d: drone 2 outside the fence at %v: %d landings, %d setpoints after; want 1 landing, none", seed, out, lands, sp1-sp0)
	}
	for _, o := range h.running() {
		if o.id == 2 {
			continue
		}
		if _, _, lands, _ := o.veh.counts(); lands != 0 {
			t.Errorf("seed %d: drone %d inside the fence landed", seed, o.id)
		}
	}
}

// TestLinkLossHoldsThenFliesOn: with LinkLoss LinkHold, a drone that
// hears nothing for LinkLossAfter (10 s) holds; heard again and back in
// sync, it flies its show again. With the default LinkContinue it flies
// on throughout.
func TestLinkLossHoldsThenFliesOn(t *testing.T) {
	for _, c := range []struct {
		action    LinkAction
		wantHolds bool
	}{{LinkHold, true}, {LinkContinue, false}} {
		const seed = 5
		h := newHarness(t, 5, 0.05, seed)
		h.linkLoss = c.action
		startShow(t, h, seed, time.Second, 500)
		d := h.drones[4]
		h.setDeaf(4, true)
		h.advance(500) // 5 s: not yet
		_, holds5, _, _ := d.veh.counts()
		h.advance(1000) // 15 s deaf
		_, holds15, _, _ := d.veh.counts()
		h.setDeaf(4, false)
		var inSync bool
		h.until(3000, func() bool {
			d.r.Inspect(func(n *swarmNode) { inSync = n.InSync() })
			return inSync
		})
		sp0, _, _, _ := d.veh.counts()
		h.advance(100)
		sp1, holdsEnd, lands, _ := d.veh.counts()
		t.Logf("action %d: holds after 5 s deaf %d, after 15 s %d; in sync again %v; %d setpoints in the second after", c.action, holds5, holds15, inSync, sp1-sp0)
		switch {
		case holds5 != 0:
			t.Errorf("seed %d: action %d: held after 5 s without the swarm, before LinkLossAfter", seed, c.action)
		case c.wantHolds && holds15 != 1, !c.wantHolds && holds15 != 0:
			t.Errorf("seed %d: action %d: %d holds after 15 s without the swarm", seed, c.action, holds15)
		case !inSync || sp1-sp0 < 5 || lands != 0 || holdsEnd != holds15:
			t.Errorf("seed %d: action %d: in sync again %v, %d setpoints in the second after, %d landings; want the show flown again", seed, c.action, inSync, sp1-sp0, lands)
		}
		h.stopAll()
	}
}

// TestSilentFlightControllerReported: a drone whose flight controller
// falls silent reports itself down in its heartbeats, and its peers see
// it; the others' status says armed and airborne.
func TestSilentFlightControllerReported(t *testing.T) {
	const seed = 6
	h := newHarness(t, 5, 0.05, seed)
	startShow(t, h, seed, time.Second, 500)
	d := h.drones[2]
	d.veh.mu.Lock()
	d.veh.st.Silent = true
	d.veh.mu.Unlock()
	var got, other uint8
	ok := h.until(6000, func() bool {
		h.drones[1].r.Inspect(func(n *swarmNode) {
			got, _, _ = n.Membership().Status(2)
			other, _, _ = n.Membership().Status(3)
		})
		return got&StatusFCSilent != 0
	})
	t.Logf("drone 1 sees drone 2's status %#x, drone 3's %#x", got, other)
	if !ok {
		t.Errorf("seed %d: drone 1 never saw drone 2 report its flight controller silent (status %#x)", seed, got)
	}
	if other&(StatusArmed|StatusAirborne) != StatusArmed|StatusAirborne || other&StatusFCSilent != 0 {
		t.Errorf("seed %d: drone 3's status %#x, want armed and airborne, not silent", seed, other)
	}
}

// TestMissedTakeoffStaysDown: a drone that starts again on the ground
// after the show began (its take-off more than show.LateTakeoff behind)
// stays down instead of flying straight to where the show has got to,
// across the others' paths; the others fly on.
func TestMissedTakeoffStaysDown(t *testing.T) {
	const seed = 3
	h := newHarness(t, 5, 0.05, seed)
	idx := loadAndArm(t, h)
	l, _ := h.leader()
	late := algorithms.NodeID(1)
	if l.id == late {
		late = 2
	}
	if err := h.stop(late); err != nil {
		t.Fatalf("seed %d: stop drone %d on the ground: %v", seed, late, err)
	}
	// The others know swarm time before START: one that does not learn
	// it by its take-off stays down too, by the same rule.
	awaitInSync(t, h)
	if _, err := l.r.Propose(command.Start{At: swarmNow(l, h.clk) + int64(3*time.Second)}); err != nil {
		t.Fatalf("seed %d: START: %v", seed, err)
	}
	if !h.until(3000, func() bool { return h.applied() > idx }) {
		t.Fatalf("seed %d: START not applied everywhere", seed)
	}
	h.advance(700)
	d := h.start(late)
	if !h.until(2000, func() bool {
		var ok bool
		d.r.Inspect(func(n *swarmNode) {
			ok = n.InSync() && n.TimeSync().Synced() && n.Show().Phase(n.SwarmTime(h.clk.Now().UnixNano())) == show.Running
		})
		return ok
	}) {
		t.Fatalf("seed %d: drone %d not back in sync with the running show after 20 s", seed, late)
	}
	h.advance(300)
	sp, _, _, _ := d.veh.counts()
	if st := d.veh.State(); sp != 0 || st.Airborne || st.Armed {
		t.Errorf("seed %d: drone %d, back after its take-off: %d setpoints, armed %v, airborne %v; want none, on the ground", seed, late, sp, st.Armed, st.Airborne)
	}
	for _, o := range h.running() {
		if o.id == late {
			continue
		}
		if sp, _, _, _ := o.veh.counts(); sp < 30 {
			var info string
			o.r.Inspect(func(n *swarmNode) {
				now := n.SwarmTime(h.clk.Now().UnixNano())
				ft, _, _ := n.Show().FlightTime(now)
				info = fmt.Sprintf("insync=%v synced=%v phase=%v ft=%v applied=%d", n.InSync(), n.TimeSync().Synced(), n.Show().Phase(now), time.Duration(ft), n.Log().Log().AppliedIndex())
			})
			t.Errorf("seed %d: drone %d flew %d setpoints; want at least 30 (%s, state %+v)", seed, o.id, sp, info, o.veh.State())
		}
	}
}
