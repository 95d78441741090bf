package protocol

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/wire"
)

var update = flag.Bool("update", false, "rewrite testdata/*.txt with the engine's current output")

// The transcript language. Each input line is one command; the runner echoes
// it and prints, indented, the effects of the event it makes. Lines starting
// with '#' and blank lines are kept. Output lines (indented) are regenerated.
//
//	connect c1 node=1 pid=100 [uid=N gid=N script=PATH]
//	kill c1                  the connection drops (EventDisconnect)
//	quit c1                  OpQuit
//	join c1 tok=1 group=g inst=1 [phases=1|n limit=S vote=approve|reject batch=none|joins|leaves|both name=G lname=X]
//	         [src=G srcphases=1|n srclimit=S]   (also for attrs)
//	         [grant=1]   the client's node grants it the group (Event.Grant)
//	leave c1 tok=1 [phases=1|n limit=S code=N]
//	goodbye c1 tok=1
//	expel c1 tok=1 who=1@1,2@1 [phases=1|n limit=S dphase=N flag=X]
//	state c1 tok=1 value=X [phases limit]     ("value=" alone: empty, no value key: absent)
//	msg c1 tok=1 value=X [phases limit]
//	attrs c1 tok=1 [phases limit] [gphases=1|n glimit=S vote= batch= name= src=]
//	vote c1 tok=1 approve|continue|reject|null [state=X msg=X default=approve|reject]
//	sub c1 tok=5 group=g ctl=state,joins,leaves,all,deltas
//	unsub c1 tok=5
//	op c1 tok=1 code=N       a request with a raw Op number
//	nodeup 2 / nodedown 2
//	tick [+5s]               advance the clock, then EventTick
//	script ID ok|failed|timedout|notrun
//	unresponsive c1 / responsive c1
//	show G / groups / deadline / clients
//	limits [providers=N] [groups=N]   lower the engine's limits
func TestTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	require.NoError(t, err)
	require.NotEmpty(t, files, "expected transcripts in testdata/")
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".txt"), func(t *testing.T) {
			data, err := os.ReadFile(f)
			require.NoError(t, err)
			got, err := runTranscript(string(data))
			require.NoError(t, err, "transcript %s must parse", f)
			if *update {
				require.NoError(t, os.WriteFile(f, []byte(got), 0o644))
				return
			}
			require.Equal(t, string(data), got, "engine output differs from %s (run with -update and review the diff)", f)
		})
	}
}

const t0 = int64(1_000_000) * 1e9

type transcript struct {
	e       *Engine
	now     int64
	clients map[string]ClientID
	names   map[ClientID]string
	conn    uint64
	out     strings.Builder
}

func runTranscript(in string) (string, error) {
	tr := &transcript{e: New(), now: t0, clients: map[string]ClientID{}, names: map[ClientID]string{}}
	for n, line := range strings.Split(strings.TrimRight(in, "\n"), "\n") {
		if strings.HasPrefix(line, "  ") {
			continue // previous output
		}
		tr.out.WriteString(line + "\n")
		if strings.TrimSpace(line) == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if err := tr.run(line); err != nil {
			return "", fmt.Errorf("line %d %q: %w", n+1, line, err)
		}
	}
	return tr.out.String(), nil
}

func (tr *transcript) printf(format string, args ...any) {
	fmt.Fprintf(&tr.out, format, args...)
}

