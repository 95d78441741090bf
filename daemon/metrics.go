package daemon

import (
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/openhags/hags/daemon/ipc"
	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// nodeMetrics are a Node's Prometheus metrics (docs/metrics.md lists
// them). The counters count this daemon's own work (its clients' requests,
// the scripts it ran) or, for protocols, the domain's as this daemon
// applies them; the gauges are read from the Node at each scrape. A nil
// *nodeMetrics records nothing, so the Node calls it unconditionally.
//
// Threading: request and sessionEnded are called from session goroutines,
// delivered and applied from the run loop, script from the script
// runner's callback, the leader observer from raft; the Prometheus
// collectors are safe for concurrent use, and started is guarded by mu.
type nodeMetrics struct {
	n *Node

	requests      *prometheus.CounterVec
	delayedErrors *prometheus.CounterVec
	protocols     *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	outboxDrops   prometheus.Counter
	scripts       *prometheus.CounterVec
	leaderChanges prometheus.Counter
	observer      *raft.Observer

	// started holds when each outstanding proposal of this daemon's
	// clients arrived, until the proposer is told how its protocol ended
	// (or that it failed, or its session ends).
	mu      sync.Mutex
	started map[proposalKey]proposalStart
}

// proposalKey names a proposal by its session and token: a provider has
// at most one proposal outstanding.
type proposalKey struct {
	conn  uint64
	token int32
}

type proposalStart struct {
	kind wire.RequestType
	at   time.Time
}

// The protocol a proposal starts, by request operation.
var proposalKinds = map[wire.Op]wire.RequestType{
	wire.OpJoin:             wire.JoinProtocol,
	wire.OpLeave:            wire.LeaveProtocol,
	wire.OpExpel:            wire.ExpelProtocol,
	wire.OpChangeState:      wire.StateValueChangeProtocol,
	wire.OpSendMessage:      wire.ProviderMessageProtocol,
	wire.OpChangeAttributes: wire.GroupAttributeChangeProtocol,
}

// Label values: lower-case names of operations, protocol kinds, codes and
// script results.
func opLabel(op wire.Op) string { return strings.ReplaceAll(op.String(), "-", "_") }
func kindLabel(k wire.RequestType) string {
	return strings.ToLower(k.String())
}
func codeLabel(c wire.Code) string {
	return strings.ToLower(strings.TrimPrefix(c.String(), "HA_GS_"))
}
func scriptLabel(r wire.DeactivateResult) string { return strings.ToLower(r.String()) }

// newNodeMetrics registers n's metrics in reg.
func newNodeMetrics(n *Node, reg prometheus.Registerer) (*nodeMetrics, error) {
	const ns = "hags"
	m := &nodeMetrics{
		n: n,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "requests_total",
			Help: "Requests of this daemon's clients, by kind and outcome (ok: ordered; else the code they were refused with at once)."},
			[]string{"kind", "outcome"}),
		delayedErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "delayed_errors_total",
			Help: "Delayed errors delivered to this daemon's clients: requests ordered, then refused by the domain."},
			[]string{"kind", "code"}),
		protocols: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "protocols_total",
			Help: "Protocols of the domain that ended, as this daemon applied them, by kind and outcome (approved, rejected)."},
			[]string{"kind", "outcome"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: ns, Name: "protocol_duration_seconds",
			Help: "Protocols proposed by this daemon's clients: from the request's arrival to the end notified to the proposer.",
			// From a one-phase protocol on one node (under a millisecond)
			// to n-phase protocols that wait for votes and scripts.
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}},
			[]string{"kind"}),
		outboxDrops: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "outbox_drops_total",
			Help: "Client sessions this daemon closed because their client stopped reading."}),
		scripts: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: ns, Name: "deactivate_scripts_total",
			Help: "Deactivate scripts this daemon ran, by result (ok, failed, timed_out)."}, []string{"result"}),
		leaderChanges: prometheus.NewCounter(prometheus.CounterOpts{Namespace: ns, Name: "raft_leader_changes_total",
			Help: "Times this daemon saw the domain's Raft leader change."}),
		started: map[proposalKey]proposalStart{},
	}
	for _, r := range []wire.DeactivateResult{wire.DeactivateOK, wire.DeactivateFailed, wire.DeactivateTimedOut} {
		m.scripts.WithLabelValues(scriptLabel(r))
	}
	for _, c := range []prometheus.Collector{m.requests, m.delayedErrors, m.protocols, m.latency, m.outboxDrops,
		m.scripts, m.leaderChanges, stateCollector{m}} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	// The filter counts and lets nothing through: no channel, no goroutine.
	m.observer = raft.NewObserver(nil, false, func(o *raft.Observation) bool {
		if _, ok := o.Data.(raft.LeaderObservation); ok {
			m.leaderChanges.Inc()
		}
		return false
	})
	return m, nil
}

