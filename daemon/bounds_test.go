package daemon

import (
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// Attacks on one daemon's sessions (issue 12, holes 4, 5 and 8): requests
// the engine would refuse must not reach the log; per-session data, tokens,
// sessions per user and connections that have not said Hello are bounded;
// a fast client is slowed, not cut off; a flood of refusals does not flood
// the log.

// uidAuthorizer admits every peer with the uid last stored in uid, so
// that a test can speak as several users over one real socket. Tests set
// uid before dialing and wait for each connection's answer, so the peer
// that reads it is the one dialed after.
func uidAuthorizer(uid *atomic.Uint32) func(net.Conn) (protocol.Cred, error) {
	return func(net.Conn) (protocol.Cred, error) {
		return protocol.Cred{Pid: int32(os.Getpid()), Uid: uid.Load(), Gid: uid.Load()}, nil
	}
}

// helloAs sends a Hello for program on c and returns the first frame's
// type and body: a Welcome or a Refused.
func (c *rawClient) helloAs(program string) (wire.MsgType, wire.Refused) {
	c.t.Helper()
	c.send(wire.MsgHello, &wire.Hello{Pid: int32(os.Getpid()), Program: program})
	typ, body, err := c.r.Next()
	require.NoError(c.t, err, "the daemon answers the Hello")
	var ref wire.Refused
	if typ == wire.MsgRefused {
		require.NoError(c.t, wire.Decode(body, &ref), "the refusal decodes")
	}
	return typ, ref
}

// TestForeignAndOversizedRequestsAreNotOrdered: a client's requests on a
// token it never named, and requests with fields over the limits, are
// answered at once with the engine's delayed error and never reach the
// engine (so never the replicated log); the owner of the token hears
// nothing. On the code before the fix every one of them was ordered.
func TestForeignAndOversizedRequestsAreNotOrdered(t *testing.T) {
	tn := startNode(t, Config{}, nil)
	owner := dialRaw(t, tn.socket)
	owner.hello(false)
	owner.roundTrip(1) // the owner's token 1, in group g
	tn.eng.next(t, protocol.EventRequest)

	attacker := dialRaw(t, tn.socket)
	attacker.conn.SetDeadline(time.Now().Add(4 * waitBudget))
	aw := attacker.hello(false)
	huge := make([]byte, 1_000_000)
	attempts := []struct {
		req  *wire.Request
		want wire.Code
	}{
		{&wire.Request{Op: wire.OpChangeState, Token: 1, NumPhases: wire.OnePhase, State: huge}, wire.StateValueTooLong},
		{&wire.Request{Op: wire.OpChangeState, Token: 1, NumPhases: wire.OnePhase, State: []byte("x")}, wire.BadMemberToken},
		{&wire.Request{Op: wire.OpSendMessage, Token: 1, NumPhases: wire.OnePhase, Message: huge}, wire.MessageTooLong},
		{&wire.Request{Op: wire.OpExpel, Token: 1, NumPhases: wire.OnePhase, ExpelList: []wire.Provider{{Instance: 1, Node: 1}}},
			wire.BadMemberToken},
		{&wire.Request{Op: wire.OpVote, Token: 1, Vote: wire.VoteApprove, State: huge}, wire.StateValueTooLong},
		{&wire.Request{Op: wire.OpUnsubscribe, Token: 1}, wire.BadMemberToken},
		{&wire.Request{Op: wire.OpJoin, Token: 2, Group: strings.Repeat("n", 1000),
			Attributes: &wire.Attributes{GroupName: strings.Repeat("n", 1000), NumPhases: wire.OnePhase, DefaultVote: wire.VoteApprove},
			LocalName:  string(huge[:500_000])}, wire.NameTooLong},
	}
	const rounds = 10
	for range rounds {
		for _, a := range attempts {
			attacker.send(wire.MsgRequest, a.req)
			var n wire.Notification
			attacker.read(wire.MsgNotification, &n)
			assert.Equal(t, wire.DelayedErrorNotification, n.Type, "%s on a foreign or oversized request is refused", a.req.Op)
			assert.Equal(t, a.want, n.Code, "%s is refused with the engine's code", a.req.Op)
			assert.Equal(t, a.req.Token, n.Token, "the refusal names the request's token")
			assert.NotEmpty(t, n.FFDC, "the refusal carries an FFDC id")
			require.NotNil(t, n.Failing, "the refusal echoes the request")
			assert.Equal(t, a.req.Op, n.Failing.Op, "the echo is the request")
		}
	}
	// The first request of the attacker that the engine sees is the valid
	// one it sends last: none of the refused ones came before it.
	attacker.roundTrip(3)
	for {
		ev := tn.eng.next(t, protocol.EventRequest)
		if ev.Client.Conn != aw.Client {
			continue
		}
		assert.Equal(t, wire.OpJoin, ev.Request.Op, "no refused request of the attacker reached the engine")
		assert.Equal(t, int32(3), ev.Request.Token, "the attacker's valid join is ordered")
		break
	}
	owner.roundTrip(4) // the owner is still served, and heard nothing else first
}

// TestHelloBounds: a program name over 255 bytes is refused at Hello with
// NameTooLong, a Hello over 16 KiB (a 1 MB program name) with BadParameter
// before its body is decoded, a script path over 4095 bytes with
// BadParameter; each with the reason. 255 bytes is accepted. On the code
// before the fix every one of these sessions was accepted, and kept its
// program name for its whole life.
func TestHelloBounds(t *testing.T) {
	tn := startNode(t, Config{}, nil)
	ok := dialRaw(t, tn.socket)
	typ, _ := ok.helloAs(strings.Repeat("p", wire.MaxProgramNameLength))
	assert.Equal(t, wire.MsgWelcome, typ, "a program name of 255 bytes is accepted")

	long := dialRaw(t, tn.socket)
	typ, ref := long.helloAs(strings.Repeat("p", wire.MaxProgramNameLength+1))
	require.Equal(t, wire.MsgRefused, typ, "a program name of 256 bytes is refused")
	assert.Equal(t, wire.NameTooLong, ref.Code, "a long program name is NameTooLong")
	assert.Contains(t, ref.Reason, "program name is 256 bytes", "the refusal says why")
	long.requireClosed()

	for i := range 30 {
		huge := dialRaw(t, tn.socket)
		typ, ref := huge.helloAs(strings.Repeat("p", 1_000_000))
		require.Equal(t, wire.MsgRefused, typ, "a 1 MB program name is refused (session %d)", i)
		assert.Equal(t, wire.BadParameter, ref.Code, "a Hello over MaxHelloSize is BadParameter")
		assert.Contains(t, ref.Reason, "hello too large", "the refusal says why")
		assert.NotEmpty(t, ref.FFDC, "the refusal carries an FFDC id")
	}

	script := dialRaw(t, tn.socket)
	script.send(wire.MsgHello, &wire.Hello{Pid: 1, Program: "s", DeactivateScript: "/" + strings.Repeat("s", wire.MaxScriptPathLength)})
	var r wire.Refused
	script.read(wire.MsgRefused, &r)
	assert.Equal(t, wire.BadParameter, r.Code, "a script path over 4095 bytes is refused")
	assert.Contains(t, r.Reason, "deactivate script path is 4096 bytes", "the refusal says why")
	ok.roundTrip(1)
}

// TestTokensPerClientAreCapped: a session may name wire.MaxTokensPerClient
// tokens in joins and subscriptions; the next new one gets a delayed
// NoMemory (HA_GS_NO_MEMORY) and is not ordered, while its earlier tokens,
// reused, still work. The real engine answers the others.
func TestTokensPerClientAreCapped(t *testing.T) {
	tn := startNode(t, Config{}, protocol.New())
	c := dialRaw(t, tn.socket)
	c.conn.SetDeadline(time.Now().Add(6 * waitBudget))
	c.hello(false)
	sub := func(tok int32) *wire.Request {
		return &wire.Request{Op: wire.OpSubscribe, Token: tok, Group: protocol.HostMembershipGroup, Control: wire.SubscribeStateValue}
	}
	// Send and read at once: the outbox holds 4096 frames.
	notes := make(chan wire.Notification, 64)
	go func() {
		defer close(notes)
		for {
			_, body, err := c.r.Next()
			if err != nil {
				return
			}
			var n wire.Notification
			if wire.Decode(body, &n) == nil {
				notes <- n
			}
		}
	}()
	go func() {
		for tok := int32(1); tok <= wire.MaxTokensPerClient; tok++ {
			if wire.WriteFrame(c.conn, wire.MsgRequest, sub(tok)) != nil {
				return
			}
		}
	}()
	for tok := int32(1); tok <= wire.MaxTokensPerClient; tok++ {
		n, ok := <-notes
		require.True(t, ok, "the session stays up for subscription %d", tok)
		require.Equal(t, wire.SubscriptionNotification, n.Type, "subscription %d is taken", tok)
		require.Equal(t, tok, n.Token, "subscriptions are answered in order")
	}
	c.send(wire.MsgRequest, sub(wire.MaxTokensPerClient+1))
	n := <-notes
	assert.Equal(t, wire.DelayedErrorNotification, n.Type, "one token more is refused")
	assert.Equal(t, wire.NoMemory, n.Code, "with NoMemory")
	assert.Equal(t, int32(wire.MaxTokensPerClient+1), n.Token, "naming the new token")

	// A named token can be used again: unsubscribe and subscribe anew.
	c.send(wire.MsgRequest, &wire.Request{Op: wire.OpUnsubscribe, Token: 7})
	c.send(wire.MsgRequest, sub(7))
	n = <-notes
	assert.Equal(t, wire.SubscriptionNotification, n.Type, "a token already named is reused")
	assert.Equal(t, int32(7), n.Token, "the reused token is answered")
}

// TestWaitingConnectionsAreCapped: connections that never say Hello are
// bounded per user (MaxWaitingConnsPerUid) and in all (MaxWaitingConns,
// lowered here to 48); those beyond are refused at once with NoMemory, and
// a real client of another user still gets in. On the code before the fix
// every silent connection was held for HelloTimeout.
func TestWaitingConnectionsAreCapped(t *testing.T) {
	const global = 48
	var uid atomic.Uint32
	tn := startNodeWith(t, Config{Authorize: uidAuthorizer(&uid)}, nil, func(n *Node) { n.adm.maxWaiting = global })
	tn.eng.next(t, protocol.EventNodeUp)
	waiting := func() int {
		tn.adm.mu.Lock()
		defer tn.adm.mu.Unlock()
		return tn.adm.waiting
	}
	var refused atomic.Int32
	var silent []net.Conn
	// flood dials n silent connections as user u and waits until the
	// daemon holds held connections in all and refused refusals came.
	flood := func(u uint32, n, held, refusals int) {
		uid.Store(u)
		for range n {
			c, err := net.Dial("unix", tn.socket)
			require.NoError(t, err, "connecting works")
			t.Cleanup(func() { c.Close() })
			silent = append(silent, c)
			go func() {
				c.SetReadDeadline(time.Now().Add(HelloTimeout / 2))
				_, body, err := wire.NewReader(c).Next()
				var ref wire.Refused
				if err == nil && wire.Decode(body, &ref) == nil && ref.Code == wire.NoMemory {
					refused.Add(1)
				}
			}()
		}
		require.Eventually(t, func() bool { return waiting() == held && refused.Load() == int32(refusals) }, waitBudget,
			10*time.Millisecond, "the daemon holds %d silent connections and refused %d with NoMemory", held, refusals)
	}

	flood(1000, 100, MaxWaitingConnsPerUid, 100-MaxWaitingConnsPerUid)
	uid.Store(0)
	real := dialRaw(t, tn.socket)
	real.hello(false)
	real.roundTrip(1)

	// Another user fills the global bound; root's silent connections are
	// then refused too.
	flood(1001, MaxWaitingConnsPerUid, global, 100-MaxWaitingConnsPerUid+2*MaxWaitingConnsPerUid-global)
	flood(0, 5, global, 100-MaxWaitingConnsPerUid+2*MaxWaitingConnsPerUid-global+5)
	real.roundTrip(2)
	late := dialRaw(t, tn.socket)
	typ, ref := late.helloAs("late")
	require.Equal(t, wire.MsgRefused, typ, "while the bound is reached, a new connection is refused")
	assert.Equal(t, wire.NoMemory, ref.Code, "with NoMemory")
	assert.Contains(t, ref.Reason, "waiting for their hello", "the refusal says why")

	for _, c := range silent {
		c.Close()
	}
	require.Eventually(t, func() bool { return waiting() == 0 }, waitBudget, 10*time.Millisecond,
		"closed connections stop counting")
	again := dialRaw(t, tn.socket)
	again.hello(false)
	again.roundTrip(3)
	assert.Contains(t, tn.logs.String(), "too many connections waiting for their hello", "the refusals are logged")
}

// TestSessionsPerUidAreCapped: a user other than root has at most
// MaxSessionsPerUid client sessions; the next gets NoMemory at init, root
// and other users are not affected, and a slot freed is taken again.
func TestSessionsPerUidAreCapped(t *testing.T) {
	var uid atomic.Uint32
	tn := startNodeWith(t, Config{Authorize: uidAuthorizer(&uid)}, nil, func(n *Node) { n.adm.maxSessionsPerUid = 3 })
	uid.Store(1000)
	var mine []*rawClient
	for range 3 {
		c := dialRaw(t, tn.socket)
		typ, _ := c.helloAs("u")
		require.Equal(t, wire.MsgWelcome, typ, "uid 1000 gets its sessions up to the bound")
		mine = append(mine, c)
	}
	over := dialRaw(t, tn.socket)
	typ, ref := over.helloAs("u")
	require.Equal(t, wire.MsgRefused, typ, "one session more for the same uid is refused")
	assert.Equal(t, wire.NoMemory, ref.Code, "with NoMemory")
	assert.Contains(t, ref.Reason, "uid 1000 has 3 sessions", "the refusal says why")

	for _, u := range []uint32{0, 1001} {
		uid.Store(u)
		c := dialRaw(t, tn.socket)
		typ, _ := c.helloAs("other")
		assert.Equal(t, wire.MsgWelcome, typ, "uid %d is not affected", u)
	}

	mine[0].conn.Close()
	tn.eng.next(t, protocol.EventDisconnect)
	uid.Store(1000)
	again := dialRaw(t, tn.socket)
	typ, _ = again.helloAs("u")
	assert.Equal(t, wire.MsgWelcome, typ, "a session that ended frees its slot")
}

// TestFastClientIsSlowedNotKilled: a client that sends faster than its
// token bucket is read more slowly (its writes block on its own socket
// buffer), never disconnected, and every request it sent is processed, in
// order. On the code before the fix nothing paced it.
func TestFastClientIsSlowedNotKilled(t *testing.T) {
	const rate, burst = 512 << 10, 64 << 10
	tn := startNodeWith(t, Config{}, protocol.New(), func(n *Node) { n.reqRate, n.reqBurst = rate, burst })
	c := dialRaw(t, tn.socket)
	c.conn.SetDeadline(time.Now().Add(6 * waitBudget))
	c.hello(false)
	c.send(wire.MsgRequest, validJoin(1, "g"))
	var joined wire.Notification
	c.read(wire.MsgNotification, &joined)
	require.Equal(t, wire.ApprovedNotification, joined.Type, "the client is the group's provider")

	const count, size = 256, 4 << 10
	notes := make(chan wire.Notification, count)
	go func() {
		defer close(notes)
		for range count {
			_, body, err := c.r.Next()
			if err != nil {
				return
			}
			var n wire.Notification
			if wire.Decode(body, &n) != nil {
				return
			}
			notes <- n
		}
	}()
	start := time.Now()
	sent := 0
	for i := range count {
		state := make([]byte, size)
		copy(state, strconv.Itoa(i))
		frame, err := wire.AppendFrame(nil, wire.MsgRequest, &wire.Request{Op: wire.OpChangeState, Token: 1,
			NumPhases: wire.OnePhase, State: state})
		require.NoError(t, err)
		_, err = c.conn.Write(frame)
		require.NoError(t, err, "request %d is written: the client is slowed, not cut off", i)
		sent += len(frame) - 6 + RequestOverhead
	}
	for i := range count {
		n, ok := <-notes
		require.True(t, ok, "the session is not closed before approval %d", i)
		require.Equal(t, wire.ApprovedNotification, n.Type, "state change %d is approved", i)
		require.NotNil(t, n.Proposal, "an approval carries the proposal")
		want := strconv.Itoa(i)
		assert.Equal(t, want, string(n.Proposal.ProposedState[:len(want)]), "state changes are applied in the order sent")
	}
	took := time.Since(start)
	// A lower bound only: a busy machine makes the run slower, never faster.
	least := time.Duration(float64(sent-burst) / rate * float64(time.Second))
	assert.GreaterOrEqual(t, took, least*9/10, "%d bytes at %d bytes/s with a burst of %d take at least %v", sent, rate, burst, least)
	assert.Contains(t, tn.logs.String(), "reading it more slowly", "the daemon logs that it slows the client")
	c.send(wire.MsgRequest, validJoin(2, "h"))
	var n wire.Notification
	c.read(wire.MsgNotification, &n)
	assert.Equal(t, wire.ApprovedNotification, n.Type, "the client is still served")
}

// TestRefusalLogFloodIsSummarised: a flood of refused connections writes
// at most RefusalLogBurst lines plus RefusalLogRate a second; the rest are
// counted and summarised by reason, so that every refusal is accounted
// for. On the code before the fix each refusal was one log line.
func TestRefusalLogFloodIsSummarised(t *testing.T) {
	logs := &syncBuffer{}
	refuseAll := func(net.Conn) (protocol.Cred, error) {
		return protocol.Cred{Pid: 7, Uid: 1234}, errors.New("not in the client group")
	}
	tn := startNodeWith(t, Config{Authorize: refuseAll, Logger: slog.New(slog.NewTextHandler(logs, nil))}, nil,
		func(n *Node) { n.refusals = newRefusalLog(n.log, 100*time.Millisecond) })
	const flood = 400
	start := time.Now()
	var wg sync.WaitGroup
	for range flood {
		c, err := net.Dial("unix", tn.socket)
		require.NoError(t, err)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.Close()
			c.SetDeadline(time.Now().Add(waitBudget))
			var r wire.Refused
			_, body, err := wire.NewReader(c).Next()
			if assert.NoError(t, err, "each refused peer is told") && assert.NoError(t, wire.Decode(body, &r)) {
				// Beyond MaxWaitingConnsPerUid at once, NoMemory.
				assert.Contains(t, []wire.Code{wire.PermissionDenied, wire.NoMemory}, r.Code, "each refused peer is told why")
			}
			io.Copy(io.Discard, c)
		}()
	}
	wg.Wait()
	took := time.Since(start)
	reasons := []string{"client refused", "connection refused: too many connections waiting for their hello"}
	logged := func() int {
		n := 0
		for _, r := range reasons {
			n += strings.Count(logs.String(), `msg="`+r+`"`)
		}
		return n
	}
	summary := regexp.MustCompile(`refusals not logged one by one" .*suppressed=(\d+)`)
	suppressed := 0
	require.Eventually(t, func() bool {
		suppressed = 0
		for _, m := range summary.FindAllStringSubmatch(logs.String(), -1) {
			n, _ := strconv.Atoi(m[1])
			suppressed += n
		}
		return logged()+suppressed == flood
	}, waitBudget, 20*time.Millisecond, "every refusal is either logged or counted in a summary")
	assert.Positive(t, suppressed, "a flood is summarised")
	bound := RefusalLogBurst + int(RefusalLogRate*took.Seconds()) + 1
	assert.LessOrEqual(t, logged(), bound, "at most %d refusal lines in %v", bound, took)
	assert.Regexp(t, `by_reason="client refused: \d+`, logs.String(), "the summary counts the suppressed lines by reason")
}

