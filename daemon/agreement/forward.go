package agreement

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// Batching and retry bounds of the forwarder.
const (
	// maxBatchEvents and maxBatchBytes bound one EntryEvents.
	maxBatchEvents = 256
	maxBatchBytes  = 2 << 20
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
	errNotLeader = errors.New("agreement: not the leader")
	errNoLeader  = errors.New("agreement: no leader known")
	errNotAlive  = errors.New("agreement: the leader does not see this node alive yet")
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

// serveForward serves one follower's forwarding connection on the leader:
// each request is an Entry, answered with a forwardReply once applied (or
// refused).
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
	r := newForwardReader(c, msgEntry)
	for {
		var e Entry
		if err := readFrame(r, &e); err != nil {
			if !errors.Is(err, io.EOF) && !errors.Is(err, net.ErrClosed) {
				a.log.Debug("forwarding connection ended", "remote", c.RemoteAddr(), "err", err)
			}
			return
		}
		var rep forwardReply
		refused := false
		if bound {
			if err := who.checkEntry(&e); err != nil {
				a.log.Warn("forwarded entry refused; connection closed", "remote", c.RemoteAddr().String(), "err", err)
				rep, refused = forwardReply{Err: err.Error()}, true
			}
		}
		if !refused {
			rep = a.leaderAppend(&e)
		}
		c.SetWriteDeadline(time.Now().Add(a.cfg.Timing.Apply))
		if err := writeFrame(c, msgReply, &rep); err != nil || refused {
			return
		}
		c.SetWriteDeadline(time.Time{})
	}
}

// leaderAppend appends a node's entry on this daemon, if it leads: stamped
// with the leader's time, waited for until applied here.
func (a *Agreement) leaderAppend(e *Entry) forwardReply {
	if e.Kind != EntryAdmit && e.Kind != EntryEvents {
		return forwardReply{Err: fmt.Sprintf("entries of kind %s are not forwarded", e.Kind)}
	}
	if a.raft.State() != raft.Leader {
		return forwardReply{Err: errNotLeader.Error()}
	}
	if e.Kind == EntryAdmit && a.cfg.AdmitCheck != nil && !a.cfg.AdmitCheck(e.Node, e.Inc) {
		return forwardReply{Err: errNotAlive.Error()}
	}
	res, err := a.append(e)
	if err != nil {
		return forwardReply{Err: err.Error()}
	}
	return forwardReply{Status: res.Status, Epoch: res.Epoch}
}

// append stamps e with the leader's clock and applies it through raft.
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
// order, exactly once: one entry at a time, each with the next sequence
// number, sent to the leader (or appended directly when this daemon
// leads) and sent again until the leader answers. The FSM drops an entry
// it has already applied (by sequence), so a retry after a lost answer is
// harmless; and since the next entry waits for the answer, sequences are
// never applied out of order.
type forwarder struct {
	a *Agreement

	mu        sync.Mutex
	pending   []protocol.Event
	queued    int           // bytes of pending, by eventSize
	room      chan struct{} // closed (and replaced) whenever pending shrinks
	gen       uint64        // bumped by reset: entries of an older generation are abandoned
	needAdmit bool
	epoch     uint64
	seq       uint64
	wake      chan struct{}

	conn     net.Conn // to the leader, when it is another daemon
	connAddr raft.ServerAddress
	rd       *wire.Reader
}

