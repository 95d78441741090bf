package protocol

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/internal/wire"
)

// requireSameViews checks that two engines answer every read the daemon
// makes of them alike: the admin views, the next deadline, the clients.
func requireSameViews(t *testing.T, a, b *Engine, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	require.Equal(t, a.Groups(), b.Groups(), "Groups(): %s", msg)
	for _, name := range append(slicesOfNames(a), "no-such-group") {
		da, oka := a.Group(name)
		db, okb := b.Group(name)
		require.Equal(t, oka, okb, "Group(%q) found: %s", name, msg)
		require.Equal(t, da, db, "Group(%q): %s", name, msg)
	}
	ta, oka := a.NextDeadline()
	tb, okb := b.NextDeadline()
	require.Equal(t, []any{ta, oka}, []any{tb, okb}, "NextDeadline(): %s", msg)
	require.Equal(t, a.Clients(), b.Clients(), "Clients(): %s", msg)
}

func slicesOfNames(e *Engine) []string {
	var out []string
	for _, g := range e.Groups() {
		out = append(out, g.Name)
	}
	return out
}

// TestSnapshotEquivalence is the snapshot's contract: for random event
// sequences, an engine restored from a snapshot taken at a random point
// answers the rest of the events exactly as the original does, with the
// same effects and the same views, and ends in the same state. The copy is
// itself snapshotted and restored again at a few more random points.
func TestSnapshotEquivalence(t *testing.T) {
	const steps = 300
	for seed := range uint64(400) {
		rng := rand.New(rand.NewPCG(seed, 11))
		s := newSim(randChooser{rand.New(rand.NewPCG(seed, 7))})
		first := rng.IntN(steps)
		var restored *Engine
		var cuts []int
		for i := range steps {
			if i == first || restored != nil && rng.IntN(40) == 0 {
				from := restored
				if from == nil {
					from = s.e
				}
				snap, err := from.Snapshot()
				require.NoError(t, err, "seed %d: Snapshot at step %d must succeed", seed, i)
				restored, err = Restore(snap)
				require.NoError(t, err, "seed %d: Restore of the step %d snapshot must succeed", seed, i)
				cuts = append(cuts, i)
				requireSameViews(t, s.e, restored, "seed %d: the engine restored at step %d must look the same", seed, i)
			}
			ev := s.event()
			s.log = append(s.log, describe(ev))
			effs := s.e.Step(ev)
			for _, eff := range effs {
				require.NoError(t, s.checkEffect(eff), "seed %d step %d: the original engine's effect must be valid", seed, i)
			}
			if restored == nil {
				continue
			}
			got := restored.Step(ev)
			require.Equal(t, effs, got, "seed %d: after snapshots at steps %v, step %d must give the same effects; events:\n%s",
				seed, cuts, i, strings.Join(s.log[max(0, len(s.log)-15):], "\n"))
			requireSameViews(t, s.e, restored, "seed %d: views after step %d (snapshots at %v)", seed, i, cuts)
		}
		a, err := s.e.Snapshot()
		require.NoError(t, err)
		b, err := restored.Snapshot()
		require.NoError(t, err)
		require.Equal(t, a, b, "seed %d: the original and the restored engine must end in the same state (snapshots at %v)", seed, cuts)
	}
}

// TestSnapshotRoundTripBytes: Snapshot → Restore → Snapshot gives the same
// bytes, and two snapshots of one state are equal, at every step of random
// runs.
func TestSnapshotRoundTripBytes(t *testing.T) {
	for seed := range uint64(60) {
		s := newSim(randChooser{rand.New(rand.NewPCG(seed, 7))})
		for i := range 300 {
			require.NoError(t, s.step(s.event()))
			first, err := s.e.Snapshot()
			require.NoError(t, err)
			again, err := s.e.Snapshot()
			require.NoError(t, err)
			require.Equal(t, first, again, "seed %d step %d: one state must give the same bytes twice", seed, i)
			e, err := Restore(first)
			require.NoError(t, err, "seed %d step %d: restore", seed, i)
			back, err := e.Snapshot()
			require.NoError(t, err)
			require.Equal(t, first, back, "seed %d step %d: Snapshot of the restored engine must equal the snapshot it came from", seed, i)
		}
	}
}

// TestSnapshotKeepsLoweredLimits: the limits tests lower are state too.
func TestSnapshotKeepsLoweredLimits(t *testing.T) {
	e := New()
	e.maxProviders, e.maxGroups = 2, 1
	snap, err := e.Snapshot()
	require.NoError(t, err)
	r, err := Restore(snap)
	require.NoError(t, err)
	require.Equal(t, 2, r.maxProviders, "the provider limit must survive a snapshot")
	require.Equal(t, 1, r.maxGroups, "the group limit must survive a snapshot")
}