// TestQuitBeforeCloseIsOrdered: a client that sends OpQuit and closes its
// socket at once ends in order: everything it sent, the quit last, reaches
// the engine and no disconnect follows — even when the reader is still
// pacing those frames (the bucket here is small) while the daemon's writer
// fails on the closed socket. (A reader that gave up the frames it had read
// once the writer failed turned such quits into process deaths.)
func TestQuitBeforeCloseIsOrdered(t *testing.T) {
	eng := newFakeEngine()
	eng.floodCount = 64 // 64 × 16 KiB: the writer is busy, then fails, when the client leaves
	tn := startNodeWith(t, Config{}, eng, func(n *Node) { n.reqRate, n.reqBurst = 64<<10, 17<<10 })
	const sessions = 4
	msg := &wire.Request{Op: wire.OpSendMessage, Token: 1, NumPhases: wire.OnePhase, Message: make([]byte, wire.MaxProviderMessageLength)}
	clients := map[uint64]int{} // requests the engine saw, by client
	for range sessions {
		c := dialRaw(t, tn.socket)
		w := c.hello(false)
		c.send(wire.MsgRequest, validJoin(1, "g"))
		c.send(wire.MsgRequest, msg)
		c.send(wire.MsgRequest, msg) // waits in the bucket for a quarter of a second
		c.send(wire.MsgRequest, &wire.Request{Op: wire.OpQuit})
		c.conn.Close()
		clients[w.Client] = 0
	}
	for quits := 0; quits < sessions; {
		select {
		case ev := <-eng.events:
			switch ev.Kind {
			case protocol.EventRequest:
				clients[ev.Client.Conn]++
				if ev.Request.Op == wire.OpQuit {
					assert.Equal(t, 4, clients[ev.Client.Conn], "the quit comes after the client's three other requests")
					quits++
				}
			case protocol.EventDisconnect:
				t.Fatalf("client %d quit before closing, but its end was ordered as a disconnect", ev.Client.Conn)
			}
		case <-time.After(waitBudget):
			t.Fatalf("every quit reaches the engine; requests seen: %v", clients)
		}
	}
}
