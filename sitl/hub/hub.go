package hub

import (
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	mavdialect "github.com/bluenviron/gomavlib/v3/pkg/dialect"
	"github.com/bluenviron/gomavlib/v3/pkg/dialects/ardupilotmega"

	"github.com/skyquorum/skyquorum/radio/wire"
)

// Defaults of Config.
const (
	DefaultHost        = "127.0.0.1"
	DefaultBaud        = 57600
	DefaultStatusEvery = time.Second
	DefaultQueueBytes  = 2048
	// MaxNetworks bounds Config.Networks (each takes a UDP port and two
	// goroutines).
	MaxNetworks = 64
)

// ErrConfig is wrapped by Start's errors for a bad Config.
var ErrConfig = errors.New("hub: bad configuration")

// Config configures a Hub.
type Config struct {
	// Networks is the number of radio networks, each its own channel on
	// its own UDP port (optional, default 1).
	Networks int
	// Host is the address the UDP ports and the control port listen on
	// (optional, default 127.0.0.1).
	Host string
	// Baud is the radios' serial rate in bits per second: a frame of n
	// bytes holds its network's channel for n × 10 / Baud (optional,
	// default 57600).
	Baud int
	// Loss is the probability that a receiver misses a frame, drawn
	// independently for each receiver.
	Loss float64
	// Duplicate is the probability that a receiver gets a frame twice.
	Duplicate float64
	// Reorder is the largest extra delay of a delivery, drawn uniformly
	// for each copy, which reorders frames.
	Reorder time.Duration
	// Seed seeds the hub's random choices (losses, duplicates, delays,
	// signal strengths): the same frames in the same order meet the same
	// fate.
	Seed uint64
	// StatusEvery is the period of the RADIO_STATUS frames each endpoint
	// gets (optional, default one second).
	StatusEvery time.Duration
	// QueueBytes is each endpoint's transmit queue, in bytes, like a SiK
	// radio's serial buffer: a frame that does not fit is dropped and
	// counted (optional, default 2048).
	QueueBytes int
	// Logger receives endpoints joining, partitions and heals (optional,
	// default slog.Default()).
	Logger *slog.Logger
}

// Hub is a live radio hub: it relays MAVLink frames between drone
// processes and ground stations on one host, in real time, through the
// radio model of package sim (see the package documentation).
type Hub struct {
	cfg   Config
	log   *slog.Logger
	start time.Time
	nets  []*network
	ctl   *control

	closeOnce sync.Once
	done      chan struct{}
	wg        sync.WaitGroup
}

// network is one radio network: its UDP port, its ptys and its channel.
type network struct {
	h     *Hub
	index int // from 1
	conn  *net.UDPConn
	wake  chan struct{}

	mu      sync.Mutex
	ch      *channel
	udp     map[string]*endpoint // by source address
	addrs   map[*endpoint]*net.UDPAddr
	split   map[*endpoint]*splitter
	ptys    map[*endpoint]*ptyPort
	enc     *wire.Encoder // RADIO_STATUS
	signal  *rand.Rand    // signal strengths, apart from the channel's choices
	stopped bool
}

