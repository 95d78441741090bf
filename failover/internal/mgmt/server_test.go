package mgmt_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/engine"
	"github.com/openhags/hags/failover/internal/mgmt"
	"github.com/openhags/hags/failover/internal/mgmt/mgmttest"
	"github.com/openhags/hags/failover/internal/mgmtwire"
	"github.com/openhags/hags/internal/peercred"
	"github.com/openhags/hags/internal/wire"
)

// logBuf is a concurrency-safe log sink.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

type env struct {
	sock string
	srv  *mgmt.Server
	log  *logBuf
	back mgmt.Backend
}

// start serves back on a real Unix socket with cfg's other settings.
func start(t *testing.T, back mgmt.Backend, cfg mgmt.Config) *env {
	t.Helper()
	dir, err := os.MkdirTemp("", "mg") // short: socket paths are limited to 108 bytes
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	e := &env{sock: filepath.Join(dir, "s"), log: &logBuf{}, back: back}
	ln, err := net.Listen("unix", e.sock)
	require.NoError(t, err)
	cfg.Backend = back
	cfg.Logger = slog.New(slog.NewTextHandler(e.log, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.srv, err = mgmt.New(cfg)
	require.NoError(t, err)
	done := make(chan error, 1)
	go func() { done <- e.srv.Serve(ln) }()
	t.Cleanup(func() {
		require.NoError(t, e.srv.Close())
		require.ErrorIs(t, <-done, mgmt.ErrClosed)
	})
	return e
}

// raw is a client speaking the protocol by hand.
type raw struct {
	t  *testing.T
	nc net.Conn
	wc *mgmtwire.Conn
	id uint64
}

func dialRaw(t *testing.T, e *env) (*raw, mgmtwire.Welcome) {
	t.Helper()
	nc, err := net.Dial("unix", e.sock)
	require.NoError(t, err)
	t.Cleanup(func() { nc.Close() })
	r := &raw{t: t, nc: nc, wc: mgmtwire.NewConn(nc, mgmtwire.MaxMessageClient)}
	typ, body, err := r.wc.Recv()
	require.NoError(t, err, "the server speaks first")
	require.Equal(t, mgmtwire.MsgWelcome, typ)
	var w mgmtwire.Welcome
	require.NoError(t, mgmtwire.Decode(body, &w))
	return r, w
}

// do sends req and returns the response to it, skipping events.
func (r *raw) do(req mgmtwire.Request) mgmtwire.Response {
	r.t.Helper()
	r.id++
	req.ID = r.id
	require.NoError(r.t, r.wc.Send(mgmtwire.MsgRequest, &req))
	for {
		typ, body, err := r.wc.Recv()
		require.NoError(r.t, err, "an answer to %s", req.Op)
		if typ != mgmtwire.MsgResponse {
			continue
		}
		var resp mgmtwire.Response
		require.NoError(r.t, mgmtwire.Decode(body, &resp))
		require.Equal(r.t, req.ID, resp.ID, "the answer carries the request's ID")
		return resp
	}
}

func code(resp mgmtwire.Response) failover.Code { return failover.Code(resp.Code) }

// closed waits for the server to close the connection.
func (r *raw) closed() error {
	_ = r.nc.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		if _, _, err := r.wc.Recv(); err != nil {
			return err
		}
	}
}

func TestAccessFor(t *testing.T) {
	const admin, user = 100, 200
	cases := []struct {
		name string
		peer peercred.Peer
		want failover.Access
	}{
		{"root", peercred.Peer{Uid: 0, Gid: 0}, failover.AccessAll},
		{"admin by primary group", peercred.Peer{Uid: 5, Gid: admin}, failover.AccessAll},
		{"admin by supplementary group", peercred.Peer{Uid: 5, Gid: 7, Groups: []uint32{user, admin}}, failover.AccessAll},
		{"user", peercred.Peer{Uid: 5, Gid: 7, Groups: []uint32{user}}, failover.AccessRead},
		{"user by primary group", peercred.Peer{Uid: 5, Gid: user}, failover.AccessRead},
		{"anyone else", peercred.Peer{Uid: 5, Gid: 7, Groups: []uint32{8}}, failover.AccessNone},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, mgmt.AccessFor(tc.peer, admin, user), tc.name)
	}
	assert.Equal(t, failover.AccessNone, mgmt.AccessFor(peercred.Peer{Uid: 5, Gid: 7}, -1, -1),
		"with neither group existing, only root gets in")
}

