package agreement

import (
	"bytes"
	"io"
	"log/slog"
	"sync"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// memSink is a raft.SnapshotSink in memory.
type memSink struct {
	bytes.Buffer
	closed, cancelled bool
}

func (s *memSink) ID() string    { return "mem" }
func (s *memSink) Close() error  { s.closed = true; return nil }
func (s *memSink) Cancel() error { s.cancelled = true; return nil }

// engineFSM is an FSM around a real engine, recording what it delivers.
type engineFSM struct {
	t    *testing.T
	fsm  *FSM
	eng  *protocol.Engine
	apps []Applied
	idx  uint64
}

func newEngineFSM(t *testing.T, self int32, inc uint64) *engineFSM {
	f := &engineFSM{t: t, eng: protocol.New()}
	f.fsm = NewFSM(self, inc, f.eng, slog.New(slog.NewTextHandler(io.Discard, nil)), func(apps []Applied) {
		f.apps = append(f.apps, apps...)
	})
	return f
}

func (f *engineFSM) apply(e Entry) ApplyResult {
	f.t.Helper()
	data, err := encodeEntry(&e)
	require.NoError(f.t, err)
	f.idx++
	res, ok := f.fsm.Apply(&raft.Log{Index: f.idx, Data: data}).(ApplyResult)
	require.True(f.t, ok, "Apply returns an ApplyResult")
	return res
}

// snapshot takes and persists a snapshot of f, as raft does.
func (f *engineFSM) snapshot() []byte {
	f.t.Helper()
	snap, err := f.fsm.Snapshot()
	require.NoError(f.t, err, "an FSM around the real engine must snapshot")
	var sink memSink
	require.NoError(f.t, snap.Persist(&sink), "Persist must succeed")
	snap.Release()
	require.True(f.t, sink.closed, "Persist must close the sink")
	return sink.Bytes()
}

func (f *engineFSM) restore(data []byte) error {
	return f.fsm.Restore(io.NopCloser(bytes.NewReader(data)))
}

// busyDomain admits nodes 1 (incarnation 7) and 2 (incarnation 3) and has a
// client of node 2 join group "g" and change its state.
func busyDomain(t *testing.T, self int32, inc uint64) *engineFSM {
	f := newEngineFSM(t, self, inc)
	f.apply(Entry{Kind: EntryAdmit, Node: 1, Inc: 7, Seq: 1, Time: 100})
	f.apply(Entry{Kind: EntryAdmit, Node: 2, Inc: 3, Seq: 1, Time: 110})
	c := protocol.ClientID{Node: 2, Conn: 3<<32 | 1}
	attrs := &wire.Attributes{GroupName: "g", NumPhases: wire.OnePhase, DefaultVote: wire.VoteApprove}
	res := f.apply(Entry{Kind: EntryEvents, Node: 2, Inc: 3, Epoch: 2, Seq: 2, Time: 120, Events: []protocol.Event{
		{Kind: protocol.EventConnect, Client: c},
		{Kind: protocol.EventRequest, Client: c, Request: &wire.Request{Op: wire.OpJoin, Token: 1, Group: "g", Attributes: attrs}},
		{Kind: protocol.EventRequest, Client: c, Request: &wire.Request{Op: wire.OpChangeState, Token: 1, NumPhases: wire.OnePhase, State: []byte("v1")}},
	}})
	require.Equal(t, StatusApplied, res.Status)
	d, ok := f.eng.Group("g")
	require.True(t, ok, "group g must exist")
	require.Equal(t, []byte("v1"), d.State, "g's state must have changed")
	return f
}

// TestFSMSnapshotRestore: a fresh FSM restored from a snapshot has the
// same groups, node table, applied index and time, and applies the next
// entries exactly once, as the original does.
func TestFSMSnapshotRestore(t *testing.T) {
	orig := busyDomain(t, 1, 7)
	data := orig.snapshot()

	// Node 3 is new: it restores before it has ever been admitted.
	fresh := newEngineFSM(t, 3, 1)
	require.NoError(t, fresh.restore(data), "the snapshot must restore")
	assert.Equal(t, orig.fsm.Nodes(), fresh.fsm.Nodes(), "the node table must be restored")
	assert.Equal(t, orig.fsm.AppliedIndex(), fresh.fsm.AppliedIndex(), "the applied index must be restored")
	assert.Equal(t, orig.eng.Groups(), fresh.eng.Groups(), "the groups must be restored")
	og, _ := orig.eng.Group("g")
	fg, ok := fresh.eng.Group("g")
	require.True(t, ok, "group g must be restored")
	assert.Equal(t, og, fg, "group g must be restored whole")
	assert.Empty(t, fresh.apps, "a node not in the snapshot's table learns nothing of its standing")

	// The next entries: a retry of the last one (a duplicate), a stale
	// one, and a new state change, applied to both.
	fresh.idx = orig.idx
	c := protocol.ClientID{Node: 2, Conn: 3<<32 | 1}
	for _, e := range []Entry{
		{Kind: EntryEvents, Node: 2, Inc: 3, Epoch: 2, Seq: 2, Time: 130, Events: []protocol.Event{
			{Kind: protocol.EventRequest, Client: c, Request: &wire.Request{Op: wire.OpChangeState, Token: 1, NumPhases: wire.OnePhase, State: []byte("dup")}}}},
		{Kind: EntryEvents, Node: 2, Inc: 2, Epoch: 2, Seq: 9, Time: 130},
		{Kind: EntryEvents, Node: 2, Inc: 3, Epoch: 2, Seq: 3, Time: 140, Events: []protocol.Event{
			{Kind: protocol.EventRequest, Client: c, Request: &wire.Request{Op: wire.OpChangeState, Token: 1, NumPhases: wire.OnePhase, State: []byte("v2")}}}},
	} {
		assert.Equal(t, orig.apply(e), fresh.apply(e), "entry seq %d inc %d must be judged alike before and after a restore", e.Seq, e.Inc)
	}
	og, _ = orig.eng.Group("g")
	fg, _ = fresh.eng.Group("g")
	assert.Equal(t, []byte("v2"), fg.State, "the retried entry must not apply twice; the new one must")
	assert.Equal(t, og, fg, "both must agree after the next entries")
	assert.Equal(t, orig.snapshot(), fresh.snapshot(), "both must snapshot to the same bytes")
}

// TestFSMRestoreStanding: a running daemon that restores learns its
// standing from the snapshot.
func TestFSMRestoreStanding(t *testing.T) {
	data := busyDomain(t, 1, 7).snapshot()

	// Node 1, incarnation 7, is up in the snapshot and has no client:
	// admitted at epoch 1.
	n1 := newEngineFSM(t, 1, 7)
	require.NoError(t, n1.restore(data))
	require.Len(t, n1.apps, 1, "the daemon must hear of its admission")
	assert.Equal(t, uint64(1), n1.apps[0].Admitted, "its epoch is the admission's index")
	n1.apps = nil
	require.NoError(t, n1.restore(data))
	assert.Empty(t, n1.apps, "restoring again changes nothing for a daemon already admitted")

	// Node 2, incarnation 3, has a client in the snapshot: the effects of
	// the skipped entries are lost to it, so it is out and must rejoin.
	n2 := newEngineFSM(t, 2, 3)
	require.NoError(t, n2.restore(data))
	require.Len(t, n2.apps, 1, "the daemon must hear of its standing")
	assert.True(t, n2.apps[0].Down, "a daemon whose clients may have missed notifications is out of the domain")

	// Node 1 restarted as incarnation 8: not admitted yet, nothing to say.
	n1b := newEngineFSM(t, 1, 8)
	require.NoError(t, n1b.restore(data))
	assert.Empty(t, n1b.apps, "a new incarnation waits for its own admission")

	// Node 1, incarnation 6, when 7 is in the table: replaced.
	old := newEngineFSM(t, 1, 6)
	require.NoError(t, old.restore(data))
	require.Len(t, old.apps, 1)
	assert.True(t, old.apps[0].Down, "an older incarnation is out of the domain")

	// An admitted daemon that restores a snapshot in which it is down.
	d := busyDomain(t, 1, 7)
	d.apps = nil
	d.apply(Entry{Kind: EntryNodeDown, Node: 1, Inc: 7, Epoch: 1})
	down := d.snapshot()
	up := newEngineFSM(t, 1, 7)
	require.NoError(t, up.restore(data))
	up.apps = nil
	require.NoError(t, up.restore(down))
	require.Len(t, up.apps, 1)
	assert.True(t, up.apps[0].Down, "a daemon declared down in the skipped entries is out of the domain")
}

// TestFSMRestoreRefusesBadSnapshots: bad bytes are refused and leave the
// FSM as it was.
func TestFSMRestoreRefusesBadSnapshots(t *testing.T) {
	f := busyDomain(t, 1, 7)
	good := f.snapshot()
	before := f.snapshot()
	for name, data := range map[string][]byte{
		"empty":           nil,
		"unknown version": append([]byte{9}, good[1:]...),
		"truncated":       good[:len(good)/2],
		"trailing bytes":  append(append([]byte{}, good...), 0),
	} {
		assert.Error(t, f.restore(data), "%s: the snapshot must be refused", name)
	}
	assert.Equal(t, before, f.snapshot(), "a refused snapshot must leave the state as it was")
}

// TestFSMWithoutSnapshotter: an engine that cannot be snapshotted is not.
func TestFSMWithoutSnapshotter(t *testing.T) {
	f := newFixture(t, 1, 1)
	_, err := f.fsm.Snapshot()
	require.ErrorIs(t, err, errSnapshotUnsupported, "an engine without Snapshot must refuse")
	f.fsm.discardSnapshots = true
	snap, err := f.fsm.Snapshot()
	require.NoError(t, err, "a one-node domain's empty snapshot needs nothing of the engine")
	var sink memSink
	require.NoError(t, snap.Persist(&sink))
	assert.Zero(t, sink.Len(), "a one-node domain's snapshot is empty")
}

// TestFSMSnapshotThroughFileStore: a snapshot persisted to raft's file
// store under a data directory, as a restarting daemon finds it, restores
// the same state.
func TestFSMSnapshotThroughFileStore(t *testing.T) {
	orig := busyDomain(t, 1, 7)
	store, err := raft.NewFileSnapshotStoreWithLogger(t.TempDir(), 2, newHCLogger("snapshots", slog.New(slog.NewTextHandler(io.Discard, nil))))
	require.NoError(t, err)
	sink, err := store.Create(raft.SnapshotVersionMax, orig.idx, 1, raft.Configuration{}, 1, nil)
	require.NoError(t, err)
	snap, err := orig.fsm.Snapshot()
	require.NoError(t, err)
	require.NoError(t, snap.Persist(sink), "the snapshot must persist to the file store")

	metas, err := store.List()
	require.NoError(t, err)
	require.Len(t, metas, 1, "the file store must hold the snapshot")
	_, rc, err := store.Open(metas[0].ID)
	require.NoError(t, err)
	restarted := newEngineFSM(t, 1, 8)
	require.NoError(t, restarted.fsm.Restore(rc), "the stored snapshot must restore")
	assert.Equal(t, orig.snapshot(), restarted.snapshot(), "the restored state must be the one persisted")
}

// TestFSMTakesScriptResultsOnlyFromTheNodeThatRunsThem: node 2's client
// expels node 1's provider, whose client registered a deactivate script, so
// the engine asks node 1 to run it. A result for that script in an entry of
// node 2 is dropped and logged, and the engine still waits; the same result
// from node 1 is taken and the expel completes.
func TestFSMTakesScriptResultsOnlyFromTheNodeThatRunsThem(t *testing.T) {
	logs := &syncLog{}
	f := &engineFSM{t: t, eng: protocol.New()}
	f.fsm = NewFSM(1, 7, f.eng, slog.New(slog.NewTextHandler(logs, nil)), func(apps []Applied) {
		f.apps = append(f.apps, apps...)
	})
	f.apply(Entry{Kind: EntryAdmit, Node: 1, Inc: 7, Seq: 1, Time: 100})
	f.apply(Entry{Kind: EntryAdmit, Node: 2, Inc: 3, Seq: 1, Time: 110})
	victim := protocol.ClientID{Node: 1, Conn: 7<<32 | 1}
	expeller := protocol.ClientID{Node: 2, Conn: 3<<32 | 1}
	attrs := &wire.Attributes{GroupName: "g", NumPhases: wire.OnePhase, DefaultVote: wire.VoteApprove}
	join := &wire.Request{Op: wire.OpJoin, Token: 1, Group: "g", Instance: 1, Attributes: attrs}
	f.apply(Entry{Kind: EntryEvents, Node: 1, Inc: 7, Epoch: 1, Seq: 2, Time: 120, Events: []protocol.Event{
		{Kind: protocol.EventConnect, Client: victim, Cred: protocol.Cred{Pid: 10}, Hello: &wire.Hello{Pid: 10, DeactivateScript: "/opt/deact.sh"}},
		{Kind: protocol.EventRequest, Client: victim, Request: join},
	}})
	f.apps = nil
	f.apply(Entry{Kind: EntryEvents, Node: 2, Inc: 3, Epoch: 2, Seq: 2, Time: 130, Events: []protocol.Event{
		{Kind: protocol.EventConnect, Client: expeller, Cred: protocol.Cred{Pid: 20}, Hello: &wire.Hello{Pid: 20}},
		{Kind: protocol.EventRequest, Client: expeller, Request: join},
		{Kind: protocol.EventRequest, Client: expeller, Request: &wire.Request{Op: wire.OpExpel, Token: 1, NumPhases: wire.OnePhase,
			DeactivatePhase: 1, ExpelList: []wire.Provider{{Instance: 1, Node: 1}}}},
	}})
	var script *protocol.ScriptRun
	for _, a := range f.apps {
		for _, e := range a.Effects {
			if e.Kind == protocol.EffectRunScript {
				script = e.Script
			}
		}
	}
	require.NotNil(t, script, "the expel asks node 1 (this daemon) to run its provider's deactivate script")
	require.Equal(t, int32(1), script.Node)
	runs, waited := f.eng.ScriptNode(script.ID)
	require.True(t, waited, "the engine waits for the script's result")
	require.Equal(t, int32(1), runs, "the engine knows node 1 runs it")

	res := f.apply(Entry{Kind: EntryEvents, Node: 2, Inc: 3, Epoch: 2, Seq: 3, Time: 140, Events: []protocol.Event{
		{Kind: protocol.EventScriptDone, Script: &protocol.ScriptResult{ID: script.ID, Result: wire.DeactivateOK}},
	}})
	assert.Equal(t, StatusApplied, res.Status, "the entry itself is in order (node 2's own sequence)")
	_, waited = f.eng.ScriptNode(script.ID)
	assert.True(t, waited, "node 2's claim of node 1's script result is dropped: the engine still waits")
	d, _ := f.eng.Group("g")
	require.NotNil(t, d.Protocol, "the expel is still running")
	assert.Contains(t, logs.String(), "script result from a node that does not run the script dropped", "the refusal is logged")

	f.apply(Entry{Kind: EntryEvents, Node: 1, Inc: 7, Epoch: 1, Seq: 3, Time: 150, Events: []protocol.Event{
		{Kind: protocol.EventScriptDone, Script: &protocol.ScriptResult{ID: script.ID, Result: wire.DeactivateOK}},
	}})
	_, waited = f.eng.ScriptNode(script.ID)
	assert.False(t, waited, "node 1's result for its own script is taken")
	d, _ = f.eng.Group("g")
	assert.Nil(t, d.Protocol, "the expel completed")
	assert.Len(t, d.Providers, 1, "the expelled provider is gone")
}

// syncLog is a log sink a test reads while others write.
type syncLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncLog) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncLog) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
