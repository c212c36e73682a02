package config

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// good is a complete, valid file; the error cases below change one line
// of it.
const good = `id: 7
network: 0
members: [1-10, 12]
radio:
  serial: /dev/ttyUSB0
  baud: 57600
flight_controller:
  serial: /dev/serial0
  baud: 921600
key_file: swarm.key
state_dir: /var/lib/skyquorum
show: show.sqshow
failsafe:
  link_loss:
    action: hold
    after: 5s
  low_battery: return
  geofence: land
  on_stop: hold
airspace:
  origin: [-50, -50, 0]
  cell_size: 5
  cells: [20, 20, 8]
  lease: 10s
log:
  format: json
  level: debug
`

// A drone flies the show's drone show_drone, or the one of its ID.
func TestShowDrone(t *testing.T) {
	c, err := Parse([]byte(good), "drone.yaml")
	require.NoError(t, err)
	assert.Equal(t, uint16(7), c.Part())
	c, err = Parse([]byte(strings.Replace(good, "network: 0", "network: 0\nshow_drone: 300", 1)), "drone.yaml")
	require.NoError(t, err)
	assert.Equal(t, uint16(300), c.Part())
}

func TestParseGood(t *testing.T) {
	c, err := Parse([]byte(good), "drone.yaml")
	require.NoError(t, err)
	assert.Equal(t, uint16(7), c.ID)
	assert.Equal(t, uint8(0), c.Network)
	assert.Equal(t, uint8(7), c.SystemID())
	assert.Equal(t, []uint16{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12}, c.Members)
	assert.Equal(t, Radio{Serial: "/dev/ttyUSB0", Baud: 57600}, c.Radio)
	assert.Equal(t, FlightController{Serial: "/dev/serial0", Baud: 921600}, c.FlightController)
	assert.Equal(t, Failsafe{LinkLoss: LinkLoss{Action: ActionHold, After: 5 * time.Second}, LowBattery: ActionReturn, Geofence: ActionLand, OnStop: ActionHold}, c.Failsafe)
	assert.Equal(t, &Airspace{Origin: [3]float64{-50, -50, 0}, CellSize: [3]float64{5, 5, 5}, Cells: [3]int{20, 20, 8}, Lease: 10 * time.Second}, c.Airspace)
	g, ok, err := c.Grid()
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, 3200, g.Cells())
	assert.Equal(t, Log{Format: LogJSON, Level: "debug"}, c.Log)
	assert.Equal(t, "show.sqshow", c.Show)
}

func TestParseLowBattery(t *testing.T) {
	c, err := Parse([]byte(strings.Replace(good, "  low_battery: return", "  low_battery: return\n  low_battery_below: 27.5", 1)), "d.yaml")
	require.NoError(t, err)
	assert.Equal(t, 27.5, c.Failsafe.LowBatteryBelow)
	b, err := Marshal(c)
	require.NoError(t, err)
	assert.Contains(t, string(b), "  low_battery_below: 27.5\n")
	c, err = Parse([]byte(good), "d.yaml")
	require.NoError(t, err)
	assert.Zero(t, c.Failsafe.LowBatteryBelow, "off by default")
}

func TestParseMembersWithoutBrackets(t *testing.T) {
	c, err := Parse([]byte(strings.Replace(good, "members: [1-10, 12]", "members: 12, 1-10", 1)), "d.yaml")
	require.NoError(t, err)
	assert.Equal(t, []uint16{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 12}, c.Members)
}

