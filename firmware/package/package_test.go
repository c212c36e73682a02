package packaging

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"github.com/skyquorum/skyquorum/firmware/config"
)

const csvRoster = `# the test swarm
id,host,user,network,radio,radio_baud,fc,fc_baud
1,10.0.0.11,pi,,/dev/ttyUSB0,57600,/dev/serial0,921600
2,10.0.0.12:2222,,0,/dev/ttyUSB0,,/dev/serial0,
251,10.0.1.11,pi,1,/dev/ttyAMA0,115200,/dev/serial0,921600
`

func TestRosterCSV(t *testing.T) {
	ro, err := ParseCSV("roster.csv", []byte(csvRoster))
	if err != nil {
		t.Fatal(err)
	}
	if len(ro.Drones) != 3 {
		t.Fatalf("%d drones, want 3", len(ro.Drones))
	}
	d := ro.Drones[1]
	if d.ID != 2 || d.User != "root" || d.Addr() != "10.0.0.12:2222" || ro.Drones[0].Addr() != "10.0.0.11:22" || d.Row != "row 4" {
		t.Errorf("drone 2 = %+v (addr %s)", d, d.Addr())
	}
	if ro.Drones[2].Network != 1 {
		t.Errorf("drone 251 network %d, want 1", ro.Drones[2].Network)
	}
	b, err := ro.Config(d)
	if err != nil {
		t.Fatal(err)
	}
	c, err := config.Parse(b, "drone.yaml")
	if err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if c.ID != 2 || len(c.Members) != 2 || c.Members[0] != 1 || c.Members[1] != 2 || c.Radio.Baud != config.DefaultRadioBaud ||
		c.FlightController.Baud != config.DefaultFCBaud || c.KeyFile != CredentialPath() || c.StateDir != DefaultLayout.StateDir {
		t.Errorf("config of drone 2: %+v", c)
	}
	dir := t.TempDir()
	if err := ro.WriteConfigs(dir); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"1", "2", "251"} {
		c, err := config.Load(filepath.Join(dir, "drone-"+id+".yaml"))
		if err != nil {
			t.Fatal(err)
		}
		if c.ID == 251 && (len(c.Members) != 1 || c.Network != 1 || c.Radio.Baud != 115200) {
			t.Errorf("drone 251: %+v", c)
		}
	}
}

func TestRosterYAML(t *testing.T) {
	const y = `drones:
  - id: 1
    host: drone1.local
    user: pi
    radio: /dev/ttyUSB0
    fc: /dev/serial0
  - {id: 2, host: drone2.local, radio: /dev/ttyUSB0, fc: /dev/serial0, fc_baud: 115200}
`
	ro, err := ParseYAML("roster.yaml", []byte(y))
	if err != nil {
		t.Fatal(err)
	}
	if len(ro.Drones) != 2 || ro.Drones[1].FCBaud != 115200 || ro.Drones[1].Row != "line 7" || ro.Drones[0].User != "pi" {
		t.Errorf("drones %+v", ro.Drones)
	}
}

// Every problem is reported, each naming its row, its drone and the field.
func TestRosterErrors(t *testing.T) {
	for _, tc := range []struct {
		name, roster string
		want         []string
	}{
		{"csv", `id,host,user,network,radio,radio_baud,fc,fc_baud
1,a,pi,,/dev/ttyUSB0,57000,/dev/serial0,
1,b,pi,,/dev/ttyUSB0,,/dev/serial0,
3,a,pi,,,,/dev/serial0,
4,d,pi,2,/dev/ttyUSB0,,/dev/serial0,
x,e,pi,,/dev/ttyUSB0,,/dev/serial0,
`, []string{
			"roster.csv: row 2 (drone 1): radio_baud: 57000",
			"roster.csv: row 3 (drone 1): id: also the ID of row 2",
			"roster.csv: row 4 (drone 3): radio: missing",
			"roster.csv: row 5 (drone 4): network:",
			`roster.csv: row 6: id: "x" is not a vehicle ID`,
		}},
		{"csv-header", "id,host,colour\n1,a,red\n", []string{`roster.csv: header: unknown column "colour"`}},
		{"yaml", "- id: 1\n  host: a\n  radio: /dev/ttyUSB0\n  fc: /dev/serial0\n  fc_baud: fast\n- id: 2\n  hots: b\n",
			[]string{`roster.yaml: line 1 (drone 1): fc_baud: "fast" is not a number`, "roster.yaml: line 6: hots: unknown field", "roster.yaml: line 6 (drone 2): host: missing"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			if strings.HasPrefix(tc.name, "csv") {
				_, err = ParseCSV("roster.csv", []byte(tc.roster))
			} else {
				_, err = ParseYAML("roster.yaml", []byte(tc.roster))
			}
			if err == nil {
				t.Fatal("no error")
			}
			last := -1
			for _, w := range tc.want {
				i := strings.Index(err.Error(), w)
				if i < 0 {
					t.Errorf("error does not contain %q:\n%v", w, err)
				} else if i < last {
					t.Errorf("%q out of row order:\n%v", w, err)
				}
				last = i
			}
			if strings.Contains(err.Error(), "members") {
				t.Errorf("a duplicate ID reported as a duplicate member too:\n%v", err)
			}
		})
	}
	_, err := ParseCSV("roster.csv", []byte("id,host,user,network,radio,radio_baud,fc,fc_baud\n1,a,pi,,/dev/ttyUSB0,57000,/dev/serial0,\n"))
	if err == nil || strings.Count(err.Error(), "\n") != 0 {
		t.Errorf("one problem, one line: %v", err)
	}
}

