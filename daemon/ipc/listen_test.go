package ipc

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/protocol"
)

func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hagsipc")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

func TestListenCreatesDirAndSocket(t *testing.T) {
	path := filepath.Join(shortDir(t), "sub", "hagsd.sock")
	ln, err := Listen(path)
	require.NoError(t, err, "Listen creates the missing directory")
	fi, err := os.Stat(path)
	require.NoError(t, err, "the socket file exists")
	assert.Equal(t, os.ModeSocket, fi.Mode().Type(), "the file is a socket")
	assert.Equal(t, os.FileMode(0o666), fi.Mode().Perm(), "the socket is mode 0666 (access is checked by SO_PEERCRED)")

	_, err = Listen(path)
	assert.ErrorIs(t, err, ErrSocketInUse, "a live socket is not taken over")

	require.NoError(t, ln.Close())
	_, err = os.Stat(path)
	assert.ErrorIs(t, err, os.ErrNotExist, "closing the listener removes the socket")
}

func TestListenRemovesStaleSocket(t *testing.T) {
	path := filepath.Join(shortDir(t), "hagsd.sock")
	old, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	require.NoError(t, err)
	old.SetUnlinkOnClose(false)
	require.NoError(t, old.Close()) // leaves the file behind, like a crashed daemon

	ln, err := Listen(path)
	require.NoError(t, err, "a stale socket file is replaced")
	ln.Close()
}

func TestListenLeavesOtherFilesAlone(t *testing.T) {
	path := filepath.Join(shortDir(t), "hagsd.sock")
	require.NoError(t, os.WriteFile(path, []byte("data"), 0o644))
	_, err := Listen(path)
	assert.ErrorContains(t, err, "not a socket", "a regular file at the path is an error")
	b, err := os.ReadFile(path)
	require.NoError(t, err, "the file is still there")
	assert.Equal(t, "data", string(b), "the file is untouched")
}

func TestPermitted(t *testing.T) {
	cases := []struct {
		name string
		peer Peer
		gid  int64
		want bool
	}{
		{"root", Peer{Cred: protocol.Cred{Uid: 0, Gid: 5}}, -1, true},
		{"primary group", Peer{Cred: protocol.Cred{Uid: 100, Gid: 77}}, 77, true},
		{"supplementary group", Peer{Cred: protocol.Cred{Uid: 100, Gid: 5}, Groups: []uint32{3, 77}}, 77, true},
		{"other groups", Peer{Cred: protocol.Cred{Uid: 100, Gid: 5}, Groups: []uint32{3}}, 77, false},
		{"no client group", Peer{Cred: protocol.Cred{Uid: 100, Gid: 5}}, -1, false},
	}
	for _, tc := range cases {
		assert.Equal(t, tc.want, tc.peer.Permitted(tc.gid), "%s: permitted = %v", tc.name, tc.want)
	}
}

func TestAuthorizerReadsPeerCred(t *testing.T) {
	path := filepath.Join(shortDir(t), "s.sock")
	ln, err := Listen(path)
	require.NoError(t, err)
	defer ln.Close()
	accepted := make(chan net.Conn, 1)
	go func() {
		c, err := ln.Accept()
		if err == nil {
			accepted <- c
		}
		close(accepted)
	}()
	cc, err := net.Dial("unix", path)
	require.NoError(t, err)
	defer cc.Close()
	sc := <-accepted
	require.NotNil(t, sc, "the connection is accepted")
	defer sc.Close()

	p, err := PeerOf(sc.(*net.UnixConn))
	require.NoError(t, err, "SO_PEERCRED is readable")
	assert.Equal(t, int32(os.Getpid()), p.Cred.Pid, "the peer is this process")
	assert.Equal(t, uint32(os.Getuid()), p.Cred.Uid, "the peer's uid is ours")
	assert.Equal(t, uint32(os.Getgid()), p.Cred.Gid, "the peer's gid is ours")

	cred, err := Authorizer("no-such-group-hags")(sc)
	if os.Getuid() == 0 {
		require.NoError(t, err, "root is always admitted")
	} else {
		assert.ErrorIs(t, err, ErrNotPermitted, "a non-root peer outside the group is refused")
	}
	assert.Equal(t, int32(os.Getpid()), cred.Pid, "the credentials are returned either way")

	_, err = Authorizer("x")(pipeConn{})
	assert.ErrorIs(t, err, ErrNotPermitted, "a connection that is not a Unix socket is refused")
}

type pipeConn struct{ net.Conn }
