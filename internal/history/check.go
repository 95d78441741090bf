package history

import (
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/openhags/hags/internal/wire"
)

// maxPerRule bounds how many violations of one rule in one group Check
// reports: one broken order tends to break every later comparison.
const maxPerRule = 10

// Check judges a run: it returns what it looked at and every violation it
// found (joined with errors.Join; each is a *Violation), or nil.
func Check(in Input) (Summary, error) {
	sum := Summary{Leaves: map[wire.LeaveReason]int{}, Histories: len(in.Histories)}
	byGroup := map[string][]*History{}
	var groups []string
	for i := range in.Histories {
		h := &in.Histories[i]
		if _, ok := byGroup[h.Group]; !ok {
			groups = append(groups, h.Group)
		}
		byGroup[h.Group] = append(byGroup[h.Group], h)
		sum.Records += len(h.Records)
	}
	sort.Strings(groups)
	sum.Groups = len(groups)
	var errs []error
	checked := map[string]*groupCheck{}
	for _, g := range groups {
		gc := newGroupCheck(g, byGroup[g], in)
		gc.run()
		checked[g] = gc
		sum.Approvals += len(gc.recs)
		sum.Chains += len(gc.chains)
		sum.Headless += gc.headless
		sum.Survivors += gc.survivors
		for r, n := range gc.leaves {
			sum.Leaves[r] += n
		}
		errs = append(errs, gc.errs...)
	}
	if in.CheckScripts {
		sum.Scripts = len(in.Scripts)
		errs = append(errs, checkScripts(in, checked)...)
	}
	return sum, errors.Join(errs...)
}

// groupCheck is the judgement of one group.
type groupCheck struct {
	name  string
	hs    []*History
	in    Input
	recs  map[string]*Record // by key
	keys  [][]string         // parallel to hs
	next  map[string]string
	prev  map[string]string
	chain map[string]int // key → chain index
	pos   map[string]int // key → index in its chain

	chains    [][]string
	headless  int
	survivors int
	final     int // the survivors' chain, or -1
	leaves    map[wire.LeaveReason]int
	errs      []error
	counts    map[Rule]int
}

func newGroupCheck(name string, hs []*History, in Input) *groupCheck {
	return &groupCheck{name: name, hs: hs, in: in, recs: map[string]*Record{}, next: map[string]string{},
		prev: map[string]string{}, chain: map[string]int{}, pos: map[string]int{}, final: -1,
		leaves: map[wire.LeaveReason]int{}, counts: map[Rule]int{}}
}

func (gc *groupCheck) fail(rule Rule, p *wire.Provider, format string, args ...any) {
	gc.counts[rule]++
	if gc.counts[rule] > maxPerRule {
		return
	}
	var who *wire.Provider
	if p != nil {
		q := *p
		who = &q
	}
	gc.errs = append(gc.errs, &Violation{Rule: rule, Group: gc.name, Provider: who, Detail: fmt.Sprintf(format, args...)})
}

func (gc *groupCheck) run() {
	gc.order()
	gc.buildChains()
	gc.membership()
	gc.joins()
	gc.survive()
	gc.deaths()
}

// order checks rule 1 (and duplicates): every history's successive pairs
// agree with every other history's.
func (gc *groupCheck) order() {
	gc.keys = make([][]string, len(gc.hs))
	for i, h := range gc.hs {
		seen := map[string]bool{}
		ks := make([]string, len(h.Records))
		for j := range h.Records {
			r := &h.Records[j]
			k := r.Key()
			ks[j] = k
			if seen[k] {
				gc.fail(RuleDuplicate, &h.Provider, "received %q twice", k)
			}
			seen[k] = true
			if _, ok := gc.recs[k]; !ok {
				gc.recs[k] = r
				gc.malformed(r)
			}
		}
		gc.keys[i] = ks
		for j := 0; j+1 < len(ks); j++ {
			x, y := ks[j], ks[j+1]
			if x == y {
				continue // reported as a duplicate
			}
			if old, ok := gc.next[x]; ok && old != y {
				gc.fail(RuleOrder, &h.Provider, "after %q it received %q, another provider %q", x, y, old)
			} else {
				gc.next[x] = y
			}
			if old, ok := gc.prev[y]; ok && old != x {
				gc.fail(RuleOrder, &h.Provider, "before %q it received %q, another provider %q", y, x, old)
			} else {
				gc.prev[y] = x
			}
		}
	}
}

// malformed checks a record's own consistency.
func (gc *groupCheck) malformed(r *Record) {
	if removal(r.Kind) && len(r.Leave) != len(r.Changing) {
		gc.fail(RuleMalformed, nil, "%q: %d leave reasons for %d changing providers", r.Key(), len(r.Leave), len(r.Changing))
	}
	if r.Kind == wire.ExpelProtocol && (r.Expel == nil || len(r.Expel.Results) != len(r.Changing)) {
		gc.fail(RuleMalformed, nil, "%q: an expel without one deactivate result per expelled provider", r.Key())
	}
}

