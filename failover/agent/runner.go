package agent

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"
	"golang.org/x/sync/singleflight"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/agent/actlog"
	"github.com/openhags/hags/failover/engine"
)

// Defaults.
const (
	// DefaultOCFRoot is the OCF root when Options.OCFRoot is empty.
	DefaultOCFRoot = "/usr/lib/ocf"
	// DefaultActionTimeout bounds an action whose Action.Timeout is 0 and
	// whose agent's meta-data names no usable timeout for it (an exec
	// stop, a start of an agent without meta-data).
	DefaultActionTimeout = 20 * time.Second
	// MetaDataTimeout bounds an agent's meta-data action.
	MetaDataTimeout = 10 * time.Second
	// MaxMetaData is the most meta-data output read from an agent.
	MaxMetaData = 1 << 20
	// ActionLogLimit is how many bytes of one OCF action's output are
	// logged; the rest is counted (the last lines still make the detail).
	ActionLogLimit = 64 << 10
	// MaxDetail bounds the Detail of a result or failure, in bytes.
	MaxDetail = 1024
)

// DefaultMaxAgents is Options.MaxAgents when 0: four agent processes per
// CPU, and at least 8. Without a bound, a configuration that brings
// thousands of OCF resources online at once forks thousands of shell
// scripts together, which starve the manager's own lease renewals until
// it fences itself.
func DefaultMaxAgents() int { return max(8, 4*runtime.NumCPU()) }

// Errors. Validate returns *failover.Error values instead; these are for
// Probe and MetaData, wrapped with %w.
var (
	// ErrClosed: the runner was closed.
	ErrClosed = errors.New("agent runner is closed")
	// ErrBadAgent: the agent spec is not one ParseAgent accepts, or its
	// class is unknown.
	ErrBadAgent = errors.New("not a valid agent")
	// ErrNotInstalled: the OCF agent's file does not exist under the OCF
	// root, or is not an executable regular file.
	ErrNotInstalled = errors.New("agent is not installed")
	// ErrUnsafe: the OCF agent's file, or its directory, may be changed
	// by a user other than root (and this process's user).
	ErrUnsafe = errors.New("agent file may be changed by other users")
	// ErrMetaData: the agent's meta-data could not be read or parsed.
	ErrMetaData = errors.New("no usable meta-data")
)

// Options configure a Runner.
type Options struct {
	// StateDir is the manager's state directory (hagsrmd --state-dir).
	// The runner keeps HA_RSCTMP in StateDir/rsctmp and its exec records
	// in StateDir/exec. Required.
	StateDir string
	// OCFRoot is where OCF agents live: OCFRoot/resource.d/PROVIDER/TYPE.
	// Empty means DefaultOCFRoot.
	OCFRoot string
	// Node is this node's name: OCF agents get it as
	// OCF_RESKEY_CRM_meta_on_node, and action log records carry it.
	Node string
	// Logger receives what agents print and what the runner does. Nil
	// means slog.Default().
	Logger *slog.Logger
	// ActionLog, when set, is the path of the action log the runner
	// appends a record to after every start and stop (package actlog).
	ActionLog string
	// Results receives the result of every Action given to Execute,
	// exactly once each. It is called from the runner's goroutines, one
	// call at a time per resource, never with a lock held; it must not
	// call Close and should return soon (hand the result to a run loop).
	// Nil drops results.
	Results func(engine.ActionResult)
	// MaxAgents bounds how many OCF agent processes run at once for
	// actions other than stop (starts, monitors, probes, validations,
	// meta-data); the others wait for a slot, before their timeout
	// begins. 0 means DefaultMaxAgents. Stops never wait: the
	// self-fencing window counts on a stop beginning at once.
	MaxAgents int
	// Failures receives the failures that monitoring finds (an OCF
	// monitor that fails, an exec process that exits), under the same
	// rules as Results. A failure of a resource is reported once per start;
	// monitoring then stops until the next start.
	Failures func(engine.Failure)
}

// Resource is what Probe and Validate need to know of a resource.
type Resource struct {
	Name   string
	Agent  failover.AgentSpec
	Params map[string]string
	// Timeout bounds the agent action (monitor for Probe, validate-all
	// for Validate); 0 means the agent's meta-data default.
	Timeout time.Duration
}

// Runner runs resource agents on the node that owns their groups. It is
// safe for concurrent use.
//
// Execute runs each action on a goroutine of the runner and reports its
// result through Options.Results: actions of one resource run one after
// another in the order given, actions of different resources at once. A
// successful start begins monitoring; a stop ends it first. Probe,
// Validate and MetaData run an agent and return when it is done (their
// context and the agent's timeout bound them): call them off any run loop
// that must not wait.
//
// The Runner owns its goroutines and the exec resources' processes; Close
// ends them.
type Runner struct {
	log     *slog.Logger
	ocfRoot string
	rsctmp  string
	execDir string
	node    string
	actLog  string
	results func(engine.ActionResult)
	fails   func(engine.Failure)

	ctx    context.Context // done when Close starts
	cancel context.CancelFunc
	group  errgroup.Group
	meta   metaCache
	slots  chan struct{} // one per OCF agent process running, stops aside

	mu        sync.Mutex
	closed    bool
	resources map[string]*resource
}

