package mgmttest

import (
	"context"
	"fmt"
	"slices"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/engine"
	"github.com/openhags/hags/failover/internal/mgmt"
)

func reply(c failover.Code, format string, args ...any) (failover.Code, string) {
	return c, fmt.Sprintf(format, args...)
}

var ok = func() (failover.Code, string) { return failover.CodeSuccess, "" }

func pending(format string, args ...any) (failover.Code, string) {
	return reply(failover.CodeIOPending, format, args...)
}

// Submit implements mgmt.Backend.
func (f *Fake) Submit(_ context.Context, _ mgmt.Caller, req engine.Request) (failover.Code, string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.requests = append(f.requests, req)
	if s := f.script[req.Op]; len(s) > 0 {
		f.script[req.Op] = s[1:]
		return s[0].Code, s[0].Message, s[0].Err
	}
	if f.readOnly {
		c, m := reply(failover.CodeSharingPaused, "this manager is not in the agreeing majority: it is read-only")
		return c, m, nil
	}
	c, m := f.apply(req)
	return c, m, nil
}

// target returns the group or resource a request addresses, checking
// the handle's UID as the engine does.
func (f *Fake) group(req engine.Request) (*failover.GroupInfo, failover.Code, string) {
	g, found := f.groups[req.Group]
	switch {
	case req.Handle != 0 && (!found || g.UID != req.Handle):
		c, m := reply(failover.CodeGroupNotAvailable, "group %q was deleted since it was opened", req.Group)
		return nil, c, m
	case !found:
		c, m := reply(failover.CodeGroupNotFound, "there is no group %q", req.Group)
		return nil, c, m
	}
	return g, 0, ""
}

func (f *Fake) resource(req engine.Request) (*failover.ResourceInfo, failover.Code, string) {
	r, found := f.resources[req.Resource]
	switch {
	case req.Handle != 0 && (!found || r.UID != req.Handle):
		c, m := reply(failover.CodeResourceNotAvailable, "resource %q was deleted since it was opened", req.Resource)
		return nil, c, m
	case !found:
		c, m := reply(failover.CodeResourceNotFound, "there is no resource %q", req.Resource)
		return nil, c, m
	}
	return r, 0, ""
}

func (f *Fake) apply(req engine.Request) (failover.Code, string) {
	switch req.Op {
	case engine.OpCreateGroup:
		if _, dup := f.groups[req.Group]; dup {
			return reply(failover.CodeObjectAlreadyExists, "group %q exists", req.Group)
		}
		if _, dup := f.resources[req.Group]; dup {
			return reply(failover.CodeObjectAlreadyExists, "a resource is called %q", req.Group)
		}
		props := failover.DefaultGroupProperties()
		for k, v := range req.Props {
			if err := props.Set(k, v); err != nil {
				return failover.CodeInvalidParameter, err.Error()
			}
		}
		f.uid++
		g := &failover.GroupInfo{Name: req.Group, State: failover.GroupOffline, Owner: Local, Sequence: 1,
			UID: f.uid, Resources: []string{}, Properties: props}
		f.groups[g.Name] = g
		c := f.groupCopy(g)
		f.emit(failover.Change{Kind: failover.ChangeGroup, Group: &c})
		return ok()
	case engine.OpCreateResource:
		return f.createResource(req)
	case engine.OpApplyConfig:
		return f.applyConfig(req.Config)
	case engine.OpPauseNode, engine.OpResumeNode, engine.OpSetNodeFence, engine.OpConfirmFenced:
		return f.nodeOp(req)
	case engine.OpDeleteGroup, engine.OpOnlineGroup, engine.OpOfflineGroup, engine.OpMoveGroup,
		engine.OpSetGroupOwners, engine.OpSetGroupProps:
		g, c, m := f.group(req)
		if g == nil {
			return c, m
		}
		return f.groupOp(g, req)
	}
	r, c, m := f.resource(req)
	if r == nil {
		return c, m
	}
	return f.resourceOp(r, req)
}

