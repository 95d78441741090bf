package integration

import (
	"fmt"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// TestClusterFollowerCatchesUpFromSnapshot: with a low snapshot threshold,
// the daemons snapshot the groups and trim their logs while node 3 is
// down; restarted, node 3 is far behind the trimmed log, so the leader
// sends it a snapshot, and its new client sees the group exactly as the
// others do (members and the last state value), and takes part in what
// follows.
func TestClusterFollowerCatchesUpFromSnapshot(t *testing.T) {
	followerCatchesUpFromSnapshot(t)
}

// TestClusterFollowerCatchesUpFromSnapshotOverTLS: the same over mutual
// TLS, where every raft request, the snapshot's included, is checked
// against the sender's certificate before raft takes it.
func TestClusterFollowerCatchesUpFromSnapshotOverTLS(t *testing.T) {
	followerCatchesUpFromSnapshot(t, "--pki-dir", initKeys(t, 3))
}

func followerCatchesUpFromSnapshot(t *testing.T, extra ...string) {
	args := append([]string{"--snapshot-threshold", "16", "--snapshot-interval", "50ms", "--snapshot-trailing", "4"}, extra...)
	m := startMulti(t, 3, args...)
	joinAll(t, m, "g", "p1", "p2", "p3")
	act(t, func() { m.kill(2) },
		`^APPROVED .*proto=FAILURE_LEAVE .*changing=1@3 .*leave=NODE_DIED`, m.all("p1", "p2")...)

	const changes = 60
	for i := range changes {
		act(t, func() { require.NoError(t, m.clients["p1"].Send(fmt.Sprintf("state 1 v%d", i))) },
			fmt.Sprintf(`^APPROVED .*proto=STATE_VALUE_CHANGE .*state="v%d"`, i), m.all("p1", "p2")...)
	}
	// Both survivors have snapshotted (raft's file store keeps each one in
	// a directory with a meta.json).
	for _, n := range []int{1, 2} {
		require.Eventually(t, func() bool {
			snaps, _ := filepath.Glob(filepath.Join(m.dir, fmt.Sprintf("data%d", n), "snapshots", "*", "meta.json"))
			return len(snaps) > 0
		}, wait, 20*time.Millisecond, "node %d snapshots after %d entries", n, changes)
	}

	m.start(2) // a new process with a new log
	m.waitAdmitted(2, 0)
	_, _, err := m.daemons[2].Log.WaitFor(regexp.MustCompile(`Installed remote snapshot`), 0, wait)
	require.NoError(t, err, "the restarted node catches up from a snapshot, the log having been trimmed")

	again := m.client("p3again", 2)
	lines := act(t, func() { require.NoError(t, again.Send("join g 1")) },
		`^APPROVED .*proto=JOIN .*changing=1@3`, m.all("p1", "p2", "p3again")...)
	for _, l := range lines {
		require.Contains(t, l, fmt.Sprintf(`state="v%d"`, changes-1), "every provider, the new one on the restarted node too, sees the last state value")
		require.Contains(t, l, "members=1@1,1@2,1@3 ", "and the same members")
	}
	act(t, func() { require.NoError(t, again.Send("state 1 after")) },
		`^APPROVED .*proto=STATE_VALUE_CHANGE .*state="after"`, m.all("p1", "p2", "p3again")...)
	requireSameHistory(t, approved(m.clients["p1"]), m.all("p2", "p3again")...)
}
