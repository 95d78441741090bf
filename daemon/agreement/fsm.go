package agreement

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sync"

	"github.com/hashicorp/raft"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// Engine is what the FSM needs of protocol.Engine. The FSM serialises every
// call; View lets others read the engine under the same lock.
type Engine interface {
	Step(protocol.Event) []protocol.Effect
	NextDeadline() (int64, bool)
	// ScriptNode reports the node asked to run deactivate script id, while
	// the engine waits for its result (protocol.Engine.ScriptNode).
	ScriptNode(id uint64) (int32, bool)
}

// ApplyStatus says what became of one log entry.
type ApplyStatus uint8

const (
	// StatusApplied: the entry changed the domain.
	StatusApplied ApplyStatus = 1
	// StatusDuplicate: the entry was applied before (a retry); nothing
	// changed. For an admission, ApplyResult.Epoch is still the epoch.
	StatusDuplicate ApplyStatus = 2
	// StatusStale: the entry comes from an incarnation or epoch of its
	// node that is no longer current (the node was declared down, or
	// restarted); it was dropped.
	StatusStale ApplyStatus = 3
	// StatusInvalid: the entry could not be decoded; it was dropped.
	StatusInvalid ApplyStatus = 4
	// StatusOutOfOrder: the entry's sequence is beyond the next one its
	// node's current incarnation and epoch may put in the log: an entry
	// before it was lost on its way (a leader change), and the node sends
	// again from there. It was dropped.
	StatusOutOfOrder ApplyStatus = 5
)

// String names the status for logs.
func (s ApplyStatus) String() string {
	switch s {
	case StatusApplied:
		return "applied"
	case StatusDuplicate:
		return "duplicate"
	case StatusStale:
		return "stale"
	case StatusInvalid:
		return "invalid"
	case StatusOutOfOrder:
		return "out of order"
	}
	return "unknown"
}

// ApplyResult is what FSM.Apply returns for an entry (the raft
// ApplyFuture's Response on the leader).
type ApplyResult struct {
	Status ApplyStatus
	// Epoch is the node's epoch after an admission (applied or duplicate).
	Epoch uint64
}

// NodeState is what the replicated log says of one node of the domain.
type NodeState struct {
	Node  int32
	Inc   uint64 // the incarnation last admitted
	Epoch uint64 // log index of the last admission
	Seq   uint64 // the highest entry sequence taken from this incarnation
	Up    bool   // admitted and not declared down since
}

// Applied is what one log entry means for this daemon, handed to the
// Deliver callback in log order, with the others of its batch.
type Applied struct {
	// Index is the entry's log index.
	Index uint64
	// Effects are the engine's effects aimed at this daemon: notifications
	// with at least one recipient on this node (the caller still picks
	// its own recipients), and deactivate scripts for providers of this
	// daemon's own clients (never those of an earlier incarnation).
	Effects []protocol.Effect
	// Admitted is this daemon's new epoch when the entry admitted it.
	Admitted uint64
	// Down is set when the entry took this daemon (this incarnation) out
	// of the domain: declared dead by the leader, or replaced by a newer
	// incarnation of the same node number.
	Down bool
}

var errSnapshotUnsupported = errors.New("agreement: the engine cannot be snapshotted; the log is kept whole")

// FSM is the raft state machine: it applies log entries to the protocol
// engine, in log order, on every daemon of the domain. It owns the engine
// and the table of nodes; ApplyBatch (and Apply) are called by raft's FSM
// goroutine only. It never blocks on its caller: the effects of a batch go
// to the deliver callback in one call, which must not block either.
type FSM struct {
	self    int32
	selfInc uint64
	log     *slog.Logger
	deliver func(apps []Applied)
	// own, when set, hears the outcome of every entry of this daemon's
	// own incarnation (the forwarder's answers), after the batch is
	// delivered; it must not block.
	own func(seq uint64, res ApplyResult)
	// deadlineMoved, when set, is called after a batch that moved the
	// engine's next deadline (the leader's ticker re-arms); it must not
	// block.
	deadlineMoved func()
	// discardSnapshots: a one-node domain has nobody to send a snapshot
	// to and keeps nothing across restarts, so its snapshots are empty
	// and only let raft trim its in-memory log.
	discardSnapshots bool

	mu    sync.Mutex
	eng   Engine
	nodes map[int32]*NodeState
	last  int64 // time of the latest entry applied
	index uint64
	// epoch is this incarnation's admission as last handed to deliver
	// (0: not admitted, or out of the domain since).
	epoch uint64
	// appsBuf and ownBuf are ApplyBatch's, reused from batch to batch.
	appsBuf []Applied
	ownBuf  []ownAnswer
	// deadline is the engine's next deadline after the last batch.
	deadline    int64
	hasDeadline bool
	// duplicates and outOfOrder count the events entries (of any node)
	// this FSM dropped as sent before, and as sent after a lost one.
	duplicates, outOfOrder uint64
}

