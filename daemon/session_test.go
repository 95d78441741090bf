package daemon

import (
	"encoding/binary"
	"errors"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

func TestSessionWelcomeConnectRequestNotify(t *testing.T) {
	tn := startNode(t, Config{Domain: "dom", Node: 3, Incarnation: 7}, nil)
	up := <-tn.eng.events
	assert.Equal(t, protocol.Event{Kind: protocol.EventNodeUp, Node: 3, Time: up.Time}, up,
		"the first event puts this node up (a one-node domain)")
	c := dialRaw(t, tn.socket)
	w := c.hello(false)
	assert.Equal(t, int32(3), w.Node, "Welcome names this node")
	assert.Equal(t, "dom", w.Domain, "Welcome names the domain")
	assert.Equal(t, uint64(7), w.Incarnation, "Welcome carries the incarnation")
	assert.Equal(t, uint64(7)<<32|1, w.Client, "the first client id is incarnation<<32 | 1")

	ev := tn.eng.next(t, protocol.EventConnect)
	assert.Equal(t, protocol.ClientID{Node: 3, Conn: w.Client}, ev.Client, "EventConnect names the client")
	assert.Equal(t, int32(os.Getpid()), ev.Cred.Pid, "EventConnect carries the credentials from Authorize")
	require.NotNil(t, ev.Hello, "EventConnect carries the Hello")
	assert.Equal(t, "test", ev.Hello.Program, "EventConnect carries the Hello's program")
	assert.NotZero(t, ev.Time, "events are stamped with the time they are ordered")

	c.roundTrip(5)
	req := tn.eng.next(t, protocol.EventRequest)
	assert.Equal(t, wire.OpJoin, req.Request.Op, "the request reaches the engine")

	c2 := dialRaw(t, tn.socket)
	w2 := c2.hello(false)
	assert.Equal(t, uint64(7)<<32|2, w2.Client, "client ids are never reused")
}

func TestDisconnectAndQuit(t *testing.T) {
	tn := startNode(t, Config{}, nil)

	c := dialRaw(t, tn.socket)
	w := c.hello(false)
	tn.eng.next(t, protocol.EventConnect)
	c.conn.Close()
	ev := tn.eng.next(t, protocol.EventDisconnect)
	assert.Equal(t, w.Client, ev.Client.Conn, "a dropped connection is a disconnect of that client")

	q := dialRaw(t, tn.socket)
	wq := q.hello(false)
	tn.eng.next(t, protocol.EventConnect)
	q.send(wire.MsgRequest, &wire.Request{Op: wire.OpQuit, Token: 1})
	got := tn.eng.next(t, protocol.EventRequest)
	assert.Equal(t, wire.OpQuit, got.Request.Op, "OpQuit reaches the engine")
	q.requireClosed()

	// A later client's connect proves the loop went past the quitter's end;
	// no disconnect may have been fed for it.
	c3 := dialRaw(t, tn.socket)
	c3.hello(false)
	tn.eng.next(t, protocol.EventConnect)
	for {
		select {
		case ev := <-tn.eng.events:
			assert.False(t, ev.Kind == protocol.EventDisconnect && ev.Client.Conn == wq.Client,
				"a client that quit is not also disconnected")
			continue
		default:
		}
		break
	}
	require.Eventually(t, func() bool { return strings.Contains(tn.logs.String(), "client quit") },
		waitBudget, 10*time.Millisecond, "the quit is logged")
}

// TestBadInputClosesOnlyThatConnection sends every kind of bad frame on
// one connection and checks that the daemon closes exactly that one with a
// logged reason, while another client keeps being served.
func TestBadInputClosesOnlyThatConnection(t *testing.T) {
	frame := func(length uint32, rest ...byte) []byte {
		return append(binary.BigEndian.AppendUint32(nil, length), rest...)
	}
	cases := []struct {
		name   string
		send   func(c *rawClient)
		reason string
	}{
		{"oversized frame", func(c *rawClient) { c.write(frame(wire.MaxFrameSize + 1)) }, "frame larger than MaxFrameSize"},
		{"truncated frame", func(c *rawClient) {
			c.write(frame(100, wire.Version, byte(wire.MsgRequest), 0x80))
			c.conn.CloseWrite()
		}, "unexpected EOF"},
		{"short frame", func(c *rawClient) { c.write(frame(1, wire.Version)) }, "frame shorter than its header"},
		{"unknown type", func(c *rawClient) { c.write(frame(3, wire.Version, 200, 0xc0)) }, "unknown message type"},
		{"bad version", func(c *rawClient) { c.write(frame(3, 9, byte(wire.MsgRequest), 0xc0)) }, "unsupported protocol version"},
		{"bad msgpack", func(c *rawClient) { c.write(frame(4, wire.Version, byte(wire.MsgRequest), 0xc1, 0xc1)) }, "bad request"},
		{"trailing bytes", func(c *rawClient) {
			b, err := wire.AppendFrame(nil, wire.MsgRespond, &wire.Respond{Seq: 1})
			require.NoError(t, err)
			b = append(b, 0xc0)
			binary.BigEndian.PutUint32(b, binary.BigEndian.Uint32(b)+1)
			c.write(b)
		}, "bytes after the message body"},
		{"daemon-to-client type", func(c *rawClient) { c.send(wire.MsgWelcome, &wire.Welcome{}) }, "unexpected message type 2"},
		{"second hello", func(c *rawClient) { c.send(wire.MsgHello, &wire.Hello{}) }, "unexpected message type 1"},
	}
	tn := startNode(t, Config{}, nil)
	good := dialRaw(t, tn.socket)
	good.hello(false)
	good.roundTrip(1)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := dialRaw(t, tn.socket)
			w := bad.hello(false)
			tn.eng.next(t, protocol.EventConnect)
			tc.send(bad)
			bad.requireClosed()
			ev := tn.eng.next(t, protocol.EventDisconnect)
			assert.Equal(t, w.Client, ev.Client.Conn, "the broken client is disconnected in the engine")
			assert.Contains(t, tn.logs.String(), tc.reason, "the reason for closing is logged")
			good.roundTrip(int32(i + 2))
		})
	}
}

