package engine

import (
	"github.com/openhags/hags/failover"
)

// Online and offline requests. They set persistent states and let
// reconciliation act; their answers follow from the state the step leaves:
// ERROR_IO_PENDING exactly when the resource (or a resource of the group)
// is pending afterwards.
//
// A resource shows OnlinePending from the moment the engine is bringing it
// online — its own start runs, or it waits for providers being started for
// it — until it is Online or fails; OfflinePending likewise while its
// dependents or its own stop are taken offline.
//
// Two answers of ApiOnlineResource are failures of the immediate attempt
// that still set the persistent state, as MS-CMRP asks ("regardless of the
// success or failure of this immediate attempt"):
// ERROR_CLUSTER_RESOURCE_PROVIDER_FAILED and ERROR_RESOURCE_FAILED (the
// resource itself cannot run on its owner); ApiOfflineResource's
// ERROR_RESOURCE_FAILED likewise. Every other error changes nothing.

// opOnlineResource brings a resource online on its group's owner, its
// providers first (ApiOnlineResource in docs/failover.md).
func (e *Engine) opOnlineResource(q *Request) error {
	r, g, err := e.lookupResource(q)
	if err != nil {
		return err
	}
	switch r.state {
	case failover.ResourceInitializing, failover.ResourceOnline, failover.ResourceOffline, failover.ResourceFailed:
	default:
		return failover.Errorf(failover.CodeInvalidState, "resource %s is %s", r.name, r.state)
	}
	if r.act != nil {
		return failover.Errorf(failover.CodeInvalidState, "resource %s is being %s", r.name, actingWord(r.act))
	}
	owner := e.nodes[g.owner]
	if owner != nil && owner.status == statusUp && owner.paused {
		return failover.Errorf(failover.CodeSharingPaused, "node %s, which owns resource %s, is paused", owner.name, r.name)
	}
	if !q.IgnoreLocked {
		if l := e.lockedAmong(append([]*resource{r}, e.allProviders(r)...)); l != nil {
			return failover.Errorf(failover.CodeClusterResourceLockedStatus, "resource %s is locked", l.name)
		}
	}
	if err := e.ownerReady(g); err != nil {
		return err
	}
	if r.state != failover.ResourceOnline {
		if err := e.canHost(r, g); err != nil {
			return err
		}
	}
	// The persistent state is set from here on, whatever the answer.
	r.persistent = failover.PersistentOnline
	e.markResource(r)
	if r.state == failover.ResourceInitializing {
		e.setState(r, failover.ResourceOffline)
	}
	if r.state == failover.ResourceOnline {
		return nil
	}
	if err := e.ownRunnable(r, g); err != nil {
		return err
	}
	plan, bad := e.onlinePlan(r, g, q.IgnoreLocked)
	if bad != nil {
		return failover.Errorf(failover.CodeClusterResourceProviderFailed, "provider %s of resource %s cannot come online on %s: %s",
			bad.name, r.name, e.nodeName(g.owner), e.cannotText(bad, g))
	}
	for _, p := range append(plan, r) {
		p.persistent = failover.PersistentOnline
		p.override = p.override || q.IgnoreLocked && p.locked
		e.retryNow(p)
		e.markResource(p)
	}
	e.reconcile()
	if r.state.Pending() {
		return failover.Errorf(failover.CodeIOPending, "resource %s is %s on %s", r.name, r.state, e.nodeName(g.owner))
	}
	if r.state == failover.ResourceOnline {
		return nil
	}
	return failover.Errorf(failover.CodeResourceFailed, "resource %s did not start: %s", r.name, e.whyNotRunnable(r, g))
}

// ownerReady says why g's owner cannot bring anything online now.
func (e *Engine) ownerReady(g *group) error {
	switch {
	case g.waiting:
		return failover.Errorf(failover.CodeClusterGroupMoving, "group %s waits to be taken over from %s", g.name, e.nodeName(g.owner))
	case g.move != nil:
		return failover.Errorf(failover.CodeClusterGroupMoving, "group %s is moving", g.name)
	case !e.alive(g.owner):
		return failover.Errorf(failover.CodeHostNodeNotAvailable, "node %s, which owns group %s, is not up", e.nodeName(g.owner), g.name)
	}
	return nil
}