func TestParseDefaults(t *testing.T) {
	c, err := Parse([]byte("id: 300\nmembers: 251-300\nradio: {udp: {listen: ':14560', peers: [127.0.0.1:14550]}}\nflight_controller: {serial: /dev/serial0}\n"), "d.yaml")
	require.NoError(t, err)
	assert.Equal(t, uint8(1), c.Network, "network derived from the ID")
	assert.Equal(t, uint8(50), c.SystemID(), "300 = 50 + 250 × 1")
	assert.Len(t, c.Members, 50)
	assert.Equal(t, DefaultFCBaud, c.FlightController.Baud)
	assert.Zero(t, c.Radio.Baud, "no baud on UDP")
	assert.Equal(t, DefaultKeyFile, c.KeyFile)
	assert.Equal(t, DefaultStateDir, c.StateDir)
	assert.Equal(t, Failsafe{LinkLoss: LinkLoss{Action: ActionContinue, After: DefaultLinkLossWait}, LowBattery: ActionReturn, Geofence: ActionLand, OnStop: ActionLand}, c.Failsafe)
	assert.Nil(t, c.Airspace)
	assert.Equal(t, Log{Format: LogAuto, Level: "info"}, c.Log)
}

func TestSystemIDs(t *testing.T) {
	for _, tc := range []struct {
		id      uint16
		network uint8
		sysid   uint8
	}{{1, 0, 1}, {250, 0, 250}, {251, 0, 0}, {251, 1, 1}, {500, 1, 250}, {64000, 255, 250}, {250, 1, 0}} {
		assert.Equal(t, tc.sysid, SystemIDOf(tc.id, tc.network), "id %d network %d", tc.id, tc.network)
	}
	n, ok := NetworkOf(64000)
	assert.True(t, ok)
	assert.Equal(t, uint8(255), n)
	_, ok = NetworkOf(64001)
	assert.False(t, ok)
}

