package agreement

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// With raft's CommitTimeout an hour long, a follower learns that the last
// entry is committed only from the leader's commit notice: the domain
// still forms (every node's log admits every node, the last admission
// included) and an event a follower submits is applied on every node.
// Without the notices the followers would wait an hour for both.
func TestFollowersApplyWhatTheLeaderCommittedAtOnce(t *testing.T) {
	timing := fastTiming()
	timing.Commit = time.Hour
	nodes := startTLSDomainTimed(t, testKeys(t, 3), 3, timing)
	leader := leaderOf(t, nodes)
	var follower *tlsNode
	for _, tn := range nodes {
		if tn != leader {
			follower = tn
			break
		}
	}
	before := leader.a.fsm.AppliedIndex()
	follower.a.Submit(stateEvent(256))
	require.Eventually(t, func() bool {
		at := leader.a.fsm.AppliedIndex()
		if at <= before {
			return false
		}
		for _, tn := range nodes {
			if tn.a.fsm.AppliedIndex() != at {
				return false
			}
		}
		return true
	}, waitBudget, 5*time.Millisecond, "every node applies the follower's event, which no later entry carries the commit of")
}
