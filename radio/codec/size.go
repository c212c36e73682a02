package codec

import (
	"github.com/skyquorum/skyquorum/algorithms"
	"github.com/skyquorum/skyquorum/radio/arq"
)

// MessageBytes returns the MAVLink 2 payload length, trailing zero bytes
// truncated as on the wire, of core message m sent on its own from from to
// to (algorithms.Everyone for every peer): what the radio puts between a
// frame's 10-byte header and its checksum.
func (c *Codec) MessageBytes(from, to algorithms.NodeID, m algorithms.Message) (int, error) {
	msg, err := c.EncodeMessage(Header{From: from, To: to}, m)
	if err != nil {
		return 0, err
	}
	return len(c.rw.GetMessage(msg.GetID()).Write(msg, true).Payload), nil
}

// FrameBytes returns the MAVLink 2 payload lengths, trailing zero bytes
// truncated as on the wire, of the dialect messages that carry reliable
// delivery frame f (EncodeFrame): one frame on air each.
func (c *Codec) FrameBytes(f *arq.Frame) ([]int, error) {
	msgs, err := c.EncodeFrame(f)
	if err != nil {
		return nil, err
	}
	out := make([]int, len(msgs))
	for i, msg := range msgs {
		out[i] = len(c.rw.GetMessage(msg.GetID()).Write(msg, true).Payload)
	}
	return out, nil
}
