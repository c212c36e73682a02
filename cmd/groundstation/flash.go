package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"text/tabwriter"
	"time"

	packaging "github.com/skyquorum/skyquorum/firmware/package"
	"github.com/skyquorum/skyquorum/radio/wire"
)

const flashUsage = `Usage: groundstation flash --roster FILE --key FILE [flags]
       groundstation flash --rootfs DIR --id N [--arch ARCH] --roster FILE --key FILE
       groundstation flash --rollback --roster FILE [--only IDS] [flags]

Installs the drone program on every drone of a roster over SSH
(docs/flash.md): it builds the program for each drone's processor
(uname -m: armv6l, armv7l, aarch64, x86_64), writes the drone's config
from its roster row, and uploads the binary, the config, the swarm key
(mode 0600), the systemd unit and the user's sysusers.d entry. Files are
uploaded under temporary names and moved into place only when complete
and checked; files whose SHA-256 already matches are skipped; the binary
replaced is kept as drone.prev. Then the service is restarted and the
drone must report the new version.

With --rootfs, the same files go into a mounted root filesystem (an SD
card) for drone N of the roster, built for ARCH (arm64, armv7, armv6,
amd64; default the roster's arch column), with the service's enable link and its user (systemd-sysusers
--root, when installed; else the user is created at first boot).

With --rollback, each listed drone's drone.prev and drone are swapped,
the service restarted, and the drone must report the previous version.

A drone whose armed check fails (it reports itself armed or flying) is
refused and left alone. A user other than root needs sudo without a
password (sudo -n). Exit status: 0 when every drone is flashed, 1 when
one failed, 2 on bad usage.

Flags:
`

// defaultArmedCheck is run on the drone before anything is changed: exit
// 0 says it is disarmed on the ground. The drone program keeps its armed
// file while its flight controller reports itself armed or airborne
// (docs/flash.md).
const defaultArmedCheck = "if [ -e " + packaging.ArmedFile + " ]; then echo \"$(cat " + packaging.ArmedFile + ") (" + packaging.ArmedFile + ")\"; exit 1; fi"

// defaultRestart creates the user, loads the unit and restarts the
// service.
const defaultRestart = "systemd-sysusers && systemctl daemon-reload && systemctl enable " + packaging.ServiceName +
	" && systemctl restart " + packaging.ServiceName

type flashFlags struct {
	roster, key, knownHosts, identity string
	tofu                              bool
	parallel                          int
	restart, armedCheck               string
	source, cache, root               string
	rootfs, arch, only                string
	id                                int
	rollback                          bool
	timeout                           time.Duration
}

