package live

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// Proc is one simulated drone's process.
type Proc struct {
	// ID is the drone's vehicle ID.
	ID uint16
	// Network is the radio network it flies in (0-based).
	Network uint8
	// Offset and Drift are the clock error it was given: its clock read
	// Offset ahead of the real time at its start and runs Drift parts per
	// million fast.
	Offset time.Duration
	Drift  float64
	// ShowDrone is the show's drone (from 1) whose part it flies: the
	// drones are numbered across the networks in ID order.
	ShowDrone int
	// State is its state directory; Log its log file (JSON lines);
	// Journal its journal (JSON lines: clock readings, swarm time,
	// leader, applied commands, held cells; ReadJournal).
	State, Log, Journal string

	args []string

	mu      sync.Mutex
	cmd     *exec.Cmd
	started time.Time
	done    chan struct{}
	exit    error
	cpu     time.Duration // user and system CPU of the processes that ended
	starts  int
}

// start runs the process (again, after a kill): its log is appended to.
func (p *Proc) start(argv []string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil && p.done != nil {
		select {
		case <-p.done:
		default:
			return fmt.Errorf("live: drone %d is running", p.ID)
		}
	}
	logf, err := os.OpenFile(p.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("live: drone %d log: %w", p.ID, err)
	}
	cmd := exec.Command(argv[0], append(append([]string(nil), argv[1:]...), p.args...)...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{
		// Its own process group: a Ctrl-C at the terminal reaches the
		// ground station, which stops the drones in order.
		Setpgid: true,
		// Killed with the ground station, whatever kills it.
		Pdeathsig: syscall.SIGKILL,
	}
	if err := cmd.Start(); err != nil {
		logf.Close()
		return fmt.Errorf("live: start drone %d (%s): %w", p.ID, argv[0], err)
	}
	p.cmd, p.started, p.done, p.exit = cmd, time.Now(), make(chan struct{}), nil
	p.starts++
	done := p.done
	go func() {
		err := cmd.Wait()
		logf.Close()
		p.mu.Lock()
		p.exit = err
		if st := cmd.ProcessState; st != nil {
			p.cpu += st.UserTime() + st.SystemTime()
		}
		p.mu.Unlock()
		close(done)
	}()
	return nil
}

// Pid is the running process's ID, 0 when none runs.
func (p *Proc) Pid() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.cmd.Process == nil || p.exited() {
		return 0
	}
	return p.cmd.Process.Pid
}

func (p *Proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// Running reports whether the process runs.
func (p *Proc) Running() bool { return p.Pid() != 0 }

// CPU is the user and system CPU time of the drone's processes that have
// ended.
func (p *Proc) CPU() time.Duration {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.cpu
}

// Exit is the last process's exit error (nil for status 0, or while it
// runs).
func (p *Proc) Exit() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.exit
}

// signal sends sig to the running process; false when none runs.
func (p *Proc) signal(sig syscall.Signal) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil || p.exited() {
		return false
	}
	return p.cmd.Process.Signal(sig) == nil
}

// wait waits for the running process to end, or for ctx.
func (p *Proc) wait(ctx context.Context) error {
	p.mu.Lock()
	done := p.done
	p.mu.Unlock()
	if done == nil {
		return nil
	}
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// stop asks the process to stop (SIGTERM), and kills it (SIGKILL) when it
// has not stopped within grace.
func (p *Proc) stop(grace time.Duration) error {
	if !p.signal(syscall.SIGTERM) {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if p.wait(ctx) == nil {
		return nil
	}
	p.signal(syscall.SIGKILL)
	_ = p.wait(context.Background())
	return fmt.Errorf("live: drone %d did not stop within %v of SIGTERM; killed", p.ID, grace)
}

// procArgs are a drone's command-line arguments after the program.
func procArgs(p *Proc, hubAddr, key, showFile, members string) []string {
	return []string{"sitl",
		"--id", strconv.Itoa(int(p.ID)),
		"--hub", hubAddr,
		"--key", key,
		"--members", members,
		"--show", showFile,
		"--show-drone", strconv.Itoa(p.ShowDrone),
		"--state", p.State,
		"--clock-offset", strconv.FormatFloat(float64(p.Offset)/float64(time.Millisecond), 'f', 3, 64),
		"--clock-drift", strconv.FormatFloat(p.Drift, 'f', 3, 64),
		"--log-format", "json",
		"--journal", p.Journal,
		"--control", "127.0.0.1:0",
	}
}

// errStopped joins the errors of stopping several processes.
func stopAll(procs []*Proc, grace time.Duration) error {
	var wg sync.WaitGroup
	errs := make([]error, len(procs))
	for i, p := range procs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = p.stop(grace)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// dirOf makes dir/name.
func dirOf(dir, name string) (string, error) {
	p := filepath.Join(dir, name)
	if err := os.MkdirAll(p, 0o700); err != nil {
		return "", fmt.Errorf("live: %w", err)
	}
	return p, nil
}
