package daemontest_test

import (
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/agreement"
	"github.com/openhags/hags/daemon/daemontest"
	"github.com/openhags/hags/internal/wire"
)

// lastApproval returns the last approved notification, if any.
func lastApproval(ns []wire.Notification) (wire.Notification, bool) {
	for i := len(ns) - 1; i >= 0; i-- {
		if ns[i].Type == wire.ApprovedNotification {
			return ns[i], true
		}
	}
	return wire.Notification{}, false
}

// failedNode waits until cl has seen node's provider (instance inst) leave
// with NODE_DIED.
func failedNode(cl *daemontest.Client, inst, node int32) bool {
	return cl.Wait(time.Minute, func(ns []wire.Notification) bool {
		return slices.ContainsFunc(ns, func(n wire.Notification) bool {
			return n.Type == wire.ApprovedNotification && n.Protocol == wire.FailureLeaveProtocol && n.Proposal != nil &&
				slices.Contains(n.Proposal.Changing, wire.Provider{Instance: inst, Node: node}) &&
				len(n.Proposal.LeaveInfo) > 0 && n.Proposal.LeaveInfo[0].Reason == wire.ProviderNodeDied
		})
	})
}

// joinEach starts a provider on every slot (instance = slot+1) and waits
// until each has seen its own join.
func joinEach(t *testing.T, c *daemontest.Cluster) []*daemontest.Client {
	var cls []*daemontest.Client
	for i := range c.Size() {
		cl := c.Client(i, "p", "")
		require.NoError(t, cl.Send(join("g", 1, int32(i+1))))
		require.True(t, cl.Wait(time.Minute, func(ns []wire.Notification) bool {
			n, ok := lastApproval(ns)
			return ok && n.Proposal != nil && slices.Contains(n.Proposal.Changing, wire.Provider{Instance: int32(i + 1), Node: int32(i + 1)})
		}), "provider %d's join is approved", i+1)
		cls = append(cls, cl)
	}
	return cls
}

// TestIsolatedNodeStopsServing: a node cut off from the others (first a
// follower, then the leader) ends its clients' sessions with NOT_OK and
// refuses new ones; the majority fails its provider and goes on; once
// healed, the node is admitted again and serves new clients.
func TestIsolatedNodeStopsServing(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := daemontest.NewCluster(t, daemontest.Options{Nodes: 3, Seed: 7})
		cls := joinEach(t, c)
		insts := []int32{1, 2, 3} // each slot's provider's instance
		leader := c.Leader()
		require.GreaterOrEqual(t, leader, 0, "the domain has a leader")
		for round, victim := range []int{(leader + 1) % 3, leader} {
			c.Isolate(victim)
			require.True(t, cls[victim].Wait(time.Minute, func([]wire.Notification) bool { return false }) ||
				cls[victim].Lost() != nil, "the client of the node cut off loses its session")
			assert.Contains(t, cls[victim].Lost().Error(), "NOT_OK", "the session ends with NOT_OK")
			_, err := c.Dial(victim, "late", "")
			assert.ErrorIs(t, err, daemontest.ErrRefused, "a node cut off refuses new clients")
			if err != nil {
				assert.True(t, strings.Contains(err.Error(), "NOT_OK"), "the refusal says NOT_OK: %v", err)
			}
			for i, cl := range cls {
				if i != victim {
					assert.True(t, failedNode(cl, insts[victim], int32(victim+1)),
						"round %d: the majority fails node %d's provider", round, victim+1)
				}
			}

			c.Heal()
			c.WaitAdmitted(victim, time.Minute)
			back := c.Client(victim, "back", "")
			inst := int32(victim+1) + int32(3*(round+1))
			require.NoError(t, back.Send(join("g", 1, inst)))
			for i, cl := range append(slices.Clone(cls), back) {
				if i == victim {
					continue
				}
				assert.True(t, cl.Wait(time.Minute, func(ns []wire.Notification) bool {
					n, ok := lastApproval(ns)
					return ok && n.Protocol == wire.JoinProtocol && slices.Contains(n.Proposal.Changing, wire.Provider{Instance: inst, Node: int32(victim + 1)})
				}), "round %d: the healed node's new provider joins, seen by everyone", round)
			}
			cls[victim], insts[victim] = back, inst
		}
	})
}

