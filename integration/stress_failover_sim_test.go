package integration

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/require"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/openhags/hags/daemon/daemontest"
	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/agent/actlog"
	"github.com/openhags/hags/failover/engine"
	"github.com/openhags/hags/failover/manager"
	"github.com/openhags/hags/failover/rmcheck"
	"github.com/openhags/hags/gsapi"
	"github.com/openhags/hags/internal/wire"
)

// The failover manager's simulated stress run: real managers
// (failover/manager, one per node) over simulated domains
// (daemon/daemontest), with simulated agents, under seeded schedules of
// requests and faults, judged by failover/rmcheck and by what the managers
// report once the faults end.
//
// Each node's manager talks gsapi to its node's simulated hagsd over an
// in-memory connection and keeps its durable state in a directory of its
// own that outlives its restarts. Its agents are simulated by foRunner:
// starts and stops take simulated time and sometimes fail or hang; every
// start that began and every stop that ended is written to one action log
// (failover/agent/actlog records, stamped with the bubble's clock), as are
// the deaths of resources: "exec" resources die with the manager that
// started them, OCF resources outlive it (a restarted manager's probe
// finds them), and a power loss kills both.
//
// A seed fixes the domain (3 or 5 nodes), the configuration (groups of
// exec and OCF resources, dependencies, timeouts, thresholds) and the
// schedule: group online, offline and move requests, property changes,
// new resources, node pauses; resource failures (a process that dies, a
// monitor that fails), manager crashes and graceful restarts, a crash of
// every manager at once, hagsd crashes, power losses, partitions of a
// node, lossy and slow links. Then the faults end and the checks run:
//
//   - safety: rmcheck finds no moment at which resources of one group ran
//     on two nodes (over the whole run, the quiet part included);
//   - liveness: within a simulated budget every resource whose persistent
//     state is online is Online, every other one Offline or Failed, and
//     what the hosts run is exactly what the managers say is Online, on
//     its group's owner (resources that failed get a cleanup, as an
//     operator would);
//   - agreement: every manager reports the same groups, resources and
//     nodes, and holds the same engine snapshot;
//   - no acknowledged change is lost: the last request on each group,
//     property or new resource that got ERROR_SUCCESS or ERROR_IO_PENDING
//     is what the cluster shows at the end (unless a later request's
//     outcome is unknown: ERROR_SHARING_PAUSED or no answer).
//
// HAGS_STRESS_SEEDS=N runs seeds 1..N (make stress: 1000); without it a
// few run (one under -short). HAGS_STRESS_SEED=S runs seed S alone and
// HAGS_STRESS_LOGS=1 adds the managers' and daemons' logs to the test's;
// HAGS_STRESS_LOGDIR=DIR writes each seed's managers' logs to a file
// there, kept only when the seed fails. A seed fixes every choice of the
// schedule; the goroutines' interleaving inside the bubble is not fixed,
// so a rerun may take another path.
//
// TestStressFailoverOwnerCutOff plays one fault on purpose (a group's
// owner cut off) and shows that the checks can fail.

// Timing of the simulated agents and the scenario.
const (
	foStartTimeout   = 2 * time.Second
	foMonitorEvery   = time.Second
	foRetryPeriod    = 10 * time.Second
	foRestartDelay   = 200 * time.Millisecond
	foProbeTime      = 20 * time.Millisecond
	foSteps          = 40
	foMaxPause       = 2 * time.Second
	foSettleBudget   = 3 * time.Minute
	foRequestTimeout = 2 * time.Minute
)

// foWorld is the simulated machines: what runs on each host and the action
// log. It is the truth the checks hold the managers' reports against. Its
// mutex guards everything in it and in its hosts and runners.
type foWorld struct {
	mu     sync.Mutex
	rng    *rand.Rand
	hosts  []*foHost
	log    []actlog.Record
	faulty bool // agents fail and hang now and then
	// slowStops makes every stop of an OCF resource take its whole
	// timeout but a millisecond: the longest the self-fencing window
	// allows for.
	slowStops bool
	// noFence makes StopAll do nothing: a node that cannot fence itself
	// (the tests that show the checks can fail).
	noFence bool
	counts  map[string]int
}

// foHost is one machine.
type foHost struct {
	name    string
	running map[string]*foProc
	runner  *foRunner // the runner of the manager started last here
}

// foProc is a resource running on a host.
type foProc struct {
	exec  bool
	owner *foRunner // the runner whose child an exec resource is
}

// record appends to the action log (mu held).
func (w *foWorld) record(h *foHost, res string, op actlog.Op, ok bool, why string) {
	w.log = append(w.log, actlog.Record{Mono: time.Now().UnixNano(), Node: h.name, Resource: res, Op: op, OK: ok, Why: why, Pid: 1})
}

// kill ends resource res on h now, as a process that dies (mu held).
func (w *foWorld) kill(h *foHost, res, why string) {
	if h.running[res] == nil {
		return
	}
	delete(h.running, res)
	w.record(h, res, actlog.OpStop, true, why)
}

func (w *foWorld) between(lo, hi time.Duration) time.Duration {
	if hi <= lo {
		return lo
	}
	return lo + time.Duration(w.rng.Int63n(int64(hi-lo)))
}

// foRunner is one manager run's agent runner (manager.Runner) on a host.
// Each resource's actions run one at a time, in order, as the real
// runner's do.
type foRunner struct {
	w      *foWorld
	h      *foHost
	report func(engine.Failure)

	dead, closed bool
	known        map[string]engine.Action // started or probed here, not stopped since
	monitored    map[string]uint64        // resource → the start that monitors it
	queues       map[string]*foQueue
}

type foQueue struct {
	busy  bool
	items []*foItem
}

// foItem is one queued action: done gets its result; a StopAll stop has a
// waiter instead, and never fails.
type foItem struct {
	a    engine.Action
	done func(engine.ActionResult)
	wait *foWaiter
}

// foWaiter counts the stops of a StopAll.
type foWaiter struct {
	left int
	done chan struct{}
}

func (wt *foWaiter) one() {
	if wt == nil {
		return
	}
	wt.left--
	if wt.left == 0 {
		close(wt.done)
	}
}

func newFoRunner(w *foWorld, h *foHost) *foRunner {
	return &foRunner{w: w, h: h, known: map[string]engine.Action{}, monitored: map[string]uint64{}, queues: map[string]*foQueue{}}
}

var _ manager.Runner = (*foRunner)(nil)

// Run implements manager.Runner.
func (r *foRunner) Run(a engine.Action, done func(engine.ActionResult)) {
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	if r.dead || r.closed {
		return
	}
	if a.Op == engine.ActStart {
		r.known[a.Resource] = a
	}
	r.enqueue(&foItem{a: a, done: done})
}

func (r *foRunner) enqueue(it *foItem) {
	q := r.queues[it.a.Resource]
	if q == nil {
		q = &foQueue{}
		r.queues[it.a.Resource] = q
	}
	q.items = append(q.items, it)
	if !q.busy {
		r.begin(q)
	}
}

