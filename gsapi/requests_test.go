package gsapi_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/gsapi"
	"github.com/openhags/hags/internal/wire"
)

// joined joins group with callbacks that record every notification, sends
// the approval, dispatches it and returns the token.
func joined(t *testing.T, c *gsapi.Client, f *fakeDaemon, group string, instance int32) gsapi.Token {
	t.Helper()
	tok, err := c.Join(gsapi.JoinRequest{Attributes: attrs(group), Instance: instance, Callbacks: recordAll(nil)})
	require.NoError(t, err, "Join should be accepted")
	f.nextRequest(wire.OpJoin)
	f.notify(wire.Notification{Type: wire.ApprovedNotification, Token: tok, Protocol: wire.JoinProtocol,
		Proposal: &wire.Proposal{Phase: 1, Changing: []wire.Provider{{Instance: instance, Node: fakeNode}}}})
	settle(t, c)
	return tok
}

// recordAll returns callbacks that append every notification to *into
// (nil: discard).
func recordAll(into *[]*gsapi.Notification) gsapi.ProviderCallbacks {
	rec := func(n *gsapi.Notification) {
		if into != nil {
			*into = append(*into, n)
		}
	}
	return gsapi.ProviderCallbacks{NPhase: rec, Approved: rec, Rejected: rec, Announcement: rec, Merge: rec}
}

// settle waits for a notification and dispatches everything pending.
func settle(t *testing.T, c *gsapi.Client) {
	t.Helper()
	waitReadable(t, c.Fd())
	require.NoError(t, c.Dispatch(gsapi.NonBlocking), "dispatch should succeed")
}

