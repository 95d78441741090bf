package wire

import (
	"bufio"
	"io"
)

// NewReaderOf returns a Reader for another protocol that uses this
// package's frame format (length, Version, type, msgpack body, the
// MaxFrameSize bound) with message types of its own: valid says which
// type bytes that protocol has, and Next refuses any other with
// ErrUnknownType. hagsrmd's management protocol is one.
func NewReaderOf(r io.Reader, valid func(MsgType) bool) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10), valid: valid}
}

// NewReaderWithin is NewReaderOf for a protocol whose frames may hold up to
// max bytes of payload, more than MaxFrameSize; AppendFrameWithin writes
// them. The daemons' forwarding protocol is one.
func NewReaderWithin(r io.Reader, valid func(MsgType) bool, max uint32) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10), valid: valid, max: max}
}

// accepts reports whether t is a message type of the Reader's protocol.
func (r *Reader) accepts(t MsgType) bool {
	if r.valid == nil {
		return t.Valid()
	}
	return r.valid(t)
}
