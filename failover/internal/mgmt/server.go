package mgmt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/openhags/hags/failover"
	"github.com/openhags/hags/failover/internal/mgmtwire"
	"github.com/openhags/hags/internal/peercred"
)

// Default group names and bounds.
const (
	DefaultAdminGroup   = "hagsadmin"
	DefaultUserGroup    = "hagsuser"
	DefaultMaxConns     = 64
	DefaultWriteTimeout = 10 * time.Second
)

// ErrClosed is returned by Serve once Close was called.
var ErrClosed = errors.New("mgmt: server closed")

// Config configures a Server.
type Config struct {
	// Backend answers the requests; required.
	Backend Backend
	// AdminGroup and UserGroup name the groups whose members get access
	// All and Read (defaults hagsadmin and hagsuser). Root always has All.
	// They are looked up at each connection, so creating a group later
	// needs no restart.
	AdminGroup string
	UserGroup  string
	// MaxConns bounds the connections served at once (default 64); past
	// it the server accepts no more until one ends, and new peers wait in
	// the listen queue.
	MaxConns int
	// WriteTimeout bounds each write to a peer (default 10 s): a peer
	// that does not read its answers loses its connection.
	WriteTimeout time.Duration
	// Logger receives the server's log (default slog.Default()).
	Logger *slog.Logger
	// AccessOf decides a peer's access; nil applies AccessFor with the two
	// groups. Tests use it to serve a Read connection without another
	// uid.
	AccessOf func(peercred.Peer) failover.Access
}

// AccessFor is the admission rule: root and members (primary or
// supplementary) of adminGID get All, members of userGID Read, anyone
// else None. A gid below 0 names no group.
func AccessFor(p peercred.Peer, adminGID, userGID int64) failover.Access {
	switch {
	case p.Root() || p.InGroup(adminGID):
		return failover.AccessAll
	case p.InGroup(userGID):
		return failover.AccessRead
	}
	return failover.AccessNone
}

// Server serves the management protocol. Serve runs one goroutine per
// connection and, per connection, one per request in flight and one per
// watch; all belong to the server's errgroup, and Close waits for them.
// The Backend is called from those goroutines; the server holds no lock
// while it calls it.
type Server struct {
	cfg    Config
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	slots  chan struct{}
	g      errgroup.Group

	mu        sync.Mutex
	closed    bool
	listeners map[net.Listener]struct{}
	conns     map[*conn]struct{}
}

// New returns a Server for cfg.
func New(cfg Config) (*Server, error) {
	if cfg.Backend == nil {
		return nil, errors.New("mgmt: Config.Backend is required")
	}
	if cfg.AdminGroup == "" {
		cfg.AdminGroup = DefaultAdminGroup
	}
	if cfg.UserGroup == "" {
		cfg.UserGroup = DefaultUserGroup
	}
	if cfg.MaxConns <= 0 {
		cfg.MaxConns = DefaultMaxConns
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = DefaultWriteTimeout
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.AccessOf == nil {
		admin, user := cfg.AdminGroup, cfg.UserGroup
		cfg.AccessOf = func(p peercred.Peer) failover.Access {
			return AccessFor(p, peercred.LookupGroup(admin), peercred.LookupGroup(user))
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Server{
		cfg: cfg, log: cfg.Logger, ctx: ctx, cancel: cancel,
		slots:     make(chan struct{}, cfg.MaxConns),
		listeners: map[net.Listener]struct{}{},
		conns:     map[*conn]struct{}{},
	}, nil
}

// Serve accepts connections on ln and serves them until Close (then it
// returns ErrClosed) or until ln fails. It may be called for several
// listeners. Close closes ln.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		ln.Close()
		return ErrClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	for {
		select {
		case s.slots <- struct{}{}:
		case <-s.ctx.Done():
			return ErrClosed
		}
		nc, err := ln.Accept()
		if err != nil {
			<-s.slots
			if s.ctx.Err() != nil {
				return ErrClosed
			}
			return fmt.Errorf("mgmt: accept: %w", err)
		}
		c := &conn{s: s, nc: nc}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			nc.Close()
			<-s.slots
			return ErrClosed
		}
		s.conns[c] = struct{}{}
		s.mu.Unlock()
		s.g.Go(func() error {
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				<-s.slots
			}()
			c.serve()
			return nil
		})
	}
}

// Close stops accepting, ends every connection (requests in flight see
// their context end) and waits for every goroutine of the server.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	s.cancel()
	for ln := range s.listeners {
		ln.Close()
	}
	for c := range s.conns {
		c.nc.Close()
	}
	s.mu.Unlock()
	return s.g.Wait()
}

