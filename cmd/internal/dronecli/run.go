package dronecli

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/skyquorum/skyquorum/firmware/config"
)

const runUsage = `Usage: drone run --config FILE

Runs the drone. Before anything is sent on air it checks, in order, and
stops with one error naming the problem if any fails:

  1. the config file (docs/drone-config.md): every field, with its line;
  2. the swarm key (key_file): present, readable by its owner only, and a
     32-byte key (groundstation keygen writes one);
  3. the state directory (state_dir): created when missing, writable;
  4. the show file (show), if any: a valid .sqshow with a part for this
     drone;
  5. the radio: the serial device opens, or the UDP address is free.

Then it connects to the flight controller (it waits up to a minute for its
HEARTBEAT) and runs the drone's part of the swarm (docs/drone.md) until
SIGINT or SIGTERM; an airborne drone then lands or holds, as
failsafe.on_stop says. Logs go to stderr: text on a terminal, JSON
otherwise (log.format in the config).

Flags:
`

// runContext is the context a drone runs in: it ends at SIGINT or SIGTERM
// (a variable so that tests can end it).
var runContext = func() (context.Context, context.CancelFunc) {
	return signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
}

// startRunner runs the drone's swarm node on what prepare opened until ctx
// ends (runDrone; a variable so that tests can see what it was given).
var startRunner = runDrone

func runRun(args []string, stdout, stderr io.Writer) int {
	c := newCommand("run", runUsage, stdout, stderr)
	path := c.fs.String("config", "", "the drone's config `FILE` (required)")
	if code, ok := c.parse(args); !ok {
		return code
	}
	if *path == "" {
		code, _ := c.usageError("--config FILE is required")
		return code
	}
	cfg, err := config.Load(*path)
	if err != nil {
		return c.fail(err)
	}
	log := newLogger(stderr, cfg.Log.Format, cfg.Log.Level)
	d, err := prepare(cfg, log)
	if err != nil {
		return c.fail(err)
	}
	defer d.close()
	log.Info("drone ready", "id", cfg.ID, "network", cfg.Network, "system_id", cfg.SystemID(),
		"members", len(cfg.Members), "radio", d.link.Info().Name, "state_dir", d.stateDir)
	ctx, stop := runContext()
	defer stop()
	if err := startRunner(ctx, d); err != nil {
		return c.fail(err)
	}
	return exitOK
}