// runFlash implements `groundstation flash`.
func runFlash(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("flash", flashUsage, stdout, stderr)
	var f flashFlags
	home, _ := os.UserHomeDir()
	cache, _ := os.UserCacheDir()
	fs.StringVar(&f.roster, "roster", "", "the roster, CSV or YAML (`FILE`; docs/flash.md)")
	fs.StringVar(&f.key, "key", "", "the swarm key to install (`FILE`, groundstation keygen)")
	fs.StringVar(&f.knownHosts, "known-hosts", filepath.Join(home, ".ssh", "known_hosts"), "the drones' SSH host keys (`FILE`)")
	fs.BoolVar(&f.tofu, "trust-on-first-use", false, "accept the host key of a drone missing from --known-hosts and append it there")
	fs.StringVar(&f.identity, "identity", "", "the SSH private key (`FILE`; default: ssh-agent and ~/.ssh/id_ed25519, id_ecdsa, id_rsa)")
	fs.IntVar(&f.parallel, "parallel", 4, "flash at most `N` drones at once")
	fs.StringVar(&f.restart, "restart-command", defaultRestart, "the shell `CMD` run as root on a drone whose files changed")
	fs.StringVar(&f.armedCheck, "armed-check", defaultArmedCheck, "the shell `CMD` run as root before anything changes: a non-zero exit refuses the drone, its output says why")
	fs.StringVar(&f.source, "source", ".", "the Skyquorum source tree to build the drone program from (`DIR`)")
	fs.StringVar(&f.cache, "cache", filepath.Join(cache, "skyquorum", "flash"), "where the builds are kept (`DIR`)")
	fs.StringVar(&f.root, "root", "/", "install under `DIR` on the drone instead of / ({id} is replaced by the drone's ID): a staging directory")
	fs.DurationVar(&f.timeout, "timeout", 5*time.Minute, "give up on a drone after `D`")
	fs.StringVar(&f.rootfs, "rootfs", "", "write one drone's files into the root filesystem mounted at `DIR` instead of over SSH")
	fs.IntVar(&f.id, "id", 0, "with --rootfs: the roster's drone `N`")
	fs.StringVar(&f.arch, "arch", "", "with --rootfs: the drone's processor, `ARCH` arm64, armv7, armv6 or amd64 (default: the roster's arch column)")
	fs.BoolVar(&f.rollback, "rollback", false, "put back the previous binary (drone.prev) on the drones instead of flashing")
	fs.StringVar(&f.only, "only", "", "act on these drones of the roster alone (`IDS`, comma-separated)")
	if code, ok := parseFlags(fs, args); !ok {
		return code
	}
	switch {
	case f.roster == "":
		return badUsage(fs, "--roster is required")
	case f.key == "" && !f.rollback:
		return badUsage(fs, "--key is required")
	case f.rootfs != "" && f.rollback:
		return badUsage(fs, "--rootfs and --rollback do not go together")
	case f.rootfs != "" && f.id == 0:
		return badUsage(fs, "--rootfs needs --id: the roster's drone to write")
	case f.rootfs == "" && (f.id != 0 || f.arch != ""):
		return badUsage(fs, "--id and --arch go with --rootfs")
	case f.parallel < 1:
		return badUsage(fs, "--parallel must be 1 or more")
	case !strings.HasPrefix(f.root, "/"):
		return badUsage(fs, "--root must be an absolute path")
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if f.rootfs != "" {
		if err := flashRootfs(ctx, f, stdout); err != nil {
			fmt.Fprintf(stderr, "groundstation flash: %v\n", err)
			return exitFail
		}
		return exitOK
	}
	results, err := flash(ctx, f, stdout)
	if err != nil {
		if msg := err.Error(); strings.Contains(msg, "\n") {
			fmt.Fprintf(stderr, "groundstation flash:\n  %s\n", strings.ReplaceAll(msg, "\n", "\n  "))
		} else {
			fmt.Fprintf(stderr, "groundstation flash: %s\n", msg)
		}
		return exitFail
	}
	verb := "flashed"
	if f.rollback {
		verb = "rolled back"
	}
	printSummary(stdout, results, verb)
	if ctx.Err() != nil {
		return exitInterrupted
	}
	for _, r := range results {
		if r.err != nil {
			return exitFail
		}
	}
	return exitOK
}

// flashStamp overrides the stamp read from git (tests).
var flashStamp *packaging.Stamp

// flashResult is one drone's outcome.
type flashResult struct {
	drone   packaging.Drone
	target  string
	changed []string
	refused bool
	// restarted: the restart command ran and succeeded.
	restarted bool
	took      time.Duration
	err       error
}

// flashJob is what every drone shares.
type flashJob struct {
	flashFlags
	roster  *packaging.Roster
	key     []byte
	builder *packaging.Builder
	stamp   packaging.Stamp
	ssh     *sshDialer
	out     *lineWriter
}

func flash(ctx context.Context, f flashFlags, stdout io.Writer) ([]flashResult, error) {
	// A bad row fails its drone alone.
	ro, badRows, err := packaging.LoadRosterRows(f.roster)
	if err != nil {
		return nil, err
	}
	drones, err := onlyDrones(ro.Drones, f.only)
	if err != nil {
		return nil, err
	}
	job := &flashJob{flashFlags: f, roster: ro, out: &lineWriter{w: stdout}}
	if !f.rollback {
		key, err := os.ReadFile(f.key)
		if err != nil {
			return nil, fmt.Errorf("--key: %w", err)
		}
		if _, err := wire.ParseKey(key); err != nil {
			return nil, fmt.Errorf("--key %s: %w", f.key, err)
		}
		src, err := sourceRoot(f.source)
		if err != nil {
			return nil, err
		}
		job.key, job.stamp = key, packaging.StampOf(ctx, src)
		if flashStamp != nil {
			job.stamp = *flashStamp
		}
		job.builder = &packaging.Builder{Dir: src, CacheDir: f.cache, Stamp: job.stamp}
	}
	dialer, err := newSSHDialer(f.knownHosts, f.identity, f.tofu)
	if err != nil {
		return nil, err
	}
	defer dialer.close()
	job.ssh = dialer
	one := job.flashOne
	if f.rollback {
		one = job.rollbackOne
		job.out.printf("rolling back %d drones to their previous binary, %d at once", len(drones), f.parallel)
	} else {
		job.out.printf("flashing %d drones with drone %s (commit %.12s), %d at once", len(drones), job.stamp.Version, job.stamp.Commit, f.parallel)
	}
	results := make([]flashResult, len(drones))
	sem := make(chan struct{}, f.parallel)
	var wg sync.WaitGroup
	for i, d := range drones {
		if err := badRows[d.Row]; err != nil {
			results[i] = flashResult{drone: d, err: err}
			job.out.printf("drone %d: FAILED: %v", d.ID, err)
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				results[i] = flashResult{drone: d, err: ctx.Err()}
				return
			}
			defer func() { <-sem }()
			start := time.Now()
			dctx, cancel := context.WithTimeout(ctx, f.timeout)
			r := one(dctx, d)
			cancel()
			r.drone, r.took = d, time.Since(start)
			if r.err != nil {
				job.out.printf("drone %d: FAILED: %v", d.ID, r.err)
			}
			results[i] = r
		}()
	}
	wg.Wait()
	if f.only == "" {
		// Rows too broken to hold a drone.
		var rows []string
		for row := range badRows {
			if !slices.ContainsFunc(ro.Drones, func(d packaging.Drone) bool { return d.Row == row }) {
				rows = append(rows, row)
			}
		}
		slices.Sort(rows)
		for _, row := range rows {
			results = append(results, flashResult{drone: packaging.Drone{Row: row}, err: badRows[row]})
			job.out.printf("%s: FAILED: %v", row, badRows[row])
		}
	}
	return results, nil
}

