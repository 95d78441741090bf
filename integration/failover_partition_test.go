package integration

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/agent/actlog"
)

// TestFailoverPartition cuts the owner of "Moving a Group"'s group off the network
// (its hagsd lives in a network namespace whose link goes down; its
// hagsrmd and the agents run on, as on a real machine cut off). The owner
// stops the group by itself (its lease runs out, its hagsd ends the
// session) and the majority takes the group over after the self-fencing
// window: the action log shows no moment with the group on two nodes.
// A manager cut off is read-only: its mutating calls get
// ERROR_SHARING_PAUSED. When the link comes back, NodeB rejoins and the
// group stays on the survivor.
func TestFailoverPartition(t *testing.T) {
	t.Parallel()
	c := startRMCluster(t, rmOptions{netns: true})
	const g = "Application Group"
	c.ownedBy(1, g)
	killed := actlog.Now()
	c.nn.cut(1)
	gi := c.takenOver(0, 1, g, killed, "NodeB cut off the network")
	for _, r := range []string{"db", "web"} {
		require.False(t, c.runsOn(r, "NodeB"), "NodeB's manager stopped %s before the survivors started it", r)
	}
	c.must(1, failover.CodeSharingPaused, "group", "offline", g)
	c.nn.heal(1)
	c.waitUp(0, 1, 2)
	c.waitOnline(1, g, gi.Owner)
}

// runsOn reports whether the action log shows resource r running on node
// now (a start not followed by a successful stop).
func (c *rmCluster) runsOn(r, node string) bool {
	running := false
	for _, rec := range c.records() {
		if rec.Resource != r || rec.Node != node {
			continue
		}
		switch {
		case rec.Op == actlog.OpStart:
			running = true
		case rec.Op == actlog.OpStop && rec.OK:
			running = false
		}
	}
	return running
}
