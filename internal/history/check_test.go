package history

import (
	"errors"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/wire"
)

// group is a little model of one group that produces the records its
// providers would see.
type group struct {
	members []wire.Provider
	state   string
}

func prov(inst, node int32) wire.Provider { return wire.Provider{Instance: inst, Node: node} }

func (g *group) join(ps ...wire.Provider) Record {
	g.members = append(g.members, ps...)
	return Record{Kind: wire.JoinProtocol, Phases: 1, Members: slices.Clone(g.members), Changing: ps, State: []byte(g.state)}
}

func (g *group) setState(v string) Record {
	g.state = v
	return Record{Kind: wire.StateValueChangeProtocol, Phases: 1, Members: slices.Clone(g.members), State: []byte(v)}
}

func (g *group) remove(kind wire.RequestType, reason wire.LeaveReason, ps ...wire.Provider) Record {
	g.members = slices.DeleteFunc(g.members, func(p wire.Provider) bool { return slices.Contains(ps, p) })
	r := Record{Kind: kind, Phases: 1, Members: slices.Clone(g.members), Changing: ps, State: []byte(g.state)}
	for range ps {
		r.Leave = append(r.Leave, wire.LeaveInfo{Reason: reason})
	}
	if kind == wire.ExpelProtocol {
		r.Expel = &wire.ExpelInfo{Phase: 1}
		for range ps {
			r.Expel.Results = append(r.Expel.Results, wire.DeactivateOK)
		}
	}
	return r
}

var (
	p1 = prov(1, 1)
	p2 = prov(2, 2)
	p3 = prov(3, 3)
	p4 = prov(4, 1)
)

// goodRun is a consistent run: p1 creates g, p2 and p3 join, p3 is killed,
// p4 joins late, p2 is expelled; p1 and p4 survive.
func goodRun() (Input, []Record) {
	var g group
	all := []Record{
		g.join(p1),      // 0
		g.setState("a"), // 1
		g.join(p2),      // 2
		g.join(p3),      // 3
		g.setState("b"), // 4
		g.remove(wire.FailureLeaveProtocol, wire.ProviderProcessDied, p3), // 5
		g.join(p4),      // 6
		g.setState("c"), // 7
		g.remove(wire.ExpelProtocol, wire.ProviderExpelled, p2), // 8
		g.setState("d"), // 9
	}
	in := Input{
		Histories: []History{
			{Group: "g", Provider: p1, Fate: Running, Records: slices.Clone(all)},
			{Group: "g", Provider: p2, Fate: Running, Records: slices.Clone(all[2:9])},
			{Group: "g", Provider: p3, Fate: Killed, Records: slices.Clone(all[3:5])},
			{Group: "g", Provider: p4, Fate: Running, Records: slices.Clone(all[6:])},
		},
		Scripts: []Script{
			{ID: 1, Group: "g", Provider: p3, Reason: ScriptFailure, Node: 3},
			{ID: 2, Group: "g", Provider: p2, Reason: ScriptExpel, Node: 2},
		},
		CheckScripts: true,
		HasScript:    func(string, wire.Provider) bool { return true },
		Quiesced:     true,
		Complete:     true,
	}
	return in, all
}

// rules returns the rules of the violations in err.
func rules(t *testing.T, err error) []Rule {
	t.Helper()
	var out []Rule
	for _, e := range unjoin(err) {
		var v *Violation
		require.True(t, errors.As(e, &v), "every error Check returns is a *Violation, got %v", e)
		out = append(out, v.Rule)
	}
	return out
}

