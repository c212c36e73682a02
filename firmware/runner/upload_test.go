package runner

import (
	"crypto/sha256"
	"math/rand/v2"
	"testing"

	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/radio/codec"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/radio/link"
	"github.com/skyquorum/skyquorum/swarm/command"
	"github.com/skyquorum/skyquorum/swarm/upload"
)

// uploader drives the ground station's side of a show upload over the
// harness's radio network.
type uploader struct {
	t     *testing.T
	g     *groundStation
	c     *codec.Codec
	snd   *upload.Sender
	seen  int
	asked map[algorithms.NodeID]int // symbols asked per drone
}

func newUploader(t *testing.T, h *harness, showBytes []byte) *uploader {
	t.Helper()
	c, err := codec.New(codec.Config{Network: testNetwork})
	if err != nil {
		t.Fatal(err)
	}
	snd, err := upload.NewSender(upload.SenderConfig{Show: showBytes, BytesPerTick: float64(upload.Frame(255))})
	if err != nil {
		t.Fatal(err)
	}
	return &uploader{t: t, g: newGroundStation(t, h), c: c, snd: snd, asked: map[algorithms.NodeID]int{}}
}

// step ticks the sender, transmits what it sends, advances the swarm one
// tick and hands the sender the drones' reports.
func (u *uploader) step() {
	u.snd.Tick()
	for _, s := range u.snd.Ready().Sends {
		m, err := u.c.EncodeMessage(codec.Header{From: gsIssuer, To: algorithms.Everyone}, s.Msg)
		if err != nil {
			u.t.Fatal(err)
		}
		if err := u.g.radio.Send(m, link.Broadcast); err != nil {
			u.t.Fatal(err)
		}
	}
	u.g.h.advance(1)
	for _, f := range u.g.frames(u.seen) {
		u.seen++
		h, m, err := u.c.DecodeMessage(f.Message)
		if err != nil {
			continue
		}
		if n, ok := m.(upload.Need); ok {
			u.asked[h.From] += n.Symbols()
			_ = u.snd.Step(h.From, n)
		}
	}
}

func holds(d *drone, want [32]byte) bool {
	b, h := d.r.HeldShow()
	return b != nil && h == want
}

// A show uploaded over the radio reaches every drone, which checks its
// hash; a drone that stops halfway keeps everything it received in its
// state directory and, started again, asks only for what it lacks (and
// again for repair symbols the radio loses).
func TestShowUploadOverTheRadio(t *testing.T) {
	const seed = 4
	h := newHarness(t, 3, 0.1, seed)
	drones := []*drone{h.start(1), h.start(2), h.start(3)}
	r := rand.New(rand.NewPCG(seed, 2))
	showBytes := make([]byte, 12000)
	for i := range showBytes {
		showBytes[i] = byte(r.Uint32())
	}
	want := sha256.Sum256(showBytes)
	u := newUploader(t, h, showBytes)
	chunks := u.snd.Layout().Chunks()

	// Drone 3 stops once it has about half the show.
	stored := func(d *drone) int {
		d.r.mu.Lock()
		defer d.r.mu.Unlock()
		return d.r.upload.rx.Stored()
	}
	for range 2000 {
		if stored(drones[2]) >= chunks/2 {
			break
		}
		u.step()
	}
	if err := h.stop(3); err != nil {
		t.Fatal(err)
	}
	for range 5000 {
		if holds(drones[0], want) && holds(drones[1], want) {
			break
		}
		u.step()
	}
	if !holds(drones[0], want) || !holds(drones[1], want) {
		t.Fatalf("seed %d: drones 1 and 2 do not hold the show", seed)
	}

	d3 := h.start(3)
	kept, lacks := stored(d3), 0
	d3.r.mu.Lock()
	lacks = d3.r.upload.rx.Lacks()
	d3.r.mu.Unlock()
	if kept < chunks/2 || lacks != chunks-kept {
		t.Fatalf("seed %d: drone 3 restarted with %d of %d chunks, lacking %d", seed, kept, chunks, lacks)
	}
	u.asked[3] = 0
	for range 5000 {
		if holds(d3, want) {
			break
		}
		u.step()
	}
	if !holds(d3, want) {
		t.Fatalf("seed %d: drone 3 does not hold the show after its restart", seed)
	}
	if u.asked[3] > 2*lacks {
		t.Fatalf("seed %d: drone 3 lacked %d symbols and asked for %d", seed, lacks, u.asked[3])
	}
	t.Logf("drone 3 kept %d of %d chunks across its restart, lacked %d, asked for %d", kept, chunks, lacks, u.asked[3])
}

