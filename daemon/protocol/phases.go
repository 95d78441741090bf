package protocol

import (
	"slices"

	"github.com/openhags/hags/internal/wire"
)

// proto is a running protocol of one group.
type proto struct {
	kind     wire.RequestType
	proposer *member // nil for joins and failure leaves
	nphase   bool
	limit    uint32 // seconds per phase (and for deactivate scripts); 0: none
	phase    uint32
	what     wire.WhatsChanged

	joiners   []*member // join protocols
	leavers   []*member // leave, failure leave, expel
	leaveInfo []wire.LeaveInfo
	expel     *expelState
	reflect   *reflection // source-state reflection protocols

	proposedState []byte
	baseMessage   []byte // a provider-message protocol's message
	voteMessage   []byte // a message sent with a vote, for the next notification
	attrs         *wire.Attributes

	participants []*member // who votes: fixed when the protocol starts
	voted        []bool    // in the current phase
	votes        []wire.Vote
	defaults     []wire.Vote // each participant's default vote

	delivered      bool  // the current phase's notifications went out
	deadline       int64 // voting deadline of the current phase; 0: none
	scriptDeadline int64 // deadline of the deactivate scripts; 0: none
	failure        bool  // a participant failed during the protocol
	usedDefault    bool  // a default vote counted in the last evaluated phase
}

type expelState struct {
	phase    uint32
	flag     *string
	results  []wire.DeactivateResult // parallel to leavers
	ran      []bool                  // whether a script was started
	pending  map[uint64]pendingScript
	ranPhase uint32 // the phase in which scripts ran; 0: none yet
	summary  wire.SummaryCode
}

type pendingScript struct {
	idx  int
	node int32
}

