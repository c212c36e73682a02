package config

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// Load reads and checks the config file at path. Relative paths in it are
// relative to its directory (Config.Dir).
func Load(path string) (*Config, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := Parse(data, path)
	if err != nil {
		return nil, err
	}
	c.Dir = filepath.Dir(path)
	return c, nil
}

// Parse reads and checks a config file's content; name names it in errors.
// Every problem found is reported, each with its line, in an Errors.
func Parse(data []byte, name string) (*Config, error) {
	p := &parser{file: name, at: map[string]*yaml.Node{}, memberAt: map[uint16]string{}}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, Errors{p.syntax(err)}
	}
	if len(doc.Content) == 0 {
		return nil, Errors{{File: name, Msg: "the file is empty: it needs at least id, members, radio and flight_controller (docs/drone-config.md)"}}
	}
	c := &Config{}
	p.top(doc.Content[0], c)
	if !p.networkSet {
		if n, ok := NetworkOf(c.ID); ok {
			c.Network = n
		}
	}
	c.setDefaults()
	// The value checks run even after errors in reading, so that one run
	// reports every problem; a field that could not be read is left out
	// of them (its zero value would only be reported again).
	read := p.errs
	for _, e := range validate(c, p) {
		if !slices.ContainsFunc(read, func(r *Error) bool { return related(r.Field, e.Field) }) {
			p.errs = append(p.errs, e)
		}
	}
	if len(p.errs) > 0 {
		slices.SortStableFunc(p.errs, byLine)
		return nil, p.errs
	}
	return c, nil
}

// related reports whether one field is the other or contains it.
func related(a, b string) bool {
	within := func(in, f string) bool {
		return in == f || in == "" || strings.HasPrefix(f, in+".") || strings.HasPrefix(f, in+"[")
	}
	return within(a, b) || within(b, a)
}

// byLine orders errors by line, those at no line (missing fields) last.
func byLine(a, b *Error) int {
	la, lb := a.Line, b.Line
	if la == 0 {
		la = 1 << 30
	}
	if lb == 0 {
		lb = 1 << 30
	}
	return la - lb
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// syntax turns a YAML syntax error into an Error with its line.
func (p *parser) syntax(err error) *Error {
	msg := err.Error()
	e := &Error{File: p.file, Msg: "not valid YAML: " + strings.TrimPrefix(msg, "yaml: ")}
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		// The YAML library names the line where the construct at fault
		// began, which may be a line before the fault itself.
		e.Msg = "not valid YAML: " + m[2] + " (on this line or just after it)"
	}
	return e
}

// parser walks the YAML tree into a Config and remembers where each field
// was, so that the checks after it can name the line.
type parser struct {
	file       string
	errs       Errors
	at         map[string]*yaml.Node // field path → its value, or its key for a mapping
	memberAt   map[uint16]string     // member → the path of the item that lists it
	networkSet bool
}

func (p *parser) errorf(n *yaml.Node, field, format string, args ...any) {
	e := &Error{File: p.file, Field: field, Msg: fmt.Sprintf(format, args...)}
	if n != nil {
		e.Line, e.Column = n.Line, n.Column
	}
	p.errs = append(p.errs, e)
}

// field is one key of a mapping and what reads its value.
type field struct {
	name string
	read func(path string, v *yaml.Node)
}

// mapping reads the mapping n at path with fields, reporting unknown and
// repeated keys.
func (p *parser) mapping(n *yaml.Node, path string, fields []field) {
	n = resolve(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, path, "want a mapping of %s, got %s", names(fields), describe(n))
		return
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, v := n.Content[i], n.Content[i+1]
		sub := k.Value
		if path != "" {
			sub = path + "." + k.Value
		}
		j := slices.IndexFunc(fields, func(f field) bool { return f.name == k.Value })
		switch {
		case j < 0:
			where := "the file's top level"
			if path != "" {
				where = path
			}
			hint := "the"
			if near := nearest(k.Value, fields); near != "" {
				hint = "did you mean " + near + "? The"
			}
			p.errorf(k, sub, "unknown field; %s fields of %s are %s", hint, where, names(fields))
		case seen[k.Value]:
			p.errorf(k, sub, "given twice; keep one")
		default:
			seen[k.Value] = true
			if resolve(v).Kind == yaml.MappingNode {
				p.at[sub] = k
			} else {
				p.at[sub] = v
			}
			fields[j].read(sub, resolve(v))
		}
	}
}

type yamlNode = yaml.Node

func resolve(n *yaml.Node) *yaml.Node {
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	return n
}

// nearest is the field name closest to name, if one is close: within two
// edits, or a third of the name's length.
func nearest(name string, fields []field) string {
	best, bestD := "", max(3, len(name)/3+1)
	for _, f := range fields {
		if d := distance(name, f.name); d < bestD {
			best, bestD = f.name, d
		}
	}
	return best
}

