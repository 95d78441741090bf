package engine

import (
	"errors"
	"slices"
	"strings"

	"github.com/openhags/hags/failover"
)

// Requests. Every operation checks everything it can refuse before it
// changes anything, so an error answer leaves the engine as it was (the
// two documented exceptions are in requests_state.go). A handler returns
// nil for ERROR_SUCCESS or an *failover.Error carrying the code, including
// ERROR_IO_PENDING.

// request answers one operator's request from node from.
func (e *Engine) request(from NodeID, q *Request) {
	err := e.handle(from, q)
	code, msg := failover.CodeSuccess, ""
	if err != nil {
		var fe *failover.Error
		if errors.As(err, &fe) {
			code, msg = fe.Code, fe.Message
		} else {
			code, msg = failover.CodeInvalidParameter, err.Error()
		}
	}
	e.answer(from, q.ID, code, msg)
}

// handle checks that the proposing manager may change anything and runs
// the operation.
func (e *Engine) handle(from NodeID, q *Request) error {
	if !e.alive(from) {
		return failover.Errorf(failover.CodeSharingPaused, "the manager of node %s is not up: it is read-only", e.nodeName(from))
	}
	if !e.Quorum() {
		return failover.Errorf(failover.CodeSharingPaused, "the managers of a majority of the known nodes are not members: the cluster is read-only")
	}
	switch q.Op {
	case OpCreateGroup:
		return e.opCreateGroup(from, q)
	case OpDeleteGroup:
		return e.opDeleteGroup(q)
	case OpCreateResource:
		return e.opCreateResource(q)
	case OpDeleteResource:
		return e.opDeleteResource(q)
	case OpOnlineResource:
		return e.opOnlineResource(q)
	case OpOfflineResource:
		return e.opOfflineResource(q)
	case OpFailResource:
		return e.opFailResource(q)
	case OpOnlineGroup:
		return e.opOnlineGroup(q)
	case OpOfflineGroup:
		return e.opOfflineGroup(q)
	case OpMoveGroup:
		return e.opMoveGroup(q)
	case OpPauseNode:
		return e.opPauseNode(q)
	case OpResumeNode:
		return e.opResumeNode(q)
	case OpSetGroupOwners:
		return e.opSetGroupOwners(q)
	case OpAddResourceOwner:
		return e.opAddResourceOwner(q)
	case OpRemoveResourceOwner:
		return e.opRemoveResourceOwner(q)
	case OpSetDependency:
		return e.opSetDependency(q)
	case OpLockResource:
		return e.opLockResource(q, true)
	case OpUnlockResource:
		return e.opLockResource(q, false)
	case OpCleanupResource:
		return e.opCleanupResource(q)
	case OpSetResourceProps:
		return e.opSetResourceProps(q)
	case OpSetGroupProps:
		return e.opSetGroupProps(q)
	case OpSetResourceParams:
		return e.opSetResourceParams(q)
	case OpSetNodeFence:
		return e.opSetNodeFence(q)
	case OpApplyConfig:
		return e.opApplyConfig(from, q)
	case OpConfirmFenced:
		return e.opConfirmFenced(q)
	}
	return failover.Errorf(failover.CodeInvalidParameter, "unknown operation %d", q.Op)
}

// Lookups. Each checks the name, then finds the object and checks the
// caller's handle against its UID.

// lookupGroup finds the group q.Group.
func (e *Engine) lookupGroup(q *Request) (*group, error) {
	if err := failover.CheckName(q.Group); err != nil {
		return nil, err
	}
	g := e.groups[q.Group]
	switch {
	case g == nil && q.Handle != 0:
		return nil, failover.Errorf(failover.CodeGroupNotAvailable, "group %s was deleted", q.Group)
	case g == nil:
		return nil, failover.Errorf(failover.CodeGroupNotFound, "no group %s", q.Group)
	case q.Handle != 0 && q.Handle != g.uid:
		return nil, failover.Errorf(failover.CodeGroupNotAvailable, "group %s was deleted and created again since the handle was opened", q.Group)
	}
	return g, nil
}

