package agreement_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/agreement"
	"github.com/openhags/hags/internal/pki"
)

// tlsDomain creates a domain with nodes n1..n4 on 127.0.0.1 and returns each
// node's identity by name.
func tlsDomain(t *testing.T, domain string) map[string]*pki.Identity {
	t.Helper()
	dir := filepath.Join(t.TempDir(), domain)
	var nodes []pki.Node
	for i := int32(1); i <= 4; i++ {
		nodes = append(nodes, pki.Node{Number: i, Name: fmt.Sprintf("n%d", i), Addrs: []string{"127.0.0.1"}})
	}
	_, err := pki.Init(dir, domain, nodes, false)
	require.NoError(t, err)
	ids := map[string]*pki.Identity{}
	for _, n := range nodes {
		id, err := pki.LoadNode(dir, n.Name)
		require.NoError(t, err)
		ids[n.Name] = id
	}
	return ids
}

// tlsRefusals is a slog handler that reports each refused connection.
type tlsRefusals struct{ ch chan string }

func newTLSRefusals() *tlsRefusals { return &tlsRefusals{ch: make(chan string, 1024)} }

func (h *tlsRefusals) Enabled(context.Context, slog.Level) bool { return true }
func (h *tlsRefusals) WithAttrs([]slog.Attr) slog.Handler       { return h }
func (h *tlsRefusals) WithGroup(string) slog.Handler            { return h }
func (h *tlsRefusals) Handle(_ context.Context, r slog.Record) error {
	msg := r.Message
	r.Attrs(func(a slog.Attr) bool { msg += " " + a.String(); return true })
	select {
	case h.ch <- msg:
	default:
	}
	return nil
}

// next waits for the next refusal and returns its log line.
func (h *tlsRefusals) next(t *testing.T, why string) string {
	t.Helper()
	select {
	case m := <-h.ch:
		return m
	case <-time.After(10 * time.Second):
		require.FailNow(t, "no refusal was logged", "expected the layer to log that it refused %s", why)
		return ""
	}
}

func tlsLayer(t *testing.T, cfg *tls.Config, opts ...agreement.TLSOption) *agreement.TLSStreamLayer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	l := agreement.NewTLSStreamLayer(ln, nil, cfg, opts...)
	t.Cleanup(func() { l.Close() })
	return l
}

// tlsAccept waits for Accept on l to return.
func tlsAccept(t *testing.T, l *agreement.TLSStreamLayer) *tls.Conn {
	t.Helper()
	type res struct {
		c   net.Conn
		err error
	}
	ch := make(chan res, 1)
	go func() { c, err := l.Accept(); ch <- res{c, err} }()
	select {
	case r := <-ch:
		require.NoError(t, r.err, "Accept returns a connection")
		t.Cleanup(func() { r.c.Close() })
		tc, ok := r.c.(*tls.Conn)
		require.True(t, ok, "Accept returns a *tls.Conn, got %T", r.c)
		return tc
	case <-time.After(10 * time.Second):
		require.FailNow(t, "Accept did not return")
		return nil
	}
}

func TestTLSStreamLayerConnectsNodesOfTheDomain(t *testing.T) {
	ids := tlsDomain(t, "prod")
	a := tlsLayer(t, ids["n1"].TLSConfig())
	b := tlsLayer(t, ids["n2"].TLSConfig())

	c, err := a.Dial(raft.ServerAddress(b.Addr().String()), 5*time.Second)
	require.NoError(t, err, "n1 dials n2")
	defer c.Close()
	tc, ok := c.(*tls.Conn)
	require.True(t, ok, "Dial returns a *tls.Conn")
	assert.True(t, tc.ConnectionState().HandshakeComplete, "Dial completes the handshake")
	assert.Equal(t, "n2", tc.ConnectionState().PeerCertificates[0].Subject.CommonName, "n1 reached n2")

	s := tlsAccept(t, b)
	st := s.ConnectionState()
	assert.True(t, st.HandshakeComplete, "Accept returns connections whose handshake completed")
	assert.Equal(t, uint16(tls.VersionTLS13), st.Version, "TLS 1.3")
	require.NotEmpty(t, st.PeerCertificates, "the client presented a certificate")
	assert.Equal(t, "n1", st.PeerCertificates[0].Subject.CommonName, "n2 sees n1")

	_, err = c.Write([]byte("ping"))
	require.NoError(t, err)
	buf := make([]byte, 4)
	s.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err = io.ReadFull(s, buf)
	require.NoError(t, err)
	assert.Equal(t, "ping", string(buf), "bytes cross the connection")

	adv := &net.TCPAddr{IP: net.ParseIP("10.1.2.3"), Port: 7000}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	l := agreement.NewTLSStreamLayer(ln, adv, ids["n3"].TLSConfig())
	assert.Equal(t, adv, l.Addr(), "Addr is the advertised address")
	require.NoError(t, l.Close())
	require.NoError(t, l.Close(), "Close is idempotent")
	_, err = l.Accept()
	assert.ErrorIs(t, err, net.ErrClosed, "Accept after Close fails")
}

