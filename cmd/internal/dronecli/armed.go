package dronecli

import (
	"context"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/skyquorum/skyquorum/firmware/runner"
)

// ArmedFile is the file the drone program keeps in its runtime directory
// (systemd's RuntimeDirectory=, $RUNTIME_DIRECTORY) while its flight
// controller reports itself armed or airborne, so that a tool on the
// companion computer can tell without the serial port: groundstation
// flash refuses a drone that has it (docs/flash.md).
const ArmedFile = "armed"

// armedPeriod is how often the armed file follows the vehicle's state.
const armedPeriod = 250 * time.Millisecond

// armedPath is where the armed file goes, "" without a runtime directory.
func armedPath() string {
	dir, _, _ := strings.Cut(os.Getenv("RUNTIME_DIRECTORY"), ":")
	if dir == "" {
		return ""
	}
	return filepath.Join(dir, ArmedFile)
}

// markArmed keeps path present, saying "armed" or "armed, airborne",
// while state reports the vehicle armed or airborne, and absent while it
// reports it disarmed on the ground; a silent flight controller leaves the
// file as it was. The file is removed when ctx ends (the program stops).
func markArmed(ctx context.Context, path string, state func() runner.VehicleState, log *slog.Logger) {
	t := time.NewTicker(armedPeriod)
	defer t.Stop()
	last := ""
	for {
		st := state()
		if !st.Silent {
			want := ""
			switch {
			case st.Airborne:
				want = "armed, airborne"
			case st.Armed:
				want = "armed"
			}
			if want != last {
				var err error
				if want == "" {
					err = os.Remove(path)
					if errors.Is(err, fs.ErrNotExist) {
						err = nil
					}
				} else {
					err = os.WriteFile(path, []byte(want+"\n"), 0o644)
				}
				if err != nil {
					log.Warn("armed file", "path", path, "err", err)
				} else {
					last = want
				}
			}
		}
		select {
		case <-ctx.Done():
			if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
				log.Warn("armed file", "path", path, "err", err)
			}
			return
		case <-t.C:
		}
	}
}