func TestSynchronousParameterErrors(t *testing.T) {
	c, f := dial(t)
	prov := joined(t, c, f, "g", 1)
	// A vote must be expected for its parameter checks to be the only
	// reason to refuse it.
	f.notify(wire.Notification{Type: wire.NPhaseNotification, Token: prov, Protocol: wire.StateValueChangeProtocol})
	settle(t, c)

	long := strings.Repeat("x", gsapi.MaxGroupNameLength+1)
	badVote := attrs("g")
	badVote.DefaultVote = gsapi.VoteContinue
	maxState := make([]byte, gsapi.MaxStateValueLength)
	tooLong := make([]byte, gsapi.MaxStateValueLength+1)
	tooLongMsg := make([]byte, gsapi.MaxProviderMessageLength+1)
	p := func(i int32) gsapi.Provider { return gsapi.Provider{Instance: i, Node: fakeNode} }

	cases := []struct {
		name string
		call func() error
		want error
	}{
		{"join empty name", func() error { _, e := c.Join(gsapi.JoinRequest{Attributes: attrs("")}); return e }, gsapi.ErrBadParameter},
		{"join long name", func() error { _, e := c.Join(gsapi.JoinRequest{Attributes: attrs(long)}); return e }, gsapi.ErrNameTooLong},
		{"join bad default vote", func() error { _, e := c.Join(gsapi.JoinRequest{Attributes: badVote}); return e }, gsapi.ErrBadGroupAttributes},
		{"join bad phases", func() error {
			a := attrs("g")
			a.NumPhases = 0
			_, e := c.Join(gsapi.JoinRequest{Attributes: a})
			return e
		}, gsapi.ErrBadGroupAttributes},
		{"join negative instance", func() error { _, e := c.Join(gsapi.JoinRequest{Attributes: attrs("g"), Instance: -1}); return e }, gsapi.ErrBadParameter},
		{"join long local name", func() error {
			_, e := c.Join(gsapi.JoinRequest{Attributes: attrs("g"), LocalName: strings.Repeat("n", gsapi.MaxLocalNameLength+1)})
			return e
		}, gsapi.ErrNameTooLong},
		{"subscribe no control", func() error { _, e := c.Subscribe(gsapi.SubscribeRequest{Group: "g"}); return e }, gsapi.ErrBadParameter},
		{"subscribe deltas only", func() error {
			_, e := c.Subscribe(gsapi.SubscribeRequest{Group: "g", Control: gsapi.SubscribeDeltasOnly})
			return e
		}, gsapi.ErrBadParameter},
		{"subscribe long name", func() error {
			_, e := c.Subscribe(gsapi.SubscribeRequest{Group: long, Control: gsapi.SubscribeStateValue})
			return e
		}, gsapi.ErrNameTooLong},
		{"leave bad phases", func() error { return c.Leave(prov, gsapi.LeaveRequest{NumPhases: 7}) }, gsapi.ErrBadParameter},
		{"expel no targets", func() error { return c.Expel(prov, gsapi.ExpelRequest{NumPhases: gsapi.NPhase}) }, gsapi.ErrBadParameter},
		{"expel bad phases", func() error {
			return c.Expel(prov, gsapi.ExpelRequest{List: []gsapi.Provider{p(2)}})
		}, gsapi.ErrBadParameter},
		{"expel twice", func() error {
			return c.Expel(prov, gsapi.ExpelRequest{NumPhases: gsapi.NPhase, List: []gsapi.Provider{p(2), p(2)}})
		}, gsapi.ErrProviderAppearsTwice},
		{"expel deactivate phase", func() error {
			return c.Expel(prov, gsapi.ExpelRequest{NumPhases: gsapi.OnePhase, List: []gsapi.Provider{p(2)}, DeactivatePhase: 2})
		}, gsapi.ErrInvalidDeactivatePhase},
		{"state nil", func() error { return c.ChangeStateValue(prov, gsapi.StateChangeRequest{NumPhases: gsapi.OnePhase}) }, gsapi.ErrBadParameter},
		{"state too long", func() error {
			return c.ChangeStateValue(prov, gsapi.StateChangeRequest{NumPhases: gsapi.OnePhase, State: tooLong})
		}, gsapi.ErrStateValueTooLong},
		{"message nil", func() error { return c.SendMessage(prov, gsapi.MessageRequest{NumPhases: gsapi.OnePhase}) }, gsapi.ErrBadParameter},
		{"message too long", func() error {
			return c.SendMessage(prov, gsapi.MessageRequest{NumPhases: gsapi.OnePhase, Message: tooLongMsg})
		}, gsapi.ErrMessageTooLong},
		{"attributes bad", func() error {
			return c.ChangeAttributes(prov, gsapi.AttributesRequest{NumPhases: gsapi.OnePhase, Attributes: badVote})
		}, gsapi.ErrBadGroupAttributes},
		{"vote null", func() error { return c.Vote(prov, gsapi.VoteRequest{}) }, gsapi.ErrBadParameter},
		{"vote bad default", func() error {
			return c.Vote(prov, gsapi.VoteRequest{Vote: gsapi.VoteApprove, Default: gsapi.VoteContinue})
		}, gsapi.ErrBadParameter},
		{"vote state too long", func() error { return c.Vote(prov, gsapi.VoteRequest{Vote: gsapi.VoteApprove, State: tooLong}) }, gsapi.ErrStateValueTooLong},
		{"vote message too long", func() error {
			return c.Vote(prov, gsapi.VoteRequest{Vote: gsapi.VoteApprove, Message: tooLongMsg})
		}, gsapi.ErrMessageTooLong},
		{"dispatch bad mode", func() error { return c.Dispatch(gsapi.DispatchMode(5)) }, gsapi.ErrBadParameter},
	}
	for _, tc := range cases {
		err := tc.call()
		assert.ErrorIs(t, err, tc.want, "%s should fail synchronously", tc.name)
		assert.Equal(t, gsapi.CodeOf(tc.want), gsapi.CodeOf(err), "%s should return exactly %v", tc.name, tc.want)
	}

	// Nothing refused was sent, and the refusals changed no state: the
	// vote is still expected and a maximal state value is accepted.
	require.NoError(t, c.Vote(prov, gsapi.VoteRequest{Vote: gsapi.VoteApprove}), "the pending vote should still be accepted")
	assert.Equal(t, wire.OpVote, f.next().req.Op, "no refused request should have reached the daemon")
	f.notify(wire.Notification{Type: wire.ApprovedNotification, Token: prov, Protocol: wire.StateValueChangeProtocol})
	settle(t, c)
	require.NoError(t, c.ChangeStateValue(prov, gsapi.StateChangeRequest{NumPhases: gsapi.OnePhase, State: maxState}),
		"a state value of exactly the maximum should be accepted")
	assert.Len(t, f.nextRequest(wire.OpChangeState).State, gsapi.MaxStateValueLength, "the state value should be sent whole")
}

