package agreement

import (
	"io"
	"log/slog"
	"testing"

	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// recEngine records the events it is stepped with and answers a request
// with a notification to the requester and, for an expel, a script run for
// the requester's node (its id the request's token), which it waits for
// until a result for it is stepped.
type recEngine struct {
	got     []protocol.Event
	scripts map[uint64]int32 // waited for: id → node
}

func (r *recEngine) Step(ev protocol.Event) []protocol.Effect {
	r.got = append(r.got, ev)
	if ev.Kind == protocol.EventScriptDone {
		delete(r.scripts, ev.Script.ID)
	}
	if ev.Kind != protocol.EventRequest {
		return nil
	}
	if ev.Request.Op == wire.OpExpel {
		id := uint64(ev.Request.Token)
		if r.scripts == nil {
			r.scripts = map[uint64]int32{}
		}
		r.scripts[id] = ev.Client.Node
		return []protocol.Effect{{Kind: protocol.EffectRunScript, Script: &protocol.ScriptRun{ID: id, Node: ev.Client.Node, Owner: ev.Client}}}
	}
	return []protocol.Effect{{Kind: protocol.EffectNotify, To: []protocol.Recipient{{Client: ev.Client, Token: 1}}, Note: &wire.Notification{}}}
}

func (r *recEngine) NextDeadline() (int64, bool) { return 0, false }

func (r *recEngine) ScriptNode(id uint64) (int32, bool) {
	node, ok := r.scripts[id]
	return node, ok
}

func (r *recEngine) kinds() []protocol.EventKind {
	var out []protocol.EventKind
	for _, ev := range r.got {
		out = append(out, ev.Kind)
	}
	r.got = nil
	return out
}

type fsmFixture struct {
	t     *testing.T
	fsm   *FSM
	eng   *recEngine
	index uint64
	apps  []Applied
}

func newFixture(t *testing.T, self int32, inc uint64) *fsmFixture {
	f := &fsmFixture{t: t, eng: &recEngine{}}
	f.fsm = NewFSM(self, inc, f.eng, slog.New(slog.NewTextHandler(io.Discard, nil)), func(apps []Applied) {
		f.apps = append(f.apps, apps...)
	})
	return f
}

func (f *fsmFixture) apply(e Entry) ApplyResult {
	f.t.Helper()
	data, err := encodeEntry(&e)
	require.NoError(f.t, err, "the entry encodes")
	f.index++
	res, ok := f.fsm.Apply(&raft.Log{Index: f.index, Data: data}).(ApplyResult)
	require.True(f.t, ok, "Apply returns an ApplyResult")
	return res
}

func (f *fsmFixture) lastApp() Applied {
	f.t.Helper()
	require.NotEmpty(f.t, f.apps, "something was delivered to this daemon")
	a := f.apps[len(f.apps)-1]
	f.apps = nil
	return a
}

func request(node int32, conn uint64, op wire.Op) protocol.Event {
	return protocol.Event{Kind: protocol.EventRequest, Client: protocol.ClientID{Node: node, Conn: conn}, Request: &wire.Request{Op: op}}
}

func TestFSMAdmissionEventsAndDuplicates(t *testing.T) {
	f := newFixture(t, 1, 7)
	res := f.apply(Entry{Kind: EntryAdmit, Node: 1, Inc: 7, Seq: 1, Time: 100})
	assert.Equal(t, ApplyResult{Status: StatusApplied, Epoch: 1}, res, "the first admission is applied; its index is the epoch")
	assert.Equal(t, []protocol.EventKind{protocol.EventNodeUp}, f.eng.kinds(), "admission puts the node up")
	assert.Equal(t, uint64(1), f.lastApp().Admitted, "this daemon learns its epoch")

	client := uint64(7)<<32 | 1
	ev := Entry{Kind: EntryEvents, Node: 1, Inc: 7, Epoch: 1, Seq: 2, Time: 200,
		Events: []protocol.Event{{Kind: protocol.EventConnect, Client: protocol.ClientID{Node: 1, Conn: client}}, request(1, client, wire.OpJoin)}}
	assert.Equal(t, StatusApplied, f.apply(ev).Status, "events of the current epoch are applied")
	got := f.eng.got
	assert.Equal(t, []protocol.EventKind{protocol.EventConnect, protocol.EventRequest}, f.eng.kinds(), "the events are stepped in order")
	assert.Equal(t, int64(200), got[1].Time, "events are stepped at the entry's time")
	assert.Len(t, f.lastApp().Effects, 1, "the notification to this daemon's client is delivered")

	assert.Equal(t, StatusDuplicate, f.apply(ev).Status, "a retried entry is recognised by its sequence")
	assert.Empty(t, f.eng.kinds(), "a duplicate steps nothing")

	dupAdmit := f.apply(Entry{Kind: EntryAdmit, Node: 1, Inc: 7, Seq: 1})
	assert.Equal(t, ApplyResult{Status: StatusDuplicate, Epoch: 1}, dupAdmit, "a retried admission reports the epoch it got")

	ev.Seq, ev.Time = 3, 50
	ev.Events = []protocol.Event{request(1, client, wire.OpVote)}
	f.apply(ev)
	assert.Equal(t, int64(200), f.eng.got[0].Time, "time never goes back, even if a new leader's clock is behind")
}

func TestFSMNodeDownAndReadmission(t *testing.T) {
	f := newFixture(t, 2, 5)
	f.apply(Entry{Kind: EntryAdmit, Node: 1, Inc: 3, Seq: 1})
	f.apply(Entry{Kind: EntryAdmit, Node: 2, Inc: 5, Seq: 1})
	f.eng.kinds()
	f.apps = nil

	assert.Equal(t, StatusStale, f.apply(Entry{Kind: EntryNodeDown, Node: 2, Inc: 5, Epoch: 99}).Status,
		"a death reported against an older epoch is stale")
	assert.Equal(t, StatusApplied, f.apply(Entry{Kind: EntryNodeDown, Node: 2, Inc: 5, Epoch: 2}).Status,
		"the leader's report of this node's death is applied")
	assert.Equal(t, []protocol.EventKind{protocol.EventNodeDown}, f.eng.kinds(), "the engine fails the node")
	assert.True(t, f.lastApp().Down, "this daemon learns it is out of the domain")

	assert.Equal(t, StatusStale, f.apply(Entry{Kind: EntryEvents, Node: 2, Inc: 5, Epoch: 2, Seq: 2,
		Events: []protocol.Event{request(2, 1, wire.OpJoin)}}).Status, "events sent before the death are dropped")
	assert.Empty(t, f.eng.kinds(), "nothing of a down node is stepped")

	res := f.apply(Entry{Kind: EntryAdmit, Node: 2, Inc: 5, Seq: 3})
	assert.Equal(t, ApplyResult{Status: StatusApplied, Epoch: 6}, res, "the same incarnation is admitted again with a new epoch")
	assert.Equal(t, []protocol.EventKind{protocol.EventNodeUp}, f.eng.kinds(), "a node that was down only comes up")

	res = f.apply(Entry{Kind: EntryAdmit, Node: 2, Inc: 5, Seq: 4})
	assert.Equal(t, StatusApplied, res.Status, "an admission while up (a return after being cut off) is applied")
	assert.Equal(t, []protocol.EventKind{protocol.EventNodeDown, protocol.EventNodeUp}, f.eng.kinds(),
		"whatever the node had before is failed first")

	assert.Equal(t, StatusStale, f.apply(Entry{Kind: EntryAdmit, Node: 1, Inc: 2, Seq: 9}).Status,
		"an older incarnation is never admitted over a newer one")
	res = f.apply(Entry{Kind: EntryAdmit, Node: 1, Inc: 4, Seq: 1})
	assert.Equal(t, StatusApplied, res.Status, "a restarted daemon (new incarnation) is admitted")
	assert.Equal(t, []protocol.EventKind{protocol.EventNodeDown, protocol.EventNodeUp}, f.eng.kinds(),
		"the previous incarnation's providers fail")

	f.apps = nil
	f.apply(Entry{Kind: EntryAdmit, Node: 2, Inc: 6, Seq: 1})
	assert.True(t, f.lastApp().Down, "a newer daemon with this node number takes this one out")
}

func TestFSMFiltersEventsAndEffects(t *testing.T) {
	f := newFixture(t, 1, 9)
	f.apply(Entry{Kind: EntryAdmit, Node: 1, Inc: 9, Seq: 1})
	f.apply(Entry{Kind: EntryAdmit, Node: 2, Inc: 1, Seq: 1})
	f.eng.kinds()
	f.apps = nil

	f.apply(Entry{Kind: EntryEvents, Node: 2, Inc: 1, Epoch: 2, Seq: 2, Events: []protocol.Event{
		request(1, 5, wire.OpJoin),                                              // claims a client of node 1
		{Kind: protocol.EventNodeDown, Node: 1},                                 // only the leader reports deaths
		{Kind: protocol.EventTick},                                              // only the leader ticks
		request(2, 5, wire.OpJoin),                                              // its own client: taken
		{Kind: protocol.EventScriptDone, Script: &protocol.ScriptResult{ID: 3}}, // no script 3 is waited for
	}})
	assert.Equal(t, []protocol.EventKind{protocol.EventRequest}, f.eng.kinds(),
		"a node may only report its own clients' events and the results of scripts it was asked to run")
	assert.Empty(t, f.apps, "nothing for node 1: the notification went to node 2's client")

	f.apply(Entry{Kind: EntryEvents, Node: 1, Inc: 9, Epoch: 1, Seq: 2, Events: []protocol.Event{
		request(1, 8<<32|1, wire.OpExpel), // a client of an earlier incarnation (8)
		request(1, 9<<32|1, wire.OpExpel), // a client of this one
	}})
	app := f.lastApp()
	require.Len(t, app.Effects, 1, "only one script is this daemon's to run")
	assert.Equal(t, uint64(9<<32|1), app.Effects[0].Script.Owner.Conn, "the script of this incarnation's client runs; the earlier one's never does")
}

func TestEntryEncodingRoundTrips(t *testing.T) {
	e := Entry{Kind: EntryEvents, Time: 42, Node: 3, Inc: 4, Epoch: 5, Seq: 6,
		Events: []protocol.Event{request(3, 9, wire.OpChangeState)}}
	e.Events[0].Request.State = []byte("v")
	data, err := encodeEntry(&e)
	require.NoError(t, err, "an entry encodes")
	got, err := decodeEntry(data)
	require.NoError(t, err, "it decodes back")
	assert.Equal(t, e, *got, "decoding gives the same entry")

	_, err = decodeEntry(append([]byte{9}, data[1:]...))
	assert.Error(t, err, "an unknown version is refused")
	_, err = decodeEntry(nil)
	assert.Error(t, err, "an empty entry is refused")
}

// TestFSMTakesANodesEntriesOnlyInSequence: with entries in flight, an
// entry may reach the log after one before it was lost (appended by a
// leader that lost its place). The FSM takes a node's entries only in
// sequence: the later one is dropped as out of order, and taken when it
// comes again after the lost one; repeats of either are duplicates. The
// outcome of each entry of this daemon's own incarnation is reported to
// the forwarder (own), after the batch is delivered.
func TestFSMTakesANodesEntriesOnlyInSequence(t *testing.T) {
	f := newFixture(t, 1, 7)
	var own []ownAnswer
	f.fsm.own = func(seq uint64, res ApplyResult) { own = append(own, ownAnswer{seq: seq, res: res}) }
	f.apply(Entry{Kind: EntryAdmit, Node: 1, Inc: 7, Seq: 1})
	f.eng.kinds()
	client := uint64(7)<<32 | 1
	entry := func(seq uint64, op wire.Op) Entry {
		return Entry{Kind: EntryEvents, Node: 1, Inc: 7, Epoch: 1, Seq: seq, Events: []protocol.Event{request(1, client, op)}}
	}
	assert.Equal(t, StatusOutOfOrder, f.apply(entry(3, wire.OpVote)).Status, "entry 3 before entry 2 is out of order")
	assert.Empty(t, f.eng.kinds(), "an entry out of order steps nothing")
	assert.Equal(t, StatusApplied, f.apply(entry(2, wire.OpJoin)).Status, "entry 2 is the next one")
	assert.Equal(t, StatusApplied, f.apply(entry(3, wire.OpVote)).Status, "entry 3, sent again after 2, is taken")
	assert.Equal(t, StatusDuplicate, f.apply(entry(2, wire.OpJoin)).Status, "entry 2 again is a duplicate")
	assert.Equal(t, []protocol.EventKind{protocol.EventRequest, protocol.EventRequest}, f.eng.kinds(), "each request is stepped once, in order")
	dup, ooo := f.fsm.Dropped()
	assert.Equal(t, [2]uint64{1, 1}, [2]uint64{dup, ooo}, "the FSM counts what it dropped")
	want := []ownAnswer{
		{1, ApplyResult{Status: StatusApplied, Epoch: 1}},
		{3, ApplyResult{Status: StatusOutOfOrder}},
		{2, ApplyResult{Status: StatusApplied}},
		{3, ApplyResult{Status: StatusApplied}},
		{2, ApplyResult{Status: StatusDuplicate}},
	}
	assert.Equal(t, want, own, "the forwarder hears the outcome of each of its entries")
}

// TestFSMAppliesABatchInOneDelivery: the entries raft commits together are
// applied in one pass and delivered to the daemon in one call, each
// concerned entry with its own Applied, in log order; raft's configuration
// entries in the batch are raft's own.
func TestFSMAppliesABatchInOneDelivery(t *testing.T) {
	f := newFixture(t, 1, 7)
	var calls int
	f.fsm.deliver = func(apps []Applied) {
		calls++
		f.apps = append(f.apps, apps...)
	}
	client := uint64(7)<<32 | 1
	var logs []*raft.Log
	for i, e := range []Entry{
		{Kind: EntryAdmit, Node: 1, Inc: 7, Seq: 1},
		{Kind: EntryEvents, Node: 1, Inc: 7, Epoch: 1, Seq: 2, Events: []protocol.Event{request(1, client, wire.OpJoin)}},
		{Kind: EntryEvents, Node: 1, Inc: 7, Epoch: 1, Seq: 3, Events: []protocol.Event{request(1, client, wire.OpVote)}},
	} {
		data, err := encodeEntry(&e)
		require.NoError(t, err, "the entry encodes")
		logs = append(logs, &raft.Log{Index: uint64(i + 1), Type: raft.LogCommand, Data: data})
	}
	logs = append(logs, &raft.Log{Index: 4, Type: raft.LogConfiguration})
	out := f.fsm.ApplyBatch(logs)
	require.Len(t, out, 4, "one result per log entry")
	assert.Equal(t, ApplyResult{Status: StatusApplied, Epoch: 1}, out[0], "the admission is applied")
	assert.Equal(t, ApplyResult{Status: StatusApplied}, out[2], "the events are applied")
	assert.Nil(t, out[3], "a configuration entry is raft's, not the engine's")
	assert.Equal(t, 1, calls, "one batch, one delivery")
	require.Len(t, f.apps, 3, "each concerned entry has its Applied")
	assert.Equal(t, []uint64{1, 2, 3}, []uint64{f.apps[0].Index, f.apps[1].Index, f.apps[2].Index}, "in log order")
}
