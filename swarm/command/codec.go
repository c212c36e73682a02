package command

import (
	"encoding/binary"
	"fmt"
)

// MaxSize is the length of the longest encoding (LOAD).
const MaxSize = 13

// sizes is the length of each kind's encoding, kind byte included.
var sizes = [...]int{
	KindLoad:     1 + 4 + 8,
	KindArm:      1,
	KindTakeoff:  1 + 2,
	KindStart:    1 + 8,
	KindPause:    1 + 8,
	KindResume:   1 + 8,
	KindLand:     1,
	KindReturn:   1,
	KindLights:   1 + 3,
	KindView:     1 + 2 + 2 + 2,
	KindActivate: 1 + 2 + 8,
}

// Encode returns the bytes of c, to propose as a log entry's data. It
// does not check c: Validate does, and Decode refuses what Validate
// refuses. Encode panics if c is not one of this package's command values,
// which is a programming error.
func Encode(c Command) []byte {
	b := make([]byte, 1, MaxSize)
	switch c := c.(type) {
	case Load:
		b = binary.BigEndian.AppendUint32(b, c.Show)
		b = binary.BigEndian.AppendUint64(b, c.Digest)
	case Arm, Land, Return:
	case Takeoff:
		b = binary.BigEndian.AppendUint16(b, c.AltitudeCM)
	case Start:
		b = binary.BigEndian.AppendUint64(b, uint64(c.At))
	case Pause:
		b = binary.BigEndian.AppendUint64(b, uint64(c.At))
	case Resume:
		b = binary.BigEndian.AppendUint64(b, uint64(c.At))
	case Lights:
		b = append(b, c.R, c.G, c.B)
	case View:
		b = binary.BigEndian.AppendUint16(b, c.Epoch)
		b = binary.BigEndian.AppendUint16(b, c.Retired)
		b = binary.BigEndian.AppendUint16(b, c.Replacement)
	case Activate:
		b = binary.BigEndian.AppendUint16(b, c.Epoch)
		b = binary.BigEndian.AppendUint64(b, uint64(c.At))
	default:
		panic(fmt.Sprintf("command: Encode of %T, which is not a command of package command", c))
	}
	b[0] = byte(c.Kind())
	return b
}

// Decode reads the command in a log entry's data. Every error wraps
// ErrMalformed and says what is wrong: empty data, a first byte that is
// not a command kind, a length other than the kind's, or a value that
// Validate refuses.
func Decode(b []byte) (Command, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty data; a command is at least its kind byte", ErrMalformed)
	}
	k := Kind(b[0])
	if !k.valid() {
		return nil, fmt.Errorf("%w: first byte 0x%02x is not a command kind (0x%02x to 0x%02x are); the entry is not a command, or from a newer version",
			ErrMalformed, b[0], uint8(KindLoad), uint8(KindActivate))
	}
	if len(b) != sizes[k] {
		return nil, fmt.Errorf("%w: %s of %d bytes, expected %d", ErrMalformed, k, len(b), sizes[k])
	}
	p := b[1:]
	var c Command
	switch k {
	case KindLoad:
		c = Load{Show: binary.BigEndian.Uint32(p), Digest: binary.BigEndian.Uint64(p[4:])}
	case KindArm:
		c = Arm{}
	case KindTakeoff:
		c = Takeoff{AltitudeCM: binary.BigEndian.Uint16(p)}
	case KindStart:
		c = Start{At: int64(binary.BigEndian.Uint64(p))}
	case KindPause:
		c = Pause{At: int64(binary.BigEndian.Uint64(p))}
	case KindResume:
		c = Resume{At: int64(binary.BigEndian.Uint64(p))}
	case KindLand:
		c = Land{}
	case KindReturn:
		c = Return{}
	case KindLights:
		c = Lights{R: p[0], G: p[1], B: p[2]}
	case KindView:
		c = View{Epoch: binary.BigEndian.Uint16(p), Retired: binary.BigEndian.Uint16(p[2:]), Replacement: binary.BigEndian.Uint16(p[4:])}
	case KindActivate:
		c = Activate{Epoch: binary.BigEndian.Uint16(p), At: int64(binary.BigEndian.Uint64(p[2:]))}
	}
	if err := Validate(c); err != nil {
		return nil, err
	}
	return c, nil
}

// Validate checks the values of c, so that a ground station refuses a
// command before proposing it rather than every drone after. Errors wrap
// ErrMalformed.
func Validate(c Command) error {
	switch c := c.(type) {
	case Load, Arm, Land, Return, Lights:
		return nil
	case Takeoff:
		if c.AltitudeCM == 0 {
			return fmt.Errorf("%w: TAKEOFF to altitude 0; give an altitude of at least 1 cm", ErrMalformed)
		}
	case Start:
		return checkAt(KindStart, c.At)
	case Pause:
		return checkAt(KindPause, c.At)
	case Resume:
		return checkAt(KindResume, c.At)
	case View:
		switch {
		case c.Epoch == 0:
			return fmt.Errorf("%w: VIEW with epoch 0; epochs start at 1", ErrMalformed)
		case c.Retired == 0:
			return fmt.Errorf("%w: VIEW epoch %d retires voter 0; vehicle IDs start at 1", ErrMalformed, c.Epoch)
		case c.Replacement == 0:
			return fmt.Errorf("%w: VIEW epoch %d has replacement 0; vehicle IDs start at 1", ErrMalformed, c.Epoch)
		case c.Retired == c.Replacement:
			return fmt.Errorf("%w: VIEW epoch %d retires and replaces voter %d; the replacement must be another vehicle", ErrMalformed, c.Epoch, c.Retired)
		}
	case Activate:
		if c.Epoch == 0 {
			return fmt.Errorf("%w: ACTIVATE with epoch 0; epochs start at 1", ErrMalformed)
		}
		return checkAt(KindActivate, c.At)
	default:
		return fmt.Errorf("%w: %T is not a command of package command", ErrMalformed, c)
	}
	return nil
}

func checkAt(k Kind, at int64) error {
	if at < 0 {
		return fmt.Errorf("%w: %s at %d ns, before swarm time 0; swarm times are not negative", ErrMalformed, k, at)
	}
	return nil
}
