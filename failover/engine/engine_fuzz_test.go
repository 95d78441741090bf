package engine

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/openhags/hags/internal/wire"
)

// FuzzStep feeds an engine inputs made from the fuzzer's bytes. The first
// byte chooses how: even, the bytes drive the simulated cluster of the
// property test (every check of it applies); odd, they are decoded as a
// stream of msgpack Inputs, as a manager's log could hold them, with
// whatever fields and values they declare. The engine must never panic
// and must keep its invariants.
func FuzzStep(f *testing.F) {
	f.Add([]byte{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10})
	f.Add(bytes.Repeat([]byte{0, 17, 3, 99, 250, 1, 60, 7}, 40))
	for _, in := range seedInputs() {
		b, err := msgpack.Marshal(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(append([]byte{1}, b...))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) == 0 {
			return
		}
		if data[0]%2 == 0 {
			s := newSim(t, &byteChooser{b: data[1:]}, 2+int(data[0]/2)%3)
			s.run(500)
			return
		}
		e := New()
		rest := data[1:]
		for len(rest) > 0 {
			if wire.CheckShape(rest) != nil {
				return
			}
			rd := bytes.NewReader(rest)
			var in Input
			if err := msgpack.NewDecoder(rd).Decode(&in); err != nil {
				return
			}
			rest = rest[len(rest)-rd.Len():]
			e.Step(in)
			if err := e.check(); err != nil {
				t.Fatalf("invariant broken after %+v: %v", in, err)
			}
		}
	})
}

// seedInputs is a small cluster's life as inputs, for the fuzzer to mutate.
func seedInputs() []Input {
	return []Input{
		{Kind: InDomain, Domain: []DomainNode{{ID: 1, Name: "A"}, {ID: 2, Name: "B"}}},
		{Kind: InNodeJoining, From: 1},
		{Kind: InNodeUp, From: 1, Up: &NodeUp{Name: "A"}},
		{Kind: InRequest, From: 1, Request: &Request{ID: 1, Op: OpCreateGroup, Group: "g"}},
		{Kind: InRequest, From: 1, Request: &Request{ID: 2, Op: OpCreateResource, Group: "g", Resource: "r", Agent: "exec"}},
		{Kind: InRequest, From: 1, Request: &Request{ID: 3, Op: OpOnlineResource, Resource: "r"}},
		{Kind: InResult, From: 1, Result: &ActionResult{ID: 1, Resource: "r", Op: ActStart}},
		{Kind: InFailure, From: 1, Failure: &Failure{Resource: "r", Outcome: OutcomeSoft}},
		{Kind: InNodeDown, Down: &NodeDown{Node: 1, Why: DepartNode}},
		{Kind: InReset},
	}
}

// FuzzRestore gives Restore arbitrary bytes. It must refuse what is not a
// sound snapshot without panicking; what it accepts must snapshot to the
// same bytes and survive more inputs with its invariants kept.
func FuzzRestore(f *testing.F) {
	e := New()
	for _, in := range seedInputs() {
		e.Step(in)
		f.Add(e.Snapshot())
	}
	f.Add([]byte{SnapshotVersion, 0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		e, err := Restore(data)
		if err != nil {
			if !errors.Is(err, ErrSnapshot) {
				t.Fatalf("Restore's error %v does not wrap ErrSnapshot", err)
			}
			return
		}
		snap := e.Snapshot()
		again, err := Restore(snap)
		if err != nil {
			t.Fatalf("the snapshot of a restored engine does not restore: %v", err)
		}
		if !bytes.Equal(again.Snapshot(), snap) {
			t.Fatalf("the snapshot of a restored engine changes when restored again")
		}
		for _, in := range seedInputs() {
			e.Step(in)
			if err := e.check(); err != nil {
				t.Fatalf("invariant broken after %+v: %v", in, err)
			}
		}
		for _, n := range e.nodeIDs() {
			e.Step(Input{Kind: InNodeUp, From: n, Up: &NodeUp{Name: "x"}})
		}
		for _, name := range sortedKeys(e.resources) {
			e.Step(Input{Kind: InRequest, From: 1, Request: &Request{Op: OpOnlineResource, Resource: name}})
			_ = e.Why(name)
		}
		_ = e.Groups()
		_ = e.Config()
	})
}