// handle is what a handle number stands for on its connection.
type handle struct {
	kind mgmtwire.Kind
	name string
	uid  uint64 // groups and resources: the object's UID; nodes: the node's number
}

// conn is one peer's connection. Its reader runs in serve; each request
// runs in a goroutine of g, at most MaxInFlight at once; each watch
// relays in a goroutine of g. mu guards handles and watches.
type conn struct {
	s      *Server
	nc     net.Conn
	wc     *mgmtwire.Conn
	caller Caller
	log    *slog.Logger
	ctx    context.Context
	cancel context.CancelFunc
	g      errgroup.Group

	mu      sync.Mutex
	handles map[uint32]handle
	next    uint32
	watches map[uint64]context.CancelFunc
}

func (c *conn) serve() {
	defer c.nc.Close()
	c.log = c.s.log.With("conn", "mgmt")
	c.wc = mgmtwire.NewConn(c.nc, mgmtwire.MaxMessageRead)
	c.wc.WriteTimeout = c.s.cfg.WriteTimeout
	uc, ok := c.nc.(*net.UnixConn)
	if !ok {
		c.log.Warn("management connection refused: not a Unix socket", "type", fmt.Sprintf("%T", c.nc))
		return
	}
	peer, err := peercred.Of(uc)
	if err != nil {
		c.log.Warn("management connection refused: no peer credentials", "err", err)
		return
	}
	c.caller = Caller{Pid: peer.Pid, Uid: peer.Uid, Gid: peer.Gid, Access: c.s.cfg.AccessOf(peer)}
	c.log = c.log.With("pid", peer.Pid, "uid", peer.Uid)
	if c.caller.Access == failover.AccessNone {
		msg := fmt.Sprintf("uid %d is neither root nor a member of %s or %s", peer.Uid, c.s.cfg.AdminGroup, c.s.cfg.UserGroup)
		c.log.Info("management connection refused", "why", msg)
		_ = c.wc.Send(mgmtwire.MsgWelcome, &mgmtwire.Welcome{Code: uint32(failover.CodeAccessDenied), Message: msg})
		return
	}
	if c.caller.Access == failover.AccessAll {
		c.wc.SetMax(mgmtwire.MaxMessageAll)
	}
	if err := c.wc.Send(mgmtwire.MsgWelcome, &mgmtwire.Welcome{Access: mgmtwire.Access(c.caller.Access)}); err != nil {
		c.log.Info("management connection lost before its welcome", "err", err)
		return
	}
	c.log.Debug("management connection admitted", "access", c.caller.Access)
	c.handles = map[uint32]handle{}
	c.watches = map[uint64]context.CancelFunc{}
	c.ctx, c.cancel = context.WithCancel(c.s.ctx)
	c.read()
	c.cancel()
	c.nc.Close()
	_ = c.g.Wait()
}

// read reads requests until the peer leaves or breaks the protocol, and
// starts each in its own goroutine.
func (c *conn) read() {
	inflight := make(chan struct{}, mgmtwire.MaxInFlight)
	for {
		typ, body, err := c.wc.Recv()
		if err != nil {
			if errors.Is(err, io.EOF) || c.ctx.Err() != nil {
				c.log.Debug("management connection ended")
			} else {
				c.log.Warn("management connection closed: bad frame", "err", err)
			}
			return
		}
		if typ != mgmtwire.MsgRequest {
			c.log.Warn("management connection closed: a client sent a message that is not a request", "type", typ)
			return
		}
		var req mgmtwire.Request
		if err := mgmtwire.Decode(body, &req); err != nil {
			c.log.Warn("management connection closed: undecodable request", "err", err)
			return
		}
		select {
		case inflight <- struct{}{}:
		case <-c.ctx.Done():
			return
		}
		c.g.Go(func() error {
			defer func() { <-inflight }()
			res := c.do(c.ctx, &req)
			resp := mgmtwire.Response{ID: req.ID, Code: uint32(res.code), Message: res.msg, Fault: res.fault, Handle: res.handle}
			if res.body != nil {
				b, err := mgmtwire.EncodeBody(res.body)
				if err != nil {
					resp = mgmtwire.Response{ID: req.ID, Fault: "the answer could not be encoded: " + err.Error()}
					c.log.Error("management answer not encodable", "op", req.Op, "err", err)
				}
				resp.Body = b
			}
			if err := c.wc.Send(mgmtwire.MsgResponse, &resp); err != nil {
				c.abort("answer not written", err)
				return nil
			}
			if res.then != nil {
				res.then()
			}
			return nil
		})
	}
}

// abort ends the connection after a write failed.
func (c *conn) abort(what string, err error) {
	if c.ctx.Err() == nil {
		c.log.Warn("management connection closed: "+what, "err", err)
	}
	c.cancel()
	c.nc.Close()
}
