package gsapi_test

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/gsapi"
	"github.com/openhags/hags/internal/wire"
)

// flood sends count notifications (delayed errors, queued for the handler)
// from the fake daemon in the background, each with a message of size
// bytes; it counts those the client took and closes done at the end.
func flood(f *fakeDaemon, count, size int, sent *atomic.Int64, done chan struct{}) {
	defer close(done)
	n := wire.Notification{Type: wire.DelayedErrorNotification, Token: 1, Code: wire.Collide,
		Failing: &wire.Request{Op: wire.OpSendMessage, Token: 1, Message: make([]byte, size)}}
	for range count {
		if wire.WriteFrame(f.conn, wire.MsgNotification, &n) != nil {
			return
		}
		sent.Add(1)
	}
}

// TestQueueIsBoundedByCount: a client that reads but does not dispatch
// holds at most MaxPending notifications and then stops reading, so that
// the daemon's writes wait (and the daemon's own bound applies); Dispatch
// makes room and reading resumes.
func TestQueueIsBoundedByCount(t *testing.T) {
	c, f := dial(t, gsapi.WithDelayedErrorHandler(func(*gsapi.Notification) {}))
	extra := 64
	var sent atomic.Int64
	done := make(chan struct{})
	go flood(f, gsapi.MaxPending+extra, 0, &sent, done)
	waitPending(t, c, gsapi.MaxPending)
	require.Never(t, func() bool {
		select {
		case <-done:
			return true
		default:
			return c.Pending() > gsapi.MaxPending
		}
	}, 200*time.Millisecond, 10*time.Millisecond, "the client stops reading at MaxPending; the daemon's writes wait")
	assert.Less(t, sent.Load(), int64(gsapi.MaxPending+extra), "not every notification was taken")

	require.NoError(t, c.Dispatch(gsapi.NonBlocking), "dispatch delivers what is queued")
	select {
	case <-done:
	case <-budget():
		t.Fatal("after Dispatch made room, the client reads the rest")
	}
	require.Eventually(t, func() bool {
		require.NoError(t, c.Dispatch(gsapi.NonBlocking))
		return c.Pending() == 0 && sent.Load() == int64(gsapi.MaxPending+extra)
	}, wait, time.Millisecond, "every notification arrives in the end")
}

// TestQueueIsBoundedByBytes: large notifications stop the reading at
// MaxPendingBytes, long before MaxPending.
func TestQueueIsBoundedByBytes(t *testing.T) {
	c, f := dial(t, gsapi.WithDelayedErrorHandler(func(*gsapi.Notification) {}))
	const size = 512 << 10
	// Each frame is size bytes and a little framing, so the bound is
	// reached by the frame that makes MaxPendingBytes/size of them.
	limit := gsapi.MaxPendingBytes / size
	var sent atomic.Int64
	done := make(chan struct{})
	go flood(f, 2*limit, size, &sent, done)
	waitPending(t, c, limit)
	require.Never(t, func() bool { return c.Pending() > limit }, 200*time.Millisecond, 10*time.Millisecond,
		"the client stops reading at MaxPendingBytes")
	require.NoError(t, c.Dispatch(gsapi.NonBlocking))
	require.Eventually(t, func() bool {
		require.NoError(t, c.Dispatch(gsapi.NonBlocking))
		return sent.Load() == int64(2*limit)
	}, wait, time.Millisecond, "reading resumes once Dispatch made room")
}

// TestCloseWhileQueueIsFull: Close returns promptly with the reader
// waiting for room.
func TestCloseWhileQueueIsFull(t *testing.T) {
	c, f := dial(t, gsapi.WithDelayedErrorHandler(func(*gsapi.Notification) {}))
	var sent atomic.Int64
	done := make(chan struct{})
	go flood(f, gsapi.MaxPending+10, 0, &sent, done)
	waitPending(t, c, gsapi.MaxPending)
	closed := make(chan struct{})
	go func() {
		c.Close()
		close(closed)
	}()
	select {
	case <-closed:
	case <-budget():
		t.Fatal("Close returns while the reader waits for room")
	}
	assert.ErrorIs(t, c.Dispatch(gsapi.NonBlocking), gsapi.ErrNoInit, "a closed client is closed")
}
