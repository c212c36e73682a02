package scenario

import (
	"testing"
	"time"

	"github.com/skyquorum/skyquorum/sitl/sim"
)

// BenchmarkShow2000Networks8 runs the show scenario at 2000 drones over 8
// networks, fault-free, 30 s and 10 s of settling, and reports what scale
// costs: the memory the run holds per drone at its end
// (memory_bytes_per_drone) and simulated seconds per wall-clock second.
// A benchmark, not a test: `make test` does not run it.
func BenchmarkShow2000Networks8(b *testing.B) {
	benchShow(b, 2000, 8)
}

// BenchmarkShow16000Networks64 is the same at 16 000 drones over 64
// networks, the size of the largest shows flown.
func BenchmarkShow16000Networks64(b *testing.B) {
	benchShow(b, 16000, 64)
}

// BenchmarkShow250 is the same at 250 drones on one network.
func BenchmarkShow250(b *testing.B) {
	benchShow(b, 250, 1)
}

func benchShow(b *testing.B, drones, networks int) {
	var mem, rtf float64
	runs := 0
	for b.Loop() {
		start := time.Now()
		r, err := RunShow(Show{Common: Common{Drones: drones, Seed: 1}, Networks: networks, Duration: 30 * sim.Second, Settle: 10 * sim.Second})
		if err != nil {
			b.Fatalf("seed=1: %v", err)
		}
		r.SetWall(time.Since(start).Seconds())
		mem += r.MemoryBytesPerDrone
		rtf += r.RealTimeFactor
		runs++
	}
	b.ReportMetric(mem/float64(runs), "B/drone")
	b.ReportMetric(rtf/float64(runs), "real_time_factor")
}
