package packaging

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"

	"github.com/skyquorum/skyquorum/firmware/config"
)

// Columns are a roster's fields, in the order a CSV roster's header gives
// them (any order is accepted).
var Columns = []string{"id", "host", "user", "network", "radio", "radio_baud", "fc", "fc_baud", "arch"}

// Drone is one row of a roster: a drone and how to reach it.
type Drone struct {
	// Row locates the row: "row 3" (a CSV roster's line) or "line 12"
	// (a YAML roster's).
	Row string
	// ID is the drone's vehicle ID.
	ID uint16
	// Host is its SSH address, host or host:port (port 22 by default).
	Host string
	// User is the SSH user (default root).
	User string
	// Network is its radio network (default derived from ID).
	Network uint8
	// Radio and RadioBaud are the swarm radio's serial device and rate.
	Radio     string
	RadioBaud int
	// FC and FCBaud are the flight controller's serial device and rate.
	FC     string
	FCBaud int
	// Arch is its processor when the roster gives it (ParseTarget), nil
	// otherwise.
	Arch *Target

	bad bool // the row has errors of its own
}

// Addr is the drone's SSH address with its port.
func (d Drone) Addr() string {
	if _, _, err := net.SplitHostPort(d.Host); err == nil {
		return d.Host
	}
	return net.JoinHostPort(strings.Trim(d.Host, "[]"), "22")
}

// Roster is the drones of a swarm (one or more radio networks).
type Roster struct {
	// File is the roster's file name, for errors.
	File   string
	Drones []Drone
	// Layout is where the config says the key and state are (default
	// DefaultLayout).
	Layout *Layout
}

// RowError is a problem in one row of a roster.
type RowError struct {
	File  string
	Row   string
	ID    uint16 // 0 when the row has none yet
	Field string
	Msg   string
}

func (e *RowError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	b.WriteString(": ")
	b.WriteString(e.Row)
	if e.ID != 0 {
		fmt.Fprintf(&b, " (drone %d)", e.ID)
	}
	if e.Field != "" {
		b.WriteString(": ")
		b.WriteString(e.Field)
	}
	b.WriteString(": ")
	b.WriteString(e.Msg)
	return b.String()
}

// LoadRoster reads a roster: CSV when its name ends in .csv, YAML
// otherwise. Every problem is reported at once, each naming its row and
// field.
func LoadRoster(path string) (*Roster, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("roster: %w", err)
	}
	name := filepath.Base(path)
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		return ParseCSV(name, b)
	}
	return ParseYAML(name, b)
}

// LoadRosterRows reads a roster like LoadRoster, but keeps going past
// rows with errors: it returns the roster and each bad row's errors by
// its Row ("row 4"), so that the good rows can be acted on. A problem of
// the file as a whole (its header, its syntax, no good row at all) is an
// error.
func LoadRosterRows(path string) (*Roster, map[string]error, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, fmt.Errorf("roster: %w", err)
	}
	name := filepath.Base(path)
	parse := parseYAML
	if strings.EqualFold(filepath.Ext(path), ".csv") {
		parse = parseCSV
	}
	ro, errs, err := parse(name, b)
	if err != nil {
		return nil, nil, err
	}
	byRow := map[string][]error{}
	for _, e := range errs {
		var re *RowError
		if !errors.As(e, &re) {
			return nil, nil, joinSorted(errs)
		}
		byRow[re.Row] = append(byRow[re.Row], e)
	}
	good := 0
	for _, d := range ro.Drones {
		if byRow[d.Row] == nil {
			good++
		}
	}
	if good == 0 {
		return nil, nil, joinSorted(errs)
	}
	bad := map[string]error{}
	for row, es := range byRow {
		bad[row] = errors.Join(es...)
	}
	return ro, bad, nil
}

// field is one cell of a row before it is checked.
type field struct{ name, value string }

// ParseCSV reads a CSV roster: a header naming the columns (Columns), then
// one drone a row. Lines starting with # are comments.
func ParseCSV(name string, b []byte) (*Roster, error) {
	return strict(parseCSV(name, b))
}

// strict turns a roster with errors into its errors alone.
func strict(ro *Roster, errs []error, err error) (*Roster, error) {
	if err != nil {
		return nil, err
	}
	if len(errs) > 0 {
		return nil, joinSorted(errs)
	}
	return ro, nil
}