func unjoin(err error) []error {
	if err == nil {
		return nil
	}
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

func TestConsistentRunPasses(t *testing.T) {
	in, all := goodRun()
	sum, err := Check(in)
	require.NoError(t, err, "a consistent run has no violation")
	assert.Equal(t, 1, sum.Groups)
	assert.Equal(t, len(all), sum.Approvals, "every distinct approval counted once")
	assert.Equal(t, 1, sum.Chains, "one chain from the creation")
	assert.Equal(t, 0, sum.Headless)
	assert.Equal(t, 2, sum.Survivors, "p1 and p4 survive as members")
	assert.Equal(t, 1, sum.Leaves[wire.ProviderProcessDied])
	assert.Equal(t, 1, sum.Leaves[wire.ProviderExpelled])
	assert.Equal(t, 2, sum.Scripts)
	assert.Contains(t, sum.String(), "2 survivors")
}

func TestViolations(t *testing.T) {
	cases := []struct {
		name    string
		breakIt func(in *Input, all []Record)
		want    Rule
	}{
		{"a survivor receives an approval twice", func(in *Input, all []Record) {
			h := &in.Histories[0]
			h.Records = slices.Insert(h.Records, 2, all[1])
		}, RuleDuplicate},
		{"two providers see two changes in different orders", func(in *Input, all []Record) {
			h := &in.Histories[1] // p2 sees 3, 5, 4 instead of 3, 4, 5
			h.Records[2], h.Records[3] = h.Records[3], h.Records[2]
		}, RuleOrder},
		{"a provider misses a change in the middle", func(in *Input, all []Record) {
			h := &in.Histories[3]
			h.Records = slices.Delete(h.Records, 1, 2)
		}, RuleOrder},
		{"a survivor misses the last change", func(in *Input, all []Record) {
			h := &in.Histories[3]
			h.Records = h.Records[:len(h.Records)-1]
		}, RuleLost},
		{"a running provider never hears its approved join", func(in *Input, all []Record) {
			in.Histories[3].Records = nil
		}, RuleLost},
		{"a history starts before the provider's join", func(in *Input, all []Record) {
			h := &in.Histories[3]
			h.Records = slices.Insert(h.Records, 0, all[5])
		}, RuleJoin},
		{"a provider hears of changes after its expulsion", func(in *Input, all []Record) {
			in.Histories[1].Records = slices.Clone(all[2:])
		}, RuleJoin},
		{"a membership that does not follow", func(in *Input, all []Record) {
			for i := range in.Histories {
				for j := range in.Histories[i].Records {
					r := &in.Histories[i].Records[j]
					if string(r.State) == "c" && r.Kind == wire.StateValueChangeProtocol {
						r.Members = []wire.Provider{p1, p4, p3} // p3 is back from the dead
					}
				}
			}
		}, RuleMembership},
		{"a killed provider leaves as if its node died", func(in *Input, all []Record) {
			in.Histories[2].Fate = NodeLost
		}, RuleLeave},
		{"a running provider is failed", func(in *Input, all []Record) {
			in.Histories[2].Fate = Running
		}, RuleLeave},
		{"a death that never becomes a leave", func(in *Input, all []Record) {
			in.Histories[0].Fate = Killed // p1 is still a member at the end
		}, RuleLeave},
		{"a failure removal of an unrecorded provider", func(in *Input, all []Record) {
			in.Histories = slices.Delete(in.Histories, 2, 3) // p3 has no history
		}, RuleLeave},
		{"two survivors in different chains", func(in *Input, all []Record) {
			var other group
			in.Histories = append(in.Histories, History{Group: "g", Provider: prov(9, 9), Fate: Running,
				Records: []Record{other.join(prov(9, 9)), other.setState("elsewhere")}})
		}, RuleSplit},
		{"a script runs twice", func(in *Input, all []Record) {
			in.Scripts = append(in.Scripts, Script{ID: 3, Group: "g", Provider: p2, Reason: ScriptExpel, Node: 2})
		}, RuleScript},
		{"one script id reported twice", func(in *Input, all []Record) {
			in.Scripts = append(in.Scripts, in.Scripts[1])
		}, RuleScript},
		{"an expelled provider's script never runs", func(in *Input, all []Record) {
			in.Scripts = in.Scripts[:1]
		}, RuleScript},
		{"a dead provider's failure script never runs", func(in *Input, all []Record) {
			in.Scripts = in.Scripts[1:]
		}, RuleScript},
		{"a script runs on another node", func(in *Input, all []Record) {
			in.Scripts[1].Node = 1
		}, RuleScript},
		{"a survivor's deactivate script runs", func(in *Input, all []Record) {
			in.Scripts = append(in.Scripts, Script{ID: 4, Group: "g", Provider: p1, Reason: ScriptExpel, Node: 1})
		}, RuleScript},
		{"a failure script for a provider that said goodbye", func(in *Input, all []Record) {
			in.Scripts = append(in.Scripts, Script{ID: 5, Group: "g", Provider: p4, Reason: ScriptFailure, Node: 1})
			in.Histories[3].Fate = SaidGoodbye
		}, RuleScript},
		{"an expel without deactivate results", func(in *Input, all []Record) {
			for i := range in.Histories {
				for j := range in.Histories[i].Records {
					if r := &in.Histories[i].Records[j]; r.Kind == wire.ExpelProtocol {
						r.Expel = nil
					}
				}
			}
		}, RuleMalformed},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			in, all := goodRun()
			for i := range in.Histories {
				in.Histories[i].Records = slices.Clone(in.Histories[i].Records)
			}
			tc.breakIt(&in, all)
			_, err := Check(in)
			require.Error(t, err, "Check must find the broken promise")
			assert.Contains(t, rules(t, err), tc.want, "the violation is reported under rule %s; got %v", tc.want, err)
		})
	}
}

