package gsapi

import (
	"io"
	"sync"
)

// maxKeptWriteBuffer bounds the buffer a writer keeps between batches; a
// batch that held a larger frame gets a fresh buffer next time, so one
// large request does not pin its size for the session's life.
const maxKeptWriteBuffer = 64 << 10

// writer sends the client's frames, combining those of concurrent
// requests into one write(2). A sender appends its frame; when no write is
// under way it becomes the one writing and sends everything appended, in
// one Write, and again whatever was appended meanwhile, until nothing is
// left. A sender whose frame another sender took waits for that Write and
// returns its result. So a request made alone leaves at once in a write of
// its own, and requests made while a write is under way (many goroutines
// voting at once, a burst of responsiveness answers) leave together in the
// next one, in the order they were appended. No goroutine of its own: the
// requests' goroutines do the writing.
//
// A write error is final: every frame appended after it, and every later
// send, returns that error.
type writer struct {
	w io.Writer

	mu      sync.Mutex
	cond    sync.Cond // signalled when a batch's Write returns
	pending []byte    // frames appended and not yet taken
	spare   []byte    // the previous batch's buffer, for reuse
	writing bool      // a sender is in Write
	taken   uint64    // batches taken for writing
	done    uint64    // batches whose Write returned
	failed  uint64    // the batch whose Write failed; 0: none
	err     error     // that failure
}

func newWriter(w io.Writer) *writer {
	wr := &writer{w: w}
	wr.cond.L = &wr.mu
	return wr
}

// send writes frame, combined with the frames of concurrent senders, and
// returns once the Write that carried it returned: nil when it succeeded,
// else the error of the first failed Write.
func (wr *writer) send(frame []byte) error {
	wr.mu.Lock()
	defer wr.mu.Unlock()
	if wr.err != nil {
		return wr.err
	}
	wr.pending = append(wr.pending, frame...)
	batch := wr.taken + 1
	for wr.writing {
		wr.cond.Wait()
		if wr.done >= batch || wr.err != nil {
			return wr.result(batch)
		}
	}
	wr.writing = true
	for len(wr.pending) > 0 && wr.err == nil {
		b := wr.pending
		wr.pending = wr.spare[:0]
		wr.taken++
		n := wr.taken
		wr.mu.Unlock()
		_, err := wr.w.Write(b)
		wr.mu.Lock()
		wr.spare = nil
		if cap(b) <= maxKeptWriteBuffer {
			wr.spare = b[:0]
		}
		wr.done = n
		if err != nil {
			wr.err, wr.failed = err, n
		}
		wr.cond.Broadcast()
	}
	wr.writing = false
	wr.pending = wr.pending[:0]
	wr.cond.Broadcast()
	return wr.result(batch)
}

// result is the outcome for a frame of batch; the caller holds wr.mu.
func (wr *writer) result(batch uint64) error {
	if wr.err != nil && batch >= wr.failed {
		return wr.err
	}
	return nil
}
