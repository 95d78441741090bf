package ipc

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/unixsock"
)

func shortDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "hagsipc")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
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
	ln, err := unixsock.Listen(path)
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