func parseCSV(name string, b []byte) (*Roster, []error, error) {
	r := csv.NewReader(bytes.NewReader(b))
	r.Comment = '#'
	r.FieldsPerRecord = -1
	r.TrimLeadingSpace = true
	header, err := r.Read()
	if err != nil {
		return nil, nil, fmt.Errorf("%s: header: %w", name, err)
	}
	var errs []error
	for i, h := range header {
		header[i] = strings.ToLower(strings.TrimSpace(h))
		if !slices.Contains(Columns, header[i]) {
			errs = append(errs, fmt.Errorf("%s: header: unknown column %q; the columns are %s", name, h, strings.Join(Columns, ", ")))
		}
	}
	ro := &Roster{File: name}
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", name, err))
			break
		}
		line, _ := r.FieldPos(0)
		row := "row " + strconv.Itoa(line)
		if len(rec) != len(header) {
			errs = append(errs, &RowError{File: name, Row: row, Msg: fmt.Sprintf("%d fields, the header has %d", len(rec), len(header))})
			continue
		}
		var fs []field
		for i, v := range rec {
			fs = append(fs, field{header[i], strings.TrimSpace(v)})
		}
		d, es := parseRow(name, row, fs)
		errs = append(errs, es...)
		d.bad = len(es) > 0
		ro.Drones = append(ro.Drones, d)
	}
	return ro, append(errs, ro.check()...), nil
}

// ParseYAML reads a YAML roster: a list of mappings with the fields of
// Columns, or such a list under a top-level key "drones".
func ParseYAML(name string, b []byte) (*Roster, error) {
	return strict(parseYAML(name, b))
}

func parseYAML(name string, b []byte) (*Roster, []error, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		return nil, nil, fmt.Errorf("%s: %w", name, err)
	}
	if len(doc.Content) == 0 {
		return nil, nil, fmt.Errorf("%s: empty roster", name)
	}
	list := doc.Content[0]
	if list.Kind == yaml.MappingNode && len(list.Content) == 2 && list.Content[0].Value == "drones" {
		list = list.Content[1]
	}
	if list.Kind != yaml.SequenceNode {
		return nil, nil, fmt.Errorf("%s:%d: a roster is a list of drones (or a list under drones:)", name, list.Line)
	}
	ro := &Roster{File: name}
	var errs []error
	for _, n := range list.Content {
		row := "line " + strconv.Itoa(n.Line)
		if n.Kind != yaml.MappingNode {
			errs = append(errs, &RowError{File: name, Row: row, Msg: "a drone is a mapping of " + strings.Join(Columns, ", ")})
			continue
		}
		var fs []field
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind != yaml.ScalarNode {
				errs = append(errs, &RowError{File: name, Row: row, Field: k.Value, Msg: "want a single value"})
				continue
			}
			if !slices.Contains(Columns, k.Value) {
				errs = append(errs, &RowError{File: name, Row: row, Field: k.Value, Msg: "unknown field; the fields are " + strings.Join(Columns, ", ")})
				continue
			}
			fs = append(fs, field{k.Value, strings.TrimSpace(v.Value)})
		}
		d, es := parseRow(name, row, fs)
		errs = append(errs, es...)
		d.bad = len(es) > 0
		ro.Drones = append(ro.Drones, d)
	}
	return ro, append(errs, ro.check()...), nil
}

// joinSorted joins errs, those of rows in row order after the others.
func joinSorted(errs []error) error {
	slices.SortStableFunc(errs, func(a, b error) int {
		var ra, rb *RowError
		la, lb := 0, 0
		if errors.As(a, &ra) {
			la = rowLine(ra.Row)
		}
		if errors.As(b, &rb) {
			lb = rowLine(rb.Row)
		}
		return la - lb
	})
	return errors.Join(errs...)
}

// rowLine is the line number in "row 3" or "line 12".
func rowLine(row string) int {
	_, n, _ := strings.Cut(row, " ")
	v, _ := strconv.Atoi(n)
	return v
}

// parseRow reads one drone's fields; numbers and required fields are
// checked here, the rest by config.Validate (Roster.check).
func parseRow(file, row string, fs []field) (Drone, []error) {
	d := Drone{Row: row, User: "root"}
	var errs []error
	bad := func(f, msg string) {
		errs = append(errs, &RowError{File: file, Row: row, ID: d.ID, Field: f, Msg: msg})
	}
	seen := map[string]bool{}
	networkSet := false
	for _, f := range fs {
		if seen[f.name] {
			bad(f.name, "given twice")
			continue
		}
		seen[f.name] = true
		switch f.name {
		case "id":
			v, err := strconv.ParseUint(f.value, 10, 16)
			if err != nil || v == 0 || v > config.MaxID {
				bad("id", fmt.Sprintf("%q is not a vehicle ID (1–%d)", f.value, config.MaxID))
				continue
			}
			d.ID = uint16(v)
		case "host":
			d.Host = f.value
		case "user":
			if f.value != "" {
				d.User = f.value
			}
		case "network":
			if f.value == "" {
				continue
			}
			v, err := strconv.ParseUint(f.value, 10, 8)
			if err != nil {
				bad("network", fmt.Sprintf("%q is not a network (0–%d)", f.value, config.MaxNetwork))
				continue
			}
			d.Network, networkSet = uint8(v), true
		case "radio":
			d.Radio = f.value
		case "fc":
			d.FC = f.value
		case "arch":
			if f.value == "" {
				continue
			}
			tg, err := ParseTarget(f.value)
			if err != nil {
				bad("arch", fmt.Sprintf("%q is not a processor: arm64, armv7, armv6 or amd64", f.value))
				continue
			}
			d.Arch = &tg
		case "radio_baud", "fc_baud":
			if f.value == "" {
				continue
			}
			v, err := strconv.Atoi(f.value)
			if err != nil {
				bad(f.name, fmt.Sprintf("%q is not a number", f.value))
				continue
			}
			if f.name == "radio_baud" {
				d.RadioBaud = v
			} else {
				d.FCBaud = v
			}
		}
	}
	if !seen["id"] {
		bad("id", "missing")
	}
	if d.Host == "" {
		bad("host", "missing: the drone's SSH address, host or host:port")
	} else if strings.ContainsAny(d.Host, " \t/@") {
		bad("host", fmt.Sprintf("%q is not a host name or address (the user goes in the user field)", d.Host))
	}
	if strings.ContainsAny(d.User, " \t@:") {
		bad("user", fmt.Sprintf("%q is not a user name", d.User))
	}
	if d.Radio == "" {
		bad("radio", "missing: the swarm radio's serial device, such as /dev/ttyUSB0")
	}
	if d.FC == "" {
		bad("fc", "missing: the flight controller's serial device, such as /dev/serial0")
	}
	if !networkSet && d.ID != 0 {
		if n, ok := config.NetworkOf(d.ID); ok {
			d.Network = n
		}
	}
	return d, errs
}