func TestExpelFlagIsTruncated(t *testing.T) {
	c, f := dial(t)
	prov := joined(t, c, f, "g", 1)
	flag := strings.Repeat("f", 400)
	require.NoError(t, c.Expel(prov, gsapi.ExpelRequest{NumPhases: gsapi.NPhase, TimeLimit: 5,
		List: []gsapi.Provider{{Instance: 2, Node: fakeNode}}, DeactivatePhase: 1, Flag: &flag}))
	r := f.nextRequest(wire.OpExpel)
	require.NotNil(t, r.DeactivateFlag, "the flag should be sent")
	assert.Len(t, *r.DeactivateFlag, gsapi.MaxDeactivateFlagLength-1, "a long flag should be truncated, not refused")
	assert.Len(t, flag, 400, "the caller's flag should not be modified")
}

func TestTokenErrors(t *testing.T) {
	c, f := dial(t)
	prov := joined(t, c, f, "g", 1)
	sub, err := c.Subscribe(gsapi.SubscribeRequest{Group: "g", Control: gsapi.SubscribeStateValue})
	require.NoError(t, err)
	f.nextRequest(wire.OpSubscribe)

	providerCalls := func(tok gsapi.Token) map[string]error {
		return map[string]error{
			"leave":             c.Leave(tok, gsapi.LeaveRequest{NumPhases: gsapi.OnePhase}),
			"expel":             c.Expel(tok, gsapi.ExpelRequest{NumPhases: gsapi.OnePhase, List: []gsapi.Provider{{Instance: 5}}}),
			"change-state":      c.ChangeStateValue(tok, gsapi.StateChangeRequest{NumPhases: gsapi.OnePhase, State: []byte{}}),
			"send-message":      c.SendMessage(tok, gsapi.MessageRequest{NumPhases: gsapi.OnePhase, Message: []byte{}}),
			"change-attributes": c.ChangeAttributes(tok, gsapi.AttributesRequest{NumPhases: gsapi.OnePhase, Attributes: attrs("g")}),
			"vote":              c.Vote(tok, gsapi.VoteRequest{Vote: gsapi.VoteApprove}),
			"goodbye":           c.Goodbye(tok),
		}
	}
	for _, tok := range []gsapi.Token{0, -3, 99, sub} {
		for name, err := range providerCalls(tok) {
			assert.ErrorIs(t, err, gsapi.ErrBadMemberToken, "%s with token %d (no provider) should fail with BadMemberToken", name, tok)
		}
	}
	assert.ErrorIs(t, c.Unsubscribe(prov), gsapi.ErrBadMemberToken, "Unsubscribe with a provider token should fail with BadMemberToken")
	assert.ErrorIs(t, c.Unsubscribe(99), gsapi.ErrBadMemberToken, "Unsubscribe with a token never issued should fail with BadMemberToken")

	require.NoError(t, c.Goodbye(prov), "Goodbye should be accepted")
	f.nextRequest(wire.OpGoodbye)
	for name, err := range providerCalls(prov) {
		assert.ErrorIs(t, err, gsapi.ErrNotAMember, "%s after Goodbye should fail with NotAMember", name)
	}
	require.NoError(t, c.Unsubscribe(sub), "Unsubscribe should be accepted")
	f.nextRequest(wire.OpUnsubscribe)
	assert.ErrorIs(t, c.Unsubscribe(sub), gsapi.ErrBadMemberToken,
		"a second Unsubscribe should fail with BadMemberToken, the only token code IBM lists for ha_gs_unsubscribe")

	// Nothing is delivered for tokens that are over.
	f.notify(wire.Notification{Type: wire.NPhaseNotification, Token: prov})
	f.notify(wire.Notification{Type: wire.SubscriptionNotification, Token: sub})
	marker, err := c.Subscribe(gsapi.SubscribeRequest{Group: "m", Control: gsapi.SubscribeStateValue,
		Callback: func(*gsapi.Notification) {}})
	require.NoError(t, err)
	f.nextRequest(wire.OpSubscribe)
	f.notify(wire.Notification{Type: wire.SubscriptionNotification, Token: marker})
	waitReadable(t, c.Fd())
	assert.Equal(t, 1, c.Pending(), "notifications for ended tokens should be dropped")
}

