package protocol

import (
	"github.com/openhags/hags/internal/wire"
)

// Groups returns a summary of every group, HostMembership included, sorted
// by name. The result belongs to the caller.
func (e *Engine) Groups() []wire.GroupSummary {
	gs := e.sortedGroups()
	out := make([]wire.GroupSummary, 0, len(gs))
	for _, g := range gs {
		s := wire.GroupSummary{Name: g.name, Providers: len(g.members), Subscribers: len(g.subs)}
		if g.running != nil {
			s.Protocol = g.running.kind.Short()
		}
		out = append(out, s)
	}
	return out
}

// Group describes one group for hagsctl, or reports false when there is no
// such group. The result belongs to the caller.
func (e *Engine) Group(name string) (*wire.GroupDetail, bool) {
	g := e.groups[name]
	if g == nil {
		return nil, false
	}
	d := &wire.GroupDetail{
		Name:        g.name,
		Owner:       g.owner,
		Attributes:  g.attrs,
		State:       cloneBytes(g.state),
		Providers:   make([]wire.ProviderDetail, 0, len(g.members)),
		Subscribers: make([]wire.SubscriberDetail, 0, len(g.subs)),
		Queued:      len(g.queue),
	}
	for _, m := range g.members {
		pd := wire.ProviderDetail{Provider: m.p, LocalName: m.localName}
		if m.client != nil {
			pd.Pid = m.client.cred.Pid
		}
		d.Providers = append(d.Providers, pd)
	}
	for _, s := range g.subs {
		d.Subscribers = append(d.Subscribers, wire.SubscriberDetail{
			Node: s.client.id.Node, Pid: s.client.cred.Pid, Control: s.ctl,
		})
	}
	if p := g.running; p != nil {
		pd := &wire.ProtocolDetail{Type: p.kind, Phase: p.phase, Waiting: []wire.Provider{}}
		if p.proposer != nil {
			pd.Proposer = p.proposer.p
		}
		if p.nphase && p.delivered {
			pd.Waiting = providersOf(p.waiting())
		}
		d.Protocol = pd
	}
	return d, true
}
