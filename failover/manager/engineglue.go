package manager

import (
	"sync"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/engine"
)

// restoreEngine builds the engine from a snapshot; nil: a new one.
func restoreEngine(b []byte) (*engine.Engine, error) {
	if b == nil {
		return engine.New(), nil
	}
	return engine.Restore(b)
}

// lockedEngine is the engine as the core drives it: every step holds the
// manager's lock, so that readers (the management socket) see the state
// between steps only.
type lockedEngine struct {
	mu *sync.Mutex
	e  *engine.Engine
}

// lockForSwap takes the lock under which readers reach the core's engine.
func (l *lockedEngine) lockForSwap() func() {
	l.mu.Lock()
	return l.mu.Unlock
}

func (l *lockedEngine) Step(in engine.Input) []engine.Output {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.e.Step(in)
}

func (l *lockedEngine) Snapshot() []byte {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.e.Snapshot()
}

func (l *lockedEngine) KnownNodes() []engine.NodeID {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.e.KnownNodes()
}

// restoreLocked is the core's restore: a locked engine.
func (m *Manager) restoreLocked(b []byte) (machine, error) {
	e, err := restoreEngine(b)
	if err != nil {
		return nil, err
	}
	return &lockedEngine{mu: &m.mu, e: e}, nil
}

// view runs fn with the engine, under the lock that orders readers and the
// run loop.
func (m *Manager) view(fn func(e *engine.Engine)) {
	m.mu.Lock()
	defer m.mu.Unlock()
	fn(m.c.eng.(*lockedEngine).e)
}

// runningHere lists the resources the engine believes run (or are being
// started or stopped) on this node (run loop).
func (m *Manager) runningHere() []string { return m.runningOn(m.node) }

// runningOn lists the resources the engine believes run (or are being
// started or stopped) on node. Safe from any goroutine.
func (m *Manager) runningOn(node engine.NodeID) []string {
	var out []string
	m.view(func(e *engine.Engine) { out = e.Running(node) })
	return out
}

// runsOn reports whether node runs any resource. Safe from any goroutine.
func (m *Manager) runsOn(node engine.NodeID) bool { return len(m.runningOn(node)) > 0 }

// probeSpecs lists every resource of the cluster, to probe on this node.
func (m *Manager) probeSpecs() []ProbeSpec {
	var out []ProbeSpec
	m.view(func(e *engine.Engine) {
		for _, r := range e.Resources() {
			spec, err := failover.ParseAgent(r.Agent)
			if err != nil {
				continue
			}
			out = append(out, ProbeSpec{Resource: r.Name, Agent: spec, Params: r.Params})
		}
	})
	return out
}