// buildChains follows the successor links from every approval without a
// predecessor; what is left over lies on a cycle.
func (gc *groupCheck) buildChains() {
	var heads []string
	for k := range gc.recs {
		if _, ok := gc.prev[k]; !ok {
			heads = append(heads, k)
		}
	}
	sort.Strings(heads)
	for _, h := range heads {
		idx := len(gc.chains)
		var c []string
		for k, ok := h, true; ok; k, ok = gc.next[k] {
			if _, dup := gc.chain[k]; dup {
				break // a broken order already reported
			}
			gc.chain[k], gc.pos[k] = idx, len(c)
			c = append(c, k)
		}
		gc.chains = append(gc.chains, c)
	}
	for k := range gc.recs {
		if _, ok := gc.chain[k]; !ok {
			gc.fail(RuleOrder, nil, "%q lies on a cycle of approvals", k)
		}
	}
}

// membership checks rule 2 along every chain.
func (gc *groupCheck) membership() {
	for _, c := range gc.chains {
		head := gc.recs[c[0]]
		if !(head.Kind == wire.JoinProtocol && sameSet(head.Members, head.Changing)) {
			gc.headless++
		}
		for i := 1; i < len(c); i++ {
			before, r := gc.recs[c[i-1]], gc.recs[c[i]]
			want := apply(before.Members, r)
			if !sameSet(want, r.Members) {
				gc.fail(RuleMembership, nil, "after %q, %q should leave members %s", c[i-1], c[i], providers(want))
			}
		}
	}
}

// apply returns the membership after r, given the one before it.
func apply(before []wire.Provider, r *Record) []wire.Provider {
	switch {
	case r.Kind == wire.JoinProtocol:
		out := slices.Clone(before)
		for _, p := range r.Changing {
			if !slices.Contains(out, p) {
				out = append(out, p)
			}
		}
		return out
	case removal(r.Kind):
		return slices.DeleteFunc(slices.Clone(before), func(p wire.Provider) bool { return slices.Contains(r.Changing, p) })
	}
	return before
}

func sameSet(a, b []wire.Provider) bool {
	if len(a) != len(b) {
		return false
	}
	for _, p := range a {
		if !slices.Contains(b, p) {
			return false
		}
	}
	return true
}

// joins checks rule 3 for every history.
func (gc *groupCheck) joins() {
	for i, h := range gc.hs {
		if len(h.Records) == 0 {
			continue
		}
		p := h.Provider
		first := &h.Records[0]
		if first.Kind != wire.JoinProtocol || !slices.Contains(first.Changing, p) {
			gc.fail(RuleJoin, &p, "its first approval is %q, not its own join", gc.keys[i][0])
		}
		for j := range h.Records {
			r := &h.Records[j]
			if r.Removes(p) {
				if j != len(h.Records)-1 {
					gc.fail(RuleJoin, &p, "received %q after its own removal %q", gc.keys[i][j+1], gc.keys[i][j])
				}
				break
			}
			if !slices.Contains(r.Members, p) {
				gc.fail(RuleJoin, &p, "received %q, whose members do not include it", gc.keys[i][j])
			}
		}
	}
}

// member reports whether h's provider is still a member by its own last
// record (it saw its join approved and not its removal).
func member(h *History) bool {
	if len(h.Records) == 0 {
		return false
	}
	return !h.Records[len(h.Records)-1].Removes(h.Provider)
}

// survive checks rule 4.
func (gc *groupCheck) survive() {
	if !gc.in.Quiesced {
		return
	}
	var alive []int
	for i, h := range gc.hs {
		if h.Fate != Running {
			continue
		}
		if len(h.Records) == 0 {
			// Not a member by its own account: nobody may have seen its
			// join approved.
			for k, r := range gc.recs {
				if slices.Contains(r.Members, h.Provider) {
					gc.fail(RuleLost, &h.Provider, "never received its join, yet others saw it a member in %q", k)
					break
				}
			}
			continue
		}
		if member(h) {
			alive = append(alive, i)
		}
	}
	gc.survivors = len(alive)
	if len(alive) == 0 {
		return
	}
	gc.final = gc.chain[gc.keys[alive[0]][len(gc.keys[alive[0]])-1]]
	final := gc.chains[gc.final]
	for _, i := range alive {
		h, ks := gc.hs[i], gc.keys[i]
		last := ks[len(ks)-1]
		if c := gc.chain[last]; c != gc.final {
			gc.fail(RuleSplit, &h.Provider, "ends with %q, another survivor with %q", last, final[len(final)-1])
			continue
		}
		if at := gc.pos[last]; at != len(final)-1 {
			gc.fail(RuleLost, &h.Provider, "its last approval is %q; it missed %d later ones, from %q",
				last, len(final)-1-at, final[at+1])
		}
	}
}

