package daemon

import (
	"fmt"
	"slices"
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
	// DefaultReplaceAfter is how long a voter must have been gone before
	// the leader puts a healthy follower in its place.
	DefaultReplaceAfter = 10 * time.Second
	leaveTimeout        = 500 * time.Millisecond
	handoffTimeout      = time.Second
	// cutoffAloneFactor: a daemon that has heard from no leader for this
	// many raft heartbeat timeouts is cut off even if the failure
	// detector still sees a quorum of voters (asymmetric failures).
	cutoffAloneFactor = 6
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
		Keys:      c.GossipKeys,
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
// while raft's heartbeats reach it, so that a node just declared down (it
// could not be reached) is not admitted again before it is heard from,
// and is not declared down again a moment later while raft's heartbeats
// still back off after a partition. For a node raft replicates to, that
// is the whole check: raft's connections are authenticated per node, while
// anybody holding the gossip key can make the failure detector say a node
// is dead or runs another incarnation, which must not keep the real node
// out. A node raft does not replicate to yet (a new follower) has no
// heartbeats to judge by; it is admitted while the failure detector sees
// that incarnation alive.
func (n *Node) admitCheck(node int32, inc uint64) bool {
	if node == n.cfg.Node {
		return true
	}
	_, failing := n.agr.Unreachable(node)
	inConfig := false
	if members, err := n.agr.Members(); err == nil {
		inConfig = slices.ContainsFunc(members, func(m agreement.Member) bool { return m.Node == node })
	}
	alive := true
	if m := n.mem.Load(); m != nil {
		alive = m.Alive(node, inc)
	}
	return admissible(failing, inConfig, alive)
}

// admissible is admitCheck's rule: raft's heartbeats to the node do not
// fail, and it is in raft's configuration or the failure detector sees the
// incarnation asking alive.
func admissible(failing, inConfig, detectorAlive bool) bool {
	return !failing && (inConfig || detectorAlive)
}

// watchDomain acts on the failure detector and raft. On the leader, a
// node the log has up and the detector has seen die is declared down. On
// every daemon, being cut off from the majority takes the daemon out of
// service (cutOff).
func (n *Node) watchDomain() error {
	t := time.NewTicker(domainCheckEvery)
	defer t.Stop()
	var leaderSince, fewSince time.Time
	lastContact := time.Now()
	quiet := n.agr.Timing().Heartbeat
	for {
		select {
		case <-n.ctx.Done():
			return nil
		case <-t.C:
		case <-n.domainWake:
		}
		now := time.Now()
		if n.agr.InContact(quiet) {
			lastContact, fewSince = now, time.Time{}
		} else if n.state.Load() == stateUp {
			var few time.Duration
			if !n.fewVoters() {
				fewSince = time.Time{}
			} else if fewSince.IsZero() {
				fewSince = now
			} else {
				few = now.Sub(fewSince)
			}
			if n.cutOff(now.Sub(lastContact), few, quiet) {
				n.send(loopMsg{kind: loopCutOff})
			}
		}
		if !n.agr.IsLeader() {
			leaderSince = time.Time{}
			continue
		}
		if leaderSince.IsZero() {
			leaderSince = now
		}
		n.declareDead(now.Sub(leaderSince) > unknownGrace)
		n.arrangeVoters()
	}
}

// arrangeVoters, on the leader, keeps raft's configuration in step with the
// domain: every daemon the failure detector sees alive replicates the log
// (a follower is added as a non-voter); a voter that has been gone for
// Cluster.ReplaceAfter is replaced by a healthy follower that the log has
// admitted, so that the domain keeps its number of voters; and a follower
// that has been gone as long is removed. One change at a time, each
// waited for.
func (n *Node) arrangeVoters() {
	members, err := n.agr.Members()
	if err != nil {
		return
	}
	m := n.mem.Load()
	byNode := map[int32]membership.Member{}
	for _, mem := range m.Members() {
		byNode[mem.Node] = mem
	}
	inConfig := map[int32]agreement.Member{}
	for _, c := range members {
		inConfig[c.Node] = c
	}
	// Every live daemon replicates the log.
	for _, mem := range byNode {
		if _, ok := inConfig[mem.Node]; !ok && mem.Health == membership.HealthAlive && mem.RaftAddr != "" {
			n.configChange("follower added", mem.Node, n.agr.AddFollower(mem.Node, mem.RaftAddr))
			return
		}
	}
	replaceAfter := n.cfg.Cluster.ReplaceAfter
	if replaceAfter <= 0 {
		replaceAfter = DefaultReplaceAfter
	}
	gone := func(node int32) bool {
		if node == n.cfg.Node {
			return false
		}
		mem, ok := byNode[node]
		st, admitted := n.agr.NodeState(node)
		// A voter never heard of (not started yet) is waited for.
		return ok && mem.Health.Gone() && time.Since(mem.Since) >= replaceAfter && (!admitted || !st.Up)
	}
	for _, c := range members {
		if !gone(c.Node) {
			continue
		}
		if !c.Voter {
			n.configChange("gone follower removed", c.Node, n.agr.RemoveServer(c.Node))
			return
		}
		// The healthiest replacement: a follower alive and admitted.
		for _, f := range members {
			mem := byNode[f.Node]
			st, _ := n.agr.NodeState(f.Node)
			if f.Voter || mem.Health != membership.HealthAlive || !st.Up {
				continue
			}
			if err := n.agr.AddVoter(f.Node, f.Addr); err != nil {
				n.configChange("follower promoted", f.Node, err)
				return
			}
			n.log.Info("follower promoted to voter in place of a gone voter", "promoted", f.Node, "gone", c.Node)
			n.configChange("gone voter removed", c.Node, n.agr.RemoveServer(c.Node))
			return
		}
	}
}

// configChange logs the outcome of a change to raft's configuration.
func (n *Node) configChange(what string, node int32, err error) {
	if err != nil {
		n.log.Warn("raft configuration not changed", "change", what, "member", node, "err", err)
		return
	}
	n.log.Info("raft configuration changed", "change", what, "member", node)
}

// cutOff decides whether a daemon that has heard from no leader for
// silent is cut off from the majority: the failure detector has seen fewer
// than a quorum of the voters alive for few, at least quiet (a leader's
// death alone leaves the quorum, and an election follows), or the silence
// has lasted far longer than any election. The detector's view must hold
// for a while: a node back from a partition spreads old news of others'
// deaths, which they refute a moment later, and a daemon of the majority
// that took that news at its word during an election ended its clients'
// sessions for nothing.
func (n *Node) cutOff(silent, few, quiet time.Duration) bool {
	if silent < quiet {
		return false
	}
	return silent >= cutoffAloneFactor*quiet || few >= quiet
}

// fewVoters reports whether the failure detector sees fewer than a quorum
// of raft's voters alive (this daemon counts as alive).
func (n *Node) fewVoters() bool {
	members, err := n.agr.Members()
	if err != nil {
		return false
	}
	var voters []int32
	for _, m := range members {
		if m.Voter {
			voters = append(voters, m.Node)
		}
	}
	return len(voters) > 0 && n.mem.Load().CountAlive(voters) < len(voters)/2+1
}

// declareDead asks the agreement to append the death of every node that
// the log has up but that is gone. Every rule needs raft's own evidence
// that this leader cannot reach the node (its heartbeats fail, or it is not
// in raft's configuration): the failure detector's word alone never
// suffices, because anybody holding the gossip key can forge it, and a
// node back from a partition spreads old news of others' deaths, which
// they refute a moment later. A node the detector saw die or leave, in
// the incarnation the log admitted or a later one, is down as soon as raft
// cannot reach it either; a node the leader has not reached for a long time
// is down whatever the detector says; a node the detector never heard of
// is down (with unknownDead) once the leader cannot reach it. A newer
// incarnation that the detector sees alive counts for nothing until raft
// admits it: its admission fails the older one's providers.
func (n *Node) declareDead(unknownDead bool) {
	m := n.mem.Load()
	byNode := map[int32]membership.Member{}
	for _, mem := range m.Members() {
		byNode[mem.Node] = mem
	}
	inConfig := map[int32]bool{}
	if members, err := n.agr.Members(); err == nil {
		for _, mem := range members {
			inConfig[mem.Node] = true
		}
	}
	long := cutoffAloneFactor * n.agr.Timing().Heartbeat
	now := time.Now()
	for _, st := range n.agr.Nodes() {
		if !st.Up || st.Node == n.cfg.Node {
			continue
		}
		mem, known := byNode[st.Node]
		since, failing := n.agr.Unreachable(st.Node)
		v := reach{failing: failing, failingFor: now.Sub(since), inConfig: inConfig[st.Node]}
		if isDown(st, mem, known, v, long, unknownDead) {
			n.agr.NodeDown(st.Node, st.Inc)
		}
	}
}

// reach is what raft says of one node, on the leader.
type reach struct {
	failing    bool          // its heartbeats fail
	failingFor time.Duration // since when (if failing)
	inConfig   bool          // raft replicates to it
}

// isDown is declareDead's rule for one node the log has up: st is what the
// log says of it, mem the failure detector's record (if known), r raft's
// view; long is how long raft may fail to reach a node before it is down
// whatever the detector says.
func isDown(st agreement.NodeState, mem membership.Member, known bool, r reach, long time.Duration, unknownDead bool) bool {
	unreachable := r.failing || !r.inConfig
	switch {
	case r.failing && r.failingFor >= long:
		return true
	case !unreachable:
		return false
	case known:
		return mem.Inc >= st.Inc && mem.Health.Gone()
	default:
		return unknownDead
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
