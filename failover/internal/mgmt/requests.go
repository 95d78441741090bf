package mgmt

import (
	"context"
	"errors"
	"fmt"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/internal/mgmtwire"
)

// result is what a request comes to: a code and message, or a fault; the
// handle and objects it returns; and what to do once the answer is
// written (start a watch's relay, so that no event precedes the answer).
type result struct {
	code   failover.Code
	msg    string
	fault  string
	handle uint32
	body   any
	then   func()
}

func coded(code failover.Code, format string, args ...any) result {
	return result{code: code, msg: fmt.Sprintf(format, args...)}
}

// fromErr turns a Backend's error into a result: its code when it
// carries one, a fault when it does not.
func fromErr(err error) result {
	var fe *failover.Error
	if errors.As(err, &fe) {
		return result{code: fe.Code, msg: fe.Message}
	}
	return result{fault: err.Error()}
}

// do carries out one request. Checks come in this order: the operation
// exists, the connection's access allows it, its handles are open handles
// of the right kind, its fields are well-formed; only then is the
// Backend asked.
func (c *conn) do(ctx context.Context, req *mgmtwire.Request) result {
	if !req.Op.Known() {
		return coded(failover.CodeInvalidParameter, "there is no operation %d", req.Op)
	}
	if req.Op.NeedsAll() && c.caller.Access != failover.AccessAll {
		what := "changes the cluster"
		if !req.Op.Mutating() {
			what = "gives the web console's token, which lets its holder change the cluster,"
		}
		return coded(failover.CodeAccessDenied, "%s %s and needs access All; uid %d has access %s",
			req.Op, what, c.caller.Uid, c.caller.Access)
	}
	b := c.s.cfg.Backend
	switch req.Op {
	case mgmtwire.OpOpenGroup, mgmtwire.OpOpenResource, mgmtwire.OpOpenNode:
		return c.open(ctx, req.Op, req.Name)
	case mgmtwire.OpCloseHandle:
		c.mu.Lock()
		_, ok := c.handles[req.Handle]
		delete(c.handles, req.Handle)
		c.mu.Unlock()
		if !ok {
			return coded(failover.CodeInvalidHandle, "handle %d is not open on this connection", req.Handle)
		}
		return result{}
	case mgmtwire.OpGroupState:
		h, bad := c.lookup(req.Handle, mgmtwire.KindGroup)
		if bad != nil {
			return *bad
		}
		return c.group(ctx, h)
	case mgmtwire.OpResourceState:
		h, bad := c.lookup(req.Handle, mgmtwire.KindResource)
		if bad != nil {
			return *bad
		}
		return c.resource(ctx, h)
	case mgmtwire.OpNodeState:
		h, bad := c.lookup(req.Handle, mgmtwire.KindNode)
		if bad != nil {
			return *bad
		}
		n, err := b.Node(ctx, h.name)
		if err != nil {
			return fromErr(err)
		}
		return result{body: n.WithValue()}
	case mgmtwire.OpListGroups:
		gs, err := b.Groups(ctx)
		if err != nil {
			return fromErr(err)
		}
		for i := range gs {
			gs[i] = gs[i].WithValue()
		}
		return result{body: nonNil(gs)}
	case mgmtwire.OpListResources:
		rs, err := b.Resources(ctx)
		if err != nil {
			return fromErr(err)
		}
		for i := range rs {
			rs[i] = rs[i].WithValue()
		}
		return result{body: nonNil(rs)}
	case mgmtwire.OpListNodes:
		ns, err := b.Nodes(ctx)
		if err != nil {
			return fromErr(err)
		}
		for i := range ns {
			ns[i] = ns[i].WithValue()
		}
		return result{body: nonNil(ns)}
	case mgmtwire.OpGetConfig:
		cfg, err := b.Config(ctx)
		if err != nil {
			return fromErr(err)
		}
		if cfg == nil {
			cfg = &failover.Config{}
		}
		return result{body: cfg}
	case mgmtwire.OpWhy:
		h, bad := c.lookup(req.Handle, mgmtwire.KindResource)
		if bad != nil {
			return *bad
		}
		if r := c.resource(ctx, h); r.code != failover.CodeSuccess || r.fault != "" {
			return r
		}
		lines, err := b.Why(ctx, h.name)
		if err != nil {
			return fromErr(err)
		}
		return result{body: nonNil(lines)}
	case mgmtwire.OpConsole:
		info, err := b.Console(ctx)
		if err != nil {
			return fromErr(err)
		}
		return result{body: info}
	case mgmtwire.OpWatch:
		return c.watch(req.ID)
	case mgmtwire.OpUnwatch:
		c.mu.Lock()
		stop, ok := c.watches[req.Watch]
		delete(c.watches, req.Watch)
		c.mu.Unlock()
		if !ok {
			return coded(failover.CodeInvalidHandle, "no watch %d runs on this connection", req.Watch)
		}
		stop()
		return result{}
	}
	return c.submit(ctx, req)
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// checkNodeName judges a node name as a name that may exist: a name that
// cannot is a node that does not.
func checkNodeName(name string) *result {
	if err := failover.CheckNodeName(name); err != nil {
		r := fromErr(err)
		return &r
	}
	return nil
}

// open opens a handle on the object named name.
func (c *conn) open(ctx context.Context, op mgmtwire.Op, name string) result {
	b := c.s.cfg.Backend
	var (
		h    handle
		body any
	)
	switch op {
	case mgmtwire.OpOpenGroup:
		if err := failover.CheckName(name); err != nil {
			return fromErr(err)
		}
		g, err := b.Group(ctx, name)
		if err != nil {
			return fromErr(err)
		}
		h, body = handle{kind: mgmtwire.KindGroup, name: g.Name, uid: g.UID}, g.WithValue()
	case mgmtwire.OpOpenResource:
		if err := failover.CheckName(name); err != nil {
			return fromErr(err)
		}
		r, err := b.Resource(ctx, name)
		if err != nil {
			return fromErr(err)
		}
		h, body = handle{kind: mgmtwire.KindResource, name: r.Name, uid: r.UID}, r.WithValue()
	default:
		if bad := checkNodeName(name); bad != nil {
			return *bad
		}
		n, err := b.Node(ctx, name)
		if err != nil {
			return fromErr(err)
		}
		h, body = handle{kind: mgmtwire.KindNode, name: n.Name, uid: uint64(n.ID)}, n.WithValue()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.handles) >= mgmtwire.MaxHandles {
		return coded(failover.CodeInvalidParameter, "this connection has %d handles open, the most it may: close some", len(c.handles))
	}
	c.next++
	for c.next == 0 || c.handles[c.next].kind != 0 { // 0 is never a handle; never reuse an open one
		c.next++
	}
	c.handles[c.next] = h
	return result{handle: c.next, body: body}
}

// lookup returns the open handle number n stands for, if it is one of
// kind; otherwise the ERROR_INVALID_HANDLE result.
func (c *conn) lookup(n uint32, kind mgmtwire.Kind) (handle, *result) {
	c.mu.Lock()
	h, ok := c.handles[n]
	c.mu.Unlock()
	if !ok || h.kind != kind {
		r := coded(failover.CodeInvalidHandle, "%d is not an open %s handle of this connection", n, kind)
		return handle{}, &r
	}
	return h, nil
}

// group reads the group h was opened on, if it is still that group.
func (c *conn) group(ctx context.Context, h handle) result {
	g, err := c.s.cfg.Backend.Group(ctx, h.name)
	if code, ok := failover.CodeOf(err); ok && code == failover.CodeGroupNotFound || err == nil && g.UID != h.uid {
		return coded(failover.CodeGroupNotAvailable, "group %q was deleted since its handle was opened", h.name)
	}
	if err != nil {
		return fromErr(err)
	}
	return result{body: g.WithValue()}
}

// resource reads the resource h was opened on, if it is still that one.
func (c *conn) resource(ctx context.Context, h handle) result {
	r, err := c.s.cfg.Backend.Resource(ctx, h.name)
	if code, ok := failover.CodeOf(err); ok && code == failover.CodeResourceNotFound || err == nil && r.UID != h.uid {
		return coded(failover.CodeResourceNotAvailable, "resource %q was deleted since its handle was opened", h.name)
	}
	if err != nil {
		return fromErr(err)
	}
	return result{body: r.WithValue()}
}

// watch starts a watch whose events carry id.
func (c *conn) watch(id uint64) result {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.watches) >= mgmtwire.MaxWatches {
		return coded(failover.CodeInvalidParameter, "this connection runs %d watches, the most it may", len(c.watches))
	}
	if _, dup := c.watches[id]; dup {
		return coded(failover.CodeInvalidParameter, "a watch with ID %d already runs on this connection", id)
	}
	wctx, stop := context.WithCancel(c.ctx)
	ch, err := c.s.cfg.Backend.Watch(wctx)
	if err != nil {
		stop()
		return fromErr(err)
	}
	c.watches[id] = stop
	return result{then: func() { c.g.Go(func() error { c.relay(wctx, id, ch); return nil }) }}
}

// relay writes a watch's changes to the peer until the watch ends.
func (c *conn) relay(ctx context.Context, id uint64, ch <-chan failover.Change) {
	defer func() {
		c.mu.Lock()
		if stop, ok := c.watches[id]; ok {
			stop()
			delete(c.watches, id)
		}
		c.mu.Unlock()
	}()
	for {
		select {
		case <-ctx.Done():
			return
		case change, ok := <-ch:
			if !ok {
				if ctx.Err() == nil {
					ev := mgmtwire.Event{Watch: id, End: "the change stream ended: the watcher fell behind or the manager stopped; changes may have been missed"}
					if err := c.wc.Send(mgmtwire.MsgEvent, &ev); err != nil {
						c.abort("watch end not written", err)
					}
				}
				return
			}
			body, err := mgmtwire.EncodeBody(&change)
			if err != nil {
				c.log.Error("change not encodable", "err", err)
				continue
			}
			if err := c.wc.Send(mgmtwire.MsgEvent, &mgmtwire.Event{Watch: id, Change: body}); err != nil {
				c.abort("change not written", err)
				return
			}
		}
	}
}
