package engine

import (
	"fmt"
	"time"

	"github.com/openhags/hags/failover"
)

// Results, failures and recovery (contract §8).
//
// A failure of a resource on its owner (a monitor or an exec process
// reporting it, a start that failed, an operator's fail request) makes it
// Failed and, since a failed resource may have left something running, is
// followed by a stop of it on the owner, as OCF's recovery is stop then
// start. Nothing else is decided until that stop ends: if it fails, the
// resource is stop-failed and holds its group where it is; if it succeeds,
// recovery decides (recover): a fatal failure waits for cleanup; a hard
// one fails the group over; a soft one is restarted in place after the
// restart delay, up to restart-threshold times within restart-period,
// and then fails the group over (restart-notify) or waits. A Failed
// resource that waits is tried again after retry-period-on-failure.

// result handles the end of an action the engine asked of node from.
func (e *Engine) result(from NodeID, res *ActionResult) {
	r := e.resources[res.Resource]
	if r == nil || r.act == nil || r.act.id != res.ID || r.act.node != from || r.act.op != res.Op {
		e.strayResult(from, res)
		return
	}
	a := r.act
	r.act = nil
	r.override = false
	e.markResource(r)
	ok := res.Outcome == OutcomeOK
	out := failureOutcome(res.Outcome)
	switch a.purpose {
	case purposeStart, purposeAdopt:
		switch {
		case ok && r.failNext:
			e.fail(r, OutcomeSoft, "failed by request", a.purpose == purposeStart)
		case ok:
			e.setState(r, failover.ResourceOnline)
		default:
			e.fail(r, out, res.Detail, a.purpose == purposeStart)
		}
	case purposeStop:
		switch {
		case !ok:
			e.stopFailed(r, res.Detail)
		case r.failNext:
			r.stopFailed, r.restop, r.failNext = false, false, false
			e.noteFailure(r, OutcomeSoft, "failed by request", false)
			e.setState(r, failover.ResourceFailed)
			e.recover(r)
		default:
			r.stopFailed, r.restop = false, false
			e.setState(r, failover.ResourceOffline)
		}
	case purposeCleanup:
		if !ok {
			e.stopFailed(r, res.Detail)
			return
		}
		r.stopFailed, r.restop = false, false
		e.recover(r)
	}
}

// failureInput handles a failure node from reports for a resource it
// runs; reports about resources it does not run (any more) are ignored.
func (e *Engine) failureInput(from NodeID, f *Failure) {
	r := e.resources[f.Resource]
	if r == nil || e.ownerOf(r) != from || !e.alive(from) || r.act != nil || r.unconfirmed {
		return
	}
	if r.state != failover.ResourceOnline && r.state != failover.ResourceOfflinePending {
		return
	}
	e.fail(r, failureOutcome(f.Outcome), f.Detail, false)
}

// failureOutcome classifies a failure's outcome: one the engine does not
// know (or OK, where a failure was reported) counts as soft.
func failureOutcome(o Outcome) Outcome {
	if o == OutcomeHard || o == OutcomeFatal {
		return o
	}
	return OutcomeSoft
}

// fail records a failure of r on its owner, makes it Failed and stops
// what may be left of it.
func (e *Engine) fail(r *resource, out Outcome, detail string, start bool) {
	g := e.groups[r.group]
	r.failNext = false
	r.timer = nil
	e.noteFailure(r, out, detail, start)
	switch out {
	case OutcomeFatal:
		r.wait = waitFatal
	case OutcomeHard:
		r.hard = addSorted(r.hard, g.owner)
	}
	if r.wait != waitFatal {
		r.wait = waitNone
	}
	e.setState(r, failover.ResourceFailed)
	e.startAction(g, r, ActStop, purposeCleanup, false)
}

// noteFailure remembers r's last failure for recovery and Why.
func (e *Engine) noteFailure(r *resource, out Outcome, detail string, start bool) {
	r.last = &failure{outcome: out, detail: detail, node: e.ownerOf(r), at: e.now, start: start}
}

