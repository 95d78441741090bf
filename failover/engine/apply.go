package engine

import (
	"maps"
	"slices"

	"github.com/openhags/hags/failover"
)

// Applying a configuration document (`hagsrm config apply`): the cluster
// is made to match it — groups and resources created, changed and
// deleted, node fence commands set — as one step, or not at all. The whole
// document is judged first (its own consistency, that the nodes it names
// exist, its dependency graphs, and that what it deletes or changes may
// be); only then is anything changed.
//
// Decisions where the contract is silent:
//   - Nodes the document lists get its fence command ("" removes it);
//     nodes it does not list keep theirs. Nodes are never created or
//     deleted by a document.
//   - Persistent states are applied as written, without the lock checks
//     of online and offline requests: reconciliation drives a locked
//     resource only once it is unlocked.
//   - A resource the document deletes must not run (ERROR_RESOURCE_ONLINE
//     when Online, ERROR_INVALID_STATE when pending or possibly running);
//     a group it deletes must have nothing running (ERROR_INVALID_STATE).
//   - A resource may not change group (ERROR_INVALID_PARAMETER), nor
//     change agent while it runs (ERROR_RESOURCE_ONLINE).
//   - The answer is ERROR_IO_PENDING when the step started or stopped
//     anything, ERROR_SUCCESS otherwise.

// applyPlan is what a document changes, judged before anything changes.
type applyPlan struct {
	fences    map[NodeID]string
	groups    []groupApply
	delGroups []*group
	delRes    []*resource
}

type groupApply struct {
	cfg       failover.GroupConfig
	preferred []NodeID
	possible  map[string][]NodeID
	agents    map[string]failover.AgentSpec
	deps      map[string]failover.Dependency
}

// opApplyConfig applies q.Config.
func (e *Engine) opApplyConfig(from NodeID, q *Request) error {
	if q.Config == nil {
		return failover.Errorf(failover.CodeInvalidParameter, "no configuration")
	}
	plan, err := e.planConfig(q.Config)
	if err != nil {
		return err
	}
	e.executePlan(from, plan)
	e.st.all = true
	e.reconcile()
	if e.st.actions > 0 {
		return failover.Errorf(failover.CodeIOPending, "configuration applied; resources are starting or stopping")
	}
	return nil
}

// planConfig judges a whole document.
func (e *Engine) planConfig(cfg *failover.Config) (*applyPlan, error) {
	if err := cfg.Check(); err != nil {
		return nil, err
	}
	p := &applyPlan{fences: map[NodeID]string{}}
	for _, nc := range cfg.Nodes {
		n, err := e.lookupNode(nc.Name)
		if err != nil {
			return nil, err
		}
		if err := checkFenceCommand(nc.FenceCommand); err != nil {
			return nil, err
		}
		p.fences[n.id] = nc.FenceCommand
	}
	inDoc := map[string]string{} // resource → group in the document
	groupsInDoc := map[string]bool{}
	for _, gc := range cfg.Groups {
		ga, err := e.planGroup(gc)
		if err != nil {
			return nil, err
		}
		p.groups = append(p.groups, ga)
		groupsInDoc[gc.Name] = true
		for _, rc := range gc.Resources {
			inDoc[rc.Name] = gc.Name
		}
	}
	for _, name := range e.groupNames() {
		if !groupsInDoc[name] {
			g := e.groups[name]
			if err := e.canDeleteGroup(g); err != nil {
				return nil, err
			}
			p.delGroups = append(p.delGroups, g)
		}
	}
	for _, name := range sortedKeys(e.resources) {
		r := e.resources[name]
		if _, ok := inDoc[name]; ok || !groupsInDoc[r.group] {
			continue
		}
		if err := e.stillRunsErr(r, failover.CodeResourceOnline); err != nil {
			return nil, err
		}
		p.delRes = append(p.delRes, r)
	}
	return p, nil
}

// planGroup judges one group of a document: what the document says
// (node names, the dependency graph) before what it would change.
func (e *Engine) planGroup(gc failover.GroupConfig) (groupApply, error) {
	ga := groupApply{cfg: gc, possible: map[string][]NodeID{}, agents: map[string]failover.AgentSpec{},
		deps: map[string]failover.Dependency{}}
	var err error
	if ga.preferred, err = e.nodeList(gc.PreferredOwners); err != nil {
		return ga, err
	}
	for _, rc := range gc.Resources {
		ids, err := e.nodeList(rc.PossibleOwners)
		if err != nil {
			return ga, err
		}
		slices.Sort(ids)
		ga.possible[rc.Name] = ids
		ga.agents[rc.Name], _ = failover.ParseAgent(rc.Agent) // Config.Check parsed both
		ga.deps[rc.Name], _ = failover.ParseDependency(rc.Depends)
	}
	if err := checkGraph(ga.deps); err != nil {
		return ga, err
	}
	for _, rc := range gc.Resources {
		r := e.resources[rc.Name]
		switch {
		case r == nil:
		case r.group != gc.Name:
			return ga, failover.Errorf(failover.CodeInvalidParameter, "resource %s is in group %s; a resource cannot change group", r.name, r.group)
		case ga.agents[rc.Name] != r.agent:
			if err := e.stillRunsErr(r, failover.CodeResourceOnline); err != nil {
				return ga, err
			}
		}
	}
	return ga, nil
}

// executePlan changes the engine as a judged document says; it cannot
// fail.
func (e *Engine) executePlan(from NodeID, p *applyPlan) {
	for _, r := range p.delRes {
		e.deleteResource(r)
	}
	for _, g := range p.delGroups {
		e.deleteGroup(g)
	}
	for _, id := range slices.Sorted(maps.Keys(p.fences)) {
		e.nodes[id].fence = p.fences[id]
	}
	for _, ga := range p.groups {
		e.applyGroup(from, ga)
	}
}

// applyGroup creates or changes one group and its resources.
func (e *Engine) applyGroup(from NodeID, ga groupApply) {
	gc := ga.cfg
	props := gc.GroupProperties
	props.AntiAffinity = slices.Clone(props.AntiAffinity)
	g := e.groups[gc.Name]
	if g == nil {
		g = e.addGroup(gc.Name, from, props, ga.preferred, gc.PersistentState)
	} else {
		props.PreferredOwners = nil
		g.props, g.preferred, g.persistent = props, ga.preferred, gc.PersistentState
	}
	for _, rc := range gc.Resources {
		r := e.resources[rc.Name]
		if r == nil {
			r = e.addResource(g, rc.Name, ga.agents[rc.Name], rc.ResourceProperties)
		}
		r.agent = ga.agents[rc.Name]
		r.params = cloneParams(rc.Params)
		r.props = rc.ResourceProperties
		r.persistent = rc.PersistentState
		r.possible = ga.possible[rc.Name]
		r.dep = ga.deps[rc.Name]
		if r.locked && !rc.Locked && r.wait == waitLocked {
			r.locked = false
			e.recover(r)
		}
		r.locked = rc.Locked
		e.markResource(r)
	}
	g.order = nil
	e.markGroup(g)
}
