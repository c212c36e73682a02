package main

import (
	"bufio"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/skyquorum/skyquorum/sitl/scenario"
	"github.com/skyquorum/skyquorum/sitl/sim"
)

const simulateUsage = `Usage: groundstation simulate SCENARIO [flags] [--json]

Runs the real protocol cores in the deterministic simulator. The same seed
and build give the same run. Scenarios:

%s
Run "groundstation simulate SCENARIO --help" for a scenario's own flags.

Exit status: 1 when a field named *_violations, *_unfinished or lost_* is
above 0, or leaders_per_term_max is above 1 (the failing fields are named on
stderr); 2 on bad usage; 0 otherwise. Fields: docs/simulate.md.

Flags common to every scenario:
`

// commonFlags are the flags every scenario takes.
type commonFlags struct {
	drones   int
	seed     uint64
	baud     int
	unsigned bool
	loss     float64
	dup      float64
	reorder  float64
	trace    string
	json     bool
}

func (c *commonFlags) register(fs *flag.FlagSet, defaultDrones int) {
	fs.IntVar(&c.drones, "drones", defaultDrones, "swarm size, 1 to 65534")
	fs.Uint64Var(&c.seed, "seed", 1, "the only source of randomness")
	fs.IntVar(&c.baud, "baud", 57600, "serial rate of the radio (bits per second)")
	fs.BoolVar(&c.unsigned, "unsigned", false, "frames without the 13-byte signature")
	fs.Float64Var(&c.loss, "loss", 0, "probability that a receiver misses a frame, in [0, 1)")
	fs.Float64Var(&c.dup, "dup", 0, "probability that a received frame is delivered twice, in [0, 1)")
	fs.Float64Var(&c.reorder, "reorder", 0, "extra delivery delay drawn from [0, MS] per receiver, in ms")
	fs.StringVar(&c.trace, "trace", "", "write every event as JSON lines to `FILE`")
	fs.BoolVar(&c.json, "json", false, "print one JSON object with every field")
}

// validate checks the common flags, naming the bad one.
func (c *commonFlags) validate() error {
	switch {
	case c.drones < 1 || c.drones > 65534:
		return fmt.Errorf("--drones %d: must be 1 to 65534", c.drones)
	case c.baud <= 0:
		return fmt.Errorf("--baud %d: must be positive", c.baud)
	case !(c.loss >= 0 && c.loss < 1):
		return fmt.Errorf("--loss %v: must be in [0, 1)", c.loss)
	case !(c.dup >= 0 && c.dup < 1):
		return fmt.Errorf("--dup %v: must be in [0, 1)", c.dup)
	case !(c.reorder >= 0 && c.reorder <= maxFlagSeconds*1000):
		return fmt.Errorf("--reorder %v: give 0 to %.0f ms", c.reorder, maxFlagSeconds*1000)
	}
	return nil
}

func (c *commonFlags) common() scenario.Common {
	return scenario.Common{
		Drones:   c.drones,
		Seed:     c.seed,
		Baud:     c.baud,
		Unsigned: c.unsigned,
		Loss:     c.loss,
		Dup:      c.dup,
		Reorder:  msToTime(c.reorder),
	}
}

func msToTime(ms float64) sim.Time { return sim.Time(ms * float64(sim.Millisecond)) }

// usageError marks errors that exit with status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usageErr(format string, args ...any) error {
	return usageError{fmt.Errorf(format, args...)}
}

