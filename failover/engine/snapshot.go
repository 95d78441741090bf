package engine

import (
	"bytes"
	"errors"
	"fmt"
	"slices"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/internal/wire"
)

// SnapshotVersion is the format of the snapshots Snapshot writes: their
// first byte. Restore refuses any other.
const SnapshotVersion = 1

// ErrSnapshot is wrapped by every error Restore returns: bytes that are
// truncated, corrupted, of another version, or that describe a state the
// engine could never be in.
var ErrSnapshot = errors.New("engine: bad snapshot")

// The snapshot is the whole engine as tables sorted by key (nodes by
// number, groups and resources by name), each record a msgpack array, maps
// written with sorted keys: the same state always gives the same bytes.

type snapState struct {
	_          struct{}       `msgpack:",as_array"`
	Now        int64          `msgpack:"now"`
	Gen        uint64         `msgpack:"gen"`
	LastUID    uint64         `msgpack:"uid"`
	LastAction uint64         `msgpack:"act"`
	LastToken  uint64         `msgpack:"tok"`
	Nodes      []snapNode     `msgpack:"nodes"`
	Groups     []snapGroup    `msgpack:"groups"`
	Resources  []snapResource `msgpack:"res"`
	Strays     []snapStray    `msgpack:"strays"`
}

type snapNode struct {
	_          struct{}           `msgpack:",as_array"`
	ID         NodeID             `msgpack:"id"`
	Name       string             `msgpack:"name"`
	Known      bool               `msgpack:"known"`
	Status     nodeStatus         `msgpack:"status"`
	Paused     bool               `msgpack:"paused"`
	Fence      string             `msgpack:"fence"`
	Departed   Departure          `msgpack:"dep"`
	FenceToken uint64             `msgpack:"ftok"`
	FenceAt    NodeID             `msgpack:"fat"`
	FenceRetry bool               `msgpack:"fretry"`
	FenceNote  string             `msgpack:"fnote"`
	Shown      failover.NodeState `msgpack:"shown"`
}

type snapMove struct {
	_      struct{} `msgpack:",as_array"`
	Kind   moveKind `msgpack:"kind"`
	Target NodeID   `msgpack:"target"`
	Fast   bool     `msgpack:"fast"`
	Passed bool     `msgpack:"passed"`
}

type snapGroup struct {
	_            struct{}                 `msgpack:",as_array"`
	Name         string                   `msgpack:"name"`
	UID          uint64                   `msgpack:"uid"`
	Owner        NodeID                   `msgpack:"owner"`
	Persistent   failover.PersistentState `msgpack:"ps"`
	AntiAffinity []string                 `msgpack:"aa"`
	Threshold    int                      `msgpack:"fth"`
	Period       int64                    `msgpack:"fper"`
	Preferred    []NodeID                 `msgpack:"pref"`
	Resources    []string                 `msgpack:"res"`
	Seq          uint64                   `msgpack:"seq"`
	Shown        failover.GroupState      `msgpack:"shown"`
	ShownOwner   NodeID                   `msgpack:"sowner"`
	Move         *snapMove                `msgpack:"move"`
	Failovers    []int64                  `msgpack:"fo"`
	Waiting      bool                     `msgpack:"wait"`
	WindowToken  uint64                   `msgpack:"wtok"`
	WindowAt     NodeID                   `msgpack:"wat"`
	Note         string                   `msgpack:"note"`
}

type snapProps struct {
	_                struct{} `msgpack:",as_array"`
	MonitorInterval  int64    `msgpack:"mi"`
	MonitorTimeout   int64    `msgpack:"mt"`
	StartTimeout     int64    `msgpack:"st"`
	StopTimeout      int64    `msgpack:"sp"`
	PendingTimeout   int64    `msgpack:"pt"`
	RestartAction    uint8    `msgpack:"ra"`
	RestartThreshold int      `msgpack:"rth"`
	RestartPeriod    int64    `msgpack:"rper"`
	RetryPeriod      int64    `msgpack:"retry"`
	RestartDelay     int64    `msgpack:"rdel"`
}

type snapAction struct {
	_       struct{}      `msgpack:",as_array"`
	ID      uint64        `msgpack:"id"`
	Op      ActionOp      `msgpack:"op"`
	Node    NodeID        `msgpack:"node"`
	Purpose actionPurpose `msgpack:"why"`
	Since   int64         `msgpack:"since"`
}

type snapTimer struct {
	_     struct{}  `msgpack:",as_array"`
	Kind  TimerKind `msgpack:"kind"`
	Token uint64    `msgpack:"tok"`
	Node  NodeID    `msgpack:"node"`
	Due   int64     `msgpack:"due"`
}