// errorCases replace a line of good and drop the drop lines after it
// (line numbers are 1-based; a replacement may span several lines), and
// expect one error at errLine (0: a missing field, at no line), on field,
// whose message contains msg. They also seed the fuzzer.
var errorCases = []struct {
	name    string
	line    int    // the line of good to replace
	drop    int    // how many lines after it to remove
	with    string // the replacement
	errLine int
	field   string
	msg     string
}{
	{"syntax", 6, 0, "\tbaud: 57600", 5, "", "not valid YAML: found a tab character that violates indentation (on this line or just after it)"},
	{"unknown top-level field", 11, 0, "state_directory: /x", 11, "state_directory", "unknown field; the fields of the file's top level are id, network, members"},
	{"unknown nested field", 6, 0, "  bauds: 57600", 6, "radio.bauds", "unknown field; did you mean baud? The fields of radio are serial, baud, udp"},
	{"field twice", 2, 0, "id: 8", 2, "id", "given twice"},
	{"id not a number", 1, 0, "id: seven", 1, "id", `want a vehicle ID, a whole number 1–65534, got "seven"`},
	{"id zero", 1, 0, "id: 0", 1, "id", "0 is out of range: a vehicle ID is 1–65534"},
	{"id too large", 1, 0, "id: 65535", 1, "id", "65535 is out of range"},
	{"id missing", 1, 0, "# no id", 0, "id", "missing: set the drone's vehicle ID"},
	{"id beyond the last network", 2, 0, "network: 255\n", 2, "network", "id 7 is not in network 255"},
	{"id not in its network", 2, 0, "network: 1", 2, "network", "id 7 is not in network 1, which holds IDs 251–500: set network: 0"},
	{"network out of range", 2, 0, "network: 256", 2, "network", "256 is out of range: a radio network is 0–255"},
	{"show drone zero", 2, 0, "network: 0\nshow_drone: 0", 3, "show_drone", "0 is out of range: the show's drone (from 1) this drone flies is 1–65534"},
	{"members without the id", 3, 0, "members: [1-6, 8]", 3, "members", "does not include this drone's id 7: add it"},
	{"member in another network", 3, 0, "members:\n  - 1-10\n  - 251", 5, "members[1]", "member 251 is not in network 0 (IDs 1–250)"},
	{"member twice", 3, 0, "members: [1-10, 5]", 3, "members[1]", "member 5 is listed twice (also in members[0])"},
	{"member range backwards", 3, 0, "members: [10-1]", 3, "members[0]", "range 10-1 is empty: write the lower ID first (1-10)"},
	{"members without brackets, one twice", 3, 0, "members: 1-10, 12, 5", 3, "members", "member 5 is listed twice (also in members)"},
	{"members without brackets, not an ID", 3, 0, "members: 1-10, twelve", 3, "members", `want vehicle IDs (1–65534): a list such as [1, 2, 3], ranges such as 1-50, or both: [1-10, 12]; got "twelve"`},
	{"member not an ID", 3, 0, "members: [1-10, x]", 3, "members[1]", `want vehicle IDs`},
	{"members missing", 3, 0, "", 0, "members", "missing: list the swarm's vehicle IDs"},
	{"bad radio baud", 6, 0, "  baud: 57000", 6, "radio.baud", "57000 is not a standard serial rate: write one of 9600, 19200"},
	{"baud not a number", 6, 0, "  baud: fast", 6, "radio.baud", `want a serial rate such as 57600, got "fast"`},
	{"zero baud", 6, 0, "  baud: 0", 6, "radio.baud", "0 is not a standard serial rate"},
	{"negative baud", 9, 0, "  baud: -115200", 9, "flight_controller.baud", "-115200 is not a standard serial rate"},
	{"radio serial and UDP", 6, 0, "  baud: 57600\n  udp: {listen: ':1', peers: ['h:2']}", 7, "radio.udp", "both a serial device and UDP are set: keep one"},
	{"radio neither", 5, 0, "  # no device", 4, "radio", "missing: set radio.serial (and radio.baud) for a serial radio, or radio.udp"},
	{"radio UDP with baud", 5, 0, "  udp: {listen: ':1', peers: ['h:2']}", 6, "radio.baud", "applies to a serial radio only"},
	{"radio UDP bad peer", 5, 1, "  udp:\n    listen: ':14560'\n    peers: [localhost]", 7, "radio.udp.peers[0]", `"localhost" is not host:port`},
	{"radio UDP no peers", 5, 1, "  udp:\n    listen: ':14560'", 5, "radio.udp.peers", "missing: list where frames go"},
	{"flight controller serial and UDP", 9, 0, "  udp: 127.0.0.1:14551", 9, "flight_controller.udp", "both a serial device and UDP are set"},
	{"flight controller missing", 7, 2, "#", 0, "flight_controller", "missing: set flight_controller.serial"},
	{"flight controller misspelt", 7, 0, "flight_control:", 7, "flight_control", "unknown field; did you mean flight_controller? The fields of the file's top level are id, network, members, radio, flight_controller"},
	{"negative link-loss wait", 16, 0, "    after: -5s", 16, "failsafe.link_loss.after", "-5s is negative"},
	{"zero link-loss wait", 16, 0, "    after: 0", 16, "failsafe.link_loss.after", "0s: write how long the swarm may be silent"},
	{"bad duration", 16, 0, "    after: soon", 16, "failsafe.link_loss.after", `want a duration such as 5s, 1m30s or 500ms (a bare number is seconds), got "soon"`},
	{"bad link-loss action", 15, 0, "    action: return", 15, "failsafe.link_loss.action", `"return" is not an option: write one of continue, hold, land`},
	{"low-battery charge out of range", 17, 0, "  low_battery: return\n  low_battery_below: 120", 18, "failsafe.low_battery_below", "120 is not a charge: write a percentage from 0 (never) up to 100, such as 25"},
	{"low-battery landing", 17, 0, "  low_battery: land\n  low_battery_below: 25", 17, "failsafe.low_battery", "land is not carried out on a low battery"},
	{"bad on-stop action", 19, 0, "  on_stop: continue", 19, "failsafe.on_stop", `"continue" is not an option: write one of land, hold`},
	{"negative lease", 24, 0, "  lease: -1s", 24, "airspace.lease", "-1s is negative"},
	{"cell size zero", 22, 0, "  cell_size: [5, 0, 5]", 22, "airspace.cell_size", "[5 0 5]: a cell's size must be positive along every axis, in metres"},
	{"too many cells", 23, 0, "  cells: [1000, 1000, 1]", 23, "airspace.cells", "1000×1000×1 cells, at most 65536: make the cells larger"},
	{"cells not three", 23, 0, "  cells: [20, 20]", 23, "airspace.cells", "want three whole numbers"},
	{"bad log format", 26, 0, "  format: xml", 26, "log.format", `"xml" is not an option: write one of auto, text, json`},
	{"mapping expected", 4, 2, "radio: /dev/ttyUSB0", 4, "radio", `want a mapping of serial, baud, udp, got "/dev/ttyUSB0"`},
	{"empty key file", 10, 0, "key_file:", 10, "key_file", "want the swarm key's path, got nothing"},
}