// TestForgedAndMismatchedHandles: handles the connection never got, 0,
// handles of another kind and handles of another connection are all
// ERROR_INVALID_HANDLE, for reads and changes alike, and reach nothing.
func TestForgedAndMismatchedHandles(t *testing.T) {
	fake := mgmttest.New()
	defer fake.Close()
	e := start(t, fake, mgmt.Config{})
	a, _ := dialRaw(t, e)
	b, _ := dialRaw(t, e)
	g := a.do(mgmtwire.Request{Op: mgmtwire.OpCreateGroup, Name: "g"})
	require.Equal(t, failover.CodeSuccess, code(g), g.Message)
	n := a.do(mgmtwire.Request{Op: mgmtwire.OpOpenNode, Name: "NodeB"})
	require.Equal(t, failover.CodeSuccess, code(n), n.Message)
	before := len(fake.Requests())

	cases := []struct {
		name string
		c    *raw
		req  mgmtwire.Request
	}{
		{"a number never given", a, mgmtwire.Request{Op: mgmtwire.OpGroupState, Handle: 4242}},
		{"handle 0", a, mgmtwire.Request{Op: mgmtwire.OpOnlineGroup}},
		{"a group handle as a resource", a, mgmtwire.Request{Op: mgmtwire.OpOnlineResource, Handle: g.Handle}},
		{"a node handle as a group", a, mgmtwire.Request{Op: mgmtwire.OpDeleteGroup, Handle: n.Handle}},
		{"a group handle as a destination", a, mgmtwire.Request{Op: mgmtwire.OpMoveGroup, Handle: g.Handle, NodeHandle: g.Handle}},
		{"no node for a possible owner", a, mgmtwire.Request{Op: mgmtwire.OpAddResourceOwner, Handle: g.Handle}},
		{"another connection's handle", b, mgmtwire.Request{Op: mgmtwire.OpGroupState, Handle: g.Handle}},
		{"another connection's handle, changing", b, mgmtwire.Request{Op: mgmtwire.OpOfflineGroup, Handle: g.Handle}},
		{"closing a handle never given", a, mgmtwire.Request{Op: mgmtwire.OpCloseHandle, Handle: 999}},
		{"ending a watch never started", a, mgmtwire.Request{Op: mgmtwire.OpUnwatch, Watch: 77}},
	}
	for _, tc := range cases {
		resp := tc.c.do(tc.req)
		assert.Equal(t, failover.CodeInvalidHandle, code(resp), "%s: %s", tc.name, resp.Message)
	}
	assert.Len(t, fake.Requests(), before, "no request with a bad handle reached the manager")
}

// TestUnknownOperation: an operation number the protocol does not have
// is ERROR_INVALID_PARAMETER, on any connection, and the connection goes
// on.
func TestUnknownOperation(t *testing.T) {
	fake := mgmttest.New()
	defer fake.Close()
	e := start(t, fake, mgmt.Config{})
	a, _ := dialRaw(t, e)
	for _, op := range []mgmtwire.Op{0, 16, 31, 57, 255} {
		resp := a.do(mgmtwire.Request{Op: op})
		assert.Equal(t, failover.CodeInvalidParameter, code(resp), "op %d: %s", op, resp.Message)
	}
	resp := a.do(mgmtwire.Request{Op: mgmtwire.OpListNodes})
	assert.Equal(t, failover.CodeSuccess, code(resp), "the connection still serves")
	assert.Empty(t, fake.Requests(), "nothing reached the manager")
}

