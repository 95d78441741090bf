// Package mgmttest provides Fake, an in-memory stand-in for the failover
// manager behind the management server, for tests of the server, of
// failover.Client and of hagsrm. It models a three-node cluster closely
// enough for the management API's flows (create, online, move, wait,
// pause, dependencies, locks, watch) with the contract's codes for the
// conditions it models, and lets a test script the reply to any
// operation. It is no engine: it agrees on nothing and runs no agent.
package mgmttest

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/engine"
	"github.com/openhags/hags/failover/internal/mgmt"
)

// Local is the node the Fake's manager runs on: new groups are owned by
// it.
const Local = "NodeA"

// Reply is a scripted answer to a Submit.
type Reply struct {
	Code    failover.Code
	Message string
	Err     error // when set, Submit fails with it (outcome unknown)
}

// Fake is a mgmt.Backend over an in-memory cluster of three Up nodes,
// NodeA (1), NodeB (2) and NodeC (3). Transitions that take time in a real
// cluster (OnlinePending, OfflinePending, a move) end in a goroutine of
// the Fake shortly after the request is answered, unless Hold is set;
// a resource created with the parameter hang=1 never leaves
// OnlinePending, and one with fail=1 ends a start Failed. It is safe for
// concurrent use.
type Fake struct {
	mu        sync.Mutex
	nodes     []*failover.NodeInfo
	groups    map[string]*failover.GroupInfo
	resources map[string]*failover.ResourceInfo
	uid       uint64
	subs      map[chan failover.Change]struct{}
	script    map[engine.Op][]Reply
	requests  []engine.Request
	readOnly  bool
	console   *failover.ConsoleInfo
	hold      bool
	held      []func()
	wg        sync.WaitGroup
	closed    bool
}

var _ mgmt.Backend = (*Fake)(nil)

// New returns a Fake with three Up nodes and nothing else.
func New() *Fake {
	f := &Fake{
		groups: map[string]*failover.GroupInfo{}, resources: map[string]*failover.ResourceInfo{},
		subs: map[chan failover.Change]struct{}{}, script: map[engine.Op][]Reply{},
	}
	for i, n := range []string{"NodeA", "NodeB", "NodeC"} {
		f.nodes = append(f.nodes, &failover.NodeInfo{Name: n, ID: int32(i + 1), State: failover.NodeUp})
	}
	return f
}

// Script makes the next Submit of op answer r instead of the model (and
// change nothing). Several scripted replies are used in order.
func (f *Fake) Script(op engine.Op, r Reply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.script[op] = append(f.script[op], r)
}

// SetReadOnly makes every Submit fail with ERROR_SHARING_PAUSED, as a
// manager cut off from the majority does.
func (f *Fake) SetReadOnly(ro bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.readOnly = ro
}

// Hold keeps transitions pending until Finish.
func (f *Fake) Hold(hold bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hold = hold
}

// Finish ends the transitions held so far (and those they start).
func (f *Fake) Finish() {
	for {
		f.mu.Lock()
		held := f.held
		f.held = nil
		f.mu.Unlock()
		if len(held) == 0 {
			return
		}
		f.mu.Lock()
		for _, fn := range held {
			fn()
		}
		f.mu.Unlock()
	}
}

// Requests returns every request submitted so far, in order.
func (f *Fake) Requests() []engine.Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]engine.Request(nil), f.requests...)
}

// SetNodeState sets a node's state (to show a node Down, say).
func (f *Fake) SetNodeState(name string, s failover.NodeState) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := f.node(name); n != nil {
		f.setNode(n, s)
	}
}

// Close ends every watch and waits for the Fake's goroutines.
func (f *Fake) Close() {
	f.mu.Lock()
	f.closed = true
	for ch := range f.subs {
		close(ch)
		delete(f.subs, ch)
	}
	f.mu.Unlock()
	f.wg.Wait()
}

// later runs fn (under the lock) after the current request is answered,
// or at Finish when holding.
func (f *Fake) later(fn func()) {
	if f.hold {
		f.held = append(f.held, fn)
		return
	}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		f.mu.Lock()
		defer f.mu.Unlock()
		if !f.closed {
			fn()
		}
	}()
}

func (f *Fake) emit(c failover.Change) {
	for ch := range f.subs {
		select {
		case ch <- c:
		default: // fell behind: its stream ends
			close(ch)
			delete(f.subs, ch)
		}
	}
}

// Watch implements mgmt.Backend.
func (f *Fake) Watch(ctx context.Context) (<-chan failover.Change, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.watchLocked(ctx), nil
}

