package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"go.yaml.in/yaml/v3"
)

// The file's layout for writing; reading walks the YAML tree instead
// (parse.go), to name the line of every error.
type file struct {
	ID               uint16        `yaml:"id"`
	Network          uint8         `yaml:"network"`
	Members          []any         `yaml:"members,flow"`
	Radio            fileRadio     `yaml:"radio"`
	FlightController fileFC        `yaml:"flight_controller"`
	KeyFile          string        `yaml:"key_file"`
	StateDir         string        `yaml:"state_dir"`
	Show             string        `yaml:"show,omitempty"`
	ShowDrone        uint16        `yaml:"show_drone,omitempty"`
	Failsafe         fileFailsafe  `yaml:"failsafe"`
	Airspace         *fileAirspace `yaml:"airspace,omitempty"`
	Log              fileLog       `yaml:"log"`
}

type fileRadio struct {
	Serial string   `yaml:"serial,omitempty"`
	Baud   int      `yaml:"baud,omitempty"`
	UDP    *fileUDP `yaml:"udp,omitempty"`
}

type fileUDP struct {
	Listen string   `yaml:"listen"`
	Peers  []string `yaml:"peers,flow"`
}

type fileFC struct {
	Serial string `yaml:"serial,omitempty"`
	Baud   int    `yaml:"baud,omitempty"`
	UDP    string `yaml:"udp,omitempty"`
}

type fileFailsafe struct {
	LinkLoss struct {
		Action string `yaml:"action"`
		After  string `yaml:"after"`
	} `yaml:"link_loss"`
	LowBattery      string  `yaml:"low_battery"`
	LowBatteryBelow float64 `yaml:"low_battery_below,omitempty"`
	Geofence        string  `yaml:"geofence"`
	OnStop          string  `yaml:"on_stop"`
}

type fileAirspace struct {
	Origin   [3]float64 `yaml:"origin,flow"`
	CellSize [3]float64 `yaml:"cell_size,flow"`
	Cells    [3]int     `yaml:"cells,flow"`
	Lease    string     `yaml:"lease,omitempty"`
}

type fileLog struct {
	Format string `yaml:"format"`
	Level  string `yaml:"level"`
}

// Marshal checks c and returns it as a config file, every default
// written out. Members are written as ranges where they run on ("1-50").
func Marshal(c *Config) ([]byte, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	cc := c.clone()
	slices.Sort(cc.Members)
	cc.setDefaults()
	f := file{
		ID:               cc.ID,
		Network:          cc.Network,
		Members:          compact(cc.Members),
		Radio:            fileRadio{Serial: cc.Radio.Serial, Baud: cc.Radio.Baud},
		FlightController: fileFC{Serial: cc.FlightController.Serial, Baud: cc.FlightController.Baud, UDP: cc.FlightController.UDP},
		KeyFile:          cc.KeyFile,
		StateDir:         cc.StateDir,
		Show:             cc.Show,
		ShowDrone:        cc.ShowDrone,
		Log:              fileLog{Format: cc.Log.Format, Level: cc.Log.Level},
	}
	if u := cc.Radio.UDP; u != nil {
		f.Radio.UDP = &fileUDP{Listen: u.Listen, Peers: u.Peers}
	}
	f.Failsafe.LinkLoss.Action = cc.Failsafe.LinkLoss.Action
	f.Failsafe.LinkLoss.After = durationString(cc.Failsafe.LinkLoss.After)
	f.Failsafe.LowBattery = cc.Failsafe.LowBattery
	f.Failsafe.LowBatteryBelow = cc.Failsafe.LowBatteryBelow
	f.Failsafe.Geofence = cc.Failsafe.Geofence
	f.Failsafe.OnStop = cc.Failsafe.OnStop
	if a := cc.Airspace; a != nil {
		f.Airspace = &fileAirspace{Origin: a.Origin, CellSize: a.CellSize, Cells: a.Cells}
		if a.Lease != 0 {
			f.Airspace.Lease = durationString(a.Lease)
		}
	}
	var b bytes.Buffer
	b.WriteString("# Skyquorum drone configuration: docs/drone-config.md describes every field.\n")
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	if err := enc.Encode(&f); err != nil {
		return nil, fmt.Errorf("config: encode: %w", err)
	}
	if err := enc.Close(); err != nil {
		return nil, fmt.Errorf("config: encode: %w", err)
	}
	return b.Bytes(), nil
}

func durationString(d time.Duration) string { return d.String() }

// compact writes sorted IDs as single IDs and ranges of three or more.
func compact(ids []uint16) []any {
	var out []any
	for i := 0; i < len(ids); {
		j := i
		for j+1 < len(ids) && ids[j+1] == ids[j]+1 {
			j++
		}
		switch {
		case j-i >= 2:
			out = append(out, strconv.Itoa(int(ids[i]))+"-"+strconv.Itoa(int(ids[j])))
		case j == i+1:
			out = append(out, int(ids[i]), int(ids[j]))
		default:
			out = append(out, int(ids[i]))
		}
		i = j + 1
	}
	return out
}

// writeFile writes the file's bytes (a variable so that a test can fail
// it halfway).
var writeFile = func(f *os.File, b []byte) error {
	_, err := f.Write(b)
	return err
}

// Write checks c and stores it at path atomically: a temporary file beside
// path is written, synced and renamed over path, then the directory is
// synced, so that path holds the old file or the new one after a power
// cut, never a part of either. The file is readable by everyone (mode
// 0644): it holds no secret, only the key's path.
func Write(path string, c *Config) error {
	b, err := Marshal(c)
	if err != nil {
		return err
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("config: write %s: %w", path, err)
	}
	name := tmp.Name()
	err = tmp.Chmod(0o644)
	if err == nil {
		err = writeFile(tmp, b)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(name, path)
	}
	if err != nil {
		_ = os.Remove(name)
		return fmt.Errorf("config: write %s: %w", path, err)
	}
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("config: sync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("config: sync directory %s: %w", dir, err)
	}
	return nil
}
