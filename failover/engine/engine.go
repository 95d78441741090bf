package engine

import (
	"cmp"
	"slices"
	"strconv"
	"time"

	"github.com/openhags/hags/failover"
)

// LeaseTimeout is how long a manager may run its resources after its last
// lease renewal was approved (docs/design/failover.md, "At most one node
// runs a group"); the self-fencing window is derived from it.
const LeaseTimeout = 1500 * time.Millisecond

// FenceRetryDelay is how long the engine waits before running a failed
// fence command again.
const FenceRetryDelay = 5 * time.Second

// execKillBudget is the part of the self-fencing window that a group of
// exec resources needs to be killed.
const execKillBudget = 250 * time.Millisecond

// MaxDependencyDepth bounds the longest chain of dependencies in a group,
// counted in links.
const MaxDependencyDepth = 100

// MaxNodes bounds the nodes the engine keeps (known and named).
const MaxNodes = 1024

// MaxFenceCommand bounds a fence command's length, in bytes.
const MaxFenceCommand = 4096

// Engine is the failover manager's state machine: the cluster's
// configuration, every group's owner and every resource's state, and the
// rules that change them. Create it with New (or Restore) and feed it
// agreed inputs with Step. An Engine is not safe for concurrent use; its
// owner (the manager's run loop) serialises every call, views included.
type Engine struct {
	now        int64
	gen        uint64
	lastUID    uint64
	lastAction uint64
	lastToken  uint64
	nodes      map[NodeID]*node
	groups     map[string]*group
	resources  map[string]*resource
	strays     []*stray // sorted by resource, then node

	st stepState
}

// stepState is the scratch space of one Step; it is never in a snapshot.
type stepState struct {
	out     []Output
	reply   *Reply
	replyTo NodeID
	actions int // actions emitted in this step
	// touched lists, in the order first touched, the objects whose state
	// or owner may have changed; Step reports the ones that did.
	touched    []objKey
	touchedSet map[objKey]bool
	// dirty are the groups to reconcile; all: every group.
	dirty map[string]bool
	all   bool
}

// objKey names a node, group or resource for change tracking.
type objKey struct {
	kind failover.ChangeKind
	name string
	id   NodeID
}

// New returns an engine with no nodes, groups or resources.
func New() *Engine {
	return &Engine{
		nodes:     make(map[NodeID]*node),
		groups:    make(map[string]*group),
		resources: make(map[string]*resource),
	}
}

// Gen returns how many inputs the engine has stepped, ignored ones
// included: two engines with the same generation of one history hold the
// same state.
func (e *Engine) Gen() uint64 { return e.gen }

// Step applies one agreed input and returns what the managers must do, in
// order: actions, timers and fence commands as they were decided, then one
// Change per node, group and resource whose state (or owner) changed, then
// the reply to a request. It is deterministic and never panics: an input
// that makes no sense (a result nobody waits for, a request from a node that
// is not up, a malformed request) is answered or ignored and changes
// nothing. The returned outputs are the caller's; the engine keeps no
// reference to them or to the input.
func (e *Engine) Step(in Input) []Output {
	e.gen++
	e.st = stepState{touchedSet: map[objKey]bool{}, dirty: map[string]bool{}}
	if in.Time > e.now {
		e.now = in.Time
	}
	e.dispatch(in)
	e.reconcile()
	e.reportChanges()
	out := e.st.out
	if e.st.reply != nil {
		out = append(out, Output{Kind: OutReply, Node: e.st.replyTo, Reply: e.st.reply})
	}
	e.st = stepState{}
	return out
}

// dispatch hands the input to the code for its kind.
func (e *Engine) dispatch(in Input) {
	switch in.Kind {
	case InNodeJoining:
		e.nodeJoining(in.From)
	case InNodeUp:
		if in.Up != nil {
			e.nodeUp(in.From, in.Up)
		}
	case InNodeDown:
		if in.Down != nil {
			e.nodeDown(in.Down.Node, in.Down.Why)
		}
	case InRequest:
		if in.Request != nil {
			e.request(in.From, in.Request)
		}
	case InResult:
		if in.Result != nil {
			e.result(in.From, in.Result)
		}
	case InFailure:
		if in.Failure != nil {
			e.failureInput(in.From, in.Failure)
		}
	case InTimer:
		if in.Timer != nil {
			e.timerFired(in.From, in.Timer)
		}
	case InFence:
		if in.Fence != nil {
			e.fenceDone(in.From, in.Fence)
		}
	case InDomain:
		e.domain(in.Domain)
	case InReset:
		e.reset()
	}
}

