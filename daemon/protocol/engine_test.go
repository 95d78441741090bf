package protocol

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/wire"
)

// TestStepIgnoresNonsense feeds events that make no sense; the engine must
// neither panic nor emit anything for them.
func TestStepIgnoresNonsense(t *testing.T) {
	e := New()
	ghost := ClientID{Node: 9, Conn: 9}
	for _, ev := range []Event{
		{},
		{Kind: 200},
		{Kind: EventRequest, Client: ghost, Request: &wire.Request{Op: wire.OpJoin, Token: 1}},
		{Kind: EventDisconnect, Client: ghost},
		{Kind: EventResponsiveness, Client: ghost},
		{Kind: EventScriptDone},
		{Kind: EventScriptDone, Script: &ScriptResult{ID: 77}},
		{Kind: EventRespond, Client: ghost, Respond: &wire.Respond{Seq: 1}},
		{Kind: EventTick, Time: -5},
		{Kind: EventNodeDown, Node: -1},
	} {
		require.Empty(t, e.Step(ev), "event %+v must be ignored", ev)
	}
	c := ClientID{Node: 1, Conn: 1}
	require.Empty(t, e.Step(Event{Kind: EventConnect, Client: c}), "a connect without Hello is accepted silently")
	require.Empty(t, e.Step(Event{Kind: EventConnect, Client: c}), "a second connect of the same client is ignored")
	require.Equal(t, 1, e.Clients(), "one client session")
	require.Empty(t, e.Step(Event{Kind: EventRequest, Client: c}), "a request event without a request is ignored")

	// Requests with missing parts are refused with a delayed error, not a panic.
	for _, r := range []*wire.Request{
		{Op: wire.OpJoin, Token: 1, Group: "g"},
		{Op: wire.OpChangeAttributes, Token: 1},
		{Op: wire.OpExpel, Token: 1, NumPhases: wire.OnePhase},
		{Op: wire.OpSubscribe, Token: 1, Group: "g"},
	} {
		effs := e.Step(Event{Kind: EventRequest, Client: c, Request: r})
		require.Len(t, effs, 1, "request %+v must get exactly one delayed error", r)
		require.Equal(t, wire.DelayedErrorNotification, effs[0].Note.Type, "request %+v must be refused", r)
		require.NotEqual(t, wire.OK, effs[0].Note.Code, "a refusal carries an error code")
		require.NotSame(t, r, effs[0].Note.Failing, "the failing request is a copy")
	}
}

// TestDeterminism: two engines fed the same events produce the same effects.
func TestDeterminism(t *testing.T) {
	for seed := range uint64(20) {
		s := newSim(randChooser{rand.New(rand.NewPCG(seed, 99))})
		other := New()
		for i := range 300 {
			ev := s.event()
			a := s.e.Step(ev)
			b := other.Step(ev)
			require.Equal(t, a, b, "seed %d step %d: the same event must give the same effects on every engine", seed, i)
			for _, eff := range a {
				if eff.Kind == EffectRunScript {
					s.scripts = append(s.scripts, eff.Script.ID)
				}
			}
		}
		require.Equal(t, s.e.Groups(), other.Groups(), "seed %d: same groups", seed)
	}
}

// TestNotificationsDoNotAlias: changing a request after the step, or an
// emitted notification, must not change the engine's state.
func TestNotificationsDoNotAlias(t *testing.T) {
	e := New()
	c := ClientID{Node: 1, Conn: 1}
	e.Step(Event{Kind: EventConnect, Client: c, Hello: &wire.Hello{}})
	e.Step(Event{Kind: EventRequest, Client: c, Request: &wire.Request{Op: wire.OpJoin, Token: 1, Group: "g",
		Attributes: &wire.Attributes{GroupName: "g", NumPhases: wire.OnePhase, DefaultVote: wire.VoteApprove}}})
	req := &wire.Request{Op: wire.OpChangeState, Token: 1, NumPhases: wire.OnePhase, State: []byte("abc")}
	effs := e.Step(Event{Kind: EventRequest, Client: c, Request: req})
	require.Len(t, effs, 1, "a one-phase state change is approved at once")
	req.State[0] = 'X'
	effs[0].Note.Proposal.CurrentState[1] = 'Y'
	d, ok := e.Group("g")
	require.True(t, ok, "group g exists")
	require.Equal(t, "abc", string(d.State), "the engine keeps its own copy of the state value")
}
