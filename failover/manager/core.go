package manager

import (
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/openhags/hags/failover/engine"
)

// machine is what the log drives: the failover engine (an interface so
// that the log's own tests can drive a simpler one).
type machine interface {
	Step(engine.Input) []engine.Output
	Snapshot() []byte
	KnownNodes() []engine.NodeID
}

// evKind says what a notification of the log group is.
type evKind uint8

const (
	evJoin     evKind = 1 // providers joined (an approved join)
	evLeave    evKind = 2 // providers left (an approved leave, failure leave or expel)
	evMessage  evKind = 3 // a provider message protocol was approved
	evRejected evKind = 4 // a provider message protocol was rejected
	evNPhase   evKind = 5 // phase 1 of a provider message protocol: vote
)

// event is one notification of the log group, in the order Group Services
// delivers it to every member. Nodes are the joiners or leavers, Members
// the providers' nodes after the change.
type event struct {
	Kind    evKind
	Nodes   []engine.NodeID
	Members []engine.NodeID
	Why     []engine.Departure // evLeave: one per node of Nodes
	Msg     *message
}

// ordered reports whether e takes a position in the log: every approved
// protocol does; a rejection and a phase notification do not (Group
// Services runs one protocol at a time in a group, so the position of the
// next approval is known when its phase notification arrives).
func (e *event) ordered() bool { return e.Kind == evJoin || e.Kind == evLeave || e.Kind == evMessage }

// memberInfo is what the log knows of one member of the group. Run is
// the run of the member's core (core.inc), from its announcement; a state
// transfer is made only for members whose run is known, and only for that
// run.
type memberInfo struct {
	Node    engine.NodeID `msgpack:"n"`
	JoinPos uint64        `msgpack:"j"`
	Synced  bool          `msgpack:"s"`
	Run     uint64        `msgpack:"r,omitempty"`
}

// partial is a batch or state transfer whose chunks are arriving.
type partial struct {
	Kind   msgKind         `msgpack:"k"`
	ID     batchID         `msgpack:"id"`
	Chunks uint32          `msgpack:"n"`
	Next   uint32          `msgpack:"x"`
	Data   []byte          `msgpack:"d"`
	For    []engine.NodeID `msgpack:"for,omitempty"`
	ForRun []uint64        `msgpack:"forrun,omitempty"`
}

// book is the log's agreed bookkeeping: every synced member holds the same
// one after each ordered notification, and a state transfer carries it.
type book struct {
	At      position      `msgpack:"at"`
	Members []*memberInfo `msgpack:"m"` // by node
	Partial []*partial    `msgpack:"p"`
	Applied []batchID     `msgpack:"a"` // the last batch applied per node
}

func (b *book) member(n engine.NodeID) *memberInfo {
	for _, m := range b.Members {
		if m.Node == n {
			return m
		}
	}
	return nil
}

func (b *book) partial(k msgKind, id batchID) (int, *partial) {
	for i, p := range b.Partial {
		if p.Kind == k && p.ID == id {
			return i, p
		}
	}
	return -1, nil
}

func (b *book) dropPartial(i int) { b.Partial = slices.Delete(b.Partial, i, i+1) }

// transfer is the body of a state transfer.
type transfer struct {
	Book   *book  `msgpack:"book"`
	Engine []byte `msgpack:"eng"`
	// Formation: the state comes from the newest member's disk and starts
	// a new epoch; else it is the live state as of Book.At.
	Formation bool `msgpack:"form,omitempty"`
}

// announcement is a forming member's durable position and the nodes its
// state knows.
type announcement struct {
	At    position
	Known []engine.NodeID
}

// effects is what the core asks of the manager around it, synchronously,
// from the manager's run loop.
type effects interface {
	// propose sends m on the log group: n-phase for batches.
	propose(m *message, nphase bool)
	// vote answers the phase notification the core was shown.
	vote(approve bool)
	// record appends rec to the write-ahead log; sync forces it (and
	// everything before it) to disk before returning.
	record(rec *walRecord, sync bool) error
	// install replaces the durable state with eng at position at.
	install(at position, eng []byte) error
	// outputs carries out what the engine asked (live is false while
	// history is replayed: nothing is carried out then).
	outputs(outs []engine.Output, live bool)
	// synced tells the manager that it holds the agreed state from now on.
	synced(formation bool)
}

