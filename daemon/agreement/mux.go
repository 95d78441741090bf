package agreement

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"github.com/hashicorp/raft"

	"github.com/openhags/hags/internal/accept"
)

// Stream kinds: the first byte a dialler writes on a new connection says
// which service it is for. Both share the node's one address (and its TLS
// layer, when Config.Stream is one).
const (
	streamRaft    byte = 'R' // raft's requests (raftTransport.serve)
	streamForward byte = 'F' // a follower's entries for the leader (forward.go)
)

// muxHeaderTimeout bounds how long an accepted connection may take to say
// what it is for.
const muxHeaderTimeout = 5 * time.Second

// TCPStream is the plain TCP StreamLayer used when Config.Stream is nil.
type TCPStream struct {
	net.Listener
}

// ListenTCP listens on addr (host:port) for a TCPStream.
func ListenTCP(addr string) (*TCPStream, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("agreement: listen %s: %w", addr, err)
	}
	return &TCPStream{Listener: ln}, nil
}

// Dial connects to a peer's address.
func (t *TCPStream) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return net.DialTimeout("tcp", string(addr), timeout)
}

// mux accepts connections on one StreamLayer and hands each to raft's
// inbound server or to the forwarding server according to its first byte.
// Each connection is served on its own goroutine, which closes it when its
// server returns.
type mux struct {
	base    raft.StreamLayer
	log     *slog.Logger
	forward func(net.Conn) // serves one forwarding connection; returns when it ends
	// raft serves one raft connection (raftTransport.serve); nil when raft
	// has another transport (simulations), and raft connections are
	// refused. Set before run.
	raft  func(net.Conn)
	done  chan struct{}
	once  sync.Once
	wg    sync.WaitGroup
	mu    sync.Mutex
	conns map[net.Conn]struct{} // accepted connections, closed with the mux
}

func newMux(base raft.StreamLayer, log *slog.Logger, forward func(net.Conn)) *mux {
	return &mux{base: base, log: log, forward: forward,
		done: make(chan struct{}), conns: make(map[net.Conn]struct{})}
}

// run accepts until close; it returns nil once the mux is closed.
func (m *mux) run() error {
	for {
		c, err := accept.Next(m.base, m.done, m.log)
		switch {
		case errors.Is(err, accept.ErrStopped):
			return nil
		case err != nil:
			return fmt.Errorf("agreement: listener closed: %w", err)
		}
		m.wg.Add(1)
		go func() {
			defer m.wg.Done()
			m.route(c)
		}()
	}
}

func (m *mux) route(c net.Conn) {
	var b [1]byte
	c.SetReadDeadline(time.Now().Add(muxHeaderTimeout))
	if _, err := c.Read(b[:]); err != nil {
		c.Close()
		return
	}
	c.SetReadDeadline(time.Time{})
	if b[0] != streamRaft && b[0] != streamForward {
		m.log.Warn("connection of unknown kind refused", "remote", c.RemoteAddr(), "byte", b[0])
		c.Close()
		return
	}
	m.mu.Lock()
	select {
	case <-m.done:
		m.mu.Unlock()
		c.Close()
		return
	default:
	}
	m.conns[c] = struct{}{}
	m.mu.Unlock()
	switch b[0] {
	case streamRaft:
		if m.raft != nil {
			m.raft(c)
		}
	case streamForward:
		m.forward(c)
	}
	c.Close()
	m.mu.Lock()
	delete(m.conns, c)
	m.mu.Unlock()
}

// dial connects to addr for the given stream kind.
func (m *mux) dial(addr raft.ServerAddress, kind byte, timeout time.Duration) (net.Conn, error) {
	c, err := m.base.Dial(addr, timeout)
	if err != nil {
		return nil, err
	}
	c.SetWriteDeadline(time.Now().Add(timeout))
	if _, err := c.Write([]byte{kind}); err != nil {
		c.Close()
		return nil, err
	}
	c.SetWriteDeadline(time.Time{})
	return c, nil
}

// close stops accepting, closes every accepted connection (raft's
// included: its transport does not close what it accepted) and waits for
// the routing goroutines.
func (m *mux) close() {
	m.once.Do(func() {
		m.mu.Lock()
		close(m.done)
		for c := range m.conns {
			c.Close()
		}
		m.mu.Unlock()
		m.base.Close()
	})
	m.wg.Wait()
}

// raftLayer is the raft half of a mux, as the StreamLayer of raft's
// NetworkTransport: it dials. Inbound raft connections go to
// raftTransport.serve instead, so Accept only waits for the mux to close.
type raftLayer struct{ m *mux }

func (l raftLayer) Accept() (net.Conn, error) {
	<-l.m.done
	return nil, net.ErrClosed
}

// Close is a no-op: the mux owns the listener and closes it with the
// Agreement.
func (l raftLayer) Close() error   { return nil }
func (l raftLayer) Addr() net.Addr { return l.m.base.Addr() }
func (l raftLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	return l.m.dial(addr, streamRaft, timeout)
}
