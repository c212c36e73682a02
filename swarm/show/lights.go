package show

import (
	"encoding/binary"
	"errors"
	"fmt"
	"time"
)

// Program is a drone's light program: the byte-code of Skybrush light
// programs, so that an imported show keeps its programs byte for byte,
// without the instructions that need inputs a show does not have.
//
// The program runs on a clock in milliseconds that starts at 0 when the
// show starts and begins black. Durations are unsigned LEB128 varints in
// units of 20 ms and accumulate, so timing does not drift; colour
// components, grey levels and loop counts are single bytes; addresses are
// varints (byte offsets into the program). A set instruction changes the
// colour at once and holds it for its duration; a fade moves linearly
// from the current colour to its target over its duration.
//
//	code  instruction            operands
//	 0    end
//	 1    nop
//	 2    sleep                  duration
//	 3    wait until             varint: a program-clock time in ms
//	 4    set colour             r, g, b, duration
//	 5    set grey               v, duration
//	 6    set black              duration
//	 7    set white              duration
//	 8    fade to colour         r, g, b, duration
//	 9    fade to grey           v, duration
//	10    fade to black          duration
//	11    fade to white          duration
//	12    loop begin             count (0: for ever)
//	13    loop end
//	14    reset clock            (the program clock restarts at 0 now)
//	18    jump                   address (leaves every open loop)
//
// Codes 16, 17 and 19 (colours from input channels, triggered jumps) need
// inputs a show does not have, 20 and 21 fire pyrotechnics, and 15 is
// unused: Check refuses them with the code's byte offset. The importer
// turns pyrotechnic instructions into nops of the same length, so that
// addresses stay right.
type Program []byte

// Op codes of the light byte-code.
const (
	OpEnd           = 0
	OpNop           = 1
	OpSleep         = 2
	OpWaitUntil     = 3
	OpSetColour     = 4
	OpSetGrey       = 5
	OpSetBlack      = 6
	OpSetWhite      = 7
	OpFadeColour    = 8
	OpFadeGrey      = 9
	OpFadeBlack     = 10
	OpFadeWhite     = 11
	OpLoopBegin     = 12
	OpLoopEnd       = 13
	OpResetClock    = 14
	OpUnused        = 15
	OpSetChannels   = 16
	OpFadeChannels  = 17
	OpJump          = 18
	OpTriggeredJump = 19
	OpSetPyro       = 20
	OpSetPyroAll    = 21
)

var opNames = [...]string{
	"end", "nop", "sleep", "wait until", "set colour", "set grey", "set black", "set white",
	"fade to colour", "fade to grey", "fade to black", "fade to white", "loop begin", "loop end",
	"reset clock", "unused", "set colour from channels", "fade to colour from channels", "jump",
	"triggered jump", "set pyro", "set pyro, all channels",
}

// OpName names a light op code.
func OpName(op byte) string {
	if int(op) < len(opNames) {
		return opNames[op]
	}
	return fmt.Sprintf("unknown op %d", op)
}

// LightUnit is the unit of the program's durations.
const LightUnit = 20 * time.Millisecond

// Limits of the interpreter, which bound what a hostile program costs.
const (
	// MaxLightSteps is the most colour steps that Check lets one drone's
	// program run before its landing: a program that changes colour
	// every 20 ms for 5 hours.
	MaxLightSteps = 1 << 20
	// maxIdle is how many instructions may run without the clock moving:
	// more is a loop without a duration.
	maxIdle = 1 << 16
	// maxLoopDepth is how deeply loops may nest.
	maxLoopDepth = 64
)

// ErrProgram wraps every error of a light program.
var ErrProgram = errors.New("show: bad light program")

// OpError is an instruction that Check refuses: it needs an input or an
// output a show does not have, or it does not exist.
type OpError struct {
	Op     byte
	Offset int
	Reason string
}

func (e *OpError) Error() string {
	return fmt.Sprintf("light program: %s (code %d) at byte %d: %s", OpName(e.Op), e.Op, e.Offset, e.Reason)
}

// Unwrap makes an OpError an ErrProgram.
func (e *OpError) Unwrap() error { return ErrProgram }

// LightStep is one piece of a running program: from Start to End the
// colour goes linearly from From to To (a set has From == To).
type LightStep struct {
	Start, End time.Duration
	From, To   RGB
}

