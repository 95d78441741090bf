package engine

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/failover"
)

var update = flag.Bool("update", false, "rewrite testdata/*.txt with the engine's current output")

// The transcript language. Each input line is one command; the runner
// echoes it and prints, indented by two spaces, what the input made the
// engine emit. Lines starting with '#' and blank lines are kept; indented
// lines are regenerated. Values with spaces are written in double quotes.
//
//	domain 1=NodeA 2=NodeB             InDomain
//	join 1                             InNodeJoining from node 1
//	up 1 [NAME] [run=a,b]              InNodeUp (NAME defaults to the known name)
//	down 1 [node|process|goodbye]      InNodeDown (default node)
//	reset                              InReset
//	clock +5s                          advance the clock of later inputs
//	@1 OP [ARG] [k=v ...]              a request from node 1 (see request)
//	| yaml                             lines after "@N apply": the document
//	ok a3 / fail a3 soft|hard|fatal ["detail"]   the result of action 3 (or
//	                                   "ok R": of the last action for resource R)
//	failure @1 R soft|hard|fatal ["detail"]      InFailure from node 1
//	fire t5 [from=N]                   timer with token 5 fired (on its node);
//	                                   "fire KIND:KEY": the last such timer
//	fence t7 ok|fail ["detail"] [from=N]  fence command with token 7 ended;
//	                                   "fence NODE ...": the last one for NODE
//	raw KIND k=v ...                   an input built field by field (hostile)
//	show group G | show res R | show node N
//	groups | resources | nodes | why R | whygroup G | running N
//	coord | quorum | window G | config | gen
//	repeat FROM TO CMD...              CMD for i = FROM..TO, "{i}" and "{i-1}"
//	                                   replaced; only the last step's output shows
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	require.NoError(t, err)
	require.NotEmpty(t, files, "expected transcripts in testdata/")
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			tr := newTranscript()
			got, err := tr.run(string(data))
			if err != nil && *update {
				_ = os.WriteFile(f+".partial", []byte(got), 0o644) // what ran before the bad line, to read
			}
			require.NoError(t, err, "transcript %s must parse", f)
			if *update {
				require.NoError(t, os.WriteFile(f, []byte(got), 0o644))
				return
			}
			require.Equal(t, string(data), got, "engine output differs from %s (run with -update and review the diff)", f)
		})
	}
}

// t0 is the transcripts' starting time: 2026-01-01T00:00:00Z.
var t0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC).UnixNano()

type actionRec struct {
	node NodeID
	a    Action
}

type timerRec struct {
	node NodeID
	t    Timer
}

type fenceRec struct {
	node NodeID
	f    Fence
}

type transcript struct {
	e       *Engine
	now     int64
	reqID   uint64
	out     strings.Builder
	actions map[uint64]actionRec
	timers  map[uint64]timerRec
	fences  map[uint64]fenceRec
	codes   map[failover.Code]bool
	// check runs after every step (the transcripts double as a test of
	// the engine's invariants and of snapshot round trips).
	check func(e *Engine) error
}

func newTranscript() *transcript {
	return &transcript{e: New(), now: t0, actions: map[uint64]actionRec{}, timers: map[uint64]timerRec{},
		fences: map[uint64]fenceRec{}, codes: map[failover.Code]bool{}, check: checkRoundTrip}
}

// checkRoundTrip checks the engine's invariants and that its snapshot
// restores to the same bytes.
func checkRoundTrip(e *Engine) error {
	if err := e.check(); err != nil {
		return err
	}
	snap := e.Snapshot()
	r, err := Restore(snap)
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	if string(r.Snapshot()) != string(snap) {
		return fmt.Errorf("snapshot of the restored engine differs")
	}
	return nil
}

func (tr *transcript) printf(format string, args ...any) { fmt.Fprintf(&tr.out, format, args...) }

func (tr *transcript) run(in string) (string, error) {
	lines := strings.Split(strings.TrimRight(in, "\n"), "\n")
	for i := 0; i < len(lines); i++ {
		line := lines[i]
		if strings.HasPrefix(line, "  ") {
			continue // previous output
		}
		tr.out.WriteString(line + "\n")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		// A document follows its command (outputs are printed after it).
		var doc []string
		for i+1 < len(lines) && (strings.HasPrefix(lines[i+1], "|") || strings.HasPrefix(lines[i+1], "  ")) {
			i++
			if strings.HasPrefix(lines[i], "|") {
				tr.out.WriteString(lines[i] + "\n")
				doc = append(doc, strings.TrimPrefix(strings.TrimPrefix(lines[i], "|"), " "))
			}
		}
		if err := tr.command(line, doc); err != nil {
			return tr.out.String(), fmt.Errorf("line %d %q: %w", i+1, line, err)
		}
	}
	return tr.out.String(), nil
}