// Outputs.

func (e *Engine) emit(o Output) { e.st.out = append(e.st.out, o) }

// answer sets the reply to the step's request.
func (e *Engine) answer(to NodeID, id uint64, code failover.Code, msg string) {
	e.st.replyTo = to
	e.st.reply = &Reply{ID: id, Code: code, Message: msg}
}

func (e *Engine) newToken() uint64 { e.lastToken++; return e.lastToken }

func (e *Engine) newUID() uint64 { e.lastUID++; return e.lastUID }

// setTimer asks node n for a timer and returns its record.
func (e *Engine) setTimer(n NodeID, kind TimerKind, key string, after time.Duration, departed NodeID) uint64 {
	tok := e.newToken()
	after = max(after, 0)
	e.emit(Output{Kind: OutTimer, Node: n, Timer: &Timer{Kind: kind, Key: key, Token: tok, After: after, Departed: departed}})
	return tok
}

// Change tracking. Every change of a resource's state, a group's owner or
// a node's status goes through the functions below, which note the object
// (and the group a resource belongs to); at the end of the step each noted
// object whose reported state differs from the last one reported gets its
// sequence number increased and one Change. A state that changes and
// changes back within a step is no change.

func (e *Engine) touch(k objKey) {
	if !e.st.touchedSet[k] {
		e.st.touchedSet[k] = true
		e.st.touched = append(e.st.touched, k)
	}
}

// markGroup notes that g's computed state or owner may have changed and
// that g must be reconciled.
func (e *Engine) markGroup(g *group) {
	e.touch(objKey{kind: failover.ChangeGroup, name: g.name})
	e.st.dirty[g.name] = true
}

// markResource notes that r's state may have changed.
func (e *Engine) markResource(r *resource) {
	e.touch(objKey{kind: failover.ChangeResource, name: r.name})
	if g := e.groups[r.group]; g != nil {
		e.markGroup(g)
	}
}

// setState changes r's current state.
func (e *Engine) setState(r *resource, s failover.ResourceState) {
	if r.state == s {
		return
	}
	r.state = s
	r.since = e.now
	e.markResource(r)
}

// setOwner changes g's owner; its resources' owner changes with it.
func (e *Engine) setOwner(g *group, n NodeID) {
	if g.owner == n {
		return
	}
	g.owner = n
	e.markGroup(g)
	for _, name := range g.resources {
		if r := e.resources[name]; r != nil {
			e.markResource(r)
		}
	}
}

// setStatus changes a node's status.
func (e *Engine) setStatus(n *node, s nodeStatus) {
	if n.status == s {
		return
	}
	n.status = s
	e.touch(objKey{kind: failover.ChangeNode, id: n.id})
	e.st.all = true
}

// setPaused changes a node's pause flag.
func (e *Engine) setPaused(n *node, p bool) {
	if n.paused == p {
		return
	}
	n.paused = p
	e.touch(objKey{kind: failover.ChangeNode, id: n.id})
	e.st.all = true
}

// reportChanges emits the Changes of the step, in the order the objects
// were first touched.
func (e *Engine) reportChanges() {
	for _, k := range e.st.touched {
		switch k.kind {
		case failover.ChangeNode:
			if n := e.nodes[k.id]; n != nil && n.state() != n.shown {
				n.shown = n.state()
				info := e.nodeInfo(n)
				e.emit(Output{Kind: OutChange, Change: &failover.Change{Kind: failover.ChangeNode, Node: &info}})
			}
		case failover.ChangeGroup:
			if g := e.groups[k.name]; g != nil {
				if s := e.groupState(g); s != g.shown || g.owner != g.shownOwner || g.seq == 0 {
					g.shown, g.shownOwner = s, g.owner
					g.seq++
					info := e.groupInfo(g)
					e.emit(Output{Kind: OutChange, Change: &failover.Change{Kind: failover.ChangeGroup, Group: &info}})
				}
			}
		case failover.ChangeResource:
			if r := e.resources[k.name]; r != nil {
				owner := e.ownerOf(r)
				if r.state != r.shown || owner != r.shownOwner || r.seq == 0 {
					r.shown, r.shownOwner = r.state, owner
					r.seq++
					info := e.resourceInfo(r)
					e.emit(Output{Kind: OutChange, Change: &failover.Change{Kind: failover.ChangeResource, Resource: &info}})
				}
			}
		}
	}
}

