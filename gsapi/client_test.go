package gsapi_test

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/gsapi"
	"github.com/openhags/hags/internal/wire"
)

func TestDialSendsHelloAndLearnsNode(t *testing.T) {
	script := filepath.Join(t.TempDir(), "deactivate.sh")
	require.NoError(t, os.WriteFile(script, []byte("#!/bin/sh\nexit 0\n"), 0o755))
	resp := gsapi.Responsiveness{Type: gsapi.PingResponsiveness, Interval: 5, ResponseTimeLimit: 2}

	f := newFake(t)
	c, err := gsapi.Dial(context.Background(), f.option(), gsapi.WithProgram("tester"),
		gsapi.WithDeactivateScript(script), gsapi.WithResponsiveness(resp, nil))
	require.NoError(t, err, "Dial should succeed against a welcoming daemon")
	defer c.Close()

	h := <-f.hello
	assert.Equal(t, selfPid, h.Pid, "Hello should carry the process id")
	assert.Equal(t, "tester", h.Program, "Hello should carry the program name")
	assert.Equal(t, script, h.DeactivateScript, "Hello should carry the deactivate script's absolute path")
	assert.Equal(t, resp, h.Responsiveness, "Hello should carry the responsiveness settings")
	assert.Equal(t, int32(fakeNode), c.Node(), "Node should be the node number from Welcome")
	assert.Equal(t, "test", c.Domain(), "Domain should come from Welcome")
}

func TestDialRefusedReturnsTheDaemonsCode(t *testing.T) {
	f := newFake(t)
	f.refuse = &wire.Refused{Code: wire.PermissionDenied, Reason: "not in hagsuser"}
	c, err := gsapi.Dial(context.Background(), f.option())
	require.Nil(t, c, "a refused Dial should return no client")
	assert.ErrorIs(t, err, gsapi.ErrPermissionDenied, "Dial should return the refusal's code")
	assert.Contains(t, err.Error(), "not in hagsuser", "the error should carry the daemon's reason")
}

func TestDialConnectFailedWhenNothingListens(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "none.sock")
	_, err := gsapi.Dial(context.Background(), gsapi.WithSocket(sock))
	assert.ErrorIs(t, err, gsapi.ErrConnectFailed, "Dial to a socket nobody serves should fail with ConnectFailed")
}

func TestDialFindsSocketThroughEnvironment(t *testing.T) {
	sock := filepath.Join(t.TempDir(), "d.sock")
	ln, err := net.Listen("unix", sock)
	require.NoError(t, err)
	defer ln.Close()
	t.Setenv(gsapi.SocketEnv, sock)

	f := newFake(t)
	accepted := make(chan struct{})
	go func() {
		defer close(accepted)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		f.conn = conn
		f.serve()
	}()
	c, err := gsapi.Dial(context.Background())
	require.NoError(t, err, "Dial should reach the socket named by $HA_GS_SOCKET")
	require.NoError(t, c.Close())
	<-accepted
}

func TestDialRejectsBadDeactivateScript(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	require.NoError(t, os.WriteFile(plain, []byte("x"), 0o644))
	for name, path := range map[string]string{
		"missing":        filepath.Join(dir, "missing"),
		"not executable": plain,
		"directory":      dir,
	} {
		t.Run(name, func(t *testing.T) {
			f := newFake(t)
			_, err := gsapi.Dial(context.Background(), f.option(), gsapi.WithDeactivateScript(path))
			assert.ErrorIs(t, err, gsapi.ErrBadParameter, "a %s deactivate script should be rejected at Dial", name)
		})
	}
}

// TestDialRejectsLongProgramName: a program name over MaxProgramNameLength
// is refused by Dial itself with ErrNameTooLong, before anything is sent;
// the daemon would refuse it too.
func TestDialRejectsLongProgramName(t *testing.T) {
	never := gsapi.WithDialer(func(context.Context) (net.Conn, error) {
		t.Error("Dial must not connect with a program name it refuses")
		return nil, errors.New("not dialed")
	})
	_, err := gsapi.Dial(context.Background(), never, gsapi.WithProgram(strings.Repeat("p", gsapi.MaxProgramNameLength+1)))
	assert.ErrorIs(t, err, gsapi.ErrNameTooLong, "a program name of 256 bytes should be refused at Dial")

	f := newFake(t)
	name := strings.Repeat("p", gsapi.MaxProgramNameLength)
	c, err := gsapi.Dial(context.Background(), f.option(), gsapi.WithProgram(name))
	require.NoError(t, err, "a program name of 255 bytes should be accepted")
	defer c.Close()
	assert.Equal(t, name, (<-f.hello).Program, "Hello should carry the whole name")
}

