package engine

import (
	"slices"

	"github.com/openhags/hags/failover"
)

// Takeover (contract §9): a group whose owner's manager departed gets a
// new owner only once nothing of it can still run on the old one.
//
//   - The manager said goodbye: it stopped what it ran first, so the
//     groups pass at once (anything the engine still believed online is
//     taken as stopped).
//   - Nothing of the group was running, pending, stop-failed or
//     unconfirmed there: it passes at once.
//   - Otherwise the group waits, showing the states last known, until
//     the node's fence command succeeds (run by the coordinator, retried
//     every FenceRetryDelay); or, with no fence command and a departure of
//     the whole node (DepartNode), its self-fencing window passes (a timer
//     the coordinator carries); or an operator confirms the node fenced;
//     or the node's manager comes back, probes and adopts what runs.
//     After a reset every group waits so, its owner counted as departed
//     with DepartProcess.
//
// A takeover neither counts toward nor is limited by the group's failover
// threshold: that threshold damps failovers a group's own resources
// cause, and a group whose node is gone must run somewhere.

// departed handles the departure of node n's manager.
func (e *Engine) departed(n *node, why Departure) {
	for _, name := range e.groupNames() {
		g := e.groups[name]
		if g.owner == n.id {
			e.ownerDeparted(g, n, why)
		}
		if g.windowAt == n.id {
			g.windowToken, g.windowAt = 0, 0
		}
	}
	for _, id := range e.nodeIDs() {
		if o := e.nodes[id]; o.fenceAt == n.id {
			o.fenceToken, o.fenceAt, o.fenceRetry = 0, 0, false
		}
	}
	e.strays = slices.DeleteFunc(e.strays, func(s *stray) bool {
		if s.node != n.id {
			return false
		}
		s.act = 0
		return why == DepartGoodbye
	})
}

// ownerDeparted handles the departure of the owner of g: the actions and
// timers it carried are lost; the group passes at once or waits.
func (e *Engine) ownerDeparted(g *group, n *node, why Departure) {
	g.move = nil
	for _, r := range e.groupResources(g) {
		if why != DepartGoodbye && r.running() {
			r.unconfirmed = true
		}
		r.act, r.timer, r.failNext = nil, nil, false
		e.markResource(r)
	}
	if why != DepartGoodbye && e.anyUnconfirmed(g) {
		g.waiting = true
		n.departed = why
		e.markGroup(g)
		return
	}
	e.takeOver(g)
}

func (e *Engine) anyUnconfirmed(g *group) bool {
	for _, r := range e.groupResources(g) {
		if r.unconfirmed {
			return true
		}
	}
	return false
}

// takeOver gives g, whose owner is Down and runs nothing of it any more,
// to another node; with none, it stays where it is, Offline, until one
// comes up.
func (e *Engine) takeOver(g *group) {
	g.waiting, g.windowToken, g.windowAt = false, 0, 0
	e.resetForNewOwner(g)
	e.markGroup(g)
	if t := e.chooseTarget(g, choiceFailover); t != 0 {
		g.note = ""
		e.setOwner(g, t)
		return
	}
	g.note = "its owner " + e.nodeName(g.owner) + " is down and no other node may host it"
}

// fenced: node n is known to run nothing (its fence command succeeded, or
// an operator said so). The groups waiting on it are taken over, copies
// found running there are forgotten.
func (e *Engine) fenced(n *node) {
	n.departed, n.fenceToken, n.fenceAt, n.fenceRetry, n.fenceNote = 0, 0, 0, false, ""
	for _, name := range e.groupNames() {
		if g := e.groups[name]; g.owner == n.id && g.waiting {
			e.takeOver(g)
		}
	}
	e.strays = slices.DeleteFunc(e.strays, func(s *stray) bool { return s.node == n.id })
}