// core turns the log group's notifications into engine steps, the same on
// every member, and owns the engine. It is not safe for concurrent use:
// the manager's run loop calls it.
type core struct {
	self engine.NodeID
	inc  uint64 // this run of the core (a new one per session), for the IDs of its messages
	log  *slog.Logger
	fx   effects

	// restore builds an engine from a snapshot (nil: a new engine).
	restore func([]byte) (machine, error)
	eng     machine

	// disk is the durable position of eng as loaded from disk, until the
	// group's state replaces it: what this member announces.
	disk position

	member bool // a provider of the group
	synced bool // eng and bk are the group's agreed state
	bk     *book

	// While not synced: every notification since this member's join, to
	// replay once a state transfer arrives; the membership after the last
	// change, and (forming) the announcements made since.
	buffer   []event
	current  []engine.NodeID
	round    map[engine.NodeID]announcement
	sentForm bool
	// formInFlight names a formation transfer under way; others holds the
	// members known to hold the state (a transfer this member could not
	// use completed for them): while any is present, nobody forms.
	formInFlight *batchID
	others       []engine.NodeID

	sending  bool   // this member is sending a state transfer
	transfer uint64 // transfers sent by this run
}

func newCore(self engine.NodeID, inc uint64, eng machine, disk position, restore func([]byte) (machine, error), fx effects, log *slog.Logger) *core {
	return &core{self: self, inc: inc, eng: eng, disk: disk, restore: restore, fx: fx, log: log, bk: &book{}}
}

// restart readies the core for a new session of node self: it is no
// longer a member, and what it held when synced becomes what it
// announces; what it buffered in the last session is dropped.
func (c *core) restart(self engine.NodeID) {
	// A new run: what was meant for the last session's member is not for
	// this one.
	c.inc++
	if c.synced {
		// Every input stepped up to bk.At is in the write-ahead log: the
		// engine is the durable state at that position.
		c.disk = c.bk.At
	}
	c.self = self
	c.member, c.synced = false, false
	c.bk = &book{}
	c.buffer, c.current, c.round, c.sentForm = nil, nil, nil, false
	c.formInFlight, c.others, c.sending = nil, nil, false
}

// errNotMember is returned for notifications before this member's own
// join (the group's earlier protocols still finishing).
var errNotMember = errors.New("manager: notification before this member's join")

// handle processes one notification of the log group.
func (c *core) handle(e *event) error {
	if !c.member {
		if e.Kind != evJoin || !slices.Contains(e.Nodes, c.self) {
			return errNotMember
		}
		c.member = true
		c.log.Info("joined the managers' group", "members", e.Members)
	}
	switch {
	case e.Kind == evNPhase:
		return c.phase(e)
	case !c.synced:
		return c.unsynced(e)
	}
	return c.step(e, true)
}

// phase votes on phase 1 of a message protocol. A synced member makes a
// batch chunk durable first: that is the promise an approval rests on.
func (c *core) phase(e *event) error {
	m := e.Msg
	if m == nil || m.Kind != msgBatch || !c.synced {
		c.fx.vote(true)
		return nil
	}
	rec := &walRecord{Kind: recChunk, At: position{c.bk.At.Epoch, c.bk.At.Pos + 1}, Msg: m}
	if err := c.fx.record(rec, true); err != nil {
		c.log.Error("cannot make a batch durable; voting reject", "err", err)
		c.fx.vote(false)
		return nil
	}
	c.fx.vote(true)
	return nil
}

