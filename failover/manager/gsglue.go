package manager

import (
	"github.com/openhags/hags/failover/engine"
	"github.com/openhags/hags/gsapi"
)

// logNotification turns a notification of the log group into the core's
// event, in the order it arrived.
func (m *Manager) logNotification(n *gsapi.Notification) {
	if n.Proposal == nil {
		return
	}
	p := n.Proposal
	var e event
	var msg *message
	if n.Protocol == gsapi.ProviderMessageProtocol && p.Message != nil {
		msg = new(message)
		if err := decode(p.Message, msg); err != nil {
			m.log.Warn("undecodable message on the log group", "err", err)
			msg = nil
		}
	}
	switch n.Type {
	case gsapi.NPhaseNotification:
		if msg == nil {
			m.vote(n.Protocol != gsapi.ProviderMessageProtocol)
			return
		}
		e = event{Kind: evNPhase, Msg: msg}
	case gsapi.ApprovedNotification:
		switch n.Protocol {
		case gsapi.JoinProtocol:
			e = event{Kind: evJoin, Nodes: nodesOf(p.Changing), Members: nodesOf(p.Current)}
		case gsapi.LeaveProtocol, gsapi.FailureLeaveProtocol, gsapi.ExpelProtocol:
			e = event{Kind: evLeave, Nodes: nodesOf(p.Changing), Members: nodesOf(p.Current)}
			for i := range p.Changing {
				why := engine.DepartProcess
				if i < len(p.LeaveInfo) {
					why = departure(p.LeaveInfo[i].Reason)
				}
				e.Why = append(e.Why, why)
			}
		default:
			// A message, or any other approved protocol: it takes a
			// position in the log either way.
			e = event{Kind: evMessage, Msg: msg}
		}
	case gsapi.RejectedNotification:
		e = event{Kind: evRejected, Msg: msg}
	default:
		return
	}
	if err := m.c.handle(&e); err != nil && err != errNotMember {
		m.log.Error("the managers' log failed; leaving the group to start again", "err", err)
		m.restartSession()
		return
	}
	m.afterStep()
	if n.Type != gsapi.NPhaseNotification {
		m.ended(msg, n.Type == gsapi.ApprovedNotification && n.Protocol == gsapi.ProviderMessageProtocol)
	}
}

// announcement: providers were tardy. Nothing to do yet: the batch goes
// again when it is rejected.
func (m *Manager) announcement(n *gsapi.Notification) {
	m.log.Warn("managers were tardy on the log group", "providers", n.Providers)
}

// vote answers the log group's current phase (effects).
func (m *Manager) vote(approve bool) {
	if m.gs == nil {
		return
	}
	v := gsapi.VoteApprove
	if !approve {
		v = gsapi.VoteReject
	}
	if err := m.gs.Vote(m.logTok, gsapi.VoteRequest{Vote: v}); err != nil {
		m.log.Warn("cannot vote on the log group", "err", err)
	}
}

func nodesOf(ps []gsapi.Provider) []engine.NodeID {
	out := make([]engine.NodeID, 0, len(ps))
	for _, p := range ps {
		out = append(out, p.Node)
	}
	return out
}

// departure says what a leave reason means for what the leaver ran.
func departure(r gsapi.LeaveReason) engine.Departure {
	switch r {
	case gsapi.ProviderSaidGoodbye, gsapi.ProviderLeft:
		return engine.DepartGoodbye
	case gsapi.ProviderNodeDied, gsapi.ProviderCastOut:
		return engine.DepartNode
	}
	return engine.DepartProcess
}

// restartSession drops the hagsd session (which fails this manager in the
// groups) and connects again: the way back to a consistent state after an
// error in the log.
func (m *Manager) restartSession() {
	if m.gs != nil {
		m.gs.Close()
	}
}
