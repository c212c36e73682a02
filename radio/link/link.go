// Package link carries raw MAVLink bytes between a drone and its radio
// network: a serial radio (go.bug.st/serial), UDP for SITL, and an
// in-memory network for tests, all behind one small interface. Links know
// nothing of frames, signatures or pacing (radio/wire, radio/pace); each
// owns the goroutines and system calls its transport needs.
package link

import (
	"errors"
	"sync"
)

// Dest addresses a frame on a link: Broadcast, or one MAVLink system ID.
// A radio delivers every frame to everyone in range whatever Dest says;
// links with addresses (UDP, memory) use it to send to one peer only.
type Dest uint8

// Broadcast addresses every peer of the link.
const Broadcast Dest = 0

// Sentinel errors.
var (
	// ErrClosed is returned after Close.
	ErrClosed = errors.New("link: closed")
	// ErrDisconnected is returned by Send while a serial device is gone;
	// the link keeps trying to reopen it.
	ErrDisconnected = errors.New("link: device disconnected")
)

// Packet is what a link received: one datagram, or the bytes one read
// returned from a serial device.
type Packet struct {
	Data []byte
	// From is the peer's address on links that have addresses (UDP,
	// memory), for Learner; empty on a serial radio.
	From string
}

// Info describes a link to the frame reader.
type Info struct {
	// Name identifies the link in logs: the device or the local address.
	Name string
	// Datagrams is true when every Packet is whole (UDP, memory): a frame
	// cut at its end is truncated, not continued by the next one.
	Datagrams bool
	// LocalRadio is true for a serial radio, or a UDP link to a SITL
	// radio hub, whose own unsigned RADIO_STATUS frames are accepted for
	// pacing.
	LocalRadio bool
}

// Counters are a link's running totals.
type Counters struct {
	Sends         int // Send calls that succeeded
	BytesSent     int
	SendErrors    int // Send calls that failed
	Packets       int // Packets received
	BytesReceived int
	Disconnects   int // serial device lost
	Reconnects    int // serial device reopened
	Strays        int // datagrams ignored: not from the radio hub (UDPConfig.Hub)
}

// Link is one transport of raw frames.
type Link interface {
	// Send transmits p, a whole frame, to one peer or to every peer. It
	// returns an error rather than drop p silently.
	Send(p []byte, to Dest) error
	// Receive blocks until bytes arrive, and returns ErrClosed after Close.
	Receive() (Packet, error)
	// Close stops the link and releases its resources.
	Close() error
	// Counters returns the running totals.
	Counters() Counters
	// Info describes the link.
	Info() Info
}

// Learner is implemented by links that can route a unicast: after a frame
// from system ID id was verified, the radio tells the link where it came
// from.
type Learner interface {
	Learn(id uint8, from string)
}

// inbox is an unbounded queue of packets that a Receive waits on.
type inbox struct {
	mu     sync.Mutex
	cond   *sync.Cond
	q      []Packet
	closed bool
}

func newInbox() *inbox {
	b := &inbox{}
	b.cond = sync.NewCond(&b.mu)
	return b
}

func (b *inbox) put(p Packet) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return false
	}
	b.q = append(b.q, p)
	b.cond.Signal()
	return true
}

func (b *inbox) get() (Packet, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for len(b.q) == 0 && !b.closed {
		b.cond.Wait()
	}
	if len(b.q) == 0 {
		return Packet{}, ErrClosed
	}
	p := b.q[0]
	b.q[0] = Packet{}
	b.q = b.q[1:]
	return p, nil
}

func (b *inbox) close() {
	b.mu.Lock()
	b.closed = true
	b.cond.Broadcast()
	b.mu.Unlock()
}