// TestTLSStreamLayerAcceptReturnsOnlyAuthenticatedPeers throws every kind of
// unwelcome client at a layer, waits until each has been refused, and then
// shows that the next connection Accept returns is the one good client.
func TestTLSStreamLayerAcceptReturnsOnlyAuthenticatedPeers(t *testing.T) {
	ids := tlsDomain(t, "prod")
	foreign := tlsDomain(t, "prod") // same domain name, another CA
	refused := newTLSRefusals()
	b := tlsLayer(t, ids["n2"].TLSConfig(), agreement.WithTLSLogger(slog.New(refused)),
		agreement.WithHandshakeTimeout(300*time.Millisecond))
	addr := b.Addr().String()
	dialer := &net.Dialer{Timeout: 5 * time.Second}

	t.Run("foreign node through its own layer", func(t *testing.T) {
		f := tlsLayer(t, foreign["n1"].TLSConfig())
		_, err := f.Dial(raft.ServerAddress(addr), 5*time.Second)
		assert.ErrorContains(t, err, "certificate signed by unknown authority", "the foreign node does not trust n2")
		refused.next(t, "the foreign node")
	})
	t.Run("foreign certificate offered to a trusting client", func(t *testing.T) {
		cfg := foreign["n1"].TLSConfig()
		cfg.RootCAs = ids["n2"].Pool() // trusts n2, so only n2's check can refuse it
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) {
			return &foreign["n1"].Certificate, nil
		}
		c, err := tls.DialWithDialer(dialer, "tcp", addr, cfg)
		if err == nil { // TLS 1.3: the client may finish first; the refusal arrives on read
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, err = c.Read(make([]byte, 1))
			c.Close()
		}
		assert.Error(t, err, "the foreign client is refused")
		assert.Contains(t, refused.next(t, "the foreign certificate"), "unknown authority", "the log says why")
	})
	t.Run("client without a certificate", func(t *testing.T) {
		cfg := ids["n1"].TLSConfig()
		cfg.Certificates = nil
		c, err := tls.DialWithDialer(dialer, "tcp", addr, cfg)
		if err == nil {
			c.SetReadDeadline(time.Now().Add(10 * time.Second))
			_, err = c.Read(make([]byte, 1))
			c.Close()
		}
		assert.Error(t, err, "a client without a certificate is refused")
		assert.Contains(t, refused.next(t, "the client without a certificate"), "certificate", "the log says why")
	})
	t.Run("plain TCP that never speaks", func(t *testing.T) {
		c, err := dialer.Dial("tcp", addr)
		require.NoError(t, err)
		defer c.Close()
		refused.next(t, "a silent connection, after the handshake timeout")
	})
	t.Run("plain TCP speaking nonsense", func(t *testing.T) {
		c, err := dialer.Dial("tcp", addr)
		require.NoError(t, err)
		defer c.Close()
		_, err = c.Write([]byte("GET / HTTP/1.0\r\n\r\n"))
		require.NoError(t, err)
		refused.next(t, "a connection that does not speak TLS")
	})

	good, err := tlsLayer(t, ids["n3"].TLSConfig()).Dial(raft.ServerAddress(addr), 5*time.Second)
	require.NoError(t, err, "a node of the domain still gets in")
	defer good.Close()
	s := tlsAccept(t, b)
	assert.Equal(t, "n3", s.ConnectionState().PeerCertificates[0].Subject.CommonName,
		"the first connection Accept returns is the good one: every refused one was dropped")
}

