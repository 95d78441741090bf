package gsapitest_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/gsapi"
	"github.com/openhags/hags/gsapi/gsapitest"
)

const wait = 10 * time.Second

// next waits for a notification on ch.
func next(t *testing.T, ch <-chan *gsapi.Notification, what string) *gsapi.Notification {
	t.Helper()
	select {
	case n := <-ch:
		return n
	case <-time.After(wait):
		t.Fatalf("no %s within %v", what, wait)
		return nil
	}
}

// run dispatches c's notifications until the test ends.
func run(t *testing.T, c *gsapi.Client) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = c.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
}

func onePhase(group string) gsapi.Attributes {
	return gsapi.Attributes{GroupName: group, NumPhases: gsapi.OnePhase, DefaultVote: gsapi.VoteApprove}
}

func TestJoinChangeStateAndSubscribeAgainstTheRealDaemon(t *testing.T) {
	s := gsapitest.NewServer(t)
	ctx := context.Background()

	c, err := s.Dial(ctx, gsapi.WithProgram("provider"))
	require.NoError(t, err, "a client should connect to the in-memory daemon")
	defer c.Close()
	assert.Equal(t, int32(1), c.Node(), "the default node number is 1")
	approved := make(chan *gsapi.Notification, 8)
	tok, err := c.Join(gsapi.JoinRequest{Attributes: onePhase("g"), Instance: 7,
		Callbacks: gsapi.ProviderCallbacks{Approved: func(n *gsapi.Notification) { approved <- n }}})
	require.NoError(t, err)
	assert.Equal(t, gsapi.Token(1), tok, "the first token is 1")
	run(t, c)

	n := next(t, approved, "approved join")
	assert.Equal(t, gsapi.JoinProtocol, n.Protocol, "the first approval is the join")
	require.NotNil(t, n.Proposal, "an approval carries its proposal")
	assert.Equal(t, []gsapi.Provider{{Instance: 7, Node: 1}}, n.Proposal.Current, "after the join the group holds the joiner")

	require.NoError(t, c.ChangeStateValue(tok, gsapi.StateChangeRequest{NumPhases: gsapi.OnePhase, State: []byte("v1")}))
	n = next(t, approved, "approved state change")
	assert.Equal(t, gsapi.StateValueChangeProtocol, n.Protocol, "the second approval is the state change")
	assert.Equal(t, []byte("v1"), n.Proposal.CurrentState, "after approval the current state is the new one")

	watcher, err := s.Dial(ctx, gsapi.WithProgram("watcher"))
	require.NoError(t, err)
	defer watcher.Close()
	seen := make(chan *gsapi.Notification, 8)
	_, err = watcher.Subscribe(gsapi.SubscribeRequest{Group: "g", Control: gsapi.SubscribeStateValue,
		Callback: func(n *gsapi.Notification) { seen <- n }})
	require.NoError(t, err)
	run(t, watcher)
	n = next(t, seen, "initial subscription notification")
	assert.Equal(t, []byte("v1"), n.State, "a new subscriber learns the current state value")

	require.NoError(t, c.ChangeStateValue(tok, gsapi.StateChangeRequest{NumPhases: gsapi.OnePhase, State: []byte("v2")}))
	n = next(t, seen, "state change seen by the subscriber")
	assert.Equal(t, []byte("v2"), n.State, "the subscriber sees the approved state value")
}

func TestDelayedErrorFromTheRealDaemon(t *testing.T) {
	s := gsapitest.NewServer(t)
	errs := make(chan *gsapi.Notification, 1)
	c, err := s.Dial(context.Background(), gsapi.WithDelayedErrorHandler(func(n *gsapi.Notification) { errs <- n }))
	require.NoError(t, err)
	defer c.Close()
	tok, err := c.Subscribe(gsapi.SubscribeRequest{Group: "nosuch", Control: gsapi.SubscribeStateValue})
	require.NoError(t, err, "the library cannot know that the group does not exist")
	run(t, c)
	n := next(t, errs, "delayed error")
	assert.Equal(t, gsapi.UnknownGroup, n.Code, "subscribing to a missing group fails asynchronously with UnknownGroup")
	assert.Equal(t, tok, n.Token, "the delayed error names the failing request's token")
}