func (tr *transcript) run(line string) error {
	f := strings.Fields(line)
	cmd, args := f[0], f[1:]
	kv := map[string]string{}
	var pos []string
	for _, a := range args {
		if k, v, ok := strings.Cut(a, "="); ok {
			kv[k] = v
		} else {
			pos = append(pos, a)
		}
	}
	ev := Event{}
	cl := func() (ClientID, error) {
		if len(pos) == 0 {
			return ClientID{}, fmt.Errorf("missing client name")
		}
		id, ok := tr.clients[pos[0]]
		if !ok {
			return ClientID{}, fmt.Errorf("unknown client %s", pos[0])
		}
		return id, nil
	}
	var err error
	switch cmd {
	case "connect":
		tr.conn++
		id := ClientID{Node: int32(atoi(kv["node"])), Conn: tr.conn}
		tr.clients[pos[0]] = id
		tr.names[id] = pos[0]
		ev = Event{Kind: EventConnect, Client: id,
			Cred:  Cred{Pid: int32(atoi(kv["pid"])), Uid: uint32(atoi(kv["uid"])), Gid: uint32(atoi(kv["gid"]))},
			Hello: &wire.Hello{Pid: int32(atoi(kv["pid"])), DeactivateScript: kv["script"]}}
	case "kill":
		ev.Kind = EventDisconnect
		ev.Client, err = cl()
	case "unresponsive", "responsive":
		ev.Kind = EventResponsiveness
		ev.Client, err = cl()
		ev.Responsive = cmd == "responsive"
	case "nodeup", "nodedown":
		ev.Kind = EventNodeUp
		if cmd == "nodedown" {
			ev.Kind = EventNodeDown
		}
		ev.Node = int32(atoi(pos[0]))
	case "tick":
		if len(pos) > 0 {
			d, perr := parseDur(pos[0])
			if perr != nil {
				return perr
			}
			tr.now += d
		}
		ev.Kind = EventTick
	case "script":
		ev.Kind = EventScriptDone
		res := map[string]wire.DeactivateResult{"ok": wire.DeactivateOK, "failed": wire.DeactivateFailed,
			"timedout": wire.DeactivateTimedOut, "notrun": wire.DeactivateNotRun}[pos[1]]
		ev.Script = &ScriptResult{ID: uint64(atoi(pos[0])), Result: res}
	case "show":
		tr.show(pos[0])
		return nil
	case "groups":
		for _, s := range tr.e.Groups() {
			tr.printf("  %s providers=%d subscribers=%d protocol=%q\n", s.Name, s.Providers, s.Subscribers, s.Protocol)
		}
		return nil
	case "deadline":
		if d, ok := tr.e.NextDeadline(); ok {
			tr.printf("  deadline +%ds\n", (d-tr.now)/1e9)
		} else {
			tr.printf("  deadline none\n")
		}
		return nil
	case "limits":
		if v, ok := kv["providers"]; ok {
			tr.e.maxProviders = atoi(v)
		}
		if v, ok := kv["groups"]; ok {
			tr.e.maxGroups = atoi(v)
		}
		return nil
	case "clients":
		tr.printf("  clients %d\n", tr.e.Clients())
		return nil
	default:
		ev.Kind = EventRequest
		ev.Client, err = cl()
		if err == nil {
			ev.Request, err = tr.request(cmd, pos, kv)
		}
		ev.Grant = kv["grant"] == "1"
	}
	if err != nil {
		return err
	}
	ev.Time = tr.now
	for _, eff := range tr.e.Step(ev) {
		tr.printEffect(eff)
	}
	return nil
}

func atoi(s string) int {
	n, _ := strconv.Atoi(s)
	return n
}

func parseDur(s string) (int64, error) {
	s = strings.TrimPrefix(s, "+")
	if !strings.HasSuffix(s, "s") {
		return 0, fmt.Errorf("duration %q: want +Ns", s)
	}
	n, err := strconv.Atoi(strings.TrimSuffix(s, "s"))
	return int64(n) * 1e9, err
}

func phasesOf(s string) wire.NumPhases {
	switch s {
	case "n":
		return wire.NPhase
	case "1", "":
		return wire.OnePhase
	}
	return wire.NumPhases(atoi(s))
}

func voteOf(s string) wire.Vote {
	return map[string]wire.Vote{"approve": wire.VoteApprove, "continue": wire.VoteContinue,
		"reject": wire.VoteReject, "null": wire.NullVote, "bogus": 7}[s]
}

