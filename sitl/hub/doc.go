// Package hub is the live SITL radio hub: it relays MAVLink frames between
// drone processes and ground stations on one host, in real time, through
// the same radio model as the deterministic simulator (package sim).
//
// Each network is one shared half-duplex channel with its own UDP port.
// Endpoints are learned from the source address of what they send (or are
// the pseudo-terminals that Serial makes); an endpoint's system ID is read
// from its frames' MAVLink header, and nothing past the header is decoded:
// frames are relayed byte for byte, signed or not. A frame waits in its
// sender's transmit queue, bounded in bytes like a radio's buffer (a frame
// that does not fit is dropped and counted), takes the channel in arrival
// order for its length × 10 / baud, and when its airtime ends goes to every
// other endpoint of the network, each of which independently misses it,
// gets it twice, or gets it after an extra delay. Partitions by system ID
// cut the channel into groups. Every endpoint gets an unsigned RADIO_STATUS
// from the radio's system and component (51, 68) with the free share of its
// transmit queue, which the drone's radio paces itself by.
//
// The channel itself is a pure state machine driven by the time it is
// given; the Hub owns the goroutines, the sockets and the clock.
package hub
