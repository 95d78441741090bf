package ipc

import (
	"errors"
	"io"
	"net"
	"sync"
)

// Errors returned by Outbox.Put.
var (
	// ErrOutboxFull: the peer has stopped reading and its queue reached a
	// bound. The daemon closes such a session.
	ErrOutboxFull = errors.New("ipc: outbound queue full (client not reading)")
	// ErrOutboxClosed: the session is ending and takes no more frames.
	ErrOutboxClosed = errors.New("ipc: outbound queue closed")
)

// Outbox is one connection's bounded queue of encoded frames. Any goroutine
// may Put; exactly one goroutine runs Drain, which writes queued frames
// in order, batching everything queued since its last write into one
// (vectored) write. Put never blocks, so the daemon's run loop is never held
// up by a slow client.
type Outbox struct {
	maxFrames, maxBytes int

	mu     sync.Mutex
	queue  [][]byte
	bytes  int
	closed bool
	wake   chan struct{} // capacity 1: "the queue changed"
}

// NewOutbox returns an Outbox that refuses a frame once maxFrames frames or
// maxBytes bytes are queued and unwritten.
func NewOutbox(maxFrames, maxBytes int) *Outbox {
	return &Outbox{maxFrames: maxFrames, maxBytes: maxBytes, wake: make(chan struct{}, 1)}
}

// Put queues one frame and wakes the writer. The Outbox owns frame from
// then on. It returns ErrOutboxFull when a bound would be exceeded (a
// single frame larger than maxBytes is still accepted into an empty queue)
// and ErrOutboxClosed after Close.
func (o *Outbox) Put(frame []byte) error {
	return o.put(frame, true)
}

// Append queues one frame like Put without waking the writer: a caller
// that queues several frames (the notifications of one batch of log
// entries) calls Flush after the last, so that the writer wakes once for
// all of them.
func (o *Outbox) Append(frame []byte) error {
	return o.put(frame, false)
}

// Flush wakes the writer if frames are queued.
func (o *Outbox) Flush() {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.queue) > 0 {
		o.signal()
	}
}

func (o *Outbox) put(frame []byte, wake bool) error {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.closed {
		return ErrOutboxClosed
	}
	if len(o.queue) > 0 && (len(o.queue) >= o.maxFrames || o.bytes+len(frame) > o.maxBytes) {
		return ErrOutboxFull
	}
	o.queue = append(o.queue, frame)
	o.bytes += len(frame)
	if wake {
		o.signal()
	}
	return nil
}

// Len returns the number of frames queued and not yet handed to a write.
func (o *Outbox) Len() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return len(o.queue)
}

// Close stops the Outbox from taking frames. Drain writes what is already
// queued and then returns nil. Close is idempotent.
func (o *Outbox) Close() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closed = true
	o.signal()
}

func (o *Outbox) signal() {
	select {
	case o.wake <- struct{}{}:
	default:
	}
}

// Drain writes queued frames to w until Close (after the queue is
// drained: nil) or a write error (that error).
func (o *Outbox) Drain(w io.Writer) error {
	var spare [][]byte // the previous batch's array, never shared with o.queue
	for {
		<-o.wake
		for {
			o.mu.Lock()
			if len(o.queue) == 0 {
				closed := o.closed
				o.mu.Unlock()
				if closed {
					return nil
				}
				break
			}
			batch := o.queue
			o.queue, o.bytes = spare, 0
			o.mu.Unlock()
			bufs := net.Buffers(batch)
			if _, err := bufs.WriteTo(w); err != nil {
				return err
			}
			clear(batch)
			spare = batch[:0]
		}
	}
}
