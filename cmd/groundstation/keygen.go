package main

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/skyquorum/skyquorum/radio/wire"
)

const keygenUsage = `Usage: groundstation keygen [-o FILE]

Writes a new random 32-byte swarm key (MAVLink 2 signing secret) as 64
hexadecimal digits, readable by its owner only (mode 0600). Every drone
and ground station of the swarm needs the same key; copy it over a secure
channel. An existing file is never overwritten.

Flags:
`

// runKeygen implements `groundstation keygen`.
func runKeygen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "swarm.key", "write the key to `FILE`")
	fs.Usage = func() {
		fmt.Fprint(fs.Output(), keygenUsage)
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() != 0 {
		fmt.Fprintf(stderr, "groundstation keygen: unexpected argument %q\n", fs.Arg(0))
		fs.Usage()
		return exitUsage
	}
	key, err := wire.GenerateKey(nil)
	if err == nil {
		err = wire.WriteKeyFile(*out, key)
	}
	if err != nil {
		fmt.Fprintf(stderr, "groundstation keygen: %v\n", err)
		return exitFail
	}
	fmt.Fprintf(stdout, "wrote a new swarm key to %s (mode 0600); copy it to every drone and ground station of the swarm\n", *out)
	return exitOK
}
