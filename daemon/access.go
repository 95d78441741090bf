package daemon

import (
	"net"

	"github.com/openhags/hags/daemon/ipc"
	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/wire"
)

// grantJoin sets ev.Grant on a join request of session s: this daemon's
// answer, from its access policy, to whether the client may join the
// group its request names although another uid owns it. The engine makes
// the rest of the decision on every node alike (the owner's uid and root,
// reserved groups). The session's reader calls it just before it orders
// the request.
func (n *Node) grantJoin(s *session, ev *protocol.Event) {
	if ev.Kind != protocol.EventRequest || ev.Request == nil || ev.Request.Op != wire.OpJoin {
		return
	}
	ev.Grant = n.cfg.Access.Grants(ev.Request.Group, s.cred.Uid, s.cred.Gid, peerGroups(s.conn))
}

// peerGroups returns the supplementary groups of a Unix socket's peer as
// of its connect (SO_PEERGROUPS), or nil when they cannot be known: the
// rules then see the primary group only.
func peerGroups(c net.Conn) []uint32 {
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return nil
	}
	p, err := ipc.PeerOf(uc)
	if err != nil {
		return nil
	}
	return p.Groups
}