func TestBadFirstFrameIsRefused(t *testing.T) {
	tn := startNode(t, Config{}, nil)
	good := dialRaw(t, tn.socket)
	good.hello(false)

	cases := []struct {
		name   string
		send   func(c *rawClient)
		reason string
	}{
		{"request before hello", func(c *rawClient) { c.send(wire.MsgRequest, &wire.Request{Op: wire.OpJoin, Token: 1}) }, "expected hello"},
		{"bad hello body", func(c *rawClient) { c.write([]byte{0, 0, 0, 3, wire.Version, byte(wire.MsgHello), 0xc1}) }, "bad hello"},
		{"oversized", func(c *rawClient) { c.write([]byte{0xff, 0xff, 0xff, 0xff}) }, "frame larger than MaxFrameSize"},
	}
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			bad := dialRaw(t, tn.socket)
			tc.send(bad)
			var r wire.Refused
			bad.read(wire.MsgRefused, &r)
			assert.Equal(t, wire.BadParameter, r.Code, "a bad first frame is refused with BadParameter")
			assert.Contains(t, r.Reason, tc.reason, "the refusal says why")
			bad.requireClosed()
			good.roundTrip(int32(i + 1))
		})
	}
}

func TestAuthorizeRefusal(t *testing.T) {
	refuseNext := make(chan bool, 2)
	tn := startNode(t, Config{Authorize: func(net.Conn) (protocol.Cred, error) {
		if <-refuseNext {
			return protocol.Cred{Pid: 4242, Uid: 1234, Gid: 99}, errors.New("uid 1234 is not in group hagsuser")
		}
		return protocol.Cred{Pid: 1}, nil
	}}, nil)
	refuseNext <- false
	good := dialRaw(t, tn.socket)
	good.hello(false)

	refuseNext <- true
	bad := dialRaw(t, tn.socket)
	var r wire.Refused
	bad.read(wire.MsgRefused, &r)
	assert.Equal(t, wire.PermissionDenied, r.Code, "a refused peer gets PermissionDenied")
	assert.Contains(t, r.Reason, "not in group", "the refusal carries Authorize's reason")
	bad.requireClosed()
	logs := tn.logs.String()
	assert.Contains(t, logs, "client refused", "the refusal is logged")
	assert.Contains(t, logs, "uid=1234", "the log names the refused uid")
	assert.Contains(t, logs, "pid=4242", "the log names the refused pid")
	good.roundTrip(1)
}

