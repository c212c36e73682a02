package main

import (
	"flag"
	"io"
	"strings"

	"github.com/skyquorum/skyquorum/sitl/scenario"
)

func simulateElection(args []string, c *commonFlags, stderr io.Writer) (result, error) {
	fs := flag.NewFlagSet("simulate election", flag.ContinueOnError)
	c.register(fs, 16)
	e := scenario.Election{}
	fs.StringVar(&e.Algorithm, "algorithm", "", strings.Join(scenario.ElectionAlgorithms, "|")+" (required)")
	fs.BoolVar(&e.CrashLeader, "crash-leader", false, "after the first election completes, the leader crashes")
	fs.StringVar(&e.Initiator, "initiator", "all", "who notices the loss and starts: all|lowest|second|ID")
	if err := parse(fs, args, stderr); err != nil {
		return nil, err
	}
	if e.Algorithm == "" {
		return nil, usageErr("--algorithm is required (%s)", strings.Join(scenario.ElectionAlgorithms, "|"))
	}
	if err := c.validate(); err != nil {
		return nil, usageErr("%w", err)
	}
	e.Common = c.common()
	if err := e.Validate(); err != nil {
		return nil, usageErr("%w", err)
	}
	r, err := timed(c, &e.Common, func() (scenario.ElectionResult, error) { return scenario.RunElection(e) })
	if err != nil {
		return nil, err
	}
	return electionOutput{r, traceField(c.trace)}, nil
}

// electionOutput adds the echo of --trace to the scenario's fields.
type electionOutput struct {
	scenario.ElectionResult
	Trace *string `json:"trace"`
}
