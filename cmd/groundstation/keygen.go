package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"io/fs"

	"github.com/skyquorum/skyquorum/radio/wire"
)

const keygenUsage = `Usage: groundstation keygen [-o FILE]

Writes a new random 32-byte swarm key (MAVLink 2 signing secret) as 64
hexadecimal digits, readable by its owner only (mode 0600). Every drone
and ground station of the swarm needs the same key; copy it over a secure
channel. An existing file is never overwritten. With -o -, the key is
written to standard output instead (and nothing else is).

Flags:
`

// runKeygen implements `groundstation keygen`.
func runKeygen(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("keygen", flag.ContinueOnError)
	fs.SetOutput(stderr)
	out := fs.String("o", "swarm.key", "write the key to `FILE` (- for standard output)")
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
	if err != nil {
		fmt.Fprintf(stderr, "groundstation keygen: %v\n", err)
		return exitFail
	}
	if *out == "-" {
		if _, err := fmt.Fprintf(stdout, "%x\n", key[:]); err != nil {
			fmt.Fprintf(stderr, "groundstation keygen: standard output: %v\n", err)
			return exitFail
		}
		return exitOK
	}
	if err := wire.WriteKeyFile(*out, key); err != nil {
		fmt.Fprintf(stderr, "groundstation keygen: %s\n", keygenError(*out, err))
		return exitFail
	}
	fmt.Fprintf(stdout, "wrote a new swarm key to %s (mode 0600); copy it to every drone and ground station of the swarm\n", *out)
	return exitOK
}

// keygenError says in one line what went wrong writing the key to path and
// what to do, without the layers of prefixes the error carries.
func keygenError(path string, err error) string {
	if errors.Is(err, wire.ErrKeyExists) {
		return path + " already exists: remove it first to replace the swarm key, or give another file with -o"
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err // the path in it is the temporary file beside path
	}
	return fmt.Sprintf("cannot write the key to %s: %v", path, err)
}
