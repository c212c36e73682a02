package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/skyquorum/skyquorum/cmd/groundstation/operate"
	"github.com/skyquorum/skyquorum/cmd/groundstation/station"
	"github.com/skyquorum/skyquorum/cmd/groundstation/web"
	"github.com/skyquorum/skyquorum/firmware/config"
	"github.com/skyquorum/skyquorum/firmware/state"
	"github.com/skyquorum/skyquorum/radio/link"
	"github.com/skyquorum/skyquorum/radio/wire"
	"github.com/skyquorum/skyquorum/swarm/show"
)

const connectUsage = `Usage: groundstation connect (--serial DEV | --udp ADDR --peer ADDR[,ADDR] [--hub]) --key FILE --members LIST [flags]

Joins one swarm radio network as its ground station and stays there: it
owns the radio (a serial telemetry radio, or UDP for SITL), finds the
leader, keeps the swarm time and the live picture of every drone, and
serves a control socket (a Unix socket, mode 0600) through which
groundstation status and groundstation command reach the swarm. It prints
what it learns: the leader, drones reporting or going silent. Ctrl-C
stops it (exit 130). Only one process can own a serial port: run one
connect per radio, and give each its own --socket. With --http ADDR it
also serves the operator's dashboard of the network there; --show FILE
gives the dashboard the show flown (show clock, planned positions,
geofence, airspace cells). It keeps the state of a show upload beside
the socket (--upload-state): started again, it resumes an upload of the
same show with a poll, sending only what the drones report they lack.

Flags:
`

// connectFlags are groundstation connect's flags.
type connectFlags struct {
	serial, udp, peers, keyFile, members, socket string
	http, showFile, uploadState                  string
	hub                                          bool
	baud, network, issuer, linkID                int
}

