package unixsock

import (
	"net"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
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
