package agreement

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/raft"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/chanlock"
	"github.com/openhags/hags/internal/wire"
)

// Batching, pipelining and retry bounds of the forwarder.
const (
	// maxBatchEvents and maxBatchBytes bound one EntryEvents.
	maxBatchEvents = 256
	maxBatchBytes  = 2 << 20
	// maxInFlight bounds the entries a forwarder has sent and the log has
	// not answered yet (raft's MaxAppendEntries, so that one group commit
	// can take them all).
	maxInFlight = 32
	// maxForwardFrame bounds one forwarding frame's payload.
	maxForwardFrame = 16 << 20
	// MaxQueueBytes bounds the events a daemon has queued for the log and
	// not yet handed to the leader (counted as eventSize counts them).
	// SubmitWait blocks while the queue is full; docs/limits.md explains
	// the number.
	MaxQueueBytes = 32 << 20
	// retryMin and retryMax bound the pause before an entry is sent again
	// after a failure (no leader, leader lost, connection broken).
	retryMin = 10 * time.Millisecond
	retryMax = 200 * time.Millisecond
)

// forwardReply is the leader's answer to one forwarded entry.
type forwardReply struct {
	Status ApplyStatus `msgpack:"s,omitempty"`
	Epoch  uint64      `msgpack:"e,omitempty"`
	// Err is set when the entry was not applied and should be sent again
	// (the receiver is not the leader, lost leadership, or is not ready to
	// admit the node yet).
	Err string `msgpack:"err,omitempty"`
}

var (
	errNotLeader  = errors.New("agreement: not the leader")
	errNoLeader   = errors.New("agreement: no leader known")
	errNotAlive   = errors.New("agreement: the leader does not see this node alive yet")
	errOutOfOrder = errors.New("agreement: an entry before this one was lost on its way")
	errStalled    = errors.New("agreement: no answer from the log in time")
	errBadReply   = errors.New("agreement: a forwarding reply nobody asked for")
)

// Forwarding messages travel in internal/wire's frames (length, version,
// type, msgpack body), with the two message types of their own protocol
// and its larger bound, maxForwardFrame.
const (
	msgEntry wire.MsgType = 1 // follower → leader: an Entry
	msgReply wire.MsgType = 2 // leader → follower: a forwardReply
)

// newForwardReader reads forwarding frames of type want from r; a frame
// of any other type ends the connection.
func newForwardReader(r io.Reader, want wire.MsgType) *wire.Reader {
	return wire.NewReaderWithin(r, func(t wire.MsgType) bool { return t == want }, maxForwardFrame)
}

// writeFrame writes v as one forwarding frame of type t, in one Write.
func writeFrame(w io.Writer, t wire.MsgType, v any) error {
	b, err := wire.AppendFrameWithin(nil, t, v, maxForwardFrame)
	if err != nil {
		return fmt.Errorf("agreement: %w", err)
	}
	_, err = w.Write(b)
	return err
}

// readFrame reads the next forwarding frame from r into v (wire.Decode:
// its shape checked before anything is allocated).
func readFrame(r *wire.Reader, v any) error {
	_, body, err := r.Next()
	if err != nil {
		return err
	}
	return wire.Decode(body, v)
}

