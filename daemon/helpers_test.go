package daemon

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// waitBudget bounds every wait for something a real socket or process does.
const waitBudget = 10 * time.Second

// fakeEngine stands in for protocol.Engine: it reports every event it is
// given on events and answers each request with one approved notification
// to the requester (so a test can see that a client is still served). A
// request with Op SendMessage and a Message of n bytes is answered with
// floodCount notifications carrying that message.
type fakeEngine struct {
	events     chan protocol.Event
	floodCount int

	mu       sync.Mutex
	deadline int64
	clients  map[protocol.ClientID]bool
	scripts  map[uint64]int32 // scripts started for expels: id → node
}

func newFakeEngine() *fakeEngine {
	return &fakeEngine{events: make(chan protocol.Event, 4096), clients: map[protocol.ClientID]bool{},
		scripts: map[uint64]int32{}}
}

func (f *fakeEngine) Step(ev protocol.Event) []protocol.Effect {
	f.events <- ev
	f.mu.Lock()
	defer f.mu.Unlock()
	switch ev.Kind {
	case protocol.EventConnect:
		f.clients[ev.Client] = true
	case protocol.EventDisconnect:
		delete(f.clients, ev.Client)
	case protocol.EventTick:
		if f.deadline != 0 && ev.Time >= f.deadline {
			f.deadline = 0
		}
	case protocol.EventRequest:
		req := ev.Request
		to := []protocol.Recipient{{Client: ev.Client, Token: req.Token}}
		if req.Op == wire.OpSendMessage && f.floodCount > 0 {
			note := &wire.Notification{Type: wire.AnnouncementNotification, Group: req.Group,
				Proposal: &wire.Proposal{Message: req.Message}}
			out := make([]protocol.Effect, f.floodCount)
			for i := range out {
				out[i] = protocol.Effect{Kind: protocol.EffectNotify, To: to, Note: note}
			}
			return out
		}
		if req.Op == wire.OpExpel {
			f.scripts[uint64(req.Token)] = ev.Client.Node
			return []protocol.Effect{{Kind: protocol.EffectRunScript, Script: &protocol.ScriptRun{
				ID: uint64(req.Token), Node: ev.Client.Node, Owner: ev.Client, Group: req.Group, Path: "/bin/true"}}}
		}
		return []protocol.Effect{{Kind: protocol.EffectNotify, To: to, Note: &wire.Notification{
			Type: wire.ApprovedNotification, Token: 999, Group: req.Group, Protocol: req.Op.Protocol()}}}
	}
	return nil
}

func (f *fakeEngine) setDeadline(at int64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deadline = at
}

func (f *fakeEngine) NextDeadline() (int64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.deadline, f.deadline != 0
}

func (f *fakeEngine) ScriptNode(id uint64) (int32, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	node, ok := f.scripts[id]
	return node, ok
}

func (f *fakeEngine) Clients() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.clients)
}

func (f *fakeEngine) Groups() []wire.GroupSummary {
	return []wire.GroupSummary{{Name: "g1", Providers: 2}, {Name: "g2", Subscribers: 1}}
}

func (f *fakeEngine) Group(name string) (*wire.GroupDetail, bool) {
	if name != "g1" {
		return nil, false
	}
	return &wire.GroupDetail{Name: "g1", Providers: []wire.ProviderDetail{{Provider: wire.Provider{Instance: 1, Node: 1}, Pid: 42}}}, true
}

// next returns the next event the engine saw whose kind is kind, skipping
// others, or fails the test.
func (f *fakeEngine) next(t *testing.T, kind protocol.EventKind) protocol.Event {
	t.Helper()
	timeout := time.After(waitBudget)
	for {
		select {
		case ev := <-f.events:
			if ev.Kind == kind {
				return ev
			}
		case <-timeout:
			t.Fatalf("the engine never saw an event of kind %d", kind)
		}
	}
}

// syncBuffer is a log sink that tests read while the daemon writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testNode is a Node serving a socket in a fresh short directory (Unix
// socket paths are limited to 107 bytes, so not t.TempDir()).
type testNode struct {
	*Node
	eng    *fakeEngine
	socket string
	logs   *syncBuffer
	served chan error
}

func shortTempDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hagsd")
	require.NoError(t, err, "a temporary directory can be made")
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func startNode(t *testing.T, cfg Config, eng engine) *testNode {
	t.Helper()
	return startNodeWith(t, cfg, eng, nil)
}

