package manager

import (
	"context"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/console"
	"github.com/openhags/hags/failover/engine"
	"github.com/openhags/hags/failover/internal/mgmt"
)

// backend serves the management socket from the manager (mgmt.Backend).
type backend struct{ m *Manager }

var _ mgmt.Backend = backend{}

func (b backend) Submit(ctx context.Context, caller mgmt.Caller, req engine.Request) (failover.Code, string, error) {
	r, err := b.m.Submit(ctx, req)
	if err != nil {
		return 0, "", err
	}
	if r.Code != failover.CodeSuccess && r.Code != failover.CodeIOPending {
		b.m.log.Info("request refused", "op", req.Op, "uid", caller.Uid, "pid", caller.Pid, "code", r.Code, "msg", r.Message)
	} else {
		b.m.log.Info("request", "op", req.Op, "group", req.Group, "resource", req.Resource, "node", req.Node,
			"uid", caller.Uid, "pid", caller.Pid, "code", r.Code)
	}
	return r.Code, r.Message, nil
}

func (b backend) Group(_ context.Context, name string) (g failover.GroupInfo, err error) {
	ok := false
	b.m.view(func(e *engine.Engine) { g, ok = e.Group(name) })
	if !ok {
		return g, failover.Errorf(failover.CodeGroupNotFound, "no group %q", name)
	}
	return g, nil
}

func (b backend) Resource(_ context.Context, name string) (r failover.ResourceInfo, err error) {
	ok := false
	b.m.view(func(e *engine.Engine) { r, ok = e.Resource(name) })
	if !ok {
		return r, failover.Errorf(failover.CodeResourceNotFound, "no resource %q", name)
	}
	return r, nil
}

func (b backend) Node(_ context.Context, name string) (n failover.NodeInfo, err error) {
	ok := false
	b.m.view(func(e *engine.Engine) { n, ok = e.Node(name) })
	if !ok {
		return n, failover.Errorf(failover.CodeClusterNodeNotFound, "no node %q", name)
	}
	return n, nil
}

func (b backend) Groups(context.Context) (out []failover.GroupInfo, _ error) {
	b.m.view(func(e *engine.Engine) { out = e.Groups() })
	return out, nil
}

func (b backend) Resources(context.Context) (out []failover.ResourceInfo, _ error) {
	b.m.view(func(e *engine.Engine) { out = e.Resources() })
	return out, nil
}

func (b backend) Nodes(context.Context) (out []failover.NodeInfo, _ error) {
	b.m.view(func(e *engine.Engine) { out = e.Nodes() })
	return out, nil
}

func (b backend) Config(context.Context) (out *failover.Config, _ error) {
	b.m.view(func(e *engine.Engine) { out = e.Config() })
	return out, nil
}

func (b backend) Why(_ context.Context, resource string) (out []string, err error) {
	ok := false
	b.m.view(func(e *engine.Engine) {
		if _, ok = e.Resource(resource); ok {
			out = e.Why(resource)
		}
	})
	if !ok {
		return nil, failover.Errorf(failover.CodeResourceNotFound, "no resource %q", resource)
	}
	return out, nil
}

func (b backend) Watch(ctx context.Context) (<-chan failover.Change, error) {
	return b.m.Watch(ctx), nil
}

func (b backend) Console(context.Context) (failover.ConsoleInfo, error) {
	b.m.mu.Lock()
	info := b.m.console
	b.m.mu.Unlock()
	if info == nil {
		return failover.ConsoleInfo{}, failover.Errorf(failover.CodeInvalidState,
			"this node's hagsrmd serves no web console: start it with --http ADDRESS")
	}
	return *info, nil
}

// consoleBackend serves the web console from the manager
// (console.Backend).
type consoleBackend struct{ m *Manager }

var _ console.Backend = consoleBackend{}

func (b consoleBackend) Subscribe(ctx context.Context) (console.State, <-chan failover.Change, error) {
	ns, gs, rs, ch := b.m.Subscribe(ctx)
	return console.State{Nodes: ns, Groups: gs, Resources: rs}, ch, nil
}

func (b consoleBackend) Submit(ctx context.Context, req engine.Request) (failover.Code, string, error) {
	r, err := b.m.Submit(ctx, req)
	if err != nil {
		return 0, "", err
	}
	b.m.log.Info("request", "via", "console", "op", req.Op, "group", req.Group, "resource", req.Resource,
		"node", req.Node, "code", r.Code)
	return r.Code, r.Message, nil
}
