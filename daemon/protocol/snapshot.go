package protocol

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"slices"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/openhags/hags/internal/wire"
)

// SnapshotVersion is the format of the snapshots Snapshot writes: the first
// byte of every snapshot. Restore refuses any other.
//
// Version 2 added each group's owner uid and denied tokens. Version 1
// snapshots are refused like any other: their groups have no owner, and
// an owner is not something to guess (docs/access-control.md, "Upgrading").
const SnapshotVersion = 2

// ErrSnapshot is wrapped by every error Restore returns for bytes it cannot
// take: truncated, corrupted, of another version, or describing a state the
// engine could never be in.
var ErrSnapshot = errors.New("protocol: bad engine snapshot")

// The engine's state is a graph: tokens, protocols and queues point at
// members, members at their clients, clients (through tokens) at groups,
// groups at their source and targets. A snapshot writes it as four tables —
// clients, groups, members, subscriptions — in which every pointer becomes
// an index. Objects no map of the engine holds any more (a client that
// disconnected while its providers' failure leave is still queued, a
// dissolved group that an ended token still names) are in the tables too,
// so that a restored engine answers every later event exactly as the
// original would. The tables are filled by a walk in a fixed order (groups
// by name, clients by id, tokens by number, scripts by id), so the same
// state always gives the same bytes.

// snapState is the whole engine.
type snapState struct {
	_            struct{}     `msgpack:",as_array"`
	Now          int64        `msgpack:"now"`
	ScriptID     uint64       `msgpack:"script"`
	MaxProviders int          `msgpack:"maxprov"`
	MaxGroups    int          `msgpack:"maxgroups"`
	Clients      []snapClient `msgpack:"clients"`
	Groups       []snapGroup  `msgpack:"groups"`
	Members      []snapMember `msgpack:"members"`
	Subs         []snapSub    `msgpack:"subs"`
	Live         []int        `msgpack:"live"` // Groups indexes of Engine.groups, by name
	LiveClients  []int        `msgpack:"liveclients"`
	Host         int          `msgpack:"host"`
}

type snapClient struct {
	_            struct{}    `msgpack:",as_array"`
	ID           ClientID    `msgpack:"id"`
	Cred         Cred        `msgpack:"cred"`
	Hello        wire.Hello  `msgpack:"hello"`
	Tokens       []snapToken `msgpack:"tokens"` // by token number
	Unresponsive bool        `msgpack:"unresp"`
}

type snapToken struct {
	_      struct{}   `msgpack:",as_array"`
	Token  int32      `msgpack:"t"`
	State  tokenState `msgpack:"s"`
	Group  int        `msgpack:"g"` // -1: none (a denied token)
	Member int        `msgpack:"m"` // -1: none
	Sub    int        `msgpack:"sub"`
	Denied string     `msgpack:"denied"` // a denied token's group name
}

type snapMember struct {
	_         struct{}      `msgpack:",as_array"`
	P         wire.Provider `msgpack:"p"`
	Client    int           `msgpack:"c"` // -1: none (a HostMembership node)
	Token     int32         `msgpack:"t"`
	LocalName string        `msgpack:"name"`
	Failed    bool          `msgpack:"failed"`
}

type snapSub struct {
	_      struct{}                 `msgpack:",as_array"`
	Client int                      `msgpack:"c"`
	Token  int32                    `msgpack:"t"`
	Ctl    wire.SubscriptionControl `msgpack:"ctl"`
}

type snapGroup struct {
	_       struct{}        `msgpack:",as_array"`
	Name    string          `msgpack:"name"`
	Owner   uint32          `msgpack:"owner"`
	Attrs   wire.Attributes `msgpack:"attrs"`
	State   []byte          `msgpack:"state"`
	Members []int           `msgpack:"members"`
	Subs    []int           `msgpack:"subs"`
	Running *snapProto      `msgpack:"running"`
	Queue   []snapQueued    `msgpack:"queue"`
	System  bool            `msgpack:"system"`
	Source  int             `msgpack:"source"` // -1: none
	Targets []int           `msgpack:"targets"`
}

