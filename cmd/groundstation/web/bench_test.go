package web

import (
	"testing"
	"time"
)

// BenchmarkFrame250 measures building and encoding one frame of 250
// drones mid-show, as the stream sends it 5 times a second per page.
func BenchmarkFrame250(b *testing.B) {
	src := newShowSource(b, 250)
	if _, err := src.Command(b.Context(), Command{Op: "start"}); err != nil {
		b.Fatal(err)
	}
	src.Step(20 * time.Second)
	s := New(Config{Source: src})
	for range 300 {
		// A full channel history, as after 5 minutes.
		src.Step(time.Second)
		s.Frame()
	}
	var size int
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		size = len(s.Frame())
	}
	b.ReportMetric(float64(size), "bytes/frame")
}