// returned handles node n's manager coming up with what its probe found
// running. Its groups are its own again: what runs is adopted (Online, and
// a start to confirm it and begin monitoring), what does not is Offline,
// and Failed resources are tried again at once. A resource found running
// whose group n does not own is a stray copy and is stopped.
func (e *Engine) returned(n *node, running []string) {
	n.departed, n.fenceToken, n.fenceAt, n.fenceRetry = 0, 0, 0, false
	found := map[string]bool{}
	for _, name := range running {
		if e.resources[name] != nil {
			found[name] = true
		}
	}
	for _, name := range e.groupNames() {
		g := e.groups[name]
		if g.owner != n.id {
			continue
		}
		g.waiting, g.windowToken, g.windowAt = false, 0, 0
		e.markGroup(g)
		for _, r := range e.groupResources(g) {
			e.probed(g, r, found[r.name])
			delete(found, r.name)
		}
	}
	e.strays = slices.DeleteFunc(e.strays, func(s *stray) bool { return s.node == n.id })
	for _, name := range sortedKeys(found) {
		e.stopStray(name, n.id)
	}
}

// probed settles r on its owner's return: running or not.
func (e *Engine) probed(g *group, r *resource, running bool) {
	r.unconfirmed, r.stopFailed, r.restop, r.failNext, r.act, r.timer = false, false, false, false, nil, nil
	if r.wait == waitRestart || r.wait == waitRetry || r.wait == waitFailover {
		r.wait = waitNone
	}
	if running {
		e.setState(r, failover.ResourceOnline)
		e.startAction(g, r, ActStart, purposeAdopt, false)
		return
	}
	if r.state != failover.ResourceFailed {
		e.setState(r, failover.ResourceOffline)
	}
	e.markResource(r)
}

// Strays.

// stopStray asks node id to stop its copy of resource name.
func (e *Engine) stopStray(name string, id NodeID) {
	r := e.resources[name]
	if r == nil {
		return
	}
	e.lastAction++
	s := &stray{resource: name, node: id, act: e.lastAction}
	i, _ := slices.BinarySearchFunc(e.strays, s, compareStrays)
	e.strays = slices.Insert(e.strays, i, s)
	e.emit(Output{Kind: OutAction, Node: id, Action: &Action{ID: s.act, Op: ActStop, Resource: name, Agent: r.agent,
		Params: cloneParams(r.params), Timeout: stopTimeout(r)}})
	e.st.actions++
	e.markResource(r)
}

func compareStrays(a, b *stray) int {
	if c := compareNames(a.resource, b.resource); c != 0 {
		return c
	}
	return int(a.node) - int(b.node)
}

// strayResult handles the end of a stray's stop (anything else that
// matches no action is ignored).
func (e *Engine) strayResult(from NodeID, res *ActionResult) {
	i := slices.IndexFunc(e.strays, func(s *stray) bool {
		return s.act != 0 && s.act == res.ID && s.node == from && s.resource == res.Resource && res.Op == ActStop
	})
	if i < 0 {
		return
	}
	s := e.strays[i]
	if res.Outcome == OutcomeOK {
		e.strays = slices.Delete(e.strays, i, i+1)
	} else {
		s.act, s.failed = 0, res.Detail
	}
	if r := e.resources[s.resource]; r != nil {
		e.markResource(r)
	}
}

// restopStrays stops again the copies of resource name whose stop failed
// on nodes that are up.
func (e *Engine) restopStrays(name string) {
	var again []NodeID
	e.strays = slices.DeleteFunc(e.strays, func(s *stray) bool {
		if s.resource == name && s.act == 0 && e.alive(s.node) {
			again = append(again, s.node)
			return true
		}
		return false
	})
	for _, id := range again {
		e.stopStray(name, id)
	}
}

// hasStray reports whether a copy of resource name may run on a node that
// does not own its group.
func (e *Engine) hasStray(name string) bool {
	for _, s := range e.strays {
		if s.resource == name {
			return true
		}
	}
	return false
}