func TestClientLimit(t *testing.T) {
	tn := startNode(t, Config{}, nil)
	tn.maxClients = 1
	a := dialRaw(t, tn.socket)
	a.hello(false)

	b := dialRaw(t, tn.socket)
	b.send(wire.MsgHello, &wire.Hello{Pid: 1})
	var r wire.Refused
	b.read(wire.MsgRefused, &r)
	assert.Equal(t, wire.NoMemory, r.Code, "a client beyond the limit is refused with NoMemory")

	admin := dialRaw(t, tn.socket)
	admin.hello(true) // admin sessions have their own allowance

	a.conn.Close()
	tn.eng.next(t, protocol.EventDisconnect)
	require.Eventually(t, func() bool { return tn.clients.Load() == 0 }, waitBudget, time.Millisecond,
		"a closed session frees its slot")
	c := dialRaw(t, tn.socket)
	c.hello(false)
}

func TestAdminQueries(t *testing.T) {
	tn := startNode(t, Config{Domain: "adm", Node: 2}, nil)
	tn.eng.next(t, protocol.EventNodeUp)
	ctx := ctxBudget(t)
	a, err := ipcDialAdmin(ctx, tn.socket)
	require.NoError(t, err, "an admin session opens")
	defer a.Close()

	rep, err := a.Query(ctx, wire.AdminQuery{What: "status"})
	require.NoError(t, err, "status succeeds")
	require.NotNil(t, rep.Status, "status reply carries a Status")
	assert.Equal(t, "adm", rep.Status.Domain, "status names the domain")
	assert.Equal(t, int32(2), rep.Status.Node, "status names the node")
	assert.Equal(t, Version, rep.Status.Version, "status carries the version")
	assert.Equal(t, 2, rep.Status.Groups, "status counts the engine's groups")
	require.Len(t, rep.Status.Nodes, 1, "a one-node domain lists one node")
	assert.Equal(t, "node2", rep.Status.Nodes[0].Name, "named as hagsd --name's default says, though no failure detector runs")

	rep, err = a.Query(ctx, wire.AdminQuery{What: "groups"})
	require.NoError(t, err, "groups succeeds")
	require.Len(t, rep.Groups, 2, "groups lists the engine's groups")
	assert.Equal(t, "g1", rep.Groups[0].Name, "groups keeps the engine's order")

	rep, err = a.Query(ctx, wire.AdminQuery{What: "group", Group: "g1"})
	require.NoError(t, err, "group g1 succeeds")
	require.NotNil(t, rep.Group, "group reply carries the detail")
	assert.Equal(t, int32(42), rep.Group.Providers[0].Pid, "the detail comes from the engine")

	_, err = a.Query(ctx, wire.AdminQuery{What: "group", Group: "nope"})
	assert.ErrorContains(t, err, `unknown group "nope"`, "an unknown group is an error reply")
	_, err = a.Query(ctx, wire.AdminQuery{What: "bogus"})
	assert.ErrorContains(t, err, "unknown query", "an unknown query is an error reply")

	select {
	case ev := <-tn.eng.events:
		t.Fatalf("admin sessions are not engine clients, but the engine saw %+v", ev)
	default:
	}
}

