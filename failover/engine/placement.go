package engine

import (
	"slices"

	"github.com/openhags/hags/failover"
)

// Placement: which node a group goes to, and how ownership passes.

// choice says who asks for a target: an operator's move or drain (never a
// paused node), or a failover or takeover (a paused node when no other
// will do: the group goes there but does not go online).
type choice uint8

const (
	choiceMove     choice = 1
	choiceFailover choice = 2
)

// chooseTarget picks the node g should go to, or 0 for none: in the order
// of candidates, the first Up node other than the owner that may host
// every resource of g and, if any such node does, hosts no group sharing
// an anti-affinity class with g that has an Online resource.
func (e *Engine) chooseTarget(g *group, c choice) NodeID {
	var up, paused []NodeID
	for _, id := range e.candidates(g) {
		if id == g.owner || !e.alive(id) || !e.eligible(g, id) {
			continue
		}
		if e.nodes[id].paused {
			paused = append(paused, id)
		} else {
			up = append(up, id)
		}
	}
	pool := up
	if len(pool) == 0 && c == choiceFailover {
		pool = paused
	}
	for _, id := range pool {
		if !e.antiAffinityConflict(g, id) {
			return id
		}
	}
	if len(pool) > 0 {
		return pool[0]
	}
	return 0
}

// candidates orders the nodes for g: the preferred owners after the
// current owner (wrapping around), then every other node by number.
func (e *Engine) candidates(g *group) []NodeID {
	out := make([]NodeID, 0, len(e.nodes))
	if i := slices.Index(g.preferred, g.owner); i >= 0 {
		out = append(out, g.preferred[i+1:]...)
		out = append(out, g.preferred[:i]...)
	} else {
		out = append(out, g.preferred...)
	}
	for _, id := range e.nodeIDs() {
		if !slices.Contains(g.preferred, id) {
			out = append(out, id)
		}
	}
	return out
}

// eligible reports whether node id may host every resource of g: a
// possible owner of each, and none failed hard there.
func (e *Engine) eligible(g *group, id NodeID) bool {
	for _, r := range e.groupResources(g) {
		if !r.possibleOn(id) || r.hardOn(id) {
			return false
		}
	}
	return true
}

// antiAffinityConflict reports whether node id owns another group that
// shares an anti-affinity class with g and has an Online resource.
func (e *Engine) antiAffinityConflict(g *group, id NodeID) bool {
	return e.antiAffinityWith(g, id) != nil
}

// antiAffinityWith returns the group on node id that g conflicts with.
func (e *Engine) antiAffinityWith(g *group, id NodeID) *group {
	if len(g.props.AntiAffinity) == 0 {
		return nil
	}
	for _, name := range e.groupNames() {
		h := e.groups[name]
		if h == g || h.owner != id || !sharesClass(g, h) {
			continue
		}
		for _, r := range e.groupResources(h) {
			if r.state == failover.ResourceOnline {
				return h
			}
		}
	}
	return nil
}

func sharesClass(g, h *group) bool {
	for _, c := range g.props.AntiAffinity {
		if slices.Contains(h.props.AntiAffinity, c) {
			return true
		}
	}
	return false
}

// moveValid reports whether a move under way may still pass ownership: a
// move or drain needs its target up, unpaused and eligible; a failover
// chooses its target when it passes.
func (e *Engine) moveValid(g *group) bool {
	m := g.move
	if m.target == 0 {
		return true
	}
	n := e.nodes[m.target]
	return n != nil && n.status == statusUp && !n.paused && e.eligible(g, m.target)
}

// abandonMove gives a move up: the group stays and its resources are
// driven to their persistent states on the owner. Resources that waited
// for a failover wait for their retry period instead.
func (e *Engine) abandonMove(g *group, why string) {
	g.move = nil
	g.note = why
	e.markGroup(g)
	for _, r := range e.groupResources(g) {
		r.override = false
		if r.wait == waitFailover {
			e.giveUp(r, why)
		}
	}
}

// passOwnership ends the stopping half of g's move: ownership passes to
// the target (a failover chooses it now), resources that failed on the
// old owner become Offline (their restarts forgotten; where they failed
// hard is kept), and the move goes on until the new owner has driven
// every resource to its persistent state.
func (e *Engine) passOwnership(g *group) {
	m := g.move
	t := m.target
	if t == 0 {
		t = e.chooseTarget(g, choiceFailover)
	}
	if t == 0 {
		e.abandonMove(g, "no node could take the group when its failover was to pass it on")
		return
	}
	if m.kind == moveFailover {
		g.failovers = append(g.failovers, e.now)
	}
	e.resetForNewOwner(g)
	m.target, m.passed = t, true
	g.note = ""
	e.setOwner(g, t)
}

// resetForNewOwner makes g's resources ready to be driven on another
// node: nothing runs, Failed becomes Offline (except a fatal
// misconfiguration, which stays Failed wherever the group goes),
// restart counts and timers are forgotten.
func (e *Engine) resetForNewOwner(g *group) {
	for _, r := range e.groupResources(g) {
		r.act, r.timer, r.restarts, r.failNext = nil, nil, nil, false
		r.unconfirmed, r.stopFailed, r.restop, r.override = false, false, false, false
		if r.wait == waitFatal {
			if r.state != failover.ResourceFailed {
				e.setState(r, failover.ResourceOffline)
			}
			continue
		}
		r.wait = waitNone
		e.setState(r, failover.ResourceOffline)
	}
}

// placeOrphan gives a group whose owner is Down, and of which nothing
// runs, to a node that can take it (its move's target if it moves there).
func (e *Engine) placeOrphan(g *group) bool {
	t := NodeID(0)
	if g.move != nil && g.move.target != 0 && e.moveValid(g) {
		t = g.move.target
	} else {
		t = e.chooseTarget(g, choiceFailover)
	}
	if t == 0 {
		return false
	}
	if g.move != nil {
		g.move.target, g.move.passed = t, true
	}
	e.resetForNewOwner(g)
	g.note = ""
	e.setOwner(g, t)
	return true
}

// failoverThreshold is how many failovers g may make within its failover
// period: its setting, or (-1) the number of known nodes less one.
func (e *Engine) failoverThreshold(g *group) int {
	if g.props.FailoverThreshold >= 0 {
		return g.props.FailoverThreshold
	}
	known := 0
	for _, n := range e.nodes {
		if n.known {
			known++
		}
	}
	return max(known-1, 0)
}

// failoverCount returns how many failovers g made within its failover
// period.
func (e *Engine) failoverCount(g *group) int {
	return countSince(g.failovers, e.now-int64(g.props.FailoverPeriod))
}

// countSince counts the times after since.
func countSince(ts []int64, since int64) int {
	n := 0
	for _, t := range ts {
		if t > since {
			n++
		}
	}
	return n
}

// pruneSince drops the times not after since.
func pruneSince(ts []int64, since int64) []int64 {
	return slices.DeleteFunc(ts, func(t int64) bool { return t <= since })
}
