// Package dronecli is the drone program's command line, shared by the
// drone binary (cmd/drone) and by the ground station, which runs copies of
// itself as simulated drones (groundstation sitl) so that a fresh checkout
// needs no drone binary on PATH.
//
// The drone program runs on each drone's companion computer: it reads the
// drone's config file (docs/drone-config.md), checks the swarm key, the
// radio and the state directory before anything goes on air, and runs the
// drone's part of the swarm. `drone check` checks the same without
// running, `drone sitl` runs a simulated drone on a laptop, and
// `drone version` says which build this is.
package dronecli

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit statuses shared by every subcommand.
const (
	exitOK    = 0
	exitFail  = 1
	exitUsage = 2
)

const usage = `drone: a Skyquorum swarm drone's companion-computer program

Usage:
  drone COMMAND [flags]

Commands:
  run --config FILE     check the config, the swarm key, the radio and the
                        state directory, then run the drone
  check --config FILE   check the config and open the ports, without
                        sending anything; exit 1 when a check fails
  sitl --id N (--hub ADDR | --serial DEV) --key FILE
                        run a simulated drone on a radio hub (UDP, or its
                        pseudo-terminal)
  version               print the version, commit and build date
  help                  show this help

Run "drone COMMAND --help" for a command's flags. The config file is
described in docs/drone-config.md.
Exit status: 0 when done, 1 on an error or a failed check, 2 on bad usage.
`

// Run executes one drone command line (without the program name) and
// returns the exit status.
func Run(args []string, stdout, stderr io.Writer) int { return run(args, stdout, stderr) }

// run executes one command line and returns the exit status.
func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return exitUsage
	}
	switch args[0] {
	case "run":
		return runRun(args[1:], stdout, stderr)
	case "check":
		return runCheck(args[1:], stdout, stderr)
	case "sitl":
		return runSITL(args[1:], stdout, stderr)
	case "version":
		return runVersion(args[1:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return exitOK
	default:
		fmt.Fprintf(stderr, "drone: unknown command %q\n\n%s", args[0], usage)
		return exitUsage
	}
}

// command is one subcommand's flag set and help text.
type command struct {
	name  string
	help  string
	fs    *flag.FlagSet
	out   io.Writer // stdout, for --help
	errTo io.Writer // stderr
}

func newCommand(name, help string, stdout, stderr io.Writer) *command {
	c := &command{name: name, help: help, fs: flag.NewFlagSet(name, flag.ContinueOnError), out: stdout, errTo: stderr}
	c.fs.SetOutput(stderr)
	c.fs.Usage = func() {}
	return c
}

// parse parses args; ok false means return code at once (0 after --help,
// 2 on bad usage, with the problem on stderr).
func (c *command) parse(args []string) (code int, ok bool) {
	err := c.fs.Parse(args)
	switch {
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(c.out, c.help)
		c.fs.SetOutput(c.out)
		c.fs.PrintDefaults()
		c.fs.SetOutput(c.errTo)
		return exitOK, false
	case err != nil:
		// The flag package has printed the problem.
		return c.usageError("")
	case c.fs.NArg() != 0:
		return c.usageError(fmt.Sprintf("unexpected argument %q", c.fs.Arg(0)))
	}
	return exitOK, true
}

// usageError reports bad usage and returns exit status 2.
func (c *command) usageError(msg string) (int, bool) {
	if msg != "" {
		fmt.Fprintf(c.errTo, "drone %s: %s\n", c.name, msg)
	}
	fmt.Fprintf(c.errTo, "Run \"drone %s --help\" for its flags.\n", c.name)
	return exitUsage, false
}

// fail prints err on stderr and returns exit status 1.
func (c *command) fail(err error) int {
	msg := err.Error()
	if strings.Contains(msg, "\n") {
		fmt.Fprintf(c.errTo, "drone %s:\n  %s\n", c.name, strings.ReplaceAll(msg, "\n", "\n  "))
	} else {
		fmt.Fprintf(c.errTo, "drone %s: %s\n", c.name, msg)
	}
	return exitFail
}
