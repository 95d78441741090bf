package agreement

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"path/filepath"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/raft"
	"golang.org/x/sync/errgroup"

	"github.com/openhags/hags/daemon/protocol"
)

// Server is one voter of the domain's initial configuration.
type Server struct {
	Node int32
	Addr string // host:port of its raft (and forwarding) stream
}

// Timing holds raft's timeouts and the agreement's own.
type Timing struct {
	// Heartbeat is how long a follower waits without hearing from the
	// leader before it stands for election (raft HeartbeatTimeout; the
	// leader sends heartbeats ten times as often).
	Heartbeat time.Duration
	// Election is how long a candidate waits for votes (raft
	// ElectionTimeout).
	Election time.Duration
	// LeaderLease is how long a leader keeps leading without hearing
	// from a quorum (raft LeaderLeaseTimeout); at most Heartbeat.
	LeaderLease time.Duration
	// Commit is how long the leader waits for more entries before it
	// sends what it has (raft CommitTimeout).
	Commit time.Duration
	// Apply bounds one append on the leader.
	Apply time.Duration
	// Dial bounds connecting to another daemon (and forwarding I/O).
	Dial time.Duration
	// IO bounds each raft network exchange, heartbeats included: a
	// follower cut off is seen unreachable by the leader within it.
	IO time.Duration
}

// LANTiming is the default for a domain of several daemons on a LAN;
// docs/design/domain.md explains the numbers.
func LANTiming() Timing {
	return Timing{
		Heartbeat:   500 * time.Millisecond,
		Election:    500 * time.Millisecond,
		LeaderLease: 250 * time.Millisecond,
		Commit:      5 * time.Millisecond,
		Apply:       5 * time.Second,
		Dial:        2 * time.Second,
		IO:          time.Second,
	}
}

// LocalTiming is the timing of a one-node domain, which has nobody to wait
// for: it elects itself within tens of milliseconds.
func LocalTiming() Timing {
	return Timing{
		Heartbeat:   20 * time.Millisecond,
		Election:    20 * time.Millisecond,
		LeaderLease: 20 * time.Millisecond,
		Commit:      5 * time.Millisecond,
		Apply:       5 * time.Second,
		Dial:        time.Second,
		IO:          time.Second,
	}
}

// Config configures an Agreement.
type Config struct {
	Node int32 // this daemon's node number (its raft server id)
	// Incarnation is this run of the daemon: larger than any earlier
	// run's, at most 32 bits. 0: the next one recorded in DataDir, or the
	// time in Unix seconds without one.
	Incarnation uint64
	Engine      Engine
	Logger      *slog.Logger
	// Now is the clock the leader stamps entries with; default time.Now.
	Now func() time.Time
	// Deliver receives, in log order, what the entries raft applied
	// together mean for this daemon: one call per batch, with one Applied
	// for each entry that concerns it. It is called on raft's FSM
	// goroutine and must not block (nor call back into the Agreement's
	// blocking methods), nor keep the slice after it returns: its array
	// serves the next batch (copying its elements is fine).
	Deliver func([]Applied)

	// Voters is the domain's initial voters. Empty: a one-node domain of
	// this daemon alone, in memory. A daemon listed here bootstraps the
	// domain with exactly this configuration when it has no raft state;
	// the others wait to be added by the leader.
	Voters []Server
	// Addr is this daemon's raft address, as the others dial it.
	Addr string
	// Stream carries raft and forwarding traffic; nil: plain TCP on
	// Addr. A TLS layer (mutual authentication) plugs in here; over it,
	// each connection may speak only for its certificate's node
	// (identity.go).
	Stream raft.StreamLayer
	// Transport replaces raft's network transport (simulations use
	// raft.InmemTransport); Stream still carries forwarding.
	Transport raft.Transport
	// DataDir holds raft's durable state (raft.db: term, vote and log).
	// Empty: in memory, which is safe only for a one-node domain and for
	// simulations, because a voter must never forget its term, vote or
	// log.
	DataDir string
	// Store, when set, replaces DataDir: raft's log, term and vote
	// (simulations keep an in-memory one across a simulated restart).
	Store Storage
	// Snapshots, when set, keeps raft's snapshots (simulations keep an
	// in-memory one across a simulated restart, next to Store). Without
	// it a domain of several nodes keeps them under DataDir/snapshots, or
	// in memory when DataDir is empty and Store unset; with Store set and
	// no Snapshots nothing is snapshotted, since a log trimmed without
	// its snapshot kept could not be replayed.
	Snapshots raft.SnapshotStore
	// Snapshot says when a domain of several nodes snapshots the engine
	// and trims its log; zero fields take DefaultSnapshotPolicy's.
	Snapshot SnapshotPolicy
	// Timing: zero means LANTiming, or LocalTiming for a one-node domain.
	Timing Timing
	// AdmitCheck, on the leader, says whether another node's admission
	// may be appended now (daemon/domain's Keeper.Admissible). It is
	// called from forwarding goroutines and must not block for long. nil:
	// always.
	AdmitCheck func(node int32, inc uint64) bool
}