// snapshotSample is a snapshot of a busy engine: groups, an n-phase
// protocol waiting for votes, subscribers, a target group.
func snapshotSample(t testing.TB) []byte {
	s := newSim(randChooser{rand.New(rand.NewPCG(3, 7))})
	for range 200 {
		for _, eff := range s.e.Step(s.event()) {
			_ = s.checkEffect(eff)
		}
	}
	snap, err := s.e.Snapshot()
	require.NoError(t, err)
	return snap
}

// TestRestoreRefusesBadBytes: an empty, truncated, corrupted or
// unknown-version snapshot gives an error wrapping ErrSnapshot.
func TestRestoreRefusesBadBytes(t *testing.T) {
	good := snapshotSample(t)
	_, err := Restore(good)
	require.NoError(t, err, "the sample must restore")

	_, err = Restore(nil)
	require.ErrorIs(t, err, ErrSnapshot, "an empty snapshot must be refused")

	other := append([]byte{SnapshotVersion + 1}, good[1:]...)
	_, err = Restore(other)
	require.ErrorIs(t, err, ErrSnapshot, "an unknown version must be refused")
	require.ErrorContains(t, err, "version", "the error must say the version is wrong")
	_, err = Restore(append([]byte{1}, good[1:]...))
	require.ErrorIs(t, err, ErrSnapshot, "version 1, which has no group owners, must be refused")

	for _, n := range []int{1, 2, len(good) / 3, len(good) / 2, len(good) - 1} {
		_, err = Restore(good[:n])
		require.ErrorIs(t, err, ErrSnapshot, "a snapshot truncated to %d of %d bytes must be refused", n, len(good))
	}
	_, err = Restore(append(append([]byte{}, good...), 0xc0))
	require.ErrorIs(t, err, ErrSnapshot, "trailing bytes must be refused")
}

// TestRestoreRefusesInconsistentState: snapshots that decode but describe
// states the engine cannot be in are refused, not restored into an engine
// that would panic later.
func TestRestoreRefusesInconsistentState(t *testing.T) {
	e := New()
	c := ClientID{Node: 1, Conn: 1}
	e.Step(Event{Kind: EventConnect, Client: c})
	attrs := &wire.Attributes{GroupName: "g", NumPhases: wire.NPhase, DefaultVote: wire.VoteApprove}
	for tok := int32(1); tok <= 2; tok++ {
		e.Step(Event{Kind: EventRequest, Client: c, Request: &wire.Request{Op: wire.OpJoin, Token: tok, Group: "g", Instance: tok, Attributes: attrs}})
	}
	e.Step(Event{Kind: EventRequest, Client: c, Request: &wire.Request{Op: wire.OpChangeState, Token: 1, NumPhases: wire.NPhase, State: []byte("x")}})
	require.NotNil(t, e.groups["g"].running, "a state change must be running")

	for name, spoil := range map[string]func(st *snapState){
		"vote lengths":      func(st *snapState) { st.Groups[groupIndex(st, "g")].Running.Voted = nil },
		"member index":      func(st *snapState) { st.Groups[groupIndex(st, "g")].Members[0] = 99 },
		"token group":       func(st *snapState) { st.Clients[0].Tokens[0].Group = -1 },
		"token state":       func(st *snapState) { st.Clients[0].Tokens[0].State = 77 },
		"denied with group": func(st *snapState) { st.Clients[0].Tokens[0].State = tokDenied },
		"denied no name": func(st *snapState) {
			st.Clients[0].Tokens[0].State, st.Clients[0].Tokens[0].Group = tokDenied, -1
			st.Clients[0].Tokens[0].Member = -1
		},
		"name not denied":    func(st *snapState) { st.Clients[0].Tokens[0].Denied = "g" },
		"provider no member": func(st *snapState) { st.Clients[0].Tokens[0].Member = -1 },
		"no host":            func(st *snapState) { st.Host = -1 },
		"host not system":    func(st *snapState) { st.Groups[st.Host].System = false },
		"duplicate group":    func(st *snapState) { st.Live = append(st.Live, st.Live[0]) },
		"live client index":  func(st *snapState) { st.LiveClients[0] = -5 },
		"member client":      func(st *snapState) { st.Members[0].Client = 42 },
		"negative limit":     func(st *snapState) { st.MaxGroups = -1 },
		"target loop": func(st *snapState) {
			g := groupIndex(st, "g")
			st.Groups[g].Source, st.Groups[g].Targets = g, []int{g}
		},
		"one-way target": func(st *snapState) { st.Groups[groupIndex(st, "g")].Targets = []int{st.Host} },
	} {
		st := newSnapWriter().write(e)
		spoil(st)
		_, err := (&snapReader{st: st}).read()
		require.Error(t, err, "%s: an inconsistent state must be refused", name)
	}
}