// onlyDrones are the drones of the roster listed in ids (comma-separated;
// all when empty).
func onlyDrones(all []packaging.Drone, ids string) ([]packaging.Drone, error) {
	if strings.TrimSpace(ids) == "" {
		return all, nil
	}
	want := map[uint16]bool{}
	for _, s := range strings.Split(ids, ",") {
		id, err := strconv.ParseUint(strings.TrimSpace(s), 10, 16)
		if err != nil {
			return nil, fmt.Errorf("--only: %q is not a drone ID", s)
		}
		found := false
		for _, d := range all {
			found = found || d.ID == uint16(id)
		}
		if !found {
			return nil, fmt.Errorf("--only: drone %d is not in the roster", id)
		}
		want[uint16(id)] = true
	}
	var out []packaging.Drone
	for _, d := range all {
		if want[d.ID] {
			out = append(out, d)
		}
	}
	return out, nil
}

// sourceRoot finds the Skyquorum module at or above dir.
func sourceRoot(dir string) (string, error) {
	d, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for {
		b, err := os.ReadFile(filepath.Join(d, "go.mod"))
		if err == nil {
			if !strings.HasPrefix(string(b), "module github.com/skyquorum/skyquorum\n") {
				return "", fmt.Errorf("%s is not the Skyquorum source tree: give its directory with --source", d)
			}
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no Skyquorum source tree at or above %s: the drone program is built from it; give its directory with --source", dir)
		}
		d = parent
	}
}

// remoteFile is one file to install.
type remoteFile struct {
	name string // binary, config, key, unit, sysusers
	path string // on the drone, under the root
	mode os.FileMode
	data []byte
	sum  string
}

func newRemoteFile(name, p string, mode os.FileMode, data []byte) remoteFile {
	s := sha256.Sum256(data)
	return remoteFile{name: name, path: p, mode: mode, data: data, sum: hex.EncodeToString(s[:])}
}

// connect opens an SSH connection to drone d, whose files are under
// root, reads its target and runs the armed check; on failure it returns
// a nil remote and the drone's result.
func (j *flashJob) connect(ctx context.Context, d packaging.Drone, root string) (*remote, packaging.Target, flashResult) {
	rm, err := j.ssh.dial(ctx, d.User, d.Addr())
	if err != nil {
		return nil, packaging.Target{}, flashResult{err: err}
	}
	rm.env = fmt.Sprintf("SKYQUORUM_ID=%d SKYQUORUM_ROOT=%s", d.ID, shellQuote(root))
	machine, user, err := rm.prepare(ctx)
	if err != nil {
		rm.close()
		return nil, packaging.Target{}, flashResult{err: err}
	}
	tg, err := packaging.TargetOf(machine)
	if err != nil {
		rm.close()
		return nil, packaging.Target{}, flashResult{err: err}
	}
	if d.Arch != nil && *d.Arch != tg {
		rm.close()
		return nil, tg, flashResult{target: tg.Name(), err: fmt.Errorf("the roster's arch is %s, the drone reports %s (%s): correct the roster; nothing was changed", d.Arch, machine, tg)}
	}
	j.out.printf("drone %d: connected to %s as %s, %s (%s)", d.ID, d.Addr(), user, machine, tg)
	if out, err := rm.run(ctx, j.armedCheck, nil); err != nil {
		rm.close()
		var ee *exitError
		if errors.As(err, &ee) {
			why := strings.TrimSpace(ee.output)
			if why == "" {
				why = fmt.Sprintf("the armed check exited with %d", ee.status)
			}
			return nil, tg, flashResult{target: tg.Name(), refused: true, err: fmt.Errorf("refused: the drone reports itself armed or flying (%s); nothing was changed", why)}
		}
		return nil, tg, flashResult{target: tg.Name(), err: fmt.Errorf("armed check: %w", err)}
	} else if s := strings.TrimSpace(out); s != "" {
		j.out.printf("drone %d: armed check: %s", d.ID, s)
	}
	return rm, tg, flashResult{}
}