// SnapshotPolicy says when raft snapshots the engine and trims its log
// (docs/design/domain.md, "What is kept on disk").
type SnapshotPolicy struct {
	// Threshold is how many entries the log must have gained since the
	// last snapshot before a new one is taken (raft SnapshotThreshold).
	Threshold uint64
	// Interval is how often raft checks the threshold; each check comes
	// after a random pause of one to two intervals (raft
	// SnapshotInterval).
	Interval time.Duration
	// Trailing is how many entries before a snapshot stay in the log, so
	// that a follower a little behind catches up from the log rather than
	// from a whole snapshot (raft TrailingLogs).
	Trailing uint64
	// Retain is how many snapshots DataDir keeps (the newest; at least 1).
	Retain int
}

// DefaultSnapshotPolicy is the policy of a domain of several nodes: a
// snapshot every 8192 entries (a few MiB of log, at a few hundred bytes an
// entry), checked every 30 to 60 s, keeping 2048 entries behind it and
// the last two snapshots.
func DefaultSnapshotPolicy() SnapshotPolicy {
	return SnapshotPolicy{Threshold: 8192, Interval: 30 * time.Second, Trailing: 2048, Retain: 2}
}

// withDefaults fills zero fields from DefaultSnapshotPolicy.
func (p SnapshotPolicy) withDefaults() SnapshotPolicy {
	d := DefaultSnapshotPolicy()
	if p.Threshold == 0 {
		p.Threshold = d.Threshold
	}
	if p.Interval == 0 {
		p.Interval = d.Interval
	}
	if p.Trailing == 0 {
		p.Trailing = d.Trailing
	}
	if p.Retain <= 0 {
		p.Retain = d.Retain
	}
	return p
}

// Storage is raft's log, term and vote in one place.
type Storage interface {
	raft.LogStore
	raft.StableStore
}

// Agreement is this daemon's place in the domain's replicated log: the
// raft instance, the FSM that applies entries to the engine, the forwarder
// that gets this daemon's events into the log, and (on the leader) the
// deadline ticker. Its methods are safe for concurrent use.
type Agreement struct {
	cfg      Config
	log      *slog.Logger
	serverID raft.ServerID
	fsm      *FSM
	raft     *raft.Raft
	trans    raft.Transport
	mux      *mux // nil for a one-node domain
	store    *Store
	fwd      *forwarder

	ctx    context.Context
	cancel context.CancelFunc
	g      errgroup.Group

	stampMu   sync.Mutex
	lastStamp int64

	deadlineWake chan struct{}

	closeOnce sync.Once
}

// ServerID is a node's raft server id.
func ServerID(node int32) raft.ServerID { return raft.ServerID(strconv.Itoa(int(node))) }

// NodeOf parses a raft server id back to a node number.
func NodeOf(id raft.ServerID) (int32, bool) {
	n, err := strconv.ParseInt(string(id), 10, 32)
	return int32(n), err == nil && n > 0
}