func TestTLSStreamLayerDialRefusesAForeignServer(t *testing.T) {
	ids := tlsDomain(t, "prod")
	foreign := tlsDomain(t, "prod")
	refused := newTLSRefusals()
	f := tlsLayer(t, foreign["n2"].TLSConfig(), agreement.WithTLSLogger(slog.New(refused)))
	a := tlsLayer(t, ids["n1"].TLSConfig())
	_, err := a.Dial(raft.ServerAddress(f.Addr().String()), 5*time.Second)
	assert.ErrorContains(t, err, "certificate signed by unknown authority", "n1 refuses a server of another CA")
	refused.next(t, "n1, whom the foreign server does not know either")
}

func TestTLSStreamLayerDialTimesOut(t *testing.T) {
	ids := tlsDomain(t, "prod")
	ln, err := net.Listen("tcp", "127.0.0.1:0") // accepts (backlog) but never handshakes
	require.NoError(t, err)
	defer ln.Close()
	a := tlsLayer(t, ids["n1"].TLSConfig())
	_, err = a.Dial(raft.ServerAddress(ln.Addr().String()), 200*time.Millisecond)
	assert.ErrorIs(t, err, context.DeadlineExceeded, "a handshake that never completes fails Dial at the timeout")
}

func TestTLSStreamLayerCloseAbandonsPendingHandshakes(t *testing.T) {
	ids := tlsDomain(t, "prod")
	refused := newTLSRefusals()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	l := agreement.NewTLSStreamLayer(ln, nil, ids["n1"].TLSConfig(), agreement.WithTLSLogger(slog.New(refused)))
	c, err := net.Dial("tcp", ln.Addr().String())
	require.NoError(t, err)
	defer c.Close()
	// Make sure the layer has taken the connection: send half a hello.
	_, err = c.Write([]byte{0x16, 0x03, 0x01})
	require.NoError(t, err)

	accepted := make(chan error, 1)
	go func() { _, err := l.Accept(); accepted <- err }()
	closed := make(chan error, 1)
	go func() { closed <- l.Close() }()
	select {
	case err := <-closed:
		assert.NoError(t, err)
	case <-time.After(5 * time.Second): // well below the 10s handshake timeout
		require.FailNow(t, "Close waited for a pending handshake instead of abandoning it")
	}
	select {
	case err := <-accepted:
		assert.ErrorIs(t, err, net.ErrClosed, "a waiting Accept returns when the layer closes")
	case <-time.After(10 * time.Second):
		require.FailNow(t, "Accept did not return after Close")
	}
}

// tlsFSM is a trivial raft FSM: it records what it applies.
type tlsFSM struct {
	mu      sync.Mutex
	applied []string
}

func (f *tlsFSM) Apply(l *raft.Log) any {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.applied = append(f.applied, string(l.Data))
	return nil
}

func (f *tlsFSM) Entries() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.applied...)
}

func (f *tlsFSM) Snapshot() (raft.FSMSnapshot, error) { return tlsSnapshot{}, nil }
func (f *tlsFSM) Restore(rc io.ReadCloser) error      { return rc.Close() }

type tlsSnapshot struct{}

func (tlsSnapshot) Persist(s raft.SnapshotSink) error { return s.Close() }
func (tlsSnapshot) Release()                          {}

type tlsRaftNode struct {
	id      raft.ServerID
	addr    raft.ServerAddress
	raft    *raft.Raft
	fsm     *tlsFSM
	trans   *raft.NetworkTransport
	refused *tlsRefusals
}

func startTLSRaft(t *testing.T, name string, cfg *tls.Config) *tlsRaftNode {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	n := &tlsRaftNode{id: raft.ServerID(name), addr: raft.ServerAddress(ln.Addr().String()), fsm: &tlsFSM{}, refused: newTLSRefusals()}
	layer := agreement.NewTLSStreamLayer(ln, nil, cfg, agreement.WithTLSLogger(slog.New(n.refused)))
	n.trans = raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: layer, MaxPool: 3, Timeout: 2 * time.Second, Logger: hclog.NewNullLogger(),
	})
	c := raft.DefaultConfig()
	c.LocalID = n.id
	c.HeartbeatTimeout = 100 * time.Millisecond
	c.ElectionTimeout = 100 * time.Millisecond
	c.LeaderLeaseTimeout = 100 * time.Millisecond
	c.CommitTimeout = 5 * time.Millisecond
	c.Logger = hclog.NewNullLogger()
	store := raft.NewInmemStore()
	n.raft, err = raft.NewRaft(c, n.fsm, store, store, raft.NewInmemSnapshotStore(), n.trans)
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, n.raft.Shutdown().Error())
		n.trans.Close()
	})
	return n
}