type snapFailure struct {
	_       struct{} `msgpack:",as_array"`
	Outcome Outcome  `msgpack:"o"`
	Detail  string   `msgpack:"d"`
	Node    NodeID   `msgpack:"n"`
	At      int64    `msgpack:"at"`
	Start   bool     `msgpack:"start"`
	Stop    bool     `msgpack:"stop"`
	GaveUp  string   `msgpack:"gaveup"`
}

type snapResource struct {
	_           struct{}                 `msgpack:",as_array"`
	Name        string                   `msgpack:"name"`
	Group       string                   `msgpack:"group"`
	UID         uint64                   `msgpack:"uid"`
	Agent       string                   `msgpack:"agent"`
	Params      map[string]string        `msgpack:"params"`
	Props       snapProps                `msgpack:"props"`
	Persistent  failover.PersistentState `msgpack:"ps"`
	Possible    []NodeID                 `msgpack:"poss"`
	Dep         string                   `msgpack:"dep"`
	Locked      bool                     `msgpack:"locked"`
	Override    bool                     `msgpack:"override"`
	State       failover.ResourceState   `msgpack:"state"`
	Seq         uint64                   `msgpack:"seq"`
	Since       int64                    `msgpack:"since"`
	Shown       failover.ResourceState   `msgpack:"shown"`
	ShownOwner  NodeID                   `msgpack:"sowner"`
	Act         *snapAction              `msgpack:"act"`
	Unconfirmed bool                     `msgpack:"unconf"`
	StopFailed  bool                     `msgpack:"stopfail"`
	Restop      bool                     `msgpack:"restop"`
	FailNext    bool                     `msgpack:"failnext"`
	Wait        waitKind                 `msgpack:"wait"`
	Timer       *snapTimer               `msgpack:"timer"`
	Restarts    []int64                  `msgpack:"restarts"`
	Hard        []NodeID                 `msgpack:"hard"`
	Last        *snapFailure             `msgpack:"last"`
}

type snapStray struct {
	_        struct{} `msgpack:",as_array"`
	Resource string   `msgpack:"r"`
	Node     NodeID   `msgpack:"n"`
	Act      uint64   `msgpack:"act"`
	Failed   string   `msgpack:"failed"`
}

// Snapshot writes the engine's whole state: everything Step and the views
// depend on. The same state always gives the same bytes; Restore reads
// them back. The engine is not changed.
func (e *Engine) Snapshot() []byte {
	st := snapState{Now: e.now, Gen: e.gen, LastUID: e.lastUID, LastAction: e.lastAction, LastToken: e.lastToken}
	for _, id := range e.nodeIDs() {
		st.Nodes = append(st.Nodes, writeNode(e.nodes[id]))
	}
	for _, name := range e.groupNames() {
		st.Groups = append(st.Groups, writeGroup(e.groups[name]))
	}
	for _, name := range sortedKeys(e.resources) {
		st.Resources = append(st.Resources, writeResource(e.resources[name]))
	}
	for _, s := range e.strays {
		st.Strays = append(st.Strays, snapStray{Resource: s.resource, Node: s.node, Act: s.act, Failed: s.failed})
	}
	var buf bytes.Buffer
	buf.WriteByte(SnapshotVersion)
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	if err := enc.Encode(&st); err != nil {
		// Every field is a plain value the encoder takes; an error here is
		// a bug, and a snapshot that says so cannot be restored.
		return []byte{0}
	}
	return buf.Bytes()
}

func writeNode(n *node) snapNode {
	return snapNode{ID: n.id, Name: n.name, Known: n.known, Status: n.status, Paused: n.paused, Fence: n.fence,
		Departed: n.departed, FenceToken: n.fenceToken, FenceAt: n.fenceAt, FenceRetry: n.fenceRetry,
		FenceNote: n.fenceNote, Shown: n.shown}
}

func writeGroup(g *group) snapGroup {
	s := snapGroup{Name: g.name, UID: g.uid, Owner: g.owner, Persistent: g.persistent,
		AntiAffinity: g.props.AntiAffinity, Threshold: g.props.FailoverThreshold, Period: int64(g.props.FailoverPeriod),
		Preferred: g.preferred, Resources: g.resources, Seq: g.seq, Shown: g.shown, ShownOwner: g.shownOwner,
		Failovers: g.failovers, Waiting: g.waiting, WindowToken: g.windowToken, WindowAt: g.windowAt, Note: g.note}
	if m := g.move; m != nil {
		s.Move = &snapMove{Kind: m.kind, Target: m.target, Fast: m.fast, Passed: m.passed}
	}
	return s
}

