// Command drone runs on each drone's companion computer: it reads the
// drone's config file (docs/drone-config.md), checks the swarm key, the
// radio and the state directory before anything goes on air, and runs the
// drone's part of the swarm. `drone check` checks the same without
// running, `drone sitl` runs a simulated drone on a laptop, and
// `drone version` says which build this is.
package main

import (
	"os"

	"github.com/skyquorum/skyquorum/cmd/internal/dronecli"
)

// Stamped at build time:
//
//	go build -ldflags "-X main.version=v1.2.0 -X main.commit=$(git rev-parse HEAD) -X main.date=$(date -u +%FT%TZ)" ./cmd/drone
//
// (the Makefile's drone targets do this). Left empty, they come from the
// build information Go records.
var (
	version string
	commit  string
	date    string
)

func main() {
	dronecli.SetBuild(version, commit, date)
	os.Exit(dronecli.Run(os.Args[1:], os.Stdout, os.Stderr))
}
