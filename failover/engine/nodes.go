package engine

import (
	"slices"

	"github.com/openhags/hags/failover"
)

// Membership. A node enters the known-node table (and counts for quorum)
// the first time its manager joins; the domain's other nodes are only
// names. What happens to the groups of a node that leaves is takeover.go's.

// nodeEntry returns node id, creating an unnamed, unknown, Down entry for
// it; nil for a number that cannot be a node's or when the table is full.
func (e *Engine) nodeEntry(id NodeID) *node {
	if n := e.nodes[id]; n != nil {
		return n
	}
	if id <= 0 || len(e.nodes) >= MaxNodes {
		return nil
	}
	n := &node{id: id, shown: failover.NodeDown}
	e.nodes[id] = n
	return n
}

// nameNode gives n the name name unless it is not a valid name or another
// node has it.
func (e *Engine) nameNode(n *node, name string) {
	if name == n.name || failover.CheckName(name) != nil {
		return
	}
	if other := e.nodeByName(name); other != nil && other != n {
		return
	}
	n.name = name
	e.st.all = true
}

// nodeJoining: node from's manager joined and catches up. A node the
// engine still thought up left without a word; it departed first.
func (e *Engine) nodeJoining(from NodeID) {
	n := e.nodeEntry(from)
	if n == nil || n.status == statusJoining {
		return
	}
	if n.status == statusUp {
		e.nodeDown(n.id, DepartProcess)
	}
	n.known = true
	e.setStatus(n, statusJoining)
}

// nodeUp: node from's manager caught up and probed its node. A repeated
// NodeUp (the node is up already) is ignored.
func (e *Engine) nodeUp(from NodeID, up *NodeUp) {
	n := e.nodeEntry(from)
	if n == nil || n.status == statusUp {
		return
	}
	n.known = true
	e.nameNode(n, up.Name)
	e.setStatus(n, statusUp)
	e.returned(n, up.Running)
}

// nodeDown: node id's manager left the group. An unknown departure is
// taken as the least informative one, DepartProcess.
func (e *Engine) nodeDown(id NodeID, why Departure) {
	n := e.nodes[id]
	if n == nil || n.status == statusDown {
		return
	}
	if why < DepartGoodbye || why > DepartNode {
		why = DepartProcess
	}
	e.setStatus(n, statusDown)
	e.departed(n, why)
}

// domain learns the domain's nodes: every node gets an entry (Down, not
// known, unless its manager ran) and its name.
func (e *Engine) domain(list []DomainNode) {
	list = slices.Clone(list)
	slices.SortStableFunc(list, func(a, b DomainNode) int { return int(a.ID) - int(b.ID) })
	for _, d := range list {
		if n := e.nodeEntry(d.ID); n != nil {
			e.nameNode(n, d.Name)
		}
	}
}

// reset: the managers' group formed anew from durable state. Every node is
// Down and nothing is known to run anywhere: every resource is Offline but
// unconfirmed, and its group waits for its owner to return (or to be fenced
// or confirmed fenced) as if the owner's manager had died. Pending actions,
// timers, moves and fence commands are forgotten; configuration,
// persistent states, owners, pause flags and failure counters are kept.
func (e *Engine) reset() {
	e.st.all = true
	for _, id := range e.nodeIDs() {
		n := e.nodes[id]
		e.setStatus(n, statusDown)
		n.departed, n.fenceToken, n.fenceAt, n.fenceRetry = 0, 0, 0, false
	}
	for _, name := range e.groupNames() {
		g := e.groups[name]
		g.move, g.windowToken, g.windowAt = nil, 0, 0
		g.waiting = len(g.resources) > 0
		for _, r := range e.groupResources(g) {
			r.act, r.timer, r.failNext, r.override = nil, nil, false, false
			r.unconfirmed, r.stopFailed, r.restop = true, false, false
			if r.wait != waitFatal {
				r.wait = waitNone
			}
			e.setState(r, failover.ResourceOffline)
		}
		if g.waiting {
			if n := e.nodes[g.owner]; n != nil {
				n.departed = DepartProcess
			}
		}
		e.markGroup(g)
	}
	for _, s := range e.strays {
		s.act = 0
	}
}