func writeResource(r *resource) snapResource {
	p := r.props
	s := snapResource{Name: r.name, Group: r.group, UID: r.uid, Agent: r.agent.String(), Params: r.params,
		Props: snapProps{MonitorInterval: int64(p.MonitorInterval), MonitorTimeout: int64(p.MonitorTimeout),
			StartTimeout: int64(p.StartTimeout), StopTimeout: int64(p.StopTimeout), PendingTimeout: int64(p.PendingTimeout),
			RestartAction: uint8(p.RestartAction), RestartThreshold: p.RestartThreshold, RestartPeriod: int64(p.RestartPeriod),
			RetryPeriod: int64(p.RetryPeriodOnFailure), RestartDelay: int64(p.RestartDelay)},
		Persistent: r.persistent, Possible: r.possible, Dep: r.dep.String(), Locked: r.locked, Override: r.override,
		State: r.state, Seq: r.seq, Since: r.since, Shown: r.shown, ShownOwner: r.shownOwner,
		Unconfirmed: r.unconfirmed, StopFailed: r.stopFailed, Restop: r.restop, FailNext: r.failNext, Wait: r.wait,
		Restarts: r.restarts, Hard: r.hard}
	if a := r.act; a != nil {
		s.Act = &snapAction{ID: a.id, Op: a.op, Node: a.node, Purpose: a.purpose, Since: a.since}
	}
	if t := r.timer; t != nil {
		s.Timer = &snapTimer{Kind: t.kind, Token: t.token, Node: t.node, Due: t.due}
	}
	if f := r.last; f != nil {
		s.Last = &snapFailure{Outcome: f.outcome, Detail: f.detail, Node: f.node, At: f.at, Start: f.start, Stop: f.stop, GaveUp: f.gaveUp}
	}
	return s
}

// Restore returns the engine a snapshot describes. It refuses (with an
// error wrapping ErrSnapshot) bytes of another version, bytes that are not
// a whole snapshot, and a state the engine could never be in, so that a
// restored engine is as sound as one that stepped its inputs.
func Restore(b []byte) (*Engine, error) {
	if len(b) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrSnapshot)
	}
	if b[0] != SnapshotVersion {
		return nil, fmt.Errorf("%w: version %d, this engine reads version %d", ErrSnapshot, b[0], SnapshotVersion)
	}
	if err := wire.CheckShape(b[1:]); err != nil { // before the decoder allocates what the bytes declare
		return nil, fmt.Errorf("%w: %w", ErrSnapshot, err)
	}
	rd := bytes.NewReader(b[1:])
	var st snapState
	if err := msgpack.NewDecoder(rd).Decode(&st); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSnapshot, err)
	}
	if rd.Len() > 0 {
		return nil, fmt.Errorf("%w: trailing bytes", ErrSnapshot)
	}
	e, err := readState(&st)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSnapshot, err)
	}
	if err := e.check(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSnapshot, err)
	}
	return e, nil
}

// readState builds an engine from decoded tables, checking what only the
// tables show (order, duplicates, parsable text); check judges the rest.
func readState(st *snapState) (*Engine, error) {
	e := New()
	e.now, e.gen, e.lastUID, e.lastAction, e.lastToken = st.Now, st.Gen, st.LastUID, st.LastAction, st.LastToken
	if len(st.Nodes) > MaxNodes {
		return nil, fmt.Errorf("%d nodes, at most %d", len(st.Nodes), MaxNodes)
	}
	for i, s := range st.Nodes {
		if i > 0 && s.ID <= st.Nodes[i-1].ID {
			return nil, fmt.Errorf("nodes out of order at %d", s.ID)
		}
		e.nodes[s.ID] = &node{id: s.ID, name: s.Name, known: s.Known, status: s.Status, paused: s.Paused, fence: s.Fence,
			departed: s.Departed, fenceToken: s.FenceToken, fenceAt: s.FenceAt, fenceRetry: s.FenceRetry,
			fenceNote: s.FenceNote, shown: s.Shown}
	}
	for i, s := range st.Groups {
		if i > 0 && s.Name <= st.Groups[i-1].Name {
			return nil, fmt.Errorf("groups out of order at %q", s.Name)
		}
		g := &group{name: s.Name, uid: s.UID, owner: s.Owner, persistent: s.Persistent,
			props:     failover.GroupProperties{AntiAffinity: s.AntiAffinity, FailoverThreshold: s.Threshold, FailoverPeriod: failover.Duration(s.Period)},
			preferred: s.Preferred, resources: s.Resources, seq: s.Seq, shown: s.Shown, shownOwner: s.ShownOwner,
			failovers: s.Failovers, waiting: s.Waiting, windowToken: s.WindowToken, windowAt: s.WindowAt, note: s.Note}
		if m := s.Move; m != nil {
			g.move = &move{kind: m.Kind, target: m.Target, fast: m.Fast, passed: m.Passed}
		}
		e.groups[s.Name] = g
	}
	for i, s := range st.Resources {
		if i > 0 && s.Name <= st.Resources[i-1].Name {
			return nil, fmt.Errorf("resources out of order at %q", s.Name)
		}
		r, err := readResource(s)
		if err != nil {
			return nil, err
		}
		e.resources[s.Name] = r
	}
	for i, s := range st.Strays {
		x := &stray{resource: s.Resource, node: s.Node, act: s.Act, failed: s.Failed}
		if i > 0 && compareStrays(e.strays[i-1], x) >= 0 {
			return nil, fmt.Errorf("strays out of order at %q", s.Resource)
		}
		e.strays = append(e.strays, x)
	}
	return e, nil
}