func TestTargetOf(t *testing.T) {
	for m, want := range map[string]Target{"armv6l": ARMv6, "armv7l": ARMv7, "aarch64": ARM64, "x86_64\n": AMD64} {
		got, err := TargetOf(m)
		if err != nil || got != want {
			t.Errorf("TargetOf(%q) = %v, %v; want %v", m, got, err, want)
		}
	}
	for _, m := range []string{"mips", "i686", "riscv64", ""} {
		if _, err := TargetOf(m); err == nil || !strings.Contains(err.Error(), "is not one the drone program is built for") {
			t.Errorf("TargetOf(%q): %v", m, err)
		}
	}
}

// requireTool returns the path of name, skipping the test outside CI when
// it is missing and failing under CI.
func requireTool(t *testing.T, name, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err == nil {
		return p
	}
	if os.Getenv("CI") != "" {
		t.Fatalf("%s is required under CI: %s", name, install)
	}
	t.Skipf("%s not installed (%s); CI runs this test", name, install)
	return ""
}

// systemd accepts the unit: systemd-analyze verify finds no problem in it
// (its ExecStart binary present, as on a drone) nor in the sysusers entry.
func TestUnitVerifies(t *testing.T) {
	analyze := requireTool(t, "systemd-analyze", "apt-get install systemd")
	dir := t.TempDir()
	l := DefaultLayout
	l.Binary = filepath.Join(dir, "drone")
	if err := os.WriteFile(l.Binary, []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	unit := filepath.Join(dir, ServiceName)
	u := Unit(l)
	if err := os.WriteFile(unit, []byte(u), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(analyze, "verify", unit).CombinedOutput()
	if err != nil || strings.Contains(string(out), ServiceName) {
		t.Fatalf("systemd-analyze verify: %v\n%s\n%s", err, out, u)
	}
	for _, w := range []string{"Restart=on-failure", "User=skyquorum", "SupplementaryGroups=dialout",
		"LoadCredential=swarm.key:/etc/skyquorum/swarm.key", "StateDirectory=skyquorum", "ExecStart=" + l.Binary + " run --config /etc/skyquorum/drone.yaml"} {
		if !strings.Contains(u, w+"\n") {
			t.Errorf("unit lacks %q", w)
		}
	}
	if s := Sysusers(DefaultLayout); !strings.Contains(s, "\nu skyquorum 722 ") {
		t.Errorf("sysusers entry %q", s)
	}
	// systemd-sysusers checks the entry's syntax (--dry-run creates nothing).
	if sysusers, err := exec.LookPath("systemd-sysusers"); err == nil {
		f := filepath.Join(dir, "skyquorum.conf")
		os.WriteFile(f, []byte(Sysusers(DefaultLayout)), 0o644)
		root := t.TempDir()
		os.MkdirAll(filepath.Join(root, "etc"), 0o755)
		if out, err := exec.Command(sysusers, "--root", root, f).CombinedOutput(); err != nil {
			t.Errorf("systemd-sysusers: %v\n%s", err, out)
		} else if b, _ := os.ReadFile(filepath.Join(root, "etc/passwd")); !strings.Contains(string(b), "skyquorum:x:722:722:") {
			t.Errorf("passwd after sysusers: %s", b)
		}
	}
}

// The targets cmd/drone's own test does not build (linux/arm64 and v7)
// build static, stamped and under 10 MB.
func TestBuildTargets(t *testing.T) {
	if testing.Short() {
		t.Skip("cross builds are checked in the full run")
	}
	_, file, _, _ := runtime.Caller(0)
	root := filepath.Join(filepath.Dir(file), "..", "..")
	b := &Builder{Dir: root, CacheDir: t.TempDir(), Stamp: Stamp{Version: "v9.9.9-test", Commit: "abc123", Date: "2026-12-06T00:00:00Z"}}
	for _, tg := range []Target{ARMv6, AMD64} {
		p, err := b.Build(context.Background(), tg)
		if err != nil {
			t.Fatal(err)
		}
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		t.Logf("%s: %d bytes", tg, st.Size())
		if st.Size() > 10<<20 || st.Size() < 1<<20 {
			t.Errorf("%s: %d bytes", tg, st.Size())
		}
		out, err := exec.Command("go", "version", "-m", p).Output()
		if err != nil {
			t.Fatal(err)
		}
		for _, w := range []string{"CGO_ENABLED=0", "GOARCH=" + tg.GOARCH, "-trimpath=true"} {
			if !strings.Contains(string(out), w) {
				t.Errorf("%s: build info lacks %q:\n%s", tg, w, out)
			}
		}
		if tg.GOARM != "" && !strings.Contains(string(out), "GOARM="+tg.GOARM) {
			t.Errorf("%s: build info lacks GOARM=%s", tg, tg.GOARM)
		}
		if tg == AMD64 && runtime.GOARCH == "amd64" && runtime.GOOS == "linux" {
			v, err := exec.Command(p, "version").Output()
			if err != nil || !strings.HasPrefix(string(v), "drone v9.9.9-test\ncommit abc123\nbuilt 2026-12-06T00:00:00Z\n") {
				t.Errorf("drone version: %v\n%s", err, v)
			}
		}
	}
}

// A build of a committed version comes from the cache; a dirty tree's is
// built again.
func TestBuildCache(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		version string
		cached  bool
	}{{"v1.0.0", true}, {"v1.0.0-3-gabcdef0", true}, {"v1.0.0-dirty", false}, {"devel", false}} {
		b := &Builder{Dir: dir, CacheDir: dir, Stamp: Stamp{Version: tc.version}, Go: "/nonexistent/go"}
		p := filepath.Join(dir, tc.version, ARM64.Name(), "drone")
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, []byte("cached"), 0o755)
		got, err := b.Build(context.Background(), ARM64)
		if tc.cached && (err != nil || got != p) {
			t.Errorf("%s: %q, %v; want the cached %s", tc.version, got, err, p)
		}
		if !tc.cached && err == nil {
			t.Errorf("%s: the cached build was taken", tc.version)
		}
	}
}