// TestBadFramesCloseOnlyThatConnection: garbage, an oversized frame, a
// message that is not a request, an undecodable request and a Read
// connection's oversized run of parts each close their own connection,
// with a logged reason; another connection keeps being served.
func TestBadFramesCloseOnlyThatConnection(t *testing.T) {
	fake := mgmttest.New()
	defer fake.Close()
	readOnly := func(peercred.Peer) failover.Access { return failover.AccessRead }
	e := start(t, fake, mgmt.Config{})
	eRead := start(t, fake, mgmt.Config{AccessOf: readOnly})
	survivor, _ := dialRaw(t, e)

	frame := func(typ wire.MsgType, v any) []byte {
		b, err := wire.AppendFrame(nil, typ, v)
		require.NoError(t, err)
		return b
	}
	big := strings.Repeat("z", wire.MaxFrameSize)
	cases := []struct {
		name  string
		env   *env
		bytes []byte
		send  func(c *raw) error
		log   string
	}{
		{name: "garbage", env: e, bytes: []byte("GET / HTTP/1.1\r\n\r\n"), log: "bad frame"},
		{name: "a wrong version", env: e, bytes: []byte{0, 0, 0, 2, 9, 2}, log: "bad frame"},
		{name: "a welcome from the client", env: e, bytes: frame(mgmtwire.MsgWelcome, &mgmtwire.Welcome{}), log: "not a request"},
		{name: "a request that does not decode", env: e, bytes: frame(mgmtwire.MsgRequest, "hello"), log: "undecodable request"},
		{name: "a lying length", env: e, bytes: frame(mgmtwire.MsgRequest, []any{make([]byte, 0)})[:4], log: "bad frame"},
		{name: "parts beyond a Read connection's bound", env: eRead, send: func(c *raw) error {
			return c.wc.Send(mgmtwire.MsgRequest, &mgmtwire.Request{Op: mgmtwire.OpApplyConfig, Expr: big})
		}, log: "larger than the connection allows"},
	}
	for _, tc := range cases {
		c, _ := dialRaw(t, tc.env)
		if tc.send != nil {
			_ = tc.send(c) // the server may close the connection before all of it is written
		} else {
			_, err := c.nc.Write(tc.bytes)
			require.NoError(t, err)
			if tc.name == "a lying length" {
				c.nc.(*net.UnixConn).CloseWrite() // the frame never comes whole
			}
		}
		assert.Error(t, c.closed(), "%s: the server closes the connection", tc.name)
		require.Eventually(t, func() bool { return strings.Contains(e.log.String()+eRead.log.String(), tc.log) },
			10*time.Second, 5*time.Millisecond, "%s: the log says %q", tc.name, tc.log)
		resp := survivor.do(mgmtwire.Request{Op: mgmtwire.OpListGroups})
		assert.Equal(t, failover.CodeSuccess, code(resp), "%s: another connection is still served", tc.name)
	}
	assert.Empty(t, fake.Requests(), "no bad frame reached the manager")
}

// TestConnectionBound: past MaxConns the server admits nobody new until
// a connection ends; then the waiting peer is served.
func TestConnectionBound(t *testing.T) {
	fake := mgmttest.New()
	defer fake.Close()
	e := start(t, fake, mgmt.Config{MaxConns: 1})
	first, _ := dialRaw(t, e)
	nc, err := net.Dial("unix", e.sock)
	require.NoError(t, err, "the kernel queues the second peer")
	defer nc.Close()
	second := mgmtwire.NewConn(nc, mgmtwire.MaxMessageClient)
	got := make(chan error, 1)
	go func() {
		_, _, err := second.Recv()
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("the second peer was served while the first held the only slot (%v)", err)
	case <-time.After(200 * time.Millisecond): // a negative check: nothing may arrive meanwhile
	}
	first.nc.Close()
	select {
	case err := <-got:
		assert.NoError(t, err, "once the first peer leaves, the second gets its welcome")
	case <-time.After(10 * time.Second):
		t.Fatal("the second peer was never served")
	}
}

// blocking is a Backend whose Submit and Watch wait for their context,
// to show that Close ends requests in flight and waits for them.
type blocking struct {
	mgmt.Backend
	entered chan struct{}
	changes chan failover.Change
}

