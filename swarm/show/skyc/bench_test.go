package skyc

import (
	"bytes"
	"testing"
	"time"

	"github.com/skyquorum/skyquorum/swarm/show"
)

// BenchmarkImport imports a show of 100 drones with 1000 cubic segments
// each, exported to .skyc; it reports the time per point.
func BenchmarkImport(b *testing.B) {
	s := &show.Show{Title: "bench"}
	for k := range 100 {
		d := show.Drone{Landing: 1000 * time.Second}
		for i := range 1001 {
			kf := show.Keyframe{At: time.Duration(i) * time.Second, Pos: show.Vec3{X: float64(k), Y: float64(i % 7), Z: float64(i % 11)}}
			if i > 0 {
				kf.Ctrl = []show.Vec3{{X: float64(k), Y: 1.25, Z: 2.5}, {X: float64(k), Y: 3.125, Z: 4.0625}}
			}
			d.Path = append(d.Path, kf)
		}
		s.Drones = append(s.Drones, d)
	}
	var file bytes.Buffer
	if err := Export(&file, s); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := importBytes(file.Bytes(), Options{}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/100_100, "ns/point")
}
