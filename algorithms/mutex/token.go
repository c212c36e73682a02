package mutex

import (
	"errors"
	"fmt"
	"slices"

	"github.com/skyquorum/skyquorum/algorithms"
)

// ErrUnknownResource is returned by a core that manages a fixed set of
// resources (the token ring) when asked for another one.
var ErrUnknownResource = errors.New("mutex: resource not managed by this core; list it when building the core")

// Token is the token ring's only message: it hands Resource to the next
// drone of the ring.
type Token struct{ Resource Resource }

// Kind implements algorithms.Message.
func (Token) Kind() string { return "TOKEN" }

// Size implements algorithms.Message.
func (Token) Size() int { return kindBytes + resourceBytes }

// TokenPassed is emitted each time the drone sends the token of Resource
// to To, whether idle circulation or a hand-over after Release, so that
// the driver can count the ring's standing traffic.
type TokenPassed struct {
	Resource Resource
	To       algorithms.NodeID
}

// TokenRing is the token ring algorithm: the drones, in increasing ID
// order, form a ring, and one token per resource travels around it. A
// drone enters when it holds the token and passes the token to its
// successor when it leaves (one message to exit). The token circulates
// even when nobody wants it: on each Tick a drone passes on every token it
// holds and does not use, one hop per tick, so an idle rotation costs N
// frames over N ticks and a request waits 0 to N hops (docs/algorithms.md,
// token ring). It gives ME1 and ME2, not ME3.
//
// A token held by, or in flight to, a drone that crashes is lost: the
// textbook has no regeneration, and the swarm's airspace locks use leases
// instead.
type TokenRing struct {
	algorithms.Outbox
	id algorithms.NodeID
	// all is the configured ring; ring the drones not reported down.
	all, ring []algorithms.NodeID
	resources map[Resource]bool
	token     map[Resource]bool
	state     map[Resource]clientState
}

var (
	_ Mutex                   = (*TokenRing)(nil)
	_ algorithms.PeerObserver = (*TokenRing)(nil)
)

// NewTokenRing returns the core of drone id in a ring of the given drones
// (in any order; the ring follows increasing IDs) sharing the given
// resources. The drone with the lowest ID starts with every token. It
// panics if id is not in ring, a configuration error.
func NewTokenRing(id algorithms.NodeID, ring []algorithms.NodeID, resources []Resource) *TokenRing {
	all := normalizeIDs(ring)
	if !slices.Contains(all, id) {
		panic(fmt.Sprintf("mutex: NewTokenRing: drone %d is not in the ring %v", id, all))
	}
	t := &TokenRing{
		id:        id,
		all:       all,
		ring:      slices.Clone(all),
		resources: map[Resource]bool{},
		token:     map[Resource]bool{},
		state:     map[Resource]clientState{},
	}
	for _, r := range resources {
		t.resources[r] = true
		if id == all[0] {
			t.token[r] = true
		}
	}
	return t
}

// Holds reports whether the drone holds the token of r right now.
func (t *TokenRing) Holds(r Resource) bool { return t.token[r] }

// Request implements Mutex. The drone enters at once if it holds the token.
func (t *TokenRing) Request(r Resource) error {
	if !t.resources[r] {
		return fmt.Errorf("token ring: request %d: %w", r, ErrUnknownResource)
	}
	if t.state[r] != released {
		return fmt.Errorf("token ring: request %d: %w", r, ErrBusy)
	}
	t.state[r] = wanted
	if t.token[r] {
		t.enter(r)
	}
	return nil
}

// Release implements Mutex: the token goes on to the successor at once.
func (t *TokenRing) Release(r Resource) error {
	if t.state[r] != held {
		return fmt.Errorf("token ring: release %d: %w", r, ErrNotHeld)
	}
	delete(t.state, r)
	t.pass(r)
	return nil
}

// Step implements algorithms.Core.
func (t *TokenRing) Step(from algorithms.NodeID, m algorithms.Message) error {
	tok, ok := m.(Token)
	if !ok {
		return algorithms.Unknown("token ring", m)
	}
	r := tok.Resource
	if !t.resources[r] {
		return fmt.Errorf("token ring: TOKEN of %d from %d: %w", r, from, ErrUnknownResource)
	}
	if t.token[r] {
		return fmt.Errorf("token ring: second TOKEN of %d from %d: the drone already holds it", r, from)
	}
	t.token[r] = true
	if t.state[r] == wanted {
		t.enter(r)
	}
	return nil
}

// Tick implements algorithms.Core: every token held and not in use moves
// one hop.
func (t *TokenRing) Tick() {
	for _, r := range sortedResources(t.token) {
		if t.state[r] != held {
			t.pass(r)
		}
	}
}

// PeerDown implements algorithms.PeerObserver: the ring closes over the
// dead drone.
func (t *TokenRing) PeerDown(id algorithms.NodeID) {
	if id == t.id {
		return
	}
	t.ring = removeID(t.ring, id)
}

// PeerUp implements algorithms.PeerObserver: a configured drone rejoins
// the ring.
func (t *TokenRing) PeerUp(id algorithms.NodeID) {
	if !slices.Contains(t.all, id) {
		return
	}
	if i, found := slices.BinarySearch(t.ring, id); !found {
		t.ring = slices.Insert(t.ring, i, id)
	}
}

// successor is the next live drone after this one in increasing ID order,
// wrapping around; the drone itself when it is alone.
func (t *TokenRing) successor() algorithms.NodeID {
	i, found := slices.BinarySearch(t.ring, t.id)
	if found {
		i++
	}
	return t.ring[i%len(t.ring)]
}

func (t *TokenRing) pass(r Resource) {
	next := t.successor()
	if next == t.id {
		return
	}
	delete(t.token, r)
	t.Send(algorithms.To(next), Token{Resource: r})
	t.Emit(TokenPassed{Resource: r, To: next})
}

func (t *TokenRing) enter(r Resource) {
	t.state[r] = held
	t.Emit(Granted{Resource: r})
}
