package history

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/openhags/hags/internal/wire"
)

// Record is one approved change as one provider saw it: the content of an
// approved notification, without the token.
type Record struct {
	Kind     wire.RequestType
	Summary  wire.SummaryCode
	Phases   uint32          // phases the protocol ran (gs_phase_number)
	Members  []wire.Provider // the group after the change
	Changing []wire.Provider
	State    []byte // the state value after the change
	Message  []byte // the provider message; nil: none
	Leave    []wire.LeaveInfo
	Expel    *wire.ExpelInfo // nil: not an expel
}

// FromNotification returns the record of an approved notification, and
// false for any other notification. The record does not alias n.
func FromNotification(n *wire.Notification) (Record, bool) {
	if n == nil || n.Type != wire.ApprovedNotification || n.Proposal == nil {
		return Record{}, false
	}
	p := n.Proposal
	r := Record{
		Kind:     n.Protocol,
		Summary:  n.Summary,
		Phases:   p.Phase,
		Members:  slices.Clone(p.Current),
		Changing: slices.Clone(p.Changing),
		State:    slices.Clone(p.CurrentState),
		Message:  slices.Clone(p.Message),
		Leave:    slices.Clone(p.LeaveInfo),
	}
	if e := p.ExpelInfo; e != nil {
		x := &wire.ExpelInfo{Phase: e.Phase, Results: slices.Clone(e.Results)}
		if e.Flag != nil {
			f := *e.Flag
			x.Flag = &f
		}
		r.Expel = x
	}
	return r, true
}

// Records returns the records of the approved notifications in notes that
// concern group, in order.
func Records(group string, notes []wire.Notification) []Record {
	var out []Record
	for i := range notes {
		if notes[i].Group != group {
			continue
		}
		if r, ok := FromNotification(&notes[i]); ok {
			out = append(out, r)
		}
	}
	return out
}

// Key is the record's content as text: equal for every provider that saw
// the same approval, and the identity of the approval for Check.
func (r *Record) Key() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s sum=%s phases=%d members=%s changing=%s state=%s",
		r.Kind, r.Summary, r.Phases, providers(r.Members), providers(r.Changing), strconv.Quote(string(r.State)))
	if r.Message != nil {
		fmt.Fprintf(&b, " msg=%s", strconv.Quote(string(r.Message)))
	}
	if len(r.Leave) > 0 {
		parts := make([]string, len(r.Leave))
		for i, l := range r.Leave {
			parts[i] = l.Reason.String()
			if l.Code != 0 {
				parts[i] += ":" + strconv.FormatUint(uint64(l.Code), 10)
			}
		}
		fmt.Fprintf(&b, " leave=%s", strings.Join(parts, ","))
	}
	if e := r.Expel; e != nil {
		parts := make([]string, len(e.Results))
		for i, x := range e.Results {
			parts[i] = x.String()
		}
		fmt.Fprintf(&b, " dphase=%d deactivate=%s", e.Phase, strings.Join(parts, ","))
		if e.Flag != nil {
			fmt.Fprintf(&b, " flag=%s", strconv.Quote(*e.Flag))
		}
	}
	return b.String()
}

// String is Key.
func (r *Record) String() string { return r.Key() }

// Removes reports whether the record ends p's membership (p leaves, fails
// or is expelled by it).
func (r *Record) Removes(p wire.Provider) bool {
	return removal(r.Kind) && slices.Contains(r.Changing, p)
}

// leaveOf returns the leave information the record gives p, if any.
func (r *Record) leaveOf(p wire.Provider) (wire.LeaveInfo, bool) {
	i := slices.Index(r.Changing, p)
	if i < 0 || i >= len(r.Leave) {
		return wire.LeaveInfo{}, false
	}
	return r.Leave[i], true
}

// removal reports whether protocols of kind k take their changing providers
// out of the group.
func removal(k wire.RequestType) bool {
	switch k {
	case wire.LeaveProtocol, wire.FailureLeaveProtocol, wire.ExpelProtocol, wire.CastOutProtocol:
		return true
	}
	return false
}

func providers(ps []wire.Provider) string {
	if len(ps) == 0 {
		return "-"
	}
	parts := make([]string, len(ps))
	for i, p := range ps {
		parts[i] = p.String()
	}
	return strings.Join(parts, ",")
}

// Fate is how a provider's process ended, as the test caused it. Protocol
// outcomes (a leave, an expulsion) are not fates: the checker reads them
// from the records.
type Fate uint8

const (
	// Running: the process and its session lasted to the end of the run.
	Running Fate = iota
	// Killed: the process died (SIGKILL, or its connection was closed
	// without quitting).
	Killed
	// SaidGoodbye: the provider called goodbye, or its client quit.
	SaidGoodbye
	// NodeLost: the provider's node crashed, was cut off or its daemon
	// died, and the session ended with it.
	NodeLost
	// Lost: the session ended for a reason the test does not know.
	Lost
	// Stalled: the process and its session last, but it stopped
	// dispatching, so it received less than the others: it must still be
	// a member at the end, but need not have seen the end.
	Stalled
)