func TestDialRejectsUnknownResponsivenessType(t *testing.T) {
	f := newFake(t)
	_, err := gsapi.Dial(context.Background(), f.option(),
		gsapi.WithResponsiveness(gsapi.Responsiveness{Type: 9}, nil))
	assert.ErrorIs(t, err, gsapi.ErrBadParameter, "an unknown responsiveness type should be rejected at Dial")
}

func TestFdReadableExactlyWhenPending(t *testing.T) {
	var got []int32
	c, f := dial(t)
	tok, err := c.Subscribe(gsapi.SubscribeRequest{Group: "g", Control: gsapi.SubscribeStateValue,
		Callback: func(n *gsapi.Notification) { got = append(got, n.Token, int32(n.Seq)) }})
	require.NoError(t, err)
	f.nextRequest(wire.OpSubscribe)

	fd := c.Fd()
	assert.False(t, readable(t, fd), "the descriptor should not be readable with nothing pending")
	for i := 1; i <= 3; i++ {
		f.notify(wire.Notification{Type: wire.SubscriptionNotification, Token: tok, Seq: uint64(i)})
	}
	waitPending(t, c, 3)
	assert.True(t, readable(t, fd), "the descriptor should be readable while notifications are pending")
	require.NoError(t, c.Dispatch(gsapi.NonBlocking), "a non-blocking dispatch should succeed")
	assert.Equal(t, []int32{tok, 1, tok, 2, tok, 3}, got, "one non-blocking dispatch should deliver every pending notification in arrival order")
	assert.False(t, readable(t, fd), "the descriptor should not be readable once everything is delivered")
	require.NoError(t, c.Dispatch(gsapi.NonBlocking), "a non-blocking dispatch with nothing pending should return at once")

	f.notify(wire.Notification{Type: wire.SubscriptionNotification, Token: tok, Seq: 4})
	waitReadable(t, fd)
	require.NoError(t, c.Dispatch(gsapi.NonBlocking))
	assert.Equal(t, []int32{tok, 1, tok, 2, tok, 3, tok, 4}, got, "the new notification should be delivered")
}

// TestFdAskedForLate: the library keeps the descriptor in step with the
// queue only once Fd has been called; a program that asks for it with
// notifications already pending, or after a loss, finds it readable.
func TestFdAskedForLate(t *testing.T) {
	c, f := dial(t)
	tok, err := c.Subscribe(gsapi.SubscribeRequest{Group: "g", Control: gsapi.SubscribeStateValue,
		Callback: func(*gsapi.Notification) {}})
	require.NoError(t, err)
	f.nextRequest(wire.OpSubscribe)
	f.notify(wire.Notification{Type: wire.SubscriptionNotification, Token: tok, Seq: 1})
	waitPending(t, c, 1)
	fd := c.Fd()
	assert.True(t, readable(t, fd), "a descriptor first asked for while a notification is pending should be readable")
	require.NoError(t, c.Dispatch(gsapi.NonBlocking))
	assert.False(t, readable(t, fd), "the descriptor should not be readable once everything is delivered")

	c2, f2 := dial(t)
	f2.hangUp()
	require.Eventually(t, func() bool {
		_, err := c2.Subscribe(gsapi.SubscribeRequest{Group: "g", Control: gsapi.SubscribeStateValue})
		return errors.Is(err, gsapi.ErrNotOK)
	}, 10*time.Second, time.Millisecond, "the client should learn of the loss")
	assert.True(t, readable(t, c2.Fd()), "a descriptor first asked for after a loss should be readable, so pollers learn of it")
}