// serveForward serves one follower's forwarding connection on the leader.
// The follower keeps several entries in flight: each is appended as it is
// read (raft then commits what arrived together as one group) and
// answered, in order, by a second goroutine once it is applied (or
// refused). After a refused entry nothing more is read from the
// connection, and it is closed once the answers before it are written:
// the follower sends that entry again, with what followed it, on a new
// one.
//
// Over TLS the sender's certificate names its node, and an entry for any
// other node is refused: logged, answered with an error, never appended,
// and the connection closed. Without TLS (a domain without keys) the
// sender is not known and every entry is taken as it claims.
func (a *Agreement) serveForward(c net.Conn) {
	who, bound, err := peerOf(c)
	if err != nil {
		a.log.Warn("forwarding connection refused", "remote", c.RemoteAddr().String(), "err", err)
		return
	}
	replies := make(chan pendingReply, maxInFlight)
	answered := make(chan struct{})
	go func() { // ends before serveForward returns
		defer close(answered)
		a.answerForwarded(c, replies)
	}()
	defer func() {
		close(replies)
		<-answered
	}()
	r := newForwardReader(c, msgEntry)
	for {
		var e Entry
		if err := readFrame(r, &e); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				a.log.Debug("forwarding connection ended", "remote", c.RemoteAddr(), "err", err)
			}
			return
		}
		if bound {
			if err := who.checkEntry(&e); err != nil {
				a.log.Warn("forwarded entry refused; connection closed", "remote", c.RemoteAddr().String(), "err", err)
				replies <- pendingReply{rep: forwardReply{Err: err.Error()}}
				return
			}
		}
		p := a.leaderAppendAsync(&e)
		replies <- p
		if p.refused() {
			return
		}
	}
}

// answerForwarded writes the answers of one forwarding connection, in the
// order its entries arrived, each once it is known. After an error it
// closes the connection (the reader then stops) and only drains.
func (a *Agreement) answerForwarded(c net.Conn, replies <-chan pendingReply) {
	failed := false
	for p := range replies {
		if failed {
			continue
		}
		rep := p.wait()
		c.SetWriteDeadline(time.Now().Add(a.cfg.Timing.Apply))
		if err := writeFrame(c, msgReply, &rep); err != nil || rep.Err != "" {
			failed = true
			c.Close()
			continue
		}
		c.SetWriteDeadline(time.Time{})
	}
}

// pendingReply is the leader's answer to one entry: known at once (an
// entry refused before raft saw it), or when raft's future resolves.
type pendingReply struct {
	rep forwardReply
	fut raft.ApplyFuture // nil: rep is the answer
}

// refused reports whether the entry was refused before it was appended.
func (p pendingReply) refused() bool { return p.fut == nil && p.rep.Err != "" }

// wait returns the answer, waiting for raft when it must.
func (p pendingReply) wait() forwardReply {
	if p.fut == nil {
		return p.rep
	}
	if err := p.fut.Error(); err != nil {
		return forwardReply{Err: fmt.Sprintf("agreement: append: %v", err)}
	}
	res, _ := p.fut.Response().(ApplyResult)
	return forwardReply{Status: res.Status, Epoch: res.Epoch}
}

// leaderAppendAsync appends a node's entry on this daemon, if it leads,
// stamped with the leader's time, without waiting for it to be applied.
func (a *Agreement) leaderAppendAsync(e *Entry) pendingReply {
	refuse := func(msg string) pendingReply { return pendingReply{rep: forwardReply{Err: msg}} }
	if e.Kind != EntryAdmit && e.Kind != EntryEvents {
		return refuse(fmt.Sprintf("entries of kind %s are not forwarded", e.Kind))
	}
	if a.raft.State() != raft.Leader {
		return refuse(errNotLeader.Error())
	}
	if e.Kind == EntryAdmit && a.cfg.AdmitCheck != nil && !a.cfg.AdmitCheck(e.Node, e.Inc) {
		return refuse(errNotAlive.Error())
	}
	e.Time = a.stamp()
	data, err := encodeEntry(e)
	if err != nil {
		return refuse(err.Error())
	}
	return pendingReply{fut: a.raft.Apply(data, a.cfg.Timing.Apply)}
}