// begin starts the head of q (mu held): a start makes the resource run
// from now on; the action ends after its simulated duration.
func (r *foRunner) begin(q *foQueue) {
	w, h := r.w, r.h
	q.busy = true
	it := q.items[0]
	q.items = q.items[1:]
	a := it.a
	exec := a.Agent.Class == failover.AgentExec
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = foStartTimeout
	}
	out, detail := engine.OutcomeOK, ""
	var d time.Duration
	delete(r.monitored, a.Resource)
	switch a.Op {
	case engine.ActStart:
		w.record(h, a.Resource, actlog.OpStart, true, "")
		if h.running[a.Resource] == nil {
			h.running[a.Resource] = &foProc{exec: exec, owner: r}
		}
		d = w.between(20*time.Millisecond, 300*time.Millisecond)
		if exec {
			d = w.between(2*time.Millisecond, 50*time.Millisecond)
		}
		if w.faulty && !a.Adopt {
			switch x := w.rng.Intn(100); {
			case x < 3:
				out, detail = engine.OutcomeSoft, "simulated: start failed"
			case x < 4:
				out, detail = engine.OutcomeHard, "simulated: start failed hard"
			case x < 5:
				d, out, detail = timeout, engine.OutcomeSoft, "simulated: start timed out"
			}
		}
		if out != engine.OutcomeOK {
			w.counts["start failed"]++
		}
	case engine.ActStop:
		switch {
		case exec && a.Fast:
			d = time.Millisecond
		case exec:
			d = w.between(2*time.Millisecond, 30*time.Millisecond)
		case w.slowStops:
			d = timeout - time.Millisecond
		case w.rng.Intn(5) == 0:
			// A slow agent: anything short of its timeout is within what
			// the self-fencing window allows for.
			d = w.between(timeout/2, timeout-time.Millisecond)
		default:
			d = w.between(10*time.Millisecond, min(300*time.Millisecond, timeout))
		}
		if w.faulty && it.wait == nil && w.rng.Intn(100) == 0 {
			out, detail = engine.OutcomeSoft, "simulated: stop failed"
			w.counts["stop failed"]++
		}
	}
	time.AfterFunc(d, func() { r.finish(q, it, out, detail) })
}

// finish ends an action: a stop that succeeded ends the resource, a start
// that succeeded begins monitoring it; a failed start may have left it
// running, a failed stop leaves it running. The result goes to the
// manager unless it died or closed meanwhile (an OCF agent's own process
// finishes its action even then).
func (r *foRunner) finish(q *foQueue, it *foItem, out engine.Outcome, detail string) {
	w, h, a := r.w, r.h, it.a
	w.mu.Lock()
	switch a.Op {
	case engine.ActStart:
		if out == engine.OutcomeOK && !r.dead && !r.closed && h.running[a.Resource] != nil {
			r.monitored[a.Resource] = a.ID
		}
	case engine.ActStop:
		switch {
		case out != engine.OutcomeOK:
			w.record(h, a.Resource, actlog.OpStop, false, actlog.WhyStop)
		case h.running[a.Resource] != nil:
			w.kill(h, a.Resource, actlog.WhyStop)
		}
		if out == engine.OutcomeOK {
			delete(r.known, a.Resource)
		}
	}
	it.wait.one()
	q.busy = false
	if r.dead || r.closed {
		r.drop(q)
	} else if len(q.items) > 0 {
		r.begin(q)
	}
	tell := !r.dead && !r.closed && it.done != nil
	w.mu.Unlock()
	if tell {
		it.done(engine.ActionResult{ID: a.ID, Resource: a.Resource, Op: a.Op, Outcome: out, Detail: detail})
	}
}

// drop forgets q's queued actions (mu held).
func (r *foRunner) drop(q *foQueue) {
	for _, it := range q.items {
		it.wait.one()
	}
	q.items = nil
}

// Probe implements manager.Runner: what runs on the host.
func (r *foRunner) Probe(ctx context.Context, res []manager.ProbeSpec) ([]string, error) {
	t := time.NewTimer(foProbeTime)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	r.w.mu.Lock()
	defer r.w.mu.Unlock()
	if r.dead {
		return nil, errors.New("simulated: the manager is dead")
	}
	var out []string
	for _, p := range res {
		if r.h.running[p.Resource] != nil {
			out = append(out, p.Resource)
			if _, ok := r.known[p.Resource]; !ok {
				r.known[p.Resource] = engine.Action{Resource: p.Resource, Agent: p.Agent, Params: p.Params}
			}
		}
	}
	return out, nil
}

// StopAll implements manager.Runner: every resource this runner started or
// found is stopped (exec ones killed at once when fast).
func (r *foRunner) StopAll(ctx context.Context, fast bool, timeout func(resource string) time.Duration) {
	r.w.mu.Lock()
	if r.dead || r.closed || len(r.known) == 0 || r.w.noFence {
		r.w.mu.Unlock()
		return
	}
	names := make([]string, 0, len(r.known))
	for n := range r.known {
		names = append(names, n)
	}
	slices.Sort(names)
	wt := &foWaiter{left: len(names), done: make(chan struct{})}
	for i, n := range names {
		a := r.known[n]
		a.ID, a.Op, a.Fast, a.Timeout, a.Adopt = 1<<63|uint64(i), engine.ActStop, fast, timeout(n), false
		r.enqueue(&foItem{a: a, wait: wt})
	}
	r.w.mu.Unlock()
	select {
	case <-wt.done:
	case <-ctx.Done():
	}
}

// Close implements manager.Runner: the manager ends; its exec resources
// are killed, OCF ones keep running.
func (r *foRunner) Close() error {
	r.end(false)
	return nil
}

// die is the manager's process dying: its exec resources die with it.
func (r *foRunner) die() { r.end(true) }

func (r *foRunner) end(died bool) {
	w := r.w
	w.mu.Lock()
	defer w.mu.Unlock()
	if r.dead || r.closed {
		return
	}
	why := actlog.WhyClose
	if died {
		r.dead, why = true, actlog.WhyExit
	} else {
		r.closed = true
	}
	for name, p := range r.h.running {
		if p.exec && p.owner == r {
			w.kill(r.h, name, why)
		}
	}
	clear(r.monitored)
	for _, q := range r.queues {
		r.drop(q)
	}
}

// fail injects a failure into one of the resources a live runner monitors
// (x, y pick which and how): its process dies, or (OCF) its monitor fails
// while it still runs. The runner reports it as its monitor would: an exec
// resource's exit at once, an OCF failure at its next monitor.
func (w *foWorld) fail(x, y int) string {
	w.mu.Lock()
	type cand struct {
		r   *foRunner
		res string
	}
	var cs []cand
	for _, h := range w.hosts {
		r := h.runner
		if r == nil || r.dead || r.closed {
			continue
		}
		for res := range r.monitored {
			if q := r.queues[res]; (q == nil || !q.busy) && h.running[res] != nil {
				cs = append(cs, cand{r, res})
			}
		}
	}
	if len(cs) == 0 {
		w.mu.Unlock()
		return ""
	}
	slices.SortFunc(cs, func(a, b cand) int { return strings.Compare(a.r.h.name+"/"+a.res, b.r.h.name+"/"+b.res) })
	c := cs[x%len(cs)]
	p := c.r.h.running[c.res]
	id := c.r.monitored[c.res]
	dies := p.exec || y%3 != 0
	f := engine.Failure{Resource: c.res, Outcome: engine.OutcomeSoft, Detail: "simulated: the monitor failed"}
	if y%7 == 0 {
		f.Outcome = engine.OutcomeHard
	}
	delay := time.Millisecond
	if !p.exec {
		delay = time.Duration(1+y%int(foMonitorEvery/time.Millisecond)) * time.Millisecond
	}
	what := "monitor fails"
	if dies {
		w.kill(c.r.h, c.res, actlog.WhyExit)
		f.Detail, what = "simulated: the process died", "dies"
	}
	w.counts["resource "+what]++
	w.mu.Unlock()
	time.AfterFunc(delay, func() {
		w.mu.Lock()
		tell := !c.r.dead && !c.r.closed && c.r.monitored[c.res] == id
		w.mu.Unlock()
		if tell {
			c.r.report(f)
		}
	})
	return fmt.Sprintf("%s on %s %s (%s)", c.res, c.r.h.name, what, outcomeWord(f.Outcome))
}

// powerOff kills everything host i runs.
func (w *foWorld) powerOff(i int) {
	w.mu.Lock()
	defer w.mu.Unlock()
	h := w.hosts[i]
	for _, name := range sortedNames(h.running) {
		w.kill(h, name, "power")
	}
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func outcomeWord(o engine.Outcome) string {
	if o == engine.OutcomeHard {
		return "hard"
	}
	return "soft"
}

// foGate is a manager's door to its hagsd: closed when the manager is
// killed, so that it can neither keep its session nor open another.
type foGate struct {
	mu    sync.Mutex
	dead  bool
	conns []net.Conn
}

func (g *foGate) kill() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.dead = true
	for _, c := range g.conns {
		c.Close()
	}
	g.conns = nil
}

