package daemon

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"

	"github.com/openhags/hags/daemon/ipc"
	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// Reasons a session ends without an error on the client's part.
var (
	errQuit      = errors.New("client quit")
	errAdminOnly = errors.New("admin sessions may only query")
	// errOutOfDomain: this daemon is cut off from the domain, or was
	// declared down, so it serves no client until admitted again.
	errOutOfDomain = errors.New("this node is not in the domain")
)

// refuseTimeout bounds the write of a Refused frame to a peer that may not
// be reading.
const refuseTimeout = time.Second

// session is one client connection after Hello. The connection's goroutine
// reads; a second goroutine writes what the run loop queues in out.
type session struct {
	id    protocol.ClientID
	cred  protocol.Cred
	hello wire.Hello
	admin bool
	conn  net.Conn
	out   *ipc.Outbox
	log   *slog.Logger

	// connected is closed by the run loop once the session's
	// EventConnect is queued for the log (or the session refused): the
	// reader queues nothing before it, so the connect comes first.
	connected chan struct{}

	// The reader goroutine's own: the client's token bucket, whether it
	// was logged as slowed, and every token the client named in a join
	// or subscription, with that request's group (see screen).
	limit  *rate.Limiter
	slowed bool
	tokens map[int32]string

	// flushRound is the apply path's batch that last queued a frame here
	// (Node.deliver's own).
	flushRound uint64

	quit      atomic.Bool       // OpQuit seen: the end is orderly, not a failure
	ended     atomic.Bool       // the daemon ended the session (endSession): nothing to order
	responds  chan wire.Respond // answers to responsiveness checks; nil: none asked for
	closeOnce sync.Once
	reason    error
}

// close ends the session for reason (the first reason wins and is logged):
// the connection is closed, which stops both of its goroutines.
func (s *session) close(reason error) {
	s.closeOnce.Do(func() {
		s.reason = reason
		switch {
		case errors.Is(reason, io.EOF):
			s.log.Info("client disconnected")
		case errors.Is(reason, errQuit):
			s.log.Info("client quit")
		case errors.Is(reason, net.ErrClosed):
			s.log.Debug("session closed by the daemon")
		default:
			s.log.Warn("closing client connection", "reason", reason.Error())
		}
		s.conn.Close()
		s.out.Close()
	})
}