func (b *blocking) Submit(ctx context.Context, _ mgmt.Caller, _ engine.Request) (failover.Code, string, error) {
	b.entered <- struct{}{}
	<-ctx.Done()
	return 0, "", ctx.Err()
}

func (b *blocking) Watch(ctx context.Context) (<-chan failover.Change, error) { return b.changes, nil }

func TestCloseEndsRequestsInFlight(t *testing.T) {
	fake := mgmttest.New()
	defer fake.Close()
	b := &blocking{Backend: fake, entered: make(chan struct{}, 1)}
	e := start(t, b, mgmt.Config{})
	c, _ := dialRaw(t, e)
	require.NoError(t, c.wc.Send(mgmtwire.MsgRequest, &mgmtwire.Request{ID: 1, Op: mgmtwire.OpCreateGroup, Name: "g"}))
	<-b.entered
	require.NoError(t, e.srv.Close(), "Close returns with a request in flight")
	assert.Error(t, c.closed(), "the connection is closed")
}

// TestWatchEndIsReported: when the manager ends a watcher's stream (it
// fell behind), the client gets a final event saying so.
func TestWatchEndIsReported(t *testing.T) {
	fake := mgmttest.New()
	defer fake.Close()
	b := &blocking{Backend: fake, changes: make(chan failover.Change, 1)}
	e := start(t, b, mgmt.Config{})
	c, _ := dialRaw(t, e)
	resp := c.do(mgmtwire.Request{Op: mgmtwire.OpWatch})
	require.Equal(t, failover.CodeSuccess, code(resp))
	b.changes <- failover.Change{Kind: failover.ChangeNode, Node: &failover.NodeInfo{Name: "NodeA"}}
	close(b.changes)
	var events []mgmtwire.Event
	for len(events) < 2 {
		typ, body, err := c.wc.Recv()
		require.NoError(t, err)
		require.Equal(t, mgmtwire.MsgEvent, typ)
		var ev mgmtwire.Event
		require.NoError(t, mgmtwire.Decode(body, &ev))
		events = append(events, ev)
	}
	assert.Equal(t, resp.ID, events[0].Watch, "events carry the watch's ID")
	var ch failover.Change
	require.NoError(t, mgmtwire.DecodeBody(events[0].Change, &ch))
	assert.Equal(t, "NodeA", ch.Node.Name, "the change is relayed")
	assert.Contains(t, events[1].End, "ended", "the last event says the stream ended")
}

// TestTooManyWatchesAndHandles: the per-connection bounds answer with a
// code and leave the connection served.
func TestTooManyWatchesAndHandles(t *testing.T) {
	fake := mgmttest.New()
	defer fake.Close()
	e := start(t, fake, mgmt.Config{})
	c, _ := dialRaw(t, e)
	for i := range mgmtwire.MaxWatches {
		resp := c.do(mgmtwire.Request{Op: mgmtwire.OpWatch})
		require.Equal(t, failover.CodeSuccess, code(resp), "watch %d", i)
	}
	resp := c.do(mgmtwire.Request{Op: mgmtwire.OpWatch})
	assert.Equal(t, failover.CodeInvalidParameter, code(resp), "one watch too many: %s", resp.Message)
	for i := range mgmtwire.MaxHandles {
		resp := c.do(mgmtwire.Request{Op: mgmtwire.OpOpenNode, Name: "NodeA"})
		require.Equal(t, failover.CodeSuccess, code(resp), "handle %d", i)
	}
	resp = c.do(mgmtwire.Request{Op: mgmtwire.OpOpenNode, Name: "NodeA"})
	assert.Equal(t, failover.CodeInvalidParameter, code(resp), "one handle too many: %s", resp.Message)
	resp = c.do(mgmtwire.Request{Op: mgmtwire.OpCloseHandle, Handle: 1})
	assert.Equal(t, failover.CodeSuccess, code(resp), "closing one frees a place")
	resp = c.do(mgmtwire.Request{Op: mgmtwire.OpOpenNode, Name: "NodeA"})
	assert.Equal(t, failover.CodeSuccess, code(resp), "and a handle can be opened again")
	assert.NotEqual(t, uint32(1), resp.Handle, "a closed handle's number is not given again at once")
}