func (f *Fake) createResource(req engine.Request) (failover.Code, string) {
	if _, dup := f.resources[req.Resource]; dup {
		return reply(failover.CodeObjectAlreadyExists, "resource %q exists", req.Resource)
	}
	g, found := f.groups[req.Group]
	if !found {
		return reply(failover.CodeGroupNotFound, "there is no group %q", req.Group)
	}
	spec, err := failover.ParseAgent(req.Agent)
	if err != nil || spec.Class == failover.AgentOCF && (spec.Provider != "heartbeat" || spec.Type != "Dummy") {
		return reply(failover.CodeClusterResourceTypeNotFound, "there is no agent %s on %s", req.Agent, Local)
	}
	if req.Params["validate"] == "fail" {
		return reply(failover.CodeClusterResourceConfiguration, "%s's validate-all refused the parameters", req.Agent)
	}
	props := failover.DefaultResourceProperties()
	for k, v := range req.Props {
		if err := props.Set(k, v); err != nil {
			return failover.CodeInvalidParameter, err.Error()
		}
	}
	f.uid++
	r := &failover.ResourceInfo{Name: req.Resource, Group: g.Name, State: failover.ResourceOffline, Sequence: 1,
		UID: f.uid, Agent: req.Agent, Params: req.Params, Properties: props}
	f.resources[r.Name] = r
	g.Resources = append(g.Resources, r.Name)
	c := f.resourceCopy(r)
	f.emit(failover.Change{Kind: failover.ChangeResource, Resource: &c})
	f.regroup(g)
	return ok()
}

func (f *Fake) applyConfig(cfg *failover.Config) (failover.Code, string) {
	if cfg == nil {
		return reply(failover.CodeInvalidParameter, "no configuration")
	}
	for _, nc := range cfg.Nodes {
		if f.node(nc.Name) == nil {
			return reply(failover.CodeClusterNodeNotFound, "there is no node %q", nc.Name)
		}
	}
	for _, n := range f.nodes {
		n.FenceCommand = ""
	}
	for _, nc := range cfg.Nodes {
		f.node(nc.Name).FenceCommand = nc.FenceCommand
	}
	keep := map[string]bool{}
	for _, gc := range cfg.Groups {
		keep[gc.Name] = true
		g, found := f.groups[gc.Name]
		if !found {
			f.uid++
			g = &failover.GroupInfo{Name: gc.Name, State: failover.GroupOffline, Owner: Local, Sequence: 1, UID: f.uid}
			f.groups[g.Name] = g
		}
		g.Properties, g.PersistentState, g.Resources = gc.GroupProperties, gc.PersistentState, nil
		for _, rc := range gc.Resources {
			keep[rc.Name] = true
			r, found := f.resources[rc.Name]
			if !found {
				f.uid++
				r = &failover.ResourceInfo{Name: rc.Name, State: failover.ResourceOffline, Sequence: 1, UID: f.uid}
				f.resources[r.Name] = r
			}
			r.Group, r.Agent, r.Params, r.PersistentState = g.Name, rc.Agent, rc.Params, rc.PersistentState
			r.PossibleOwners, r.Dependency, r.Locked, r.Properties = rc.PossibleOwners, rc.Depends, rc.Locked, rc.ResourceProperties
			g.Resources = append(g.Resources, r.Name)
		}
	}
	for name, r := range f.resources {
		if !keep[name] {
			delete(f.resources, name)
			c := f.resourceCopy0(r)
			f.emit(failover.Change{Kind: failover.ChangeResource, Resource: &c, Deleted: true})
		}
	}
	for name, g := range f.groups {
		if !keep[name] {
			delete(f.groups, name)
			c := f.groupCopy(g)
			f.emit(failover.Change{Kind: failover.ChangeGroup, Group: &c, Deleted: true})
		}
	}
	for _, g := range f.groups {
		f.regroup(g)
	}
	return ok()
}

// resourceCopy0 copies a resource whose group may be gone.
func (f *Fake) resourceCopy0(r *failover.ResourceInfo) failover.ResourceInfo {
	if _, ok := f.groups[r.Group]; ok {
		return f.resourceCopy(r)
	}
	return r.WithValue()
}

func (f *Fake) nodeOp(req engine.Request) (failover.Code, string) {
	n := f.node(req.Node)
	if n == nil {
		return reply(failover.CodeClusterNodeNotFound, "there is no node %q", req.Node)
	}
	switch req.Op {
	case engine.OpPauseNode:
		if n.State == failover.NodePaused {
			return ok()
		}
		if n.State != failover.NodeUp {
			return reply(failover.CodeClusterNodeDown, "%s is %s", n.Name, n.State)
		}
		f.setNode(n, failover.NodePaused)
		if !req.Drain {
			return ok()
		}
		moving := 0
		for _, gn := range sortedNames(f.groups) {
			g := f.groups[gn]
			if g.Owner != n.Name {
				continue
			}
			if to := f.pick(g); to != "" {
				if c, _ := f.move(g, to, false); c == failover.CodeIOPending {
					moving++
				}
			}
		}
		if moving > 0 {
			return pending("%d groups are moving off %s", moving, n.Name)
		}
		return ok()
	case engine.OpResumeNode:
		if n.State != failover.NodePaused {
			return reply(failover.CodeClusterNodeNotPaused, "%s is not paused", n.Name)
		}
		f.setNode(n, failover.NodeUp)
		return ok()
	case engine.OpSetNodeFence:
		n.FenceCommand = req.Expr
		return ok()
	}
	if n.State != failover.NodeDown {
		return reply(failover.CodeInvalidState, "%s is %s, not down", n.Name, n.State)
	}
	return ok()
}