func TestBlockingDispatchDeliversAndReturnsOnClose(t *testing.T) {
	c, f := dial(t)
	delivered := make(chan uint64, 1)
	tok, err := c.Subscribe(gsapi.SubscribeRequest{Group: "g", Control: gsapi.SubscribeStateValue,
		Callback: func(n *gsapi.Notification) { delivered <- n.Seq }})
	require.NoError(t, err)
	f.nextRequest(wire.OpSubscribe)

	done := make(chan error, 1)
	go func() { done <- c.Dispatch(gsapi.Blocking) }()
	f.notify(wire.Notification{Type: wire.SubscriptionNotification, Token: tok, Seq: 9})
	select {
	case seq := <-delivered:
		assert.Equal(t, uint64(9), seq, "the blocking dispatch should deliver the notification")
	case <-budget():
		t.Fatal("a blocking dispatch should deliver a notification as it arrives")
	}

	require.NoError(t, c.Close(), "Close should succeed")
	select {
	case err := <-done:
		assert.ErrorIs(t, err, gsapi.ErrNoInit, "a blocking dispatch should return NoInit after Close")
	case <-budget():
		t.Fatal("Close should make a blocking dispatch return promptly")
	}
	q := f.nextRequest(wire.OpQuit)
	assert.Zero(t, q.Token, "OpQuit carries no token")
}

func TestBlockingDispatchReturnsNotOKOnConnectionLoss(t *testing.T) {
	c, f := dial(t)
	var got []uint64
	tok, err := c.Subscribe(gsapi.SubscribeRequest{Group: "g", Control: gsapi.SubscribeStateValue,
		Callback: func(n *gsapi.Notification) { got = append(got, n.Seq) }})
	require.NoError(t, err)
	f.nextRequest(wire.OpSubscribe)
	f.notify(wire.Notification{Type: wire.SubscriptionNotification, Token: tok, Seq: 1})
	f.hangUp()

	waitReadable(t, c.Fd())
	err = c.Dispatch(gsapi.Blocking)
	assert.ErrorIs(t, err, gsapi.ErrNotOK, "a blocking dispatch should return NotOK when the connection is lost")
	assert.Equal(t, []uint64{1}, got, "what arrived before the loss should be delivered first")
	assert.True(t, readable(t, c.Fd()), "the descriptor should stay readable after a loss, so pollers learn of it")
	assert.ErrorIs(t, c.Dispatch(gsapi.NonBlocking), gsapi.ErrNotOK, "a non-blocking dispatch should report the loss too")

	_, err = c.Subscribe(gsapi.SubscribeRequest{Group: "g", Control: gsapi.SubscribeStateValue})
	assert.ErrorIs(t, err, gsapi.ErrNotOK, "requests after a loss should fail with NotOK")
	assert.ErrorIs(t, c.Unsubscribe(tok), gsapi.ErrNotOK, "requests after a loss should fail with NotOK")
}

func TestRunReturnsWhenContextEnds(t *testing.T) {
	c, _ := dial(t)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	cancel()
	select {
	case err := <-done:
		assert.ErrorIs(t, err, context.Canceled, "Run should return the context's error")
	case <-budget():
		t.Fatal("Run should return promptly when its context ends")
	}
}

func TestCloseIsIdempotentAndEndsEverything(t *testing.T) {
	c, f := dial(t)
	tok, err := c.Join(gsapi.JoinRequest{Attributes: attrs("g")})
	require.NoError(t, err)
	f.nextRequest(wire.OpJoin)

	require.NoError(t, c.Close(), "Close should succeed")
	require.NoError(t, c.Close(), "a second Close should be harmless")
	f.nextRequest(wire.OpQuit)
	assert.Equal(t, -1, c.Fd(), "Fd should be -1 after Close")

	checks := map[string]error{
		"dispatch": c.Dispatch(gsapi.NonBlocking),
		"run":      c.Run(context.Background()),
		"goodbye":  c.Goodbye(tok),
		"vote":     c.Vote(tok, gsapi.VoteRequest{Vote: gsapi.VoteApprove}),
		"leave":    c.Leave(tok, gsapi.LeaveRequest{NumPhases: gsapi.OnePhase}),
	}
	_, checks["join"] = c.Join(gsapi.JoinRequest{Attributes: attrs("h")})
	_, checks["subscribe"] = c.Subscribe(gsapi.SubscribeRequest{Group: "g", Control: gsapi.SubscribeStateValue})
	for name, err := range checks {
		assert.ErrorIs(t, err, gsapi.ErrNoInit, "%s after Close should fail with NoInit", name)
	}
}

