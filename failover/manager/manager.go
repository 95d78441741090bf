// Package manager is hagsrmd as a library: the failover manager of one
// node. It joins its node's managers' groups through Group Services, keeps
// the agreed log (core) and its durable copy (store), steps the engine,
// carries out the engine's outputs for its node (agent actions, timers,
// fence commands, replies) and holds the lease that bounds how long it may
// run resources without the cluster. docs/design/failover.md describes the
// design.
package manager

import (
	"context"
	"errors"
	"fmt"
	"github.com/openhags/hags/failover/internal/mgmt"
	"github.com/openhags/hags/internal/unixsock"
	"log/slog"
	"math/rand/v2"
	"net"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/sync/errgroup"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/console"
	"github.com/openhags/hags/failover/engine"
	"github.com/openhags/hags/gsapi"
)

// The managers' Group Services groups. Names under "hags." may be joined
// only by root's processes.
const (
	LogGroup   = "hags.rm"
	LeaseGroup = "hags.rm.lease"
)

// Timing of the log and the lease.
const (
	// renewEvery is how often a manager that runs resources renews its
	// lease.
	renewEvery = 250 * time.Millisecond
	// voteLimit bounds one phase of a batch protocol (seconds): a member
	// that does not vote by then is tardy and the batch is sent again.
	voteLimit = 5
	// maxBatchInputs and maxBatchBytes bound one batch.
	maxBatchInputs = 512
	maxBatchBytes  = 1 << 20
	// reconnectEvery paces attempts to reach hagsd again.
	reconnectEvery = 500 * time.Millisecond
)

// Runner runs the agents of the resources this node owns
// (failover/agent's Runner satisfies it).
type Runner interface {
	// Run starts a in the background and calls done once with its result.
	Run(a engine.Action, done func(engine.ActionResult))
	// Probe reports which of the resources run on this node.
	Probe(ctx context.Context, res []ProbeSpec) ([]string, error)
	// StopAll stops everything this node runs: exec resources at once
	// (SIGKILL) when fast, OCF resources with their stop, bounded by
	// timeout(resource). It returns when all have stopped or been killed.
	StopAll(ctx context.Context, fast bool, timeout func(resource string) time.Duration)
	// Close stops monitoring and waits for the runner's goroutines.
	Close() error
}

// ProbeSpec names a resource to probe and how.
type ProbeSpec struct {
	Resource string
	Agent    failover.AgentSpec
	Params   map[string]string
}

// Config configures a Manager.
type Config struct {
	// Name is this node's name; empty: the name hagsd gives it.
	Name string
	// GSOptions reach the node's hagsd (WithSocket, WithDialer, ...).
	GSOptions []gsapi.Option
	// StateDir keeps the durable state (created 0700).
	StateDir string
	// Runner runs agents; Failures from it are reported through
	// Manager.ReportFailure.
	Runner Runner
	// Fence runs a node's fence command; nil: FenceCommand.
	Fence func(ctx context.Context, command, node string) error
	// LeaseTimeout overrides engine.LeaseTimeout (tests).
	LeaseTimeout time.Duration
	Logger       *slog.Logger

	// Socket is the management socket to serve (hagsrm); empty: none.
	Socket string
	// AdminGroup and UserGroup name the groups whose members get access
	// All and Read on it (defaults hagsadmin and hagsuser).
	AdminGroup, UserGroup string

	// Console is the address (HOST:PORT) of the web console to serve
	// (package console); empty: none. An address other than loopback
	// needs ConsoleRemote, and then the console's token is needed to
	// read it too.
	Console       string
	ConsoleRemote bool

	// Metrics is where the manager registers its metrics
	// (docs/metrics.md); nil: none.
	Metrics prometheus.Registerer
	// Ready is called once by Run when the manager serves its management
	// socket and its console (at once without them); hagsrmd tells
	// systemd then. nil: not called.
	Ready func()
}