type snapQueued struct {
	_       struct{}         `msgpack:",as_array"`
	Join    int              `msgpack:"join"` // -1: none
	Fail    int              `msgpack:"fail"` // -1: none
	Reason  wire.LeaveReason `msgpack:"reason"`
	Reflect *snapReflection  `msgpack:"reflect"`
	Script  bool             `msgpack:"script"`
}

type snapReflection struct {
	_         struct{}         `msgpack:",as_array"`
	Changing  []wire.Provider  `msgpack:"changing"`
	LeaveInfo []wire.LeaveInfo `msgpack:"leave"`
	State     []byte           `msgpack:"state"`
	Dissolved bool             `msgpack:"dissolved"`
}

type snapProto struct {
	_              struct{}          `msgpack:",as_array"`
	Kind           wire.RequestType  `msgpack:"kind"`
	Proposer       int               `msgpack:"proposer"` // -1: none
	NPhase         bool              `msgpack:"nphase"`
	Limit          uint32            `msgpack:"limit"`
	Phase          uint32            `msgpack:"phase"`
	What           wire.WhatsChanged `msgpack:"what"`
	Joiners        []int             `msgpack:"joiners"`
	Leavers        []int             `msgpack:"leavers"`
	LeaveInfo      []wire.LeaveInfo  `msgpack:"leave"`
	Expel          *snapExpel        `msgpack:"expel"`
	Reflect        *snapReflection   `msgpack:"reflect"`
	ProposedState  []byte            `msgpack:"proposed"`
	BaseMessage    []byte            `msgpack:"msg"`
	VoteMessage    []byte            `msgpack:"votemsg"`
	Attrs          *wire.Attributes  `msgpack:"attrs"`
	Participants   []int             `msgpack:"participants"`
	Voted          []bool            `msgpack:"voted"`
	Votes          []wire.Vote       `msgpack:"votes"`
	Defaults       []wire.Vote       `msgpack:"defaults"`
	Delivered      bool              `msgpack:"delivered"`
	Deadline       int64             `msgpack:"deadline"`
	ScriptDeadline int64             `msgpack:"scriptdeadline"`
	Failure        bool              `msgpack:"failure"`
	UsedDefault    bool              `msgpack:"useddefault"`
}

type snapExpel struct {
	_        struct{}                `msgpack:",as_array"`
	Phase    uint32                  `msgpack:"phase"`
	Flag     *string                 `msgpack:"flag"`
	Results  []wire.DeactivateResult `msgpack:"results"`
	Ran      []bool                  `msgpack:"ran"`
	Pending  []snapScript            `msgpack:"pending"` // by script id
	RanPhase uint32                  `msgpack:"ranphase"`
	Summary  wire.SummaryCode        `msgpack:"summary"`
}

type snapScript struct {
	_    struct{} `msgpack:",as_array"`
	ID   uint64   `msgpack:"id"`
	Idx  int      `msgpack:"idx"`
	Node int32    `msgpack:"node"`
}

// Snapshot writes the engine's complete state: everything Step, the admin
// views and NextDeadline depend on. The same state always gives the same
// bytes. Restore reads them back. The engine is not changed.
func (e *Engine) Snapshot() ([]byte, error) {
	w := newSnapWriter()
	st := w.write(e)
	var buf bytes.Buffer
	buf.WriteByte(SnapshotVersion)
	enc := msgpack.NewEncoder(&buf)
	if err := enc.Encode(st); err != nil {
		return nil, fmt.Errorf("protocol: encode engine snapshot: %w", err)
	}
	return buf.Bytes(), nil
}

// snapWriter numbers the engine's objects as it meets them.
type snapWriter struct {
	clients numbering[client]
	groups  numbering[group]
	members numbering[member]
	subs    numbering[subscription]
}

// numbering gives each object met the next index of its table, once.
type numbering[T any] struct {
	index map[*T]int
	list  []*T // by index
}