func runSimulate(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		w := stdout
		if len(args) == 0 {
			w = stderr
		}
		fmt.Fprintf(w, simulateUsage, scenarioList("  "))
		fs := flag.NewFlagSet("simulate", flag.ContinueOnError)
		(&commonFlags{}).register(fs, 16)
		fs.SetOutput(w)
		fs.PrintDefaults()
		if len(args) == 0 {
			return exitUsage
		}
		return exitOK
	}
	name, rest := args[0], args[1:]
	if strings.HasPrefix(name, "-") {
		fmt.Fprintf(stderr, "groundstation simulate: the scenario comes first, before %s\n", name)
		return exitUsage
	}
	sc, ok := scenarios[name]
	if !ok {
		fmt.Fprintf(stderr, "groundstation simulate: unknown scenario %q (want %s)\n", name, scenarioNames())
		return exitUsage
	}
	var common commonFlags
	flagOut := stderr
	if wantsHelp(rest) {
		flagOut = stdout // help asked for is the output
	}
	res, err := sc.run(rest, &common, flagOut)
	switch {
	case errors.Is(err, flag.ErrHelp):
		return exitOK
	case errors.As(err, new(usageError)):
		fmt.Fprintf(stderr, "groundstation simulate %s: %v\n", name, err)
		return exitUsage
	case err != nil:
		fmt.Fprintf(stderr, "groundstation simulate %s: %v\n", name, err)
		return exitFail
	}
	if err := printResult(stdout, res, common.json); err != nil {
		fmt.Fprintf(stderr, "groundstation simulate %s: %v\n", name, err)
		return exitFail
	}
	return exitStatus(name, res, stderr)
}

// exitStatus applies the exit rule of every scenario (scenario.Failures)
// to a run's fields, and names on stderr the fields that fail it.
func exitStatus(name string, res result, stderr io.Writer) int {
	if fails := scenario.Failures(res); len(fails) > 0 {
		fmt.Fprintf(stderr, "groundstation simulate %s: failed: %s\n", name, strings.Join(fails, ", "))
		return exitFail
	}
	return exitOK
}

// scenarioCmd is one scenario of the simulate command.
type scenarioCmd struct {
	summary string
	run     func(args []string, c *commonFlags, stderr io.Writer) (result, error)
}

// scenarios are the scenarios of the simulate command, by name.
var scenarios = map[string]scenarioCmd{
	"mutex":     {"mutual exclusion on one airspace cell", simulateMutex},
	"election":  {"leader election, optionally after the leader crashes", simulateElection},
	"multicast": {"reliable multicast with FIFO, causal or total order", simulateMulticast},
	"log":       {"the swarm's command log (fault-tolerant total order)", simulateLog},
	"show":      {"the whole swarm node with simulated vehicles", simulateShow},
	"upload":    {"a show broadcast to every drone, repaired by erasure code or NACK", simulateUpload},
}

func scenarioNames() string {
	names := make([]string, 0, len(scenarios))
	for n := range scenarios {
		names = append(names, n)
	}
	slices.Sort(names)
	return strings.Join(names, "|")
}

// result is what every scenario returns: its fields, as --json prints
// them.
type result any

// parse parses a scenario's flags; errors are usageErrors.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	setScenarioUsage(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageErr("%w", err)
	}
	if fs.NArg() > 0 {
		return usageErr("unexpected argument %q", fs.Arg(0))
	}
	return checkFinite(fs)
}

// checkFinite refuses a number flag that is NaN or infinite, naming it:
// no range check catches NaN, and an infinite time overflows.
func checkFinite(fs *flag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		g, ok := f.Value.(flag.Getter)
		if !ok || err != nil {
			return
		}
		if x, ok := g.Get().(float64); ok && (math.IsNaN(x) || math.IsInf(x, 0)) {
			err = usageErr("--%s %v: give a finite number", f.Name, x)
		}
	})
	return err
}

// maxFlagSeconds is the longest time a flag may give (about 11.6 days of
// simulated time), far below where a sim.Time overflows.
const maxFlagSeconds = 1e6

// flagMS converts a time flag given in milliseconds, refusing one that is
// negative or too long, naming the flag.
func flagMS(name string, ms float64) (sim.Time, error) {
	if !(ms >= 0 && ms <= maxFlagSeconds*1000) {
		return 0, usageErr("--%s %v: give 0 to %.0f ms", name, ms, maxFlagSeconds*1000)
	}
	return msToTime(ms), nil
}

