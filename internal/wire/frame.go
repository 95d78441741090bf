package wire

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/vmihailenco/msgpack/v5"
)

// Version is the wire protocol version carried in every frame. A peer that
// sees another version closes the connection with ErrBadVersion.
const Version = 1

// A frame is a 4-byte big-endian payload length followed by the payload:
// one byte of Version, one byte of MsgType, then the msgpack body.
const (
	lengthSize = 4
	headerSize = 2 // version + type
)

// Errors returned by Reader.Next and Decode. Each names why a connection is
// closed; none of them is a reason to disturb any other connection.
var (
	ErrFrameTooLarge = errors.New("wire: frame larger than MaxFrameSize")
	ErrShortFrame    = errors.New("wire: frame shorter than its header")
	ErrBadVersion    = errors.New("wire: unsupported protocol version")
	ErrUnknownType   = errors.New("wire: unknown message type")
	ErrTrailingBytes = errors.New("wire: bytes after the message body")
)

var bufPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// AppendFrame appends one frame holding body, encoded as msgpack, to dst.
func AppendFrame(dst []byte, t MsgType, body any) ([]byte, error) {
	return AppendFrameWithin(dst, t, body, MaxFrameSize)
}

// AppendFrameWithin is AppendFrame for a protocol whose frames may hold up
// to limit bytes of payload (version, type and body) instead of
// MaxFrameSize (NewReaderWithin reads them).
func AppendFrameWithin(dst []byte, t MsgType, body any, limit int) ([]byte, error) {
	buf := bufPool.Get().(*bytes.Buffer)
	defer bufPool.Put(buf)
	buf.Reset()
	enc := msgpack.GetEncoder()
	defer msgpack.PutEncoder(enc)
	enc.Reset(buf)
	enc.UseCompactInts(true)
	if err := enc.Encode(body); err != nil {
		return dst, fmt.Errorf("wire: encode %T: %w", body, err)
	}
	n := headerSize + buf.Len()
	if n > limit {
		return dst, fmt.Errorf("%w: %d bytes, at most %d", ErrFrameTooLarge, n, limit)
	}
	dst = binary.BigEndian.AppendUint32(dst, uint32(n))
	dst = append(dst, Version, byte(t))
	return append(dst, buf.Bytes()...), nil
}

// WriteFrame writes one frame to w in a single Write call.
func WriteFrame(w io.Writer, t MsgType, body any) error {
	b, err := AppendFrame(nil, t, body)
	if err != nil {
		return err
	}
	_, err = w.Write(b)
	return err
}

// Reader reads frames from a stream. It is not safe for concurrent use.
type Reader struct {
	r     *bufio.Reader
	buf   []byte
	valid func(MsgType) bool // the types the protocol has; nil: MsgType.Valid
	max   uint32             // the largest payload the protocol allows; 0: MaxFrameSize
}

// NewReader returns a Reader that reads frames from r.
func NewReader(r io.Reader) *Reader {
	return &Reader{r: bufio.NewReaderSize(r, 64<<10)}
}

// Next reads the next frame and returns its type and body. The body is valid
// until the next call to Next. A stream that ends cleanly between frames
// returns io.EOF; one that ends inside a frame returns io.ErrUnexpectedEOF.
func (r *Reader) Next() (MsgType, []byte, error) { return r.NextWithin(r.limit()) }

// limit is the largest payload the Reader's protocol allows.
func (r *Reader) limit() uint32 {
	if r.max == 0 {
		return MaxFrameSize
	}
	return r.max
}

// NextWithin is Next for a frame whose payload may be at most limit bytes
// (at most the protocol's bound, MaxFrameSize unless NewReaderWithin set
// another): a larger announced length is ErrFrameTooLarge, reported before
// anything of the payload is read or allocated.
func (r *Reader) NextWithin(limit uint32) (MsgType, []byte, error) {
	var lb [lengthSize]byte
	if _, err := io.ReadFull(r.r, lb[:]); err != nil {
		return 0, nil, err
	}
	n := binary.BigEndian.Uint32(lb[:])
	if limit = min(limit, r.limit()); n > limit {
		return 0, nil, fmt.Errorf("%w: %d bytes announced, at most %d here", ErrFrameTooLarge, n, limit)
	}
	if n < headerSize {
		return 0, nil, fmt.Errorf("%w: %d bytes", ErrShortFrame, n)
	}
	b := r.buf
	if n > MaxFrameSize {
		// A frame beyond hagsd's own bound (another protocol's) is read
		// into a buffer of its own, not kept for the connection's life.
		b = make([]byte, n)
	} else if cap(r.buf) < int(n) {
		r.buf = make([]byte, n)
		b = r.buf
	}
	b = b[:n]
	if _, err := io.ReadFull(r.r, b); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF
		}
		return 0, nil, err
	}
	if b[0] != Version {
		return 0, nil, fmt.Errorf("%w: %d (want %d)", ErrBadVersion, b[0], Version)
	}
	t := MsgType(b[1])
	if !r.accepts(t) {
		return 0, nil, fmt.Errorf("%w: %d", ErrUnknownType, b[1])
	}
	return t, b[headerSize:], nil
}

// Buffered reports whether a whole or partial frame is already buffered, so
// a caller can tell that Next will not block on the first bytes.
func (r *Reader) Buffered() int { return r.r.Buffered() }

// Decode decodes a frame body into v. Unknown map keys are ignored, so a
// newer peer may add fields; bytes after the body are an error, and so is
// a body that declares more than it holds (CheckShape).
func Decode(body []byte, v any) error {
	if err := CheckShape(body); err != nil {
		return fmt.Errorf("wire: decode %T: %w", v, err)
	}
	rd := bytes.NewReader(body)
	dec := msgpack.GetDecoder()
	defer msgpack.PutDecoder(dec)
	dec.Reset(rd)
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("wire: decode %T: %w", v, err)
	}
	if rd.Len() != 0 {
		return fmt.Errorf("%w: %d", ErrTrailingBytes, rd.Len())
	}
	return nil
}
