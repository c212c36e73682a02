package operate

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/skyquorum/skyquorum/cmd/groundstation/station"
	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
)

// Status is the live picture of one network as the control socket gives
// it (groundstation status --json). Durations are in milliseconds; -1
// means never or unknown.
type Status struct {
	Network uint8  `json:"network"`
	Issuer  uint16 `json:"issuer"`
	// Leader is the leader the station believes in (0: none yet), Term
	// its term, LeaderHeardMS the time since the station heard it.
	Leader        uint16 `json:"leader"`
	Term          uint32 `json:"term"`
	LeaderHeardMS int64  `json:"leader_heard_ms"`
	// SwarmTime is the swarm time when the picture was taken,
	// TimeBoundMS its error bound, TimeSynced whether the leader's time
	// has been heard (before, SwarmTime is the station's own clock).
	SwarmTime   time.Time `json:"swarm_time"`
	TimeBoundMS int64     `json:"time_bound_ms"`
	TimeSynced  bool      `json:"time_synced"`
	// StatusPeriodMS is the drones' status period, LiveMS the data age up
	// to which a drone counts as live.
	StatusPeriodMS int64 `json:"status_period_ms"`
	LiveMS         int64 `json:"live_ms"`
	// Drones are the drones heard and the expected members, the drones
	// that are not ready first, then by ID.
	Drones []Drone `json:"drones"`
}

// Drone is one drone of a Status.
type Drone struct {
	ID       uint16 `json:"id"`
	SystemID uint8  `json:"system_id"`
	// Ready is true when the drone reports, is live, is on the ground or
	// flying normally and passes its preflight checks; Problems says why
	// not.
	Ready    bool     `json:"ready"`
	Problems []string `json:"problems,omitempty"`
	// Reported is false for a member never heard; Live is true while its
	// last status is at most Status.LiveMS old.
	Reported bool `json:"reported"`
	Live     bool `json:"live"`
	// State is the flight state: booting, standby, armed, flying,
	// holding, landing, returning, failsafe ("" before the first status).
	State string `json:"state"`
	// IsLeader marks the leader the station believes in; Leading is the
	// drone's own LEADER flag; Follows and Term the leader it follows.
	IsLeader bool   `json:"is_leader"`
	Leading  bool   `json:"leading"`
	Follows  uint16 `json:"follows"`
	Term     uint32 `json:"term"`
	// Applied is the log index of the last command it applied.
	Applied uint32 `json:"applied"`
	// Battery is in percent (-1 unknown), Voltage in volts.
	Battery int     `json:"battery"`
	Voltage float64 `json:"voltage"`
	// GPSFix is the GPS fix type (3: 3D), Satellites the satellites
	// visible (-1 unknown).
	GPSFix     uint8 `json:"gps_fix"`
	Satellites int   `json:"satellites"`
	// X, Y, Z are the position in metres in the show frame (X north,
	// Y west, Z up).
	X float64 `json:"x"`
	Y float64 `json:"y"`
	Z float64 `json:"z"`
	// Loss is the share of frames it missed lately in percent,
	// Retransmits its retransmissions between its last two statuses.
	Loss        int `json:"loss"`
	Retransmits int `json:"retransmits"`
	// Cell is the first airspace cell it holds (-1 none), Cells how many.
	Cell  int `json:"cell"`
	Cells int `json:"cells"`
	// Color is its lights' colour, "#rrggbb".
	Color string `json:"color"`
	// Preflight is 0 when its preflight checks pass, else the number of
	// the first failing check, which PreflightCheck names.
	Preflight      uint8  `json:"preflight"`
	PreflightCheck string `json:"preflight_check,omitempty"`
	// AgeMS is the age of its last status (-1 never), ShowTimeMS its show
	// time.
	AgeMS      int64 `json:"age_ms"`
	ShowTimeMS int64 `json:"show_time_ms"`
	// Show is the digest of the show it holds verified, "0x…" as a LOAD
	// names it ("" none); ShowLoaded is true when it is the show the
	// swarm loaded.
	Show       string `json:"show"`
	ShowLoaded bool   `json:"show_loaded"`
	// EmergencyAck is the last emergency command of this station it
	// acknowledged.
	EmergencyAck uint32 `json:"emergency_ack"`
}

// preflightChecks names the preflight numbers of SWARM_STATUS, as the
// drone firmware numbers its checks.
var preflightChecks = map[uint8]string{
	1: "link", 2: "gps-fix", 3: "satellites", 4: "battery", 5: "ekf", 6: "armable", 7: "home-distance",
}

