package ipc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"sync"
	"testing"
)

// gatedWriter lets a fuzz input decide when the drainer's writes complete
// and whether they fail.
type gatedWriter struct {
	mu   sync.Mutex
	buf  bytes.Buffer
	fail bool
	gate chan struct{}
}

var errGateFailed = errors.New("write failed")

func (w *gatedWriter) Write(p []byte) (int, error) {
	<-w.gate
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.fail {
		return 0, errGateFailed
	}
	return w.buf.Write(p)
}

func (o *Outbox) bytesQueued() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.bytes
}

// FuzzOutbox runs a fuzzed sequence of Puts (of any size), releases of the
// writer, write failures and a Close against one Outbox while Drain runs.
// Every Put must be accepted or refused exactly as the bounds say, and what
// reaches the writer must be the accepted frames, whole and in order, up to
// a failure.
func FuzzOutbox(f *testing.F) {
	f.Add(uint8(3), uint16(40), []byte{1, 5, 1, 9, 2, 1, 30, 2, 2, 0, 4})
	f.Add(uint8(1), uint16(1), []byte{1, 200, 1, 1, 2, 3, 1, 1})
	f.Add(uint8(8), uint16(1000), bytes.Repeat([]byte{1, 7, 2}, 30))
	f.Fuzz(func(t *testing.T, maxFrames uint8, maxBytes uint16, ops []byte) {
		mf, mb := int(maxFrames%16)+1, int(maxBytes)+1
		o := NewOutbox(mf, mb)
		w := &gatedWriter{gate: make(chan struct{}, 1<<16)}
		drained := make(chan error, 1)
		go func() { drained <- o.Drain(w) }()

		var accepted [][]byte
		seq := uint32(0)
		closed := false
		for i := 0; i < len(ops); i++ {
			switch ops[i] % 4 {
			case 0, 1: // Put a frame of the next byte's size (at least the 4-byte sequence number)
				size := 4
				if i+1 < len(ops) {
					i++
					size += int(ops[i])
				}
				frame := make([]byte, size)
				binary.BigEndian.PutUint32(frame, seq)
				queued := o.Len()
				err := o.Put(frame)
				switch {
				case closed:
					if !errors.Is(err, ErrOutboxClosed) {
						t.Fatalf("Put after Close: %v, want ErrOutboxClosed", err)
					}
				case err == nil:
					// The drainer only ever takes frames away, so the
					// bounds must hold after the Put (one oversized
					// frame alone excepted).
					if n, b := o.Len(), o.bytesQueued(); n > mf || (b > mb && n > 1) {
						t.Fatalf("Put accepted frame %d and left %d frames, %d bytes queued (bounds %d, %d)", seq, n, b, mf, mb)
					}
					accepted = append(accepted, frame)
					seq++
				case errors.Is(err, ErrOutboxFull):
					if queued == 0 {
						t.Fatalf("Put refused frame %d into an empty queue", seq)
					}
				default:
					t.Fatalf("Put: unexpected error %v", err)
				}
			case 2: // let one write through
				w.gate <- struct{}{}
			case 3:
				if ops[i]%8 == 3 {
					o.Close()
					closed = true
				} else {
					w.mu.Lock()
					w.fail = true
					w.mu.Unlock()
				}
			}
		}
		o.Close()
		close(w.gate) // every later write goes through at once
		err := <-drained
		w.mu.Lock()
		got := w.buf.Bytes()
		failed := w.fail
		w.mu.Unlock()
		if err != nil && !(failed && errors.Is(err, errGateFailed)) {
			t.Fatalf("Drain: %v", err)
		}
		want := bytes.Join(accepted, nil)
		if err == nil && !failed && !bytes.Equal(got, want) {
			t.Fatalf("the writer got %d bytes, want the %d accepted frames' %d bytes, in order", len(got), len(accepted), len(want))
		}
		if !bytes.HasPrefix(want, got) {
			t.Fatalf("the writer got bytes that are not a prefix of the accepted frames")
		}
	})
}