// foHold relays a manager's connection to its hagsd frame by frame and,
// while held, holds back the notifications of the lease group (in order,
// until released): the node stays a member of everything, its log goes
// on, but its own lease renewals are not approved in its eyes, as when
// the lease group's protocols are slow. Only the tests that need it use
// one.
type foHold struct {
	mu     sync.Mutex
	held   bool
	queued [][]byte
	out    net.Conn // to the manager
}

// relay returns the manager's end of a connection relayed to daemon.
func (h *foHold) relay(daemon net.Conn) net.Conn {
	mine, theirs := net.Pipe()
	h.mu.Lock()
	h.out = theirs
	h.mu.Unlock()
	go func() { // requests, as they are
		io.Copy(daemon, theirs)
		daemon.Close()
	}()
	go func() { // frames from the daemon
		defer theirs.Close()
		r := wire.NewReader(daemon)
		for {
			t, body, err := r.Next()
			if err != nil {
				return
			}
			frame := binary.BigEndian.AppendUint32(nil, uint32(2+len(body)))
			frame = append(append(frame, wire.Version, byte(t)), body...)
			var n wire.Notification
			lease := t == wire.MsgNotification && wire.Decode(body, &n) == nil && n.Group == manager.LeaseGroup
			h.mu.Lock()
			if lease && h.held {
				h.queued = append(h.queued, frame)
				h.mu.Unlock()
				continue
			}
			h.mu.Unlock()
			if _, err := theirs.Write(frame); err != nil {
				return
			}
		}
	}()
	return mine
}

// hold starts holding the lease group's notifications back.
func (h *foHold) hold() {
	h.mu.Lock()
	h.held = true
	h.mu.Unlock()
}

// release delivers what was held back and stops holding.
func (h *foHold) release() {
	h.mu.Lock()
	h.held = false
	queued, out := h.queued, h.out
	h.queued = nil
	h.mu.Unlock()
	for _, f := range queued {
		if _, err := out.Write(f); err != nil {
			return
		}
	}
}

// foNode is one node's manager slot.
type foNode struct {
	dir    string
	mgr    *manager.Manager
	runner *foRunner
	gate   *foGate
	hold   *foHold // nil: a direct connection
	cancel context.CancelFunc
	done   chan error
}

// foReq is one request of the schedule and how it ended.
type foReq struct {
	target string // what it changes: requests on one target never overlap
	value  string // what it sets ("" for moves)
	node   int
	req    engine.Request
	code   failover.Code
	err    error
	issued time.Time
}

// acked reports whether the cluster acknowledged the change.
func (r *foReq) acked() bool {
	return r.err == nil && (r.code == failover.CodeSuccess || r.code == failover.CodeIOPending)
}

// unknown reports whether the change may or may not have been made.
func (r *foReq) unknown() bool { return r.err != nil || r.code == failover.CodeSharingPaused }

// foGroup is a group as the scenario configured it.
type foGroup struct {
	name      string
	resources []string
}

// foRun is one seeded scenario.
type foRun struct {
	t     *testing.T
	seed  int64
	rng   *rand.Rand
	c     *daemontest.Cluster
	w     *foWorld
	nodes []*foNode
	names []string // the nodes' names
	logs  bool
	// logFile gets the managers' logs (HAGS_STRESS_LOGDIR), or nil.
	logFile io.Writer

	groups  []*foGroup
	groupOf map[string]string // resource → group, for rmcheck
	nextRes int

	mu    sync.Mutex // guards reqs and busy
	reqs  []*foReq
	busy  map[string]bool
	reqWG sync.WaitGroup

	faults   map[int]string // node → its fault now
	isolated []int
	silent   bool // odd seeds cut nodes off silently (Net.Cut), even ones break their streams
	steps    []string
	start    time.Time
}

func (s *foRun) logf(format string, args ...any) {
	line := fmt.Sprintf("%8.3fs ", time.Since(s.start).Seconds()) + fmt.Sprintf(format, args...)
	s.steps = append(s.steps, line)
	if s.logs {
		s.t.Log(line)
	}
}

func (s *foRun) report() string {
	return fmt.Sprintf("reproduce: HAGS_STRESS_SEED=%d go test ./integration -run 'TestStressFailoverSimulated' -v\nsteps:\n  %s\n%s",
		s.seed, strings.Join(s.steps, "\n  "), s.describe())
}

// describe is what the first read/write manager reports of every group
// and resource.
func (s *foRun) describe() string {
	var b strings.Builder
	b.WriteString("the cluster now:\n")
	if !s.anyView(func(e *engine.Engine) {
		for _, g := range e.Groups() {
			fmt.Fprintf(&b, "  group %s: %s on %s, persistent %s\n", g.Name, g.State, g.Owner, g.PersistentState)
			for _, rn := range g.Resources {
				fmt.Fprintf(&b, "    %s\n", strings.Join(e.Why(rn), " "))
			}
		}
	}) {
		b.WriteString("  no manager is read/write\n")
	}
	return b.String()
}

