package main

import (
	"bufio"
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	osuser "os/user"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/knownhosts"

	packaging "github.com/skyquorum/skyquorum/firmware/package"
)

// sshServer is a real OpenSSH server on a loopback port (of 127.0.0.1
// and 127.0.0.2), accepting the client key for the current user.
type sshServer struct {
	addr     string
	hostKey  ssh.PublicKey
	identity string // the client's private key file
}

// startSSHD starts sshd as the current user with a temporary host key
// and authorized_keys; it skips the test outside CI when sshd is missing
// and fails it under CI.
func startSSHD(t *testing.T, extraConfig ...string) *sshServer {
	t.Helper()
	sshd, err := exec.LookPath("sshd")
	if err != nil {
		sshd, err = exec.LookPath("/usr/sbin/sshd")
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("sshd is required under CI: apt-get install openssh-server")
		}
		t.Skip("sshd not installed (apt-get install openssh-server); CI runs this test")
	}
	if runtime.GOOS != "linux" {
		t.Skip("the flash test runs on Linux")
	}
	dir := t.TempDir()
	writeKey := func(name string) ssh.PublicKey {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		blk, err := ssh.MarshalPrivateKey(priv, "")
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(blk), 0o600); err != nil {
			t.Fatal(err)
		}
		sp, err := ssh.NewPublicKey(pub)
		if err != nil {
			t.Fatal(err)
		}
		return sp
	}
	s := &sshServer{hostKey: writeKey("host_ed25519"), identity: filepath.Join(dir, "client")}
	client := writeKey("client")
	if err := os.WriteFile(filepath.Join(dir, "authorized_keys"), ssh.MarshalAuthorizedKey(client), 0o600); err != nil {
		t.Fatal(err)
	}
	// sshd needs its privilege separation directory.
	if os.Geteuid() == 0 {
		os.MkdirAll("/run/sshd", 0o755)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.addr = l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(s.addr)
	conf := filepath.Join(dir, "sshd_config")
	os.WriteFile(conf, []byte(fmt.Sprintf(`Port %s
ListenAddress 127.0.0.1
ListenAddress 127.0.0.2
HostKey %[2]s/host_ed25519
AuthorizedKeysFile %[2]s/authorized_keys
PidFile %[2]s/sshd.pid
StrictModes no
UsePAM no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitRootLogin prohibit-password
MaxStartups 50
LogLevel ERROR
%[3]s
`, port, dir, strings.Join(extraConfig, "\n"))), 0o600)
	var logs bytes.Buffer
	cmd := exec.Command(sshd, "-D", "-e", "-f", conf)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("sshd:\n%s", logs.String())
		}
	})
	for i := 0; ; i++ {
		c, err := net.DialTimeout("tcp", s.addr, time.Second)
		if err == nil {
			c.Close()
			break
		}
		if i == 100 {
			t.Fatalf("sshd did not listen on %s: %v\n%s", s.addr, err, logs.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	return s
}

func fileSum(t *testing.T, p string) string {
	t.Helper()
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func mode(t *testing.T, p string) os.FileMode {
	t.Helper()
	st, err := os.Stat(p)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func countLines(t *testing.T, p string) int {
	b, err := os.ReadFile(p)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	}
	if err != nil {
		t.Fatal(err)
	}
	return strings.Count(string(b), "\n")
}

// Flashing three drones through a real SSH server: the first flash installs
// everything, the second changes nothing, a changed roster row re-uploads
// that drone's config only, an unknown host key is refused without
// --trust-on-first-use, an armed drone is refused and named, and an upload
// cut short leaves the installed binary as it was and running, and a
// rollback puts back the previous binary on the drones listed.
func TestFlashOverSSH(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the drone program; checked in the full run")
	}
	srv := startSSHD(t)
	dir := t.TempDir()
	root := filepath.Join(dir, "drone-{id}")
	knownHosts := filepath.Join(dir, "known_hosts")
	keyFile := filepath.Join(dir, "swarm.key")
	os.WriteFile(keyFile, []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
	_, port, _ := net.SplitHostPort(srv.addr)
	me, err := osuser.Current()
	if err != nil {
		t.Fatal(err)
	}
	user := me.Username
	rosterFile := filepath.Join(dir, "roster.csv")
	writeRoster := func(baud2 int) {
		os.WriteFile(rosterFile, []byte(fmt.Sprintf(`id,host,user,radio,radio_baud,fc,fc_baud
1,127.0.0.1:%[1]s,%[2]s,/dev/ttyUSB0,57600,/dev/serial0,921600
2,localhost:%[1]s,%[2]s,/dev/ttyUSB0,%[3]d,/dev/serial0,921600
3,127.0.0.2:%[1]s,%[2]s,/dev/ttyUSB0,57600,/dev/serial0,921600
`, port, user, baud2)), 0o644)
	}
	writeRoster(57600)
	cache := filepath.Join(dir, "cache")
	flashStamp = &packaging.Stamp{Version: "v0.0.0-flashtest.1", Commit: "1111111", Date: "2026-12-06T00:00:00Z"}
	t.Cleanup(func() { flashStamp = nil })
	drone := func(id int, p string) string { return filepath.Join(dir, fmt.Sprintf("drone-%d", id), p) }
	restarts := func(id int) int { return countLines(t, drone(id, "restarts")) }
	l := packaging.DefaultLayout
	flashRun := func(extra ...string) (int, string) {
		args := append([]string{"flash", "--roster", rosterFile, "--key", keyFile, "--known-hosts", knownHosts,
			"--identity", srv.identity, "--root", root, "--cache", cache, "--parallel", "2",
			"--restart-command", `echo restarted >> "$SKYQUORUM_ROOT/restarts"`,
			"--armed-check", `if [ -e "$SKYQUORUM_ROOT/armed" ]; then echo "armed, motors spinning"; exit 1; fi`}, extra...)
		var out bytes.Buffer
		start := time.Now()
		code := run(args, &out, &out)
		t.Logf("flash %v: exit %d in %v\n%s", extra, code, time.Since(start).Round(time.Millisecond), out.String())
		return code, out.String()
	}

	// An unknown host key is refused without --trust-on-first-use.
	code, out := flashRun()
	if code != exitFail || !strings.Contains(out, "is not in "+knownHosts) || !strings.Contains(out, "--trust-on-first-use") {
		t.Fatalf("unknown host: exit %d, want %d and the host key refused", code, exitFail)
	}
	if _, err := os.Stat(drone(1, l.Binary)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a refused host got files: %v", err)
	}

	// A host key other than the one on file is refused, even with
	// --trust-on-first-use, and the file is left as it was.
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	otherKey, _ := ssh.NewPublicKey(other)
	wrong := knownhosts.Line([]string{"[127.0.0.1]:" + port}, otherKey) + "\n"
	os.WriteFile(knownHosts, []byte(wrong), 0o600)
	code, out = flashRun("--trust-on-first-use")
	if code != exitFail || !strings.Contains(out, "drone 1: FAILED: ssh "+user+"@127.0.0.1:"+port+": ssh: handshake failed: the host key of 127.0.0.1:"+port) ||
		!strings.Contains(out, "is not the one in "+knownHosts) {
		t.Fatalf("changed host key: exit %d, want drone 1 refused", code)
	}
	if b, _ := os.ReadFile(knownHosts); !strings.HasPrefix(string(b), wrong) {
		t.Errorf("known_hosts changed:\n%s", b)
	}
	os.Remove(knownHosts)
	os.RemoveAll(drone(2, ""))
	os.RemoveAll(drone(3, ""))

	// First flash: everything installed, the host keys recorded.
	code, out = flashRun("--trust-on-first-use")
	if code != exitOK {
		t.Fatalf("first flash: exit %d", code)
	}
	for id := 1; id <= 3; id++ {
		for p, want := range map[string]os.FileMode{l.Binary: 0o755, l.Config: 0o644, l.Key: 0o600, l.Unit: 0o644, l.Sysusers: 0o644} {
			if got := mode(t, drone(id, p)); got != want {
				t.Errorf("drone %d: %s mode %o, want %o", id, p, got, want)
			}
		}
		if got := fileSum(t, drone(id, l.Key)); got != fileSum(t, keyFile) {
			t.Errorf("drone %d: key differs", id)
		}
		if b, _ := os.ReadFile(drone(id, l.Unit)); string(b) != packaging.Unit(l) {
			t.Errorf("drone %d: unit\n%s", id, b)
		}
		if b, _ := os.ReadFile(drone(id, l.Config)); !strings.Contains(string(b), fmt.Sprintf("id: %d\n", id)) || !strings.Contains(string(b), "members: [1-3]") {
			t.Errorf("drone %d: config\n%s", id, b)
		}
		if n := restarts(id); n != 1 {
			t.Errorf("drone %d restarted %d times, want 1", id, n)
		}
		if v, err := exec.Command(drone(id, l.Binary), "version").Output(); err != nil || !strings.HasPrefix(string(v), "drone v0.0.0-flashtest.1\ncommit 1111111\n") {
			t.Errorf("drone %d version: %v %q", id, err, v)
		}
	}
	if n := countLines(t, knownHosts); n != 3 {
		t.Errorf("known_hosts has %d lines, want 3 (one per host name)", n)
	}
	if b, _ := os.ReadFile(knownHosts); !strings.Contains(string(b), knownhosts.Line([]string{"[127.0.0.1]:" + port}, srv.hostKey)) {
		t.Errorf("known_hosts:\n%s", b)
	}
	if !strings.Contains(out, "3 drones flashed, 0 failed") {
		t.Errorf("summary missing")
	}
	binSum := fileSum(t, drone(1, l.Binary))
	binInfo, _ := os.Stat(drone(1, l.Binary))

	// Second flash: nothing changes, nothing restarts.
	code, out = flashRun()
	if code != exitOK || strings.Count(out, "every file is up to date") != 3 || strings.Contains(out, "uploading") {
		t.Fatalf("second flash: exit %d, want every file up to date on the three drones", code)
	}
	if restarts(1) != 1 || restarts(2) != 1 || restarts(3) != 1 {
		t.Errorf("restarts %d, %d after an idempotent flash, want 1, 1", restarts(1), restarts(2))
	}
	if st, _ := os.Stat(drone(1, l.Binary)); !st.ModTime().Equal(binInfo.ModTime()) {
		t.Errorf("binary rewritten by an idempotent flash")
	}

	// Drone 2's radio baud changes: its config only is uploaded.
	writeRoster(115200)
	code, out = flashRun()
	if code != exitOK || !strings.Contains(out, "drone 2: uploading config (") || strings.Contains(out, "drone 1: uploading") ||
		strings.Contains(out, "drone 2: uploading binary") {
		t.Fatalf("changed config: exit %d, want drone 2's config alone uploaded", code)
	}
	if b, _ := os.ReadFile(drone(2, l.Config)); !strings.Contains(string(b), "baud: 115200") {
		t.Errorf("drone 2 config not updated:\n%s", b)
	}
	if restarts(1) != 1 || restarts(2) != 2 {
		t.Errorf("restarts %d, %d, want 1, 2", restarts(1), restarts(2))
	}

	// A restart that fails fails the drone, and the next flash, with
	// nothing to upload, restarts it.
	writeRoster(230400)
	code, out = flashRun("--restart-command", "echo no systemd here; exit 3")
	if code != exitFail || !strings.Contains(out, "drone 2: FAILED: restart (echo no systemd here; exit 3): exit status 3: no systemd here") {
		t.Fatalf("failed restart: exit %d, want drone 2 failed in its restart", code)
	}
	if restarts(2) != 2 {
		t.Errorf("drone 2 restarts %d, want 2", restarts(2))
	}
	code, out = flashRun()
	if code != exitOK || !strings.Contains(out, "drone 2: restarting: an earlier flash installed files whose restart failed") ||
		!regexpLine(out, `^2 +localhost:\d+ +linux-amd64 +ok +nothing +yes `) || !regexpLine(out, `^1 +127\.0\.0\.1:\d+ +linux-amd64 +ok +nothing +no `) {
		t.Fatalf("after a failed restart: exit %d, want drone 2 restarted with nothing uploaded", code)
	}
	if restarts(1) != 1 || restarts(2) != 3 {
		t.Errorf("restarts %d, %d, want 1, 3", restarts(1), restarts(2))
	}

	// Drone 1 reports itself armed: refused, named, left alone; drone 2
	// is flashed.
	os.WriteFile(drone(1, "armed"), nil, 0o644)
	writeRoster(57600)
	code, out = flashRun()
	if code != exitFail || !strings.Contains(out, "drone 1: FAILED: refused: the drone reports itself armed or flying (armed, motors spinning)") ||
		!regexpLine(out, `^1 +127\.0\.0\.1:\d+ +linux-amd64 +REFUSED `) || !regexpLine(out, `^2 +localhost:\d+ +linux-amd64 +ok +config `) {
		t.Fatalf("armed drone: exit %d, want drone 1 refused and named", code)
	}
	if restarts(1) != 1 || restarts(2) != 4 {
		t.Errorf("restarts %d, %d, want 1 (the armed drone left alone), 4", restarts(1), restarts(2))
	}
	os.Remove(drone(1, "armed"))

	// A new build whose upload is cut short: the installed binary stays,
	// no temporary file is left, and the drone is reported failed.
	flashStamp = &packaging.Stamp{Version: "v0.0.0-flashtest.2", Commit: "2222222", Date: "2026-12-06T01:00:00Z"}
	uploadReader = func(f remoteFile) io.Reader {
		if f.name == "binary" {
			return io.MultiReader(bytes.NewReader(f.data[:len(f.data)/2]), errReader{})
		}
		return bytes.NewReader(f.data)
	}
	t.Cleanup(func() { uploadReader = func(f remoteFile) io.Reader { return bytes.NewReader(f.data) } })
	code, out = flashRun("--parallel", "1")
	if code != exitFail || strings.Count(out, "FAILED: uploading the binary to") != 3 {
		t.Fatalf("cut upload: exit %d, want the three drones failed in the binary's upload", code)
	}
	for id := 1; id <= 3; id++ {
		if got := fileSum(t, drone(id, l.Binary)); got != binSum {
			t.Errorf("drone %d: the installed binary changed after a cut upload", id)
		}
		if v, err := exec.Command(drone(id, l.Binary), "version").Output(); err != nil || !strings.HasPrefix(string(v), "drone v0.0.0-flashtest.1\n") {
			t.Errorf("drone %d: the installed binary does not run after a cut upload: %v %q", id, err, v)
		}
		if _, err := os.Stat(drone(id, tmpName(l.Binary))); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("drone %d: temporary binary left: %v", id, err)
		}
	}
	if restarts(1) != 1 || restarts(2) != 4 {
		t.Errorf("restarts %d, %d after a cut upload, want 1, 4", restarts(1), restarts(2))
	}

	// The same build uploaded whole: installed, the old binary kept.
	uploadReader = func(f remoteFile) io.Reader { return bytes.NewReader(f.data) }
	code, out = flashRun()
	if code != exitOK || !strings.Contains(out, "drone 1: ok: drone v0.0.0-flashtest.2") {
		t.Fatalf("new build: exit %d", code)
	}
	if got := fileSum(t, drone(1, l.PrevBinary())); got != binSum {
		t.Errorf("drone.prev is not the previous binary")
	}
	newSum := fileSum(t, drone(1, l.Binary))

	// Rollback of drones 1 and 3: drone.prev back in place, restarted,
	// the old version reported; drone 2 left alone.
	code, out = flashRun("--rollback", "--only", "1,3")
	if code != exitOK || !strings.Contains(out, "drone 1: ok: drone v0.0.0-flashtest.1") || !strings.Contains(out, "drone 3: ok: drone v0.0.0-flashtest.1") ||
		strings.Contains(out, "drone 2:") || !strings.Contains(out, "2 drones rolled back, 0 failed") {
		t.Fatalf("rollback: exit %d, want drones 1 and 3 back at flashtest.1", code)
	}
	for id, want := range map[int]string{1: binSum, 2: newSum, 3: binSum} {
		if got := fileSum(t, drone(id, l.Binary)); got != want {
			t.Errorf("drone %d: binary after the rollback is not the one expected (rolled back: %v)", id, want == binSum)
		}
	}
	if fileSum(t, drone(1, l.PrevBinary())) != newSum {
		t.Errorf("drone 1: drone.prev after a rollback is not the binary rolled back from")
	}
	if restarts(1) != 3 || restarts(3) != 3 {
		t.Errorf("restarts %d, %d after the rollback, want 3, 3", restarts(1), restarts(3))
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(drone(1, l.Binary)), ".restart-pending")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("restart mark left after the rollback: %v", err)
	}
	// A drone without drone.prev: named, nothing changed; the others
	// rolled back (forward again, here).
	os.Remove(drone(2, l.PrevBinary()))
	code, out = flashRun("--rollback")
	if code != exitFail || !strings.Contains(out, "drone 2: FAILED: rollback: exit status 3: no previous binary "+drone(2, l.PrevBinary())+": nothing to roll back to; nothing was changed") ||
		!strings.Contains(out, "drone 1: ok: drone v0.0.0-flashtest.2") || !strings.Contains(out, "drone 3: ok: drone v0.0.0-flashtest.2") {
		t.Fatalf("second rollback: exit %d, want drone 2 failed and named, 1 and 3 at flashtest.2", code)
	}
	if fileSum(t, drone(2, l.Binary)) != newSum {
		t.Errorf("drone 2's binary changed")
	}
	if code, out = flashRun("--rollback", "--only", "1,9"); code != exitFail || !strings.Contains(out, "--only: drone 9 is not in the roster") {
		t.Errorf("--only 9: exit %d", code)
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("link lost") }

// regexpLine reports whether a line of out matches re.
func regexpLine(out, re string) bool {
	r := regexp.MustCompile(re)
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		if r.MatchString(sc.Text()) {
			return true
		}
	}
	return false
}

func TestFlashUsage(t *testing.T) {
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"flash", "--help"}, exitOK, "Usage: groundstation flash --roster FILE --key FILE"},
		{[]string{"flash", "--key", "k"}, exitUsage, "--roster is required"},
		{[]string{"flash", "--roster", "r.csv"}, exitUsage, "--key is required"},
		{[]string{"flash", "--roster", "r.csv", "--key", "k", "--parallel", "0"}, exitUsage, "--parallel must be 1 or more"},
		{[]string{"flash", "--roster", "r.csv", "--key", "k", "--bogus"}, exitUsage, "flag provided but not defined: -bogus"},
	} {
		var stdout, stderr bytes.Buffer
		code := run(tc.args, &stdout, &stderr)
		out := &stderr
		if tc.code == exitOK {
			out = &stdout
		}
		if code != tc.code || !strings.Contains(out.String(), tc.want) {
			t.Errorf("%v: exit %d, want %d with %q\nstdout:\n%s\nstderr:\n%s", tc.args, code, tc.code, tc.want, stdout.String(), stderr.String())
		}
	}
	// A roster error names the row and the field, before any connection.
	dir := t.TempDir()
	roster := filepath.Join(dir, "roster.csv")
	os.WriteFile(roster, []byte("id,host,radio,fc,fc_baud\n1,drone1,/dev/ttyUSB0,/dev/serial0,92160\n"), 0o644)
	var stdout, stderr bytes.Buffer
	if code := run([]string{"flash", "--roster", roster, "--key", "k"}, &stdout, &stderr); code != exitFail ||
		!strings.Contains(stderr.String(), "roster.csv: row 2 (drone 1): fc_baud: 92160") {
		t.Errorf("bad roster: exit %d\n%s", code, stderr.String())
	}
}

