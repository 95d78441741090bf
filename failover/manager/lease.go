package manager

import (
	"context"
	"sync"
	"time"

	"github.com/openhags/hags/failover/engine"
	"github.com/openhags/hags/gsapi"
)

// lease is this manager's lease and what it has heard of the others'. It
// lives apart from the run loop, under its own lock, and its own goroutine
// renews it and fences the node when it lapses: a run loop busy with
// thousands of agent results must never delay a renewal, nor the stop that
// a lapsed lease demands. Times are monotonic readings of this machine's
// clock.
type lease struct {
	mu      sync.Mutex
	conn    *leaseConn                  // the session renewals go through; nil: none
	busy    bool                        // a renewal is in flight
	seq     uint64                      // renewals sent by this run
	sentAt  map[uint64]time.Time        // send time of renewals in flight
	renewed time.Time                   // send time of the last approved renewal
	heard   map[engine.NodeID]time.Time // when each node's last renewal was approved, here
	fenced  bool                        // resources were stopped for lack of a lease or session
	fencing bool                        // ... and the stop is still under way
}

// leaseConn is the hagsd session the lease is renewed through.
type leaseConn struct {
	gs      renewalSender // the session's client
	tok     gsapi.Token
	node    engine.NodeID
	inc     uint64
	session uint64
}

// renewalSender sends a renewal: the hagsd session's *gsapi.Client.
type renewalSender interface {
	SendMessage(tok gsapi.Token, req gsapi.MessageRequest) error
}

// renewal is the body of a lease message.
type renewal struct {
	Node engine.NodeID `msgpack:"n"`
	Inc  uint64        `msgpack:"i"`
	Seq  uint64        `msgpack:"s"`
}

// setConn starts renewing through c (nil: stop; the lease is void until a
// renewal through the next session is approved).
func (l *lease) setConn(c *leaseConn) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.conn, l.busy, l.sentAt, l.renewed = c, false, nil, time.Time{}
}

// fresh reports whether a renewal sent less than timeout ago was approved.
func (l *lease) fresh(timeout time.Duration) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.freshLocked(timeout)
}

func (l *lease) freshLocked(timeout time.Duration) bool {
	return !l.renewed.IsZero() && time.Since(l.renewed) < timeout
}

// heardAt returns when node's last renewal was approved here.
func (l *lease) heardAt(node engine.NodeID) (time.Time, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	t, ok := l.heard[node]
	return t, ok
}

// leaseLoop renews the lease and watches it, until ctx ends. Besides the
// renewal tick, a timer fires when the lease runs out (the last approved
// renewal's send time + LeaseTimeout), so that the self-fencing stop
// begins then and not up to a tick later: the others' self-fencing window
// leaves only LeaseTimeout × 5 % for lateness. The timer is armed again
// after every tick and every firing, from the renewal approved by then (an
// approval lands well within a tick of its send, long before the lease it
// renews runs out; a later one is seen when the timer fires).
func (m *Manager) leaseLoop(ctx context.Context) error {
	t := time.NewTicker(renewEvery / 2)
	defer t.Stop()
	expiry := time.NewTimer(m.cfg.LeaseTimeout)
	defer expiry.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			m.tickLease()
		case <-expiry.C:
			m.checkLease()
		}
		expiry.Reset(m.leaseLeft())
	}
}

// leaseLeft returns how long until the lease runs out. With no approved
// renewal, or a lease run out already (checked then), nothing can lapse
// before another renewal is approved, and a tick arms the timer after
// that: it returns LeaseTimeout.
func (m *Manager) leaseLeft() time.Duration {
	l := &m.lease
	l.mu.Lock()
	defer l.mu.Unlock()
	left := time.Until(l.renewed.Add(m.cfg.LeaseTimeout))
	if l.renewed.IsZero() || left <= 0 {
		return m.cfg.LeaseTimeout
	}
	return left
}

// tickLease renews the lease when no renewal is in flight and fences this
// node when the lease has run out while it runs something.
//
// The renewal is sent on a goroutine of its own, without the lease's lock:
// a write to hagsd may wait (hagsd reads a client no faster than the
// domain takes its requests), and neither the approvals of earlier
// renewals, which the client's dispatcher hands to leaseNotification under
// that lock, nor this loop's own check of the lease may wait behind it.
// busy allows one renewal in flight, so at most one such goroutine runs.
func (m *Manager) tickLease() {
	l := &m.lease
	l.mu.Lock()
	if c := l.conn; c != nil && !l.busy {
		l.seq++
		seq := l.seq
		if l.sentAt == nil {
			l.sentAt = map[uint64]time.Time{}
		}
		l.sentAt[seq] = time.Now()
		l.busy = true
		body := mustEncode(&renewal{Node: c.node, Inc: c.inc, Seq: seq})
		m.g.Go(func() error {
			err := c.gs.SendMessage(c.tok, gsapi.MessageRequest{NumPhases: gsapi.OnePhase, Message: body})
			if err != nil {
				l.sendFailed(c, seq)
			}
			return nil // the next tick sends another; a lost session is the run loop's
		})
	}
	l.mu.Unlock()
	m.checkLease()
}

// sendFailed: renewal seq through c could not be sent; unless a newer
// session or renewal took its place meanwhile, the next tick sends
// another.
func (l *lease) sendFailed(c *leaseConn, seq uint64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.sentAt, seq)
	if l.conn == c && l.seq == seq {
		l.busy = false
	}
}