// pick chooses a move's destination: the first Up node after the owner.
func (f *Fake) pick(g *failover.GroupInfo) string {
	start := 0
	for i, n := range f.nodes {
		if n.Name == g.Owner {
			start = i
		}
	}
	for i := 1; i < len(f.nodes); i++ {
		n := f.nodes[(start+i)%len(f.nodes)]
		if n.State == failover.NodeUp && f.canHost(g, n.Name) {
			return n.Name
		}
	}
	return ""
}

func (f *Fake) canHost(g *failover.GroupInfo, node string) bool {
	for _, rn := range g.Resources {
		if po := f.resources[rn].PossibleOwners; len(po) > 0 && !slices.Contains(po, node) {
			return false
		}
	}
	return true
}

func (f *Fake) locked(g *failover.GroupInfo) string {
	for _, rn := range g.Resources {
		if f.resources[rn].Locked {
			return rn
		}
	}
	return ""
}

func (f *Fake) groupOp(g *failover.GroupInfo, req engine.Request) (failover.Code, string) {
	switch req.Op {
	case engine.OpDeleteGroup:
		for _, rn := range g.Resources {
			if f.resources[rn].State != failover.ResourceOffline {
				return reply(failover.CodeInvalidState, "%s is not offline", rn)
			}
		}
		for _, rn := range g.Resources {
			r := f.resources[rn]
			c := f.resourceCopy(r)
			delete(f.resources, rn)
			f.emit(failover.Change{Kind: failover.ChangeResource, Resource: &c, Deleted: true})
		}
		delete(f.groups, g.Name)
		c := f.groupCopy(g)
		f.emit(failover.Change{Kind: failover.ChangeGroup, Group: &c, Deleted: true})
		return ok()
	case engine.OpOnlineGroup, engine.OpOfflineGroup:
		if g.State == failover.GroupPending {
			return reply(failover.CodeInvalidState, "group %q is pending", g.Name)
		}
		if rn := f.locked(g); rn != "" && !req.IgnoreLocked {
			return reply(failover.CodeClusterResourceLockedStatus, "resource %q of the group is locked", rn)
		}
		online := req.Op == engine.OpOnlineGroup
		g.PersistentState = failover.PersistentOffline
		if online {
			g.PersistentState = failover.PersistentOnline
		}
		n := 0
		for _, rn := range g.Resources {
			r := f.resources[rn]
			r.PersistentState = g.PersistentState
			if online && r.State != failover.ResourceOnline {
				f.start(r)
				n++
			}
			if !online && r.State == failover.ResourceOnline {
				f.stop(r, nil)
				n++
			}
		}
		if n > 0 {
			return pending("%d resources of %q are changing state", n, g.Name)
		}
		return ok()
	case engine.OpMoveGroup:
		to := req.Node
		if to == "" {
			if to = f.pick(g); to == "" {
				return reply(failover.CodeHostNodeNotAvailable, "no node can take group %q", g.Name)
			}
		}
		n := f.node(to)
		switch {
		case n == nil:
			return reply(failover.CodeClusterNodeNotFound, "there is no node %q", to)
		case to == g.Owner:
			return ok()
		case n.State == failover.NodePaused:
			return reply(failover.CodeClusterNodePaused, "%s is paused", to)
		case n.State != failover.NodeUp:
			return reply(failover.CodeHostNodeNotAvailable, "%s is %s", to, n.State)
		case !f.canHost(g, to):
			return reply(failover.CodeHostNodeNotResourceOwner, "%s is not a possible owner of every resource of %q", to, g.Name)
		case g.MovingTo != "":
			return reply(failover.CodeClusterGroupMoving, "group %q is moving to %s", g.Name, g.MovingTo)
		case g.State == failover.GroupPending:
			return reply(failover.CodeInvalidState, "group %q is pending", g.Name)
		}
		if rn := f.locked(g); rn != "" && !req.IgnoreLocked {
			return reply(failover.CodeClusterResourceLockedStatus, "resource %q of the group is locked", rn)
		}
		return f.move(g, to, req.IgnoreLocked)
	case engine.OpSetGroupOwners:
		for _, n := range req.Nodes {
			if f.node(n) == nil {
				return reply(failover.CodeClusterNodeNotFound, "there is no node %q", n)
			}
		}
		g.Properties.PreferredOwners = append([]string(nil), req.Nodes...)
		return ok()
	case engine.OpSetGroupProps:
		p := g.Properties
		for _, k := range failover.SortedKeys(req.Props) {
			if err := p.Set(k, req.Props[k]); err != nil {
				return failover.CodeInvalidParameter, err.Error()
			}
		}
		g.Properties = p
		return ok()
	}
	return reply(failover.CodeInvalidParameter, "the fake does not model %d", req.Op)
}