// statusOf is drone d's SWARM_STATUS now.
func statusOf(d *drone) *swarm.MessageSwarmStatus {
	d.r.mu.Lock()
	defer d.r.mu.Unlock()
	return d.r.status()
}

// A show the upload put on drones that were configured with none is
// the one they fly when the swarm LOADs its digest: they report holding
// it (SWARM_STATUS.show_digest, then SHOW_LOADED) and arm at ARM. A
// drone that does not hold it reports none, and refuses to arm.
func TestUploadedShowIsFlown(t *testing.T) {
	const seed = 5
	h := newHarness(t, 3, 0.05, seed)
	sh, digest := demoShow(t, 3)
	b, err := sh.Encode()
	if err != nil {
		t.Fatal(err)
	}
	want := sha256.Sum256(b)
	holders := []*drone{h.start(1), h.start(2)}
	u := newUploader(t, h, b)
	for range 5000 {
		if holds(holders[0], want) && holds(holders[1], want) {
			break
		}
		u.step()
	}
	for _, d := range holders {
		if !holds(d, want) {
			t.Fatalf("seed %d: drone %d does not hold the show", seed, d.id)
		}
		if got := statusOf(d).ShowDigest; got != digest {
			t.Fatalf("seed %d: drone %d reports show %#x; want %#x", seed, d.id, got, digest)
		}
	}
	// Drone 3 starts after the upload, which no longer polls: it holds
	// no show.
	lacking := h.start(3)
	electAndCommit(t, h, command.Load{Show: 1, Digest: digest})
	// Once a drone applied the LOAD, its status says whether it holds
	// the loaded show.
	for _, d := range holders {
		if st := statusOf(d); st.Flags&swarm.SWARM_MEMBER_FLAGS_SHOW_LOADED == 0 {
			t.Errorf("seed %d: drone %d applied the LOAD of the show it holds; its status flags %v lack SHOW_LOADED", seed, d.id, st.Flags)
		}
	}
	electAndCommit(t, h, command.Arm{})
	h.advance(100)
	for _, d := range holders {
		st := statusOf(d)
		if st.ShowDigest != digest || st.Flags&swarm.SWARM_MEMBER_FLAGS_SHOW_LOADED == 0 || !d.veh.State().Armed {
			t.Errorf("seed %d: drone %d: show %#x, flags %v, armed %v; want show %#x loaded and armed",
				seed, d.id, st.ShowDigest, st.Flags, d.veh.State().Armed, digest)
		}
	}
	st := statusOf(lacking)
	if st.ShowDigest != 0 || st.Flags&swarm.SWARM_MEMBER_FLAGS_SHOW_LOADED != 0 || lacking.veh.State().Armed {
		t.Errorf("seed %d: drone 3 (no show): show %#x, flags %v, armed %v; want no show, not loaded, not armed",
			seed, st.ShowDigest, st.Flags, lacking.veh.State().Armed)
	}
	lacking.r.mu.Lock()
	refused := lacking.r.fly.refused
	lacking.r.mu.Unlock()
	if refused != digest {
		t.Errorf("seed %d: drone 3 logged no refusal of show %#x (refused %#x)", seed, digest, refused)
	}
}
