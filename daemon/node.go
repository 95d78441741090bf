// Package daemon is the hags node daemon as a library: a Node accepts client
// sessions on a socket, feeds what they send to the protocol engine as
// ordered events, and carries out the engine's effects (notifications to its
// own clients, deactivate scripts for its own providers). cmd/hagsd is a thin
// wrapper around it; gsapitest runs a Node in-process.
//
// docs/design/daemon.md describes the goroutines, queue bounds, socket path
// and authentication.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/memberlist"
	"github.com/hashicorp/raft"
	"golang.org/x/sync/errgroup"

	"github.com/openhags/hags/daemon/access"
	"github.com/openhags/hags/daemon/agreement"
	"github.com/openhags/hags/daemon/domain"
	"github.com/openhags/hags/daemon/ipc"
	"github.com/openhags/hags/daemon/membership"
	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/accept"
	"github.com/openhags/hags/internal/unixsock"
	"github.com/openhags/hags/internal/wire"
)

// Version is the daemon's version string, reported in Status. Builds set it
// with -ldflags "-X github.com/openhags/hags/daemon.Version=...".
var Version = "dev"

// Defaults used when a Config field is empty.
const (
	DefaultDomain      = wire.DefaultDomain
	DefaultClientGroup = "hagsuser"
	// SocketDir is the directory under which DefaultSocketPath places each
	// domain's socket.
	SocketDir = wire.SocketDir
)

// Session bounds; docs/design/daemon.md explains them.
const (
	// MaxAdminSessions bounds concurrent admin (hagsctl) sessions. They
	// are counted apart from wire.MaxClientsPerDaemon so that an operator
	// can still look at a daemon whose client slots are all taken.
	MaxAdminSessions = 64
	// OutboxFrames and OutboxBytes bound the frames queued for one
	// session and not yet written. A client that stops reading until
	// either is reached is disconnected, which fails its providers.
	OutboxFrames = 4096
	OutboxBytes  = 16 << 20
	// HelloTimeout is how long a new connection may take to send Hello.
	HelloTimeout = 10 * time.Second
)

// DefaultReplaceAfter is how long a voter must have been gone before the
// leader puts a healthy follower in its place (Cluster.ReplaceAfter); the
// domain's Keeper owns the rule.
const DefaultReplaceAfter = domain.DefaultReplaceAfter

// DefaultSocketPath returns the socket a domain's daemon serves when no path
// is configured: /run/hags/<domain>/hagsd.sock. Clients derive the same path
// from HA_DOMAIN_NAME unless HA_GS_SOCKET overrides it.
func DefaultSocketPath(domain string) string { return wire.SocketPath(domain) }

// ScriptRunner runs deactivate scripts for the daemon. Run must not block
// on the script: it starts it and calls done exactly once, from any
// goroutine, with the outcome. daemon/scripts provides the real one.
type ScriptRunner interface {
	Run(run *protocol.ScriptRun, done func(protocol.ScriptResult))
}

