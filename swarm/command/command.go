package command

import (
	"errors"
	"fmt"
)

// Kind is the kind of a command, and its first byte on the wire.
type Kind uint8

// Command kinds. Show commands come first, system commands last.
const (
	// KindLoad selects the show to fly.
	KindLoad Kind = 1 + iota
	// KindArm arms the motors.
	KindArm
	// KindTakeoff climbs to an altitude and hovers.
	KindTakeoff
	// KindStart starts the show at a swarm time.
	KindStart
	// KindPause freezes show time at a swarm time.
	KindPause
	// KindResume lets show time run again from a swarm time.
	KindResume
	// KindLand lands where the drone is.
	KindLand
	// KindReturn flies back to the launch point and lands.
	KindReturn
	// KindLights sets the colour of the lights.
	KindLights
	// KindView is a system command: an airspace membership view change.
	KindView
	// KindActivate is a system command: when a view takes effect.
	KindActivate
)

var kindNames = [...]string{
	KindLoad:     "LOAD",
	KindArm:      "ARM",
	KindTakeoff:  "TAKEOFF",
	KindStart:    "START",
	KindPause:    "PAUSE",
	KindResume:   "RESUME",
	KindLand:     "LAND",
	KindReturn:   "RETURN",
	KindLights:   "LIGHTS",
	KindView:     "VIEW",
	KindActivate: "ACTIVATE",
}

// String names the kind as an operator types it ("LOAD", "ARM", …).
func (k Kind) String() string {
	if k.valid() {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

func (k Kind) valid() bool { return k >= KindLoad && k <= KindActivate }

// IsSystem reports whether commands of kind k are the swarm's own (VIEW,
// ACTIVATE) rather than an operator's show commands.
func IsSystem(k Kind) bool { return k == KindView || k == KindActivate }

// Command is one command of the log. The commands of this package are
// values (Load, not *Load); Encode, Validate and swarm/show take nothing
// else.
type Command interface {
	// Kind is the command's kind.
	Kind() Kind
	// String describes the command for logs and errors, e.g.
	// "START at 12.500s".
	String() string
}

// Sentinel errors.
var (
	// ErrMalformed: bytes (or a value) that are not a valid command.
	ErrMalformed = errors.New("command: malformed command")
	// ErrSyntax: an operator's command line that Parse cannot read.
	ErrSyntax = errors.New("command: syntax error")
)

// Load selects the show to fly. It may be given again, to replace the
// show, until the drone is armed.
type Load struct {
	// Show is the show's ID.
	Show uint32
	// Digest is a digest of the show's content, so that a drone holding
	// another version of show Show can tell.
	Digest uint64
}

// Arm arms the motors.
type Arm struct{}

// Takeoff climbs to AltitudeCM and hovers.
type Takeoff struct {
	// AltitudeCM is the altitude above the launch point in centimetres,
	// above 0.
	AltitudeCM uint16
}

// Start starts the show: show time 0 is swarm time At.
type Start struct {
	// At is the swarm time in ns, not negative.
	At int64
}

// Pause freezes show time from swarm time At.
type Pause struct {
	// At is the swarm time in ns, not negative.
	At int64
}

// Resume lets show time run again from swarm time At.
type Resume struct {
	// At is the swarm time in ns, not negative.
	At int64
}

// Land lands where the drone is.
type Land struct{}

// Return flies back to the launch point and lands.
type Return struct{}

// Lights sets the colour of the lights.
type Lights struct{ R, G, B uint8 }

// View is a system command: view Epoch retires voter Retired, and
// Replacement takes its place in every quorum.
type View struct {
	// Epoch numbers the view, from 1.
	Epoch uint16
	// Retired and Replacement are vehicle IDs, not 0, and not equal.
	Retired, Replacement uint16
}

// Activate is a system command: view Epoch takes effect at swarm time At,
// so that every drone switches quorums at the same instant.
type Activate struct {
	// Epoch is the view's epoch, from 1.
	Epoch uint16
	// At is the swarm time in ns, not negative.
	At int64
}

var (
	_ Command = Load{}
	_ Command = Arm{}
	_ Command = Takeoff{}
	_ Command = Start{}
	_ Command = Pause{}
	_ Command = Resume{}
	_ Command = Land{}
	_ Command = Return{}
	_ Command = Lights{}
	_ Command = View{}
	_ Command = Activate{}
)

// Kind implements Command.
func (Load) Kind() Kind { return KindLoad }

// Kind implements Command.
func (Arm) Kind() Kind { return KindArm }

// Kind implements Command.
func (Takeoff) Kind() Kind { return KindTakeoff }

// Kind implements Command.
func (Start) Kind() Kind { return KindStart }

// Kind implements Command.
func (Pause) Kind() Kind { return KindPause }

// Kind implements Command.
func (Resume) Kind() Kind { return KindResume }

// Kind implements Command.
func (Land) Kind() Kind { return KindLand }

// Kind implements Command.
func (Return) Kind() Kind { return KindReturn }

// Kind implements Command.
func (Lights) Kind() Kind { return KindLights }

// Kind implements Command.
func (View) Kind() Kind { return KindView }

// Kind implements Command.
func (Activate) Kind() Kind { return KindActivate }

// String implements Command: "LOAD show 7 digest 0x1122334455667788".
func (c Load) String() string {
	return fmt.Sprintf("LOAD show %d digest %#016x", c.Show, c.Digest)
}

// String implements Command.
func (Arm) String() string { return "ARM" }

// String implements Command: "TAKEOFF to 10.00m".
func (c Takeoff) String() string {
	return fmt.Sprintf("TAKEOFF to %d.%02dm", c.AltitudeCM/100, c.AltitudeCM%100)
}

// String implements Command: "START at 12.500s".
func (c Start) String() string { return "START at " + Seconds(c.At) }

// String implements Command: "PAUSE at 20.000s".
func (c Pause) String() string { return "PAUSE at " + Seconds(c.At) }

// String implements Command: "RESUME at 25.000s".
func (c Resume) String() string { return "RESUME at " + Seconds(c.At) }

// String implements Command.
func (Land) String() string { return "LAND" }

// String implements Command.
func (Return) String() string { return "RETURN" }

// String implements Command: "LIGHTS #ff0080".
func (c Lights) String() string { return fmt.Sprintf("LIGHTS #%02x%02x%02x", c.R, c.G, c.B) }

// String implements Command: "VIEW epoch 3: retire 5, replacement 9".
func (c View) String() string {
	return fmt.Sprintf("VIEW epoch %d: retire %d, replacement %d", c.Epoch, c.Retired, c.Replacement)
}

// String implements Command: "ACTIVATE epoch 3 at 12.500s".
func (c Activate) String() string {
	return fmt.Sprintf("ACTIVATE epoch %d at %s", c.Epoch, Seconds(c.At))
}

// Seconds formats a time in ns as seconds with millisecond precision,
// "12.500s", truncating toward zero; it is exact, with no floating point.
func Seconds(ns int64) string {
	sign := ""
	u := uint64(ns)
	if ns < 0 {
		sign, u = "-", -u
	}
	return fmt.Sprintf("%s%d.%03ds", sign, u/1e9, u%1e9/1e6)
}