// deaths checks rule 5: the reason of every removal, and that every death
// in the survivors' chain became a leave.
func (gc *groupCheck) deaths() {
	fate := map[wire.Provider]Fate{}
	known := map[wire.Provider]bool{}
	for _, h := range gc.hs {
		fate[h.Provider] = h.Fate
		known[h.Provider] = true
	}
	for k, r := range gc.recs {
		if !removal(r.Kind) {
			continue
		}
		for _, p := range r.Changing {
			li, ok := r.leaveOf(p)
			if !ok {
				continue // malformed, reported
			}
			gc.leaves[li.Reason]++
			switch r.Kind {
			case wire.LeaveProtocol:
				if li.Reason != wire.ProviderLeft {
					gc.fail(RuleLeave, &p, "left by a leave protocol with reason %s, not PROVIDER_LEFT (%q)", li.Reason, k)
				}
				continue
			case wire.ExpelProtocol:
				if li.Reason != wire.ProviderExpelled {
					gc.fail(RuleLeave, &p, "expelled with reason %s, not PROVIDER_EXPELLED (%q)", li.Reason, k)
				}
				continue
			case wire.CastOutProtocol:
				gc.fail(RuleLeave, &p, "cast out, which hags never does (%q)", k)
				continue
			}
			if !known[p] {
				if gc.in.Complete {
					gc.fail(RuleLeave, &p, "failed with %s, but no such provider was recorded (%q)", li.Reason, k)
				}
				continue
			}
			f := fate[p]
			if f == Running || f == Stalled {
				gc.fail(RuleLeave, &p, "failed with %s while its process runs (%q)", li.Reason, k)
				continue
			}
			if want, strict := f.failureReason(); strict && li.Reason != want {
				gc.fail(RuleLeave, &p, "its fate is %s, so it should leave with %s, not %s (%q)", f, want, li.Reason, k)
			}
		}
	}
	if !gc.in.Quiesced || !gc.in.Complete || gc.final < 0 {
		return
	}
	final := gc.chains[gc.final]
	last := gc.recs[final[len(final)-1]]
	var want []wire.Provider
	for _, h := range gc.hs {
		if (h.Fate == Running || h.Fate == Stalled) && member(h) {
			want = append(want, h.Provider)
		}
	}
	for _, p := range last.Members {
		if !slices.Contains(want, p) {
			gc.fail(RuleLeave, &p, "is still a member at the end (%q) though its fate is %s", final[len(final)-1], fate[p])
		}
	}
}

// checkScripts checks rule 6.
func checkScripts(in Input, groups map[string]*groupCheck) []error {
	var errs []error
	fail := func(group string, p *wire.Provider, format string, args ...any) {
		var who *wire.Provider
		if p != nil {
			q := *p
			who = &q
		}
		errs = append(errs, &Violation{Rule: RuleScript, Group: group, Provider: who, Detail: fmt.Sprintf(format, args...)})
	}
	type runKey struct {
		group  string
		p      wire.Provider
		reason ScriptReason
	}
	ids := map[uint64]int{}
	runs := map[runKey][]Script{}
	for _, s := range in.Scripts {
		if s.ID != 0 {
			ids[s.ID]++
			if ids[s.ID] == 2 {
				fail(s.Group, &s.Provider, "script %d (%s) ran twice", s.ID, s.Reason)
			}
		}
		k := runKey{s.Group, s.Provider, s.Reason}
		runs[k] = append(runs[k], s)
		if len(runs[k]) == 2 {
			fail(s.Group, &s.Provider, "its %s script ran twice", s.Reason)
		}
		if s.Node != 0 && s.Node != s.Provider.Node {
			fail(s.Group, &s.Provider, "its %s script ran on node %d, not on its own", s.Reason, s.Node)
		}
	}
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	sort.Strings(names)
	for _, g := range names {
		gc := groups[g]
		keys := make([]string, 0, len(gc.recs))
		for k := range gc.recs {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for _, k := range keys {
			r := gc.recs[k]
			for i, p := range r.Changing {
				switch {
				case r.Kind == wire.ExpelProtocol && r.Expel != nil && i < len(r.Expel.Results):
					if r.Expel.Results[i] != wire.DeactivateNotRun && len(runs[runKey{g, p, ScriptExpel}]) == 0 {
						fail(g, &p, "expelled with deactivate result %s, but its script never ran (%q)", r.Expel.Results[i], k)
					}
				case r.Kind == wire.FailureLeaveProtocol && in.HasScript != nil && in.HasScript(g, p):
					if li, ok := r.leaveOf(p); ok && li.Reason == wire.ProviderProcessDied &&
						len(runs[runKey{g, p, ScriptFailure}]) == 0 {
						fail(g, &p, "its process died and it registered a deactivate script, which never ran (%q)", k)
					}
				}
			}
		}
		fate := map[wire.Provider]Fate{}
		for _, h := range gc.hs {
			fate[h.Provider] = h.Fate
		}
		for _, h := range gc.hs {
			p := h.Provider
			if gc.in.Quiesced && (h.Fate == Running || h.Fate == Stalled) && member(h) && len(runs[runKey{g, p, ScriptExpel}]) > 0 {
				fail(g, &p, "its expel script ran, yet it is a member at the end")
			}
		}
		for k, rs := range runs {
			if k.group != g || k.reason != ScriptFailure {
				continue
			}
			if f, ok := fate[k.p]; ok && f != Killed && f != Lost {
				fail(g, &rs[0].Provider, "its failure script ran, but its fate is %s", f)
			}
		}
	}
	return errs
}
