package agreement

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/pki"
	"github.com/openhags/hags/internal/wire"
)

// waitBudget bounds every wait for something the network does.
const waitBudget = 20 * time.Second

// testKeys creates the keys of a domain whose node i (1..n) is named n<i>
// and reached at 127.0.0.<i>, and returns their directory. Distinct
// loopback addresses let a test tell one node's address from another's.
func testKeys(t testing.TB, n int) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "keys")
	var nodes []pki.Node
	for i := 1; i <= n; i++ {
		nodes = append(nodes, pki.Node{Number: int32(i), Name: fmt.Sprintf("n%d", i), Addrs: []string{fmt.Sprintf("127.0.0.%d", i)}})
	}
	_, err := pki.Init(dir, "prod", nodes, false)
	require.NoError(t, err, "the domain's keys are created")
	return dir
}

func loadID(t testing.TB, dir, name string) *pki.Identity {
	t.Helper()
	id, err := pki.LoadNode(dir, name)
	require.NoError(t, err, "%s's identity loads", name)
	return id
}

// waitLog waits until logs holds a line containing want.
func waitLog(t *testing.T, logs *syncLog, want, why string) {
	t.Helper()
	require.Eventually(t, func() bool { return strings.Contains(logs.String(), want) }, waitBudget, 5*time.Millisecond,
		"expected the log to say %q: %s", want, why)
}

// tlsNode is one Agreement of a domain over the TLS stream layer, with a
// real engine.
type tlsNode struct {
	node int32
	addr string
	a    *Agreement
	eng  *protocol.Engine
	logs *syncLog
	mu   sync.Mutex
	down bool // a Deliver said this daemon is out of the domain
}

func (n *tlsNode) wasDown() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.down
}

// fastTiming elects within a second on loopback, and is not so tight that
// a loaded machine keeps holding elections.
func fastTiming() Timing {
	return Timing{Heartbeat: 250 * time.Millisecond, Election: 250 * time.Millisecond, LeaderLease: 200 * time.Millisecond,
		Commit: 5 * time.Millisecond, Apply: 5 * time.Second, Dial: 2 * time.Second, IO: time.Second}
}

// startTLSDomain starts nodes 1..n of the domain in dir, all voters, each
// over mutual TLS on its own loopback address, and waits until every one
// is admitted.
func startTLSDomain(t *testing.T, dir string, n int) []*tlsNode {
	t.Helper()
	var nodes []*tlsNode
	var lns []net.Listener
	var voters []Server
	for i := 1; i <= n; i++ {
		ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.%d:0", i))
		require.NoError(t, err, "node %d listens", i)
		lns = append(lns, ln)
		voters = append(voters, Server{Node: int32(i), Addr: ln.Addr().String()})
	}
	for i := 1; i <= n; i++ {
		tn := &tlsNode{node: int32(i), addr: voters[i-1].Addr, eng: protocol.New(), logs: &syncLog{}}
		log := slog.New(slog.NewTextHandler(tn.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
		id := loadID(t, dir, fmt.Sprintf("n%d", i))
		layer := NewTLSStreamLayer(lns[i-1], nil, id.TLSConfig(), WithTLSLogger(log.With("component", "tls")))
		a, err := New(Config{Node: int32(i), Incarnation: uint64(100 + i), Engine: tn.eng, Logger: log,
			Deliver: func(apps []Applied) {
				for _, app := range apps {
					if app.Down {
						tn.mu.Lock()
						tn.down = true
						tn.mu.Unlock()
					}
				}
			},
			Voters: voters, Addr: voters[i-1].Addr, Stream: layer, Timing: fastTiming()})
		require.NoError(t, err, "node %d starts", i)
		tn.a = a
		t.Cleanup(func() { a.Close() })
		nodes = append(nodes, tn)
	}
	require.Eventually(t, func() bool {
		for _, tn := range nodes {
			for _, other := range nodes {
				st, ok := tn.a.NodeState(other.node)
				if !ok || !st.Up {
					return false
				}
			}
		}
		return true
	}, waitBudget, 10*time.Millisecond, "every node is admitted, as every node's log says")
	return nodes
}

// leaderOf waits until one node leads and returns it.
func leaderOf(t *testing.T, nodes []*tlsNode) *tlsNode {
	t.Helper()
	var leader *tlsNode
	require.Eventually(t, func() bool {
		for _, tn := range nodes {
			if tn.a.IsLeader() {
				leader = tn
				return true
			}
		}
		return false
	}, waitBudget, 10*time.Millisecond, "the domain has a leader")
	return leader
}

// forward sends entries on one forwarding connection to addr, made with
// id's certificate, as a follower's forwarder does, and returns each
// answer; it stops at the first failure to read one (the leader closed the
// connection).
func forward(t *testing.T, id *pki.Identity, addr string, entries ...*Entry) ([]forwardReply, error) {
	t.Helper()
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: 5 * time.Second}, Config: id.TLSConfig()}
	c, err := d.DialContext(context.Background(), "tcp", addr)
	require.NoError(t, err, "%s connects to %s", id.Node.Name, addr)
	defer c.Close()
	c.SetDeadline(time.Now().Add(waitBudget))
	_, err = c.Write([]byte{streamForward})
	require.NoError(t, err)
	rd := newForwardReader(c, msgReply)
	var out []forwardReply
	for _, e := range entries {
		if err := writeFrame(c, msgEntry, e); err != nil {
			return out, err
		}
		var rep forwardReply
		if err := readFrame(rd, &rep); err != nil {
			return out, err
		}
		out = append(out, rep)
	}
	return out, nil
}

