package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"

	packaging "github.com/skyquorum/skyquorum/firmware/package"
	"github.com/skyquorum/skyquorum/radio/wire"
)

// sysusersCommand creates the service's user inside a root filesystem
// (tests name a missing one).
var sysusersCommand = "systemd-sysusers"

// EnableLink is where `systemctl enable` puts the service's link, under
// the root.
func enableLink(l packaging.Layout) string {
	return path.Join(path.Dir(l.Unit), "multi-user.target.wants", packaging.ServiceName)
}

// flashRootfs writes drone f.id's files into the root filesystem f.rootfs
// (an SD card mounted on the operator's computer): the same files as a
// flash over SSH, the service's enable link, and its user.
func flashRootfs(ctx context.Context, f flashFlags, stdout io.Writer) error {
	ro, badRows, err := packaging.LoadRosterRows(f.roster)
	if err != nil {
		return err
	}
	var d *packaging.Drone
	for i := range ro.Drones {
		if int(ro.Drones[i].ID) == f.id {
			d = &ro.Drones[i]
		}
	}
	if d == nil {
		return fmt.Errorf("drone %d is not in %s", f.id, f.roster)
	}
	if err := badRows[d.Row]; err != nil {
		return err
	}
	var tg packaging.Target
	switch {
	case f.arch != "":
		if tg, err = packaging.ParseTarget(f.arch); err != nil {
			return fmt.Errorf("--arch: %w", err)
		}
		if d.Arch != nil && *d.Arch != tg {
			return fmt.Errorf("drone %d: --arch %s, but the roster's arch is %s (%s)", d.ID, tg, d.Arch, d.Row)
		}
	case d.Arch != nil:
		tg = *d.Arch
	default:
		return fmt.Errorf("drone %d: no processor: give --arch arm64, armv7, armv6 or amd64, or fill the roster's arch column", d.ID)
	}
	key, err := os.ReadFile(f.key)
	if err != nil {
		return fmt.Errorf("drone %d: --key: %w", d.ID, err)
	}
	if _, err := wire.ParseKey(key); err != nil {
		return fmt.Errorf("drone %d: --key %s: %w", d.ID, f.key, err)
	}
	if st, err := os.Stat(f.rootfs); err != nil {
		return fmt.Errorf("--rootfs: %w", err)
	} else if !st.IsDir() {
		return fmt.Errorf("--rootfs %s is not a directory", f.rootfs)
	}
	cfg, err := ro.Config(*d)
	if err != nil {
		return err
	}
	src, err := sourceRoot(f.source)
	if err != nil {
		return err
	}
	stamp := packaging.StampOf(ctx, src)
	if flashStamp != nil {
		stamp = *flashStamp
	}
	b := &packaging.Builder{Dir: src, CacheDir: f.cache, Stamp: stamp}
	bin, err := b.Build(ctx, tg)
	if err != nil {
		return fmt.Errorf("drone %d: %w", d.ID, err)
	}
	binData, err := os.ReadFile(bin)
	if err != nil {
		return err
	}
	say := func(format string, a ...any) {
		fmt.Fprintf(stdout, "drone %d: "+format+"\n", append([]any{d.ID}, a...)...)
	}
	say("writing drone %s (%s, %s) into %s", stamp.Version, tg, size(len(binData)), f.rootfs)
	l := packaging.DefaultLayout
	at := func(p string) string { return filepath.Join(f.rootfs, filepath.FromSlash(p)) }
	var changed []string
	for _, rf := range droneFiles(l, at, binData, cfg, key) {
		ok, err := writeRootfsFile(rf, rf.path == at(l.Binary))
		if err != nil {
			return fmt.Errorf("drone %d: %s: %w", d.ID, rf.name, err)
		}
		if ok {
			changed = append(changed, rf.name)
		}
	}
	if len(changed) == 0 {
		say("every file is up to date")
	} else {
		say("wrote %s", strings.Join(changed, ", "))
	}

	// What `systemctl enable` does: WantedBy=multi-user.target.
	link := at(enableLink(l))
	if cur, err := os.Readlink(link); err != nil || cur != l.Unit {
		if err := os.MkdirAll(filepath.Dir(link), 0o755); err != nil {
			return fmt.Errorf("drone %d: enable link: %w", d.ID, err)
		}
		os.Remove(link)
		if err := os.Symlink(l.Unit, link); err != nil {
			return fmt.Errorf("drone %d: enable link: %w", d.ID, err)
		}
		say("enabled %s (%s -> %s)", packaging.ServiceName, enableLink(l), l.Unit)
	}

	// The user: created now when systemd-sysusers is here, else at the
	// drone's first boot from the sysusers.d entry.
	if exe, err := exec.LookPath(sysusersCommand); err == nil {
		cmd := exec.CommandContext(ctx, exe, "--root="+f.rootfs, at(l.Sysusers))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("drone %d: %s --root=%s: %w: %s", d.ID, exe, f.rootfs, err, strings.TrimSpace(out.String()))
		}
		say("user %s (UID %d) in %s", packaging.User, packaging.UID, filepath.Join(f.rootfs, "etc", "passwd"))
	} else {
		say("%s not found: the user %s (UID %d) is created at the drone's first boot from %s", sysusersCommand, packaging.User, packaging.UID, l.Sysusers)
	}
	if os.Geteuid() != 0 {
		say("files written as UID %d, not root: run as root (sudo) so that the key on the card is root's", os.Geteuid())
	}
	return nil
}

// writeRootfsFile writes f unless it is already there with its mode,
// under a temporary name first; the binary it replaces is kept as
// binary.prev. It reports whether it wrote.
func writeRootfsFile(f remoteFile, binary bool) (bool, error) {
	if b, err := os.ReadFile(f.path); err == nil {
		s := sha256.Sum256(b)
		st, serr := os.Stat(f.path)
		if serr == nil && hex.EncodeToString(s[:]) == f.sum && st.Mode().Perm() == f.mode.Perm() {
			return false, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return false, err
	}
	if err := os.MkdirAll(filepath.Dir(f.path), 0o755); err != nil {
		return false, err
	}
	tmp := tmpName(f.path)
	w, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return false, err
	}
	_, err = w.Write(f.data)
	if err == nil {
		err = w.Chmod(f.mode.Perm())
	}
	if err == nil {
		err = w.Sync()
	}
	if cerr := w.Close(); err == nil {
		err = cerr
	}
	if err == nil && binary {
		if _, serr := os.Stat(f.path); serr == nil {
			prev := f.path + packaging.PrevSuffix
			os.Remove(prev)
			err = os.Link(f.path, prev)
		}
	}
	if err == nil {
		err = os.Rename(tmp, f.path)
	}
	if err != nil {
		os.Remove(tmp)
		return false, err
	}
	return true, nil
}
