package integration

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover"
)

// stopGS stops node i's hagsd with SIGTERM; it must exit 0.
func (c *rmCluster) stopGS(i int) {
	c.t.Helper()
	err := c.gs.daemons[i].Stop(rmWait)
	c.gs.daemons[i] = nil
	require.NoError(c.t, err, "hagsd %d exits 0 on SIGTERM", i+1)
}

// owners returns each group's owner and whether it should run (its
// persistent state is online), as node i reports them.
func (c *rmCluster) owners(i int) map[string]failover.GroupInfo {
	c.t.Helper()
	var list struct{ Groups []failover.GroupInfo }
	c.show(i, &list, "group", "list")
	out := map[string]failover.GroupInfo{}
	for _, g := range list.Groups {
		out[g.Name] = g
	}
	return out
}

// requireBack waits until every group of before that should run is Online
// on the node that owned it before, and every other is Offline.
func (c *rmCluster) requireBack(i int, before map[string]failover.GroupInfo) {
	c.t.Helper()
	for name, g := range before {
		if g.PersistentState == failover.PersistentOnline {
			now := c.waitOnline(i, name, g.Owner)
			for _, r := range now.Resources {
				require.True(c.t, c.runsOn(r, g.Owner), "the action log shows %s of %s running on %s", r, name, g.Owner)
			}
		} else {
			c.waitGroup(i, name, "Offline on "+g.Owner, func(x failover.GroupInfo) bool {
				return x.State == failover.GroupOffline && x.Owner == g.Owner
			})
		}
	}
	require.Len(c.t, c.owners(i), len(before), "the same groups came back")
}

// configShow returns node i's configuration document as JSON.
func (c *rmCluster) configShow(i int) []byte {
	c.t.Helper()
	r := c.hagsrm(i, "config", "show")
	require.Equal(c.t, 0, r.exit, "%s", r)
	return bytes.TrimSpace(r.stdout)
}

// TestFailoverRestartAll applies a configuration as one document, changes
// it further one operation at a time, then stops every node twice: in
// order (each hagsrmd with SIGTERM, then each hagsd), and as a power
// failure of the whole cluster (everything SIGKILLed, /run emptied). Each
// time the nodes start again from their state directories, and the
// configuration, persistent states, pause and lock flags and fence
// commands come back (the ledger's check and an unchanged `config show`),
// and every group that should run runs again on the node that owned it,
// one owner each.
func TestFailoverRestartAll(t *testing.T) {
	t.Parallel()
	c := startRMCluster(t, rmOptions{})
	doc := fmt.Sprintf(`nodes:
  - name: NodeC
    fence-command: /bin/true
groups:
  - name: Web Tier
    persistent-state: online
    preferred-owners: [NodeA, NodeB]
    resources:
      - name: vip
        agent: ocf:heartbeat:Dummy
        persistent-state: online
        stop-timeout: 2s
      - name: www
        agent: exec
        params: {command: '%[1]s'}
        persistent-state: online
        depends: "[vip]"
        stop-timeout: 2s
  - name: Db Tier
    persistent-state: online
    preferred-owners: [NodeB]
    failover-threshold: 1
    resources:
      - name: dbd
        agent: ocf:hagsit:Ctl
        params: {ctl: %[2]s}
        persistent-state: online
      - name: dblog
        agent: ocf:heartbeat:Dummy
        persistent-state: online
        depends: "([dbd])"
        restart-delay: 250ms
  - name: Idle
    persistent-state: offline
    resources:
      - name: idle1
        agent: exec
        params: {command: '%[1]s'}
`, c.execCommand(), c.ctl)
	path := filepath.Join(c.dir, "cluster.yaml")
	require.NoError(t, os.WriteFile(path, []byte(doc), 0o644))
	c.mustAck(0, "config", "apply", path)
	c.knows(1, "Web Tier", "Db Tier", "Idle")
	c.knows(2, "Web Tier", "Db Tier", "Idle")
	c.waitOnline(0, "Web Tier", rmNames...)
	c.waitOnline(0, "Db Tier", rmNames...)
	c.mustAck(1, "group", "move", "Db Tier", "NodeB")
	c.waitOnline(0, "Db Tier", "NodeB")
	c.must(2, codeOK, "resource", "set", "www", "restart-delay=750ms")
	c.must(2, codeOK, "group", "owners", "Idle", "NodeC,NodeA")
	c.must(1, codeOK, "node", "pause", "NodeC")
	c.mustAck(1, "resource", "online", "idle1")
	c.waitOnline(0, "Idle", "NodeA")
	c.mustAck(1, "resource", "offline", "idle1")
	c.waitGroup(1, "Idle", "Offline", func(g failover.GroupInfo) bool { return g.State == failover.GroupOffline })
	c.mustAck(1, "group", "offline", "Idle")
	c.must(2, codeOK, "resource", "lock", "idle1")

	// In order: the managers, one after another, then the daemons. Each
	// manager that stops hands its groups to those left; NodeC is paused
	// (no group could come online there), so it goes first and NodeB last.
	require.NoError(t, c.checkViews([]int{0, 1, 2}))
	for _, i := range []int{2, 0} {
		c.stopManager(i)
	}
	c.waitNodeState(1, "NodeA", failover.NodeDown)
	c.waitNodeState(1, "NodeC", failover.NodeDown)
	c.waitQuiet(1)
	last := c.owners(1) // the last manager's view is the newest agreed state
	cfg := c.configShow(1)
	c.stopManager(1)
	for i := range 3 {
		c.stopGS(i)
	}
	c.restartAll()
	require.Equal(t, string(cfg), string(c.configShow(2)), "the configuration came back unchanged")
	c.requireBack(0, last)
	require.NoError(t, c.ledger.check(c, 2), "every acknowledged change survived the restart")

	// A power failure of the whole cluster.
	require.NoError(t, c.checkViews([]int{0, 1, 2}))
	before := c.owners(0)
	cfg = c.configShow(0)
	for i := range 3 {
		c.crash(i)
	}
	c.restartAll()
	require.Equal(t, string(cfg), string(c.configShow(2)), "the configuration came back unchanged")
	c.requireBack(1, before)
}

// restartAll starts every hagsd, then every hagsrmd, and waits until
// every manager reports every node up.
func (c *rmCluster) restartAll() {
	c.t.Helper()
	for i := range 3 {
		c.gs.start(i)
	}
	for i := range 3 {
		c.gs.waitAdmitted(i, 0)
	}
	for i := range 3 {
		c.startManager(i)
	}
	c.waitUp(0, 1, 2)
}

// waitQuiet waits until node i's manager reports no group Pending or
// moving.
func (c *rmCluster) waitQuiet(i int) {
	c.t.Helper()
	waitFor(c.t, rmWait, rmNames[i]+"'s groups to settle", func() (bool, string) {
		for _, g := range c.owners(i) {
			if g.State == failover.GroupPending || g.MovingTo != "" {
				return false, groupLine(g)
			}
		}
		return true, ""
	})
}
