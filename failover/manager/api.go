package manager

import (
	"context"
	"errors"
	"time"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/engine"
)

// errClosed is returned by calls on a manager that has stopped.
var errClosed = errors.New("manager: closed")

// ReadWrite reports whether this manager accepts changes now: it holds the
// agreed state, its hagsd session lives, and managers of a majority of the
// known nodes take part.
func (m *Manager) ReadWrite() bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.rw
}

// Submit proposes an operator's request through the managers' log and
// returns the engine's reply once it is durable here. A manager that is
// not read/write answers ERROR_SHARING_PAUSED at once; one that loses its
// place while the request waits answers the same (the request may or may
// not have been applied).
func (m *Manager) Submit(ctx context.Context, req engine.Request) (engine.Reply, error) {
	if err := m.precheck(ctx, &req); err != nil {
		code, _ := failover.CodeOf(err)
		return engine.Reply{Code: code, Message: err.Error()}, nil
	}
	done := make(chan engine.Reply, 1)
	m.do(func() {
		if !m.ReadWrite() {
			done <- engine.Reply{Code: failover.CodeSharingPaused,
				Message: "this node's manager is not read/write: it is not in the agreeing majority of the cluster"}
			return
		}
		m.seq++
		req.ID = m.inc<<32 | m.seq&0xffffffff
		m.waiting[req.ID] = func(r engine.Reply) { done <- r }
		m.report(engine.Input{Kind: engine.InRequest, Request: &req})
	})
	select {
	case r := <-done:
		return r, nil
	case <-ctx.Done():
		return engine.Reply{}, ctx.Err()
	case <-m.ctx.Done():
		return engine.Reply{}, errClosed
	}
}

// validator is what the runner offers for the checks only the receiving
// node can make: that an agent exists here and accepts its parameters,
// and the agent's default timeouts.
type validator interface {
	Validate(ctx context.Context, spec failover.AgentSpec, params map[string]string) error
}

// installer says whether an agent is on this node, without running it.
type installer interface {
	Installed(spec failover.AgentSpec) error
}

// defaulter is what the runner offers to fill a resource's timeouts from
// its agent's own defaults (OCF meta-data).
type defaulter interface {
	Defaults(ctx context.Context, spec failover.AgentSpec) (start, stop, monitor time.Duration, err error)
}

// precheck makes the checks that only this node can make before a request
// is proposed, and writes the agent's default timeouts into a new
// resource's properties where the request sets none, so that every node
// works with the same explicit values.
func (m *Manager) precheck(ctx context.Context, req *engine.Request) error {
	v, ok := m.cfg.Runner.(validator)
	if !ok {
		return nil
	}
	d, _ := m.cfg.Runner.(defaulter)
	check := func(agent string, params map[string]string) (failover.AgentSpec, error) {
		spec, err := failover.ParseAgent(agent)
		if err != nil {
			return spec, failover.Errorf(failover.CodeInvalidParameter, "%v", err)
		}
		return spec, v.Validate(ctx, spec, params)
	}
	defaults := func(spec failover.AgentSpec) (start, stop, monitor time.Duration, ok bool) {
		if d == nil {
			return 0, 0, 0, false
		}
		start, stop, monitor, err := d.Defaults(ctx, spec)
		return start, stop, monitor, err == nil
	}
	switch req.Op {
	case engine.OpCreateResource:
		spec, err := check(req.Agent, req.Params)
		if err != nil {
			return err
		}
		if start, stop, monitor, ok := defaults(spec); ok {
			if req.Props == nil {
				req.Props = map[string]string{}
			}
			for name, t := range map[string]time.Duration{"start-timeout": start, "stop-timeout": stop, "monitor-timeout": monitor} {
				if _, set := req.Props[name]; !set && t > 0 {
					req.Props[name] = t.String()
				}
			}
		}
	case engine.OpApplyConfig:
		if req.Config == nil {
			return failover.Errorf(failover.CodeInvalidParameter, "no configuration")
		}
		for gi := range req.Config.Groups {
			g := &req.Config.Groups[gi]
			for ri := range g.Resources {
				r := &g.Resources[ri]
				// A whole configuration is not put through every
				// agent's validate-all (thousands of resources would take
				// minutes): that the agent is here is checked, and a
				// start that validates badly fails as OCF says.
				spec, err := failover.ParseAgent(r.Agent)
				if err == nil {
					if in, ok := m.cfg.Runner.(installer); ok {
						err = in.Installed(spec)
					}
				}
				if err != nil {
					return failover.Errorf(codeOf(err), "resource %s: %v", r.Name, err)
				}
				if start, stop, monitor, ok := defaults(spec); ok {
					fill := func(p *failover.Duration, t time.Duration) {
						if *p == 0 {
							*p = failover.Duration(t)
						}
					}
					fill(&r.StartTimeout, start)
					fill(&r.StopTimeout, stop)
					fill(&r.MonitorTimeout, monitor)
				}
			}
		}
	}
	return nil
}

func codeOf(err error) failover.Code {
	if c, ok := failover.CodeOf(err); ok {
		return c
	}
	return failover.CodeInvalidParameter
}

// Watch returns the stream of agreed changes from now on. The channel is
// closed when ctx ends, or when the watcher falls too far behind.
func (m *Manager) Watch(ctx context.Context) <-chan failover.Change {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.watchLocked(ctx)
}

// Subscribe returns every node, group and resource as agreed now and,
// from that moment, every agreed change, as Watch does. The state and the
// start of the stream are one cut: no change falls between them (the
// changes of the step the state already shows may come again).
func (m *Manager) Subscribe(ctx context.Context) (nodes []failover.NodeInfo, groups []failover.GroupInfo,
	resources []failover.ResourceInfo, changes <-chan failover.Change) {
	m.mu.Lock()
	defer m.mu.Unlock()
	e := m.c.eng.(*lockedEngine).e
	return e.Nodes(), e.Groups(), e.Resources(), m.watchLocked(ctx)
}

// watchLocked starts a watcher; m.mu is held.
func (m *Manager) watchLocked(ctx context.Context) <-chan failover.Change {
	ch := make(chan failover.Change, 4096)
	id := m.nextW
	m.nextW++
	m.watchers[id] = ch
	go func() {
		<-ctx.Done()
		m.mu.Lock()
		if _, ok := m.watchers[id]; ok {
			delete(m.watchers, id)
			close(ch)
		}
		m.mu.Unlock()
	}()
	return ch
}

// View runs fn with the engine's agreed state (read-only), for the
// management socket's reads.
func (m *Manager) View(fn func(e *engine.Engine)) { m.view(fn) }