// append stamps e with the leader's clock and applies it through raft,
// waiting until it is applied here.
func (a *Agreement) append(e *Entry) (ApplyResult, error) {
	e.Time = a.stamp()
	data, err := encodeEntry(e)
	if err != nil {
		return ApplyResult{}, err
	}
	f := a.raft.Apply(data, a.cfg.Timing.Apply)
	// raft's leader loop may take the entry and shut down without ever
	// answering it (its future has no shutdown channel), so the wait ends
	// with the agreement too: a Close once hung for 11 minutes in a
	// fresh-clone make test, waiting for the forwarder that waited here.
	done := make(chan error, 1)
	go func() { done <- f.Error() }() // ends when raft answers; after a shutdown, perhaps never
	select {
	case err := <-done:
		if err != nil {
			return ApplyResult{}, fmt.Errorf("agreement: append %s: %w", e.Kind, err)
		}
	case <-a.ctx.Done():
		return ApplyResult{}, fmt.Errorf("agreement: append %s: %w", e.Kind, raft.ErrRaftShutdown)
	}
	res, _ := f.Response().(ApplyResult)
	return res, nil
}

// stamp returns the leader's time for a new entry, never earlier than the
// previous stamp of this daemon.
func (a *Agreement) stamp() int64 {
	a.stampMu.Lock()
	defer a.stampMu.Unlock()
	t := max(a.cfg.Now().UnixNano(), a.lastStamp+1)
	a.lastStamp = t
	return t
}

// forwarder queues this daemon's events and gets them into the log in
// order, exactly once. It numbers its entries (the sequence) and keeps up
// to maxInFlight of them in flight: appended directly when this daemon
// leads, else written to the leader over one forwarding connection,
// without waiting for the answer to one before sending the next.
//
// Answers come from two places: the leader's replies on the connection,
// and this daemon's own FSM, which applies every entry of the log and so
// also its own (the only answer when it leads). The FSM takes from a node
// only the next sequence of its incarnation and epoch, so an entry sent
// twice is applied once, and an entry whose predecessor was lost (a
// leader change between them) is refused as out of order. On any refusal,
// a broken connection, a change of leader, or no answer in time, the
// forwarder sends every unanswered entry again, in order, from the oldest
// (docs/design/domain.md, "Exactly once").
//
// submit, submitWait and reset may be called from any goroutine. Sending
// is done under sendMu by one goroutine at a time: a session's reader
// that finds nobody sending sends its own request and whatever is queued
// (pump), so that a request reaches raft without waking another
// goroutine; otherwise the forwarder's own goroutine (run) sends, and it
// alone waits, to send again after a failure.
type forwarder struct {
	a *Agreement

	mu        sync.Mutex
	pending   []protocol.Event
	queued    int           // bytes of pending, by eventSize
	room      chan struct{} // closed (and replaced) whenever pending shrinks
	gen       uint64        // bumped by reset: entries of an older generation are abandoned
	needAdmit bool
	epoch     uint64
	seq       uint64    // the last sequence handed out
	base      uint64    // the first sequence of this generation: answers below it are old
	admitSeq  uint64    // the admission in flight, 0 when none
	answered  uint64    // every entry up to this sequence is answered
	resend    error     // why the unanswered entries must be sent again; nil: no need
	slow      bool      // with resend: wait retryMax first
	waiting   bool      // run waits for answers (its window is full): answers wake it
	again     bool      // a pass was asked for while somebody was sending
	runWake   time.Time // when run's timer fires; zero: not armed
	wake      chan struct{}
	pipe      *pipe // the current way to the leader (run's; read here by its reader)

	// The sender's own, under sendMu: the forwarder's goroutine (run)
	// or a session's reader pumping its own request out (pump). Its
	// holder may wait long, in raft.Apply or writing to the leader, so
	// it is a chanlock.
	sendMu   *chanlock.Mutex
	running  bool // between run's start and its end: nothing is sent outside it
	runGen   uint64
	inflight []flight      // oldest first; compacted in place, so its array is reused
	retry    time.Duration // the next pause after a failure
	hold     time.Time     // nothing is sent before this, after a failure

	// resent counts the entries sent and then sent again after a failure.
	resent atomic.Uint64
}

// flight is one entry sent and not yet answered.
type flight struct {
	e    *Entry
	sent time.Time // zero: not sent on the current pipe yet
}