// move stops the group's online resources, passes it to node to, and
// starts there what should run.
func (f *Fake) move(g *failover.GroupInfo, to string, _ bool) (failover.Code, string) {
	var running []*failover.ResourceInfo
	for _, rn := range g.Resources {
		if r := f.resources[rn]; r.State == failover.ResourceOnline {
			running = append(running, r)
		}
	}
	wants := false
	for _, rn := range g.Resources {
		wants = wants || f.resources[rn].PersistentState == failover.PersistentOnline
	}
	if len(running) == 0 && !wants {
		g.Owner = to
		g.Sequence++
		c := f.groupCopy(g)
		f.emit(failover.Change{Kind: failover.ChangeGroup, Group: &c})
		return ok()
	}
	g.MovingTo = to
	f.regroup(g)
	arrive := func() {
		g.Owner, g.MovingTo = to, ""
		g.Sequence++
		for _, rn := range g.Resources {
			if r := f.resources[rn]; r.PersistentState == failover.PersistentOnline && r.State != failover.ResourceOnline {
				f.start(r)
			}
		}
		f.regroup(g)
		c := f.groupCopy(g)
		f.emit(failover.Change{Kind: failover.ChangeGroup, Group: &c})
	}
	if len(running) == 0 {
		f.later(arrive)
	}
	left := len(running)
	for _, r := range running {
		f.stop(r, func() {
			if left--; left == 0 {
				arrive()
			}
		})
	}
	return pending("group %q is moving to %s", g.Name, to)
}

// start brings r online through OnlinePending.
func (f *Fake) start(r *failover.ResourceInfo) {
	f.setResource(r, failover.ResourceOnlinePending)
	if r.Params["hang"] == "1" {
		return
	}
	f.later(func() {
		if f.resources[r.Name] != r || r.State != failover.ResourceOnlinePending {
			return
		}
		if r.Params["fail"] == "1" {
			r.LastFailure = "the agent's start exited 1 (generic error)"
			r.Restarts++
			f.setResource(r, failover.ResourceFailed)
			return
		}
		f.setResource(r, failover.ResourceOnline)
	})
}

// stop takes r offline through OfflinePending, then calls then.
func (f *Fake) stop(r *failover.ResourceInfo, then func()) {
	f.setResource(r, failover.ResourceOfflinePending)
	f.later(func() {
		if f.resources[r.Name] != r {
			return
		}
		f.setResource(r, failover.ResourceOffline)
		if then != nil {
			then()
		}
	})
}

func (f *Fake) dependents(r *failover.ResourceInfo) []*failover.ResourceInfo {
	var out []*failover.ResourceInfo
	for _, rn := range f.groups[r.Group].Resources {
		d, _ := failover.ParseDependency(f.resources[rn].Dependency)
		if slices.Contains(d.Providers(), r.Name) {
			out = append(out, f.resources[rn])
		}
	}
	return out
}