func TestAdminSessionMayOnlyQuery(t *testing.T) {
	tn := startNode(t, Config{}, nil)
	tn.eng.next(t, protocol.EventNodeUp)
	c := dialRaw(t, tn.socket)
	c.hello(true)
	c.send(wire.MsgRequest, &wire.Request{Op: wire.OpJoin, Token: 1, Group: "g"})
	var r wire.Refused
	c.read(wire.MsgRefused, &r)
	assert.Equal(t, wire.PermissionDenied, r.Code, "a request on an admin session is refused")
	c.requireClosed()
	select {
	case ev := <-tn.eng.events:
		t.Fatalf("the admin session's request must not reach the engine, got %+v", ev)
	default:
	}
}

// TestSlowReaderIsDisconnected: a client that stops reading is closed once
// its outbound queue is full, and fails like a dead process.
func TestSlowReaderIsDisconnected(t *testing.T) {
	eng := newFakeEngine()
	eng.floodCount = 2000 // 2000 × 16 KiB > OutboxBytes plus socket buffers
	tn := startNode(t, Config{}, eng)
	good := dialRaw(t, tn.socket)
	good.hello(false)

	slow := dialRaw(t, tn.socket)
	w := slow.hello(false)
	tn.eng.next(t, protocol.EventConnect)
	tn.eng.next(t, protocol.EventConnect)
	slow.send(wire.MsgRequest, validJoin(1, "g"))
	slow.send(wire.MsgRequest, &wire.Request{Op: wire.OpSendMessage, Token: 1, NumPhases: wire.OnePhase,
		Message: make([]byte, wire.MaxProviderMessageLength)})
	ev := tn.eng.next(t, protocol.EventDisconnect)
	assert.Equal(t, w.Client, ev.Client.Conn, "the client that stopped reading is disconnected")
	assert.Contains(t, tn.logs.String(), "outbound queue full", "the reason is logged")
	good.roundTrip(1)
}

// helloScript opens a client session that registers a deactivate script.
func (c *rawClient) helloScript(path string) wire.Welcome {
	c.t.Helper()
	c.send(wire.MsgHello, &wire.Hello{Pid: int32(os.Getpid()), Program: "test", DeactivateScript: path})
	var w wire.Welcome
	c.read(wire.MsgWelcome, &w)
	return w
}

func TestScriptsWithoutRunnerFail(t *testing.T) {
	tn := startNode(t, Config{}, nil)
	c := dialRaw(t, tn.socket)
	c.helloScript("/opt/deact")
	c.send(wire.MsgRequest, validJoin(9, "g"))
	c.send(wire.MsgRequest, validExpel(9, "g"))
	ev := tn.eng.next(t, protocol.EventScriptDone)
	require.NotNil(t, ev.Script, "EventScriptDone carries the result")
	assert.Equal(t, protocol.ScriptResult{ID: 9, Result: wire.DeactivateFailed}, *ev.Script,
		"with no script runner every script is reported failed")
	assert.Contains(t, tn.logs.String(), "no script runner", "the missing runner is logged")
}

type fakeRunner struct{ runs chan *protocol.ScriptRun }

func (f *fakeRunner) Run(run *protocol.ScriptRun, done func(protocol.ScriptResult)) {
	f.runs <- run
	go done(protocol.ScriptResult{ID: run.ID, Result: wire.DeactivateOK})
}

func TestScriptsGoToTheRunner(t *testing.T) {
	r := &fakeRunner{runs: make(chan *protocol.ScriptRun, 1)}
	tn := startNode(t, Config{Scripts: r}, nil)
	c := dialRaw(t, tn.socket)
	c.helloScript("/opt/deact")
	c.send(wire.MsgRequest, validJoin(4, "g"))
	c.send(wire.MsgRequest, validExpel(4, "g"))
	ev := tn.eng.next(t, protocol.EventScriptDone)
	assert.Equal(t, protocol.ScriptResult{ID: 4, Result: wire.DeactivateOK}, *ev.Script,
		"the runner's outcome is fed back to the engine")
	run := <-r.runs
	assert.Equal(t, "g", run.Group, "the runner gets the engine's ScriptRun")
}