// pipe is the way the forwarder's entries go to the leader: appended here
// when this daemon leads (local), else a forwarding connection to the
// leader at addr, whose replies a reader goroutine takes.
type pipe struct {
	local  bool
	term   uint64 // local: the term this daemon leads in; an entry of an older term may be lost
	addr   raft.ServerAddress
	conn   net.Conn
	sent   []uint64      // sequences written and not answered on conn, oldest first (under forwarder.mu)
	closed bool          // closed by the forwarder (under forwarder.mu): the reader's end is no news
	done   chan struct{} // closed when the reader ends
}

func newForwarder(a *Agreement) *forwarder {
	return &forwarder{a: a, needAdmit: true, wake: make(chan struct{}, 1), room: make(chan struct{}),
		sendMu: chanlock.New()}
}

func (f *forwarder) signal() {
	select {
	case f.wake <- struct{}{}:
	default:
	}
}

// submit queues events; they go into the log after everything queued
// before them. It never blocks, even on a full queue: the daemon's own
// events (a session's start and end, a script's outcome) are bounded by
// its sessions and scripts, and must not wait behind the clients'.
func (f *forwarder) submit(evs ...protocol.Event) {
	f.mu.Lock()
	f.pending = append(f.pending, evs...)
	for i := range evs {
		f.queued += eventSize(&evs[i])
	}
	f.mu.Unlock()
	f.signal()
}

