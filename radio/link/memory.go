package link

import (
	"fmt"
	"strconv"
	"sync"
)

// Hub is an in-memory radio network for tests: every member hears every
// broadcast of the others, and a unicast reaches one member. Nothing is
// lost, duplicated or delayed.
type Hub struct {
	mu      sync.Mutex
	members map[uint8]*Memory
}

// NewHub returns an empty network.
func NewHub() *Hub { return &Hub{members: map[uint8]*Memory{}} }

// Join adds the member with MAVLink system ID id.
func (h *Hub) Join(id uint8) (*Memory, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if id == uint8(Broadcast) {
		return nil, fmt.Errorf("link: system ID 0 is the broadcast address; pick 1–250")
	}
	if _, dup := h.members[id]; dup {
		return nil, fmt.Errorf("link: system ID %d already joined the hub", id)
	}
	m := &Memory{hub: h, id: id, in: newInbox()}
	h.members[id] = m
	return m, nil
}

// Memory is one member of a Hub.
type Memory struct {
	hub *Hub
	id  uint8
	in  *inbox

	mu       sync.Mutex
	counters Counters
	closed   bool
}

var _ Link = (*Memory)(nil)

// Send implements Link.
func (m *Memory) Send(p []byte, to Dest) error {
	m.mu.Lock()
	closed := m.closed
	m.mu.Unlock()
	if closed {
		return ErrClosed
	}
	m.hub.mu.Lock()
	var dst []*Memory
	for id, peer := range m.hub.members {
		if id != m.id && (to == Broadcast || Dest(id) == to) {
			dst = append(dst, peer)
		}
	}
	m.hub.mu.Unlock()
	from := strconv.Itoa(int(m.id))
	for _, peer := range dst {
		if peer.in.put(Packet{Data: append([]byte(nil), p...), From: from}) {
			peer.mu.Lock()
			peer.counters.Packets++
			peer.counters.BytesReceived += len(p)
			peer.mu.Unlock()
		}
	}
	m.mu.Lock()
	m.counters.Sends++
	m.counters.BytesSent += len(p)
	m.mu.Unlock()
	return nil
}

// Receive implements Link.
func (m *Memory) Receive() (Packet, error) { return m.in.get() }

// Close implements Link: the member leaves the hub.
func (m *Memory) Close() error {
	m.mu.Lock()
	m.closed = true
	m.mu.Unlock()
	m.hub.mu.Lock()
	if m.hub.members[m.id] == m {
		delete(m.hub.members, m.id)
	}
	m.hub.mu.Unlock()
	m.in.close()
	return nil
}

// Counters implements Link.
func (m *Memory) Counters() Counters {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.counters
}

// Info implements Link.
func (m *Memory) Info() Info {
	return Info{Name: "memory:" + strconv.Itoa(int(m.id)), Datagrams: true}
}