// of returns p's index (-1 for nil), and whether p was met just now.
func (n *numbering[T]) of(p *T) (int, bool) {
	if p == nil {
		return -1, false
	}
	if i, ok := n.index[p]; ok {
		return i, false
	}
	if n.index == nil {
		n.index = make(map[*T]int)
	}
	n.index[p] = len(n.list)
	n.list = append(n.list, p)
	return len(n.list) - 1, true
}

func newSnapWriter() *snapWriter { return &snapWriter{} }

func (w *snapWriter) client(c *client) int {
	i, _ := w.clients.of(c)
	return i
}

func (w *snapWriter) group(g *group) int {
	i, _ := w.groups.of(g)
	return i
}

// member numbers m and, when it is new, its client.
func (w *snapWriter) member(m *member) int {
	i, met := w.members.of(m)
	if met {
		w.client(m.client)
	}
	return i
}

// sub numbers s and, when it is new, its client.
func (w *snapWriter) sub(s *subscription) int {
	i, met := w.subs.of(s)
	if met {
		w.client(s.client)
	}
	return i
}

func (w *snapWriter) memberList(ms []*member) []int {
	if ms == nil {
		return nil
	}
	out := make([]int, len(ms))
	for i, m := range ms {
		out[i] = w.member(m)
	}
	return out
}

// write walks the engine: live groups by name, live clients by id, then
// whatever those led to, until every object met has been written.
func (w *snapWriter) write(e *Engine) *snapState {
	st := &snapState{
		Now:          e.now,
		ScriptID:     e.scriptID,
		MaxProviders: e.maxProviders,
		MaxGroups:    e.maxGroups,
	}
	for _, g := range e.sortedGroups() {
		st.Live = append(st.Live, w.group(g))
	}
	st.Host = w.group(e.host)
	ids := make([]ClientID, 0, len(e.clients))
	for id := range e.clients {
		ids = append(ids, id)
	}
	slices.SortFunc(ids, compareClientIDs)
	for _, id := range ids {
		st.LiveClients = append(st.LiveClients, w.client(e.clients[id]))
	}
	// Writing a group or a client may meet new ones: loop until both
	// tables are written out.
	for len(st.Groups) < len(w.groups.list) || len(st.Clients) < len(w.clients.list) {
		for len(st.Groups) < len(w.groups.list) {
			st.Groups = append(st.Groups, w.writeGroup(w.groups.list[len(st.Groups)]))
		}
		for len(st.Clients) < len(w.clients.list) {
			st.Clients = append(st.Clients, w.writeClient(w.clients.list[len(st.Clients)]))
		}
	}
	// Members and subscriptions point only at clients, all written above.
	for _, m := range w.members.list {
		st.Members = append(st.Members, snapMember{
			P: m.p, Client: w.client(m.client), Token: m.token, LocalName: m.localName, Failed: m.failed,
		})
	}
	for _, s := range w.subs.list {
		st.Subs = append(st.Subs, snapSub{Client: w.client(s.client), Token: s.token, Ctl: s.ctl})
	}
	return st
}

func compareClientIDs(a, b ClientID) int {
	if c := cmp.Compare(a.Node, b.Node); c != 0 {
		return c
	}
	return cmp.Compare(a.Conn, b.Conn)
}

func (w *snapWriter) writeGroup(g *group) snapGroup {
	sg := snapGroup{
		Name:    g.name,
		Owner:   g.owner,
		Attrs:   g.attrs,
		State:   cloneBytes(g.state),
		Members: w.memberList(g.members),
		Running: w.writeProto(g.running),
		System:  g.system,
		Source:  w.group(g.source),
	}
	if g.subs != nil {
		sg.Subs = make([]int, len(g.subs))
		for i, s := range g.subs {
			sg.Subs[i] = w.sub(s)
		}
	}
	if g.queue != nil {
		sg.Queue = make([]snapQueued, len(g.queue))
		for i, q := range g.queue {
			sg.Queue[i] = snapQueued{Join: w.member(q.join), Fail: w.member(q.fail), Reason: q.reason, Reflect: writeReflection(q.reflect), Script: q.script}
		}
	}
	if g.targets != nil {
		sg.Targets = make([]int, len(g.targets))
		for i, t := range g.targets {
			sg.Targets[i] = w.group(t)
		}
	}
	return sg
}