func runConnect(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("connect", connectUsage, stdout, stderr)
	var f connectFlags
	fs.StringVar(&f.serial, "serial", "", "the telemetry radio's serial `DEVICE`, such as /dev/ttyUSB0")
	fs.IntVar(&f.baud, "baud", 57600, "the radio's serial rate in `BAUD` (also paces the station's frames on UDP)")
	fs.StringVar(&f.udp, "udp", "", "listen on UDP `ADDR`ess, such as 127.0.0.1:14600, instead of a serial radio (SITL)")
	fs.StringVar(&f.peers, "peer", "", "with --udp: the `ADDR`esses frames go to, comma-separated")
	fs.BoolVar(&f.hub, "hub", false, "with --udp: the peer is a SITL radio hub (groundstation sitl's, or sitl/hub's)")
	fs.StringVar(&f.keyFile, "key", "", "the swarm key `FILE` (groundstation keygen writes one)")
	fs.StringVar(&f.members, "members", "", "the drones of the network: `LIST` of vehicle IDs and ranges, such as 1-10,12")
	fs.IntVar(&f.network, "network", 0, "the swarm radio `NETWORK` the radio is on (0-255)")
	fs.IntVar(&f.issuer, "issuer", int(station.DefaultIssuer), "the station's vehicle `ID`; a second ground station needs another")
	fs.IntVar(&f.linkID, "link-id", 1, "the station's MAVLink signing link `ID` (1-255); a second ground station needs another")
	fs.StringVar(&f.socket, "socket", operate.DefaultSocket(), "serve the control socket at `PATH`")
	fs.StringVar(&f.http, "http", "", "serve the dashboard on `ADDR` (host:port, such as 127.0.0.1:8080; default none)")
	fs.StringVar(&f.showFile, "show", "", "with --http: the show `FILE` (.sqshow) the swarm flies, for the dashboard's show clock, planned positions, geofence and airspace cells")
	fs.StringVar(&f.uploadState, "upload-state", "", "keep the state of a show upload in `FILE`, so that connect started again resumes it (default: the socket's path with .upload; \"off\": none)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	switch {
	case f.serial == "" && f.udp == "":
		return badUsage(fs, "give the radio: --serial DEVICE, or --udp ADDR with --peer ADDR")
	case f.serial != "" && f.udp != "":
		return badUsage(fs, "--serial and --udp: give one radio, not both")
	case f.udp != "" && f.peers == "":
		return badUsage(fs, "--udp needs --peer ADDR: where the frames go (the hub, or the drones)")
	case f.udp == "" && (f.peers != "" || f.hub):
		return badUsage(fs, "--peer and --hub go with --udp")
	case f.baud < 1200:
		return badUsage(fs, fmt.Sprintf("--baud %d: give the radio's serial rate, at least 1200 (SiK: 57600)", f.baud))
	case f.keyFile == "":
		return badUsage(fs, "--key FILE is required: the swarm key the drones use")
	case f.members == "":
		return badUsage(fs, "--members LIST is required: the vehicle IDs of the network's drones, such as 1-10")
	case f.network < 0 || f.network > config.MaxNetwork:
		return badUsage(fs, fmt.Sprintf("--network %d: give 0 to %d", f.network, config.MaxNetwork))
	case f.issuer < 1 || f.issuer > config.MaxID:
		return badUsage(fs, fmt.Sprintf("--issuer %d: give a vehicle ID from 1 to %d that no drone has", f.issuer, config.MaxID))
	case f.linkID < 1 || f.linkID > 255:
		return badUsage(fs, fmt.Sprintf("--link-id %d: give 1 to 255", f.linkID))
	case f.socket == "":
		return badUsage(fs, "--socket: give a path")
	case f.showFile != "" && (f.http == "" || f.http == "off"):
		return badUsage(fs, "--show goes with --http: it is for the dashboard")
	}
	members, err := operate.ParseMembers(f.members)
	if err != nil {
		return badUsage(fs, "--members: "+err.Error())
	}
	for _, id := range members {
		if config.SystemIDOf(id, uint8(f.network)) == 0 {
			return badUsage(fs, fmt.Sprintf("--members: drone %d is not in network %d, which holds vehicle IDs %d-%d",
				id, f.network, config.PerNetwork*f.network+1, config.PerNetwork*(f.network+1)))
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := connect(ctx, f, members, stdout, stderr); err != nil {
		if errors.Is(err, context.Canceled) {
			fmt.Fprintln(stderr, "connect: interrupted; the radio is closed and the socket removed")
			return exitInterrupted
		}
		fmt.Fprintf(stderr, "connect: %v\n", err)
		return exitFail
	}
	return exitOK
}

// uploadStatePath is where connect keeps the state of a show upload: the
// --upload-state file, else beside the control socket; "" for none.
func uploadStatePath(f connectFlags) string {
	switch f.uploadState {
	case "off":
		return ""
	case "":
		return f.socket + ".upload"
	}
	return f.uploadState
}

// connect runs the station and its control socket until ctx ends, then
// returns ctx's error.
func connect(ctx context.Context, f connectFlags, members []uint16, stdout, stderr io.Writer) error {
	born := time.Now()
	var outMu sync.Mutex // the server's requests print too
	progress := func(format string, a ...any) {
		outMu.Lock()
		defer outMu.Unlock()
		fmt.Fprintf(stdout, "%s  %s\n", time.Now().UTC().Format("15:04:05"), fmt.Sprintf(format, a...))
	}
	key, err := wire.LoadKeyFile(f.keyFile)
	if err != nil {
		return fmt.Errorf("--key: %w", err)
	}
	var sh *show.Show
	if f.showFile != "" {
		b, err := os.ReadFile(f.showFile)
		if err != nil {
			return fmt.Errorf("--show: %w", err)
		}
		if sh, err = show.Decode(b); err != nil {
			return fmt.Errorf("--show %s: %w", f.showFile, err)
		}
	}
	logger := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	ln, err := operate.Listen(f.socket)
	if err != nil {
		return err
	}
	defer ln.Close()
	var l link.Link
	radioName := ""
	if f.serial != "" {
		l, err = link.OpenSerial(link.SerialConfig{Device: f.serial, Baud: f.baud, Logger: logger})
		if err != nil {
			return fmt.Errorf("--serial %s: %w (is the radio plugged in, and is no other program using it?)", f.serial, err)
		}
		radioName = fmt.Sprintf("serial %s at %d baud", f.serial, f.baud)
	} else {
		u, err := link.ListenUDP(link.UDPConfig{Listen: f.udp, Peers: strings.Split(f.peers, ","), Hub: f.hub})
		if err != nil {
			return fmt.Errorf("--udp %s: %w", f.udp, err)
		}
		l = u
		radioName = fmt.Sprintf("UDP %s, peers %s", u.Addr(), f.peers)
		if f.hub {
			radioName += " (radio hub)"
		}
	}
	cfg := station.Config{Link: l, Key: key, Network: uint8(f.network), Baud: f.baud,
		Members: members, Issuer: uint16(f.issuer), LinkID: uint8(f.linkID), Logger: logger}
	if up := uploadStatePath(f); up != "" {
		d, err := state.Open(filepath.Dir(up))
		if err != nil {
			l.Close()
			return fmt.Errorf("--upload-state: %w", err)
		}
		cfg.UploadStore = d.Named(filepath.Base(up))
	}
	st, err := station.Open(cfg)
	if err != nil {
		l.Close()
		return err
	}
	defer st.Close()
	progress("ground station on network %d (%s), expecting %d drones; control socket %s",
		f.network, radioName, len(members), f.socket)
	var src *web.GroupSource
	if f.http != "" && f.http != "off" {
		src = web.NewStationSource(f.baud, st)
		if sh != nil {
			if err := src.SetShow(sh); err != nil {
				return fmt.Errorf("--show %s: %w", f.showFile, err)
			}
		}
		dash, err := web.Listen(f.http, web.Config{Source: src, Logger: logger})
		if err != nil {
			return fmt.Errorf("--http: %w", err)
		}
		defer dash.CloseWith("groundstation connect has stopped")
		progress("dashboard: %s", dash.URL())
	}
	srv := &operate.Server{Backend: st, Logger: logger, Report: func(req operate.Request, resp operate.Response) {
		if resp.Result == nil {
			progress("%s %q not sent: %s", req.Op, req.Command, resp.Error)
			return
		}
		if src != nil {
			// The dashboard's log shows the socket's commands too.
			r := resp.Result
			name := r.Command
			if r.Emergency {
				name = fmt.Sprintf("EMERGENCY %s (#%d)", r.Command, r.ID)
			}
			errText := ""
			if !r.Accepted && !r.Emergency {
				errText = resp.Error
			}
			src.Note(uint8(f.network), r.Index, name, errText)
			if r.At != nil && strings.HasPrefix(r.Command, "START") && r.Accepted {
				src.Started(uint8(f.network), *r.At)
			}
		}
		lines := resp.Result.Summary()
		if !resp.OK {
			lines = append(lines, resp.Error)
		}
		progress("%s", strings.Join(lines, "; "))
	}}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx, ln) }()

	var prev *operate.Status
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	waitingSaid := born
	for {
		cur := operate.StatusOf(st.Snapshot())
		for _, line := range operate.Changes(prev, cur) {
			progress("%s", line)
		}
		prev = &cur
		if cur.Leader == 0 && time.Since(waitingSaid) > 15*time.Second {
			waitingSaid = time.Now()
			progress("no leader known yet after %s: %d of %d drones reporting (drones without state listen 20 s for a running swarm before they elect)",
				time.Since(born).Round(time.Second), len(st.Snapshot().LiveDrones()), len(members))
		}
		select {
		case <-ctx.Done():
			<-served
			return ctx.Err()
		case err := <-served:
			return err
		case <-t.C:
		}
	}
}