// stopFailed records that a stop of r failed: it may still run on its
// owner, and holds its group there until it is fenced or cleaned up.
func (e *Engine) stopFailed(r *resource, detail string) {
	r.stopFailed, r.restop = true, false
	r.failNext = false
	r.timer = nil
	r.last = &failure{outcome: OutcomeSoft, detail: detail, node: e.ownerOf(r), at: e.now, stop: true}
	e.setState(r, failover.ResourceFailed)
}

// recover decides what a Failed resource that no longer runs does next.
func (e *Engine) recover(r *resource) {
	g := e.groups[r.group]
	e.markResource(r)
	r.timer = nil
	switch {
	case r.locked:
		r.wait = waitLocked
		return
	case r.wait == waitFatal || r.last != nil && r.last.outcome == OutcomeFatal:
		r.wait = waitFatal
		return
	case r.persistent != failover.PersistentOnline || g.move != nil:
		r.wait = waitNone
		return
	}
	r.wait = waitNone
	if r.hardOn(g.owner) || !r.possibleOn(g.owner) {
		e.failOver(r, fmt.Sprintf("it may not run on %s any more", e.nodeName(g.owner)))
		return
	}
	if r.props.RestartAction == failover.DontRestart {
		e.giveUp(r, "its restart-action is dont-restart")
		return
	}
	r.restarts = pruneSince(r.restarts, e.now-int64(r.props.RestartPeriod))
	if len(r.restarts) < r.props.RestartThreshold {
		r.restarts = append(r.restarts, e.now)
		r.wait = waitRestart
		e.armTimer(r, TimerRestart, time.Duration(r.props.RestartDelay))
		return
	}
	why := fmt.Sprintf("it failed again after %d restarts within %s (restart-threshold %d)", len(r.restarts), r.props.RestartPeriod, r.props.RestartThreshold)
	if r.props.RestartAction == failover.RestartNoNotify {
		e.giveUp(r, why+" and its restart-action is restart-no-notify")
		return
	}
	e.failOver(r, why)
}

// failOver fails r's group over, if its restart action, its locks, its
// failover threshold and the nodes allow; otherwise r gives up.
func (e *Engine) failOver(r *resource, why string) {
	g := e.groups[r.group]
	if r.props.RestartAction != failover.RestartNotify {
		e.giveUp(r, why+", and its restart-action "+r.props.RestartAction.String()+" never fails the group over")
		return
	}
	if err := e.failoverBlocked(g); err != "" {
		e.giveUp(r, why+"; the group cannot fail over: "+err)
		return
	}
	g.move = &move{kind: moveFailover}
	g.note = ""
	r.wait = waitFailover
	e.markGroup(g)
}

// failoverBlocked says why g may not fail over now ("" if it may).
func (e *Engine) failoverBlocked(g *group) string {
	for _, r := range e.groupResources(g) {
		switch {
		case r.locked && r.running():
			return "resource " + r.name + " is locked"
		case r.stopFailed:
			return "resource " + r.name + " failed to stop"
		}
	}
	if n, limit := e.failoverCount(g), e.failoverThreshold(g); n >= limit {
		return fmt.Sprintf("failover threshold reached (%d in %s)", n, g.props.FailoverPeriod)
	}
	if e.chooseTarget(g, choiceFailover) == 0 {
		return "no other node may host it"
	}
	return ""
}

// giveUp leaves r Failed until its retry period passes (never, with a
// period of 0), cleanup or an online request.
func (e *Engine) giveUp(r *resource, why string) {
	r.wait = waitRetry
	if r.last != nil {
		r.last.gaveUp = why
	}
	e.markResource(r)
	if r.props.RetryPeriodOnFailure > 0 && r.persistent == failover.PersistentOnline {
		e.armTimer(r, TimerRetry, time.Duration(r.props.RetryPeriodOnFailure))
	}
}

