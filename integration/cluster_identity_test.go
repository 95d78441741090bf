package integration

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/agreement"
	"github.com/openhags/hags/daemon/ipc"
	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/pki"
	"github.com/openhags/hags/internal/wire"
)

// The first byte a daemon writes on a connection to another daemon says
// what it is for (daemon/agreement/mux.go): raft, or entries forwarded to
// the leader.
const (
	kindRaft    byte = 'R'
	kindForward byte = 'F'
)

// initKeys runs hagsctl domain init for nodes node1..nodeN on 127.0.0.1.
func initKeys(t *testing.T, n int) string {
	t.Helper()
	keys := filepath.Join(t.TempDir(), "keys")
	args := []string{"domain", "init", "--dir", keys, "--domain", "multi"}
	for i := 1; i <= n; i++ {
		args = append(args, "--node", fmt.Sprintf("%d=node%d:127.0.0.1", i, i))
	}
	out, err := exec.Command(filepath.Join(bin, "hagsctl"), args...).CombinedOutput()
	require.NoError(t, err, "hagsctl domain init makes the keys: %s", out)
	return keys
}

// forger holds a node's certificate and key, as someone who stole them
// (or the node itself, misbehaving) would, and talks to daemons with them.
type forger struct {
	t   *testing.T
	cfg *tls.Config
}

func newForger(t *testing.T, keys, name string) *forger {
	t.Helper()
	id, err := pki.LoadNode(keys, name)
	require.NoError(t, err, "the forger loads %s's keys", name)
	return &forger{t: t, cfg: id.TLSConfig()}
}

// dial opens a connection of the given kind to a daemon's raft address. A
// refused handshake may surface here or on the first read.
func (f *forger) dial(addr string, kind byte) (net.Conn, error) {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: f.cfg}
	c, err := d.DialContext(context.Background(), "tcp", addr)
	if err != nil {
		return nil, err
	}
	c.SetDeadline(time.Now().Add(wait))
	if _, err := c.Write([]byte{kind}); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// forwardReply is the leader's answer to a forwarded entry, as it is on
// the wire.
type forwardReply struct {
	Status uint8  `msgpack:"s,omitempty"`
	Epoch  uint64 `msgpack:"e,omitempty"`
	Err    string `msgpack:"err,omitempty"`
}

// Forwarded entries travel in internal/wire's frames with message types of
// their own and a larger bound (daemon/agreement/forward.go).
const (
	forwardEntry    wire.MsgType = 1
	forwardReplyMsg wire.MsgType = 2
	forwardMaxFrame              = 16 << 20
)

// forward sends one entry on a new forwarding connection, framed as a
// follower frames it, and reads the answer.
func (f *forger) forward(addr string, e *agreement.Entry) (forwardReply, error) {
	c, err := f.dial(addr, kindForward)
	if err != nil {
		return forwardReply{}, err
	}
	defer c.Close()
	frame, err := wire.AppendFrameWithin(nil, forwardEntry, e, forwardMaxFrame)
	require.NoError(f.t, err)
	if _, err := c.Write(frame); err != nil {
		return forwardReply{}, err
	}
	r := wire.NewReaderWithin(c, func(t wire.MsgType) bool { return t == forwardReplyMsg }, forwardMaxFrame)
	_, body, err := r.Next()
	if err != nil {
		return forwardReply{}, err
	}
	var rep forwardReply
	require.NoError(f.t, wire.Decode(body, &rep), "the answer decodes")
	return rep, nil
}

// raft returns a raft client that dials with the forger's certificate.
func (f *forger) raft() *raft.NetworkTransport {
	layer := &forgerLayer{f: f, closed: make(chan struct{})}
	nt := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: layer, MaxPool: 1, Timeout: 5 * time.Second, Logger: hclog.NewNullLogger()})
	f.t.Cleanup(func() { nt.Close() })
	return nt
}

// forgerLayer is a raft.StreamLayer that only dials.
type forgerLayer struct {
	f      *forger
	closed chan struct{}
}

func (l *forgerLayer) Dial(addr raft.ServerAddress, _ time.Duration) (net.Conn, error) {
	return l.f.dial(string(addr), kindRaft)
}
func (l *forgerLayer) Accept() (net.Conn, error) { <-l.closed; return nil, net.ErrClosed }
func (l *forgerLayer) Close() error {
	select {
	case <-l.closed:
	default:
		close(l.closed)
	}
	return nil
}
func (l *forgerLayer) Addr() net.Addr { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1} }

// groupsOf asks the daemon at socket for its groups.
func groupsOf(t *testing.T, socket string) []wire.GroupSummary {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	a, err := ipc.DialAdmin(ctx, socket, "identity-test")
	require.NoError(t, err)
	defer a.Close()
	rep, err := a.Query(ctx, wire.AdminQuery{What: "groups"})
	require.NoError(t, err)
	return rep.Groups
}