// lookupResource finds the resource q.Resource and its group.
func (e *Engine) lookupResource(q *Request) (*resource, *group, error) {
	if err := failover.CheckName(q.Resource); err != nil {
		return nil, nil, err
	}
	r := e.resources[q.Resource]
	switch {
	case r == nil && q.Handle != 0:
		return nil, nil, failover.Errorf(failover.CodeResourceNotAvailable, "resource %s was deleted", q.Resource)
	case r == nil:
		return nil, nil, failover.Errorf(failover.CodeResourceNotFound, "no resource %s", q.Resource)
	case q.Handle != 0 && q.Handle != r.uid:
		return nil, nil, failover.Errorf(failover.CodeResourceNotAvailable, "resource %s was deleted and created again since the handle was opened", q.Resource)
	}
	return r, e.groups[r.group], nil
}

// lookupNode finds the node called name.
func (e *Engine) lookupNode(name string) (*node, error) {
	n := e.nodeByName(name)
	if n == nil {
		return nil, failover.Errorf(failover.CodeClusterNodeNotFound, "no node %q", name)
	}
	return n, nil
}

// nodeList resolves node names to IDs, in the same order; unknown names
// are ERROR_CLUSTER_NODE_NOT_FOUND, a name given twice
// ERROR_INVALID_PARAMETER.
func (e *Engine) nodeList(names []string) ([]NodeID, error) {
	var out []NodeID
	for _, name := range names {
		n, err := e.lookupNode(name)
		if err != nil {
			return nil, err
		}
		if slices.Contains(out, n.id) {
			return nil, failover.Errorf(failover.CodeInvalidParameter, "node %s is named twice", name)
		}
		out = append(out, n.id)
	}
	return out, nil
}

// Creating and deleting.

// opCreateGroup creates a group owned by the requesting node, offline.
func (e *Engine) opCreateGroup(from NodeID, q *Request) error {
	if err := failover.CheckName(q.Group); err != nil {
		return err
	}
	if e.groups[q.Group] != nil {
		return failover.Errorf(failover.CodeObjectAlreadyExists, "group %s exists", q.Group)
	}
	props, preferred, err := e.groupPropsWith(failover.DefaultGroupProperties(), q.Props)
	if err != nil {
		return err
	}
	e.addGroup(q.Group, from, props, preferred, failover.PersistentOffline)
	return nil
}

// addGroup creates a group; its Change is reported at the end of the step.
func (e *Engine) addGroup(name string, owner NodeID, props failover.GroupProperties, preferred []NodeID, ps failover.PersistentState) *group {
	props.PreferredOwners = nil
	g := &group{name: name, uid: e.newUID(), owner: owner, props: props, preferred: preferred, persistent: ps,
		shown: failover.GroupOffline, shownOwner: owner}
	e.groups[name] = g
	e.markGroup(g)
	return g
}

// groupPropsWith applies text settings (in name order) to props and
// resolves the preferred owners.
func (e *Engine) groupPropsWith(props failover.GroupProperties, set map[string]string) (failover.GroupProperties, []NodeID, error) {
	props.PreferredOwners = slices.Clone(props.PreferredOwners)
	props.AntiAffinity = slices.Clone(props.AntiAffinity)
	for _, k := range sortedKeys(set) {
		if err := props.Set(k, set[k]); err != nil {
			return props, nil, err
		}
	}
	preferred, err := e.nodeList(props.PreferredOwners)
	if err != nil {
		return props, nil, err
	}
	props.PreferredOwners = nil
	return props, preferred, nil
}

// opDeleteGroup deletes a group whose resources all are offline (or
// failed, with nothing left running), and its resources with it.
func (e *Engine) opDeleteGroup(q *Request) error {
	g, err := e.lookupGroup(q)
	if err != nil {
		return err
	}
	if err := e.canDeleteGroup(g); err != nil {
		return err
	}
	e.deleteGroup(g)
	return nil
}