func writeReflection(r *reflection) *snapReflection {
	if r == nil {
		return nil
	}
	return &snapReflection{Changing: r.changing, LeaveInfo: r.leaveInfo, State: r.state, Dissolved: r.dissolved}
}

func (w *snapWriter) writeProto(p *proto) *snapProto {
	if p == nil {
		return nil
	}
	sp := &snapProto{
		Kind:           p.kind,
		Proposer:       w.member(p.proposer),
		NPhase:         p.nphase,
		Limit:          p.limit,
		Phase:          p.phase,
		What:           p.what,
		Joiners:        w.memberList(p.joiners),
		Leavers:        w.memberList(p.leavers),
		LeaveInfo:      p.leaveInfo,
		Reflect:        writeReflection(p.reflect),
		ProposedState:  p.proposedState,
		BaseMessage:    p.baseMessage,
		VoteMessage:    p.voteMessage,
		Attrs:          p.attrs,
		Participants:   w.memberList(p.participants),
		Voted:          p.voted,
		Votes:          p.votes,
		Defaults:       p.defaults,
		Delivered:      p.delivered,
		Deadline:       p.deadline,
		ScriptDeadline: p.scriptDeadline,
		Failure:        p.failure,
		UsedDefault:    p.usedDefault,
	}
	if x := p.expel; x != nil {
		sx := &snapExpel{Phase: x.phase, Flag: x.flag, Results: x.results, Ran: x.ran, RanPhase: x.ranPhase, Summary: x.summary}
		for _, id := range p.sortedScripts() {
			ps := x.pending[id]
			sx.Pending = append(sx.Pending, snapScript{ID: id, Idx: ps.idx, Node: ps.node})
		}
		sp.Expel = sx
	}
	return sp
}

func (w *snapWriter) writeClient(c *client) snapClient {
	sc := snapClient{ID: c.id, Cred: c.cred, Hello: c.hello, Unresponsive: c.unresponsive}
	for _, t := range c.sortedTokens() {
		r := c.tokens[t]
		sc.Tokens = append(sc.Tokens, snapToken{
			Token: t, State: r.state, Group: w.group(r.group), Member: w.member(r.member), Sub: w.sub(r.sub),
			Denied: r.denied,
		})
	}
	return sc
}

// Restore returns an engine in the state a snapshot written by Snapshot
// describes. It refuses, with an error wrapping ErrSnapshot, bytes of an
// unknown version, truncated or corrupted ones, and any state that names
// objects it does not hold or whose parts disagree (for example votes for
// fewer voters than the protocol has); it never panics.
func Restore(data []byte) (*Engine, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%w: empty", ErrSnapshot)
	}
	if data[0] != SnapshotVersion {
		return nil, fmt.Errorf("%w: version %d, this engine reads version %d only", ErrSnapshot, data[0], SnapshotVersion)
	}
	if err := wire.CheckShape(data[1:]); err != nil { // before the decoder allocates what it declares
		return nil, fmt.Errorf("%w: %w", ErrSnapshot, err)
	}
	rd := bytes.NewReader(data[1:]) // a ByteScanner: the decoder reads no further than it needs
	var st snapState
	if err := msgpack.NewDecoder(rd).Decode(&st); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSnapshot, err)
	}
	if rd.Len() > 0 {
		return nil, fmt.Errorf("%w: trailing bytes", ErrSnapshot)
	}
	e, err := (&snapReader{st: &st}).read()
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrSnapshot, err)
	}
	return e, nil
}

// Load replaces e's whole state with the one a snapshot describes, as
// Restore reads it. On error e is unchanged. Owners that hand the engine's
// pointer to others (the daemon's admin queries) restore in place with it.
func (e *Engine) Load(data []byte) error {
	n, err := Restore(data)
	if err != nil {
		return err
	}
	*e = *n
	return nil
}

