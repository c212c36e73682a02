// Package dialect is the swarm's MAVLink dialect: swarm.xml, a standalone
// MAVLink XML definition (message IDs 61000–61999), the Go generated from it
// by gomavlib's own dialect-import in package swarm, and the combination of
// both with gomavlib's bundled ardupilotmega dialect, which is what a drone's
// radio link speaks.
//
// Regenerate the Go code after editing swarm.xml with
//
//	go generate ./radio/dialect
//
// TestGeneratedIsUpToDate fails when the committed code differs from what
// the tool generates.
package dialect

//go:generate sh -c "rm -rf swarm && go tool dialect-import swarm.xml && gofmt -w swarm"

import (
	"fmt"

	mavdialect "github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
)

// First and Last bound the message IDs of the swarm dialect.
const (
	First uint32 = 61000
	Last  uint32 = 61999
)

// IsSwarm reports whether id is a message ID of the swarm dialect.
func IsSwarm(id uint32) bool { return id >= First && id <= Last }

// Dialect returns the swarm dialect combined with ardupilotmega (which
// includes common): everything a drone's radio link may carry. Each call
// returns a new value, so callers may not affect each other.
func Dialect() *mavdialect.Dialect {
	msgs := make([]message.Message, 0, len(ardupilotmega.Dialect.Messages)+len(swarm.Dialect.Messages))
	msgs = append(msgs, ardupilotmega.Dialect.Messages...)
	msgs = append(msgs, swarm.Dialect.Messages...)
	return &mavdialect.Dialect{Version: ardupilotmega.Dialect.Version, Messages: msgs}
}

// NewReadWriter returns an initialised encoder and decoder of Dialect.
func NewReadWriter() (*mavdialect.ReadWriter, error) {
	rw := &mavdialect.ReadWriter{Dialect: Dialect()}
	if err := rw.Initialize(); err != nil {
		return nil, fmt.Errorf("dialect: combine swarm with ardupilotmega: %w", err)
	}
	return rw, nil
}

// Network returns the network_id of a swarm dialect message; ok is false
// for messages of other dialects, which carry none.
func Network(msg message.Message) (network uint8, ok bool) {
	switch m := msg.(type) {
	case *swarm.MessageSwarmMutex:
		return m.NetworkId, true
	case *swarm.MessageSwarmElection:
		return m.NetworkId, true
	case *swarm.MessageSwarmMulticast:
		return m.NetworkId, true
	case *swarm.MessageSwarmAck:
		return m.NetworkId, true
	case *swarm.MessageSwarmMember:
		return m.NetworkId, true
	case *swarm.MessageSwarmEmergency:
		return m.NetworkId, true
	case *swarm.MessageSwarmShowControl:
		return m.NetworkId, true
	case *swarm.MessageSwarmShowChunk:
		return m.NetworkId, true
	case *swarm.MessageSwarmData:
		return m.NetworkId, true
	case *swarm.MessageSwarmHeartbeat:
		return m.NetworkId, true
	case *swarm.MessageSwarmTimeRequest:
		return m.NetworkId, true
	case *swarm.MessageSwarmTimeReply:
		return m.NetworkId, true
	case *swarm.MessageSwarmOperatorCommand:
		return m.NetworkId, true
	case *swarm.MessageSwarmStatus:
		return m.NetworkId, true
	case *swarm.MessageSwarmShowOffer:
		return m.NetworkId, true
	case *swarm.MessageSwarmShowSymbol:
		return m.NetworkId, true
	case *swarm.MessageSwarmShowNeed:
		return m.NetworkId, true
	}
	return 0, false
}
