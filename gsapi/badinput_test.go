package gsapi_test

import (
	"context"
	"math/rand"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/gsapi"
	"github.com/openhags/hags/internal/wire"
)

// everyCall calls every request method of c with tok and otherwise valid
// arguments, and returns each error by method name.
func everyCall(c *gsapi.Client, tok gsapi.Token) map[string]error {
	_, joinErr := c.Join(gsapi.JoinRequest{Attributes: attrs("g"), Instance: 1})
	_, subErr := c.Subscribe(gsapi.SubscribeRequest{Group: "g", Control: gsapi.SubscribeStateValue})
	return map[string]error{
		"join":              joinErr,
		"subscribe":         subErr,
		"unsubscribe":       c.Unsubscribe(tok),
		"goodbye":           c.Goodbye(tok),
		"leave":             c.Leave(tok, gsapi.LeaveRequest{NumPhases: gsapi.OnePhase}),
		"expel":             c.Expel(tok, gsapi.ExpelRequest{NumPhases: gsapi.OnePhase, List: []gsapi.Provider{{Instance: 2}}}),
		"change-state":      c.ChangeStateValue(tok, gsapi.StateChangeRequest{NumPhases: gsapi.OnePhase, State: []byte("s")}),
		"send-message":      c.SendMessage(tok, gsapi.MessageRequest{NumPhases: gsapi.OnePhase, Message: []byte("m")}),
		"change-attributes": c.ChangeAttributes(tok, gsapi.AttributesRequest{NumPhases: gsapi.OnePhase, Attributes: attrs("g")}),
		"vote":              c.Vote(tok, gsapi.VoteRequest{Vote: gsapi.VoteApprove}),
		"dispatch":          c.Dispatch(gsapi.NonBlocking),
		"run":               c.Run(context.Background()),
	}
}

// TestClientNeverDialed: a Client that did not come from Dial — the zero
// value, or a nil pointer — is "before init": every method returns
// ErrNoInit (Fd -1, Node 0), and nothing panics.
func TestClientNeverDialed(t *testing.T) {
	for name, c := range map[string]*gsapi.Client{"zero": {}, "nil": nil} {
		for op, err := range everyCall(c, 1) {
			assert.ErrorIs(t, err, gsapi.ErrNoInit, "%s client: %s before init returns ErrNoInit", name, op)
		}
		assert.Equal(t, -1, c.Fd(), "%s client: no descriptor", name)
		assert.Zero(t, c.Node(), "%s client: no node", name)
		assert.Empty(t, c.Adapters(), "%s client: no adapters", name)
		assert.Empty(t, c.Domain(), "%s client: no domain", name)
		assert.Empty(t, c.FFDC(), "%s client: no FFDC id", name)
		assert.Zero(t, c.Pending(), "%s client: nothing pending", name)
		assert.NoError(t, c.Close(), "%s client: Close is harmless", name)
	}
}

// TestEveryCallAfterCloseAndAfterLoss: after Close every method returns
// ErrNoInit; after the daemon hangs up, ErrNotOK — whatever the token.
func TestEveryCallAfterCloseAndAfterLoss(t *testing.T) {
	c, f := dial(t)
	prov := joined(t, c, f, "g", 1)
	f.hangUp()
	waitReadable(t, c.Fd())
	for _, tok := range []gsapi.Token{prov, 0, 77} {
		for op, err := range everyCall(c, tok) {
			assert.ErrorIs(t, err, gsapi.ErrNotOK, "%s with token %d after the connection is lost returns ErrNotOK", op, tok)
		}
	}
	require.NoError(t, c.Close())
	for _, tok := range []gsapi.Token{prov, 0, 77} {
		for op, err := range everyCall(c, tok) {
			assert.ErrorIs(t, err, gsapi.ErrNoInit, "%s with token %d after Close returns ErrNoInit", op, tok)
		}
	}
}

// TestConcurrentBadCalls: sixteen goroutines call every method with
// random tokens and arguments (valid or not: bad phase counts, oversized
// values, unknown votes, modes) while notifications arrive, others
// dispatch, and the client is closed in the middle. Nothing panics or
// races, and every error is a defined code.
func TestConcurrentBadCalls(t *testing.T) {
	c, f := dial(t, gsapi.WithDelayedErrorHandler(func(*gsapi.Notification) {}))
	prov := joined(t, c, f, "g", 1)
	go func() {
		for {
			select {
			case <-f.frames:
			case <-f.closed:
				return
			}
		}
	}()
	big := make([]byte, gsapi.MaxStateValueLength+1)
	var wg sync.WaitGroup
	for g := range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := rand.New(rand.NewSource(int64(g)))
			tok := func() gsapi.Token { return []gsapi.Token{prov, 0, -1, 2, 99}[r.Intn(5)] }
			ph := func() gsapi.NumPhases { return gsapi.NumPhases(r.Intn(4)) }
			val := func() []byte { return [][]byte{nil, {}, []byte("v"), big}[r.Intn(4)] }
			for range 200 {
				var err error
				switch r.Intn(12) {
				case 0:
					a := attrs([]string{"g", "", "h"}[r.Intn(3)])
					a.NumPhases = ph()
					_, err = c.Join(gsapi.JoinRequest{Attributes: a, Instance: int32(r.Intn(5) - 1)})
				case 1:
					_, err = c.Subscribe(gsapi.SubscribeRequest{Group: "g", Control: gsapi.SubscriptionControl(r.Intn(20))})
				case 2:
					err = c.Unsubscribe(tok())
				case 3:
					err = c.Leave(tok(), gsapi.LeaveRequest{NumPhases: ph()})
				case 4:
					err = c.Expel(tok(), gsapi.ExpelRequest{NumPhases: ph(), List: []gsapi.Provider{{Instance: int32(r.Intn(3))}}})
				case 5:
					err = c.ChangeStateValue(tok(), gsapi.StateChangeRequest{NumPhases: ph(), State: val()})
				case 6:
					err = c.SendMessage(tok(), gsapi.MessageRequest{NumPhases: ph(), Message: val()})
				case 7:
					err = c.Vote(tok(), gsapi.VoteRequest{Vote: gsapi.Vote(r.Intn(5)), State: val(), Default: gsapi.Vote(r.Intn(5))})
				case 8:
					err = c.Goodbye(tok())
				case 9:
					err = c.Dispatch(gsapi.DispatchMode(r.Intn(3) * (r.Intn(2) * 7)))
				case 10:
					_ = wire.WriteFrame(f.conn, wire.MsgNotification,
						&wire.Notification{Type: wire.NPhaseNotification, Token: prov, Protocol: wire.StateValueChangeProtocol})
				case 11:
					_ = c.Fd()
					_ = c.Pending()
				}
				if err != nil {
					assert.True(t, gsapi.CodeOf(err).Valid(), "every error carries a defined code, got %v", err)
				}
				if g == 0 && r.Intn(150) == 0 {
					c.Close()
				}
			}
		}()
	}
	wg.Wait()
	c.Close()
}
