package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/openhags/hags/gsapi"
)

// formatNote prints a notification as one line: its kind, then key=value
// fields in a fixed order. Everything after "tok=T" is identical for every
// provider that receives the same notification, which is what the
// real-process tests compare.
func formatNote(n *gsapi.Notification) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s tok=%d group=%s", n.Type, n.Token, n.Group)
	switch n.Type {
	case gsapi.NPhaseNotification, gsapi.ApprovedNotification, gsapi.RejectedNotification:
		fmt.Fprintf(&b, " proto=%s sum=%s", n.Protocol, n.Summary)
		if n.Type == gsapi.NPhaseNotification {
			fmt.Fprintf(&b, " limit=%d", n.TimeLimit)
		}
		if p := n.Proposal; p != nil {
			fmt.Fprintf(&b, " phase=%d what=%s members=%s changing=%s state=%s",
				p.Phase, p.WhatsChanged, providers(p.Current), providers(p.Changing),
				quote(p.CurrentState))
			if p.ProposedState != nil {
				fmt.Fprintf(&b, " pstate=%s", quote(p.ProposedState))
			}
			if p.Message != nil {
				fmt.Fprintf(&b, " msg=%s", quote(p.Message))
			}
			if len(p.LeaveInfo) > 0 {
				parts := make([]string, len(p.LeaveInfo))
				for i, li := range p.LeaveInfo {
					parts[i] = li.Reason.String()
					if li.Code != 0 {
						parts[i] += ":" + strconv.Itoa(int(li.Code))
					}
				}
				fmt.Fprintf(&b, " leave=%s", strings.Join(parts, ","))
			}
			if e := p.ExpelInfo; e != nil {
				parts := make([]string, len(e.Results))
				for i, r := range e.Results {
					parts[i] = r.String()
				}
				fmt.Fprintf(&b, " dphase=%d deactivate=%s", e.Phase, strings.Join(parts, ","))
			}
		}
	case gsapi.AnnouncementNotification:
		fmt.Fprintf(&b, " sum=%s providers=%s", n.Summary, providers(n.Providers))
	case gsapi.SubscriptionNotification:
		fmt.Fprintf(&b, " type=%s", n.SubType)
		if n.State != nil {
			fmt.Fprintf(&b, " state=%s", quote(n.State))
		}
		if n.Full != nil {
			fmt.Fprintf(&b, " members=%s", providers(n.Full))
		}
		fmt.Fprintf(&b, " changing=%s", providers(n.Changing))
	case gsapi.DelayedErrorNotification:
		fmt.Fprintf(&b, " proto=%s code=%s", n.Protocol, n.Code)
	}
	return b.String()
}

func quote(b []byte) string { return strconv.Quote(string(b)) }

func providers(ps []gsapi.Provider) string {
	if len(ps) == 0 {
		return "-"
	}
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}
