package agreement

import (
	"bytes"
	"io"
	"log/slog"
	"net"
	"testing"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/raft"
	"github.com/stretchr/testify/require"
)

// rpcBytes is what raft's NetworkTransport writes for one request.
func rpcBytes(t testing.TB, kind byte, req any, trailer []byte) []byte {
	var buf bytes.Buffer
	buf.WriteByte(kind)
	h := &codec.MsgpackHandle{}
	h.TimeNotBuiltin = true
	require.NoError(t, codec.NewEncoder(&buf, h).Encode(req))
	buf.Write(trailer)
	return buf.Bytes()
}

// FuzzRaftInbound feeds arbitrary bytes, as if from node 2's certificate,
// to the inbound raft server: whatever they are, it returns when the
// connection ends, never panics, and raft is handed only requests whose
// server id is node 2's and whose addresses node 2's certificate lists.
func FuzzRaftInbound(f *testing.F) {
	dir := testKeys(f, 2)
	id := loadID(f, dir, "n2")
	who := peer{node: 2, name: "n2", cert: id.Certificate.Leaf}
	own := raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("2"), Addr: []byte("127.0.0.2:7000")}
	other := raft.RPCHeader{ProtocolVersion: raft.ProtocolVersionMax, ID: []byte("1"), Addr: []byte("127.0.0.1:7000")}
	for _, h := range []raft.RPCHeader{own, other} {
		f.Add(rpcBytes(f, rpcAppendEntries, &raft.AppendEntriesRequest{RPCHeader: h, Term: 3, Leader: h.Addr}, nil))
		f.Add(rpcBytes(f, rpcAppendEntries, &raft.AppendEntriesRequest{RPCHeader: h, Term: 3, PrevLogEntry: 1, LeaderCommitIndex: 2,
			Entries: []*raft.Log{{Index: 2, Term: 3, Data: []byte("x")}}}, nil))
		f.Add(rpcBytes(f, rpcRequestVote, &raft.RequestVoteRequest{RPCHeader: h, Term: 9, Candidate: h.Addr}, nil))
		f.Add(rpcBytes(f, rpcRequestPreVote, &raft.RequestPreVoteRequest{RPCHeader: h, Term: 9}, nil))
		f.Add(rpcBytes(f, rpcTimeoutNow, &raft.TimeoutNowRequest{RPCHeader: h}, nil))
		snap := rpcBytes(f, rpcInstallSnapshot, &raft.InstallSnapshotRequest{RPCHeader: h, Term: 9, Size: 4}, []byte("data"))
		f.Add(append(snap, rpcBytes(f, rpcTimeoutNow, &raft.TimeoutNowRequest{RPCHeader: other}, nil)...))
	}
	// A request of node 2 followed by one claiming node 1.
	f.Add(append(rpcBytes(f, rpcRequestPreVote, &raft.RequestPreVoteRequest{RPCHeader: own, Term: 9}, nil),
		rpcBytes(f, rpcRequestVote, &raft.RequestVoteRequest{RPCHeader: other, Term: 9}, nil)...))

	f.Fuzz(func(t *testing.T, data []byte) {
		rt := &raftTransport{log: slog.New(slog.NewTextHandler(io.Discard, nil)), rpcs: make(chan raft.RPC), closed: make(chan struct{})}
		got := make(chan error, 1)
		go func() {
			var bad error
			for rpc := range rt.rpcs {
				if err := who.checkRPC(rpc.Command); err != nil && bad == nil {
					bad = err
				}
				if rpc.Reader != nil {
					io.Copy(io.Discard, rpc.Reader)
				}
				rpc.Respond(nil, nil)
			}
			got <- bad
		}()
		srv, cli := net.Pipe()
		go io.Copy(io.Discard, cli) // the answers
		go func() {
			cli.Write(data)
			cli.Close()
		}()
		rt.serveAs(srv, who, true)
		srv.Close()
		close(rt.rpcs)
		if err := <-got; err != nil {
			t.Fatalf("raft was handed a request node 2 may not send: %v", err)
		}
	})
}
