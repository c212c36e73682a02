// Package radio is the swarm's MAVLink link layer on a real drone: it binds
// a link (serial radio, UDP, in memory) to the pure parts below it and owns
// the goroutines and the clock they need.
//
//   - radio/dialect: the swarm dialect (swarm.xml and the Go generated
//     from it), combined with ardupilotmega;
//   - radio/codec: core messages and reliable delivery frames to and from
//     dialect messages;
//   - radio/wire: frames, signing, verification with strict replay
//     protection, rejection counters;
//   - radio/pace: the outbound queue that spends airtime at the serial
//     rate, backs off on RADIO_STATUS and reports back-pressure;
//   - radio/link: the transports;
//   - radio/arq: reliable delivery (acknowledgements, retransmission).
//
// A Radio signs every frame as it goes on air, so a retransmission gets a
// new timestamp, and persists its signing high-water mark ahead of use: a
// frame whose mark cannot be stored is not sent (Counters.Unsent). It
// follows its peers' signing time only within Config.Ahead of its own,
// unless Config.Corroborate peers agree (docs/radio.md).
package radio
