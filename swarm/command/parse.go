package command

import (
	"encoding/hex"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// forms are the expected forms of the operators' commands, for errors.
var forms = [...]string{
	KindLoad:    "LOAD <show> [0x<digest>], e.g. LOAD 7 0x1122334455667788",
	KindArm:     "ARM",
	KindTakeoff: "TAKEOFF <metres>, e.g. TAKEOFF 10 or TAKEOFF 2.5",
	KindStart:   "START <seconds of swarm time>, e.g. START 12.5",
	KindPause:   "PAUSE <seconds of swarm time>, e.g. PAUSE 20",
	KindResume:  "RESUME <seconds of swarm time>, e.g. RESUME 25",
	KindLand:    "LAND",
	KindReturn:  "RETURN",
	KindLights:  "LIGHTS <r> <g> <b> or LIGHTS #rrggbb, e.g. LIGHTS 255 0 128 or LIGHTS #ff0080",
}

// Parse reads an operator's show command: "LOAD 7 0x1122334455667788" (or
// "LOAD 7", digest 0), "ARM", "TAKEOFF 10" (metres, to the nearest cm),
// "START 12.5", "PAUSE 20", "RESUME 25" (seconds of swarm time, to the ns),
// "LAND", "RETURN", "LIGHTS 255 0 128" or "LIGHTS #ff0080". The kind is
// case-insensitive. System commands (VIEW, ACTIVATE) are refused: the
// swarm issues them. Errors wrap ErrSyntax and give the expected form.
func Parse(s string) (Command, error) {
	f := strings.Fields(s)
	if len(f) == 0 {
		return nil, fmt.Errorf("%w: empty command; expected one of %s", ErrSyntax, showKinds())
	}
	k, ok := parseKind(f[0])
	switch {
	case !ok:
		return nil, fmt.Errorf("%w: %q: %s is not a command; expected one of %s", ErrSyntax, s, f[0], showKinds())
	case IsSystem(k):
		return nil, fmt.Errorf("%w: %q: %s is issued by the swarm, not by operators; expected one of %s", ErrSyntax, s, k, showKinds())
	}
	bad := func(format string, args ...any) error {
		return fmt.Errorf("%w: %q: %s; expected %s", ErrSyntax, s, fmt.Sprintf(format, args...), forms[k])
	}
	args := f[1:]
	switch k {
	case KindLoad:
		if len(args) < 1 || len(args) > 2 {
			return nil, bad("wrong number of arguments (%d)", len(args))
		}
		show, err := strconv.ParseUint(args[0], 10, 32)
		if err != nil {
			return nil, bad("show %q is not a number from 0 to %d", args[0], uint32(math.MaxUint32))
		}
		c := Load{Show: uint32(show)}
		if len(args) == 2 {
			h, ok := strings.CutPrefix(strings.ToLower(args[1]), "0x")
			d, err := strconv.ParseUint(h, 16, 64)
			if !ok || err != nil {
				return nil, bad("digest %q is not 0x and 1 to 16 hex digits", args[1])
			}
			c.Digest = d
		}
		return c, nil
	case KindArm, KindLand, KindReturn:
		if len(args) != 0 {
			return nil, bad("wrong number of arguments (%d)", len(args))
		}
		switch k {
		case KindArm:
			return Arm{}, nil
		case KindLand:
			return Land{}, nil
		}
		return Return{}, nil
	case KindTakeoff:
		if len(args) != 1 {
			return nil, bad("wrong number of arguments (%d)", len(args))
		}
		m, err := strconv.ParseFloat(args[0], 64)
		cm := math.Round(m * 100)
		if err != nil || math.IsNaN(m) || cm < 1 || cm > math.MaxUint16 {
			return nil, bad("altitude %q is not a number of metres from 0.01 to 655.35", args[0])
		}
		return Takeoff{AltitudeCM: uint16(cm)}, nil
	case KindStart, KindPause, KindResume:
		if len(args) != 1 {
			return nil, bad("wrong number of arguments (%d)", len(args))
		}
		at, err := parseSeconds(args[0])
		if err != nil {
			return nil, bad("time %q: %v", args[0], err)
		}
		switch k {
		case KindStart:
			return Start{At: at}, nil
		case KindPause:
			return Pause{At: at}, nil
		}
		return Resume{At: at}, nil
	case KindLights:
		switch len(args) {
		case 1:
			h, ok := strings.CutPrefix(args[0], "#")
			rgb, err := hex.DecodeString(h)
			if !ok || err != nil || len(rgb) != 3 {
				return nil, bad("colour %q is not # and 6 hex digits", args[0])
			}
			return Lights{R: rgb[0], G: rgb[1], B: rgb[2]}, nil
		case 3:
			var rgb [3]uint8
			for i, a := range args {
				v, err := strconv.ParseUint(a, 10, 8)
				if err != nil {
					return nil, bad("%q is not a number from 0 to 255", a)
				}
				rgb[i] = uint8(v)
			}
			return Lights{R: rgb[0], G: rgb[1], B: rgb[2]}, nil
		}
		return nil, bad("wrong number of arguments (%d)", len(args))
	}
	panic("unreachable")
}

func parseKind(s string) (Kind, bool) {
	s = strings.ToUpper(s)
	for k := KindLoad; k <= KindActivate; k++ {
		if kindNames[k] == s {
			return k, true
		}
	}
	return 0, false
}

func showKinds() string {
	var names []string
	for k := KindLoad; k <= KindActivate; k++ {
		if !IsSystem(k) {
			names = append(names, k.String())
		}
	}
	return strings.Join(names, ", ")
}

// maxSeconds is the most whole seconds that fit int64 ns with any
// fraction.
const maxSeconds = math.MaxInt64/1_000_000_000 - 1

// parseSeconds reads decimal seconds, not negative, to the nanosecond,
// exactly: "12.5" is 12_500_000_000 however floating point would round it.
func parseSeconds(s string) (int64, error) {
	whole, frac, _ := strings.Cut(s, ".")
	if whole+frac == "" || !digits(whole) || !digits(frac) {
		return 0, fmt.Errorf("not a number of seconds (digits, an optional decimal point, no sign)")
	}
	if len(frac) > 9 {
		return 0, fmt.Errorf("more than 9 decimals; swarm time counts ns")
	}
	w := uint64(0)
	if whole != "" {
		var err error
		if w, err = strconv.ParseUint(whole, 10, 64); err != nil || w > maxSeconds {
			return 0, fmt.Errorf("more than %d seconds", uint64(maxSeconds))
		}
	}
	n := uint64(0)
	if frac != "" {
		n, _ = strconv.ParseUint(frac+strings.Repeat("0", 9-len(frac)), 10, 64)
	}
	return int64(w*1e9 + n), nil
}

func digits(s string) bool {
	for _, r := range s {
		if r < '0' || r > '9' {
			return false
		}
	}
	return true
}