// step applies one notification to the agreed state (synced members); live
// is false while notifications buffered before a state transfer are
// replayed.
func (c *core) step(e *event, live bool) error {
	if !e.ordered() {
		return nil // a rejected batch: its chunk record stays unapplied
	}
	c.bk.At.Pos++
	switch e.Kind {
	case evJoin:
		var ins []engine.Input
		for _, n := range e.Nodes {
			if c.bk.member(n) == nil {
				c.bk.Members = append(c.bk.Members, &memberInfo{Node: n, JoinPos: c.bk.At.Pos})
			}
			ins = append(ins, engine.Input{Kind: engine.InNodeJoining, From: n})
		}
		slices.SortFunc(c.bk.Members, func(a, b *memberInfo) int { return int(a.Node) - int(b.Node) })
		c.apply(batchID{}, ins, live)
	case evLeave:
		var ins []engine.Input
		for i, n := range e.Nodes {
			c.bk.Members = slices.DeleteFunc(c.bk.Members, func(m *memberInfo) bool { return m.Node == n })
			c.bk.Partial = slices.DeleteFunc(c.bk.Partial, func(p *partial) bool { return p.ID.Node == n })
			why := engine.DepartProcess
			if i < len(e.Why) {
				why = e.Why[i]
			}
			ins = append(ins, engine.Input{Kind: engine.InNodeDown, Down: &engine.NodeDown{Node: n, Why: why}})
		}
		c.apply(batchID{}, ins, live)
		if c.sending && !slices.ContainsFunc(c.bk.Partial, func(p *partial) bool { return p.Kind == msgState }) {
			c.sending = false
		}
	case evMessage:
		c.message(e.Msg, live)
	}
	if live {
		c.maybeSendState()
	}
	return nil
}

// apply steps inputs and logs them, so that a replay of the log reaches the
// same state. Batch inputs are stepped once per batch ID, and only those
// that name the batch's node as their origin.
func (c *core) apply(id batchID, ins []engine.Input, live bool) {
	if len(ins) == 0 {
		return
	}
	if err := c.fx.record(&walRecord{Kind: recInputs, At: c.bk.At, Batch: id, Inputs: ins}, false); err != nil {
		c.log.Error("cannot log applied inputs", "at", c.bk.At, "err", err)
	}
	for _, in := range ins {
		c.fx.outputs(c.eng.Step(in), live)
	}
}

// message handles an approved message (synced members).
func (c *core) message(m *message, live bool) {
	if m == nil {
		return
	}
	if m.Kind == msgAnnounce {
		// A member waiting for the state says which run of its core it
		// is: a transfer is made for that run.
		if mi := c.bk.member(m.ID.Node); mi != nil && !mi.Synced {
			mi.Run = m.ID.Inc
		}
		return
	}
	p, done := c.gather(m)
	if !done {
		return
	}
	switch m.Kind {
	case msgBatch:
		c.applyBatch(m.ID, p.Data, live)
	case msgState:
		if m.Form {
			break // a formation is for members without state; ours stands
		}
		// The members it was for hold the state from now on; members that
		// joined while it was sent (a later run of one of those nodes
		// included) wait for the next one.
		for i, n := range p.For {
			if mi := c.bk.member(n); mi != nil && i < len(p.ForRun) && mi.Run == p.ForRun[i] {
				mi.Synced = true
			}
		}
		if m.ID.Node == c.self {
			c.sending = false
		}
	}
}

// gather adds chunk m to its partial and returns the partial once its last
// chunk is in (and drops it from the book). A chunk out of order drops the
// partial: its proposer started it again.
func (c *core) gather(m *message) (*partial, bool) {
	i, p := c.bk.partial(m.Kind, m.ID)
	if m.Chunk == 0 {
		if i >= 0 {
			c.bk.dropPartial(i)
		}
		p = &partial{Kind: m.Kind, ID: m.ID, Chunks: m.Chunks, For: m.For, ForRun: m.ForRun}
		c.bk.Partial = append(c.bk.Partial, p)
		i = len(c.bk.Partial) - 1
	}
	if p == nil || m.Chunks != p.Chunks || m.Chunk != p.Next {
		if i >= 0 {
			c.bk.dropPartial(i)
		}
		return nil, false
	}
	p.Data = append(p.Data, m.Data...)
	p.Next++
	if p.Next < p.Chunks {
		return nil, false
	}
	c.bk.dropPartial(i)
	return p, true
}