// groupIndex is the table index of the group named name.
func groupIndex(st *snapState, name string) int {
	for i, g := range st.Groups {
		if g.Name == name {
			return i
		}
	}
	return -1
}

// FuzzRestore: whatever the bytes, Restore returns an engine or an error
// and never panics; an engine it returns snapshots to the same bytes again
// and survives being stepped.
func FuzzRestore(f *testing.F) {
	good := snapshotSample(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	empty, err := New().Snapshot()
	require.NoError(f, err)
	f.Add(empty)
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Restore(data)
		if err != nil {
			require.ErrorIs(t, err, ErrSnapshot, "every refusal must wrap ErrSnapshot")
			return
		}
		again, err := e.Snapshot()
		require.NoError(t, err)
		e2, err := Restore(again)
		require.NoError(t, err, "a restored engine's own snapshot must restore")
		again2, err := e2.Snapshot()
		require.NoError(t, err)
		require.Equal(t, again, again2, "a restored engine's snapshot must be stable")
		for node := int32(0); node <= 3; node++ {
			e.Step(Event{Kind: EventTick, Time: e.now + 1e12})
			e.Step(Event{Kind: EventNodeDown, Node: node})
		}
		e.Groups()
	})
}

// TestSnapshotMidVote: a snapshot taken while an n-phase protocol waits for
// votes, one of which carried a message and a state value, restores an
// engine that ends the protocol exactly as the original does.
func TestSnapshotMidVote(t *testing.T) {
	e := New()
	attrs := &wire.Attributes{GroupName: "g", NumPhases: wire.NPhase, DefaultVote: wire.VoteApprove, TimeLimit: 10}
	var ids []ClientID
	for n := int32(1); n <= 3; n++ {
		id := ClientID{Node: n, Conn: uint64(n)}
		ids = append(ids, id)
		e.Step(Event{Kind: EventConnect, Client: id, Time: t0})
		e.Step(Event{Kind: EventRequest, Client: id, Time: t0, Request: &wire.Request{
			Op: wire.OpJoin, Token: 1, Group: "g", Attributes: attrs}})
	}
	// Joins of an n-phase group are voted on: approve them all.
	for range 3 {
		for _, id := range ids {
			e.Step(Event{Kind: EventRequest, Client: id, Time: t0, Request: &wire.Request{Op: wire.OpVote, Token: 1, Vote: wire.VoteApprove}})
		}
	}
	require.Len(t, e.groups["g"].members, 3, "three providers must have joined")
	e.Step(Event{Kind: EventRequest, Client: ids[0], Time: t0, Request: &wire.Request{
		Op: wire.OpSendMessage, Token: 1, NumPhases: wire.NPhase, TimeLimit: 10, Message: []byte("base")}})
	e.Step(Event{Kind: EventRequest, Client: ids[0], Time: t0, Request: &wire.Request{
		Op: wire.OpVote, Token: 1, Vote: wire.VoteContinue, DefaultVote: wire.VoteReject, Message: []byte("from 1"), State: []byte("s1")}})
	require.NotNil(t, e.groups["g"].running.voteMessage, "a vote message must be pending")

	snap, err := e.Snapshot()
	require.NoError(t, err)
	r, err := Restore(snap)
	require.NoError(t, err)
	rest := []Event{
		{Kind: EventRequest, Client: ids[1], Time: t0 + 1e9, Request: &wire.Request{Op: wire.OpVote, Token: 1, Vote: wire.VoteApprove}},
		{Kind: EventDisconnect, Client: ids[1], Time: t0 + 2e9},
		{Kind: EventRequest, Client: ids[2], Time: t0 + 3e9, Request: &wire.Request{Op: wire.OpVote, Token: 1, Vote: wire.VoteApprove}},
		{Kind: EventTick, Time: t0 + 30e9},
		{Kind: EventTick, Time: t0 + 60e9},
	}
	sawMessage := false
	for i, ev := range rest {
		want := e.Step(ev)
		require.Equal(t, want, r.Step(ev), "event %d after the snapshot must give the same effects", i)
		for _, eff := range want {
			if eff.Note != nil && eff.Note.Proposal != nil && string(eff.Note.Proposal.Message) == "from 1" {
				sawMessage = true
			}
		}
	}
	require.True(t, sawMessage, "the vote message taken before the snapshot must reach the next notification")
	requireSameViews(t, e, r, "after the protocol")
}