// canDeleteGroup says why g may not be deleted.
func (e *Engine) canDeleteGroup(g *group) error {
	if g.move != nil || g.waiting {
		return failover.Errorf(failover.CodeInvalidState, "group %s is moving or waits to be taken over", g.name)
	}
	for _, r := range e.groupResources(g) {
		if err := e.stillRunsErr(r, failover.CodeInvalidState); err != nil {
			return err
		}
	}
	return nil
}

// stillRunsErr returns an error with code online if r is Online, and
// ERROR_INVALID_STATE if it is pending or may still run somewhere.
func (e *Engine) stillRunsErr(r *resource, online failover.Code) error {
	switch {
	case r.state == failover.ResourceOnline && r.act == nil:
		return failover.Errorf(online, "resource %s is online", r.name)
	case r.pending():
		return failover.Errorf(failover.CodeInvalidState, "resource %s is %s", r.name, r.state)
	case r.running():
		return failover.Errorf(failover.CodeInvalidState, "resource %s may still run on %s", r.name, e.nodeName(e.ownerOf(r)))
	case e.hasStray(r.name):
		return failover.Errorf(failover.CodeInvalidState, "a copy of resource %s found running elsewhere is not known stopped", r.name)
	}
	return nil
}

// deleteGroup deletes g and its resources.
func (e *Engine) deleteGroup(g *group) {
	for _, r := range e.groupResources(g) {
		e.deleteResource(r)
	}
	info := e.groupInfo(g)
	delete(e.groups, g.name)
	delete(e.st.dirty, g.name)
	e.reportDeleted(failover.Change{Kind: failover.ChangeGroup, Group: &info})
}

// opCreateResource creates an offline resource in a group.
func (e *Engine) opCreateResource(q *Request) error {
	if err := failover.CheckName(q.Resource); err != nil {
		return err
	}
	g, err := e.lookupGroup(q)
	if err != nil {
		return err
	}
	if e.resources[q.Resource] != nil {
		return failover.Errorf(failover.CodeObjectAlreadyExists, "resource %s exists", q.Resource)
	}
	agent, err := failover.ParseAgent(q.Agent)
	if err != nil {
		return failover.Errorf(failover.CodeInvalidParameter, "%v", err)
	}
	if err := checkParams(q.Params); err != nil {
		return err
	}
	props, err := resourcePropsWith(failover.DefaultResourceProperties(), q.Props)
	if err != nil {
		return err
	}
	r := e.addResource(g, q.Resource, agent, props)
	r.params = cloneParams(q.Params)
	return nil
}

// addResource creates an offline resource in g.
func (e *Engine) addResource(g *group, name string, agent failover.AgentSpec, props failover.ResourceProperties) *resource {
	r := &resource{name: name, group: g.name, uid: e.newUID(), agent: agent, props: props,
		state: failover.ResourceOffline, since: e.now, shown: failover.ResourceOffline, shownOwner: g.owner}
	e.resources[name] = r
	i, _ := slices.BinarySearch(g.resources, name)
	g.resources = slices.Insert(g.resources, i, name)
	g.order = nil
	e.markResource(r)
	return r
}

func checkParams(params map[string]string) error {
	for _, k := range sortedKeys(params) {
		if err := failover.CheckParam(k, params[k]); err != nil {
			return err
		}
	}
	return nil
}

func cloneParams(p map[string]string) map[string]string {
	if len(p) == 0 {
		return nil
	}
	out := make(map[string]string, len(p))
	for k, v := range p {
		out[k] = v
	}
	return out
}

// resourcePropsWith applies text settings, in name order, to props.
func resourcePropsWith(props failover.ResourceProperties, set map[string]string) (failover.ResourceProperties, error) {
	for _, k := range sortedKeys(set) {
		if err := props.Set(k, set[k]); err != nil {
			return props, err
		}
	}
	return props, nil
}

