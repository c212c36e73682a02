package runner

import (
	"sync/atomic"
	"testing"
	"time"
)

func (v *fakeVehicle) GPSTime() (time.Time, bool) {
	v.mu.Lock()
	gps := v.gps
	v.mu.Unlock()
	if gps == nil {
		return time.Time{}, false
	}
	return gps()
}

// The runner passes the flight controller's GPS time to the node: once its
// readings span 30 s, every drone knows the gap between its swarm time and
// GPS time (the clocks 40 ms ahead of GPS time here), and the leader starts
// closing it at the node's default 200 ppm; when the flight controller
// loses its fix, the leader has no gap to tell.
func TestRunnerFeedsGPSTime(t *testing.T) {
	h := newHarness(t, 3, 0, 11)
	var lost atomic.Bool
	for _, id := range h.members {
		d := &drone{id: id, dir: t.TempDir(), veh: &fakeVehicle{}}
		d.veh.gps = func() (time.Time, bool) { return h.clk.Now().Add(-40 * time.Millisecond), !lost.Load() }
		h.drones[id] = d
		h.start(id)
	}
	var lead *drone
	if !h.until(2000, func() bool { d, ok := h.leader(); lead = d; return ok }) {
		t.Fatal("seed 11: no leader")
	}
	if _, ok := lead.r.GPSGap(); ok {
		t.Fatal("seed 11: a gap to GPS time before 30 s of readings")
	}
	h.advance(3200)
	for _, d := range h.running() {
		gap, ok := d.r.GPSGap()
		t.Logf("seed 11: drone %d (leader %d), gap to GPS time %v", d.id, lead.id, gap)
		if !ok || gap < 37*time.Millisecond || gap > 41*time.Millisecond {
			t.Fatalf("seed 11: drone %d (leader %d): gap to GPS time %v (known %t), want 38 to 40 ms within the followers' 1 ms", d.id, lead.id, gap, ok)
		}
	}
	lost.Store(true)
	h.advance(200)
	if gap, ok := lead.r.GPSGap(); ok {
		t.Fatalf("seed 11: leader %d: a gap to GPS time (%v) with the fix lost", lead.id, gap)
	}
}
