package agreement

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"

	"github.com/hashicorp/go-msgpack/v2/codec"
	"github.com/hashicorp/raft"
)

// The RPC kinds of raft's network transport: the byte that starts each
// request on a connection, followed by the request in msgpack (and, for
// InstallSnapshot, the request's Size bytes of snapshot). These are the
// values hashicorp/raft's NetworkTransport writes; a change there shows up
// as refused RPCs in TestRaftTransportServesEveryRPC.
const (
	rpcAppendEntries   byte = 0
	rpcRequestVote     byte = 1
	rpcInstallSnapshot byte = 2
	rpcTimeoutNow      byte = 3
	rpcRequestPreVote  byte = 4
)

// rpcReadBuffer is the read buffer of an inbound raft connection: room for
// a batch of entries without a system call each.
const rpcReadBuffer = 256 << 10

var errTransportClosed = errors.New("agreement: raft transport closed")

// raftTransport is raft's network transport, with the inbound half served
// here rather than by raft.NetworkTransport, so that every request is
// checked against the certificate of the connection it came on before
// raft sees it (docs/design/security.md, "Raft and forwarding: one certificate,
// one node"). Outbound requests, the AppendEntries pipeline and the
// connection pool are the embedded NetworkTransport's, dialing through the
// mux.
//
// Each inbound connection is served by serve, on the mux's goroutine for
// it, one request at a time in order, as raft's own transport does:
// decode, check, hand to raft (heartbeats to the heartbeat handler), wait
// for the answer, write it. A request that claims another node closes the
// connection before raft is given it. A connection ends after an
// InstallSnapshot (raft's sender never reuses one), so that snapshot bytes
// raft did not read can never be taken for the next request.
//
// Its methods are safe for concurrent use; Close unblocks every serve.
type raftTransport struct {
	*raft.NetworkTransport
	log  *slog.Logger
	rpcs chan raft.RPC

	closeOnce sync.Once
	closed    chan struct{}

	hbMu      sync.Mutex
	heartbeat func(raft.RPC)
}

// newRaftTransport wraps nt, whose stream layer only dials (its Accept
// never returns a connection: inbound connections come to serve).
func newRaftTransport(nt *raft.NetworkTransport, log *slog.Logger) *raftTransport {
	return &raftTransport{NetworkTransport: nt, log: log, rpcs: make(chan raft.RPC), closed: make(chan struct{})}
}

// Consumer is where raft takes inbound requests.
func (t *raftTransport) Consumer() <-chan raft.RPC { return t.rpcs }

// SetHeartbeatHandler sets the function that takes heartbeats (empty
// AppendEntries) outside raft's main loop, as NetworkTransport does.
func (t *raftTransport) SetHeartbeatHandler(fn func(raft.RPC)) {
	t.hbMu.Lock()
	defer t.hbMu.Unlock()
	t.heartbeat = fn
}

// Close stops serving inbound requests and closes the NetworkTransport.
func (t *raftTransport) Close() error {
	t.closeOnce.Do(func() { close(t.closed) })
	return t.NetworkTransport.Close()
}

// serve serves one inbound raft connection until it ends, the peer sends
// what it may not, or the transport closes. The caller closes c.
func (t *raftTransport) serve(c net.Conn) {
	who, bound, err := peerOf(c)
	if err != nil {
		t.log.Warn("raft connection refused", "remote", c.RemoteAddr().String(), "err", err)
		return
	}
	t.serveAs(c, who, bound)
}

// serveAs is serve for a peer already known: who, when bound.
func (t *raftTransport) serveAs(c net.Conn, who peer, bound bool) {
	r := bufio.NewReaderSize(c, rpcReadBuffer)
	w := bufio.NewWriter(c)
	dec := codec.NewDecoder(r, &codec.MsgpackHandle{})
	// Answers are encoded as raft's own transport encodes them.
	eh := &codec.MsgpackHandle{}
	eh.TimeNotBuiltin = true
	enc := codec.NewEncoder(w, eh)
	for {
		kind, err := r.ReadByte()
		if err != nil {
			return
		}
		rpc, heartbeat, err := readRPC(kind, dec, r)
		if err != nil {
			t.log.Debug("raft connection ended: unreadable request", "remote", c.RemoteAddr().String(), "err", err)
			return
		}
		if bound {
			if err := who.checkRPC(rpc.Command); err != nil {
				t.log.Warn("raft request refused; connection closed", "remote", c.RemoteAddr().String(), "err", err)
				return
			}
		}
		resp, err := t.dispatch(rpc, heartbeat)
		if err != nil {
			return
		}
		var errText string
		if resp.Error != nil {
			errText = resp.Error.Error()
		}
		if err := enc.Encode(errText); err != nil {
			return
		}
		if err := enc.Encode(resp.Response); err != nil {
			return
		}
		if err := w.Flush(); err != nil {
			return
		}
		if kind == rpcInstallSnapshot {
			return
		}
	}
}

// readRPC decodes the request that follows a kind byte. heartbeat reports
// an AppendEntries that carries nothing but the leader's term, which raft
// takes on its heartbeat path.
func readRPC(kind byte, dec *codec.Decoder, r io.Reader) (rpc raft.RPC, heartbeat bool, err error) {
	switch kind {
	case rpcAppendEntries:
		req := new(raft.AppendEntriesRequest)
		err = dec.Decode(req)
		rpc.Command = req
		heartbeat = req.Term != 0 && (len(req.Addr) > 0 || req.Leader != nil) &&
			req.PrevLogEntry == 0 && req.PrevLogTerm == 0 && len(req.Entries) == 0 && req.LeaderCommitIndex == 0
	case rpcRequestVote:
		req := new(raft.RequestVoteRequest)
		err = dec.Decode(req)
		rpc.Command = req
	case rpcRequestPreVote:
		req := new(raft.RequestPreVoteRequest)
		err = dec.Decode(req)
		rpc.Command = req
	case rpcInstallSnapshot:
		req := new(raft.InstallSnapshotRequest)
		err = dec.Decode(req)
		rpc.Command = req
		rpc.Reader = io.LimitReader(r, req.Size)
	case rpcTimeoutNow:
		req := new(raft.TimeoutNowRequest)
		err = dec.Decode(req)
		rpc.Command = req
	default:
		err = fmt.Errorf("agreement: unknown raft request kind %d", kind)
	}
	return rpc, heartbeat, err
}

// dispatch hands rpc to raft and waits for its answer.
func (t *raftTransport) dispatch(rpc raft.RPC, heartbeat bool) (raft.RPCResponse, error) {
	answer := make(chan raft.RPCResponse, 1)
	rpc.RespChan = answer
	var fn func(raft.RPC)
	if heartbeat {
		t.hbMu.Lock()
		fn = t.heartbeat
		t.hbMu.Unlock()
	}
	if fn != nil {
		fn(rpc)
	} else {
		select {
		case t.rpcs <- rpc:
		case <-t.closed:
			return raft.RPCResponse{}, errTransportClosed
		}
	}
	select {
	case resp := <-answer:
		return resp, nil
	case <-t.closed:
		return raft.RPCResponse{}, errTransportClosed
	}
}