// distance is the Levenshtein distance between a and b.
func distance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 1 << 30
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

func names(fields []field) string {
	s := make([]string, len(fields))
	for i, f := range fields {
		s[i] = f.name
	}
	return strings.Join(s, ", ")
}

func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.ScalarNode:
		if n.ShortTag() == "!!null" {
			return "nothing"
		}
		return strconv.Quote(n.Value)
	}
	return "something else"
}

// integer reads a whole number in [lo, hi].
func (p *parser) integer(path string, v *yaml.Node, lo, hi int, what string) (int, bool) {
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" {
		p.errorf(v, path, "want %s, a whole number %d–%d, got %s", what, lo, hi, describe(v))
		return 0, false
	}
	var x int
	if err := v.Decode(&x); err != nil || x < lo || x > hi {
		p.errorf(v, path, "%s is out of range: %s is %d–%d", v.Value, what, lo, hi)
		return 0, false
	}
	return x, true
}

// baud reads a whole number, checked against Bauds afterwards.
func (p *parser) baud(path string, v *yaml.Node) (int, bool) {
	var x int
	if v.Kind != yaml.ScalarNode || v.ShortTag() != "!!int" || v.Decode(&x) != nil {
		p.errorf(v, path, "want a serial rate such as 57600, got %s", describe(v))
		return 0, false
	}
	if x <= 0 {
		// Refused here: zero would read as not given, and take the
		// default.
		checkBaud(func(field, format string, args ...any) { p.errorf(v, field, format, args...) }, path, x)
		return 0, false
	}
	return x, true
}

// str reads a non-empty scalar.
func (p *parser) str(path string, v *yaml.Node, what string) (string, bool) {
	if v.Kind != yaml.ScalarNode || v.ShortTag() == "!!null" || v.Value == "" {
		p.errorf(v, path, "want %s, got %s", what, describe(v))
		return "", false
	}
	return v.Value, true
}

// choice reads one of the words in choices.
func (p *parser) choice(path string, v *yaml.Node, choices ...string) string {
	s, ok := p.str(path, v, "one of "+strings.Join(choices, ", "))
	if !ok {
		return ""
	}
	if !slices.Contains(choices, s) {
		p.errorf(v, path, "%q is not an option: write one of %s", s, strings.Join(choices, ", "))
		return ""
	}
	return s
}

// duration reads a Go duration (5s, 1m30s) or a number of seconds.
func (p *parser) duration(path string, v *yaml.Node) (time.Duration, bool) {
	if v.Kind == yaml.ScalarNode {
		switch v.ShortTag() {
		case "!!int", "!!float":
			var s float64
			if err := v.Decode(&s); err == nil && s >= -1e9 && s <= 1e9 {
				return time.Duration(s * float64(time.Second)), true
			}
		case "!!str":
			if d, err := time.ParseDuration(v.Value); err == nil {
				return d, true
			}
		}
	}
	p.errorf(v, path, "want a duration such as 5s, 1m30s or 500ms (a bare number is seconds), got %s", describe(v))
	return 0, false
}

// number reads a finite number.
func (p *parser) number(path string, v *yaml.Node) (float64, bool) {
	var x float64
	if v.Kind != yaml.ScalarNode || (v.ShortTag() != "!!int" && v.ShortTag() != "!!float") || v.Decode(&x) != nil || x != x || x > 1e300 || x < -1e300 {
		p.errorf(v, path, "want a number, got %s", describe(v))
		return 0, false
	}
	return x, true
}

// triple reads [x, y, z], or one number for all three when one is true.
func (p *parser) triple(path string, v *yaml.Node, one bool) (t [3]float64) {
	if one && v.Kind == yaml.ScalarNode {
		x, _ := p.number(path, v)
		return [3]float64{x, x, x}
	}
	if v.Kind != yaml.SequenceNode || len(v.Content) != 3 {
		p.errorf(v, path, "want three numbers [x, y, z], got %s", describe(v))
		return t
	}
	for i, item := range v.Content {
		t[i], _ = p.number(fmt.Sprintf("%s[%d]", path, i), resolve(item))
	}
	return t
}