var fateNames = [...]string{"running", "killed", "said-goodbye", "node-lost", "lost", "stalled"}

// String names the fate.
func (f Fate) String() string {
	if int(f) < len(fateNames) {
		return fateNames[f]
	}
	return "fate(" + strconv.Itoa(int(f)) + ")"
}

// failureReason is the leave reason a failure leave must give a provider of
// fate f; ok is false when any reason will do (Lost) and for Running and
// Stalled, which no failure leave may name.
func (f Fate) failureReason() (reason wire.LeaveReason, ok bool) {
	switch f {
	case Killed:
		return wire.ProviderProcessDied, true
	case SaidGoodbye:
		return wire.ProviderSaidGoodbye, true
	case NodeLost:
		return wire.ProviderNodeDied, true
	}
	return 0, false
}

// History is what one provider saw of one group.
type History struct {
	Group    string
	Provider wire.Provider
	Fate     Fate
	Records  []Record // its approved notifications, in the order received
}

// ScriptReason says why a deactivate script ran.
type ScriptReason uint8

const (
	// ScriptExpel: the provider was expelled.
	ScriptExpel ScriptReason = 1
	// ScriptFailure: the provider's process died.
	ScriptFailure ScriptReason = 2
)

// String names the reason.
func (r ScriptReason) String() string {
	switch r {
	case ScriptExpel:
		return "expel"
	case ScriptFailure:
		return "failure"
	}
	return "reason(" + strconv.Itoa(int(r)) + ")"
}

// Script is one deactivate script a daemon started.
type Script struct {
	ID       uint64 // the engine's script id; 0: unknown
	Group    string
	Provider wire.Provider
	Reason   ScriptReason
	Node     int32 // the node it ran on; 0: unknown
}

// Input is everything Check judges.
type Input struct {
	Histories []History
	// Scripts lists every deactivate script that ran, when CheckScripts
	// is set.
	Scripts      []Script
	CheckScripts bool
	// HasScript reports whether the client of provider p in group
	// registered a deactivate script (for failure scripts); nil: none did.
	HasScript func(group string, p wire.Provider) bool
	// Quiesced: the run ended quietly, so the survivors' histories reach
	// the true end of their group's sequence.
	Quiesced bool
	// Complete: every provider that ever asked to join a group has a
	// History in it (an empty one if it saw nothing).
	Complete bool
}

// Summary counts what Check looked at.
type Summary struct {
	Groups    int
	Histories int
	Records   int // approvals received, over all histories
	Approvals int // distinct approvals
	Chains    int
	Headless  int // chains whose first approval is not a group creation
	Survivors int // running providers still members at the end
	Leaves    map[wire.LeaveReason]int
	Scripts   int
}

// String summarises the summary in one line.
func (s Summary) String() string {
	var leaves []string
	for _, r := range []wire.LeaveReason{wire.ProviderLeft, wire.ProviderProcessDied, wire.ProviderNodeDied,
		wire.ProviderSaidGoodbye, wire.ProviderExpelled, wire.ProviderCastOut} {
		if n := s.Leaves[r]; n > 0 {
			leaves = append(leaves, fmt.Sprintf("%s=%d", r, n))
		}
	}
	return fmt.Sprintf("%d groups, %d histories, %d approvals received, %d distinct in %d chains (%d headless), "+
		"%d survivors, leaves [%s], %d scripts", s.Groups, s.Histories, s.Records, s.Approvals, s.Chains,
		s.Headless, s.Survivors, strings.Join(leaves, " "), s.Scripts)
}

// Rule names the property a Violation breaks (see the package doc).
type Rule string

// The rules, numbered as in the package documentation.
const (
	RuleDuplicate  Rule = "duplicate"  // a history holds one approval twice
	RuleOrder      Rule = "order"      // 1: two histories disagree on what follows or precedes an approval
	RuleMembership Rule = "membership" // 2: membership does not follow from the previous approval
	RuleJoin       Rule = "join"       // 3: a history does not start with its own join, or goes on after its removal
	RuleLost       Rule = "lost"       // 4: a survivor missed approvals
	RuleSplit      Rule = "split"      // 4: survivors of one group are in different chains
	RuleLeave      Rule = "leave"      // 5: a leave does not match a death, or a death never became a leave
	RuleScript     Rule = "script"     // 6: a deactivate script ran twice, or not when it should have
	RuleMalformed  Rule = "malformed"  // a record contradicts itself (lists of different lengths)
)

// Violation is one broken promise.
type Violation struct {
	Rule     Rule
	Group    string
	Provider *wire.Provider // the provider concerned, if one is
	Detail   string
}

// Error describes the violation.
func (v *Violation) Error() string {
	who := ""
	if v.Provider != nil {
		who = " provider " + v.Provider.String()
	}
	return fmt.Sprintf("history: %s: group %q%s: %s", v.Rule, v.Group, who, v.Detail)
}