// Config configures a Node. The zero value is a usable one-node domain
// "hags", node 1, serving DefaultSocketPath("hags").
type Config struct {
	Domain      string       // default "hags" (cmd/hagsd reads HA_DOMAIN_NAME)
	Node        int32        // default 1
	Socket      string       // Unix socket path; DefaultSocketPath(Domain) when empty
	ClientGroup string       // group whose members may connect besides root; default "hagsuser"
	Logger      *slog.Logger // default: discard

	// Authorize identifies and admits a peer before anything is read
	// from it. nil: SO_PEERCRED on a *net.UnixConn (root, or a member,
	// primary or supplementary, of ClientGroup); anything else is refused
	// with wire.PermissionDenied. A refusing Authorize should still return
	// whatever it learned of the peer, for the log.
	Authorize func(net.Conn) (protocol.Cred, error)

	// Scripts runs deactivate scripts. nil: every script the engine asks
	// for is reported as wire.DeactivateFailed, with a log line.
	Scripts ScriptRunner

	// CheckScript validates a client's deactivate script path (from
	// Hello) against the client's uid and gid; a failure refuses the
	// session with wire.BadParameter. nil: paths are not checked here.
	CheckScript func(path string, uid, gid uint32) error

	// Access decides which of this daemon's own clients may join groups
	// that another uid owns: the grant it attaches to their joins
	// (docs/access-control.md). It is read, never changed, by the run
	// loop. nil: the owner mode without rules.
	Access *access.Policy

	// Incarnation distinguishes this run of the daemon from earlier ones
	// on the same node; client ids fold it in. 0: one more than the last
	// one recorded in Cluster.DataDir, or the start time in Unix seconds.
	Incarnation uint32

	// Name is this node's name in a one-node domain (a domain of several
	// nodes takes Cluster.Name); default "node<N>". Clients learn it at
	// init (gsapi.Client.NodeName).
	Name string

	// Cluster joins a domain of several nodes. nil: a one-node domain
	// (the daemon is its only raft voter, in memory).
	Cluster *Cluster

	// Operations (daemon/operations.go): metrics, a heartbeat and word of
	// admission for a service manager.
	Operations
}

// Cluster is a daemon's place in a domain of several nodes.
type Cluster struct {
	// Name is this node's name, shown by hagsctl; default "node<N>".
	Name string
	// Addr is this daemon's raft address (host:port): the others dial
	// it, and it is listened on unless Stream is set.
	Addr string
	// Voters are the domain's initial voters (3 or 5), this daemon
	// included or not. The listed daemons bootstrap the domain; the
	// others join it as followers.
	Voters []agreement.Server
	// DataDir keeps raft's term, vote and log, and the incarnation
	// counter (docs/design/domain.md). Empty: in memory, for simulations
	// only.
	DataDir string
	// Stream carries raft and forwarding traffic between daemons; nil:
	// plain TCP on Addr. The TLS layer plugs in here.
	Stream raft.StreamLayer
	// Transport replaces raft's network transport (simulations).
	Transport raft.Transport
	// Store replaces DataDir with raft state kept by the caller
	// (simulations keep it across a simulated restart).
	Store agreement.Storage
	// Snapshots keeps raft's snapshots for the caller, next to Store;
	// nil: under DataDir (docs/design/domain.md).
	Snapshots raft.SnapshotStore
	// Snapshot says when the engine is snapshotted and the log trimmed;
	// zero fields: agreement.DefaultSnapshotPolicy.
	Snapshot agreement.SnapshotPolicy
	// Timing of raft; zero: agreement.LANTiming.
	Timing agreement.Timing

	// Gossip is this daemon's failure-detector address (host:port, UDP
	// and TCP), unless GossipTransport is set.
	Gossip string
	// Join are the other daemons' gossip addresses, tried until one
	// answers.
	Join []string
	// GossipKeys encrypt and authenticate gossip (hagsctl domain init),
	// the primary first (membership.Config.Keys); empty: plain.
	GossipKeys [][]byte
	// GossipTransport replaces memberlist's network (simulations).
	GossipTransport memberlist.NodeAwareTransport
	// GossipTiming; zero: membership.LANTiming.
	GossipTiming membership.Timing
	// ReplaceAfter is how long a voter must have been gone (dead or left,
	// and down in the log) before the leader promotes a healthy follower
	// in its place; zero: DefaultReplaceAfter.
	ReplaceAfter time.Duration
}

// engine is what the Node needs of protocol.Engine; tests substitute a fake.
type engine interface {
	Step(protocol.Event) []protocol.Effect
	NextDeadline() (int64, bool)
	ScriptNode(id uint64) (int32, bool)
	Clients() int
	Groups() []wire.GroupSummary
	Group(name string) (*wire.GroupDetail, bool)
}

// Serving states of a Node (Node.state).
const (
	stateJoining int32 = iota // not yet admitted: sessions are taken, their events wait
	stateUp                   // admitted to the domain
	stateDown                 // out of the domain: sessions are refused with NotOK
)

