package manager

import (
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/engine"
)

func newMetricsManager(t *testing.T) (*Manager, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := New(Config{StateDir: t.TempDir(), Runner: idleRunner{}, Logger: slog.New(slog.DiscardHandler), Metrics: reg})
	require.NoError(t, err)
	t.Cleanup(func() { m.st.close() })
	return m, reg
}

// TestStateGaugesFollowTheEngine: the gauges are read from the engine at
// each scrape, every state listed even when no object is in it.
func TestStateGaugesFollowTheEngine(t *testing.T) {
	m, reg := newMetricsManager(t)
	step := func(in engine.Input) {
		in.Time = time.Now().UnixNano()
		m.c.eng.Step(in)
	}
	gauges := func() string {
		var b strings.Builder
		for _, name := range []string{"hags_rm_groups", "hags_rm_resources", "hags_rm_nodes"} {
			n, err := testutil.GatherAndCount(reg, name)
			require.NoError(t, err)
			fmt.Fprintf(&b, "%s:%d ", name, n)
		}
		return b.String()
	}
	assert.Equal(t, "hags_rm_groups:5 hags_rm_resources:6 hags_rm_nodes:4 ", gauges(),
		"one series per state, present before any object exists")
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP hags_rm_groups Groups of the cluster by state, as this manager holds them.
# TYPE hags_rm_groups gauge
hags_rm_groups{state="ClusterGroupFailed"} 0
hags_rm_groups{state="ClusterGroupOffline"} 0
hags_rm_groups{state="ClusterGroupOnline"} 0
hags_rm_groups{state="ClusterGroupPartialOnline"} 0
hags_rm_groups{state="ClusterGroupPending"} 0
`), "hags_rm_groups"))

	step(engine.Input{Kind: engine.InNodeJoining, From: 1})
	step(engine.Input{Kind: engine.InNodeUp, From: 1, Up: &engine.NodeUp{Name: "alpha"}})
	step(engine.Input{Kind: engine.InRequest, From: 1, Request: &engine.Request{ID: 1, Op: engine.OpCreateGroup, Group: "web"}})
	step(engine.Input{Kind: engine.InRequest, From: 1, Request: &engine.Request{ID: 2, Op: engine.OpCreateResource,
		Resource: "httpd", Group: "web", Agent: "exec", Params: map[string]string{"command": "sleep 1000"}}})
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP hags_rm_groups Groups of the cluster by state, as this manager holds them.
# TYPE hags_rm_groups gauge
hags_rm_groups{state="ClusterGroupFailed"} 0
hags_rm_groups{state="ClusterGroupOffline"} 1
hags_rm_groups{state="ClusterGroupOnline"} 0
hags_rm_groups{state="ClusterGroupPartialOnline"} 0
hags_rm_groups{state="ClusterGroupPending"} 0
# HELP hags_rm_nodes Nodes of the cluster by state, as this manager holds them.
# TYPE hags_rm_nodes gauge
hags_rm_nodes{state="ClusterNodeDown"} 0
hags_rm_nodes{state="ClusterNodeJoining"} 0
hags_rm_nodes{state="ClusterNodePaused"} 0
hags_rm_nodes{state="ClusterNodeUp"} 1
# HELP hags_rm_read_write 1 while this manager accepts changes (synced, its hagsd session up, a majority of the managers taking part), else 0.
# TYPE hags_rm_read_write gauge
hags_rm_read_write 0
`), "hags_rm_groups", "hags_rm_nodes", "hags_rm_read_write"), "the created group is Offline, the node Up; not connected, so not read/write")
	res, err := testutil.GatherAndCount(reg, "hags_rm_resources")
	require.NoError(t, err)
	assert.Equal(t, 6, res)
	var offline float64
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != "hags_rm_resources" {
			continue
		}
		for _, s := range mf.GetMetric() {
			if s.GetLabel()[0].GetValue() == failover.ResourceOffline.String() {
				offline = s.GetGauge().GetValue()
			}
		}
	}
	assert.Equal(t, 1.0, offline, "the created resource counts as Offline")
}

// TestCountersCountThisNodesWork: restarts count restart timers for this
// node only; a takeover counts when a group becomes this node's through a
// failover or because its owner is Down, never for a requested move, a
// first placement or another node's gain.
func TestCountersCountThisNodesWork(t *testing.T) {
	m, reg := newMetricsManager(t)
	met := m.met
	down := map[string]bool{}
	isDown := func(n string) bool { return down[n] }
	out := func(o engine.Output) { met.output(&o, 1, "alpha", isDown) }
	group := func(name, owner string, moving string, deleted bool) engine.Output {
		g := &failover.GroupInfo{Name: name, Owner: owner}
		if moving != "" {
			g.Status = map[string]string{"moving": moving}
		}
		return engine.Output{Kind: engine.OutChange, Change: &failover.Change{Kind: failover.ChangeGroup, Group: g, Deleted: deleted}}
	}

	out(engine.Output{Kind: engine.OutTimer, Node: 1, Timer: &engine.Timer{Kind: engine.TimerRestart, Key: "r"}})
	out(engine.Output{Kind: engine.OutTimer, Node: 2, Timer: &engine.Timer{Kind: engine.TimerRestart, Key: "r"}})
	out(engine.Output{Kind: engine.OutTimer, Node: 1, Timer: &engine.Timer{Kind: engine.TimerRetry, Key: "r"}})
	assert.Equal(t, 1.0, testutil.ToFloat64(met.restarts), "only a restart timer for this node counts")

	out(group("a", "alpha", "", false))         // first sight: placement
	out(group("b", "beta", "", false))          // another node's
	out(group("b", "alpha", "move", false))     // a requested move here
	out(group("c", "beta", "", false))          //
	out(group("c", "alpha", "failover", false)) // a failover here
	out(group("d", "beta", "", false))          //
	out(group("d", "gamma", "failover", false)) // a failover elsewhere
	down["gamma"] = true
	out(group("d", "alpha", "", false)) // gamma died: taken over here
	out(group("e", "beta", "", false))  //
	out(group("e", "", "", false))      // no owner for a while
	out(group("e", "alpha", "", false)) // not a takeover from a known owner
	out(group("c", "", "", true))       // deleted
	out(group("c", "alpha", "", false)) // a new group of that name
	assert.Equal(t, 1.0, testutil.ToFloat64(met.takeovers.WithLabelValues(causeResource)), "one failover came here")
	assert.Equal(t, 1.0, testutil.ToFloat64(met.takeovers.WithLabelValues(causeNode)), "one group of a Down node came here")

	met.action(engine.ActStart, engine.OutcomeOK, 30*time.Millisecond)
	met.action(engine.ActStop, engine.OutcomeSoft, 2*time.Second)
	met.fence(true)
	met.fence(false)
	met.fence(false)
	assert.Equal(t, 1.0, testutil.ToFloat64(met.fences.WithLabelValues("ok")))
	assert.Equal(t, 2.0, testutil.ToFloat64(met.fences.WithLabelValues("failed")))
	n, err := testutil.GatherAndCount(reg, "hags_rm_agent_action_duration_seconds")
	require.NoError(t, err)
	assert.Equal(t, 2, n, "one histogram per action and outcome seen")

	var nilMet *metrics
	assert.NotPanics(t, func() {
		nilMet.action(engine.ActStart, engine.OutcomeOK, time.Second)
		nilMet.fence(true)
		o := group("x", "alpha", "", false)
		nilMet.output(&o, 1, "alpha", isDown)
	}, "a manager without metrics records nothing")
}