func TestVoteExpectedOncePerPhase(t *testing.T) {
	c, f := dial(t)
	prov := joined(t, c, f, "g", 1)
	vote := gsapi.VoteRequest{Vote: gsapi.VoteContinue}
	assert.ErrorIs(t, c.Vote(prov, vote), gsapi.ErrVoteNotExpected, "a vote before any n-phase notification is not expected")

	f.notify(wire.Notification{Type: wire.NPhaseNotification, Token: prov, Proposal: &wire.Proposal{Phase: 1}})
	waitPending(t, c, 1)
	require.NoError(t, c.Vote(prov, vote), "a vote is expected once the n-phase notification arrived, even before dispatch")
	f.nextRequest(wire.OpVote)
	assert.ErrorIs(t, c.Vote(prov, vote), gsapi.ErrVoteNotExpected, "a second vote in the same phase is not expected")

	f.notify(wire.Notification{Type: wire.NPhaseNotification, Token: prov, Proposal: &wire.Proposal{Phase: 2}})
	waitPending(t, c, 2)
	f.notify(wire.Notification{Type: wire.RejectedNotification, Token: prov, Summary: wire.TimeLimitExceeded})
	waitPending(t, c, 3)
	assert.ErrorIs(t, c.Vote(prov, vote), gsapi.ErrVoteNotExpected, "no vote is expected once the protocol ended")
}

func TestCollideKnownLocally(t *testing.T) {
	c, f := dial(t)
	a := joined(t, c, f, "g", 1)
	b := joined(t, c, f, "g", 2)
	other := joined(t, c, f, "h", 1)
	state := gsapi.StateChangeRequest{NumPhases: gsapi.NPhase, State: []byte("s")}

	require.NoError(t, c.ChangeStateValue(a, state), "a first proposal should be sent")
	f.nextRequest(wire.OpChangeState)
	assert.ErrorIs(t, c.SendMessage(a, gsapi.MessageRequest{NumPhases: gsapi.OnePhase, Message: []byte("m")}),
		gsapi.ErrCollide, "a provider with an outstanding proposal collides")
	require.NoError(t, c.Leave(b, gsapi.LeaveRequest{NumPhases: gsapi.OnePhase}),
		"another provider does not collide before the group is known to run a protocol")
	f.nextRequest(wire.OpLeave)

	// The daemon refuses b's leave: b's proposal is no longer outstanding.
	f.notify(wire.Notification{Type: wire.DelayedErrorNotification, Token: b, Code: wire.Collide,
		Protocol: wire.LeaveProtocol, Failing: &wire.Request{Op: wire.OpLeave, Token: b}})
	// a's proposal runs: both providers get the first phase.
	for _, tok := range []gsapi.Token{a, b} {
		f.notify(wire.Notification{Type: wire.NPhaseNotification, Token: tok, Protocol: wire.StateValueChangeProtocol})
	}
	waitPending(t, c, 2) // no delayed-error handler: the error itself is dropped
	assert.ErrorIs(t, c.Leave(b, gsapi.LeaveRequest{NumPhases: gsapi.OnePhase}), gsapi.ErrCollide,
		"a member of a group running a protocol collides")
	require.NoError(t, c.ChangeStateValue(other, state), "a provider of another group does not collide")
	f.nextRequest(wire.OpChangeState)

	for _, tok := range []gsapi.Token{a, b} {
		f.notify(wire.Notification{Type: wire.ApprovedNotification, Token: tok, Protocol: wire.StateValueChangeProtocol})
	}
	waitPending(t, c, 4)
	require.NoError(t, c.ChangeStateValue(a, state), "after the approval a may propose again")
	f.nextRequest(wire.OpChangeState)
	require.NoError(t, c.Leave(b, gsapi.LeaveRequest{NumPhases: gsapi.OnePhase}), "after the approval b may propose")
	f.nextRequest(wire.OpLeave)
}

func TestMembershipEndsWithApprovedLeaveOfItself(t *testing.T) {
	for _, proto := range []wire.RequestType{wire.LeaveProtocol, wire.ExpelProtocol, wire.FailureLeaveProtocol} {
		t.Run(proto2name(proto), func(t *testing.T) {
			var got []*gsapi.Notification
			c, f := dial(t)
			tok, err := c.Join(gsapi.JoinRequest{Attributes: attrs("g"), Instance: 4, Callbacks: recordAll(&got)})
			require.NoError(t, err)
			f.nextRequest(wire.OpJoin)
			f.notify(wire.Notification{Type: wire.ApprovedNotification, Token: tok, Protocol: wire.JoinProtocol})
			// Someone else leaves: still a member.
			f.notify(wire.Notification{Type: wire.ApprovedNotification, Token: tok, Protocol: proto,
				Proposal: &wire.Proposal{Changing: []wire.Provider{{Instance: 4, Node: fakeNode + 1}}}})
			waitPending(t, c, 2)
			require.NoError(t, c.SendMessage(tok, gsapi.MessageRequest{NumPhases: gsapi.OnePhase, Message: []byte("hi")}),
				"a provider is still a member after another provider left")
			f.nextRequest(wire.OpSendMessage)

			f.notify(wire.Notification{Type: wire.ApprovedNotification, Token: tok, Protocol: proto,
				Proposal: &wire.Proposal{Changing: []wire.Provider{{Instance: 4, Node: fakeNode}}}})
			waitPending(t, c, 3)
			assert.ErrorIs(t, c.SendMessage(tok, gsapi.MessageRequest{NumPhases: gsapi.OnePhase, Message: []byte("hi")}),
				gsapi.ErrNotAMember, "a provider whose own leave was approved is no longer a member")
			require.NoError(t, c.Dispatch(gsapi.NonBlocking))
			assert.Len(t, got, 3, "the approval that ends the membership should still be delivered")
		})
	}
}

