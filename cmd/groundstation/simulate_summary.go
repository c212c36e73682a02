package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/skyquorum/skyquorum/sitl/scenario"
)

// The groups of the human summary, in print order.
var summaryGroups = []string{"swarm", "radio", "safety", "timing"}

// summaryGroup is the group a field is printed in.
func summaryGroup(name string) string {
	switch {
	case strings.HasSuffix(name, "_violations"), strings.HasSuffix(name, "_unfinished"),
		strings.HasPrefix(name, "lost_"), strings.HasSuffix(name, "_per_term_max"),
		strings.Contains(name, "separation"), strings.Contains(name, "failsafe"),
		strings.Contains(name, "at_risk"), strings.Contains(name, "mismatch"),
		strings.Contains(name, "out_of_sync"), strings.Contains(name, "deviation"),
		strings.Contains(name, "errors"), strings.Contains(name, "misses"),
		strings.Contains(name, "inversions"), strings.Contains(name, "corrupt"):
		return "safety"
	case name == "baud", name == "signed", name == "loss", name == "dup", name == "reorder",
		name == "networks", name == "share", name == "ratio", name == "chunks", name == "blocks",
		name == "rounds", strings.HasPrefix(name, "messages"), strings.HasSuffix(name, "_messages"),
		strings.Contains(name, "frames"),
		strings.Contains(name, "airtime"), strings.Contains(name, "retransmissions"):
		return "radio"
	case name == "duration", name == "settle", name == "hold", name == "commit_delay", name == "interval",
		name == "real_time_factor", strings.HasPrefix(name, "clock_"),
		strings.Contains(name, "_ms"), strings.HasSuffix(name, "_seconds"), strings.HasSuffix(name, "_s"),
		strings.Contains(name, "latency"), strings.Contains(name, "failover"):
		return "timing"
	}
	return "swarm"
}

// summaryUnit is the unit a field's value is in, "" for a count.
func summaryUnit(name string) string {
	switch {
	case name == "baud":
		return "bit/s"
	case name == "reorder", name == "hold", name == "commit_delay", name == "interval", name == "clock_offset",
		strings.HasSuffix(name, "_ms"), strings.Contains(name, "_ms_"):
		return "ms"
	case name == "duration", name == "settle", strings.HasSuffix(name, "_seconds"), strings.HasSuffix(name, "_s"):
		return "s"
	case name == "clock_drift":
		return "ppm"
	case name == "real_time_factor":
		return "× real time"
	case strings.HasSuffix(name, "_m"), strings.Contains(name, "_m_"):
		return "m"
	case strings.Contains(name, "bytes"), name == "size":
		return "B"
	case strings.HasSuffix(name, "_share"), strings.Contains(name, "_share_"):
		return "%"
	case name == "loss", name == "dup", name == "share":
		return "%"
	}
	return ""
}

// summaryNumber rounds a number for reading: integers whole, others to
// about four significant digits.
func summaryNumber(x float64) string {
	switch a := math.Abs(x); {
	case x == math.Trunc(x) && a < 1e15:
		return strconv.FormatFloat(x, 'f', 0, 64)
	case a >= 100:
		return strconv.FormatFloat(x, 'f', 1, 64)
	case a >= 1:
		return strconv.FormatFloat(x, 'f', 2, 64)
	default:
		return strconv.FormatFloat(x, 'g', 3, 64)
	}
}

// summaryValue is one field's value with its unit, for reading.
func summaryValue(name string, v any) string {
	switch v := v.(type) {
	case nil:
		return "-"
	case bool:
		if v {
			return "yes"
		}
		return "no"
	case json.Number:
		x, err := v.Float64()
		if err != nil {
			return v.String()
		}
		unit := summaryUnit(name)
		if unit == "%" {
			x *= 100
		}
		s := summaryNumber(x)
		switch unit {
		case "":
			return s
		case "%":
			return s + "%"
		}
		return s + " " + unit
	case []any:
		if len(v) == 0 {
			return "none"
		}
		parts := make([]string, len(v))
		for i, e := range v {
			parts[i] = summaryValue("", e)
		}
		return strings.Join(parts, " ")
	case map[string]any:
		keys := make([]string, 0, len(v))
		for k := range v {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		parts := make([]string, len(keys))
		for i, k := range keys {
			parts[i] = k + " " + summaryValue("", v[k])
		}
		return "(" + strings.Join(parts, ", ") + ")"
	case string:
		if len(v) > 16 && strings.HasSuffix(name, "_hash") {
			return v[:16] + "…"
		}
		return v
	}
	return fmt.Sprint(v)
}

// printRunSummary prints a run's fields for a person: four groups (swarm,
// radio and airtime, safety, timing), several fields a line, numbers
// rounded and with units, and as the last line the verdict of the exit
// rule (scenario.Failures).
func printRunSummary(w io.Writer, r result) error {
	b, err := json.Marshal(r)
	if err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if _, err := dec.Token(); err != nil { // {
		return err
	}
	items := map[string][]string{}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return err
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return err
		}
		name := k.(string)
		if name == "trace" && v == nil {
			continue
		}
		g := summaryGroup(name)
		items[g] = append(items[g], name+" "+summaryValue(name, v))
	}
	var out strings.Builder
	const width, indent = 78, 8
	for _, g := range summaryGroups {
		if len(items[g]) == 0 {
			continue
		}
		line := fmt.Sprintf("%-*s", indent, g)
		for i, it := range items[g] {
			if i > 0 && len(line)+2+len(it) > width {
				out.WriteString(line + ",\n")
				line = strings.Repeat(" ", indent) + it
				continue
			}
			if i > 0 {
				line += ", "
			}
			line += it
		}
		out.WriteString(line + "\n")
	}
	if fails := scenario.Failures(r); len(fails) > 0 {
		out.WriteString("FAILED: " + strings.Join(fails, ", ") + "\n")
	} else {
		out.WriteString("passed: no violations, nothing unfinished or lost\n")
	}
	_, err = io.WriteString(w, out.String())
	return err
}
