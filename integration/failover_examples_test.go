package integration

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/agent/actlog"
)

const (
	codeOK      = failover.CodeSuccess
	codePending = failover.CodeIOPending
)

// seedGroup creates "Moving a Group"'s "Application Group" on node i (which owns
// it then): db, Debian's Dummy, and web, an exec resource that depends on
// it; and brings it online there.
func (c *rmCluster) seedGroup(i int, g string) {
	c.t.Helper()
	c.must(i, codeOK, "group", "create", g)
	c.must(i, codeOK, "resource", "create", "db", "--group", g, "--agent", "ocf:heartbeat:Dummy", "--set", "stop-timeout=2s")
	c.must(i, codeOK, "resource", "create", "web", "--group", g, "--agent", "exec", "--param", "command="+c.execCommand(),
		"--set", "stop-timeout=2s")
	c.must(i, codeOK, "resource", "depend", "web", "[db]")
	c.must(i, codePending, "group", "online", g)
	c.waitOnline(i, g, rmNames[i])
}

// TestFailoverMovingAGroup plays MS-CMRP's example "Moving a Group", twice: through
// hagsrm --json (state: owner NodeA; move to NodeB: ERROR_IO_PENDING; poll
// the group's state until it is no longer Pending: Online on NodeB), and
// through the Go API (OpenGroup, State, OpenNode, MoveTo, poll State), to
// NodeC. Then the move's other answers: ERROR_SUCCESS to the owner,
// ERROR_CLUSTER_NODE_PAUSED, ERROR_HOST_NODE_NOT_RESOURCE_OWNER,
// ERROR_CLUSTER_RESOURCE_LOCKED_STATUS and --ignore-locked,
// ERROR_CLUSTER_GROUP_MOVING while a move runs, ERROR_INVALID_STATE while
// the group is Pending otherwise, and ApiMoveGroup's choice of node.
func TestFailoverMovingAGroup(t *testing.T) {
	t.Parallel()
	c := startRMCluster(t, rmOptions{})
	const g = "Application Group"
	c.seedGroup(0, g)

	// Through hagsrm, asking NodeC's manager: any node will do, once it
	// has applied what NodeA's did (reads answer from what each has
	// applied).
	c.waitOnline(2, g, "NodeA")
	var st failover.GroupInfo
	c.show(2, &st, "group", "state", g)
	require.Equal(t, "NodeA", st.Owner, "the group's creator owns it")
	require.Equal(t, failover.GroupOnline, st.State)
	mark := actlog.Now()
	c.must(2, codePending, "group", "move", g, "NodeB")
	waitFor(t, rmWait, "the group to leave ClusterGroupPending", func() (bool, string) {
		c.show(2, &st, "group", "state", g)
		return st.State != failover.GroupPending && st.MovingTo == "", groupLine(st)
	})
	require.Equal(t, failover.GroupOnline, st.State, "the move ends Online: %s", groupLine(st))
	require.Equal(t, "NodeB", st.Owner, "the move ends on NodeB")
	c.requireMoveOrder(mark, "NodeA", "NodeB")

	// Through the Go API, on a client of NodeA's manager.
	c.waitOnline(0, g, "NodeB")
	ctx, cancel := context.WithTimeout(context.Background(), rmWait)
	defer cancel()
	cl, err := failover.Dial(ctx, failover.WithSocket(c.socket(0)))
	require.NoError(t, err)
	defer cl.Close()
	grp, err := cl.OpenGroup(ctx, g)
	require.NoError(t, err)
	info, err := grp.State(ctx)
	require.NoError(t, err)
	require.Equal(t, "NodeB", info.Owner)
	nodeC, err := cl.OpenNode(ctx, "NodeC")
	require.NoError(t, err)
	mark = actlog.Now()
	err = grp.MoveTo(ctx, nodeC)
	require.ErrorIs(t, err, failover.ErrIOPending, "a move that stops and starts resources is pending")
	c.ledger.acked(t, []string{"group", "move", g, "NodeC"})
	waitFor(t, rmWait, "the group to leave ClusterGroupPending", func() (bool, string) {
		info, err = grp.State(ctx)
		require.NoError(t, err)
		return info.State != failover.GroupPending && info.MovingTo == "", groupLine(info)
	})
	require.Equal(t, failover.GroupOnline, info.State, "the move ends Online: %s", groupLine(info))
	require.Equal(t, "NodeC", info.Owner)
	c.requireMoveOrder(mark, "NodeB", "NodeC")
	require.NoError(t, grp.MoveTo(ctx, nodeC), "a move to the owner is ERROR_SUCCESS at once")
	after, err := grp.State(ctx)
	require.NoError(t, err)
	require.Equal(t, info.Sequence, after.Sequence, "a move to the owner changes nothing")

	// A paused node takes no group on request.
	c.must(1, codeOK, "node", "pause", "NodeA")
	c.must(1, failover.CodeClusterNodePaused, "group", "move", g, "NodeA")
	c.must(1, codeOK, "node", "resume", "NodeA")
	// Possible owners: NodeA is not one of db's.
	c.must(0, failover.CodeObjectAlreadyExists, "resource", "owners", "db", "add", "NodeC")
	c.must(0, codeOK, "resource", "owners", "db", "remove", "NodeA")
	c.must(0, failover.CodeHostNodeNotResourceOwner, "group", "move", g, "NodeA")
	// Locked mode: the move is refused, unless told to stop the locked
	// resource anyway.
	c.must(0, codeOK, "resource", "lock", "web")
	c.must(0, failover.CodeClusterResourceLockedStatus, "group", "move", g, "NodeB")
	c.must(0, codePending, "group", "move", g, "NodeB", "--ignore-locked")
	c.waitResource(0, "web", "stopped and moved, and still locked Offline", func(r failover.ResourceInfo) bool {
		return r.Owner == "NodeB" && r.State == failover.ResourceOffline
	})
	c.waitResource(0, "db", "Online on NodeB", func(r failover.ResourceInfo) bool {
		return r.Owner == "NodeB" && r.State == failover.ResourceOnline
	})
	c.must(0, codeOK, "resource", "unlock", "web")
	c.waitOnline(0, g, "NodeB")
	// ApiMoveGroup: the cluster picks the node, a possible owner of every
	// resource: NodeC.
	c.must(0, codePending, "group", "move", g)
	c.waitOnline(0, g, "NodeC")

	// A second group whose resource's stop and start the test holds.
	const slow = "Slow Group"
	c.must(0, codeOK, "group", "create", slow)
	c.must(0, codeOK, "resource", "create", "gate", "--group", slow, "--agent", "ocf:hagsit:Ctl", "--param", c.ctlParam())
	c.must(0, codePending, "group", "online", slow)
	c.waitOnline(0, slow, "NodeA")
	c.knows(1, slow)
	c.knows(2, slow)
	c.ctlFile("gate.stop", "block")
	c.must(0, codePending, "group", "move", slow, "NodeB")
	c.must(1, failover.CodeClusterGroupMoving, "group", "move", slow, "NodeC")
	c.must(2, failover.CodeClusterGroupMoving, "group", "move", slow, "NodeB")
	c.ctlFile("gate.stop.release", "go")
	c.waitOnline(0, slow, "NodeB")
	// Pending, not moving: the resource's start is held.
	c.mustAck(0, "resource", "offline", "gate")
	c.waitResource(0, "gate", "Offline", func(r failover.ResourceInfo) bool { return r.State == failover.ResourceOffline })
	c.ctlFile("gate.start", "block")
	c.must(0, codePending, "resource", "online", "gate")
	c.must(0, failover.CodeInvalidState, "group", "move", slow, "NodeC")
	c.ctlFile("gate.start.release", "go")
	c.waitOnline(0, slow, "NodeB")
}