// alsoReported are the further errors of a case, in order.
var alsoReported = map[string][]string{
	"flight controller misspelt": {"drone.yaml: flight_controller: missing"},
}

// variant is good with line (1-based) replaced.
func variant(line, drop int, with string) string {
	lines := strings.Split(good, "\n")
	lines = append(lines[:line-1], append([]string{with}, lines[line+drop:]...)...)
	return strings.Join(lines, "\n")
}

func TestParseErrors(t *testing.T) {
	for _, tc := range errorCases {
		t.Run(tc.name, func(t *testing.T) {
			src := variant(tc.line, tc.drop, tc.with)
			_, err := Parse([]byte(src), "drone.yaml")
			require.Error(t, err, src)
			var errs Errors
			require.True(t, errors.As(err, &errs), "%T %v", err, err)
			require.Len(t, errs, 1+len(alsoReported[tc.name]), "one error: %v", err)
			for i, msg := range alsoReported[tc.name] {
				assert.Contains(t, errs[1+i].Error(), msg)
			}
			e := errs[0]
			assert.True(t, errors.Is(err, ErrInvalid))
			assert.Equal(t, "drone.yaml", e.File)
			assert.Equal(t, tc.errLine, e.Line, "line of %v", e)
			assert.Equal(t, tc.field, e.Field)
			assert.Contains(t, e.Msg, tc.msg)
			prefix := "drone.yaml: "
			if tc.errLine > 0 {
				prefix = "drone.yaml:" + strconv.Itoa(tc.errLine) + ": "
			}
			if tc.field != "" {
				prefix += tc.field + ": "
			}
			assert.True(t, strings.HasPrefix(err.Error(), prefix), "%q starts with %q", err.Error(), prefix)
		})
	}
}

func TestParseReportsEveryError(t *testing.T) {
	src := variant(6, 0, "  baud: 1")
	src = strings.Replace(src, "    after: 5s", "    after: -1s", 1)
	src = strings.Replace(src, "  format: json", "  formt: json", 1)
	src = strings.Replace(src, "id: 7", "id: x", 1)
	_, err := Parse([]byte(src), "d.yaml")
	require.Error(t, err)
	var errs Errors
	require.True(t, errors.As(err, &errs))
	lines := make([]int, len(errs))
	for i, e := range errs {
		lines[i] = e.Line
	}
	// The unreadable id is not reported missing as well, nor are the
	// members checked against it.
	assert.Equal(t, []int{1, 6, 16, 26}, lines, "%v", err)
	assert.Equal(t, len(errs), strings.Count(err.Error(), "\n")+1, "one line per error")
}

func TestParseEmpty(t *testing.T) {
	_, err := Parse([]byte("# nothing\n"), "d.yaml")
	require.ErrorIs(t, err, ErrInvalid)
	assert.Contains(t, err.Error(), "d.yaml: the file is empty")
}

func TestLoadMissing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "none.yaml"))
	require.ErrorIs(t, err, os.ErrNotExist)
	assert.NotErrorIs(t, err, ErrInvalid)
}

func TestLoadResolvesRelativePaths(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "drone.yaml")
	require.NoError(t, os.WriteFile(path, []byte(good), 0o644))
	c, err := Load(path)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(dir, "swarm.key"), c.KeyPath())
	assert.Equal(t, "/var/lib/skyquorum", c.StatePath())
}