// flagSeconds converts a time flag given in seconds, like flagMS.
func flagSeconds(name string, s float64) (sim.Time, error) {
	if !(s >= 0 && s <= maxFlagSeconds) {
		return 0, usageErr("--%s %v: give 0 to %.0f s", name, s, maxFlagSeconds)
	}
	return msToTime(s * 1000), nil
}

// timed runs a scenario with the trace file open and fills in its
// wall-clock figures; nothing below the command reads the wall clock.
func timed[R any, P interface {
	*R
	SetWall(float64)
}](c *commonFlags, common *scenario.Common, run func() (R, error)) (R, error) {
	var r R
	wall, err := withTrace(c, common, func() (float64, error) {
		start := time.Now()
		var err error
		r, err = run()
		return time.Since(start).Seconds(), err
	})
	if err != nil {
		return r, err
	}
	P(&r).SetWall(wall)
	return r, nil
}

// withTrace opens the trace file, if any, around a run, and times the run.
func withTrace(c *commonFlags, sc *scenario.Common, run func() (float64, error)) (wall float64, err error) {
	if c.trace != "" {
		f, err := os.Create(c.trace)
		if err != nil {
			return 0, fmt.Errorf("--trace: %w", err)
		}
		w := bufio.NewWriterSize(f, 1<<20)
		sc.Trace = w
		defer func() {
			if ferr := w.Flush(); ferr != nil && err == nil {
				err = fmt.Errorf("--trace: %w", ferr)
			}
			if cerr := f.Close(); cerr != nil && err == nil {
				err = fmt.Errorf("--trace: %w", cerr)
			}
		}()
	}
	return run()
}

func simulateMutex(args []string, c *commonFlags, stderr io.Writer) (result, error) {
	fs := flag.NewFlagSet("simulate mutex", flag.ContinueOnError)
	c.register(fs, 16)
	m := scenario.Mutex{}
	var hold float64
	fs.StringVar(&m.Algorithm, "algorithm", "", strings.Join(scenario.MutexAlgorithms, "|")+" (required)")
	fs.StringVar(&m.Variant, "variant", "", "maekawa: "+strings.Join(scenario.MaekawaVariants, "|")+" (default "+scenario.MaekawaVariants[0]+")")
	fs.IntVar(&m.Entries, "entries", 100, "critical-section entries in the whole swarm")
	fs.IntVar(&m.Concurrency, "concurrency", 1, "most requests outstanding in the whole swarm")
	fs.Float64Var(&hold, "hold", 10, "time spent inside the critical section, in ms")
	if err := parse(fs, args, stderr); err != nil {
		return nil, err
	}
	if m.Algorithm == "" {
		return nil, usageErr("--algorithm is required (%s)", strings.Join(scenario.MutexAlgorithms, "|"))
	}
	if err := c.validate(); err != nil {
		return nil, usageErr("%w", err)
	}
	m.Common = c.common()
	var err error
	if m.Hold, err = flagMS("hold", hold); err != nil {
		return nil, err
	}
	if err := m.Validate(); err != nil {
		return nil, usageErr("%w", err)
	}
	r, err := timed(c, &m.Common, func() (scenario.MutexResult, error) { return scenario.RunMutex(m) })
	if err != nil {
		return nil, err
	}
	return mutexOutput{r, traceField(c.trace)}, nil
}

// mutexOutput adds the echo of --trace to the scenario's fields.
type mutexOutput struct {
	scenario.MutexResult
	Trace *string `json:"trace"`
}

func traceField(path string) *string {
	if path == "" {
		return nil
	}
	return &path
}

// printResult prints one JSON object with every field, or a summary for
// a person (printRunSummary).
func printResult(w io.Writer, r result, asJSON bool) error {
	if !asJSON {
		return printRunSummary(w, r)
	}
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
