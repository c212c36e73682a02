package operate

import (
	"fmt"
	"slices"
	"time"
)

// Changes lists, one line each, what changed from picture prev to cur
// that an operator watching groundstation connect wants to know: the
// leader learnt or changed, the swarm time synced, drones heard for the
// first time, gone silent or back, and every expected drone reporting.
// prev is nil for the first picture.
func Changes(prev *Status, cur Status) []string {
	var out []string
	if prev == nil {
		prev = &Status{}
	}
	if cur.Leader != prev.Leader || cur.Term != prev.Term && cur.Leader != 0 {
		switch {
		case cur.Leader == 0:
			out = append(out, fmt.Sprintf("leader %d no longer leads (term %d); looking for the new one", prev.Leader, cur.Term))
		case prev.Leader == 0:
			out = append(out, fmt.Sprintf("leader %d (term %d)", cur.Leader, cur.Term))
		case cur.Leader == prev.Leader:
			out = append(out, fmt.Sprintf("leader %d again in term %d", cur.Leader, cur.Term))
		default:
			out = append(out, fmt.Sprintf("new leader %d (term %d), was %d", cur.Leader, cur.Term, prev.Leader))
		}
	}
	if cur.TimeSynced && !prev.TimeSynced {
		out = append(out, fmt.Sprintf("swarm time synced with leader %d (±%dms)", cur.Leader, cur.TimeBoundMS))
	}
	was := map[uint16]Drone{}
	for _, d := range prev.Drones {
		was[d.ID] = d
	}
	live := 0
	for _, d := range byID(cur.Drones) {
		if d.Live {
			live++
		}
		p, seen := was[d.ID]
		switch {
		case d.Live && (!seen || !p.Reported):
			out = append(out, fmt.Sprintf("drone %d reporting (system %d, %s)", d.ID, d.SystemID, d.State))
		case d.Live && !p.Live:
			out = append(out, fmt.Sprintf("drone %d reporting again", d.ID))
		case d.Reported && !d.Live && p.Live:
			out = append(out, fmt.Sprintf("drone %d silent: last status %s ago", d.ID, time.Duration(d.AgeMS)*time.Millisecond))
		}
	}
	prevLive := 0
	for _, d := range prev.Drones {
		if d.Live {
			prevLive++
		}
	}
	if live == len(cur.Drones) && live > 0 && prevLive != live {
		out = append(out, fmt.Sprintf("all %d drones reporting", live))
	}
	return out
}

// byID returns drones sorted by ID.
func byID(ds []Drone) []Drone {
	out := slices.Clone(ds)
	slices.SortFunc(out, func(a, b Drone) int { return int(a.ID) - int(b.ID) })
	return out
}
