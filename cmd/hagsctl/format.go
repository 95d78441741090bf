package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/openhags/hags/internal/wire"
)

func printText(w io.Writer, q wire.AdminQuery, rep *wire.AdminReply) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	switch q.What {
	case "status":
		writeStatus(tw, rep.Status)
	case "nodes":
		if rep.Status != nil {
			writeNodes(tw, rep.Status.Nodes)
		}
	case "groups":
		writeGroups(tw, rep.Groups)
	case "group":
		writeGroup(tw, rep.Group)
	}
	return tw.Flush()
}

func writeStatus(w io.Writer, s *wire.Status) {
	if s == nil {
		return
	}
	fmt.Fprintf(w, "domain\t%s\n", s.Domain)
	fmt.Fprintf(w, "node\t%d\n", s.Node)
	fmt.Fprintf(w, "version\t%s\n", s.Version)
	fmt.Fprintf(w, "pid\t%d\n", s.Pid)
	fmt.Fprintf(w, "incarnation\t%d\n", s.Incarnation)
	fmt.Fprintf(w, "started\t%s\n", time.Unix(s.StartedUnix, 0).UTC().Format(time.RFC3339))
	fmt.Fprintf(w, "clients\t%d\n", s.Clients)
	fmt.Fprintf(w, "groups\t%d\n", s.Groups)
	fmt.Fprintf(w, "\n")
	writeNodes(w, s.Nodes)
}

func writeNodes(w io.Writer, nodes []wire.NodeStatus) {
	fmt.Fprintf(w, "NODE\tNAME\tADDRESS\tROLE\tHEALTH\n")
	for _, n := range nodes {
		fmt.Fprintf(w, "%d\t%s\t%s\t%s\t%s\n", n.Node, dash(n.Name), dash(n.Address), n.Role, n.Health)
	}
}

func writeGroups(w io.Writer, gs []wire.GroupSummary) {
	fmt.Fprintf(w, "GROUP\tPROVIDERS\tSUBSCRIBERS\tPROTOCOL\n")
	for _, g := range gs {
		fmt.Fprintf(w, "%s\t%d\t%d\t%s\n", g.Name, g.Providers, g.Subscribers, dash(g.Protocol))
	}
}

func writeGroup(w io.Writer, d *wire.GroupDetail) {
	if d == nil {
		return
	}
	a := d.Attributes
	fmt.Fprintf(w, "group\t%s\n", d.Name)
	fmt.Fprintf(w, "owner\tuid %d\n", d.Owner)
	fmt.Fprintf(w, "attributes\tphases=%s batch=%d default-vote=%s time-limit=%ds source=%s\n",
		phases(a.NumPhases), a.BatchControl, a.DefaultVote, a.TimeLimit, dash(a.SourceGroupName))
	fmt.Fprintf(w, "state\t%s\n", formatState(d.State))
	if p := d.Protocol; p != nil {
		fmt.Fprintf(w, "protocol\t%s phase %d, proposed by %s, waiting for %s\n",
			p.Type, p.Phase, p.Proposer, wire.FormatProviders(p.Waiting))
	} else {
		fmt.Fprintf(w, "protocol\tnone\n")
	}
	fmt.Fprintf(w, "queued\t%d\n", d.Queued)

	fmt.Fprintf(w, "\nPROVIDER\tINSTANCE\tNODE\tPID\tLOCAL-NAME\n")
	for _, p := range d.Providers {
		fmt.Fprintf(w, "%s\t%d\t%d\t%d\t%s\n", p.Provider, p.Provider.Instance, p.Provider.Node, p.Pid, dash(p.LocalName))
	}
	fmt.Fprintf(w, "\nSUBSCRIBER-NODE\tPID\tCONTROL\n")
	for _, s := range d.Subscribers {
		fmt.Fprintf(w, "%d\t%d\t%s\n", s.Node, s.Pid, subscription(s.Control))
	}
}

func phases(n wire.NumPhases) string {
	switch n {
	case wire.OnePhase:
		return "1"
	case wire.NPhase:
		return "n"
	}
	return strconv.Itoa(int(n))
}

func subscription(c wire.SubscriptionControl) string {
	var parts []string
	for _, f := range []struct {
		bit  wire.SubscriptionControl
		name string
	}{{wire.SubscribeStateValue, "state"}, {wire.SubscribeDeltaJoins, "joins"},
		{wire.SubscribeDeltaLeaves, "leaves"}, {wire.SubscribeDeltasOnly, "deltas-only"}} {
		if c&f.bit != 0 {
			parts = append(parts, f.name)
		}
	}
	if len(parts) == 0 {
		return "-"
	}
	return strings.Join(parts, ",")
}

// formatState shows a state value as a quoted string when it is printable
// text, else as hex.
func formatState(b []byte) string {
	if utf8.Valid(b) && strings.IndexFunc(string(b), func(r rune) bool { return !unicode.IsPrint(r) }) < 0 {
		return strconv.Quote(string(b))
	}
	return "0x" + hex.EncodeToString(b)
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