// opDeleteResource deletes a resource nothing depends on and that does not
// run.
func (e *Engine) opDeleteResource(q *Request) error {
	r, _, err := e.lookupResource(q)
	if err != nil {
		return err
	}
	if d := e.dependents(r); len(d) > 0 {
		return failover.Errorf(failover.CodeDependentResourceExists, "resource %s depends on %s", d[0].name, r.name)
	}
	if err := e.stillRunsErr(r, failover.CodeResourceOnline); err != nil {
		return err
	}
	e.deleteResource(r)
	return nil
}

// deleteResource deletes r.
func (e *Engine) deleteResource(r *resource) {
	info := e.resourceInfo(r)
	if g := e.groups[r.group]; g != nil {
		g.resources = slices.DeleteFunc(g.resources, func(n string) bool { return n == r.name })
		g.order = nil
		e.markGroup(g)
	}
	delete(e.resources, r.name)
	e.reportDeleted(failover.Change{Kind: failover.ChangeResource, Resource: &info})
}

// Configuring.

// opSetDependency replaces a resource's dependency expression.
func (e *Engine) opSetDependency(q *Request) error {
	r, g, err := e.lookupResource(q)
	if err != nil {
		return err
	}
	d, err := failover.ParseDependency(q.Expr)
	if err != nil {
		return err
	}
	for _, p := range d.Providers() {
		if pr := e.resources[p]; pr == nil || pr.group != r.group {
			return failover.Errorf(failover.CodeDependencyNotFound, "resource %s may depend only on resources of group %s, and [%s] is not one", r.name, r.group, p)
		}
	}
	if err := e.checkDependencies(g, map[string]failover.Dependency{r.name: d}); err != nil {
		return err
	}
	r.dep = d
	g.order = nil
	e.markResource(r)
	return nil
}

// opSetResourceProps sets resource properties from their text forms. New
// timeouts and monitor settings apply from the resource's next action.
func (e *Engine) opSetResourceProps(q *Request) error {
	r, _, err := e.lookupResource(q)
	if err != nil {
		return err
	}
	props, err := resourcePropsWith(r.props, q.Props)
	if err != nil {
		return err
	}
	r.props = props
	e.markResource(r)
	return nil
}

// opSetGroupProps sets group properties from their text forms.
func (e *Engine) opSetGroupProps(q *Request) error {
	g, err := e.lookupGroup(q)
	if err != nil {
		return err
	}
	props, preferred, err := e.groupPropsWith(e.groupProps(g), q.Props)
	if err != nil {
		return err
	}
	g.props, g.preferred = props, preferred
	e.markGroup(g)
	return nil
}

// opSetResourceParams replaces a resource's agent parameters; a running
// resource gets them at its next start.
func (e *Engine) opSetResourceParams(q *Request) error {
	r, _, err := e.lookupResource(q)
	if err != nil {
		return err
	}
	if err := checkParams(q.Params); err != nil {
		return err
	}
	r.params = cloneParams(q.Params)
	return nil
}

// opSetNodeFence sets or (with "") removes a node's fence command.
func (e *Engine) opSetNodeFence(q *Request) error {
	n, err := e.lookupNode(q.Node)
	if err != nil {
		return err
	}
	if err := checkFenceCommand(q.Expr); err != nil {
		return err
	}
	n.fence = q.Expr
	e.st.all = true
	return nil
}

func checkFenceCommand(cmd string) error {
	if len(cmd) > MaxFenceCommand || strings.IndexByte(cmd, 0) >= 0 {
		return failover.Errorf(failover.CodeInvalidParameter, "a fence command is at most %d bytes without NUL", MaxFenceCommand)
	}
	return nil
}

// opLockResource sets or clears a resource's lock. A resource that failed
// while locked is recovered when it is unlocked.
func (e *Engine) opLockResource(q *Request, lock bool) error {
	r, _, err := e.lookupResource(q)
	if err != nil {
		return err
	}
	r.locked = lock
	if !lock && r.wait == waitLocked {
		e.recover(r)
	}
	e.markResource(r)
	return nil
}
