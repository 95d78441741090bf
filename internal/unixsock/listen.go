// Package unixsock creates the Unix stream sockets hags's daemons serve:
// hagsd's client socket and hagsrmd's management socket.
package unixsock

import (
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"syscall"
	"time"
)

// ErrSocketInUse is returned by Listen when another process is serving the
// socket path.
var ErrSocketInUse = errors.New("unixsock: another daemon is serving the socket")

// Listen creates a Unix stream socket at path and listens on it. The parent
// directory is created (mode 0755) when missing. A stale socket file (one
// nobody answers on) is removed first; a live one gives ErrSocketInUse and a
// file that is not a socket is left alone and reported. The socket is made
// mode 0666: access control is by SO_PEERCRED when a peer connects, not by
// file modes, so that refused peers get a reason instead of EACCES. Closing
// the listener removes the socket file.
func Listen(path string) (*net.UnixListener, error) {
	if path == "" {
		return nil, errors.New("unixsock: empty socket path")
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, fmt.Errorf("unixsock: create socket directory: %w", err)
	}
	if err := removeStale(path); err != nil {
		return nil, err
	}
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		return nil, fmt.Errorf("unixsock: listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o666); err != nil {
		ln.Close()
		return nil, fmt.Errorf("unixsock: chmod %s: %w", path, err)
	}
	return ln, nil
}

func removeStale(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("unixsock: stat %s: %w", path, err)
	}
	if fi.Mode().Type() != fs.ModeSocket {
		return fmt.Errorf("unixsock: %s exists and is not a socket", path)
	}
	c, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		c.Close()
		return fmt.Errorf("%w: %s", ErrSocketInUse, path)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("unixsock: probe %s: %w", path, err)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("unixsock: remove stale socket %s: %w", path, err)
	}
	return nil
}