func newForwarder(a *Agreement) *forwarder {
	return &forwarder{a: a, needAdmit: true, wake: make(chan struct{}, 1), room: make(chan struct{})}
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
			f.signal()
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

// reset drops every queued event and asks for a new admission: the daemon
// lost its place in the domain and its sessions with it.
func (f *forwarder) reset() {
	f.mu.Lock()
	f.gen++
	f.pending = nil
	f.queued = 0
	f.freed()
	f.needAdmit = true
	f.epoch = 0
	f.mu.Unlock()
	f.signal()
}

// next builds the entry to send, or returns nil when there is nothing.
func (f *forwarder) next() (*Entry, uint64) {
	f.mu.Lock()
	defer f.mu.Unlock()
	inc := f.a.cfg.Incarnation
	if f.needAdmit {
		f.seq++
		return &Entry{Kind: EntryAdmit, Node: f.a.cfg.Node, Inc: inc, Seq: f.seq}, f.gen
	}
	if f.epoch == 0 || len(f.pending) == 0 {
		return nil, f.gen
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
	return &Entry{Kind: EntryEvents, Node: f.a.cfg.Node, Inc: inc, Epoch: f.epoch, Seq: f.seq, Events: evs}, f.gen
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

// run sends entries until ctx ends.
func (f *forwarder) run(ctx context.Context) error {
	defer f.closeConn()
	retry := retryMin
	var cur *Entry
	var curGen uint64
	for {
		if cur == nil {
			cur, curGen = f.next()
			if cur == nil {
				select {
				case <-f.wake:
					continue
				case <-ctx.Done():
					return nil
				}
			}
		}
		rep, err := f.send(ctx, cur)
		f.mu.Lock()
		if curGen != f.gen {
			cur = nil // abandoned by reset
			f.mu.Unlock()
			continue
		}
		if err == nil && rep.Err != "" {
			err = errors.New(rep.Err)
		}
		if err == nil && cur.Kind == EntryAdmit && rep.Status != StatusApplied && rep.Status != StatusDuplicate {
			// A newer incarnation of this node number holds its place
			// in the domain; the FSM tells the daemon it is out.
			err = fmt.Errorf("agreement: admission %s", rep.Status)
			retry = retryMax
		}
		if err != nil {
			f.mu.Unlock()
			f.a.log.Debug("entry not appended; will retry", "kind", cur.Kind, "seq", cur.Seq, "err", err, "in", retry)
			t := time.NewTimer(retry)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil
			}
			retry = min(2*retry, retryMax)
			continue
		}
		retry = retryMin
		if cur.Kind == EntryAdmit {
			f.needAdmit = false
			f.epoch = rep.Epoch
		}
		// A stale events entry is dropped: the node was declared down,
		// which its own FSM reports, and the daemon resets.
		cur = nil
		f.mu.Unlock()
	}
}

// send gets one entry appended: directly when this daemon leads, else by
// the leader over a forwarding connection.
func (f *forwarder) send(ctx context.Context, e *Entry) (forwardReply, error) {
	a := f.a
	if a.raft.State() == raft.Leader {
		f.closeConn()
		return a.leaderAppend(e), nil
	}
	addr, id := a.raft.LeaderWithID()
	if addr == "" {
		return forwardReply{}, errNoLeader
	}
	if id == a.serverID {
		return forwardReply{}, errNotLeader // stepping down
	}
	if f.conn == nil || f.connAddr != addr {
		f.closeConn()
		c, err := a.mux.dial(addr, streamForward, a.cfg.Timing.Dial)
		if err != nil {
			return forwardReply{}, fmt.Errorf("agreement: dial leader %s: %w", addr, err)
		}
		f.conn, f.connAddr, f.rd = c, addr, newForwardReader(c, msgReply)
	}
	c := f.conn
	stop := context.AfterFunc(ctx, func() { c.SetDeadline(time.Now()) })
	defer stop()
	c.SetDeadline(time.Now().Add(a.cfg.Timing.Apply + a.cfg.Timing.Dial))
	var rep forwardReply
	err := writeFrame(c, msgEntry, e)
	if err == nil {
		err = readFrame(f.rd, &rep)
	}
	if err != nil {
		f.closeConn()
		return forwardReply{}, fmt.Errorf("agreement: forward to %s: %w", addr, err)
	}
	c.SetDeadline(time.Time{})
	return rep, nil
}

func (f *forwarder) closeConn() {
	if f.conn != nil {
		f.conn.Close()
		f.conn, f.connAddr, f.rd = nil, "", nil
	}
}
