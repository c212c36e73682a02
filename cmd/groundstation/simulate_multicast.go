package main

import (
	"flag"
	"io"

	"github.com/skyquorum/skyquorum/sitl/scenario"
)

func simulateMulticast(args []string, c *commonFlags, stderr io.Writer) (result, error) {
	fs := flag.NewFlagSet("simulate multicast", flag.ContinueOnError)
	c.register(fs, 16)
	m := scenario.Multicast{}
	fs.StringVar(&m.Order, "order", "total", "delivery order: none|fifo|causal|total (none = basic, unreliable)")
	fs.StringVar(&m.TotalScheme, "total-scheme", "sequencer", "total order scheme: sequencer|isis")
	fs.IntVar(&m.Messages, "messages", 100, "multicasts in the whole run")
	fs.IntVar(&m.Senders, "senders", 4, "drones that multicast, drawn from the seed")
	fs.Float64Var(&m.Crash, "crash", 0, "each drone crashes at a random time with this probability, never more than ⌊(N−1)/2⌋")
	fs.StringVar(&m.Reliability, "reliability", "efficient", "relay (textbook: every receiver relays once) or efficient (radio-aware)")
	if err := parse(fs, args, stderr); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, usageErr("%w", err)
	}
	m.Common = c.common()
	if err := m.Validate(); err != nil {
		return nil, usageErr("%w", err)
	}
	r, err := timed(c, &m.Common, func() (scenario.MulticastResult, error) { return scenario.RunMulticast(m) })
	if err != nil {
		return nil, err
	}
	return multicastOutput{r, traceField(c.trace)}, nil
}

// multicastOutput adds the echo of --trace to the scenario's fields.
type multicastOutput struct {
	scenario.MulticastResult
	Trace *string `json:"trace"`
}
