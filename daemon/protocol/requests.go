package protocol

import (
	"slices"

	"github.com/openhags/hags/internal/wire"
)

// request handles one client request. The request is copied first, so that
// nothing the engine keeps or emits aliases the event. grant is the client's
// node's access answer for a join (Event.Grant).
func (e *Engine) request(c *client, in *wire.Request, grant bool) {
	req := copyRequest(in)
	req.Normalize()
	if req.Op == wire.OpQuit {
		// Quit has no parameters to check: the session ends and its
		// providers say goodbye.
		e.dropClient(c, wire.ProviderSaidGoodbye)
		return
	}
	if code := req.Check(); code != wire.OK {
		e.delayedError(c, req, code)
		return
	}
	switch req.Op {
	case wire.OpJoin:
		e.join(c, req, grant)
	case wire.OpSubscribe:
		e.subscribe(c, req)
	case wire.OpUnsubscribe:
		e.unsubscribe(c, req)
	default:
		e.providerRequest(c, req)
	}
}

// delayedError tells a client that its request was refused.
func (e *Engine) delayedError(c *client, req *wire.Request, code wire.Code) {
	n := &wire.Notification{
		Type:     wire.DelayedErrorNotification,
		Group:    req.Group,
		Protocol: req.Op.Protocol(),
		Code:     code,
		Failing:  copyRequest(req),
	}
	if r := c.tokens[req.Token]; r != nil && n.Group == "" {
		n.Group = r.groupName()
	}
	if req.Op == wire.OpVote {
		if r := c.tokens[req.Token]; r != nil && r.group != nil && r.group.running != nil {
			n.Protocol = r.group.running.kind
		}
	}
	e.notify([]Recipient{{Client: c.id, Token: req.Token}}, n)
}

// liveToken reports whether t names a membership, a pending join or a
// subscription of c that has not ended.
func (c *client) liveToken(t int32) bool {
	r := c.tokens[t]
	return r != nil && r.state != tokEnded && r.state != tokDenied
}

// mayProvide decides whether client c may join the group named name as a
// provider; g is that group, or nil when the join would create it. Root
// may join any group; only root may create or join a reserved group; the
// creator of a group owns it, and its owner's uid may join it; anyone else
// needs the grant of its own node (Event.Grant).
func mayProvide(c *client, g *group, name string, grant bool) bool {
	uid := c.cred.Uid
	switch {
	case uid == 0:
		return true
	case wire.ReservedGroup(name):
		return false
	case g == nil, uid == g.owner:
		return true
	}
	return grant
}

func (e *Engine) join(c *client, req *wire.Request, grant bool) {
	if c.liveToken(req.Token) {
		e.delayedError(c, req, wire.BadParameter)
		return
	}
	if req.Group == HostMembershipGroup {
		// The system group exists but reports node membership: nobody
		// provides in it.
		e.delayedError(c, req, wire.InvalidGroup)
		return
	}
	g := e.groups[req.Group]
	if !mayProvide(c, g, req.Group, grant) {
		// Refused before anything about the group (its attributes, its
		// providers) is compared: the answer reveals nothing but the
		// refusal. The token remembers it, so that whatever the client
		// does with it is refused the same way.
		c.tokens[req.Token] = &tokenRec{state: tokDenied, denied: req.Group}
		e.delayedError(c, req, wire.PermissionDenied)
		return
	}
	p := wire.Provider{Instance: req.Instance, Node: c.id.Node}
	if g == nil {
		var src *group
		if name := req.Attributes.SourceGroupName; name != "" {
			var code wire.Code
			if src, code = e.sourceFor(req.Group, name); code != wire.OK {
				e.delayedError(c, req, code)
				return
			}
		}
		if len(e.groups)-1 >= e.maxGroups { // HostMembership does not count
			e.delayedError(c, req, wire.NoMemory)
			return
		}
		g = &group{name: req.Group, owner: c.cred.Uid, attrs: *req.Attributes, state: []byte{}, source: src}
		e.groups[g.name] = g
		if src != nil {
			src.targets = append(src.targets, g)
		}
	} else {
		if *req.Attributes != g.attrs {
			e.delayedError(c, req, wire.BadGroupAttributes)
			return
		}
		count := 0
		dup := false
		for _, m := range g.members {
			if !m.failed {
				count++
				dup = dup || m.p == p
			}
		}
		for _, m := range g.pendingJoiners() {
			count++
			dup = dup || m.p == p
		}
		if dup {
			e.delayedError(c, req, wire.DuplicateInstanceNumber)
			return
		}
		if count >= e.maxProviders {
			e.delayedError(c, req, wire.NoMemory)
			return
		}
	}
	m := &member{p: p, client: c, token: req.Token, localName: req.LocalName}
	c.tokens[req.Token] = &tokenRec{state: tokPending, group: g, member: m}
	g.queue = append(g.queue, queued{join: m})
	e.advance(g)
}