func attrsOf(kv map[string]string, prefix, name string) *wire.Attributes {
	a := &wire.Attributes{GroupName: name, NumPhases: phasesOf(kv[prefix+"phases"]),
		DefaultVote: wire.VoteApprove, TimeLimit: uint32(atoi(kv[prefix+"limit"]))}
	if v, ok := kv["vote"]; ok {
		a.DefaultVote = voteOf(v)
	}
	if v, ok := kv["name"]; ok {
		a.GroupName = v
	}
	a.SourceGroupName = kv["src"]
	if a.SourceGroupName != "" {
		a.SourceReflectionNumPhases = phasesOf(kv["srcphases"])
		a.SourceReflectionTimeLimit = uint32(atoi(kv["srclimit"]))
	}
	a.BatchControl = map[string]wire.BatchControl{"": wire.NoBatching, "none": wire.NoBatching,
		"joins": wire.BatchJoins, "leaves": wire.BatchFailureLeaves, "both": wire.BatchBoth}[kv["batch"]]
	return a
}

func bytesOf(kv map[string]string, k string) []byte {
	v, ok := kv[k]
	if !ok {
		return nil
	}
	if n, err := strconv.Atoi(strings.TrimPrefix(v, "len")); strings.HasPrefix(v, "len") && err == nil {
		return []byte(strings.Repeat("x", n))
	}
	return []byte(v)
}

func (tr *transcript) request(cmd string, pos []string, kv map[string]string) (*wire.Request, error) {
	r := &wire.Request{Token: int32(atoi(kv["tok"])), NumPhases: phasesOf(kv["phases"]),
		TimeLimit: uint32(atoi(kv["limit"]))}
	switch cmd {
	case "join":
		r.Op = wire.OpJoin
		r.NumPhases = 0
		r.TimeLimit = 0
		r.Group = kv["group"]
		r.Instance = int32(atoi(kv["inst"]))
		r.LocalName = kv["lname"]
		r.Attributes = attrsOf(kv, "", r.Group)
	case "leave":
		r.Op = wire.OpLeave
		r.LeaveCode = uint32(atoi(kv["code"]))
	case "goodbye":
		r.Op = wire.OpGoodbye
	case "quit":
		r.Op = wire.OpQuit
	case "expel":
		r.Op = wire.OpExpel
		if w := kv["who"]; w != "" {
			for _, p := range strings.Split(w, ",") {
				i, n, _ := strings.Cut(p, "@")
				r.ExpelList = append(r.ExpelList, wire.Provider{Instance: int32(atoi(i)), Node: int32(atoi(n))})
			}
		}
		r.DeactivatePhase = uint32(atoi(kv["dphase"]))
		if f, ok := kv["flag"]; ok {
			if n, err := strconv.Atoi(strings.TrimPrefix(f, "len")); strings.HasPrefix(f, "len") && err == nil {
				f = strings.Repeat("f", n)
			}
			r.DeactivateFlag = &f
		}
	case "state":
		r.Op = wire.OpChangeState
		r.State = bytesOf(kv, "value")
	case "msg":
		r.Op = wire.OpSendMessage
		r.Message = bytesOf(kv, "value")
	case "attrs":
		r.Op = wire.OpChangeAttributes
		r.Attributes = attrsOf(kv, "g", kv["name"])
	case "vote":
		r.Op = wire.OpVote
		r.NumPhases = 0
		r.Vote = voteOf(pos[1])
		r.DefaultVote = voteOf(kv["default"])
		r.State = bytesOf(kv, "state")
		r.Message = bytesOf(kv, "msg")
	case "sub":
		r.Op = wire.OpSubscribe
		r.Group = kv["group"]
		for _, c := range strings.Split(kv["ctl"], ",") {
			r.Control |= map[string]wire.SubscriptionControl{"state": wire.SubscribeStateValue,
				"joins": wire.SubscribeDeltaJoins, "leaves": wire.SubscribeDeltaLeaves,
				"all": wire.SubscribeAllMembership, "deltas": wire.SubscribeDeltasOnly}[c]
		}
	case "unsub":
		r.Op = wire.OpUnsubscribe
	case "op":
		r.Op = wire.Op(atoi(kv["code"]))
	default:
		return nil, fmt.Errorf("unknown command %q", cmd)
	}
	return r, nil
}