// TestForwardedEntriesMustBeTheSendersOwn: over mutual TLS, node 2's
// certificate cannot forward an admission or an events entry for node 1:
// the leader refuses each, logs it, closes the connection, and appends
// nothing; node 1 stays admitted and its clients' groups untouched. Node
// 2's own entries still go through.
func TestForwardedEntriesMustBeTheSendersOwn(t *testing.T) {
	dir := testKeys(t, 3)
	nodes := startTLSDomain(t, dir, 3)
	leader := leaderOf(t, nodes)
	attacker := loadID(t, dir, "n2")
	before, ok := leader.a.NodeState(1)
	require.True(t, ok)
	applied := leader.a.fsm.AppliedIndex()

	t.Run("admission", func(t *testing.T) {
		reps, err := forward(t, attacker, leader.addr, &Entry{Kind: EntryAdmit, Node: 1, Inc: before.Inc + 1000, Seq: 1})
		require.NoError(t, err, "the leader answers the forged admission")
		require.Len(t, reps, 1)
		assert.Contains(t, reps[0].Err, "claims another node", "the answer is a refusal")
		assert.Zero(t, reps[0].Status, "nothing was applied")
		waitLog(t, leader.logs, "forwarded entry refused", "the leader logs the forged admission")
	})
	t.Run("events", func(t *testing.T) {
		c := protocol.ClientID{Node: 1, Conn: before.Inc<<32 | 77}
		attrs := &wire.Attributes{GroupName: "forged", NumPhases: wire.OnePhase, DefaultVote: wire.VoteApprove}
		forged := &Entry{Kind: EntryEvents, Node: 1, Inc: before.Inc, Epoch: before.Epoch, Seq: before.Seq + 1<<20, Events: []protocol.Event{
			{Kind: protocol.EventConnect, Client: c, Cred: protocol.Cred{Pid: 1}, Hello: &wire.Hello{Pid: 1, DeactivateScript: "/usr/bin/env"}},
			{Kind: protocol.EventRequest, Client: c, Request: &wire.Request{Op: wire.OpJoin, Token: 1, Group: "forged", Instance: 1, Attributes: attrs}},
		}}
		// The second entry is never read: the leader closes the
		// connection after refusing the first.
		reps, err := forward(t, attacker, leader.addr, forged, forged)
		require.Len(t, reps, 1, "one answer, then the connection is closed (read error: %v)", err)
		assert.Contains(t, reps[0].Err, "claims another node", "the answer is a refusal")
		waitLog(t, leader.logs, "an entry (events) for node 1 from the certificate of node 2", "the leader logs the forged events entry")
	})

	assert.Equal(t, applied, leader.a.fsm.AppliedIndex(), "the leader applied no entry")
	for _, tn := range nodes {
		st, ok := tn.a.NodeState(1)
		require.True(t, ok)
		assert.Equal(t, before, st, "node %d's log still has node 1 as it was", tn.node)
		var has bool
		tn.a.View(func() { _, has = tn.eng.Group("forged") })
		assert.False(t, has, "node %d has no group made by the forged events", tn.node)
	}
	assert.False(t, nodes[0].wasDown(), "node 1 was never put out of the domain")

	// Node 2's certificate may forward node 2's own entries: a retry of
	// its admission is answered as a duplicate (by whichever node leads
	// by then: the machine's load may have caused an election).
	own, ok := leader.a.NodeState(2)
	require.True(t, ok)
	var rep forwardReply
	for deadline := time.Now().Add(waitBudget); ; {
		reps, err := forward(t, attacker, leaderOf(t, nodes).addr, &Entry{Kind: EntryAdmit, Node: 2, Inc: own.Inc, Seq: own.Seq})
		require.NoError(t, err)
		require.Len(t, reps, 1)
		rep = reps[0]
		if !strings.Contains(rep.Err, errNotLeader.Error()) || time.Now().After(deadline) {
			break
		}
	}
	assert.Empty(t, rep.Err, "node 2's own entry is taken")
	assert.Equal(t, StatusDuplicate, rep.Status, "and found already applied")
}

