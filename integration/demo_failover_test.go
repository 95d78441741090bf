package integration

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover/agent"
	"github.com/openhags/hags/internal/harness"
)

// TestDemoFailover runs what `make demo-failover` runs and checks that it
// succeeds and shows what it promises: every call's code, MS-CMRP's "Moving a Group"
// from NodeA to NodeB, ApiOnlineResource's providers first and recovery, and the
// group on NodeA after NodeB's hagsd was killed.
func TestDemoFailover(t *testing.T) {
	dummy := filepath.Join(agent.DefaultOCFRoot, "resource.d", "heartbeat", "Dummy")
	_, err := os.Stat(dummy)
	require.NoError(t, err, "Debian's resource-agents is installed (apt-get install resource-agents; .ci/run does it)")
	dir := t.TempDir()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	require.NoError(t, harness.Build(ctx, dir, "./cmd/hagsrmd", "./cmd/hagsrm", "./examples/go/demofailover"),
		"the failover demo and the manager build")
	require.NoError(t, os.Symlink(filepath.Join(bin, "hagsd"), filepath.Join(dir, "hagsd")))
	out, err := exec.CommandContext(ctx, filepath.Join(dir, "demofailover"), "--bin", dir,
		"--agents-dir", agent.DefaultOCFRoot).CombinedOutput()
	require.NoError(t, err, "the failover demo exits 0; it printed:\n%s", out)
	text := string(out)
	t.Logf("the demo printed:\n%s", text)

	// A step's line: the call, its code, its duration, then what it returned.
	step := func(call, code, rest string) string {
		return `(?m)^\s+` + call + `\s+` + code + `\s+[0-9.]+(µs|ms|s)\s*` + rest
	}
	for _, want := range []struct{ what, re string }{
		{"the three managers see each other", `every manager reports NodeA, NodeB and NodeC Up`},
		{"the group is created", step(`CreateGroup\("Application Group"\)`, `ERROR_SUCCESS`, ``)},
		{"the Dummy resource is created", step(`CreateResource\(db, ocf:heartbeat:Dummy, stop-timeout=2s\)`, `ERROR_SUCCESS`, ``)},
		{"web depends on db", step(`web\.SetDependency\("\[db\]"\)`, `ERROR_SUCCESS`, ``)},
		{"the group goes online", step(`Group\.Online\(\)`, `ERROR_IO_PENDING`, ``)},
		{"the group comes online on NodeA", step(`Group\.Wait\(\)`, `ERROR_SUCCESS`, `ClusterGroupOnline, owner NodeA`)},
		{"every node agrees", `NodeA, NodeB, NodeC all report ClusterGroupOnline, owner NodeA, sequence \d+`},

		{"moving a group: open the group", step(`OpenGroup\("Application Group"\)\s+\[ApiOpenGroup\]`, `ERROR_SUCCESS`, ``)},
		{"moving a group: its owner is NodeA", step(`Group\.State\(\)\s+\[ApiGetGroupState\]`, `ERROR_SUCCESS`, `ClusterGroupOnline, owner NodeA`)},
		{"moving a group: open NodeB", step(`OpenNode\("NodeB"\)\s+\[ApiOpenNode\]`, `ERROR_SUCCESS`, ``)},
		{"moving a group: the move is pending", step(`Group\.MoveTo\(NodeB\)\s+\[ApiMoveGroupToNode\]`, `ERROR_IO_PENDING`, ``)},
		{"moving a group: a poll finds it Pending", `poll\s+\d+\s+\S+\s+Group\.State\(\) → ERROR_SUCCESS  ClusterGroupPending`},
		{"moving a group: the last poll finds it Online on NodeB", `poll\s+\d+\s+\S+\s+Group\.State\(\) → ERROR_SUCCESS  ClusterGroupOnline, owner NodeB`},
		{"moving a group: done", `the move is complete: ClusterGroupOnline on NodeB`},
		{"moving a group: NodeA stops, NodeB starts", `(?s)NodeA\s+stop\s+db\s+ok.*NodeB\s+start\s+db\s+ok`},

		{"online resource: the complex dependency", step(`app\.SetDependency\("\(\[vip1\] or \[vip2\]\) and \[db\]"\)`, `ERROR_SUCCESS`, ``)},
		{"online resource: app is offline first", step(`app\.State\(\)\s+\[ApiGetResourceState\]`, `ERROR_SUCCESS`, `ClusterResourceOffline on NodeB`)},
		{"online resource: online is pending", step(`app\.Online\(\)\s+\[ApiOnlineResource\]`, `ERROR_IO_PENDING`, ``)},
		{"online resource: app comes online", step(`app\.Wait\(\)`, `ERROR_SUCCESS`, `ClusterResourceOnline on NodeB`)},
		{"online resource: online again succeeds", step(`app\.Online\(\) again\s+\[ApiOnlineResource\]`, `ERROR_SUCCESS`, ``)},
		{"online resource: a provider before app", `(?s)resource vip[12]\s+ClusterResourceOnline on NodeB.*resource app\s+ClusterResourceOnline on NodeB`},
		{"online resource: the failing agent", step(`worker\.Online\(\)\s+\[ApiOnlineResource\]`, `ERROR_IO_PENDING`, ``)},
		{"online resource: worker fails, then comes back", `(?s)resource worker ClusterResourceFailed on NodeB.*resource worker ClusterResourceOnline on NodeB`},
		{"online resource: restarted in place", `worker Failed, then was restarted in place on NodeB .* restarts [1-9]`},
		{"online resource: the failure is on record", `last failure: failed on NodeB .*exit 1`},

		{"the kill", `kill -KILL \d+ \(NodeB's hagsd\)`},
		{"NodeB's manager fences itself", `NodeB hagsrmd\| .*every resource of this node is stopped`},
		{"NodeB is Down", `NodeC's manager reports NodeB ClusterNodeDown`},
		{"why says the group waits out the window", `the group waits for NodeB's self-fencing window \([0-9.]+s\) to pass`},
		{"the group comes up on NodeA", `"Application Group" is ClusterGroupOnline on NodeA, [0-9.]+m?s after the kill`},
		{"the survivors agree", `NodeA, NodeC all report ClusterGroupOnline, owner NodeA, sequence \d+`},
		{"no overlap", `at no moment did two nodes run "Application Group"`},
		{"hagsrm status shows NodeB down", `(?m)^\s+NodeB\s+2\s+Down\s+-$`},
		{"hagsrm status shows the group on NodeA", `(?m)^\s+Application Group\s+Online\s+NodeA\s+online`},
		{"the group goes offline at the end", step(`Group\.Wait\(\)`, `ERROR_SUCCESS`, `ClusterGroupOffline, owner NodeA`)},
		{"the end", `demo-failover finished in`},
	} {
		assert.Regexp(t, want.re, text, "the failover demo output shows: %s", want.what)
	}
}