// New starts an Agreement: raft, the forwarder (which at once asks for this
// daemon's admission) and, on the leader, the ticker.
func New(cfg Config) (*Agreement, error) {
	if cfg.Engine == nil || cfg.Deliver == nil {
		return nil, errors.New("agreement: Config.Engine and Config.Deliver are required")
	}
	if cfg.Node <= 0 {
		return nil, fmt.Errorf("agreement: node number %d: want a positive number", cfg.Node)
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	single := len(cfg.Voters) == 0
	if cfg.Timing == (Timing{}) {
		cfg.Timing = LANTiming()
		if single {
			cfg.Timing = LocalTiming()
		}
	}
	a := &Agreement{
		cfg:          cfg,
		log:          cfg.Logger.With("component", "agreement"),
		serverID:     ServerID(cfg.Node),
		deadlineWake: make(chan struct{}, 1),
	}
	if cfg.DataDir != "" {
		st, err := OpenStore(filepath.Join(cfg.DataDir, "raft.db"))
		if err != nil {
			return nil, err
		}
		a.store = st
		if cfg.Incarnation == 0 {
			inc, err := st.NextIncarnation(cfg.Now())
			if err != nil {
				st.Close()
				return nil, err
			}
			a.cfg.Incarnation = inc
		}
	}
	if a.cfg.Incarnation == 0 {
		a.cfg.Incarnation = uint64(cfg.Now().Unix())
	}
	cfg = a.cfg
	a.ctx, a.cancel = context.WithCancel(context.Background())
	a.fsm = NewFSM(cfg.Node, cfg.Incarnation, cfg.Engine, a.log, cfg.Deliver)
	a.fwd = newForwarder(a)
	a.fsm.own = func(seq uint64, res ApplyResult) {
		a.fwd.answer(seq, forwardReply{Status: res.Status, Epoch: res.Epoch})
	}
	a.fsm.deadlineMoved = a.deadlineMoved
	if err := a.start(single); err != nil {
		a.cancel()
		a.release()
		if a.store != nil {
			a.store.Close()
		}
		return nil, err
	}
	a.g.Go(func() error { return a.fwd.run(a.ctx) })
	a.g.Go(func() error { return a.lead(a.ctx) })
	return a, nil
}

// start builds raft in named steps: its configuration, where it keeps its
// log and snapshots, its transport, and the first configuration when this
// daemon bootstraps the domain.
func (a *Agreement) start(single bool) error {
	rc := a.raftConfig()
	logs, stable := a.logStores()
	snaps, err := a.snapshots(rc, single)
	if err != nil {
		return err
	}
	if err := raft.ValidateConfig(rc); err != nil {
		return fmt.Errorf("agreement: %w", err)
	}
	voters, err := a.transport(single)
	if err != nil {
		return err
	}
	if err := a.bootstrap(rc, logs, stable, snaps, voters); err != nil {
		return err
	}
	r, err := raft.NewRaft(rc, a.fsm, logs, stable, snaps, a.trans)
	if err != nil {
		return fmt.Errorf("agreement: start raft: %w", err)
	}
	a.raft = r
	// A follower's forwarder sends to the leader it last saw, and a leader
	// cut off silently never answers: every change of leader wakes the
	// forwarder, which sends what is in flight to the new one at once
	// rather than when the answers are overdue. The filter runs on raft's
	// goroutine and lets nothing through: no channel, no goroutine.
	r.RegisterObserver(raft.NewObserver(nil, false, func(o *raft.Observation) bool {
		if _, ok := o.Data.(raft.LeaderObservation); ok {
			a.fwd.signal()
		}
		return false
	}))
	if a.mux != nil {
		a.g.Go(a.mux.run)
	}
	return nil
}

// raftConfig is raft's configuration from the Timing. It snapshots nothing
// until snapshots sets a policy.
func (a *Agreement) raftConfig() *raft.Config {
	t := a.cfg.Timing
	rc := raft.DefaultConfig()
	rc.LocalID = a.serverID
	rc.HeartbeatTimeout = t.Heartbeat
	rc.ElectionTimeout = t.Election
	rc.LeaderLeaseTimeout = t.LeaderLease
	rc.CommitTimeout = t.Commit
	rc.ShutdownOnRemove = false       // a replaced voter stays on as a follower
	rc.MaxAppendEntries = maxInFlight // keeps one exchange well within Timing.IO
	// Apply queues an entry in a buffer of MaxAppendEntries instead of
	// handing it to the leader loop: a sender (a session's reader, the
	// forwarder, serveForward) does not wait for the leader loop to wake,
	// and the leader loop takes what is buffered as one group commit.
	// Raft then no longer fails an Apply that waited past its timeout in
	// the buffer; every waiter here has its own bound (the forwarder's
	// stall, the forward server's write deadline, Timing.Apply on the
	// future once taken).
	rc.BatchApplyCh = true
	rc.Logger = newHCLogger("raft", a.log)
	rc.SnapshotInterval = time.Hour
	rc.SnapshotThreshold = math.MaxUint64
	return rc
}

// logStores returns where raft keeps its log, term and vote: the caller's
// Storage, raft.db under DataDir, or memory.
func (a *Agreement) logStores() (raft.LogStore, raft.StableStore) {
	switch {
	case a.cfg.Store != nil:
		return a.cfg.Store, a.cfg.Store
	case a.store != nil:
		return a.store, a.store
	}
	mem := raft.NewInmemStore()
	return mem, mem
}

// snapshots returns raft's snapshot store and sets raft's snapshot policy
// in rc. A one-node domain's snapshots are empty and only trim its
// in-memory log (FSM.discardSnapshots); a domain of several nodes
// snapshots the engine when it can, in a store as durable as the log.
func (a *Agreement) snapshots(rc *raft.Config, single bool) (raft.SnapshotStore, error) {
	if single {
		// Nobody reads the log once it is applied, so it is trimmed
		// often: it holds at most a few seconds' entries, not thousands
		// (each a batch of up to maxBatchEvents events) for good.
		a.fsm.discardSnapshots = true
		rc.SnapshotInterval = time.Second
		rc.SnapshotThreshold = 64
		rc.TrailingLogs = 64
		if a.cfg.Store == nil && a.store == nil {
			return raft.NewInmemSnapshotStore(), nil
		}
		return raft.NewDiscardSnapshotStore(), nil
	}
	snaps, err := a.snapshotStore()
	if err != nil {
		return nil, err
	}
	if snaps == nil {
		// The log is kept whole; raft wants a store all the same.
		return raft.NewDiscardSnapshotStore(), nil
	}
	p := a.cfg.Snapshot.withDefaults()
	rc.SnapshotThreshold, rc.SnapshotInterval, rc.TrailingLogs = p.Threshold, p.Interval, p.Trailing
	return snaps, nil
}

// snapshotStore returns where a domain of several nodes keeps the engine's
// snapshots, or nil when it keeps none.
func (a *Agreement) snapshotStore() (raft.SnapshotStore, error) {
	cfg := a.cfg
	if _, ok := cfg.Engine.(Snapshotter); !ok {
		return nil, nil
	}
	switch {
	case cfg.Snapshots != nil:
		return cfg.Snapshots, nil
	case cfg.Store != nil:
		// A caller-kept log without a caller-kept snapshot store: a
		// trimmed log could not be replayed after a restart.
		return nil, nil
	case a.store != nil:
		fs, err := raft.NewFileSnapshotStoreWithLogger(cfg.DataDir, cfg.Snapshot.withDefaults().Retain, newHCLogger("snapshots", a.log))
		if err != nil {
			return nil, fmt.Errorf("agreement: snapshot store: %w", err)
		}
		return fs, nil
	}
	return raft.NewInmemSnapshotStore(), nil
}

// transport sets up raft's transport: an in-memory one for a one-node
// domain, else the caller's or raft's network transport over the mux,
// which also serves forwarding. It returns the voters to bootstrap with
// (a one-node domain's is itself, at its in-memory address).
func (a *Agreement) transport(single bool) ([]Server, error) {
	cfg := a.cfg
	voters := cfg.Voters
	switch {
	case cfg.Transport != nil:
		a.trans = cfg.Transport
	case single:
		addr, t := raft.NewInmemTransport("")
		a.trans = t
		voters = []Server{{Node: cfg.Node, Addr: string(addr)}}
	}
	if single {
		return voters, nil
	}
	stream := cfg.Stream
	if stream == nil {
		tcp, err := ListenTCP(cfg.Addr)
		if err != nil {
			return nil, err
		}
		stream = tcp
	}
	a.mux = newMux(stream, a.log, a.serveForward)
	if a.trans == nil {
		rt := newRaftTransport(raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
			Stream:  raftLayer{a.mux},
			MaxPool: 3,
			Timeout: cfg.Timing.IO,
			Logger:  newHCLogger("raft-net", a.log),
			// One request in flight per follower: no pipelined
			// replication. Raft's pipeline can stall for good when an
			// answer fails (docs/design/domain.md, "Replication").
			MaxRPCsInFlight: 1,
		}), a.log)
		a.mux.raft = rt.serve
		a.trans = rt
	}
	return voters, nil
}