// dialLayer is a raft.StreamLayer that only dials: over TLS with a given
// certificate, announcing a raft connection to the mux.
type dialLayer struct {
	cfg    *tls.Config
	closed chan struct{}
	once   sync.Once
}

func newDialLayer(id *pki.Identity) *dialLayer {
	return &dialLayer{cfg: id.TLSConfig(), closed: make(chan struct{})}
}

func (l *dialLayer) Dial(addr raft.ServerAddress, timeout time.Duration) (net.Conn, error) {
	d := &tls.Dialer{NetDialer: &net.Dialer{Timeout: timeout}, Config: l.cfg}
	c, err := d.DialContext(context.Background(), "tcp", string(addr))
	if err != nil {
		return nil, err
	}
	if _, err := c.Write([]byte{streamRaft}); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (l *dialLayer) Accept() (net.Conn, error) { <-l.closed; return nil, net.ErrClosed }
func (l *dialLayer) Close() error              { l.once.Do(func() { close(l.closed) }); return nil }
func (l *dialLayer) Addr() net.Addr            { return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2), Port: 1} }

// rawRaft is a raft client over dialLayer.
func rawRaft(t *testing.T, id *pki.Identity) *raft.NetworkTransport {
	t.Helper()
	nt := raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: newDialLayer(id), MaxPool: 1, Timeout: 5 * time.Second, Logger: hclog.NewNullLogger()})
	t.Cleanup(func() { nt.Close() })
	return nt
}

// TestRaftRequestsMustComeFromTheirServer: node 2's certificate sends the
// leader raft requests that claim to come from node 1 (server id "1"), with
// a term far ahead: a vote request, an AppendEntries, a TimeoutNow. Each
// is refused before raft sees it: the connection is closed, the refusal
// logged, and no node's term comes near the forged ones (an election the
// test machine's load may cause moves it by a few, not by a hundred). So
// is a request with node 2's own id that gives node 1's address as its
// own.
func TestRaftRequestsMustComeFromTheirServer(t *testing.T) {
	dir := testKeys(t, 3)
	nodes := startTLSDomain(t, dir, 3)
	leader := leaderOf(t, nodes)
	term := leader.a.Raft().CurrentTerm()
	nt := rawRaft(t, loadID(t, dir, "n2"))
	target := raft.ServerAddress(leader.addr)
	as1 := raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("1"), Addr: []byte(nodes[0].addr)}

	var vote raft.RequestVoteResponse
	err := nt.RequestVote(ServerID(leader.node), target, &raft.RequestVoteRequest{RPCHeader: as1,
		Term: term + 100, LastLogIndex: 1 << 40, LastLogTerm: term + 100, LeadershipTransfer: true}, &vote)
	assert.Error(t, err, "the forged vote request gets no answer")
	waitLog(t, leader.logs, `RequestVote claiming server id \"1\" from the certificate of node 2`, "the leader logs the forged vote request")

	var app raft.AppendEntriesResponse
	err = nt.AppendEntries(ServerID(leader.node), target, &raft.AppendEntriesRequest{RPCHeader: as1,
		Term: term + 200, Leader: []byte(nodes[0].addr)}, &app)
	assert.Error(t, err, "the forged heartbeat gets no answer")
	waitLog(t, leader.logs, `AppendEntries claiming server id \"1\"`, "the leader logs the forged AppendEntries")

	var tn raft.TimeoutNowResponse
	err = nt.TimeoutNow(ServerID(leader.node), target, &raft.TimeoutNowRequest{RPCHeader: as1}, &tn)
	assert.Error(t, err, "the forged TimeoutNow gets no answer")
	waitLog(t, leader.logs, `TimeoutNow claiming server id \"1\"`, "the leader logs the forged TimeoutNow")

	own := raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("2"), Addr: []byte(nodes[0].addr)}
	err = nt.RequestVote(ServerID(leader.node), target, &raft.RequestVoteRequest{RPCHeader: own,
		Term: term + 300, LastLogIndex: 1 << 40, LastLogTerm: term + 300, LeadershipTransfer: true}, &vote)
	assert.Error(t, err, "a vote request giving node 1's address gets no answer")
	waitLog(t, leader.logs, "which its certificate does not list", "the leader logs the borrowed address")

	// The domain still commits, and every node's term is nowhere near the
	// forged ones.
	require.Eventually(t, func() bool {
		for _, n := range nodes {
			if n.a.IsLeader() {
				_, err := n.a.append(&Entry{Kind: EntryTick, Node: n.node})
				return err == nil
			}
		}
		return false
	}, waitBudget, 10*time.Millisecond, "a leader still commits")
	for _, n := range nodes {
		assert.Less(t, n.a.Raft().CurrentTerm(), term+100, "node %d's term did not take the forged requests' terms", n.node)
	}
}

