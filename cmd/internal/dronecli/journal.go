package dronecli

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/skyquorum/skyquorum/firmware/runner"
	swarmnode "github.com/skyquorum/skyquorum/swarm"
	"github.com/skyquorum/skyquorum/swarm/airspace"
)

// A simulated drone's journal (drone sitl --journal FILE) is what a test
// or a developer needs to check a live swarm from outside: JSON lines
// with the drone's clock reading and the real time beside it, its swarm
// time, the leader it follows, each committed command as it is applied,
// and whether it holds its airspace cells. The first line gives the
// drone's clock error, so that its readings convert to real time.
type journalLine struct {
	// Real and Local are the real time and the drone's clock, in Unix
	// nanoseconds.
	Real  int64 `json:"real"`
	Local int64 `json:"local"`
	// Swarm is the swarm time (0 while the drone has none).
	Swarm   int64  `json:"swarm,omitempty"`
	Synced  bool   `json:"synced,omitempty"`
	Leader  uint16 `json:"leader,omitempty"`
	Term    uint32 `json:"term,omitempty"`
	Leading bool   `json:"leading,omitempty"`
	// Ticks is how many ticks the runner has run: fewer than the time
	// since its start over its tick period means that it fell behind
	// real time (its ticker drops the ticks it has no time for).
	Ticks int64 `json:"ticks,omitempty"`
	// Applied is the index of an applied log entry and Data its bytes.
	Applied uint32 `json:"applied,omitempty"`
	Data    string `json:"data,omitempty"`
	// Holding reports whether the drone holds the cells in Cells.
	Holding *bool    `json:"holding,omitempty"`
	Cells   []uint16 `json:"cells,omitempty"`
	// Header fields (first line only).
	Start       int64   `json:"start,omitempty"`
	OffsetNanos int64   `json:"offset_ns,omitempty"`
	DriftPPM    float64 `json:"drift_ppm,omitempty"`
	ID          uint16  `json:"id,omitempty"`
}

// journalEvery is how often the journal looks at the node.
const journalEvery = 10 * time.Millisecond

// clockEvery is how often it writes a clock reading.
const clockEvery = 100 * time.Millisecond

// runJournal writes r's journal to path until ctx ends.
func runJournal(ctx context.Context, path string, id uint16, c *skewedClock, r *runner.Runner) error {
	f, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	w := bufio.NewWriter(f)
	enc := json.NewEncoder(w)
	head := journalLine{ID: id, Real: time.Now().UnixNano()}
	if c != nil {
		head.Start, head.OffsetNanos, head.DriftPPM = c.start.UnixNano(), int64(c.offset), (c.rate-1)*1e6
	}
	_ = enc.Encode(head)
	go func() {
		defer f.Close()
		defer w.Flush()
		t := time.NewTicker(journalEvery)
		defer t.Stop()
		var lastClock time.Time
		var applied uint32
		var leader uint16
		var term uint32
		var holding bool
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
			}
			var out []journalLine
			ticks := r.Counters().Ticks
			r.Inspect(func(n *swarmnode.Node) {
				real := time.Now()
				local := real
				if c != nil {
					local = c.at(real)
				}
				base := journalLine{Real: real.UnixNano(), Local: local.UnixNano()}
				l, tm := n.Leader()
				lg := n.Log().Log()
				hold := n.Locks().Holding()
				if real.Sub(lastClock) >= clockEvery || uint16(l) != leader || tm != term {
					line := base
					if n.InSync() {
						line.Swarm, line.Synced = n.SwarmTime(local.UnixNano()), true
					}
					line.Leader, line.Term, line.Leading, line.Ticks = uint16(l), tm, lg.Leading(), ticks
					out = append(out, line)
					lastClock, leader, term = real, uint16(l), tm
				}
				for applied < lg.AppliedIndex() {
					applied++
					e, ok := lg.Entry(applied)
					line := base
					line.Applied = applied
					if ok {
						line.Data = strconv.Itoa(int(e.Kind)) + ":" + hex.EncodeToString(e.Data)
					}
					out = append(out, line)
				}
				if hold != holding {
					line := base
					line.Holding = &hold
					for _, cell := range n.Locks().Cells() {
						line.Cells = append(line.Cells, uint16(cell))
					}
					out = append(out, line)
					holding = hold
				}
			})
			for _, l := range out {
				_ = enc.Encode(l)
			}
			if len(out) > 0 {
				_ = w.Flush()
			}
		}
	}()
	return nil
}

// serveControl answers a simulated drone's control socket (drone sitl
// --control ADDR), a loopback TCP port that takes one command per line:
// "acquire CELL[,CELL…]" asks the airspace locks for cells, "release"
// gives them back. Each gets one reply line: "ok" or "error: …".
func serveControl(ctx context.Context, addr string, r *runner.Runner) (net.Addr, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("control: %w", err)
	}
	var wg sync.WaitGroup
	go func() {
		<-ctx.Done()
		ln.Close()
	}()
	go func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				wg.Wait()
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer conn.Close()
				sc := bufio.NewScanner(conn)
				for sc.Scan() {
					fmt.Fprintln(conn, control(r, sc.Text()))
				}
			}()
		}
	}()
	return ln.Addr(), nil
}

// control carries out one control command and returns its reply.
func control(r *runner.Runner, line string) string {
	verb, arg, _ := strings.Cut(strings.TrimSpace(line), " ")
	var err error
	switch verb {
	case "acquire":
		var cells []airspace.Cell
		for _, s := range strings.Split(arg, ",") {
			v, perr := strconv.ParseUint(strings.TrimSpace(s), 10, 16)
			if perr != nil {
				return fmt.Sprintf("error: %q is not a cell number (0–65535); give acquire CELL[,CELL…]", s)
			}
			cells = append(cells, airspace.Cell(v))
		}
		if !r.Inspect(func(n *swarmnode.Node) { err = n.Locks().Acquire(cells) }) {
			return "error: the drone's node has not started yet"
		}
	case "release":
		if !r.Inspect(func(n *swarmnode.Node) { err = n.Locks().Release() }) {
			return "error: the drone's node has not started yet"
		}
	default:
		return fmt.Sprintf("error: unknown command %q; give acquire CELL[,CELL…] or release", verb)
	}
	if err != nil {
		return "error: " + err.Error()
	}
	return "ok"
}
