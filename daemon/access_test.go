package daemon

import (
	"net"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/access"
	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// credQueue is an Authorize that admits each new connection with the next
// credentials of the list.
func credQueue(creds ...protocol.Cred) func(net.Conn) (protocol.Cred, error) {
	ch := make(chan protocol.Cred, len(creds))
	for _, c := range creds {
		ch <- c
	}
	return func(net.Conn) (protocol.Cred, error) { return <-ch, nil }
}

// TestJoinGrantFollowsThePolicy: with the real engine, a client of uid 2000
// joins a group that uid 1000 created. Without a grant it is refused with
// PermissionDenied and the owner hears nothing; the open mode, or a rule
// naming its uid or its group, lets it in.
func TestJoinGrantFollowsThePolicy(t *testing.T) {
	rules, err := access.ParseRules(strings.NewReader("svc user:2000\nother group:300\n"), "rules")
	require.NoError(t, err)
	byGroup, err := access.ParseRules(strings.NewReader("sv* group:200\n"), "rules")
	require.NoError(t, err)
	cases := []struct {
		name   string
		policy *access.Policy
		admit  bool
	}{
		{"no policy", nil, false},
		{"owner mode", &access.Policy{}, false},
		{"open mode", &access.Policy{Mode: access.ModeOpen}, true},
		{"rule for the uid", &access.Policy{Rules: rules}, true},
		{"rule for the gid", &access.Policy{Rules: byGroup}, true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			tn := startNode(t, Config{Node: 1, Access: c.policy, Authorize: credQueue(
				protocol.Cred{Pid: 10, Uid: 1000, Gid: 100}, protocol.Cred{Pid: 20, Uid: 2000, Gid: 200})}, protocol.New())
			owner := dialRaw(t, tn.socket)
			owner.hello(false)
			owner.send(wire.MsgRequest, joinReq(1, 1))
			require.Equal(t, wire.ApprovedNotification, owner.notification().Type, "the owner creates the group")

			other := dialRaw(t, tn.socket)
			other.hello(false)
			other.send(wire.MsgRequest, joinReq(1, 2))
			n := other.notification()
			if !c.admit {
				assert.Equal(t, wire.DelayedErrorNotification, n.Type, "the join is refused")
				assert.Equal(t, wire.PermissionDenied, n.Code, "for permission")
				// The owner's next notification is about its own request,
				// not a join: it heard nothing of the refused one.
				owner.send(wire.MsgRequest, &wire.Request{Op: wire.OpChangeState, Token: 1, NumPhases: wire.OnePhase, State: []byte("x")})
				on := owner.notification()
				assert.Equal(t, wire.StateValueChangeProtocol, on.Protocol, "the owner heard nothing of the refused join")
				assert.Equal(t, []wire.Provider{{Instance: 1, Node: 1}}, on.Proposal.Current, "and the group is unchanged")
				return
			}
			assert.Equal(t, wire.ApprovedNotification, n.Type, "the granted join is approved")
			assert.Equal(t, wire.JoinProtocol, n.Protocol)
			assert.Equal(t, wire.JoinProtocol, owner.notification().Protocol, "the owner sees the join")
		})
	}
}
