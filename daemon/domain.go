package daemon

import (
	"fmt"
	"time"

	"github.com/openhags/hags/daemon/agreement"
	"github.com/openhags/hags/daemon/membership"
)

// Domain watch bounds; docs/design/domain.md explains them.
const (
	// domainCheckEvery is how often the domain watcher looks at the
	// failure detector and raft when nothing woke it.
	domainCheckEvery = 100 * time.Millisecond
	// unknownGrace is how long a new leader waits before it declares down
	// a node that the log has up but the failure detector has never
	// heard of (it died while this daemon was not listening).
	unknownGrace = 3 * time.Second
	// leaveTimeout bounds telling the others, on Close, that this daemon
	// is leaving; handoffTimeout bounds handing leadership over first.
	leaveTimeout   = 500 * time.Millisecond
	handoffTimeout = time.Second
)

// startMembership starts the failure detector of a domain of several
// nodes, and the goroutine that acts on what it says.
func (n *Node) startMembership() error {
	c := n.cfg.Cluster
	name := c.Name
	if name == "" {
		name = fmt.Sprintf("node%d", n.cfg.Node)
	}
	m, err := membership.New(membership.Config{
		Node:      n.cfg.Node,
		Name:      name,
		Inc:       n.agr.Incarnation(),
		RaftAddr:  c.Addr,
		Bind:      c.Gossip,
		Join:      c.Join,
		SecretKey: c.GossipKey,
		Transport: c.GossipTransport,
		Timing:    c.GossipTiming,
		Logger:    n.log,
		LibLogger: agreement.StdLogger(n.log, "memberlist"),
		OnChange:  func(membership.Member) { n.wakeDomain() },
	})
	if err != nil {
		return fmt.Errorf("daemon: %w", err)
	}
	n.mem.Store(m)
	n.g.Go(n.watchDomain)
	return nil
}

func (n *Node) wakeDomain() {
	select {
	case n.domainWake <- struct{}{}:
	default:
	}
}

// admitCheck is the agreement's AdmitCheck: the leader admits a node only
// while the failure detector sees that incarnation alive, so that a node
// just declared dead is not admitted again before it is heard from.
func (n *Node) admitCheck(node int32, inc uint64) bool {
	if node == n.cfg.Node {
		return true
	}
	m := n.mem.Load()
	return m == nil || m.Alive(node, inc)
}

// watchDomain acts on the failure detector: on the leader, a node the log
// has up and the detector has seen die is declared down.
func (n *Node) watchDomain() error {
	t := time.NewTicker(domainCheckEvery)
	defer t.Stop()
	var leaderSince time.Time
	for {
		select {
		case <-n.ctx.Done():
			return nil
		case <-t.C:
		case <-n.domainWake:
		}
		if !n.agr.IsLeader() {
			leaderSince = time.Time{}
			continue
		}
		if leaderSince.IsZero() {
			leaderSince = time.Now()
		}
		n.declareDead(time.Since(leaderSince) > unknownGrace)
	}
}

// declareDead asks the agreement to append the death of every node that
// the log has up but that is gone: declared dead or left by the failure
// detector, replaced by a newer incarnation, or (with unknownDead) never
// heard of.
func (n *Node) declareDead(unknownDead bool) {
	m := n.mem.Load()
	byNode := map[int32]membership.Member{}
	for _, mem := range m.Members() {
		byNode[mem.Node] = mem
	}
	for _, st := range n.agr.Nodes() {
		if !st.Up || st.Node == n.cfg.Node {
			continue
		}
		mem, known := byNode[st.Node]
		switch {
		case known && mem.Inc == st.Inc && mem.Health.Gone(),
			known && mem.Inc > st.Inc,
			!known && unknownDead:
			n.agr.NodeDown(st.Node, st.Inc)
		}
	}
}

// leaveDomain, on Close, hands leadership to another voter (so that the
// domain need not wait for an election) and tells the others this daemon
// is leaving, so that they fail its providers at once.
func (n *Node) leaveDomain() {
	m := n.mem.Load()
	if m == nil {
		return
	}
	if n.agr.IsLeader() {
		if err := n.agr.Handoff(handoffTimeout); err != nil {
			n.log.Info("leadership not handed over before stopping", "err", err)
		}
	}
	if err := m.Leave(leaveTimeout); err != nil {
		n.log.Info("could not announce leaving", "err", err)
	}
}