// Node is one daemon. It keeps the client sessions, the run loop and the
// effects; each job has its files:
//
//   - sessions: accepting (Listen, Serve, Close here), admission and Hello
//     (session.go, admission.go), reading and judging requests
//     (session.go), responsiveness checks (responsiveness.go);
//   - the run loop, the only goroutine that touches the session table
//     (loop.go);
//   - the effects the log asks of this node: notifications and deactivate
//     scripts (effects.go, localscripts.go);
//   - admin queries (admin.go).
//
// Its place in the domain belongs to others: the agreement (the log, which
// owns the engine) and, in a domain of several nodes, the domain's Keeper,
// which decides who belongs and tells the Node when it is cut off. Its
// methods are safe for concurrent use.
type Node struct {
	cfg     Config
	log     *slog.Logger
	started time.Time
	now     func() time.Time

	// Its place in the domain.
	eng   engine // stepped by the agreement's FSM; read only under agr.View
	agr   *agreement.Agreement
	dom   *domain.Keeper // nil in a one-node domain
	state atomic.Int32   // stateJoining, stateUp, stateDown

	// Its goroutines, and what Close closes.
	ctx       context.Context
	cancel    context.CancelFunc
	g         errgroup.Group
	mu        sync.Mutex
	closing   chan struct{} // closed by Close, under mu, before it closes the listeners
	listeners map[net.Listener]struct{}
	conns     map[net.Conn]struct{}
	closeOnce sync.Once

	// Sessions: their numbering, bounds and refusals.
	nextConn   atomic.Uint32
	maxClients int32         // wire.MaxClientsPerDaemon; tests lower it
	respUnit   time.Duration // a second of responsiveness settings; tests shorten it
	clients    atomic.Int32  // admitted non-admin sessions
	admins     atomic.Int32  // admitted admin sessions
	ffdcSeq    atomic.Uint64 // last FFDC id handed out (newFFDC)
	adapters   []wire.Adapter
	adm        *admission  // connections not yet sessions, sessions per uid
	refusals   *refusalLog // the rate-limited log of refusals
	reqRate    float64     // each session's token bucket: RequestBytesPerSecond, RequestBurst; tests lower them
	reqBurst   int

	// The run loop's inputs.
	in        chan loopMsg                    // sessions and the Keeper → run loop
	scriptsQ  *handoff[protocol.ScriptResult] // script runner → run loop
	appliedQ  *handoff[agreement.Applied]     // FSM → run loop, in log order: what is not a notification
	idleAfter time.Duration                   // the run loop calls onIdle once it has been idle this long after work
	onIdle    func()

	// The session table, by ClientID.Conn: the run loop alone changes it
	// (under sessMu) and reads it freely; the apply path (delivered, on
	// raft's FSM goroutine) reads it under sessMu.
	sessMu   sync.RWMutex
	sessions map[uint64]*session
	// flushRound numbers the apply path's batches (delivered's own).
	flushRound uint64
	// activity counts the batches delivered and the run loop's inputs:
	// the run loop's idle check reads it.
	activity atomic.Uint64

	// The run loop's own.
	scripts *scriptBook // deactivate scripts local sessions registered
	epoch   uint64      // this daemon's admission epoch; 0: not admitted

	// What the service manager asked for (Config.Operations).
	met *nodeMetrics // nil without Config.Metrics
}

// New validates cfg, fills in defaults and starts the Node's run loop. The
// Node serves nothing until Serve; Close stops it.
func New(cfg Config) (*Node, error) {
	return newNode(cfg, protocol.New())
}