// sourceFor finds the source group named by a new target group's
// attributes. The source must exist and be HostMembership or a group with a
// provider (else NoSourceGroupProvider); it may be neither the target itself
// nor a target of another group (else InvalidSourceGroup).
func (e *Engine) sourceFor(target, name string) (*group, wire.Code) {
	if name == target {
		return nil, wire.InvalidSourceGroup
	}
	src := e.groups[name]
	switch {
	case src == nil:
		return nil, wire.NoSourceGroupProvider
	case src.attrs.SourceGroupName != "":
		return nil, wire.InvalidSourceGroup // no chains
	case !src.system && len(liveMembers(src.members)) == 0:
		return nil, wire.NoSourceGroupProvider
	}
	return src, wire.OK
}

// pendingJoiners lists the joiners not yet approved, queued or running, who
// have not failed.
func (g *group) pendingJoiners() []*member {
	var out []*member
	if g.running != nil {
		for _, m := range g.running.joiners {
			if !m.failed {
				out = append(out, m)
			}
		}
	}
	for _, q := range g.queue {
		if q.join != nil {
			out = append(out, q.join)
		}
	}
	return out
}

func (e *Engine) subscribe(c *client, req *wire.Request) {
	if c.liveToken(req.Token) {
		e.delayedError(c, req, wire.BadParameter)
		return
	}
	g := e.groups[req.Group]
	if g == nil {
		e.delayedError(c, req, wire.UnknownGroup)
		return
	}
	s := &subscription{client: c, token: req.Token, ctl: req.Control}
	g.subs = append(g.subs, s)
	c.tokens[req.Token] = &tokenRec{state: tokSubscriber, group: g, sub: s}

	// The initial notification: the current state value and/or the
	// current membership, reported as everyone having joined.
	n := &wire.Notification{Type: wire.SubscriptionNotification, Group: g.name, Protocol: wire.SubscriptionRequest}
	if s.ctl&wire.SubscribeStateValue != 0 {
		n.SubType |= wire.SubscriptionStateValue
		n.State = cloneBytes(g.state)
	}
	if s.ctl&wire.SubscribeAllMembership != 0 {
		n.SubType |= wire.SubscriptionDeltaJoin
		n.Changing = providersOf(liveMembers(g.members))
		if s.ctl&wire.SubscribeDeltasOnly == 0 {
			n.Full = providersOf(g.members)
		}
	}
	e.notify([]Recipient{{Client: c.id, Token: s.token}}, n)
}

func liveMembers(ms []*member) []*member {
	var out []*member
	for _, m := range ms {
		if !m.failed {
			out = append(out, m)
		}
	}
	return out
}

// unsubscribe ends a live subscription. One already over (unsubscribed, or
// its group dissolved while the call was on its way) needs nothing more:
// what the client asked for is done, and the library refuses a second call
// itself. A token never issued, or a provider's, is BadMemberToken, the
// only token code IBM lists for ha_gs_unsubscribe.
func (e *Engine) unsubscribe(c *client, req *wire.Request) {
	r := c.tokens[req.Token]
	switch {
	case r != nil && r.state == tokDenied:
		e.delayedError(c, req, wire.PermissionDenied)
	case r != nil && r.state == tokSubscriber:
		e.endSubscription(r)
	case r != nil && r.sub != nil:
		// A subscription already over.
	default:
		e.delayedError(c, req, wire.BadMemberToken)
	}
}