// Writing a drone's files into a root filesystem: every file with its
// mode, the binary for the architecture asked, the enable link, the
// sysusers.d entry and (with systemd-sysusers) the passwd entry; a second
// run writes nothing; without systemd-sysusers the entry alone, said.
func TestFlashRootfs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the drone program; checked in the full run")
	}
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "swarm.key")
	os.WriteFile(keyFile, []byte(strings.Repeat("cd", 32)+"\n"), 0o600)
	rosterFile := filepath.Join(dir, "roster.csv")
	os.WriteFile(rosterFile, []byte("id,host,radio,fc,arch\n1,drone1,/dev/ttyUSB0,/dev/serial0,\n2,drone2,/dev/ttyUSB0,/dev/serial0,x86_64\n"), 0o644)
	flashStamp = &packaging.Stamp{Version: "v0.0.0-rootfs.1", Commit: "3333333", Date: "2026-12-06T00:00:00Z"}
	t.Cleanup(func() { flashStamp = nil })
	cache := filepath.Join(dir, "cache")
	rootfs := func(root string, extra ...string) (int, string) {
		args := append([]string{"flash", "--rootfs", root, "--roster", rosterFile, "--key", keyFile, "--cache", cache}, extra...)
		var out bytes.Buffer
		code := run(args, &out, &out)
		t.Logf("flash %v: exit %d\n%s", args[1:], code, out.String())
		return code, out.String()
	}
	l := packaging.DefaultLayout
	root := filepath.Join(dir, "sd")
	os.Mkdir(root, 0o755)
	in := func(root, p string) string { return filepath.Join(root, filepath.FromSlash(p)) }

	_, sysusersErr := exec.LookPath("systemd-sysusers")
	if sysusersErr != nil && os.Getenv("CI") != "" {
		t.Fatal("systemd-sysusers is required under CI: apt-get install systemd")
	}
	// Drone 2's processor from the roster's arch column.
	code, out := rootfs(root, "--id", "2")
	if code != exitOK || !strings.Contains(out, "drone 2: writing drone v0.0.0-rootfs.1 (linux-amd64, ") {
		t.Fatalf("rootfs: exit %d", code)
	}
	for p, want := range map[string]os.FileMode{l.Binary: 0o755, l.Config: 0o644, l.Key: 0o600, l.Unit: 0o644, l.Sysusers: 0o644} {
		if got := mode(t, in(root, p)); got != want {
			t.Errorf("%s mode %o, want %o", p, got, want)
		}
	}
	if fileSum(t, in(root, l.Key)) != fileSum(t, keyFile) {
		t.Errorf("key differs")
	}
	if b, _ := os.ReadFile(in(root, l.Config)); !strings.Contains(string(b), "id: 2\n") || !strings.Contains(string(b), "members: [1, 2]") {
		t.Errorf("config:\n%s", b)
	}
	if b, _ := os.ReadFile(in(root, l.Unit)); string(b) != packaging.Unit(l) {
		t.Errorf("unit:\n%s", b)
	}
	if b, _ := os.ReadFile(in(root, l.Sysusers)); string(b) != packaging.Sysusers(l) || !strings.Contains(string(b), "u skyquorum 722 ") {
		t.Errorf("sysusers.d entry:\n%s", b)
	}
	link := in(root, "/etc/systemd/system/multi-user.target.wants/"+packaging.ServiceName)
	if dest, err := os.Readlink(link); err != nil || dest != l.Unit {
		t.Errorf("enable link %s -> %q (%v), want %s", link, dest, err, l.Unit)
	}
	if v, err := exec.Command(in(root, l.Binary), "version").Output(); err != nil || !strings.HasPrefix(string(v), "drone v0.0.0-rootfs.1\ncommit 3333333\n") {
		t.Errorf("version: %v %q", err, v)
	}
	if sysusersErr == nil {
		b, err := os.ReadFile(in(root, "/etc/passwd"))
		if err != nil || !regexpLine(string(b), `^skyquorum:x:722:722:Skyquorum swarm drone:/var/lib/skyquorum:`) {
			t.Errorf("passwd (%v):\n%s", err, b)
		}
		if b, _ := os.ReadFile(in(root, "/etc/group")); !regexpLine(string(b), `^skyquorum:x:722:$`) {
			t.Errorf("group:\n%s", b)
		}
		if !strings.Contains(out, "drone 2: user skyquorum (UID 722) in ") {
			t.Errorf("the user's creation not said")
		}
	}

	// Again: nothing written, the link and user kept.
	code, out = rootfs(root, "--id", "2", "--arch", "amd64")
	if code != exitOK || !strings.Contains(out, "drone 2: every file is up to date") || strings.Contains(out, "enabled") {
		t.Fatalf("second rootfs: exit %d, want nothing written", code)
	}
	if n := countLines(t, in(root, "/etc/passwd")); sysusersErr == nil && n != 1 {
		t.Errorf("passwd has %d lines after a second run, want 1", n)
	}

	// Another build: the binary replaced is kept as drone.prev.
	before := fileSum(t, in(root, l.Binary))
	flashStamp = &packaging.Stamp{Version: "v0.0.0-rootfs.2", Commit: "4444444", Date: "2026-12-06T01:00:00Z"}
	if code, out = rootfs(root, "--id", "2", "--arch", "amd64"); code != exitOK || !strings.Contains(out, "drone 2: wrote binary\n") {
		t.Fatalf("new build: exit %d, want the binary alone written", code)
	}
	if fileSum(t, in(root, l.PrevBinary())) != before {
		t.Errorf("drone.prev is not the previous binary")
	}

	// Without systemd-sysusers: the sysusers.d entry alone, said.
	sysusersCommand = "no-such-systemd-sysusers"
	t.Cleanup(func() { sysusersCommand = "systemd-sysusers" })
	root2 := filepath.Join(dir, "sd2")
	os.Mkdir(root2, 0o755)
	code, out = rootfs(root2, "--id", "1", "--arch", "amd64")
	if code != exitOK || !strings.Contains(out, "drone 1: no-such-systemd-sysusers not found: the user skyquorum (UID 722) is created at the drone's first boot from /etc/sysusers.d/skyquorum.conf") {
		t.Fatalf("without systemd-sysusers: exit %d", code)
	}
	if _, err := os.Stat(in(root2, "/etc/passwd")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("passwd written without systemd-sysusers: %v", err)
	}
	if b, _ := os.ReadFile(in(root2, l.Sysusers)); string(b) != packaging.Sysusers(l) {
		t.Errorf("sysusers.d entry:\n%s", b)
	}

	// Errors name the drone or the flag.
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"--id", "7", "--arch", "arm64"}, exitFail, "drone 7 is not in " + rosterFile},
		{[]string{"--id", "1", "--arch", "mips"}, exitFail, `--arch: packaging: "mips" is not a target`},
		{[]string{"--id", "1"}, exitFail, "drone 1: no processor: give --arch arm64, armv7, armv6 or amd64, or fill the roster's arch column"},
		{[]string{"--id", "2", "--arch", "arm64"}, exitFail, "drone 2: --arch linux-arm64, but the roster's arch is linux-amd64 (row 3)"},
		{[]string{"--arch", "arm64"}, exitUsage, "--rootfs needs --id"},
		{[]string{"--id", "1", "--arch", "arm64", "--key", filepath.Join(dir, "missing.key")}, exitFail, "drone 1: --key: open " + filepath.Join(dir, "missing.key")},
	} {
		if code, out := rootfs(root2, tc.args...); code != tc.code || !strings.Contains(out, tc.want) {
			t.Errorf("%v: exit %d, want %d with %q", tc.args, code, tc.code, tc.want)
		}
	}
}

