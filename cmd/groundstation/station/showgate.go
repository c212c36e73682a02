package station

import (
	"errors"
	"fmt"
	"strings"

	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/swarm/command"
)

// ErrShowNotHeld: live drones do not hold the show a LOAD names, or the
// show the swarm loaded before an ARM; the error names them.
var ErrShowNotHeld = errors.New("station: the show is not held by every live drone")

// ShowGate checks a command against the picture before it is sent: a
// LOAD goes out only when every live drone reports holding the show it
// names (SWARM_STATUS.show_digest, the first 8 bytes of the SHA-256 the
// drone verified), and an ARM only when every live drone reports that it
// holds the loaded show (the SHOW_LOADED flag). Other commands pass. A
// drone that lacks the show refuses to arm for it all the same; the gate
// tells the operator which drones lack it before the swarm commits. The
// error wraps ErrShowNotHeld and names the drones and what they hold.
func ShowGate(sn Snapshot, c command.Command) error {
	var lack []Drone
	var what string
	switch c := c.(type) {
	case command.Load:
		if c.Digest == 0 {
			return fmt.Errorf("%w: %s names no digest; give the show's (show info prints it, command load --show FILE takes it from the file)", ErrShowNotHeld, c)
		}
		what = fmt.Sprintf("show %#016x", c.Digest)
		for _, d := range sn.Drones {
			if d.Live && d.Show != c.Digest {
				lack = append(lack, d)
			}
		}
	case command.Arm:
		what = "the loaded show"
		for _, d := range sn.Drones {
			if d.Live && d.Flags&swarm.SWARM_MEMBER_FLAGS_SHOW_LOADED == 0 {
				lack = append(lack, d)
			}
		}
	default:
		return nil
	}
	if len(lack) == 0 {
		return nil
	}
	parts := make([]string, len(lack))
	for i, d := range lack {
		held := "none"
		if d.Show != 0 {
			held = fmt.Sprintf("%#016x", d.Show)
		}
		parts[i] = fmt.Sprintf("%d (holds %s)", d.ID, held)
	}
	return fmt.Errorf("%w: %d live drones lack %s: %s", ErrShowNotHeld, len(lack), what, strings.Join(parts, ", "))
}

// Lacking returns the IDs of the drones a ShowGate error of sn and c
// names (nil when the gate passes).
func Lacking(sn Snapshot, c command.Command) []uint16 {
	var out []uint16
	for _, d := range sn.Drones {
		if !d.Live {
			continue
		}
		switch c := c.(type) {
		case command.Load:
			if d.Show != c.Digest || c.Digest == 0 {
				out = append(out, d.ID)
			}
		case command.Arm:
			if d.Flags&swarm.SWARM_MEMBER_FLAGS_SHOW_LOADED == 0 {
				out = append(out, d.ID)
			}
		}
	}
	return out
}