// checkLease fences this node when its lease has run out (at
// LeaseTimeout since the last approved renewal was sent, not after) while
// it runs something. The node is the lease's session's: m.node belongs to
// the run loop.
func (m *Manager) checkLease() {
	l := &m.lease
	l.mu.Lock()
	c := l.conn
	l.mu.Unlock()
	if c == nil {
		return
	}
	runs := m.runsOn(c.node) // outside the lease's lock: it takes the engine's
	l.mu.Lock()
	since := time.Since(l.renewed)
	lapsed := l.conn == c && !l.fenced && !l.renewed.IsZero() && since >= m.cfg.LeaseTimeout && runs
	l.mu.Unlock()
	if lapsed {
		m.log.Error("the lease ran out: this node may be cut off; stopping its resources",
			"last_renewal", since.Round(time.Millisecond))
		m.selfFence(false)
	}
}

// leaseValid reports whether this manager may run resources now.
func (m *Manager) leaseValid() bool {
	l := &m.lease
	l.mu.Lock()
	defer l.mu.Unlock()
	return !l.fenced && l.freshLocked(m.cfg.LeaseTimeout)
}

// leaseNotification handles the lease group's approvals and rejections. It
// runs on the Group Services client's dispatching goroutine, not on the
// run loop.
func (m *Manager) leaseNotification(session uint64, n *gsapi.Notification) {
	if n.Protocol != gsapi.ProviderMessageProtocol || n.Proposal == nil {
		return
	}
	var r renewal
	if err := decode(n.Proposal.Message, &r); err != nil {
		return
	}
	now := time.Now()
	l := &m.lease
	l.mu.Lock()
	if l.conn == nil || l.conn.session != session {
		l.mu.Unlock()
		return
	}
	if r.Node != l.conn.node || r.Inc != l.conn.inc {
		if n.Type == gsapi.ApprovedNotification {
			if l.heard == nil {
				l.heard = map[engine.NodeID]time.Time{}
			}
			l.heard[r.Node] = now
		}
		l.mu.Unlock()
		return
	}
	l.busy = false
	sent, ok := l.sentAt[r.Seq]
	for s := range l.sentAt {
		if s <= r.Seq {
			delete(l.sentAt, s)
		}
	}
	if n.Type != gsapi.ApprovedNotification || !ok {
		l.mu.Unlock()
		return
	}
	if sent.After(l.renewed) {
		l.renewed = sent
	}
	unfence := l.fenced && !l.fencing && l.freshLocked(m.cfg.LeaseTimeout)
	if unfence {
		l.fenced = false
	}
	l.mu.Unlock()
	m.do(func() {
		if unfence {
			m.unfence()
		}
		m.releaseHeld()
	})
}

// leaseRefused: a renewal was refused (it collided); the next tick sends
// another.
func (m *Manager) leaseRefused() {
	m.lease.mu.Lock()
	m.lease.busy = false
	m.lease.mu.Unlock()
}

// selfFence stops everything this node runs, at once: exec resources are
// killed, OCF resources stopped within their stop timeouts. Safe from any
// goroutine. sessionLost: the hagsd session is gone, so nothing can be
// reported now (the cluster sees this node's manager depart, which ends
// the actions it carried); otherwise the starts held for a lease are
// reported failed (the engine waits for their results, and none of them
// will run now) and the stop is reported once the lease is valid again.
func (m *Manager) selfFence(sessionLost bool) {
	l := &m.lease
	l.mu.Lock()
	if l.fenced {
		l.mu.Unlock()
		return
	}
	l.fenced, l.fencing = true, true
	l.mu.Unlock()
	m.do(func() {
		held := m.held
		m.held = nil
		if sessionLost {
			return
		}
		for _, a := range held {
			m.report(engine.Input{Kind: engine.InResult, Result: &engine.ActionResult{ID: a.ID, Resource: a.Resource,
				Op: a.Op, Outcome: engine.OutcomeSoft, Detail: "not started: this node's lease ran out"}})
		}
	})
	timeouts := m.stopTimeouts()
	go func() {
		m.cfg.Runner.StopAll(context.Background(), true, func(r string) time.Duration { return timeouts[r] })
		l.mu.Lock()
		l.fencing = false
		l.mu.Unlock()
		m.log.Info("every resource of this node is stopped")
	}()
}

// unfence: the lease is valid again after a self-fence. The engine still
// believes the stopped resources run here; tell it they failed.
func (m *Manager) unfence() {
	for _, r := range m.runningHere() {
		m.report(engine.Input{Kind: engine.InFailure, Failure: &engine.Failure{Resource: r,
			Outcome: engine.OutcomeSoft, Detail: "stopped by this node's manager: its lease ran out"}})
	}
}

// releaseHeld runs the starts that waited for a valid lease (run loop).
func (m *Manager) releaseHeld() {
	if len(m.held) == 0 || !m.leaseValid() {
		return
	}
	held := m.held
	m.held = nil
	for _, a := range held {
		m.runAction(a)
	}
}

// stopTimeouts returns each resource's stop timeout as the engine bounds
// it: its stop-timeout, else its pending-timeout.
func (m *Manager) stopTimeouts() map[string]time.Duration {
	out := map[string]time.Duration{}
	m.view(func(e *engine.Engine) {
		for _, r := range e.Resources() {
			t := r.Properties.StopTimeout
			if t == 0 || t > r.Properties.PendingTimeout {
				t = r.Properties.PendingTimeout
			}
			out[r.Name] = time.Duration(t)
		}
	})
	return out
}