func readResource(s snapResource) (*resource, error) {
	agent, err := failover.ParseAgent(s.Agent)
	if err != nil {
		return nil, fmt.Errorf("resource %q: %w", s.Name, err)
	}
	dep, err := failover.ParseDependency(s.Dep)
	if err != nil {
		return nil, fmt.Errorf("resource %q: %w", s.Name, err)
	}
	p := s.Props
	r := &resource{name: s.Name, group: s.Group, uid: s.UID, agent: agent, params: s.Params,
		props: failover.ResourceProperties{MonitorInterval: failover.Duration(p.MonitorInterval), MonitorTimeout: failover.Duration(p.MonitorTimeout),
			StartTimeout: failover.Duration(p.StartTimeout), StopTimeout: failover.Duration(p.StopTimeout),
			PendingTimeout: failover.Duration(p.PendingTimeout), RestartAction: failover.RestartAction(p.RestartAction),
			RestartThreshold: p.RestartThreshold, RestartPeriod: failover.Duration(p.RestartPeriod),
			RetryPeriodOnFailure: failover.Duration(p.RetryPeriod), RestartDelay: failover.Duration(p.RestartDelay)},
		persistent: s.Persistent, possible: s.Possible, dep: dep, locked: s.Locked, override: s.Override,
		state: s.State, seq: s.Seq, since: s.Since, shown: s.Shown, shownOwner: s.ShownOwner,
		unconfirmed: s.Unconfirmed, stopFailed: s.StopFailed, restop: s.Restop, failNext: s.FailNext, wait: s.Wait,
		restarts: s.Restarts, hard: s.Hard}
	if len(r.params) == 0 {
		r.params = nil
	}
	if a := s.Act; a != nil {
		r.act = &action{id: a.ID, op: a.Op, node: a.Node, purpose: a.Purpose, since: a.Since}
	}
	if t := s.Timer; t != nil {
		r.timer = &timer{kind: t.Kind, token: t.Token, node: t.Node, due: t.Due}
	}
	if f := s.Last; f != nil {
		r.last = &failure{outcome: f.Outcome, detail: f.Detail, node: f.Node, at: f.At, start: f.Start, stop: f.Stop, gaveUp: f.GaveUp}
	}
	return r, nil
}

// check verifies the engine's invariants: every reference resolves,
// every value is one the engine could hold, counters are ahead of what
// they numbered, dependency graphs are sound. Restore calls it; the tests
// call it after every step.
func (e *Engine) check() error {
	if err := e.checkNodes(); err != nil {
		return err
	}
	for _, name := range e.groupNames() {
		if err := e.checkGroup(e.groups[name]); err != nil {
			return err
		}
	}
	for _, name := range sortedKeys(e.resources) {
		if err := e.checkResource(e.resources[name]); err != nil {
			return err
		}
	}
	for _, s := range e.strays {
		if e.resources[s.resource] == nil || e.nodes[s.node] == nil || s.act > e.lastAction {
			return fmt.Errorf("stray %q on %d refers to nothing", s.resource, s.node)
		}
	}
	return nil
}

