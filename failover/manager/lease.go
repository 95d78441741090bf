package manager

import (
	"context"
	"time"

	"github.com/openhags/hags/failover/engine"
	"github.com/openhags/hags/gsapi"
)

// leaseState is this manager's lease and what it has heard of the others'.
// Times are monotonic readings of this machine's clock.
type leaseState struct {
	busy    bool                        // a renewal is in flight
	seq     uint64                      // renewals sent by this run
	sentAt  map[uint64]time.Time        // send time of renewals in flight
	renewed time.Time                   // send time of the last approved renewal
	heard   map[engine.NodeID]time.Time // when each node's last renewal was approved, here
	held    []engine.Action             // starts waiting for a valid lease
	// expiry fires when the lease runs out (renewed + LeaseTimeout), so
	// that the stop begins then and not at the next tick: the others'
	// self-fencing window leaves only LeaseTimeout × 5 % for lateness.
	expiry *time.Timer
}

// renewal is the body of a lease message.
type renewal struct {
	Node engine.NodeID `msgpack:"n"`
	Inc  uint64        `msgpack:"i"`
	Seq  uint64        `msgpack:"s"`
}

// tickLease renews the lease when due and fences this node when the lease
// has run out.
func (m *Manager) tickLease() {
	if !m.live || m.gs == nil {
		return
	}
	now := time.Now()
	if !m.lease.busy {
		m.lease.seq++
		if m.lease.sentAt == nil {
			m.lease.sentAt = map[uint64]time.Time{}
		}
		m.lease.sentAt[m.lease.seq] = now
		body := mustEncode(&renewal{Node: m.node, Inc: m.inc, Seq: m.lease.seq})
		if err := m.gs.SendMessage(m.leaseTok, gsapi.MessageRequest{NumPhases: gsapi.OnePhase, Message: body}); err == nil {
			m.lease.busy = true
		}
	}
	m.checkLease()
}

// checkLease fences this node when its lease has run out.
func (m *Manager) checkLease() {
	if !m.live || m.gs == nil {
		return
	}
	since := time.Since(m.lease.renewed)
	if !m.fenced && !m.lease.renewed.IsZero() && since >= m.cfg.LeaseTimeout && m.runsAnything() {
		m.log.Error("the lease ran out: this node may be cut off; stopping its resources",
			"last_renewal", since.Round(time.Millisecond))
		m.selfFence(false)
	}
}

// leaseFresh reports whether a renewal sent less than a lease ago was
// approved.
func (m *Manager) leaseFresh() bool {
	return !m.lease.renewed.IsZero() && time.Since(m.lease.renewed) < m.cfg.LeaseTimeout
}

// leaseValid reports whether this manager may run resources now.
func (m *Manager) leaseValid() bool { return !m.fenced && m.leaseFresh() }

// leaseNotification handles the lease group's approvals and rejections.
func (m *Manager) leaseNotification(n *gsapi.Notification) {
	if n.Protocol != gsapi.ProviderMessageProtocol || n.Proposal == nil {
		return
	}
	var r renewal
	if err := decode(n.Proposal.Message, &r); err != nil {
		return
	}
	now := time.Now()
	if r.Node != m.node || r.Inc != m.inc {
		if n.Type == gsapi.ApprovedNotification {
			if m.lease.heard == nil {
				m.lease.heard = map[engine.NodeID]time.Time{}
			}
			m.lease.heard[r.Node] = now
		}
		return
	}
	m.lease.busy = false
	sent, ok := m.lease.sentAt[r.Seq]
	for s := range m.lease.sentAt {
		if s <= r.Seq {
			delete(m.lease.sentAt, s)
		}
	}
	if n.Type != gsapi.ApprovedNotification || !ok {
		return
	}
	if sent.After(m.lease.renewed) {
		m.lease.renewed = sent
		if m.lease.expiry != nil {
			m.lease.expiry.Stop()
		}
		session := m.session
		m.lease.expiry = time.AfterFunc(time.Until(sent.Add(m.cfg.LeaseTimeout)), func() {
			m.do(func() {
				if m.session == session {
					m.checkLease()
				}
			})
		})
	}
	if m.fenced && !m.fencing && m.leaseFresh() {
		m.unfence()
	}
	if held := m.lease.held; len(held) > 0 && m.leaseValid() {
		m.lease.held = nil
		for _, a := range held {
			m.runAction(a)
		}
	}
}

// selfFence stops everything this node runs. sessionLost: the hagsd
// session is gone, so nothing can be reported now; otherwise the stop is
// reported once the lease is valid again. Starts held for a valid lease
// stay held: the engine waits for their results, and they run once the
// lease is valid again (a new session forgets them, as the engine does
// when this node's manager leaves).
func (m *Manager) selfFence(sessionLost bool) {
	if m.fenced {
		return
	}
	m.fenced, m.fencing = true, true
	ctx := context.WithoutCancel(m.ctx)
	timeouts := m.stopTimeouts()
	go func() {
		m.cfg.Runner.StopAll(ctx, true, func(r string) time.Duration { return timeouts[r] })
		m.do(func() {
			m.fencing = false
			m.log.Info("every resource of this node is stopped")
		})
	}()
}

// unfence: the lease is valid again after a self-fence. The engine still
// believes the stopped resources run here; tell it they failed.
func (m *Manager) unfence() {
	m.fenced = false
	for _, r := range m.runningHere() {
		m.report(engine.Input{Kind: engine.InFailure, Failure: &engine.Failure{Resource: r,
			Outcome: engine.OutcomeSoft, Detail: "stopped by this node's manager: its lease ran out"}})
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