// resource is what the runner does for one resource. Its fields are
// guarded by Runner.mu.
type resource struct {
	name    string
	queue   []engine.Action    // actions not yet begun, in order
	working bool               // a goroutine is working through queue
	op      engine.ActionOp    // the action running now (0: none)
	abort   context.CancelFunc // aborts the action running now
	mon     *monitor           // OCF monitoring, when on
	exec    *execChild         // the exec resource's process, when running
}

// monitor is one resource's monitoring goroutine.
type monitor struct {
	cancel context.CancelFunc
	done   chan struct{} // closed when the goroutine has returned
}

// New returns a Runner. It creates StateDir/rsctmp (0755) and
// StateDir/exec (0700); HA_RSCTMP is emptied when the machine has booted
// since it was last used, as /run would be.
func New(opts Options) (*Runner, error) {
	if opts.StateDir == "" {
		return nil, errors.New("agent: Options.StateDir is required")
	}
	r := &Runner{
		log:       opts.Logger,
		ocfRoot:   opts.OCFRoot,
		rsctmp:    filepath.Join(opts.StateDir, "rsctmp"),
		execDir:   filepath.Join(opts.StateDir, "exec"),
		node:      opts.Node,
		actLog:    opts.ActionLog,
		results:   opts.Results,
		fails:     opts.Failures,
		resources: make(map[string]*resource),
	}
	if opts.MaxAgents <= 0 {
		opts.MaxAgents = DefaultMaxAgents()
	}
	r.slots = make(chan struct{}, opts.MaxAgents)
	if r.log == nil {
		r.log = slog.Default()
	}
	if r.ocfRoot == "" {
		r.ocfRoot = DefaultOCFRoot
	}
	if err := prepareDir(r.rsctmp, 0o755); err != nil {
		return nil, err
	}
	if err := prepareDir(r.execDir, 0o700); err != nil {
		return nil, err
	}
	if err := r.clearRsctmpAfterBoot(); err != nil {
		return nil, err
	}
	r.ctx, r.cancel = context.WithCancel(context.Background())
	return r, nil
}

// prepareDir creates dir with mode, and sets the mode of one that exists.
func prepareDir(dir string, mode os.FileMode) error {
	if err := os.MkdirAll(dir, mode); err != nil {
		return fmt.Errorf("agent: %w", err)
	}
	if err := os.Chmod(dir, mode); err != nil { // MkdirAll is subject to the umask
		return fmt.Errorf("agent: %w", err)
	}
	return nil
}

// Execute runs a on a goroutine of the runner and reports its result
// through Options.Results; it never blocks on an agent. A stop aborts a
// start of the same resource still running (its result reports the abort)
// and runs after it. After Close, the result reports that the runner is
// closed.
func (r *Runner) Execute(a engine.Action) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		go r.report(engine.ActionResult{ID: a.ID, Resource: a.Resource, Op: a.Op,
			Outcome: engine.OutcomeSoft, Detail: "the agent runner is closed"})
		return
	}
	rs := r.resources[a.Resource]
	if rs == nil {
		rs = &resource{name: a.Resource}
		r.resources[a.Resource] = rs
	}
	rs.queue = append(rs.queue, a)
	if a.Op == engine.ActStop && rs.op == engine.ActStart && rs.abort != nil {
		rs.abort()
	}
	if !rs.working {
		rs.working = true
		r.group.Go(func() error { r.work(rs); return nil })
	}
}

// work runs rs's queued actions one by one and reports each result.
func (r *Runner) work(rs *resource) {
	for {
		r.mu.Lock()
		if len(rs.queue) == 0 {
			rs.working = false
			if rs.mon == nil && rs.exec == nil {
				delete(r.resources, rs.name)
			}
			r.mu.Unlock()
			return
		}
		a := rs.queue[0]
		rs.queue = rs.queue[1:]
		ctx, cancel := context.WithCancel(r.ctx)
		rs.op, rs.abort = a.Op, cancel
		r.mu.Unlock()

		res, then := r.do(ctx, rs, a)
		cancel()
		r.mu.Lock()
		rs.op, rs.abort = 0, nil
		r.mu.Unlock()
		r.report(res)
		if then != nil {
			then() // begins monitoring only once the start's result is out
		}
	}
}

