package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/bluenviron/gomavlib/v3"

	"github.com/skyquorum/skyquorum/firmware/autopilot"
	"github.com/skyquorum/skyquorum/firmware/config"
)

// fcEndpoint is the gomavlib endpoint of the flight-controller link.
func fcEndpoint(f config.FlightController) gomavlib.EndpointConf {
	if f.UDP != "" {
		return gomavlib.EndpointUDPClient{Address: f.UDP}
	}
	return gomavlib.EndpointSerial{Device: f.Serial, Baud: f.Baud}
}

// preflight connects to the flight controller as the drone's system ID,
// waits up to wait for its HEARTBEAT, asks for its telemetry and returns
// its preflight report once every check passes or wait has passed. It
// talks to the flight controller only, never on the swarm radio.
func preflight(cfg *config.Config, wait time.Duration) (autopilot.Report, autopilot.Autopilot, error) {
	c, err := autopilot.New(autopilot.Config{
		Endpoint: fcEndpoint(cfg.FlightController),
		SystemID: cfg.SystemID(),
		Logger:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	})
	if err != nil {
		return autopilot.Report{}, 0, fmt.Errorf("flight controller: %w", err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	ap, err := c.WaitHeartbeat(ctx)
	if err != nil {
		return autopilot.Report{}, 0, fmt.Errorf("no HEARTBEAT from an ArduPilot or PX4 flight controller within %v: is it powered, and are the port and baud rate right? (%w)", wait, err)
	}
	if err := c.RequestTelemetry(ctx); err != nil {
		return autopilot.Report{}, ap, fmt.Errorf("flight controller: %w", err)
	}
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		r := c.Preflight(0, 0, autopilot.PreflightLimits{})
		if vehicleOK(r) {
			return r, ap, nil
		}
		select {
		case <-ctx.Done():
			return r, ap, nil
		case <-t.C:
		}
	}
}

// vehicleOK reports whether every check but the distance to the show home
// passes: check knows no show.
func vehicleOK(r autopilot.Report) bool {
	for _, c := range r.Checks {
		if !c.OK && c.Name != autopilot.CheckHome {
			return false
		}
	}
	return true
}