func (p *parser) top(n *yaml.Node, c *Config) {
	p.mapping(n, "", []field{
		{"id", func(path string, v *yaml.Node) {
			if x, ok := p.integer(path, v, 1, MaxID, "a vehicle ID"); ok {
				c.ID = uint16(x)
			}
		}},
		{"network", func(path string, v *yaml.Node) {
			if x, ok := p.integer(path, v, 0, MaxNetwork, "a radio network"); ok {
				c.Network = uint8(x)
				p.networkSet = true
			}
		}},
		{"members", func(path string, v *yaml.Node) { c.Members = p.members(path, v) }},
		{"radio", func(path string, v *yaml.Node) { p.radio(path, v, &c.Radio) }},
		{"flight_controller", func(path string, v *yaml.Node) { p.flightController(path, v, &c.FlightController) }},
		{"key_file", func(path string, v *yaml.Node) { c.KeyFile, _ = p.str(path, v, "the swarm key's path") }},
		{"state_dir", func(path string, v *yaml.Node) { c.StateDir, _ = p.str(path, v, "the state directory's path") }},
		{"show", func(path string, v *yaml.Node) { c.Show, _ = p.str(path, v, "the show file's path (.sqshow)") }},
		{"show_drone", func(path string, v *yaml.Node) {
			if x, ok := p.integer(path, v, 1, MaxID, "the show's drone (from 1) this drone flies"); ok {
				c.ShowDrone = uint16(x)
			}
		}},
		{"failsafe", func(path string, v *yaml.Node) { p.failsafe(path, v, &c.Failsafe) }},
		{"airspace", func(path string, v *yaml.Node) {
			c.Airspace = &Airspace{}
			p.airspace(path, v, c.Airspace)
		}},
		{"log", func(path string, v *yaml.Node) {
			p.mapping(v, path, []field{
				{"format", func(path string, v *yaml.Node) { c.Log.Format = p.choice(path, v, LogAuto, LogText, LogJSON) }},
				{"level", func(path string, v *yaml.Node) { c.Log.Level = p.choice(path, v, "debug", "info", "warn", "error") }},
			})
		}},
	})
}

// members reads a list of IDs and ranges ("1-50"), or one range, or IDs
// and ranges separated by commas ("1-10, 12").
func (p *parser) members(path string, v *yaml.Node) []uint16 {
	items := []*yaml.Node{v}
	paths := []string{path}
	if v.Kind == yaml.SequenceNode {
		items, paths = nil, nil
		for i, item := range v.Content {
			items = append(items, resolve(item))
			paths = append(paths, fmt.Sprintf("%s[%d]", path, i))
		}
	}
	var out []uint16
	type span struct{ lo, hi int }
	for i, item := range items {
		var spans []span
		if item.Kind == yaml.ScalarNode && item.ShortTag() == "!!str" && strings.Contains(item.Value, ",") {
			// "1-10, 12", a list written without brackets.
			for _, part := range strings.Split(item.Value, ",") {
				if lo, hi, ok := p.memberText(paths[i], item, strings.TrimSpace(part)); ok {
					spans = append(spans, span{lo, hi})
				}
			}
		} else if lo, hi, ok := p.memberRange(paths[i], item); ok {
			spans = append(spans, span{lo, hi})
		}
		for _, sp := range spans {
			p.addMembers(&out, paths[i], item, sp.lo, sp.hi)
		}
	}
	slices.Sort(out)
	return out
}

// addMembers adds the IDs lo…hi, listed by item at path, to out.
func (p *parser) addMembers(out *[]uint16, path string, item *yaml.Node, lo, hi int) {
	for id := lo; id <= hi; id++ {
		if prev, dup := p.memberAt[uint16(id)]; dup {
			p.errorf(item, path, "member %d is listed twice (also in %s); list each drone once", id, prev)
			return
		}
		p.memberAt[uint16(id)] = path
		p.at[path] = item
		*out = append(*out, uint16(id))
	}
}

var rangeRE = regexp.MustCompile(`^\s*(\d+)\s*(?:-|–|\.\.)\s*(\d+)\s*$`)

const wantMembers = "want vehicle IDs (1–65534): a list such as [1, 2, 3], ranges such as 1-50, or both: [1-10, 12]"

func (p *parser) memberRange(path string, v *yaml.Node) (lo, hi int, ok bool) {
	if v.Kind != yaml.ScalarNode {
		p.errorf(v, path, "%s; got %s", wantMembers, describe(v))
		return 0, 0, false
	}
	if v.ShortTag() == "!!int" {
		x, ok := p.integer(path, v, 1, MaxID, "a vehicle ID")
		return x, x, ok
	}
	return p.memberText(path, v, v.Value)
}

// memberText reads one ID or one range of IDs, part of item v.
func (p *parser) memberText(path string, v *yaml.Node, text string) (lo, hi int, ok bool) {
	if id, err := strconv.Atoi(text); err == nil {
		if id < 1 || id > MaxID {
			p.errorf(v, path, "%d is out of range: a vehicle ID is 1–%d", id, MaxID)
			return 0, 0, false
		}
		return id, id, true
	}
	m := rangeRE.FindStringSubmatch(text)
	if m == nil {
		p.errorf(v, path, "%s; got %q", wantMembers, text)
		return 0, 0, false
	}
	lo, err1 := strconv.Atoi(m[1])
	hi, err2 := strconv.Atoi(m[2])
	switch {
	case err1 != nil || err2 != nil || lo < 1 || hi > MaxID:
		p.errorf(v, path, "range %s is out of range: vehicle IDs are 1–%d", text, MaxID)
		return 0, 0, false
	case lo > hi:
		p.errorf(v, path, "range %s is empty: write the lower ID first (%d-%d)", text, hi, lo)
		return 0, 0, false
	}
	return lo, hi, true
}

