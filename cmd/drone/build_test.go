package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// The drone program builds for the companion computers it runs on: static
// linux/arm64 and linux/arm v7 (32-bit, where int is 32 bits wide).
func TestCrossBuild(t *testing.T) {
	if testing.Short() {
		t.Skip("cross builds are checked in the full run")
	}
	for _, target := range []struct{ arch, arm string }{{"arm64", ""}, {"arm", "7"}} {
		cmd := exec.Command("go", "build", "-o", filepath.Join(t.TempDir(), "drone"), ".")
		cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+target.arch, "GOARM="+target.arm, "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("GOOS=linux GOARCH=%s GOARM=%s: %v\n%s", target.arch, target.arm, err, out)
		}
	}
}