// fields splits a line into words; a double-quoted word may hold spaces
// (k="v w" too).
func fields(line string) ([]string, error) {
	var out []string
	for {
		line = strings.TrimLeft(line, " \t")
		if line == "" {
			return out, nil
		}
		var w strings.Builder
		for line != "" && line[0] != ' ' && line[0] != '\t' {
			if line[0] == '"' {
				q, err := strconv.QuotedPrefix(line)
				if err != nil {
					return nil, err
				}
				s, _ := strconv.Unquote(q)
				w.WriteString(s)
				line = line[len(q):]
				continue
			}
			w.WriteByte(line[0])
			line = line[1:]
		}
		out = append(out, w.String())
	}
}

// args splits words into positional ones and k=v pairs.
func args(words []string) ([]string, map[string]string) {
	var pos []string
	kv := map[string]string{}
	for _, w := range words {
		if k, v, ok := strings.Cut(w, "="); ok && k != "" && !strings.ContainsAny(k, " ") {
			kv[k] = v
		} else {
			pos = append(pos, w)
		}
	}
	return pos, kv
}

func atoi(s string) int { n, _ := strconv.Atoi(s); return n }

func nodeNum(s string) NodeID { return NodeID(atoi(strings.TrimPrefix(s, "@"))) }

func idNum(s string) uint64 {
	n, _ := strconv.ParseUint(strings.TrimLeft(s, "at"), 10, 64)
	return n
}

var outcomes = map[string]Outcome{"ok": OutcomeOK, "soft": OutcomeSoft, "hard": OutcomeHard, "fatal": OutcomeFatal}
var departures = map[string]Departure{"goodbye": DepartGoodbye, "process": DepartProcess, "node": DepartNode}

func (tr *transcript) command(line string, doc []string) error {
	words, err := fields(line)
	if err != nil {
		return err
	}
	cmd := words[0]
	pos, kv := args(words[1:])
	in := Input{}
	if cmd == "repeat" {
		return tr.repeat(line, doc)
	}
	switch {
	case strings.HasPrefix(cmd, "@"):
		q, err := tr.request(words[1], words[2:], doc)
		if err != nil {
			return err
		}
		in = Input{Kind: InRequest, From: nodeNum(cmd), Request: q}
	case cmd == "domain":
		in.Kind = InDomain
		for _, p := range pos {
			id, name, _ := strings.Cut(p, "=")
			in.Domain = append(in.Domain, DomainNode{ID: NodeID(atoi(id)), Name: name})
		}
		for k, v := range kv {
			in.Domain = append(in.Domain, DomainNode{ID: NodeID(atoi(k)), Name: v})
		}
	case cmd == "join":
		in = Input{Kind: InNodeJoining, From: nodeNum(pos[0])}
	case cmd == "up":
		id := nodeNum(pos[0])
		name := tr.e.nodeName(id)
		if len(pos) > 1 {
			name = pos[1]
		}
		up := &NodeUp{Name: name}
		if r := kv["run"]; r != "" {
			up.Running = strings.Split(r, ",")
		}
		in = Input{Kind: InNodeUp, From: id, Up: up}
	case cmd == "down":
		why := DepartNode
		if len(pos) > 1 {
			why = departures[pos[1]]
		}
		in = Input{Kind: InNodeDown, Down: &NodeDown{Node: nodeNum(pos[0]), Why: why}}
	case cmd == "reset":
		in.Kind = InReset
	case cmd == "clock":
		d, err := time.ParseDuration(strings.TrimPrefix(pos[0], "+"))
		if err != nil {
			return err
		}
		tr.now += int64(d)
		return nil
	case cmd == "ok" || cmd == "fail":
		id := tr.actionID(pos[0])
		rec, ok := tr.actions[id]
		if !ok {
			return fmt.Errorf("no action %s", pos[0])
		}
		res := &ActionResult{ID: id, Resource: rec.a.Resource, Op: rec.a.Op}
		if cmd == "fail" {
			res.Outcome = OutcomeSoft
			if len(pos) > 1 {
				res.Outcome = outcomes[pos[1]]
			}
			if len(pos) > 2 {
				res.Detail = pos[2]
			}
		}
		from := rec.node
		if f, ok := kv["from"]; ok {
			from = nodeNum(f)
		}
		in = Input{Kind: InResult, From: from, Result: res}
	case cmd == "failure":
		f := &Failure{Resource: pos[1], Outcome: outcomes[pos[2]]}
		if len(pos) > 3 {
			f.Detail = pos[3]
		}
		in = Input{Kind: InFailure, From: nodeNum(pos[0]), Failure: f}
	case cmd == "fire":
		tok := tr.timerToken(pos[0])
		rec, ok := tr.timers[tok]
		if !ok {
			return fmt.Errorf("no timer %s", pos[0])
		}
		from := rec.node
		if f, ok := kv["from"]; ok {
			from = nodeNum(f)
		}
		in = Input{Kind: InTimer, From: from, Timer: &TimerFired{Kind: rec.t.Kind, Key: rec.t.Key, Token: tok}}
	case cmd == "fence":
		tok := tr.fenceToken(pos[0])
		rec, ok := tr.fences[tok]
		if !ok {
			return fmt.Errorf("no fence %s", pos[0])
		}
		res := &FenceResult{Target: rec.f.Target, Token: tok, OK: pos[1] == "ok"}
		if len(pos) > 2 {
			res.Detail = pos[2]
		}
		from := rec.node
		if f, ok := kv["from"]; ok {
			from = nodeNum(f)
		}
		in = Input{Kind: InFence, From: from, Fence: res}
	case cmd == "raw":
		in = rawInput(pos, kv)
	default:
		return tr.view(cmd, pos)
	}
	in.Time = tr.now
	tr.step(in)
	return nil
}