func (f *Fake) resourceOp(r *failover.ResourceInfo, req engine.Request) (failover.Code, string) {
	g := f.groups[r.Group]
	switch req.Op {
	case engine.OpDeleteResource:
		if len(f.dependents(r)) > 0 {
			return reply(failover.CodeDependentResourceExists, "%s depends on %s", f.dependents(r)[0].Name, r.Name)
		}
		if r.State == failover.ResourceOnline {
			return reply(failover.CodeResourceOnline, "%s is online", r.Name)
		}
		delete(f.resources, r.Name)
		g.Resources = slices.DeleteFunc(g.Resources, func(s string) bool { return s == r.Name })
		c := f.resourceCopy(r)
		f.emit(failover.Change{Kind: failover.ChangeResource, Resource: &c, Deleted: true})
		f.regroup(g)
		return ok()
	case engine.OpOnlineResource:
		switch r.State {
		case failover.ResourceInitializing, failover.ResourceOnline, failover.ResourceOffline, failover.ResourceFailed:
		default:
			return reply(failover.CodeInvalidState, "%s is %s", r.Name, r.State)
		}
		if r.Locked && !req.IgnoreLocked {
			return reply(failover.CodeClusterResourceLockedStatus, "%s is locked", r.Name)
		}
		if n := f.node(g.Owner); n != nil && n.State == failover.NodePaused {
			return reply(failover.CodeSharingPaused, "%s, which owns %q, is paused", n.Name, g.Name)
		}
		r.PersistentState = failover.PersistentOnline
		if r.State == failover.ResourceOnline {
			return ok()
		}
		f.start(r)
		return pending("%s is coming online on %s", r.Name, g.Owner)
	case engine.OpOfflineResource:
		switch r.State {
		case failover.ResourceOnline, failover.ResourceOffline, failover.ResourceFailed:
		default:
			return reply(failover.CodeInvalidState, "%s is %s", r.Name, r.State)
		}
		if r.Locked && !req.IgnoreLocked {
			return reply(failover.CodeClusterResourceLockedStatus, "%s is locked", r.Name)
		}
		r.PersistentState = failover.PersistentOffline
		switch r.State {
		case failover.ResourceOffline:
			return ok()
		case failover.ResourceFailed:
			return reply(failover.CodeResourceFailed, "%s is failed", r.Name)
		}
		for _, d := range f.dependents(r) {
			if d.State == failover.ResourceOnline {
				f.stop(d, nil)
			}
		}
		f.stop(r, nil)
		return pending("%s is going offline on %s", r.Name, g.Owner)
	case engine.OpFailResource:
		if r.State != failover.ResourceOnline && !r.State.Pending() {
			return reply(failover.CodeInvalidState, "%s is %s", r.Name, r.State)
		}
		r.LastFailure = "an operator failed it"
		f.setResource(r, failover.ResourceFailed)
		return ok()
	case engine.OpAddResourceOwner, engine.OpRemoveResourceOwner:
		if f.node(req.Node) == nil {
			return reply(failover.CodeClusterNodeNotFound, "there is no node %q", req.Node)
		}
		has := slices.Contains(r.PossibleOwners, req.Node)
		if req.Op == engine.OpAddResourceOwner {
			if has {
				return reply(failover.CodeObjectAlreadyExists, "%s is already a possible owner of %s", req.Node, r.Name)
			}
			r.PossibleOwners = append(r.PossibleOwners, req.Node)
			return ok()
		}
		if !has {
			return reply(failover.CodeClusterNodeNotFound, "%s is not a possible owner of %s", req.Node, r.Name)
		}
		r.PossibleOwners = slices.DeleteFunc(r.PossibleOwners, func(s string) bool { return s == req.Node })
		return ok()
	case engine.OpSetDependency:
		d, err := failover.ParseDependency(req.Expr)
		if err != nil {
			c, _ := failover.CodeOf(err)
			return c, err.Error()
		}
		for _, p := range d.Providers() {
			pr, found := f.resources[p]
			if !found || pr.Group != r.Group {
				return reply(failover.CodeDependencyNotFound, "[%s] is not a resource of group %q", p, r.Group)
			}
		}
		old := r.Dependency
		r.Dependency = d.String()
		if f.cycle(r.Name, r.Name, map[string]bool{}) {
			r.Dependency = old
			return reply(failover.CodeCircularDependency, "%s would depend on itself", r.Name)
		}
		return ok()
	case engine.OpLockResource:
		r.Locked = true
		return ok()
	case engine.OpUnlockResource:
		r.Locked = false
		return ok()
	case engine.OpCleanupResource:
		r.Restarts, r.LastFailure = 0, ""
		if r.State == failover.ResourceFailed && r.PersistentState == failover.PersistentOnline {
			f.start(r)
			return pending("%s is tried again", r.Name)
		}
		return ok()
	case engine.OpSetResourceProps:
		p := r.Properties
		for _, k := range failover.SortedKeys(req.Props) {
			if err := p.Set(k, req.Props[k]); err != nil {
				return failover.CodeInvalidParameter, err.Error()
			}
		}
		r.Properties = p
		return ok()
	case engine.OpSetResourceParams:
		r.Params = req.Params
		return ok()
	}
	return reply(failover.CodeInvalidParameter, "the fake does not model %d", req.Op)
}

// cycle reports whether from reaches target through dependencies.
func (f *Fake) cycle(target, from string, seen map[string]bool) bool {
	if seen[from] {
		return false
	}
	seen[from] = true
	d, _ := failover.ParseDependency(f.resources[from].Dependency)
	for _, p := range d.Providers() {
		if p == target || f.cycle(target, p, seen) {
			return true
		}
	}
	return false
}
