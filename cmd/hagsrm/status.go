package main

import (
	"context"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/spf13/cobra"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/internal/cli"
)

// attention is a resource that is not where it should be, and why.
type attention struct {
	Resource string   `json:"resource"`
	Group    string   `json:"group"`
	Why      []string `json:"why"`
}

// statusJSON is what status --json prints.
type statusJSON struct {
	Nodes     []failover.NodeInfo     `json:"nodes"`
	Groups    []failover.GroupInfo    `json:"groups"`
	Resources []failover.ResourceInfo `json:"resources"`
	Attention []attention             `json:"attention"`
}

// wrong says whether a resource needs an operator's eye, and in a few
// words why: it failed, it is not in its persistent state (and not on
// its way there), or it is locked.
func wrong(r failover.ResourceInfo) (string, bool) {
	want := failover.ResourceOffline
	if r.PersistentState == failover.PersistentOnline {
		want = failover.ResourceOnline
	}
	switch {
	case r.State == failover.ResourceFailed:
		return "failed", true
	case r.State.Pending():
		return "", false
	case r.State != want:
		return "should be " + short(want.String()), true
	case r.Locked:
		return "locked", true
	}
	return "", false
}

func (a *app) statusCommand() *cobra.Command {
	return &cobra.Command{
		Use:   "status",
		Short: "One screen: nodes, groups and their resources, and why what is not where it should be is not",
		Args:  cli.NArgs(0, 0, "none"),
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx := cmd.Context()
			c, err := a.connect(ctx)
			if err != nil {
				return err
			}
			var s statusJSON
			if s.Nodes, err = c.Nodes(ctx); err != nil {
				return err
			}
			if s.Groups, err = c.Groups(ctx); err != nil {
				return err
			}
			if s.Resources, err = c.Resources(ctx); err != nil {
				return err
			}
			s.Attention = a.attention(ctx, c, s.Resources)
			if a.json {
				a.emitJSON(s)
				return nil
			}
			printStatus(a.stdout, c.Socket(), s)
			return nil
		},
	}
}

// attention asks why for every resource that needs it.
func (a *app) attention(ctx context.Context, c *failover.Client, rs []failover.ResourceInfo) []attention {
	out := []attention{}
	for _, r := range rs {
		if _, bad := wrong(r); !bad {
			continue
		}
		at := attention{Resource: r.Name, Group: r.Group}
		h, err := c.OpenResource(ctx, r.Name)
		if err == nil {
			at.Why, err = h.Why(ctx)
			h.Close()
		}
		if err != nil {
			at.Why = []string{"(why is not known: " + err.Error() + ")"}
		}
		out = append(out, at)
	}
	return out
}

func printStatus(w io.Writer, socket string, s statusJSON) {
	up := 0
	for _, n := range s.Nodes {
		if n.State == failover.NodeUp {
			up++
		}
	}
	fmt.Fprintf(w, "Cluster of %s (%d up), %s, %s  (hagsrmd at %s)\n\n",
		count(len(s.Nodes), "node"), up, count(len(s.Groups), "group"), count(len(s.Resources), "resource"), socket)

	tw := table(w)
	fmt.Fprintln(tw, "NODE\tID\tSTATE\tGROUPS")
	for _, n := range s.Nodes {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\n", n.Name, n.ID, short(n.State.String()), dash(strings.Join(n.Groups, ", ")))
	}
	tw.Flush()
	fmt.Fprintln(w)

	byName := map[string]failover.ResourceInfo{}
	for _, r := range s.Resources {
		byName[r.Name] = r
	}
	listed := map[string]bool{}
	tw = table(w)
	fmt.Fprintln(tw, "GROUP / RESOURCE\tSTATE\tOWNER\tWANTED\tSEQ\tAGENT\tNOTE")
	row := func(r failover.ResourceInfo) {
		listed[r.Name] = true
		var notes []string
		if n, bad := wrong(r); bad {
			notes = append(notes, "!! "+n)
		}
		if r.Locked && !contains(notes, "!! locked") {
			notes = append(notes, "locked")
		}
		if r.Restarts > 0 {
			notes = append(notes, fmt.Sprintf("%d restarts", r.Restarts))
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\t%d\t%s\t%s\n", r.Name, short(r.State.String()), dash(r.Owner),
			r.PersistentState, r.Sequence, r.Agent, strings.Join(notes, ", "))
	}
	for _, g := range s.Groups {
		owner := g.Owner
		var notes []string
		if g.MovingTo != "" {
			notes = append(notes, "moving to "+g.MovingTo)
		}
		if g.Failovers > 0 {
			notes = append(notes, fmt.Sprintf("%d failovers", g.Failovers))
		}
		if g.State == failover.GroupFailed {
			notes = append(notes, "!! failed")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t\t%s\n", g.Name, short(g.State.String()), dash(owner), g.PersistentState,
			g.Sequence, strings.Join(notes, ", "))
		for _, rn := range g.Resources {
			if r, ok := byName[rn]; ok {
				row(r)
			}
		}
	}
	var strays []failover.ResourceInfo
	for _, r := range s.Resources {
		if !listed[r.Name] {
			strays = append(strays, r)
		}
	}
	sort.Slice(strays, func(i, j int) bool { return strays[i].Name < strays[j].Name })
	for _, r := range strays { // a group created or deleted between the two reads
		row(r)
	}
	tw.Flush()
	fmt.Fprintln(w)

	if len(s.Attention) == 0 {
		fmt.Fprintln(w, "Every resource is in its persistent state.")
		return
	}
	fmt.Fprintln(w, "Not where they should be:")
	for _, at := range s.Attention {
		for i, l := range at.Why {
			if i == 0 {
				fmt.Fprintf(w, "  %s (%s): %s\n", at.Resource, at.Group, l)
			} else {
				fmt.Fprintf(w, "  %s  %s\n", strings.Repeat(" ", len(at.Resource)+len(at.Group)+3), l)
			}
		}
	}
}

func contains(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// count writes n and the noun, plural when n is not 1.
func count(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