func TestWriteRoundTrip(t *testing.T) {
	for _, src := range []string{good, "id: 300\nmembers: [251, 252, 254-300]\nradio: {udp: {listen: ':14560', peers: [127.0.0.1:14550, 'h:1']}}\nflight_controller: {udp: '127.0.0.1:5760'}\n"} {
		c, err := Parse([]byte(src), "d.yaml")
		require.NoError(t, err)
		path := filepath.Join(t.TempDir(), "drone.yaml")
		require.NoError(t, Write(path, c))
		st, err := os.Stat(path)
		require.NoError(t, err)
		assert.Equal(t, os.FileMode(0o644), st.Mode().Perm())
		back, err := Load(path)
		require.NoError(t, err)
		back.Dir = ""
		assert.Equal(t, c, back)
		b, _ := os.ReadFile(path)
		if c.ID == 300 {
			assert.Contains(t, string(b), "members: [251, 252, 254-300]")
			assert.Contains(t, string(b), "network: 1")
		}
		entries, _ := os.ReadDir(filepath.Dir(path))
		assert.Len(t, entries, 1, "no temporary file left")
	}
}

func TestWriteRefusesInvalid(t *testing.T) {
	path := filepath.Join(t.TempDir(), "drone.yaml")
	err := Write(path, &Config{ID: 7, Members: []uint16{1, 2}, Radio: Radio{Serial: "/dev/ttyUSB0", Baud: 1234}})
	require.ErrorIs(t, err, ErrInvalid)
	msg := err.Error()
	assert.Contains(t, msg, "members: does not include this drone's id 7")
	assert.Contains(t, msg, "radio.baud: 1234 is not a standard serial rate")
	assert.Contains(t, msg, "flight_controller: missing")
	_, serr := os.Stat(path)
	assert.ErrorIs(t, serr, os.ErrNotExist)
}

func TestWriteFailureKeepsOldFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "drone.yaml")
	require.NoError(t, os.WriteFile(path, []byte(good), 0o644))
	c, err := Parse([]byte(good), path)
	require.NoError(t, err)
	c.ID = 8
	old := writeFile
	writeFile = func(f *os.File, b []byte) error {
		_, _ = f.Write(b[:len(b)/2])
		return errors.New("power cut")
	}
	defer func() { writeFile = old }()
	require.ErrorContains(t, Write(path, c), "power cut")
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	assert.Equal(t, good, string(b), "the old file is whole")
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 1, "the temporary file is removed")
}

func TestValidateInCode(t *testing.T) {
	c := &Config{ID: 3, Members: []uint16{3, 1, 2}, Radio: Radio{Serial: "/dev/ttyUSB0"}, FlightController: FlightController{UDP: "127.0.0.1:14551"}}
	require.NoError(t, c.Validate())
	assert.Equal(t, []uint16{3, 1, 2}, c.Members, "Validate does not change c")
	c.Members = []uint16{1, 3, 3}
	require.ErrorContains(t, c.Validate(), "member 3 is listed twice")
}

func FuzzParse(f *testing.F) {
	f.Add([]byte(good))
	for _, tc := range errorCases {
		f.Add([]byte(variant(tc.line, tc.drop, tc.with)))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := Parse(data, "f.yaml")
		if err != nil {
			var errs Errors
			if !errors.As(err, &errs) || len(errs) == 0 {
				t.Fatalf("error is not Errors: %T %v", err, err)
			}
			return
		}
		// What parses writes and parses back the same.
		b, err := Marshal(c)
		if err != nil {
			t.Fatalf("a parsed config does not marshal: %v", err)
		}
		back, err := Parse(b, "f.yaml")
		if err != nil {
			t.Fatalf("written config does not parse: %v\n%s", err, b)
		}
		if back.ID != c.ID || len(back.Members) != len(c.Members) || back.Failsafe != c.Failsafe {
			t.Fatalf("round trip changed the config:\n%+v\n%+v", c, back)
		}
	})
}