func (p *parser) radio(path string, v *yaml.Node, r *Radio) {
	p.mapping(v, path, []field{
		{"serial", func(path string, v *yaml.Node) {
			r.Serial, _ = p.str(path, v, "the radio's serial device, such as /dev/ttyUSB0")
		}},
		{"baud", func(path string, v *yaml.Node) { r.Baud, _ = p.baud(path, v) }},
		{"udp", func(path string, v *yaml.Node) {
			r.UDP = &UDP{}
			p.mapping(v, path, []field{
				{"listen", func(path string, v *yaml.Node) { r.UDP.Listen, _ = p.str(path, v, "the local address, host:port") }},
				{"peers", func(path string, v *yaml.Node) {
					if v.Kind == yaml.ScalarNode {
						if s, ok := p.str(path, v, "peer addresses, host:port"); ok {
							r.UDP.Peers = []string{s}
						}
						return
					}
					if v.Kind != yaml.SequenceNode {
						p.errorf(v, path, "want a list of peer addresses, host:port, got %s", describe(v))
						return
					}
					for i, item := range v.Content {
						sub := fmt.Sprintf("%s[%d]", path, i)
						p.at[sub] = resolve(item)
						if s, ok := p.str(sub, resolve(item), "a peer address, host:port"); ok {
							r.UDP.Peers = append(r.UDP.Peers, s)
						}
					}
				}},
			})
		}},
	})
}

func (p *parser) flightController(path string, v *yaml.Node, f *FlightController) {
	p.mapping(v, path, []field{
		{"serial", func(path string, v *yaml.Node) {
			f.Serial, _ = p.str(path, v, "the flight controller's serial device, such as /dev/serial0")
		}},
		{"baud", func(path string, v *yaml.Node) { f.Baud, _ = p.baud(path, v) }},
		{"udp", func(path string, v *yaml.Node) {
			f.UDP, _ = p.str(path, v, "the flight controller's address, host:port")
		}},
	})
}

func (p *parser) failsafe(path string, v *yaml.Node, f *Failsafe) {
	p.mapping(v, path, []field{
		{"link_loss", func(path string, v *yaml.Node) {
			p.mapping(v, path, []field{
				{"action", func(path string, v *yaml.Node) {
					f.LinkLoss.Action = p.choice(path, v, ActionContinue, ActionHold, ActionLand)
				}},
				{"after", func(path string, v *yaml.Node) {
					d, ok := p.duration(path, v)
					if ok && d == 0 {
						// Zero would read as not given, and take the default.
						p.errorf(v, path, "0s: write how long the swarm may be silent before the action, such as 10s")
					}
					f.LinkLoss.After = d
				}},
			})
		}},
		{"low_battery", func(path string, v *yaml.Node) { f.LowBattery = p.choice(path, v, ActionReturn, ActionLand) }},
		{"low_battery_below", func(path string, v *yaml.Node) {
			if x, ok := p.number(path, v); ok {
				if x < 0 || x >= 100 {
					p.errorf(v, path, "%v is not a charge: write a percentage from 0 (never) up to 100, such as 25", x)
					return
				}
				f.LowBatteryBelow = x
			}
		}},
		{"geofence", func(path string, v *yaml.Node) { f.Geofence = p.choice(path, v, ActionLand) }},
		{"on_stop", func(path string, v *yaml.Node) { f.OnStop = p.choice(path, v, ActionLand, ActionHold) }},
	})
}

func (p *parser) airspace(path string, v *yaml.Node, a *Airspace) {
	p.mapping(v, path, []field{
		{"origin", func(path string, v *yaml.Node) { a.Origin = p.triple(path, v, false) }},
		{"cell_size", func(path string, v *yaml.Node) { a.CellSize = p.triple(path, v, true) }},
		{"cells", func(path string, v *yaml.Node) {
			if v.Kind != yaml.SequenceNode || len(v.Content) != 3 {
				p.errorf(v, path, "want three whole numbers [x, y, z], got %s", describe(v))
				return
			}
			for i, item := range v.Content {
				a.Cells[i], _ = p.integer(fmt.Sprintf("%s[%d]", path, i), resolve(item), 1, 1<<16, "a number of cells")
			}
		}},
		{"lease", func(path string, v *yaml.Node) { a.Lease, _ = p.duration(path, v) }},
	})
}