// actionID resolves "a3" or a resource name (its latest action).
func (tr *transcript) actionID(s string) uint64 {
	if id := idNum(s); strings.HasPrefix(s, "a") && id != 0 {
		return id
	}
	var best uint64
	for id, rec := range tr.actions {
		if rec.a.Resource == s && id > best {
			best = id
		}
	}
	return best
}

// timerToken resolves "t5" or "KIND:KEY" (the latest such timer).
func (tr *transcript) timerToken(s string) uint64 {
	kind, key, ok := strings.Cut(s, ":")
	if !ok {
		return idNum(s)
	}
	var best uint64
	for tok, rec := range tr.timers {
		if timerNames[rec.t.Kind] == kind && rec.t.Key == key && tok > best {
			best = tok
		}
	}
	return best
}

// fenceToken resolves "t7" or a node name (the latest fence for it).
func (tr *transcript) fenceToken(s string) uint64 {
	if tok := idNum(s); strings.HasPrefix(s, "t") && tok != 0 {
		return tok
	}
	var best uint64
	for tok, rec := range tr.fences {
		if rec.f.Name == s && tok > best {
			best = tok
		}
	}
	return best
}

// repeat runs a command for a range of i; the output of every run but
// the last is dropped.
func (tr *transcript) repeat(line string, doc []string) error {
	words := strings.Fields(line)
	if len(words) < 4 {
		return fmt.Errorf("repeat FROM TO CMD")
	}
	from, to := atoi(words[1]), atoi(words[2])
	rest := strings.SplitN(line, " ", 4)[3]
	check := tr.check
	defer func() { tr.check = check }()
	for i := from; i <= to; i++ {
		cmd := strings.NewReplacer("{i}", strconv.Itoa(i), "{i-1}", strconv.Itoa(i-1)).Replace(rest)
		mark := tr.out.Len()
		if i < to {
			tr.check = nil // the last step's check covers the state
		} else {
			tr.check = check
		}
		if err := tr.command(cmd, doc); err != nil {
			return err
		}
		if i < to {
			kept := tr.out.String()[:mark]
			tr.out.Reset()
			tr.out.WriteString(kept)
		}
	}
	return nil
}