// colourAt returns the step's colour at t, clamped to its times.
func (s LightStep) colourAt(t time.Duration) RGB {
	if t >= s.End || s.From == s.To {
		return s.To
	}
	if t <= s.Start {
		return s.From
	}
	f := float64(t-s.Start) / float64(s.End-s.Start)
	mix := func(a, b uint8) uint8 { return uint8(float64(a) + (float64(b)-float64(a))*f + 0.5) }
	return RGB{mix(s.From.R, s.To.R), mix(s.From.G, s.To.G), mix(s.From.B, s.To.B)}
}

// Check reads the program once from start to end without running it:
// every op code known and flyable, every operand complete, every jump to
// the start of an instruction, loops balanced. A program that passes may
// still fail when run (a loop without a duration); RunStats finds that.
func (p Program) Check() error {
	starts := make(map[int]bool)
	var jumps [][2]int // offset, address
	depth := 0
	for pc := 0; pc < len(p); {
		starts[pc] = true
		at, op := pc, p[pc]
		r := reader{p: p, pc: pc + 1, at: at, op: op}
		switch op {
		case OpEnd, OpNop, OpResetClock:
		case OpSleep, OpSetBlack, OpSetWhite, OpFadeBlack, OpFadeWhite:
			r.duration()
		case OpWaitUntil:
			r.uvarint()
		case OpSetColour, OpFadeColour:
			r.byte()
			r.byte()
			r.byte()
			r.duration()
		case OpSetGrey, OpFadeGrey:
			r.byte()
			r.duration()
		case OpLoopBegin:
			r.byte()
			if depth++; depth > maxLoopDepth {
				r.fail("loops nested deeper than %d", maxLoopDepth)
			}
		case OpLoopEnd:
			if depth--; depth < 0 {
				r.fail("loop end without loop begin")
			}
		case OpJump:
			if a := r.uvarint(); r.err == nil {
				jumps = append(jumps, [2]int{at, int(min(a, uint64(len(p))))})
			}
		default:
			return opError(op, at)
		}
		if r.err != nil {
			return r.err
		}
		pc = r.pc
	}
	if depth != 0 {
		return fmt.Errorf("%w: %d loops begin and do not end", ErrProgram, depth)
	}
	for _, j := range jumps {
		if !starts[j[1]] {
			return &OpError{Op: OpJump, Offset: j[0], Reason: fmt.Sprintf("jump to byte %d, which does not start an instruction", j[1])}
		}
	}
	return nil
}

func opError(op byte, at int) error {
	switch op {
	case OpSetChannels, OpFadeChannels, OpTriggeredJump:
		return &OpError{Op: op, Offset: at, Reason: "needs input channels a show does not have"}
	case OpSetPyro, OpSetPyroAll:
		return &OpError{Op: op, Offset: at, Reason: "pyrotechnics are not flown (import turns them into nops)"}
	}
	return &OpError{Op: op, Offset: at, Reason: "no such instruction"}
}

// Stats is what running a program up to a horizon found.
type Stats struct {
	// Steps is how many colour steps it ran.
	Steps int
	// End is when its last step ends, or the horizon if it still ran
	// there.
	End time.Duration
	// Truncated: the program still ran at the horizon. Endless: it was
	// then in a loop for ever or had jumped, so it stops with the show.
	Truncated, Endless bool
}

// Outlasts reports whether a program that ends by itself was still
// running at the horizon: it has steps after it.
func (s Stats) Outlasts() bool { return s.Truncated && !s.Endless }

// RunStats runs the program to show time horizon, storing nothing, and
// reports what it found. It fails like Check, and on a loop without a
// duration or more than maxSteps steps (0: no bound).
func (p Program) RunStats(horizon time.Duration, maxSteps int) (Stats, error) {
	return p.run(horizon, maxSteps, nil)
}

// Steps runs the program to show time horizon and returns its colour
// steps in order, for tools that need the program's timeline (an export
// that samples it). It fails like RunStats.
func (p Program) Steps(horizon time.Duration, maxSteps int) ([]LightStep, error) {
	var out []LightStep
	_, err := p.run(horizon, maxSteps, func(s LightStep) { out = append(out, s) })
	return out, err
}