// configFields maps a config field to the roster column that sets it.
var configFields = map[string]string{
	"id": "id", "network": "network", "radio.serial": "radio", "radio.baud": "radio_baud",
	"flight_controller.serial": "fc", "flight_controller.baud": "fc_baud",
}

// check finds duplicate IDs and hosts and validates every drone's config.
func (ro *Roster) check() []error {
	var errs []error
	if len(ro.Drones) == 0 {
		return []error{fmt.Errorf("%s: no drones", ro.File)}
	}
	ids := map[uint16]string{}
	hosts := map[string]string{}
	for _, d := range ro.Drones {
		if d.ID == 0 {
			continue
		}
		if prev, ok := ids[d.ID]; ok {
			errs = append(errs, &RowError{File: ro.File, Row: d.Row, ID: d.ID, Field: "id", Msg: "also the ID of " + prev})
		} else {
			ids[d.ID] = d.Row
		}
		if prev, ok := hosts[d.Addr()]; ok {
			errs = append(errs, &RowError{File: ro.File, Row: d.Row, ID: d.ID, Field: "host", Msg: "also the host of " + prev})
		} else if d.Host != "" {
			hosts[d.Addr()] = d.Row
		}
	}
	for _, d := range ro.Drones {
		if d.bad {
			continue
		}
		_, err := ro.config(d)
		var ces config.Errors
		if errors.As(err, &ces) {
			for _, ce := range ces {
				f := ce.Field
				if col, ok := configFields[f]; ok {
					f = col
				}
				errs = append(errs, &RowError{File: ro.File, Row: d.Row, ID: d.ID, Field: f, Msg: ce.Msg})
			}
		} else if err != nil {
			errs = append(errs, &RowError{File: ro.File, Row: d.Row, ID: d.ID, Msg: err.Error()})
		}
	}
	return errs
}

// Members are the IDs of the roster's drones in network n, sorted.
func (ro *Roster) Members(n uint8) []uint16 {
	var out []uint16
	for _, d := range ro.Drones {
		if d.Network == n && d.ID != 0 {
			out = append(out, d.ID)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

func (ro *Roster) layout() Layout {
	if ro.Layout != nil {
		return *ro.Layout
	}
	return DefaultLayout
}

// config is drone d's config: its swarm is the roster's drones of its
// network, its key the service's credential, its logs JSON for journald.
func (ro *Roster) config(d Drone) (*config.Config, error) {
	c := &config.Config{
		ID:               d.ID,
		Network:          d.Network,
		Members:          ro.Members(d.Network),
		Radio:            config.Radio{Serial: d.Radio, Baud: d.RadioBaud},
		FlightController: config.FlightController{Serial: d.FC, Baud: d.FCBaud},
		KeyFile:          CredentialPath(),
		StateDir:         ro.layout().StateDir,
		Log:              config.Log{Format: config.LogJSON},
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return c, nil
}

// Config is drone d's config file.
func (ro *Roster) Config(d Drone) ([]byte, error) {
	c, err := ro.config(d)
	if err != nil {
		return nil, err
	}
	return config.Marshal(c)
}

// WriteConfigs writes every drone's config file into dir, as
// drone-ID.yaml, each atomically (config.Write).
func (ro *Roster) WriteConfigs(dir string) error {
	for _, d := range ro.Drones {
		c, err := ro.config(d)
		if err != nil {
			return err
		}
		if err := config.Write(filepath.Join(dir, fmt.Sprintf("drone-%d.yaml", d.ID)), c); err != nil {
			return err
		}
	}
	return nil
}
