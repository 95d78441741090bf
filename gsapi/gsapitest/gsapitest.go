// Package gsapitest runs a real hags daemon in-process, serving clients over
// an in-memory listener, for tests of programs built on gsapi (as
// net/http/httptest does for HTTP). No socket file, no root and no
// hagsuser group are needed: every connection is admitted as this process.
//
//	s := gsapitest.NewServer(t)
//	c, err := gsapi.Dial(ctx, s.Option())
package gsapitest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"testing"

	"github.com/openhags/hags/daemon"
	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/gsapi"
)

// Server is an in-process daemon (a daemon.Node, one-node domain) and the
// in-memory listener it serves.
type Server struct {
	// Node is the daemon; tests may inspect it, but must not Close it
	// directly unless they also stop using the Server.
	Node *daemon.Node

	ln        *Listener
	serveDone chan error
	closeOnce sync.Once
}

// NewServer starts a Server and closes it when the test ends. It fails the
// test if the daemon cannot start.
func NewServer(t testing.TB) *Server {
	t.Helper()
	s, err := Start()
	if err != nil {
		t.Fatalf("gsapitest: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("gsapitest: close: %v", err)
		}
	})
	return s
}

// Start starts a Server with the default configuration; the caller must
// Close it. Use it where no testing.TB is at hand, as in examples.
func Start() (*Server, error) { return StartWith(daemon.Config{}) }

// StartWith starts a Server from cfg; the caller must Close it. Authorize
// defaults to admitting every connection with this process's credentials,
// Domain to "gsapitest" and Socket to a name that is never created.
func StartWith(cfg daemon.Config) (*Server, error) {
	if cfg.Authorize == nil {
		cred := protocol.Cred{Pid: int32(os.Getpid()), Uid: uint32(os.Getuid()), Gid: uint32(os.Getgid())}
		cfg.Authorize = func(net.Conn) (protocol.Cred, error) { return cred, nil }
	}
	if cfg.Domain == "" {
		cfg.Domain = "gsapitest"
	}
	if cfg.Socket == "" {
		cfg.Socket = "gsapitest.in-memory"
	}
	node, err := daemon.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("start daemon: %w", err)
	}
	s := &Server{Node: node, ln: NewListener(), serveDone: make(chan error, 1)}
	go func() { s.serveDone <- node.Serve(s.ln) }()
	return s, nil
}

// Option returns the gsapi option that connects a client to this Server.
func (s *Server) Option() gsapi.Option { return gsapi.WithDialer(s.ln.DialContext) }

// Dial connects a new client to the Server, with opts after Option. It is
// shorthand for gsapi.Dial(ctx, append(opts, s.Option())...).
func (s *Server) Dial(ctx context.Context, opts ...gsapi.Option) (*gsapi.Client, error) {
	return gsapi.Dial(ctx, append(opts, s.Option())...)
}

// Close stops the daemon, which drops every client's connection (their
// Dispatch returns ErrNotOK), and waits for its goroutines to exit. Later
// dials fail with gsapi.ErrConnectFailed. Close is idempotent.
func (s *Server) Close() error {
	var err error
	s.closeOnce.Do(func() {
		s.ln.Close()
		err = s.Node.Close()
		if serr := <-s.serveDone; serr != nil && !errors.Is(serr, net.ErrClosed) {
			err = errors.Join(err, serr)
		}
	})
	return err
}

// Listener is a net.Listener whose connections are in-memory pipes
// (net.Pipe) created by DialContext.
type Listener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

// NewListener returns an open Listener.
func NewListener() *Listener {
	return &Listener{conns: make(chan net.Conn), done: make(chan struct{})}
}

// Accept waits for the next DialContext, or returns net.ErrClosed once the
// Listener is closed.
func (l *Listener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops Accept and later dials; connections already made stay up.
func (l *Listener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

// Addr returns the listener's (fixed, fake) address.
func (l *Listener) Addr() net.Addr { return pipeAddr{} }

// DialContext makes a connection that the Listener's Accept returns. It
// fails with net.ErrClosed once the Listener is closed, and with ctx's
// error if nobody accepts before ctx ends.
func (l *Listener) DialContext(ctx context.Context) (net.Conn, error) {
	cli, srv := net.Pipe()
	select {
	case l.conns <- srv:
		return cli, nil
	case <-l.done:
		err := net.ErrClosed
		cli.Close()
		srv.Close()
		return nil, err
	case <-ctx.Done():
		cli.Close()
		srv.Close()
		return nil, ctx.Err()
	}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "gsapitest" }
