package show

import (
	"fmt"
	"time"
)

// Steps runs the program to show time horizon and returns its colour
// steps in order, for tools that need the program's timeline (an export
// that samples it). It fails like RunStats, and beyond maxSteps steps
// (0: no bound).
func (p Program) Steps(horizon time.Duration, maxSteps int) ([]LightStep, error) {
	if err := p.Check(); err != nil {
		return nil, err
	}
	vm := lightVM{p: p}
	var out []LightStep
	for vm.now <= horizon {
		s, ok, err := vm.next()
		if err != nil {
			return out, err
		}
		if !ok {
			break
		}
		if maxSteps > 0 && len(out) >= maxSteps {
			return out, fmt.Errorf("%w: more than %d colour steps before %v", ErrProgram, maxSteps, horizon)
		}
		out = append(out, s)
	}
	return out, nil
}
