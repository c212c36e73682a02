package sim

import "fmt"

// Time is virtual time in nanoseconds since the start of a run.
type Time int64

// Units of virtual time.
const (
	Nanosecond  Time = 1
	Microsecond      = 1000 * Nanosecond
	Millisecond      = 1000 * Microsecond
	Second           = 1000 * Millisecond
)

// Milliseconds returns t in (fractional) milliseconds.
func (t Time) Milliseconds() float64 { return float64(t) / float64(Millisecond) }

// Seconds returns t in (fractional) seconds.
func (t Time) Seconds() float64 { return float64(t) / float64(Second) }

// String formats t in milliseconds.
func (t Time) String() string { return fmt.Sprintf("%.3fms", t.Milliseconds()) }

// MAVLink v2 framing, in bytes.
const (
	mavHeaderBytes    = 10
	mavChecksumBytes  = 2
	mavSignatureBytes = 13
)

// FrameBytes is the length of a MAVLink v2 frame that carries payload
// bytes: 10 header bytes, the payload, a 2-byte checksum and, when signed,
// a 13-byte signature.
func FrameBytes(payload int, signed bool) int {
	n := mavHeaderBytes + payload + mavChecksumBytes
	if signed {
		n += mavSignatureBytes
	}
	return n
}

// Airtime is how long a frame of the given length occupies a serial radio
// at baud bits per second with 8N1 framing (10 bits a byte).
func Airtime(bytes, baud int) Time {
	return Time(int64(bytes) * 10 * int64(Second) / int64(baud))
}