// serveConn runs one connection from accept to close: admission, Hello,
// Welcome, then reading frames until the connection ends.
func (n *Node) serveConn(c net.Conn) {
	defer c.Close()
	log := n.log

	cred, err := n.cfg.Authorize(c)
	// Until it is a session, the connection counts as waiting, refused
	// peers included: a flood of connections that never say Hello, or
	// are refused, holds at most MaxWaitingConns goroutines.
	if !n.adm.wait(cred.Uid) {
		id := n.newFFDC()
		n.refusals.write(log, slog.LevelWarn, "connection refused: too many connections waiting for their hello",
			"uid", cred.Uid, "pid", cred.Pid, "ffdc_id", id)
		refuseWithin(c, waitingRefuseLinger, wire.NoMemory, "too many connections are waiting for their hello; try again", id)
		return
	}
	waiting := true
	doneWaiting := func() {
		if waiting {
			waiting = false
			n.adm.doneWaiting(cred.Uid)
		}
	}
	defer doneWaiting()
	if err != nil {
		id := n.newFFDC()
		n.refusals.write(log, slog.LevelInfo, "client refused", "uid", cred.Uid, "gid", cred.Gid, "pid", cred.Pid,
			"reason", err.Error(), "ffdc_id", id)
		refuse(c, wire.PermissionDenied, err.Error(), id)
		return
	}
	log = log.With("pid", cred.Pid, "uid", cred.Uid)

	r := wire.NewReader(c)
	hello, code, err := readHello(c, r)
	if err != nil {
		id := n.newFFDC()
		n.refusals.write(log, slog.LevelWarn, "bad first frame; connection refused", "reason", err.Error(), "ffdc_id", id)
		refuse(c, code, err.Error(), id)
		return
	}
	if hello.DeactivateScript != "" && !hello.Admin && n.cfg.CheckScript != nil {
		if err := n.cfg.CheckScript(hello.DeactivateScript, cred.Uid, cred.Gid); err != nil {
			// The reason goes to the log only: the client hears the same
			// words whatever failed, so that it learns nothing of files
			// it cannot see.
			id := n.newFFDC()
			log.Info("client refused: bad deactivate script", "script", hello.DeactivateScript, "reason", err.Error(), "ffdc_id", id)
			refuse(c, wire.BadParameter, scriptRefusal, id)
			return
		}
	}

	if !hello.Admin && n.state.Load() == stateDown {
		n.refusals.write(log, slog.LevelInfo, "client refused: this node is out of the domain")
		refuse(c, wire.NotOK, errOutOfDomain.Error(), "")
		return
	}

	count, limit := &n.clients, n.maxClients
	if hello.Admin {
		count, limit = &n.admins, MaxAdminSessions
	}
	if count.Add(1) > limit {
		count.Add(-1)
		id := n.newFFDC()
		n.refusals.write(log, slog.LevelWarn, "client refused: too many sessions", "limit", limit, "admin", hello.Admin, "ffdc_id", id)
		refuse(c, wire.NoMemory, fmt.Sprintf("daemon serves at most %d such sessions", limit), id)
		return
	}
	defer count.Add(-1)
	if !hello.Admin {
		if !n.adm.addSession(cred.Uid) {
			id := n.newFFDC()
			n.refusals.write(log, slog.LevelWarn, "client refused: too many sessions of this uid", "limit", n.adm.maxSessionsPerUid, "ffdc_id", id)
			refuse(c, wire.NoMemory, fmt.Sprintf("uid %d has %d sessions, the most one user may have", cred.Uid, n.adm.maxSessionsPerUid), id)
			return
		}
		defer n.adm.endSession(cred.Uid)
	}
	doneWaiting()

	id := protocol.ClientID{Node: n.cfg.Node, Conn: uint64(n.cfg.Incarnation)<<32 | uint64(n.nextConn.Add(1))}
	s := &session{
		id: id, cred: cred, hello: hello, admin: hello.Admin, conn: c,
		out:       ipc.NewOutbox(OutboxFrames, OutboxBytes),
		log:       log.With("client", id.Conn, "program", hello.Program, "admin", hello.Admin),
		connected: make(chan struct{}),
		limit:     rate.NewLimiter(rate.Limit(n.reqRate), n.reqBurst),
		tokens:    make(map[int32]string),
	}
	if s.admin {
		close(s.connected) // nothing of an admin session is ordered
	}
	welcome := wire.Welcome{Node: n.cfg.Node, Client: id.Conn, Domain: n.cfg.Domain, Incarnation: uint64(n.cfg.Incarnation),
		Adapters: n.adapters, NodeName: n.Name(), Nodes: n.domainNodes()}
	c.SetWriteDeadline(time.Now().Add(refuseTimeout))
	if err := wire.WriteFrame(c, wire.MsgWelcome, &welcome); err != nil {
		log.Info("cannot send welcome", "err", err)
		return
	}
	c.SetWriteDeadline(time.Time{})
	s.log.Info("client connected")

	writerDone := make(chan struct{})
	n.g.Go(func() error {
		defer close(writerDone)
		if err := s.out.Drain(c); err != nil {
			// Nothing more can reach the client, which has most likely
			// closed its socket. What it sent before (its quit, say) may
			// still wait in the socket, and is still its to say: the
			// reader takes it, within refuseTimeout, before the session
			// ends with what the reader meets then.
			s.log.Info("cannot write to client; reading what it sent before ending the session", "err", err)
			s.out.Close()
			c.SetReadDeadline(time.Now().Add(refuseTimeout))
		}
		return nil
	})

	if !s.admin && !n.send(loopMsg{kind: loopConnect, sess: s}) {
		s.close(net.ErrClosed)
		<-writerDone
		return
	}
	checkerDone := make(chan struct{})
	stopChecker := make(chan struct{})
	if !s.admin && hello.Responsiveness.Type != wire.NoResponsiveness {
		s.responds = make(chan wire.Respond, 4)
		n.g.Go(func() error {
			defer close(checkerDone)
			n.checkResponsiveness(s, stopChecker)
			return nil
		})
	} else {
		close(checkerDone)
	}
	err = n.readLoop(s, r)
	close(stopChecker)
	<-checkerDone
	if s.ended.Load() {
		// The run loop ended the session and queued the reason: let the
		// writer send it before the connection closes.
		c.SetWriteDeadline(time.Now().Add(refuseTimeout))
		<-writerDone
		err = errOutOfDomain
	}
	if errors.Is(err, errAdminOnly) || brokeProtocol(err) {
		// Tell the peer why, after what is already queued; a client that
		// broke the protocol also gets the FFDC id of the log line.
		ref := wire.Refused{Code: wire.PermissionDenied, Reason: err.Error()}
		if !errors.Is(err, errAdminOnly) {
			ref.Code, ref.FFDC = wire.BadParameter, n.newFFDC()
			n.refusals.write(s.log, slog.LevelWarn, "client broke the protocol", "reason", err.Error(), "ffdc_id", ref.FFDC)
		}
		if f, ferr := wire.AppendFrame(nil, wire.MsgRefused, &ref); ferr == nil {
			s.out.Put(f)
		}
		c.SetWriteDeadline(time.Now().Add(refuseTimeout))
		s.out.Close()
		<-writerDone
	}
	if n.isClosed() && !errors.Is(err, errQuit) {
		err = net.ErrClosed
	}
	s.close(err)
	n.met.sessionEnded(s)
	if !s.admin {
		n.send(loopMsg{kind: loopDisconnect, sess: s})
	}
	<-writerDone
}

