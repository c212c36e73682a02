package codec

import (
	"encoding/binary"
	"fmt"

	"github.com/skyquorum/skyquorum/radio/dialect/swarm"
	"github.com/skyquorum/skyquorum/swarm/show"
	"github.com/skyquorum/skyquorum/swarm/upload"
)

// The messages of the show upload (swarm/upload):
//
//	Offer   SWARM_SHOW_OFFER; show_size, blocks, round, flags (POLL, NACK
//	        for the NACK scheme), hash
//	Symbol  SWARM_SHOW_SYMBOL; show_id, check, block, index, data (239 bytes)
//	Need    SWARM_SHOW_NEED; show_id, round, flags (UNKNOWN; NACK when the
//	        entries carry bitmaps), count entries in data: block u16, then
//	        the count of symbols, or the bitmap's length and the bitmap
//
// Decoding rejects an offer whose layout is not one upload.NewLayout
// makes, flags it does not know, and entries that overrun count or data;
// a Need whose entries exceed the 240 bytes of data encodes to
// ErrTooLarge. Symbol.Repeat is not on air.

func uploadBindings() []Binding {
	return []Binding{offerBinding(), symbolBinding(), needBinding()}
}

func offerBinding() Binding {
	return BindKinds([]*swarm.MessageSwarmShowOffer{{}},
		func(m upload.Offer) (*swarm.MessageSwarmShowOffer, error) {
			if m.Layout.Size < 0 || int64(m.Layout.Size) > 0xFFFFFFFF || m.Layout.Blocks < 0 || m.Layout.Blocks > 0xFFFF {
				return nil, fmt.Errorf("codec: offer of %d bytes in %d blocks: %w", m.Layout.Size, m.Layout.Blocks, ErrTooLarge)
			}
			d := &swarm.MessageSwarmShowOffer{ShowSize: uint32(m.Layout.Size), Blocks: uint16(m.Layout.Blocks), Round: m.Round, Hash: m.Hash}
			if m.Poll {
				d.Flags |= swarm.SWARM_SHOW_OFFER_FLAGS_POLL
			}
			if m.Scheme == upload.NACK {
				d.Flags |= swarm.SWARM_SHOW_OFFER_FLAGS_NACK
			}
			return d, nil
		},
		func(d *swarm.MessageSwarmShowOffer) (upload.Offer, error) {
			known := swarm.SWARM_SHOW_OFFER_FLAGS_POLL | swarm.SWARM_SHOW_OFFER_FLAGS_NACK
			m := upload.Offer{Hash: show.Hash(d.Hash), Layout: upload.Layout{Size: int(d.ShowSize), Blocks: int(d.Blocks)},
				Round: d.Round, Poll: d.Flags&swarm.SWARM_SHOW_OFFER_FLAGS_POLL != 0}
			if d.Flags&swarm.SWARM_SHOW_OFFER_FLAGS_NACK != 0 {
				m.Scheme = upload.NACK
			}
			if d.Flags&^known != 0 || !m.Layout.Valid() {
				return upload.Offer{}, fmt.Errorf("codec: SWARM_SHOW_OFFER of %d bytes in %d blocks, flags %#x: %w", d.ShowSize, d.Blocks, uint8(d.Flags), ErrMalformed)
			}
			return m, nil
		})
}

func symbolBinding() Binding {
	return BindKinds([]*swarm.MessageSwarmShowSymbol{{}},
		func(m upload.Symbol) (*swarm.MessageSwarmShowSymbol, error) {
			d := &swarm.MessageSwarmShowSymbol{ShowId: m.Show, Check: m.Check, Block: m.Block, Index: m.Index}
			if len(m.Data) > len(d.Data) {
				return nil, fmt.Errorf("codec: symbol of %d bytes, at most %d: %w", len(m.Data), len(d.Data), ErrTooLarge)
			}
			copy(d.Data[:], m.Data)
			return d, nil
		},
		func(d *swarm.MessageSwarmShowSymbol) (upload.Symbol, error) {
			return upload.Symbol{Show: d.ShowId, Check: d.Check, Block: d.Block, Index: d.Index, Data: append([]byte{}, d.Data[:]...)}, nil
		})
}

func needBinding() Binding {
	return BindKinds([]*swarm.MessageSwarmShowNeed{{}},
		func(m upload.Need) (*swarm.MessageSwarmShowNeed, error) {
			d := &swarm.MessageSwarmShowNeed{ShowId: m.Show, Round: m.Round}
			if m.Unknown {
				d.Flags |= swarm.SWARM_SHOW_NEED_FLAGS_UNKNOWN
			}
			if len(m.Entries) > 0xFF {
				return nil, fmt.Errorf("codec: report of %d entries: %w", len(m.Entries), ErrTooLarge)
			}
			nack := len(m.Entries) > 0 && m.Entries[0].Missing != nil
			if nack {
				d.Flags |= swarm.SWARM_SHOW_NEED_FLAGS_NACK
			}
			b := make([]byte, 0, len(d.Data))
			for _, e := range m.Entries {
				if (e.Missing != nil) != nack || len(e.Missing) > 0xFF || (nack && e.Count != 0) {
					return nil, fmt.Errorf("codec: report mixes counts and bitmaps: %w", ErrMalformed)
				}
				b = binary.LittleEndian.AppendUint16(b, e.Block)
				if nack {
					b = append(b, uint8(len(e.Missing)))
					b = append(b, e.Missing...)
				} else {
					b = append(b, e.Count)
				}
			}
			if len(b) > len(d.Data) {
				return nil, fmt.Errorf("codec: report of %d bytes, at most %d: %w", len(b), len(d.Data), ErrTooLarge)
			}
			d.Count = uint8(len(m.Entries))
			copy(d.Data[:], b)
			return d, nil
		},
		func(d *swarm.MessageSwarmShowNeed) (upload.Need, error) {
			bad := func(what string) (upload.Need, error) {
				return upload.Need{}, fmt.Errorf("codec: SWARM_SHOW_NEED %s: %w", what, ErrMalformed)
			}
			known := swarm.SWARM_SHOW_NEED_FLAGS_UNKNOWN | swarm.SWARM_SHOW_NEED_FLAGS_NACK
			if d.Flags&^known != 0 {
				return bad("with unknown flags")
			}
			nack := d.Flags&swarm.SWARM_SHOW_NEED_FLAGS_NACK != 0
			if nack && d.Count == 0 {
				// One form per report: a report without entries carries
				// no NACK flag.
				return bad("with the NACK flag and no entries")
			}
			m := upload.Need{Show: d.ShowId, Round: d.Round, Unknown: d.Flags&swarm.SWARM_SHOW_NEED_FLAGS_UNKNOWN != 0}
			b := d.Data[:]
			for range d.Count {
				if len(b) < 3 {
					return bad("entries overrun data")
				}
				e := upload.Entry{Block: binary.LittleEndian.Uint16(b)}
				n := int(b[2])
				b = b[3:]
				if nack {
					if len(b) < n {
						return bad("bitmap overruns data")
					}
					e.Missing = append([]byte{}, b[:n]...)
					b = b[n:]
				} else {
					e.Count = uint8(n)
				}
				m.Entries = append(m.Entries, e)
			}
			if !allZero(b) {
				return bad("with bytes after its entries")
			}
			return m, nil
		})
}
