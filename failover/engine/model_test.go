package engine

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/openhags/hags/failover"
)

// A naive reference model of the engine, written apart from it, for a
// subset of the inputs: three nodes that stay up (and may be paused),
// resources that never restart (restart-action dont-restart, no retry
// period), soft failures, stops that succeed. It keeps plain maps, and
// after every input it drives every group by applying its rules in any
// order until none applies (a fixpoint), instead of the engine's ordered
// passes. TestModel steps both with the same random inputs and compares
// every reply code, every resource's state, persistent state and
// pending action, and every group's state and owner.

type mRes struct {
	name, group string
	uid         uint64
	state       failover.ResourceState
	online      bool // persistent state
	sets        [][]string
	act         ActionOp // 0: none
	cleanup     bool     // act is the stop after a failure
	failNext    bool
	gaveUp      bool // Failed, waiting for cleanup or an online request
}

type mGroup struct {
	name    string
	uid     uint64
	owner   NodeID
	online  bool
	moving  bool
	target  NodeID
	passed  bool
	members []string
}

type model struct {
	res    map[string]*mRes
	groups map[string]*mGroup
	paused map[NodeID]bool
	uid    uint64
}

func newModel() *model {
	return &model{res: map[string]*mRes{}, groups: map[string]*mGroup{}, paused: map[NodeID]bool{}}
}

const modelNodes = 3

func modelNode(name string) NodeID {
	for i := 1; i <= modelNodes; i++ {
		if simNodeName(NodeID(i)) == name {
			return NodeID(i)
		}
	}
	return 0
}

func (m *model) members(g *mGroup) []*mRes {
	var out []*mRes
	for _, name := range g.members {
		out = append(out, m.res[name])
	}
	return out
}

func (m *model) groupState(g *mGroup) failover.GroupState {
	used := map[string]bool{}
	anyFailed, anyPending := false, false
	for _, r := range m.members(g) {
		anyFailed = anyFailed || r.state == failover.ResourceFailed
		anyPending = anyPending || r.state.Pending()
		for _, s := range r.sets {
			for _, p := range s {
				used[p] = true
			}
		}
	}
	if anyFailed {
		return failover.GroupFailed
	}
	if anyPending {
		return failover.GroupPending
	}
	top, on := 0, 0
	for _, r := range m.members(g) {
		if !used[r.name] {
			top++
			if r.state == failover.ResourceOnline {
				on++
			}
		}
	}
	if top > 0 && on == top {
		return failover.GroupOnline
	}
	if on > 0 {
		return failover.GroupPartialOnline
	}
	return failover.GroupOffline
}

// running: what may run on the owner.
func (r *mRes) running() bool {
	return r.act != 0 || r.state == failover.ResourceOnline || r.state == failover.ResourceOfflinePending
}

func (m *model) dependents(r *mRes) []*mRes {
	var out []*mRes
	for _, d := range m.members(m.groups[r.group]) {
		for _, s := range d.sets {
			if slices.Contains(s, r.name) {
				out = append(out, d)
				break
			}
		}
	}
	return out
}

// stays: r runs and should go on running, and so should a member of each
// of its sets.
func (m *model) stays(r *mRes) bool {
	g := m.groups[r.group]
	if r.state != failover.ResourceOnline && r.state != failover.ResourceOfflinePending {
		return false
	}
	if r.act == ActStop || g.moving && !g.passed || !r.online {
		return false
	}
	for _, s := range r.sets {
		ok := false
		for _, p := range s {
			ok = ok || m.stays(m.res[p])
		}
		if !ok {
			return false
		}
	}
	return true
}

func (m *model) setHas(r *mRes, f func(p *mRes) bool) bool {
	for _, s := range r.sets {
		ok := false
		for _, p := range s {
			ok = ok || f(m.res[p])
		}
		if !ok {
			return false
		}
	}
	return true
}

// drive applies the rules to g until none applies.
func (m *model) drive(g *mGroup) {
	for changed := true; changed; {
		changed = false
		if g.moving && !g.passed && m.paused[g.target] {
			g.moving = false // a move to a node paused since is given up
		}
		stopAll := g.moving && !g.passed
		for _, r := range m.members(g) {
			if r.act != 0 {
				continue
			}
			up := r.state == failover.ResourceOnline || r.state == failover.ResourceOfflinePending
			switch {
			case up && !m.stays(r):
				held := false
				for _, d := range m.dependents(r) {
					if !d.running() {
						continue
					}
					for _, s := range d.sets {
						if !slices.Contains(s, r.name) {
							continue
						}
						other := false
						for _, p := range s {
							other = other || p != r.name && m.stays(m.res[p])
						}
						held = held || !other
					}
				}
				if held {
					if r.state != failover.ResourceOfflinePending {
						r.state, changed = failover.ResourceOfflinePending, true
					}
				} else {
					r.act, r.state, changed = ActStop, failover.ResourceOfflinePending, true
				}
			case r.state == failover.ResourceOfflinePending && m.stays(r):
				r.state, changed = failover.ResourceOnline, true
			case r.state == failover.ResourceOffline || r.state == failover.ResourceOnlinePending ||
				r.state == failover.ResourceFailed && !r.gaveUp:
				want := !stopAll && !m.paused[g.owner] && r.online
				// A provider counts when it is online and stays so: one
				// about to be stopped is no provider to start on.
				online := func(p *mRes) bool { return p.state == failover.ResourceOnline && m.stays(p) }
				coming := func(p *mRes) bool { return online(p) || p.state == failover.ResourceOnlinePending }
				switch {
				case want && m.setHas(r, online):
					r.act, r.state, changed = ActStart, failover.ResourceOnlinePending, true
				case want && m.setHas(r, coming):
					if r.state != failover.ResourceOnlinePending {
						r.state, changed = failover.ResourceOnlinePending, true
					}
				case r.state == failover.ResourceOnlinePending:
					r.state, changed = failover.ResourceOffline, true
				}
			}
		}
		if stopAll {
			quiet := true
			for _, r := range m.members(g) {
				quiet = quiet && !r.running() && (r.state == failover.ResourceOffline || r.state == failover.ResourceFailed)
			}
			if quiet {
				for _, r := range m.members(g) {
					r.state, r.gaveUp, r.failNext = failover.ResourceOffline, false, false
				}
				g.owner, g.passed, changed = g.target, true, true
			}
		}
		if !changed && g.moving && g.passed {
			// Only once the new owner has acted on everything.
			pending := false
			for _, r := range m.members(g) {
				pending = pending || r.state.Pending() || r.act != 0
			}
			if !pending {
				g.moving, changed = false, true
			}
		}
	}
}

func (m *model) driveAll() {
	for _, name := range sortedKeys(m.groups) {
		m.drive(m.groups[name])
	}
}

// fail: r failed while it ran; it is stopped before anything else.
func (m *model) fail(r *mRes) {
	r.state, r.act, r.cleanup, r.failNext, r.gaveUp = failover.ResourceFailed, ActStop, true, false, false
}

// recoverRes: a Failed resource that no longer runs waits (it never
// restarts) if it should be online and its group stays.
func (m *model) recoverRes(r *mRes) {
	g := m.groups[r.group]
	r.gaveUp = r.online && !g.moving
}

// result: the action on r ended.
func (m *model) result(r *mRes, ok bool) {
	act, cleanup := r.act, r.cleanup
	r.act, r.cleanup = 0, false
	switch {
	case act == ActStart && ok && !r.failNext:
		r.state = failover.ResourceOnline
	case act == ActStart:
		m.fail(r)
	case cleanup:
		m.recoverRes(r)
	case r.failNext:
		r.failNext = false
		r.state = failover.ResourceFailed
		m.recoverRes(r)
	default:
		r.state = failover.ResourceOffline
	}
	m.driveAll()
}

// failure: r failed while it ran.
func (m *model) failure(r *mRes) {
	if r.act != 0 || r.state != failover.ResourceOnline && r.state != failover.ResourceOfflinePending {
		return
	}
	m.fail(r)
	m.driveAll()
}

// request answers an operator's request.
func (m *model) request(from NodeID, q *Request) failover.Code {
	c := m.handle(from, q)
	m.driveAll()
	return c
}

func (m *model) handle(from NodeID, q *Request) failover.Code {
	res := func() (*mRes, failover.Code) {
		if failover.CheckName(q.Resource) != nil {
			return nil, failover.CodeInvalidName
		}
		if r := m.res[q.Resource]; r != nil {
			return r, 0
		}
		return nil, failover.CodeResourceNotFound
	}
	grp := func() (*mGroup, failover.Code) {
		if failover.CheckName(q.Group) != nil {
			return nil, failover.CodeInvalidName
		}
		if g := m.groups[q.Group]; g != nil {
			return g, 0
		}
		return nil, failover.CodeGroupNotFound
	}
	switch q.Op {
	case OpCreateGroup:
		if failover.CheckName(q.Group) != nil {
			return failover.CodeInvalidName
		}
		if m.groups[q.Group] != nil {
			return failover.CodeObjectAlreadyExists
		}
		m.uid++
		m.groups[q.Group] = &mGroup{name: q.Group, uid: m.uid, owner: from}
	case OpCreateResource:
		if failover.CheckName(q.Resource) != nil {
			return failover.CodeInvalidName
		}
		g, c := grp()
		if g == nil {
			return c
		}
		if m.res[q.Resource] != nil {
			return failover.CodeObjectAlreadyExists
		}
		m.uid++
		m.res[q.Resource] = &mRes{name: q.Resource, group: g.name, uid: m.uid, state: failover.ResourceOffline}
		g.members = append(g.members, q.Resource)
		sort.Strings(g.members)
	case OpDeleteResource:
		r, c := res()
		if r == nil {
			return c
		}
		if len(m.dependents(r)) > 0 {
			return failover.CodeDependentResourceExists
		}
		if r.state == failover.ResourceOnline && r.act == 0 {
			return failover.CodeResourceOnline
		}
		if r.running() || r.state.Pending() {
			return failover.CodeInvalidState
		}
		g := m.groups[r.group]
		g.members = slices.DeleteFunc(g.members, func(n string) bool { return n == r.name })
		delete(m.res, r.name)
	case OpDeleteGroup:
		g, c := grp()
		if g == nil {
			return c
		}
		if g.moving {
			return failover.CodeInvalidState
		}
		for _, r := range m.members(g) {
			if r.running() || r.state.Pending() {
				return failover.CodeInvalidState
			}
		}
		for _, r := range m.members(g) {
			delete(m.res, r.name)
		}
		delete(m.groups, g.name)
	case OpSetDependency:
		r, c := res()
		if r == nil {
			return c
		}
		d, err := failover.ParseDependency(q.Expr)
		if err != nil {
			code, _ := failover.CodeOf(err)
			return code
		}
		for _, p := range d.Providers() {
			if pr := m.res[p]; pr == nil || pr.group != r.group {
				return failover.CodeDependencyNotFound
			}
		}
		if m.reaches(d.Providers(), r.name) {
			return failover.CodeCircularDependency
		}
		r.sets = d.Sets
	case OpOnlineResource:
		return m.online(q)
	case OpOfflineResource:
		return m.offline(q)
	case OpFailResource:
		r, c := res()
		if r == nil {
			return c
		}
		switch {
		case r.state != failover.ResourceOnline && !r.state.Pending():
			return failover.CodeInvalidState
		case r.act != 0:
			r.failNext = true
		case r.state == failover.ResourceOnlinePending:
			r.state = failover.ResourceFailed
			m.recoverRes(r)
		default:
			m.fail(r)
		}
	case OpOnlineGroup, OpOfflineGroup:
		g, c := grp()
		if g == nil {
			return c
		}
		if m.groupState(g) == failover.GroupPending {
			return failover.CodeInvalidState
		}
		on := q.Op == OpOnlineGroup
		if on && m.paused[g.owner] {
			return failover.CodeSharingPaused
		}
		if on && g.moving {
			return failover.CodeClusterGroupMoving
		}
		g.online = on
		for _, r := range m.members(g) {
			r.online = on
			if on && r.state == failover.ResourceFailed && r.gaveUp {
				r.gaveUp = false
			}
		}
		m.driveAll()
		for _, r := range m.members(g) {
			if r.state.Pending() || r.act != 0 {
				return failover.CodeIOPending
			}
		}
	case OpMoveGroup:
		return m.move(q)
	case OpPauseNode, OpResumeNode:
		n := modelNode(q.Node)
		switch {
		case n == 0:
			return failover.CodeClusterNodeNotFound
		case q.Op == OpPauseNode:
			m.paused[n] = true
		case !m.paused[n]:
			return failover.CodeClusterNodeNotPaused
		default:
			m.paused[n] = false
		}
	case OpCleanupResource:
		r, c := res()
		if r == nil {
			return c
		}
		if r.act != 0 {
			return 0
		}
		if r.state == failover.ResourceFailed {
			r.gaveUp = false
		}
		m.driveAll()
		if r.state.Pending() || r.act != 0 {
			return failover.CodeIOPending
		}
	default:
		panic(fmt.Sprintf("the model has no operation %d", q.Op))
	}
	return failover.CodeSuccess
}

// reaches reports whether target is among names or their providers.
func (m *model) reaches(names []string, target string) bool {
	for _, n := range names {
		if n == target {
			return true
		}
		if p := m.res[n]; p != nil {
			var provs []string
			for _, s := range p.sets {
				provs = append(provs, s...)
			}
			if m.reaches(provs, target) {
				return true
			}
		}
	}
	return false
}

func (m *model) online(q *Request) failover.Code {
	r := m.res[q.Resource]
	if failover.CheckName(q.Resource) != nil {
		return failover.CodeInvalidName
	}
	if r == nil {
		return failover.CodeResourceNotFound
	}
	switch r.state {
	case failover.ResourceOnline, failover.ResourceOffline, failover.ResourceFailed:
	default:
		return failover.CodeInvalidState
	}
	if r.act != 0 {
		return failover.CodeInvalidState
	}
	g := m.groups[r.group]
	if m.paused[g.owner] {
		return failover.CodeSharingPaused
	}
	if g.moving {
		return failover.CodeClusterGroupMoving
	}
	r.online = true
	if r.state == failover.ResourceOnline {
		return failover.CodeSuccess
	}
	// The providers to bring up: for each set, a member online or coming,
	// else one that can come (one whose persistent state is online
	// first), in the order written.
	var plan []*mRes
	seen := map[string]bool{r.name: true}
	var can func(p *mRes, visiting map[string]bool) bool
	can = func(p *mRes, visiting map[string]bool) bool {
		if p.state == failover.ResourceOnline || p.state == failover.ResourceOnlinePending {
			return true
		}
		if visiting[p.name] || p.state == failover.ResourceFailed && p.gaveUp || p.act == ActStop {
			return false
		}
		visiting[p.name] = true
		defer delete(visiting, p.name)
		for _, s := range p.sets {
			ok := false
			for _, x := range s {
				ok = ok || can(m.res[x], visiting)
			}
			if !ok {
				return false
			}
		}
		return true
	}
	var walk func(x *mRes) bool
	walk = func(x *mRes) bool {
		for _, s := range x.sets {
			var chosen *mRes
			for _, name := range s {
				p := m.res[name]
				if p.state == failover.ResourceOnline || p.state == failover.ResourceOnlinePending {
					chosen = p
					break
				}
				if can(p, map[string]bool{}) && (chosen == nil || !chosen.online && p.online) {
					chosen = p
				}
			}
			if chosen == nil {
				return false
			}
			if seen[chosen.name] || chosen.state == failover.ResourceOnline || chosen.state == failover.ResourceOnlinePending {
				continue
			}
			seen[chosen.name] = true
			plan = append(plan, chosen)
			if !walk(chosen) {
				return false
			}
		}
		return true
	}
	if !walk(r) {
		return failover.CodeClusterResourceProviderFailed
	}
	for _, p := range append(plan, r) {
		p.online = true
		if p.state == failover.ResourceFailed {
			p.gaveUp = false
		}
	}
	m.driveAll()
	switch {
	case r.state.Pending():
		return failover.CodeIOPending
	case r.state == failover.ResourceOnline:
		return failover.CodeSuccess
	}
	return failover.CodeResourceFailed
}

func (m *model) offline(q *Request) failover.Code {
	if failover.CheckName(q.Resource) != nil {
		return failover.CodeInvalidName
	}
	r := m.res[q.Resource]
	if r == nil {
		return failover.CodeResourceNotFound
	}
	switch r.state {
	case failover.ResourceOnline, failover.ResourceOffline, failover.ResourceFailed:
	default:
		return failover.CodeInvalidState
	}
	if r.act != 0 {
		return failover.CodeInvalidState
	}
	// r and, transitively, the dependents that cannot stay online without
	// what goes offline.
	off := map[string]bool{r.name: true}
	for grew := true; grew; {
		grew = false
		for _, d := range m.members(m.groups[r.group]) {
			if off[d.name] {
				continue
			}
			for _, s := range d.sets {
				touches, other := false, false
				for _, p := range s {
					touches = touches || off[p]
					other = other || !off[p] && m.res[p].state == failover.ResourceOnline
				}
				if touches && !other {
					off[d.name], grew = true, true
					break
				}
			}
		}
	}
	for name := range off {
		m.res[name].online = false
	}
	switch r.state {
	case failover.ResourceOffline:
		return failover.CodeSuccess
	case failover.ResourceFailed:
		return failover.CodeResourceFailed
	}
	m.driveAll()
	if r.state.Pending() {
		return failover.CodeIOPending
	}
	return failover.CodeSuccess
}

func (m *model) move(q *Request) failover.Code {
	if failover.CheckName(q.Group) != nil {
		return failover.CodeInvalidName
	}
	g := m.groups[q.Group]
	if g == nil {
		return failover.CodeGroupNotFound
	}
	target := NodeID(0)
	if q.Node != "" {
		target = modelNode(q.Node)
		switch {
		case target == 0:
			return failover.CodeClusterNodeNotFound
		case target == g.owner:
			return failover.CodeSuccess
		case m.paused[target]:
			return failover.CodeClusterNodePaused
		}
	}
	if g.moving {
		return failover.CodeClusterGroupMoving
	}
	if m.groupState(g) == failover.GroupPending {
		return failover.CodeInvalidState
	}
	if target == 0 {
		for i := 1; i <= modelNodes && target == 0; i++ {
			if id := NodeID(i); id != g.owner && !m.paused[id] {
				target = id
			}
		}
		if target == 0 {
			return failover.CodeHostNodeNotAvailable
		}
	}
	g.moving, g.target, g.passed = true, target, false
	m.driveAll()
	if !g.moving && g.owner == target {
		return failover.CodeSuccess
	}
	return failover.CodeIOPending
}

// modelRun steps an engine and the model with the same random inputs and
// compares them after each.
type modelRun struct {
	t     *testing.T
	e     *Engine
	m     *model
	ch    chooser
	now   int64
	reqID uint64
	log   []Input
}

var modelOps = []Op{OpCreateGroup, OpCreateResource, OpCreateResource, OpCreateResource, OpDeleteResource, OpDeleteGroup,
	OpSetDependency, OpSetDependency, OpOnlineResource, OpOnlineResource, OpOnlineResource, OpOfflineResource,
	OpOfflineResource, OpFailResource, OpOnlineGroup, OpOfflineGroup, OpMoveGroup, OpMoveGroup, OpPauseNode,
	OpResumeNode, OpCleanupResource}

func (mr *modelRun) stepBoth(in Input, model func() failover.Code) {
	mr.t.Helper()
	mr.now += int64(1e6)
	in.Time = mr.now
	mr.log = append(mr.log, in)
	var got failover.Code
	replied := false
	for _, o := range mr.e.Step(in) {
		if o.Kind == OutReply {
			got, replied = o.Reply.Code, true
		}
	}
	want := model()
	if in.Kind == InRequest && (!replied || got != want) {
		mr.fatalf("request %v: the engine answered %s, the model %s", in.Request.Op, got, want)
	}
	mr.compare()
}

func (mr *modelRun) fatalf(format string, args ...any) {
	mr.t.Helper()
	var dump []string
	for _, g := range mr.e.Groups() {
		dump = append(dump, fmt.Sprintf("engine group %s %s owner=%s moving=%q", g.Name, g.State, g.Owner, g.MovingTo))
	}
	for _, r := range mr.e.Resources() {
		dump = append(dump, fmt.Sprintf("engine resource %s %s %s dep=%q", r.Name, r.State, r.PersistentState, r.Dependency))
	}
	for _, name := range sortedKeys(mr.m.groups) {
		g := mr.m.groups[name]
		dump = append(dump, fmt.Sprintf("model group %s owner=%d moving=%v target=%d passed=%v", name, g.owner, g.moving, g.target, g.passed))
	}
	for _, name := range sortedKeys(mr.m.res) {
		r := mr.m.res[name]
		dump = append(dump, fmt.Sprintf("model resource %s %s online=%v act=%d gaveUp=%v sets=%v", name, r.state, r.online, r.act, r.gaveUp, r.sets))
	}
	mr.t.Fatalf("%s\nlast inputs:\n%s\nstate:\n%s", fmt.Sprintf(format, args...), describeInputs(mr.log, 30), strings.Join(dump, "\n"))
}

// compare checks the engine's views against the model's.
func (mr *modelRun) compare() {
	mr.t.Helper()
	e, m := mr.e, mr.m
	if len(e.resources) != len(m.res) || len(e.groups) != len(m.groups) {
		mr.fatalf("the engine has %d groups and %d resources, the model %d and %d", len(e.groups), len(e.resources), len(m.groups), len(m.res))
	}
	for name, mr2 := range m.res {
		r, ok := e.Resource(name)
		if !ok {
			mr.fatalf("resource %s is in the model only", name)
		}
		er := e.resources[name]
		var act ActionOp
		if er.act != nil {
			act = er.act.op
		}
		wantOwner := simNodeName(m.groups[mr2.group].owner)
		if r.State != mr2.state || (r.PersistentState == failover.PersistentOnline) != mr2.online || act != mr2.act || r.Owner != wantOwner {
			mr.fatalf("resource %s: engine %s online=%v act=%d owner=%s; model %s online=%v act=%d owner=%s", name, r.State,
				r.PersistentState == failover.PersistentOnline, act, r.Owner, mr2.state, mr2.online, mr2.act, wantOwner)
		}
	}
	for name, mg := range m.groups {
		g, ok := e.Group(name)
		if !ok {
			mr.fatalf("group %s is in the model only", name)
		}
		if want := m.groupState(mg); g.State != want || g.Owner != simNodeName(mg.owner) {
			mr.fatalf("group %s: engine %s on %s; model %s on %s", name, g.State, g.Owner, want, simNodeName(mg.owner))
		}
	}
}

func (mr *modelRun) randomInput() {
	e, m := mr.e, mr.m
	switch k := mr.ch.intn(10); {
	case k < 5:
		mr.reqID++
		q := &Request{ID: mr.reqID, Op: modelOps[mr.ch.intn(len(modelOps))], Group: simGroups[mr.ch.intn(2)],
			Resource: simResources[mr.ch.intn(5)], Node: simNodeName(NodeID(1 + mr.ch.intn(modelNodes+1)))}
		switch q.Op {
		case OpCreateResource:
			q.Agent = "exec"
			q.Props = map[string]string{"restart-action": "dont-restart", "retry-period-on-failure": "0s"}
		case OpSetDependency:
			q.Expr = []string{"", "[r0]", "[r1]", "[r2] and [r0]", "([r0] or [r1])", "([r3] or [r1]) and [r2]", "[r4]", "[x"}[mr.ch.intn(8)]
		case OpMoveGroup:
			if mr.ch.intn(3) == 0 {
				q.Node = ""
			}
		}
		from := NodeID(1 + mr.ch.intn(modelNodes))
		mr.stepBoth(Input{Kind: InRequest, From: from, Request: q}, func() failover.Code { return m.request(from, q) })
	case k < 9:
		// A result for an action the engine waits for; the model must be
		// waiting for the same one.
		var names []string
		for _, name := range sortedKeys(e.resources) {
			if e.resources[name].act != nil {
				names = append(names, name)
			}
		}
		if len(names) == 0 {
			return
		}
		r := e.resources[names[mr.ch.intn(len(names))]]
		ok := r.act.op == ActStop || mr.ch.intn(5) != 0
		out := OutcomeOK
		if !ok {
			out = OutcomeSoft
		}
		res := &ActionResult{ID: r.act.id, Resource: r.name, Op: r.act.op, Outcome: out}
		mr.stepBoth(Input{Kind: InResult, From: r.act.node, Result: res}, func() failover.Code {
			if mres := m.res[r.name]; mres != nil && mres.act != 0 {
				m.result(mres, ok)
			}
			return 0
		})
	default:
		names := sortedKeys(e.resources)
		if len(names) == 0 {
			return
		}
		name := names[mr.ch.intn(len(names))]
		owner := e.groups[e.resources[name].group].owner
		mr.stepBoth(Input{Kind: InFailure, From: owner, Failure: &Failure{Resource: name, Outcome: OutcomeSoft}}, func() failover.Code {
			m.failure(m.res[name])
			return 0
		})
	}
}

// TestModel compares the engine with the reference model over hundreds of
// seeded random runs.
func TestModel(t *testing.T) {
	seeds := 300
	if testing.Short() || raceEnabled {
		seeds = 60
	}
	for seed := 0; seed < seeds; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			mr := &modelRun{t: t, e: New(), m: newModel(), ch: randChooser{rand.New(rand.NewPCG(uint64(seed), 11))}, now: simT0}
			var dom []DomainNode
			for i := 1; i <= modelNodes; i++ {
				dom = append(dom, DomainNode{ID: NodeID(i), Name: simNodeName(NodeID(i))})
			}
			mr.e.Step(Input{Kind: InDomain, Domain: dom, Time: simT0})
			for i := 1; i <= modelNodes; i++ {
				mr.e.Step(Input{Kind: InNodeJoining, From: NodeID(i), Time: simT0})
				mr.e.Step(Input{Kind: InNodeUp, From: NodeID(i), Up: &NodeUp{Name: simNodeName(NodeID(i))}, Time: simT0})
			}
			for i := 0; i < 400; i++ {
				mr.randomInput()
			}
		})
	}
}