// brokeProtocol reports whether a read loop ended because the peer sent
// something the protocol does not allow (a bad frame or body), rather than
// because the connection ended or failed.
func brokeProtocol(err error) bool {
	var op *net.OpError
	switch {
	case err == nil, errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, errQuit),
		errors.Is(err, errAdminOnly), errors.Is(err, net.ErrClosed), errors.As(err, &op):
		return false
	}
	return true
}

// endSession ends a live session from the run loop: the client is sent
// Refused{code, reason} after what is already queued, and the connection
// closes. The domain has already failed (or will fail) the client's
// providers, so no disconnect is ordered for it.
func (n *Node) endSession(s *session, code wire.Code, reason string) {
	if s.ended.Swap(true) {
		return
	}
	if f, err := wire.AppendFrame(nil, wire.MsgRefused, &wire.Refused{Code: code, Reason: reason}); err == nil {
		_ = s.out.Put(f)
	}
	s.out.Close()
	s.conn.SetReadDeadline(time.Now()) // stops the reader; serveConn then waits for the writer
}

// readHello reads the first frame, which must be a Hello of at most
// wire.MaxHelloSize bytes that passes Hello.Check, within HelloTimeout. On
// error it also returns the code to refuse the connection with.
func readHello(c net.Conn, r *wire.Reader) (wire.Hello, wire.Code, error) {
	var h wire.Hello
	c.SetReadDeadline(time.Now().Add(HelloTimeout))
	defer c.SetReadDeadline(time.Time{})
	t, body, err := r.NextWithin(wire.MaxHelloSize)
	switch {
	case errors.Is(err, wire.ErrBadVersion):
		// A library of another level, not a broken one.
		return h, wire.NotSupported, fmt.Errorf("reading hello: %w", err)
	case errors.Is(err, wire.ErrFrameTooLarge):
		return h, wire.BadParameter, fmt.Errorf("hello too large (a program name holds at most %d bytes, a script path %d): %w",
			wire.MaxProgramNameLength, wire.MaxScriptPathLength, err)
	case err != nil:
		return h, wire.BadParameter, fmt.Errorf("reading hello: %w", err)
	}
	if t != wire.MsgHello {
		return h, wire.BadParameter, fmt.Errorf("expected hello (type %d), got message type %d", wire.MsgHello, t)
	}
	if err := wire.Decode(body, &h); err != nil {
		return h, wire.BadParameter, fmt.Errorf("bad hello: %w", err)
	}
	if code, why := h.Check(); code != wire.OK {
		return h, code, errors.New("bad hello: " + why)
	}
	return h, wire.OK, nil
}

// waitingRefuseLinger is how long a connection refused for exceeding
// MaxWaitingConns is read and dropped before it closes: long enough to
// take a Hello already sent, short enough that a flood of refusals holds
// few goroutines.
const waitingRefuseLinger = 20 * time.Millisecond

// refuse tells a peer why it is not served, then closes gently: the write
// side is shut and whatever the peer still sends (its Hello, when it was
// refused before the daemon read anything) is read and dropped for a short
// while. Closing a Unix socket with unread data resets the connection, and
// the peer could then miss the reason. The caller closes c afterwards.
func refuse(c net.Conn, code wire.Code, reason, ffdc string) {
	refuseWithin(c, refuseTimeout, code, reason, ffdc)
}

