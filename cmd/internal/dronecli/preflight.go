package dronecli

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/bluenviron/gomavlib/v3"

	"github.com/skyquorum/skyquorum/firmware/autopilot"
	"github.com/skyquorum/skyquorum/firmware/config"
	"github.com/skyquorum/skyquorum/swarm/show"
)

// showHome is the show home of the show's drone part (from 1), latitude
// and longitude (loadShow checked there is one).
func showHome(s *show.Show, part uint16) *[2]float64 {
	lat, lon := autopilot.FrameOf(s).LatLon(s.Drones[part-1].Home)
	return &[2]float64{lat, lon}
}

// fcEndpoint is the gomavlib endpoint of the flight-controller link.
func fcEndpoint(f config.FlightController) gomavlib.EndpointConf {
	if f.UDP != "" {
		return gomavlib.EndpointUDPClient{Address: f.UDP}
	}
	return gomavlib.EndpointSerial{Device: f.Serial, Baud: f.Baud}
}

// preflight connects to the flight controller as the drone's system ID,
// waits up to wait for its HEARTBEAT, asks for its telemetry and returns
// its preflight report once every check passes or wait has passed. home
// is the drone's show home, latitude and longitude (nil without a show:
// the distance to it is not checked). It talks to the flight controller
// only, never on the swarm radio.
func preflight(cfg *config.Config, home *[2]float64, wait time.Duration) (autopilot.Report, autopilot.Autopilot, error) {
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
	var lat, lon float64
	if home != nil {
		lat, lon = home[0], home[1]
	}
	for {
		r := c.Preflight(lat, lon, autopilot.PreflightLimits{})
		if vehicleOK(r, home != nil) {
			return r, ap, nil
		}
		select {
		case <-ctx.Done():
			return r, ap, nil
		case <-t.C:
		}
	}
}

// vehicleOK reports whether every check passes, the distance to the show
// home only if withHome.
func vehicleOK(r autopilot.Report, withHome bool) bool {
	for _, c := range r.Checks {
		if !c.OK && (withHome || c.Name != autopilot.CheckHome) {
			return false
		}
	}
	return true
}