// Manager is one node's failover manager. Its exported methods are safe
// for concurrent use; everything else runs on its run loop.
type Manager struct {
	cfg Config
	log *slog.Logger
	inc uint64

	in   *inbox
	met  *metrics // nil without Config.Metrics
	g    *errgroup.Group
	ctx  context.Context
	stop context.CancelFunc

	// Owned by the run loop.
	st       *store
	c        *core
	gs       *gsapi.Client
	logTok   gsapi.Token
	leaseTok gsapi.Token
	node     engine.NodeID
	name     string
	session  uint64 // bumped at every new hagsd session
	prop     proposer
	seq      uint64 // requests and batches of this run
	waiting  map[uint64]func(engine.Reply)
	timers   map[timerKey]*time.Timer
	held     []engine.Action // starts waiting for a valid lease
	live     bool            // synced, and the hagsd session is up

	// lease has its own lock and goroutine (lease.go).
	lease lease

	// mu orders the engine's steps (the core's) and readers; it also
	// guards rw and the watchers.
	mu       sync.Mutex
	rw       bool
	watchers map[int]chan failover.Change
	nextW    int
	console  *failover.ConsoleInfo // set once the console listens
}

type timerKey struct {
	kind engine.TimerKind
	key  string
}

// New opens cfg.StateDir and returns a Manager that does not run yet.
func New(cfg Config) (*Manager, error) {
	if cfg.Runner == nil {
		return nil, errors.New("manager: no agent runner")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.LeaseTimeout == 0 {
		cfg.LeaseTimeout = engine.LeaseTimeout
	}
	if cfg.Fence == nil {
		cfg.Fence = FenceCommand
	}
	m := &Manager{cfg: cfg, log: cfg.Logger, inc: uint64(time.Now().UnixNano()), in: newInbox(),
		waiting: map[uint64]func(engine.Reply){}, timers: map[timerKey]*time.Timer{},
		watchers: map[int]chan failover.Change{}}
	st, l, err := openStore(cfg.StateDir, m.log)
	if err != nil {
		return nil, err
	}
	eng, at, err := replay(l, m.restoreLocked, m.log)
	if err != nil {
		st.close()
		return nil, fmt.Errorf("manager: state in %s: %w", cfg.StateDir, err)
	}
	m.st = st
	m.c = newCore(0, m.inc, eng, at, m.restoreLocked, m, m.log)
	if cfg.Metrics != nil {
		if m.met, err = newMetrics(m, cfg.Metrics); err != nil {
			st.close()
			return nil, fmt.Errorf("manager: metrics: %w", err)
		}
	}
	m.log.Info("durable state loaded", "dir", cfg.StateDir, "at", at)
	return m, nil
}

// Run runs the manager until ctx ends or Close: it connects to hagsd
// (again and again if the session is lost) and serves. It returns after
// every goroutine it started has ended.
func (m *Manager) Run(ctx context.Context) error {
	ctx, m.stop = context.WithCancel(ctx)
	m.ctx = ctx
	m.g, ctx = errgroup.WithContext(ctx)
	if a, ok := m.cfg.Runner.(*Agents); ok {
		a.setFailures(m.ReportFailure)
	}
	if m.cfg.Console != "" { // first: nothing runs yet if it cannot listen
		if err := m.serveConsole(ctx); err != nil {
			return err
		}
	}
	if m.cfg.Socket != "" {
		ln, err := unixsock.Listen(m.cfg.Socket)
		if err != nil {
			m.stop() // the console, if it runs
			_ = m.g.Wait()
			return fmt.Errorf("manager: management socket: %w", err)
		}
		srv, err := mgmt.New(mgmt.Config{Backend: backend{m}, AdminGroup: m.cfg.AdminGroup,
			UserGroup: m.cfg.UserGroup, Logger: m.log.With("component", "mgmt")})
		if err != nil {
			ln.Close()
			m.stop()
			_ = m.g.Wait()
			return err
		}
		m.g.Go(func() error {
			if err := srv.Serve(ln); !errors.Is(err, mgmt.ErrClosed) {
				return err
			}
			return nil // closed below, when ctx ends: a stop on request
		})
		m.g.Go(func() error {
			<-ctx.Done()
			return srv.Close()
		})
		m.log.Info("serving the management socket", "socket", m.cfg.Socket)
	}
	m.g.Go(func() error { return m.loop(ctx) })
	m.g.Go(func() error { return m.leaseLoop(ctx) })
	if m.cfg.Ready != nil {
		m.cfg.Ready()
	}
	err := m.g.Wait()
	if errors.Is(err, context.Canceled) || errors.Is(err, net.ErrClosed) {
		err = nil
	}
	return err
}

// serveConsole listens on the console's address and serves the console
// in the manager's errgroup until ctx ends.
func (m *Manager) serveConsole(ctx context.Context) error {
	loopback, err := console.CheckAddress(m.cfg.Console, m.cfg.ConsoleRemote)
	if err != nil {
		return fmt.Errorf("manager: web console: %w", err)
	}
	token, err := console.NewToken()
	if err != nil {
		return err
	}
	srv, err := console.New(console.Config{Backend: consoleBackend{m}, Token: token, OpenReads: loopback,
		Node: m.cfg.Name, Logger: m.log.With("component", "console")})
	if err != nil {
		return err
	}
	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", m.cfg.Console)
	if err != nil {
		return fmt.Errorf("manager: web console: %w", err)
	}
	info := &failover.ConsoleInfo{URL: console.URL(ln, token), Address: ln.Addr().String(), Token: token}
	m.mu.Lock()
	m.console = info
	m.mu.Unlock()
	m.g.Go(func() error { return srv.Serve(ctx, ln) })
	m.log.Info("serving the web console", "address", info.Address, "reads_need_token", !loopback)
	return nil
}

// loop is the run loop.
func (m *Manager) loop(ctx context.Context) error {
	m.in.put(m.connect)
	for {
		select {
		case <-ctx.Done():
			m.shutdown()
			return nil
		case <-m.in.wake:
			for _, fn := range m.in.take() {
				fn()
			}
		}
	}
}

// do runs fn on the loop.
func (m *Manager) do(fn func()) { m.in.put(fn) }

// connect opens a session with hagsd and joins the managers' groups; on
// failure it tries again later.
func (m *Manager) connect() {
	if m.ctx.Err() != nil {
		return
	}
	opts := append([]gsapi.Option{gsapi.WithProgram("hagsrmd"),
		gsapi.WithDelayedErrorHandler(func(n *gsapi.Notification) { m.do(func() { m.delayedError(n) }) })}, m.cfg.GSOptions...)
	c, err := gsapi.Dial(m.ctx, opts...)
	if err != nil {
		m.log.Warn("cannot reach hagsd; trying again", "err", err, "in", reconnectEvery)
		time.AfterFunc(reconnectEvery, func() { m.do(m.connect) })
		return
	}
	m.session++
	session := m.session
	m.gs = c
	m.node = c.Node()
	m.name = m.cfg.Name
	if m.name == "" {
		m.name = c.NodeName()
	}
	m.c.restart(m.node)
	m.prop = proposer{}
	attrs := gsapi.Attributes{GroupName: LogGroup, NumPhases: gsapi.OnePhase, DefaultVote: gsapi.VoteApprove,
		BatchControl: gsapi.BatchBoth}
	cb := func(f func(n *gsapi.Notification)) func(*gsapi.Notification) {
		return func(n *gsapi.Notification) {
			m.do(func() {
				if m.session == session {
					f(n)
				}
			})
		}
	}
	m.logTok, err = c.Join(gsapi.JoinRequest{Attributes: attrs, Instance: 1, LocalName: m.name,
		Callbacks: gsapi.ProviderCallbacks{
			NPhase:       cb(m.logNotification),
			Approved:     cb(m.logNotification),
			Rejected:     cb(m.logNotification),
			Announcement: cb(m.announcement),
		}})
	if err == nil {
		attrs.GroupName = LeaseGroup
		m.leaseTok, err = c.Join(gsapi.JoinRequest{Attributes: attrs, Instance: 1, LocalName: m.name,
			Callbacks: gsapi.ProviderCallbacks{
				Approved: func(n *gsapi.Notification) { m.leaseNotification(session, n) },
				Rejected: func(n *gsapi.Notification) { m.leaseNotification(session, n) },
			}})
	}
	if err != nil {
		m.log.Error("cannot join the managers' groups", "err", err)
		c.Close()
		time.AfterFunc(reconnectEvery, func() { m.do(m.connect) })
		return
	}
	m.lease.setConn(&leaseConn{gs: c, tok: m.leaseTok, node: m.node, inc: m.inc, session: session})
	m.log.Info("connected to hagsd", "node", m.node, "name", m.name)
	m.g.Go(func() error {
		err := c.Run(m.ctx)
		m.do(func() {
			if m.session == session {
				m.sessionLost(err)
			}
		})
		return nil
	})
}

// sessionLost: the hagsd session ended (hagsd died, or cut this node off
// from the domain). The cluster will fail this manager's groups over, so
// everything it runs stops now.
func (m *Manager) sessionLost(err error) {
	if m.ctx.Err() != nil {
		return
	}
	m.log.Error("lost the hagsd session; stopping every resource of this node", "err", err)
	m.setLive(false)
	// Starts held for a lease were asked for by this session's engine; the
	// next session's, synced anew, may give those groups to other nodes.
	// selfFence drops them too, but not when the node was fenced already:
	// they then ran as soon as the next session's lease came, beside the
	// new owners (failover simulation, seed 475).
	m.held = nil
	m.lease.setConn(nil)
	m.selfFence(true)
	m.failWaiting(failover.CodeSharingPaused, "the manager lost its hagsd session")
	m.gs = nil
	time.AfterFunc(reconnectEvery, func() { m.do(m.connect) })
}

// shutdown stops the manager for good: it stops what this node runs,
// then says goodbye to the groups (so the others take its groups over at
// once, knowing they stopped), and closes the runner and the store.
func (m *Manager) shutdown() {
	m.setLive(false)
	for _, t := range m.timers {
		t.Stop()
	}
	m.lease.mu.Lock()
	fenced := m.lease.fenced
	m.lease.mu.Unlock()
	m.lease.setConn(nil)
	if m.gs != nil && !fenced {
		m.log.Info("stopping this node's resources before leaving")
		timeouts := m.stopTimeouts()
		m.cfg.Runner.StopAll(context.Background(), false, func(r string) time.Duration { return timeouts[r] })
	}
	if m.gs != nil {
		m.gs.Close()
	}
	m.failWaiting(failover.CodeSharingPaused, "the manager is shutting down")
	m.cfg.Runner.Close()
	m.st.close()
}

// Close stops the manager (as cancelling Run's context does).
func (m *Manager) Close() error {
	if m.stop != nil {
		m.stop()
	}
	return nil
}

// setLive records whether the manager serves (synced, with a session) and
// whether it is read/write: also, synced managers of a majority of the
// nodes the cluster knows take part. Only a synced member has made every
// approved change durable, so only synced members count.
func (m *Manager) setLive(live bool) {
	m.live = live
	rw := false
	if live {
		known := m.c.eng.KnownNodes()
		synced := 0
		for _, n := range known {
			if mi := m.c.bk.member(n); mi != nil && mi.Synced {
				synced++
			}
		}
		rw = synced >= len(known)/2+1
	}
	m.mu.Lock()
	m.rw = rw
	m.mu.Unlock()
}

// failWaiting answers every request still waiting for its reply.
func (m *Manager) failWaiting(code failover.Code, why string) {
	for id, fn := range m.waiting {
		fn(engine.Reply{ID: id, Code: code, Message: why})
		delete(m.waiting, id)
	}
	m.prop.requests = nil
}

// FenceCommand runs command with node's name as its only argument; exit 0
// is success.
func FenceCommand(ctx context.Context, command, node string) error {
	return runFence(ctx, command, node)
}

func jitter(d time.Duration) time.Duration { return d + time.Duration(rand.Int64N(int64(d)+1)) }
