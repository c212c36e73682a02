// Package ptypair makes a pair of connected pseudo-terminals with socat
// (Debian package socat), which a serial link opens like a radio's serial
// port, for the radio packages' end-to-end tests.
package ptypair

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// Require returns the path of program name, or skips the test when it is
// missing; under CI (CI set) a missing program fails the test instead, so
// that CI never passes by skipping.
func Require(t testing.TB, name, install string) string {
	t.Helper()
	path, err := exec.LookPath(name)
	if err == nil {
		return path
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required under CI: %s", name, install)
	}
	t.Skipf("%s not installed (%s); CI runs this test", name, install)
	return ""
}

// Pair is a running socat joining two pseudo-terminals.
type Pair struct {
	// A and B are the device paths (symbolic links to /dev/pts/N).
	A, B string
	t    testing.TB
	cmd  *exec.Cmd
}

// Start runs socat with devices dir/a and dir/b and waits until both
// exist. The pair is stopped when the test ends.
func Start(t testing.TB, dir string) *Pair {
	t.Helper()
	socat := Require(t, "socat", "apt-get install -y socat")
	p := &Pair{A: filepath.Join(dir, "a"), B: filepath.Join(dir, "b"), t: t}
	p.cmd = exec.Command(socat, "pty,raw,echo=0,link="+p.A, "pty,raw,echo=0,link="+p.B)
	if err := p.cmd.Start(); err != nil {
		t.Fatalf("start socat: %v", err)
	}
	t.Cleanup(p.Stop)
	deadline := time.Now().Add(10 * time.Second)
	for {
		_, errA := os.Stat(p.A)
		_, errB := os.Stat(p.B)
		if errA == nil && errB == nil {
			return p
		}
		if time.Now().After(deadline) {
			t.Fatalf("socat did not create %s and %s", p.A, p.B)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// Stop ends socat: both devices vanish, as a USB radio pulled out.
func (p *Pair) Stop() {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	_ = p.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = p.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		_ = p.cmd.Process.Kill()
		<-done
	}
	p.cmd = nil
	// socat removes its links on a clean exit; make sure.
	_ = os.Remove(p.A)
	_ = os.Remove(p.B)
}