// Serves reports whether anything in the engine depends on node: a client
// session of that node, or a deactivate script the engine waits for there.
// A daemon that skipped part of the log (it restored a snapshot) and is
// served this way may have missed effects aimed at it.
func (e *Engine) Serves(node int32) bool {
	for id := range e.clients {
		if id.Node == node {
			return true
		}
	}
	for _, g := range e.groups {
		if p := g.running; p != nil && p.expel != nil {
			for _, ps := range p.expel.pending {
				if ps.node == node {
					return true
				}
			}
		}
	}
	return false
}

// snapReader rebuilds the engine's objects from the tables, checking every
// index and every length the engine relies on.
type snapReader struct {
	st      *snapState
	clients []*client
	groups  []*group
	members []*member
	subs    []*subscription
}

func (r *snapReader) read() (*Engine, error) {
	st := r.st
	if st.MaxProviders < 0 || st.MaxGroups < 0 {
		return nil, errors.New("negative limits")
	}
	r.clients = make([]*client, len(st.Clients))
	for i := range r.clients {
		r.clients[i] = &client{}
	}
	r.groups = make([]*group, len(st.Groups))
	for i := range r.groups {
		r.groups[i] = &group{}
	}
	r.members = make([]*member, len(st.Members))
	for i, sm := range st.Members {
		c, err := r.optClient(sm.Client)
		if err != nil {
			return nil, fmt.Errorf("member %d: %w", i, err)
		}
		r.members[i] = &member{p: sm.P, client: c, token: sm.Token, localName: sm.LocalName, failed: sm.Failed}
	}
	r.subs = make([]*subscription, len(st.Subs))
	for i, ss := range st.Subs {
		c, err := r.optClient(ss.Client)
		if err != nil || c == nil {
			return nil, fmt.Errorf("subscription %d: no client %d", i, ss.Client)
		}
		r.subs[i] = &subscription{client: c, token: ss.Token, ctl: ss.Ctl}
	}
	for i := range st.Clients {
		if err := r.readClient(r.clients[i], &st.Clients[i]); err != nil {
			return nil, fmt.Errorf("client %d: %w", i, err)
		}
	}
	for i := range st.Groups {
		if err := r.readGroup(r.groups[i], &st.Groups[i]); err != nil {
			return nil, fmt.Errorf("group %d: %w", i, err)
		}
	}

	if err := r.checkLinks(); err != nil {
		return nil, err
	}
	e := &Engine{
		now:          st.Now,
		scriptID:     st.ScriptID,
		maxProviders: st.MaxProviders,
		maxGroups:    st.MaxGroups,
		clients:      make(map[ClientID]*client, len(st.LiveClients)),
		groups:       make(map[string]*group, len(st.Live)),
	}
	for _, i := range st.LiveClients {
		c, err := r.optClient(i)
		if err != nil || c == nil {
			return nil, fmt.Errorf("live client %d: not in the table", i)
		}
		if e.clients[c.id] != nil {
			return nil, fmt.Errorf("client %v twice", c.id)
		}
		e.clients[c.id] = c
	}
	for _, i := range st.Live {
		g, err := r.optGroup(i)
		if err != nil || g == nil {
			return nil, fmt.Errorf("live group %d: not in the table", i)
		}
		if e.groups[g.name] != nil {
			return nil, fmt.Errorf("group %q twice", g.name)
		}
		e.groups[g.name] = g
	}
	host, err := r.optGroup(st.Host)
	if err != nil || host == nil || !host.system || host.name != HostMembershipGroup || e.groups[HostMembershipGroup] != host {
		return nil, fmt.Errorf("no system group %s", HostMembershipGroup)
	}
	e.host = host
	return e, nil
}