// ownAnswer is the outcome of one entry of this daemon's incarnation.
type ownAnswer struct {
	seq uint64
	res ApplyResult
}

// NewFSM returns an FSM for daemon self (incarnation inc) stepping eng.
// deliver is called after every batch of entries applied that has anything
// for this daemon, with what each such entry means for it, in log order;
// it must not keep the slice (Config.Deliver).
func NewFSM(self int32, inc uint64, eng Engine, log *slog.Logger, deliver func(apps []Applied)) *FSM {
	return &FSM{self: self, selfInc: inc, eng: eng, log: log, deliver: deliver, nodes: make(map[int32]*NodeState)}
}

// Apply applies one committed log entry and returns its ApplyResult.
func (f *FSM) Apply(l *raft.Log) any {
	return f.ApplyBatch([]*raft.Log{l})[0]
}

// ApplyBatch applies the entries raft committed together, in log order,
// with one pass under the lock, and hands what they mean for this daemon
// to deliver in one call (raft.BatchingFSM). It returns each entry's
// ApplyResult. Entries that are not commands (raft's configuration
// changes) are raft's own: they get a nil result.
func (f *FSM) ApplyBatch(logs []*raft.Log) []any {
	out := make([]any, len(logs))
	apps, own := f.appsBuf[:0], f.ownBuf[:0]
	f.mu.Lock()
	for i, l := range logs {
		if l.Type != raft.LogCommand {
			continue
		}
		e, err := decodeEntry(l.Data)
		if err != nil {
			f.log.Error("log entry dropped", "index", l.Index, "err", err)
			out[i] = ApplyResult{Status: StatusInvalid}
			continue
		}
		res, app := f.apply(l.Index, e)
		out[i] = res
		if app.Admitted != 0 {
			f.epoch = app.Admitted
		}
		if app.Down {
			f.epoch = 0
		}
		switch res.Status {
		case StatusDuplicate:
			f.duplicates++
		case StatusOutOfOrder:
			f.outOfOrder++
		}
		switch res.Status {
		case StatusStale:
			f.log.Debug("stale log entry dropped", "index", l.Index, "kind", e.Kind, "from", e.Node, "inc", e.Inc, "epoch", e.Epoch)
		case StatusOutOfOrder:
			f.log.Debug("log entry out of order dropped; its node sends again", "index", l.Index, "from", e.Node, "seq", e.Seq)
		}
		if e.Node == f.self && e.Inc == f.selfInc && (e.Kind == EntryAdmit || e.Kind == EntryEvents) {
			own = append(own, ownAnswer{seq: e.Seq, res: res})
		}
		if len(app.Effects) > 0 || app.Admitted != 0 || app.Down {
			app.Index = l.Index
			apps = append(apps, app)
		}
	}
	at, has := f.eng.NextDeadline()
	moved := at != f.deadline || has != f.hasDeadline
	f.deadline, f.hasDeadline = at, has
	f.mu.Unlock()
	if len(apps) > 0 {
		f.deliver(apps)
	}
	if f.own != nil {
		for _, o := range own {
			f.own(o.seq, o.res)
		}
	}
	clear(apps) // the effects go to the collector; the arrays serve the next batch
	f.appsBuf, f.ownBuf = apps[:0], own[:0]
	if moved && f.deadlineMoved != nil {
		f.deadlineMoved()
	}
	return out
}

