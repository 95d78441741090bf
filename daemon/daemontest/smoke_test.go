package daemontest_test

import (
	"context"
	"net"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/daemontest"
	"github.com/openhags/hags/gsapi"
	"github.com/openhags/hags/internal/wire"
)

func join(group string, token, instance int32) *wire.Request {
	return &wire.Request{Op: wire.OpJoin, Token: token, Group: group, Instance: instance,
		Attributes: &wire.Attributes{GroupName: group, NumPhases: wire.OnePhase, DefaultVote: wire.VoteApprove}}
}

func approvedCount(notes []wire.Notification) int {
	n := 0
	for _, x := range notes {
		if x.Type == wire.ApprovedNotification {
			n++
		}
	}
	return n
}

func TestSmokeCrash(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := daemontest.NewCluster(t, daemontest.Options{Nodes: 3, Seed: 1})
		var cls []*daemontest.Client
		for i := range 3 {
			cl := c.Client(i, "p", "")
			require.NoError(t, cl.Send(join("g", 1, int32(i+1))))
			cls = append(cls, cl)
			for _, o := range cls {
				require.True(t, o.Wait(time.Minute, func(n []wire.Notification) bool { return approvedCount(n) >= i+1-indexOf(cls, o) }),
					"join %d approved at %s", i+1, o.Name)
			}
		}
		c.Crash(2)
		for _, o := range cls[:2] {
			require.True(t, o.Wait(time.Minute, func(n []wire.Notification) bool {
				last := n[len(n)-1]
				return last.Type == wire.ApprovedNotification && last.Protocol == wire.FailureLeaveProtocol
			}), "the crash is a failure leave at %s", o.Name)
		}
	})
}

func indexOf(cls []*daemontest.Client, c *daemontest.Client) int {
	for i, x := range cls {
		if x == c {
			return i
		}
	}
	return -1
}

// TestDialConnCarriesARealClient: DialConn gives a bare connection to a
// node's daemon that gsapi speaks over (gsapi.WithDialer), from any
// goroutine; a crashed node refuses it until it restarts.
func TestDialConnCarriesARealClient(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := daemontest.NewCluster(t, daemontest.Options{Nodes: 3, Seed: 1})
		dial := gsapi.WithDialer(func(context.Context) (net.Conn, error) { return c.DialConn(1) })
		cl, err := gsapi.Dial(t.Context(), dial)
		require.NoError(t, err, "gsapi opens a session over DialConn")
		require.Equal(t, int32(2), cl.Node(), "the session is with node 2's daemon")
		require.NoError(t, cl.Close())

		c.Crash(1)
		_, err = c.DialConn(1)
		require.ErrorIs(t, err, daemontest.ErrRefused, "a crashed node refuses connections")
		c.Restart(1)
		c.WaitAdmitted(1, time.Minute)
		cl, err = gsapi.Dial(t.Context(), dial)
		require.NoError(t, err, "the restarted node serves again")
		require.NoError(t, cl.Close())
	})
}