// refuseWithin is refuse with linger as the bound of the reading that
// follows the refusal. The refusal itself gets refuseTimeout: a daemon
// descheduled for longer than a short linger between arming the deadline
// and writing would otherwise close without telling the peer why.
func refuseWithin(c net.Conn, linger time.Duration, code wire.Code, reason, ffdc string) {
	c.SetWriteDeadline(time.Now().Add(refuseTimeout))
	if err := wire.WriteFrame(c, wire.MsgRefused, &wire.Refused{Code: code, Reason: reason, FFDC: ffdc}); err != nil {
		return
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	c.SetReadDeadline(time.Now().Add(linger))
	_, _ = io.CopyN(io.Discard, c, 2*wire.MaxFrameSize)
}

// readLoop decodes frames from the client, paced by the session's token
// bucket, until the connection ends or the client breaks the protocol.
// Requests are judged here and queued for the log (request); the reader
// waits while the forward queue is full, and then reads nothing more, so
// the client's own socket buffer pushes back on it. It returns why the
// session ends: io.EOF for a clean close, errQuit after OpQuit,
// net.ErrClosed when the session or the Node ended first, else the
// protocol error.
func (n *Node) readLoop(s *session, r *wire.Reader) error {
	for {
		t, body, err := r.Next()
		if err != nil {
			return err
		}
		cost := len(body) + RequestOverhead
		if t == wire.MsgAdminQuery {
			cost = max(cost, AdminQueryCost)
		}
		if err := s.pace(n.ctx, cost); err != nil {
			return net.ErrClosed
		}
		switch t {
		case wire.MsgRequest:
			if s.admin {
				return errAdminOnly
			}
			req := new(wire.Request)
			if err := wire.Decode(body, req); err != nil {
				return fmt.Errorf("bad request: %w", err)
			}
			if err := n.request(s, req); err != nil {
				return err
			}
			if req.Op == wire.OpQuit {
				return errQuit
			}
		case wire.MsgRespond:
			if s.admin {
				return errAdminOnly
			}
			// The daemon judges answers itself (checkResponsiveness) and
			// orders only the verdict, so the raw answer never reaches the
			// engine (nor, later, the replicated log).
			var resp wire.Respond
			if err := wire.Decode(body, &resp); err != nil {
				return fmt.Errorf("bad respond: %w", err)
			}
			if s.responds != nil {
				select {
				case s.responds <- resp:
				default: // unsolicited answers beyond a few are dropped
				}
			}
		case wire.MsgAdminQuery:
			var q wire.AdminQuery
			if err := wire.Decode(body, &q); err != nil {
				return fmt.Errorf("bad admin query: %w", err)
			}
			if !n.send(loopMsg{kind: loopQuery, sess: s, query: q}) {
				return net.ErrClosed
			}
		default:
			return fmt.Errorf("unexpected message type %d from a client", t)
		}
	}
}

// pace waits until the session's token bucket holds cost bytes (at most
// its burst, which a frame of wire.MaxFrameSize does not exceed). Meanwhile
// the reader reads nothing, which slows the client down without ending its
// session. The wait lasts at most a burst's worth of time; it fails only
// when ctx (the Node's) ends first. A frame already read is not dropped
// because its session is ending: like every request read before the end,
// it is ordered before the session's end.
func (s *session) pace(ctx context.Context, cost int) error {
	res := s.limit.ReserveN(time.Now(), min(cost, s.limit.Burst()))
	d := res.Delay()
	if d == 0 {
		return nil
	}
	if !s.slowed {
		s.slowed = true
		s.log.Info("client sends faster than its rate limit; reading it more slowly",
			"bytes_per_second", s.limit.Limit(), "burst", s.limit.Burst())
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		res.Cancel()
		return ctx.Err()
	}
}

// request judges one request of the client (screen) and queues it for the
// log, or answers it at once with the delayed error the engine would have
// given. Only a request that the engine could accept is ordered, so
// nothing a client gets wrong on its own grows the replicated log.
//
// The wait for room in the forward queue ends with the Node only: a
// request read before the session ended (a quit just before the client
// closes its socket, say) is ordered before the session's end, as the
// client expects. A session ended by the run loop (endSession) orders
// nothing more; the reset that comes with it empties the queue, so no
// reader stays waiting. It fails only when the Node closes or the session
// was ended.
func (n *Node) request(s *session, req *wire.Request) error {
	if req.Op != wire.OpQuit {
		if code := s.screen(req); code != wire.OK {
			n.met.request(s, req, code)
			n.refuseRequest(s, req, code)
			return nil
		}
	}
	select {
	case <-s.connected:
	case <-n.ctx.Done():
		return net.ErrClosed
	}
	if s.ended.Load() {
		return net.ErrClosed
	}
	ev := protocol.Event{Kind: protocol.EventRequest, Client: s.id, Request: req}
	n.grantJoin(s, &ev)
	n.met.request(s, req, wire.OK) // before it is ordered: its end may be delivered at once
	if err := n.agr.SubmitWait(n.ctx, ev); err != nil {
		return net.ErrClosed
	}
	if req.Op == wire.OpQuit {
		s.quit.Store(true) // ordered: the session ends in order, no disconnect follows
	}
	return nil
}

// screen judges a request as far as the engine would without looking at
// any group, and returns OK or the code the engine would answer it with:
//
//   - Request.Check, after Normalize, exactly as the engine runs them first;
//   - the token: the engine knows a client's token only from a join or a
//     subscription of that client, and every such request passes through
//     this reader, in order, before it is ordered. A token never named in
//     one is therefore unknown to the engine whenever the request would be
//     applied: BadMemberToken, as the engine answers. A named token is left
//     to the engine, whatever became of it (a join still in flight, or
//     approved, refused, left: the engine knows, the session need not);
//   - a join or subscription naming a new token beyond
//     wire.MaxTokensPerClient: NoMemory. The engine keeps a record of every
//     token a session named until the session ends, so this bounds what
//     every daemon of the domain holds for one client.
//
// The reader goroutine only.
func (s *session) screen(req *wire.Request) wire.Code {
	req.Normalize()
	if code := req.Check(); code != wire.OK {
		return code
	}
	_, named := s.tokens[req.Token]
	switch req.Op {
	case wire.OpJoin, wire.OpSubscribe:
		if !named {
			if len(s.tokens) >= wire.MaxTokensPerClient {
				return wire.NoMemory
			}
			s.tokens[req.Token] = req.Group
		}
	default:
		if !named {
			return wire.BadMemberToken
		}
	}
	return wire.OK
}

// refuseRequest answers a request that screen refused with the delayed
// error the engine would have sent (refusal). The reader goroutine only.
func (n *Node) refuseRequest(s *session, req *wire.Request, code wire.Code) {
	note := s.refusal(req, code, n.running)
	n.noteDelayedError(note)
	frame, err := wire.AppendFrame(nil, wire.MsgNotification, note)
	if err != nil && errors.Is(err, wire.ErrFrameTooLarge) {
		// The echo of a request near the frame limit, with the
		// notification's own fields, may not fit: the bulk goes.
		f := *req
		f.State, f.Message, f.ExpelList = nil, nil, nil
		note.Failing = &f
		frame, err = wire.AppendFrame(nil, wire.MsgNotification, note)
	}
	if err != nil {
		s.log.Error("cannot encode a delayed error; dropped", "code", code.String(), "err", err)
		return
	}
	if err := s.out.Put(frame); errors.Is(err, ipc.ErrOutboxFull) {
		s.close(fmt.Errorf("%w: %d frames queued", err, s.out.Len()))
	}
}

// refusal is the delayed error the engine sends for req refused with
// code: the request's kind and group, the code, the request echoed. For a
// token the client named, a request without a group names the group the
// token was named in, and a vote names the kind of protocol that group
// runs now (running reports it). The reader goroutine only.
func (s *session) refusal(req *wire.Request, code wire.Code, running func(group string) (wire.RequestType, bool)) *wire.Notification {
	note := &wire.Notification{Type: wire.DelayedErrorNotification, Token: req.Token, Group: req.Group,
		Protocol: req.Op.Protocol(), Code: code, Failing: req}
	if group, named := s.tokens[req.Token]; named {
		if note.Group == "" {
			note.Group = group
		}
		if req.Op == wire.OpVote {
			if kind, ok := running(group); ok {
				note.Protocol = kind
			}
		}
	}
	return note
}

// running reports the kind of protocol group runs, as the engine has it
// now; false when it runs none.
func (n *Node) running(group string) (kind wire.RequestType, ok bool) {
	n.agr.View(func() {
		if d, found := n.eng.Group(group); found && d.Protocol != nil {
			kind, ok = d.Protocol.Type, true
		}
	})
	return kind, ok
}