func (s *foRun) logger(i int) *slog.Logger {
	opts := &slog.HandlerOptions{Level: slog.LevelDebug}
	switch {
	case s.logs:
		return slog.New(slog.NewTextHandler(foTestWriter{s.t, s.names[i]}, opts))
	case s.logFile != nil:
		return slog.New(slog.NewTextHandler(s.logFile, opts)).With("mgr", s.names[i])
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// openLogFile starts the managers' log file of this seed in dir
// (HAGS_STRESS_LOGDIR), kept only if the seed fails.
func (s *foRun) openLogFile(dir string) {
	f, err := os.Create(fmt.Sprintf("%s/rmsim-seed-%d.log", dir, s.seed))
	require.NoError(s.t, err)
	s.logFile = &foLockedWriter{w: f}
	s.t.Cleanup(func() {
		f.Close()
		if s.t.Failed() {
			s.t.Logf("the managers' log: %s", f.Name())
		} else {
			os.Remove(f.Name())
		}
	})
}

// foLockedWriter serialises the writes of several loggers to one file.
type foLockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *foLockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

type foTestWriter struct {
	t      *testing.T
	prefix string
}

func (w foTestWriter) Write(p []byte) (int, error) {
	w.t.Logf("rm %s| %s", w.prefix, strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

// startManager starts a new run of node i's manager, with a new runner on
// its host and the state directory its earlier runs left.
func (s *foRun) startManager(i int) {
	n := s.nodes[i]
	r := newFoRunner(s.w, s.w.hosts[i])
	gate := &foGate{}
	dial := func(context.Context) (net.Conn, error) {
		conn, err := s.c.DialConn(i)
		if err != nil {
			return nil, err
		}
		if n.hold != nil {
			conn = n.hold.relay(conn)
		}
		gate.mu.Lock()
		defer gate.mu.Unlock()
		if gate.dead {
			conn.Close()
			return nil, errors.New("simulated: the manager is dead")
		}
		gate.conns = append(gate.conns, conn)
		return conn, nil
	}
	m, err := manager.New(manager.Config{StateDir: n.dir, Runner: r, Logger: s.logger(i),
		GSOptions: []gsapi.Option{gsapi.WithDialer(dial)}})
	require.NoErrorf(s.t, err, "seed %d: node %d's manager starts from its state directory", s.seed, i+1)
	s.w.mu.Lock()
	r.report = m.ReportFailure
	s.w.hosts[i].runner = r
	s.w.mu.Unlock()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx) }()
	n.mgr, n.runner, n.gate, n.cancel, n.done = m, r, gate, cancel, done
}

// killManager kills node i's manager as SIGKILL would: its exec resources
// die with it, its session drops without a goodbye.
func (s *foRun) killManager(i int) {
	n := s.nodes[i]
	if n.mgr == nil {
		return
	}
	n.runner.die()
	n.gate.kill()
	s.endManager(i)
}

// stopManager stops node i's manager as SIGTERM would: it stops its
// resources and says goodbye.
func (s *foRun) stopManager(i int) {
	if s.nodes[i].mgr != nil {
		s.endManager(i)
	}
}

func (s *foRun) endManager(i int) {
	n := s.nodes[i]
	n.cancel()
	err := <-n.done
	require.NoErrorf(s.t, err, "seed %d: node %d's manager ends cleanly\n%s", s.seed, i+1, s.report())
	n.mgr = nil
}

// submit sends req to node i's manager in the background and records how
// it ended; a target with a request in flight gets no other, so that the
// requests on one target are ordered.
func (s *foRun) submit(target, value string, i int, req engine.Request) {
	m := s.nodes[i].mgr
	if m == nil || !m.ReadWrite() {
		return // a manager that is not read/write would refuse it
	}
	s.mu.Lock()
	if s.busy[target] {
		s.mu.Unlock()
		return
	}
	s.busy[target] = true
	s.mu.Unlock()
	fr := &foReq{target: target, value: value, node: i, req: req, issued: time.Now()}
	s.logf("%s: request %s %s=%s", s.names[i], foOpName(req.Op), target, value)
	s.reqWG.Add(1)
	go func() {
		defer s.reqWG.Done()
		ctx, cancel := context.WithTimeout(context.Background(), foRequestTimeout)
		r, err := m.Submit(ctx, req)
		cancel()
		s.mu.Lock()
		defer s.mu.Unlock()
		fr.code, fr.err = r.Code, err
		s.reqs = append(s.reqs, fr)
		s.busy[target] = false
	}()
}

// must submits req to a read/write manager and waits for an answer among
// want, retrying while the cluster is busy or read-only (setup and the
// quiet phase).
func (s *foRun) must(target, value string, req engine.Request, want ...failover.Code) failover.Code {
	deadline := time.Now().Add(foSettleBudget)
	for k := 0; ; k++ {
		require.Truef(s.t, time.Now().Before(deadline), "seed %d: request %s %s gets one of %v within %v\n%s",
			s.seed, foOpName(req.Op), target, want, foSettleBudget, s.report())
		i := (int(s.seed) + k) % len(s.nodes)
		m := s.nodes[i].mgr
		if m != nil && m.ReadWrite() {
			fr := &foReq{target: target, value: value, node: i, req: req, issued: time.Now()}
			r, err := m.Submit(context.Background(), req)
			fr.code, fr.err = r.Code, err
			s.mu.Lock()
			s.reqs = append(s.reqs, fr)
			s.mu.Unlock()
			if err == nil && slices.Contains(want, r.Code) {
				return r.Code
			}
			if err == nil && !slices.Contains([]failover.Code{failover.CodeSharingPaused, failover.CodeInvalidState,
				failover.CodeHostNodeNotAvailable}, r.Code) {
				require.Failf(s.t, "unexpected answer", "seed %d: request %s %s: %v %s\n%s", s.seed, foOpName(req.Op), target, r.Code, r.Message, s.report())
			}
		}
		// Simulated time (synctest): the cluster is busy or read-only; try again shortly.
		time.Sleep(500 * time.Millisecond)
	}
}

// view reads node i's engine.
func (s *foRun) view(i int, fn func(e *engine.Engine)) bool {
	m := s.nodes[i].mgr
	if m == nil {
		return false
	}
	m.View(fn)
	return true
}

// anyView reads the engine of a read/write manager (the lowest).
func (s *foRun) anyView(fn func(e *engine.Engine)) bool {
	for i, n := range s.nodes {
		if n.mgr != nil && n.mgr.ReadWrite() {
			return s.view(i, fn)
		}
	}
	return false
}

// foEventually polls cond every 100 ms of simulated time until it returns
// "" or budget passes, and returns its last answer.
func foEventually(budget time.Duration, cond func() string) string {
	deadline := time.Now().Add(budget)
	for {
		why := cond()
		if why == "" || time.Now().After(deadline) {
			return why
		}
		// Simulated time (synctest): poll the managers' state.
		time.Sleep(100 * time.Millisecond)
	}
}

// setup waits for every manager to be read/write and every node Up, then
// configures the groups and brings them online.
func (s *foRun) setup() {
	s.waitAllUp("the managers start")
	ngroups := 2 + s.rng.Intn(4)
	for gi := range ngroups {
		g := &foGroup{name: fmt.Sprintf("grp%d", gi+1)}
		props := map[string]string{"failover-threshold": strconv.Itoa(s.rng.Intn(4) - 1)}
		if s.rng.Intn(3) == 0 {
			a, b := s.rng.Intn(len(s.names)), s.rng.Intn(len(s.names))
			owners := []string{s.names[a]}
			if a != b {
				owners = append(owners, s.names[b])
			}
			props["preferred-owners"] = strings.Join(owners, ",")
		}
		s.must("group "+g.name, "", engine.Request{Op: engine.OpCreateGroup, Group: g.name, Props: props}, failover.CodeSuccess)
		s.groups = append(s.groups, g)
		for range 1 + s.rng.Intn(3) {
			s.createResource(g, true)
		}
		s.must("state "+g.name, "online", engine.Request{Op: engine.OpOnlineGroup, Group: g.name},
			failover.CodeSuccess, failover.CodeIOPending)
	}
	s.logf("configured %d groups, %d resources", len(s.groups), len(s.groupOf))
}

// resourceProps draws a new resource's settings.
func (s *foRun) resourceProps(exec bool) map[string]string {
	stop := []string{"500ms", "1s", "2s"}[s.rng.Intn(3)]
	if exec {
		stop = "1s"
	}
	return map[string]string{
		"monitor-interval":        foMonitorEvery.String(),
		"start-timeout":           foStartTimeout.String(),
		"stop-timeout":            stop,
		"restart-delay":           foRestartDelay.String(),
		"retry-period-on-failure": foRetryPeriod.String(),
		"restart-threshold":       strconv.Itoa(s.rng.Intn(4)),
	}
}

// createResource adds a resource to g, depending on the one before it
// sometimes; during setup it waits for the answers, later it is a request
// of the schedule.
func (s *foRun) createResource(g *foGroup, sync bool) {
	s.nextRes++
	name := fmt.Sprintf("res%d", s.nextRes)
	exec := s.rng.Intn(2) == 0
	agent := "ocf:sim:Dummy"
	if exec {
		agent = "exec"
	}
	req := engine.Request{Op: engine.OpCreateResource, Resource: name, Group: g.name, Agent: agent,
		Params: map[string]string{"id": name}, Props: s.resourceProps(exec)}
	dep := len(g.resources) > 0 && s.rng.Intn(2) == 0
	s.groupOf[name] = g.name
	g.resources = append(g.resources, name)
	if !sync {
		s.submit("resource "+name, "exists", s.rng.Intn(len(s.nodes)), req)
		return
	}
	s.must("resource "+name, "exists", req, failover.CodeSuccess)
	if dep {
		prev := g.resources[len(g.resources)-2]
		s.must("depend "+name, "", engine.Request{Op: engine.OpSetDependency, Resource: name, Expr: "[" + prev + "]"},
			failover.CodeSuccess)
	}
}

// waitAllUp waits until every manager is read/write and sees every node Up
// (or Paused).
func (s *foRun) waitAllUp(what string) {
	why := foEventually(foSettleBudget, func() string {
		for i, n := range s.nodes {
			if n.mgr == nil || !n.mgr.ReadWrite() {
				return fmt.Sprintf("%s's manager is not read/write", s.names[i])
			}
			var nodes []failover.NodeInfo
			s.view(i, func(e *engine.Engine) { nodes = e.Nodes() })
			up := 0
			for _, ni := range nodes {
				if ni.State == failover.NodeUp || ni.State == failover.NodePaused {
					up++
				}
			}
			if up != len(s.nodes) {
				return fmt.Sprintf("%s's manager sees %d nodes up: %v", s.names[i], up, nodes)
			}
		}
		return ""
	})
	require.Emptyf(s.t, why, "seed %d: %s: every manager is read/write and sees every node up within %v\n%s",
		s.seed, what, foSettleBudget, s.report())
}

// maxFaults is how many nodes may be faulty at once: a majority stays.
func (s *foRun) maxFaults() int { return (len(s.nodes) - 1) / 2 }

// step takes one random action. It draws the same random numbers whatever
// the state, so that a seed fixes the whole schedule.
func (s *foRun) step() {
	c := s.c
	r, x, y, z := s.rng.Intn(30), s.rng.Intn(1<<20), s.rng.Intn(1<<20), s.rng.Intn(1<<20)
	n := x % len(s.nodes)
	g := s.groups[y%len(s.groups)]
	switch {
	case r < 4:
		v := []string{"online", "offline"}[z%2]
		op := engine.OpOnlineGroup
		if v == "offline" {
			op = engine.OpOfflineGroup
		}
		s.submit("state "+g.name, v, n, engine.Request{Op: op, Group: g.name})
	case r < 7:
		target := ""
		if z%3 != 0 {
			target = s.names[z%len(s.names)]
		}
		s.submit("state "+g.name, "", n, engine.Request{Op: engine.OpMoveGroup, Group: g.name, Node: target})
	case r == 7:
		v := strconv.Itoa(z%4 - 1)
		s.submit("failover-threshold "+g.name, v, n, engine.Request{Op: engine.OpSetGroupProps, Group: g.name,
			Props: map[string]string{"failover-threshold": v}})
	case r == 8:
		res := g.resources[z%len(g.resources)]
		v := strconv.Itoa(z % 5)
		s.submit("restart-threshold "+res, v, n, engine.Request{Op: engine.OpSetResourceProps, Resource: res,
			Props: map[string]string{"restart-threshold": v}})
	case r == 9:
		if s.nextRes < 4*len(s.groups) {
			s.createResource(g, false)
		}
	case r == 10:
		pause := z%2 == 0
		op, v := engine.OpResumeNode, "resume"
		if pause {
			op, v = engine.OpPauseNode, "pause"
		}
		s.submit("node "+s.names[y%len(s.names)], v, n, engine.Request{Op: op, Node: s.names[y%len(s.names)], Drain: z%4 == 0})
	case r < 15:
		if what := s.w.fail(x, y); what != "" {
			s.logf("%s", what)
		}
	case r < 21:
		s.fault(n, []string{"manager", "manager-restart", "hagsd", "partition", "power", "all-managers"}[r-15])
	case r < 24:
		s.endFault(y)
	case r == 24:
		a, b := x%c.Size(), y%c.Size()
		if a != b {
			c.Net.Drop(c.Host(a), c.Host(b), 0.2)
			c.Net.Delay(c.Host(b), c.Host(a), time.Duration(10+z%50)*time.Millisecond)
			s.logf("link %s-%s drops and delays", s.names[a], s.names[b])
		}
	case r == 25:
		c.Net.ClearFaults()
		s.logf("links clear")
	default:
		s.submit("state "+g.name, "online", n, engine.Request{Op: engine.OpOnlineGroup, Group: g.name})
	}
}

// fault starts a fault of node i (or of every manager).
func (s *foRun) fault(i int, kind string) {
	switch {
	case kind == "all-managers":
		if len(s.faults) > 0 {
			return
		}
		for j := range s.nodes {
			s.killManager(j)
			s.faults[j] = "manager"
		}
		s.logf("every manager is killed")
		s.w.count("fault " + kind)
		return
	case s.faults[i] != "" || len(s.faults) >= s.maxFaults():
		return
	}
	s.w.count("fault " + kind)
	switch kind {
	case "manager":
		s.killManager(i)
	case "manager-restart":
		s.stopManager(i)
		s.startManager(i)
		s.logf("%s's manager restarts (stops its resources, says goodbye)", s.names[i])
		return
	case "hagsd":
		s.c.Crash(i)
	case "partition":
		s.isolated = append(s.isolated, i)
		s.partition()
	case "power":
		s.killManager(i)
		s.w.powerOff(i)
		s.c.Crash(i)
	}
	s.faults[i] = kind
	s.logf("%s: %s fault", s.names[i], kind)
}

func (w *foWorld) count(what string) {
	w.mu.Lock()
	w.counts[what]++
	w.mu.Unlock()
}

// partition cuts every isolated node off from all others: silently (its
// streams stay open and lose what is written, as when a cable is pulled)
// or breaking its streams, as the seed says.
func (s *foRun) partition() {
	var groups [][]string
	for _, i := range s.isolated {
		groups = append(groups, []string{s.c.Host(i)})
	}
	if s.silent {
		s.c.Net.Cut(groups...)
	} else {
		s.c.Net.Partition(groups...)
	}
}

// endFault ends one of the faults (x picks which).
func (s *foRun) endFault(x int) {
	if len(s.faults) == 0 {
		return
	}
	nodes := make([]int, 0, len(s.faults))
	for i := range s.faults {
		nodes = append(nodes, i)
	}
	slices.Sort(nodes)
	i := nodes[x%len(nodes)]
	switch s.faults[i] {
	case "manager":
		s.startManager(i)
	case "hagsd":
		s.c.Restart(i)
	case "partition":
		s.isolated = slices.DeleteFunc(s.isolated, func(j int) bool { return j == i })
		s.partition()
	case "power":
		s.c.Restart(i)
		s.startManager(i)
	}
	s.logf("%s: end of %s fault", s.names[i], s.faults[i])
	delete(s.faults, i)
}

// quiet ends every fault, waits for the cluster to settle and returns why
// it did not, or "".
func (s *foRun) quiet() string {
	s.w.mu.Lock()
	s.w.faulty = false
	s.w.mu.Unlock()
	s.c.Net.ClearFaults()
	for len(s.faults) > 0 {
		s.endFault(0)
	}
	s.logf("quiet")
	for i := range s.nodes {
		s.c.WaitAdmitted(i, foSettleBudget)
	}
	answered := make(chan struct{})
	go func() { s.reqWG.Wait(); close(answered) }()
	select {
	case <-answered:
	case <-time.After(foSettleBudget):
		return fmt.Sprintf("requests still unanswered after %v of quiet", foSettleBudget)
	}
	s.waitAllUp("quiet")
	for _, name := range s.names {
		var paused bool
		s.anyView(func(e *engine.Engine) {
			ni, _ := e.Node(name)
			paused = ni.State == failover.NodePaused
		})
		if paused {
			s.must("node "+name, "resume", engine.Request{Op: engine.OpResumeNode, Node: name}, failover.CodeSuccess,
				failover.CodeClusterNodeNotPaused)
		}
	}
	// Settled and agreed at once: every manager reports what the first
	// one does, and that is what the hosts run.
	cleaned := time.Time{}
	why := foEventually(foSettleBudget, func() string {
		why := s.settled()
		if why != "" && time.Since(cleaned) > 5*time.Second {
			s.cleanup()
			cleaned = time.Now()
		}
		if why == "" {
			why = s.agreed()
		}
		return why
	})
	if why != "" {
		return "not settled within " + foSettleBudget.String() + ": " + why
	}
	return ""
}

// cleanup clears the failures of every resource that is Failed, or that
// should be online and is not (it failed hard where its group is, which
// may not move), as an operator would once the faults are over.
func (s *foRun) cleanup() {
	var failed []string
	s.anyView(func(e *engine.Engine) {
		for _, r := range e.Resources() {
			stuck := r.PersistentState == failover.PersistentOnline && r.State == failover.ResourceOffline
			if r.State == failover.ResourceFailed || stuck {
				failed = append(failed, r.Name)
			}
		}
	})
	for _, r := range failed {
		s.logf("cleanup %s", r)
		s.must("cleanup "+r, "", engine.Request{Op: engine.OpCleanupResource, Resource: r},
			failover.CodeSuccess, failover.CodeIOPending)
	}
}

// settled returns "" once every resource is in its persistent state on its
// group's owner, nothing is pending or moving, and the hosts run exactly
// what the cluster says is Online; else what is not so.
func (s *foRun) settled() string {
	var why []string
	online := map[string]string{} // resource → node it should run on
	ok := s.anyView(func(e *engine.Engine) {
		up := map[string]bool{}
		for _, n := range e.Nodes() {
			up[n.Name] = n.State == failover.NodeUp
		}
		for _, g := range e.Groups() {
			if g.MovingTo != "" || g.State == failover.GroupPending {
				why = append(why, fmt.Sprintf("group %s is %s (moving to %q)", g.Name, g.State, g.MovingTo))
			}
			for _, rn := range g.Resources {
				r, _ := e.Resource(rn)
				// Online wants Online; offline wants it not running: Offline,
				// or Failed (a resource that failed stays so until it is
				// brought online again).
				want := []failover.ResourceState{failover.ResourceOffline, failover.ResourceFailed}
				if r.PersistentState == failover.PersistentOnline {
					want = []failover.ResourceState{failover.ResourceOnline}
				}
				if !slices.Contains(want, r.State) {
					why = append(why, fmt.Sprintf("resource %s is %s, not %v: %s", r.Name, r.State, want, strings.Join(e.Why(r.Name), " ")))
				}
				if r.State == failover.ResourceOnline {
					if !up[g.Owner] {
						why = append(why, fmt.Sprintf("resource %s is Online on %s, which is not up", r.Name, g.Owner))
					}
					online[r.Name] = g.Owner
				}
			}
		}
	})
	if !ok {
		return "no manager is read/write"
	}
	s.w.mu.Lock()
	for _, h := range s.w.hosts {
		for _, res := range sortedNames(h.running) {
			if online[res] != h.name {
				why = append(why, fmt.Sprintf("resource %s runs on %s, but the cluster says %q", res, h.name, online[res]))
			}
		}
	}
	for _, res := range sortedNames(online) {
		if h := s.w.hosts[slices.Index(s.names, online[res])]; h.running[res] == nil {
			why = append(why, fmt.Sprintf("resource %s is Online on %s but does not run there", res, online[res]))
		}
	}
	s.w.mu.Unlock()
	return strings.Join(why, "; ")
}

// agreed returns "" once every manager reports the same views and holds
// the same engine snapshot.
func (s *foRun) agreed() string {
	type views struct {
		groups    []failover.GroupInfo
		resources []failover.ResourceInfo
		nodes     []failover.NodeInfo
		snap      []byte
	}
	var ref views
	for i := range s.nodes {
		var v views
		if !s.view(i, func(e *engine.Engine) {
			v = views{e.Groups(), e.Resources(), e.Nodes(), e.Snapshot()}
		}) {
			return fmt.Sprintf("%s has no manager", s.names[i])
		}
		if i == 0 {
			ref = v
			continue
		}
		switch {
		case !foEqual(ref.groups, v.groups):
			return fmt.Sprintf("%s reports other groups than %s:\n%v\n%v", s.names[i], s.names[0], v.groups, ref.groups)
		case !foEqual(ref.resources, v.resources):
			return fmt.Sprintf("%s reports other resources than %s:\n%v\n%v", s.names[i], s.names[0], v.resources, ref.resources)
		case !foEqual(ref.nodes, v.nodes):
			return fmt.Sprintf("%s reports other nodes than %s:\n%v\n%v", s.names[i], s.names[0], v.nodes, ref.nodes)
		case !bytes.Equal(ref.snap, v.snap):
			return fmt.Sprintf("%s holds another engine state than %s:\n%s", s.names[i], s.names[0], foSnapDiff(ref.snap, v.snap))
		}
	}
	return ""
}

// foSnapDiff names the parts in which two engine snapshots (a version
// byte, then msgpack) differ.
func foSnapDiff(a, b []byte) string {
	decode := func(b []byte) (map[string]any, error) {
		if len(b) == 0 {
			return nil, errors.New("empty")
		}
		var out map[string]any
		d := msgpack.NewDecoder(bytes.NewReader(b[1:]))
		d.SetMapDecoder(func(d *msgpack.Decoder) (any, error) { return d.DecodeUntypedMap() })
		return out, d.Decode(&out)
	}
	x, errx := decode(a)
	y, erry := decode(b)
	if errx != nil || erry != nil {
		return fmt.Sprintf("(undecodable: %v, %v)", errx, erry)
	}
	var out []string
	for _, k := range sortedNames(x) {
		if u, v := fmt.Sprint(x[k]), fmt.Sprint(y[k]); u != v {
			out = append(out, fmt.Sprintf("  %s: %s\n  %s: %s", k, u, k, v))
		}
	}
	return strings.Join(out, "\n")
}

func foEqual[T any](a, b []T) bool { return fmt.Sprintf("%+v", a) == fmt.Sprintf("%+v", b) }

// lostChanges returns the acknowledged changes the cluster does not show:
// for each target, the value of its last acknowledged request must be
// what the cluster shows, unless a later request's outcome is unknown
// (then its value is allowed too). It also returns how many targets were
// checked.
func (s *foRun) lostChanges() (lost []string, checked int) {
	s.mu.Lock()
	reqs := slices.Clone(s.reqs)
	s.mu.Unlock()
	slices.SortStableFunc(reqs, func(a, b *foReq) int { return a.issued.Compare(b.issued) })
	byTarget := map[string][]*foReq{}
	for _, r := range reqs {
		if r.value != "" {
			byTarget[r.target] = append(byTarget[r.target], r)
		}
	}
	s.anyView(func(e *engine.Engine) {
		for _, target := range sortedNames(byTarget) {
			rs := byTarget[target]
			last := -1
			for k, r := range rs {
				if r.acked() {
					last = k
				}
			}
			if last < 0 {
				continue
			}
			allowed := []string{rs[last].value}
			for _, r := range rs[last+1:] {
				if r.unknown() {
					allowed = append(allowed, r.value)
				}
			}
			kind, name, _ := strings.Cut(target, " ")
			got := ""
			switch kind {
			case "state":
				g, _ := e.Group(name)
				got = g.PersistentState.String()
			case "failover-threshold":
				g, _ := e.Group(name)
				got = strconv.Itoa(g.Properties.FailoverThreshold)
			case "restart-threshold":
				r, _ := e.Resource(name)
				got = strconv.Itoa(r.Properties.RestartThreshold)
			case "resource":
				if r, ok := e.Resource(name); ok && r.Group == s.groupOf[name] {
					got = "exists"
				}
			case "group":
				if _, ok := e.Group(name); ok {
					got = "exists"
				}
			case "node":
				continue // every node is resumed once quiet
			}
			checked++
			if !slices.Contains(allowed, got) {
				lost = append(lost, fmt.Sprintf("%s is %q; the last acknowledged request (%s from %s) set %q; allowed %q",
					target, got, foOpName(rs[last].req.Op), s.names[rs[last].node], rs[last].value, allowed))
			}
		}
	})
	return lost, checked
}

func foOpName(op engine.Op) string {
	switch op {
	case engine.OpCreateGroup:
		return "create-group"
	case engine.OpCreateResource:
		return "create-resource"
	case engine.OpSetDependency:
		return "depend"
	case engine.OpOnlineGroup:
		return "online-group"
	case engine.OpOfflineGroup:
		return "offline-group"
	case engine.OpMoveGroup:
		return "move-group"
	case engine.OpSetGroupProps:
		return "set-group"
	case engine.OpSetResourceProps:
		return "set-resource"
	case engine.OpPauseNode:
		return "pause-node"
	case engine.OpResumeNode:
		return "resume-node"
	case engine.OpCleanupResource:
		return "cleanup"
	}
	return fmt.Sprintf("op%d", op)
}

// foSummary is what the seeds did, for the log.
type foSummary struct {
	seeds, nodes, groups, resources, intervals, records int
	acked, refused, unknown, checked                    int
	counts                                              map[string]int
	simulated, wall                                     time.Duration
}

func (u *foSummary) add(v foSummary) {
	u.seeds += v.seeds
	u.nodes += v.nodes
	u.groups += v.groups
	u.resources += v.resources
	u.intervals += v.intervals
	u.records += v.records
	u.acked += v.acked
	u.refused += v.refused
	u.unknown += v.unknown
	u.checked += v.checked
	u.simulated += v.simulated
	u.wall += v.wall
	if u.counts == nil {
		u.counts = map[string]int{}
	}
	for k, n := range v.counts {
		u.counts[k] += n
	}
}

func (u foSummary) String() string {
	var counts []string
	for _, k := range sortedNames(u.counts) {
		counts = append(counts, fmt.Sprintf("%s=%d", k, u.counts[k]))
	}
	return fmt.Sprintf("%d nodes, %d groups, %d resources; %d agent intervals (%d log records) with no overlap; "+
		"requests: %d acknowledged, %d refused, %d unknown; %d acknowledged targets checked; %s; "+
		"%v simulated in %v of wall time",
		u.nodes, u.groups, u.resources, u.intervals, u.records, u.acked, u.refused, u.unknown, u.checked,
		strings.Join(counts, " "), u.simulated.Round(time.Second), u.wall.Round(time.Millisecond))
}

// foStateBase returns a directory for the managers' state directories,
// removed when t ends. It is memory-backed where /dev/shm exists: the
// managers fsync often, and the bubble's clock stands still while a
// goroutine is in a system call.
func foStateBase(t *testing.T) string {
	dir := ""
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() {
		dir = "/dev/shm"
	}
	base, err := os.MkdirTemp(dir, "hags-rmsim-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(base) })
	return base
}

// newFoRun starts a simulated domain of n nodes and a manager on each
// (inside the bubble); rng draws the scenario.
func newFoRun(t *testing.T, seed int64, rng *rand.Rand, base string, nodes int) *foRun {
	logs := os.Getenv("HAGS_STRESS_LOGS") != ""
	c := daemontest.NewCluster(t, daemontest.Options{Nodes: nodes, Voters: 3, Seed: seed, Logs: logs})
	w := &foWorld{rng: rand.New(rand.NewSource(seed*7919 + 1)), counts: map[string]int{}}
	s := &foRun{t: t, seed: seed, rng: rng, c: c, w: w, logs: logs, groupOf: map[string]string{},
		busy: map[string]bool{}, faults: map[int]string{}, start: time.Now(), silent: seed%2 == 1}
	for i := range nodes {
		s.names = append(s.names, fmt.Sprintf("node%d", i+1))
		w.hosts = append(w.hosts, &foHost{name: s.names[i], running: map[string]*foProc{}})
		s.nodes = append(s.nodes, &foNode{dir: fmt.Sprintf("%s/node%d", base, i+1)})
	}
	t.Cleanup(func() {
		for _, n := range s.nodes {
			if n.mgr != nil {
				n.cancel()
				<-n.done
			}
		}
	})
	if dir := os.Getenv("HAGS_STRESS_LOGDIR"); dir != "" {
		s.openLogFile(dir)
	}
	s.logf("domain of %d nodes", nodes)
	for i := range nodes {
		s.startManager(i)
	}
	return s
}

// overlaps runs the checker over the action log so far.
func (s *foRun) overlaps() ([]actlog.Record, []rmcheck.Violation) {
	s.w.mu.Lock()
	records := slices.Clone(s.w.log)
	s.w.mu.Unlock()
	return records, rmcheck.Overlaps(records, s.groupOf)
}

// check judges the run once quiet (unsettled: why it did not settle) and
// returns its summary.
func (s *foRun) check(unsettled string) foSummary {
	t, seed := s.t, s.seed
	// Safety first: it holds or fails whatever else happened.
	records, vs := s.overlaps()
	if len(vs) > 0 {
		require.Failf(t, "a group ran on two nodes at once", "seed %d:\n%s\naction log:\n%s\n%s",
			seed, rmcheck.Report(vs), foLogAround(records, vs), s.report())
	}
	require.Emptyf(t, unsettled, "seed %d: once the faults end the cluster settles\n%s", seed, s.report())
	lost, checked := s.lostChanges()
	require.Emptyf(t, lost, "seed %d: no acknowledged change is lost\n%s", seed, s.report())

	sum := foSummary{seeds: 1, nodes: len(s.nodes), groups: len(s.groups), resources: len(s.groupOf),
		intervals: len(rmcheck.Intervals(records)), records: len(records), checked: checked, counts: map[string]int{}}
	s.mu.Lock()
	for _, r := range s.reqs {
		switch {
		case r.acked():
			sum.acked++
		case r.unknown():
			sum.unknown++
		default:
			sum.refused++
		}
	}
	s.mu.Unlock()
	s.w.mu.Lock()
	for k, n := range s.w.counts {
		sum.counts[k] = n
	}
	s.w.mu.Unlock()
	sum.simulated = time.Since(s.start)
	return sum
}

// runFailoverSim runs one seed.
func runFailoverSim(t *testing.T, seed int64) foSummary {
	var sum foSummary
	wallStart := time.Now()
	base := foStateBase(t)
	synctest.Test(t, func(t *testing.T) {
		rng := rand.New(rand.NewSource(seed))
		nodes := 3
		if rng.Intn(3) == 0 {
			nodes = 5
		}
		s := newFoRun(t, seed, rng, base, nodes)
		s.setup()
		s.w.mu.Lock()
		s.w.faulty = true
		s.w.mu.Unlock()
		for range foSteps {
			s.step()
			// Simulated time (synctest): a random pause between steps is the schedule.
			time.Sleep(time.Duration(s.rng.Int63n(int64(foMaxPause))))
		}
		sum = s.check(s.quiet())
		if os.Getenv("HAGS_STRESS_SEED") != "" {
			t.Log(s.report())
		}
		for i := range s.nodes {
			s.killManager(i)
		}
	})
	sum.wall = time.Since(wallStart)
	return sum
}

// foLogAround prints the action log records of the violations' resources.
func foLogAround(recs []actlog.Record, vs []rmcheck.Violation) string {
	res := map[string]bool{}
	for _, v := range vs {
		res[v.A.Resource], res[v.B.Resource] = true, true
	}
	var b strings.Builder
	for _, r := range recs {
		if res[r.Resource] {
			fmt.Fprintf(&b, "  %d %s %s %s ok=%v %s\n", r.Mono, r.Node, r.Resource, r.Op, r.OK, r.Why)
		}
	}
	return b.String()
}

// TestStressFailoverSimulated runs seeded schedules of requests and faults
// against failover managers on simulated domains of 3 and 5 nodes and
// checks each seed for safety (rmcheck), liveness, agreement and lost
// acknowledged changes.
func TestStressFailoverSimulated(t *testing.T) {
	seeds := stressSeeds(t, 5)
	var mu sync.Mutex
	var total foSummary
	cpu0 := foCPU()
	t.Run("seeds", func(t *testing.T) {
		for _, seed := range seeds {
			t.Run(fmt.Sprintf("seed=%d", seed), func(t *testing.T) {
				if len(seeds) > 1 {
					t.Parallel()
				}
				sum := runFailoverSim(t, seed)
				mu.Lock()
				total.add(sum)
				mu.Unlock()
			})
		}
	})
	t.Logf("%d seeds (GOMAXPROCS %d): failover: %s; %v of CPU", total.seeds, runtime.GOMAXPROCS(0), total,
		(foCPU() - cpu0).Round(time.Millisecond))
}

// foCPU returns the CPU time this process has used (user and system).
func foCPU() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestStressFailoverOwnerCutOff: a group's owner is cut off from the
// others, and the checks of the stress run judge what follows.
//
//   - exec: the majority takes the group over once the owner has stopped
//     it (rmcheck finds no overlap); the run loses no acknowledged change,
//     and an acknowledged change the cluster does not show is reported
//     lost.
//   - exec, cut off silently: the same, with the owner's streams left
//     open and losing what is written (a pulled cable), so that nothing
//     but timers tells either side.
//   - slow OCF stop: the owner's stop takes its whole stop timeout but a
//     millisecond, which the self-fencing window allows for; still no
//     overlap. (This failed with the lease checked only every 125 ms: the
//     owner began to stop 125 ms after its lease ran out, the window
//     allows 75 ms.)
//   - an owner that cannot fence itself (its runner's StopAll does
//     nothing): it keeps running the group after the majority started it,
//     and rmcheck finds the overlap. The checks can fail.
func TestStressFailoverOwnerCutOff(t *testing.T) {
	for _, tc := range []struct {
		name    string
		ocf     bool
		noFence bool
		silent  bool // cut off as by a pulled cable: its streams stay open
	}{
		{name: "exec"},
		{name: "exec, cut off silently", silent: true},
		{name: "slow OCF stop", ocf: true},
		{name: "no self-fencing", noFence: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			base := foStateBase(t)
			synctest.Test(t, func(t *testing.T) {
				s := newFoRun(t, 1, rand.New(rand.NewSource(1)), base, 3)
				s.silent = tc.silent
				s.w.mu.Lock()
				s.w.slowStops, s.w.noFence = tc.ocf, tc.noFence
				s.w.mu.Unlock()
				s.waitAllUp("start")
				s.groups = []*foGroup{{name: "grp1", resources: []string{"res1"}}}
				s.groupOf["res1"] = "grp1"
				agent := "exec"
				if tc.ocf {
					agent = "ocf:sim:Dummy"
				}
				s.must("group grp1", "exists", engine.Request{Op: engine.OpCreateGroup, Group: "grp1"}, failover.CodeSuccess)
				s.must("resource res1", "exists", engine.Request{Op: engine.OpCreateResource, Resource: "res1", Group: "grp1",
					Agent: agent, Props: s.resourceProps(!tc.ocf)}, failover.CodeSuccess)
				s.must("state grp1", "online", engine.Request{Op: engine.OpOnlineGroup, Group: "grp1"},
					failover.CodeSuccess, failover.CodeIOPending)
				owner := -1
				require.Empty(t, foEventually(time.Minute, func() string {
					why := "no view"
					s.anyView(func(e *engine.Engine) {
						g, _ := e.Group("grp1")
						if r, _ := e.Resource("res1"); r.State != failover.ResourceOnline {
							why = "res1 is " + r.State.String()
							return
						}
						owner, why = slices.Index(s.names, g.Owner), ""
					})
					return why
				}), "res1 comes online")
				require.GreaterOrEqual(t, owner, 0, "grp1 has an owner")
				s.isolated = []int{owner}
				s.partition()
				s.logf("%s (grp1's owner) is cut off", s.names[owner])
				// Simulated time (synctest): long enough for the takeover.
				time.Sleep(20 * time.Second)
				s.isolated = nil
				s.partition()
				unsettled := s.quiet()
				records, vs := s.overlaps()
				defer func() {
					for i := range s.nodes {
						s.killManager(i)
					}
				}()
				if tc.noFence {
					require.NotEmpty(t, vs, "rmcheck finds grp1 running on two nodes\n%s", s.report())
					t.Logf("rmcheck: %s", rmcheck.Report(vs))
					return
				}
				require.Empty(t, vs, "grp1 never runs on two nodes\n%s\n%s", foLogAround(records, vs), s.report())
				require.Empty(t, unsettled, "the cluster settles\n%s", s.report())
				var moved bool
				s.anyView(func(e *engine.Engine) {
					g, _ := e.Group("grp1")
					moved = g.Owner != s.names[owner] && g.State == failover.GroupOnline
				})
				require.True(t, moved, "grp1 was taken over by another node\n%s", s.report())
				lost, checked := s.lostChanges()
				require.Empty(t, lost, "the run loses no acknowledged change")
				require.Equal(t, 3, checked, "the group, the resource and grp1's state are checked")
				s.reqs = append(s.reqs, &foReq{target: "state grp1", value: "offline", code: failover.CodeSuccess,
					req: engine.Request{Op: engine.OpOfflineGroup, Group: "grp1"}, issued: time.Now()})
				lost, _ = s.lostChanges()
				require.Len(t, lost, 1, "an acknowledged offline that the cluster does not show is reported lost")
			})
		})
	}
}

// TestStressFailoverStartWhileLeaseStale: a group is moved to a node whose
// own lease renewals are not approved in its eyes (its manager does not
// see the lease group's approvals for a while; it stays a member of
// everything). Its manager holds the start back, its lease runs out while
// the engine counts the start as running there, so it fences itself;
// once its lease is renewed again the start must still run, and the
// group come online there.
func TestStressFailoverStartWhileLeaseStale(t *testing.T) {
	base := foStateBase(t)
	synctest.Test(t, func(t *testing.T) {
		s := newFoRun(t, 1, rand.New(rand.NewSource(1)), base, 3)
		s.waitAllUp("start")
		s.groups = []*foGroup{{name: "grp1", resources: []string{"res1"}}}
		s.groupOf["res1"] = "grp1"
		s.must("group grp1", "exists", engine.Request{Op: engine.OpCreateGroup, Group: "grp1"}, failover.CodeSuccess)
		s.must("resource res1", "exists", engine.Request{Op: engine.OpCreateResource, Resource: "res1", Group: "grp1",
			Agent: "exec", Props: s.resourceProps(true)}, failover.CodeSuccess)
		s.must("state grp1", "online", engine.Request{Op: engine.OpOnlineGroup, Group: "grp1"},
			failover.CodeSuccess, failover.CodeIOPending)
		owner := -1
		require.Empty(t, foEventually(time.Minute, func() string {
			why := "no view"
			s.anyView(func(e *engine.Engine) {
				g, _ := e.Group("grp1")
				if r, _ := e.Resource("res1"); r.State != failover.ResourceOnline {
					why = "res1 is " + r.State.String()
					return
				}
				owner, why = slices.Index(s.names, g.Owner), ""
			})
			return why
		}), "res1 comes online")
		x := (owner + 1) % 3
		// Node x's manager again, its connection relayed.
		s.killManager(x)
		s.nodes[x].hold = &foHold{}
		s.startManager(x)
		s.waitAllUp("node x's manager is back")
		s.nodes[x].hold.hold()
		s.logf("%s's manager no longer sees its lease renewed", s.names[x])
		// Simulated time (synctest): let its lease run out.
		time.Sleep(2 * time.Second)
		s.must("state grp1", "", engine.Request{Op: engine.OpMoveGroup, Group: "grp1", Node: s.names[x]},
			failover.CodeSuccess, failover.CodeIOPending)
		// Simulated time (synctest): the start reaches node x and waits.
		time.Sleep(2 * time.Second)
		s.nodes[x].hold.release()
		s.logf("%s's manager sees its lease renewed again", s.names[x])
		unsettled := s.quiet()
		_, vs := s.overlaps()
		require.Empty(t, vs, "grp1 never runs on two nodes\n%s", s.report())
		require.Empty(t, unsettled, "grp1 comes online after all\n%s", s.report())
		for i := range s.nodes {
			s.killManager(i)
		}
	})
}
