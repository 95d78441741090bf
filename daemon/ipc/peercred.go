package ipc

import (
	"errors"
	"fmt"
	"net"
	"os/user"
	"slices"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/openhags/hags/daemon/protocol"
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
	raw, err := c.SyscallConn()
	if err != nil {
		return Peer{}, fmt.Errorf("ipc: peer credentials: %w", err)
	}
	var (
		p      Peer
		optErr error
	)
	err = raw.Control(func(fd uintptr) {
		uc, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		if err != nil {
			optErr = fmt.Errorf("ipc: SO_PEERCRED: %w", err)
			return
		}
		p.Cred = protocol.Cred{Pid: uc.Pid, Uid: uc.Uid, Gid: uc.Gid}
		p.Groups, _ = peerGroups(int(fd)) // older kernels: membership by primary gid only
	})
	if err != nil {
		return Peer{}, fmt.Errorf("ipc: peer credentials: %w", err)
	}
	return p, optErr
}

// peerGroups reads SO_PEERGROUPS, growing the buffer when the kernel says
// it is too small.
func peerGroups(fd int) ([]uint32, error) {
	buf := make([]uint32, 64)
	for range 4 {
		size := uint32(len(buf) * 4)
		_, _, errno := unix.Syscall6(unix.SYS_GETSOCKOPT, uintptr(fd), unix.SOL_SOCKET,
			unix.SO_PEERGROUPS, uintptr(unsafe.Pointer(&buf[0])), uintptr(unsafe.Pointer(&size)), 0)
		switch errno {
		case 0:
			return buf[:size/4], nil
		case unix.ERANGE:
			buf = make([]uint32, size/4+1)
		default:
			return nil, fmt.Errorf("ipc: SO_PEERGROUPS: %w", errno)
		}
	}
	return nil, errors.New("ipc: SO_PEERGROUPS: group list keeps growing")
}

// Permitted reports whether a peer may use the daemon: root, or a process
// whose primary or supplementary group is gid. A gid below 0 means the
// client group does not exist, so only root is admitted.
func (p Peer) Permitted(gid int64) bool {
	if p.Cred.Uid == 0 {
		return true
	}
	if gid < 0 {
		return false
	}
	return int64(p.Cred.Gid) == gid || slices.Contains(p.Groups, uint32(gid))
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
		gid := lookupGroup(group)
		if !p.Permitted(gid) {
			return p.Cred, fmt.Errorf("%w: uid %d is not root and not in group %q", ErrNotPermitted, p.Cred.Uid, group)
		}
		return p.Cred, nil
	}
}

// lookupGroup returns the gid of the named group, or -1 when there is none.
func lookupGroup(name string) int64 {
	if name == "" {
		return -1
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return -1
	}
	gid, err := strconv.ParseInt(g.Gid, 10, 64)
	if err != nil {
		return -1
	}
	return gid
}