// rollbackOne swaps drone d's binary and drone.prev, restarts the service
// and checks that the drone reports the version drone.prev had.
func (j *flashJob) rollbackOne(ctx context.Context, d packaging.Drone) flashResult {
	root := strings.ReplaceAll(j.root, "{id}", fmt.Sprint(d.ID))
	rm, tg, res := j.connect(ctx, d, root)
	if rm == nil {
		return res
	}
	defer rm.close()
	r := flashResult{target: tg.Name()}
	l := packaging.DefaultLayout
	bin := path.Join(root, l.Binary)
	prev, cur := shellQuote(bin+packaging.PrevSuffix), shellQuote(bin)
	pendingMark := path.Join(path.Dir(bin), ".restart-pending")
	out, err := rm.run(ctx, fmt.Sprintf("if [ ! -f %[1]s ]; then echo 'no previous binary %[1]s: nothing to roll back to'; exit 3; fi\n%[1]s version", prev), nil)
	if err != nil {
		r.err = fmt.Errorf("rollback: %w; nothing was changed", err)
		return r
	}
	want, _, _ := strings.Cut(out, "\n")
	// The swap: the binary rolled back from becomes drone.prev, so a
	// second rollback goes forward again.
	tmp := shellQuote(tmpName(bin))
	script := fmt.Sprintf("set -e\n: > %s\nln -f %s %s\nmv -f %s %s\nmv -f %s %s\nsync\n",
		shellQuote(pendingMark), cur, tmp, prev, cur, tmp, prev)
	if _, err := rm.run(ctx, script, nil); err != nil {
		r.err = fmt.Errorf("rollback: %w", err)
		return r
	}
	r.changed = []string{"binary"}
	j.out.printf("drone %d: %s is now the previous binary (%s)", d.ID, l.Binary, want)
	if out, err := rm.run(ctx, j.restart, nil); err != nil {
		r.err = fmt.Errorf("restart (%s): %w; the previous binary is in place, the next flash restarts again", j.restart, err)
		return r
	} else if s := strings.TrimSpace(out); s != "" {
		j.out.printf("drone %d: restart: %s", d.ID, s)
	}
	if _, err := rm.run(ctx, "rm -f "+shellQuote(pendingMark), nil); err != nil {
		r.err = err
		return r
	}
	r.restarted = true
	out, err = rm.run(ctx, cur+" version", nil)
	if err != nil {
		r.err = fmt.Errorf("drone version: %w", err)
		return r
	}
	if first, _, _ := strings.Cut(out, "\n"); first != want {
		r.err = fmt.Errorf("%s version reports %q after the rollback, want %q", l.Binary, first, want)
		return r
	}
	j.out.printf("drone %d: ok: %s", d.ID, want)
	return r
}

// droneFiles are the files a drone gets, at(p) being where path p of
// layout l goes.
func droneFiles(l packaging.Layout, at func(string) string, bin, cfg, key []byte) []remoteFile {
	return []remoteFile{
		newRemoteFile("binary", at(l.Binary), 0o755, bin),
		newRemoteFile("config", at(l.Config), 0o644, cfg),
		newRemoteFile("key", at(l.Key), 0o600, key),
		newRemoteFile("unit", at(l.Unit), 0o644, []byte(packaging.Unit(l))),
		newRemoteFile("sysusers", at(l.Sysusers), 0o644, []byte(packaging.Sysusers(l))),
	}
}