func TestParseTarget(t *testing.T) {
	for in, want := range map[string]Target{
		"arm64": ARM64, "linux-arm64": ARM64, "aarch64": ARM64, "armv7": ARMv7, "linux-armv7": ARMv7, "armv7l": ARMv7,
		"armv6": ARMv6, "armv6l": ARMv6, "amd64": AMD64, "x86_64": AMD64,
	} {
		if got, err := ParseTarget(in); err != nil || got != want {
			t.Errorf("ParseTarget(%q) = %v, %v, want %v", in, got, err, want)
		}
	}
	if _, err := ParseTarget("mips"); err == nil || !strings.Contains(err.Error(), `"mips" is not a target`) {
		t.Errorf("ParseTarget(mips): %v", err)
	}
}

// LoadRosterRows keeps the good rows and names each bad one's problems.
func TestLoadRosterRows(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "roster.csv")
	os.WriteFile(p, []byte("id,host,radio,fc,fc_baud\n1,d1,/dev/ttyUSB0,/dev/serial0,921600\n2,d2,/dev/ttyUSB0,/dev/serial0,fast\n3,d3,/dev/ttyUSB0\n4,d4,/dev/ttyUSB0,/dev/serial0,\n"), 0o644)
	ro, bad, err := LoadRosterRows(p)
	if err != nil {
		t.Fatal(err)
	}
	if len(ro.Drones) != 3 || len(bad) != 2 {
		t.Fatalf("%d drones, %d bad rows, want 3 and 2: %v", len(ro.Drones), len(bad), bad)
	}
	if e := bad["row 3"]; e == nil || e.Error() != `roster.csv: row 3 (drone 2): fc_baud: "fast" is not a number` {
		t.Errorf("row 3: %v", e)
	}
	if e := bad["row 4"]; e == nil || e.Error() != "roster.csv: row 4: 3 fields, the header has 5" {
		t.Errorf("row 4: %v", e)
	}
	if _, err := LoadRoster(p); err == nil {
		t.Errorf("LoadRoster accepted bad rows")
	}
	// No good row at all: an error.
	os.WriteFile(p, []byte("id,host,radio,fc\n1,d1,,/dev/serial0\n"), 0o644)
	if _, _, err := LoadRosterRows(p); err == nil || !strings.Contains(err.Error(), "row 2 (drone 1): radio: missing") {
		t.Errorf("no good row: %v", err)
	}
}

// The optional arch column.
func TestRosterArch(t *testing.T) {
	ro, err := ParseCSV("r.csv", []byte("id,host,radio,fc,arch\n1,a,/dev/ttyUSB0,/dev/serial0,armv6\n2,b,/dev/ttyUSB0,/dev/serial0,\n"))
	if err != nil {
		t.Fatal(err)
	}
	if a := ro.Drones[0].Arch; a == nil || *a != ARMv6 || ro.Drones[1].Arch != nil {
		t.Errorf("arch %v, %v, want armv6 and none", ro.Drones[0].Arch, ro.Drones[1].Arch)
	}
	_, err = ParseCSV("r.csv", []byte("id,host,radio,fc,arch\n1,a,/dev/ttyUSB0,/dev/serial0,mips\n"))
	if err == nil || err.Error() != `r.csv: row 2 (drone 1): arch: "mips" is not a processor: arm64, armv7, armv6 or amd64` {
		t.Errorf("arch mips: %v", err)
	}
}
