// Command groundstation is the swarm operator's tool. It runs the
// measuring instrument, `groundstation simulate` (docs/simulate.md):
// the real protocol cores in the deterministic simulator, with the figures
// every claim about correctness and airtime comes from; and it imports,
// checks and converts shows, `groundstation show` (docs/show-cli.md).
package main

import (
	"fmt"
	"io"
	"os"
)

// Exit statuses shared by every subcommand.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
	// exitInterrupted is the status after SIGINT or SIGTERM (128 + 2, as
	// shells report a Ctrl-C).
	exitInterrupted = 130
)

const usage = `groundstation: operate a Skyquorum drone swarm

Usage:
  groundstation COMMAND [flags]

Commands:
  simulate SCENARIO   run a scenario in the deterministic simulator and
                      report its figures (mutex, election, multicast, log,
                      show; docs/simulate.md)
  show COMMAND FILE   import, validate, describe and export shows
                      (.sqshow, .skyc, Blender CSV; docs/show-cli.md)
  keygen              write a new swarm signing key (mode 0600)
  sitl                run a live SITL swarm (drone processes, a radio hub,
                      this ground station) and fly a show with it
  connect             join a real swarm's radio network (serial radio, or
                      UDP) and serve status and commands on a local
                      socket (docs/operate.md)
  status              the live picture of every drone, through connect
  command COMMAND     send arm, takeoff, start, pause, resume, land,
                      return, hold, lights or load to the swarm, through
                      connect, and wait until every drone applied it
  drone COMMAND       run the drone program (the same as the drone binary:
                      run, check, sitl, version); groundstation sitl starts
                      its simulated drones this way
  flash --roster FILE --key FILE
                      install the drone program, its config, the swarm
                      key and its systemd service on every drone of a
                      roster over SSH (docs/flash.md)
  help                show this help

Run "groundstation COMMAND --help" for a command's flags.
`

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one command line and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "simulate":
		return runSimulate(args[1:], stdout, stderr)
	case "show":
		return runShow(args[1:], stdout, stderr)
	case "keygen":
		return runKeygen(args[1:], stdout, stderr)
	case "sitl":
		return runSITL(args[1:], stdout, stderr)
	case "drone":
		return runDrone(args[1:], stdout, stderr)
	case "connect":
		return runConnect(args[1:], stdout, stderr)
	case "status":
		return runStatus(args[1:], stdout, stderr)
	case "command":
		return runCommand(args[1:], stdout, stderr)
	case "flash":
		return runFlash(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "groundstation: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
}
