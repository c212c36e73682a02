package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/skyquorum/skyquorum/cmd/groundstation/operate"
	"github.com/skyquorum/skyquorum/swarm/command"
	"github.com/skyquorum/skyquorum/swarm/show"
)

const statusUsage = `Usage: groundstation status [--socket PATH] [--json]

Prints the live picture of the swarm as the running groundstation connect
sees it: one row a drone, the drones that are not ready first (no status
yet, silent, booting, failsafe, emergency, or a preflight check failing),
with the leader marked *. AGE is the age of the drone's last status.
--json prints the whole picture as one JSON object, for scripts.

Flags:
`

func runStatus(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("status", statusUsage, stdout, stderr)
	socket := fs.String("socket", operate.DefaultSocket(), "the control socket `PATH` of groundstation connect")
	asJSON := fs.Bool("json", false, "print the picture as JSON")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	resp, err := ask(ctx, *socket, operate.Request{Op: operate.OpStatus})
	if err != nil {
		return fail(stderr, "status", err)
	}
	if !resp.OK || resp.Status == nil {
		fmt.Fprintf(stderr, "groundstation status: %s\n", resp.Error)
		return exitFail
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(resp.Status); err != nil {
			return fail(stderr, "status", err)
		}
		return exitOK
	}
	if err := operate.WriteTable(stdout, *resp.Status); err != nil {
		return fail(stderr, "status", err)
	}
	return exitOK
}

// ask sends one request to the connect process on socket.
func ask(ctx context.Context, socket string, req operate.Request) (operate.Response, error) {
	c, err := operate.Dial(socket)
	if err != nil {
		return operate.Response{}, err
	}
	defer c.Close()
	return c.Do(ctx, req)
}

func fail(stderr io.Writer, name string, err error) int {
	if errors.Is(err, context.Canceled) {
		fmt.Fprintf(stderr, "groundstation %s: interrupted\n", name)
		return exitInterrupted
	}
	fmt.Fprintf(stderr, "groundstation %s: %v\n", name, err)
	return exitFail
}

const commandUsage = `Usage: groundstation command COMMAND [ARGS] [flags]

Sends an operator's command to the swarm through the running
groundstation connect, and waits until every drone has applied it. It
prints how many drones applied it; when some did not within --timeout, it
exits 1 naming them (pending: live but not applied yet; silent: not heard
lately).

Commands, committed to the swarm's command log through the leader and
applied by every drone in the same order:
  arm                   arm the motors; sent only when every live drone
                        holds the loaded show, else it exits 1 naming those
                        that do not
  takeoff ALT           climb to ALT metres above the launch point and hover
  start [--at T]        start the loaded show at swarm time T (default +10s)
  pause --at T          freeze the show at swarm time T
  resume --at T         run the show again from swarm time T
  land                  land where each drone is
  return                fly back to the launch point and land
  lights R G B          set the lights' colour (0-255 each, or lights '#rrggbb',
                        quoted: the shell takes # for a comment)
  load SHOW 0xDIGEST    select show number SHOW by its digest (--show FILE
                        takes it from the show file); sent once every live
                        drone reports holding that show (groundstation show
                        upload puts it there), else at --timeout it exits 1
                        naming the drones that lack it

Emergency commands, signed and sent to every drone at once, obeyed without
the leader or a majority; the drones acknowledge them:
  land --emergency, return --emergency, hold (stop and hover; emergency only)

T is an offset from the swarm time now, such as +10s or +1m, or an RFC
3339 time such as 2026-06-01T21:30:00Z.

Flags:
`