// startNodeWith is startNode with tweak applied to the Node before it
// serves (tests lower its bounds this way).
func startNodeWith(t *testing.T, cfg Config, eng engine, tweak func(*Node)) *testNode {
	t.Helper()
	logs := &syncBuffer{}
	if cfg.Socket == "" {
		cfg.Socket = filepath.Join(shortTempDir(t), "hagsd.sock")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.MultiWriter(logs, testWriter{t}), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if cfg.Authorize == nil && cfg.ClientGroup == "" {
		// Tests that name a ClientGroup get the real SO_PEERCRED check.
		cfg.Authorize = func(net.Conn) (protocol.Cred, error) {
			return protocol.Cred{Pid: int32(os.Getpid()), Uid: 0, Gid: 0}, nil
		}
	}
	fe, _ := eng.(*fakeEngine)
	if eng == nil {
		fe = newFakeEngine()
		eng = fe
	}
	n, err := newNode(cfg, eng)
	require.NoError(t, err, "newNode accepts the config")
	if tweak != nil {
		tweak(n)
	}
	ln, err := n.Listen()
	require.NoError(t, err, "the node listens on %s", cfg.Socket)
	tn := &testNode{Node: n, eng: fe, socket: cfg.Socket, logs: logs, served: make(chan error, 1)}
	go func() { tn.served <- n.Serve(ln) }()
	t.Cleanup(func() {
		require.NoError(t, n.Close(), "Close succeeds")
		select {
		case err := <-tn.served:
			require.NoError(t, err, "Serve returns nil after Close")
		case <-time.After(waitBudget):
			t.Error("Serve did not return after Close")
		}
	})
	return tn
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s", bytes.TrimRight(p, "\n"))
	return len(p), nil
}

// rawClient speaks frames on a real socket, for tests that need to send
// what no well-behaved client would.
type rawClient struct {
	t    *testing.T
	conn *net.UnixConn
	r    *wire.Reader
}

func dialRaw(t *testing.T, socket string) *rawClient {
	t.Helper()
	c, err := net.Dial("unix", socket)
	require.NoError(t, err, "connecting to %s works", socket)
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(waitBudget))
	return &rawClient{t: t, conn: c.(*net.UnixConn), r: wire.NewReader(c)}
}

func (c *rawClient) send(typ wire.MsgType, body any) {
	c.t.Helper()
	require.NoError(c.t, wire.WriteFrame(c.conn, typ, body), "writing a %d frame works", typ)
}

func (c *rawClient) write(b []byte) {
	c.t.Helper()
	_, err := c.conn.Write(b)
	require.NoError(c.t, err, "writing raw bytes works")
}

func (c *rawClient) read(want wire.MsgType, v any) {
	c.t.Helper()
	typ, body, err := c.r.Next()
	require.NoError(c.t, err, "a frame of type %d arrives", want)
	require.Equal(c.t, want, typ, "the frame has type %d", want)
	require.NoError(c.t, wire.Decode(body, v), "the frame body decodes")
}

// hello opens a client session and returns the Welcome.
func (c *rawClient) hello(admin bool) wire.Welcome {
	c.t.Helper()
	c.send(wire.MsgHello, &wire.Hello{Pid: int32(os.Getpid()), Program: "test", Admin: admin})
	var w wire.Welcome
	c.read(wire.MsgWelcome, &w)
	return w
}

// requireClosed asserts that the daemon closed the connection (after any
// frames still in flight, which are skipped).
func (c *rawClient) requireClosed() {
	c.t.Helper()
	for {
		_, _, err := c.r.Next()
		if err != nil {
			require.ErrorIs(c.t, err, io.EOF, "the daemon closes the connection cleanly")
			return
		}
	}
}

// roundTrip sends a request and waits for the fake engine's answer: proof
// that this client is still served.
func (c *rawClient) roundTrip(token int32) {
	c.t.Helper()
	c.send(wire.MsgRequest, validJoin(token, "g"))
	var n wire.Notification
	c.read(wire.MsgNotification, &n)
	require.Equal(c.t, token, n.Token, "the notification carries the recipient's token, not the engine's")
	require.Equal(c.t, wire.ApprovedNotification, n.Type, "the fake engine approves every request")
}

func ctxBudget(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), waitBudget)
	t.Cleanup(cancel)
	return ctx
}

// validJoin is a join that passes the session's checks (Request.Check), so
// that it reaches the engine.
func validJoin(token int32, group string) *wire.Request {
	return &wire.Request{Op: wire.OpJoin, Token: token, Group: group,
		Attributes: &wire.Attributes{GroupName: group, NumPhases: wire.OnePhase, DefaultVote: wire.VoteApprove}}
}

// validExpel is an expel on token that passes the session's checks.
func validExpel(token int32, group string) *wire.Request {
	return &wire.Request{Op: wire.OpExpel, Token: token, Group: group, NumPhases: wire.OnePhase,
		ExpelList: []wire.Provider{{Instance: 1, Node: 1}}}
}
