package config

import (
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
)

// Validate checks a Config built in code (Load and Parse check what they
// read): the same checks as for a file, without line numbers. Empty
// optional fields are taken at their defaults.
func (c *Config) Validate() error {
	cc := c.clone()
	slices.Sort(cc.Members)
	cc.setDefaults()
	if errs := validate(cc, nil); len(errs) > 0 {
		return errs
	}
	return nil
}

func (c *Config) clone() *Config {
	cc := *c
	cc.Members = slices.Clone(c.Members)
	if c.Radio.UDP != nil {
		u := *c.Radio.UDP
		u.Peers = slices.Clone(u.Peers)
		cc.Radio.UDP = &u
	}
	if c.Airspace != nil {
		a := *c.Airspace
		cc.Airspace = &a
	}
	return &cc
}

// validate checks the values of a Config with its defaults set; p, when
// not nil, locates the fields in the file.
func validate(c *Config, p *parser) Errors {
	var errs Errors
	add := func(field, format string, args ...any) {
		e := &Error{Field: field, Msg: fmt.Sprintf(format, args...)}
		if p != nil {
			e.File = p.file
			if n := p.locate(field); n != nil {
				e.Line, e.Column = n.Line, n.Column
			}
		}
		errs = append(errs, e)
	}
	networkSet := p == nil || p.networkSet

	// Who the drone is.
	idOK := true
	switch {
	case c.ID == 0:
		add("id", "missing: set the drone's vehicle ID, 1–%d", MaxID)
		idOK = false
	case c.ID > MaxID:
		add("id", "%d is out of range: a vehicle ID is 1–%d", c.ID, MaxID)
		idOK = false
	case SystemIDOf(c.ID, c.Network) == 0 && networkSet:
		n, _ := NetworkOf(c.ID)
		add("network", "id %d is not in network %d, which holds IDs %s: set network: %d, or leave network out to derive it from id",
			c.ID, c.Network, networkIDs(c.Network), n)
		idOK = false
	case SystemIDOf(c.ID, c.Network) == 0:
		add("id", "%d is above the last radio network's IDs (1–%d): use a lower ID", c.ID, PerNetwork*(MaxNetwork+1))
		idOK = false
	}
	if len(c.Members) == 0 {
		add("members", "missing: list the swarm's vehicle IDs, this drone's included, such as members: 1-50")
	} else if idOK {
		for _, m := range c.Members {
			if SystemIDOf(m, c.Network) == 0 {
				add(memberField(p, m), "member %d is not in network %d (IDs %s): a swarm is one radio network; remove it or fix the IDs", m, c.Network, networkIDs(c.Network))
			}
		}
		if !slices.Contains(c.Members, c.ID) {
			add("members", "does not include this drone's id %d: add it", c.ID)
		}
	}
	for i := 1; i < len(c.Members); i++ {
		if c.Members[i] == c.Members[i-1] && p == nil {
			add("members", "member %d is listed twice; list each drone once", c.Members[i])
		}
	}

	// Links.
	r := c.Radio
	switch {
	case r.Serial == "" && r.UDP == nil:
		add("radio", "missing: set radio.serial (and radio.baud) for a serial radio, or radio.udp for UDP")
	case r.Serial != "" && r.UDP != nil:
		add("radio.udp", "both a serial device and UDP are set: keep one (radio.serial for a radio, radio.udp for SITL)")
	case r.Serial != "":
		checkBaud(add, "radio.baud", r.Baud)
	default:
		if r.Baud != 0 {
			add("radio.baud", "applies to a serial radio only: remove it, or set radio.serial instead of radio.udp")
		}
		if r.UDP.Listen == "" {
			add("radio.udp.listen", "missing: set the local address, such as 0.0.0.0:14560")
		} else if err := checkAddr(r.UDP.Listen, true); err != "" {
			add("radio.udp.listen", "%s", err)
		}
		if len(r.UDP.Peers) == 0 {
			add("radio.udp.peers", "missing: list where frames go (the SITL radio hub, or the other drones), such as [127.0.0.1:14550]")
		}
		for i, a := range r.UDP.Peers {
			if err := checkAddr(a, false); err != "" {
				add(fmt.Sprintf("radio.udp.peers[%d]", i), "%s", err)
			}
		}
	}
	f := c.FlightController
	switch {
	case f.Serial == "" && f.UDP == "":
		add("flight_controller", "missing: set flight_controller.serial (and baud) for the flight controller's UART, or flight_controller.udp for a simulated one")
	case f.Serial != "" && f.UDP != "":
		add("flight_controller.udp", "both a serial device and UDP are set: keep one")
	case f.Serial != "":
		checkBaud(add, "flight_controller.baud", f.Baud)
	default:
		if f.Baud != 0 {
			add("flight_controller.baud", "applies to a serial device only: remove it, or set flight_controller.serial instead of udp")
		}
		if err := checkAddr(f.UDP, false); err != "" {
			add("flight_controller.udp", "%s", err)
		}
	}

	// Failsafes.
	fs := c.Failsafe
	checkChoice(add, "failsafe.link_loss.action", fs.LinkLoss.Action, ActionContinue, ActionHold, ActionLand)
	if fs.LinkLoss.After < 0 {
		add("failsafe.link_loss.after", "%v is negative: write how long the swarm may be silent, such as 10s", fs.LinkLoss.After)
	}
	checkChoice(add, "failsafe.low_battery", fs.LowBattery, ActionReturn, ActionLand)
	switch {
	case fs.LowBatteryBelow < 0 || fs.LowBatteryBelow >= 100:
		add("failsafe.low_battery_below", "%v is not a charge: write a percentage from 0 (never) up to 100, such as 25", fs.LowBatteryBelow)
	case fs.LowBatteryBelow > 0 && fs.LowBattery == ActionLand:
		add("failsafe.low_battery", "land is not carried out on a low battery: the drone returns on a path home clear of the others; write low_battery: return, or leave low_battery_below out")
	}
	checkChoice(add, "failsafe.geofence", fs.Geofence, ActionLand)
	checkChoice(add, "failsafe.on_stop", fs.OnStop, ActionLand, ActionHold)

	if a := c.Airspace; a != nil {
		if a.Lease < 0 {
			add("airspace.lease", "%v is negative: write how long a lock lasts, such as 10s, or leave it out", a.Lease)
		}
		if !(a.CellSize[0] > 0 && a.CellSize[1] > 0 && a.CellSize[2] > 0) {
			add("airspace.cell_size", "%v: a cell's size must be positive along every axis, in metres", a.CellSize)
		}
		if a.Cells[0] < 1 || a.Cells[1] < 1 || a.Cells[2] < 1 {
			add("airspace.cells", "%v: write at least one cell along every axis", a.Cells)
		}
		if len(errs) == 0 {
			if _, _, err := c.Grid(); err != nil {
				add("airspace.cells", "%s: make the cells larger or the grid smaller", strings.TrimPrefix(err.Error(), "config: airspace: airspace: bad grid: "))
			}
		}
	}
	checkChoice(add, "log.format", c.Log.Format, LogAuto, LogText, LogJSON)
	checkChoice(add, "log.level", c.Log.Level, "debug", "info", "warn", "error")
	if c.KeyFile == "" {
		add("key_file", "missing: set the swarm key's path")
	}
	if c.StateDir == "" {
		add("state_dir", "missing: set the state directory's path")
	}
	slices.SortStableFunc(errs, byLine)
	return errs
}