func TestServerCloseDropsClients(t *testing.T) {
	s, err := gsapitest.Start()
	require.NoError(t, err)
	c, err := s.Dial(context.Background())
	require.NoError(t, err)
	defer c.Close()
	done := make(chan error, 1)
	go func() { done <- c.Dispatch(gsapi.Blocking) }()
	require.NoError(t, s.Close(), "the server should close cleanly")
	select {
	case err := <-done:
		assert.ErrorIs(t, err, gsapi.ErrNotOK, "a client of a stopped daemon has lost its connection")
	case <-time.After(wait):
		t.Fatal("a blocking dispatch should return when the daemon stops")
	}
	_, err = s.Dial(context.Background())
	assert.ErrorIs(t, err, gsapi.ErrConnectFailed, "dialing a closed server should fail with ConnectFailed")
	require.NoError(t, s.Close(), "a second Close should be harmless")
}

// voter joins group on its own client, approving every phase from inside
// the n-phase callback, and reports approvals and vote errors.
type voter struct {
	c        *gsapi.Client
	tok      gsapi.Token
	approved chan *gsapi.Notification
	voteErrs chan error
}

func newVoter(t *testing.T, s *gsapitest.Server, group string, instance int32) *voter {
	t.Helper()
	c, err := s.Dial(context.Background())
	require.NoError(t, err)
	t.Cleanup(func() { c.Close() })
	v := &voter{c: c, approved: make(chan *gsapi.Notification, 16), voteErrs: make(chan error, 16)}
	v.tok, err = c.Join(gsapi.JoinRequest{
		Attributes: gsapi.Attributes{GroupName: group, NumPhases: gsapi.NPhase, DefaultVote: gsapi.VoteApprove, TimeLimit: 60},
		Instance:   instance,
		Callbacks: gsapi.ProviderCallbacks{
			NPhase: func(n *gsapi.Notification) {
				v.voteErrs <- c.Vote(n.Token, gsapi.VoteRequest{Vote: gsapi.VoteApprove})
				// A second vote in the same phase is refused locally.
				v.voteErrs <- c.Vote(n.Token, gsapi.VoteRequest{Vote: gsapi.VoteApprove})
			},
			Approved: func(n *gsapi.Notification) { v.approved <- n },
		},
	})
	require.NoError(t, err)
	run(t, c)
	return v
}

func (v *voter) votedOnce(t *testing.T) {
	t.Helper()
	select {
	case err := <-v.voteErrs:
		require.NoError(t, err, "the vote asked for by an n-phase notification should be accepted")
	case <-time.After(wait):
		t.Fatal("no n-phase notification asked for a vote")
	}
	select {
	case err := <-v.voteErrs:
		assert.ErrorIs(t, err, gsapi.ErrVoteNotExpected, "a second vote in one phase is refused at once")
	case <-time.After(wait):
		t.Fatal("the second vote did not return")
	}
}

func TestNPhaseVotingFromCallbacks(t *testing.T) {
	s := gsapitest.NewServer(t)
	a := newVoter(t, s, "np", 1)
	next(t, a.approved, "a's approved join")

	b := newVoter(t, s, "np", 2)
	a.votedOnce(t) // a votes on b's join; b does not vote on its own join
	na := next(t, a.approved, "b's join approved, seen by a")
	nb := next(t, b.approved, "b's join approved, seen by b")
	assert.Len(t, na.Proposal.Current, 2, "after the join the group has two providers")
	assert.Equal(t, na.Proposal.Current, nb.Proposal.Current, "both providers see the same membership")

	require.NoError(t, a.c.ChangeStateValue(a.tok, gsapi.StateChangeRequest{NumPhases: gsapi.NPhase, TimeLimit: 60, State: []byte("s1")}))
	a.votedOnce(t)
	b.votedOnce(t)
	for _, v := range []*voter{a, b} {
		n := next(t, v.approved, "approved state change")
		assert.Equal(t, gsapi.StateValueChangeProtocol, n.Protocol, "the approval is the state change")
		assert.Equal(t, []byte("s1"), n.Proposal.CurrentState, "the new state value is current after approval")
		assert.NotZero(t, n.Summary&gsapi.ExplicitApprove, "every provider voted approve explicitly")
	}
	require.NoError(t, a.c.Leave(a.tok, gsapi.LeaveRequest{NumPhases: gsapi.OnePhase}),
		"after the approval a may propose again")
}
