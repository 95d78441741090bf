// Package rmcheck judges a run of the failover manager from the action
// log its agents wrote (failover/agent/actlog): it finds every interval in
// which a resource may have run on a node, and fails on any moment at
// which resources of one group may have run on two nodes. The real-process
// tests, the simulations of make stress and the benchmarks feed it.
package rmcheck

import (
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/openhags/hags/failover/agent/actlog"
)

// Open is the end of an interval that had not ended when the log did.
const Open = math.MaxInt64

// Interval is a span of CLOCK_MONOTONIC time in which a resource may have
// run on a node: from the moment a start began to the moment a stop (or
// an exit, or a kill) was seen to have ended it.
type Interval struct {
	Node, Resource string
	From, To       int64
}

func (i Interval) String() string {
	to := "still running"
	if i.To != Open {
		to = fmt.Sprint(i.To)
	}
	return fmt.Sprintf("%s on %s from %d to %s", i.Resource, i.Node, i.From, to)
}

// overlaps reports whether i and j share a moment.
func (i Interval) overlaps(j Interval) bool { return i.From < j.To && j.From < i.To }

// Intervals reads records (in any order) into the intervals of every
// resource on every node, in order of start. The reading is conservative:
// a start opens an interval even when it failed (it may have left
// something running), and only a successful stop, an exit or a kill
// closes it; after a failed stop the resource may still run.
func Intervals(recs []actlog.Record) []Interval {
	recs = slices.Clone(recs)
	slices.SortStableFunc(recs, func(a, b actlog.Record) int {
		switch {
		case a.Mono < b.Mono:
			return -1
		case a.Mono > b.Mono:
			return 1
		}
		return 0
	})
	type key struct{ node, res string }
	open := map[key]int{} // index into out of the open interval
	var out []Interval
	for _, r := range recs {
		k := key{r.Node, r.Resource}
		switch r.Op {
		case actlog.OpStart:
			if _, ok := open[k]; ok {
				continue // still open from an earlier start
			}
			open[k] = len(out)
			out = append(out, Interval{Node: r.Node, Resource: r.Resource, From: r.Mono, To: Open})
		case actlog.OpStop:
			i, ok := open[k]
			if !ok || !r.OK {
				continue
			}
			out[i].To = r.Mono
			delete(open, k)
		}
	}
	return out
}

// Violation is two intervals of one group's resources on two nodes that
// share a moment.
type Violation struct {
	Group string
	A, B  Interval
}

func (v Violation) String() string {
	return fmt.Sprintf("group %s ran on two nodes at once: %s; %s", v.Group, v.A, v.B)
}

// Overlaps returns every pair of intervals of resources of the same group
// (groupOf maps a resource to its group; resources it does not know form
// a group of their own) that ran on two nodes at once.
func Overlaps(recs []actlog.Record, groupOf map[string]string) []Violation {
	byGroup := map[string][]Interval{}
	for _, iv := range Intervals(recs) {
		g, ok := groupOf[iv.Resource]
		if !ok {
			g = "resource " + iv.Resource
		}
		byGroup[g] = append(byGroup[g], iv)
	}
	var out []Violation
	groups := make([]string, 0, len(byGroup))
	for g := range byGroup {
		groups = append(groups, g)
	}
	slices.Sort(groups)
	for _, g := range groups {
		ivs := byGroup[g]
		for i := range ivs {
			for j := i + 1; j < len(ivs); j++ {
				if ivs[i].Node != ivs[j].Node && ivs[i].overlaps(ivs[j]) {
					out = append(out, Violation{Group: g, A: ivs[i], B: ivs[j]})
				}
			}
		}
	}
	return out
}

// Report writes violations one a line, or "" when there are none.
func Report(vs []Violation) string {
	var b strings.Builder
	for _, v := range vs {
		b.WriteString(v.String())
		b.WriteByte('\n')
	}
	return b.String()
}
