package dronecli

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/skyquorum/skyquorum/firmware/runner"
)

// The armed file follows the flight controller: present while armed or
// airborne, kept while it is silent, gone when disarmed and at exit.
func TestMarkArmed(t *testing.T) {
	path := filepath.Join(t.TempDir(), ArmedFile)
	var mu sync.Mutex
	st := runner.VehicleState{}
	set := func(s runner.VehicleState) { mu.Lock(); st = s; mu.Unlock() }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		markArmed(ctx, path, func() runner.VehicleState { mu.Lock(); defer mu.Unlock(); return st }, slog.New(slog.NewTextHandler(io.Discard, nil)))
		close(done)
	}()
	waitFor := func(want string) {
		t.Helper()
		for i := 0; i < 200; i++ {
			b, err := os.ReadFile(path)
			got := string(b)
			if err != nil {
				got = "(none)"
			}
			if got == want {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		b, _ := os.ReadFile(path)
		t.Fatalf("armed file %q, want %q", b, want)
	}
	waitFor("(none)")
	set(runner.VehicleState{Armed: true})
	waitFor("armed\n")
	set(runner.VehicleState{Armed: true, Airborne: true})
	waitFor("armed, airborne\n")
	set(runner.VehicleState{Silent: true})
	time.Sleep(3 * armedPeriod)
	waitFor("armed, airborne\n")
	set(runner.VehicleState{})
	waitFor("(none)")
	set(runner.VehicleState{Armed: true})
	waitFor("armed\n")
	cancel()
	<-done
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("armed file left at exit: %v", err)
	}
}
