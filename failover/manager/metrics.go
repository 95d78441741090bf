package manager

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/engine"
)

// Names of the manager's metrics (docs/metrics.md lists them with their
// labels).
const (
	metricNamespace = "hags"
	metricSubsystem = "rm"
)

// The label values of the state gauges: every state, so that a state with
// no object still shows as 0.
var (
	groupStates = []failover.GroupState{failover.GroupOnline, failover.GroupOffline, failover.GroupFailed,
		failover.GroupPartialOnline, failover.GroupPending}
	resourceStates = []failover.ResourceState{failover.ResourceInitializing, failover.ResourceOnline,
		failover.ResourceOffline, failover.ResourceFailed, failover.ResourceOnlinePending, failover.ResourceOfflinePending}
	nodeStates = []failover.NodeState{failover.NodeUp, failover.NodeDown, failover.NodePaused, failover.NodeJoining}
)

// Takeover causes (hags_rm_takeovers_total's cause label).
const (
	causeResource = "resource_failure" // the group's resources failed past their restarts
	causeNode     = "node_down"        // the group's owner left the cluster
)

// metrics are one manager's Prometheus metrics. The counters count what
// this node did: agent actions it ran, restarts in place of resources it
// owns, groups it took over, fence commands it ran; summed over the nodes
// they count the cluster's. The gauges are the cluster as this manager's
// engine holds it, read at each scrape. A nil *metrics records nothing.
//
// The counting methods are called from the run loop, except action and
// fence, which are called from the runner's and the fence command's
// goroutines; the collectors are safe for concurrent use. owners belongs
// to the run loop.
type metrics struct {
	actions   *prometheus.HistogramVec
	restarts  prometheus.Counter
	takeovers *prometheus.CounterVec
	fences    *prometheus.CounterVec

	owners map[string]string // group → owner, as the last Change of it said
}

// newMetrics registers m's metrics in reg.
func newMetrics(m *Manager, reg prometheus.Registerer) (*metrics, error) {
	name := func(n string) string { return prometheus.BuildFQName(metricNamespace, metricSubsystem, n) }
	met := &metrics{
		actions: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: name("agent_action_duration_seconds"),
			Help: "How long the agent actions this node ran took, by action (start, stop) and outcome (ok, soft, hard, fatal).",
			// From a fast exec start to an OCF stop near its 20 s default
			// timeout and beyond, up to the 180 s pending timeout.
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 20, 30, 60, 120, 180},
		}, []string{"action", "outcome"}),
		restarts: prometheus.NewCounter(prometheus.CounterOpts{
			Name: name("restarts_total"),
			Help: "Restarts in place decided for failed resources this node owns.",
		}),
		takeovers: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: name("takeovers_total"),
			Help: "Groups this node took over without being asked: their resources failed past their restarts (resource_failure) or their owner left the cluster (node_down).",
		}, []string{"cause"}),
		fences: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: name("fence_actions_total"),
			Help: "Fence commands this node ran, by outcome (ok: it exited 0; failed).",
		}, []string{"outcome"}),
		owners: map[string]string{},
	}
	for _, c := range []string{causeResource, causeNode} {
		met.takeovers.WithLabelValues(c)
	}
	for _, o := range []string{"ok", "failed"} {
		met.fences.WithLabelValues(o)
	}
	for _, c := range []prometheus.Collector{met.actions, met.restarts, met.takeovers, met.fences, &stateCollector{m: m}} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return met, nil
}

// action records how long an agent action took.
func (met *metrics) action(op engine.ActionOp, outcome engine.Outcome, took time.Duration) {
	if met == nil {
		return
	}
	met.actions.WithLabelValues(actionLabel(op), outcomeLabel(outcome)).Observe(took.Seconds())
}

// fence records a fence command's outcome.
func (met *metrics) fence(ok bool) {
	if met == nil {
		return
	}
	outcome := "ok"
	if !ok {
		outcome = "failed"
	}
	met.fences.WithLabelValues(outcome).Inc()
}

