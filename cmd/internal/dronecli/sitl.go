package dronecli

import (
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/skyquorum/skyquorum/firmware/config"
	"github.com/skyquorum/skyquorum/firmware/runner"
	"github.com/skyquorum/skyquorum/sitl/vehicle"
)

const sitlUsage = `Usage: drone sitl --id N (--hub ADDR | --serial DEV [--baud B]) --key FILE [flags]

Runs a simulated drone: the same program as "drone run", without a config
file. Its radio is either a UDP socket that sends every frame to --hub ADDR
(host:port): a radio hub (groundstation sitl) that relays it to the other
drones and paces the drone with RADIO_STATUS as a radio would, or, for two
drones, the other's --listen address; or a serial device, --serial DEV at
--baud B, opened as "drone run" opens a real radio: a radio hub's
pseudo-terminal, or a real radio. Give one of --hub and --serial. Its
flight controller is a simulated one at --fc, or a simulated ArduPilot
inside the process, standing at the drone's show home. --clock-offset and
--clock-drift give the drone a clock that is off and runs fast or slow, as
real drones' clocks do, to exercise time sync. It runs until SIGINT or
SIGTERM.

Flags:
`

func runSITL(args []string, stdout, stderr io.Writer) int {
	c := newCommand("sitl", sitlUsage, stdout, stderr)
	id := c.fs.Int("id", 0, "the drone's vehicle `ID` (required)")
	hub := c.fs.String("hub", "", "the radio hub's UDP `ADDR`ess, host:port (this or --serial)")
	serialDev := c.fs.String("serial", "", "the radio's serial `DEV`ice, such as a radio hub's pseudo-terminal (this or --hub)")
	baud := c.fs.Int("baud", config.DefaultRadioBaud, "the serial radio's rate in bits per second, `B` (with --serial)")
	key := c.fs.String("key", "", "the swarm key `FILE` (required; groundstation keygen)")
	members := c.fs.String("members", "1-10", "the swarm's vehicle IDs: `LIST` of IDs and ranges, such as 1-10,12")
	listen := c.fs.String("listen", "127.0.0.1:0", "the drone's own UDP `ADDR`ess (with --hub)")
	fc := c.fs.String("fc", "", "a simulated flight controller's UDP `ADDR`ess (default: a simulated ArduPilot in this process, standing at the drone's show home)")
	showFile := c.fs.String("show", "", "the show `FILE` (.sqshow) whose part this drone flies")
	showDrone := c.fs.Int("show-drone", 0, "the show's drone `K` (from 1) whose part this drone flies (default: its ID)")
	state := c.fs.String("state", "", "the state `DIR`ectory (default: skyquorum-sitl-ID in the temporary directory)")
	offset := c.fs.Float64("clock-offset", 0, "the drone clock's offset from the real time, in `MS`")
	drift := c.fs.Float64("clock-drift", 0, "how fast the drone's clock runs, in `PPM` (negative: slow)")
	logFormat := c.fs.String("log-format", config.LogAuto, "log `FORMAT`: auto, text or json")
	journal := c.fs.String("journal", "", "write the drone's clock, swarm time, leader, applied commands and held cells as JSON lines to `FILE`, for tests")
	control := c.fs.String("control", "", "take airspace commands (acquire CELL[,CELL…], release) on a loopback TCP `ADDR`, for tests")
	if code, ok := c.parse(args); !ok {
		return code
	}
	switch {
	case *id == 0:
		code, _ := c.usageError("--id N is required")
		return code
	case *hub == "" && *serialDev == "":
		code, _ := c.usageError("--hub ADDR or --serial DEV is required")
		return code
	case *hub != "" && *serialDev != "":
		code, _ := c.usageError("--hub ADDR and --serial DEV: give one of them, the radio hub's UDP address or a serial device")
		return code
	case *serialDev == "" && flagSet(c.fs, "baud"):
		code, _ := c.usageError("--baud applies to a serial radio: give --serial DEV too, or leave --baud out")
		return code
	case *serialDev != "" && flagSet(c.fs, "listen"):
		code, _ := c.usageError("--listen applies to a UDP radio: give --hub ADDR instead of --serial, or leave --listen out")
		return code
	case *key == "":
		code, _ := c.usageError("--key FILE is required")
		return code
	case *showDrone < 0 || *showDrone > config.MaxID:
		code, _ := c.usageError(fmt.Sprintf("--show-drone %d: give the show's drone, 1–%d", *showDrone, config.MaxID))
		return code
	case *id < 1 || *id > config.MaxID:
		code, _ := c.usageError(fmt.Sprintf("--id %d: a vehicle ID is 1–%d", *id, config.MaxID))
		return code
	case math.IsNaN(*offset) || math.IsInf(*offset, 0) || math.Abs(*offset) > 1e12:
		code, _ := c.usageError(fmt.Sprintf("--clock-offset %v: give milliseconds", *offset))
		return code
	case math.IsNaN(*drift) || math.Abs(*drift) >= 1e6:
		code, _ := c.usageError(fmt.Sprintf("--clock-drift %v: give parts per million, above -1000000 and below 1000000", *drift))
		return code
	}
	ids, err := config.ParseMembers(*members)
	if err != nil {
		code, _ := c.usageError("--members: " + err.Error())
		return code
	}
	if *state == "" {
		*state = filepath.Join(os.TempDir(), "skyquorum-sitl-"+strconv.Itoa(*id))
	}
	cfg := &config.Config{
		ID:               uint16(*id),
		Members:          ids,
		FlightController: config.FlightController{UDP: *fc},
		KeyFile:          *key,
		StateDir:         *state,
		Show:             *showFile,
		ShowDrone:        uint16(*showDrone),
		Log:              config.Log{Format: *logFormat},
	}
	if *serialDev != "" {
		cfg.Radio = config.Radio{Serial: *serialDev, Baud: *baud}
	} else {
		cfg.Radio = config.Radio{UDP: &config.UDP{Listen: *listen, Peers: []string{*hub}, Hub: true}}
	}
	if n, ok := config.NetworkOf(cfg.ID); ok {
		cfg.Network = n
	}
	if *fc == "" {
		// A simulated flight controller in this process, standing at the
		// drone's show home; the config's checks want its address.
		cfg.FlightController.UDP = "127.0.0.1:1"
	}
	if err := cfg.Validate(); err != nil {
		return c.fail(err)
	}
	if *fc == "" {
		srv, err := serveSimulatedFC(cfg)
		if err != nil {
			return c.fail(err)
		}
		defer srv.Close()
		cfg.FlightController.UDP = srv.Addr()
	}
	log := newLogger(stderr, *logFormat, "info")
	d, err := prepare(cfg, log)
	if err != nil {
		return c.fail(err)
	}
	defer d.close()
	d.clock = newSkewedClock(time.Now(), time.Duration(*offset*float64(time.Millisecond)), *drift)
	d.journal, d.control = *journal, *control
	log.Info("simulated drone ready", "id", cfg.ID, "system_id", cfg.SystemID(), "members", len(ids),
		"radio", d.link.Info().Name, "clock_offset_ms", *offset, "clock_drift_ppm", *drift)
	ctx, stop := runContext()
	defer stop()
	if err := startRunner(ctx, d); err != nil {
		return c.fail(err)
	}
	return exitOK
}

