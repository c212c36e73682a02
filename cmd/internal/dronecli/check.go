package dronecli

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/skyquorum/skyquorum/firmware/autopilot"
	"github.com/skyquorum/skyquorum/firmware/config"
	"github.com/skyquorum/skyquorum/radio/wire"
)

const checkUsage = `Usage: drone check --config FILE [--fc-wait 10s] [--no-preflight]

Checks a drone without flying it and without sending anything on the swarm
radio: the config file, the swarm key, the state directory (created when
missing), the radio (opened and closed again), the flight controller's
port, and the flight controller's preflight report (its link, GPS fix and
satellites, battery, estimator, its own pre-arm checks, and, when the
config names a show, the distance to the drone's show home). Prints one
line per check (ok, FAIL or skip) and exits 1 when one fails. Stop the
drone's service first: a serial device in use cannot be opened twice.

Flags:
`

func runCheck(args []string, stdout, stderr io.Writer) int {
	c := newCommand("check", checkUsage, stdout, stderr)
	path := c.fs.String("config", "", "the drone's config `FILE` (required)")
	wait := c.fs.Duration("fc-wait", 10*time.Second, "how long to wait for the flight controller's heartbeat and healthy telemetry")
	noPreflight := c.fs.Bool("no-preflight", false, "check the flight controller's port only, not the vehicle")
	if code, ok := c.parse(args); !ok {
		return code
	}
	if *path == "" {
		code, _ := c.usageError("--config FILE is required")
		return code
	}
	failed := false
	report := func(name string, detail string, err error) {
		if err != nil {
			failed = true
			fmt.Fprintf(stdout, "FAIL  %-24s %s\n", name, strings.ReplaceAll(err.Error(), "\n", "\n"+strings.Repeat(" ", 31)))
			return
		}
		fmt.Fprintf(stdout, "ok    %-24s %s\n", name, detail)
	}
	skip := func(name, why string) { fmt.Fprintf(stdout, "skip  %-24s %s\n", name, why) }
	cfg, err := config.Load(*path)
	if err != nil {
		report("config", "", err)
		return exitFail
	}
	report("config", fmt.Sprintf("%s: drone %d, network %d, system ID %d, %d members", *path, cfg.ID, cfg.Network, cfg.SystemID(), len(cfg.Members)), nil)

	_, err = wire.LoadKeyFile(cfg.KeyPath())
	report("key_file", cfg.KeyPath()+": a 32-byte swarm key, readable by its owner only", err)

	dir, err := openStateDir(cfg.StatePath())
	report("state_dir", dir+": writable", err)

	var home *[2]float64 // the drone's show home, if the show is known
	if cfg.Show == "" {
		skip("show", "no show file in the config")
	} else if sh, err := loadShow(cfg.ShowPath(), cfg.Part()); err != nil {
		report("show", "", err)
	} else {
		report("show", fmt.Sprintf("%s: %d drones, this one's part is drone %d's", cfg.ShowPath(), len(sh.Drones), cfg.ID), nil)
		home = showHome(sh, cfg.Part())
	}

	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if l, err := openRadio(cfg.Radio, log); err != nil {
		report("radio", "", err)
	} else {
		name := l.Info().Name
		err := l.Close()
		report("radio", name+": opens", err)
	}

	detail, err := checkFlightControllerPort(cfg.FlightController)
	report("flight_controller", detail, err)
	switch {
	case err != nil:
		skip("preflight", "the flight controller's port does not open")
	case *noPreflight:
		skip("preflight", "--no-preflight")
	default:
		r, ap, err := preflight(cfg, home, *wait)
		if err != nil {
			report("preflight", "", err)
			break
		}
		report("preflight/autopilot", fmt.Sprintf("%v, mode %s, armed %v", ap, r.Mode, r.Armed), nil)
		for _, ch := range r.Checks {
			name := "preflight/" + ch.Name
			switch {
			case ch.Name == autopilot.CheckHome && home == nil:
				skip(name, "needs the show's home: no show file in the config")
			case ch.OK:
				report(name, ch.Detail, nil)
			default:
				report(name, "", errors.New(ch.Detail))
			}
		}
	}

	if failed {
		return exitFail
	}
	return exitOK
}