// flashOne flashes drone d.
func (j *flashJob) flashOne(ctx context.Context, d packaging.Drone) (r flashResult) {
	say := func(format string, a ...any) {
		j.out.printf("drone %d: "+format, append([]any{d.ID}, a...)...)
	}
	cfg, err := j.roster.Config(d)
	if err != nil {
		return flashResult{err: err}
	}
	root := strings.ReplaceAll(j.root, "{id}", fmt.Sprint(d.ID))
	at := func(p string) string { return path.Join(root, p) }

	rm, tg, res := j.connect(ctx, d, root)
	if rm == nil {
		return res
	}
	defer rm.close()
	r.target = tg.Name()

	bin, err := j.builder.Build(ctx, tg)
	if err != nil {
		return flashResult{target: r.target, err: err}
	}
	binData, err := os.ReadFile(bin)
	if err != nil {
		return flashResult{target: r.target, err: err}
	}
	l := packaging.DefaultLayout
	files := droneFiles(l, at, binData, cfg, j.key)
	// Set while installed files wait for a restart that has not succeeded.
	pendingMark := path.Join(path.Dir(at(l.Binary)), ".restart-pending")
	changed, pending, err := rm.changed(ctx, files, pendingMark)
	if err != nil {
		return flashResult{target: r.target, err: err}
	}
	for _, f := range changed {
		r.changed = append(r.changed, f.name)
	}
	if len(changed) == 0 {
		say("every file is up to date")
	} else {
		say("uploading %s", describe(changed))
		if err := rm.install(ctx, changed, at(l.Binary), pendingMark); err != nil {
			return flashResult{target: r.target, err: err}
		}
		say("installed %s", strings.Join(r.changed, ", "))
	}
	if len(changed) > 0 || pending {
		if len(changed) == 0 {
			say("restarting: an earlier flash installed files whose restart failed")
		}
		if out, err := rm.run(ctx, j.restart, nil); err != nil {
			return flashResult{target: r.target, changed: r.changed, err: fmt.Errorf("restart (%s): %w; the files are installed, the next flash restarts again, the previous binary is %s", j.restart, err, l.PrevBinary())}
		} else if s := strings.TrimSpace(out); s != "" {
			say("restart: %s", s)
		}
		if _, err := rm.run(ctx, "rm -f "+shellQuote(pendingMark), nil); err != nil {
			return flashResult{target: r.target, changed: r.changed, err: err}
		}
		r.restarted = true
	}
	out, err := rm.run(ctx, shellQuote(at(l.Binary))+" version", nil)
	if err != nil {
		return flashResult{target: r.target, changed: r.changed, err: fmt.Errorf("drone version: %w", err)}
	}
	first, _, _ := strings.Cut(out, "\n")
	if want := "drone " + j.stamp.Version; first != want {
		return flashResult{target: r.target, changed: r.changed, err: fmt.Errorf("%s version reports %q, want %q", l.Binary, first, want)}
	}
	say("ok: %s", first)
	return r
}

// describe lists files with their sizes.
func describe(fs []remoteFile) string {
	s := make([]string, len(fs))
	for i, f := range fs {
		s[i] = fmt.Sprintf("%s (%s)", f.name, size(len(f.data)))
	}
	return strings.Join(s, ", ")
}

func size(n int) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/1e6)
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/1e3)
	}
	return fmt.Sprintf("%d B", n)
}

// printSummary prints one line per drone.
func printSummary(w io.Writer, results []flashResult, verb string) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "\nDRONE\tHOST\tTARGET\tRESULT\tCHANGED\tRESTARTED\tTIME")
	failed := 0
	for _, r := range results {
		result, changed := "ok", "nothing"
		if len(r.changed) > 0 {
			changed = strings.Join(r.changed, ",")
		}
		switch {
		case r.refused:
			result, failed = "REFUSED", failed+1
		case r.err != nil:
			result, failed = "FAILED", failed+1
		}
		target := r.target
		if target == "" {
			target = "-"
		}
		restarted := "no"
		if r.restarted {
			restarted = "yes"
		}
		id, host := fmt.Sprint(r.drone.ID), r.drone.Addr()
		if r.drone.ID == 0 {
			id = "?"
		}
		if r.drone.Host == "" {
			host = "-"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%.1fs\n", id, host, target, result, changed, restarted, r.took.Seconds())
	}
	tw.Flush()
	for _, r := range results {
		if r.err != nil {
			if r.drone.ID == 0 {
				fmt.Fprintf(w, "%s: %v\n", r.drone.Row, r.err)
			} else {
				fmt.Fprintf(w, "drone %d (%s): %v\n", r.drone.ID, r.drone.Row, r.err)
			}
		}
	}
	fmt.Fprintf(w, "%d drones %s, %d failed\n", len(results)-failed, verb, failed)
}

// lineWriter serialises progress lines from concurrent flashes.
type lineWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lineWriter) printf(format string, a ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	fmt.Fprintf(l.w, format+"\n", a...)
}
