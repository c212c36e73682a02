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

	"github.com/schollz/progressbar/v3"

	"github.com/skyquorum/skyquorum/cmd/groundstation/operate"
)

const showUploadUsage = `Usage: groundstation show upload FILE [flags]

Uploads the show to every drone of the network that groundstation connect
joined, in one broadcast with coded repair (docs/upload.md), and prints
its progress every second: on a terminal a bar of the chunks every drone
is known to hold, with the drones that report holding the show and the
slowest ones; else a line whenever it changes: symbols sent, repairs, the
polls the drones answered, the drones holding the show and the drones
that asked for the most. It ends (exit 0) when the station's polls go
unanswered and every live drone's status reports holding the show, its
SHA-256 checked; when some live drone still does not 30 s after the polls
went unanswered, it fails naming them.

Flags:
`

// uploadPoll is how often show upload asks how the upload stands (a
// variable for tests).
var uploadPoll = time.Second

// uploadSettle is how long show upload waits, once the station's polls go
// unanswered, for every live drone's status to report the show.
var uploadSettle = 30 * time.Second

// idList writes drone IDs as "3 7 12".
func idList(ids []uint16) string {
	s := make([]string, len(ids))
	for i, id := range ids {
		s[i] = fmt.Sprint(id)
	}
	return strings.Join(s, " ")
}

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
	if u.Resumed {
		fmt.Fprintln(stdout, "resuming the upload connect stored: a poll first, then what the drones report they lack")
	}
	progress := newUploadProgress(stdout, stderr, u.Chunks, isTerminal(stderr))
	defer progress.finish()
	var idleSince time.Time
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
		progress.show(*resp.Upload)
		// Done: the station's polls go unanswered and every live drone's
		// status reports the show; the statuses may lag by a period, or
		// a drone may have missed every poll.
		up := resp.Upload
		switch {
		case up.Done && len(up.Missing) == 0 && up.Live > 0:
			progress.finish()
			fmt.Fprintf(stdout, "done: every live drone (%d) holds show %s\n", up.Live, up.Hash)
			return nil
		case !up.Done:
			idleSince = time.Time{}
		case idleSince.IsZero():
			idleSince = time.Now()
		case time.Since(idleSince) > uploadSettle:
			progress.finish()
			if up.Live == 0 {
				return fmt.Errorf("the station's polls go unanswered, and no drone is live: no status reports show %s", up.Hash)
			}
			return fmt.Errorf("the station's polls go unanswered, but drones %s do not report holding show %s; run the command again to poll them", idList(up.Missing), up.Hash)
		}
	}
}

// uploadProgress shows an upload's progress: a bar on a terminal, of the
// chunks every drone is known to hold (operate.UploadStatus.Everywhere),
// naming the drones that hold the show and the slowest; else a line
// whenever it changes.
type uploadProgress struct {
	out  io.Writer
	bar  *progressbar.ProgressBar
	last string
}

func newUploadProgress(stdout, stderr io.Writer, chunks int, tty bool) *uploadProgress {
	p := &uploadProgress{out: stdout}
	if tty {
		p.bar = progressbar.NewOptions(chunks,
			progressbar.OptionSetWriter(stderr),
			progressbar.OptionSetDescription("at every drone"),
			progressbar.OptionSetWidth(30),
			progressbar.OptionShowCount(),
			progressbar.OptionSetRenderBlankState(true),
			progressbar.OptionClearOnFinish(),
		)
	}
	return p
}

// show draws the upload's state.
func (p *uploadProgress) show(u operate.UploadStatus) {
	if p.bar != nil {
		p.bar.Describe(uploadBarText(u))
		_ = p.bar.Set(u.Everywhere())
		return
	}
	if line := uploadLine(u); line != p.last {
		fmt.Fprintln(p.out, line)
		p.last = line
	}
}

// finish ends the bar.
func (p *uploadProgress) finish() {
	if p.bar != nil {
		_ = p.bar.Finish()
		p.bar = nil
	}
}

// uploadBarText is the bar's description: the drones holding the show
// and the slowest ones.
func uploadBarText(u operate.UploadStatus) string {
	text := fmt.Sprintf("held by %d/%d drones", len(u.Held), u.Live)
	if s := slowest(u); s != "" {
		text += "; slowest " + s
	}
	return text
}

// slowest names the drones that asked for the most in the last answered
// poll, with the symbols each asked for: "7 (12), 3 (4)".
func slowest(u operate.UploadStatus) string {
	var slow []string
	for _, a := range u.Asked[:min(len(u.Asked), 5)] {
		slow = append(slow, fmt.Sprintf("%d (%d)", a.Drone, a.Symbols))
	}
	return strings.Join(slow, ", ")
}

// uploadLine is one line of an upload's progress.
func uploadLine(u operate.UploadStatus) string {
	pct := 100 * min(u.Symbols, u.Chunks) / max(u.Chunks, 1)
	line := fmt.Sprintf("%3d%% %d/%d chunks sent, %d repairs, %d polls answered; held by %d of %d live drones",
		pct, min(u.Symbols, u.Chunks), u.Chunks, u.Repairs, u.Rounds, len(u.Held), u.Live)
	if s := slowest(u); s != "" {
		line += "; slowest: " + s
	}
	return line
}