// submitWait queues ev like submit, but first waits while the queue holds
// MaxQueueBytes or more than ev can join: the caller (a session's reader)
// then stops reading its client. An event larger than the bound goes into
// an empty queue. It returns ctx's error, with ev not queued, when ctx
// ends first.
func (f *forwarder) submitWait(ctx context.Context, ev protocol.Event) error {
	size := eventSize(&ev)
	for {
		f.mu.Lock()
		if f.queued == 0 || f.queued+size <= MaxQueueBytes {
			f.pending = append(f.pending, ev)
			f.queued += size
			f.mu.Unlock()
			f.pump()
			return nil
		}
		room := f.room
		f.mu.Unlock()
		select {
		case <-room:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// queuedBytes returns the bytes queued and not yet handed to the leader.
func (f *forwarder) queuedBytes() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.queued
}

// freed wakes every submitWait after the queue shrank; the caller holds
// f.mu.
func (f *forwarder) freed() {
	close(f.room)
	f.room = make(chan struct{})
}

// reset drops every queued event and entry in flight and asks for a new
// admission: the daemon lost its place in the domain and its sessions
// with it.
func (f *forwarder) reset() {
	f.mu.Lock()
	f.gen++
	f.pending = nil
	f.queued = 0
	f.freed()
	f.needAdmit = true
	f.epoch = 0
	f.admitSeq = 0
	f.base = f.seq + 1
	f.resend = nil
	f.mu.Unlock()
	f.signal()
}

// answer takes the log's answer to entry seq: from the leader's reply, or
// from this daemon's FSM (which calls it on raft's FSM goroutine: it never
// blocks).
func (f *forwarder) answer(seq uint64, rep forwardReply) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answerLocked(seq, rep)
}

// answerLocked is answer under f.mu. Answers may come twice (the reply
// and the FSM) and out of turn between the two; an entry applied, or
// found a duplicate, answers every entry before it too, since the FSM
// takes a node's entries only in sequence.
func (f *forwarder) answerLocked(seq uint64, rep forwardReply) {
	if seq < f.base || seq <= f.answered {
		return // of an abandoned generation, or answered already
	}
	switch {
	case rep.Err != "":
		f.resend = errors.New(rep.Err)
	case seq == f.admitSeq:
		if rep.Status != StatusApplied && rep.Status != StatusDuplicate {
			// A newer incarnation of this node number holds its place
			// in the domain; the FSM tells the daemon it is out.
			f.resend, f.slow = fmt.Errorf("agreement: admission %s", rep.Status), true
			break
		}
		f.needAdmit, f.epoch, f.admitSeq, f.answered = false, rep.Epoch, 0, seq
	case rep.Status == StatusOutOfOrder:
		f.resend = errOutOfOrder
	default:
		// Applied, a duplicate, or stale: a stale events entry is
		// dropped (the node was declared down, which its own FSM
		// reports, and the daemon resets).
		f.answered = seq
		if !f.waiting {
			return
		}
	}
	f.signal()
}

// next builds the next entry to send, or returns nil when there is none:
// the admission, alone (inFlight is how many entries are in flight), or
// once admitted a batch of queued events.
func (f *forwarder) next(inFlight int) *Entry {
	f.mu.Lock()
	defer f.mu.Unlock()
	inc := f.a.cfg.Incarnation
	if f.needAdmit {
		if inFlight > 0 {
			return nil // the admission goes alone, and is answered before anything follows it
		}
		f.seq++
		f.admitSeq = f.seq
		return &Entry{Kind: EntryAdmit, Node: f.a.cfg.Node, Inc: inc, Seq: f.seq}
	}
	if f.epoch == 0 || len(f.pending) == 0 {
		return nil
	}
	n, size := 0, 0
	for n < len(f.pending) && n < maxBatchEvents {
		s := eventSize(&f.pending[n])
		if n > 0 && size+s > maxBatchBytes {
			break
		}
		size += s
		n++
	}
	evs := append([]protocol.Event(nil), f.pending[:n]...)
	f.pending = append(f.pending[:0:0], f.pending[n:]...)
	f.queued -= size
	f.freed()
	f.seq++
	return &Entry{Kind: EntryEvents, Node: f.a.cfg.Node, Inc: inc, Epoch: f.epoch, Seq: f.seq, Events: evs}
}

func eventSize(ev *protocol.Event) int {
	n := 128
	if r := ev.Request; r != nil {
		n += len(r.State) + len(r.Message) + 8*len(r.ExpelList) + len(r.Group) + len(r.LocalName)
		if r.DeactivateFlag != nil {
			n += len(*r.DeactivateFlag)
		}
	}
	if h := ev.Hello; h != nil {
		n += len(h.Program) + len(h.DeactivateScript)
	}
	return n
}

// stallAfter is how long an entry may wait for its answer before the
// forwarder sends it again (with everything after it).
func (f *forwarder) stallAfter() time.Duration { return f.a.cfg.Timing.Apply + f.a.cfg.Timing.Dial }

// run is the forwarder's goroutine: it sends what nobody pumped, and sends
// again after a failure or when answers are late, until ctx ends. It never
// waits for a pumping reader: when one is sending, run leaves the pass to
// it (pass).
func (f *forwarder) run(ctx context.Context) error {
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	f.sendMu.Lock()
	f.running = true
	f.sendMu.Unlock()
	for {
		if wakeAt, ok := f.pass(true); ok {
			timer.Stop()
			if !wakeAt.IsZero() {
				timer.Reset(time.Until(wakeAt))
			}
		}
		select {
		case <-f.wake:
		case <-timer.C:
		case <-ctx.Done():
			// No session reader pumps any more (the daemon closes its
			// sessions first), so this waits for nobody.
			f.sendMu.Lock()
			f.running = false
			f.closePipe(false)
			f.sendMu.Unlock()
			return nil
		}
	}
}

// pump sends from the calling goroutine (a session's reader that has just
// queued a request) when nobody else is sending: the request reaches raft,
// or the leader's connection, without waking another goroutine.
func (f *forwarder) pump() { f.pass(false) }

// pass makes one sending pass (step) if nobody else is sending, and again
// while others asked for one meanwhile; when somebody is, it leaves the
// pass to them and returns false. byRun says that the caller is run, whose
// timer fires at the returned time; a pumping caller wakes run when run
// must look sooner than its timer says.
func (f *forwarder) pass(byRun bool) (time.Time, bool) {
	if !f.sendMu.TryLock() {
		f.mu.Lock()
		f.again = true
		if byRun {
			f.runWake = time.Time{} // run waits for a signal alone now
		}
		f.mu.Unlock()
		return time.Time{}, false
	}
	var wakeAt time.Time
	for {
		wakeAt = f.step()
		f.mu.Lock()
		again := f.again
		f.again = false
		f.mu.Unlock()
		if !again {
			break
		}
	}
	f.sendMu.Unlock()
	f.mu.Lock()
	wakeRun := f.again // asked for after the last pass
	if byRun {
		f.runWake = wakeAt
	} else if !wakeAt.IsZero() && (f.runWake.IsZero() || wakeAt.Before(f.runWake)) {
		wakeRun = true
	}
	f.mu.Unlock()
	if wakeRun {
		f.signal()
	}
	return wakeAt, true
}

// step drops what the log has answered, sends again what must be, sends
// what is new while the window has room, and returns when the sender
// should look again (zero: on news only). The caller holds sendMu.
func (f *forwarder) step() time.Time {
	if !f.running {
		return time.Time{}
	}
	f.mu.Lock()
	if f.runGen != f.gen { // reset: what is in flight is abandoned
		f.runGen = f.gen
		f.inflight = nil
	}
	done := 0
	for done < len(f.inflight) && f.inflight[done].e.Seq <= f.answered {
		done++
	}
	left := copy(f.inflight, f.inflight[done:])
	clear(f.inflight[left:]) // the entries answered go to the collector
	f.inflight = f.inflight[:left]
	why, slow := f.resend, f.slow
	f.resend, f.slow = nil, false
	f.mu.Unlock()
	now := time.Now()
	if done > 0 || f.retry == 0 {
		f.retry = retryMin
	}
	if why == nil && len(f.inflight) > 0 && !f.inflight[0].sent.IsZero() && now.Sub(f.inflight[0].sent) >= f.stallAfter() {
		why = errStalled
	}
	if why != nil {
		f.failed(why, slow)
	}
	if !now.Before(f.hold) {
		if err := f.sendSome(); err != nil {
			f.failed(err, false)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.waiting = len(f.inflight) >= maxInFlight
	switch {
	case now.Before(f.hold):
		return f.hold
	case len(f.inflight) > 0 && !f.inflight[0].sent.IsZero():
		return f.inflight[0].sent.Add(f.stallAfter())
	}
	return time.Time{}
}

// failed closes the way to the leader after err, so that every entry in
// flight is sent again, in order, on a new one after a pause that grows
// up to retryMax (at once, when slow). The caller holds sendMu.
func (f *forwarder) failed(err error, slow bool) {
	if slow {
		f.retry = retryMax
	}
	if len(f.inflight) > 0 {
		f.a.log.Debug("entries not appended; will send them again", "from_seq", f.inflight[0].e.Seq,
			"entries", len(f.inflight), "err", err, "in", f.retry)
	}
	f.closePipe(true)
	f.hold = time.Now().Add(f.retry)
	f.retry = min(2*f.retry, retryMax)
}

// sendSome sends what is in flight and not sent on the current pipe, then
// new entries while the window has room.
func (f *forwarder) sendSome() error {
	if err := f.openPipe(); err != nil {
		if len(f.inflight) == 0 && !f.hasWork() {
			return nil // nobody to send anything to, and nothing to send
		}
		return err
	}
	for i := range f.inflight {
		if fl := &f.inflight[i]; fl.sent.IsZero() {
			if err := f.send(fl); err != nil {
				return err
			}
		}
	}
	for len(f.inflight) < maxInFlight {
		e := f.next(len(f.inflight))
		if e == nil {
			return nil
		}
		f.inflight = append(f.inflight, flight{e: e})
		if err := f.send(&f.inflight[len(f.inflight)-1]); err != nil {
			return err
		}
	}
	return nil
}

// hasWork reports whether next could build an entry now.
func (f *forwarder) hasWork() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.needAdmit || f.epoch != 0 && len(f.pending) > 0
}

// openPipe makes sure the current pipe leads to the leader: this daemon
// when it leads (in the current term: having lost and won leadership in
// between, what it appended before may be gone), else the leader's
// forwarding address. A pipe that leads elsewhere is closed, and what was
// sent on it is sent again.
func (f *forwarder) openPipe() error {
	a := f.a
	local := a.raft.State() == raft.Leader
	var addr raft.ServerAddress
	var term uint64
	if local {
		term = a.raft.CurrentTerm()
	} else {
		var id raft.ServerID
		addr, id = a.raft.LeaderWithID()
		if addr == "" {
			f.closePipe(true)
			return errNoLeader
		}
		if id == a.serverID {
			f.closePipe(true)
			return errNotLeader // stepping down
		}
	}
	f.mu.Lock()
	p := f.pipe
	f.mu.Unlock()
	if p != nil && p.local == local && p.addr == addr && p.term == term {
		return nil
	}
	f.closePipe(true)
	p = &pipe{local: local, term: term, addr: addr, done: make(chan struct{})}
	if local {
		close(p.done)
	} else {
		c, err := a.mux.dial(addr, streamForward, a.cfg.Timing.Dial)
		if err != nil {
			return fmt.Errorf("agreement: dial leader %s: %w", addr, err)
		}
		p.conn = c
		go f.readReplies(p, newForwardReader(c, msgReply)) // ends when closePipe closes c
	}
	f.mu.Lock()
	f.pipe = p
	f.mu.Unlock()
	return nil
}

// closePipe closes the current pipe, if any, and marks every entry in
// flight unsent; with resend, those that were sent count as resent (they
// go again on the next pipe).
func (f *forwarder) closePipe(resend bool) {
	f.mu.Lock()
	p := f.pipe
	f.pipe = nil
	if p != nil {
		p.closed = true
	}
	f.mu.Unlock()
	for i := range f.inflight {
		if resend && !f.inflight[i].sent.IsZero() {
			f.resent.Add(1)
		}
		f.inflight[i].sent = time.Time{}
	}
	if p == nil {
		return
	}
	if p.conn != nil {
		p.conn.Close()
	}
	<-p.done
}

// send sends one entry on the current pipe.
func (f *forwarder) send(fl *flight) error {
	f.mu.Lock()
	p := f.pipe
	f.mu.Unlock()
	if p.local {
		if r := f.a.leaderAppendAsync(fl.e); r.refused() {
			return errors.New(r.rep.Err)
		}
		// Its answer comes from the FSM; a lost leadership wakes the
		// forwarder (Agreement.lead), which then sends it again.
		fl.sent = time.Now()
		return nil
	}
	f.mu.Lock()
	p.sent = append(p.sent, fl.e.Seq)
	f.mu.Unlock()
	p.conn.SetWriteDeadline(time.Now().Add(f.a.cfg.Timing.Apply + f.a.cfg.Timing.Dial))
	if err := writeFrame(p.conn, msgEntry, fl.e); err != nil {
		return fmt.Errorf("agreement: forward to %s: %w", p.addr, err)
	}
	fl.sent = time.Now()
	return nil
}

// readReplies takes the leader's replies on p, in the order the entries
// were written, until the connection ends.
func (f *forwarder) readReplies(p *pipe, rd *wire.Reader) {
	defer close(p.done)
	for {
		var rep forwardReply
		err := readFrame(rd, &rep)
		f.mu.Lock()
		if err == nil && len(p.sent) == 0 {
			err = errBadReply
		}
		if err != nil {
			if !p.closed {
				f.resend = fmt.Errorf("agreement: forward to %s: %w", p.addr, err)
				f.signal()
			}
			f.mu.Unlock()
			return
		}
		seq := p.sent[0]
		p.sent = p.sent[1:]
		f.answerLocked(seq, rep)
		f.mu.Unlock()
	}
}