// termRe reads the term a daemon logs when its leadership changes.
var termRe = regexp.MustCompile(`leadership changed.* term=(\d+)`)

// forgedTerm is far beyond any term a test domain reaches by itself.
const forgedTerm = 1 << 40

// TestForgedIdentityIsRefused: three daemons over mutual TLS. Someone
// holding node 2's certificate and key connects to the daemons as node 1:
// forwards an admission of node 1 with a higher incarnation (which would
// put the real node 1 out of its domain), forwards node 1's events (a
// client connecting as root with a script and joining a group, under each
// epoch node 1 could have), and sends raft requests as server 1 with a
// term far ahead. Each is refused and logged; node 1 keeps its place, no
// group appears, no daemon ever takes the forged terms, and the domain
// goes on agreeing.
func TestForgedIdentityIsRefused(t *testing.T) {
	keys := initKeys(t, 3)
	m := startMulti(t, 3, "--pki-dir", keys)
	joinAll(t, m, "g", "p1", "p2", "p3")
	lead := m.leader()
	addr := func(i int) string { return flagValue(m.args[i], "--addr") }
	f := newForger(t, keys, "node2")
	st1 := status(t, m.sockets[0])
	marks := make([]int, 3)
	for i := range marks {
		marks[i] = len(m.daemons[i].Log.All())
	}

	t.Run("admission", func(t *testing.T) {
		rep, err := f.forward(addr(lead), &agreement.Entry{Kind: agreement.EntryAdmit, Node: 1, Inc: st1.Incarnation + 1000, Seq: 1})
		require.NoError(t, err, "the leader answers")
		assert.Contains(t, rep.Err, "claims another node", "the forged admission is refused")
		assert.Zero(t, rep.Status, "and not applied")
		_, _, err = m.daemons[lead].Log.WaitFor(regexp.MustCompile(`forwarded entry refused.*admit.*for node 1 from the certificate of node 2`), marks[lead], wait)
		assert.NoError(t, err, "the leader logs the refusal")
	})
	t.Run("events", func(t *testing.T) {
		c := protocol.ClientID{Node: 1, Conn: st1.Incarnation<<32 | 999}
		attrs := &wire.Attributes{GroupName: "-Ssh", NumPhases: wire.OnePhase, DefaultVote: wire.VoteApprove}
		for epoch := uint64(1); epoch <= 40; epoch++ { // node 1's epoch is the index of its admission: a small number
			rep, err := f.forward(addr(lead), &agreement.Entry{Kind: agreement.EntryEvents, Node: 1, Inc: st1.Incarnation,
				Epoch: epoch, Seq: 1 << 40, Events: []protocol.Event{
					{Kind: protocol.EventConnect, Client: c, Cred: protocol.Cred{Pid: 1}, Hello: &wire.Hello{Pid: 1, DeactivateScript: "/usr/bin/env"}},
					{Kind: protocol.EventRequest, Client: c, Request: &wire.Request{Op: wire.OpJoin, Token: 1, Group: "-Ssh", Instance: 1, Attributes: attrs}},
				}})
			require.NoError(t, err, "the leader answers")
			require.Contains(t, rep.Err, "claims another node", "the forged events entry (epoch %d) is refused", epoch)
		}
		_, _, err := m.daemons[lead].Log.WaitFor(regexp.MustCompile(`forwarded entry refused.*events.*for node 1 from the certificate of node 2`), marks[lead], wait)
		assert.NoError(t, err, "the leader logs the refusal")
	})
	t.Run("raft", func(t *testing.T) {
		nt := f.raft()
		as1 := raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("1"), Addr: []byte(addr(0))}
		var vote raft.RequestVoteResponse
		err := nt.RequestVote(agreement.ServerID(int32(lead+1)), raft.ServerAddress(addr(lead)), &raft.RequestVoteRequest{
			RPCHeader: as1, Term: forgedTerm, LastLogIndex: 1 << 40, LastLogTerm: forgedTerm, LeadershipTransfer: true}, &vote)
		assert.Error(t, err, "the forged vote request is not answered")
		_, _, err = m.daemons[lead].Log.WaitFor(regexp.MustCompile(`raft request refused.*RequestVote claiming server id`), marks[lead], wait)
		assert.NoError(t, err, "the leader logs the refusal")

		follower := (lead + 1) % 3
		var app raft.AppendEntriesResponse
		err = nt.AppendEntries(agreement.ServerID(int32(follower+1)), raft.ServerAddress(addr(follower)), &raft.AppendEntriesRequest{
			RPCHeader: as1, Term: 2 * forgedTerm, Leader: []byte(addr(0))}, &app)
		assert.Error(t, err, "the forged heartbeat is not answered")
		_, _, err = m.daemons[follower].Log.WaitFor(regexp.MustCompile(`raft request refused.*AppendEntries claiming server id`), marks[follower], wait)
		assert.NoError(t, err, "the follower logs the refusal")
	})

	// The domain goes on: node 1's client changes the state and everyone
	// sees it, so node 1 is still admitted and a leader still commits.
	act(t, func() { require.NoError(t, m.clients["p1"].Send("state 1 after-forgery")) },
		`^APPROVED .*proto=STATE_VALUE_CHANGE .*state="after-forgery"`, m.all("p1", "p2", "p3")...)
	for i := range 3 {
		for _, l := range m.daemons[i].Log.All()[marks[i]:] {
			// A forged term taken by any daemon ends up in a leader's
			// step-down line; an election of the machine's own making
			// moves the term by a few.
			if mt := termRe.FindStringSubmatch(l); mt != nil {
				term, err := strconv.ParseUint(mt[1], 10, 64)
				require.NoError(t, err)
				assert.Less(t, term, uint64(forgedTerm), "hagsd %d never took a forged term: %s", i+1, l)
			}
			assert.NotContains(t, l, "another daemon was admitted with this node number", "hagsd %d was not replaced", i+1)
		}
		var names []string
		for _, g := range groupsOf(t, m.sockets[i]) {
			names = append(names, g.Name)
		}
		assert.Contains(t, names, "g", "hagsd %d has the real group", i+1)
		assert.NotContains(t, names, "-Ssh", "hagsd %d has no group made by the forged events", i+1)
	}
	assert.Equal(t, st1.Incarnation, status(t, m.sockets[0]).Incarnation, "node 1 is the same daemon")
}