// requireMoveOrder checks the example's move in the action log, from mono on:
// on the old owner web stopped before db (dependents first), both stops
// ended before the first start on the new owner, where db started before
// web (providers first).
func (c *rmCluster) requireMoveOrder(mono int64, from, to string) {
	c.t.Helper()
	var stops, starts []actlog.Record
	for _, r := range c.records() {
		if r.Mono < mono || r.Resource != "db" && r.Resource != "web" {
			continue
		}
		switch {
		case r.Node == from && r.Op == actlog.OpStop:
			stops = append(stops, r)
		case r.Node == to && r.Op == actlog.OpStart:
			starts = append(starts, r)
		}
	}
	require.GreaterOrEqual(c.t, len(stops), 2, "db and web stopped on %s", from)
	require.GreaterOrEqual(c.t, len(starts), 2, "db and web started on %s", to)
	require.Equal(c.t, []string{"web", "db"}, []string{stops[0].Resource, stops[1].Resource}, "dependents stop first on %s", from)
	require.Equal(c.t, []string{"db", "web"}, []string{starts[0].Resource, starts[1].Resource}, "providers start first on %s", to)
	require.Less(c.t, max(stops[0].Mono, stops[1].Mono), starts[0].Mono, "both stops on %s ended before the first start on %s", from, to)
}