// apply is Apply under f.mu.
func (f *FSM) apply(index uint64, e *Entry) (ApplyResult, Applied) {
	f.index = index
	f.last = max(f.last, e.Time)
	var app Applied
	step := func(ev protocol.Event) {
		ev.Time = f.last
		app.Effects = f.mine(app.Effects, f.eng.Step(ev))
	}
	switch e.Kind {
	case EntryAdmit:
		rec := f.nodes[e.Node]
		if rec != nil && (e.Inc < rec.Inc || e.Inc == rec.Inc && e.Seq <= rec.Seq) {
			if e.Inc == rec.Inc && rec.Up {
				return ApplyResult{Status: StatusDuplicate, Epoch: rec.Epoch}, app
			}
			return ApplyResult{Status: StatusStale}, app
		}
		if rec != nil && rec.Up {
			// A restart, or a return after being cut off: whatever the
			// node had is gone.
			step(protocol.Event{Kind: protocol.EventNodeDown, Node: e.Node})
		}
		f.nodes[e.Node] = &NodeState{Node: e.Node, Inc: e.Inc, Epoch: index, Seq: e.Seq, Up: true}
		step(protocol.Event{Kind: protocol.EventNodeUp, Node: e.Node})
		if e.Node == f.self {
			switch {
			case e.Inc == f.selfInc:
				app.Admitted = index
			case e.Inc > f.selfInc:
				f.log.Error("another daemon was admitted with this node number; this one is out of the domain", "inc", e.Inc)
				app.Down = true
			}
		}
		return ApplyResult{Status: StatusApplied, Epoch: index}, app
	case EntryEvents:
		rec := f.nodes[e.Node]
		if rec == nil || !rec.Up || rec.Inc != e.Inc || rec.Epoch != e.Epoch {
			return ApplyResult{Status: StatusStale}, app
		}
		switch {
		case e.Seq <= rec.Seq:
			return ApplyResult{Status: StatusDuplicate}, app
		case e.Seq != rec.Seq+1:
			return ApplyResult{Status: StatusOutOfOrder}, app
		}
		rec.Seq = e.Seq
		for _, ev := range e.Events {
			if !f.fromNode(index, &ev, e.Node) {
				continue
			}
			step(ev)
		}
	case EntryNodeDown:
		rec := f.nodes[e.Node]
		if rec == nil || !rec.Up || rec.Inc != e.Inc || rec.Epoch != e.Epoch {
			return ApplyResult{Status: StatusStale}, app
		}
		rec.Up = false
		step(protocol.Event{Kind: protocol.EventNodeDown, Node: e.Node})
		app.Down = e.Node == f.self && e.Inc == f.selfInc
	case EntryTick:
		step(protocol.Event{Kind: protocol.EventTick})
	default:
		f.log.Error("log entry of unknown kind dropped", "index", index, "kind", e.Kind)
		return ApplyResult{Status: StatusInvalid}, app
	}
	return ApplyResult{Status: StatusApplied}, app
}

// fromNode reports whether node may put ev in the log, and logs why not:
// only events about its own clients, and the results of the deactivate
// scripts the engine asked that node to run. f.mu is held. Every daemon
// decides the same, since the engine's state is the same at each entry.
func (f *FSM) fromNode(index uint64, ev *protocol.Event, node int32) bool {
	switch ev.Kind {
	case protocol.EventConnect, protocol.EventDisconnect, protocol.EventRequest,
		protocol.EventRespond, protocol.EventResponsiveness:
		if ev.Client.Node == node {
			return true
		}
	case protocol.EventScriptDone:
		if ev.Script == nil {
			break
		}
		runs, waited := f.eng.ScriptNode(ev.Script.ID)
		if !waited {
			// Already finished or timed out, or a failure leave's
			// script, whose result changes nothing: the engine would
			// ignore it too.
			f.log.Debug("result of a script nobody waits for dropped", "index", index, "from", node, "script", ev.Script.ID)
			return false
		}
		if runs == node {
			return true
		}
		f.log.Warn("script result from a node that does not run the script dropped", "index", index, "from", node,
			"script", ev.Script.ID, "runs_on", runs)
		return false
	}
	f.log.Warn("event not allowed from a node dropped", "index", index, "from", node, "kind", ev.Kind)
	return false
}

// mine appends to dst the effects this daemon carries out.
func (f *FSM) mine(dst, effects []protocol.Effect) []protocol.Effect {
	for _, e := range effects {
		switch e.Kind {
		case protocol.EffectNotify:
			if slices.ContainsFunc(e.To, func(r protocol.Recipient) bool { return r.Client.Node == f.self }) {
				dst = append(dst, e)
			}
		case protocol.EffectRunScript:
			// Client ids carry the incarnation in their high half: a
			// script for a client of an earlier run of this daemon is
			// never started (that run's end failed its providers).
			if e.Script != nil && e.Script.Node == f.self && e.Script.Owner.Conn>>32 == f.selfInc&0xffffffff {
				dst = append(dst, e)
			}
		}
	}
	return dst
}

