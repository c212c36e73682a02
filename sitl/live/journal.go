package live

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"sort"
	"strings"
	"time"
)

// Journal is what a drone's journal file says (drone sitl --journal).
type Journal struct {
	ID uint16
	// Start, Offset and Drift are the drone clock's error: at real time
	// Start it read Start+Offset, and it runs Drift ppm fast.
	Start  time.Time
	Offset time.Duration
	Drift  float64
	// Clock holds the clock readings, in the file's order.
	Clock []ClockSample
	// Applied holds each applied log entry, by index order of applying.
	Applied []Applied
	// Holds are the intervals in which the drone held airspace cells,
	// in real time converted from the drone's clock.
	Holds []Hold
}

// ClockSample is one clock reading.
type ClockSample struct {
	// Real is the real time converted from Local with the clock error;
	// Machine the machine's clock the drone read beside it.
	Real, Local, Machine time.Time
	// Swarm is the drone's swarm time; valid when Synced.
	Swarm   time.Time
	Synced  bool
	Leader  uint16
	Term    uint32
	Leading bool
	// Ticks is how many ticks the drone's runner had run.
	Ticks int64
}

// Applied is one applied log entry: its index and "kind:hex bytes".
type Applied struct {
	Index uint32
	Data  string
	Real  time.Time
}

// Hold is an interval in which the drone held cells.
type Hold struct {
	Cells    []uint16
	From, To time.Time // To is zero while still held at the journal's end
}

type rawLine struct {
	Real        int64    `json:"real"`
	Local       int64    `json:"local"`
	Swarm       int64    `json:"swarm"`
	Synced      bool     `json:"synced"`
	Leader      uint16   `json:"leader"`
	Term        uint32   `json:"term"`
	Leading     bool     `json:"leading"`
	Ticks       int64    `json:"ticks"`
	Applied     uint32   `json:"applied"`
	Data        string   `json:"data"`
	Holding     *bool    `json:"holding"`
	Cells       []uint16 `json:"cells"`
	Start       int64    `json:"start"`
	OffsetNanos int64    `json:"offset_ns"`
	DriftPPM    float64  `json:"drift_ppm"`
	ID          uint16   `json:"id"`
}

// RealOf converts a reading of the drone's clock to real time.
func (j *Journal) RealOf(local time.Time) time.Time {
	rate := 1 + j.Drift/1e6
	return j.Start.Add(time.Duration(float64(local.Sub(j.Start)-j.Offset) / rate))
}

// ReadJournal reads a drone's journal; a torn last line (the drone was
// killed while writing) is ignored. Journals of several runs of the drone
// (restarts append a new header) are read as one.
func ReadJournal(path string) (*Journal, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("live: %w", err)
	}
	defer f.Close()
	j := &Journal{}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var open *Hold
	for sc.Scan() {
		var l rawLine
		if err := json.Unmarshal(sc.Bytes(), &l); err != nil {
			continue
		}
		if l.ID != 0 {
			j.ID, j.Start, j.Offset, j.Drift = l.ID, time.Unix(0, l.Start), time.Duration(l.OffsetNanos), l.DriftPPM
			if open != nil { // the drone ended (killed) while holding
				j.Holds = append(j.Holds, *open)
				open = nil
			}
			continue
		}
		real := j.RealOf(time.Unix(0, l.Local))
		switch {
		case l.Applied != 0:
			j.Applied = append(j.Applied, Applied{Index: l.Applied, Data: l.Data, Real: real})
		case l.Holding != nil:
			if *l.Holding {
				open = &Hold{Cells: l.Cells, From: real}
			} else if open != nil {
				open.To = real
				j.Holds = append(j.Holds, *open)
				open = nil
			}
		default:
			j.Clock = append(j.Clock, ClockSample{Real: real, Local: time.Unix(0, l.Local), Machine: time.Unix(0, l.Real), Swarm: time.Unix(0, l.Swarm),
				Synced: l.Synced, Leader: l.Leader, Term: l.Term, Leading: l.Leading, Ticks: l.Ticks})
		}
	}
	if open != nil {
		j.Holds = append(j.Holds, *open)
	}
	return j, sc.Err()
}

// SwarmAt is the drone's swarm time at real time t, interpolated between
// its two nearest synchronised readings no further than gap apart.
func (j *Journal) SwarmAt(t time.Time, gap time.Duration) (time.Time, bool) {
	i := sort.Search(len(j.Clock), func(i int) bool { return !j.Clock[i].Real.Before(t) })
	if i == 0 || i == len(j.Clock) {
		return time.Time{}, false
	}
	a, b := j.Clock[i-1], j.Clock[i]
	if !a.Synced || !b.Synced || b.Real.Sub(a.Real) > gap || b.Real.Equal(a.Real) {
		return time.Time{}, false
	}
	f := float64(t.Sub(a.Real)) / float64(b.Real.Sub(a.Real))
	return a.Swarm.Add(time.Duration(f * float64(b.Swarm.Sub(a.Swarm)))), true
}

// ControlAddr is the address of the drone's control socket, from its
// log, or "" while it has not said.
func (p *Proc) ControlAddr() string {
	b, err := os.ReadFile(p.Log)
	if err != nil {
		return ""
	}
	lines := strings.Split(string(b), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		var l struct {
			Msg  string `json:"msg"`
			Addr string `json:"addr"`
		}
		if json.Unmarshal([]byte(lines[i]), &l) == nil && l.Msg == "control socket" {
			return l.Addr
		}
	}
	return ""
}

// Control sends one control command to the drone ("acquire 7",
// "release") and returns an error with its reply unless it is "ok".
func (p *Proc) Control(cmd string) error {
	addr := p.ControlAddr()
	if addr == "" {
		return fmt.Errorf("live: drone %d has no control socket yet", p.ID)
	}
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return fmt.Errorf("live: drone %d control: %w", p.ID, err)
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintln(conn, cmd); err != nil {
		return fmt.Errorf("live: drone %d control: %w", p.ID, err)
	}
	reply, err := bufio.NewReader(conn).ReadString('\n')
	if err != nil {
		return fmt.Errorf("live: drone %d control: %w", p.ID, err)
	}
	if reply = strings.TrimSpace(reply); reply != "ok" {
		return fmt.Errorf("live: drone %d: %s: %s", p.ID, cmd, reply)
	}
	return nil
}

// MissedTicks is the share of its ticks that the drone's runner did not
// run between its first and last clock readings of its last run, for a
// tick period of tick: a runner that falls behind real time drops ticks.
func (j *Journal) MissedTicks(tick time.Duration) (float64, bool) {
	var first, last *ClockSample
	for i := range j.Clock {
		c := &j.Clock[i]
		if c.Ticks == 0 {
			continue
		}
		if first == nil || c.Ticks < last.Ticks { // a restart counts from 0 again
			first = c
		}
		last = c
	}
	if first == nil || last == first {
		return 0, false
	}
	want := float64(last.Local.Sub(first.Local)) / float64(tick)
	if want < 100 {
		return 0, false
	}
	return max(0, 1-float64(last.Ticks-first.Ticks)/want), true
}
