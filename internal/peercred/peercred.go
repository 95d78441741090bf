// Package peercred tells who is at the other end of a Unix socket: the
// kernel's SO_PEERCRED and SO_PEERGROUPS, and whether that peer is root or
// a member of a named group. hagsd admits its clients with it and hagsrmd
// its operators; it knows nothing of either protocol.
package peercred

import (
	"errors"
	"fmt"
	"net"
	"os/user"
	"slices"
	"strconv"
	"unsafe"

	"golang.org/x/sys/unix"
)

// Peer is what the kernel says about the process at the other end of a Unix
// socket, as of the moment it connected.
type Peer struct {
	Pid    int32
	Uid    uint32
	Gid    uint32
	Groups []uint32 // supplementary groups (SO_PEERGROUPS); nil when the kernel cannot tell
}

// Of reads SO_PEERCRED (and SO_PEERGROUPS, where the kernel has it) from a
// Unix socket connection.
func Of(c *net.UnixConn) (Peer, error) {
	raw, err := c.SyscallConn()
	if err != nil {
		return Peer{}, fmt.Errorf("peercred: %w", err)
	}
	var (
		p      Peer
		optErr error
	)
	err = raw.Control(func(fd uintptr) {
		uc, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		if err != nil {
			optErr = fmt.Errorf("peercred: SO_PEERCRED: %w", err)
			return
		}
		p.Pid, p.Uid, p.Gid = uc.Pid, uc.Uid, uc.Gid
		p.Groups, _ = peerGroups(int(fd)) // older kernels: membership by primary gid only
	})
	if err != nil {
		return Peer{}, fmt.Errorf("peercred: %w", err)
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
			return nil, fmt.Errorf("peercred: SO_PEERGROUPS: %w", errno)
		}
	}
	return nil, errors.New("peercred: SO_PEERGROUPS: group list keeps growing")
}

// Root reports whether the peer runs as root.
func (p Peer) Root() bool { return p.Uid == 0 }

// InGroup reports whether the peer's primary or supplementary group is
// gid. A gid below 0 (a group that does not exist) has no members.
func (p Peer) InGroup(gid int64) bool {
	if gid < 0 {
		return false
	}
	return int64(p.Gid) == gid || slices.Contains(p.Groups, uint32(gid))
}

// LookupGroup returns the gid of the named group, or -1 when there is none
// (or name is empty).
func LookupGroup(name string) int64 {
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
