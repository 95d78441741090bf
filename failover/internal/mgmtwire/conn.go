package mgmtwire

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/openhags/hags/internal/wire"
)

// Errors of Conn. Each is a reason to close the connection; none concerns
// any other connection.
var (
	ErrMessageTooLarge = errors.New("mgmtwire: message larger than the connection allows")
	ErrBadPart         = errors.New("mgmtwire: malformed run of parts")
)

// partSize is the data a Part frame carries, well inside a frame.
const partSize = wire.MaxFrameSize - 4<<10

// Conn sends and receives the protocol's messages on a stream. Send may
// be called from several goroutines (each message, parts and all, is
// written whole); Recv from one goroutine at a time. Any error of either
// leaves the stream unusable: the caller closes it.
type Conn struct {
	nc  net.Conn
	rd  *wire.Reader
	max int // largest message Recv accepts, in bytes

	// WriteTimeout, when positive, bounds each Send: a peer that does not
	// read cannot hold a writer forever. Set it before the first Send.
	WriteTimeout time.Duration

	wmu  sync.Mutex
	wbuf []byte

	joined []byte // pieces of a message read so far
}

// NewConn returns a Conn on nc that accepts messages of at most max bytes.
func NewConn(nc net.Conn, max int) *Conn {
	return &Conn{nc: nc, rd: wire.NewReaderOf(nc, Valid), max: max}
}

// SetMax changes the largest message Recv accepts (the server raises it
// once it knows the peer's access).
func (c *Conn) SetMax(max int) { c.max = max }

// Close closes the stream.
func (c *Conn) Close() error { return c.nc.Close() }

// Send writes one message of type t with body v, in parts when it does
// not fit a frame.
func (c *Conn) Send(t wire.MsgType, v any) error {
	body, err := msgpack.Marshal(v)
	if err != nil {
		return fmt.Errorf("mgmtwire: encode %T: %w", v, err)
	}
	c.wmu.Lock()
	defer c.wmu.Unlock()
	out := c.wbuf[:0]
	if len(body) <= partSize {
		if out, err = wire.AppendFrame(out, t, msgpack.RawMessage(body)); err != nil {
			return err
		}
	} else {
		for off := 0; off < len(body); off += partSize {
			end := min(off+partSize, len(body))
			p := Part{Type: t, Last: end == len(body), Data: body[off:end]}
			if out, err = wire.AppendFrame(out, MsgPart, &p); err != nil {
				return err
			}
		}
	}
	if cap(out) <= 1<<20 {
		c.wbuf = out // keep a buffer of ordinary size for the next message
	}
	if c.WriteTimeout > 0 {
		if err := c.nc.SetWriteDeadline(time.Now().Add(c.WriteTimeout)); err != nil {
			return err
		}
	}
	_, err = c.nc.Write(out)
	return err
}

// Recv reads the next message and returns its type and msgpack body,
// joining parts. The body is valid until the next call to Recv. A message
// larger than the Conn's bound is ErrMessageTooLarge; framing errors are
// those of wire.Reader.
func (c *Conn) Recv() (wire.MsgType, []byte, error) {
	c.joined = c.joined[:0]
	inRun := false
	for {
		t, body, err := c.rd.Next()
		if err != nil {
			return 0, nil, err
		}
		if t != MsgPart {
			if inRun {
				return 0, nil, fmt.Errorf("%w: a %d frame inside a run of parts", ErrBadPart, t)
			}
			if len(body) > c.max {
				return 0, nil, fmt.Errorf("%w: %d bytes, at most %d", ErrMessageTooLarge, len(body), c.max)
			}
			return t, body, nil
		}
		var p Part
		if err := wire.Decode(body, &p); err != nil {
			return 0, nil, fmt.Errorf("%w: %v", ErrBadPart, err)
		}
		if !Valid(p.Type) || p.Type == MsgPart {
			return 0, nil, fmt.Errorf("%w: part of a message of type %d", ErrBadPart, p.Type)
		}
		if len(c.joined)+len(p.Data) > c.max {
			return 0, nil, fmt.Errorf("%w: more than %d bytes in parts", ErrMessageTooLarge, c.max)
		}
		inRun = true
		c.joined = append(c.joined, p.Data...)
		if p.Last {
			body := c.joined
			if cap(c.joined) > 1<<20 {
				c.joined = nil // do not keep a large message's buffer for the connection's life
			}
			return p.Type, body, nil
		}
	}
}

// Decode decodes a message body (wire.Decode: shape checked first, no
// trailing bytes).
func Decode(body []byte, v any) error { return wire.Decode(body, v) }
