// Package daemontest runs simulated domains of real daemon.Nodes inside a
// testing/synctest bubble: raft, forwarding and gossip go over an
// internal/simnet network with seeded faults, clients talk the wire
// protocol over in-memory pipes, and deactivate scripts are recorded
// rather than run. Time is the bubble's fake clock, so a simulated minute
// takes milliseconds.
//
//	synctest.Test(t, func(t *testing.T) {
//		c := daemontest.NewCluster(t, daemontest.Options{Nodes: 3, Seed: 1})
//		p := c.Client(0, "p1")
//		...
//	})
//
// NewCluster registers Close with t.Cleanup; Close stops every node and
// waits (in fake time) for the libraries' lingering timers, so that the
// bubble ends with no goroutine left (synctest would report one).
package daemontest

import (
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/raft"

	"github.com/openhags/hags/daemon"
	"github.com/openhags/hags/daemon/agreement"
	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/simnet"
)

// Options shape a simulated domain.
type Options struct {
	Nodes  int   // daemons in the domain
	Voters int   // the first Voters nodes vote; 0: all of them
	Seed   int64 // faults and scenario choices
	// ReplaceAfter is passed to every daemon; zero: 2 s.
	ReplaceAfter time.Duration
	// Logs sends the daemons' logs to t.Log (noisy); otherwise they are
	// discarded.
	Logs bool
	// Snapshot is every daemon's snapshot policy (tests lower the
	// thresholds); zero fields: agreement.DefaultSnapshotPolicy.
	Snapshot agreement.SnapshotPolicy
}

// Cluster is a simulated domain.
type Cluster struct {
	T       testing.TB
	Net     *simnet.Network
	Scripts *Scripts
	opts    Options
	voters  []agreement.Server
	gossip  []string
	nodes   []*Node
	mu      sync.Mutex
	clients []*Client
	inc     uint32
	closed  bool
	// stopped sums the agreement counters of the daemons stopped so far.
	stopped agreement.Counters
}

// Node is one simulated daemon slot: the daemon running in it now (nil
// while crashed) and the raft state that survives its restarts.
type Node struct {
	Index   int
	Host    string
	Daemon  *daemon.Node
	store   *raft.InmemStore
	snaps   *raft.InmemSnapshotStore
	clients *simnet.ClientListener
	served  chan error
	// open is clients while the daemon serves, nil otherwise; guarded by
	// the Cluster's mu, for DialConn from any goroutine.
	open *simnet.ClientListener
}

// NewCluster starts a domain of opts.Nodes daemons and waits until every
// one is admitted. Call it inside a synctest bubble.
func NewCluster(t testing.TB, opts Options) *Cluster {
	t.Helper()
	if opts.Voters == 0 {
		opts.Voters = opts.Nodes
	}
	if opts.ReplaceAfter == 0 {
		opts.ReplaceAfter = 2 * time.Second
	}
	c := &Cluster{T: t, Net: simnet.New(opts.Seed), Scripts: newScripts(), opts: opts, inc: 1000}
	for i := range opts.Nodes {
		host := fmt.Sprintf("127.1.0.%d", i+1)
		if i < opts.Voters {
			c.voters = append(c.voters, agreement.Server{Node: int32(i + 1), Addr: host + ":7100"})
		}
		c.gossip = append(c.gossip, host+":7101")
		c.nodes = append(c.nodes, &Node{Index: i, Host: host, store: raft.NewInmemStore(), snaps: raft.NewInmemSnapshotStore()})
	}
	t.Cleanup(c.Close)
	for i := range c.nodes {
		c.start(i)
	}
	for i := range c.nodes {
		c.WaitAdmitted(i, time.Minute)
	}
	return c
}

// start runs a new daemon (a new incarnation) in slot i.
func (c *Cluster) start(i int) {
	c.T.Helper()
	n := c.nodes[i]
	stream, err := c.Net.Listen(n.Host + ":7100")
	if err != nil {
		c.T.Fatalf("daemontest: node %d: %v", i+1, err)
	}
	gossip, err := c.Net.Gossip(n.Host + ":7101")
	if err != nil {
		c.T.Fatalf("daemontest: node %d: %v", i+1, err)
	}
	c.inc++
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if c.opts.Logs {
		log = slog.New(slog.NewTextHandler(testWriter{c.T, fmt.Sprintf("node%d", i+1)}, &slog.HandlerOptions{Level: slog.LevelInfo}))
	}
	d, err := daemon.New(daemon.Config{
		Domain:      "sim",
		Node:        int32(i + 1),
		Socket:      "sim-" + n.Host,
		Logger:      log,
		Incarnation: c.inc,
		Authorize: func(net.Conn) (protocol.Cred, error) {
			return protocol.Cred{Pid: int32(1000 + i), Uid: 0, Gid: 0}, nil
		},
		Scripts: c.Scripts.runner(int32(i + 1)),
		Cluster: &daemon.Cluster{
			Name:            fmt.Sprintf("node%d", i+1),
			Addr:            n.Host + ":7100",
			Voters:          c.voters,
			Stream:          stream,
			Store:           n.store,
			Snapshots:       n.snaps,
			Snapshot:        c.opts.Snapshot,
			Gossip:          n.Host + ":7101",
			Join:            c.gossip,
			GossipTransport: gossip,
			ReplaceAfter:    c.opts.ReplaceAfter,
		},
	})
	if err != nil {
		c.T.Fatalf("daemontest: node %d does not start: %v", i+1, err)
	}
	n.Daemon = d
	n.clients = simnet.NewClientListener(n.Host + ":clients")
	n.served = make(chan error, 1)
	c.mu.Lock()
	n.open = n.clients
	c.mu.Unlock()
	go func() { n.served <- d.Serve(n.clients) }()
}

