package hub

// MAVLink framing, as far as the hub reads it: the header says where a
// frame ends and who sent it; the rest is relayed as it came.
const (
	magicV2        = 0xFD
	magicV1        = 0xFE
	headerV2       = 10
	headerV1       = 6
	checksumBytes  = 2
	signatureBytes = 13
	flagSigned     = 0x01
)

// frameLen reads the header at the start of b: the frame's total length
// and its sender's system ID. n is 0 when b is too short to tell, and -1
// when b does not start a frame (a wrong magic byte or an incompatibility
// flag no MAVLink 2 version defines).
func frameLen(b []byte) (n int, sysid uint8) {
	if len(b) == 0 {
		return 0, 0
	}
	switch b[0] {
	case magicV2:
		if len(b) < headerV2 {
			return 0, 0
		}
		if b[2]&^flagSigned != 0 {
			return -1, 0
		}
		n = headerV2 + int(b[1]) + checksumBytes
		if b[2]&flagSigned != 0 {
			n += signatureBytes
		}
		return n, b[5]
	case magicV1:
		if len(b) < headerV1 {
			return 0, 0
		}
		return headerV1 + int(b[1]) + checksumBytes, b[3]
	}
	return -1, 0
}

// splitter cuts a byte stream (a pty) or a datagram into frames,
// resynchronising after garbage on the next magic byte.
type splitter struct {
	buf     []byte
	garbage int // bytes skipped
}

// feed appends p and returns the whole frames it completes; the frames
// are copies, the tail of an incomplete one is kept for the next feed.
func (s *splitter) feed(p []byte, emit func(frame []byte, sysid uint8)) {
	s.buf = append(s.buf, p...)
	for len(s.buf) > 0 {
		n, sysid := frameLen(s.buf)
		if n < 0 {
			i := 1
			for i < len(s.buf) && s.buf[i] != magicV2 && s.buf[i] != magicV1 {
				i++
			}
			s.garbage += i
			s.buf = s.buf[i:]
			continue
		}
		if n == 0 || len(s.buf) < n {
			break
		}
		emit(append([]byte(nil), s.buf[:n]...), sysid)
		s.buf = s.buf[n:]
	}
	if len(s.buf) == 0 {
		s.buf = s.buf[:0:0] // let a large backing array go
	}
}

// flush drops an incomplete frame: a datagram's end ends it.
func (s *splitter) flush() {
	s.garbage += len(s.buf)
	s.buf = s.buf[:0]
}
