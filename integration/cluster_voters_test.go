package integration

import (
	"encoding/json"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// roles returns each node's role as node i's hagsctl status reports it.
func (m *multi) roles(i int) map[int32]string {
	m.t.Helper()
	out, err := exec.Command(filepath.Join(bin, "hagsctl"), "--socket", m.sockets[i], "--json", "status").CombinedOutput()
	require.NoError(m.t, err, "hagsctl status on node %d: %s", i+1, out)
	var st ctlStatus
	require.NoError(m.t, json.Unmarshal(out, &st), "hagsctl --json status prints a status")
	roles := map[int32]string{}
	for _, ns := range st.Nodes {
		roles[ns.Node] = ns.Role
	}
	return roles
}

// TestClusterDeadVoterReplacedByFollower: three voters and a follower. The
// follower replicates the log and serves its own clients. When a voter
// dies, the leader promotes the follower in its place; a second voter's
// death then still leaves a quorum (two of the three voters), so the
// domain goes on agreeing where, without the replacement, it would stop.
func TestClusterDeadVoterReplacedByFollower(t *testing.T) {
	m := startDomain(t, 4, 3, "--replace-after", "300ms")
	joinAll(t, m, "g", "p1", "p2", "p3", "p4")
	require.Eventually(t, func() bool { return m.roles(0)[4] == "follower" }, wait, 50*time.Millisecond,
		"node 4 replicates the log as a follower")

	// Kill a voter that does not lead, so that node 0 stays reachable for hagsctl.
	leader := m.leader()
	first := 0
	for first == leader || first == 3 {
		first++
	}
	var rest []string
	for i, n := range []string{"p1", "p2", "p3", "p4"} {
		if i != first {
			rest = append(rest, n)
		}
	}
	act(t, func() { m.kill(first) }, `^APPROVED .*proto=FAILURE_LEAVE .*leave=NODE_DIED`, m.all(rest...)...)
	require.Eventually(t, func() bool {
		r := m.roles(leader)
		return r[4] == "voter" || r[4] == "leader"
	}, wait, 50*time.Millisecond, "the follower is promoted in place of the dead voter")
	// Promotion and removal are two configuration changes: the removal
	// follows the promotion, a moment later.
	require.Eventually(t, func() bool {
		r := m.roles(leader)[int32(first+1)]
		return r == "" || r == "none"
	}, wait, 50*time.Millisecond, "the dead voter leaves the configuration")

	// A second voter dies (the original voter that neither died nor leads):
	// the two voters left are still a quorum.
	second := 3 - first - leader
	var last []string
	for _, n := range rest {
		if n != []string{"p1", "p2", "p3"}[second] {
			last = append(last, n)
		}
	}
	act(t, func() { m.kill(second) }, `^APPROVED .*proto=FAILURE_LEAVE .*leave=NODE_DIED`, m.all(last...)...)
	act(t, func() { require.NoError(t, m.clients[last[0]].Send("state 1 still-agreeing")) },
		`^APPROVED .*proto=STATE_VALUE_CHANGE .*state="still-agreeing"`, m.all(last...)...)
}