func TestDissolvedAndRecreatedGroupIsTwoChains(t *testing.T) {
	var g group
	first := []Record{g.join(p1), g.setState("x"), g.remove(wire.LeaveProtocol, wire.ProviderLeft, p1)}
	var h group
	second := []Record{h.join(p2), h.setState("y")}
	in := Input{Histories: []History{
		{Group: "g", Provider: p1, Fate: Running, Records: first},
		{Group: "g", Provider: p2, Fate: Running, Records: second},
	}, Quiesced: true, Complete: true}
	sum, err := Check(in)
	require.NoError(t, err, "a group that dissolves and is created again is consistent")
	assert.Equal(t, 2, sum.Chains, "each life of the group is a chain")
	assert.Equal(t, 1, sum.Survivors, "p1 left; p2 survives")
}

func TestUnquiescedRunSkipsTheEnd(t *testing.T) {
	in, _ := goodRun()
	in.Histories[3].Records = in.Histories[3].Records[:1] // p4 has not caught up yet
	in.Quiesced = false
	_, err := Check(in)
	require.NoError(t, err, "without quiescence a survivor may still be catching up")
}

func TestFromNotification(t *testing.T) {
	flag := "f"
	n := &wire.Notification{Type: wire.ApprovedNotification, Token: 7, Group: "g", Protocol: wire.ExpelProtocol,
		Proposal: &wire.Proposal{Phase: 2, Current: []wire.Provider{p1}, Changing: []wire.Provider{p2},
			CurrentState: []byte("s"), LeaveInfo: []wire.LeaveInfo{{Reason: wire.ProviderExpelled}},
			ExpelInfo: &wire.ExpelInfo{Phase: 1, Flag: &flag, Results: []wire.DeactivateResult{wire.DeactivateOK}}}}
	r, ok := FromNotification(n)
	require.True(t, ok, "an approved notification makes a record")
	n.Proposal.Current[0] = p3
	n.Proposal.ExpelInfo.Results[0] = wire.DeactivateFailed
	assert.Equal(t, []wire.Provider{p1}, r.Members, "the record does not alias the notification")
	assert.Equal(t, wire.DeactivateOK, r.Expel.Results[0], "the record does not alias the notification")
	assert.Equal(t, `EXPEL sum=0 phases=2 members=1@1 changing=2@2 state="s" leave=EXPELLED dphase=1 deactivate=OK flag="f"`,
		r.Key())

	_, ok = FromNotification(&wire.Notification{Type: wire.NPhaseNotification, Proposal: &wire.Proposal{}})
	assert.False(t, ok, "an n-phase notification is not an approval")
	recs := Records("g", []wire.Notification{*n, {Type: wire.ApprovedNotification, Group: "other", Proposal: &wire.Proposal{}}})
	assert.Len(t, recs, 1, "Records keeps the named group's approvals only")
}

func TestStalledProviderStaysAMember(t *testing.T) {
	in, _ := goodRun()
	in.Histories[3].Fate = Stalled
	in.Histories[3].Records = in.Histories[3].Records[:2] // stopped dispatching early
	_, err := Check(in)
	require.NoError(t, err, "a stalled provider may miss the end, as long as it stays a member")

	var g group
	recs := []Record{g.join(p1), g.join(p2), g.remove(wire.FailureLeaveProtocol, wire.ProviderProcessDied, p2), g.setState("z")}
	in = Input{Histories: []History{
		{Group: "g", Provider: p1, Fate: Running, Records: recs},
		{Group: "g", Provider: p2, Fate: Stalled, Records: recs[1:2]},
	}, Quiesced: true, Complete: true}
	_, err = Check(in)
	require.Error(t, err, "a stalled provider must not be failed")
	assert.Contains(t, rules(t, err), RuleLeave)
}
