package engine

import (
	"maps"
	"slices"
	"time"

	"github.com/openhags/hags/failover"
)

// Views. Each returns a copy the caller owns; lists are sorted by name
// (nodes by number). Like Step, they must not run concurrently with it.

// Group returns the group called name.
func (e *Engine) Group(name string) (failover.GroupInfo, bool) {
	g := e.groups[name]
	if g == nil {
		return failover.GroupInfo{}, false
	}
	return e.groupInfo(g), true
}

// Resource returns the resource called name.
func (e *Engine) Resource(name string) (failover.ResourceInfo, bool) {
	r := e.resources[name]
	if r == nil {
		return failover.ResourceInfo{}, false
	}
	return e.resourceInfo(r), true
}

// Node returns the node called name (an unnamed node is "[ID]").
func (e *Engine) Node(name string) (failover.NodeInfo, bool) {
	n := e.nodeByName(name)
	if n == nil {
		return failover.NodeInfo{}, false
	}
	return e.nodeInfo(n), true
}

// NodeByID returns node id.
func (e *Engine) NodeByID(id NodeID) (failover.NodeInfo, bool) {
	n := e.nodes[id]
	if n == nil {
		return failover.NodeInfo{}, false
	}
	return e.nodeInfo(n), true
}

// Groups returns every group, by name.
func (e *Engine) Groups() []failover.GroupInfo {
	out := make([]failover.GroupInfo, 0, len(e.groups))
	for _, name := range e.groupNames() {
		out = append(out, e.groupInfo(e.groups[name]))
	}
	return out
}

// Resources returns every resource, by name.
func (e *Engine) Resources() []failover.ResourceInfo {
	out := make([]failover.ResourceInfo, 0, len(e.resources))
	for _, name := range sortedKeys(e.resources) {
		out = append(out, e.resourceInfo(e.resources[name]))
	}
	return out
}

// ResourcesOf returns the resources of group g, by name (none when g does
// not exist).
func (e *Engine) ResourcesOf(g string) []failover.ResourceInfo {
	grp := e.groups[g]
	if grp == nil {
		return nil
	}
	out := make([]failover.ResourceInfo, 0, len(grp.resources))
	for _, r := range e.groupResources(grp) {
		out = append(out, e.resourceInfo(r))
	}
	return out
}

// Nodes returns every node the engine knows or the domain named, by
// number.
func (e *Engine) Nodes() []failover.NodeInfo {
	out := make([]failover.NodeInfo, 0, len(e.nodes))
	for _, id := range e.nodeIDs() {
		out = append(out, e.nodeInfo(e.nodes[id]))
	}
	return out
}

