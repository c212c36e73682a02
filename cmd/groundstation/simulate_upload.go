package main

import (
	"flag"
	"io"
	"strings"

	"github.com/skyquorum/skyquorum/sitl/scenario"
)

func simulateUpload(args []string, c *commonFlags, stderr io.Writer) (result, error) {
	fs := flag.NewFlagSet("simulate upload", flag.ContinueOnError)
	c.register(fs, 100)
	u := scenario.Upload{}
	fs.IntVar(&u.Size, "size", 100000, "size of the encoded show in bytes")
	fs.Float64Var(&u.Share, "share", scenario.DefaultUploadShare, "share of the channel the upload may use, in (0, 1]")
	fs.Float64Var(&u.Crash, "crash", 0, "each drone crashes at a random time of the first pass with this probability")
	fs.BoolVar(&u.Restart, "restart", false, "crashed drones restart from what they persisted, 2 to 10 s later")
	fs.StringVar(&u.Repair, "repair", "coded", strings.Join(scenario.UploadRepairs, "|")+": repair by erasure code, or by resending what drones report missing")
	if err := parse(fs, args, stderr); err != nil {
		return nil, err
	}
	if err := c.validate(); err != nil {
		return nil, usageErr("%w", err)
	}
	u.Common = c.common()
	if err := u.Validate(); err != nil {
		return nil, usageErr("%w", err)
	}
	r, err := timed(c, &u.Common, func() (scenario.UploadResult, error) { return scenario.RunUpload(u) })
	if err != nil {
		return nil, err
	}
	return uploadOutput{r, traceField(c.trace)}, nil
}

// uploadOutput adds the echo of --trace to the scenario's fields.
type uploadOutput struct {
	scenario.UploadResult
	Trace *string `json:"trace"`
}