// PreflightName names the failing preflight check of number n ("" for 0).
func PreflightName(n uint8) string {
	if n == 0 {
		return ""
	}
	if s, ok := preflightChecks[n]; ok {
		return s
	}
	return fmt.Sprintf("check-%d", n)
}

// ShowName writes a show digest as a LOAD names it, "0x…"; "" for 0.
func ShowName(digest uint64) string {
	if digest == 0 {
		return ""
	}
	return fmt.Sprintf("%#016x", digest)
}

// Shows says which live drones hold which show: one line a show,
// "show 0x… (loaded): 1-3 5", the drones that hold none last.
func (s Status) Shows() []string {
	held := map[string][]uint16{}
	loaded := map[string]bool{}
	var order []string
	for _, d := range s.Drones {
		if !d.Reported || !d.Live {
			continue
		}
		if _, ok := held[d.Show]; !ok {
			order = append(order, d.Show)
		}
		held[d.Show] = append(held[d.Show], d.ID)
		loaded[d.Show] = loaded[d.Show] || d.ShowLoaded
	}
	slices.SortFunc(order, func(a, b string) int {
		switch {
		case a == b:
			return 0
		case a == "":
			return 1
		case b == "":
			return -1
		}
		return strings.Compare(a, b)
	})
	if len(order) == 1 && order[0] == "" {
		return nil // no drone holds a show: nothing to tell
	}
	var out []string
	for _, sh := range order {
		v := held[sh]
		slices.Sort(v)
		switch {
		case sh == "":
			out = append(out, fmt.Sprintf("no show held by %d drones: %s", len(v), ids(v)))
		case loaded[sh]:
			out = append(out, fmt.Sprintf("show %s (loaded) held by %d drones: %s", sh, len(v), ids(v)))
		default:
			out = append(out, fmt.Sprintf("show %s held by %d drones: %s", sh, len(v), ids(v)))
		}
	}
	return out
}

func millis(d time.Duration) int64 {
	if d < 0 {
		return -1
	}
	return d.Milliseconds()
}

// StatusOf turns a station's picture into a Status.
func StatusOf(sn station.Snapshot) Status {
	st := Status{
		Network: sn.Network, Issuer: sn.Issuer, Leader: sn.Leader, Term: sn.Term,
		LeaderHeardMS: millis(sn.LeaderHeard),
		SwarmTime:     sn.SwarmTime.UTC(), TimeSynced: sn.TimeSynced, TimeBoundMS: -1,
		StatusPeriodMS: millis(sn.StatusPeriod), LiveMS: millis(sn.Live),
	}
	if sn.TimeSynced {
		st.TimeBoundMS = millis(sn.TimeBound)
	}
	for _, d := range sn.Drones {
		v := Drone{
			ID: d.ID, SystemID: d.SystemID, Reported: d.Reported, Live: d.Live,
			IsLeader: d.ID == sn.Leader && sn.Leader != 0, Battery: -1, Satellites: -1, Cell: -1, AgeMS: -1,
			EmergencyAck: d.EmergencyAck,
		}
		if d.Reported {
			v.State = station.StateName(d.State)
			v.Leading, v.Follows, v.Term, v.Applied = d.Leading, d.Leader, d.Term, d.Applied
			v.Battery, v.Voltage = d.Battery, d.Voltage
			v.GPSFix, v.Satellites = d.GPSFix, d.Satellites
			v.X, v.Y, v.Z = d.X, d.Y, d.Z
			v.Loss, v.Retransmits = d.Loss, d.Retransmits
			if d.Cells > 0 && d.Cell != station.NoCell {
				v.Cell = int(d.Cell)
			}
			v.Cells = d.Cells
			v.Color = fmt.Sprintf("#%02x%02x%02x", d.Color[0], d.Color[1], d.Color[2])
			v.Preflight, v.PreflightCheck = d.Preflight, PreflightName(d.Preflight)
			v.AgeMS = millis(d.Age)
			v.ShowTimeMS = d.ShowTime.Milliseconds()
			v.Show = ShowName(d.Show)
			v.ShowLoaded = d.Flags&swarm.SWARM_MEMBER_FLAGS_SHOW_LOADED != 0
		}
		v.Problems = problems(d)
		v.Ready = len(v.Problems) == 0
		st.Drones = append(st.Drones, v)
	}
	SortDrones(st.Drones)
	return st
}