// TestRaftTransportServesEveryRPC: the inbound server speaks raft's own
// network protocol. A raft.NetworkTransport with node 2's certificate
// sends each kind of request (heartbeat, AppendEntries with entries
// through the pipeline, RequestVote, RequestPreVote, TimeoutNow,
// InstallSnapshot with its data), honestly claiming node 2; each reaches
// the consumer (or the heartbeat handler) intact, and each answer reaches
// the sender.
func TestRaftTransportServesEveryRPC(t *testing.T) {
	dir := testKeys(t, 3)
	logs := &syncLog{}
	log := slog.New(slog.NewTextHandler(logs, nil))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	m := newMux(NewTLSStreamLayer(ln, nil, loadID(t, dir, "n1").TLSConfig()), log, func(net.Conn) {})
	rt := newRaftTransport(raft.NewNetworkTransportWithConfig(&raft.NetworkTransportConfig{
		Stream: raftLayer{m}, MaxPool: 1, Timeout: 5 * time.Second, Logger: hclog.NewNullLogger()}), log)
	m.raft = rt.serve
	go m.run()
	t.Cleanup(func() { rt.Close(); m.close() })
	heartbeats := make(chan raft.RPC, 1)
	rt.SetHeartbeatHandler(func(rpc raft.RPC) { heartbeats <- rpc })

	// The server: answer whatever arrives, after checking it.
	got := make(chan any, 16)
	snapData := make(chan []byte, 1)
	stop := make(chan struct{})
	t.Cleanup(func() { close(stop) })
	go func() {
		for {
			var rpc raft.RPC
			select {
			case rpc = <-rt.Consumer():
			case <-stop:
				return
			}
			got <- rpc.Command
			switch rpc.Command.(type) {
			case *raft.AppendEntriesRequest:
				rpc.Respond(&raft.AppendEntriesResponse{Term: 7, Success: true}, nil)
			case *raft.RequestVoteRequest:
				rpc.Respond(&raft.RequestVoteResponse{Term: 7, Granted: true}, nil)
			case *raft.RequestPreVoteRequest:
				rpc.Respond(&raft.RequestPreVoteResponse{Term: 7, Granted: true}, nil)
			case *raft.TimeoutNowRequest:
				rpc.Respond(&raft.TimeoutNowResponse{}, nil)
			case *raft.InstallSnapshotRequest:
				b, _ := io.ReadAll(rpc.Reader)
				snapData <- b
				rpc.Respond(&raft.InstallSnapshotResponse{Term: 7, Success: true}, nil)
			}
		}
	}()
	nt := rawRaft(t, loadID(t, dir, "n2"))
	to := raft.ServerAddress(ln.Addr().String())
	hdr := raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("2"), Addr: []byte("127.0.0.2:7000")}
	next := func(what string) any {
		t.Helper()
		select {
		case c := <-got:
			return c
		case <-time.After(waitBudget):
			require.FailNow(t, "nothing reached raft", "expected the %s to reach the consumer", what)
			return nil
		}
	}

	go func() {
		var resp raft.AppendEntriesResponse
		nt.AppendEntries("1", to, &raft.AppendEntriesRequest{RPCHeader: hdr, Term: 7, Leader: []byte("127.0.0.2:7000")}, &resp)
	}()
	select {
	case rpc := <-heartbeats:
		req, ok := rpc.Command.(*raft.AppendEntriesRequest)
		require.True(t, ok, "a heartbeat is an AppendEntries")
		assert.Equal(t, uint64(7), req.Term)
		rpc.Respond(&raft.AppendEntriesResponse{Term: 7, Success: true}, nil)
	case <-time.After(waitBudget):
		require.FailNow(t, "the heartbeat did not reach the heartbeat handler")
	}

	pipe, err := nt.AppendEntriesPipeline("1", to)
	require.NoError(t, err, "the pipeline opens")
	results := make(chan raft.AppendFuture, 3)
	go func() { // as raft does, answers are taken as they come
		for f := range pipe.Consumer() {
			results <- f
		}
	}()
	for i := uint64(1); i <= 3; i++ {
		_, err := pipe.AppendEntries(&raft.AppendEntriesRequest{RPCHeader: hdr, Term: 7, PrevLogEntry: i - 1, LeaderCommitIndex: i,
			Entries: []*raft.Log{{Index: i, Term: 7, Type: raft.LogCommand, Data: []byte(fmt.Sprintf("entry %d", i)), AppendedAt: time.Unix(1000, 0)}}},
			new(raft.AppendEntriesResponse))
		require.NoError(t, err, "pipelined AppendEntries %d is sent", i)
	}
	for i := uint64(1); i <= 3; i++ {
		req, ok := next("pipelined AppendEntries").(*raft.AppendEntriesRequest)
		require.True(t, ok)
		require.Len(t, req.Entries, 1)
		assert.Equal(t, fmt.Sprintf("entry %d", i), string(req.Entries[0].Data), "entries arrive in order, intact")
		assert.True(t, req.Entries[0].AppendedAt.Equal(time.Unix(1000, 0)), "times survive")
		select {
		case f := <-results:
			require.NoError(t, f.Error(), "pipelined AppendEntries %d is answered", i)
			assert.True(t, f.Response().Success)
			assert.Equal(t, i, f.Request().Entries[0].Index, "answers come in order")
		case <-time.After(waitBudget):
			require.FailNow(t, "no answer to a pipelined AppendEntries")
		}
	}
	require.NoError(t, pipe.Close())

	var vote raft.RequestVoteResponse
	require.NoError(t, nt.RequestVote("1", to, &raft.RequestVoteRequest{RPCHeader: hdr, Term: 8, Candidate: []byte("127.0.0.2:7000")}, &vote))
	assert.IsType(t, &raft.RequestVoteRequest{}, next("vote request"))
	assert.True(t, vote.Granted, "the vote request's answer arrives")

	var pre raft.RequestPreVoteResponse
	require.NoError(t, nt.RequestPreVote("1", to, &raft.RequestPreVoteRequest{RPCHeader: hdr, Term: 8}, &pre))
	assert.IsType(t, &raft.RequestPreVoteRequest{}, next("pre-vote request"))
	assert.True(t, pre.Granted, "the pre-vote's answer arrives")

	var tn raft.TimeoutNowResponse
	require.NoError(t, nt.TimeoutNow("1", to, &raft.TimeoutNowRequest{RPCHeader: hdr}, &tn))
	assert.IsType(t, &raft.TimeoutNowRequest{}, next("TimeoutNow"))

	data := []byte(strings.Repeat("snapshot bytes ", 100000))
	var snap raft.InstallSnapshotResponse
	require.NoError(t, nt.InstallSnapshot("1", to, &raft.InstallSnapshotRequest{RPCHeader: hdr, Term: 8, Leader: []byte("127.0.0.2:7000"),
		SnapshotVersion: raft.SnapshotVersionMax, Size: int64(len(data))}, &snap, strings.NewReader(string(data))))
	assert.IsType(t, &raft.InstallSnapshotRequest{}, next("InstallSnapshot"))
	assert.Equal(t, data, <-snapData, "the snapshot's bytes arrive whole")
	assert.True(t, snap.Success, "the InstallSnapshot's answer arrives")
	assert.NotContains(t, logs.String(), "refused", "nothing honest was refused")
}
