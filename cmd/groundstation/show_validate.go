package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/skyquorum/skyquorum/swarm/show"
	"github.com/skyquorum/skyquorum/swarm/show/validate"
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

// validateReport is the JSON form of validate.Report.
type validateReport struct {
	OK         bool            `json:"ok"`
	Total      int             `json:"violations_total"`
	Violations []violationJSON `json:"violations"`
	Drones     int             `json:"drones"`
	DurationS  float64         `json:"duration_s"`
	Samples    int             `json:"samples"`
	Refined    int             `json:"refined"`
	Closest    *closestJSON    `json:"closest"`
	Altitude   extremeJSON     `json:"max_altitude"`
	SpeedXY    extremeJSON     `json:"max_speed_xy"`
	SpeedUp    extremeJSON     `json:"max_speed_up"`
	SpeedDown  extremeJSON     `json:"max_speed_down"`
	Accel      extremeJSON     `json:"max_accel"`
}

type violationJSON struct {
	Rule   string  `json:"rule"`
	Drones []int   `json:"drones"`
	AtS    float64 `json:"at_s"`
	Limit  float64 `json:"limit"`
	Value  float64 `json:"value"`
	Detail string  `json:"detail,omitempty"`
	Text   string  `json:"text"`
}

type closestJSON struct {
	Distance float64 `json:"distance_m"`
	Drones   [2]int  `json:"drones"`
	AtS      float64 `json:"at_s"`
}

type extremeJSON struct {
	Value float64 `json:"value"`
	Drone int     `json:"drone"`
	AtS   float64 `json:"at_s"`
}

func extreme(e validate.Extreme) extremeJSON { return extremeJSON{e.Value, e.Drone, e.At.Seconds()} }

// validateShow checks the show with swarm/show/validate.
func validateShow(s *show.Show, sample time.Duration) (validation, error) {
	r, err := validate.Show(s, validate.Options{Period: sample})
	if err != nil {
		return validation{}, err
	}
	j := validateReport{
		OK: r.OK(), Total: r.Total, Violations: []violationJSON{}, Drones: r.Drones, DurationS: r.Duration.Seconds(),
		Samples: r.Samples, Refined: r.Refined, Altitude: extreme(r.MaxAltitude), SpeedXY: extreme(r.MaxSpeedXY),
		SpeedUp: extreme(r.MaxSpeedUp), SpeedDown: extreme(r.MaxSpeedDown), Accel: extreme(r.MaxAccel),
	}
	if r.Closest.Found {
		j.Closest = &closestJSON{r.Closest.Distance, r.Closest.Drones, r.Closest.At.Seconds()}
	}
	v := validation{ok: r.OK(), report: j}
	for _, x := range r.Violations {
		j.Violations = append(j.Violations, violationJSON{string(x.Rule), x.Drones, x.At.Seconds(), x.Limit, x.Value, x.Detail, x.String()})
		v.lines = append(v.lines, x.String())
	}
	v.report = j
	if r.Total > len(r.Violations) {
		v.lines = append(v.lines, fmt.Sprintf("… and %d more violations", r.Total-len(r.Violations)))
	}
	if r.OK() {
		var b strings.Builder
		fmt.Fprintf(&b, "OK: %d drones, %.3f s", r.Drones, r.Duration.Seconds())
		if r.Closest.Found {
			fmt.Fprintf(&b, "; closest approach %.3f m (drones %d, %d at %.3f s)", r.Closest.Distance, r.Closest.Drones[0], r.Closest.Drones[1], r.Closest.At.Seconds())
		}
		fig := func(name string, e validate.Extreme, unit string) {
			fmt.Fprintf(&b, "; %s %.3f %s (drone %d at %.3f s)", name, e.Value, unit, e.Drone, e.At.Seconds())
		}
		fig("max altitude", r.MaxAltitude, "m")
		fig("max speed xy", r.MaxSpeedXY, "m/s")
		fig("up", r.MaxSpeedUp, "m/s")
		fig("down", r.MaxSpeedDown, "m/s")
		fig("max acceleration", r.MaxAccel, "m/s²")
		v.lines = append(v.lines, b.String())
	}
	return v, nil
}