// cutProxy forwards TCP connections to addr; once armed, it cuts a
// connection (both ways) after `after` bytes from the client.
type cutProxy struct {
	addr  string
	after int64
	armed atomic.Bool
	cuts  atomic.Int32
}

func startCutProxy(t *testing.T, to string, after int64) *cutProxy {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{addr: l.Addr().String(), after: after}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", to)
			if err != nil {
				c.Close()
				continue
			}
			wg.Add(2)
			go func() {
				defer wg.Done()
				io.Copy(c, s)
				c.Close()
			}()
			go func() {
				defer wg.Done()
				defer s.Close()
				defer c.Close()
				var n int64
				buf := make([]byte, 32<<10)
				for {
					k, err := c.Read(buf)
					if k > 0 {
						n += int64(k)
						if p.armed.Load() && n > p.after {
							p.cuts.Add(1)
							return
						}
						if _, err := s.Write(buf[:k]); err != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return p
}

// One flash over six roster rows: drone 1 good, drone 2 unreachable (a
// closed port), drone 3 behind a host key other than the one on file,
// drone 4's row bad, drone 5 good through a proxy, drone 6 given
// another processor than it has; each failure is named and the others
// are flashed. Then a new build whose upload to drone 5
// is cut by the proxy: drone 5 keeps its previous binary, which runs,
// and drone 1 gets the new one. A missing key file stops the flash
// before any drone is touched.
func TestFlashFailuresIsolated(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the drone program; checked in the full run")
	}
	srv := startSSHD(t)
	proxy := startCutProxy(t, srv.addr, 2<<20)
	dir := t.TempDir()
	keyFile := filepath.Join(dir, "swarm.key")
	os.WriteFile(keyFile, []byte(strings.Repeat("ef", 32)+"\n"), 0o600)
	_, port, _ := net.SplitHostPort(srv.addr)
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedAddr := closed.Addr().String()
	closed.Close()
	me, err := osuser.Current()
	if err != nil {
		t.Fatal(err)
	}
	user := me.Username
	rosterFile := filepath.Join(dir, "roster.csv")
	os.WriteFile(rosterFile, []byte(fmt.Sprintf(`id,host,user,radio,fc,fc_baud,arch
1,127.0.0.1:%[1]s,%[2]s,/dev/ttyUSB0,/dev/serial0,921600,
2,%[3]s,%[2]s,/dev/ttyUSB0,/dev/serial0,921600,
3,localhost:%[1]s,%[2]s,/dev/ttyUSB0,/dev/serial0,921600,
4,127.0.0.3:%[1]s,%[2]s,/dev/ttyUSB0,/dev/serial0,fast,
5,%[4]s,%[2]s,/dev/ttyUSB0,/dev/serial0,921600,amd64
6,127.0.0.2:%[1]s,%[2]s,/dev/ttyUSB0,/dev/serial0,921600,armv6
`, port, user, closedAddr, proxy.addr)), 0o644)
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	otherKey, _ := ssh.NewPublicKey(other)
	knownHosts := filepath.Join(dir, "known_hosts")
	os.WriteFile(knownHosts, []byte(knownhosts.Line([]string{"[127.0.0.1]:" + port}, srv.hostKey)+"\n"+
		knownhosts.Line([]string{knownhosts.Normalize(proxy.addr)}, srv.hostKey)+"\n"+
		knownhosts.Line([]string{"[127.0.0.2]:" + port}, srv.hostKey)+"\n"+
		knownhosts.Line([]string{"[localhost]:" + port}, otherKey)+"\n"), 0o600)
	root := filepath.Join(dir, "drone-{id}")
	drone := func(id int, p string) string { return filepath.Join(dir, fmt.Sprintf("drone-%d", id), p) }
	l := packaging.DefaultLayout
	cache := filepath.Join(dir, "cache")
	flashStamp = &packaging.Stamp{Version: "v0.0.0-isolated.1", Commit: "5555555", Date: "2026-12-06T00:00:00Z"}
	t.Cleanup(func() { flashStamp = nil })
	flashRun := func(extra ...string) (int, string) {
		args := append([]string{"flash", "--roster", rosterFile, "--key", keyFile, "--known-hosts", knownHosts,
			"--identity", srv.identity, "--root", root, "--cache", cache, "--parallel", "5", "--timeout", "30s",
			"--restart-command", "true", "--armed-check", "true"}, extra...)
		var out bytes.Buffer
		start := time.Now()
		code := run(args, &out, &out)
		t.Logf("flash %v: exit %d in %v\n%s", extra, code, time.Since(start).Round(time.Millisecond), out.String())
		return code, out.String()
	}
	version := func(id int) string {
		v, err := exec.Command(drone(id, l.Binary), "version").Output()
		if err != nil {
			return err.Error()
		}
		first, _, _ := strings.Cut(string(v), "\n")
		return first
	}

	code, out := flashRun()
	for _, want := range []string{
		"drone 2: FAILED: ssh " + user + "@" + closedAddr + ": dial tcp " + closedAddr + ": connect: connection refused",
		"drone 3: FAILED: ssh " + user + "@localhost:" + port + ": ssh: handshake failed: the host key of localhost:" + port,
		`drone 4: FAILED: roster.csv: row 5 (drone 4): fc_baud: "fast" is not a number`,
		"drone 6: FAILED: the roster's arch is linux-armv6, the drone reports x86_64 (linux-amd64): correct the roster; nothing was changed",
		"2 drones flashed, 4 failed",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("missing from the output: %q", want)
		}
	}
	if code != exitFail || !regexpLine(out, `^1 +127\.0\.0\.1:\d+ +linux-amd64 +ok +binary,config,key,unit,sysusers +yes `) ||
		!regexpLine(out, `^5 +127\.0\.0\.1:\d+ +linux-amd64 +ok +binary,config,key,unit,sysusers +yes `) {
		t.Fatalf("exit %d, want 1 with drones 1 and 5 flashed", code)
	}
	for id := 1; id <= 6; id++ {
		want := "drone v0.0.0-isolated.1"
		if id != 1 && id != 5 {
			if _, err := os.Stat(drone(id, "")); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("drone %d failed but got files: %v", id, err)
			}
			continue
		}
		if got := version(id); got != want {
			t.Errorf("drone %d reports %q, want %q", id, got, want)
		}
	}

	// The connection to drone 5 cut 2 MB into the new binary.
	flashStamp = &packaging.Stamp{Version: "v0.0.0-isolated.2", Commit: "6666666", Date: "2026-12-06T01:00:00Z"}
	old := fileSum(t, drone(5, l.Binary))
	proxy.armed.Store(true)
	code, out = flashRun("--only", "1,5")
	if code != exitFail || proxy.cuts.Load() == 0 || !strings.Contains(out, "drone 5: FAILED: uploading the binary to "+drone(5, tmpName(l.Binary))) ||
		!strings.Contains(out, "drone 1: ok: drone v0.0.0-isolated.2") {
		t.Fatalf("cut connection: exit %d, %d cuts, want drone 5 failed in the binary's upload and drone 1 flashed", code, proxy.cuts.Load())
	}
	if fileSum(t, drone(5, l.Binary)) != old || version(5) != "drone v0.0.0-isolated.1" {
		t.Errorf("drone 5: the binary changed or does not run after a cut connection: %s", version(5))
	}
	if _, err := os.Stat(drone(5, l.PrevBinary())); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("drone 5: drone.prev written by a cut upload: %v", err)
	}
	// The link back: the upload is completed.
	proxy.armed.Store(false)
	if code, out = flashRun("--only", "5"); code != exitOK || version(5) != "drone v0.0.0-isolated.2" {
		t.Errorf("after the cut: exit %d, drone 5 reports %q", code, version(5))
	}

	// A missing key file: a clear error, no drone touched.
	before := fileSum(t, drone(1, l.Binary))
	flashStamp = &packaging.Stamp{Version: "v0.0.0-isolated.3", Commit: "7777777", Date: "2026-12-06T02:00:00Z"}
	code, out = flashRun("--only", "1", "--key", filepath.Join(dir, "missing.key"))
	if code != exitFail || !strings.Contains(out, "groundstation flash: --key: open "+filepath.Join(dir, "missing.key")+": no such file or directory") {
		t.Errorf("missing key: exit %d", code)
	}
	if fileSum(t, drone(1, l.Binary)) != before {
		t.Errorf("drone 1 changed by a flash without a key")
	}
}