// observeRaft starts counting raft's leader changes. New calls it once the
// agreement runs: the metrics themselves exist before, since the apply
// path counts protocols from the first entry raft applies.
func (m *nodeMetrics) observeRaft() {
	if m == nil {
		return
	}
	m.n.agr.Raft().RegisterObserver(m.observer)
}

// close stops observing raft.
func (m *nodeMetrics) close() {
	if m == nil {
		return
	}
	m.n.agr.Raft().DeregisterObserver(m.observer)
}

// request counts a client's request as judged by its session (code OK:
// ordered), and notes when a proposal began.
func (m *nodeMetrics) request(s *session, req *wire.Request, code wire.Code) {
	if m == nil || req.Op == wire.OpQuit {
		return
	}
	m.requests.WithLabelValues(opLabel(req.Op), codeLabel(code)).Inc()
	if kind, ok := proposalKinds[req.Op]; ok && code == wire.OK {
		m.mu.Lock()
		m.started[proposalKey{s.id.Conn, req.Token}] = proposalStart{kind: kind, at: time.Now()}
		m.mu.Unlock()
	}
}

// delivered looks at a notification queued for token on session conn: the
// end of a protocol the token proposed, or a delayed error.
func (m *nodeMetrics) delivered(conn uint64, token int32, note *wire.Notification) {
	if m == nil {
		return
	}
	switch note.Type {
	case wire.ApprovedNotification, wire.RejectedNotification:
	case wire.DelayedErrorNotification:
		kind := "unknown"
		if note.Failing != nil {
			kind = opLabel(note.Failing.Op)
		}
		m.delayedErrors.WithLabelValues(kind, codeLabel(note.Code)).Inc()
	default:
		return
	}
	key := proposalKey{conn, token}
	m.mu.Lock()
	p, ok := m.started[key]
	if ok && (note.Type == wire.DelayedErrorNotification || p.kind == note.Protocol) {
		delete(m.started, key)
	}
	m.mu.Unlock()
	if ok && note.Type != wire.DelayedErrorNotification && p.kind == note.Protocol {
		m.latency.WithLabelValues(kindLabel(p.kind)).Observe(time.Since(p.at).Seconds())
	}
}

// applied counts the protocols one applied entry ended: each approved or
// rejected notification is one protocol's end, whoever receives it.
func (m *nodeMetrics) applied(effects []protocol.Effect) {
	if m == nil {
		return
	}
	for i := range effects {
		e := &effects[i]
		if e.Kind != protocol.EffectNotify || e.Note == nil {
			continue
		}
		switch e.Note.Type {
		case wire.ApprovedNotification:
			m.protocols.WithLabelValues(kindLabel(e.Note.Protocol), "approved").Inc()
		case wire.RejectedNotification:
			m.protocols.WithLabelValues(kindLabel(e.Note.Protocol), "rejected").Inc()
		}
	}
}