func (p *proto) sortedScripts() []uint64 {
	ids := make([]uint64, 0, len(p.expel.pending))
	for id := range p.expel.pending {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// start makes p the group's running protocol and begins its first phase.
// Callers then call advance.
func (e *Engine) start(g *group, p *proto) {
	g.running = p
	p.phase = 1
	for _, m := range g.members {
		// Joiners do not vote on their join, the expelled on their
		// expulsion, the failed on their removal.
		removed := p.expel != nil || p.kind == wire.FailureLeaveProtocol
		if slices.Contains(p.joiners, m) || (removed && slices.Contains(p.leavers, m)) {
			continue
		}
		p.participants = append(p.participants, m)
		p.failure = p.failure || m.failed
	}
	if len(p.participants) == 0 {
		p.nphase = false // nobody to ask: approved at once
	}
	n := len(p.participants)
	p.voted = make([]bool, n)
	p.votes = make([]wire.Vote, n)
	p.defaults = make([]wire.Vote, n)
	for i := range p.defaults {
		p.defaults[i] = g.attrs.DefaultVote
	}
	e.enterPhase(g, p)
}

// enterPhase starts phase p.phase: deactivate scripts first if this is their
// phase, then the phase's notifications.
func (e *Engine) enterPhase(g *group, p *proto) {
	p.delivered = false
	p.deadline = 0
	clear(p.voted)
	clear(p.votes)
	if x := p.expel; x != nil && x.phase == p.phase {
		x.ranPhase = p.phase
		for i, m := range p.leavers {
			if m.client == nil || m.client.hello.DeactivateScript == "" {
				continue // no script registered: DeactivateNotRun
			}
			e.scriptID++
			id := e.scriptID
			x.ran[i] = true
			x.pending[id] = pendingScript{idx: i, node: m.client.id.Node}
			e.out = append(e.out, Effect{Kind: EffectRunScript, Script: &ScriptRun{
				ID:        id,
				Node:      m.client.id.Node,
				Owner:     m.client.id,
				Path:      m.client.hello.DeactivateScript,
				Uid:       m.client.cred.Uid,
				Gid:       m.client.cred.Gid,
				Group:     g.name,
				Provider:  m.p,
				Pid:       m.client.cred.Pid,
				Reason:    ScriptExpel,
				Flag:      copyFlag(x.flag),
				TimeLimit: p.limit,
			}})
		}
		if len(x.pending) > 0 {
			if p.limit > 0 {
				p.scriptDeadline = e.now + int64(p.limit)*1e9
			}
			return
		}
		x.summary = scriptSummary(x)
	}
	e.deliver(g, p)
}

func copyFlag(f *string) *string {
	if f == nil {
		return nil
	}
	s := *f
	return &s
}

func scriptSummary(x *expelState) wire.SummaryCode {
	var sum wire.SummaryCode
	ran := false
	for i, r := range x.results {
		if !x.ran[i] {
			continue
		}
		ran = true
		switch r {
		case wire.DeactivateFailed:
			sum |= wire.DeactivateUnsuccessful
		case wire.DeactivateTimedOut:
			sum |= wire.DeactivateTimeLimitExceeded
		}
	}
	if ran && sum == 0 {
		sum = wire.DeactivateSuccessful
	}
	return sum
}

// ScriptNode reports the node that was asked to run deactivate script id,
// while a protocol still waits for its result. A result for a script
// nobody waits for (finished, timed out, or run for a failure leave, whose
// result changes nothing) reports false. The agreement's FSM uses it to
// take a script's result only from the node that runs it.
func (e *Engine) ScriptNode(id uint64) (int32, bool) {
	for _, g := range e.groups {
		if p := g.running; p != nil && p.expel != nil {
			if ps, ok := p.expel.pending[id]; ok {
				return ps.node, true
			}
		}
	}
	return 0, false
}

// scriptDone records a deactivate script's result; the last one releases
// the phase's notifications.
func (e *Engine) scriptDone(id uint64, result wire.DeactivateResult) {
	for _, g := range e.sortedGroups() {
		p := g.running
		if p == nil || p.expel == nil {
			continue
		}
		ps, ok := p.expel.pending[id]
		if !ok {
			continue
		}
		delete(p.expel.pending, id)
		switch result {
		case wire.DeactivateOK, wire.DeactivateTimedOut, wire.DeactivateFailed:
		default:
			result = wire.DeactivateFailed // "did not run" after being asked to is a failure
		}
		p.expel.results[ps.idx] = result
		if len(p.expel.pending) == 0 {
			p.scriptDeadline = 0
			p.expel.summary = scriptSummary(p.expel)
			e.deliver(g, p)
			e.advance(g)
		}
		return
	}
}

// deliver sends the current phase's n-phase notifications (nothing for a
// one-phase protocol, which advance approves).
func (e *Engine) deliver(g *group, p *proto) {
	p.delivered = true
	if !p.nphase {
		return
	}
	to := liveRecipients(p.participants)
	n := &wire.Notification{
		Type:      wire.NPhaseNotification,
		Group:     g.name,
		Protocol:  p.kind,
		Summary:   p.phaseSummary(),
		TimeLimit: p.limit,
		Proposal:  e.proposal(g, p, nil),
	}
	p.voteMessage = nil
	if p.limit > 0 {
		p.deadline = e.now + int64(p.limit)*1e9
	}
	e.notify(to, n)
}

// phaseSummary is the summary every notification of the current phase
// carries: the deactivate summary in the phase in which scripts ran, and
// GroupDissolved throughout a reflection of a source's dissolution.
func (p *proto) phaseSummary() wire.SummaryCode {
	var sum wire.SummaryCode
	if p.expel != nil && p.expel.ranPhase == p.phase {
		sum |= p.expel.summary
	}
	if p.reflect != nil && p.reflect.dissolved {
		sum |= wire.GroupDissolved
	}
	return sum
}

// waiting lists the participants whose vote in this phase is still due.
func (p *proto) waiting() []*member {
	var out []*member
	for i, m := range p.participants {
		if !p.voted[i] && !m.failed {
			out = append(out, m)
		}
	}
	return out
}

// advance runs the group forward as far as it can: it ends the running
// protocol when its outcome is known, then starts queued membership changes,
// and dissolves a group left without providers.
func (e *Engine) advance(g *group) {
	for {
		if p := g.running; p != nil {
			if !p.delivered {
				return // waiting for deactivate scripts
			}
			if !p.nphase {
				e.finish(g, p, true, p.phaseSummary())
				continue
			}
			if len(p.waiting()) > 0 {
				return
			}
			e.conclude(g, p, nil)
			continue
		}
		if len(g.queue) == 0 {
			if len(g.members) == 0 && !g.system {
				e.dissolve(g)
			}
			return
		}
		e.startQueued(g)
	}
}

// startQueued starts the change at the head of the queue: a source-state
// reflection alone, a membership change batched with the ones of its kind
// after it when the group's batch control allows.
func (e *Engine) startQueued(g *group) {
	head := g.queue[0]
	if head.reflect != nil {
		g.queue = slices.Clone(g.queue[1:])
		e.start(g, &proto{
			kind:    wire.SourceStateReflectionProtocol,
			nphase:  g.attrs.SourceReflectionNumPhases == wire.NPhase,
			limit:   g.attrs.SourceReflectionTimeLimit,
			reflect: head.reflect,
		})
		return
	}
	isJoin := head.join != nil
	batch := g.attrs.BatchControl == wire.BatchBoth ||
		(isJoin && g.attrs.BatchControl == wire.BatchJoins) ||
		(!isJoin && g.attrs.BatchControl == wire.BatchFailureLeaves)
	n := 1
	if batch {
		for n < len(g.queue) && g.queue[n].reflect == nil && (g.queue[n].join != nil) == isJoin {
			n++
		}
	}
	taken := g.queue[:n]
	g.queue = slices.Clone(g.queue[n:])
	p := &proto{
		nphase: g.attrs.NumPhases == wire.NPhase,
		limit:  g.attrs.TimeLimit,
		what:   wire.ChangeMembership,
	}
	if isJoin {
		p.kind = wire.JoinProtocol
		for _, q := range taken {
			p.joiners = append(p.joiners, q.join)
		}
	} else {
		p.kind = wire.FailureLeaveProtocol
		for _, q := range taken {
			if slices.Contains(g.members, q.fail) && !slices.Contains(p.leavers, q.fail) {
				p.leavers = append(p.leavers, q.fail)
				p.leaveInfo = append(p.leaveInfo, wire.LeaveInfo{Reason: q.reason})
				if q.script {
					e.deactivateOnFailure(g, q.fail)
				}
			}
		}
		if len(p.leavers) == 0 {
			return // they left some other way meanwhile
		}
	}
	e.start(g, p)
}

// conclude evaluates the votes of the current phase. tardy lists the
// providers who did not vote in time (the phase's limit passed).
func (e *Engine) conclude(g *group, p *proto, tardy []*member) {
	var explicitReject, defaultReject, more bool
	p.usedDefault = false
	for i, m := range p.participants {
		v := p.votes[i]
		if !p.voted[i] {
			if slices.Contains(tardy, m) {
				continue
			}
			v = p.defaults[i] // failed or said goodbye during the protocol
			p.usedDefault = true
			if v == wire.VoteReject {
				defaultReject = true
			}
			continue
		}
		switch v {
		case wire.VoteReject:
			explicitReject = true
		case wire.VoteContinue:
			more = true
		}
	}
	switch {
	case explicitReject || defaultReject || len(tardy) > 0:
		var sum wire.SummaryCode
		if p.reflect != nil && p.reflect.dissolved {
			sum |= wire.GroupDissolved
		}
		if explicitReject {
			sum |= wire.ExplicitReject
		}
		if defaultReject {
			sum |= wire.DefaultReject
		}
		if len(tardy) > 0 {
			sum |= wire.TimeLimitExceeded
		}
		if p.failure {
			sum |= wire.ProviderFailure
		}
		e.finish(g, p, false, sum)
	case more:
		p.phase++
		e.enterPhase(g, p)
	default:
		sum := wire.ExplicitApprove
		if p.usedDefault {
			sum = wire.DefaultApprove
		}
		if p.reflect != nil && p.reflect.dissolved {
			sum |= wire.GroupDissolved
		}
		e.finish(g, p, true, sum)
	}
}

// proposal builds the proposal block of a notification about p. after is
// the membership after the change for an approval, nil for an n-phase or
// rejected notification (which describe the group before it).
func (e *Engine) proposal(g *group, p *proto, after []*member) *wire.Proposal {
	msg := p.baseMessage
	if p.voteMessage != nil {
		msg = p.voteMessage
	}
	pr := &wire.Proposal{
		Phase:         p.phase,
		WhatsChanged:  p.what,
		Current:       providersOf(g.members),
		CurrentState:  cloneBytes(g.state),
		ProposedState: cloneBytes(p.proposedState),
		Message:       cloneBytes(msg),
		LeaveInfo:     slices.Clone(p.leaveInfo),
	}
	if msg != nil {
		pr.WhatsChanged |= wire.ChangeProviderMessage
	}
	if after != nil {
		pr.Current = providersOf(after)
	}
	switch {
	case p.reflect != nil:
		// The source's change; its state value unless a vote proposed
		// one for the target.
		pr.Changing = slices.Clone(p.reflect.changing)
		pr.LeaveInfo = slices.Clone(p.reflect.leaveInfo)
		if p.what&wire.ChangeStateValue == 0 {
			pr.ProposedState = cloneBytes(p.reflect.state)
		}
	case p.joiners != nil:
		pr.Changing = providersOf(p.joiners)
	default:
		pr.Changing = providersOf(p.leavers)
	}
	if p.attrs != nil {
		a := *p.attrs
		pr.ProposedAttributes = &a
	}
	if p.expel != nil {
		pr.ExpelInfo = &wire.ExpelInfo{
			Phase:   p.expel.phase,
			Flag:    copyFlag(p.expel.flag),
			Results: slices.Clone(p.expel.results),
		}
	}
	return pr
}

// finish ends the running protocol, approved or rejected, with summary sum.
func (e *Engine) finish(g *group, p *proto, approved bool, sum wire.SummaryCode) {
	g.running = nil
	if !approved {
		to := liveRecipients(append(slices.Clone(p.participants), p.joiners...))
		e.notify(to, &wire.Notification{
			Type:     wire.RejectedNotification,
			Group:    g.name,
			Protocol: p.kind,
			Summary:  sum,
			Proposal: e.proposal(g, p, nil),
		})
		for _, m := range p.joiners {
			endToken(m)
		}
		if p.kind == wire.FailureLeaveProtocol {
			// A failure is a fact: remove the failed providers anyway.
			e.start(g, &proto{
				kind:      wire.FailureLeaveProtocol,
				what:      wire.ChangeMembership,
				leavers:   p.leavers,
				leaveInfo: p.leaveInfo,
			})
		}
		return
	}

	before := g.members
	after := make([]*member, 0, len(before)+len(p.joiners))
	for _, m := range before {
		if !slices.Contains(p.leavers, m) {
			after = append(after, m)
		}
	}
	after = append(after, p.joiners...)
	stateChanged := p.proposedState != nil
	if stateChanged {
		g.state = p.proposedState
	}
	if p.attrs != nil {
		g.attrs = *p.attrs
	}
	to := liveRecipients(append(slices.Clone(before), p.joiners...))
	n := &wire.Notification{
		Type:     wire.ApprovedNotification,
		Group:    g.name,
		Protocol: p.kind,
		Summary:  sum,
		Proposal: e.proposal(g, p, after),
	}
	p.voteMessage = nil
	g.members = after
	for _, m := range p.joiners {
		if r := m.client.tokens[m.token]; r != nil && r.member == m && r.state == tokPending {
			r.state = tokProvider
		}
	}
	for _, m := range p.leavers {
		endToken(m)
	}
	e.notify(to, n)
	e.notifySubscribers(g, p.kind, p.joiners, p.leavers, stateChanged)
	if p.what&(wire.ChangeMembership|wire.ChangeStateValue) != 0 {
		if p.joiners != nil {
			e.reflectTargets(g, providersOf(p.joiners), nil, false)
		} else {
			e.reflectTargets(g, providersOf(p.leavers), p.leaveInfo, false)
		}
	}
}

// reflectTargets queues, in every target group of src, the reflection of an
// approved change of src, and lets each target run it when it can. leaves
// is parallel to changing when those providers left src, nil when they
// joined it (or for a state change).
func (e *Engine) reflectTargets(src *group, changing []wire.Provider, leaves []wire.LeaveInfo, dissolved bool) {
	if changing == nil {
		changing = []wire.Provider{}
	}
	// A target that dissolves meanwhile leaves src.targets: walk a copy.
	for _, t := range slices.Clone(src.targets) {
		t.queue = append(t.queue, queued{reflect: &reflection{
			changing:  slices.Clone(changing),
			leaveInfo: slices.Clone(leaves),
			state:     cloneBytes(src.state),
			dissolved: dissolved,
		}})
		e.advance(t)
	}
}

// endToken ends the membership (or pending join) named by m's token.
func endToken(m *member) {
	if m.client == nil {
		return
	}
	if r := m.client.tokens[m.token]; r != nil && r.member == m {
		r.state = tokEnded
	}
}

// fail marks the provider (or pending joiner) of token r as failed and queues
// its failure leave. Callers then call advance.
func (e *Engine) fail(r *tokenRec, reason wire.LeaveReason) {
	m, g := r.member, r.group
	was := r.state
	r.state = tokEnded
	if m.failed {
		return
	}
	if was == tokPending {
		if i := slices.IndexFunc(g.queue, func(q queued) bool { return q.join == m }); i >= 0 {
			g.queue = slices.Delete(g.queue, i, i+1)
			return
		}
		// Its join is running: if approved, a failure leave removes it.
	}
	m.failed = true
	if p := g.running; p != nil && slices.Contains(p.participants, m) {
		p.failure = true
	}
	// A provider's script runs at once; a joiner's only if its join is
	// approved (then the group saw a provider fail), when its failure
	// leave starts.
	died := reason == wire.ProviderProcessDied
	if was == tokProvider && died {
		e.deactivateOnFailure(g, m)
	}
	g.queue = append(g.queue, queued{fail: m, reason: reason, script: died && was == tokPending})
}

// deactivateOnFailure asks the provider's node to run its client's
// deactivate script, if one is registered, because the provider's process
// died. Nothing waits for the outcome: the failure leave runs at once, and
// the EventScriptDone that reports it changes nothing (scriptDone finds no
// protocol waiting for its ID).
func (e *Engine) deactivateOnFailure(g *group, m *member) {
	c := m.client
	if c == nil || c.hello.DeactivateScript == "" {
		return
	}
	e.scriptID++
	e.out = append(e.out, Effect{Kind: EffectRunScript, Script: &ScriptRun{
		ID:        e.scriptID,
		Node:      c.id.Node,
		Owner:     c.id,
		Path:      c.hello.DeactivateScript,
		Uid:       c.cred.Uid,
		Gid:       c.cred.Gid,
		Group:     g.name,
		Provider:  m.p,
		Pid:       c.cred.Pid,
		Reason:    ScriptFailure,
		TimeLimit: g.attrs.TimeLimit,
	}})
}

// notifySubscribers tells each subscriber of an approved change what it
// asked to hear about.
func (e *Engine) notifySubscribers(g *group, kind wire.RequestType, joined, left []*member, stateChanged bool) {
	for _, s := range g.subs {
		var t wire.SubscriptionType
		var chg []wire.Provider
		if stateChanged && s.ctl&wire.SubscribeStateValue != 0 {
			t |= wire.SubscriptionStateValue
		}
		if len(joined) > 0 && s.ctl&wire.SubscribeDeltaJoins != 0 {
			t |= wire.SubscriptionDeltaJoin
			chg = append(chg, providersOf(joined)...)
		}
		if len(left) > 0 && s.ctl&wire.SubscribeDeltaLeaves != 0 {
			t |= wire.SubscriptionDeltaLeave
			chg = append(chg, providersOf(left)...)
		}
		if t == 0 {
			continue
		}
		n := &wire.Notification{
			Type:     wire.SubscriptionNotification,
			Group:    g.name,
			Protocol: kind,
			SubType:  t,
			Changing: chg,
		}
		if s.ctl&wire.SubscribeStateValue != 0 {
			n.State = cloneBytes(g.state)
		}
		if s.ctl&wire.SubscribeAllMembership != 0 && s.ctl&wire.SubscribeDeltasOnly == 0 {
			n.Full = providersOf(g.members)
		}
		e.notify([]Recipient{{Client: s.client.id, Token: s.token}}, n)
	}
}

// dissolve deletes a group left without providers; its subscribers are told.
func (e *Engine) dissolve(g *group) {
	for _, s := range g.subs {
		if r := s.client.tokens[s.token]; r != nil && r.sub == s {
			r.state = tokEnded
		}
		e.notify([]Recipient{{Client: s.client.id, Token: s.token}}, &wire.Notification{
			Type:    wire.SubscriptionNotification,
			Group:   g.name,
			Summary: wire.GroupDissolved,
			SubType: wire.SubscriptionDissolved,
		})
	}
	g.subs = nil
	delete(e.groups, g.name)
	if src := g.source; src != nil {
		src.targets = slices.DeleteFunc(src.targets, func(t *group) bool { return t == g })
		g.source = nil
	}
	// The targets hear of the dissolution in one last reflection, and
	// lose their source: a later group of the same name is not it.
	targets := g.targets
	e.reflectTargets(g, nil, nil, true)
	g.targets = nil
	for _, t := range targets {
		t.source = nil
	}
}

// tick expires deadlines at or before the engine's time.
func (e *Engine) tick() {
	for _, g := range e.sortedGroups() {
		p := g.running
		if p == nil {
			continue
		}
		switch {
		case !p.delivered && p.scriptDeadline > 0 && p.scriptDeadline <= e.now:
			for _, id := range p.sortedScripts() {
				e.scriptDone(id, wire.DeactivateTimedOut)
			}
		case p.delivered && p.nphase && p.deadline > 0 && p.deadline <= e.now:
			tardy := p.waiting()
			if len(tardy) == 0 {
				break
			}
			e.notify(liveRecipients(append(slices.Clone(p.participants), p.joiners...)), &wire.Notification{
				Type:      wire.AnnouncementNotification,
				Group:     g.name,
				Protocol:  p.kind,
				Summary:   wire.TimeLimitExceeded,
				Providers: providersOf(tardy),
			})
			e.conclude(g, p, tardy)
			e.advance(g)
		}
	}
}
