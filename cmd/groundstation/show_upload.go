package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/skyquorum/skyquorum/cmd/groundstation/operate"
)

const showUploadUsage = `Usage: groundstation show upload FILE [flags]

Uploads the show to every drone of the network that groundstation connect
joined, in one broadcast with coded repair (docs/upload.md), and prints
its progress every second: symbols sent, repairs, the polls the drones
answered and the drones that asked for the most. It ends when the
station's polls go unanswered: every drone that heard them holds the show,
its SHA-256 checked.

Flags:
`

// uploadPoll is how often show upload asks how the upload stands (a
// variable for tests).
var uploadPoll = time.Second

func showUpload(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("show upload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var p placement
	p.register(fs)
	socket := fs.String("socket", operate.DefaultSocket(), "the control socket `PATH` of groundstation connect")
	repair := fs.String("repair", "coded", "coded|nack: repair by erasure code, or by resending what drones report missing")
	share := fs.Float64("share", 0, "share of the channel the upload may take, in (0, 1] (default 0.6)")
	timeout := fs.Duration("timeout", 10*time.Minute, "give up waiting after `D`")
	in, err := parseFile(fs, args, showUploadUsage)
	if err != nil {
		return err
	}
	if *repair != "coded" && *repair != "nack" {
		return usageErr("--repair %q: want coded or nack", *repair)
	}
	if *share < 0 || *share > 1 {
		return usageErr("--share %v: want a share in (0, 1]", *share)
	}
	s, warns, err := loadShow(in, &p)
	for _, w := range warns {
		fmt.Fprintf(stderr, "warning: %s\n", w)
	}
	if err != nil {
		return err
	}
	if !s.HasOrigin {
		return fmt.Errorf("%s has no origin: give one with --origin", in)
	}
	b, err := s.Encode()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	resp, err := ask(ctx, *socket, operate.Request{Op: operate.OpUpload, Show: b, Repair: *repair, Share: *share})
	if err != nil {
		return err
	}
	if !resp.OK {
		return fmt.Errorf("%s", resp.Error)
	}
	u := resp.Upload
	fmt.Fprintf(stdout, "uploading show %s: %d bytes, %d chunks in %d blocks, %s repair\n", u.Hash, len(b), u.Chunks, u.Blocks, *repair)
	last := ""
	for {
		select {
		case <-ctx.Done():
			return fmt.Errorf("upload of show %s not done: %w", u.Hash, ctx.Err())
		case <-time.After(uploadPoll):
		}
		resp, err := ask(ctx, *socket, operate.Request{Op: operate.OpUploadStatus})
		if err != nil {
			return err
		}
		if !resp.OK {
			return fmt.Errorf("%s", resp.Error)
		}
		line := uploadLine(*resp.Upload)
		if line != last {
			fmt.Fprintln(stdout, line)
			last = line
		}
		if resp.Upload.Done {
			fmt.Fprintf(stdout, "done: every drone that answered holds show %s\n", resp.Upload.Hash)
			return nil
		}
	}
}

// uploadLine is one line of an upload's progress.
func uploadLine(u operate.UploadStatus) string {
	pct := 100 * min(u.Symbols, u.Chunks) / max(u.Chunks, 1)
	line := fmt.Sprintf("%3d%% %d/%d chunks sent, %d repairs, %d polls answered", pct, min(u.Symbols, u.Chunks), u.Chunks, u.Repairs, u.Rounds)
	if len(u.Asked) > 0 {
		var slow []string
		for _, a := range u.Asked[:min(len(u.Asked), 5)] {
			slow = append(slow, fmt.Sprintf("%d (%d)", a.Drone, a.Symbols))
		}
		line += "; slowest: " + strings.Join(slow, ", ")
	}
	return line
}