// stop closes slot i's daemon, if one runs.
func (c *Cluster) stop(i int) {
	n := c.nodes[i]
	if n.Daemon == nil {
		return
	}
	c.mu.Lock()
	n.open = nil
	c.mu.Unlock()
	c.stopped = addCounters(c.stopped, n.Daemon.AgreementCounters())
	if err := n.Daemon.Close(); err != nil {
		c.T.Errorf("daemontest: node %d: close: %v", i+1, err)
	}
	if err := <-n.served; err != nil {
		c.T.Errorf("daemontest: node %d: serve: %v", i+1, err)
	}
	n.Daemon = nil
}

// Counters sums the agreement counters of every daemon the cluster has
// run: entries resent, and entries the FSMs dropped as duplicates and as
// out of order (each daemon's FSM counts every node's entries, so these
// count each drop once per daemon that applied it).
func (c *Cluster) Counters() agreement.Counters {
	sum := c.stopped
	for _, n := range c.nodes {
		if n.Daemon != nil {
			sum = addCounters(sum, n.Daemon.AgreementCounters())
		}
	}
	return sum
}

func addCounters(a, b agreement.Counters) agreement.Counters {
	return agreement.Counters{Resent: a.Resent + b.Resent, Duplicates: a.Duplicates + b.Duplicates, OutOfOrder: a.OutOfOrder + b.OutOfOrder}
}

// Node returns slot i.
func (c *Cluster) Node(i int) *Node { return c.nodes[i] }

// Size is the number of slots.
func (c *Cluster) Size() int { return len(c.nodes) }

// Host is slot i's host name on the network.
func (c *Cluster) Host(i int) string { return c.nodes[i].Host }

// Up reports whether slot i runs a daemon.
func (c *Cluster) Up(i int) bool { return c.nodes[i].Daemon != nil }

// Crash cuts slot i off the network at once (as a power loss would) and
// stops its daemon; its clients lose their connections.
func (c *Cluster) Crash(i int) {
	c.Net.Crash(c.nodes[i].Host)
	c.stop(i)
}

// Restart starts a new incarnation of slot i's daemon, with the raft state
// its previous run left, and puts the host back on the network.
func (c *Cluster) Restart(i int) {
	c.T.Helper()
	c.Net.Restore(c.nodes[i].Host)
	c.start(i)
}

// Isolate partitions slot i from every other host.
func (c *Cluster) Isolate(i int) { c.Net.Partition([]string{c.nodes[i].Host}) }

// CutOff partitions slot i from every other host silently, as a pulled
// cable does: its streams stay open and lose what is written on them.
func (c *Cluster) CutOff(i int) { c.Net.Cut([]string{c.nodes[i].Host}) }

// RaftLog returns the first and last index of slot i's raft log (kept
// across its restarts).
func (c *Cluster) RaftLog(i int) (first, last uint64) {
	n := c.nodes[i]
	first, _ = n.store.FirstIndex()
	last, _ = n.store.LastIndex()
	return first, last
}

// Snapshots returns the raft snapshots slot i keeps, newest first: the
// ones it took, and the one a leader sent it.
func (c *Cluster) Snapshots(i int) []*raft.SnapshotMeta {
	metas, _ := c.nodes[i].snaps.List()
	return metas
}

// Heal ends every partition.
func (c *Cluster) Heal() { c.Net.Heal() }

// status is slot i's daemon's view, or nil while crashed.
func (c *Cluster) status(i int) map[int32]string {
	d := c.nodes[i].Daemon
	if d == nil {
		return nil
	}
	roles := map[int32]string{}
	for _, ns := range d.Status().Nodes {
		roles[ns.Node] = ns.Role
	}
	return roles
}

// Leader returns the slot whose daemon leads, as the running daemons
// agree, or -1.
func (c *Cluster) Leader() int {
	for i := range c.nodes {
		for node, role := range c.status(i) {
			if role == "leader" {
				return int(node) - 1
			}
		}
	}
	return -1
}

// Role returns what slot i's daemon is, as slot from's daemon sees it.
func (c *Cluster) Role(from, i int) string { return c.status(from)[int32(i+1)] }

// WaitAdmitted waits (in fake time) until slot i's daemon serves clients:
// admitted to the domain, and in touch with it.
func (c *Cluster) WaitAdmitted(i int, budget time.Duration) {
	c.T.Helper()
	if !c.eventually(budget, func() bool {
		d := c.nodes[i].Daemon
		return d != nil && d.Admitted()
	}) {
		c.T.Fatalf("daemontest: node %d was not admitted within %v", i+1, budget)
	}
}

// eventually polls cond every 10 ms of fake time until it holds or budget
// passes.
func (c *Cluster) eventually(budget time.Duration, cond func() bool) bool {
	deadline := time.Now().Add(budget)
	for !cond() {
		if time.Now().After(deadline) {
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// Close stops every daemon and client, then waits out the libraries'
// timers (memberlist's probes outlive its Shutdown by up to a probe
// timeout). It is idempotent.
func (c *Cluster) Close() {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	clients := c.clients
	c.mu.Unlock()
	for _, cl := range clients {
		cl.Close()
	}
	for i := range c.nodes {
		c.stop(i)
	}
	time.Sleep(10 * time.Second)
}

type testWriter struct {
	t      testing.TB
	prefix string
}

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Logf("%s| %s", w.prefix, string(p[:len(p)-min(len(p), 1)]))
	return len(p), nil
}