// script counts a deactivate script's result.
func (m *nodeMetrics) script(r wire.DeactivateResult) {
	if m == nil || r == wire.DeactivateNotRun {
		return
	}
	m.scripts.WithLabelValues(scriptLabel(r)).Inc()
}

// sessionEnded forgets a closed session's proposals and counts it if it
// was closed for not reading.
func (m *nodeMetrics) sessionEnded(s *session) {
	if m == nil {
		return
	}
	if errors.Is(s.reason, ipc.ErrOutboxFull) {
		m.outboxDrops.Inc()
	}
	m.mu.Lock()
	for k := range m.started {
		if k.conn == s.id.Conn {
			delete(m.started, k)
		}
	}
	m.mu.Unlock()
}

// stateCollector reads the gauges from the Node at each scrape.
type stateCollector struct{ m *nodeMetrics }

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc("hags_"+name, help, labels, nil)
}

var (
	descSessions    = desc("sessions", "This daemon's sessions, by kind (client, admin).", "kind")
	descGroups      = desc("groups", "The domain's groups.")
	descProviders   = desc("providers", "The providers of all of the domain's groups.")
	descSubscribers = desc("subscribers", "The subscriptions to the domain's groups.")
	descAdmitted    = desc("admitted", "1 while the domain admits this daemon, else 0.")
	descNodes       = desc("nodes", "The domain's nodes by health, as this daemon sees them.", "health")
	descRaftState   = desc("raft_state", "1 for this daemon's Raft state, 0 for the others.", "state")
	descRaftTerm    = desc("raft_term", "Raft's current term.")
	descCommit      = desc("raft_commit_index", "The last entry of the domain's log known to be committed.")
	descApplied     = desc("raft_applied_index", "The last entry of the domain's log applied here.")
	descApplyLag    = desc("raft_apply_lag", "Entries committed and not yet applied here.")

	healths    = []string{"alive", "dead", "left", "unknown"} // membership.Health's names
	raftStates = []raft.RaftState{raft.Leader, raft.Follower, raft.Candidate, raft.Shutdown}
)

// Describe implements prometheus.Collector.
func (c stateCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descSessions, descGroups, descProviders, descSubscribers, descAdmitted,
		descNodes, descRaftState, descRaftTerm, descCommit, descApplied, descApplyLag} {
		ch <- d
	}
}

// Collect implements prometheus.Collector.
func (c stateCollector) Collect(ch chan<- prometheus.Metric) {
	n := c.m.n
	if n.isClosed() {
		return
	}
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	gauge(descSessions, float64(n.clients.Load()), "client")
	gauge(descSessions, float64(n.admins.Load()), "admin")
	var groups []wire.GroupSummary
	n.agr.View(func() { groups = n.eng.Groups() })
	providers, subscribers := 0, 0
	for _, g := range groups {
		providers += g.Providers
		subscribers += g.Subscribers
	}
	gauge(descGroups, float64(len(groups)))
	gauge(descProviders, float64(providers))
	gauge(descSubscribers, float64(subscribers))
	admitted := 0.0
	if n.Admitted() {
		admitted = 1
	}
	gauge(descAdmitted, admitted)
	byHealth := map[string]int{}
	for _, ns := range n.nodes() {
		byHealth[ns.Health]++
	}
	for _, h := range healths {
		gauge(descNodes, float64(byHealth[h]), h)
	}
	r := n.agr.Raft()
	state := r.State()
	for _, s := range raftStates {
		v := 0.0
		if s == state {
			v = 1
		}
		gauge(descRaftState, v, strings.ToLower(s.String()))
	}
	stats := r.Stats()
	num := func(key string) float64 {
		v, _ := strconv.ParseUint(stats[key], 10, 64)
		return float64(v)
	}
	gauge(descRaftTerm, num("term"))
	commit, applied := num("commit_index"), num("applied_index")
	gauge(descCommit, commit)
	gauge(descApplied, applied)
	gauge(descApplyLag, max(commit-applied, 0))
}