// TestRaftOverTLS runs three raft nodes of one domain over the TLS stream
// layer: they elect a leader and commit entries. A fourth node, whose
// certificate comes from another domain's CA, is added as a voter and never
// receives anything, and its RPCs to the leader are refused.
func TestRaftOverTLS(t *testing.T) {
	ids := tlsDomain(t, "prod")
	foreign := tlsDomain(t, "prod")

	var nodes []*tlsRaftNode
	for _, name := range []string{"n1", "n2", "n3"} {
		nodes = append(nodes, startTLSRaft(t, name, ids[name].TLSConfig()))
	}
	var servers []raft.Server
	for _, n := range nodes {
		servers = append(servers, raft.Server{ID: n.id, Address: n.addr})
	}
	require.NoError(t, nodes[0].raft.BootstrapCluster(raft.Configuration{Servers: servers}).Error())

	var leader *tlsRaftNode
	require.Eventually(t, func() bool {
		for _, n := range nodes {
			if n.raft.State() == raft.Leader {
				leader = n
				return true
			}
		}
		return false
	}, 20*time.Second, 10*time.Millisecond, "the three nodes elect a leader over TLS")

	require.NoError(t, leader.raft.Apply([]byte("first"), 10*time.Second).Error(), "the leader commits an entry")
	for _, n := range nodes {
		require.Eventually(t, func() bool { return len(n.fsm.Entries()) == 1 }, 20*time.Second, 10*time.Millisecond,
			"%s applies the committed entry", n.id)
		assert.Equal(t, []string{"first"}, n.fsm.Entries())
	}

	// The outsider: node n4 of a domain of the same name with another CA.
	out := startTLSRaft(t, "n4", foreign["n4"].TLSConfig())
	require.NoError(t, leader.raft.AddVoter(out.id, out.addr, 0, 10*time.Second).Error(),
		"the three domain nodes are a majority of four, so the configuration change commits")
	require.NoError(t, leader.raft.Apply([]byte("second"), 10*time.Second).Error(), "the domain keeps committing")

	// The leader tries to replicate to n4, again and again; n4 refuses
	// each connection (and the leader refuses n4's certificate).
	for i := 0; i < 3; i++ {
		out.refused.next(t, "the leader's replication attempt")
	}
	term := leader.raft.CurrentTerm()
	var resp raft.RequestVoteResponse
	err := out.trans.RequestVote(leader.id, leader.addr, &raft.RequestVoteRequest{
		RPCHeader: raft.RPCHeader{ID: []byte(out.id), Addr: []byte(out.addr)},
		Term:      term + 100, LastLogIndex: 1 << 40, LastLogTerm: term + 100,
	}, &resp)
	assert.Error(t, err, "the outsider's vote request does not reach the leader")
	leader.refused.next(t, "the outsider's vote request")

	for _, n := range nodes {
		require.Eventually(t, func() bool { return len(n.fsm.Entries()) == 2 }, 20*time.Second, 10*time.Millisecond,
			"%s applies the second entry", n.id)
	}
	// On a loaded machine the three may hold an election of their own, so
	// the term may move a little and another node may lead; what the
	// outsider asked for (term+100) must not have been taken anywhere.
	for _, n := range nodes {
		assert.Less(t, n.raft.CurrentTerm(), term+100, "%s never took the outsider's term", n.id)
	}
	assert.Empty(t, out.fsm.Entries(), "the outsider applied nothing")
	assert.Zero(t, out.raft.LastIndex(), "the outsider received no log entry")
	addr, _ := out.raft.LeaderWithID()
	assert.Empty(t, addr, "the outsider never heard from the leader")
}
