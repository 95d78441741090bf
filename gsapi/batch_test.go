package gsapi_test

import (
	"context"
	"encoding/binary"
	"fmt"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/openhags/hags/gsapi"
	"github.com/openhags/hags/internal/wire"
)

// countingConn counts the client's Read and Write calls on its side of
// the connection; once hold is armed, the next Write waits until release
// is closed, as a write to a daemon that is slow to read does.
type countingConn struct {
	net.Conn
	reads, writes atomic.Int64
	hold          atomic.Bool
	holding       chan struct{} // closed when the held Write began
	release       chan struct{}
	unholdOnce    sync.Once
}

// unhold lets the held Write (and any later one) go on.
func (c *countingConn) unhold() { c.unholdOnce.Do(func() { close(c.release) }) }

func (c *countingConn) Read(p []byte) (int, error) {
	c.reads.Add(1)
	return c.Conn.Read(p)
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	if c.hold.CompareAndSwap(true, false) {
		close(c.holding)
		<-c.release
	}
	return c.Conn.Write(p)
}

// dialCounting connects a client to a fake daemon through a countingConn.
func dialCounting(t *testing.T, opts ...gsapi.Option) (*gsapi.Client, *fakeDaemon, *countingConn) {
	t.Helper()
	f := newFake(t)
	cc := &countingConn{holding: make(chan struct{}), release: make(chan struct{})}
	dialer := gsapi.WithDialer(func(ctx context.Context) (net.Conn, error) {
		cli, srv := net.Pipe()
		f.conn = srv
		cc.Conn = cli
		go f.serve()
		return cc, nil
	})
	c, err := gsapi.Dial(context.Background(), append(opts, dialer)...)
	require.NoError(t, err, "Dial to the fake daemon should succeed")
	t.Cleanup(func() { c.Close() })
	t.Cleanup(cc.unhold) // runs first: a failed test must not leave Close behind a held write
	<-f.hello
	return c, f, cc
}

// TestRequestsMadeDuringAWriteLeaveInOneWrite: while one request's write
// is under way, the requests that other goroutines make meanwhile are
// combined and leave together in the next write, in one system call, and
// every one of them reaches the daemon.
func TestRequestsMadeDuringAWriteLeaveInOneWrite(t *testing.T) {
	c, f, cc := dialCounting(t)
	const n = 32
	cc.hold.Store(true)
	before := cc.writes.Load()

	var wg sync.WaitGroup
	errs := make(chan error, n)
	subscribe := func(i int) {
		defer wg.Done()
		_, err := c.Subscribe(gsapi.SubscribeRequest{Group: fmt.Sprintf("g%d", i), Control: gsapi.SubscribeStateValue})
		errs <- err
	}
	wg.Add(1)
	go subscribe(0)
	select {
	case <-cc.holding:
	case <-budget():
		t.Fatal("the first request's write should have begun")
	}
	wg.Add(n - 1)
	for i := 1; i < n; i++ {
		go subscribe(i)
	}
	require.Eventually(t, func() bool { return gsapi.QueuedFrames(c) == n-1 }, wait, time.Millisecond,
		"the other %d requests should wait, queued, for the write under way", n-1)
	cc.unhold()
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err, "every request is sent")
	}
	groups := map[string]bool{}
	for range n {
		groups[f.nextRequest(wire.OpSubscribe).Group] = true
	}
	assert.Len(t, groups, n, "the daemon receives each of the %d requests once", n)
	assert.Equal(t, int64(2), cc.writes.Load()-before,
		"the held request is one write and the %d requests queued behind it leave in one more", n-1)
}

// TestRequestAloneLeavesAtOnce: a request made while nothing is being
// written is written by its own call before it returns, one write each.
func TestRequestAloneLeavesAtOnce(t *testing.T) {
	c, f, cc := dialCounting(t)
	before := cc.writes.Load()
	for i := range 3 {
		_, err := c.Subscribe(gsapi.SubscribeRequest{Group: fmt.Sprintf("g%d", i), Control: gsapi.SubscribeStateValue})
		require.NoError(t, err, "a request is sent")
		assert.Equal(t, int64(i+1), cc.writes.Load()-before, "request %d is written before its call returns", i)
		assert.Equal(t, fmt.Sprintf("g%d", i), f.nextRequest(wire.OpSubscribe).Group, "requests arrive in order")
	}
}

