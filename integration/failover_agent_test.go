package integration

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover"
)

// TestFailoverAgentHangs: a resource whose start hangs past its timeout
// (1s) fails: the whole process group of the start is killed (the
// background sleep the agent left is gone too), the resource is Failed
// (restart-action dont-restart keeps it there) and `resource why` says so;
// taking it offline gets ERROR_RESOURCE_FAILED. Once the agent behaves and
// the resource is cleaned up, it comes online.
func TestFailoverAgentHangs(t *testing.T) {
	t.Parallel()
	c := startRMCluster(t, rmOptions{})
	const g = "Hang Group"
	c.must(0, codeOK, "group", "create", g)
	c.must(0, codeOK, "resource", "create", "hang", "--group", g, "--agent", "ocf:hagsit:Ctl", "--param", c.ctlParam(),
		"--set", "start-timeout=1s", "--set", "restart-action=dont-restart")
	c.ctlFile("NodeA.hang.start", "hang")
	c.must(0, codePending, "resource", "online", "hang")
	ri := c.waitResource(0, "hang", "Failed", func(r failover.ResourceInfo) bool { return r.State == failover.ResourceFailed })
	require.Equal(t, "NodeA", ri.Owner, "dont-restart: it stays Failed where it failed")
	b, err := os.ReadFile(filepath.Join(c.ctl, "NodeA.hang.start.pid"))
	require.NoError(t, err, "the hung start wrote its sleep's pid")
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	require.NoError(t, err)
	waitFor(t, rmWait, "the hung start's background process to be killed", func() (bool, string) {
		return !alive(pid), "pid " + strconv.Itoa(pid) + " lives"
	})
	var why struct{ Why []string }
	c.show(1, &why, "resource", "why", "hang")
	require.NotEmpty(t, why.Why, "resource why says why hang is not online")
	t.Logf("resource why hang: %q", why.Why)

	// Offline of a Failed resource: ERROR_RESOURCE_FAILED, the persistent
	// state set offline all the same (the ledger checks it at the end).
	c.must(2, failover.CodeResourceFailed, "resource", "offline", "hang")
	c.ctlFile("NodeA.hang.start", "")
	c.mustAck(0, "resource", "cleanup", "hang")
	c.must(0, codePending, "resource", "online", "hang")
	c.waitResource(0, "hang", "Online after cleanup", func(r failover.ResourceInfo) bool {
		return r.State == failover.ResourceOnline && r.Owner == "NodeA"
	})
}

// TestFailoverMonitorFails: a resource whose monitor starts failing on its
// node (the Ctl agent's monitor says "not running") is restarted in place;
// once it has been restarted restart-threshold (2) times and fails again,
// its group fails over to another node, where its monitor passes. An exec
// resource whose process is killed is restarted in place too.
func TestFailoverMonitorFails(t *testing.T) {
	t.Parallel()
	c := startRMCluster(t, rmOptions{})
	const g = "Monitor Group"
	c.must(0, codeOK, "group", "create", g)
	c.must(0, codeOK, "resource", "create", "mon", "--group", g, "--agent", "ocf:hagsit:Ctl", "--param", c.ctlParam(),
		"--set", "monitor-interval=200ms", "--set", "restart-delay=100ms", "--set", "restart-threshold=2")
	c.must(0, codePending, "group", "online", g)
	c.waitOnline(0, g, "NodeA")

	// One failed monitor: restarted in place.
	c.ctlFile("NodeA.mon.monitor", "once 7")
	ri := c.waitResource(0, "mon", "restarted in place once", func(r failover.ResourceInfo) bool {
		return r.Restarts >= 1 && r.State == failover.ResourceOnline
	})
	require.Equal(t, "NodeA", ri.Owner)
	require.GreaterOrEqual(t, c.startsOn("mon", "NodeA"), 2, "the first start and a restart in place")

	// Failing for good on NodeA: one more restart, then a failover.
	c.ctlFile("NodeA.mon.monitor", "7")
	gi := c.waitOnline(0, g, "NodeB", "NodeC")
	require.GreaterOrEqual(t, c.startsOn("mon", "NodeA"), 3, "restarted in place up to the threshold before failing over")
	require.Equal(t, 1, gi.Failovers, "one failover counted")
	c.ctlFile("NodeA.mon.monitor", "")

	// An exec resource's process is killed: restarted in place.
	const eg = "Exec Group"
	c.must(2, codeOK, "group", "create", eg)
	c.must(2, codeOK, "resource", "create", "svc", "--group", eg, "--agent", "exec", "--param", "command="+c.execCommand(),
		"--set", "restart-delay=100ms")
	c.must(2, codePending, "group", "online", eg)
	c.waitOnline(2, eg, "NodeC")
	pids := c.execPids(2)
	require.Len(t, pids, 1)
	require.NoError(t, syscall.Kill(pids[0], syscall.SIGKILL))
	waitFor(t, rmWait, "svc restarted in place", func() (bool, string) {
		ps := c.execPids(2)
		return len(ps) == 2 && alive(ps[1]), "pids " + strconv.Itoa(len(ps))
	})
	c.waitOnline(2, eg, "NodeC")
}