// applyBatch steps the inputs of batch id, at most once.
func (c *core) applyBatch(id batchID, data []byte, live bool) {
	for i, last := range c.bk.Applied {
		if last.Node != id.Node {
			continue
		}
		if last.Inc == id.Inc && last.Seq >= id.Seq {
			c.log.Debug("batch applied before; skipped", "batch", id)
			return
		}
		c.bk.Applied[i] = id
		goto decode
	}
	c.bk.Applied = append(c.bk.Applied, id)
decode:
	var ins []engine.Input
	if err := decode(data, &ins); err != nil {
		c.log.Error("undecodable batch; skipped", "batch", id, "err", err)
		return
	}
	ok := ins[:0]
	for _, in := range ins {
		if in.From != id.Node {
			c.log.Warn("batch input names another node; skipped", "batch", id, "from", in.From)
			continue
		}
		ok = append(ok, in)
	}
	c.apply(id, ok, live)
}

// maybeSendState starts a state transfer when this member is the lowest
// synced one and some member waits for the state.
func (c *core) maybeSendState() {
	if c.sending || !c.synced {
		return
	}
	var waiting []engine.NodeID
	for _, m := range c.bk.Members {
		if m.Synced && m.Node < c.self {
			return // a lower member sends
		}
		if !m.Synced && m.Run != 0 {
			waiting = append(waiting, m.Node)
		}
	}
	if len(waiting) > 0 && !slices.ContainsFunc(c.bk.Partial, func(p *partial) bool { return p.Kind == msgState }) {
		c.sendState(waiting, false)
	}
}

// sendState proposes this member's state to the members in forNodes.
func (c *core) sendState(forNodes []engine.NodeID, formation bool) {
	body, err := encode(&transfer{Book: c.bk, Engine: c.eng.Snapshot(), Formation: formation})
	if err != nil {
		c.log.Error("cannot encode a state transfer", "err", err)
		return
	}
	var runs []uint64
	if !formation {
		for _, n := range forNodes {
			runs = append(runs, c.bk.member(n).Run)
		}
	}
	c.sending = true
	c.transfer++
	ms := chunks(msgState, batchID{Node: c.self, Inc: c.inc, Seq: c.transfer}, body)
	for _, m := range ms {
		m.For, m.ForRun, m.Form = forNodes, runs, formation
		c.fx.propose(m, false)
	}
	c.log.Info("sending the state", "to", forNodes, "at", c.bk.At, "bytes", len(body), "chunks", len(ms), "formation", formation)
}

// unsynced handles a notification before this member holds the state.
func (c *core) unsynced(e *event) error {
	if e.Kind == evRejected {
		return nil
	}
	c.buffer = append(c.buffer, *e)
	if e.Kind == evJoin || e.Kind == evLeave {
		c.current = slices.Clone(e.Members)
		c.others = slices.DeleteFunc(c.others, func(n engine.NodeID) bool { return !slices.Contains(c.current, n) })
		if c.formInFlight != nil && !slices.Contains(c.current, c.formInFlight.Node) {
			c.formInFlight = nil // its sender left: it will never complete
		}
		c.round = map[engine.NodeID]announcement{}
		c.sentForm = false
		c.announce()
		return c.checkFormation()
	}
	m := e.Msg
	switch {
	case m == nil:
	case m.Kind == msgAnnounce:
		// Only an announcement made for the current membership counts: one
		// made before the last change may come from a member that has
		// formed the cluster or got the state since (synced members do not
		// announce), and counting it would form a second cluster beside
		// theirs.
		if c.round != nil && slices.Contains(c.current, m.ID.Node) && slices.Equal(m.Members, sortedNodes(c.current)) {
			c.round[m.ID.Node] = announcement{At: m.At, Known: m.Known}
		}
		return c.checkFormation()
	case m.Kind == msgState:
		if m.Form && m.Chunk == 0 {
			id := m.ID
			c.formInFlight = &id
		}
		if m.Chunk+1 < m.Chunks {
			return nil
		}
		if c.formInFlight != nil && *c.formInFlight == m.ID {
			c.formInFlight = nil
		}
		if m.Form && len(c.others) > 0 {
			// Members hold the state already (a formation completed for
			// them, or they were sent it): they ignore this formation,
			// proposed before theirs completed, and so does this member.
			return nil
		}
		installed, err := c.tryInstall(m)
		if err != nil || installed {
			return err
		}
		if m.Form {
			// The cluster formed here without this member: the new epoch's
			// positions start after this notification, and so does what
			// this member will replay after its own transfer (formed gives
			// it JoinPos 1). The formed members never saw this member's
			// announcement (they dropped what they buffered): it announces
			// itself again, so that they learn its run and send it the state.
			c.buffer = nil
			c.announce()
		}
		// It completed for others: they hold the state now.
		for _, n := range m.For {
			if slices.Contains(c.current, n) && !slices.Contains(c.others, n) {
				c.others = append(c.others, n)
			}
		}
	}
	return nil
}

