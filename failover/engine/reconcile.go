package engine

import (
	"time"

	"github.com/openhags/hags/failover"
)

// Reconciliation: after every input the engine drives each group it may
// have affected toward what its configuration asks, in a fixed order
// (groups by name; resources by dependency order, then name). This is the
// one mechanism behind online and offline requests, dependencies, moves,
// failovers, restarts and pause: each of them only changes what is asked
// (a persistent state, a move, a wait) and lets reconciliation act.
//
// For a group owned by an Up node, each pass:
//   - stops, dependents first, every running resource that may not stay
//     online (persistent offline, its owner no longer eligible, a provider
//     that does not stay online, or the group moving away); while
//     dependents of it still run, it shows OfflinePending and waits;
//   - starts, providers first, every resource that is wanted (persistent
//     online, eligible on the owner, the owner not paused, not locked, not
//     waiting after a failure) once each of its dependency sets has an
//     Online member; while a set has none but one is being started, it
//     shows OnlinePending and waits;
//   - when the group moves and nothing of it runs any more, passes
//     ownership, and the new owner's pass follows in the same step.

// reconcile drives the groups marked dirty (every group after a
// membership change) and the takeovers waiting on departed nodes.
func (e *Engine) reconcile() {
	e.driveTakeovers()
	var names []string
	if e.st.all {
		names = e.groupNames()
	} else {
		names = sortedKeys(e.st.dirty)
	}
	e.st.all = false
	clear(e.st.dirty)
	for _, name := range names {
		if g := e.groups[name]; g != nil {
			e.driveGroup(g)
		}
	}
	// Driving a group reaches its own fixpoint and affects no other group.
	clear(e.st.dirty)
}

// maxPasses bounds the passes over one group in one reconciliation. Each
// pass handles whole dependency chains, so two or three reach the
// fixpoint; the bound only guarantees that a bug cannot loop forever.
const maxPasses = 16

// driveGroup runs passes over g until nothing changes.
func (e *Engine) driveGroup(g *group) {
	for i := 0; i < maxPasses && e.drivePass(g); i++ {
	}
	for _, r := range e.groupResources(g) {
		if r.override && r.act == nil && !r.state.Pending() {
			r.override = false
		}
	}
}

// drivePass makes one pass over g and reports whether anything changed.
func (e *Engine) drivePass(g *group) bool {
	if g.waiting {
		return false
	}
	owner := e.nodes[g.owner]
	if owner == nil || owner.status == statusJoining {
		return false
	}
	if owner.status == statusDown {
		return e.placeOrphan(g)
	}
	if g.move != nil && !g.move.passed && !e.moveValid(g) {
		e.abandonMove(g, "the move to "+e.nodeName(g.move.target)+" was abandoned: the node is no longer up, unpaused and eligible")
		return true
	}
	stopAll := g.move != nil && !g.move.passed
	changed := e.stopPass(g, stopAll)
	changed = e.startPass(g, stopAll, owner.paused) || changed
	switch {
	case stopAll && e.allStopped(g):
		e.passOwnership(g)
		changed = true
	case g.move != nil && g.move.passed && !e.anyPending(g):
		g.move = nil
		e.markGroup(g)
		changed = true
	}
	return changed
}

// stopPass stops, dependents first, the running resources of g that may
// not stay online.
func (e *Engine) stopPass(g *group, stopAll bool) bool {
	order := e.order(g)
	stays := make(map[string]bool, len(order))
	for _, r := range order {
		stays[r.name] = e.keeps(g, r, stopAll) && e.satisfied(r, func(p *resource) bool { return stays[p.name] })
	}
	changed := false
	for i := len(order) - 1; i >= 0; i-- {
		r := order[i]
		if r.act != nil {
			continue
		}
		up := r.state == failover.ResourceOnline || r.state == failover.ResourceOfflinePending
		switch {
		case up && !stays[r.name] && e.dependentsHold(r, stays):
			if r.state != failover.ResourceOfflinePending {
				e.setState(r, failover.ResourceOfflinePending)
				changed = true
			}
		case up && !stays[r.name]:
			fast := g.move != nil && g.move.fast && r.locked
			e.startAction(g, r, ActStop, purposeStop, fast)
			changed = true
		case r.state == failover.ResourceOfflinePending && stays[r.name]:
			e.setState(r, failover.ResourceOnline)
			changed = true
		case r.stopFailed && r.restop && !e.dependentsHold(r, stays):
			r.restop = false
			e.startAction(g, r, ActStop, purposeStop, false)
			changed = true
		}
	}
	return changed
}

// keeps reports whether r, if it runs, should go on running on g's owner
// as far as r itself is concerned (its providers are judged apart).
func (e *Engine) keeps(g *group, r *resource, stopAll bool) bool {
	switch {
	case r.state != failover.ResourceOnline && r.state != failover.ResourceOfflinePending:
		return false
	case r.act != nil && r.act.op == ActStop, stopAll:
		return false
	case r.lockHeld():
		return true
	}
	return r.persistent == failover.PersistentOnline && r.runnableOn(g.owner)
}

