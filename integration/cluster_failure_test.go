package integration

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// joinAll has the named clients (one per node, in node order) join group
// g as instance 1, one after the other.
func joinAll(t *testing.T, m *multi, group string, names ...string) {
	t.Helper()
	var joined []string
	for i, n := range names {
		cl := m.client(n, i)
		joined = append(joined, n)
		act(t, func() { require.NoError(t, cl.Send("join %s 1", group)) },
			fmt.Sprintf(`^APPROVED .*proto=JOIN .*changing=1@%d`, i+1), m.all(joined...)...)
	}
}

// TestClusterDaemonKilledIsNodeDeath: SIGKILL one daemon; the providers on
// the other nodes see its provider leave with NODE_DIED, within the
// failure detector's time, and the survivors go on agreeing.
func TestClusterDaemonKilledIsNodeDeath(t *testing.T) {
	m := startMulti(t, 3)
	joinAll(t, m, "g", "p1", "p2", "p3")
	w := m.watch(0)
	require.Eventually(t, func() bool { return strings.Contains(w.String(), "node 3 (node3) health alive") }, wait,
		10*time.Millisecond, "hagsctl watch shows node 3 alive first")
	start := time.Now()
	lines := act(t, func() { m.kill(2) },
		`^APPROVED .*proto=FAILURE_LEAVE`, m.all("p1", "p2")...)
	took := time.Since(start)
	for _, l := range lines {
		assert.Contains(t, l, "changing=1@3 ", "the failure leave names the dead node's provider")
		assert.Contains(t, l, "leave=NODE_DIED", "a dead daemon's providers leave with NODE_DIED")
		assert.Contains(t, l, "members=1@1,1@2 ", "the group keeps the survivors")
	}
	t.Logf("node death reached the survivors in %v", took)
	require.Eventually(t, func() bool { return strings.Contains(w.String(), "node 3 (node3) health alive -> dead") }, wait,
		10*time.Millisecond, "hagsctl watch reports node 3's death live; it printed:\n%s", w.String())
	require.Eventually(t, func() bool { return strings.Contains(w.String(), "group g providers 3 -> 2") }, wait,
		10*time.Millisecond, "hagsctl watch reports the failure leave; it printed:\n%s", w.String())
	act(t, func() { require.NoError(t, m.clients["p2"].Send("state 1 after")) },
		`^APPROVED .*proto=STATE_VALUE_CHANGE .*state="after"`, m.all("p1", "p2")...)
	// p3's process lost its daemon.
	expect(t, m.clients["p3"], `^lost HA_GS_NOT_OK`, 0)
}

// TestClusterRestartedDaemonIsNewIncarnation: a daemon killed and
// restarted at once (before the failure detector gives up on it) comes
// back as a new incarnation: its earlier provider is failed everywhere, and
// a new client on it joins as usual.
func TestClusterRestartedDaemonIsNewIncarnation(t *testing.T) {
	m := startMulti(t, 3)
	joinAll(t, m, "g", "p1", "p2", "p3")
	old := m.clients["p2"]
	act(t, func() {
		m.kill(1)
		m.start(1)
	}, `^APPROVED .*proto=FAILURE_LEAVE .*changing=1@2 .*leave=NODE_DIED`, m.all("p1", "p3")...)
	m.waitAdmitted(1, 0)
	expect(t, old, `^lost HA_GS_NOT_OK`, 0)

	again := m.client("p2again", 1)
	act(t, func() { require.NoError(t, again.Send("join g 1")) },
		`^APPROVED .*proto=JOIN .*changing=1@2`, m.all("p1", "p3", "p2again")...)
}

// TestClusterStoppedDaemonLeavesAtOnce: SIGTERM makes a daemon hand over
// leadership if it has it and tell the others it is leaving, so its
// providers fail without waiting for the failure detector, and the others
// go on agreeing.
func TestClusterStoppedDaemonLeavesAtOnce(t *testing.T) {
	m := startMulti(t, 3)
	joinAll(t, m, "g", "p1", "p2", "p3")
	leader := m.leader()
	var survivors []string
	for i, n := range []string{"p1", "p2", "p3"} {
		if i != leader {
			survivors = append(survivors, n)
		}
	}
	act(t, func() {
		require.NoError(t, m.daemons[leader].Stop(wait), "the leader's hagsd stops on SIGTERM")
		m.daemons[leader] = nil
	}, fmt.Sprintf(`^APPROVED .*proto=FAILURE_LEAVE .*changing=1@%d .*leave=NODE_DIED`, leader+1), m.all(survivors...)...)
	act(t, func() { require.NoError(t, m.clients[survivors[0]].Send("state 1 after")) },
		`^APPROVED .*proto=STATE_VALUE_CHANGE .*state="after"`, m.all(survivors...)...)
}