// reportDeleted emits the Change of a deleted group or resource at once:
// it is gone by the end of the step.
func (e *Engine) reportDeleted(c failover.Change) {
	c.Deleted = true
	e.emit(Output{Kind: OutChange, Change: &c})
}

// ownerOf returns the owner of r's group (0 if it has none).
func (e *Engine) ownerOf(r *resource) NodeID {
	if g := e.groups[r.group]; g != nil {
		return g.owner
	}
	return 0
}

// groupState computes g's state from its resources' (contract §3): any
// Failed → Failed; else any pending → Pending; else all top-level resources
// Online → Online, some → PartialOnline; else Offline.
func (e *Engine) groupState(g *group) failover.GroupState {
	failed, pending := false, false
	provider := map[string]bool{}
	for _, name := range g.resources {
		r := e.resources[name]
		if r == nil {
			continue
		}
		switch {
		case r.state == failover.ResourceFailed:
			failed = true
		case r.state.Pending():
			pending = true
		}
		for _, p := range r.dep.Providers() {
			provider[p] = true
		}
	}
	switch {
	case failed:
		return failover.GroupFailed
	case pending:
		return failover.GroupPending
	}
	top, online := 0, 0
	for _, name := range g.resources {
		if r := e.resources[name]; r != nil && !provider[name] {
			top++
			if r.state == failover.ResourceOnline {
				online++
			}
		}
	}
	switch {
	case top > 0 && online == top:
		return failover.GroupOnline
	case online > 0:
		return failover.GroupPartialOnline
	}
	return failover.GroupOffline
}

// Nodes.

// state returns the node's state as the contract names it.
func (n *node) state() failover.NodeState {
	switch n.status {
	case statusUp:
		if n.paused {
			return failover.NodePaused
		}
		return failover.NodeUp
	case statusJoining:
		return failover.NodeJoining
	}
	return failover.NodeDown
}

// alive reports whether n's manager may own groups and carry outputs.
func (e *Engine) alive(id NodeID) bool {
	n := e.nodes[id]
	return n != nil && n.status == statusUp
}

// nodeName returns the name of node id; a node nobody named yet is shown
// as "[id]", which no real name can be (names hold no brackets).
func (e *Engine) nodeName(id NodeID) string {
	if n := e.nodes[id]; n != nil && n.name != "" {
		return n.name
	}
	if id == 0 {
		return ""
	}
	return "[" + itoa(int64(id)) + "]"
}

// nodeByName finds a node by the name nodeName shows.
func (e *Engine) nodeByName(name string) *node {
	for _, id := range e.nodeIDs() {
		if e.nodeName(id) == name {
			return e.nodes[id]
		}
	}
	return nil
}

// nodeIDs returns every node's ID in order.
func (e *Engine) nodeIDs() []NodeID {
	ids := make([]NodeID, 0, len(e.nodes))
	for id := range e.nodes {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// Coordinator returns the lowest-numbered node that is Up (paused or not):
// the node that runs fence commands and self-fencing-window timers.
func (e *Engine) Coordinator() (NodeID, bool) {
	for _, id := range e.nodeIDs() {
		if e.alive(id) {
			return id, true
		}
	}
	return 0, false
}

// Quorum reports whether the managers of a majority of the known nodes
// are members (Joining, Up or Paused).
func (e *Engine) Quorum() bool {
	known, members := 0, 0
	for _, n := range e.nodes {
		if n.known {
			known++
			if n.status != statusDown {
				members++
			}
		}
	}
	return known > 0 && members >= known/2+1
}

// Sorting helpers.

func (e *Engine) groupNames() []string { return sortedKeys(e.groups) }

// groupResources returns g's resources in name order.
func (e *Engine) groupResources(g *group) []*resource {
	out := make([]*resource, 0, len(g.resources))
	for _, name := range g.resources {
		if r := e.resources[name]; r != nil {
			out = append(out, r)
		}
	}
	return out
}

func itoa(v int64) string { return strconv.FormatInt(v, 10) }

func compareNames(a, b string) int { return cmp.Compare(a, b) }