// View runs fn with the engine locked against Apply, for reads.
func (f *FSM) View(fn func()) {
	f.mu.Lock()
	defer f.mu.Unlock()
	fn()
}

// NextDeadline is the engine's next deadline, read under the lock.
func (f *FSM) NextDeadline() (int64, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.eng.NextDeadline()
}

// Node returns what the log says of node, and whether it knows the node.
func (f *FSM) Node(node int32) (NodeState, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if rec := f.nodes[node]; rec != nil {
		return *rec, true
	}
	return NodeState{}, false
}

// Nodes returns every node the log has admitted, by node number.
func (f *FSM) Nodes() []NodeState {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.sortedNodes()
}

// sortedNodes is Nodes under f.mu.
func (f *FSM) sortedNodes() []NodeState {
	out := make([]NodeState, 0, len(f.nodes))
	for _, rec := range f.nodes {
		out = append(out, *rec)
	}
	slices.SortFunc(out, func(a, b NodeState) int { return cmp.Compare(a.Node, b.Node) })
	return out
}

// Dropped returns how many entries this FSM has dropped as duplicates
// (applied before, and sent again) and as out of order (sent after an
// entry that was lost; their node sends them again).
func (f *FSM) Dropped() (duplicates, outOfOrder uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.duplicates, f.outOfOrder
}

// AppliedIndex is the index of the latest entry applied.
func (f *FSM) AppliedIndex() uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.index
}

// Snapshotter is what the FSM needs of an engine to write it into a raft
// snapshot and read it back; protocol.Engine has it. An engine without it
// is never snapshotted in a domain of several nodes, and the log is kept
// whole.
type Snapshotter interface {
	// Snapshot writes the engine's whole state.
	Snapshot() ([]byte, error)
	// Load replaces the engine's state with a snapshot's, in place (the
	// daemon's admin queries keep a pointer to the engine).
	Load(data []byte) error
	// Serves reports whether the engine holds anything of node (its
	// clients, scripts it waits for there).
	Serves(node int32) bool
}

// fsmSnapshotVersion is the first byte of the FSM's snapshots.
const fsmSnapshotVersion = 1

// fsmState is what a snapshot of the FSM holds: the engine and everything
// the FSM keeps for applying entries exactly once.
type fsmState struct {
	_      struct{}  `msgpack:",as_array"`
	Index  uint64    `msgpack:"index"` // the last entry applied
	Last   int64     `msgpack:"last"`  // its time
	Nodes  []fsmNode `msgpack:"nodes"` // by node number
	Engine []byte    `msgpack:"engine"`
}

type fsmNode struct {
	_     struct{} `msgpack:",as_array"`
	Node  int32    `msgpack:"n"`
	Inc   uint64   `msgpack:"i"`
	Epoch uint64   `msgpack:"e"`
	Seq   uint64   `msgpack:"s"`
	Up    bool     `msgpack:"up"`
}

var errSnapshotData = errors.New("agreement: bad snapshot")

