package daemon

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

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
	if err != nil {
		id := n.newFFDC()
		log.Info("client refused", "uid", cred.Uid, "gid", cred.Gid, "pid", cred.Pid, "reason", err.Error(), "ffdc_id", id)
		refuse(c, wire.PermissionDenied, err.Error(), id)
		return
	}
	log = log.With("pid", cred.Pid, "uid", cred.Uid)

	r := wire.NewReader(c)
	hello, err := readHello(c, r)
	if err != nil {
		id := n.newFFDC()
		log.Warn("bad first frame; connection refused", "reason", err.Error(), "ffdc_id", id)
		code := wire.BadParameter
		if errors.Is(err, wire.ErrBadVersion) {
			// A library of another level, not a broken one.
			code = wire.NotSupported
		}
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
		log.Info("client refused: this node is out of the domain")
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
		log.Warn("client refused: too many sessions", "limit", limit, "admin", hello.Admin, "ffdc_id", id)
		refuse(c, wire.NoMemory, fmt.Sprintf("daemon serves at most %d such sessions", limit), id)
		return
	}
	defer count.Add(-1)

	id := protocol.ClientID{Node: n.cfg.Node, Conn: uint64(n.cfg.Incarnation)<<32 | uint64(n.nextConn.Add(1))}
	s := &session{
		id: id, cred: cred, hello: hello, admin: hello.Admin, conn: c,
		out: ipc.NewOutbox(OutboxFrames, OutboxBytes),
		log: log.With("client", id.Conn, "program", hello.Program, "admin", hello.Admin),
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
			s.close(fmt.Errorf("write: %w", err))
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
			s.log.Warn("client broke the protocol", "reason", err.Error(), "ffdc_id", ref.FFDC)
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

// readHello reads the first frame, which must be a Hello, within
// HelloTimeout.
func readHello(c net.Conn, r *wire.Reader) (wire.Hello, error) {
	var h wire.Hello
	c.SetReadDeadline(time.Now().Add(HelloTimeout))
	defer c.SetReadDeadline(time.Time{})
	t, body, err := r.Next()
	if err != nil {
		return h, fmt.Errorf("reading hello: %w", err)
	}
	if t != wire.MsgHello {
		return h, fmt.Errorf("expected hello (type %d), got message type %d", wire.MsgHello, t)
	}
	if err := wire.Decode(body, &h); err != nil {
		return h, fmt.Errorf("bad hello: %w", err)
	}
	return h, nil
}

// refuse tells a peer why it is not served, then closes gently: the write
// side is shut and whatever the peer still sends (its Hello, when it was
// refused before the daemon read anything) is read and dropped for a short
// while. Closing a Unix socket with unread data resets the connection, and
// the peer could then miss the reason. The caller closes c afterwards.
func refuse(c net.Conn, code wire.Code, reason, ffdc string) {
	c.SetDeadline(time.Now().Add(refuseTimeout))
	if err := wire.WriteFrame(c, wire.MsgRefused, &wire.Refused{Code: code, Reason: reason, FFDC: ffdc}); err != nil {
		return
	}
	if cw, ok := c.(interface{ CloseWrite() error }); ok {
		cw.CloseWrite()
	}
	_, _ = io.CopyN(io.Discard, c, 2*wire.MaxFrameSize)
}

// readLoop decodes frames from the client and passes them to the run loop
// until the connection ends or the client breaks the protocol. It returns
// why the session ends: io.EOF for a clean close, errQuit after OpQuit, else
// the protocol error.
func (n *Node) readLoop(s *session, r *wire.Reader) error {
	for {
		t, body, err := r.Next()
		if err != nil {
			return err
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
			if req.Op == wire.OpQuit {
				s.quit.Store(true)
			}
			if !n.send(loopMsg{kind: loopEvent, ev: protocol.Event{Kind: protocol.EventRequest, Client: s.id, Request: req}}) {
				return net.ErrClosed
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
