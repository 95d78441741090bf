package engine

import (
	"slices"

	"github.com/openhags/hags/failover"
)

// Requests about where groups run: moves, pause and drain, owners.

// opMoveGroup moves a group to a named node (the checks of
// ApiMoveGroupToNode in docs/failover.md, in their order) or, with no node, to the node the cluster picks.
func (e *Engine) opMoveGroup(q *Request) error {
	g, err := e.lookupGroup(q)
	if err != nil {
		return err
	}
	var target NodeID
	if q.Node != "" {
		n, err := e.lookupNode(q.Node)
		if err != nil {
			return err
		}
		if n.id == g.owner {
			return nil
		}
		switch {
		case n.paused:
			return failover.Errorf(failover.CodeClusterNodePaused, "node %s is paused", e.nodeName(n.id))
		case n.status != statusUp:
			return failover.Errorf(failover.CodeHostNodeNotAvailable, "node %s is %s", e.nodeName(n.id), n.state())
		}
		if r := e.notPossibleOn(g, n.id); r != nil {
			return failover.Errorf(failover.CodeHostNodeNotResourceOwner, "node %s is not a possible owner of resource %s", e.nodeName(n.id), r.name)
		}
		target = n.id
	}
	if err := e.movable(g, q.IgnoreLocked); err != nil {
		return err
	}
	if target == 0 {
		if target = e.chooseTarget(g, choiceMove); target == 0 {
			return failover.Errorf(failover.CodeHostNodeNotAvailable, "no other node is up, unpaused and a possible owner of every resource of group %s", g.name)
		}
	}
	e.startMove(g, target, moveRequest, q.IgnoreLocked)
	e.reconcile()
	if g.move == nil && g.owner == target {
		return nil
	}
	return failover.Errorf(failover.CodeIOPending, "group %s is moving to %s", g.name, e.nodeName(target))
}

// notPossibleOn returns a resource of g that node id may not host.
func (e *Engine) notPossibleOn(g *group, id NodeID) *resource {
	for _, r := range e.groupResources(g) {
		if !r.possibleOn(id) {
			return r
		}
	}
	return nil
}

// movable says why g may not start a move now.
func (e *Engine) movable(g *group, ignoreLocked bool) error {
	switch {
	case g.move != nil || g.waiting:
		return failover.Errorf(failover.CodeClusterGroupMoving, "group %s is already moving", g.name)
	case e.groupState(g) == failover.GroupPending:
		return failover.Errorf(failover.CodeInvalidState, "group %s is pending", g.name)
	}
	if n := e.nodes[g.owner]; n != nil && n.status == statusJoining {
		return failover.Errorf(failover.CodeHostNodeNotAvailable, "node %s, which owns group %s, is still joining", e.nodeName(g.owner), g.name)
	}
	rs := e.groupResources(g)
	if !ignoreLocked {
		if l := e.lockedAmong(rs); l != nil {
			return failover.Errorf(failover.CodeClusterResourceLockedStatus, "resource %s of group %s is locked", l.name, g.name)
		}
	}
	for _, r := range rs {
		if r.stopFailed {
			return failover.Errorf(failover.CodeInvalidState, "resource %s of group %s failed to stop and may still run; clean it up first", r.name, g.name)
		}
	}
	return nil
}

// startMove starts moving g to target. Locked resources (IgnoreLocked)
// are stopped anyway, without grace.
func (e *Engine) startMove(g *group, target NodeID, kind moveKind, fast bool) {
	g.move = &move{kind: kind, target: target, fast: fast}
	g.note = ""
	if fast {
		for _, r := range e.groupResources(g) {
			r.override = r.override || r.locked
		}
	}
	e.markGroup(g)
}

// opPauseNode pauses a node; with Drain, its groups move away (each as a
// move to the node the cluster picks; a group that cannot move stays, and
// says why). A pending group is drained too: its move waits for what is
// under way.
func (e *Engine) opPauseNode(q *Request) error {
	n, err := e.lookupNode(q.Node)
	if err != nil {
		return err
	}
	switch {
	case n.paused:
		return nil
	case n.status != statusUp:
		return failover.Errorf(failover.CodeClusterNodeDown, "node %s is %s", e.nodeName(n.id), n.state())
	}
	e.setPaused(n, true)
	if !q.Drain {
		return nil
	}
	var moved []*group
	for _, name := range e.groupNames() {
		g := e.groups[name]
		if g.owner != n.id {
			continue
		}
		if why := e.drainBlocked(g, q.IgnoreLocked); why != "" {
			g.note = "the drain of " + e.nodeName(n.id) + " left it here: " + why
			e.markGroup(g)
			continue
		}
		e.startMove(g, e.chooseTarget(g, choiceMove), moveDrain, q.IgnoreLocked)
		moved = append(moved, g)
	}
	e.reconcile()
	for _, g := range moved {
		if g.move != nil {
			return failover.Errorf(failover.CodeIOPending, "node %s is paused; its groups are moving away", e.nodeName(n.id))
		}
	}
	return nil
}

