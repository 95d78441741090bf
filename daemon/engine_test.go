package daemon

import (
	"net"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// These tests run the real engine behind real sockets.

func joinReq(token, instance int32) *wire.Request {
	return &wire.Request{Op: wire.OpJoin, Token: token, Group: "svc", Instance: instance,
		Attributes: &wire.Attributes{GroupName: "svc", NumPhases: wire.OnePhase, DefaultVote: wire.VoteApprove}}
}

func (c *rawClient) notification() wire.Notification {
	c.t.Helper()
	var n wire.Notification
	c.read(wire.MsgNotification, &n)
	return n
}

func TestRealEngineJoinFailureAndAdmin(t *testing.T) {
	var pids atomic.Int32
	pids.Store(1000)
	tn := startNode(t, Config{Node: 1, Authorize: func(net.Conn) (protocol.Cred, error) {
		return protocol.Cred{Pid: pids.Add(1)}, nil
	}}, protocol.New())

	a := dialRaw(t, tn.socket)
	a.hello(false)
	a.send(wire.MsgRequest, joinReq(1, 1))
	n := a.notification()
	assert.Equal(t, wire.ApprovedNotification, n.Type, "the creator is approved at once")
	assert.Equal(t, int32(1), n.Token, "the approval carries the creator's token")
	require.NotNil(t, n.Proposal, "the approval has a proposal")
	assert.Equal(t, []wire.Provider{{Instance: 1, Node: 1}}, n.Proposal.Current, "the creator is the only provider")

	b := dialRaw(t, tn.socket)
	b.hello(false)
	b.send(wire.MsgRequest, joinReq(7, 2))
	for _, c := range []*rawClient{a, b} {
		n := c.notification()
		assert.Equal(t, wire.ApprovedNotification, n.Type, "every provider sees the join approved")
		assert.Equal(t, []wire.Provider{{Instance: 1, Node: 1}, {Instance: 2, Node: 1}}, n.Proposal.Current,
			"the approval lists the group after the join")
	}

	ctx := ctxBudget(t)
	adm, err := ipcDialAdmin(ctx, tn.socket)
	require.NoError(t, err, "an admin session opens")
	defer adm.Close()
	rep, err := adm.Query(ctx, wire.AdminQuery{What: "group", Group: "svc"})
	require.NoError(t, err, "group svc is known")
	require.Len(t, rep.Group.Providers, 2, "the group has two providers")
	assert.Equal(t, int32(1001), rep.Group.Providers[0].Pid, "the provider's pid comes from the credentials")
	assert.Equal(t, int32(1002), rep.Group.Providers[1].Pid, "the provider's pid comes from the credentials")

	b.conn.Close() // the process "dies"
	n = a.notification()
	assert.Equal(t, wire.ApprovedNotification, n.Type, "the survivor sees the failure leave approved")
	assert.Equal(t, wire.FailureLeaveProtocol, n.Protocol, "a dropped connection is a failure leave")
	assert.Equal(t, []wire.Provider{{Instance: 2, Node: 1}}, n.Proposal.Changing, "the dead provider leaves")
	require.Len(t, n.Proposal.LeaveInfo, 1, "one leave reason per leaving provider")
	assert.Equal(t, wire.ProviderProcessDied, n.Proposal.LeaveInfo[0].Reason, "the reason is a dead process")

	rep, err = adm.Query(ctx, wire.AdminQuery{What: "status"})
	require.NoError(t, err, "status succeeds")
	assert.Equal(t, 1, rep.Status.Clients, "one client session is left")
	rep, err = adm.Query(ctx, wire.AdminQuery{What: "groups"})
	require.NoError(t, err, "groups succeeds")
	names := make([]string, len(rep.Groups))
	for i, g := range rep.Groups {
		names[i] = g.Name
	}
	assert.Contains(t, names, "svc", "groups lists svc")
	assert.Contains(t, names, "HostMembership", "groups lists the system group")
}

func TestRealEngineHostMembershipHasThisNode(t *testing.T) {
	tn := startNode(t, Config{Node: 4}, protocol.New())
	c := dialRaw(t, tn.socket)
	c.hello(false)
	c.send(wire.MsgRequest, &wire.Request{Op: wire.OpSubscribe, Token: 1, Group: "HostMembership",
		Control: wire.SubscribeAllMembership})
	n := c.notification()
	assert.Equal(t, wire.SubscriptionNotification, n.Type, "a new subscriber hears the current membership")
	assert.Contains(t, n.Full, wire.Provider{Instance: 0, Node: 4}, "this daemon's node is up in HostMembership")
}