// watchLocked starts a watch; f.mu is held.
func (f *Fake) watchLocked(ctx context.Context) <-chan failover.Change {
	ch := make(chan failover.Change, 256)
	if f.closed {
		close(ch)
		return ch
	}
	f.subs[ch] = struct{}{}
	f.wg.Add(1)
	go func() {
		defer f.wg.Done()
		<-ctx.Done()
		f.mu.Lock()
		defer f.mu.Unlock()
		if _, ok := f.subs[ch]; ok {
			close(ch)
			delete(f.subs, ch)
		}
	}()
	return ch
}

// SetConsole makes Console answer info; nil: ERROR_INVALID_STATE, as a
// manager without a console answers.
func (f *Fake) SetConsole(info *failover.ConsoleInfo) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.console = info
}

// Console implements mgmt.Backend.
func (f *Fake) Console(context.Context) (failover.ConsoleInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.console == nil {
		return failover.ConsoleInfo{}, failover.Errorf(failover.CodeInvalidState, "this manager serves no web console")
	}
	return *f.console, nil
}

// Subscribe returns every node, group and resource and, from the same
// moment, every change (console.Backend's form of Watch).
func (f *Fake) Subscribe(ctx context.Context) ([]failover.NodeInfo, []failover.GroupInfo, []failover.ResourceInfo, <-chan failover.Change) {
	f.mu.Lock()
	var (
		ns []failover.NodeInfo
		gs []failover.GroupInfo
		rs []failover.ResourceInfo
	)
	for _, n := range f.nodes {
		ns = append(ns, f.nodeCopy(n))
	}
	for _, name := range sortedNames(f.groups) {
		gs = append(gs, f.groupCopy(f.groups[name]))
	}
	for _, name := range sortedNames(f.resources) {
		rs = append(rs, f.resourceCopy(f.resources[name]))
	}
	ch := f.watchLocked(ctx)
	f.mu.Unlock()
	return ns, gs, rs, ch
}

// Group implements mgmt.Backend.
func (f *Fake) Group(_ context.Context, name string) (failover.GroupInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	g, ok := f.groups[name]
	if !ok {
		return failover.GroupInfo{}, failover.Errorf(failover.CodeGroupNotFound, "there is no group %q", name)
	}
	return f.groupCopy(g), nil
}

// Resource implements mgmt.Backend.
func (f *Fake) Resource(_ context.Context, name string) (failover.ResourceInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.resources[name]
	if !ok {
		return failover.ResourceInfo{}, failover.Errorf(failover.CodeResourceNotFound, "there is no resource %q", name)
	}
	return f.resourceCopy(r), nil
}

// Node implements mgmt.Backend.
func (f *Fake) Node(_ context.Context, name string) (failover.NodeInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.node(name)
	if n == nil {
		return failover.NodeInfo{}, failover.Errorf(failover.CodeClusterNodeNotFound, "there is no node %q", name)
	}
	return f.nodeCopy(n), nil
}

// Groups implements mgmt.Backend.
func (f *Fake) Groups(context.Context) ([]failover.GroupInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []failover.GroupInfo
	for _, name := range sortedNames(f.groups) {
		out = append(out, f.groupCopy(f.groups[name]))
	}
	return out, nil
}

// Resources implements mgmt.Backend.
func (f *Fake) Resources(context.Context) ([]failover.ResourceInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []failover.ResourceInfo
	for _, name := range sortedNames(f.resources) {
		out = append(out, f.resourceCopy(f.resources[name]))
	}
	return out, nil
}

// Nodes implements mgmt.Backend.
func (f *Fake) Nodes(context.Context) ([]failover.NodeInfo, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []failover.NodeInfo
	for _, n := range f.nodes {
		out = append(out, f.nodeCopy(n))
	}
	return out, nil
}

// Config implements mgmt.Backend.
func (f *Fake) Config(context.Context) (*failover.Config, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	cfg := &failover.Config{}
	for _, n := range f.nodes {
		if n.FenceCommand != "" {
			cfg.Nodes = append(cfg.Nodes, failover.NodeConfig{Name: n.Name, FenceCommand: n.FenceCommand})
		}
	}
	for _, gn := range sortedNames(f.groups) {
		g := f.groups[gn]
		gc := failover.GroupConfig{Name: g.Name, PersistentState: g.PersistentState, GroupProperties: g.Properties}
		for _, rn := range g.Resources {
			r := f.resources[rn]
			gc.Resources = append(gc.Resources, failover.ResourceConfig{
				Name: r.Name, Agent: r.Agent, Params: r.Params, PersistentState: r.PersistentState,
				PossibleOwners: r.PossibleOwners, Depends: r.Dependency, Locked: r.Locked,
				ResourceProperties: r.Properties,
			})
		}
		cfg.Groups = append(cfg.Groups, gc)
	}
	return cfg, nil
}