// Snapshot is called by raft to compact its log. A one-node domain's
// snapshots are empty (see discardSnapshots). Otherwise the engine's state
// and the node table are written out here, under the lock, so that they
// match the applied index raft records with the snapshot; Persist only
// writes the bytes.
func (f *FSM) Snapshot() (raft.FSMSnapshot, error) {
	if f.discardSnapshots {
		return emptySnapshot{}, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	data, err := f.encodeLocked()
	if err != nil {
		return nil, err
	}
	return &fsmSnapshot{data: data}, nil
}

// encodeLocked writes the FSM's state; f.mu is held.
func (f *FSM) encodeLocked() ([]byte, error) {
	sn, ok := f.eng.(Snapshotter)
	if !ok {
		return nil, errSnapshotUnsupported
	}
	eng, err := sn.Snapshot()
	if err != nil {
		return nil, fmt.Errorf("agreement: snapshot the engine: %w", err)
	}
	st := fsmState{Index: f.index, Last: f.last, Engine: eng}
	for _, n := range f.sortedNodes() {
		st.Nodes = append(st.Nodes, fsmNode{Node: n.Node, Inc: n.Inc, Epoch: n.Epoch, Seq: n.Seq, Up: n.Up})
	}
	var buf bytes.Buffer
	buf.WriteByte(fsmSnapshotVersion)
	if err := msgpack.NewEncoder(&buf).Encode(&st); err != nil {
		return nil, fmt.Errorf("agreement: encode snapshot: %w", err)
	}
	return buf.Bytes(), nil
}

// decodeFSMState parses a snapshot written by encodeLocked.
func decodeFSMState(data []byte) (*fsmState, error) {
	if len(data) == 0 || data[0] != fsmSnapshotVersion {
		return nil, fmt.Errorf("%w: unknown version (%d bytes)", errSnapshotData, len(data))
	}
	if err := wire.CheckShape(data[1:]); err != nil { // before the decoder allocates what it declares
		return nil, fmt.Errorf("%w: %w", errSnapshotData, err)
	}
	rd := bytes.NewReader(data[1:])
	st := new(fsmState)
	if err := msgpack.NewDecoder(rd).Decode(st); err != nil {
		return nil, fmt.Errorf("%w: %w", errSnapshotData, err)
	}
	if rd.Len() > 0 {
		return nil, fmt.Errorf("%w: trailing bytes", errSnapshotData)
	}
	seen := make(map[int32]bool, len(st.Nodes))
	for _, n := range st.Nodes {
		if seen[n.Node] {
			return nil, fmt.Errorf("%w: node %d twice", errSnapshotData, n.Node)
		}
		seen[n.Node] = true
	}
	return st, nil
}

// Restore replaces the FSM's state with a snapshot's: raft calls it when
// the daemon starts with a snapshot on disk, and when the leader sends one
// (InstallSnapshot) to a daemon too far behind for its log.
//
// A running daemon that restores skips entries, and so the effects they
// had for it. Its standing is read from the restored node table: if this
// incarnation is up there and the engine holds nothing of this node, it
// is admitted (Applied.Admitted, when it did not know); if the engine
// holds clients or scripts of this node, whose notifications it may have
// missed, or the table no longer has it up, it is out of the domain
// (Applied.Down), and asks to be admitted again, which fails what it had.
func (f *FSM) Restore(rc io.ReadCloser) error {
	defer rc.Close()
	data, err := io.ReadAll(rc)
	if err != nil {
		return fmt.Errorf("agreement: read snapshot: %w", err)
	}
	st, err := decodeFSMState(data)
	if err != nil {
		return err
	}
	sn, ok := f.eng.(Snapshotter)
	if !ok {
		return errSnapshotUnsupported
	}
	f.mu.Lock()
	if err := sn.Load(st.Engine); err != nil {
		f.mu.Unlock()
		return fmt.Errorf("agreement: restore the engine: %w", err)
	}
	f.nodes = make(map[int32]*NodeState, len(st.Nodes))
	for _, n := range st.Nodes {
		f.nodes[n.Node] = &NodeState{Node: n.Node, Inc: n.Inc, Epoch: n.Epoch, Seq: n.Seq, Up: n.Up}
	}
	f.index, f.last = st.Index, st.Last
	app := Applied{Index: st.Index}
	rec := f.nodes[f.self]
	switch up := rec != nil && rec.Up && rec.Inc == f.selfInc; {
	case up && sn.Serves(f.self):
		app.Down = true
	case up && rec.Epoch != f.epoch:
		app.Admitted = rec.Epoch
	case !up && (f.epoch != 0 || rec != nil && rec.Inc > f.selfInc):
		app.Down = true
	}
	if app.Down {
		f.epoch = 0
	} else if app.Admitted != 0 {
		f.epoch = app.Admitted
	}
	f.deadline, f.hasDeadline = f.eng.NextDeadline()
	f.mu.Unlock()
	if f.deadlineMoved != nil {
		f.deadlineMoved()
	}
	f.log.Info("state restored from a snapshot", "index", st.Index, "nodes", len(st.Nodes),
		"admitted", app.Admitted, "down", app.Down)
	if app.Admitted != 0 || app.Down {
		f.deliver([]Applied{app})
	}
	return nil
}

var _ raft.BatchingFSM = (*FSM)(nil)

// fsmSnapshot is a snapshot already encoded; Persist writes it.
type fsmSnapshot struct{ data []byte }

// Persist writes the snapshot to raft's sink.
func (s *fsmSnapshot) Persist(sink raft.SnapshotSink) error {
	if _, err := sink.Write(s.data); err != nil {
		sink.Cancel()
		return fmt.Errorf("agreement: write snapshot: %w", err)
	}
	return sink.Close()
}

// Release is a no-op: the snapshot holds no resource.
func (s *fsmSnapshot) Release() {}

type emptySnapshot struct{}

func (emptySnapshot) Persist(sink raft.SnapshotSink) error { return sink.Close() }
func (emptySnapshot) Release()                             {}
