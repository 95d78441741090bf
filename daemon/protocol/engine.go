package protocol

import (
	"cmp"
	"slices"

	"github.com/openhags/hags/internal/wire"
)

// HostMembershipGroup is the name of the system group whose members are the
// nodes of the domain that are up (HA_GS_HOST_MEMBERSHIP_GROUP).
const HostMembershipGroup = wire.HostMembershipGroup

// Engine is the protocol state machine of one domain. Create it with New and
// feed it events with Step. It is not safe for concurrent use.
type Engine struct {
	now      int64
	clients  map[ClientID]*client
	groups   map[string]*group
	host     *group
	scriptID uint64
	out      []Effect

	// Limits, fields so that tests can lower them.
	maxProviders int
	maxGroups    int
}

// tokenState is where a client's token stands.
type tokenState uint8

const (
	tokPending    tokenState = iota + 1 // a join accepted, waiting for approval
	tokProvider                         // a live membership
	tokSubscriber                       // a live subscription
	tokEnded                            // membership or subscription over
	tokDenied                           // a join refused with PermissionDenied
)

// tokenRec is what the engine knows of one token of one client.
type tokenRec struct {
	state  tokenState
	group  *group        // nil for a denied token
	member *member       // provider tokens
	sub    *subscription // subscription tokens
	denied string        // denied tokens: the group the join named
}

// groupName names the group a token concerns.
func (r *tokenRec) groupName() string {
	if r.group != nil {
		return r.group.name
	}
	return r.denied
}

type client struct {
	id           ClientID
	cred         Cred
	hello        wire.Hello
	tokens       map[int32]*tokenRec
	unresponsive bool
}

type member struct {
	p         wire.Provider
	client    *client
	token     int32
	localName string
	failed    bool // failed or said goodbye; a failure leave will remove it
}

type subscription struct {
	client *client
	token  int32
	ctl    wire.SubscriptionControl
}

// queued is a change waiting for the running protocol to end: a join
// (join != nil), a failure leave (fail != nil) or a source-state reflection
// (reflect != nil).
type queued struct {
	join    *member
	fail    *member
	reason  wire.LeaveReason
	reflect *reflection
	// script: fail's process died while its join ran; if the join was
	// approved, its deactivate script runs when this failure leave starts.
	script bool
}

// reflection is one approved change of a source group, to be reflected into
// a target group. It is read-only once made.
type reflection struct {
	changing  []wire.Provider  // the source's joiners or leavers; empty, not nil, for none
	leaveInfo []wire.LeaveInfo // parallel to changing when they left; nil when they joined
	state     []byte           // the source's state value after the change
	dissolved bool             // the source dissolved: the target's last reflection
}

type group struct {
	name    string
	owner   uint32 // uid of the client whose join created it
	attrs   wire.Attributes
	state   []byte
	members []*member // in order of joining
	subs    []*subscription
	running *proto
	queue   []queued
	system  bool

	// source is the group this one is a target of; nil when it names none
	// or when its source dissolved (the link is not restored). targets are
	// the groups whose source this is, in order of creation.
	source  *group
	targets []*group
}

// New returns an engine with no clients and no groups but the system group
// HostMembership, with no nodes up.
func New() *Engine {
	e := &Engine{
		clients:      make(map[ClientID]*client),
		groups:       make(map[string]*group),
		maxProviders: wire.MaxProvidersPerGroup,
		maxGroups:    wire.MaxGroupsPerDomain,
	}
	e.host = &group{
		name:   HostMembershipGroup,
		attrs:  wire.Attributes{GroupName: HostMembershipGroup, NumPhases: wire.OnePhase, DefaultVote: wire.VoteApprove},
		state:  []byte{},
		system: true,
	}
	e.groups[HostMembershipGroup] = e.host
	return e
}