// output looks at one output of a step for what it counts: a restart
// timer for this node, a group that became this node's. prevDown says
// whether a node (by name) is Down now.
func (met *metrics) output(o *engine.Output, self engine.NodeID, selfName string, prevDown func(name string) bool) {
	if met == nil {
		return
	}
	switch {
	case o.Kind == engine.OutTimer && o.Node == self && o.Timer.Kind == engine.TimerRestart:
		met.restarts.Inc()
	case o.Kind == engine.OutChange && o.Change.Group != nil:
		g := o.Change.Group
		prev, known := met.owners[g.Name]
		if o.Change.Deleted {
			delete(met.owners, g.Name)
			return
		}
		met.owners[g.Name] = g.Owner
		if !known || prev == "" || prev == g.Owner || g.Owner != selfName {
			return
		}
		switch {
		case g.Status["moving"] == "failover":
			met.takeovers.WithLabelValues(causeResource).Inc()
		case prevDown(prev):
			met.takeovers.WithLabelValues(causeNode).Inc()
		}
	}
}

func actionLabel(op engine.ActionOp) string {
	switch op {
	case engine.ActStart:
		return "start"
	case engine.ActStop:
		return "stop"
	}
	return "unknown"
}

func outcomeLabel(o engine.Outcome) string {
	switch o {
	case engine.OutcomeOK:
		return "ok"
	case engine.OutcomeSoft:
		return "soft"
	case engine.OutcomeHard:
		return "hard"
	case engine.OutcomeFatal:
		return "fatal"
	}
	return "unknown"
}

// stateCollector reports the cluster's objects by state, and whether the
// manager is read/write, from the engine at each scrape.
type stateCollector struct{ m *Manager }

var (
	descResources = prometheus.NewDesc(prometheus.BuildFQName(metricNamespace, metricSubsystem, "resources"),
		"Resources of the cluster by state, as this manager holds them.", []string{"state"}, nil)
	descGroups = prometheus.NewDesc(prometheus.BuildFQName(metricNamespace, metricSubsystem, "groups"),
		"Groups of the cluster by state, as this manager holds them.", []string{"state"}, nil)
	descNodes = prometheus.NewDesc(prometheus.BuildFQName(metricNamespace, metricSubsystem, "nodes"),
		"Nodes of the cluster by state, as this manager holds them.", []string{"state"}, nil)
	descReadWrite = prometheus.NewDesc(prometheus.BuildFQName(metricNamespace, metricSubsystem, "read_write"),
		"1 while this manager accepts changes (synced, its hagsd session up, a majority of the managers taking part), else 0.", nil, nil)
)

// Describe implements prometheus.Collector.
func (c *stateCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- descResources
	ch <- descGroups
	ch <- descNodes
	ch <- descReadWrite
}

// Collect implements prometheus.Collector.
func (c *stateCollector) Collect(ch chan<- prometheus.Metric) {
	res := map[failover.ResourceState]int{}
	groups := map[failover.GroupState]int{}
	nodes := map[failover.NodeState]int{}
	c.m.view(func(e *engine.Engine) {
		for _, r := range e.Resources() {
			res[r.State]++
		}
		for _, g := range e.Groups() {
			groups[g.State]++
		}
		for _, n := range e.Nodes() {
			nodes[n.State]++
		}
	})
	for _, s := range resourceStates {
		ch <- prometheus.MustNewConstMetric(descResources, prometheus.GaugeValue, float64(res[s]), s.String())
	}
	for _, s := range groupStates {
		ch <- prometheus.MustNewConstMetric(descGroups, prometheus.GaugeValue, float64(groups[s]), s.String())
	}
	for _, s := range nodeStates {
		ch <- prometheus.MustNewConstMetric(descNodes, prometheus.GaugeValue, float64(nodes[s]), s.String())
	}
	rw := 0.0
	if c.m.ReadWrite() {
		rw = 1
	}
	ch <- prometheus.MustNewConstMetric(descReadWrite, prometheus.GaugeValue, rw)
}