// do runs one action. then, when not nil, is called after the result has
// been reported.
func (r *Runner) do(ctx context.Context, rs *resource, a engine.Action) (res engine.ActionResult, then func()) {
	res = engine.ActionResult{ID: a.ID, Resource: a.Resource, Op: a.Op}
	if a.Op != engine.ActStart && a.Op != engine.ActStop {
		res.Outcome, res.Detail = engine.OutcomeFatal, fmt.Sprintf("unknown action %d", a.Op)
		return res, nil
	}
	began := actlog.Now()
	r.endMonitor(rs) // a stop ends monitoring first; a start begins it anew
	switch a.Agent.Class {
	case failover.AgentOCF:
		res.Outcome, res.Detail, then = r.ocfAction(ctx, rs, a)
	case failover.AgentExec:
		res.Outcome, res.Detail, then = r.execAction(ctx, rs, a)
	default:
		res.Outcome, res.Detail = engine.OutcomeFatal, fmt.Sprintf("%v: class %q", ErrBadAgent, a.Agent.Class)
	}
	ok := res.Outcome == engine.OutcomeOK
	if a.Op == engine.ActStart {
		r.logAction(actlog.Record{Mono: began, Done: actlog.Now(), Resource: a.Resource, Op: actlog.OpStart, OK: ok, Agent: a.Agent.String()})
	} else {
		r.logAction(actlog.Record{Mono: actlog.Now(), Resource: a.Resource, Op: actlog.OpStop, OK: ok,
			Why: actlog.WhyStop, Agent: a.Agent.String()})
	}
	level := slog.LevelInfo
	if !ok {
		level = slog.LevelWarn
	}
	r.log.Log(context.Background(), level, "agent action finished", "resource", a.Resource, "agent", a.Agent.String(),
		"action", opName(a.Op), "id", a.ID, "outcome", outcomeName(res.Outcome), "detail", res.Detail)
	return res, then
}

// startMonitor runs loop as rs's monitoring goroutine. It does nothing
// once the runner is closed.
func (r *Runner) startMonitor(rs *resource, loop func(ctx context.Context)) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return
	}
	ctx, cancel := context.WithCancel(r.ctx)
	m := &monitor{cancel: cancel, done: make(chan struct{})}
	rs.mon = m
	r.group.Go(func() error {
		defer close(m.done)
		loop(ctx)
		r.mu.Lock()
		if rs.mon == m {
			rs.mon = nil
		}
		r.mu.Unlock()
		return nil
	})
}

// endMonitor stops rs's monitoring, killing a monitor action in progress,
// and returns once its goroutine has.
func (r *Runner) endMonitor(rs *resource) {
	r.mu.Lock()
	m := rs.mon
	rs.mon = nil
	r.mu.Unlock()
	if m != nil {
		m.cancel()
		<-m.done
	}
}

// report hands a result to Options.Results.
func (r *Runner) report(res engine.ActionResult) {
	if r.results != nil {
		r.results(res)
	}
}

// fail hands a failure to Options.Failures.
func (r *Runner) fail(f engine.Failure) {
	r.log.Warn("resource failed", "resource", f.Resource, "outcome", outcomeName(f.Outcome), "detail", f.Detail)
	if r.fails != nil {
		r.fails(f)
	}
}

// logAction appends rec to the action log, if there is one.
func (r *Runner) logAction(rec actlog.Record) {
	if r.actLog == "" {
		return
	}
	rec.Node = r.node
	if err := actlog.Append(r.actLog, rec); err != nil {
		r.log.Error("agent: cannot write the action log", "path", r.actLog, "err", err)
	}
}

// Close aborts running actions (their results report it), stops
// monitoring, kills the exec resources' process groups, and returns once
// every goroutine of the runner has returned and every result has been
// reported. It may be called more than once; it always returns nil.
func (r *Runner) Close() error {
	r.mu.Lock()
	r.closed = true
	r.mu.Unlock()
	r.cancel()
	_ = r.group.Wait()
	return nil
}

// bind returns a context that is done when ctx is or when the runner
// closes.
func (r *Runner) bind(ctx context.Context) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(ctx)
	stop := context.AfterFunc(r.ctx, cancel)
	return ctx, func() { stop(); cancel() }
}

// closedErr returns ErrClosed once the runner is closed.
func (r *Runner) closedErr() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return ErrClosed
	}
	return nil
}

// metaCache remembers each agent file's meta-data (see metadata.go).
type metaCache struct {
	flight singleflight.Group
	mu     sync.Mutex
	byPath map[string]metaEntry
}

func opName(op engine.ActionOp) string {
	switch op {
	case engine.ActStart:
		return "start"
	case engine.ActStop:
		return "stop"
	}
	return fmt.Sprintf("action-%d", op)
}

func outcomeName(o engine.Outcome) string {
	switch o {
	case engine.OutcomeOK:
		return "ok"
	case engine.OutcomeSoft:
		return "soft failure"
	case engine.OutcomeHard:
		return "hard failure"
	case engine.OutcomeFatal:
		return "fatal failure"
	}
	return fmt.Sprintf("outcome-%d", o)
}

// clip cuts s to MaxDetail bytes, at a character boundary.
func clip(s string) string {
	if len(s) <= MaxDetail {
		return s
	}
	cut := MaxDetail
	for cut > 0 && s[cut]&0xc0 == 0x80 {
		cut--
	}
	return s[:cut] + "…"
}