func TestConcurrentRequestsAreFramedWhole(t *testing.T) {
	c, f := dial(t)
	const goroutines, each = 16, 40
	var wg sync.WaitGroup
	toks := make(chan gsapi.Token, goroutines*each)
	for range goroutines {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range each {
				tok, err := c.Subscribe(gsapi.SubscribeRequest{Group: "g", Control: gsapi.SubscribeStateValue})
				if !assert.NoError(t, err, "concurrent Subscribe should succeed") {
					return
				}
				toks <- tok
			}
		}()
	}
	seen := map[int32]bool{}
	for range goroutines * each {
		r := f.nextRequest(wire.OpSubscribe)
		assert.False(t, seen[r.Token], "token %d should be sent once", r.Token)
		seen[r.Token] = true
	}
	wg.Wait()
	close(toks)
	for tok := range toks {
		assert.True(t, seen[tok], "every returned token should have been sent")
	}
	for i := int32(1); i <= goroutines*each; i++ {
		assert.True(t, seen[i], "tokens should be 1..%d without gaps; %d missing", goroutines*each, i)
	}
}

func TestResponsivenessAnsweredFromDispatchOnly(t *testing.T) {
	var checks []uint64
	var counter uint64 = 41
	c, f := dial(t, gsapi.WithResponsiveness(
		gsapi.Responsiveness{Type: gsapi.PingResponsiveness, Interval: 1, ResponseTimeLimit: 1},
		func(n *gsapi.Notification) gsapi.CallbackRC {
			checks = append(checks, n.Seq)
			return gsapi.CallbackNotOK
		}), gsapi.WithCounter(func() uint64 { counter++; return counter }))

	f.notify(wire.Notification{Type: wire.ResponsivenessNotification, Seq: 7})
	waitPending(t, c, 1)
	// The check has arrived but nobody dispatched: the next frame the daemon
	// sees must be this request, not an answer.
	_, err := c.Subscribe(gsapi.SubscribeRequest{Group: "g", Control: gsapi.SubscribeStateValue})
	require.NoError(t, err)
	first := f.next()
	assert.Equal(t, wire.MsgRequest, first.typ, "no answer should leave before Dispatch runs")

	require.NoError(t, c.Dispatch(gsapi.NonBlocking))
	assert.Equal(t, []uint64{7}, checks, "the responsiveness callback should run inside Dispatch")
	ans := f.next()
	require.Equal(t, wire.MsgRespond, ans.typ, "Dispatch should answer the check")
	assert.Equal(t, wire.Respond{Seq: 7, RC: wire.CallbackNotOK, Counter: 42}, ans.respond,
		"the answer should carry the check's sequence, the callback's result and the counter")
}

func TestDelayedErrorsGoToTheirHandler(t *testing.T) {
	var errs []*gsapi.Notification
	c, f := dial(t, gsapi.WithDelayedErrorHandler(func(n *gsapi.Notification) { errs = append(errs, n) }))
	tok, err := c.Subscribe(gsapi.SubscribeRequest{Group: "nosuch", Control: gsapi.SubscribeStateValue,
		Callback: func(*gsapi.Notification) { t.Error("a delayed error should not reach the subscriber callback") }})
	require.NoError(t, err)
	req := f.nextRequest(wire.OpSubscribe)
	f.notify(wire.Notification{Type: wire.DelayedErrorNotification, Token: tok, Code: wire.UnknownGroup,
		Protocol: wire.SubscriptionRequest, Failing: &req})
	waitPending(t, c, 1)
	require.NoError(t, c.Dispatch(gsapi.NonBlocking))
	require.Len(t, errs, 1, "the delayed error should reach the handler")
	assert.Equal(t, wire.UnknownGroup, errs[0].Code, "the handler should see the daemon's code")
	assert.ErrorIs(t, c.Unsubscribe(tok), gsapi.ErrBadMemberToken, "a refused subscription is over: its token is no subscription")
}

