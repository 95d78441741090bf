// Package accept takes connections off a listener for the accept loops of
// the daemon (client sockets) and of the agreement (raft and forwarding),
// riding out the errors that pass.
package accept

import (
	"errors"
	"log/slog"
	"net"
	"time"
)

// ErrStopped is Next's error once its done channel is closed.
var ErrStopped = errors.New("accept: stopped")

// The pause before Accept is tried again after an error doubles from
// minPause up to maxPause.
const (
	minPause = 5 * time.Millisecond
	maxPause = time.Second
)

// Next returns ln's next connection. An error of Accept other than the
// listener being closed (out of descriptors, a connection aborted before it
// was taken) may pass: Next logs it and tries again after a pause, longer
// after each error in a row. Once done is closed, an error or a pause ends
// with ErrStopped; a listener closed while done is not yet closed ends with
// Accept's error, which wraps net.ErrClosed.
func Next(ln net.Listener, done <-chan struct{}, log *slog.Logger) (net.Conn, error) {
	var pause time.Duration
	for {
		c, err := ln.Accept()
		if err == nil {
			return c, nil
		}
		select {
		case <-done:
			return nil, ErrStopped
		default:
		}
		if errors.Is(err, net.ErrClosed) {
			return nil, err
		}
		pause = min(max(2*pause, minPause), maxPause)
		log.Warn("accept failed; retrying", "err", err, "backoff", pause)
		t := time.NewTimer(pause)
		select {
		case <-t.C:
		case <-done:
			t.Stop()
			return nil, ErrStopped
		}
	}
}
