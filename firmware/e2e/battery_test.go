package e2e

import (
	"math"
	"testing"
	"time"

	"github.com/skyquorum/skyquorum/firmware/runner"
	"github.com/skyquorum/skyquorum/sitl/vehicle"
	"github.com/skyquorum/skyquorum/swarm/show/demo"
)

// TestLowBatteryReturnsHome: the same swarm and show as
// TestSwarmFliesShowOnFlightControllers, but drone 3's flight controller
// reports its battery at 10% in the middle of the show. Its runner
// (Config.LowBattery 30%) leaves the show on a path home clear of the
// others, with the path's airspace cells taken (Runner.LeaveShow), lands
// and disarms at home before the show ends, never closer than the show's
// minimum distance to another drone; the others fly on.
func TestLowBatteryReturnsHome(t *testing.T) {
	if testing.Short() {
		t.Skip("flies a 60 s show in real time")
	}
	const (
		seed  = 2
		low   = 3 // the drone whose battery fails
		fault = 25 * time.Second
	)
	sh, err := demo.NewWith(5, demo.Options{Duration: 60 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	rg := newRig(t, sh, seed, func(c *runner.Config) { c.LowBattery = 30 })
	lead := rg.start(5 * time.Second)
	end := sh.Drones[0].Landing
	for _, d := range sh.Drones {
		end = max(end, d.Landing)
	}
	d3 := rg.drones[low-1]
	var (
		faulted          bool
		faultAt          time.Time
		returnAt, downAt time.Time
		returnST, downST time.Duration
		closest          = math.Inf(1)
		closestTo        int
		closestAt        time.Duration
	)
	samples := rg.watch(lead, end, func(st time.Duration) {
		if !faulted && st >= fault {
			d3.fc.Do(func(f *vehicle.FC) { f.SetBatteryRemaining(10) })
			faulted, faultAt = true, time.Now()
		}
		if !faulted {
			return
		}
		_, flying := d3.r.Leaving()
		p3, armed, _ := rg.truth(d3)
		if returnAt.IsZero() && flying {
			returnAt, returnST = time.Now(), st
		}
		if !returnAt.IsZero() && downAt.IsZero() && !armed {
			downAt, downST = time.Now(), st
		}
		if !returnAt.IsZero() && downAt.IsZero() {
			for _, o := range rg.drones {
				if o == d3 {
					continue
				}
				if p, _, _ := rg.truth(o); p.Dist(p3) < closest {
					closest, closestTo, closestAt = p.Dist(p3), int(o.id), st
				}
			}
		}
	})
	if returnAt.IsZero() {
		t.Fatalf("seed %d: drone %d never flew a path home after its battery fell to 10%% at show time %v", seed, low, fault)
	}
	t.Logf("drone %d: battery at 10%% at show time %v; on its path home %.1f s later (show time %v)", low, fault,
		returnAt.Sub(faultAt).Seconds(), returnST.Round(time.Millisecond))
	if downAt.IsZero() {
		t.Fatalf("seed %d: drone %d did not land before the show's end", seed, low)
	}
	home, _, _ := rg.truth(d3)
	off := home.Dist(sh.Drones[low-1].Home)
	t.Logf("drone %d: down and disarmed at show time %v, %.2f m from its home; closest to another drone on the way: %.2f m (drone %d at show time %v)",
		low, downST.Round(time.Millisecond), off, closest, closestTo, closestAt.Round(time.Millisecond))
	if off > 1 {
		t.Errorf("seed %d: drone %d landed %.2f m from its home, want within 1 m", seed, low, off)
	}
	if closest < sh.Limits.MinDistance {
		t.Errorf("seed %d: drone %d came %.2f m from drone %d on its way home, under the show's %.1f m", seed, low, closest, closestTo, sh.Limits.MinDistance)
	}
	// The others flew on.
	limit := sh.Limits.MinDistance / 2
	for i, ss := range samples {
		if i == low-1 {
			continue
		}
		w := 0.0
		for _, s := range ss {
			w = max(w, s.dev)
		}
		t.Logf("drone %d: worst deviation %.3f m", i+1, w)
		if w >= limit {
			t.Errorf("seed %d: drone %d: worst deviation %.3f m, want below %.2f m", seed, i+1, w, limit)
		}
	}
}