func (e *Engine) checkNodes() error {
	names := map[string]bool{}
	for _, id := range e.nodeIDs() {
		n := e.nodes[id]
		switch {
		case id <= 0 || n.id != id:
			return fmt.Errorf("node number %d", id)
		case n.name != "" && (failover.CheckName(n.name) != nil || names[n.name]):
			return fmt.Errorf("node %d: bad or repeated name %q", id, n.name)
		case n.status > statusUp || n.departed > DepartNode || !n.shown.Valid() || n.shown == failover.NodeStateUnknown:
			return fmt.Errorf("node %d: bad status", id)
		case n.status != statusDown && !n.known:
			return fmt.Errorf("node %d is a member but not known", id)
		case n.fenceAt != 0 && e.nodes[n.fenceAt] == nil, n.fenceToken > e.lastToken:
			return fmt.Errorf("node %d: bad fence state", id)
		case checkFenceCommand(n.fence) != nil:
			return fmt.Errorf("node %d: bad fence command", id)
		}
		names[n.name] = n.name != ""
	}
	return nil
}

func (e *Engine) checkGroup(g *group) error {
	bad := func(what string) error { return fmt.Errorf("group %q: %s", g.name, what) }
	switch {
	case failover.CheckName(g.name) != nil:
		return bad("bad name")
	case g.uid == 0 || g.uid > e.lastUID:
		return bad("bad uid")
	case e.nodes[g.owner] == nil:
		return bad("owner is no node")
	case g.persistent > failover.PersistentOnline || !g.shown.Valid():
		return bad("bad state")
	case g.shownOwner != 0 && e.nodes[g.shownOwner] == nil:
		return bad("bad shown owner")
	case g.windowToken > e.lastToken || g.windowAt != 0 && e.nodes[g.windowAt] == nil:
		return bad("bad window timer")
	}
	if g.props.Check() != nil {
		return bad("bad properties")
	}
	for i, id := range g.preferred {
		if e.nodes[id] == nil || slices.Contains(g.preferred[:i], id) {
			return bad("bad preferred owners")
		}
	}
	if !slices.IsSorted(g.resources) || len(slices.Compact(slices.Clone(g.resources))) != len(g.resources) {
		return bad("resources out of order")
	}
	deps := map[string]failover.Dependency{}
	for _, name := range g.resources {
		r := e.resources[name]
		if r == nil || r.group != g.name {
			return bad("lists resource " + name + " of another group")
		}
		deps[name] = r.dep
	}
	if err := checkGraph(deps); err != nil {
		return bad(err.Error())
	}
	if m := g.move; m != nil {
		if m.kind < moveRequest || m.kind > moveFailover || m.target != 0 && e.nodes[m.target] == nil {
			return bad("bad move")
		}
	}
	return nil
}

func (e *Engine) checkResource(r *resource) error {
	bad := func(what string) error { return fmt.Errorf("resource %q: %s", r.name, what) }
	g := e.groups[r.group]
	switch {
	case failover.CheckName(r.name) != nil:
		return bad("bad name")
	case g == nil || !slices.Contains(g.resources, r.name):
		return bad("its group does not list it")
	case r.uid == 0 || r.uid > e.lastUID:
		return bad("bad uid")
	case checkParams(r.params) != nil, r.props.Check() != nil:
		return bad("bad parameters or properties")
	case r.persistent > failover.PersistentOnline:
		return bad("bad persistent state")
	case !r.state.Valid() || r.state == failover.ResourceStateUnknown || !r.shown.Valid():
		return bad("bad state")
	case r.wait > waitFatal:
		return bad("bad wait")
	case r.restop && !r.stopFailed:
		return bad("stopped again but not stop-failed")
	case !sortedNodes(e, r.possible) || !sortedNodes(e, r.hard):
		return bad("bad node list")
	}
	if a := r.act; a != nil {
		if a.id == 0 || a.id > e.lastAction || a.op < ActStart || a.op > ActStop || a.purpose < purposeStart || a.purpose > purposeCleanup || e.nodes[a.node] == nil {
			return bad("bad action")
		}
	}
	if t := r.timer; t != nil {
		if t.kind != TimerRestart && t.kind != TimerRetry || t.token == 0 || t.token > e.lastToken || e.nodes[t.node] == nil {
			return bad("bad timer")
		}
	}
	if f := r.last; f != nil && f.outcome > OutcomeFatal {
		return bad("bad failure")
	}
	return nil
}

// sortedNodes reports whether ids is sorted, without repeats, and names
// nodes.
func sortedNodes(e *Engine, ids []NodeID) bool {
	for i, id := range ids {
		if e.nodes[id] == nil || i > 0 && ids[i-1] >= id {
			return false
		}
	}
	return true
}