// canHost says why r's owner may not host r now; nothing is changed for
// these answers.
func (e *Engine) canHost(r *resource, g *group) error {
	switch {
	case !r.possibleOn(g.owner):
		return failover.Errorf(failover.CodeHostNodeNotResourceOwner, "node %s is not a possible owner of resource %s", e.nodeName(g.owner), r.name)
	case e.hasStray(r.name):
		return failover.Errorf(failover.CodeInvalidState, "a copy of resource %s found running elsewhere is not known stopped", r.name)
	}
	return nil
}

// ownRunnable says why r itself failed so that it cannot run on its owner:
// a failure of the immediate attempt.
func (e *Engine) ownRunnable(r *resource, g *group) error {
	if r.hardOn(g.owner) || r.wait == waitFatal {
		return failover.Errorf(failover.CodeResourceFailed, "resource %s cannot run on %s: %s (clean it up first)", r.name, e.nodeName(g.owner), e.describeFailure(r.last))
	}
	return nil
}

// retryNow ends what a Failed resource waits for, so that it is tried at
// once (an operator asked for it online).
func (e *Engine) retryNow(r *resource) {
	if r.state == failover.ResourceFailed && (r.wait == waitRestart || r.wait == waitRetry || r.wait == waitLocked && r.override) {
		r.wait, r.timer = waitNone, nil
	}
}

// onlinePlan returns the providers that must come online (transitively)
// for r to: each simple provider, and for each complex set its member that
// is online or coming, else one whose persistent state is online, else the
// first that can come online, in the order written. bad is a provider
// that cannot come online (nil if all can).
func (e *Engine) onlinePlan(r *resource, g *group, ignoreLocked bool) (plan []*resource, bad *resource) {
	c := &comeOnline{e: e, g: g, ignoreLocked: ignoreLocked, memo: map[string]bool{}}
	seen := map[string]bool{r.name: true}
	var walk func(x *resource) *resource
	walk = func(x *resource) *resource {
		for _, set := range x.dep.Sets {
			p, bad := c.pick(set)
			if p == nil {
				return bad
			}
			if seen[p.name] || isOnlineOrComing(p) {
				continue
			}
			seen[p.name] = true
			plan = append(plan, p)
			if b := walk(p); b != nil {
				return b
			}
		}
		return nil
	}
	bad = walk(r)
	return plan, bad
}

// comeOnline judges which resources of g could be brought online on its
// owner now. It remembers each answer: a resource is judged once per
// request however many dependents share it (without the memory, judging a
// graph of complex sets that share providers takes exponential time).
type comeOnline struct {
	e            *Engine
	g            *group
	ignoreLocked bool
	memo         map[string]bool
}

// pick chooses the member of a dependency set that will satisfy it; with
// none, it returns the first member as the one that failed.
func (c *comeOnline) pick(set []string) (*resource, *resource) {
	var first, chosen *resource
	for _, name := range set {
		p := c.e.resources[name]
		if p == nil {
			continue
		}
		if first == nil {
			first = p
		}
		switch {
		case isOnlineOrComing(p):
			return p, nil
		case chosen == nil && c.can(p):
			chosen = p
		case chosen != nil && chosen.persistent != failover.PersistentOnline && p.persistent == failover.PersistentOnline && c.can(p):
			chosen = p
		}
	}
	if chosen != nil {
		return chosen, nil
	}
	return nil, first
}

// can reports whether p could be brought online, its own providers
// included.
func (c *comeOnline) can(p *resource) bool {
	if isOnlineOrComing(p) {
		return true
	}
	if v, ok := c.memo[p.name]; ok {
		return v
	}
	c.memo[p.name] = false // a cycle (never in a checked graph) counts as no
	ok := c.e.whyNotRunnable(p, c.g) == "" && (!p.lockHeld() || c.ignoreLocked)
	for _, set := range p.dep.Sets {
		ok = ok && c.e.anyOf(set, c.can)
	}
	c.memo[p.name] = ok
	return ok
}