// announce tells the group this member's durable position and the run of
// its core, for the current membership. Synced members note the run of a member waiting for the state
// (a transfer is made for that run); members forming a cluster pick the
// newest position.
func (c *core) announce() {
	var known []engine.NodeID
	if c.eng != nil {
		known = c.eng.KnownNodes()
	}
	c.fx.propose(&message{Kind: msgAnnounce, ID: batchID{Node: c.self, Inc: c.inc}, Chunks: 1, At: c.disk, Known: known,
		Members: sortedNodes(c.current)}, false)
}

// sortedNodes returns a sorted copy of nodes.
func sortedNodes(nodes []engine.NodeID) []engine.NodeID {
	out := slices.Clone(nodes)
	slices.Sort(out)
	return out
}

// checkFormation: once every current member has announced since the last
// membership change and no member is synced (nobody sent a transfer), and
// the members present are a majority of the nodes the newest state knows,
// the member holding the newest state sends it.
func (c *core) checkFormation() error {
	if c.sentForm || c.round == nil || len(c.current) == 0 || c.formInFlight != nil || len(c.others) > 0 {
		return nil
	}
	best := c.current[0]
	for _, n := range c.current {
		a, ok := c.round[n]
		if !ok {
			return nil
		}
		b := c.round[best]
		if b.At.less(a.At) || a.At == b.At && n < best {
			best = n
		}
	}
	if known := c.round[best].Known; len(known) > 0 {
		present := 0
		for _, n := range known {
			if slices.Contains(c.current, n) {
				present++
			}
		}
		if present < len(known)/2+1 {
			c.log.Info("forming: waiting for managers of a majority of the known nodes",
				"present", present, "known", known, "newest", best)
			return nil
		}
	}
	c.sentForm = true
	if best != c.self {
		return nil
	}
	if c.eng == nil {
		eng, err := c.restore(nil)
		if err != nil {
			return err
		}
		c.setEngine(eng)
	}
	c.bk = &book{At: c.disk}
	c.sendState(slices.Clone(c.current), true)
	return nil
}