// Fencing and the self-fencing window.

// driveTakeovers makes sure that, for every departed node groups wait on,
// the coordinator runs its fence command (or, with none and a departure
// of the whole node, carries each waiting group's window timer). Outputs
// carried by a node that departed since are given to the coordinator
// again.
func (e *Engine) driveTakeovers() {
	coord, ok := e.Coordinator()
	for _, id := range e.nodeIDs() {
		n := e.nodes[id]
		if n.departed == 0 || n.status != statusDown {
			continue
		}
		waiting := e.waitingOn(n.id)
		if len(waiting) == 0 {
			n.departed = 0
			continue
		}
		if !ok {
			continue
		}
		switch {
		case n.fence != "":
			if n.fenceToken == 0 || !e.alive(n.fenceAt) {
				e.runFence(n, coord)
			}
		case n.departed == DepartNode:
			for _, g := range waiting {
				if g.windowToken == 0 || !e.alive(g.windowAt) {
					g.windowToken = e.setTimer(coord, TimerWindow, g.name, e.Window(g.name), n.id)
					g.windowAt = coord
				}
			}
		}
	}
}

// waitingOn returns the groups owned by node id that wait for takeover.
func (e *Engine) waitingOn(id NodeID) []*group {
	var out []*group
	for _, name := range e.groupNames() {
		if g := e.groups[name]; g.owner == id && g.waiting {
			out = append(out, g)
		}
	}
	return out
}

// runFence asks node at to run n's fence command.
func (e *Engine) runFence(n *node, at NodeID) {
	n.fenceToken, n.fenceAt, n.fenceRetry = e.newToken(), at, false
	e.emit(Output{Kind: OutFence, Node: at, Fence: &Fence{Target: n.id, Name: e.nodeName(n.id), Command: n.fence, Token: n.fenceToken}})
}

// fenceDone handles the end of a fence command.
func (e *Engine) fenceDone(from NodeID, f *FenceResult) {
	n := e.nodes[f.Target]
	if n == nil || n.status != statusDown || n.fenceRetry || n.fenceToken == 0 || n.fenceToken != f.Token || n.fenceAt != from {
		return
	}
	if f.OK {
		e.fenced(n)
		return
	}
	n.fenceNote = f.Detail
	n.fenceRetry = true
	n.fenceToken = e.setTimer(from, TimerFenceRetry, e.nodeName(n.id), FenceRetryDelay, 0)
	e.st.all = true
}

// fenceRetryFired runs a failed fence command again.
func (e *Engine) fenceRetryFired(from NodeID, t *TimerFired) {
	n := e.nodeByName(t.Key)
	if n == nil || !n.fenceRetry || n.fenceToken != t.Token || n.fenceAt != from || n.status != statusDown {
		return
	}
	coord, ok := e.Coordinator()
	if !ok {
		return
	}
	e.runFence(n, coord)
}

// windowFired: the self-fencing window of a waiting group passed; its
// owner's node has stopped everything by now.
func (e *Engine) windowFired(from NodeID, t *TimerFired) {
	g := e.groups[t.Key]
	if g == nil || !g.waiting || g.windowToken == 0 || g.windowToken != t.Token || g.windowAt != from {
		return
	}
	n := e.nodes[g.owner]
	if n == nil || n.status != statusDown || n.fence != "" || n.departed != DepartNode {
		return
	}
	e.takeOver(g)
}

// opConfirmFenced: an operator vouches that a departed node runs nothing.
func (e *Engine) opConfirmFenced(q *Request) error {
	n, err := e.lookupNode(q.Node)
	if err != nil {
		return err
	}
	if !n.known || n.status != statusDown {
		return failover.Errorf(failover.CodeInvalidState, "node %s is %s: only a node whose manager departed can be confirmed fenced", e.nodeName(n.id), n.state())
	}
	e.fenced(n)
	return nil
}
