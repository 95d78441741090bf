package agreement

import (
	"context"
	"encoding/binary"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// stateEvent is a request event of about size bytes, as eventSize counts.
func stateEvent(size int) protocol.Event {
	return protocol.Event{Kind: protocol.EventRequest, Request: &wire.Request{Op: wire.OpChangeState, Token: 1,
		State: make([]byte, size-128)}}
}

// returned reports whether done is closed within a short while. Used only
// to check that a call has NOT returned yet: a slow machine can only make
// such a check pass for the wrong reason, never fail it.
func returned(done <-chan error) bool {
	select {
	case <-done:
		return true
	case <-time.After(50 * time.Millisecond):
		return false
	}
}

// TestSubmitWaitBlocksOnAFullQueue: the forward queue is bounded in bytes.
// A session's submitWait waits while it is full and returns once the
// forwarder takes a batch out of it; the run loop's submit never waits.
func TestSubmitWaitBlocksOnAFullQueue(t *testing.T) {
	f := newForwarder(&Agreement{cfg: Config{Node: 1, Incarnation: 1}})
	f.needAdmit, f.epoch = false, 1 // admitted: next hands out events
	const each = 1 << 20
	for range MaxQueueBytes / each {
		require.NoError(t, f.submitWait(context.Background(), stateEvent(each)), "the queue takes events up to its bound")
	}
	assert.Equal(t, MaxQueueBytes, f.queuedBytes(), "the queue counts the bytes it holds")

	done := make(chan error, 1)
	go func() { done <- f.submitWait(context.Background(), stateEvent(each)) }()
	assert.False(t, returned(done), "submitWait waits while the queue is full")

	f.submit(stateEvent(256)) // the daemon's own events are never held back
	assert.Equal(t, MaxQueueBytes+256, f.queuedBytes(), "submit queues over the bound")

	e := f.next(0)
	require.NotNil(t, e, "the forwarder takes a batch")
	require.NoError(t, <-done, "submitWait returns once a batch left the queue")
	assert.LessOrEqual(t, f.queuedBytes(), MaxQueueBytes+256, "the queue stays at its bound")

	var evs int
	for e != nil {
		evs += len(e.Events)
		e = f.next(0)
	}
	assert.Equal(t, MaxQueueBytes/each+2, evs, "every event queued is handed out, the waiter's included")
	assert.Zero(t, f.queuedBytes(), "an empty queue counts no bytes")
}

// TestSubmitWaitEndsWithItsContext: a waiting submitWait returns its
// context's error, without queueing, when the session ends; a reset (the
// daemon left the domain) empties the queue and lets waiters in.
func TestSubmitWaitEndsWithItsContext(t *testing.T) {
	f := newForwarder(&Agreement{cfg: Config{Node: 1, Incarnation: 1}})
	require.NoError(t, f.submitWait(context.Background(), stateEvent(MaxQueueBytes)), "one event as large as the bound goes into an empty queue")

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- f.submitWait(ctx, stateEvent(1024)) }()
	assert.False(t, returned(done), "submitWait waits while the queue is full")
	cancel()
	assert.ErrorIs(t, <-done, context.Canceled, "submitWait returns when its session ends")
	assert.Equal(t, MaxQueueBytes, f.queuedBytes(), "an abandoned event is not queued")

	go func() { done <- f.submitWait(context.Background(), stateEvent(1024)) }()
	assert.False(t, returned(done), "submitWait waits while the queue is full")
	f.reset()
	require.NoError(t, <-done, "a reset empties the queue and releases the waiters")
	assert.Equal(t, 1024, f.queuedBytes(), "after the reset the queue holds the waiter's event only")
}

// TestForwardingRefusesFramesItDoesNotExpect: the leader's forwarding
// server reads only entry frames within maxForwardFrame. A reply frame, a
// frame of an unknown type, one of another protocol version and one
// announcing more than the bound each end the connection before anything
// is appended (this Agreement has no raft: an append would panic).
func TestForwardingRefusesFramesItDoesNotExpect(t *testing.T) {
	reply, err := wire.AppendFrameWithin(nil, msgReply, &forwardReply{}, maxForwardFrame)
	require.NoError(t, err)
	unknown, err := wire.AppendFrameWithin(nil, 9, &Entry{Kind: EntryEvents, Node: 1}, maxForwardFrame)
	require.NoError(t, err)
	version, err := wire.AppendFrameWithin(nil, msgEntry, &Entry{Kind: EntryEvents, Node: 1}, maxForwardFrame)
	require.NoError(t, err)
	version[4] = wire.Version + 1
	for _, c := range []struct {
		what  string
		frame []byte
	}{
		{"a reply sent to the leader", reply},
		{"a frame of an unknown type", unknown},
		{"a frame of another version", version},
		{"a frame announcing more than maxForwardFrame", binary.BigEndian.AppendUint32(nil, maxForwardFrame+1)},
	} {
		a := &Agreement{log: slog.New(slog.NewTextHandler(io.Discard, nil))}
		leader, follower := net.Pipe()
		served := make(chan struct{})
		go func() {
			defer close(served)
			a.serveForward(leader)
		}()
		go follower.Write(c.frame)
		select {
		case <-served:
		case <-time.After(waitBudget):
			t.Fatalf("%s: the forwarding server still reads", c.what)
		}
		follower.Close()
		leader.Close()
	}
}