// bootstrap writes the domain's first configuration, voters, when this
// daemon is one of them and has no raft state yet; the others wait to be
// added by the leader.
func (a *Agreement) bootstrap(rc *raft.Config, logs raft.LogStore, stable raft.StableStore, snaps raft.SnapshotStore, voters []Server) error {
	has, err := raft.HasExistingState(logs, stable, snaps)
	if err != nil {
		return fmt.Errorf("agreement: read raft state: %w", err)
	}
	if has || !isVoter(voters, a.cfg.Node) {
		return nil
	}
	conf := raft.Configuration{}
	for _, v := range voters {
		conf.Servers = append(conf.Servers, raft.Server{Suffrage: raft.Voter, ID: ServerID(v.Node), Address: raft.ServerAddress(v.Addr)})
	}
	if err := raft.BootstrapCluster(rc, logs, stable, snaps, a.trans, conf); err != nil {
		return fmt.Errorf("agreement: bootstrap: %w", err)
	}
	return nil
}

func isVoter(vs []Server, node int32) bool {
	for _, v := range vs {
		if v.Node == node {
			return true
		}
	}
	return false
}

// deadlineMoved is called by the FSM after a batch that moved the engine's
// next deadline: it wakes the ticker, which re-arms its timer on the
// leader.
func (a *Agreement) deadlineMoved() {
	select {
	case a.deadlineWake <- struct{}{}:
	default:
	}
}

