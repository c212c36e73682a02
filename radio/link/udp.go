package link

import (
	"errors"
	"fmt"
	"net"
	"sync"
)

// UDPConfig configures a UDP link.
type UDPConfig struct {
	// Listen is the local address, such as "127.0.0.1:14560".
	Listen string
	// Peers are the addresses a broadcast goes to (the other drones, or a
	// SITL radio hub).
	Peers []string
	// Hub says that the peers are a SITL radio hub (package sitl/hub),
	// which stands for this drone's own radio: Info reports LocalRadio, so
	// that the hub's unsigned RADIO_STATUS frames pace the drone as a
	// serial radio's do, and datagrams from any other address are ignored
	// (counted as Strays) lest anyone on the host pace the drone.
	Hub bool
}

// UDP is a link over UDP datagrams, one frame per datagram, for SITL.
type UDP struct {
	conn  *net.UDPConn
	peers []*net.UDPAddr
	hub   bool

	mu       sync.Mutex
	routes   map[uint8]*net.UDPAddr
	counters Counters
}

var (
	_ Link    = (*UDP)(nil)
	_ Learner = (*UDP)(nil)
)

// ListenUDP opens a UDP link.
func ListenUDP(cfg UDPConfig) (*UDP, error) {
	laddr, err := net.ResolveUDPAddr("udp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("link: UDP listen address %q: %w", cfg.Listen, err)
	}
	u := &UDP{routes: map[uint8]*net.UDPAddr{}, hub: cfg.Hub}
	for _, p := range cfg.Peers {
		a, err := net.ResolveUDPAddr("udp", p)
		if err != nil {
			return nil, fmt.Errorf("link: UDP peer address %q: %w", p, err)
		}
		u.peers = append(u.peers, a)
	}
	u.conn, err = net.ListenUDP("udp", laddr)
	if err != nil {
		return nil, fmt.Errorf("link: listen on %s: %w (is another process using the port?)", cfg.Listen, err)
	}
	return u, nil
}

// Addr returns the local address (useful with port 0).
func (u *UDP) Addr() net.Addr { return u.conn.LocalAddr() }

// Send implements Link: a unicast goes to the address the system ID was
// last verified from, or to every peer while it is unknown.
func (u *UDP) Send(p []byte, to Dest) error {
	u.mu.Lock()
	var dst []*net.UDPAddr
	if a, ok := u.routes[uint8(to)]; ok && to != Broadcast {
		dst = []*net.UDPAddr{a}
	} else {
		dst = u.peers
	}
	u.mu.Unlock()
	var errs []error
	for _, a := range dst {
		if _, err := u.conn.WriteToUDP(p, a); err != nil {
			errs = append(errs, fmt.Errorf("link: send to %s: %w", a, err))
		}
	}
	u.mu.Lock()
	defer u.mu.Unlock()
	if len(errs) > 0 {
		u.counters.SendErrors++
		return errors.Join(errs...)
	}
	u.counters.Sends++
	u.counters.BytesSent += len(p)
	return nil
}

// Receive implements Link.
func (u *UDP) Receive() (Packet, error) {
	buf := make([]byte, 2048)
	for {
		n, from, err := u.conn.ReadFromUDP(buf)
		if errors.Is(err, net.ErrClosed) {
			return Packet{}, ErrClosed
		}
		if err != nil {
			// ICMP port unreachable and the like: the socket stays usable.
			continue
		}
		if u.hub && !u.isPeer(from) {
			u.mu.Lock()
			u.counters.Strays++
			u.mu.Unlock()
			continue
		}
		u.mu.Lock()
		u.counters.Packets++
		u.counters.BytesReceived += n
		u.mu.Unlock()
		return Packet{Data: append([]byte(nil), buf[:n]...), From: from.String()}, nil
	}
}

func (u *UDP) isPeer(a *net.UDPAddr) bool {
	for _, p := range u.peers {
		if p.Port == a.Port && p.IP.Equal(a.IP) {
			return true
		}
	}
	return false
}

// Learn implements Learner.
func (u *UDP) Learn(id uint8, from string) {
	a, err := net.ResolveUDPAddr("udp", from)
	if err != nil || id == uint8(Broadcast) {
		return
	}
	u.mu.Lock()
	u.routes[id] = a
	u.mu.Unlock()
}

// Close implements Link.
func (u *UDP) Close() error {
	if err := u.conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		return fmt.Errorf("link: close UDP: %w", err)
	}
	return nil
}

// Counters implements Link.
func (u *UDP) Counters() Counters {
	u.mu.Lock()
	defer u.mu.Unlock()
	return u.counters
}

// Info implements Link.
func (u *UDP) Info() Info {
	return Info{Name: "udp:" + u.conn.LocalAddr().String(), Datagrams: true, LocalRadio: u.hub}
}