// Running returns the resources the engine believes run, or may run, on
// node id: those of the groups it owns that are online, pending,
// stop-failed or not yet confirmed, and stray copies found there. The
// manager of a node that must fence itself stops exactly these.
func (e *Engine) Running(id NodeID) []string {
	var out []string
	for _, name := range e.groupNames() {
		g := e.groups[name]
		if g.owner != id {
			continue
		}
		for _, r := range e.groupResources(g) {
			if r.running() {
				out = append(out, r.name)
			}
		}
	}
	for _, s := range e.strays {
		if s.node == id {
			out = append(out, s.resource)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Window returns the self-fencing window of group name: how long after
// the last lease renewal of its owner's manager the group may be taken
// over without fencing (docs/design/failover.md). It is LeaseTimeout ×
// 1.05 plus the time to kill the group's resources: 250 ms for exec
// resources, the longest stop timeout of its OCF resources. 0 if the group
// does not exist.
func (e *Engine) Window(name string) time.Duration {
	g := e.groups[name]
	if g == nil {
		return 0
	}
	budget := execKillBudget
	for _, r := range e.groupResources(g) {
		if r.agent.Class == failover.AgentOCF {
			budget = max(budget, stopTimeout(r))
		}
	}
	return LeaseTimeout*105/100 + budget
}

// nodeInfo is the view of n.
func (e *Engine) nodeInfo(n *node) failover.NodeInfo {
	info := failover.NodeInfo{Name: e.nodeName(n.id), ID: n.id, State: n.state(), FenceCommand: n.fence}
	for _, name := range e.groupNames() {
		if e.groups[name].owner == n.id {
			info.Groups = append(info.Groups, name)
		}
	}
	return info.WithValue()
}

// groupInfo is the view of g.
func (e *Engine) groupInfo(g *group) failover.GroupInfo {
	info := failover.GroupInfo{
		Name:            g.name,
		State:           e.groupState(g),
		Owner:           e.nodeName(g.owner),
		PersistentState: g.persistent,
		Sequence:        g.seq,
		UID:             g.uid,
		Resources:       slices.Clone(g.resources),
		Properties:      e.groupProps(g),
		Failovers:       e.failoverCount(g),
	}
	if info.Resources == nil {
		info.Resources = []string{}
	}
	if g.move != nil && !g.move.passed && g.move.target != 0 {
		info.MovingTo = e.nodeName(g.move.target)
	} else if g.move != nil && g.move.passed {
		info.MovingTo = e.nodeName(g.owner)
	}
	status := map[string]string{}
	if g.waiting {
		status["takeover"] = "waits for " + e.nodeName(g.owner) + " to be fenced or to return"
	}
	if g.move != nil {
		status["moving"] = g.move.kind.String()
	}
	if g.note != "" {
		status["note"] = g.note
	}
	if len(status) > 0 {
		info.Status = status
	}
	return info.WithValue()
}

// groupProps returns g's properties with the preferred owners by name.
func (e *Engine) groupProps(g *group) failover.GroupProperties {
	p := g.props
	p.PreferredOwners = e.names(g.preferred)
	p.AntiAffinity = slices.Clone(g.props.AntiAffinity)
	return p
}

// resourceInfo is the view of r.
func (e *Engine) resourceInfo(r *resource) failover.ResourceInfo {
	info := failover.ResourceInfo{
		Name:            r.name,
		Group:           r.group,
		State:           r.state,
		Owner:           e.nodeName(e.ownerOf(r)),
		PersistentState: r.persistent,
		Sequence:        r.seq,
		UID:             r.uid,
		Agent:           r.agent.String(),
		Params:          maps.Clone(r.params),
		Dependency:      r.dep.String(),
		PossibleOwners:  e.names(r.possible),
		Locked:          r.locked,
		Restarts:        e.restartCount(r),
		Properties:      r.props,
	}
	if r.last != nil {
		info.LastFailure = e.describeFailure(r.last)
	}
	return info.WithValue()
}

// names returns the names of nodes ids, in the same order.
func (e *Engine) names(ids []NodeID) []string {
	if len(ids) == 0 {
		return nil
	}
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = e.nodeName(id)
	}
	return out
}

// Config returns the whole configuration as the document `hagsrm config
// show` prints: every named node with its fence command, every group and
// resource with its persistent state and properties. Applying it
// unchanged changes nothing.
func (e *Engine) Config() *failover.Config {
	c := &failover.Config{Groups: []failover.GroupConfig{}}
	for _, id := range e.nodeIDs() {
		if n := e.nodes[id]; n.name != "" {
			c.Nodes = append(c.Nodes, failover.NodeConfig{Name: n.name, FenceCommand: n.fence})
		}
	}
	for _, name := range e.groupNames() {
		g := e.groups[name]
		gc := failover.GroupConfig{Name: g.name, PersistentState: g.persistent, GroupProperties: e.groupProps(g)}
		for _, r := range e.groupResources(g) {
			gc.Resources = append(gc.Resources, failover.ResourceConfig{
				Name:               r.name,
				Agent:              r.agent.String(),
				Params:             maps.Clone(r.params),
				PersistentState:    r.persistent,
				PossibleOwners:     e.names(r.possible),
				Depends:            r.dep.String(),
				Locked:             r.locked,
				ResourceProperties: r.props,
			})
		}
		c.Groups = append(c.Groups, gc)
	}
	return c
}

// String names the kind of move.
func (k moveKind) String() string {
	switch k {
	case moveRequest:
		return "move"
	case moveDrain:
		return "drain"
	case moveFailover:
		return "failover"
	}
	return "move-" + itoa(int64(k))
}