// rawInput builds an input field by field, for inputs no manager would
// send: kind=N from=N and the fields of the kind.
func rawInput(pos []string, kv map[string]string) Input {
	in := Input{Kind: InputKind(atoi(kv["kind"])), From: NodeID(atoi(kv["from"]))}
	switch in.Kind {
	case InNodeUp:
		if _, ok := kv["nil"]; !ok {
			in.Up = &NodeUp{Name: kv["name"]}
		}
	case InNodeDown:
		in.Down = &NodeDown{Node: NodeID(atoi(kv["node"])), Why: Departure(atoi(kv["why"]))}
	case InResult:
		in.Result = &ActionResult{ID: uint64(atoi(kv["id"])), Resource: kv["r"], Op: ActionOp(atoi(kv["op"])), Outcome: Outcome(atoi(kv["o"]))}
	case InFailure:
		in.Failure = &Failure{Resource: kv["r"], Outcome: Outcome(atoi(kv["o"]))}
	case InTimer:
		in.Timer = &TimerFired{Kind: TimerKind(atoi(kv["k"])), Key: kv["key"], Token: uint64(atoi(kv["tok"]))}
	case InFence:
		in.Fence = &FenceResult{Target: NodeID(atoi(kv["node"])), Token: uint64(atoi(kv["tok"])), OK: kv["ok"] == "1"}
	case InRequest:
		in.Request = &Request{ID: 999, Op: Op(atoi(kv["op"])), Group: kv["g"], Resource: kv["r"], Node: kv["node"]}
	}
	return in
}

var opNames = map[string]Op{
	"create-group": OpCreateGroup, "delete-group": OpDeleteGroup, "create-resource": OpCreateResource,
	"delete-resource": OpDeleteResource, "online": OpOnlineResource, "offline": OpOfflineResource,
	"fail": OpFailResource, "online-group": OpOnlineGroup, "offline-group": OpOfflineGroup, "move": OpMoveGroup,
	"pause": OpPauseNode, "resume": OpResumeNode, "owners": OpSetGroupOwners, "add-owner": OpAddResourceOwner,
	"remove-owner": OpRemoveResourceOwner, "depend": OpSetDependency, "lock": OpLockResource,
	"unlock": OpUnlockResource, "cleanup": OpCleanupResource, "set-res": OpSetResourceProps,
	"set-group": OpSetGroupProps, "params": OpSetResourceParams, "fence-cmd": OpSetNodeFence,
	"apply": OpApplyConfig, "confirm-fenced": OpConfirmFenced,
}

// request builds a request: the first argument is the object the
// operation names (a group, a resource or a node); then g=, r=, node=,
// h=HANDLE, nodes=A,B, expr=, agent=, p.K=V (agent parameters), K=V
// (properties), and the flags il (ignore locked) and drain.
func (tr *transcript) request(opName string, words []string, doc []string) (*Request, error) {
	tr.reqID++
	q := &Request{ID: tr.reqID}
	op, ok := opNames[opName]
	if strings.HasPrefix(opName, "op") {
		op, ok = Op(atoi(strings.TrimPrefix(opName, "op"))), true
	}
	if !ok {
		return nil, fmt.Errorf("unknown operation %q", opName)
	}
	q.Op = op
	pos, kv := args(words)
	obj := ""
	if len(pos) > 0 {
		obj = pos[0]
	}
	switch op {
	case OpCreateGroup, OpDeleteGroup, OpOnlineGroup, OpOfflineGroup, OpMoveGroup, OpSetGroupOwners, OpSetGroupProps:
		q.Group = obj
	case OpPauseNode, OpResumeNode, OpSetNodeFence, OpConfirmFenced:
		q.Node = obj
	default:
		q.Resource = obj
	}
	for _, p := range pos[min(1, len(pos)):] {
		switch p {
		case "il":
			q.IgnoreLocked = true
		case "drain":
			q.Drain = true
		default:
			if op == OpMoveGroup || op == OpAddResourceOwner || op == OpRemoveResourceOwner {
				q.Node = p
			} else if op == OpSetDependency || op == OpSetNodeFence {
				q.Expr = p
			} else {
				return nil, fmt.Errorf("unexpected argument %q", p)
			}
		}
	}
	for k, v := range kv {
		switch {
		case k == "g":
			q.Group = v
		case k == "r":
			q.Resource = v
		case k == "node":
			q.Node = v
		case k == "h":
			q.Handle = uint64(atoi(v))
		case k == "nodes":
			q.Nodes = strings.Split(v, ",")
		case k == "expr":
			q.Expr = v
		case k == "agent":
			q.Agent = v
		case strings.HasPrefix(k, "p."):
			if q.Params == nil {
				q.Params = map[string]string{}
			}
			q.Params[strings.TrimPrefix(k, "p.")] = v
		default:
			if q.Props == nil {
				q.Props = map[string]string{}
			}
			q.Props[k] = v
		}
	}
	if op == OpApplyConfig {
		cfg, err := failover.ParseConfig(strings.NewReader(strings.Join(doc, "\n")))
		if err != nil {
			return nil, fmt.Errorf("the transcript's document: %w", err)
		}
		q.Config = cfg
	}
	return q, nil
}

