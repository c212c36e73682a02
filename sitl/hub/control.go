package hub

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
)

// controlHelp is the reply to "help", and follows every unknown command.
const controlHelp = `commands: "partition NET 1,2,3 4,5" (groups of system IDs), "heal NET", "counters", "help"`

// maxControlLine bounds a control command's length.
const maxControlLine = 64 * 1024

// control is the hub's TCP control port: one command a line, one reply
// line each.
type control struct {
	h  *Hub
	ln net.Listener

	mu     sync.Mutex
	conns  map[net.Conn]struct{}
	closed bool
}

func listenControl(h *Hub) (*control, error) {
	ln, err := net.Listen("tcp", net.JoinHostPort(h.cfg.Host, "0"))
	if err != nil {
		return nil, fmt.Errorf("hub: control port on %s: %w", h.cfg.Host, err)
	}
	return &control{h: h, ln: ln, conns: map[net.Conn]struct{}{}}, nil
}

func (c *control) serve() {
	defer c.h.wg.Done()
	for {
		conn, err := c.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			conn.Close()
			return
		}
		c.conns[conn] = struct{}{}
		c.h.wg.Add(1)
		c.mu.Unlock()
		go c.session(conn)
	}
}

func (c *control) session(conn net.Conn) {
	defer c.h.wg.Done()
	defer func() {
		c.mu.Lock()
		delete(c.conns, conn)
		c.mu.Unlock()
		conn.Close()
	}()
	sc := bufio.NewScanner(conn)
	sc.Buffer(make([]byte, 4096), maxControlLine)
	w := bufio.NewWriter(conn)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" {
			continue
		}
		w.WriteString(c.h.Command(line))
		w.WriteByte('\n')
		if w.Flush() != nil {
			return
		}
	}
	if errors.Is(sc.Err(), bufio.ErrTooLong) {
		fmt.Fprintf(conn, "error: command longer than %d bytes\n", maxControlLine)
	}
}

func (c *control) close() error {
	c.mu.Lock()
	c.closed = true
	for conn := range c.conns {
		conn.Close()
	}
	c.mu.Unlock()
	if err := c.ln.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("hub: close control port: %w", err)
	}
	return nil
}

// Command runs one control command and returns its reply line (without
// the newline): "ok", the counters as JSON, or "error: " and what to fix.
func (h *Hub) Command(line string) string {
	f := strings.Fields(line)
	if len(f) == 0 {
		return "error: empty command; " + controlHelp
	}
	switch f[0] {
	case "help":
		return controlHelp
	case "counters":
		if len(f) != 1 {
			return "error: counters takes no arguments"
		}
		b, err := json.Marshal(h.Counters())
		if err != nil {
			return "error: " + err.Error()
		}
		return string(b)
	case "heal":
		if len(f) != 2 {
			return "error: heal takes one network number: heal NET"
		}
		n, err := h.parseNetwork(f[1])
		if err != nil {
			return "error: " + err.Error()
		}
		if err := h.heal(n); err != nil {
			return "error: " + err.Error()
		}
		return "ok"
	case "partition":
		if len(f) < 3 {
			return "error: partition takes a network number and at least one group of system IDs: partition NET 1,2,3 4,5"
		}
		n, err := h.parseNetwork(f[1])
		if err != nil {
			return "error: " + err.Error()
		}
		var groups [][]uint8
		for _, g := range f[2:] {
			ids, err := parseGroup(g)
			if err != nil {
				return "error: " + err.Error()
			}
			groups = append(groups, ids)
		}
		if err := h.partition(n, groups); err != nil {
			return "error: " + err.Error()
		}
		return "ok"
	}
	return fmt.Sprintf("error: unknown command %q; %s", f[0], controlHelp)
}

func (h *Hub) parseNetwork(s string) (int, error) {
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > len(h.nets) {
		return 0, fmt.Errorf("network %q: give a network number 1–%d", s, len(h.nets))
	}
	return n, nil
}

// parseGroup reads "1,2,3".
func parseGroup(s string) ([]uint8, error) {
	var ids []uint8
	for _, part := range strings.Split(s, ",") {
		id, err := strconv.Atoi(part)
		if err != nil || id < 1 || id > 255 {
			return nil, fmt.Errorf("group %q: %q is not a MAVLink system ID (1–255); write a group as IDs joined by commas, such as 1,2,3", s, part)
		}
		ids = append(ids, uint8(id))
	}
	return ids, nil
}