// TestRevokedCertificateIsRefused: node 4's certificate is revoked (hagsctl
// domain revoke) before the domain starts. Whoever still holds it cannot
// forward to the leader or send it raft requests: the handshake fails and
// the daemon logs that the certificate is revoked. A daemon started with
// it does not start.
func TestRevokedCertificateIsRefused(t *testing.T) {
	keys := initKeys(t, 4)
	f := newForger(t, keys, "node4") // loaded before the revocation, as a thief's copy would be
	out, err := exec.Command(filepath.Join(bin, "hagsctl"), "domain", "revoke", "--dir", keys, "--node", "4").CombinedOutput()
	require.NoError(t, err, "hagsctl domain revoke: %s", out)
	assert.Contains(t, string(out), "restart each daemon", "revoke says the daemons must restart to read the list")

	m := startMulti(t, 3, "--pki-dir", keys)
	lead := m.leader()
	leaderAddr := flagValue(m.args[lead], "--addr")
	mark := len(m.daemons[lead].Log.All())
	revoked := regexp.MustCompile(`refused a connection.*certificate revoked.*node 4 \(node4\)`)

	_, err = f.forward(leaderAddr, &agreement.Entry{Kind: agreement.EntryAdmit, Node: 4, Inc: 1, Seq: 1})
	assert.Error(t, err, "the revoked certificate cannot forward")
	_, at, err := m.daemons[lead].Log.WaitFor(revoked, mark, wait)
	require.NoError(t, err, "the leader logs the revoked certificate")

	var vote raft.RequestVoteResponse
	err = f.raft().RequestVote("1", raft.ServerAddress(leaderAddr), &raft.RequestVoteRequest{
		RPCHeader: raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("4"), Addr: []byte("127.0.0.1:1")},
		Term:      1 << 40, LastLogIndex: 1 << 40, LastLogTerm: 1 << 40}, &vote)
	assert.Error(t, err, "the revoked certificate cannot send raft requests")
	_, _, err = m.daemons[lead].Log.WaitFor(revoked, at+1, wait)
	assert.NoError(t, err, "the leader logs it again")

	ports := freePorts(t, 2)
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cmd := exec.CommandContext(ctx, filepath.Join(bin, "hagsd"), "--domain", "multi", "--node", "4",
		"--voters", flagValue(m.args[0], "--voters"), "--addr", fmt.Sprintf("127.0.0.1:%d", ports[0]),
		"--gossip", fmt.Sprintf("127.0.0.1:%d", ports[1]), "--join", flagValue(m.args[0], "--join"),
		"--data-dir", filepath.Join(m.dir, "data4"), "--socket", filepath.Join(m.dir, "n4.sock"), "--pki-dir", keys)
	out, err = cmd.CombinedOutput()
	assert.Error(t, err, "hagsd with the revoked certificate exits with an error")
	assert.NoError(t, ctx.Err(), "it exits at once rather than running")
	assert.Regexp(t, `certificate revoked`, string(out), "and says why")
}
