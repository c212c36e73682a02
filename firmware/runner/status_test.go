package runner

import (
	"testing"
	"time"

	"github.com/skyquorum/skyquorum/radio/dialect"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/radio/wire"
)

// StatusPayloadBytes is the payload of a SWARM_STATUS with every field
// set, the frame whose airtime sets the status period.
func TestStatusPayloadBytes(t *testing.T) {
	rw, err := dialect.NewReadWriter()
	if err != nil {
		t.Fatal(err)
	}
	m := &swarm.MessageSwarmStatus{
		Applied: 1, Term: 1, ShowTime: 1, X: 1, Y: 1, Z: 1, Leader: 1, Voltage: 1, Cell: 1, SrcVehicle: 1, DstVehicle: 1,
		NetworkId: 1, State: 1, Flags: 1, Battery: 1, GpsFix: 1, Satellites: 1, Loss: 1, Retransmits: 1, Cells: 1,
		Color: [3]uint8{1, 1, 1}, Preflight: 1, ShowDigest: 1<<63 | 1,
	}
	if n := len(rw.GetMessage(m.GetID()).Write(m, true).Payload); n != StatusPayloadBytes {
		t.Fatalf("SWARM_STATUS payload of %d bytes; StatusPayloadBytes says %d", n, StatusPayloadBytes)
	}
}

// The status period at 57600 baud and the default 5% share: a signed
// 74-byte frame takes 12.85 ms, so 10 drones report every 2.57 s, 50
// every 12.85 s and 250 every 64.2 s, each taking 5% of the channel
// together; 3 drones or fewer report every second (3.9% at 3).
func TestStatusPeriod(t *testing.T) {
	if got := StatusAirtime(57600); got.Round(10*time.Microsecond) != 12850*time.Microsecond {
		t.Errorf("status airtime %v at 57600 baud; want 12.85 ms", got)
	}
	for _, c := range []struct {
		members int
		want    time.Duration
	}{
		{1, time.Second}, {3, time.Second}, {4, 1028 * time.Millisecond}, {10, 2569 * time.Millisecond},
		{50, 12847 * time.Millisecond}, {250, 64236 * time.Millisecond},
	} {
		got := StatusPeriod(c.members, 57600, 0)
		if got.Round(time.Millisecond) != c.want {
			t.Errorf("%d drones: period %v, want %v", c.members, got, c.want)
		}
		share := float64(c.members) * float64(StatusAirtime(57600)) / float64(got)
		if share > DefaultStatusShare+1e-9 {
			t.Errorf("%d drones: share %.4f above %.2f", c.members, share, DefaultStatusShare)
		}
	}
	if a, b := StatusPeriod(50, 0, 0), StatusPeriod(50, 57600, 0); a != b {
		t.Errorf("without a baud the period is %v, at 57600 %v: want the SiK rate assumed", a, b)
	}
}

// Loss counts the frames skipped within each stream: two ground stations
// sharing system ID 255 and component 190 on signing links 1 and 2, each
// sending every frame of its own sequence, interleaved, miss nothing; a
// drone whose sequence skips 3 numbers in 10 frames misses 3.
func TestStatusLossPerStream(t *testing.T) {
	var s reporter
	s.seq = map[stream]uint8{}
	for i := range 20 {
		for _, link := range []uint8{1, 2} {
			seq := uint8(i)
			if link == 2 {
				seq += 100 // another station's own counter
			}
			s.heardFrame(wire.Frame{SystemID: 255, ComponentID: 190, LinkID: link, Sequence: seq})
		}
	}
	if s.missed != 0 || s.heard != 40 {
		t.Fatalf("two stations on links 1 and 2: heard %d, missed %d; want 40 heard, 0 missed", s.heard, s.missed)
	}
	s.heard, s.missed = 0, 0
	for _, seq := range []uint8{250, 251, 252, 254, 255, 0, 3, 4, 5, 6} {
		s.heardFrame(wire.Frame{SystemID: 7, ComponentID: 191, LinkID: 7, Sequence: seq})
	}
	if s.missed != 3 || s.heard != 10 {
		t.Fatalf("a drone skipping 253, 1 and 2: heard %d, missed %d; want 10 heard, 3 missed", s.heard, s.missed)
	}
}