// TestWriteErrorReachesEveryQueuedRequest: when the write under way fails,
// the requests queued behind it fail too (ErrNotOK), none is lost
// silently and none waits forever.
func TestWriteErrorReachesEveryQueuedRequest(t *testing.T) {
	c, f, cc := dialCounting(t)
	const n = 8
	cc.hold.Store(true)
	var wg sync.WaitGroup
	errs := make(chan error, n)
	subscribe := func(i int) {
		defer wg.Done()
		_, err := c.Subscribe(gsapi.SubscribeRequest{Group: fmt.Sprintf("g%d", i), Control: gsapi.SubscribeStateValue})
		errs <- err
	}
	wg.Add(1)
	go subscribe(0)
	<-cc.holding
	wg.Add(n - 1)
	for i := 1; i < n; i++ {
		go subscribe(i)
	}
	require.Eventually(t, func() bool { return gsapi.QueuedFrames(c) == n-1 }, wait, time.Millisecond,
		"the other requests should wait behind the held write")
	f.hangUp()
	cc.unhold()
	wg.Wait()
	close(errs)
	for err := range errs {
		assert.ErrorIs(t, err, gsapi.ErrNotOK, "a request whose write failed reports the lost connection")
	}
}

// TestBurstOfNotificationsIsReadInOneRead: notifications that arrive
// together are read with one read(2), queued together, the descriptor is
// made readable once for all of them, and one non-blocking Dispatch
// delivers them all and leaves the descriptor unreadable.
func TestBurstOfNotificationsIsReadInOneRead(t *testing.T) {
	var delivered atomic.Int64
	c, f, cc := dialCounting(t, gsapi.WithDelayedErrorHandler(func(*gsapi.Notification) { delivered.Add(1) }))
	fd := c.Fd()
	const n = 200
	var burst []byte
	for i := range n {
		var err error
		burst, err = wire.AppendFrame(burst, wire.MsgNotification, &wire.Notification{
			Type: wire.DelayedErrorNotification, Token: int32(i + 1), Code: wire.Collide})
		require.NoError(t, err)
	}
	require.Less(t, len(burst), 64<<10, "the burst fits the read buffer")
	before := cc.reads.Load()
	_, err := f.conn.Write(burst)
	require.NoError(t, err, "the fake daemon writes the burst")
	waitPending(t, c, n)
	// net.Pipe hands a write to one read when the reader's buffer can
	// hold it all; the reader's next read is the one waiting for more.
	assert.LessOrEqual(t, cc.reads.Load()-before, int64(2), "a burst of %d frames is read in one read", n)

	var count [8]byte
	_, err = unix.Read(fd, count[:])
	require.NoError(t, err, "the descriptor is readable with notifications queued")
	assert.Equal(t, uint64(1), binary.NativeEndian.Uint64(count[:]), "the descriptor was signalled once for the whole burst")
	// Put back the count the test took, as if it had never looked.
	_, err = unix.Write(fd, count[:])
	require.NoError(t, err)

	require.NoError(t, c.Dispatch(gsapi.NonBlocking), "dispatch delivers the burst")
	assert.Equal(t, int64(n), delivered.Load(), "one non-blocking Dispatch delivers every queued notification")
	assert.False(t, readable(t, fd), "with the queue empty the descriptor is no longer readable")
}

// TestFullQueueLeavesTheDescriptorReadable: a client whose queue reached
// MaxPending has its descriptor readable, so a poller dispatches, makes
// room, reads the rest, and ends with the descriptor unreadable.
func TestFullQueueLeavesTheDescriptorReadable(t *testing.T) {
	c, f := dial(t, gsapi.WithDelayedErrorHandler(func(*gsapi.Notification) {}))
	fd := c.Fd()
	var sent atomic.Int64
	done := make(chan struct{})
	go flood(f, gsapi.MaxPending+64, 0, &sent, done)
	waitPending(t, c, gsapi.MaxPending)
	waitReadable(t, fd)
	require.NoError(t, c.Dispatch(gsapi.NonBlocking), "dispatch delivers what is queued")
	select {
	case <-done:
	case <-budget():
		t.Fatal("after Dispatch made room, the client reads the rest")
	}
	require.Eventually(t, func() bool {
		if !readable(t, fd) {
			return c.Pending() == 0 && sent.Load() == int64(gsapi.MaxPending+64)
		}
		require.NoError(t, c.Dispatch(gsapi.NonBlocking))
		return false
	}, wait, time.Millisecond, "a poller dispatches the rest, and the descriptor ends unreadable")
}
