package agreement

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"

	"github.com/hashicorp/raft"

	"github.com/openhags/hags/internal/pki"
)

// errClaim: a peer spoke for a node other than the one its certificate
// names.
var errClaim = errors.New("agreement: the peer claims another node than its certificate's")

// peer is who is at the other end of an accepted connection, as its
// certificate says. It is plain data, read once when the connection is
// served.
type peer struct {
	node int32
	name string
	cert *x509.Certificate
}

// peerOf returns the node whose certificate the connection was
// authenticated with. bound is false when the connection is not TLS (a
// domain without keys): then the peer's identity is unknown and nothing it
// claims can be checked. A TLS connection whose handshake has not completed
// or whose certificate names no node is an error, never unbound.
func peerOf(c net.Conn) (p peer, bound bool, err error) {
	tc, ok := c.(*tls.Conn)
	if !ok {
		return peer{}, false, nil
	}
	st := tc.ConnectionState()
	if !st.HandshakeComplete || len(st.PeerCertificates) == 0 {
		return peer{}, true, fmt.Errorf("agreement: %s: no authenticated peer certificate", c.RemoteAddr())
	}
	cert := st.PeerCertificates[0]
	_, node, name, err := pki.PeerNode(cert)
	if err != nil {
		return peer{}, true, err
	}
	return peer{node: node, name: name, cert: cert}, true, nil
}

// checkEntry reports whether the peer may forward e: only entries of its
// own node.
func (p peer) checkEntry(e *Entry) error {
	if e.Node != p.node {
		return fmt.Errorf("%w: an entry (%s) for node %d from the certificate of node %d (%s)", errClaim, e.Kind, e.Node, p.node, p.name)
	}
	return nil
}

// checkRPC reports whether the peer may send the raft request cmd: its
// header's server id must be the peer's node, and every address it gives
// for itself (the header's, and the older leader or candidate field) must
// name a host the peer's certificate lists. The certificate binds the
// host, not the port.
func (p peer) checkRPC(cmd any) error {
	var h raft.RPCHeader
	var own []byte // the request's older address field, if it has one
	switch req := cmd.(type) {
	case *raft.AppendEntriesRequest:
		h, own = req.RPCHeader, req.Leader
	case *raft.RequestVoteRequest:
		h, own = req.RPCHeader, req.Candidate
	case *raft.RequestPreVoteRequest:
		h = req.RPCHeader
	case *raft.InstallSnapshotRequest:
		h, own = req.RPCHeader, req.Leader
	case *raft.TimeoutNowRequest:
		h = req.RPCHeader
	default:
		return fmt.Errorf("agreement: raft request of unknown type %T", cmd)
	}
	if got, want := raft.ServerID(h.ID), ServerID(p.node); got != want {
		return fmt.Errorf("%w: %s claiming server id %q from the certificate of node %d (%s)", errClaim, rpcName(cmd), got, p.node, p.name)
	}
	for _, addr := range [][]byte{h.Addr, own} {
		if len(addr) == 0 {
			continue
		}
		host, _, err := net.SplitHostPort(string(addr))
		if err == nil {
			err = p.cert.VerifyHostname(host)
		}
		if err != nil {
			return fmt.Errorf("%w: %s from node %d (%s) claims address %q, which its certificate does not list: %w",
				errClaim, rpcName(cmd), p.node, p.name, addr, err)
		}
	}
	return nil
}

// rpcName names a raft request for logs.
func rpcName(cmd any) string {
	switch cmd.(type) {
	case *raft.AppendEntriesRequest:
		return "AppendEntries"
	case *raft.RequestVoteRequest:
		return "RequestVote"
	case *raft.RequestPreVoteRequest:
		return "RequestPreVote"
	case *raft.InstallSnapshotRequest:
		return "InstallSnapshot"
	case *raft.TimeoutNowRequest:
		return "TimeoutNow"
	}
	return fmt.Sprintf("%T", cmd)
}