// Submit queues events from this daemon's sessions (and its script
// results) for the log. They are applied after everything this daemon
// submitted before, exactly once, unless the daemon leaves the domain
// first (Rejoin drops them). It never blocks.
func (a *Agreement) Submit(evs ...protocol.Event) { a.fwd.submit(evs...) }

// SubmitWait queues one event like Submit, after waiting while the queue
// of events not yet handed to the leader holds MaxQueueBytes: the back
// pressure a client session's reader passes on to its client. It returns
// ctx's error, with ev not queued, if ctx ends first.
func (a *Agreement) SubmitWait(ctx context.Context, ev protocol.Event) error {
	return a.fwd.submitWait(ctx, ev)
}

// Rejoin drops every queued event and asks for a new admission. The daemon
// calls it when it finds itself out of the domain (declared down, or cut
// off), after closing its sessions.
func (a *Agreement) Rejoin() { a.fwd.reset() }

// AppendNodeDown appends, on the leader, that a node died in the
// incarnation and epoch st names (an EntryNodeDown: its providers fail in
// every group with NODE_DIED), stamped like any entry, and waits until it
// is applied here. daemon/domain decides when; an entry whose incarnation
// or epoch the log no longer has up is applied as stale and changes
// nothing.
func (a *Agreement) AppendNodeDown(st NodeState) (ApplyResult, error) {
	return a.append(&Entry{Kind: EntryNodeDown, Node: st.Node, Inc: st.Inc, Epoch: st.Epoch})
}

// lead runs the leader's clock: a tick entry when the engine's next
// deadline passes. It also logs leadership changes.
func (a *Agreement) lead(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	leader := false
	var notBefore time.Time // after a failed tick, wait a little
	for {
		now := a.cfg.Now()
		isLeader := a.raft.State() == raft.Leader
		if isLeader != leader {
			leader = isLeader
			a.log.Info("leadership changed", "leader", leader, "term", a.raft.CurrentTerm())
		}
		timer.Stop()
		if leader {
			if at, ok := a.fsm.NextDeadline(); ok {
				d := time.Unix(0, at).Sub(now)
				d = max(d, notBefore.Sub(now), 0)
				timer.Reset(d)
			}
		}
		select {
		case <-ctx.Done():
			return nil
		case <-a.raft.LeaderCh():
			// This daemon won or lost leadership: the clock starts or
			// stops. (The forwarder hears of every leader change from
			// its observer; see start.)
		case <-a.deadlineWake:
		case <-timer.C:
			if _, err := a.append(&Entry{Kind: EntryTick, Node: a.cfg.Node}); err != nil {
				a.log.Warn("tick not appended", "err", err)
				notBefore = a.cfg.Now().Add(retryMax)
			}
		}
	}
}

// Counters are what the agreement counts of its way to the log.
type Counters struct {
	// Resent: entries of this daemon sent, then sent again after a
	// failure (a leader change, a broken connection, an entry before
	// them lost).
	Resent uint64
	// Duplicates and OutOfOrder: entries of any node this daemon's FSM
	// dropped, as applied before and as sent after a lost one.
	Duplicates, OutOfOrder uint64
}

// Counters returns the agreement's counts since it started.
func (a *Agreement) Counters() Counters {
	d, o := a.fsm.Dropped()
	return Counters{Resent: a.fwd.resent.Load(), Duplicates: d, OutOfOrder: o}
}

// View runs fn with the engine locked against the FSM, for reads.
func (a *Agreement) View(fn func()) { a.fsm.View(fn) }

// Nodes returns what the log says of every node it has admitted.
func (a *Agreement) Nodes() []NodeState { return a.fsm.Nodes() }

