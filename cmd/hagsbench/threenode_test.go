package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/harness"
)

// threeNodeConfig builds hagsd for a three-node test and returns the
// coordinator's settings, with this test binary as the client role.
func threeNodeConfig(t *testing.T) *config {
	t.Helper()
	bin := t.TempDir()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	require.NoError(t, harness.Build(ctx, bin, "./cmd/hagsd"), "hagsd builds")
	root := repoRoot(t)
	return &config{
		root: root, bin: bin, self: os.Args[0], ctx: t.Context(),
		corosyncTmpl: filepath.Join(root, "bench", "corosync", "corosync.conf.tmpl"),
		rounds:       1,
	}
}

// testNetns makes three nodes' network namespaces, or skips the test
// where they cannot be made.
func testNetns(t *testing.T) *netns {
	t.Helper()
	nn, err := newNetns(3)
	if err != nil {
		t.Skipf("network namespaces cannot be made here (%v); the three-node scenarios need root and ip netns", err)
	}
	t.Cleanup(nn.destroy)
	return nn
}

// threeNodeSizes are a brief pass of (a) to (e).
var threeNodeSizes = sizes{
	bN: []int{1, 4}, bSamples: 3,
	eN: []int{4}, eSamples: 2,
	cN: []int{4}, cPhases: []int{0, 1}, cSamples: 3,
	dGroups: []int{2}, dDuration: 300 * time.Millisecond,
}

// runBasic runs (a) to (e) (those named in which) on systems, failing the
// test on any scenario's failure or skip, and returns the finished report.
func runBasic(t *testing.T, cfg *config, systems []system, which ...string) *report {
	t.Helper()
	r := &runner{ctx: t.Context(), cfg: cfg, h: newHub(), timeout: 30 * time.Second, logf: t.Logf}
	rep := newReport(cfg)
	try := func(what string, f func() error) {
		t.Logf("%s", what)
		err := f()
		assert.NoError(t, err, "%s runs", what)
		assert.False(t, errors.Is(err, errSkipped), "%s is not skipped", what)
	}
	has := func(s ...string) bool {
		return slices.ContainsFunc(s, func(x string) bool { return slices.Contains(which, x) })
	}
	r.basic(rep, try, has, systems, threeNodeSizes)
	rep.finish()
	return rep
}

// checkThreeNodeRows checks that rep has each named row on three nodes,
// and none on one, with sane values for sys.
func checkThreeNodeRows(t *testing.T, rep *report, sys string, names ...string) {
	t.Helper()
	seen := map[string]bool{}
	for _, x := range rep.Scenarios {
		assert.Equal(t, 3, x.Nodes, "%s n=%d was measured on the three-node domain", x.Name, x.N)
		seen[x.Name] = true
		if x.Unit == "ops/s" {
			v := x.HagsOps
			if sys == "corosync" {
				v = x.CorosyncOps
			}
			if assert.NotNil(t, v, "%s n=%d has %s's rate", x.Name, x.N, sys) {
				assert.Positive(t, *v, "%s n=%d: %s completed protocols", x.Name, x.N, sys)
			}
			continue
		}
		if x.Name == "e.victim_exit" || x.Name == "e.after_victim_exit" {
			continue // split only when the victim's exit was seen first
		}
		n, p50, p99 := x.HagsSamples, x.HagsP50, x.HagsP99
		if sys == "corosync" {
			n, p50, p99 = x.CorosyncSamples, x.CorosyncP50, x.CorosyncP99
		}
		assert.Positive(t, n, "%s n=%d has %s samples", x.Name, x.N, sys)
		if assert.NotNil(t, p50, "%s n=%d has %s's p50", x.Name, x.N, sys) && assert.NotNil(t, p99) {
			assert.Positive(t, *p50, "%s n=%d: a latency is positive", x.Name, x.N)
			assert.GreaterOrEqual(t, *p99, *p50, "%s n=%d: p99 >= p50", x.Name, x.N)
			assert.Less(t, *p99, 30e6, "%s n=%d: every sample is within the scenario's timeout", x.Name, x.N)
		}
	}
	for _, name := range names {
		assert.True(t, seen[name], "the report has %s", name)
	}
}