// whyNotRunnable says why resource p cannot be started on g's owner, ""
// if nothing about p itself keeps it from being.
func (e *Engine) whyNotRunnable(p *resource, g *group) string {
	switch {
	case !p.possibleOn(g.owner):
		return e.nodeName(g.owner) + " is not a possible owner of it"
	case p.hardOn(g.owner):
		return "it failed hard there"
	case p.wait == waitFatal:
		return "its configuration is wrong (the agent said so)"
	case p.stopFailed:
		return "it failed to stop and may still run"
	case p.unconfirmed:
		return "it is not known whether it runs"
	case e.hasStray(p.name):
		return "a copy of it runs elsewhere"
	case p.state == failover.ResourceFailed && p.wait == waitRetry:
		return "it failed and recovery gave up (clean it up first)"
	case p.state == failover.ResourceFailed && p.wait == waitFailover:
		return "its group fails over"
	case p.act != nil && p.act.op == ActStop:
		return "it is being stopped"
	}
	return ""
}

// cannotText says why provider p cannot come online.
func (e *Engine) cannotText(p *resource, g *group) string {
	switch why := e.whyNotRunnable(p, g); {
	case why != "":
		return why
	case p.lockHeld():
		return "it is locked"
	}
	return "its own providers cannot come online"
}

// allProviders returns every resource r depends on, transitively.
func (e *Engine) allProviders(r *resource) []*resource {
	seen := map[string]bool{r.name: true}
	var out []*resource
	var walk func(x *resource)
	walk = func(x *resource) {
		for _, name := range x.dep.Providers() {
			if p := e.resources[name]; p != nil && !seen[name] {
				seen[name] = true
				out = append(out, p)
				walk(p)
			}
		}
	}
	walk(r)
	return out
}

// lockedAmong returns the first locked resource of rs.
func (e *Engine) lockedAmong(rs []*resource) *resource {
	for _, r := range rs {
		if r.locked {
			return r
		}
	}
	return nil
}

// opOfflineResource takes a resource offline, dependents that cannot stay
// online without it first.
func (e *Engine) opOfflineResource(q *Request) error {
	r, g, err := e.lookupResource(q)
	if err != nil {
		return err
	}
	switch r.state {
	case failover.ResourceOnline, failover.ResourceOffline, failover.ResourceFailed:
	default:
		return failover.Errorf(failover.CodeInvalidState, "resource %s is %s", r.name, r.state)
	}
	if r.act != nil {
		return failover.Errorf(failover.CodeInvalidState, "resource %s is being %s", r.name, actingWord(r.act))
	}
	cascade := e.offlineCascade(r)
	if !q.IgnoreLocked {
		if l := e.lockedAmong(cascade); l != nil {
			return failover.Errorf(failover.CodeClusterResourceLockedStatus, "resource %s is locked", l.name)
		}
	}
	if e.anyRunning(cascade) && (!e.alive(g.owner) || g.waiting) {
		return failover.Errorf(failover.CodeHostNodeNotAvailable, "node %s, which owns resource %s, is not up", e.nodeName(g.owner), r.name)
	}
	for _, x := range cascade {
		x.persistent = failover.PersistentOffline
		x.override = x.override || q.IgnoreLocked && x.locked
		e.markResource(x)
	}
	switch r.state {
	case failover.ResourceOffline:
		return nil
	case failover.ResourceFailed:
		return failover.Errorf(failover.CodeResourceFailed, "resource %s is Failed; its persistent state is now offline", r.name)
	}
	e.reconcile()
	if r.state.Pending() {
		return failover.Errorf(failover.CodeIOPending, "resource %s is %s on %s", r.name, r.state, e.nodeName(g.owner))
	}
	return nil
}

