package engine

import (
	"fmt"
	"strings"
	"time"

	"github.com/openhags/hags/failover"
)

// Why answers the operators' most frequent question: why is this not
// running (or why is it where it is)? Each answer is a few plain
// sentences built from the engine's own state — the same state its
// decisions read — so that they cannot disagree with what it does.

// Why returns sentences saying what resource name is doing and why it is
// not online (or, when it is, where and since when).
func (e *Engine) Why(name string) []string { return e.why(name, true) }

// why explains resource name; withGroup adds what its group is doing
// (WhyGroup says that once for all its resources).
func (e *Engine) why(name string, withGroup bool) []string {
	r := e.resources[name]
	if r == nil {
		return []string{fmt.Sprintf("there is no resource %s", name)}
	}
	g := e.groups[r.group]
	if g == nil {
		return []string{fmt.Sprintf("resource %s belongs to no group", name)}
	}
	w := &why{e: e, r: r, g: g, owner: e.nodeName(g.owner)}
	w.state()
	if e.hasStray(r.name) {
		w.add("a copy of it was found running on %s, whose manager does not own its group; it is stopped there, and it is not started until that copy is known stopped", e.strayNodes(r.name))
	}
	notStarted := r.state == failover.ResourceOffline || r.state == failover.ResourceInitializing ||
		r.state == failover.ResourceOnlinePending && r.act == nil
	if notStarted {
		w.ownBlockers()
	}
	if withGroup {
		w.group()
	}
	if notStarted {
		w.providers()
	}
	if r.locked && r.wait != waitLocked {
		w.add("locked: requests that would change it are refused without --ignore-locked, and a failure of it is not recovered until it is unlocked")
	}
	return w.out
}

// WhyGroup returns sentences saying where group name is, what it is doing
// and why, followed by the answer for each resource that is not online.
func (e *Engine) WhyGroup(name string) []string {
	g := e.groups[name]
	if g == nil {
		return []string{fmt.Sprintf("there is no group %s", name)}
	}
	out := []string{fmt.Sprintf("%s on %s (persistent state %s)", e.groupState(g), e.nodeName(g.owner), g.persistent)}
	w := &why{e: e, g: g, owner: e.nodeName(g.owner)}
	w.group()
	out = append(out, w.out...)
	if n := e.failoverCount(g); n > 0 {
		out = append(out, fmt.Sprintf("%d of its %d allowed failovers within %s have happened", n, e.failoverThreshold(g), g.props.FailoverPeriod))
	}
	for _, r := range e.groupResources(g) {
		if r.state == failover.ResourceOnline && !r.pending() {
			continue
		}
		for _, s := range e.why(r.name, false) {
			out = append(out, r.name+": "+s)
		}
	}
	return out
}

// why collects sentences about one resource (or, with r nil, a group).
type why struct {
	e     *Engine
	r     *resource
	g     *group
	owner string
	out   []string
}

func (w *why) add(format string, args ...any) { w.out = append(w.out, fmt.Sprintf(format, args...)) }

// state says what the resource is doing.
func (w *why) state() {
	e, r := w.e, w.r
	switch {
	case r.unconfirmed:
		w.add("not known whether it runs on %s: its manager is gone or has not probed since the cluster restarted", w.owner)
	case r.state == failover.ResourceOnline:
		w.add("Online on %s since %s", w.owner, e.clock(r.since))
		if r.act != nil {
			w.add("its manager came back and found it running; the start that confirms it runs since %s", e.clock(r.act.since))
		}
	case r.state == failover.ResourceOnlinePending && r.act != nil:
		w.add("starting on %s since %s (timeout %s)", w.owner, e.clock(r.act.since), startTimeout(r))
	case r.state == failover.ResourceOnlinePending:
		w.add("OnlinePending on %s: waiting for its providers to come online", w.owner)
	case r.state == failover.ResourceOfflinePending && r.act != nil:
		w.add("stopping on %s since %s (timeout %s)", w.owner, e.clock(r.act.since), stopTimeout(r))
	case r.state == failover.ResourceOfflinePending:
		w.add("OfflinePending on %s: waiting for %s to stop first", w.owner, w.runningDependents())
	case r.state == failover.ResourceFailed:
		w.failed()
	case r.state == failover.ResourceOffline:
		w.add("Offline on %s since %s", w.owner, e.clock(r.since))
	default:
		w.add("%s", strings.TrimPrefix(r.state.String(), "ClusterResource"))
	}
	if r.state == failover.ResourceOnline || r.state == failover.ResourceOfflinePending {
		if reason := w.stopReason(); reason != "" {
			w.add("it is being taken offline: %s", reason)
		} else if r.lockHeld() && (r.persistent != failover.PersistentOnline || !r.possibleOn(w.g.owner)) {
			w.add("it stays online only because it is locked")
		}
	}
}