func TestRefusedJoinHoldsNoMembership(t *testing.T) {
	c, f := dial(t, gsapi.WithDelayedErrorHandler(func(*gsapi.Notification) {}))
	rejected, err := c.Join(gsapi.JoinRequest{Attributes: attrs("g"), Instance: 1, Callbacks: recordAll(nil)})
	require.NoError(t, err)
	f.nextRequest(wire.OpJoin)
	refused, err := c.Join(gsapi.JoinRequest{Attributes: attrs("g"), Instance: 1, Callbacks: recordAll(nil)})
	require.NoError(t, err)
	f.nextRequest(wire.OpJoin)

	f.notify(wire.Notification{Type: wire.RejectedNotification, Token: rejected, Protocol: wire.JoinProtocol})
	f.notify(wire.Notification{Type: wire.DelayedErrorNotification, Token: refused, Code: wire.DuplicateInstanceNumber,
		Protocol: wire.JoinProtocol, Failing: &wire.Request{Op: wire.OpJoin, Token: refused}})
	waitPending(t, c, 2)
	for _, tok := range []gsapi.Token{rejected, refused} {
		assert.ErrorIs(t, c.Leave(tok, gsapi.LeaveRequest{NumPhases: gsapi.OnePhase}), gsapi.ErrNotAMember,
			"token %d whose join failed holds no membership", tok)
	}
}

func TestRefusedProposalIsNoLongerOutstanding(t *testing.T) {
	c, f := dial(t, gsapi.WithDelayedErrorHandler(func(*gsapi.Notification) {}))
	tok := joined(t, c, f, "g", 1)
	msg := gsapi.MessageRequest{NumPhases: gsapi.NPhase, Message: []byte("m")}
	require.NoError(t, c.SendMessage(tok, msg))
	req := f.nextRequest(wire.OpSendMessage)
	assert.ErrorIs(t, c.SendMessage(tok, msg), gsapi.ErrCollide, "the first proposal is outstanding")
	f.notify(wire.Notification{Type: wire.DelayedErrorNotification, Token: tok, Code: wire.Collide,
		Protocol: wire.ProviderMessageProtocol, Failing: &req})
	waitPending(t, c, 1)
	require.NoError(t, c.SendMessage(tok, msg), "a proposal the daemon refused is no longer outstanding")
	f.nextRequest(wire.OpSendMessage)
}

func TestPendingJoinIsNotJudgedLocally(t *testing.T) {
	c, f := dial(t)
	tok, err := c.Join(gsapi.JoinRequest{Attributes: attrs("g"), Callbacks: recordAll(nil)})
	require.NoError(t, err)
	f.nextRequest(wire.OpJoin)
	require.NoError(t, c.ChangeStateValue(tok, gsapi.StateChangeRequest{NumPhases: gsapi.OnePhase, State: []byte("s")}),
		"the library does not know yet whether the join succeeds, so the daemon decides")
	f.nextRequest(wire.OpChangeState)

	// Goodbye before the approval: the daemon decides, and if the join
	// is approved anyway the provider can still act on it.
	require.NoError(t, c.Goodbye(tok), "Goodbye on a pending join is sent")
	f.nextRequest(wire.OpGoodbye)
	f.notify(wire.Notification{Type: wire.ApprovedNotification, Token: tok, Protocol: wire.JoinProtocol})
	waitPending(t, c, 1)
	require.NoError(t, c.Goodbye(tok), "a join approved after an early Goodbye is still a membership to end")
	f.nextRequest(wire.OpGoodbye)
	assert.ErrorIs(t, c.Goodbye(tok), gsapi.ErrNotAMember, "after Goodbye of a member its token is over")
}