// Start opens the hub's UDP ports and control port and starts relaying.
func Start(cfg Config) (*Hub, error) {
	if cfg.Networks == 0 {
		cfg.Networks = 1
	}
	if cfg.Host == "" {
		cfg.Host = DefaultHost
	}
	if cfg.Baud == 0 {
		cfg.Baud = DefaultBaud
	}
	if cfg.StatusEvery == 0 {
		cfg.StatusEvery = DefaultStatusEvery
	}
	if cfg.QueueBytes == 0 {
		cfg.QueueBytes = DefaultQueueBytes
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	switch {
	case cfg.Networks < 0 || cfg.Networks > MaxNetworks:
		return nil, fmt.Errorf("%w: networks %d: use 1–%d", ErrConfig, cfg.Networks, MaxNetworks)
	case cfg.Baud < 0:
		return nil, fmt.Errorf("%w: baud %d must be positive", ErrConfig, cfg.Baud)
	case !(cfg.Loss >= 0 && cfg.Loss < 1):
		return nil, fmt.Errorf("%w: loss %v: give a probability in [0, 1)", ErrConfig, cfg.Loss)
	case !(cfg.Duplicate >= 0 && cfg.Duplicate <= 1):
		return nil, fmt.Errorf("%w: duplicate %v: give a probability in [0, 1]", ErrConfig, cfg.Duplicate)
	case cfg.Reorder < 0:
		return nil, fmt.Errorf("%w: reorder %v is negative", ErrConfig, cfg.Reorder)
	case cfg.StatusEvery < 0:
		return nil, fmt.Errorf("%w: status period %v is negative", ErrConfig, cfg.StatusEvery)
	case cfg.QueueBytes < 0:
		return nil, fmt.Errorf("%w: queue of %d bytes: give a positive size", ErrConfig, cfg.QueueBytes)
	}
	rw := &mavdialect.ReadWriter{Dialect: ardupilotmega.Dialect}
	if err := rw.Initialize(); err != nil {
		return nil, fmt.Errorf("hub: ardupilotmega dialect: %w", err)
	}
	h := &Hub{cfg: cfg, log: cfg.Logger, start: time.Now(), done: make(chan struct{})}
	ip := net.ParseIP(cfg.Host)
	if ip == nil {
		return nil, fmt.Errorf("%w: host %q: give an IP address, such as 127.0.0.1", ErrConfig, cfg.Host)
	}
	for i := 1; i <= cfg.Networks; i++ {
		conn, err := net.ListenUDP("udp", &net.UDPAddr{IP: ip})
		if err != nil {
			h.closeSockets()
			return nil, fmt.Errorf("hub: network %d: listen on %s: %w", i, cfg.Host, err)
		}
		n := &network{
			h: h, index: i, conn: conn, wake: make(chan struct{}, 1),
			ch: newChannel(channelConfig{
				baud: cfg.Baud, queueBytes: cfg.QueueBytes,
				loss: cfg.Loss, duplicate: cfg.Duplicate, reorder: cfg.Reorder,
			}, rand.New(rand.NewPCG(cfg.Seed, uint64(i))), h.start),
			udp:    map[string]*endpoint{},
			addrs:  map[*endpoint]*net.UDPAddr{},
			split:  map[*endpoint]*splitter{},
			ptys:   map[*endpoint]*ptyPort{},
			enc:    wire.NewEncoder(rw, wire.RadioSystemID, wire.RadioComponentID),
			signal: rand.New(rand.NewPCG(cfg.Seed, uint64(i)|1<<32)),
		}
		h.nets = append(h.nets, n)
	}
	ctl, err := listenControl(h)
	if err != nil {
		h.closeSockets()
		return nil, err
	}
	h.ctl = ctl
	for _, n := range h.nets {
		h.wg.Add(2)
		go n.receive()
		go n.run()
		h.log.Info("radio hub network ready", "network", n.index, "addr", n.conn.LocalAddr().String(), "baud", cfg.Baud)
	}
	h.wg.Add(1)
	go ctl.serve()
	return h, nil
}

func (h *Hub) closeSockets() {
	for _, n := range h.nets {
		n.conn.Close()
	}
}

// net returns network i (from 1), or an error that says which exist.
func (h *Hub) net(i int) (*network, error) {
	if i < 1 || i > len(h.nets) {
		return nil, fmt.Errorf("hub: no network %d: this hub has networks 1–%d", i, len(h.nets))
	}
	return h.nets[i-1], nil
}

// Addr returns network's UDP address, host:port (network from 1): the
// address drones give as --hub and ground stations as their peer. It is ""
// for a network the hub does not have.
func (h *Hub) Addr(network int) string {
	n, err := h.net(network)
	if err != nil {
		return ""
	}
	return n.conn.LocalAddr().String()
}

// Partition splits network by MAVLink system ID: no frame crosses from one
// group to another; system IDs listed in no group form one more group.
// Frames already on their way are still delivered. It replaces any
// partition before it. A network the hub does not have is logged.
func (h *Hub) Partition(network int, groups ...[]uint8) {
	if err := h.partition(network, groups); err != nil {
		h.log.Error("hub: partition", "err", err)
	}
}

func (h *Hub) partition(network int, groups [][]uint8) error {
	n, err := h.net(network)
	if err != nil {
		return err
	}
	seen := map[uint8]int{}
	for i, g := range groups {
		for _, id := range g {
			if j, ok := seen[id]; ok && j != i {
				return fmt.Errorf("hub: system ID %d is in groups %d and %d: put it in one", id, j+1, i+1)
			}
			seen[id] = i
		}
	}
	n.mu.Lock()
	n.ch.partition(groups)
	n.mu.Unlock()
	h.log.Info("radio hub network partitioned", "network", network, "groups", fmt.Sprint(groups))
	return nil
}

// Heal ends network's partition.
func (h *Hub) Heal(network int) {
	if err := h.heal(network); err != nil {
		h.log.Error("hub: heal", "err", err)
	}
}

func (h *Hub) heal(network int) error {
	n, err := h.net(network)
	if err != nil {
		return err
	}
	n.mu.Lock()
	n.ch.heal()
	n.mu.Unlock()
	h.log.Info("radio hub network healed", "network", network)
	return nil
}

// Counters returns the running totals of every network and endpoint.
func (h *Hub) Counters() Counters {
	now := time.Now()
	c := Counters{Networks: []NetworkCounters{}}
	for _, n := range h.nets {
		n.mu.Lock()
		c.Networks = append(c.Networks, n.ch.counters(n.index, now))
		n.mu.Unlock()
	}
	return c
}

// ControlAddr returns the control port's TCP address, host:port.
func (h *Hub) ControlAddr() string { return h.ctl.ln.Addr().String() }

// Close stops every goroutine and closes the sockets and ptys. Frames
// queued or on their way are not delivered.
func (h *Hub) Close() error {
	var errs []error
	h.closeOnce.Do(func() {
		close(h.done)
		if err := h.ctl.close(); err != nil {
			errs = append(errs, err)
		}
		for _, n := range h.nets {
			if err := n.close(); err != nil {
				errs = append(errs, err)
			}
		}
		h.wg.Wait()
	})
	return errors.Join(errs...)
}

func (n *network) close() error {
	var errs []error
	if err := n.conn.Close(); err != nil && !errors.Is(err, net.ErrClosed) {
		errs = append(errs, fmt.Errorf("hub: network %d: close UDP: %w", n.index, err))
	}
	n.mu.Lock()
	n.stopped = true
	ptys := make([]*ptyPort, 0, len(n.ptys))
	for _, p := range n.ptys {
		ptys = append(ptys, p)
	}
	n.mu.Unlock()
	for _, p := range ptys {
		if err := p.close(); err != nil {
			errs = append(errs, fmt.Errorf("hub: network %d: %w", n.index, err))
		}
	}
	return errors.Join(errs...)
}

func (n *network) kick() {
	select {
	case n.wake <- struct{}{}:
	default:
	}
}

// receive reads the network's UDP port: each source address is an
// endpoint, each datagram one or more frames.
func (n *network) receive() {
	defer n.h.wg.Done()
	buf := make([]byte, 65536)
	for {
		size, from, err := n.conn.ReadFromUDP(buf)
		if errors.Is(err, net.ErrClosed) {
			return
		}
		if err != nil {
			continue // ICMP errors and the like: the socket stays usable
		}
		key := from.String()
		now := time.Now()
		n.mu.Lock()
		ep, ok := n.udp[key]
		if !ok {
			ep = n.ch.join("udp:" + key)
			n.udp[key] = ep
			n.addrs[ep] = from
			n.split[ep] = &splitter{}
		}
		n.offer(now, ep, buf[:size], true)
		n.mu.Unlock()
		if !ok {
			n.h.log.Info("radio hub endpoint joined", "network", n.index, "endpoint", ep.name, "system_id", ep.sysid)
		}
		n.kick()
	}
}

// offer splits p into frames and queues them from ep (n.mu held).
// datagram says p ends whatever it holds.
func (n *network) offer(now time.Time, ep *endpoint, p []byte, datagram bool) {
	s := n.split[ep]
	before := s.garbage
	s.feed(p, func(frame []byte, sysid uint8) {
		if !n.ch.offer(now, ep, frame, sysid) {
			n.h.log.Debug("radio hub transmit queue full: frame dropped", "network", n.index, "endpoint", ep.name, "bytes", len(frame))
		}
	})
	if datagram {
		s.flush()
	}
	ep.garbage += s.garbage - before
}

// run drives the channel in real time and sends RADIO_STATUS.
func (n *network) run() {
	defer n.h.wg.Done()
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	var status <-chan time.Time
	if n.h.cfg.StatusEvery > 0 {
		t := time.NewTicker(n.h.cfg.StatusEvery)
		defer t.Stop()
		status = t.C
	}
	for {
		n.mu.Lock()
		due := n.ch.step(time.Now())
		next, ok := n.ch.next()
		n.mu.Unlock()
		n.deliver(due)
		if ok {
			timer.Reset(max(0, time.Until(next)))
		} else {
			timer.Stop()
		}
		select {
		case <-n.h.done:
			return
		case <-n.wake:
		case <-timer.C:
		case <-status:
			n.status()
		}
	}
}

// deliver hands frames to their endpoints.
func (n *network) deliver(ds []delivery) {
	for _, d := range ds {
		n.send(d.to, d.frame)
	}
}

// send writes one frame to an endpoint.
func (n *network) send(ep *endpoint, frame []byte) {
	n.mu.Lock()
	addr := n.addrs[ep]
	p := n.ptys[ep]
	n.mu.Unlock()
	switch {
	case addr != nil:
		if _, err := n.conn.WriteToUDP(frame, addr); err != nil && !errors.Is(err, net.ErrClosed) {
			n.h.log.Debug("radio hub send failed", "network", n.index, "endpoint", ep.name, "err", err)
		}
	case p != nil:
		if !p.write(frame) {
			n.mu.Lock()
			ep.overruns++
			n.mu.Unlock()
		}
	}
}

// status sends every endpoint a RADIO_STATUS: the free share of its
// transmit queue, plausible signal strengths, and the frames it lost as
// receive errors.
func (n *network) status() {
	type out struct {
		ep    *endpoint
		frame []byte
	}
	var outs []out
	n.mu.Lock()
	for _, ep := range n.ch.eps {
		msg := &ardupilotmega.MessageRadioStatus{
			Rssi:     uint8(150 + n.signal.IntN(40)),
			Remrssi:  uint8(150 + n.signal.IntN(40)),
			Txbuf:    n.ch.free(ep),
			Noise:    uint8(40 + n.signal.IntN(20)),
			Remnoise: uint8(40 + n.signal.IntN(20)),
			Rxerrors: uint16(min(ep.lost, 65535)),
			Fixed:    0, // the hub corrects no errors
		}
		frame, err := n.enc.Encode(msg, nil)
		if err != nil {
			n.mu.Unlock()
			n.h.log.Error("hub: RADIO_STATUS", "err", err)
			return
		}
		ep.status++
		outs = append(outs, out{ep, frame})
	}
	n.mu.Unlock()
	for _, o := range outs {
		n.send(o.ep, o.frame)
	}
}

// Serial returns the device of a new pseudo-terminal whose other side the
// hub serves as an endpoint of network: a drone opens it as its serial
// radio (at any baud: the channel's Baud paces it). The pty lives until
// Close.
func (h *Hub) Serial(network int) (dev string, err error) {
	n, err := h.net(network)
	if err != nil {
		return "", err
	}
	p, err := openPty()
	if err != nil {
		return "", fmt.Errorf("hub: network %d: %w", network, err)
	}
	n.mu.Lock()
	if n.stopped {
		n.mu.Unlock()
		_ = p.close()
		return "", fmt.Errorf("hub: network %d: %w", network, net.ErrClosed)
	}
	ep := n.ch.join("pty:" + p.dev)
	n.ptys[ep] = p
	n.split[ep] = &splitter{}
	h.wg.Add(2) // before Close can wait: it sets stopped under n.mu first
	n.mu.Unlock()
	go n.readPty(ep, p)
	go func() { defer h.wg.Done(); p.writeLoop(h.done) }()
	h.log.Info("radio hub serial endpoint ready", "network", network, "device", p.dev)
	return p.dev, nil
}

// readPty feeds what the drone writes on its serial device to the
// channel, as a byte stream.
func (n *network) readPty(ep *endpoint, p *ptyPort) {
	defer n.h.wg.Done()
	buf := make([]byte, 4096)
	for {
		size, err := p.master.Read(buf)
		if size > 0 {
			n.mu.Lock()
			n.offer(time.Now(), ep, buf[:size], false)
			n.mu.Unlock()
			n.kick()
		}
		if err != nil {
			select {
			case <-n.h.done:
				return
			default:
			}
			// EIO while nobody holds the device open cannot happen: the
			// hub holds its side. Anything else ends the endpoint.
			n.h.log.Warn("radio hub serial endpoint stopped", "network", n.index, "device", p.dev, "err", err)
			return
		}
	}
}