// Printing.

func provs(ps []wire.Provider) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = fmt.Sprintf("%d@%d", p.Instance, p.Node)
	}
	return "[" + strings.Join(s, " ") + "]"
}

func bstr(b []byte) string {
	if len(b) > 40 {
		return fmt.Sprintf("<%d bytes>", len(b))
	}
	return strconv.Quote(string(b))
}

func flagNames[T ~uint32](v T, names []string) string {
	var out []string
	for i, n := range names {
		if v&(1<<i) != 0 {
			out = append(out, n)
		}
	}
	if rest := uint32(v) &^ (1<<len(names) - 1); rest != 0 {
		out = append(out, fmt.Sprintf("%#x", rest))
	}
	if len(out) == 0 {
		return "0"
	}
	return strings.Join(out, "|")
}

var summaryNames = []string{"explicit-approve", "explicit-reject", "default-approve", "default-reject",
	"time-limit", "provider-failure", "no-response", "response", "deactivate-ok", "deactivate-failed",
	"deactivate-timeout", "dissolved", "gs-died"}
var whatNames = []string{"membership", "state", "message", "attributes"}
var subNames = []string{"state", "join", "leave", "dissolved", "special"}
var typeNames = map[wire.NotificationType]string{wire.NPhaseNotification: "nphase",
	wire.ApprovedNotification: "approved", wire.RejectedNotification: "rejected",
	wire.AnnouncementNotification: "announce", wire.SubscriptionNotification: "subscription",
	wire.DelayedErrorNotification: "error"}
var reasonNames = map[wire.LeaveReason]string{wire.ProviderLeft: "left", wire.ProviderProcessDied: "died",
	wire.ProviderNodeDied: "node-died", wire.ProviderSaidGoodbye: "goodbye", wire.ProviderExpelled: "expelled"}
var resultNames = map[wire.DeactivateResult]string{wire.DeactivateNotRun: "notrun", wire.DeactivateOK: "ok",
	wire.DeactivateFailed: "failed", wire.DeactivateTimedOut: "timedout"}