// armTimer asks r's owner for a timer.
func (e *Engine) armTimer(r *resource, kind TimerKind, after time.Duration) {
	owner := e.ownerOf(r)
	if !e.alive(owner) {
		return
	}
	tok := e.setTimer(owner, kind, r.name, after, 0)
	r.timer = &timer{kind: kind, token: tok, node: owner, due: e.now + int64(after)}
}

// timerFired handles a timer node from set for the engine.
func (e *Engine) timerFired(from NodeID, t *TimerFired) {
	switch t.Kind {
	case TimerRestart, TimerRetry:
		e.resourceTimer(from, t)
	case TimerWindow:
		e.windowFired(from, t)
	case TimerFenceRetry:
		e.fenceRetryFired(from, t)
	}
}

// resourceTimer: a restart delay or a retry period passed.
func (e *Engine) resourceTimer(from NodeID, t *TimerFired) {
	r := e.resources[t.Key]
	if r == nil || r.timer == nil || r.timer.token != t.Token || r.timer.kind != t.Kind || r.timer.node != from {
		return
	}
	r.timer = nil
	e.markResource(r)
	if t.Kind == TimerRestart {
		r.wait = waitNone
		return
	}
	r.restarts = nil
	r.wait = waitNone
	if g := e.groups[r.group]; g != nil && (r.hardOn(g.owner) || !r.possibleOn(g.owner)) && r.persistent == failover.PersistentOnline {
		e.failOver(r, fmt.Sprintf("it may not run on %s", e.nodeName(g.owner)))
	}
}

// restartCount returns how many times r restarted within its restart
// period.
func (e *Engine) restartCount(r *resource) int {
	return countSince(r.restarts, e.now-int64(r.props.RestartPeriod))
}

// opFailResource treats a resource as failed (ApiFailResource). A resource
// that runs fails at once; one whose action runs fails when the action
// ends; one that only waits for its providers becomes Failed.
func (e *Engine) opFailResource(q *Request) error {
	r, g, err := e.lookupResource(q)
	if err != nil {
		return err
	}
	switch r.state {
	case failover.ResourceOnline, failover.ResourceOnlinePending, failover.ResourceOfflinePending:
	default:
		return failover.Errorf(failover.CodeInvalidState, "resource %s is %s; only an online or pending resource can fail", r.name, r.state)
	}
	if !e.alive(g.owner) || r.unconfirmed {
		return failover.Errorf(failover.CodeHostNodeNotAvailable, "the owner of resource %s, %s, is not up", r.name, e.nodeName(g.owner))
	}
	switch {
	case r.act != nil:
		r.failNext = true
	case r.state == failover.ResourceOnlinePending:
		e.noteFailure(r, OutcomeSoft, "failed by request", true)
		e.setState(r, failover.ResourceFailed)
		e.recover(r)
	default:
		e.fail(r, OutcomeSoft, "failed by request", false)
	}
	return nil
}

// opCleanupResource forgets a resource's failures (restart counts, the
// nodes it failed hard on, a fatal failure) and tries again: a stop-failed
// resource is stopped again (once no running dependent needs it), a Failed
// one whose persistent state is online is started again, and stray copies
// whose stop failed are stopped again.
func (e *Engine) opCleanupResource(q *Request) error {
	r, _, err := e.lookupResource(q)
	if err != nil {
		return err
	}
	r.restarts, r.hard = nil, nil
	e.markResource(r)
	e.restopStrays(r.name)
	if r.act != nil || r.unconfirmed {
		return nil
	}
	switch {
	case r.stopFailed:
		r.restop = true
		e.markResource(r)
	case r.state == failover.ResourceFailed:
		r.wait, r.timer = waitNone, nil
	}
	e.reconcile()
	if r.pending() {
		return failover.Errorf(failover.CodeIOPending, "resource %s is %s", r.name, r.state)
	}
	return nil
}