// TestScriptRunsWhatTheLocalSessionRegistered: the log's ScriptRun (the
// fake engine's) names /bin/true as uid 0 for a client whose session
// registered /opt/local.sh as uid 1234; the daemon runs the session's
// script as the session's uid, gid and pid, and logs the difference.
func TestScriptRunsWhatTheLocalSessionRegistered(t *testing.T) {
	r := &fakeRunner{runs: make(chan *protocol.ScriptRun, 1)}
	tn := startNode(t, Config{Scripts: r, Authorize: func(net.Conn) (protocol.Cred, error) {
		return protocol.Cred{Pid: 777, Uid: 1234, Gid: 99}, nil
	}}, nil)
	c := dialRaw(t, tn.socket)
	c.helloScript("/opt/local.sh")
	c.send(wire.MsgRequest, validJoin(5, "g"))
	c.send(wire.MsgRequest, validExpel(5, "g"))
	var run *protocol.ScriptRun
	select {
	case run = <-r.runs:
	case <-time.After(waitBudget):
		t.Fatal("the expel's script run reached the runner")
	}
	assert.Equal(t, "/opt/local.sh", run.Path, "the session's script runs, not the log's /bin/true")
	assert.Equal(t, uint32(1234), run.Uid, "as the session's uid, not the log's 0")
	assert.Equal(t, uint32(99), run.Gid, "and the session's gid")
	assert.Equal(t, int32(777), run.Pid, "with the session's pid")
	assert.Equal(t, uint64(5), run.ID, "the log chooses which run it is")
	assert.Equal(t, "g", run.Group, "and for which group")
	ev := tn.eng.next(t, protocol.EventScriptDone)
	assert.Equal(t, wire.DeactivateOK, ev.Script.Result, "the outcome is reported")
	assert.Contains(t, tn.logs.String(), "differs from the session's", "the mismatch is logged")
}

// TestScriptForNoLocalRegistrationIsNotRun: a ScriptRun whose owner never
// registered a script with this daemon (here: a session with no script)
// runs nothing and is reported failed.
func TestScriptForNoLocalRegistrationIsNotRun(t *testing.T) {
	r := &fakeRunner{runs: make(chan *protocol.ScriptRun, 1)}
	tn := startNode(t, Config{Scripts: r}, nil)
	c := dialRaw(t, tn.socket)
	c.hello(false)
	c.send(wire.MsgRequest, validJoin(6, "g"))
	c.send(wire.MsgRequest, validExpel(6, "g"))
	ev := tn.eng.next(t, protocol.EventScriptDone)
	assert.Equal(t, protocol.ScriptResult{ID: 6, Result: wire.DeactivateFailed}, *ev.Script,
		"a script nobody registered here is reported failed")
	select {
	case run := <-r.runs:
		t.Fatalf("nothing may run for a client that registered no script; ran %+v", run)
	default:
	}
	assert.Contains(t, tn.logs.String(), "no session of this daemon registered", "the refusal is logged")
}

// TestScriptBookForgetsTheOldestEnded: registrations outlive their
// sessions, up to a bound.
func TestScriptBookForgetsTheOldestEnded(t *testing.T) {
	b := newScriptBook(2)
	for conn := uint64(1); conn <= 4; conn++ {
		b.register(&session{id: protocol.ClientID{Conn: conn}, hello: wire.Hello{DeactivateScript: "/s"}, cred: protocol.Cred{Uid: uint32(conn)}})
	}
	b.register(&session{id: protocol.ClientID{Conn: 5}}) // no script: nothing kept
	_, ok := b.lookup(5)
	assert.False(t, ok, "a session without a script registers nothing")
	for conn := uint64(1); conn <= 3; conn++ {
		b.end(conn)
	}
	_, ok = b.lookup(1)
	assert.False(t, ok, "the oldest ended registration beyond the bound is forgotten")
	for conn := uint64(2); conn <= 4; conn++ {
		ls, ok := b.lookup(conn)
		assert.True(t, ok, "session %d's registration is kept", conn)
		assert.Equal(t, uint32(conn), ls.uid, "with its own uid")
	}
}