// TestDeadVoterIsReplaced: with three voters and two followers, a crashed
// voter is replaced by a follower after ReplaceAfter, and the domain then
// survives the death of another original voter.
func TestDeadVoterIsReplaced(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := daemontest.NewCluster(t, daemontest.Options{Nodes: 5, Voters: 3, Seed: 3, ReplaceAfter: time.Second})
		cls := joinEach(t, c)
		leader := c.Leader()
		victims := []int{}
		for i := range 3 {
			if i != leader {
				victims = append(victims, i)
			}
		}
		c.Crash(victims[0])
		for i, cl := range cls {
			if i != victims[0] {
				require.True(t, failedNode(cl, int32(victims[0]+1), int32(victims[0]+1)), "the crash is a failure leave at %d", i+1)
			}
		}
		// Simulated time (synctest): give the leader its replace-after delay.
		time.Sleep(5 * time.Second)
		voters := 0
		for i := range 5 {
			if r := c.Role(leader, i); r == "voter" || r == "leader" {
				voters++
			}
		}
		assert.Equal(t, 3, voters, "a follower took the dead voter's place")
		assert.Contains(t, []string{"", "none"}, c.Role(leader, victims[0]), "the dead voter left the configuration")

		c.Crash(victims[1])
		for i, cl := range cls {
			if i != victims[0] && i != victims[1] {
				require.True(t, failedNode(cl, int32(victims[1]+1), int32(victims[1]+1)),
					"with the replacement, the second voter's death is still agreed on (seen at %d)", i+1)
			}
		}
	})
}

// TestRequestsFollowANewLeaderAcrossASilentCut: the leader's links go
// quiet, as when its cable is pulled: no stream breaks. Each follower
// forwards a request to it at once; nothing comes back. The two followers
// elect a new leader, and each sends its request again there as soon as
// raft tells it who leads, not when the answer is overdue (Apply + Dial).
// The follower that did not win the election is the case: only raft's
// leader observation tells it anything changed.
func TestRequestsFollowANewLeaderAcrossASilentCut(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := daemontest.NewCluster(t, daemontest.Options{Nodes: 3, Seed: 11})
		old := c.Leader()
		require.GreaterOrEqual(t, old, 0, "the domain has a leader")
		type follower struct {
			slot int
			cl   *daemontest.Client
		}
		var fs []follower
		for i := range c.Size() {
			if i != old {
				fs = append(fs, follower{i, c.Client(i, "p", "")})
			}
		}
		c.CutOff(old)
		start := time.Now()
		for _, f := range fs {
			require.NoError(t, f.cl.Send(join(fmt.Sprintf("g%d", f.slot), 1, 1)))
		}
		// Each join's time is when its client first holds the approval
		// (Wait wakes on every notification; fake time).
		took := make([]time.Duration, len(fs))
		approved := make([]bool, len(fs))
		var wg sync.WaitGroup
		for k, f := range fs {
			wg.Go(func() {
				approved[k] = f.cl.Wait(time.Minute, func(ns []wire.Notification) bool {
					_, ok := lastApproval(ns)
					return ok
				})
				took[k] = time.Since(start)
			})
		}
		wg.Wait()
		overdue := agreement.LANTiming().Apply + agreement.LANTiming().Dial
		for k, f := range fs {
			require.True(t, approved[k], "node %d's join is approved by the new leader", f.slot+1)
			assert.Less(t, took[k], overdue,
				"node %d's join did not wait until its answer was overdue (node %d leads now)", f.slot+1, c.Leader()+1)
		}
		t.Logf("approved after %v (fake time), node %d leading", took, c.Leader()+1)
		c.Heal()
		c.WaitAdmitted(old, time.Minute)
	})
}

// TestReplicationSurvivesSilentCuts: a follower is cut off silently six
// times while the leader appends steadily, and healed each time; each
// time the follower is admitted again and its raft log catches up with
// the leader's. Raft's pipelined replication could stall for good here:
// with its default of two requests in flight, a failed answer (the read
// deadline on a cut stream) ends the pipeline's decoder while its sender,
// woken by a new entry, waits to hand over one more request that nobody
// takes. The leader's heartbeats, on their own connection, kept the
// follower from ever calling an election, so it never got another entry.
// The daemon replicates without the pipeline (docs/design/domain.md).
func TestReplicationSurvivesSilentCuts(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		c := daemontest.NewCluster(t, daemontest.Options{Nodes: 3, Seed: 13})
		leader := c.Leader()
		require.GreaterOrEqual(t, leader, 0, "the domain has a leader")
		follower := (leader + 1) % 3
		cl := c.Client(leader, "p", "")
		require.NoError(t, cl.Send(join("g", 1, 1)))
		require.True(t, cl.Wait(time.Minute, func(ns []wire.Notification) bool {
			_, ok := lastApproval(ns)
			return ok
		}), "the provider joins")
		for round := range 6 {
			c.CutOff(follower)
			for k := range 60 { // 3 s of state changes, one every 50 ms
				require.NoError(t, cl.Send(&wire.Request{Op: wire.OpChangeState, Token: 1, NumPhases: wire.OnePhase,
					State: []byte(fmt.Sprintf("r%d-%d", round, k))}))
				// Simulated time (synctest): the pace of the appends is the load.
				time.Sleep(50 * time.Millisecond)
			}
			c.Heal()
			_, want := c.RaftLog(c.Leader())
			c.WaitAdmitted(follower, time.Minute)
			require.Eventually(t, func() bool {
				_, last := c.RaftLog(follower)
				return last >= want
			}, time.Minute, 10*time.Millisecond, "round %d: node %d's log catches up with the leader's (index %d)", round, follower+1, want)
		}
	})
}