// TestFailoverOnlineResource takes ApiOnlineResource's
// rules one by one, on a real cluster through hagsrm: ERROR_INVALID_STATE
// unless Initializing, Online, Offline or Failed (OnlinePending and
// OfflinePending are held by the test's agent); ERROR_IO_PENDING with
// OnlinePending; ERROR_SUCCESS when Online; the persistent state set
// online, also when the attempt fails; providers first, for a simple and a
// complex dependency; ERROR_CLUSTER_RESOURCE_PROVIDER_FAILED;
// ERROR_SHARING_PAUSED on a paused owner; ERROR_CLUSTER_RESOURCE_LOCKED_STATUS
// for the resource and for a provider, and --ignore-locked; recovery after
// a failed start; and, through the Go API, ERROR_RESOURCE_NOT_AVAILABLE
// and ERROR_INVALID_HANDLE. (Initializing is never shown: resources are
// created Offline, so that rule cannot be reached from outside.)
func TestFailoverOnlineResource(t *testing.T) {
	t.Parallel()
	c := startRMCluster(t, rmOptions{})
	const g = "Online Resource"
	ctl := func(name string) {
		c.must(0, codeOK, "resource", "create", name, "--group", g, "--agent", "ocf:hagsit:Ctl", "--param", c.ctlParam(),
			"--set", "restart-delay=100ms")
	}
	c.must(0, codeOK, "group", "create", g)
	for _, r := range []string{"slow", "p1", "p2", "p3", "top", "bad", "needsbad", "lk", "lp", "ld", "flaky"} {
		ctl(r)
	}
	for _, i := range []int{1, 2} { // the last created: the others are known there too
		c.waitResource(i, "flaky", "known", func(failover.ResourceInfo) bool { return true })
	}
	// state reads r on NodeA's manager, which made every change below or
	// applied it before the test saw it: reads answer from what the node
	// asked has applied.
	state := func(r string) failover.ResourceInfo {
		var ri failover.ResourceInfo
		c.show(0, &ri, "resource", "state", r)
		return ri
	}

	// OnlinePending: ERROR_IO_PENDING; a second online is INVALID_STATE.
	c.ctlFile("slow.start", "block")
	c.must(0, codePending, "resource", "online", "slow")
	ri := state("slow")
	require.Equal(t, failover.ResourceOnlinePending, ri.State, "a start under way shows OnlinePending")
	require.Equal(t, failover.PersistentOnline, ri.PersistentState, "online sets the persistent state")
	c.must(1, failover.CodeInvalidState, "resource", "online", "slow")
	c.ctlFile("slow.start.release", "go")
	c.waitResource(0, "slow", "Online", func(r failover.ResourceInfo) bool { return r.State == failover.ResourceOnline })
	c.must(2, codeOK, "resource", "online", "slow")
	// OfflinePending: INVALID_STATE too.
	c.ctlFile("slow.stop", "block")
	c.must(0, codePending, "resource", "offline", "slow")
	require.Equal(t, failover.ResourceOfflinePending, state("slow").State)
	c.must(0, failover.CodeInvalidState, "resource", "online", "slow")
	c.ctlFile("slow.stop.release", "go")
	c.waitResource(0, "slow", "Offline", func(r failover.ResourceInfo) bool { return r.State == failover.ResourceOffline })
	c.ctlFile("slow.stop", "")

	// Providers first: top depends on p1 and on one of p2, p3. p1's start
	// is held: top waits OnlinePending, its start not begun.
	c.must(0, codeOK, "resource", "depend", "top", "[p1] and ([p2] or [p3])")
	c.ctlFile("p1.start", "block")
	c.must(0, codePending, "resource", "online", "top")
	waitFor(t, rmWait, "p1's start to run", func() (bool, string) {
		return c.ctlCalled("NodeA p1 start"), "p1's start not called"
	})
	require.Equal(t, failover.ResourceOnlinePending, state("top").State, "top waits for its providers, OnlinePending")
	require.False(t, c.ctlCalled("NodeA top start"), "top's start does not begin before p1 is online")
	released := actlog.Now()
	c.ctlFile("p1.start.release", "go")
	c.waitResource(0, "top", "Online", func(r failover.ResourceInfo) bool { return r.State == failover.ResourceOnline })
	require.Equal(t, failover.ResourceOnline, state("p1").State)
	p2, p3 := state("p2"), state("p3")
	require.True(t, p2.State == failover.ResourceOnline || p3.State == failover.ResourceOnline,
		"one provider of the complex set is online: p2 %s, p3 %s", p2.State, p3.State)
	for _, r := range c.records() {
		if r.Resource == "top" && r.Op == actlog.OpStart {
			require.Greater(t, r.Mono, released, "top's start began after p1's start could end")
		}
	}
	c.must(0, codeOK, "resource", "online", "top")

	// A provider that cannot come online (its agent says the configuration
	// is wrong: fatal): PROVIDER_FAILED, and the persistent state is set
	// regardless. Recovery once it is cleaned up brings both online.
	c.must(0, codeOK, "resource", "depend", "needsbad", "[bad]")
	c.ctlFile("bad.start", "6")
	c.must(0, codePending, "resource", "online", "bad")
	c.waitResource(0, "bad", "Failed", func(r failover.ResourceInfo) bool { return r.State == failover.ResourceFailed })
	c.must(0, failover.CodeClusterResourceProviderFailed, "resource", "online", "needsbad")
	require.Equal(t, failover.PersistentOnline, state("needsbad").PersistentState,
		"the persistent state is set online whatever the immediate attempt gives")
	c.ctlFile("bad.start", "")
	c.mustAck(0, "resource", "cleanup", "bad")
	c.waitResource(0, "needsbad", "Online after its provider was cleaned up", func(r failover.ResourceInfo) bool {
		return r.State == failover.ResourceOnline
	})

	// A paused owner: SHARING_PAUSED.
	c.must(1, codeOK, "node", "pause", "NodeA")
	c.must(1, codeOK, "node", "pause", "NodeA")
	c.must(2, failover.CodeSharingPaused, "resource", "online", "lk")
	require.Equal(t, failover.PersistentOffline, state("lk").PersistentState, "a refused online changes nothing")
	c.must(1, codeOK, "node", "resume", "NodeA")
	c.must(1, failover.CodeClusterNodeNotPaused, "node", "resume", "NodeA")

	// Locked mode: the resource itself, then a provider.
	c.must(0, codeOK, "resource", "lock", "lk")
	c.must(0, failover.CodeClusterResourceLockedStatus, "resource", "online", "lk")
	c.must(0, codePending, "resource", "online", "lk", "--ignore-locked")
	c.waitResource(0, "lk", "Online", func(r failover.ResourceInfo) bool { return r.State == failover.ResourceOnline })
	c.must(0, codeOK, "resource", "unlock", "lk")
	c.must(0, codeOK, "resource", "depend", "ld", "[lp]")
	c.must(0, codeOK, "resource", "lock", "lp")
	c.must(0, failover.CodeClusterResourceLockedStatus, "resource", "online", "ld")
	c.must(0, codeOK, "resource", "unlock", "lp")
	c.must(0, codePending, "resource", "online", "ld")
	c.waitResource(0, "ld", "Online", func(r failover.ResourceInfo) bool { return r.State == failover.ResourceOnline })

	// Recovery: a start that fails once (soft) is restarted in place.
	c.ctlFile("NodeA.flaky.start", "once 1")
	c.must(0, codePending, "resource", "online", "flaky")
	ri = c.waitResource(0, "flaky", "Online after a restart in place", func(r failover.ResourceInfo) bool {
		return r.State == failover.ResourceOnline
	})
	require.Equal(t, "NodeA", ri.Owner, "restarted in place")
	require.GreaterOrEqual(t, c.startsOn("flaky", "NodeA"), 2, "one failed start, then one that worked")
	require.NotEmpty(t, ri.LastFailure, "the failure is remembered")

	// Handles: deleted since opened, and closed.
	ctx, cancel := context.WithTimeout(context.Background(), rmWait)
	defer cancel()
	cl, err := failover.Dial(ctx, failover.WithSocket(c.socket(1)))
	require.NoError(t, err)
	defer cl.Close()
	h, err := cl.OpenResource(ctx, "slow")
	require.NoError(t, err)
	c.must(2, codeOK, "resource", "delete", "slow")
	require.ErrorIs(t, h.Online(ctx), failover.ErrResourceNotAvailable, "a handle on a deleted resource")
	h2, err := cl.OpenResource(ctx, "flaky")
	require.NoError(t, err)
	require.NoError(t, h2.Close())
	require.ErrorIs(t, h2.Online(ctx), failover.ErrInvalidHandle, "a closed handle")
	_, err = cl.OpenResource(ctx, "slow")
	require.ErrorIs(t, err, failover.ErrResourceNotFound)
}

// ctlCalled reports whether the Ctl agent logged the call line ("NODE
// RESOURCE ACTION").
func (c *rmCluster) ctlCalled(line string) bool {
	b, err := os.ReadFile(filepath.Join(c.ctl, "calls"))
	if err != nil {
		return false
	}
	for _, l := range strings.Split(string(b), "\n") {
		if l == line {
			return true
		}
	}
	return false
}
