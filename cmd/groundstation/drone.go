package main

import (
	"io"

	"github.com/skyquorum/skyquorum/cmd/internal/dronecli"
)

// runDrone runs the drone program inside the ground station's binary:
// `groundstation sitl` starts its simulated drones as copies of itself
// in this mode, so that it needs no drone binary on PATH.
func runDrone(args []string, stdout, stderr io.Writer) int {
	return dronecli.Run(args, stdout, stderr)
}
