package main

import (
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/skyquorum/skyquorum/firmware/config"
	"github.com/skyquorum/skyquorum/radio/wire"
)

const checkUsage = `Usage: drone check --config FILE

Checks a drone without flying it or sending anything: the config file, the
swarm key, the state directory (created when missing), the radio (opened
and closed again) and the flight controller's port. Prints one line per
check (ok, FAIL or skip) and exits 1 when one fails. Stop the drone's
service first: a serial device in use cannot be opened twice.

The flight controller's preflight report (GPS, battery, estimator, arming
checks) is not part of this build: the port is checked, not the vehicle.

Flags:
`

func runCheck(args []string, stdout, stderr io.Writer) int {
	c := newCommand("check", checkUsage, stdout, stderr)
	path := c.fs.String("config", "", "the drone's config `FILE` (required)")
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
			fmt.Fprintf(stdout, "FAIL  %-18s %s\n", name, strings.ReplaceAll(err.Error(), "\n", "\n"+strings.Repeat(" ", 25)))
			return
		}
		fmt.Fprintf(stdout, "ok    %-18s %s\n", name, detail)
	}
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
	fmt.Fprintf(stdout, "skip  %-18s %s\n", "preflight", "the flight controller's preflight report is not part of this build")

	if failed {
		return exitFail
	}
	return exitOK
}
