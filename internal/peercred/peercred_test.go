package peercred

import (
	"net"
	"os"
	"os/user"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOfReadsTheKernelsWord(t *testing.T) {
	dir, err := os.MkdirTemp("", "pc") // short: socket paths are limited to 108 bytes
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	ln, err := net.Listen("unix", filepath.Join(dir, "s"))
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, _ := ln.Accept()
		accepted <- c
	}()
	cc, err := net.Dial("unix", filepath.Join(dir, "s"))
	require.NoError(t, err)
	defer cc.Close()
	sc := <-accepted
	require.NotNil(t, sc, "the connection is accepted")
	defer sc.Close()

	p, err := Of(sc.(*net.UnixConn))
	require.NoError(t, err, "SO_PEERCRED is readable")
	assert.Equal(t, int32(os.Getpid()), p.Pid, "the peer is this process")
	assert.Equal(t, uint32(os.Getuid()), p.Uid, "the peer's uid is ours")
	assert.Equal(t, uint32(os.Getgid()), p.Gid, "the peer's gid is ours")
	assert.Equal(t, os.Getuid() == 0, p.Root(), "Root follows the uid")
}

func TestInGroup(t *testing.T) {
	cases := []struct {
		name string
		peer Peer
		gid  int64
		want bool
	}{
		{"primary group", Peer{Uid: 100, Gid: 77}, 77, true},
		{"supplementary group", Peer{Uid: 100, Gid: 5, Groups: []uint32{3, 77}}, 77, true},
		{"other groups", Peer{Uid: 100, Gid: 5, Groups: []uint32{3}}, 77, false},
		{"no such group", Peer{Uid: 0, Gid: 0}, -1, false},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, tc.peer.InGroup(tc.gid), "%s: in group = %v", tc.name, tc.want)
	}
}

func TestLookupGroup(t *testing.T) {
	g, err := user.LookupGroupId("0")
	require.NoError(t, err, "gid 0 has a name")
	assert.Equal(t, int64(0), LookupGroup(g.Name), "the group named %s is gid 0", g.Name)
	assert.Equal(t, int64(-1), LookupGroup("no-such-group-hags"), "a missing group is -1")
	assert.Equal(t, int64(-1), LookupGroup(""), "no name, no group")
}
