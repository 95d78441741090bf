package integration

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/agent/actlog"
)

// The tests of this file kill the owner of "Moving a Group"'s group in every way
// the contract names, and check that the group comes up on another node
// (or stays put where it must), never on two nodes at once: the action log
// goes to rmcheck at the end of each. Each reports the time from the kill
// to the group Online on a survivor.

// ownedBy starts "Moving a Group"'s group on node i: created there, so owned
// there, and online.
func (c *rmCluster) ownedBy(i int, g string) {
	c.t.Helper()
	c.seedGroup(i, g)
}

// takenOver waits until group g, last owned by node victim, is Online on
// another node, as node asker reports it, and logs how long that took
// from killed (CLOCK_MONOTONIC ns): as observed by polling, and from the
// action log (the first start of the group's last resource elsewhere).
func (c *rmCluster) takenOver(asker, victim int, g string, killed int64, how string) failover.GroupInfo {
	c.t.Helper()
	var others []string
	for i, n := range rmNames {
		if i != victim {
			others = append(others, n)
		}
	}
	gi := c.waitOnline(asker, g, others...)
	seen := time.Duration(actlog.Now() - killed)
	started := "?"
	if rec, ok := c.firstStartAfter("web", rmNames[victim], killed); ok {
		started = time.Duration(rec.Mono - killed).Round(time.Millisecond).String()
	}
	c.t.Logf("MEASURED %s: %s → group Online on %s: %v observed by polling; web's start on %s began after %s",
		c.t.Name(), how, gi.Owner, seen.Round(time.Millisecond), gi.Owner, started)
	return gi
}

// TestFailoverNodeCrash crashes the owner's node (hagsd and hagsrmd
// SIGKILLed, its processes and /run gone): after the self-fencing window
// (db's stop-timeout is 2s, so 1.575s + 2s) the group comes up on a
// survivor. While the node is down a move to it is refused
// (ERROR_HOST_NODE_NOT_AVAILABLE). The node then comes back with the same
// state directories, rejoins, and the group stays where it is.
func TestFailoverNodeCrash(t *testing.T) {
	t.Parallel()
	c := startRMCluster(t, rmOptions{})
	const g = "Application Group"
	c.ownedBy(1, g)
	killed := actlog.Now()
	c.crash(1)
	gi := c.takenOver(0, 1, g, killed, "NodeB crashed (hagsd and hagsrmd SIGKILLed)")
	c.waitNodeState(0, "NodeB", failover.NodeDown)
	c.must(2, failover.CodeHostNodeNotAvailable, "group", "move", g, "NodeB")
	c.must(2, failover.CodeClusterNodeDown, "node", "pause", "NodeB")

	c.startGS(1)
	c.startManager(1)
	c.waitUp(0, 1, 2)
	back := c.waitOnline(1, g, gi.Owner)
	require.Equal(t, gi.Owner, back.Owner, "the group stays on the survivor when NodeB returns")
}

// TestFailoverHagsdKill SIGKILLs the owner's hagsd alone: its hagsrmd
// loses its session and stops everything at once (its own stop records),
// and the survivors take the group over after the self-fencing window.
// hagsd then starts again; the manager reconnects and the node is Up.
func TestFailoverHagsdKill(t *testing.T) {
	t.Parallel()
	c := startRMCluster(t, rmOptions{})
	const g = "Application Group"
	c.ownedBy(1, g)
	killed := actlog.Now()
	c.killGS(1)
	c.takenOver(2, 1, g, killed, "NodeB's hagsd SIGKILLed")
	c.startGS(1)
	c.waitUp(0, 1, 2)
}

// TestFailoverManagerKill SIGKILLs the owner's hagsrmd, its hagsd alive.
// Nobody on that node enforces a self-fencing window now and db (Dummy)
// still "runs" there, so the survivors must not take the group over on
// time alone: for longer than the window it stays where it is. The
// manager then starts again: it probes, finds db, and the group is Online
// on NodeB again. Then NodeB gets a fence command (a test script that
// powers NodeB off) and its hagsrmd is killed again: the fence runs and
// the group moves at once. NodeB finally comes back.
func TestFailoverManagerKill(t *testing.T) {
	t.Parallel()
	c := startRMCluster(t, rmOptions{})
	const g = "Application Group"
	c.ownedBy(1, g)

	killed := actlog.Now()
	c.killManager(1)
	c.waitNodeState(0, "NodeB", failover.NodeDown)
	// Something must NOT happen: watch the group for longer than the
	// window the survivors would use for a node that died (1.575s + db's
	// 2s stop timeout), and fail on any takeover.
	window := 1575*time.Millisecond + 2*time.Second
	for deadline := time.Now().Add(window + time.Second); time.Now().Before(deadline); {
		gi, err := c.groupState(0, g)
		require.NoError(t, err)
		require.Equal(t, "NodeB", gi.Owner, "the group waits on NodeB while NodeB's manager is gone: %s", groupLine(gi))
		time.Sleep(50 * time.Millisecond) // pacing the watch above, not waiting for an event
	}
	_, ok := c.firstStartAfter("db", "NodeB", killed)
	require.False(t, ok, "db started nowhere else while NodeB may still run it")
	c.startManager(1)
	c.waitUp(0, 1, 2)
	c.waitOnline(0, g, "NodeB")

	fence := c.fenceScript(1, "db", "web")
	c.must(2, codeOK, "node", "fence", "NodeB", fence)
	killed = actlog.Now()
	c.killManager(1)
	gi := c.takenOver(0, 1, g, killed, "NodeB's hagsrmd SIGKILLed, fence command configured")
	c.waitNodeState(2, "NodeB", failover.NodeDown)
	// The fence killed NodeB's hagsd too: reap it, and bring NodeB back.
	c.gs.kill(1)
	c.startGS(1)
	c.startManager(1)
	c.waitUp(0, 1, 2)
	c.waitOnline(1, g, gi.Owner)
}

// waitNodeState waits until node i's manager reports node n in state s.
func (c *rmCluster) waitNodeState(i int, n string, s failover.NodeState) {
	c.t.Helper()
	waitFor(c.t, rmWait, fmt.Sprintf("%s to be %s (asking %s)", n, s, rmNames[i]), func() (bool, string) {
		var ni failover.NodeInfo
		r := c.hagsrm(i, "node", "state", n)
		if r.exit != 0 {
			return false, r.String()
		}
		c.show(i, &ni, "node", "state", n)
		return ni.State == s, ni.State.String()
	})
}