func checkBaud(add func(string, string, ...any), field string, baud int) {
	if !slices.Contains(Bauds, baud) {
		s := make([]string, len(Bauds))
		for i, b := range Bauds {
			s[i] = strconv.Itoa(b)
		}
		add(field, "%d is not a standard serial rate: write one of %s (SiK radios: 57600)", baud, strings.Join(s, ", "))
	}
}

func checkChoice(add func(string, string, ...any), field, v string, choices ...string) {
	if !slices.Contains(choices, v) {
		add(field, "%q is not an option: write one of %s", v, strings.Join(choices, ", "))
	}
}

// checkAddr checks host:port without resolving the host (a name may
// resolve only once the network is up); listen allows an empty host.
func checkAddr(a string, listen bool) string {
	host, port, err := net.SplitHostPort(a)
	if err != nil {
		return fmt.Sprintf("%q is not host:port: write an address such as 127.0.0.1:14560", a)
	}
	if host == "" && !listen {
		return fmt.Sprintf("%q has no host: write an address such as 127.0.0.1:14560", a)
	}
	n, err := strconv.Atoi(port)
	if err != nil || n < 0 || n > 65535 || (n == 0 && !listen) {
		return fmt.Sprintf("%q: port %q is not a port number (1–65535)", a, port)
	}
	return ""
}

func networkIDs(n uint8) string {
	lo := PerNetwork*int(n) + 1
	return fmt.Sprintf("%d–%d", lo, lo+PerNetwork-1)
}

func memberField(p *parser, m uint16) string {
	if p != nil {
		if f, ok := p.memberAt[m]; ok {
			return f
		}
	}
	return "members"
}

// locate finds the node of field, or of the nearest enclosing field that
// the file has.
func (p *parser) locate(field string) *yamlNode {
	for {
		if n, ok := p.at[field]; ok {
			return n
		}
		i := strings.LastIndexAny(field, ".[")
		if i < 0 {
			if field == "" {
				return nil
			}
			field = ""
			continue
		}
		field = field[:i]
	}
}