func TestDeadlineFeedsTick(t *testing.T) {
	eng := newFakeEngine()
	tn := startNode(t, Config{}, eng)
	at := time.Now().Add(20 * time.Millisecond).UnixNano()
	eng.setDeadline(at)
	// Any input makes the loop look at the deadline again.
	c := dialRaw(t, tn.socket)
	c.hello(false)
	ev := eng.next(t, protocol.EventTick)
	assert.GreaterOrEqual(t, ev.Time, at, "the tick is ordered at or after the deadline")
}

func TestCheckScriptRefusesBadPath(t *testing.T) {
	tn := startNode(t, Config{CheckScript: func(path string, uid, gid uint32) error {
		if path == "/bad" {
			return errors.New("not executable")
		}
		return nil
	}}, nil)
	c := dialRaw(t, tn.socket)
	c.send(wire.MsgHello, &wire.Hello{Pid: 1, DeactivateScript: "/bad"})
	var r wire.Refused
	c.read(wire.MsgRefused, &r)
	assert.Equal(t, wire.BadParameter, r.Code, "a bad deactivate script is refused with BadParameter")
	assert.NotContains(t, r.Reason, "not executable", "the refusal does not tell the client why (it could probe files)")
	assert.Contains(t, tn.logs.String(), "not executable", "the daemon log has the reason")

	ok := dialRaw(t, tn.socket)
	ok.send(wire.MsgHello, &wire.Hello{Pid: 1, DeactivateScript: "/good"})
	var w wire.Welcome
	ok.read(wire.MsgWelcome, &w)
}

func TestCloseRemovesSocketAndStopsServe(t *testing.T) {
	tn := startNode(t, Config{}, nil)
	c := dialRaw(t, tn.socket)
	c.hello(false)
	require.NoError(t, tn.Close(), "Close succeeds")
	select {
	case err := <-tn.served:
		require.NoError(t, err, "Serve returns nil after Close")
		tn.served <- nil // for the cleanup's check
	case <-time.After(waitBudget):
		t.Fatal("Serve did not return after Close")
	}
	_, err := os.Stat(tn.socket)
	assert.ErrorIs(t, err, os.ErrNotExist, "Close removes the socket file")
	c.requireClosed()
	require.NoError(t, tn.Close(), "Close is idempotent")
}

func TestNewRejectsBadConfig(t *testing.T) {
	for _, d := range []string{"a/b", "..", "x\x00"} {
		_, err := newNode(Config{Domain: d}, newFakeEngine())
		assert.Error(t, err, "domain %q is refused", d)
	}
	_, err := newNode(Config{Node: -1}, newFakeEngine())
	assert.Error(t, err, "a negative node number is refused")
	assert.Equal(t, "/run/hags/hags/hagsd.sock", DefaultSocketPath(""), "the default domain's socket")
	assert.Equal(t, "/run/hags/prod/hagsd.sock", DefaultSocketPath("prod"), "a domain's socket")
}

// TestCloseOrdersNoDisconnect: Close ends every session without failing
// its client in the engine (the domain fails the node's providers when it
// leaves): no session's end is ordered as a disconnect, however quickly
// its reader sees its connection closed.
func TestCloseOrdersNoDisconnect(t *testing.T) {
	tn := startNode(t, Config{}, nil)
	const clients = 20
	for range clients {
		dialRaw(t, tn.socket).hello(false)
	}
	for range clients {
		tn.eng.next(t, protocol.EventConnect)
	}
	require.NoError(t, tn.Close(), "Close succeeds")
	for {
		select {
		case ev := <-tn.eng.events:
			assert.NotEqual(t, protocol.EventDisconnect, ev.Kind, "no session's end is ordered after Close (client %d)", ev.Client.Conn)
		default:
			return
		}
	}
}
