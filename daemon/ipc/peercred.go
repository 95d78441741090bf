package ipc

import (
	"errors"
	"fmt"
	"net"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/peercred"
)

// ErrNotPermitted is wrapped by the errors of Authorizer's function when the
// peer is neither root nor a member of the client group.
var ErrNotPermitted = errors.New("ipc: peer is not permitted")

// Peer is what the kernel says about the process at the other end of a Unix
// socket, as of the moment it connected.
type Peer struct {
	Cred   protocol.Cred
	Groups []uint32 // supplementary groups (SO_PEERGROUPS); nil when the kernel cannot tell
}

// PeerOf reads SO_PEERCRED (and SO_PEERGROUPS, where the kernel has it) from
// a Unix socket connection.
func PeerOf(c *net.UnixConn) (Peer, error) {
	p, err := peercred.Of(c)
	if err != nil {
		return Peer{}, fmt.Errorf("ipc: peer credentials: %w", err)
	}
	return Peer{Cred: protocol.Cred{Pid: p.Pid, Uid: p.Uid, Gid: p.Gid}, Groups: p.Groups}, nil
}

// Permitted reports whether a peer may use the daemon: root, or a process
// whose primary or supplementary group is gid. A gid below 0 means the
// client group does not exist, so only root is admitted.
func (p Peer) Permitted(gid int64) bool {
	q := peercred.Peer{Pid: p.Cred.Pid, Uid: p.Cred.Uid, Gid: p.Cred.Gid, Groups: p.Groups}
	return q.Root() || q.InGroup(gid)
}

// Authorizer returns the daemon's default admission check: the connection
// must be a *net.UnixConn whose peer is root or a member (primary or
// supplementary) of the group named group. The group is looked up at each
// connection, so creating it later needs no restart. On refusal the
// returned Cred is still filled in for the log, and the error wraps
// ErrNotPermitted.
func Authorizer(group string) func(net.Conn) (protocol.Cred, error) {
	return func(c net.Conn) (protocol.Cred, error) {
		uc, ok := c.(*net.UnixConn)
		if !ok {
			return protocol.Cred{}, fmt.Errorf("%w: not a Unix socket connection (%T)", ErrNotPermitted, c)
		}
		p, err := PeerOf(uc)
		if err != nil {
			return protocol.Cred{}, err
		}
		gid := peercred.LookupGroup(group)
		if !p.Permitted(gid) {
			return p.Cred, fmt.Errorf("%w: uid %d is not root and not in group %q", ErrNotPermitted, p.Cred.Uid, group)
		}
		return p.Cred, nil
	}
}
