package manager

import (
	"context"
	"time"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/engine"
)

// record appends to the write-ahead log (effects).
func (m *Manager) record(rec *walRecord, sync bool) error { return m.st.append(rec, sync) }

// install makes a transferred or formed state the durable one (effects).
func (m *Manager) install(at position, eng []byte) error {
	return m.st.snapshot(&snapshotFile{At: at, Engine: eng})
}

// synced: the core holds the agreed state (effects). The manager probes
// its node and says it is up.
func (m *Manager) synced(formation bool) {
	m.setLive(true)
	m.log.Info("holding the cluster's state; probing this node's resources", "formation", formation)
	specs := m.probeSpecs()
	session := m.session
	var domain []engine.DomainNode
	for _, n := range m.gs.DomainNodes() {
		if n.Name != "" {
			domain = append(domain, engine.DomainNode{ID: n.Node, Name: n.Name})
		}
	}
	if len(domain) > 0 {
		m.report(engine.Input{Kind: engine.InDomain, Domain: domain})
	}
	go func() {
		ctx, cancel := context.WithTimeout(m.ctx, 5*time.Minute)
		defer cancel()
		running, err := m.cfg.Runner.Probe(ctx, specs)
		m.do(func() {
			if m.session != session || !m.c.synced {
				return
			}
			if err != nil {
				m.log.Error("probing failed; this node stays Joining", "err", err)
				return
			}
			m.report(engine.Input{Kind: engine.InNodeUp, Up: &engine.NodeUp{Name: m.name, Running: running}})
		})
	}()
}

// outputs carries out the engine's outputs aimed at this node (effects).
func (m *Manager) outputs(outs []engine.Output, live bool) {
	if !live {
		return
	}
	synced := false
	for i := range outs {
		o := &outs[i]
		m.met.output(o, m.node, m.name, m.nodeDown)
		if o.Kind == engine.OutChange {
			m.broadcast(o.Change)
			continue
		}
		if o.Node != m.node {
			continue
		}
		switch o.Kind {
		case engine.OutReply:
			fn, ok := m.waiting[o.Reply.ID]
			if !ok {
				continue
			}
			delete(m.waiting, o.Reply.ID)
			if !synced {
				// The change is acknowledged: it must be on disk here
				// first (docs/design/failover.md, "Durable state").
				if err := m.st.append(nil, true); err != nil {
					m.log.Error("cannot sync the log before acknowledging", "err", err)
				}
				synced = true
			}
			fn(*o.Reply)
		case engine.OutAction:
			m.runAction(*o.Action)
		case engine.OutTimer:
			m.setTimer(*o.Timer)
		case engine.OutFence:
			m.runFence(*o.Fence)
		}
	}
}

// runAction hands an action to the runner, once this node holds a lease.
func (m *Manager) runAction(a engine.Action) {
	if a.Op == engine.ActStart && !m.leaseValid() {
		m.held = append(m.held, a)
		return
	}
	session := m.session
	began := time.Now()
	m.cfg.Runner.Run(a, func(r engine.ActionResult) {
		m.met.action(r.Op, r.Outcome, time.Since(began))
		m.do(func() {
			if m.session == session {
				m.report(engine.Input{Kind: engine.InResult, Result: &r})
			}
		})
	})
}

// ReportFailure tells the cluster that a resource running here failed on
// its own; the runner calls it.
func (m *Manager) ReportFailure(f engine.Failure) {
	m.do(func() {
		if m.live {
			m.report(engine.Input{Kind: engine.InFailure, Failure: &f})
		}
	})
}

// setTimer arms a timer the engine asked for; one of the same kind and key
// replaces it. A window counts from the last renewal this manager heard
// from the departed node, not from now.
func (m *Manager) setTimer(t engine.Timer) {
	k := timerKey{t.Kind, t.Key}
	if old := m.timers[k]; old != nil {
		old.Stop()
	}
	after := t.After
	if t.Kind == engine.TimerWindow {
		if heard, ok := m.lease.heardAt(t.Departed); ok {
			after = time.Until(heard.Add(t.After))
		}
	}
	session := m.session
	m.timers[k] = time.AfterFunc(max(after, 0), func() {
		m.do(func() {
			if m.session != session || !m.live {
				return
			}
			delete(m.timers, k)
			m.report(engine.Input{Kind: engine.InTimer, Timer: &engine.TimerFired{Kind: t.Kind, Key: t.Key, Token: t.Token}})
		})
	})
}

// runFence runs a node's fence command in the background and reports the
// result.
func (m *Manager) runFence(f engine.Fence) {
	session := m.session
	m.log.Warn("fencing a node", "node", f.Name, "command", f.Command)
	go func() {
		ctx, cancel := context.WithTimeout(m.ctx, fenceTimeout)
		defer cancel()
		err := m.cfg.Fence(ctx, f.Command, f.Name)
		m.met.fence(err == nil)
		res := engine.FenceResult{Target: f.Target, Token: f.Token, OK: err == nil}
		if err != nil {
			res.Detail = err.Error()
		}
		m.do(func() {
			if m.session == session {
				m.log.Info("fence command ended", "node", f.Name, "ok", res.OK, "detail", res.Detail)
				m.report(engine.Input{Kind: engine.InFence, Fence: &res})
			}
		})
	}()
}

// nodeDown reports whether the engine holds the node called name Down.
func (m *Manager) nodeDown(name string) bool {
	down := false
	m.view(func(e *engine.Engine) {
		n, ok := e.Node(name)
		down = ok && n.State == failover.NodeDown
	})
	return down
}

// afterStep refreshes what readers see after the engine stepped.
func (m *Manager) afterStep() {
	m.setLive(m.c.synced && m.gs != nil)
}

// broadcast hands a change to every watcher; one that is not keeping up
// is dropped (its channel closed) rather than slowing the loop.
func (m *Manager) broadcast(c *failover.Change) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id, ch := range m.watchers {
		select {
		case ch <- *c:
		default:
			close(ch)
			delete(m.watchers, id)
		}
	}
}