// Why implements mgmt.Backend.
func (f *Fake) Why(_ context.Context, name string) ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	r, ok := f.resources[name]
	if !ok {
		return nil, failover.Errorf(failover.CodeResourceNotFound, "there is no resource %q", name)
	}
	want := failover.ResourceOffline
	if r.PersistentState == failover.PersistentOnline {
		want = failover.ResourceOnline
	}
	owner := f.groups[r.Group].Owner
	var lines []string
	switch {
	case r.State == failover.ResourceFailed:
		lines = append(lines, fmt.Sprintf("%s failed on %s: %s", r.Name, owner, r.LastFailure))
	case r.State.Pending():
		lines = append(lines, fmt.Sprintf("%s is %s on %s: its agent is still running", r.Name, r.State, owner))
	case r.State != want:
		lines = append(lines, fmt.Sprintf("%s is %s on %s but should be %s", r.Name, r.State, owner, want))
	default:
		lines = append(lines, fmt.Sprintf("%s is %s on %s, as it should be", r.Name, r.State, owner))
	}
	if r.Locked {
		lines = append(lines, fmt.Sprintf("%s is locked: nothing changes its state until it is unlocked", r.Name))
	}
	return lines, nil
}

func sortedNames[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func (f *Fake) node(name string) *failover.NodeInfo {
	for _, n := range f.nodes {
		if n.Name == name {
			return n
		}
	}
	return nil
}

func (f *Fake) nodeCopy(n *failover.NodeInfo) failover.NodeInfo {
	c := *n
	c.Groups = nil
	for _, gn := range sortedNames(f.groups) {
		if f.groups[gn].Owner == n.Name {
			c.Groups = append(c.Groups, gn)
		}
	}
	return c.WithValue()
}

func (f *Fake) groupCopy(g *failover.GroupInfo) failover.GroupInfo {
	c := *g
	c.Resources = append([]string{}, g.Resources...)
	c.Properties.PreferredOwners = append([]string(nil), g.Properties.PreferredOwners...)
	return c.WithValue()
}

func (f *Fake) resourceCopy(r *failover.ResourceInfo) failover.ResourceInfo {
	c := *r
	c.Owner = f.groups[r.Group].Owner
	c.Params = map[string]string{}
	for k, v := range r.Params {
		c.Params[k] = v
	}
	c.PossibleOwners = append([]string(nil), r.PossibleOwners...)
	return c.WithValue()
}

func (f *Fake) setNode(n *failover.NodeInfo, s failover.NodeState) {
	n.State = s
	c := f.nodeCopy(n)
	f.emit(failover.Change{Kind: failover.ChangeNode, Node: &c})
}

// setResource changes a resource's state and its group's.
func (f *Fake) setResource(r *failover.ResourceInfo, s failover.ResourceState) {
	if r.State == s {
		return
	}
	r.State = s
	r.Sequence++
	c := f.resourceCopy(r)
	f.emit(failover.Change{Kind: failover.ChangeResource, Resource: &c})
	f.regroup(f.groups[r.Group])
}

// regroup recomputes a group's state by the contract's rule.
func (f *Fake) regroup(g *failover.GroupInfo) {
	s := f.groupState(g)
	if s == g.State {
		return
	}
	g.State = s
	g.Sequence++
	c := f.groupCopy(g)
	f.emit(failover.Change{Kind: failover.ChangeGroup, Group: &c})
}

func (f *Fake) groupState(g *failover.GroupInfo) failover.GroupState {
	var failed, pending bool
	online, top, topOnline := 0, 0, 0
	provider := map[string]bool{}
	for _, rn := range g.Resources {
		d, _ := failover.ParseDependency(f.resources[rn].Dependency)
		for _, p := range d.Providers() {
			provider[p] = true
		}
	}
	for _, rn := range g.Resources {
		r := f.resources[rn]
		failed = failed || r.State == failover.ResourceFailed
		pending = pending || r.State.Pending()
		if r.State == failover.ResourceOnline {
			online++
		}
		if !provider[rn] {
			top++
			if r.State == failover.ResourceOnline {
				topOnline++
			}
		}
	}
	switch {
	case failed:
		return failover.GroupFailed
	case pending || g.MovingTo != "":
		return failover.GroupPending
	case topOnline > 0 && topOnline < top:
		return failover.GroupPartialOnline
	case len(g.Resources) > 0 && online == len(g.Resources):
		return failover.GroupOnline
	}
	return failover.GroupOffline
}
