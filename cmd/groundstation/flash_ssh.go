package main

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/crypto/ssh"
	"golang.org/x/crypto/ssh/agent"
	"golang.org/x/crypto/ssh/knownhosts"
)

// sshDialer opens SSH connections to drones, checking their host keys
// against a known_hosts file.
type sshDialer struct {
	knownHosts string
	tofu       bool
	auth       []ssh.AuthMethod
	agentConn  net.Conn

	mu sync.Mutex // the known_hosts file
}

func newSSHDialer(knownHosts, identity string, tofu bool) (*sshDialer, error) {
	d := &sshDialer{knownHosts: knownHosts, tofu: tofu}
	var signers []ssh.Signer
	if identity != "" {
		s, err := loadIdentity(identity)
		if err != nil {
			return nil, err
		}
		signers = append(signers, s)
	} else {
		home, _ := os.UserHomeDir()
		for _, n := range []string{"id_ed25519", "id_ecdsa", "id_rsa"} {
			s, err := loadIdentity(filepath.Join(home, ".ssh", n))
			if err == nil {
				signers = append(signers, s)
			}
		}
	}
	if len(signers) > 0 {
		d.auth = append(d.auth, ssh.PublicKeys(signers...))
	}
	if sock := os.Getenv("SSH_AUTH_SOCK"); sock != "" && identity == "" {
		if c, err := net.Dial("unix", sock); err == nil {
			d.agentConn = c
			d.auth = append(d.auth, ssh.PublicKeysCallback(agent.NewClient(c).Signers))
		}
	}
	if len(d.auth) == 0 {
		return nil, errors.New("no SSH identity: give --identity FILE, or load a key into ssh-agent")
	}
	return d, nil
}

func loadIdentity(p string) (ssh.Signer, error) {
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("--identity: %w", err)
	}
	s, err := ssh.ParsePrivateKey(b)
	var pe *ssh.PassphraseMissingError
	if errors.As(err, &pe) {
		return nil, fmt.Errorf("--identity %s is protected by a passphrase: load it into ssh-agent (ssh-add) and leave --identity out", p)
	}
	if err != nil {
		return nil, fmt.Errorf("--identity %s: %w", p, err)
	}
	return s, nil
}

func (d *sshDialer) close() {
	if d.agentConn != nil {
		d.agentConn.Close()
	}
}

// hostKeys is the known_hosts callback (every key unknown when the file
// does not exist).
func (d *sshDialer) hostKeys() (ssh.HostKeyCallback, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	cb, err := knownhosts.New(d.knownHosts)
	if errors.Is(err, fs.ErrNotExist) {
		return func(string, net.Addr, ssh.PublicKey) error { return &knownhosts.KeyError{} }, nil
	}
	if err != nil {
		return nil, fmt.Errorf("--known-hosts: %w", err)
	}
	return cb, nil
}

// algorithmsFor are the host key algorithms to ask host for: those of
// the keys known for it, so that a server offering several is checked
// against the one on file.
func algorithmsFor(cb ssh.HostKeyCallback, addr string) []string {
	ta, err := net.ResolveTCPAddr("tcp", addr)
	if err != nil {
		return nil
	}
	probe, err := ssh.NewPublicKey(ed25519.PublicKey(make([]byte, ed25519.PublicKeySize))) // a key nobody has
	if err != nil {
		return nil
	}
	var ke *knownhosts.KeyError
	if err := cb(addr, ta, probe); !errors.As(err, &ke) {
		return nil
	}
	var algs []string
	for _, k := range ke.Want {
		switch t := k.Key.Type(); t {
		case ssh.KeyAlgoRSA:
			algs = append(algs, ssh.KeyAlgoRSASHA512, ssh.KeyAlgoRSASHA256, ssh.KeyAlgoRSA)
		default:
			algs = append(algs, t)
		}
	}
	return algs
}

// checkHost checks a host key, trusting and recording an unknown one on
// first use when allowed.
func (d *sshDialer) checkHost(cb ssh.HostKeyCallback) ssh.HostKeyCallback {
	return func(host string, remote net.Addr, key ssh.PublicKey) error {
		err := cb(host, remote, key)
		var ke *knownhosts.KeyError
		if err == nil || !errors.As(err, &ke) {
			return err
		}
		fp := ssh.FingerprintSHA256(key)
		if len(ke.Want) > 0 {
			return fmt.Errorf("the host key of %s (%s %s) is not the one in %s: the drone was reinstalled, or someone is in the way; remove its old line there only once you know which", host, key.Type(), fp, d.knownHosts)
		}
		if !d.tofu {
			return fmt.Errorf("the host key of %s (%s %s) is not in %s: check it on the drone (ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub) and add it there, or flash with --trust-on-first-use", host, key.Type(), fp, d.knownHosts)
		}
		return d.trust(host, key)
	}
}