// providerRequest handles the requests made with a provider token.
func (e *Engine) providerRequest(c *client, req *wire.Request) {
	r := c.tokens[req.Token]
	switch {
	case r == nil:
		e.delayedError(c, req, wire.BadMemberToken)
		return
	case r.state == tokDenied:
		e.delayedError(c, req, wire.PermissionDenied) // its join was refused
		return
	case r.state == tokPending && req.Op == wire.OpVote:
		e.delayedError(c, req, wire.VoteNotExpected) // joiners do not vote on their join
		return
	case r.state != tokProvider:
		e.delayedError(c, req, wire.NotAMember)
		return
	}
	g, m := r.group, r.member
	switch req.Op {
	case wire.OpGoodbye:
		e.fail(r, wire.ProviderSaidGoodbye)
		e.advance(g)
	case wire.OpVote:
		e.vote(g, m, req)
	default:
		e.propose(c, g, m, req)
	}
}

// propose starts a protocol proposed by provider m, or refuses it.
func (e *Engine) propose(c *client, g *group, m *member, req *wire.Request) {
	if g.running != nil {
		e.delayedError(c, req, wire.Collide)
		return
	}
	p := &proto{
		kind:     req.Op.Protocol(),
		proposer: m,
		nphase:   req.NumPhases == wire.NPhase,
		limit:    req.TimeLimit,
	}
	switch req.Op {
	case wire.OpLeave:
		p.what = wire.ChangeMembership
		p.leavers = []*member{m}
		p.leaveInfo = []wire.LeaveInfo{{Reason: wire.ProviderLeft, Code: req.LeaveCode}}
	case wire.OpExpel:
		p.what = wire.ChangeMembership
		for _, t := range req.ExpelList {
			i := slices.IndexFunc(g.members, func(x *member) bool { return x.p == t })
			if i < 0 {
				e.delayedError(c, req, wire.UnknownProvider)
				return
			}
			p.leavers = append(p.leavers, g.members[i])
			p.leaveInfo = append(p.leaveInfo, wire.LeaveInfo{Reason: wire.ProviderExpelled})
		}
		p.expel = &expelState{
			phase:   req.DeactivatePhase,
			flag:    req.DeactivateFlag,
			results: make([]wire.DeactivateResult, len(p.leavers)),
			ran:     make([]bool, len(p.leavers)),
			pending: make(map[uint64]pendingScript),
		}
	case wire.OpChangeState:
		p.what = wire.ChangeStateValue
		p.proposedState = req.State
	case wire.OpSendMessage:
		p.what = wire.ChangeProviderMessage
		p.baseMessage = req.Message
	case wire.OpChangeAttributes:
		if req.Attributes.GroupName == HostMembershipGroup {
			e.delayedError(c, req, wire.InvalidGroup) // the system group takes no proposals
			return
		}
		if req.Attributes.GroupName != g.name {
			e.delayedError(c, req, wire.BadGroupAttributes) // a group keeps its name
			return
		}
		if req.Attributes.SourceGroupName != g.attrs.SourceGroupName {
			e.delayedError(c, req, wire.InvalidSourceGroup) // a group keeps its source
			return
		}
		p.what = wire.ChangeAttributes
		a := *req.Attributes
		p.attrs = &a
	default:
		e.delayedError(c, req, wire.BadParameter)
		return
	}
	e.start(g, p)
	e.advance(g)
}

// vote records a provider's vote in the running protocol.
func (e *Engine) vote(g *group, m *member, req *wire.Request) {
	p := g.running
	i := -1
	if p != nil && p.nphase && p.delivered {
		i = slices.Index(p.participants, m)
	}
	if i < 0 || p.voted[i] {
		e.delayedError(m.client, req, wire.VoteNotExpected)
		return
	}
	p.voted[i] = true
	p.votes[i] = req.Vote
	if req.DefaultVote != wire.NullVote {
		p.defaults[i] = req.DefaultVote
	}
	if req.State != nil {
		p.proposedState = req.State
		p.what |= wire.ChangeStateValue
	}
	if req.Message != nil {
		p.voteMessage = req.Message
	}
	e.advance(g)
}

// copyRequest returns a deep copy of r.
func copyRequest(r *wire.Request) *wire.Request {
	c := *r
	if r.Attributes != nil {
		a := *r.Attributes
		c.Attributes = &a
	}
	if r.DeactivateFlag != nil {
		f := *r.DeactivateFlag
		c.DeactivateFlag = &f
	}
	c.ExpelList = slices.Clone(r.ExpelList)
	c.State = cloneBytes(r.State)
	c.Message = cloneBytes(r.Message)
	return &c
}