// TestThreeNodeScenarios runs (a) to (e) briefly on a three-node hags
// domain: three real hagsd, one per network namespace, the clients spread
// over the nodes, (e)'s victim the libha_gs client.
func TestThreeNodeScenarios(t *testing.T) {
	nn := testNetns(t)
	cfg := threeNodeConfig(t)
	cfg.gsbench = testCClient(t).prog
	dir, err := os.MkdirTemp("", "hagsbench-3-") // short: the sockets' paths must fit
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	c := &hagsCluster{cfg: cfg, nn: nn, dir: dir}
	t.Cleanup(c.close)
	require.NoError(t, startCluster(c), "three hagsd form a domain")

	// The clients sit on the nodes in turn, each on its own node's daemon.
	h := newHub()
	for i := range 3 {
		p, err := c.spawn(h, i+3, "placed")
		require.NoError(t, err, "a client starts on node %d", i+1)
		ns, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", p.pid))
		require.NoError(t, err, "the client's network namespace is readable")
		want, err := os.Readlink(fmt.Sprintf("/proc/%d/ns/net", c.daemons[i].pid()))
		require.NoError(t, err, "the daemon's network namespace is readable")
		assert.Equal(t, want, ns, "client %d runs in node %d's namespace, beside its daemon", i+3, i+1)
		p.quit()
	}

	rep := runBasic(t, cfg, []system{c}, "a", "b", "c", "d", "e")
	checkThreeNodeRows(t, rep, "hags", "a.join_self", "b.join_seen_by_all", "c.onephase", "c.nphase",
		"d.protocols_per_s", "e.sigkill_seen_by_all")
	for _, x := range rep.Scenarios {
		if x.Name == "a.join_self" || x.Name == "d.protocols_per_s" {
			assert.NotNil(t, x.HagsWakeupsPerReq, "%s n=%d: the profile guard reads all three daemons", x.Name, x.N)
		}
	}
}

// TestThreeNodeScenariosCorosync runs (a), (b), (d) and (e) briefly on
// three corosync, one per network namespace, with the settings of (f).
func TestThreeNodeScenariosCorosync(t *testing.T) {
	if _, err := exec.LookPath("corosync"); err != nil {
		t.Skipf("corosync is not installed (%v): make bench-compare installs Debian's corosync and libcpg-dev", err)
	}
	if _, err := os.Stat("/usr/include/corosync/cpg.h"); err != nil {
		t.Skipf("libcpg-dev is not installed (%v): make bench-compare installs it", err)
	}
	nn := testNetns(t)
	root := repoRoot(t)
	cfg := &config{root: root, ctx: t.Context(), rounds: 1,
		corosyncTmpl: filepath.Join(root, "bench", "corosync", "corosync.conf.tmpl"),
		cpgbench:     filepath.Join(t.TempDir(), "cpgbench")}
	out, err := exec.Command("cc", "-O2", "-Wall", "-Wextra", "-o", cfg.cpgbench, filepath.Join(root, "bench", "cpgbench.c"), "-lcpg").CombinedOutput()
	require.NoError(t, err, "bench/cpgbench.c compiles against libcpg: %s", out)
	require.NoError(t, checkCorosync(cfg), "corosync can be run")
	c := &corosyncCluster{cfg: cfg, nn: nn, dir: t.TempDir()}
	t.Cleanup(c.close)
	require.NoError(t, startCluster(c), "three corosync form a ring")

	rep := runBasic(t, cfg, []system{c}, "a", "b", "d", "e")
	checkThreeNodeRows(t, rep, "corosync", "a.join_self", "b.join_seen_by_all", "d.protocols_per_s", "e.sigkill_seen_by_all")
}