// runningDependents names the dependents of r that still run.
func (w *why) runningDependents() string {
	var names []string
	for _, d := range w.e.dependents(w.r) {
		if d.running() {
			names = append(names, "["+d.name+"]")
		}
	}
	if len(names) == 0 {
		return "its dependents"
	}
	return "dependent " + strings.Join(names, ", ")
}

// stopReason says why a running resource is to stop ("" if it is not).
func (w *why) stopReason() string {
	r, g := w.r, w.g
	switch {
	case g.move != nil && !g.move.passed:
		return "its group is moving (" + g.move.kind.String() + ")"
	case r.lockHeld():
		return ""
	case r.persistent != failover.PersistentOnline:
		return "its persistent state is offline"
	case !r.possibleOn(g.owner):
		return w.owner + " is not a possible owner of it any more"
	}
	for _, set := range r.dep.Sets {
		if !w.e.anyOf(set, isOnline) {
			return "its provider " + setText(set) + " is not online"
		}
	}
	return ""
}

// failed explains a Failed resource: how it failed and what recovery does.
func (w *why) failed() {
	e, r := w.e, w.r
	what := "Failed on " + w.owner
	if r.last != nil {
		what = "Failed: " + e.describeFailure(r.last)
	}
	switch {
	case r.stopFailed && r.restop:
		w.add("%s; it may still run there; it is stopped again once %s stopped", what, w.runningDependents())
	case r.stopFailed:
		w.add("%s; it may still run there, and its group cannot move until %s is fenced or the resource is cleaned up (hagsrm resource cleanup %s)", what, w.owner, r.name)
	case r.act != nil:
		w.add("%s; stopping what may be left of it before recovery", what)
	case r.wait == waitFatal:
		w.add("%s; its configuration is wrong, so it is not restarted anywhere: fix its parameters, then run hagsrm resource cleanup %s", what, r.name)
	case r.wait == waitRestart && r.timer != nil:
		w.add("%s; restart %d of %d within %s after its restart delay, at %s", what, e.restartCount(r), r.props.RestartThreshold,
			r.props.RestartPeriod, e.clock(r.timer.due))
	case r.wait == waitFailover:
		w.add("%s; restart %d of %d within %s, failing the group over", what, e.restartCount(r), r.props.RestartThreshold, r.props.RestartPeriod)
	case r.wait == waitLocked:
		w.add("%s; it is locked, so it is not recovered until it is unlocked", what)
	case r.wait == waitRetry:
		gave := "recovery gave up"
		if r.last != nil && r.last.gaveUp != "" {
			gave = "recovery gave up: " + r.last.gaveUp
		}
		next := "it is not tried again automatically (retry-period-on-failure is 0): run hagsrm resource cleanup " + r.name
		if r.timer != nil {
			next = "it is tried again at " + e.clock(r.timer.due) + " (retry-period-on-failure " + r.props.RetryPeriodOnFailure.String() + "), or at once with hagsrm resource cleanup " + r.name
		}
		w.add("%s; %s; %s", what, gave, next)
	case r.persistent != failover.PersistentOnline:
		w.add("%s; its persistent state is offline, so it is not restarted", what)
	default:
		w.add("%s; it is started again as soon as it may", what)
	}
}

// group says what about the group keeps the resource (or the group) from
// running where it is.
func (w *why) group() {
	e, g := w.e, w.g
	owner := e.nodes[g.owner]
	switch {
	case g.waiting:
		w.add("%s", e.waitText(g))
	case owner == nil || owner.status == statusDown:
		w.add("its owner %s is down and no other node may host the group", w.owner)
	case owner.status == statusJoining:
		w.add("its owner %s is joining: its manager catches up and probes before the group is driven", w.owner)
	case owner.paused:
		w.add("node %s is paused: nothing of the group goes online there (hagsrm node resume %s)", w.owner, w.owner)
	}
	if m := g.move; m != nil {
		switch {
		case m.passed:
			w.add("the group's %s to %s is completing: its resources are driven to their persistent states there", m.kind, w.owner)
		case m.target != 0:
			w.add("the group is moving (%s) to %s: its resources are stopped on %s first", m.kind, e.nodeName(m.target), w.owner)
		default:
			w.add("the group is failing over: its resources are stopped on %s first", w.owner)
		}
	}
	if g.note != "" {
		w.add("%s", g.note)
	}
}

