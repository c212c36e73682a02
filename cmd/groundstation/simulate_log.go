package main

import (
	"flag"
	"io"

	"github.com/skyquorum/skyquorum/sitl/scenario"
)

func simulateLog(args []string, c *commonFlags, stderr io.Writer) (result, error) {
	fs := flag.NewFlagSet("simulate log", flag.ContinueOnError)
	c.register(fs, 16)
	lg := scenario.Log{}
	fs.IntVar(&lg.Commands, "commands", 100, "commands appended in the whole run")
	fs.IntVar(&lg.Committee, "committee", 5, "drones that vote on commits; the rest learn")
	fs.BoolVar(&lg.CrashLeader, "crash-leader", false, "the leader crashes at a random point mid-run")
	fs.Float64Var(&lg.Crash, "crash", 0, "probability that each drone crashes at a random time, never a majority of the committee, in [0, 1)")
	fs.BoolVar(&lg.Restart, "restart", false, "crashed drones restart from their persisted state")
	var commitDelay, interval float64
	fs.Float64Var(&interval, "interval", 100, "time between two commands of the ground station, in ms")
	fs.BoolVar(&lg.Textbook, "textbook", false, "the textbook round: every member acknowledges to the leader, which broadcasts each commit point")
	fs.Float64Var(&commitDelay, "commit-delay", 0, "how long a commit point waits for the next APPEND to carry it, in ms")
	fs.IntVar(&lg.UploadSize, "upload-size", 0, "run a show upload of `BYTES` beside the log from the first command on (0: none)")
	fs.Float64Var(&lg.UploadShare, "upload-share", 0, "share of the channel the upload may use, in (0, 1] (default 0.6)")
	if err := parse(fs, args, stderr); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, usageErr("%w", err)
	}
	lg.Common = c.common()
	var err error
	if lg.CommitDelay, err = flagMS("commit-delay", commitDelay); err != nil {
		return nil, err
	}
	if interval <= 0 {
		return nil, usageErr("--interval %v: must be above 0 ms", interval)
	}
	if lg.Interval, err = flagMS("interval", interval); err != nil {
		return nil, err
	}
	if err := lg.Validate(); err != nil {
		return nil, usageErr("%w", err)
	}
	r, err := timed(c, &lg.Common, func() (scenario.LogResult, error) { return scenario.RunLog(lg) })
	if err != nil {
		return nil, err
	}
	return logOutput{r, traceField(c.trace)}, nil
}

// logOutput adds the echo of --trace to the scenario's fields.
type logOutput struct {
	scenario.LogResult
	Trace *string `json:"trace"`
}