func (tr *transcript) printEffect(eff Effect) {
	if eff.Kind == EffectRunScript {
		s := eff.Script
		flag := "nil"
		if s.Flag != nil {
			flag = bstr([]byte(*s.Flag))
		}
		tr.printf("  runscript id=%d node=%d owner=%s path=%s uid=%d gid=%d group=%s provider=%d@%d pid=%d flag=%s limit=%d\n",
			s.ID, s.Node, tr.names[s.Owner], s.Path, s.Uid, s.Gid, s.Group, s.Provider.Instance, s.Provider.Node,
			s.Pid, flag, s.TimeLimit)
		return
	}
	n := eff.Note
	to := make([]string, len(eff.To))
	for i, r := range eff.To {
		to[i] = fmt.Sprintf("%s:%d", tr.names[r.Client], r.Token)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "  %s to=%s", typeNames[n.Type], strings.Join(to, ","))
	if n.Group != "" {
		fmt.Fprintf(&b, " group=%s", n.Group)
	}
	if n.Protocol != 0 {
		fmt.Fprintf(&b, " proto=%s", n.Protocol.Short())
	}
	if n.Summary != 0 {
		fmt.Fprintf(&b, " sum=%s", flagNames(n.Summary, summaryNames))
	}
	if n.TimeLimit != 0 {
		fmt.Fprintf(&b, " limit=%d", n.TimeLimit)
	}
	switch n.Type {
	case wire.AnnouncementNotification:
		fmt.Fprintf(&b, " provs=%s", provs(n.Providers))
	case wire.SubscriptionNotification:
		fmt.Fprintf(&b, " subtype=%s", flagNames(n.SubType, subNames))
		if n.State != nil {
			fmt.Fprintf(&b, " state=%s", bstr(n.State))
		}
		if n.Full != nil {
			fmt.Fprintf(&b, " full=%s", provs(n.Full))
		}
		if n.Changing != nil {
			fmt.Fprintf(&b, " chg=%s", provs(n.Changing))
		}
	case wire.DelayedErrorNotification:
		fmt.Fprintf(&b, " code=%s failing=%s tok=%d", n.Code, n.Failing.Op, n.Failing.Token)
	}
	tr.printf("%s\n", b.String())
	if p := n.Proposal; p != nil {
		b.Reset()
		fmt.Fprintf(&b, "    phase=%d what=%s cur=%s chg=%s", p.Phase, flagNames(p.WhatsChanged, whatNames),
			provs(p.Current), provs(p.Changing))
		if p.CurrentState != nil {
			fmt.Fprintf(&b, " cstate=%s", bstr(p.CurrentState))
		}
		if p.ProposedState != nil {
			fmt.Fprintf(&b, " pstate=%s", bstr(p.ProposedState))
		}
		if p.Message != nil {
			fmt.Fprintf(&b, " msg=%s", bstr(p.Message))
		}
		if a := p.ProposedAttributes; a != nil {
			fmt.Fprintf(&b, " pattrs={phases=%d vote=%d batch=%d limit=%d}", a.NumPhases, a.DefaultVote, a.BatchControl, a.TimeLimit)
		}
		if len(p.LeaveInfo) > 0 {
			li := make([]string, len(p.LeaveInfo))
			for i, l := range p.LeaveInfo {
				li[i] = fmt.Sprintf("%s:%d", reasonNames[l.Reason], l.Code)
			}
			fmt.Fprintf(&b, " leave=[%s]", strings.Join(li, " "))
		}
		if x := p.ExpelInfo; x != nil {
			rs := make([]string, len(x.Results))
			for i, r := range x.Results {
				rs[i] = resultNames[r]
			}
			flag := "nil"
			if x.Flag != nil {
				flag = bstr([]byte(*x.Flag))
			}
			fmt.Fprintf(&b, " expel={dphase=%d flag=%s results=[%s]}", x.Phase, flag, strings.Join(rs, " "))
		}
		tr.printf("%s\n", b.String())
	}
}

func (tr *transcript) show(name string) {
	d, ok := tr.e.Group(name)
	if !ok {
		tr.printf("  no group %s\n", name)
		return
	}
	a := d.Attributes
	tr.printf("  group %s owner=%d phases=%d vote=%d batch=%d limit=%d state=%s queued=%d\n", d.Name, d.Owner, a.NumPhases,
		a.DefaultVote, a.BatchControl, a.TimeLimit, bstr(d.State), d.Queued)
	if a.SourceGroupName != "" {
		tr.printf("    source %s srcphases=%d srclimit=%d\n", a.SourceGroupName, a.SourceReflectionNumPhases,
			a.SourceReflectionTimeLimit)
	}
	for _, p := range d.Providers {
		tr.printf("    provider %d@%d pid=%d lname=%q\n", p.Provider.Instance, p.Provider.Node, p.Pid, p.LocalName)
	}
	for _, s := range d.Subscribers {
		tr.printf("    subscriber node=%d pid=%d ctl=%s\n", s.Node, s.Pid,
			flagNames(s.Control, []string{"state", "joins", "leaves", "deltas"}))
	}
	if p := d.Protocol; p != nil {
		tr.printf("    running %s phase=%d proposer=%d@%d waiting=%s\n", p.Type.Short(), p.Phase,
			p.Proposer.Instance, p.Proposer.Node, provs(p.Waiting))
	}
}
