// Package airtime turns an airtime budget into a sending period: the swarm's
// periodic traffic (heartbeats, time-sync probes) is paced so that all
// drones of one radio network together take at most a set share of the
// channel (docs/mavlink.md#scale).
//
// The figures follow the MAVLink v2 frame format: a MAVLink v2 frame is 10 header
// bytes, the payload, 2 checksum bytes and, when signed, 13 signature bytes;
// a serial radio sends 10 bits per byte (8N1).
package airtime

import (
	"errors"
	"fmt"
	"math"
)

// MAVLink v2 framing and the swarm's addressing, in bytes.
const (
	// HeaderBytes is the MAVLink v2 header.
	HeaderBytes = 10
	// ChecksumBytes is the MAVLink v2 checksum.
	ChecksumBytes = 2
	// SignatureBytes is the MAVLink v2 signature.
	SignatureBytes = 13
	// AddressBytes is the source and destination vehicle IDs every swarm
	// message carries besides a core message's own payload (src_vehicle,
	// dst_vehicle of the swarm dialect; the simulator counts the same).
	AddressBytes = 4
	// DefaultBaud is the serial rate of a SiK radio.
	DefaultBaud = 57600
)

// ErrBudget is returned for a budget that cannot be met or makes no sense.
var ErrBudget = errors.New("airtime: bad budget")

// FrameBytes is the length on air of a frame that carries a core message of
// payload bytes, addressing included.
func FrameBytes(payload int, signed bool) int {
	n := HeaderBytes + AddressBytes + payload + ChecksumBytes
	if signed {
		n += SignatureBytes
	}
	return n
}

// Nanos is how long a frame of the given length occupies a serial radio at
// baud bits per second, in nanoseconds.
func Nanos(bytes, baud int) int64 {
	return int64(bytes) * 10 * 1e9 / int64(baud)
}

// Budget describes one periodic message that every member sends.
type Budget struct {
	// Members is the number of drones that send it on one channel.
	Members int
	// FramesPerPeriod is how many frames one member's period costs (2 for
	// a request and its reply).
	FramesPerPeriod int
	// FrameBytes is the length on air of one frame (the largest, when the
	// frames differ).
	FrameBytes int
	// Baud is the serial rate of the radio.
	Baud int
	// Share is the fraction of the channel the traffic may take, in (0, 1].
	Share float64
	// TickNanos is the length of one tick in nanoseconds.
	TickNanos int64
}

// PeriodTicks returns the shortest period, in whole ticks, at which every
// member may send so that together they stay within the share:
// Members × FramesPerPeriod × frame airtime / Share, rounded up.
func (b Budget) PeriodTicks() (int, error) {
	switch {
	case b.Members < 1:
		return 0, fmt.Errorf("%w: %d members", ErrBudget, b.Members)
	case b.FramesPerPeriod < 1 || b.FrameBytes < 1:
		return 0, fmt.Errorf("%w: %d frames of %d bytes per period", ErrBudget, b.FramesPerPeriod, b.FrameBytes)
	case b.Baud <= 0:
		return 0, fmt.Errorf("%w: baud %d", ErrBudget, b.Baud)
	case !(b.Share > 0 && b.Share <= 1):
		return 0, fmt.Errorf("%w: share %v not in (0, 1]", ErrBudget, b.Share)
	case b.TickNanos <= 0:
		return 0, fmt.Errorf("%w: tick of %d ns", ErrBudget, b.TickNanos)
	}
	air := float64(b.Members*b.FramesPerPeriod) * float64(Nanos(b.FrameBytes, b.Baud))
	ticks := math.Ceil(air / b.Share / float64(b.TickNanos))
	if ticks > math.MaxInt32 {
		return 0, fmt.Errorf("%w: period of %.0f ticks", ErrBudget, ticks)
	}
	return max(int(ticks), 1), nil
}