// run runs the program to horizon, giving each step to each (when not
// nil): what RunStats and Steps share.
func (p Program) run(horizon time.Duration, maxSteps int, each func(LightStep)) (Stats, error) {
	if err := p.Check(); err != nil {
		return Stats{}, err
	}
	vm := lightVM{p: p}
	var st Stats
	for {
		if vm.now > horizon {
			st.Truncated, st.Endless = true, vm.jumped || forever(vm.stack)
			st.End = horizon
			return st, nil
		}
		s, ok, err := vm.next()
		if err != nil {
			return st, err
		}
		if !ok {
			st.End = vm.now
			return st, nil
		}
		if st.Steps++; maxSteps > 0 && st.Steps > maxSteps {
			return st, fmt.Errorf("%w: more than %d colour steps before %v", ErrProgram, maxSteps, horizon)
		}
		if each != nil {
			each(s)
		}
	}
}

// Lights plays a light program: its colour at any show time. It runs the
// program as show time goes on, keeping only the current step, so it is
// cheap for a drone that asks at increasing times; asking for an earlier
// time runs the program again from its start. A Lights is for one
// goroutine.
type Lights struct {
	vm   lightVM
	cur  LightStep
	have bool // cur holds a step
	done bool // the program has ended (or failed): cur is the last
	err  error
}

// NewLights returns a player of p, which should have passed Check.
func NewLights(p Program) *Lights { return &Lights{vm: lightVM{p: p}} }

// Err returns the error that stopped the program early, if any: the
// colour then stays the last one.
func (l *Lights) Err() error { return l.err }

// At returns the colour at show time t: black before the first step, the
// last colour after the program's end.
func (l *Lights) At(t time.Duration) RGB {
	if l.have && t < l.cur.Start {
		*l = Lights{vm: lightVM{p: l.vm.p}}
	}
	for !l.done && (!l.have || t >= l.cur.End) {
		s, ok, err := l.vm.next()
		if err != nil {
			l.err = err
		}
		if !ok || err != nil {
			l.done = true
			break
		}
		l.cur, l.have = s, true
	}
	if !l.have || t < l.cur.Start {
		return RGB{} // before the program's first step
	}
	return l.cur.colourAt(t)
}

// lightVM runs a program one step at a time.
type lightVM struct {
	p      Program
	pc     int
	now    time.Duration // absolute program time
	base   time.Duration // where the program clock's 0 is
	colour RGB
	stack  []loopFrame
	jumped bool
	idle   int
}

// next runs instructions up to the next step that takes time or changes
// the colour, and returns it; false at the end of the program.
func (vm *lightVM) next() (LightStep, bool, error) {
	p := vm.p
	for vm.pc < len(p) {
		at := vm.pc
		op := p[vm.pc]
		r := reader{p: p, pc: vm.pc + 1, at: at, op: op}
		var step LightStep
		emit := false
		prev := vm.colour
		switch op {
		case OpEnd:
			vm.pc = len(p)
			return LightStep{}, false, nil
		case OpNop:
		case OpSleep:
			if d := r.duration(); r.err == nil && d > 0 {
				step, emit = LightStep{vm.now, vm.now + d, vm.colour, vm.colour}, true
			}
		case OpWaitUntil:
			ms := r.uvarint()
			if r.err == nil && ms > uint64(MaxDuration/time.Millisecond) {
				r.fail("wait until %d ms is beyond %v", ms, MaxDuration)
			}
			if target := vm.base + time.Duration(ms)*time.Millisecond; r.err == nil && target > vm.now {
				step, emit = LightStep{vm.now, target, vm.colour, vm.colour}, true
			}
		case OpSetColour, OpSetGrey, OpSetBlack, OpSetWhite, OpFadeColour, OpFadeGrey, OpFadeBlack, OpFadeWhite:
			var target RGB
			switch op {
			case OpSetColour, OpFadeColour:
				target = RGB{r.byte(), r.byte(), r.byte()}
			case OpSetGrey, OpFadeGrey:
				v := r.byte()
				target = RGB{v, v, v}
			case OpSetWhite, OpFadeWhite:
				target = RGB{255, 255, 255}
			}
			d := r.duration()
			from := target
			if op >= OpFadeColour {
				from = vm.colour
			}
			step, emit = LightStep{vm.now, vm.now + d, from, target}, true
			vm.colour = target
		case OpLoopBegin:
			n := r.byte()
			if r.err == nil && len(vm.stack) >= maxLoopDepth {
				r.fail("loops nested deeper than %d", maxLoopDepth)
			}
			if r.err == nil {
				vm.stack = append(vm.stack, loopFrame{body: r.pc, left: int(n)})
			}
		case OpLoopEnd:
			if len(vm.stack) == 0 {
				r.fail("loop end without loop begin")
				break
			}
			top := &vm.stack[len(vm.stack)-1]
			switch {
			case top.left == 0: // for ever
				r.pc = top.body
			case top.left > 1:
				top.left--
				r.pc = top.body
			default:
				vm.stack = vm.stack[:len(vm.stack)-1]
			}
		case OpResetClock:
			vm.base = vm.now
		case OpJump:
			addr := r.uvarint()
			if r.err == nil && addr >= uint64(len(p)) {
				r.fail("jump to byte %d, beyond the program's %d bytes", addr, len(p))
			}
			if r.err == nil {
				// A jump leaves every loop it is in, as Skybrush's
				// own player does.
				r.pc = int(addr)
				vm.stack = vm.stack[:0]
				vm.jumped = true
			}
		default:
			return LightStep{}, false, opError(op, at)
		}
		if r.err != nil {
			return LightStep{}, false, r.err
		}
		vm.pc = r.pc
		if emit && step.End > step.Start {
			vm.now = step.End
			vm.idle = 0
			if vm.now > MaxDuration {
				return LightStep{}, false, &OpError{Op: op, Offset: at, Reason: fmt.Sprintf("the program runs beyond %v", MaxDuration)}
			}
			return step, true, nil
		}
		if vm.idle++; vm.idle > maxIdle {
			return LightStep{}, false, &OpError{Op: op, Offset: at, Reason: fmt.Sprintf("%d instructions ran without time passing: a loop without a duration", maxIdle)}
		}
		if emit && step.From != step.To || emit && vm.colour != prev {
			// A set of no duration: the colour changes now.
			return step, true, nil
		}
	}
	return LightStep{}, false, nil
}

