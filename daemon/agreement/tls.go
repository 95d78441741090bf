package agreement

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/openhags/hags/internal/accept"
)

// Bounds of TLSStreamLayer.
const (
	// DefaultHandshakeTimeout bounds an incoming connection's TLS
	// handshake, and an outgoing one's when raft gives no timeout.
	DefaultHandshakeTimeout = 10 * time.Second
	// MaxPendingHandshakes bounds incoming connections being handshaken at
	// once; the listener is not read while that many are in progress.
	MaxPendingHandshakes = 64
)

// TLSOption configures a TLSStreamLayer.
type TLSOption func(*TLSStreamLayer)

// WithTLSLogger sets where refused connections are logged (at Warn, with the
// remote address and the reason). The default discards them.
func WithTLSLogger(l *slog.Logger) TLSOption {
	return func(s *TLSStreamLayer) { s.log = l }
}

// WithHandshakeTimeout sets how long an incoming connection may take to
// complete its handshake (default DefaultHandshakeTimeout).
func WithHandshakeTimeout(d time.Duration) TLSOption {
	return func(s *TLSStreamLayer) { s.handshakeTimeout = d }
}

// TLSStreamLayer is a raft.StreamLayer whose connections are TLS: both ends
// present a certificate and check the other's against cfg (pki's
// Identity.TLSConfig: mutual TLS 1.3 within one domain).
//
// Accept returns only connections whose handshake has completed, as
// *tls.Conn; a connection whose handshake fails or times out is logged and
// closed, never returned. Handshakes run in their own goroutines, so a slow
// or hostile peer cannot hold up the others. Dial returns a *tls.Conn whose
// handshake has completed within the timeout. All methods are safe for
// concurrent use; Close stops the goroutines and returns after they exit.
type TLSStreamLayer struct {
	ln               net.Listener
	advertise        net.Addr
	cfg              *tls.Config
	log              *slog.Logger
	handshakeTimeout time.Duration

	ready     chan *tls.Conn // handshaken, waiting for Accept
	closed    chan struct{}
	closeOnce sync.Once
	closeErr  error
	wg        sync.WaitGroup

	mu         sync.Mutex
	pending    map[net.Conn]struct{} // being handshaken; closed by Close
	acceptErr  error                 // why the listener stopped, if not Close
	acceptDone chan struct{}         // closed when the accept loop exits
}

var _ raft.StreamLayer = (*TLSStreamLayer)(nil)

// NewTLSStreamLayer returns a stream layer that accepts on ln and dials with
// cfg. advertise is the address other nodes reach this one at (Addr); nil
// means ln.Addr(). The layer owns ln and closes it on Close. cfg is cloned;
// it must hold this node's certificate and the CAs that verify peers.
func NewTLSStreamLayer(ln net.Listener, advertise net.Addr, cfg *tls.Config, opts ...TLSOption) *TLSStreamLayer {
	s := &TLSStreamLayer{
		ln:               ln,
		advertise:        advertise,
		cfg:              cfg.Clone(),
		log:              slog.New(slog.NewTextHandler(io.Discard, nil)),
		handshakeTimeout: DefaultHandshakeTimeout,
		ready:            make(chan *tls.Conn),
		closed:           make(chan struct{}),
		pending:          make(map[net.Conn]struct{}),
		acceptDone:       make(chan struct{}),
	}
	for _, o := range opts {
		o(s)
	}
	s.wg.Add(1)
	go s.acceptLoop()
	return s
}

// acceptLoop takes raw connections off the listener and starts a handshake
// for each, at most MaxPendingHandshakes at a time.
func (s *TLSStreamLayer) acceptLoop() {
	defer s.wg.Done()
	defer close(s.acceptDone)
	slots := make(chan struct{}, MaxPendingHandshakes)
	for {
		select {
		case slots <- struct{}{}:
		case <-s.closed:
			return
		}
		raw, err := accept.Next(s.ln, s.closed, s.log)
		if err != nil {
			<-slots
			if !errors.Is(err, accept.ErrStopped) {
				s.mu.Lock()
				s.acceptErr = fmt.Errorf("agreement: raft listener: %w", err)
				s.mu.Unlock()
			}
			return
		}
		s.mu.Lock()
		select {
		case <-s.closed:
			s.mu.Unlock()
			raw.Close()
			return
		default:
		}
		s.pending[raw] = struct{}{}
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer func() { <-slots }()
			s.handshake(raw)
		}()
	}
}

// handshake completes the server side of one connection's handshake and
// hands the connection to Accept, or logs and closes it.
func (s *TLSStreamLayer) handshake(raw net.Conn) {
	defer s.wg.Done()
	conn := tls.Server(raw, s.cfg)
	ctx, cancel := context.WithTimeout(context.Background(), s.handshakeTimeout)
	err := conn.HandshakeContext(ctx)
	cancel()
	s.mu.Lock()
	delete(s.pending, raw)
	s.mu.Unlock()
	if err != nil {
		s.log.Warn("raft TLS: refused a connection", "remote", raw.RemoteAddr().String(), "err", err)
		raw.Close()
		return
	}
	select {
	case s.ready <- conn:
	case <-s.closed:
		conn.Close()
	}
}

// Accept waits for the next connection whose TLS handshake has completed
// and returns it as a *tls.Conn. After Close, or once the listener has
// failed, it returns an error.
func (s *TLSStreamLayer) Accept() (net.Conn, error) {
	select {
	case c := <-s.ready:
		return c, nil
	case <-s.closed:
		return nil, fmt.Errorf("agreement: raft stream layer closed: %w", net.ErrClosed)
	case <-s.acceptDone:
	}
	// The accept loop has stopped; connections already handshaken may
	// still be on their way.
	select {
	case c := <-s.ready:
		return c, nil
	case <-s.closed:
		return nil, fmt.Errorf("agreement: raft stream layer closed: %w", net.ErrClosed)
	default:
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return nil, s.acceptErr
}

// Dial connects to address and completes a TLS handshake within timeout (0:
// DefaultHandshakeTimeout). The peer must present a certificate that cfg
// accepts and that lists the host of address.
func (s *TLSStreamLayer) Dial(address raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	if timeout <= 0 {
		timeout = DefaultHandshakeTimeout
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	d := &tls.Dialer{NetDialer: &net.Dialer{}, Config: s.cfg}
	c, err := d.DialContext(ctx, "tcp", string(address))
	if err != nil {
		return nil, fmt.Errorf("agreement: dial %s: %w", address, err)
	}
	return c, nil
}

// Addr returns the advertised address, or the listener's.
func (s *TLSStreamLayer) Addr() net.Addr {
	if s.advertise != nil {
		return s.advertise
	}
	return s.ln.Addr()
}

// Close closes the listener and every connection still being handshaken,
// and returns after the layer's goroutines have exited. Connections already
// returned by Accept or Dial belong to their callers and stay open.
func (s *TLSStreamLayer) Close() error {
	s.closeOnce.Do(func() {
		s.mu.Lock()
		close(s.closed)
		for c := range s.pending {
			c.Close()
		}
		s.mu.Unlock()
		s.closeErr = s.ln.Close()
		s.wg.Wait()
	})
	return s.closeErr
}