func newNode(cfg Config, eng engine) (*Node, error) {
	if cfg.Domain == "" {
		cfg.Domain = DefaultDomain
	}
	if err := checkDomain(cfg.Domain); err != nil {
		return nil, err
	}
	if cfg.Node == 0 {
		cfg.Node = 1
	}
	if cfg.Node < 0 {
		return nil, fmt.Errorf("daemon: node number %d is negative", cfg.Node)
	}
	if cfg.Socket == "" {
		cfg.Socket = DefaultSocketPath(cfg.Domain)
	}
	if cfg.ClientGroup == "" {
		cfg.ClientGroup = DefaultClientGroup
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Authorize == nil {
		cfg.Authorize = ipc.Authorizer(cfg.ClientGroup)
	}
	started := time.Now()
	if cfg.Incarnation == 0 && (cfg.Cluster == nil || cfg.Cluster.DataDir == "") {
		cfg.Incarnation = uint32(started.Unix())
	}
	ctx, cancel := context.WithCancel(context.Background())
	n := &Node{
		cfg:        cfg,
		log:        cfg.Logger.With("domain", cfg.Domain, "node", cfg.Node),
		eng:        eng,
		started:    started,
		now:        time.Now,
		ctx:        ctx,
		cancel:     cancel,
		in:         make(chan loopMsg, 1024),
		scriptsQ:   newHandoff[protocol.ScriptResult](),
		appliedQ:   newHandoff[agreement.Applied](),
		closing:    make(chan struct{}),
		listeners:  make(map[net.Listener]struct{}),
		conns:      make(map[net.Conn]struct{}),
		sessions:   make(map[uint64]*session),
		scripts:    newScriptBook(RememberedEndedSessions),
		maxClients: wire.MaxClientsPerDaemon,
		respUnit:   time.Second,
		adapters:   localAdapters(cfg.Node),
		idleAfter:  idleMemoryReturn,
		onIdle:     returnMemory,
		adm:        newAdmission(),
		reqRate:    RequestBytesPerSecond,
		reqBurst:   RequestBurst,
	}
	n.refusals = newRefusalLog(n.log, RefusalLogEvery)
	acfg := agreement.Config{
		Node:        cfg.Node,
		Incarnation: uint64(cfg.Incarnation),
		Engine:      eng,
		Logger:      n.log,
		Now:         func() time.Time { return n.now() },
		Deliver:     n.delivered,
	}
	if c := cfg.Cluster; c != nil {
		if len(c.Voters) == 0 {
			cancel()
			return nil, errors.New("daemon: a domain of several nodes needs its voters")
		}
		acfg.Voters, acfg.Addr, acfg.DataDir, acfg.Store = c.Voters, c.Addr, c.DataDir, c.Store
		acfg.Stream, acfg.Transport, acfg.Timing = c.Stream, c.Transport, c.Timing
		acfg.Snapshots, acfg.Snapshot = c.Snapshots, c.Snapshot
		n.dom = domain.New(n.domainConfig())
		acfg.AdmitCheck = n.dom.Admissible
	}
	// The metrics exist before raft runs: its FSM goroutine counts in
	// them from the first entry applied (Node.delivered).
	if err := n.startOperations(); err != nil {
		cancel()
		return nil, err
	}
	agr, err := agreement.New(acfg)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("daemon: %w", err)
	}
	n.agr = agr
	n.cfg.Incarnation = uint32(agr.Incarnation())
	n.met.observeRaft()
	if n.dom != nil {
		if err := n.dom.Start(agr); err != nil {
			cancel()
			agr.Close()
			return nil, fmt.Errorf("daemon: %w", err)
		}
	}
	n.g.Go(n.run)
	n.log.Info("node started", "version", Version, "incarnation", n.cfg.Incarnation, "pid", os.Getpid(),
		"several_nodes", cfg.Cluster != nil, "group_access", cfg.Access.Describe())
	return n, nil
}

