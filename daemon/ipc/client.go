package ipc

import (
	"context"
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/openhags/hags/internal/wire"
)

// RefusedError is returned by Handshake when the daemon answers Hello with
// Refused.
type RefusedError struct{ wire.Refused }

// Error describes the refusal.
func (e *RefusedError) Error() string {
	return fmt.Sprintf("ipc: refused by daemon: %s: %s", e.Code, e.Reason)
}

// AdminConn is an administrative session with a daemon (what hagsctl uses):
// Hello{Admin: true}, then queries answered one at a time. It is not safe
// for concurrent use.
type AdminConn struct {
	conn    net.Conn
	r       *wire.Reader
	Welcome wire.Welcome
}

// DialAdmin connects to the daemon's socket and opens an admin session.
func DialAdmin(ctx context.Context, socket string, program string) (*AdminConn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, "unix", socket)
	if err != nil {
		return nil, fmt.Errorf("ipc: connect to %s: %w", socket, err)
	}
	a, err := NewAdminConn(ctx, c, program)
	if err != nil {
		c.Close()
		return nil, err
	}
	return a, nil
}

// NewAdminConn opens an admin session over an established connection. The
// AdminConn owns c from then on (Close closes it), also on error.
func NewAdminConn(ctx context.Context, c net.Conn, program string) (*AdminConn, error) {
	a := &AdminConn{conn: c, r: wire.NewReader(c)}
	stop := a.deadline(ctx)
	defer stop()
	hello := wire.Hello{Pid: int32(pid()), Program: program, Admin: true}
	if err := wire.WriteFrame(c, wire.MsgHello, &hello); err != nil {
		return nil, fmt.Errorf("ipc: send hello: %w", err)
	}
	t, body, err := a.r.Next()
	if err != nil {
		return nil, fmt.Errorf("ipc: read welcome: %w", err)
	}
	switch t {
	case wire.MsgWelcome:
		if err := wire.Decode(body, &a.Welcome); err != nil {
			return nil, err
		}
		return a, nil
	case wire.MsgRefused:
		var r wire.Refused
		if err := wire.Decode(body, &r); err != nil {
			return nil, err
		}
		return nil, &RefusedError{r}
	default:
		return nil, fmt.Errorf("ipc: unexpected message type %d instead of welcome", t)
	}
}

// Query sends one admin query and waits for its reply. A reply carrying an
// Error is returned as an error.
func (a *AdminConn) Query(ctx context.Context, q wire.AdminQuery) (*wire.AdminReply, error) {
	stop := a.deadline(ctx)
	defer stop()
	if err := wire.WriteFrame(a.conn, wire.MsgAdminQuery, &q); err != nil {
		return nil, fmt.Errorf("ipc: send query: %w", err)
	}
	for {
		t, body, err := a.r.Next()
		if err != nil {
			return nil, fmt.Errorf("ipc: read reply: %w", err)
		}
		switch t {
		case wire.MsgAdminReply:
			var rep wire.AdminReply
			if err := wire.Decode(body, &rep); err != nil {
				return nil, err
			}
			if rep.Error != "" {
				return &rep, errors.New(rep.Error)
			}
			return &rep, nil
		case wire.MsgRefused:
			var r wire.Refused
			if err := wire.Decode(body, &r); err != nil {
				return nil, err
			}
			return nil, &RefusedError{r}
		}
		// Anything else (a notification) is not for an admin session: skip it.
	}
}

// Close ends the session.
func (a *AdminConn) Close() error { return a.conn.Close() }

// deadline applies ctx's deadline (and cancellation) to the connection until
// the returned function is called.
func (a *AdminConn) deadline(ctx context.Context) func() {
	if d, ok := ctx.Deadline(); ok {
		a.conn.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { a.conn.SetDeadline(time.Unix(1, 0)) })
	return func() {
		stop()
		a.conn.SetDeadline(time.Time{})
	}
}