type loopFrame struct {
	body int // where the loop's body starts
	left int // iterations left; 0: for ever
}

func forever(stack []loopFrame) bool {
	for _, f := range stack {
		if f.left == 0 {
			return true
		}
	}
	return false
}

// reader reads one instruction's operands.
type reader struct {
	p   Program
	pc  int
	at  int
	op  byte
	err error
}

func (r *reader) fail(format string, a ...any) {
	if r.err == nil {
		r.err = &OpError{Op: r.op, Offset: r.at, Reason: fmt.Sprintf(format, a...)}
	}
}

func (r *reader) byte() uint8 {
	if r.err != nil {
		return 0
	}
	if r.pc >= len(r.p) {
		r.fail("operand missing: the program ends at byte %d", len(r.p))
		return 0
	}
	b := r.p[r.pc]
	r.pc++
	return b
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.p[r.pc:])
	if n <= 0 {
		r.fail("varint operand at byte %d is truncated or too long", r.pc)
		return 0
	}
	r.pc += n
	return v
}

func (r *reader) duration() time.Duration {
	v := r.uvarint()
	if r.err == nil && v > uint64(MaxDuration/LightUnit) {
		r.fail("duration of %d units is beyond %v", v, MaxDuration)
		return 0
	}
	return time.Duration(v) * LightUnit
}

// Light program builder, for programs written in Go (the demo show, the
// tests): each method appends one instruction.

// Sleep appends a sleep for d (rounded down to 20 ms units).
func (p Program) Sleep(d time.Duration) Program {
	return binary.AppendUvarint(append(p, OpSleep), uint64(d/LightUnit))
}

// Set appends a set colour held for d.
func (p Program) Set(c RGB, d time.Duration) Program {
	return binary.AppendUvarint(append(p, OpSetColour, c.R, c.G, c.B), uint64(d/LightUnit))
}

// Fade appends a fade to c over d.
func (p Program) Fade(c RGB, d time.Duration) Program {
	return binary.AppendUvarint(append(p, OpFadeColour, c.R, c.G, c.B), uint64(d/LightUnit))
}

// WaitUntil appends a wait until program-clock time t (ms resolution).
func (p Program) WaitUntil(t time.Duration) Program {
	return binary.AppendUvarint(append(p, OpWaitUntil), uint64(t/time.Millisecond))
}

// Loop appends a loop that runs body n times (0: for ever).
func (p Program) Loop(n uint8, body Program) Program {
	p = append(p, OpLoopBegin, n)
	p = append(p, body...)
	return append(p, OpLoopEnd)
}

// End appends the end of the program.
func (p Program) End() Program { return append(p, OpEnd) }
