package main

import (
	"flag"
	"fmt"
	"io"

	"github.com/skyquorum/skyquorum/sitl/scenario"
)

func simulateShow(args []string, c *commonFlags, stderr io.Writer) (result, error) {
	fs := flag.NewFlagSet("simulate show", flag.ContinueOnError)
	c.register(fs, 50)
	sh := scenario.Show{}
	var duration, settle, offset float64
	fs.IntVar(&sh.Networks, "networks", 1, "radio networks (separate channels) the swarm is split across")
	fs.Float64Var(&duration, "duration", 120, "simulated seconds of the measured run")
	fs.Float64Var(&settle, "settle", scenario.DefaultSettle.Seconds(), "simulated seconds after --duration without faults or new work, before lost and unfinished work is counted")
	fs.BoolVar(&sh.CrashLeader, "crash-leader", false, "the leader crashes at a random point mid-run")
	fs.Float64Var(&sh.Crash, "crash", 0, "each drone crashes at a random time with this probability, never a majority")
	fs.BoolVar(&sh.Restart, "restart", false, "crashed drones restart from their persisted state")
	fs.Float64Var(&offset, "clock-offset", 0, "each drone's clock starts up to ±MS off")
	fs.Float64Var(&sh.ClockDrift, "clock-drift", 0, "each drone's clock drifts up to ±PPM")
	fs.StringVar(&sh.Election, "election", "bully", "leader election: bully|ring")
	fs.IntVar(&sh.UploadSize, "upload-size", 0, "run a show upload of `BYTES` beside the swarm, from 5 s before the leader's crash with --crash-leader, from the start otherwise (0: none)")
	fs.Float64Var(&sh.UploadShare, "upload-share", 0, "share of the channel the upload may use, in (0, 1] (default 0.6)")
	var showFile string
	fs.StringVar(&showFile, "show", "", "the show to fly: a "+ShowExt+", .skyc or CSV file (default: the demo show for --drones)")
	if err := parse(fs, args, stderr); err != nil {
		return nil, err
	}
	if showFile != "" {
		plan, warns, err := loadShow(showFile, &placement{fs: flag.NewFlagSet("", flag.ContinueOnError)})
		for _, w := range warns {
			fmt.Fprintf(stderr, "warning: %s: %s\n", showFile, w)
		}
		if err != nil {
			return nil, usageErr("--show %s: %w", showFile, err)
		}
		sh.Plan = plan
		// --drones defaults to the show's size.
		given := false
		fs.Visit(func(f *flag.Flag) { given = given || f.Name == "drones" })
		if !given {
			c.drones = len(plan.Drones)
		}
	}
	if err := c.validate(); err != nil {
		return nil, usageErr("%w", err)
	}
	sh.Common = c.common()
	var finish func()
	sh.Progress, finish = simProgress(stderr, c)
	defer finish()
	var err error
	if sh.Duration, err = flagSeconds("duration", duration); err != nil {
		return nil, err
	}
	if sh.Settle, err = flagSeconds("settle", settle); err != nil {
		return nil, err
	}
	if sh.ClockOffset, err = flagMS("clock-offset", offset); err != nil {
		return nil, err
	}
	if err := sh.Validate(); err != nil {
		return nil, usageErr("%w", err)
	}
	r, err := timed(c, &sh.Common, func() (scenario.ShowResult, error) { return scenario.RunShow(sh) })
	if err != nil {
		return nil, err
	}
	return showOutput{r, traceField(c.trace)}, nil
}

// showOutput adds the echo of --trace to the scenario's fields.
type showOutput struct {
	scenario.ShowResult
	Trace *string `json:"trace"`
}
