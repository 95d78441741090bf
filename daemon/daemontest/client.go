package daemontest

import (
	"errors"
	"fmt"
	"net"
	"sync"
	"time"

	"github.com/openhags/hags/daemon/protocol"
	"github.com/openhags/hags/internal/chanlock"
	"github.com/openhags/hags/internal/wire"
)

// Client is a simulated client process: it speaks the wire protocol over
// an in-memory pipe to one daemon and records every notification.
type Client struct {
	Name    string
	Node    int // slot
	Welcome wire.Welcome

	conn net.Conn
	// wmu serialises Send's writes. A write may wait for the daemon to
	// read, and for the simulated link's latency: a chanlock lets the
	// simulation's clock run while another goroutine waits to send.
	wmu  *chanlock.Mutex
	done chan struct{}

	mu      sync.Mutex
	notes   []wire.Notification
	lost    error
	changed chan struct{}
}

// ErrRefused is returned by Dial when the daemon refuses the session.
var ErrRefused = errors.New("daemontest: session refused")

// Dial connects a client named name to slot i's daemon, registering
// script as its deactivate script ("" for none).
func (c *Cluster) Dial(i int, name, script string) (*Client, error) {
	n := c.nodes[i]
	if n.Daemon == nil {
		return nil, fmt.Errorf("daemontest: node %d is down: %w", i+1, ErrRefused)
	}
	conn, err := n.clients.Dial()
	if err != nil {
		return nil, fmt.Errorf("daemontest: dial node %d: %w", i+1, err)
	}
	c.mu.Lock()
	pid := int32(len(c.clients) + 1)
	c.mu.Unlock()
	if err := wire.WriteFrame(conn, wire.MsgHello, &wire.Hello{Pid: pid, Program: name, DeactivateScript: script}); err != nil {
		conn.Close()
		return nil, fmt.Errorf("daemontest: hello: %w", err)
	}
	r := wire.NewReader(conn)
	t, body, err := r.Next()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("daemontest: welcome: %w", err)
	}
	cl := &Client{Name: name, Node: i, conn: conn, wmu: chanlock.New(), done: make(chan struct{}), changed: make(chan struct{})}
	switch t {
	case wire.MsgWelcome:
		if err := wire.Decode(body, &cl.Welcome); err != nil {
			conn.Close()
			return nil, err
		}
	case wire.MsgRefused:
		var ref wire.Refused
		_ = wire.Decode(body, &ref)
		conn.Close()
		return nil, fmt.Errorf("%w: %s: %s", ErrRefused, ref.Code, ref.Reason)
	default:
		conn.Close()
		return nil, fmt.Errorf("daemontest: unexpected message type %d", t)
	}
	c.mu.Lock()
	c.clients = append(c.clients, cl)
	c.mu.Unlock()
	go cl.read(r)
	return cl, nil
}

// DialConn opens a bare connection to slot i's daemon, as a process of its
// host would, for a real client library to speak the wire protocol over
// (gsapi.WithDialer). Unlike the rest of Cluster it may be called from any
// goroutine of the bubble. It fails with ErrRefused while the slot's daemon
// is down.
func (c *Cluster) DialConn(i int) (net.Conn, error) {
	c.mu.Lock()
	ln := c.nodes[i].open
	c.mu.Unlock()
	if ln == nil {
		return nil, fmt.Errorf("daemontest: node %d is down: %w", i+1, ErrRefused)
	}
	conn, err := ln.Dial()
	if err != nil {
		return nil, fmt.Errorf("daemontest: dial node %d: %w", i+1, err)
	}
	return conn, nil
}

// Client is Dial that fails the test on error.
func (c *Cluster) Client(i int, name, script string) *Client {
	c.T.Helper()
	cl, err := c.Dial(i, name, script)
	if err != nil {
		c.T.Fatalf("daemontest: client %s on node %d: %v", name, i+1, err)
	}
	return cl
}

func (cl *Client) read(r *wire.Reader) {
	defer close(cl.done)
	for {
		t, body, err := r.Next()
		var note wire.Notification
		if err == nil {
			switch t {
			case wire.MsgNotification:
				err = wire.Decode(body, &note)
			case wire.MsgRefused:
				var ref wire.Refused
				_ = wire.Decode(body, &ref)
				err = fmt.Errorf("refused: %s: %s", ref.Code, ref.Reason)
			default:
				err = fmt.Errorf("unexpected message type %d", t)
			}
		}
		cl.mu.Lock()
		if err != nil {
			if cl.lost == nil {
				cl.lost = err
			}
		} else if note.Type != wire.ResponsivenessNotification {
			cl.notes = append(cl.notes, note)
		}
		close(cl.changed)
		cl.changed = make(chan struct{})
		cl.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// Send sends one request.
func (cl *Client) Send(req *wire.Request) error {
	cl.wmu.Lock()
	defer cl.wmu.Unlock()
	cl.conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
	return wire.WriteFrame(cl.conn, wire.MsgRequest, req)
}

// Notes returns a copy of every notification so far.
func (cl *Client) Notes() []wire.Notification {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return append([]wire.Notification(nil), cl.notes...)
}

// Lost returns why the connection ended, or nil while it lasts.
func (cl *Client) Lost() error {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.lost
}

// Wait waits (in fake time) until cond holds of the notifications so far
// (a copy, passed without any lock held), or the connection ends, or
// budget passes; it reports whether cond held.
func (cl *Client) Wait(budget time.Duration, cond func([]wire.Notification) bool) bool {
	deadline := time.NewTimer(budget)
	defer deadline.Stop()
	for {
		cl.mu.Lock()
		notes := append([]wire.Notification(nil), cl.notes...)
		lost, changed := cl.lost, cl.changed
		cl.mu.Unlock()
		if cond(notes) {
			return true
		}
		if lost != nil {
			return false
		}
		select {
		case <-changed:
		case <-deadline.C:
			return false
		}
	}
}

// Close ends the session (as a process exit would) and waits for the
// reader.
func (cl *Client) Close() {
	cl.conn.Close()
	<-cl.done
}

// Scripts records the deactivate scripts the daemons run; every script
// succeeds after a second of fake time.
type Scripts struct {
	mu   sync.Mutex
	runs []ScriptRecord
}

// ScriptRecord is one script started by the daemon on Node.
type ScriptRecord struct {
	Node int32
	Run  protocol.ScriptRun
}

func newScripts() *Scripts { return &Scripts{} }

// Runs returns every script started so far.
func (s *Scripts) Runs() []ScriptRecord {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]ScriptRecord(nil), s.runs...)
}

type scriptRunner struct {
	s    *Scripts
	node int32
}

func (s *Scripts) runner(node int32) scriptRunner { return scriptRunner{s, node} }

// Run records run and reports success a second later.
func (r scriptRunner) Run(run *protocol.ScriptRun, done func(protocol.ScriptResult)) {
	r.s.mu.Lock()
	r.s.runs = append(r.s.runs, ScriptRecord{Node: r.node, Run: *run})
	r.s.mu.Unlock()
	id := run.ID
	time.AfterFunc(time.Second, func() { done(protocol.ScriptResult{ID: id, Result: wire.DeactivateOK}) })
}