// Step applies one event and returns what the daemon must do, in order. It
// never panics: events that make no sense (a request from an unknown client,
// a script result nobody waits for) are ignored. The returned effects, their
// notifications and every slice in them are the caller's: the engine keeps no
// reference to them. The event is not retained either.
func (e *Engine) Step(ev Event) []Effect {
	e.out = nil
	if ev.Time > e.now {
		e.now = ev.Time
	}
	switch ev.Kind {
	case EventConnect:
		e.connect(ev)
	case EventDisconnect:
		if c := e.clients[ev.Client]; c != nil {
			e.dropClient(c, wire.ProviderProcessDied)
		}
	case EventRequest:
		if c := e.clients[ev.Client]; c != nil && ev.Request != nil {
			e.request(c, ev.Request, ev.Grant)
		}
	case EventNodeUp:
		e.nodeUp(ev.Node)
	case EventNodeDown:
		e.nodeDown(ev.Node)
	case EventTick:
		e.tick()
	case EventScriptDone:
		if ev.Script != nil {
			e.scriptDone(ev.Script.ID, ev.Script.Result)
		}
	case EventResponsiveness:
		if c := e.clients[ev.Client]; c != nil {
			e.responsiveness(c, ev.Responsive)
		}
	case EventRespond:
		// The daemon judges responsiveness answers itself and reports the
		// verdict as EventResponsiveness; the raw answer changes nothing here.
	}
	out := e.out
	e.out = nil
	return out
}

// NextDeadline returns the earliest pending deadline (a phase's voting limit
// or a deactivate script's limit), in Unix nanoseconds, and whether there is
// one. The daemon should send an EventTick at or after it.
func (e *Engine) NextDeadline() (int64, bool) {
	var best int64
	found := false
	for _, g := range e.groups {
		p := g.running
		if p == nil {
			continue
		}
		for _, d := range []int64{p.deadline, p.scriptDeadline} {
			if d > 0 && (!found || d < best) {
				best, found = d, true
			}
		}
	}
	return best, found
}

// Clients returns the number of connected client sessions.
func (e *Engine) Clients() int { return len(e.clients) }

func (e *Engine) connect(ev Event) {
	if _, dup := e.clients[ev.Client]; dup {
		return
	}
	c := &client{id: ev.Client, cred: ev.Cred, tokens: make(map[int32]*tokenRec)}
	if ev.Hello != nil {
		c.hello = *ev.Hello
	}
	e.clients[ev.Client] = c
}

// sortedGroups returns the groups ordered by name.
func (e *Engine) sortedGroups() []*group {
	gs := make([]*group, 0, len(e.groups))
	for _, g := range e.groups {
		gs = append(gs, g)
	}
	slices.SortFunc(gs, func(a, b *group) int { return cmp.Compare(a.name, b.name) })
	return gs
}

// sortedTokens returns a client's tokens in increasing order.
func (c *client) sortedTokens() []int32 {
	ts := make([]int32, 0, len(c.tokens))
	for t := range c.tokens {
		ts = append(ts, t)
	}
	slices.Sort(ts)
	return ts
}

// dropClient ends a client session: its providers fail for reason, its
// subscriptions end and the client is forgotten.
func (e *Engine) dropClient(c *client, reason wire.LeaveReason) {
	touched := e.failClient(c, reason)
	for _, t := range c.sortedTokens() {
		if r := c.tokens[t]; r.state == tokSubscriber {
			e.endSubscription(r)
		}
	}
	delete(e.clients, c.id)
	e.advanceAll(touched)
}

// failClient marks every provider (and pending joiner) of c as failed and
// returns the groups concerned, without running anything yet.
func (e *Engine) failClient(c *client, reason wire.LeaveReason) []*group {
	var touched []*group
	for _, t := range c.sortedTokens() {
		r := c.tokens[t]
		switch r.state {
		case tokProvider, tokPending:
			e.fail(r, reason)
			touched = append(touched, r.group)
		}
	}
	return touched
}

// advanceAll lets each group (once, in name order) run what can run.
func (e *Engine) advanceAll(gs []*group) {
	slices.SortFunc(gs, func(a, b *group) int { return cmp.Compare(a.name, b.name) })
	gs = slices.CompactFunc(gs, func(a, b *group) bool { return a == b })
	for _, g := range gs {
		e.advance(g)
	}
}