func proto2name(t wire.RequestType) string {
	switch t {
	case wire.LeaveProtocol:
		return "leave"
	case wire.ExpelProtocol:
		return "expel"
	case wire.FailureLeaveProtocol:
		return "failure-leave"
	}
	return "other"
}

// TestReservedGroupJoinNeedsRoot: a process that was not root when it
// connected is refused a join of a hags.* group at once, without a word to
// the daemon; subscribing to one, and joining a group whose name merely
// resembles the prefix, go out as usual.
func TestReservedGroupJoinNeedsRoot(t *testing.T) {
	c, f := dial(t)
	gsapi.SetRoot(c, false)
	_, err := c.Join(gsapi.JoinRequest{Attributes: attrs("hags.rm"), Instance: 1, Callbacks: recordAll(nil)})
	require.ErrorIs(t, err, gsapi.ErrPermissionDenied, "a non-root join of a reserved group is refused synchronously")
	_, err = c.Join(gsapi.JoinRequest{Attributes: attrs("hags"), Instance: 1, Callbacks: recordAll(nil)})
	require.NoError(t, err, "hags without the dot is not reserved")
	assert.Equal(t, "hags", f.nextRequest(wire.OpJoin).Group, "the refused join never reached the daemon: the next request is the allowed one")
	_, err = c.Subscribe(gsapi.SubscribeRequest{Group: "hags.rm", Control: gsapi.SubscribeStateValue, Callback: func(*gsapi.Notification) {}})
	require.NoError(t, err, "anyone may subscribe to a reserved group")
	f.nextRequest(wire.OpSubscribe)

	gsapi.SetRoot(c, true)
	_, err = c.Join(gsapi.JoinRequest{Attributes: attrs("hags.rm"), Instance: 2, Callbacks: recordAll(nil)})
	require.NoError(t, err, "root may join a reserved group")
	assert.Equal(t, "hags.rm", f.nextRequest(wire.OpJoin).Group)
}

// TestPermissionDeniedTokenStaysDenied: once the daemon has refused a join
// for lack of permission, every request with its token is refused at once
// with ErrPermissionDenied, the code the daemon gives such a token.
func TestPermissionDeniedTokenStaysDenied(t *testing.T) {
	c, f := dial(t, gsapi.WithDelayedErrorHandler(func(*gsapi.Notification) {}))
	tok, err := c.Join(gsapi.JoinRequest{Attributes: attrs("theirs"), Instance: 1, Callbacks: recordAll(nil)})
	require.NoError(t, err)
	f.nextRequest(wire.OpJoin)
	f.notify(wire.Notification{Type: wire.DelayedErrorNotification, Token: tok, Code: wire.PermissionDenied,
		Protocol: wire.JoinProtocol, Failing: &wire.Request{Op: wire.OpJoin, Token: tok}})
	waitPending(t, c, 1)
	for name, call := range map[string]func() error{
		"leave": func() error { return c.Leave(tok, gsapi.LeaveRequest{NumPhases: gsapi.OnePhase}) },
		"expel": func() error {
			return c.Expel(tok, gsapi.ExpelRequest{NumPhases: gsapi.OnePhase, List: []gsapi.Provider{{Instance: 1, Node: 1}}})
		},
		"state": func() error {
			return c.ChangeStateValue(tok, gsapi.StateChangeRequest{NumPhases: gsapi.OnePhase, State: []byte("x")})
		},
		"msg": func() error {
			return c.SendMessage(tok, gsapi.MessageRequest{NumPhases: gsapi.OnePhase, Message: []byte("x")})
		},
		"attrs": func() error {
			return c.ChangeAttributes(tok, gsapi.AttributesRequest{NumPhases: gsapi.OnePhase, Attributes: attrs("theirs")})
		},
		"vote":    func() error { return c.Vote(tok, gsapi.VoteRequest{Vote: gsapi.VoteApprove}) },
		"goodbye": func() error { return c.Goodbye(tok) },
	} {
		assert.ErrorIs(t, call(), gsapi.ErrPermissionDenied, "%s with a token refused for permission", name)
	}
	assert.ErrorIs(t, c.Unsubscribe(tok), gsapi.ErrBadMemberToken, "a provider token is still no subscription token")
}
