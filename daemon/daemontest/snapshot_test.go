package daemontest_test

import (
	"fmt"
	"slices"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/agreement"
	"github.com/openhags/hags/daemon/daemontest"
	"github.com/openhags/hags/internal/wire"
)

// countApproved counts the approvals of protocol kind in notes.
func countApproved(notes []wire.Notification, kind wire.RequestType) int {
	n := 0
	for _, x := range notes {
		if x.Type == wire.ApprovedNotification && x.Protocol == kind {
			n++
		}
	}
	return n
}

// subscribeView subscribes a new client of slot i to group's state value
// and membership and returns the initial notification: what that daemon's
// engine holds of the group.
func subscribeView(t *testing.T, c *daemontest.Cluster, i int, group string) wire.Notification {
	t.Helper()
	cl := c.Client(i, fmt.Sprintf("watcher%d", i+1), "")
	defer cl.Close()
	require.NoError(t, cl.Send(&wire.Request{Op: wire.OpSubscribe, Token: 1, Group: group,
		Control: wire.SubscribeStateValue | wire.SubscribeAllMembership}))
	require.True(t, cl.Wait(time.Minute, func(n []wire.Notification) bool { return len(n) > 0 }),
		"a subscriber on node %d must get its initial notification", i+1)
	return cl.Notes()[0]
}

// TestSnapshotInstalledOnRestartedFollower: a domain snapshots its engine
// and trims its log while a follower is down; the restarted follower is
// too far behind for the log, receives the leader's snapshot
// (InstallSnapshot), shows the same group as the others, and goes on
// agreeing with them.
func TestSnapshotInstalledOnRestartedFollower(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := daemontest.NewCluster(t, daemontest.Options{Nodes: 4, Voters: 3, Seed: 5,
			Snapshot: agreement.SnapshotPolicy{Threshold: 16, Interval: 100 * time.Millisecond, Trailing: 4}})
		const follower = 3

		p := c.Client(0, "p1", "")
		require.NoError(t, p.Send(join("g", 1, 1)))
		require.True(t, p.Wait(time.Minute, func(n []wire.Notification) bool { return countApproved(n, wire.JoinProtocol) == 1 }),
			"p1's join must be approved")
		q := c.Client(follower, "q4", "")
		require.NoError(t, q.Send(join("g", 1, 4)))
		require.True(t, p.Wait(time.Minute, func(n []wire.Notification) bool { return countApproved(n, wire.JoinProtocol) == 2 }),
			"q4's join must be approved at p1")

		c.Crash(follower)
		require.True(t, p.Wait(time.Minute, func(n []wire.Notification) bool {
			return countApproved(n, wire.FailureLeaveProtocol) == 1
		}), "the follower's crash must fail q4")
		_, stoppedAt := c.RaftLog(follower)

		// Enough state changes for several snapshots, each waited for
		// (a proposal while another runs would collide).
		const changes = 60
		for k := 1; k <= changes; k++ {
			require.NoError(t, p.Send(&wire.Request{Op: wire.OpChangeState, Token: 1, NumPhases: wire.OnePhase,
				State: fmt.Appendf(nil, "s%d", k)}))
			require.True(t, p.Wait(time.Minute, func(n []wire.Notification) bool {
				return countApproved(n, wire.StateValueChangeProtocol) == k
			}), "state change %d must be approved", k)
		}
		leader := c.Leader()
		require.NotEqual(t, -1, leader, "the domain must have a leader")
		require.Eventually(t, func() bool {
			first, _ := c.RaftLog(leader)
			return first > stoppedAt+1
		}, time.Minute, 10*time.Millisecond, "the leader must trim its log past where the follower stopped (%d)", stoppedAt)

		c.Restart(follower)
		c.WaitAdmitted(follower, time.Minute)
		snaps := c.Snapshots(follower)
		require.NotEmpty(t, snaps, "the restarted follower must have received a snapshot")
		require.Greater(t, snaps[0].Index, stoppedAt, "the follower's snapshot must come from after it stopped")

		want := subscribeView(t, c, 0, "g")
		require.Equal(t, fmt.Appendf(nil, "s%d", changes), want.State, "node 1 must show the last state value")
		require.Equal(t, []wire.Provider{{Instance: 1, Node: 1}}, want.Full, "node 1 must show p1 alone in g")
		for i := 1; i < c.Size(); i++ {
			require.Equal(t, want, subscribeView(t, c, i, "g"), "node %d must show g as node 1 does", i+1)
		}
		require.Equal(t, c.Node(0).Daemon.Status().Groups, c.Node(follower).Daemon.Status().Groups,
			"the restarted follower must count the same groups")

		// And it keeps agreeing: a provider joins through it, and both
		// sides see the same approval.
		q2 := c.Client(follower, "q4b", "")
		require.NoError(t, q2.Send(join("g", 1, 5)))
		require.True(t, q2.Wait(time.Minute, func(n []wire.Notification) bool { return countApproved(n, wire.JoinProtocol) == 1 }),
			"a join through the restarted follower must be approved")
		require.True(t, p.Wait(time.Minute, func(n []wire.Notification) bool { return countApproved(n, wire.JoinProtocol) == 3 }),
			"p1 must see that join approved")
		pn, qn := p.Notes(), q2.Notes()
		require.Equal(t, pn[len(pn)-1].Proposal.Current, qn[len(qn)-1].Proposal.Current,
			"both must see the same membership after the join")
		require.Equal(t, fmt.Appendf(nil, "s%d", changes), qn[len(qn)-1].Proposal.CurrentState,
			"the joiner must see the state value the domain agreed on")
	})
}