// domainConfig configures the Keeper of a domain of several nodes: its
// failure detector, and its two hooks into this Node.
func (n *Node) domainConfig() domain.Config {
	c := n.cfg.Cluster
	name := c.Name
	if name == "" {
		name = fmt.Sprintf("node%d", n.cfg.Node)
	}
	return domain.Config{
		Detector: membership.Config{
			Node:      n.cfg.Node,
			Name:      name,
			RaftAddr:  c.Addr,
			Bind:      c.Gossip,
			Join:      c.Join,
			Keys:      c.GossipKeys,
			Transport: c.GossipTransport,
			Timing:    c.GossipTiming,
			Logger:    n.log,
			LibLogger: agreement.StdLogger(n.log, "memberlist"),
		},
		ReplaceAfter: c.ReplaceAfter,
		Logger:       n.log,
		Serving:      n.Admitted,
		CutOff:       func() { n.send(loopMsg{kind: loopCutOff}) },
	}
}

func checkDomain(d string) error {
	if d == "." || d == ".." || strings.ContainsAny(d, "/\x00") {
		return fmt.Errorf("daemon: invalid domain name %q", d)
	}
	return nil
}

// Socket returns the socket path the Node listens on with Listen.
func (n *Node) Socket() string { return n.cfg.Socket }

// Listen creates the Unix socket at the configured path (see unixsock.Listen:
// creates the directory, removes a stale socket, mode 0666 because access
// is checked by SO_PEERCRED). Close closes the listener, which removes the
// socket file.
func (n *Node) Listen() (net.Listener, error) {
	ln, err := unixsock.Listen(n.cfg.Socket)
	if err != nil {
		return nil, fmt.Errorf("daemon: %w", err)
	}
	if !n.track(ln) {
		ln.Close()
		return nil, errors.New("daemon: node is closed")
	}
	return ln, nil
}

func (n *Node) track(ln net.Listener) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.isClosed() {
		return false
	}
	n.listeners[ln] = struct{}{}
	return true
}

// Serve accepts connections on ln and serves each as a client session
// until Close, then returns nil. Any net.Listener works (gsapitest uses an
// in-memory one). Serve may be called for several listeners concurrently.
func (n *Node) Serve(ln net.Listener) error {
	if !n.track(ln) {
		ln.Close()
		return nil
	}
	for {
		c, err := accept.Next(ln, n.closing, n.log)
		switch {
		case errors.Is(err, accept.ErrStopped):
			return nil
		case err != nil:
			return fmt.Errorf("daemon: listener closed: %w", err)
		}
		if !n.startConn(c) {
			c.Close()
			return nil
		}
	}
}

// isClosed reports whether Close has begun.
func (n *Node) isClosed() bool {
	select {
	case <-n.closing:
		return true
	default:
		return false
	}
}

func (n *Node) startConn(c net.Conn) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.isClosed() {
		return false
	}
	n.conns[c] = struct{}{}
	n.g.Go(func() error {
		n.serveConn(c)
		n.mu.Lock()
		delete(n.conns, c)
		n.mu.Unlock()
		return nil
	})
	return true
}

// Close stops accepting connections, closes every session and the
// listeners (removing the socket file Listen created), and returns after
// every goroutine of the Node has exited. Sessions are not failed in the
// engine: the engine stops with the Node. Close is idempotent.
func (n *Node) Close() error {
	var err error
	n.closeOnce.Do(func() {
		if n.dom != nil {
			n.dom.Leave()
		}
		n.mu.Lock()
		close(n.closing)
		for ln := range n.listeners {
			ln.Close()
		}
		for c := range n.conns {
			c.Close()
		}
		n.mu.Unlock()
		n.cancel()
		err = n.g.Wait()
		n.met.close()
		if n.dom != nil {
			err = errors.Join(err, n.dom.Close())
		}
		err = errors.Join(err, n.agr.Close())
		n.refusals.close()
		n.log.Info("node stopped")
	})
	return err
}

// Name returns this node's name: Cluster.Name in a domain of several nodes,
// else Config.Name, else "node<N>".
func (n *Node) Name() string {
	switch {
	case n.cfg.Cluster != nil && n.cfg.Cluster.Name != "":
		return n.cfg.Cluster.Name
	case n.cfg.Name != "":
		return n.cfg.Name
	}
	return fmt.Sprintf("node%d", n.cfg.Node)
}