// NodeState returns what the log says of one node.
func (a *Agreement) NodeState(node int32) (NodeState, bool) { return a.fsm.Node(node) }

// Member is one server of raft's current configuration.
type Member struct {
	Node  int32
	Addr  string
	Voter bool
}

// Members returns raft's current configuration: the voters and the
// followers that replicate the log without voting.
func (a *Agreement) Members() ([]Member, error) {
	f := a.raft.GetConfiguration()
	if err := f.Error(); err != nil {
		return nil, fmt.Errorf("agreement: configuration: %w", err)
	}
	var out []Member
	for _, s := range f.Configuration().Servers {
		n, ok := NodeOf(s.ID)
		if !ok {
			continue
		}
		out = append(out, Member{Node: n, Addr: string(s.Address), Voter: s.Suffrage == raft.Voter})
	}
	return out, nil
}

// AddFollower adds node, at its raft address addr, to the configuration as
// a non-voter (it replicates the log without voting), and waits for the
// change to commit. Only the leader can.
func (a *Agreement) AddFollower(node int32, addr string) error {
	return a.raft.AddNonvoter(ServerID(node), raft.ServerAddress(addr), 0, a.cfg.Timing.Apply).Error()
}

// AddVoter makes node a voter (adding it if needed) and waits for the
// change to commit. Only the leader can.
func (a *Agreement) AddVoter(node int32, addr string) error {
	return a.raft.AddVoter(ServerID(node), raft.ServerAddress(addr), 0, a.cfg.Timing.Apply).Error()
}

// RemoveServer removes node from the configuration and waits for the
// change to commit. Only the leader can.
func (a *Agreement) RemoveServer(node int32) error {
	return a.raft.RemoveServer(ServerID(node), 0, a.cfg.Timing.Apply).Error()
}

// Leader returns the leader's node number, if one is known.
func (a *Agreement) Leader() (int32, bool) {
	_, id := a.raft.LeaderWithID()
	if id == "" {
		return 0, false
	}
	return NodeOf(id)
}

// IsLeader reports whether this daemon leads now.
func (a *Agreement) IsLeader() bool { return a.raft.State() == raft.Leader }

// InContact reports whether this daemon is in touch with a leader: it leads,
// or it heard from the leader within d.
func (a *Agreement) InContact(d time.Duration) bool {
	switch a.raft.State() {
	case raft.Leader:
		return true
	case raft.Follower:
		lc := a.raft.LastContact()
		return !lc.IsZero() && a.cfg.Now().Sub(lc) <= d
	}
	return false
}

// Timing is the timing in force (Config.Timing with defaults applied).
func (a *Agreement) Timing() Timing { return a.cfg.Timing }

// Incarnation is this daemon's incarnation (Config.Incarnation, or the one
// New chose).
func (a *Agreement) Incarnation() uint64 { return a.cfg.Incarnation }

// Handoff hands leadership to another voter and waits for it, at most
// timeout; a daemon that is stopping calls it so that the domain need not
// wait for an election.
func (a *Agreement) Handoff(timeout time.Duration) error {
	f := a.raft.LeadershipTransfer()
	done := make(chan error, 1)
	go func() { done <- f.Error() }()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case err := <-done:
		return err
	case <-t.C:
		return errors.New("agreement: leadership transfer timed out")
	}
}

// Raft exposes the raft instance: daemon/domain's Keeper observes it (its
// heartbeat failures and leadership changes), tests read its status.
// Callers must not Apply to it directly.
func (a *Agreement) Raft() *raft.Raft { return a.raft }

// Addr is this daemon's raft address.
func (a *Agreement) Addr() string {
	if a.mux != nil {
		return a.mux.base.Addr().String()
	}
	return a.cfg.Addr
}

// Close stops raft (without leaving the configuration), the forwarder and
// the ticker, and returns after every goroutine has exited.
func (a *Agreement) Close() error {
	var err error
	a.closeOnce.Do(func() {
		a.cancel()
		if a.raft != nil {
			err = a.raft.Shutdown().Error()
		}
		a.release()
		err = errors.Join(err, a.g.Wait())
		if a.store != nil {
			err = errors.Join(err, a.store.Close())
		}
	})
	return err
}

// release closes the transport and the listener.
func (a *Agreement) release() {
	if rt, ok := a.trans.(*raftTransport); ok {
		rt.CloseStreams() // the pooled connections to the others
	}
	if c, ok := a.trans.(raft.WithClose); ok {
		c.Close()
	}
	if a.mux != nil {
		a.mux.close()
	}
}