func (tr *transcript) step(in Input) {
	for _, o := range tr.e.Step(in) {
		tr.printOutput(o)
	}
	if tr.check != nil {
		if err := tr.check(tr.e); err != nil {
			tr.printf("  CHECK FAILED: %v\n", err)
		}
	}
}

func q(s string) string {
	if s == "" || strings.ContainsAny(s, " \"\t") {
		return strconv.Quote(s)
	}
	return s
}

func short(s fmt.Stringer) string {
	x := s.String()
	for _, p := range []string{"ClusterGroup", "ClusterResource", "ClusterNode"} {
		x = strings.TrimPrefix(x, p)
	}
	return x
}

var timerNames = map[TimerKind]string{TimerRestart: "restart", TimerRetry: "retry", TimerWindow: "window", TimerFenceRetry: "fence-retry"}

func (tr *transcript) printOutput(o Output) {
	switch o.Kind {
	case OutReply:
		tr.codes[o.Reply.Code] = true
		msg := ""
		if o.Reply.Message != "" {
			msg = ": " + o.Reply.Message
		}
		tr.printf("  reply @%d %s%s\n", o.Node, o.Reply.Code, msg)
	case OutAction:
		a := *o.Action
		tr.actions[a.ID] = actionRec{node: o.Node, a: a}
		op := "start"
		if a.Op == ActStop {
			op = "stop"
		}
		var extra []string
		if len(a.Params) > 0 {
			var ps []string
			for _, k := range failover.SortedKeys(a.Params) {
				ps = append(ps, k+"="+a.Params[k])
			}
			extra = append(extra, "params="+q(strings.Join(ps, ",")))
		}
		if a.Op == ActStart {
			extra = append(extra, fmt.Sprintf("mon=%s/%s", a.MonitorInterval, a.MonitorTimeout))
		}
		if a.Fast {
			extra = append(extra, "fast")
		}
		if a.Adopt {
			extra = append(extra, "adopt")
		}
		tr.printf("  action @%d a%d %s %s timeout=%s%s\n", o.Node, a.ID, op, q(a.Resource), a.Timeout, prefixSpace(extra))
	case OutTimer:
		t := *o.Timer
		tr.timers[t.Token] = timerRec{node: o.Node, t: t}
		dep := ""
		if t.Departed != 0 {
			dep = fmt.Sprintf(" departed=%d", t.Departed)
		}
		tr.printf("  timer @%d t%d %s %s after=%s%s\n", o.Node, t.Token, timerNames[t.Kind], q(t.Key), t.After, dep)
	case OutFence:
		f := *o.Fence
		tr.fences[f.Token] = fenceRec{node: o.Node, f: f}
		tr.printf("  fence @%d t%d %s cmd=%s\n", o.Node, f.Token, q(f.Name), q(f.Command))
	case OutChange:
		c := o.Change
		switch {
		case c.Node != nil:
			tr.printf("  change node %s %s\n", q(c.Node.Name), short(c.Node.State))
		case c.Group != nil && c.Deleted:
			tr.printf("  change group %s deleted\n", q(c.Group.Name))
		case c.Group != nil:
			tr.printf("  change group %s %s owner=%s seq=%d\n", q(c.Group.Name), short(c.Group.State), q(c.Group.Owner), c.Group.Sequence)
		case c.Resource != nil && c.Deleted:
			tr.printf("  change resource %s deleted\n", q(c.Resource.Name))
		case c.Resource != nil:
			tr.printf("  change resource %s %s owner=%s seq=%d\n", q(c.Resource.Name), short(c.Resource.State), q(c.Resource.Owner), c.Resource.Sequence)
		}
	}
}