func runCommand(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("command", commandUsage, stdout, stderr)
	socket := fs.String("socket", operate.DefaultSocket(), "the control socket `PATH` of groundstation connect")
	at := fs.String("at", "", "swarm `TIME` of start, pause or resume: +10s, or an RFC 3339 time")
	timeout := fs.Duration("timeout", 0, "give up waiting after `D` (default: two status periods plus 10s)")
	emerg := fs.Bool("emergency", false, "land or return: send it as an emergency command to every drone at once")
	asJSON := fs.Bool("json", false, "print the outcome as JSON")
	showFile := fs.String("show", "", "load: take the digest from the show `FILE` (.sqshow)")
	pos, code, ok := parseInterspersed(fs, args)
	if !ok {
		return code
	}
	if len(pos) == 0 {
		return badUsage(fs, "give a command: arm, takeoff ALT, start, pause, resume, land, return, hold, lights R G B or load SHOW")
	}
	if *timeout < 0 {
		return badUsage(fs, fmt.Sprintf("--timeout %v: give a positive duration", *timeout))
	}
	if *showFile != "" {
		if !strings.EqualFold(pos[0], "load") {
			return badUsage(fs, "--show goes with load")
		}
		if len(pos) != 2 {
			return badUsage(fs, "load --show FILE takes the show number and no digest: load SHOW --show FILE")
		}
		digest, err := showDigest(*showFile)
		if err != nil {
			return badUsage(fs, "--show: "+err.Error())
		}
		pos = append(pos, digest)
	}
	req, err := commandRequest(pos, *at, *emerg)
	if err != nil {
		return badUsage(fs, err.Error())
	}
	req.TimeoutMS = timeout.Milliseconds()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	resp, err := ask(ctx, *socket, req)
	if err != nil {
		return fail(stderr, "command", err)
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		_ = enc.Encode(resp)
	} else if r := resp.Result; r != nil {
		writeResult(stdout, *r)
	}
	if !resp.OK {
		fmt.Fprintf(stderr, "groundstation command: %s\n", resp.Error)
		return exitFail
	}
	return exitOK
}

// showDigest reads a show file and returns the digest a LOAD names,
// "0x…".
func showDigest(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	sh, err := show.Decode(b)
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	h, err := sh.Hash()
	if err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return fmt.Sprintf("0x%016x", h.Digest()), nil
}

// writeResult prints a command's outcome in one or two lines.
func writeResult(w io.Writer, r operate.Result) {
	fmt.Fprintln(w, strings.Join(r.Summary(), "\n"))
}

// commandRequest turns the operator's words into a request, checking
// them as the connect process will.
func commandRequest(words []string, at string, emerg bool) (operate.Request, error) {
	kind := strings.ToUpper(words[0])
	rest := words[1:]
	switch kind {
	case "HOLD":
		if len(rest) != 0 {
			return operate.Request{}, fmt.Errorf("hold takes no arguments")
		}
		if at != "" {
			return operate.Request{}, fmt.Errorf("--at: hold is an emergency command, obeyed at once")
		}
		return operate.Request{Op: operate.OpEmergency, Command: kind}, nil
	case "LAND", "RETURN":
		if emerg {
			if len(rest) != 0 {
				return operate.Request{}, fmt.Errorf("%s takes no arguments", words[0])
			}
			if at != "" {
				return operate.Request{}, fmt.Errorf("--at: an emergency command is obeyed at once")
			}
			return operate.Request{Op: operate.OpEmergency, Command: kind}, nil
		}
	case "START", "PAUSE", "RESUME":
		if emerg {
			return operate.Request{}, fmt.Errorf("--emergency: only land, return and hold are emergency commands")
		}
		if len(rest) != 0 {
			return operate.Request{}, fmt.Errorf("%s takes its swarm time from --at, not %q", words[0], strings.Join(rest, " "))
		}
		if at == "" {
			if kind != "START" {
				return operate.Request{}, fmt.Errorf("%s needs --at: the swarm time, such as +5s", words[0])
			}
			at = "+10s"
		}
		if _, _, err := operate.ParseAt(at); err != nil {
			return operate.Request{}, fmt.Errorf("--at: %w", err)
		}
		return operate.Request{Op: operate.OpCommand, Command: kind, At: at}, nil
	}
	if emerg {
		return operate.Request{}, fmt.Errorf("--emergency: only land, return and hold are emergency commands")
	}
	if at != "" {
		return operate.Request{}, fmt.Errorf("--at: only start, pause and resume take a swarm time")
	}
	text := strings.Join(append([]string{kind}, rest...), " ")
	if _, err := command.Parse(text); err != nil {
		return operate.Request{}, err
	}
	return operate.Request{Op: operate.OpCommand, Command: text}, nil
}

// parseInterspersed parses flags that may come before, between or after
// the positional arguments, which it returns (everything after "--" is
// positional); ok false means exit with code.
func parseInterspersed(fs *flagSet, args []string) (pos []string, code int, ok bool) {
	var tail []string
	for i, a := range args {
		if a == "--" {
			args, tail = args[:i], args[i+1:]
			break
		}
		if a == "-h" || a == "-help" || a == "--help" {
			fs.SetOutput(fs.stdout)
			fs.Usage()
			return nil, exitOK, false
		}
	}
	for {
		if err := fs.Parse(args); err != nil {
			return nil, exitUsage, false
		}
		args = fs.Args()
		if len(args) == 0 {
			return append(pos, tail...), 0, true
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
}
