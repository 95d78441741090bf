package harness

import (
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
)

// NotifySocket stands in for systemd's notification socket: a daemon
// started with NOTIFY_SOCKET=Path sends its sd_notify datagrams here, and
// each line of each datagram ("READY=1", "WATCHDOG=1", "STATUS=...")
// becomes a line of Msgs, in arrival order.
type NotifySocket struct {
	Path string
	Msgs *Lines
	conn *net.UnixConn
	done chan struct{}
}

// NewNotifySocket listens on a unixgram socket in dir (keep dir short:
// socket paths are limited to 108 bytes).
func NewNotifySocket(dir string) (*NotifySocket, error) {
	path := filepath.Join(dir, "notify.sock")
	_ = os.Remove(path)
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		return nil, err
	}
	n := &NotifySocket{Path: path, Msgs: newLines(), conn: conn, done: make(chan struct{})}
	go n.read()
	return n, nil
}

func (n *NotifySocket) read() {
	defer close(n.done)
	defer n.Msgs.end()
	buf := make([]byte, 64<<10)
	for {
		k, _, err := n.conn.ReadFromUnix(buf)
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				n.Msgs.add("harness: notify socket: " + err.Error())
			}
			return
		}
		for _, line := range strings.Split(strings.TrimRight(string(buf[:k]), "\n"), "\n") {
			n.Msgs.add(line)
		}
	}
}

// Env is the environment entry that points a daemon at the socket.
func (n *NotifySocket) Env() string { return "NOTIFY_SOCKET=" + n.Path }

// Count returns how many lines equal to msg arrived from line from on.
func (n *NotifySocket) Count(msg string, from int) int {
	c := 0
	all := n.Msgs.All()
	for _, l := range all[min(from, len(all)):] {
		if l == msg {
			c++
		}
	}
	return c
}

// Close stops listening and removes the socket.
func (n *NotifySocket) Close() {
	n.conn.Close()
	<-n.done
	os.Remove(n.Path)
}