// problems says why drone d is not ready (nil when it is).
func problems(d station.Drone) []string {
	if !d.Reported {
		if d.Heard >= 0 {
			return []string{"no status yet"}
		}
		return []string{"never heard"}
	}
	var out []string
	if !d.Live {
		out = append(out, fmt.Sprintf("silent for %s", d.Age.Round(100*time.Millisecond)))
	}
	switch d.State {
	case swarm.SWARM_MEMBER_STATE_BOOTING:
		out = append(out, "booting")
	case swarm.SWARM_MEMBER_STATE_FAILSAFE:
		out = append(out, "failsafe")
	}
	if d.Preflight != 0 {
		out = append(out, "preflight: "+PreflightName(d.Preflight))
	}
	if d.Flags&swarm.SWARM_MEMBER_FLAGS_EMERGENCY != 0 {
		out = append(out, "emergency")
	}
	return out
}

// SortDrones orders drones for the operator: the ones that are not ready
// first, then by ID.
func SortDrones(ds []Drone) {
	slices.SortStableFunc(ds, func(a, b Drone) int {
		if a.Ready != b.Ready {
			if !a.Ready {
				return -1
			}
			return 1
		}
		return int(a.ID) - int(b.ID)
	})
}

// Ready counts the ready drones.
func (s Status) Ready() int {
	n := 0
	for _, d := range s.Drones {
		if d.Ready {
			n++
		}
	}
	return n
}

// WriteTable writes st for the operator: a summary line, then one row a
// drone, the ones not ready first.
func WriteTable(w io.Writer, st Status) error {
	leader := "no leader known yet"
	if st.Leader != 0 {
		leader = fmt.Sprintf("leader %d (term %d", st.Leader, st.Term)
		if st.LeaderHeardMS >= 0 {
			leader += fmt.Sprintf(", heard %s ago)", age(st.LeaderHeardMS))
		} else {
			leader += ", named by the others, not heard itself)"
		}
	}
	clock := "swarm time not synced yet"
	if st.TimeSynced {
		clock = fmt.Sprintf("swarm time %s ±%dms", st.SwarmTime.UTC().Format("15:04:05.0"), st.TimeBoundMS)
	}
	fmt.Fprintf(w, "network %d: %s; %s; %d of %d drones ready\n", st.Network, leader, clock, st.Ready(), len(st.Drones))
	for _, line := range st.Shows() {
		fmt.Fprintln(w, line)
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSTATE\tLDR\tBATT\tGPS\tPOSITION (m)\tLOSS\tRETX\tCELLS\tCOLOUR\tPREFLIGHT\tAGE\tNOT READY")
	for _, d := range st.Drones {
		mark := ""
		if d.IsLeader {
			mark = "*"
		}
		row := []string{fmt.Sprint(d.ID), dash(d.State), mark}
		if !d.Reported {
			row = append(row, "-", "-", "-", "-", "-", "-", "-", "-", "-")
		} else {
			batt := "?"
			if d.Battery >= 0 {
				batt = fmt.Sprintf("%d%%", d.Battery)
			}
			sats := "?"
			if d.Satellites >= 0 {
				sats = fmt.Sprint(d.Satellites)
			}
			cells := "-"
			if d.Cells > 0 {
				cells = fmt.Sprintf("%d", d.Cell)
				if d.Cells > 1 {
					cells += fmt.Sprintf("+%d", d.Cells-1)
				}
			}
			pre := "ok"
			if d.Preflight != 0 {
				pre = d.PreflightCheck
			}
			row = append(row, batt, fmt.Sprintf("%s/%s", fixName(d.GPSFix), sats),
				fmt.Sprintf("%.1f,%.1f,%.1f", d.X, d.Y, d.Z),
				fmt.Sprintf("%d%%", d.Loss), fmt.Sprint(d.Retransmits), cells, d.Color, pre, age(d.AgeMS))
		}
		if len(d.Problems) > 0 {
			row = append(row, strings.Join(d.Problems, "; "))
		}
		fmt.Fprintln(tw, strings.Join(row, "\t"))
	}
	return tw.Flush()
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// age writes a data age in milliseconds as "0.4s", "-" for never.
func age(ms int64) string {
	if ms < 0 {
		return "-"
	}
	if ms >= 100_000 {
		return fmt.Sprintf("%ds", ms/1000)
	}
	return fmt.Sprintf("%.1fs", float64(ms)/1000)
}

// fixName names a GPS_FIX_TYPE.
func fixName(f uint8) string {
	switch f {
	case 0:
		return "none"
	case 1:
		return "nofix"
	case 2:
		return "2D"
	case 3:
		return "3D"
	case 4:
		return "DGPS"
	case 5:
		return "RTKf"
	case 6:
		return "RTK"
	}
	return fmt.Sprintf("fix%d", f)
}