// drainBlocked says why a drain cannot move g ("" if it can).
func (e *Engine) drainBlocked(g *group, ignoreLocked bool) string {
	switch {
	case g.move != nil:
		return "it is already moving"
	case !ignoreLocked && e.lockedAmong(e.groupResources(g)) != nil:
		return "resource " + e.lockedAmong(e.groupResources(g)).name + " is locked"
	case e.chooseTarget(g, choiceMove) == 0:
		return "no other node is up, unpaused and a possible owner of every resource"
	}
	for _, r := range e.groupResources(g) {
		if r.stopFailed {
			return "resource " + r.name + " failed to stop"
		}
	}
	return ""
}

// opResumeNode resumes a paused node.
func (e *Engine) opResumeNode(q *Request) error {
	n, err := e.lookupNode(q.Node)
	if err != nil {
		return err
	}
	if !n.paused {
		return failover.Errorf(failover.CodeClusterNodeNotPaused, "node %s is not paused", e.nodeName(n.id))
	}
	e.setPaused(n, false)
	for _, name := range e.groupNames() {
		if g := e.groups[name]; g.owner == n.id && g.note != "" {
			g.note = ""
			e.markGroup(g)
		}
	}
	return nil
}

// opSetGroupOwners replaces a group's preferred owners.
func (e *Engine) opSetGroupOwners(q *Request) error {
	g, err := e.lookupGroup(q)
	if err != nil {
		return err
	}
	for _, name := range q.Nodes {
		if _, err := e.lookupNode(name); err != nil {
			return err
		}
	}
	ids, err := e.nodeList(q.Nodes)
	if err != nil {
		return err
	}
	g.preferred = ids
	e.markGroup(g)
	return nil
}

// resourceOwner looks up the resource and the node of a request about a
// resource's possible owners.
func (e *Engine) resourceOwner(q *Request) (*resource, *node, error) {
	r, _, err := e.lookupResource(q)
	if err != nil {
		return nil, nil, err
	}
	n, err := e.lookupNode(q.Node)
	return r, n, err
}

// opAddResourceOwner makes a node a possible owner of a resource. The
// possible owners are a set, and an empty list means every node: adding a
// node already in the set (every node, for an empty list) is
// ERROR_OBJECT_ALREADY_EXISTS.
func (e *Engine) opAddResourceOwner(q *Request) error {
	r, n, err := e.resourceOwner(q)
	if err != nil {
		return err
	}
	if r.possibleOn(n.id) {
		return failover.Errorf(failover.CodeObjectAlreadyExists, "node %s is already a possible owner of resource %s", e.nodeName(n.id), r.name)
	}
	r.possible = addSorted(r.possible, n.id)
	e.markResource(r)
	return nil
}

// opRemoveResourceOwner removes a node from a resource's possible owners.
// Removing it from an empty list (every node) leaves every other node the
// engine knows of; removing a node that is not a possible owner is
// ERROR_CLUSTER_NODE_NOT_FOUND, and removing the last one
// ERROR_INVALID_PARAMETER (an empty list would mean every node). A
// resource that runs on the node removed is stopped there; its group does
// not move for it.
func (e *Engine) opRemoveResourceOwner(q *Request) error {
	r, n, err := e.resourceOwner(q)
	if err != nil {
		return err
	}
	if !r.possibleOn(n.id) {
		return failover.Errorf(failover.CodeClusterNodeNotFound, "node %s is not a possible owner of resource %s", e.nodeName(n.id), r.name)
	}
	list := r.possible
	if len(list) == 0 {
		list = e.nodeIDs()
	}
	list = slices.DeleteFunc(slices.Clone(list), func(id NodeID) bool { return id == n.id })
	if len(list) == 0 {
		return failover.Errorf(failover.CodeInvalidParameter, "node %s is the last possible owner of resource %s", e.nodeName(n.id), r.name)
	}
	r.possible = list
	e.markResource(r)
	return nil
}