// flagSet reports whether the command line set flag name.
func flagSet(fs *flag.FlagSet, name string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) { set = set || f.Name == name })
	return set
}

// serveSimulatedFC starts a simulated ArduPilot on the loopback for the
// drone, standing at its show home (at latitude and longitude 0 without a
// show).
func serveSimulatedFC(cfg *config.Config) (*vehicle.FCServer, error) {
	var lat, lon float64
	sh, err := loadShow(cfg.ShowPath(), cfg.Part())
	if err != nil {
		return nil, err
	}
	if sh != nil {
		home := showHome(sh, cfg.Part())
		lat, lon = home[0], home[1]
	}
	srv, err := vehicle.ServeFC(vehicle.FCServerConfig{FC: vehicle.FCConfig{
		Autopilot: vehicle.ArduPilot, SystemID: cfg.SystemID(), Lat: lat, Lon: lon, Seed: uint64(cfg.ID),
	}})
	if err != nil {
		return nil, fmt.Errorf("simulated flight controller: %w", err)
	}
	return srv, nil
}

// skewedClock is a drone's clock that reads offset from the real time
// at the start and runs (1 + ppm/10⁶) times as fast.
type skewedClock struct {
	start  time.Time // real time at the start
	offset time.Duration
	rate   float64
}

func newSkewedClock(start time.Time, offset time.Duration, ppm float64) *skewedClock {
	return &skewedClock{start: start, offset: offset, rate: 1 + ppm/1e6}
}

// at is the drone clock's reading at real time t.
func (c *skewedClock) at(t time.Time) time.Time {
	elapsed := t.Sub(c.start)
	return c.start.Add(c.offset + time.Duration(float64(elapsed)*c.rate))
}

// Now reads the drone's clock.
func (c *skewedClock) Now() time.Time { return c.at(time.Now()) }

// After fires once d has passed on the drone's clock.
func (c *skewedClock) After(d time.Duration) <-chan time.Time {
	ch := make(chan time.Time, 1)
	time.AfterFunc(time.Duration(float64(d)/c.rate), func() { ch <- c.Now() })
	return ch
}

// NewTicker ticks every d of the drone's clock.
func (c *skewedClock) NewTicker(d time.Duration) runner.Ticker {
	return skewedTicker{time.NewTicker(time.Duration(float64(d) / c.rate))}
}

type skewedTicker struct{ t *time.Ticker }

func (t skewedTicker) C() <-chan time.Time { return t.t.C }
func (t skewedTicker) Stop()               { t.t.Stop() }