// trust appends host's key to the known_hosts file.
func (d *sshDialer) trust(host string, key ssh.PublicKey) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := os.MkdirAll(filepath.Dir(d.knownHosts), 0o700); err != nil {
		return fmt.Errorf("--known-hosts: %w", err)
	}
	f, err := os.OpenFile(d.knownHosts, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("--known-hosts: %w", err)
	}
	_, err = fmt.Fprintln(f, knownhosts.Line([]string{knownhosts.Normalize(host)}, key))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("--known-hosts: %w", err)
	}
	return nil
}

// dial connects to user@addr.
func (d *sshDialer) dial(ctx context.Context, user, addr string) (*remote, error) {
	cb, err := d.hostKeys()
	if err != nil {
		return nil, err
	}
	cfg := &ssh.ClientConfig{
		User:              user,
		Auth:              d.auth,
		HostKeyCallback:   d.checkHost(cb),
		HostKeyAlgorithms: algorithmsFor(cb, addr),
		Timeout:           15 * time.Second,
	}
	var nd net.Dialer
	dctx, cancel := context.WithTimeout(ctx, cfg.Timeout)
	defer cancel()
	conn, err := nd.DialContext(dctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("ssh %s@%s: %w", user, addr, err)
	}
	// The handshake gives up with the context.
	stop := context.AfterFunc(dctx, func() { conn.Close() })
	c, chans, reqs, err := ssh.NewClientConn(conn, addr, cfg)
	stop()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("ssh %s@%s: %w", user, addr, err)
	}
	return &remote{c: ssh.NewClient(c, chans, reqs), user: user, addr: addr}, nil
}

// remote is an SSH connection to one drone; commands run as root, through
// sudo -n for another user.
type remote struct {
	c          *ssh.Client
	user, addr string
	sudo       bool
	env        string // shell assignments set for every command
}

func (r *remote) close() { r.c.Close() }

// exitError is a remote command that exited non-zero.
type exitError struct {
	status int
	output string // stdout and stderr
}

func (e *exitError) Error() string {
	s := strings.TrimSpace(e.output)
	if s == "" {
		return fmt.Sprintf("exit status %d", e.status)
	}
	return fmt.Sprintf("exit status %d: %s", e.status, s)
}

// exec runs cmd as given (no sudo), with stdin, and returns its stdout.
func (r *remote) exec(ctx context.Context, cmd string, stdin io.Reader) (string, error) {
	s, err := r.c.NewSession()
	if err != nil {
		return "", fmt.Errorf("ssh %s: %w", r.addr, err)
	}
	defer s.Close()
	var stdout, stderr bytes.Buffer
	s.Stdout, s.Stderr = &stdout, &stderr
	var pipe io.WriteCloser
	if stdin != nil {
		if pipe, err = s.StdinPipe(); err != nil {
			return "", err
		}
	}
	if err := s.Start(cmd); err != nil {
		return "", fmt.Errorf("ssh %s: %w", r.addr, err)
	}
	stop := context.AfterFunc(ctx, func() { s.Close() })
	defer stop()
	if pipe != nil {
		_, cerr := io.Copy(pipe, stdin)
		if cerr != nil {
			// Cut the command off without closing its input cleanly:
			// it must not take a part for the whole.
			s.Signal(ssh.SIGKILL)
			s.Close()
			s.Wait()
			return "", fmt.Errorf("upload: %w", cerr)
		}
		pipe.Close()
	}
	err = s.Wait()
	if ctx.Err() != nil {
		return "", ctx.Err()
	}
	var ee *ssh.ExitError
	if errors.As(err, &ee) {
		return stdout.String(), &exitError{status: ee.ExitStatus(), output: stdout.String() + stderr.String()}
	}
	if err != nil {
		return "", fmt.Errorf("ssh %s: %w", r.addr, err)
	}
	return stdout.String(), nil
}

// run runs a shell script as root.
func (r *remote) run(ctx context.Context, script string, stdin io.Reader) (string, error) {
	cmd := "sh -c " + shellQuote(r.env+"\n"+script)
	if r.sudo {
		cmd = "sudo -n " + cmd
	}
	return r.exec(ctx, cmd, stdin)
}