// TestSnapshotInstalledOnIsolatedFollower: a follower cut off while the
// others snapshot and trim their logs receives, once healed, the leader's
// snapshot while it runs; it learns from it that it was declared down, is
// admitted again, and then shows what the others show.
func TestSnapshotInstalledOnIsolatedFollower(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := daemontest.NewCluster(t, daemontest.Options{Nodes: 4, Voters: 3, Seed: 9,
			Snapshot: agreement.SnapshotPolicy{Threshold: 16, Interval: 100 * time.Millisecond, Trailing: 4}})
		const follower = 3
		cls := joinEach(t, c)
		p := cls[0]
		_, before := c.RaftLog(follower)

		c.Isolate(follower)
		require.True(t, failedNode(p, follower+1, follower+1), "the majority must fail the cut-off follower's provider")
		require.True(t, cls[follower].Wait(time.Minute, func([]wire.Notification) bool { return cls[follower].Lost() != nil }),
			"the cut-off follower must end its client's session")
		const changes = 40
		for k := 1; k <= changes; k++ {
			require.NoError(t, p.Send(&wire.Request{Op: wire.OpChangeState, Token: 1, NumPhases: wire.OnePhase,
				State: fmt.Appendf(nil, "i%d", k)}))
			require.True(t, p.Wait(time.Minute, func(n []wire.Notification) bool {
				return countApproved(n, wire.StateValueChangeProtocol) == k
			}), "state change %d must be approved", k)
		}
		leader := c.Leader()
		require.NotEqual(t, -1, leader, "the majority must have a leader")
		require.Eventually(t, func() bool {
			first, _ := c.RaftLog(leader)
			return first > before+1
		}, time.Minute, 10*time.Millisecond, "the leader must trim its log past the follower's last entry (%d)", before)

		c.Heal()
		c.WaitAdmitted(follower, time.Minute)
		snaps := c.Snapshots(follower)
		require.NotEmpty(t, snaps, "the healed follower must have received a snapshot")
		require.Greater(t, snaps[0].Index, before, "the follower's snapshot must come from after it was cut off")

		want := subscribeView(t, c, 0, "g")
		require.Equal(t, fmt.Appendf(nil, "i%d", changes), want.State, "node 1 must show the last state value")
		require.Equal(t, want, subscribeView(t, c, follower, "g"), "the healed follower must show g as node 1 does")
		q := c.Client(follower, "q", "")
		require.NoError(t, q.Send(join("g", 2, 9)))
		require.True(t, p.Wait(time.Minute, func(n []wire.Notification) bool {
			last, ok := lastApproval(n)
			return ok && last.Protocol == wire.JoinProtocol && slices.Contains(last.Proposal.Changing, wire.Provider{Instance: 9, Node: follower + 1})
		}), "a join through the healed follower must be approved at node 1")
	})
}