// A user other than root goes through sudo -n: refused with a clear error
// naming the drone when sudo wants a password, and flashed when it does
// not. The server's PATH puts a stand-in for id (reporting UID 1000) and
// for sudo (refusing while a file exists, else running the command and
// logging it) first, so the test needs neither a second user nor sudo.
func TestFlashSudo(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the drone program; checked in the full run")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	os.Mkdir(bin, 0o755)
	deny, sudoLog := filepath.Join(dir, "deny"), filepath.Join(dir, "sudo.log")
	os.WriteFile(filepath.Join(bin, "id"), []byte("#!/bin/sh\nif [ \"$1\" = -u ]; then echo 1000; else exec /usr/bin/id \"$@\"; fi\n"), 0o755)
	os.WriteFile(filepath.Join(bin, "sudo"), []byte(fmt.Sprintf("#!/bin/sh\n[ \"$1\" = -n ] || exit 2\nshift\nif [ -e %s ]; then echo 'sudo: a password is required' >&2; exit 1; fi\necho \"$1\" >> %s\nexec \"$@\"\n", deny, sudoLog)), 0o755)
	srv := startSSHD(t, "SetEnv PATH="+bin+":/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin")
	_, port, _ := net.SplitHostPort(srv.addr)
	me, err := osuser.Current()
	if err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "swarm.key")
	os.WriteFile(keyFile, []byte(strings.Repeat("12", 32)+"\n"), 0o600)
	rosterFile := filepath.Join(dir, "roster.csv")
	os.WriteFile(rosterFile, []byte(fmt.Sprintf("id,host,user,radio,fc\n1,127.0.0.1:%s,%s,/dev/ttyUSB0,/dev/serial0\n", port, me.Username)), 0o644)
	flashStamp = &packaging.Stamp{Version: "v0.0.0-sudo.1", Commit: "8888888", Date: "2026-12-06T00:00:00Z"}
	t.Cleanup(func() { flashStamp = nil })
	l := packaging.DefaultLayout
	flashRun := func() (int, string) {
		var out bytes.Buffer
		code := run([]string{"flash", "--roster", rosterFile, "--key", keyFile, "--known-hosts", filepath.Join(dir, "known_hosts"),
			"--trust-on-first-use", "--identity", srv.identity, "--root", filepath.Join(dir, "drone-{id}"), "--cache", filepath.Join(dir, "cache"),
			"--restart-command", "true", "--armed-check", "true"}, &out, &out)
		t.Logf("flash: exit %d\n%s", code, out.String())
		return code, out.String()
	}

	os.WriteFile(deny, nil, 0o644)
	code, out := flashRun()
	want := "drone 1: FAILED: " + me.Username + " on 127.0.0.1:" + port + " is not root and cannot use sudo without a password (sudo -n true: exit status 1: sudo: a password is required): give it a NOPASSWD sudoers rule, or flash as root"
	if code != exitFail || !strings.Contains(out, want) {
		t.Fatalf("sudo refused: exit %d, want %q", code, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "drone-1")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("files written without sudo: %v", err)
	}

	os.Remove(deny)
	code, out = flashRun()
	if code != exitOK || !strings.Contains(out, "drone 1: connected to 127.0.0.1:"+port+" as "+me.Username+" (sudo), ") || !strings.Contains(out, "drone 1: ok: drone v0.0.0-sudo.1") {
		t.Fatalf("sudo allowed: exit %d, want drone 1 flashed through sudo", code)
	}
	if mode(t, filepath.Join(dir, "drone-1", l.Key)) != 0o600 {
		t.Errorf("key mode")
	}
	// Every command after the check went through sudo -n: the check, the
	// armed check, the comparison, five uploads, the move, the restart,
	// the marker's removal and the version.
	if n := countLines(t, sudoLog); n < 12 {
		t.Errorf("%d commands through sudo, want 12 or more", n)
	}
}