// tryInstall installs a completed state transfer if this member saw all of
// it and was one of those it was for, then replays what followed.
func (c *core) tryInstall(last *message) (bool, error) {
	var data []byte
	start := -1
	for i := range c.buffer {
		ev := &c.buffer[i]
		if ev.Kind != evMessage || ev.Msg == nil || ev.Msg.Kind != msgState || ev.Msg.ID != last.ID {
			continue
		}
		if ev.Msg.Chunk == 0 {
			start, data = i, nil
		}
		if start >= 0 {
			data = append(data, ev.Msg.Data...)
		}
	}
	i := slices.Index(last.For, c.self)
	if start < 0 || i < 0 || !last.Form && (i >= len(last.ForRun) || last.ForRun[i] != c.inc) {
		return false, nil // joined after it began, or not for this run of ours: wait for the next
	}
	forNodes := last.For
	var t transfer
	if err := decode(data, &t); err != nil || t.Book == nil {
		return false, fmt.Errorf("manager: bad state transfer from node %d: %v", last.ID.Node, err)
	}
	eng, err := c.restore(t.Engine)
	if err != nil {
		return false, fmt.Errorf("manager: state transfer from node %d: %w", last.ID.Node, err)
	}
	buffered := c.buffer
	c.setEngine(eng)
	c.bk = t.Book
	c.buffer, c.round = nil, nil
	if t.Formation {
		return true, c.formed(forNodes)
	}
	me := c.bk.member(c.self)
	if me == nil {
		return false, fmt.Errorf("manager: state transfer from node %d does not list this member", last.ID.Node)
	}
	if err := c.fx.install(c.bk.At, t.Engine); err != nil {
		return false, err
	}
	c.disk, c.synced = position{}, true
	// The buffer holds every notification since this member's join, the
	// ordered ones at positions JoinPos, JoinPos+1, ...: replay those
	// after the snapshot's position (the transfer's last chunk among them,
	// which marks this member synced in everyone's book).
	pos := me.JoinPos
	for i := range buffered {
		ev := &buffered[i]
		if !ev.ordered() {
			continue
		}
		if pos > c.bk.At.Pos {
			if err := c.step(ev, false); err != nil {
				return true, err
			}
		}
		pos++
	}
	if err := c.fx.record(nil, true); err != nil {
		return true, err
	}
	c.log.Info("holding the cluster's state", "at", c.bk.At)
	c.fx.synced(false)
	c.maybeSendState()
	return true, nil
}

// formed starts a new epoch from the newest durable state, on every member
// that saw the whole formation transfer. At this point (the transfer's
// last chunk) the members are c.current: those the transfer was for are
// synced; any that joined while it was sent wait for a transfer of their
// own. The engine forgets what ran where until each node probes.
func (c *core) formed(forNodes []engine.NodeID) error {
	at := position{Epoch: c.bk.At.Epoch + 1}
	c.bk = &book{At: at}
	for _, n := range c.current {
		mi := &memberInfo{Node: n, Synced: slices.Contains(forNodes, n)}
		if !mi.Synced {
			mi.JoinPos = at.Pos + 1 // it dropped what it buffered before this point (unsynced)
		}
		c.bk.Members = append(c.bk.Members, mi)
	}
	slices.SortFunc(c.bk.Members, func(a, b *memberInfo) int { return int(a.Node) - int(b.Node) })
	// The reset and the members' joins are the new epoch's first state,
	// at its position 0: they are stepped, then that state is made
	// durable in one snapshot (a crash before it leaves the old state on
	// disk), and only then are their outputs carried out. Logged as
	// inputs at position 0 instead, a replay would skip them as older
	// than the snapshot.
	ins := []engine.Input{{Kind: engine.InReset}}
	for _, m := range c.bk.Members {
		ins = append(ins, engine.Input{Kind: engine.InNodeJoining, From: m.Node})
	}
	var outs [][]engine.Output
	for _, in := range ins {
		outs = append(outs, c.eng.Step(in))
	}
	if err := c.fx.install(at, c.eng.Snapshot()); err != nil {
		return err
	}
	c.disk, c.synced, c.current, c.others, c.sending = position{}, true, nil, nil, false
	for _, o := range outs {
		c.fx.outputs(o, true)
	}
	c.log.Info("the cluster formed anew", "epoch", at.Epoch, "members", forNodes)
	c.fx.synced(true)
	c.maybeSendState()
	return nil
}

// swapLocked is a machine whose readers on other goroutines hold a lock:
// the core replaces it while holding that lock.
type swapLocked interface {
	// lockForSwap takes the readers' lock and returns its release.
	lockForSwap() (unlock func())
}

// setEngine replaces the core's engine. Readers on other goroutines (the
// lease's, the management socket's) reach the engine under its lock, so
// the field is written under that lock too.
func (c *core) setEngine(eng machine) {
	if l, ok := eng.(swapLocked); ok {
		unlock := l.lockForSwap()
		defer unlock()
	}
	c.eng = eng
}
