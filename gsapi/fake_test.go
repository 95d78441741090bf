package gsapi_test

import (
	"context"
	"errors"
	"net"
	"os"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/openhags/hags/gsapi"
	"github.com/openhags/hags/internal/wire"
)

// wait is the budget for anything a test waits on; it is generous because
// it is only reached when the behaviour under test is broken.
const wait = 10 * time.Second

const fakeNode = 3

// frame is one frame the fake daemon received after the handshake.
type frame struct {
	typ     wire.MsgType
	req     wire.Request
	respond wire.Respond
}

// fakeDaemon is the daemon side of a net.Pipe: it answers Hello with
// Welcome (or Refused), records every later frame and sends notifications
// on demand. It checks nothing: tests assert on what it records.
type fakeDaemon struct {
	t      testing.TB
	conn   net.Conn
	hello  chan wire.Hello
	frames chan frame
	closed chan struct{} // closed when the client's side hung up
	refuse *wire.Refused
	// welcome, when set, replaces the default Welcome.
	welcome *wire.Welcome
}

func newFake(t testing.TB) *fakeDaemon {
	return &fakeDaemon{
		t:      t,
		hello:  make(chan wire.Hello, 1),
		frames: make(chan frame, 4096),
		closed: make(chan struct{}),
	}
}

// option returns the dialer that connects a client to this fake.
func (f *fakeDaemon) option() gsapi.Option {
	return gsapi.WithDialer(func(ctx context.Context) (net.Conn, error) {
		cli, srv := net.Pipe()
		f.conn = srv
		go f.serve()
		return cli, nil
	})
}

func (f *fakeDaemon) serve() {
	defer close(f.closed)
	r := wire.NewReader(f.conn)
	t, body, err := r.Next()
	if err != nil || t != wire.MsgHello {
		return
	}
	var h wire.Hello
	if wire.Decode(body, &h) != nil {
		return
	}
	f.hello <- h
	if f.refuse != nil {
		_ = wire.WriteFrame(f.conn, wire.MsgRefused, f.refuse)
		f.conn.Close()
		return
	}
	w := &wire.Welcome{Node: fakeNode, Client: 1, Domain: "test"}
	if f.welcome != nil {
		w = f.welcome
	}
	if wire.WriteFrame(f.conn, wire.MsgWelcome, w) != nil {
		return
	}
	for {
		t, body, err := r.Next()
		if err != nil {
			return
		}
		fr := frame{typ: t}
		switch t {
		case wire.MsgRequest:
			err = wire.Decode(body, &fr.req)
		case wire.MsgRespond:
			err = wire.Decode(body, &fr.respond)
		}
		if err != nil {
			return
		}
		f.frames <- fr
	}
}

// dial connects a client to a new fake daemon and closes it at cleanup.
func dial(t testing.TB, opts ...gsapi.Option) (*gsapi.Client, *fakeDaemon) {
	t.Helper()
	f := newFake(t)
	c, err := gsapi.Dial(context.Background(), append(opts, f.option())...)
	require.NoError(t, err, "Dial to the fake daemon should succeed")
	t.Cleanup(func() { c.Close() })
	<-f.hello
	return c, f
}

// notify sends a notification to the client.
func (f *fakeDaemon) notify(n wire.Notification) {
	f.t.Helper()
	require.NoError(f.t, wire.WriteFrame(f.conn, wire.MsgNotification, &n), "the fake daemon should be able to send a notification")
}

// next returns the next frame the client sent.
func (f *fakeDaemon) next() frame {
	f.t.Helper()
	select {
	case fr := <-f.frames:
		return fr
	case <-time.After(wait):
		f.t.Fatalf("the client sent no frame within %v", wait)
		return frame{}
	}
}

// nextRequest returns the next frame, which must be a request of op.
func (f *fakeDaemon) nextRequest(op wire.Op) wire.Request {
	f.t.Helper()
	fr := f.next()
	require.Equal(f.t, wire.MsgRequest, fr.typ, "the client should have sent a request")
	require.Equal(f.t, op, fr.req.Op, "the client should have sent a %s request", op)
	return fr.req
}

// hangUp closes the daemon side of the connection.
func (f *fakeDaemon) hangUp() { f.conn.Close() }

// readable polls fd without waiting.
func readable(t testing.TB, fd int) bool {
	return pollFd(t, fd, 0)
}

// waitReadable waits until fd is readable, failing the test after wait.
func waitReadable(t testing.TB, fd int) {
	t.Helper()
	require.True(t, pollFd(t, fd, int(wait/time.Millisecond)), "the descriptor should become readable")
}

func pollFd(t testing.TB, fd int, ms int) bool {
	t.Helper()
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLIN}}
	for {
		n, err := unix.Poll(fds, ms)
		if errors.Is(err, unix.EINTR) {
			continue
		}
		require.NoError(t, err, "poll should work on the client's descriptor")
		return n == 1 && fds[0].Revents&unix.POLLIN != 0
	}
}

// waitPending waits until n notifications are queued.
func waitPending(t testing.TB, c *gsapi.Client, n int) {
	t.Helper()
	require.Eventually(t, func() bool { return c.Pending() == n }, wait, time.Millisecond,
		"%d notifications should be pending", n)
}

// attrs returns valid attributes for group.
func attrs(group string) gsapi.Attributes {
	return gsapi.Attributes{GroupName: group, NumPhases: gsapi.NPhase, DefaultVote: gsapi.VoteApprove, TimeLimit: 10}
}

// selfPid is this process's pid as the client reports it.
var selfPid = int32(os.Getpid())

// budget returns a channel that fires after the test budget.
func budget() <-chan time.Time { return time.After(wait) }
