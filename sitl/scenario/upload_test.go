package scenario

import (
	"fmt"
	"testing"

	"github.com/skyquorum/skyquorum/sitl/sim/seeds"
)

func runUploadT(t *testing.T, u Upload) UploadResult {
	t.Helper()
	r, err := RunUpload(u)
	if err != nil {
		t.Fatalf("seed %d: %v", u.Seed, err)
	}
	if r.CompletedDrones != u.Drones || r.UploadUnfinished != 0 || r.HashViolations != 0 || r.StepErrors != 0 {
		t.Fatalf("seed %d, %d drones, %s, loss %v: %d drones hold the show, %d unfinished, %d hash violations, %d step errors",
			u.Seed, u.Drones, u.Repair, u.Loss, r.CompletedDrones, r.UploadUnfinished, r.HashViolations, r.StepErrors)
	}
	return r
}

// The acceptance figures: every drone holds a 100 kB show with the right
// hash, for both schemes, and coded repair stays within 1.3 times one copy
// at 10% loss, with 10, 100 and 250 drones.
func TestUploadEveryDroneHoldsTheShow(t *testing.T) {
	count := seeds.Count(t, 1)
	for _, n := range []int{10, 100, 250} {
		for _, loss := range []float64{0, 0.1} {
			for _, repair := range UploadRepairs {
				t.Run(fmt.Sprintf("%d/%v/%s", n, loss, repair), func(t *testing.T) {
					for seed := uint64(1); seed <= uint64(count); seed++ {
						u := Upload{Common: Common{Drones: n, Seed: seed, Loss: loss}, Size: 100000, Share: DefaultUploadShare, Repair: repair}
						r := runUploadT(t, u)
						t.Logf("seed %d: ratio %.3f, %d repair frames, %d reports, %d rounds, %.1f s; baseline %.0f ms",
							seed, r.Ratio, r.RepairFrames, r.ReportFrames, r.Rounds, r.UploadSeconds, r.PerDroneBaselineAirtimeMs)
						switch {
						case loss == 0 && r.Ratio > 1.01:
							t.Fatalf("seed %d: ratio %.3f without loss, want at most 1.01", seed, r.Ratio)
						case loss > 0 && repair == "coded" && r.Ratio > 1.3:
							t.Fatalf("seed %d: coded ratio %.3f at %v loss, want at most 1.3", seed, r.Ratio, loss)
						case r.PerDroneBaselineAirtimeMs < float64(n)*r.OneCopyAirtimeMs:
							t.Fatalf("seed %d: baseline %.0f ms below %d copies of %.0f ms", seed, r.PerDroneBaselineAirtimeMs, n, r.OneCopyAirtimeMs)
						}
					}
				})
			}
		}
	}
}

// Drones that crash mid-upload and restart keep what they persisted and
// ask only for what they lack.
func TestUploadRestartAsksOnlyForWhatItLacks(t *testing.T) {
	for seed := uint64(1); seed <= uint64(seeds.Count(t, 2)); seed++ {
		u := Upload{Common: Common{Drones: 40, Seed: seed, Loss: 0.1}, Size: 100000, Share: DefaultUploadShare, Repair: "coded", Crash: 0.3, Restart: true}
		r := runUploadT(t, u)
		t.Logf("seed %d: %d crashed, lacked %d of %d symbols when back, asked for %d; ratio %.3f",
			seed, r.Crashed, r.LackedAtRestart, r.Crashed*r.Chunks, r.AskedAfterRestart, r.Ratio)
		if r.Crashed == 0 {
			t.Fatalf("seed %d: no drone crashed", seed)
		}
		if r.LackedAtRestart >= r.Crashed*r.Chunks || r.AskedAfterRestart > r.LackedAtRestart {
			t.Fatalf("seed %d: %d restarted drones lacked %d of %d symbols and asked for %d", seed, r.Crashed, r.LackedAtRestart, r.Crashed*r.Chunks, r.AskedAfterRestart)
		}
	}
}

// Drones that crash for good do not hold the run up.
func TestUploadCrashWithoutRestart(t *testing.T) {
	const seed = 3
	u := Upload{Common: Common{Drones: 20, Seed: seed, Loss: 0.05}, Size: 20000, Share: 1, Repair: "nack", Crash: 0.2}
	r, err := RunUpload(u)
	if err != nil {
		t.Fatal(err)
	}
	if r.Crashed == 0 || r.CompletedDrones != 20-r.Crashed || r.UploadUnfinished != 0 {
		t.Fatalf("seed %d: %d crashed, %d completed, %d unfinished", seed, r.Crashed, r.CompletedDrones, r.UploadUnfinished)
	}
}