// prepare reads the drone's machine name and checks that commands can
// run as root.
func (r *remote) prepare(ctx context.Context) (machine, user string, err error) {
	out, err := r.exec(ctx, "uname -m && id -u", nil)
	if err != nil {
		return "", "", fmt.Errorf("uname -m: %w", err)
	}
	f := strings.Fields(out)
	if len(f) != 2 {
		return "", "", fmt.Errorf("uname -m && id -u printed %q", out)
	}
	if f[1] != "0" {
		r.sudo = true
		if _, err := r.exec(ctx, "sudo -n true", nil); err != nil {
			return "", "", fmt.Errorf("%s on %s is not root and cannot use sudo without a password (sudo -n true: %w): give it a NOPASSWD sudoers rule, or flash as root", r.user, r.addr, err)
		}
		return f[0], r.user + " (sudo)", nil
	}
	return f[0], r.user, nil
}

// changed returns the files whose content or mode differs on the drone,
// and whether the file pending exists.
func (r *remote) changed(ctx context.Context, files []remoteFile, pending string) ([]remoteFile, bool, error) {
	var b strings.Builder
	b.WriteString("for f in")
	for _, f := range files {
		b.WriteString(" " + shellQuote(f.path))
	}
	b.WriteString(`; do if [ -f "$f" ]; then echo "$(sha256sum < "$f" | cut -c1-64) $(stat -c %a "$f")"; else echo "- -"; fi; done`)
	fmt.Fprintf(&b, "\nif [ -e %s ]; then echo pending; else echo none; fi", shellQuote(pending))
	out, err := r.run(ctx, b.String(), nil)
	if err != nil {
		return nil, false, fmt.Errorf("reading the installed files: %w", err)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != len(files)+1 {
		return nil, false, fmt.Errorf("reading the installed files: %d lines for %d files: %q", len(lines), len(files), out)
	}
	var changed []remoteFile
	for i, f := range files {
		sum, mode, _ := strings.Cut(lines[i], " ")
		if sum != f.sum || mode != strconv.FormatUint(uint64(f.mode.Perm()), 8) {
			changed = append(changed, f)
		}
	}
	return changed, lines[len(files)] == "pending", nil
}

// uploadReader wraps what is uploaded (tests cut an upload short).
var uploadReader = func(f remoteFile) io.Reader { return bytes.NewReader(f.data) }

func tmpName(p string) string { return path.Join(path.Dir(p), "."+path.Base(p)+".flash-tmp") }

// install uploads files under temporary names, checks each one's SHA-256
// on the drone, and only then creates the file pending and moves them all
// into place, the binary replaced kept as binary.prev. Any failure before
// the move removes the temporary files and leaves the installed ones as
// they were.
func (r *remote) install(ctx context.Context, files []remoteFile, binary, pending string) error {
	var tmps []string
	cleanup := func() {
		if len(tmps) == 0 {
			return
		}
		q := make([]string, len(tmps))
		for i, t := range tmps {
			q[i] = shellQuote(t)
		}
		// Best effort, even when ctx has ended.
		cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		r.run(cctx, "rm -f "+strings.Join(q, " "), nil)
	}
	for _, f := range files {
		tmp := tmpName(f.path)
		tmps = append(tmps, tmp)
		script := fmt.Sprintf("set -e\nmkdir -p %s\n(umask 077 && cat > %s)\nchmod %o %s\nsha256sum < %s | cut -c1-64",
			shellQuote(path.Dir(f.path)), shellQuote(tmp), f.mode.Perm(), shellQuote(tmp), shellQuote(tmp))
		out, err := r.run(ctx, script, uploadReader(f))
		if err != nil {
			cleanup()
			return fmt.Errorf("uploading the %s to %s: %w; nothing was installed", f.name, tmp, err)
		}
		if got := strings.TrimSpace(out); got != f.sum {
			cleanup()
			return fmt.Errorf("uploading the %s to %s: SHA-256 %s on the drone, %s sent; nothing was installed", f.name, tmp, got, f.sum)
		}
	}
	var b strings.Builder
	b.WriteString("set -e\n")
	fmt.Fprintf(&b, ": > %s\n", shellQuote(pending))
	for _, f := range files {
		if f.path == binary {
			fmt.Fprintf(&b, "if [ -f %[1]s ]; then ln -f %[1]s %[1]s.prev; fi\n", shellQuote(binary))
		}
		fmt.Fprintf(&b, "mv -f %s %s\n", shellQuote(tmpName(f.path)), shellQuote(f.path))
	}
	b.WriteString("sync\n")
	if _, err := r.run(ctx, b.String(), nil); err != nil {
		cleanup()
		return fmt.Errorf("moving the files into place: %w", err)
	}
	return nil
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }
