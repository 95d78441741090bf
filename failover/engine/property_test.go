package engine

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/openhags/hags/failover"
)

// chooser supplies the random decisions of the simulation: a seeded PRNG
// for the property test, the fuzzer's bytes for FuzzStep.
type chooser interface {
	intn(n int) int // in [0, n)
	done() bool
}

type randChooser struct{ r *rand.Rand }

func (c randChooser) intn(n int) int { return c.r.IntN(n) }
func (c randChooser) done() bool     { return false }

type byteChooser struct {
	b []byte
	i int
}

func (c *byteChooser) intn(n int) int {
	if c.i >= len(c.b) {
		return 0
	}
	v := int(c.b[c.i])
	c.i++
	return v % n
}

func (c *byteChooser) done() bool { return c.i >= len(c.b) }

// sim drives an engine through a simulated cluster: managers that join,
// depart and come back, agents whose actions end well or badly, resources
// that fail, timers and fence commands, operators' requests, resets. It
// keeps "what actually runs" — every resource that may run on each node,
// derived from the actions the engine emitted and how they ended — and
// checks the engine's promises after every input.
type sim struct {
	t   testing.TB
	e   *Engine
	ch  chooser
	now int64
	n   int // nodes 1..n

	status    map[NodeID]nodeStatus
	selfFence map[NodeID]bool // departed with DepartNode: its manager stops everything
	// runs is reality: node → resources that may run there.
	runs    map[NodeID]map[string]bool
	actions []simAction
	timers  []simTimer
	fences  []simFence
	seqs    map[string]uint64 // "kind/uid" → last sequence seen
	// shown is what the last Change of each object said: a watcher's view.
	shown map[string]string
	reqID uint64
	log   []Input
	// twin is a second engine fed the same inputs; it is replaced now and
	// then by a restore of e's snapshot.
	twin *Engine
}

type simAction struct {
	node NodeID
	a    Action
}

type simTimer struct {
	node NodeID
	t    Timer
}

type simFence struct {
	node NodeID
	f    Fence
}

const simT0 = int64(1_800_000_000) * 1e9

func newSim(t testing.TB, ch chooser, nodes int) *sim {
	s := &sim{t: t, e: New(), twin: New(), ch: ch, now: simT0, n: nodes,
		status: map[NodeID]nodeStatus{}, selfFence: map[NodeID]bool{}, runs: map[NodeID]map[string]bool{},
		seqs: map[string]uint64{}, shown: map[string]string{}}
	var dom []DomainNode
	for i := 1; i <= nodes; i++ {
		s.runs[NodeID(i)] = map[string]bool{}
		dom = append(dom, DomainNode{ID: NodeID(i), Name: simNodeName(NodeID(i))})
	}
	s.step(Input{Kind: InDomain, From: 1, Domain: dom})
	for i := 1; i <= nodes; i++ {
		s.status[NodeID(i)] = statusJoining
		s.step(Input{Kind: InNodeJoining, From: NodeID(i)})
		s.comeUp(NodeID(i))
	}
	return s
}

func simNodeName(id NodeID) string { return fmt.Sprintf("N%d", id) }

var simGroups = []string{"g0", "g1", "g2"}
var simResources = []string{"r0", "r1", "r2", "r3", "r4", "r5"}

func (s *sim) pick(list []string) string { return list[s.ch.intn(len(list))] }

func (s *sim) node() NodeID { return NodeID(1 + s.ch.intn(s.n)) }

func (s *sim) upNodes() []NodeID {
	var out []NodeID
	for i := 1; i <= s.n; i++ {
		if s.status[NodeID(i)] == statusUp {
			out = append(out, NodeID(i))
		}
	}
	return out
}

func (s *sim) fail(format string, args ...any) {
	s.t.Helper()
	s.t.Fatalf("%s\nlast inputs:\n%s", fmt.Sprintf(format, args...), describeInputs(s.log, 40))
}

// run makes steps random inputs.
func (s *sim) run(steps int) {
	for i := 0; i < steps && !s.ch.done(); i++ {
		s.randomInput()
	}
}

// randomInput makes one input, weighted toward what keeps a cluster busy.
func (s *sim) randomInput() {
	if s.ch.intn(4) == 0 {
		s.now += int64(time.Duration(s.ch.intn(4000)) * time.Millisecond)
		if s.ch.intn(20) == 0 {
			s.now += int64(2 * time.Hour)
		}
	}
	switch k := s.ch.intn(200); {
	case k < 70:
		s.request()
	case k < 140:
		s.result()
	case k < 152:
		s.failure()
	case k < 172:
		s.fireTimer()
	case k < 180:
		s.fenceResult()
	case k < 188:
		s.membership()
	case k < 189 && s.ch.intn(3) == 0:
		s.reset()
	default:
		s.result()
	}
}

// Membership.

func (s *sim) membership() {
	id := s.node()
	// Managers come back more often than they leave, so that clusters are
	// mostly up.
	if s.ch.intn(3) != 0 {
		for i := 1; i <= s.n; i++ {
			if s.status[NodeID(i)] != statusUp {
				id = NodeID(i)
				break
			}
		}
	}
	switch s.status[id] {
	case statusDown:
		s.status[id] = statusJoining
		s.step(Input{Kind: InNodeJoining, From: id})
	case statusJoining:
		s.comeUp(id)
	case statusUp:
		why := []Departure{DepartGoodbye, DepartProcess, DepartNode}[s.ch.intn(3)]
		s.depart(id, why)
	}
}

// comeUp: node id's manager probed; it reports what runs there.
func (s *sim) comeUp(id NodeID) {
	if s.selfFence[id] {
		clear(s.runs[id]) // it stopped everything when it lost its lease
		s.selfFence[id] = false
	}
	s.status[id] = statusUp
	running := sortedKeys(s.runs[id])
	s.step(Input{Kind: InNodeUp, From: id, Up: &NodeUp{Name: simNodeName(id), Running: running}})
}

// depart makes node id's manager leave; what it ran goes on running unless
// it said goodbye (it stopped everything first).
func (s *sim) depart(id NodeID, why Departure) {
	s.forget(id)
	s.status[id] = statusDown
	switch why {
	case DepartGoodbye:
		clear(s.runs[id])
	case DepartNode:
		s.selfFence[id] = true
	}
	s.step(Input{Kind: InNodeDown, Down: &NodeDown{Node: id, Why: why}})
}

// forget drops what node id's manager was asked to do: it is gone.
func (s *sim) forget(id NodeID) {
	s.actions = slices.DeleteFunc(s.actions, func(a simAction) bool { return a.node == id })
	s.timers = slices.DeleteFunc(s.timers, func(t simTimer) bool { return t.node == id })
	s.fences = slices.DeleteFunc(s.fences, func(f simFence) bool { return f.node == id })
}

// reset: every manager stops (what they ran goes on running), and the
// managers' group forms anew.
func (s *sim) reset() {
	for i := 1; i <= s.n; i++ {
		id := NodeID(i)
		s.forget(id)
		s.status[id] = statusDown
	}
	s.step(Input{Kind: InReset, From: 1})
}

// Agents.

// result ends a random outstanding action of an up node.
func (s *sim) result() {
	var live []int
	for i, a := range s.actions {
		if s.status[a.node] == statusUp {
			live = append(live, i)
		}
	}
	if len(live) == 0 {
		return
	}
	i := live[s.ch.intn(len(live))]
	a := s.actions[i]
	s.actions = slices.Delete(s.actions, i, i+1)
	out := OutcomeOK
	switch s.ch.intn(12) {
	case 0, 1:
		out = OutcomeSoft
	case 2:
		out = OutcomeHard
	case 3:
		if s.ch.intn(3) == 0 {
			out = OutcomeFatal
		}
	}
	if a.a.Op == ActStop && out == OutcomeOK {
		delete(s.runs[a.node], a.a.Resource)
	}
	s.step(Input{Kind: InResult, From: a.node, Result: &ActionResult{ID: a.a.ID, Resource: a.a.Resource, Op: a.a.Op, Outcome: out, Detail: "sim"}})
}

// failure reports a resource that runs on an up node as failed.
func (s *sim) failure() {
	ups := s.upNodes()
	if len(ups) == 0 {
		return
	}
	id := ups[s.ch.intn(len(ups))]
	names := sortedKeys(s.runs[id])
	if len(names) == 0 {
		return
	}
	r := names[s.ch.intn(len(names))]
	out := []Outcome{OutcomeSoft, OutcomeSoft, OutcomeSoft, OutcomeHard, OutcomeFatal}[s.ch.intn(5)]
	s.step(Input{Kind: InFailure, From: id, Failure: &Failure{Resource: r, Outcome: out, Detail: "sim"}})
}

// fireTimer fires a random outstanding timer of an up node.
func (s *sim) fireTimer() {
	if len(s.timers) == 0 {
		return
	}
	i := s.ch.intn(len(s.timers))
	t := s.timers[i]
	if s.status[t.node] != statusUp {
		return
	}
	s.timers = slices.Delete(s.timers, i, i+1)
	if t.t.Kind == TimerWindow && s.selfFence[t.t.Departed] && s.status[t.t.Departed] == statusDown {
		// The window passed: the departed node's manager has stopped
		// everything by now.
		clear(s.runs[t.t.Departed])
	}
	s.step(Input{Kind: InTimer, From: t.node, Timer: &TimerFired{Kind: t.t.Kind, Key: t.t.Key, Token: t.t.Token}})
}

// fenceResult ends a random outstanding fence command.
func (s *sim) fenceResult() {
	if len(s.fences) == 0 {
		return
	}
	i := s.ch.intn(len(s.fences))
	f := s.fences[i]
	if s.status[f.node] != statusUp {
		return
	}
	s.fences = slices.Delete(s.fences, i, i+1)
	ok := s.ch.intn(3) != 0
	if ok && s.status[f.f.Target] == statusDown {
		clear(s.runs[f.f.Target]) // fenced: nothing runs there
	}
	s.step(Input{Kind: InFence, From: f.node, Fence: &FenceResult{Target: f.f.Target, Token: f.f.Token, OK: ok}})
}

// Requests.

// request sends a random operator's request from a random up node.
func (s *sim) request() {
	ups := s.upNodes()
	from := s.node()
	if len(ups) > 0 && s.ch.intn(10) != 0 {
		from = ups[s.ch.intn(len(ups))]
	}
	s.reqID++
	q := &Request{ID: s.reqID, Op: s.op()}
	q.Group = s.pick(simGroups)
	q.Resource = s.pick(simResources)
	q.Node = simNodeName(s.node())
	q.IgnoreLocked = s.ch.intn(4) == 0
	q.Drain = s.ch.intn(2) == 0
	if s.ch.intn(8) == 0 {
		q.Handle = uint64(s.ch.intn(12))
	}
	switch q.Op {
	case OpCreateResource:
		q.Agent = []string{"exec", "ocf:heartbeat:Dummy", "exec", "ocf:heartbeat:Dummy", "bogus"}[s.ch.intn(5)]
		if s.ch.intn(3) == 0 {
			q.Props = map[string]string{"restart-threshold": fmt.Sprint(s.ch.intn(3)), "restart-action": []string{"dont-restart", "restart-no-notify", "restart-notify"}[s.ch.intn(3)]}
		}
	case OpSetDependency:
		q.Expr = s.expr()
	case OpMoveGroup:
		if s.ch.intn(3) == 0 {
			q.Node = ""
		}
	case OpSetGroupOwners:
		q.Nodes = []string{simNodeName(s.node()), simNodeName(s.node())}
	case OpSetResourceProps:
		q.Props = map[string]string{[]string{"restart-threshold", "restart-delay", "retry-period-on-failure", "restart-action"}[s.ch.intn(4)]: []string{"0", "1", "2s", "restart-no-notify"}[s.ch.intn(4)]}
	case OpSetGroupProps:
		q.Props = map[string]string{[]string{"failover-threshold", "anti-affinity", "failover-period"}[s.ch.intn(3)]: []string{"0", "1", "x", "1h"}[s.ch.intn(4)]}
	case OpSetNodeFence:
		q.Expr = []string{"", "fence"}[s.ch.intn(2)]
	case OpConfirmFenced:
		// An operator vouches only for a node that runs nothing.
		if n := s.e.nodeByName(q.Node); n != nil && n.status == statusDown {
			clear(s.runs[n.id])
		}
	case OpApplyConfig:
		q.Config = s.config()
	}
	s.step(Input{Kind: InRequest, From: from, Request: q})
}

// simOps weighs the operations toward those that build and run groups.
var simOps = func() []Op {
	weights := map[Op]int{OpCreateGroup: 6, OpCreateResource: 12, OpOnlineResource: 12, OpOnlineGroup: 8,
		OpOfflineResource: 4, OpOfflineGroup: 2, OpMoveGroup: 8, OpFailResource: 3, OpSetDependency: 6,
		OpPauseNode: 2, OpResumeNode: 3, OpCleanupResource: 3, OpLockResource: 2, OpUnlockResource: 3,
		OpDeleteResource: 2, OpDeleteGroup: 1, OpApplyConfig: 2, OpConfirmFenced: 2, OpSetNodeFence: 2}
	var out []Op
	for op := OpCreateGroup; op <= OpConfirmFenced+1; op++ {
		w := weights[op]
		if w == 0 {
			w = 1
		}
		for i := 0; i < w; i++ {
			out = append(out, op)
		}
	}
	return out
}()

func (s *sim) op() Op { return simOps[s.ch.intn(len(simOps))] }

func (s *sim) expr() string {
	switch s.ch.intn(4) {
	case 0:
		return ""
	case 1:
		return "[" + s.pick(simResources) + "]"
	case 2:
		return "([" + s.pick(simResources) + "] or [" + s.pick(simResources) + "])"
	}
	return "[" + s.pick(simResources) + "] and ([" + s.pick(simResources) + "] or [" + s.pick(simResources) + "])"
}

// config returns the engine's configuration with random changes.
func (s *sim) config() *failover.Config {
	c := s.e.Config()
	for i := range c.Groups {
		g := &c.Groups[i]
		for j := range g.Resources {
			if s.ch.intn(3) == 0 {
				g.Resources[j].PersistentState = failover.PersistentState(s.ch.intn(2))
			}
		}
		if s.ch.intn(6) == 0 && len(g.Resources) > 0 {
			g.Resources = g.Resources[:len(g.Resources)-1]
		}
	}
	if s.ch.intn(3) == 0 {
		name := s.pick(simGroups)
		if !slices.ContainsFunc(c.Groups, func(g failover.GroupConfig) bool { return g.Name == name }) {
			g := failover.GroupConfig{Name: name, PersistentState: failover.PersistentOnline, GroupProperties: failover.DefaultGroupProperties()}
			r := s.pick(simResources)
			if _, ok := s.e.Resource(r); !ok {
				g.Resources = append(g.Resources, failover.ResourceConfig{Name: r, Agent: "exec", PersistentState: failover.PersistentOnline,
					ResourceProperties: failover.DefaultResourceProperties()})
			}
			c.Groups = append(c.Groups, g)
		}
	}
	return c
}

// Stepping and checking.

// step feeds in to the engine and its twin and checks the outcome.
func (s *sim) step(in Input) {
	s.t.Helper()
	in.Time = s.now
	s.log = append(s.log, in)
	var before []byte
	if in.Kind == InRequest {
		before = stateOf(s.e)
	}
	out := s.e.Step(in)
	twinOut := s.twin.Step(in)
	if !bytes.Equal(encodeOutputs(out), encodeOutputs(twinOut)) {
		s.fail("the twin engine answered the same input differently:\n%v\n%v", out, twinOut)
	}
	if err := s.e.check(); err != nil {
		s.fail("invariant broken: %v", err)
	}
	s.record(out)
	s.checkOutputs(in, out, before)
	s.checkReality()
	s.checkBeliefs()
	s.checkWatchers()
	if s.ch.intn(40) == 0 {
		s.checkSnapshot()
	}
}

func describeInput(in Input) string {
	b, _ := msgpack.Marshal(in)
	var m map[string]any
	_ = msgpack.Unmarshal(b, &m)
	return fmt.Sprint(m)
}

// describeInputs describes the last n inputs of log, one a line.
func describeInputs(log []Input, n int) string {
	if len(log) > n {
		log = log[len(log)-n:]
	}
	lines := make([]string, len(log))
	for i, in := range log {
		lines[i] = describeInput(in)
	}
	return strings.Join(lines, "\n")
}

func encodeOutputs(out []Output) []byte {
	var buf bytes.Buffer
	enc := msgpack.NewEncoder(&buf)
	enc.SetSortMapKeys(true)
	if err := enc.Encode(out); err != nil {
		panic(err)
	}
	return buf.Bytes()
}

// record notes the outputs the simulated managers must carry out.
func (s *sim) record(out []Output) {
	for _, o := range out {
		switch o.Kind {
		case OutAction:
			s.actions = append(s.actions, simAction{node: o.Node, a: *o.Action})
			if o.Action.Op == ActStart {
				s.runs[o.Node][o.Action.Resource] = true // it may run from now on
			}
		case OutTimer:
			s.timers = append(s.timers, simTimer{node: o.Node, t: *o.Timer})
		case OutFence:
			s.fences = append(s.fences, simFence{node: o.Node, f: *o.Fence})
		}
	}
}

// checkOutputs checks what one step emitted.
func (s *sim) checkOutputs(in Input, out []Output, before []byte) {
	s.t.Helper()
	for _, o := range out {
		switch o.Kind {
		case OutAction:
			s.checkAction(o.Node, o.Action)
		case OutChange:
			s.checkSequence(o.Change)
		case OutReply:
			s.checkReply(in, o.Reply, before)
		case OutTimer, OutFence:
			if s.status[o.Node] != statusUp {
				s.fail("%v asked of node %d, which is not up", o.Kind, o.Node)
			}
		}
	}
}

// checkAction: starts only on the group's owner, which is up (and, for a
// start that is not an adoption, not paused), with every dependency set
// satisfied by an Online member; stops of a running provider only when no
// running dependent needs it.
func (s *sim) checkAction(node NodeID, a *Action) {
	s.t.Helper()
	r := s.e.resources[a.Resource]
	if r == nil {
		s.fail("action for resource %s, which does not exist", a.Resource)
	}
	g := s.e.groups[r.group]
	n := s.e.nodes[node]
	if n == nil || n.status != statusUp {
		s.fail("action %d for %s asked of node %d, which is not up", a.ID, a.Resource, node)
	}
	if a.Op == ActStart {
		if g.owner != node {
			s.fail("start of %s on node %d, but group %s is owned by %d", a.Resource, node, g.name, g.owner)
		}
		if !a.Adopt && n.paused {
			s.fail("start of %s on paused node %d", a.Resource, node)
		}
		if !a.Adopt && !s.e.satisfied(r, isOnline) {
			s.fail("start of %s while a provider of %q is not online", a.Resource, r.dep.String())
		}
		return
	}
	if g.owner != node || r.state == failover.ResourceFailed {
		return // a stray's stop, or the stop that follows a failure
	}
	for _, d := range s.e.dependents(r) {
		if !d.running() {
			continue
		}
		for _, set := range d.dep.Sets {
			if contains(set, r.name) && !s.e.anyOf(set, func(p *resource) bool { return p != r && isOnline(p) }) {
				s.fail("stop of %s while its dependent %s (%s) still needs it", r.name, d.name, d.state)
			}
		}
	}
}

// checkSequence: every object's sequence number increases with each Change.
func (s *sim) checkSequence(c *failover.Change) {
	s.t.Helper()
	var key string
	var seq uint64
	switch {
	case c.Group != nil:
		key, seq = fmt.Sprintf("g/%d", c.Group.UID), c.Group.Sequence
	case c.Resource != nil:
		key, seq = fmt.Sprintf("r/%d", c.Resource.UID), c.Resource.Sequence
	default:
		return
	}
	if c.Deleted {
		if seq < s.seqs[key] {
			s.fail("deleted %s reported with sequence %d after %d", key, seq, s.seqs[key])
		}
		delete(s.shown, key)
		return
	}
	if seq <= s.seqs[key] {
		s.fail("%s changed with sequence %d after %d", key, seq, s.seqs[key])
	}
	s.seqs[key] = seq
	if c.Group != nil {
		s.shown[key] = fmt.Sprintf("%s %s on %s #%d", c.Group.Name, c.Group.State, c.Group.Owner, c.Group.Sequence)
	} else {
		s.shown[key] = fmt.Sprintf("%s %s on %s #%d", c.Resource.Name, c.Resource.State, c.Resource.Owner, c.Resource.Sequence)
	}
}

// checkWatchers: a watcher that saw every Change holds every object's
// current state, owner and sequence number.
func (s *sim) checkWatchers() {
	s.t.Helper()
	want := map[string]string{}
	for _, g := range s.e.Groups() {
		want[fmt.Sprintf("g/%d", g.UID)] = fmt.Sprintf("%s %s on %s #%d", g.Name, g.State, g.Owner, g.Sequence)
	}
	for _, r := range s.e.Resources() {
		want[fmt.Sprintf("r/%d", r.UID)] = fmt.Sprintf("%s %s on %s #%d", r.Name, r.State, r.Owner, r.Sequence)
	}
	for k, v := range want {
		if s.shown[k] != v {
			s.fail("a watcher saw %q for %s, but it is %q", s.shown[k], k, v)
		}
	}
	if len(s.shown) != len(want) {
		s.fail("a watcher knows %d objects, the engine %d", len(s.shown), len(want))
	}
}

// checkReply: an online or offline request answered ERROR_IO_PENDING left
// the resource pending; any error other than the documented ones changed
// nothing.
func (s *sim) checkReply(in Input, rep *Reply, before []byte) {
	s.t.Helper()
	q := in.Request
	if rep.Code == failover.CodeIOPending {
		switch q.Op {
		case OpOnlineResource:
			if r := s.e.resources[q.Resource]; r == nil || r.state != failover.ResourceOnlinePending {
				s.fail("online of %s answered ERROR_IO_PENDING but the resource is not OnlinePending", q.Resource)
			}
		case OpOfflineResource:
			if r := s.e.resources[q.Resource]; r == nil || r.state != failover.ResourceOfflinePending {
				s.fail("offline of %s answered ERROR_IO_PENDING but the resource is not OfflinePending", q.Resource)
			}
		}
		return
	}
	if rep.Code == failover.CodeSuccess || setsPersistentAnyway(q.Op, rep.Code) {
		return
	}
	if !bytes.Equal(before, stateOf(s.e)) {
		s.fail("request %d (op %d) answered %s but changed the engine's state", q.ID, q.Op, rep.Code)
	}
}

// setsPersistentAnyway lists the error answers that set a persistent state
// (requests_state.go).
func setsPersistentAnyway(op Op, c failover.Code) bool {
	switch {
	case op == OpOnlineResource && (c == failover.CodeClusterResourceProviderFailed || c == failover.CodeResourceFailed):
		return true
	case op == OpOfflineResource && c == failover.CodeResourceFailed:
		return true
	}
	return false
}

// stateOf returns e's snapshot without the generation and clock, which
// every input changes.
func stateOf(e *Engine) []byte {
	now, gen := e.now, e.gen
	e.now, e.gen = 0, 0
	defer func() { e.now, e.gen = now, gen }()
	return e.Snapshot()
}

// checkReality: what actually runs of one group runs on one node at most.
func (s *sim) checkReality() {
	s.t.Helper()
	where := map[string]NodeID{}
	for i := 1; i <= s.n; i++ {
		id := NodeID(i)
		for name := range s.runs[id] {
			r := s.e.resources[name]
			if r == nil {
				s.fail("resource %s runs on node %d but no longer exists", name, id)
			}
			if other, ok := where[r.group]; ok && other != id {
				s.fail("group %s runs on nodes %d and %d at once (%s on %d)", r.group, other, id, name, id)
			}
			where[r.group] = id
		}
	}
}

// checkBeliefs: the engine believes every group runs (or may run) on one
// node at most.
func (s *sim) checkBeliefs() {
	s.t.Helper()
	where := map[string]NodeID{}
	for _, id := range s.e.nodeIDs() {
		for _, name := range s.e.Running(id) {
			g := s.e.resources[name].group
			if other, ok := where[g]; ok && other != id {
				s.fail("the engine believes group %s runs on nodes %d and %d", g, other, id)
			}
			where[g] = id
		}
	}
}

// checkSnapshot: the snapshot restores to an engine with the same
// snapshot, which then becomes the twin (so that it must answer every
// later input as the original does).
func (s *sim) checkSnapshot() {
	s.t.Helper()
	snap := s.e.Snapshot()
	r, err := Restore(snap)
	if err != nil {
		s.fail("restore of a snapshot: %v", err)
	}
	if !bytes.Equal(r.Snapshot(), snap) {
		s.fail("a restored engine's snapshot differs")
	}
	if !bytes.Equal(s.twin.Snapshot(), snap) {
		s.fail("the twin engine's snapshot differs from the engine's")
	}
	s.twin = r
}

// TestPropertyRandomClusters runs hundreds of seeded random clusters and
// checks, after every input, the promises above: the engine's invariants;
// never two nodes running one group, in reality or in the engine's belief;
// starts only on the owner, up, with providers online; providers stopped
// only after their dependents; sequence numbers increasing; answers that
// match the state; error answers that change nothing; a twin engine (fed
// the same inputs, and now and then replaced by a restore of the engine's
// snapshot) answering every input alike.
func TestPropertyRandomClusters(t *testing.T) {
	seeds := 300
	if testing.Short() || raceEnabled {
		seeds = 60
	}
	for seed := 0; seed < seeds; seed++ {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			s := newSim(t, randChooser{rand.New(rand.NewPCG(uint64(seed), 7))}, 2+seed%3)
			s.run(400)
		})
	}
}

// TestPropertyKeepsGoing checks that the simulation is not vacuous: over
// the seeds, resources come online, groups move and fail over, nodes are
// taken over.
func TestPropertyKeepsGoing(t *testing.T) {
	counts := map[string]int{}
	for seed := 0; seed < 60; seed++ {
		s := newSim(t, randChooser{rand.New(rand.NewPCG(uint64(seed), 7))}, 3)
		for i := 0; i < 400; i++ {
			s.randomInput()
			for _, r := range s.e.resources {
				if r.state == failover.ResourceOnline {
					counts["online"]++
				}
			}
			for _, g := range s.e.groups {
				if g.move != nil {
					counts[g.move.kind.String()]++
				}
				if g.waiting {
					counts["waiting"]++
				}
				if len(g.failovers) > 0 {
					counts["failed over"]++
				}
			}
		}
	}
	for _, k := range []string{"online", "move", "failover", "waiting", "failed over"} {
		if counts[k] == 0 {
			t.Errorf("no simulated cluster ever had %q; the simulation does not exercise it", k)
		}
	}
	t.Logf("%v", counts)
}
