package hub

import (
	"errors"
	"fmt"
	"os"
	"sync"

	"github.com/creack/pty"
	"golang.org/x/sys/unix"
)

// ptyOut is how many frames may wait for a pty's reader; beyond that they
// are dropped and counted as the endpoint's overruns.
const ptyOut = 256

// ptyPort is the hub's side of a pseudo-terminal that a drone opens as
// its serial radio.
type ptyPort struct {
	dev    string
	master *os.File // the hub reads and writes frames here
	tty    *os.File // held open so that the master reads no EIO between a drone's opens
	out    chan []byte

	once sync.Once
	err  error
}

// openPty makes a raw pseudo-terminal. Its master is made non-blocking
// and so served by Go's poller, so that Close interrupts a read or write
// in progress.
func openPty() (*ptyPort, error) {
	m, tty, err := pty.Open()
	if err != nil {
		return nil, fmt.Errorf("open a pseudo-terminal: %w", err)
	}
	// pty.Open leaves the master blocking (it asked for its Fd): a copy
	// of the descriptor, non-blocking, goes to the poller instead.
	fd, err := unix.Dup(int(m.Fd()))
	m.Close()
	if err != nil {
		tty.Close()
		return nil, fmt.Errorf("pseudo-terminal %s: %w", tty.Name(), err)
	}
	unix.CloseOnExec(fd)
	if err := unix.SetNonblock(fd, true); err != nil {
		unix.Close(fd)
		tty.Close()
		return nil, fmt.Errorf("pseudo-terminal %s: %w", tty.Name(), err)
	}
	p := &ptyPort{dev: tty.Name(), master: os.NewFile(uintptr(fd), "ptmx:"+tty.Name()), tty: tty, out: make(chan []byte, ptyOut)}
	if err := makeRaw(int(tty.Fd())); err != nil {
		p.close()
		return nil, fmt.Errorf("pseudo-terminal %s: raw mode: %w", p.dev, err)
	}
	return p, nil
}

// makeRaw sets a terminal to pass bytes unchanged (cfmakeraw), as a
// serial radio's port is: no echo, no line editing, no CR/LF translation.
func makeRaw(fd int) error {
	t, err := unix.IoctlGetTermios(fd, unix.TCGETS)
	if err != nil {
		return err
	}
	t.Iflag &^= unix.IGNBRK | unix.BRKINT | unix.PARMRK | unix.ISTRIP | unix.INLCR | unix.IGNCR | unix.ICRNL | unix.IXON
	t.Oflag &^= unix.OPOST
	t.Lflag &^= unix.ECHO | unix.ECHONL | unix.ICANON | unix.ISIG | unix.IEXTEN
	t.Cflag &^= unix.CSIZE | unix.PARENB
	t.Cflag |= unix.CS8
	t.Cc[unix.VMIN] = 1
	t.Cc[unix.VTIME] = 0
	return unix.IoctlSetTermios(fd, unix.TCSETS, t)
}

// write queues a frame for the drone; false when the queue is full.
func (p *ptyPort) write(frame []byte) bool {
	select {
	case p.out <- frame:
		return true
	default:
		return false
	}
}

// writeLoop writes queued frames to the master until done.
func (p *ptyPort) writeLoop(done <-chan struct{}) {
	for {
		select {
		case <-done:
			return
		case f := <-p.out:
			if _, err := p.master.Write(f); err != nil {
				return // closed; the reader reports anything else
			}
		}
	}
}

// close closes both sides.
func (p *ptyPort) close() error {
	p.once.Do(func() {
		err := p.master.Close()
		if terr := p.tty.Close(); err == nil {
			err = terr
		}
		if err != nil && !errors.Is(err, os.ErrClosed) {
			p.err = fmt.Errorf("close pseudo-terminal %s: %w", p.dev, err)
		}
	})
	return p.err
}
