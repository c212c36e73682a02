package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/skyquorum/skyquorum/cmd/groundstation/web"
	"github.com/skyquorum/skyquorum/sitl/hub"
	"github.com/skyquorum/skyquorum/sitl/live"
	"github.com/skyquorum/skyquorum/swarm/show"
	"github.com/skyquorum/skyquorum/swarm/show/demo"
)

const sitlUsage = `Usage: groundstation sitl [flags]

Runs a live SITL swarm on this machine and flies a show with it: a radio
hub on the loopback that models the radio channel (airtime at --baud,
loss), one drone process per drone (this program in its drone mode, each
with a simulated ArduPilot and a clock of its own, off by up to ±500 ms
and drifting up to ±50 ppm), and this ground station on the same hub. It
waits for a leader, commits LOAD, ARM and START through the leader, follows
the show until every drone has landed, prints a summary, stops every
process it started and exits 0. Ctrl-C stops everything cleanly at any
time. Without --show it flies the demo show for the swarm's size.

While it runs, the operator's dashboard of the swarm is served at --http
(default http://127.0.0.1:8080/; "off" turns it off): the drones seen
from above and from the side, their table, the command log, the channel's
airtime, loss and clock error, and the operator's command buttons. Beyond
the loopback it needs the token in the address it prints. It stays up
until this program exits, and then tells the page that it has ended.

Flags:
`

// sitlFlags are groundstation sitl's flags.
type sitlFlags struct {
	drones, networks, baud int
	loss                   float64
	showFile, dir, http    string
	keep                   bool
	seed                   uint64
	lead, timeout          time.Duration
}

func runSITL(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("sitl", sitlUsage, stdout, stderr)
	var f sitlFlags
	fs.IntVar(&f.drones, "drones", 10, "run `N` drones")
	fs.IntVar(&f.networks, "networks", 1, "spread the drones over `K` radio networks")
	fs.IntVar(&f.baud, "baud", 57600, "the radio's serial rate in `BAUD`")
	fs.Float64Var(&f.loss, "loss", 0, "probability `P` that a receiver misses a frame, in [0, 1)")
	fs.StringVar(&f.showFile, "show", "", "the show `FILE` (.sqshow) to fly (default: the demo show)")
	fs.StringVar(&f.dir, "dir", "", "working `DIR`ectory for the key, show, state, logs and journals (default: a temporary one)")
	fs.BoolVar(&f.keep, "keep", false, "keep the working directory (logs, journals, state) after the run")
	fs.Uint64Var(&f.seed, "seed", 1, "`SEED` for the drones' clock errors and the hub's losses")
	fs.DurationVar(&f.lead, "lead", 10*time.Second, "how far ahead of the swarm time the START is set")
	fs.StringVar(&f.http, "http", "127.0.0.1:8080", "serve the dashboard on `ADDR` (host:port; \"off\" or \"\" for none)")
	fs.DurationVar(&f.timeout, "timeout", 0, "give up after this long (default: the show's length plus 3 minutes)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	switch {
	case f.networks < 1 || f.networks > 16:
		return badUsage(fs, fmt.Sprintf("--networks %d: give 1 to 16", f.networks))
	case f.drones < 1 || f.drones > 250*f.networks:
		return badUsage(fs, fmt.Sprintf("--drones %d: give 1 to %d (250 per network)", f.drones, 250*f.networks))
	case f.baud < 1200:
		return badUsage(fs, fmt.Sprintf("--baud %d: give a serial rate of at least 1200", f.baud))
	case !(f.loss >= 0 && f.loss < 1):
		return badUsage(fs, fmt.Sprintf("--loss %v: give a probability in [0, 1)", f.loss))
	case f.lead < time.Second:
		return badUsage(fs, fmt.Sprintf("--lead %v: give at least 1s, so that START reaches every drone before it", f.lead))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := sitl(ctx, f, stdout, stderr); err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(stderr, "sitl: interrupted; every process it started has ended")
			return exitInterrupted
		}
		fmt.Fprintf(stderr, "sitl: %v\n", err)
		return exitFail
	}
	return exitOK
}

// sitl runs the swarm and flies the show.
func sitl(ctx context.Context, f sitlFlags, stdout, stderr io.Writer) error {
	born := time.Now()
	progress := func(format string, a ...any) {
		fmt.Fprintf(stdout, "%6.1fs  %s\n", time.Since(born).Seconds(), fmt.Sprintf(format, a...))
	}
	dir := f.dir
	if dir == "" {
		d, err := os.MkdirTemp("", "skyquorum-sitl-")
		if err != nil {
			return err
		}
		dir = d
		if !f.keep {
			defer os.RemoveAll(dir)
		}
	} else if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	// stopDash ends the dashboard, if one is served, when this returns,
	// telling its pages how the flight ended.
	stopDash, outcome := func(string) {}, "the flight did not start"
	defer func() { stopDash(outcome + "; groundstation sitl has exited (start it again for a new flight)") }()
	sh, showPath, err := sitlShow(f, dir)
	if err != nil {
		return err
	}
	progress("show: %d drones, %.1f s (%s)", len(sh.Drones), sh.Duration().Seconds(), showPath)
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("cannot find this program to start the drones: %w", err)
	}
	h, err := hub.Start(hub.Config{Networks: f.networks, Baud: f.baud, Loss: f.loss, Seed: f.seed,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		return err
	}
	defer h.Close()
	progress("radio hub: %d network(s) at %d baud, loss %.0f%% (control %s)", f.networks, f.baud, 100*f.loss, h.ControlAddr())
	sw, err := live.Start(live.Config{
		Drones: f.drones, Networks: f.networks, Program: []string{exe, "drone"},
		HubAddr: func(j int) string { return h.Addr(j + 1) },
		Show:    showPath, Dir: dir, Keep: true, Seed: f.seed,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return err
	}
	stopped := false
	stopSwarm := func() error {
		if stopped {
			return nil
		}
		stopped = true
		progress("stopping %d drone processes", len(sw.Procs()))
		return sw.Stop()
	}
	defer stopSwarm()
	progress("%d drone processes started (logs and journals in %s)", f.drones, dir)
	for j := range f.networks {
		progress("network %d on the hub at %s; another ground station can join it with: groundstation connect --udp 127.0.0.1:0 --peer %s --hub --key %s --network %d --members %s",
			j, h.Addr(j+1), h.Addr(j+1), sw.KeyFile(), j, live.MemberList(sw.Members(uint8(j))))
	}
	timeout := f.timeout
	if timeout == 0 {
		timeout = sh.Duration() + f.lead + 3*time.Minute
	}
	fctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	// The dashboard stays up until this program exits, and then tells
	// the pages that it has ended.
	var dash *web.GroupSource
	serve := func(src *web.GroupSource) {
		if f.http == "" || f.http == "off" {
			return
		}
		srv, err := web.Listen(f.http, web.Config{Source: src, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			progress("dashboard: %v; flying without it", err)
			return
		}
		dash = src
		stopDash = func(why string) { _ = srv.CloseWith(why) }
		progress("dashboard: %s", srv.URL())
	}
	res, ferr := fly(fctx, flight{flags: f, show: sh, hub: h, swarm: sw, progress: progress, serve: serve})
	switch {
	case ctx.Err() != nil:
		outcome = "the flight was interrupted"
	case ferr != nil:
		outcome = fmt.Sprintf("the flight ended: %v", ferr)
	default:
		outcome = "the show is over and every drone has landed"
	}
	if dash != nil {
		dash.End(outcome + "; groundstation sitl is stopping its drones and will exit")
	}
	if err := stopSwarm(); err != nil {
		ferr = errors.Join(ferr, err)
	}
	summary(stdout, f, sw, h, res, time.Since(born))
	if ctx.Err() != nil {
		return ctx.Err()
	}
	if errors.Is(ferr, context.DeadlineExceeded) {
		return fmt.Errorf("the show did not finish within %v (--timeout): %w", timeout, ferr)
	}
	return ferr
}

// sitlShow reads --show, or writes the demo show for the swarm's size.
func sitlShow(f sitlFlags, dir string) (*show.Show, string, error) {
	if f.showFile != "" {
		b, err := os.ReadFile(f.showFile)
		if err != nil {
			return nil, "", err
		}
		s, err := show.Decode(b)
		if err != nil {
			return nil, "", fmt.Errorf("--show %s: %w", f.showFile, err)
		}
		if len(s.Drones) < f.drones {
			return nil, "", fmt.Errorf("--show %s has %d drones, fewer than --drones %d", f.showFile, len(s.Drones), f.drones)
		}
		return s, f.showFile, nil
	}
	s, err := demo.New(f.drones)
	if err != nil {
		return nil, "", err
	}
	p := filepath.Join(dir, "demo.sqshow")
	b, err := s.Encode()
	if err != nil {
		return nil, "", err
	}
	if err := os.WriteFile(p, b, 0o644); err != nil {
		return nil, "", err
	}
	return s, p, nil
}

// flagSet is a subcommand's flags with its usage text: --help prints it
// on stdout and exits 0; a bad flag prints it on stderr and exits 2.
type flagSet struct {
	*flag.FlagSet
	name, usage    string
	stdout, stderr io.Writer
}

func newFlagSet(name, usage string, stdout, stderr io.Writer) *flagSet {
	fs := &flagSet{FlagSet: flag.NewFlagSet(name, flag.ContinueOnError), name: name, usage: usage, stdout: stdout, stderr: stderr}
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), fs.usage)
		fs.PrintDefaults()
	}
	return fs
}

// parseFlags parses args; ok false means exit with code.
func parseFlags(fs *flagSet, args []string) (code int, ok bool) {
	for _, a := range args {
		if a == "--" {
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(fs.stdout)
			fs.Usage()
			return exitOK, false
		}
	}
	if err := fs.Parse(args); err != nil {
		return exitUsage, false
	}
	if fs.NArg() != 0 {
		return badUsage(fs, fmt.Sprintf("unexpected argument %q", fs.Arg(0))), false
	}
	return 0, true
}

// badUsage reports bad usage and returns exit status 2.
func badUsage(fs *flagSet, msg string) int {
	fmt.Fprintf(fs.stderr, "groundstation %s: %s\n", fs.name, msg)
	fs.Usage()
	return exitUsage
}
