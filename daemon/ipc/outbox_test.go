package ipc

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOutboxBounds(t *testing.T) {
	o := NewOutbox(2, 10)
	require.NoError(t, o.Put(make([]byte, 20)), "one frame larger than the byte bound fits an empty queue")
	assert.ErrorIs(t, o.Put([]byte{1}), ErrOutboxFull, "nothing more fits behind an oversized frame")

	o = NewOutbox(2, 100)
	require.NoError(t, o.Put([]byte{1}))
	require.NoError(t, o.Put([]byte{2}))
	assert.ErrorIs(t, o.Put([]byte{3}), ErrOutboxFull, "the frame bound holds")
	assert.Equal(t, 2, o.Len(), "two frames are queued")

	o.Close()
	assert.ErrorIs(t, o.Put([]byte{4}), ErrOutboxClosed, "a closed outbox takes nothing")
	var buf bytes.Buffer
	require.NoError(t, o.Drain(&buf), "Drain returns nil after Close")
	assert.Equal(t, []byte{1, 2}, buf.Bytes(), "Drain writes what was queued before Close, in order")
}

// slowWriter blocks each write until released, so that Puts pile up
// while a batch is being written.
type slowWriter struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	writes int
	gate   chan struct{}
}

func (w *slowWriter) Write(p []byte) (int, error) {
	<-w.gate
	w.mu.Lock()
	defer w.mu.Unlock()
	w.writes++
	return w.buf.Write(p)
}

// TestOutboxKeepsOrderUnderConcurrentPuts writes numbered frames while the
// writer is busy and checks every frame arrives once, intact and in order.
func TestOutboxKeepsOrderUnderConcurrentPuts(t *testing.T) {
	const n = 20000
	o := NewOutbox(n, n*8)
	w := &slowWriter{gate: make(chan struct{})}
	close(w.gate)
	done := make(chan error, 1)
	go func() { done <- o.Drain(w) }()
	for i := range n {
		require.NoError(t, o.Put(binary.BigEndian.AppendUint64(nil, uint64(i))), "frame %d fits", i)
	}
	o.Close()
	require.NoError(t, <-done, "Drain ends cleanly")
	b := w.buf.Bytes()
	require.Len(t, b, n*8, "every frame was written once")
	for i := range n {
		require.Equal(t, uint64(i), binary.BigEndian.Uint64(b[i*8:]), "frame %d is intact and in order", i)
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, io.ErrClosedPipe }

func TestOutboxDrainReportsWriteError(t *testing.T) {
	o := NewOutbox(10, 100)
	require.NoError(t, o.Put([]byte{1}))
	err := o.Drain(failWriter{})
	assert.True(t, errors.Is(err, io.ErrClosedPipe), "Drain returns the write error, got %v", err)
}

// TestOutboxAppendWakesTheWriterOnlyOnFlush: frames queued with Append
// (the notifications of one batch of log entries) do not wake the writer;
// Flush wakes it once for all of them, and the writer then finds them all
// queued. Put still wakes it at once.
func TestOutboxAppendWakesTheWriterOnlyOnFlush(t *testing.T) {
	o := NewOutbox(16, 1<<10)
	for _, b := range []byte{1, 2, 3} {
		require.NoError(t, o.Append([]byte{b}), "Append queues a frame")
	}
	assert.Empty(t, o.wake, "Append does not wake the writer")
	assert.Equal(t, 3, o.Len(), "the appended frames are queued")
	o.Flush()
	assert.Len(t, o.wake, 1, "Flush wakes the writer")
	<-o.wake
	o.Flush()
	assert.Len(t, o.wake, 1, "Flush with frames still queued wakes the writer again")
	<-o.wake

	empty := NewOutbox(16, 1<<10)
	empty.Flush()
	assert.Empty(t, empty.wake, "Flush of an empty queue wakes nobody")
	require.NoError(t, empty.Put([]byte{4}), "Put queues a frame")
	assert.Len(t, empty.wake, 1, "Put wakes the writer at once")

	o.Close()
	var buf bytes.Buffer
	require.NoError(t, o.Drain(&buf), "Drain returns nil after Close")
	assert.Equal(t, []byte{1, 2, 3}, buf.Bytes(), "the appended frames are written in order")
	assert.ErrorIs(t, o.Append([]byte{5}), ErrOutboxClosed, "a closed outbox takes nothing by Append either")
}
