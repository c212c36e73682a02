// Package packaging turns the drone program into what a companion computer
// installs: static cross builds of cmd/drone stamped with their version,
// the systemd unit and sysusers.d entry that run it, and one config file
// per drone written from a roster (docs/flash.md). groundstation flash
// installs them over SSH.
package packaging

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
)

// Target is a platform the drone program is built for.
type Target struct {
	// GOARCH is arm64, arm or amd64 (GOOS is always linux).
	GOARCH string
	// GOARM is 6 or 7 for arm, empty otherwise.
	GOARM string
}

// The targets a drone can be, by its kernel's machine name (uname -m).
var (
	ARM64 = Target{GOARCH: "arm64"}
	ARMv7 = Target{GOARCH: "arm", GOARM: "7"}
	ARMv6 = Target{GOARCH: "arm", GOARM: "6"}
	AMD64 = Target{GOARCH: "amd64"}
	// Targets lists them all.
	Targets = []Target{ARM64, ARMv7, ARMv6, AMD64}
)

// Name is the target's directory name: linux-arm64, linux-armv7,
// linux-armv6 or linux-amd64.
func (t Target) Name() string {
	if t.GOARCH == "arm" {
		return "linux-armv" + t.GOARM
	}
	return "linux-" + t.GOARCH
}

func (t Target) String() string { return t.Name() }

// TargetOf is the target for a kernel's machine name, as uname -m prints
// it: armv6l, armv7l, aarch64 (or arm64) and x86_64. Anything else is
// refused.
func TargetOf(machine string) (Target, error) {
	switch strings.TrimSpace(machine) {
	case "armv6l":
		return ARMv6, nil
	case "armv7l", "armv8l":
		return ARMv7, nil
	case "aarch64", "arm64":
		return ARM64, nil
	case "x86_64", "amd64":
		return AMD64, nil
	}
	return Target{}, fmt.Errorf("packaging: machine %q is not one the drone program is built for (armv6l, armv7l, aarch64, x86_64)", strings.TrimSpace(machine))
}

// Stamp is what `drone version` prints of a build.
type Stamp struct {
	Version, Commit, Date string
}

// StampOf reads the stamp of the source tree at dir from git: the version
// as `git describe --tags --always --dirty` gives it, the commit, and the
// commit's date (UTC) as the build date, so that one commit always builds
// the same binary and flashing it again changes nothing. A tree without
// git gives version "devel".
func StampOf(ctx context.Context, dir string) Stamp {
	git := func(args ...string) string {
		cmd := exec.CommandContext(ctx, "git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "TZ=UTC")
		out, err := cmd.Output()
		if err != nil {
			return ""
		}
		return strings.TrimSpace(string(out))
	}
	s := Stamp{
		Version: git("describe", "--tags", "--always", "--dirty"),
		Commit:  git("rev-parse", "HEAD"),
		Date:    git("log", "-1", "--format=%cd", "--date=format-local:%Y-%m-%dT%H:%M:%SZ"),
	}
	if s.Version == "" {
		s.Version = "devel"
	}
	return s
}

// Reusable reports whether a build stamped s can be taken from the cache
// instead of built again: its version names a commit (not "devel"), without
// uncommitted changes (no "-dirty" suffix).
func (s Stamp) Reusable() bool {
	return s.Version != "" && s.Version != "devel" && !strings.HasSuffix(s.Version, "-dirty")
}

// Builder cross-builds cmd/drone of the source tree at Dir into CacheDir,
// each target once however many drones need it, and not again for a
// version already in the cache (Stamp.Reusable).
type Builder struct {
	// Dir is the module's root (where go.mod is).
	Dir string
	// CacheDir receives the binaries, CacheDir/VERSION/TARGET/drone.
	CacheDir string
	// Stamp is stamped into every build.
	Stamp Stamp
	// Go is the go command (default "go").
	Go string

	mu    sync.Mutex
	built map[Target]*build
}

type build struct {
	once sync.Once
	path string
	err  error
}

// LDFlags are the linker flags that strip the binary and stamp s
// (cmd/drone's main.version, main.commit and main.date).
func LDFlags(s Stamp) string {
	return fmt.Sprintf("-s -w -X main.version=%s -X main.commit=%s -X main.date=%s", s.Version, s.Commit, s.Date)
}

// Build returns the path of the drone program built for t: static
// (CGO_ENABLED=0), -trimpath, stripped and stamped. Concurrent calls for
// one target share one build; a failed build is not retried.
func (b *Builder) Build(ctx context.Context, t Target) (string, error) {
	b.mu.Lock()
	if b.built == nil {
		b.built = map[Target]*build{}
	}
	bd := b.built[t]
	if bd == nil {
		bd = &build{}
		b.built[t] = bd
	}
	b.mu.Unlock()
	bd.once.Do(func() { bd.path, bd.err = b.build(ctx, t) })
	return bd.path, bd.err
}

func (b *Builder) build(ctx context.Context, t Target) (string, error) {
	for _, f := range []string{b.Stamp.Version, b.Stamp.Commit, b.Stamp.Date} {
		if strings.ContainsAny(f, " \t\n'\"") {
			return "", fmt.Errorf("packaging: stamp %q has a space or a quote", f)
		}
	}
	out := filepath.Join(b.CacheDir, safeName(b.Stamp.Version), t.Name(), "drone")
	if b.Stamp.Reusable() {
		if st, err := os.Stat(out); err == nil && st.Mode().IsRegular() {
			return out, nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
		return "", fmt.Errorf("packaging: %w", err)
	}
	goCmd := b.Go
	if goCmd == "" {
		goCmd = "go"
	}
	// Build beside the result and rename, so that an interrupted build
	// never leaves a half binary under the final name.
	tmp := out + ".tmp"
	cmd := exec.CommandContext(ctx, goCmd, "build", "-trimpath", "-ldflags", LDFlags(b.Stamp), "-o", tmp, "./cmd/drone")
	cmd.Dir = b.Dir
	cmd.Env = append(os.Environ(), "GOOS=linux", "GOARCH="+t.GOARCH, "GOARM="+t.GOARM, "CGO_ENABLED=0")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		os.Remove(tmp)
		return "", fmt.Errorf("packaging: go build for %s: %w\n%s", t, err, strings.TrimSpace(stderr.String()))
	}
	if err := os.Rename(tmp, out); err != nil {
		return "", fmt.Errorf("packaging: %w", err)
	}
	return out, nil
}

// safeName makes a version usable as a directory name.
func safeName(s string) string {
	return strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == 0 {
			return '_'
		}
		return r
	}, s)
}

// ParseTarget reads a target as an operator gives it: its name (arm64,
// armv7, armv6, amd64, with or without linux-) or a kernel's machine
// name (armv6l, armv7l, aarch64, x86_64).
func ParseTarget(s string) (Target, error) {
	n := strings.TrimPrefix(strings.ToLower(strings.TrimSpace(s)), "linux-")
	switch n {
	case "arm64":
		return ARM64, nil
	case "armv7", "arm":
		return ARMv7, nil
	case "armv6":
		return ARMv6, nil
	case "amd64":
		return AMD64, nil
	}
	if t, err := TargetOf(n); err == nil {
		return t, nil
	}
	return Target{}, fmt.Errorf("packaging: %q is not a target: arm64, armv7, armv6 or amd64 (or aarch64, armv7l, armv6l, x86_64)", s)
}
