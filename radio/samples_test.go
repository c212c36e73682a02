package radio_test

import (
	"github.com/bluenviron/gomavlib/v3/pkg/message"

	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/radio/internal/mavtest"
)

// SwarmSamples returns one message of every swarm message type, every
// field set from seed, on network.
func SwarmSamples(seed uint64, network uint8) []message.Message {
	var out []message.Message
	for i, proto := range swarm.Dialect.Messages {
		m := mavtest.New(proto)
		mavtest.Sample(m, seed*1000+uint64(i))
		mavtest.SetNetwork(m, network)
		out = append(out, m)
	}
	return out
}