// TestRestoreRefuses checks Restore's refusals: no bytes, another
// version, truncation, trailing bytes, a declared length beyond the data,
// and states no engine could be in.
func TestRestoreRefuses(t *testing.T) {
	good := func() []byte {
		e := New()
		for _, in := range seedInputs()[:6] {
			e.Step(in)
		}
		return e.Snapshot()
	}()
	if _, err := Restore(good); err != nil {
		t.Fatalf("a good snapshot must restore: %v", err)
	}
	bad := map[string][]byte{
		"empty":             nil,
		"version":           append([]byte{2}, good[1:]...),
		"truncated":         good[:len(good)/2],
		"trailing":          append(append([]byte{}, good...), 0xc0),
		"huge array":        {SnapshotVersion, 0xdd, 0x7f, 0xff, 0xff, 0xff},
		"not msgpack":       {SnapshotVersion, 0xc1},
		"group no node":     mutateSnapshot(t, good, func(st *snapState) { st.Groups[0].Owner = 99 }),
		"resource no group": mutateSnapshot(t, good, func(st *snapState) { st.Resources[0].Group = "nosuch" }),
		"cycle":             mutateSnapshot(t, good, func(st *snapState) { st.Resources[0].Dep = "[" + st.Resources[0].Name + "]" }),
		"bad state":         mutateSnapshot(t, good, func(st *snapState) { st.Resources[0].State = 77 }),
		"bad agent":         mutateSnapshot(t, good, func(st *snapState) { st.Resources[0].Agent = "ocf:../../x" }),
		"uid ahead":         mutateSnapshot(t, good, func(st *snapState) { st.LastUID = 0 }),
		"unsorted":          mutateSnapshot(t, good, func(st *snapState) { st.Nodes = append(st.Nodes, st.Nodes[0]) }),
		"action ahead": mutateSnapshot(t, good, func(st *snapState) {
			st.Resources[0].Act = &snapAction{ID: st.LastAction + 1, Op: ActStart, Node: 1, Purpose: purposeStart}
		}),
	}
	for name, b := range bad {
		if _, err := Restore(b); !errors.Is(err, ErrSnapshot) {
			t.Errorf("Restore must refuse a snapshot with %s (got %v)", name, err)
		}
	}
}

// mutateSnapshot decodes a snapshot, changes it and encodes it again.
func mutateSnapshot(t *testing.T, snap []byte, change func(*snapState)) []byte {
	var st snapState
	if err := msgpack.Unmarshal(snap[1:], &st); err != nil {
		t.Fatal(err)
	}
	change(&st)
	b, err := msgpack.Marshal(&st)
	if err != nil {
		t.Fatal(err)
	}
	return append([]byte{SnapshotVersion}, b...)
}

// TestSnapshotOfTranscripts checks, for every transcript's final state,
// that the snapshot restores to the same bytes and that two engines fed
// the same transcript hold byte-identical snapshots.
func TestSnapshotOfTranscripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.txt")
	if err != nil || len(files) == 0 {
		t.Fatalf("no transcripts: %v", err)
	}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		a, b := newTranscript(), newTranscript()
		if _, err := a.run(string(data)); err != nil {
			t.Fatal(err)
		}
		if _, err := b.run(string(data)); err != nil {
			t.Fatal(err)
		}
		snap := a.e.Snapshot()
		if !bytes.Equal(snap, b.e.Snapshot()) {
			t.Errorf("%s: two engines fed the same inputs must hold the same snapshot", f)
		}
		r, err := Restore(snap)
		if err != nil {
			t.Fatalf("%s: restore: %v", f, err)
		}
		if !bytes.Equal(r.Snapshot(), snap) {
			t.Errorf("%s: a restored engine's snapshot must be the same bytes", f)
		}
	}
}