// offlineCascade returns r and, transitively, its dependents that cannot
// stay online once it is offline: a set of theirs that names it has no
// other Online member that stays.
func (e *Engine) offlineCascade(r *resource) []*resource {
	in := map[string]bool{r.name: true}
	out := []*resource{r}
	for i := 0; i < len(out); i++ {
		x := out[i]
		for _, d := range e.dependents(x) {
			if in[d.name] {
				continue
			}
			for _, set := range d.dep.Sets {
				if contains(set, x.name) && !e.anyOf(set, func(p *resource) bool { return !in[p.name] && isOnline(p) }) {
					in[d.name] = true
					out = append(out, d)
					break
				}
			}
		}
	}
	return out
}

func (e *Engine) anyRunning(rs []*resource) bool {
	for _, r := range rs {
		if r.running() {
			return true
		}
	}
	return false
}

// opOnlineGroup brings every resource of a group online on its owner.
func (e *Engine) opOnlineGroup(q *Request) error {
	g, err := e.lookupGroup(q)
	if err != nil {
		return err
	}
	if e.groupState(g) == failover.GroupPending {
		return failover.Errorf(failover.CodeInvalidState, "group %s is pending", g.name)
	}
	if h := e.antiAffinityWith(g, g.owner); h != nil {
		return failover.Errorf(failover.CodeNodeCantHostResource, "node %s hosts group %s, which shares an anti-affinity class with group %s", e.nodeName(g.owner), h.name, g.name)
	}
	if n := e.nodes[g.owner]; n != nil && n.status == statusUp && n.paused {
		return failover.Errorf(failover.CodeSharingPaused, "node %s, which owns group %s, is paused", n.name, g.name)
	}
	rs := e.groupResources(g)
	if !q.IgnoreLocked {
		if l := e.lockedAmong(rs); l != nil {
			return failover.Errorf(failover.CodeClusterResourceLockedStatus, "resource %s of group %s is locked", l.name, g.name)
		}
	}
	if err := e.ownerReady(g); err != nil {
		return err
	}
	g.persistent = failover.PersistentOnline
	e.markGroup(g)
	for _, r := range rs {
		r.persistent = failover.PersistentOnline
		r.override = r.override || q.IgnoreLocked && r.locked
		e.retryNow(r)
		e.markResource(r)
	}
	return e.groupAnswer(g)
}

// opOfflineGroup takes every resource of a group offline.
func (e *Engine) opOfflineGroup(q *Request) error {
	g, err := e.lookupGroup(q)
	if err != nil {
		return err
	}
	if e.groupState(g) == failover.GroupPending {
		return failover.Errorf(failover.CodeInvalidState, "group %s is pending", g.name)
	}
	rs := e.groupResources(g)
	if !q.IgnoreLocked {
		if l := e.lockedAmong(rs); l != nil {
			return failover.Errorf(failover.CodeClusterResourceLockedStatus, "resource %s of group %s is locked", l.name, g.name)
		}
	}
	if e.anyRunning(rs) && (!e.alive(g.owner) || g.waiting) {
		return failover.Errorf(failover.CodeHostNodeNotAvailable, "node %s, which owns group %s, is not up", e.nodeName(g.owner), g.name)
	}
	g.persistent = failover.PersistentOffline
	e.markGroup(g)
	for _, r := range rs {
		r.persistent = failover.PersistentOffline
		r.override = r.override || q.IgnoreLocked && r.locked
		e.markResource(r)
	}
	return e.groupAnswer(g)
}

// groupAnswer reconciles and answers a group request: ERROR_IO_PENDING if
// a resource of g is pending, else success.
func (e *Engine) groupAnswer(g *group) error {
	e.reconcile()
	if e.anyPending(g) {
		return failover.Errorf(failover.CodeIOPending, "group %s is pending on %s", g.name, e.nodeName(g.owner))
	}
	return nil
}

func actingWord(a *action) string {
	if a.op == ActStart {
		return "started"
	}
	return "stopped"
}