// checkLinks checks the source-target links both ways, and that no target
// is itself a source: approvals in a source are reflected in its targets,
// so a loop of links would never end.
func (r *snapReader) checkLinks() error {
	for _, g := range r.groups {
		if src := g.source; src != nil {
			if src.source != nil || !slices.Contains(src.targets, g) {
				return fmt.Errorf("group %q: its source %q is not a source of it", g.name, src.name)
			}
		}
		for i, t := range g.targets {
			if t.source != g || slices.Contains(g.targets[:i], t) {
				return fmt.Errorf("group %q: target %q is not its own", g.name, t.name)
			}
		}
	}
	return nil
}

// pick resolves an index into one of the snapshot's tables: -1 is none
// (nil), anything else must be in the table.
func pick[T any](table []*T, i int, what string) (*T, error) {
	switch {
	case i == -1:
		return nil, nil
	case i < 0 || i >= len(table):
		return nil, fmt.Errorf("%s index %d out of range", what, i)
	}
	return table[i], nil
}

// pickAll resolves a list of indexes into one of the snapshot's tables,
// none of them -1; a nil list stays nil.
func pickAll[T any](table []*T, is []int, what string) ([]*T, error) {
	if is == nil {
		return nil, nil
	}
	out := make([]*T, len(is))
	for k, i := range is {
		p, err := pick(table, i, what)
		if err != nil || p == nil {
			return nil, fmt.Errorf("%s index %d out of range", what, i)
		}
		out[k] = p
	}
	return out, nil
}

func (r *snapReader) optClient(i int) (*client, error)    { return pick(r.clients, i, "client") }
func (r *snapReader) optGroup(i int) (*group, error)      { return pick(r.groups, i, "group") }
func (r *snapReader) optMember(i int) (*member, error)    { return pick(r.members, i, "member") }
func (r *snapReader) optSub(i int) (*subscription, error) { return pick(r.subs, i, "subscription") }

// memberList resolves indexes of members; with joining set, each must have
// a client (a joiner's approval updates its client's token).
func (r *snapReader) memberList(is []int, joining bool) ([]*member, error) {
	if is == nil {
		return nil, nil
	}
	out := make([]*member, len(is))
	for k, i := range is {
		m, err := r.optMember(i)
		if err != nil {
			return nil, err
		}
		if m == nil || joining && m.client == nil {
			return nil, fmt.Errorf("member index %d names no provider of a client", i)
		}
		out[k] = m
	}
	return out, nil
}

func (r *snapReader) readClient(c *client, sc *snapClient) error {
	c.id, c.cred, c.hello, c.unresponsive = sc.ID, sc.Cred, sc.Hello, sc.Unresponsive
	c.tokens = make(map[int32]*tokenRec, len(sc.Tokens))
	for _, st := range sc.Tokens {
		if _, dup := c.tokens[st.Token]; dup {
			return fmt.Errorf("token %d twice", st.Token)
		}
		g, err := r.optGroup(st.Group)
		if err != nil {
			return err
		}
		m, err := r.optMember(st.Member)
		if err != nil {
			return err
		}
		s, err := r.optSub(st.Sub)
		if err != nil {
			return err
		}
		if (g == nil) != (st.State == tokDenied) || (st.Denied != "") != (st.State == tokDenied) {
			return fmt.Errorf("token %d in state %d names group %d and denied group %q", st.Token, st.State, st.Group, st.Denied)
		}
		switch st.State {
		case tokPending, tokProvider:
			if m == nil {
				return fmt.Errorf("provider token %d names no provider", st.Token)
			}
		case tokSubscriber:
			if s == nil {
				return fmt.Errorf("subscription token %d names no subscription", st.Token)
			}
		case tokEnded, tokDenied:
		default:
			return fmt.Errorf("token %d in unknown state %d", st.Token, st.State)
		}
		c.tokens[st.Token] = &tokenRec{state: st.State, group: g, member: m, sub: s, denied: st.Denied}
	}
	return nil
}