func (e *Engine) endSubscription(r *tokenRec) {
	r.state = tokEnded
	g := r.group
	g.subs = slices.DeleteFunc(g.subs, func(s *subscription) bool { return s == r.sub })
}

func (e *Engine) nodeUp(node int32) {
	p := wire.Provider{Instance: 0, Node: node}
	for _, m := range e.host.members {
		if m.p == p {
			return
		}
	}
	m := &member{p: p}
	e.host.members = append(e.host.members, m)
	e.notifySubscribers(e.host, wire.JoinProtocol, []*member{m}, nil, false)
	e.reflectTargets(e.host, []wire.Provider{p}, nil, false)
}

func (e *Engine) nodeDown(node int32) {
	// Clients of the node first, in ClientID order.
	var cs []*client
	for id, c := range e.clients {
		if id.Node == node {
			cs = append(cs, c)
		}
	}
	slices.SortFunc(cs, func(a, b *client) int { return cmp.Compare(a.id.Conn, b.id.Conn) })
	var touched []*group
	for _, c := range cs {
		touched = append(touched, e.failClient(c, wire.ProviderNodeDied)...)
	}
	for _, c := range cs {
		for _, t := range c.sortedTokens() {
			if r := c.tokens[t]; r.state == tokSubscriber {
				e.endSubscription(r)
			}
		}
		delete(e.clients, c.id)
	}
	// Scripts that were to run on the dead node will never report.
	for _, g := range e.sortedGroups() {
		if p := g.running; p != nil && p.expel != nil && len(p.expel.pending) > 0 {
			for _, id := range p.sortedScripts() {
				if p.expel.pending[id].node == node {
					e.scriptDone(id, wire.DeactivateFailed)
				}
			}
		}
	}
	e.advanceAll(touched)

	p := wire.Provider{Instance: 0, Node: node}
	if i := slices.IndexFunc(e.host.members, func(m *member) bool { return m.p == p }); i >= 0 {
		m := e.host.members[i]
		e.host.members = slices.Delete(e.host.members, i, i+1)
		e.notifySubscribers(e.host, wire.FailureLeaveProtocol, nil, []*member{m}, false)
		e.reflectTargets(e.host, []wire.Provider{p}, []wire.LeaveInfo{{Reason: wire.ProviderNodeDied}}, false)
	}
}

func (e *Engine) responsiveness(c *client, ok bool) {
	if ok != c.unresponsive {
		return // no change
	}
	c.unresponsive = !ok
	sum := wire.ResponsivenessNoResponse
	if ok {
		sum = wire.ResponsivenessResponse
	}
	for _, g := range e.sortedGroups() {
		var provs []wire.Provider
		for _, m := range g.members {
			if m.client == c && !m.failed {
				provs = append(provs, m.p)
			}
		}
		if len(provs) == 0 {
			continue
		}
		to := liveRecipients(g.members)
		e.notify(to, &wire.Notification{
			Type:      wire.AnnouncementNotification,
			Group:     g.name,
			Summary:   sum,
			Providers: provs,
		})
	}
}

// notify appends a notification effect unless it has no recipient. With a
// single recipient, Note.Token is that recipient's token.
func (e *Engine) notify(to []Recipient, n *wire.Notification) {
	if len(to) == 0 {
		return
	}
	if len(to) == 1 {
		n.Token = to[0].Token
	}
	e.out = append(e.out, Effect{Kind: EffectNotify, To: to, Note: n})
}

func liveRecipients(ms []*member) []Recipient {
	var to []Recipient
	for _, m := range ms {
		if !m.failed && m.client != nil {
			to = append(to, Recipient{Client: m.client.id, Token: m.token})
		}
	}
	return to
}

func providersOf(ms []*member) []wire.Provider {
	out := make([]wire.Provider, len(ms))
	for i, m := range ms {
		out[i] = m.p
	}
	return out
}

func cloneBytes(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}