// dependentsHold reports whether a dependent of r still runs (or may) and
// would be left without a provider if r stopped: r must wait for it.
func (e *Engine) dependentsHold(r *resource, stays map[string]bool) bool {
	for _, d := range e.dependents(r) {
		if !d.running() {
			continue
		}
		for _, set := range d.dep.Sets {
			if !contains(set, r.name) {
				continue
			}
			if !e.anyOf(set, func(p *resource) bool { return p != r && stays[p.name] }) {
				return true
			}
		}
	}
	return false
}

// startPass starts, providers first, the wanted resources of g whose
// dependencies are online.
func (e *Engine) startPass(g *group, stopAll, paused bool) bool {
	changed := false
	for _, r := range e.order(g) {
		if r.act != nil || r.unconfirmed {
			continue
		}
		switch r.state {
		case failover.ResourceOffline, failover.ResourceFailed, failover.ResourceOnlinePending, failover.ResourceInitializing:
		default:
			continue
		}
		if r.state == failover.ResourceFailed && (r.wait != waitNone || r.stopFailed) {
			continue
		}
		want := !stopAll && !paused && e.wanted(g, r)
		switch {
		case want && e.satisfied(r, isOnline):
			e.startAction(g, r, ActStart, purposeStart, false)
			changed = true
		case want && e.satisfied(r, isOnlineOrComing):
			if r.state != failover.ResourceOnlinePending {
				e.setState(r, failover.ResourceOnlinePending)
				changed = true
			}
		case r.state == failover.ResourceOnlinePending || r.state == failover.ResourceInitializing:
			e.setState(r, failover.ResourceOffline)
			changed = true
		}
	}
	return changed
}

// wanted reports whether r should be brought online on g's owner: its
// persistent state is online, it may run there, no lock holds it, and no
// copy of it is known to run elsewhere.
func (e *Engine) wanted(g *group, r *resource) bool {
	return r.persistent == failover.PersistentOnline && r.runnableOn(g.owner) && !r.lockHeld() && !e.hasStray(r.name)
}

func isOnline(p *resource) bool { return p.state == failover.ResourceOnline }

func isOnlineOrComing(p *resource) bool {
	return p.state == failover.ResourceOnline || p.state == failover.ResourceOnlinePending
}

// allStopped reports whether nothing of g runs on its owner: every
// resource Offline or Failed, no action under way, no stop failed.
func (e *Engine) allStopped(g *group) bool {
	for _, r := range e.groupResources(g) {
		if r.running() {
			return false
		}
		if r.state != failover.ResourceOffline && r.state != failover.ResourceFailed {
			return false
		}
	}
	return true
}

// anyPending reports whether some resource of g is pending.
func (e *Engine) anyPending(g *group) bool {
	for _, r := range e.groupResources(g) {
		if r.pending() {
			return true
		}
	}
	return false
}

// startAction asks g's owner to run op on r.
func (e *Engine) startAction(g *group, r *resource, op ActionOp, purpose actionPurpose, fast bool) {
	e.lastAction++
	r.act = &action{id: e.lastAction, op: op, node: g.owner, purpose: purpose, since: e.now}
	a := &Action{
		ID:              e.lastAction,
		Op:              op,
		Resource:        r.name,
		Agent:           r.agent,
		Params:          cloneParams(r.params),
		MonitorInterval: time.Duration(r.props.MonitorInterval),
		MonitorTimeout:  time.Duration(r.props.MonitorTimeout),
		Fast:            fast,
		Adopt:           purpose == purposeAdopt,
	}
	if op == ActStart {
		a.Timeout = startTimeout(r)
	} else {
		a.Timeout = stopTimeout(r)
	}
	e.emit(Output{Kind: OutAction, Node: g.owner, Action: a})
	e.st.actions++
	switch purpose {
	case purposeStart:
		e.setState(r, failover.ResourceOnlinePending)
	case purposeStop:
		e.setState(r, failover.ResourceOfflinePending)
	}
	e.markResource(r)
}

// startTimeout bounds r's start: its start timeout, at most its pending
// timeout (0: the pending timeout).
func startTimeout(r *resource) time.Duration {
	return boundedTimeout(r.props.StartTimeout, r.props.PendingTimeout)
}

// stopTimeout bounds r's stop likewise.
func stopTimeout(r *resource) time.Duration {
	return boundedTimeout(r.props.StopTimeout, r.props.PendingTimeout)
}

func boundedTimeout(t, pending failover.Duration) time.Duration {
	if t <= 0 || t > pending {
		return time.Duration(pending)
	}
	return time.Duration(t)
}

func contains(set []string, name string) bool {
	for _, s := range set {
		if s == name {
			return true
		}
	}
	return false
}
