//go:build unix

package validate

import (
	"syscall"
	"time"
)

// cpuTime is the process's user and system CPU time so far: the
// benchmark reports it beside the wall-clock time, which a busy machine
// stretches.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