func (r *snapReader) readGroup(g *group, sg *snapGroup) error {
	g.name, g.owner, g.attrs, g.state, g.system = sg.Name, sg.Owner, sg.Attrs, sg.State, sg.System
	var err error
	if g.members, err = r.memberList(sg.Members, false); err != nil {
		return err
	}
	if g.subs, err = pickAll(r.subs, sg.Subs, "subscription"); err != nil {
		return err
	}
	if sg.Queue != nil {
		g.queue = make([]queued, len(sg.Queue))
		for k, sq := range sg.Queue {
			q := queued{reason: sq.Reason, reflect: readReflection(sq.Reflect), script: sq.Script}
			if q.join, err = r.optMember(sq.Join); err != nil {
				return err
			}
			if q.fail, err = r.optMember(sq.Fail); err != nil {
				return err
			}
			if q.join != nil && q.join.client == nil {
				return fmt.Errorf("queued joiner %d has no client", sq.Join)
			}
			if q.join == nil && q.fail == nil && q.reflect == nil {
				return errors.New("an empty queue entry")
			}
			g.queue[k] = q
		}
	}
	if g.source, err = r.optGroup(sg.Source); err != nil {
		return err
	}
	if g.targets, err = pickAll(r.groups, sg.Targets, "target"); err != nil {
		return err
	}
	if g.running, err = r.readProto(sg.Running); err != nil {
		return fmt.Errorf("running protocol: %w", err)
	}
	return nil
}

func readReflection(s *snapReflection) *reflection {
	if s == nil {
		return nil
	}
	return &reflection{changing: s.Changing, leaveInfo: s.LeaveInfo, state: s.State, dissolved: s.Dissolved}
}

func (r *snapReader) readProto(sp *snapProto) (*proto, error) {
	if sp == nil {
		return nil, nil
	}
	p := &proto{
		kind:           sp.Kind,
		nphase:         sp.NPhase,
		limit:          sp.Limit,
		phase:          sp.Phase,
		what:           sp.What,
		leaveInfo:      sp.LeaveInfo,
		reflect:        readReflection(sp.Reflect),
		proposedState:  sp.ProposedState,
		baseMessage:    sp.BaseMessage,
		voteMessage:    sp.VoteMessage,
		attrs:          sp.Attrs,
		voted:          sp.Voted,
		votes:          sp.Votes,
		defaults:       sp.Defaults,
		delivered:      sp.Delivered,
		deadline:       sp.Deadline,
		scriptDeadline: sp.ScriptDeadline,
		failure:        sp.Failure,
		usedDefault:    sp.UsedDefault,
	}
	var err error
	if p.proposer, err = r.optMember(sp.Proposer); err != nil {
		return nil, err
	}
	if p.joiners, err = r.memberList(sp.Joiners, true); err != nil {
		return nil, err
	}
	if p.leavers, err = r.memberList(sp.Leavers, false); err != nil {
		return nil, err
	}
	if p.participants, err = r.memberList(sp.Participants, false); err != nil {
		return nil, err
	}
	n := len(p.participants)
	if len(p.voted) != n || len(p.votes) != n || len(p.defaults) != n {
		return nil, fmt.Errorf("votes for %d, %d, %d of %d voters", len(p.voted), len(p.votes), len(p.defaults), n)
	}
	if sx := sp.Expel; sx != nil {
		x := &expelState{
			phase: sx.Phase, flag: sx.Flag, results: sx.Results, ran: sx.Ran,
			pending: make(map[uint64]pendingScript, len(sx.Pending)), ranPhase: sx.RanPhase, summary: sx.Summary,
		}
		if len(x.results) != len(p.leavers) || len(x.ran) != len(p.leavers) {
			return nil, fmt.Errorf("expel results for %d and %d of %d providers", len(x.results), len(x.ran), len(p.leavers))
		}
		for _, ps := range sx.Pending {
			if ps.Idx < 0 || ps.Idx >= len(p.leavers) {
				return nil, fmt.Errorf("script %d for provider %d of %d", ps.ID, ps.Idx, len(p.leavers))
			}
			if _, dup := x.pending[ps.ID]; dup {
				return nil, fmt.Errorf("script %d twice", ps.ID)
			}
			x.pending[ps.ID] = pendingScript{idx: ps.Idx, node: ps.Node}
		}
		p.expel = x
	}
	return p, nil
}
