package dronecli

import (
	"fmt"
	"io"
	"runtime"
	"runtime/debug"
)

// Stamped at build time through SetBuild, from cmd/drone's variables:
//
//	go build -ldflags "-X main.version=v1.2.0 -X main.commit=$(git rev-parse HEAD) -X main.date=$(date -u +%FT%TZ)" ./cmd/drone
//
// (the Makefile's drone targets do this). Left empty, they come from the
// build information Go records (the module version, vcs.revision and
// vcs.time).
var (
	version string
	commit  string
	date    string
)

// SetBuild stamps the version, commit and build date that `drone version`
// prints; empty values are left to Go's build information.
func SetBuild(v, c, d string) { version, commit, date = v, c, d }

// buildInfo is what `drone version` prints.
type buildInfo struct {
	Version, Commit, Date string
	Modified              bool
	GoVersion, Platform   string
}

// goBuildInfo is debug.ReadBuildInfo (a variable for tests).
var goBuildInfo = debug.ReadBuildInfo

// readBuildInfo merges the stamped values with Go's build information.
func readBuildInfo() buildInfo {
	b := buildInfo{Version: version, Commit: commit, Date: date, GoVersion: runtime.Version(), Platform: runtime.GOOS + "/" + runtime.GOARCH}
	if bi, ok := goBuildInfo(); ok {
		if b.Version == "" && bi.Main.Version != "" {
			b.Version = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if b.Commit == "" {
					b.Commit = s.Value
				}
			case "vcs.time":
				if b.Date == "" {
					b.Date = s.Value
				}
			case "vcs.modified":
				b.Modified = b.Modified || (s.Value == "true" && commit == "")
			}
		}
	}
	if b.Version == "" {
		b.Version = "(devel)"
	}
	if b.Commit == "" {
		b.Commit = "unknown"
	}
	if b.Date == "" {
		b.Date = "unknown"
	}
	return b
}

func (b buildInfo) String() string {
	c := b.Commit
	if b.Modified {
		c += " (modified)"
	}
	return fmt.Sprintf("drone %s\ncommit %s\nbuilt %s\n%s %s\n", b.Version, c, b.Date, b.GoVersion, b.Platform)
}

const versionUsage = `Usage: drone version

Prints the version, the commit and the build date (stamped at build time,
or else taken from the build information Go records), and the Go version
and platform.
`

func runVersion(args []string, stdout, stderr io.Writer) int {
	c := newCommand("version", versionUsage, stdout, stderr)
	if code, ok := c.parse(args); !ok {
		return code
	}
	fmt.Fprint(stdout, readBuildInfo())
	return exitOK
}