func TestDroppedNotificationsDoNotWakeTheFd(t *testing.T) {
	var got []wire.NotificationType
	c, f := dial(t) // no delayed-error handler
	prov, err := c.Join(gsapi.JoinRequest{Attributes: attrs("g"), Callbacks: gsapi.ProviderCallbacks{
		Approved: func(n *gsapi.Notification) { got = append(got, n.Type) },
	}})
	require.NoError(t, err)
	f.nextRequest(wire.OpJoin)
	f.notify(wire.Notification{Type: wire.DelayedErrorNotification, Token: prov, Code: wire.Collide})
	f.notify(wire.Notification{Type: wire.AnnouncementNotification, Token: prov}) // nil callback
	f.notify(wire.Notification{Type: wire.SubscriptionNotification, Token: 77})   // never issued
	f.notify(wire.Notification{Type: wire.SubscriptionNotification, Token: prov}) // wrong kind
	f.notify(wire.Notification{Type: wire.ApprovedNotification, Token: prov, Protocol: wire.JoinProtocol})
	waitReadable(t, c.Fd())
	assert.Equal(t, 1, c.Pending(), "only the approval has somewhere to go")
	require.NoError(t, c.Dispatch(gsapi.NonBlocking))
	assert.Equal(t, []wire.NotificationType{wire.ApprovedNotification}, got, "only the approval should be delivered")
}

func TestCallbackMayVote(t *testing.T) {
	var c *gsapi.Client
	var voteErr error
	c, f := dial(t)
	tok, err := c.Join(gsapi.JoinRequest{Attributes: attrs("g"), Callbacks: gsapi.ProviderCallbacks{
		NPhase: func(n *gsapi.Notification) {
			voteErr = c.Vote(n.Token, gsapi.VoteRequest{Vote: gsapi.VoteContinue, State: []byte("next")})
		},
	}})
	require.NoError(t, err)
	f.nextRequest(wire.OpJoin)
	f.notify(wire.Notification{Type: wire.NPhaseNotification, Token: tok, Protocol: wire.StateValueChangeProtocol})
	waitReadable(t, c.Fd())
	require.NoError(t, c.Dispatch(gsapi.NonBlocking))
	require.NoError(t, voteErr, "a vote from inside the n-phase callback should be accepted")
	v := f.nextRequest(wire.OpVote)
	assert.Equal(t, wire.VoteContinue, v.Vote, "the vote should be sent as given")
	assert.Equal(t, []byte("next"), v.State, "the proposed state should be sent")
	assert.Equal(t, tok, v.Token, "the vote should carry the provider's token")
}

func TestConcurrentDispatchersTakeTurnsInOrder(t *testing.T) {
	c, f := dial(t)
	const total = 200
	var inside atomic.Int32
	var mu sync.Mutex
	var got []uint64
	all := make(chan struct{})
	tok, err := c.Subscribe(gsapi.SubscribeRequest{Group: "g", Control: gsapi.SubscribeStateValue,
		Callback: func(n *gsapi.Notification) {
			assert.Equal(t, int32(1), inside.Add(1), "callbacks should never run concurrently")
			mu.Lock()
			got = append(got, n.Seq)
			if len(got) == total {
				close(all)
			}
			mu.Unlock()
			inside.Add(-1)
		}})
	require.NoError(t, err)
	f.nextRequest(wire.OpSubscribe)

	var wg sync.WaitGroup
	for range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.ErrorIs(t, c.Dispatch(gsapi.Blocking), gsapi.ErrNoInit, "blocking dispatchers return NoInit after Close")
		}()
	}
	wg.Add(1)
	go func() {
		defer wg.Done()
		for !isClosed(all) {
			if err := c.Dispatch(gsapi.NonBlocking); err != nil {
				assert.ErrorIs(t, err, gsapi.ErrNoInit, "a non-blocking dispatcher only fails after Close")
				return
			}
		}
	}()
	for i := 1; i <= total; i++ {
		f.notify(wire.Notification{Type: wire.SubscriptionNotification, Token: tok, Seq: uint64(i)})
	}
	select {
	case <-all:
	case <-budget():
		t.Fatal("the dispatchers should deliver every notification")
	}
	require.NoError(t, c.Close())
	wg.Wait()
	for i, seq := range got {
		require.Equal(t, uint64(i+1), seq, "notifications should be delivered in arrival order")
	}
}

func isClosed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}