func prefixSpace(words []string) string {
	if len(words) == 0 {
		return ""
	}
	return " " + strings.Join(words, " ")
}

func (tr *transcript) view(cmd string, pos []string) error {
	arg := func(i int) string {
		if i < len(pos) {
			return pos[i]
		}
		return ""
	}
	switch cmd {
	case "show":
		switch arg(0) {
		case "group":
			if g, ok := tr.e.Group(arg(1)); ok {
				tr.printGroup(g)
			} else {
				tr.printf("  no group %s\n", q(arg(1)))
			}
		case "res":
			if r, ok := tr.e.Resource(arg(1)); ok {
				tr.printResource(r)
			} else {
				tr.printf("  no resource %s\n", q(arg(1)))
			}
		case "node":
			if n, ok := tr.e.Node(arg(1)); ok {
				tr.printNode(n)
			} else {
				tr.printf("  no node %s\n", q(arg(1)))
			}
		default:
			return fmt.Errorf("show what? %q", arg(0))
		}
	case "groups":
		for _, g := range tr.e.Groups() {
			tr.printGroup(g)
		}
	case "resources":
		for _, r := range tr.e.Resources() {
			tr.printResource(r)
		}
	case "nodes":
		for _, n := range tr.e.Nodes() {
			tr.printNode(n)
		}
	case "why":
		for _, s := range tr.e.Why(arg(0)) {
			tr.printf("  why: %s\n", s)
		}
	case "whygroup":
		for _, s := range tr.e.WhyGroup(arg(0)) {
			tr.printf("  why: %s\n", s)
		}
	case "running":
		tr.printf("  running @%s: %s\n", arg(0), strings.Join(tr.e.Running(nodeNum(arg(0))), ","))
	case "coord":
		c, ok := tr.e.Coordinator()
		tr.printf("  coordinator %d %v\n", c, ok)
	case "quorum":
		tr.printf("  quorum %v\n", tr.e.Quorum())
	case "window":
		tr.printf("  window %s\n", tr.e.Window(arg(0)))
	case "gen":
		tr.printf("  gen %d\n", tr.e.Gen())
	case "config":
		b, err := tr.e.Config().Marshal()
		if err != nil {
			return err
		}
		for _, l := range strings.Split(strings.TrimRight(string(b), "\n"), "\n") {
			tr.printf("  | %s\n", l)
		}
	default:
		return fmt.Errorf("unknown command %q", cmd)
	}
	return nil
}

func (tr *transcript) printGroup(g failover.GroupInfo) {
	tr.printf("  group %s %s owner=%s seq=%d uid=%d persistent=%s resources=%s", q(g.Name), short(g.State), q(g.Owner), g.Sequence,
		g.UID, g.PersistentState, strings.Join(g.Resources, ","))
	if g.MovingTo != "" {
		tr.printf(" moving-to=%s", q(g.MovingTo))
	}
	if g.Failovers > 0 {
		tr.printf(" failovers=%d", g.Failovers)
	}
	for _, k := range failover.SortedKeys(g.Status) {
		tr.printf(" %s=%q", k, g.Status[k])
	}
	tr.printf("\n")
}

func (tr *transcript) printResource(r failover.ResourceInfo) {
	tr.printf("  resource %s %s group=%s owner=%s seq=%d uid=%d persistent=%s", q(r.Name), short(r.State), q(r.Group), q(r.Owner),
		r.Sequence, r.UID, r.PersistentState)
	if r.Dependency != "" {
		tr.printf(" depends=%q", r.Dependency)
	}
	if len(r.PossibleOwners) > 0 {
		tr.printf(" possible=%s", strings.Join(r.PossibleOwners, ","))
	}
	if r.Locked {
		tr.printf(" locked")
	}
	if r.Restarts > 0 {
		tr.printf(" restarts=%d", r.Restarts)
	}
	if r.LastFailure != "" {
		tr.printf(" last-failure=%q", r.LastFailure)
	}
	tr.printf("\n")
}

func (tr *transcript) printNode(n failover.NodeInfo) {
	tr.printf("  node %s id=%d %s", q(n.Name), n.ID, short(n.State))
	if n.FenceCommand != "" {
		tr.printf(" fence=%q", n.FenceCommand)
	}
	if len(n.Groups) > 0 {
		tr.printf(" groups=%s", q(strings.Join(n.Groups, ",")))
	}
	tr.printf("\n")
}