// waitText says what a group waiting for takeover waits for.
func (e *Engine) waitText(g *group) string {
	name := e.nodeName(g.owner)
	n := e.nodes[g.owner]
	if n == nil {
		return "the group waits for its owner"
	}
	how := map[Departure]string{DepartGoodbye: "left", DepartProcess: "died (process)", DepartNode: "was cut off or its node died"}[n.departed]
	if how == "" {
		how = "is gone"
	}
	switch {
	case n.status == statusJoining:
		return fmt.Sprintf("the group waits for %s's manager, which is joining, to probe what runs there", name)
	case n.fence != "" && n.fenceRetry:
		return fmt.Sprintf("the group waits for %s to be fenced: %s's manager %s; its fence command failed (%s) and runs again every %s", name, name, how, n.fenceNote, FenceRetryDelay)
	case n.fence != "":
		return fmt.Sprintf("the group waits for %s to be fenced: %s's manager %s; its fence command runs on %s", name, name, how, e.nodeName(n.fenceAt))
	case n.departed == DepartNode && g.windowToken != 0:
		return fmt.Sprintf("the group waits for %s's self-fencing window (%s) to pass: %s's manager %s; no fence-command", name, e.Window(g.name), name, how)
	}
	return fmt.Sprintf("the group waits for %s to be fenced: no fence-command, %s's manager %s; run `hagsrm node confirm-fenced %s` once it is known stopped", name, name, how, name)
}

// ownBlockers says what about the resource itself keeps it from being
// started on its owner.
func (w *why) ownBlockers() {
	e, r, g := w.e, w.r, w.g
	if r.unconfirmed || g.waiting {
		return
	}
	switch {
	case r.persistent != failover.PersistentOnline:
		w.add("Offline because its persistent state is offline (hagsrm resource online %s)", r.name)
	case !r.possibleOn(g.owner):
		w.add("cannot run on %s: %s is not a possible owner (possible owners: %s)", w.owner, w.owner, strings.Join(e.names(r.possible), ", "))
	case r.hardOn(g.owner):
		w.add("cannot run on %s: it failed hard there (clean it up to forget)", w.owner)
	case r.wait == waitFatal:
		w.add("cannot run anywhere: its configuration is wrong; fix it, then run hagsrm resource cleanup %s", r.name)
	}
}

// providers says which dependency sets of the resource have no Online
// member, and what their members are doing.
func (w *why) providers() {
	e, r, g := w.e, w.r, w.g
	if r.unconfirmed || g.waiting || g.move != nil && !g.move.passed {
		return
	}
	for _, set := range r.dep.Sets {
		if e.anyOf(set, isOnline) {
			continue
		}
		var parts []string
		for _, name := range set {
			if p := e.resources[name]; p != nil {
				parts = append(parts, e.providerState(p))
			}
		}
		w.add("waiting for provider %s (%s)", setText(set), strings.Join(parts, "; "))
	}
}

// providerState describes a provider in a few words.
func (e *Engine) providerState(p *resource) string {
	s := strings.TrimPrefix(p.state.String(), "ClusterResource")
	switch {
	case p.state == failover.ResourceFailed && p.last != nil:
		s += ": " + e.describeFailure(p.last)
	case p.persistent != failover.PersistentOnline && p.state != failover.ResourceOnline:
		s += ", persistent state offline"
	}
	if len(p.dep.Sets) > 0 && p.state != failover.ResourceOnline {
		s += ", itself depending on " + p.dep.String()
	}
	if len(p.name) > 0 {
		return "[" + p.name + "] " + s
	}
	return s
}

func (e *Engine) strayNodes(name string) string {
	var ns []string
	for _, s := range e.strays {
		if s.resource == name {
			n := e.nodeName(s.node)
			if s.failed != "" {
				n += " (its stop failed: " + s.failed + ")"
			}
			ns = append(ns, n)
		}
	}
	return strings.Join(ns, ", ")
}

func setText(set []string) string {
	parts := make([]string, len(set))
	for i, s := range set {
		parts[i] = "[" + s + "]"
	}
	if len(parts) == 1 {
		return parts[0]
	}
	return "one of " + strings.Join(parts, ", ")
}

// describeFailure says in words how a resource last failed.
func (e *Engine) describeFailure(f *failure) string {
	if f == nil {
		return ""
	}
	what := "failed"
	switch {
	case f.start:
		what = "start failed"
	case f.stop:
		what = "stop failed"
	}
	s := what + " on " + e.nodeName(f.node) + " at " + e.clock(f.at)
	if f.detail != "" {
		s += ": " + f.detail
	}
	switch f.outcome {
	case OutcomeHard:
		s += " (hard: never again on " + e.nodeName(f.node) + ")"
	case OutcomeFatal:
		s += " (fatal: its configuration is wrong)"
	}
	return s
}

// clock formats an engine time.
func (e *Engine) clock(t int64) string {
	return time.Unix(0, t).UTC().Format("2006-01-02T15:04:05.000Z")
}
