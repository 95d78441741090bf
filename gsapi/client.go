package gsapi

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"github.com/openhags/hags/internal/wire"
)

// DispatchMode says whether Dispatch returns when no notification is
// pending (ha_gs_dispatch_flag_t).
type DispatchMode int

const (
	// NonBlocking delivers every pending notification and returns.
	NonBlocking DispatchMode = iota
	// Blocking delivers notifications as they arrive and returns only on
	// error: ErrNotOK when the connection is lost, ErrNoInit after Close.
	Blocking
)

// quitTimeout bounds how long Close waits to hand OpQuit to a daemon that
// does not read.
const quitTimeout = 2 * time.Second

// MaxPending and MaxPendingBytes bound the notifications a Client holds
// for Dispatch (counted, and by the size of their frames). When either is
// reached the Client stops reading its connection until Dispatch makes
// room. The daemon then queues for the client, up to its own bound, and
// ends the session of a client that stays behind: its providers fail, and
// Dispatch delivers what was queued and then returns ErrNotOK. A program
// that reads its socket but never dispatches thus holds bounded memory,
// in its own process and in the daemon, and cannot hold up anybody else.
const (
	MaxPending      = 8192
	MaxPendingBytes = 32 << 20
)

// Client is one session with the daemon (one ha_gs_init). Its request
// methods are safe for concurrent use by many goroutines; callbacks run only
// inside Dispatch or Run, one at a time, on the dispatching goroutine.
type Client struct {
	conn    net.Conn
	opts    options
	welcome wire.Welcome
	// root: the process was root when it connected, which is the uid the
	// daemon judges its requests by (SO_PEERCRED is taken at connect).
	root bool

	out *writer    // sends frames, combining concurrent requests
	dmu sync.Mutex // serializes delivery: one notification at a time

	// fdMu serializes syncFd, which makes the eventfd's readability match
	// the queue; it is taken before mu, never while mu is held, so that the
	// eventfd's system calls are made without mu.
	fdMu  sync.Mutex
	fdSet bool // the eventfd holds a count (is readable); guarded by fdMu

	mu      sync.Mutex // guards everything below
	closed  bool
	lostErr error // why the connection was lost; nil while it is up
	efd     int   // eventfd; -1 after Close
	// fdShown: Fd has been called, so the eventfd must follow the queue.
	// Until then nobody can poll it, and the system calls that keep it in
	// step are saved (Run and Dispatch wait on channels).
	fdShown  bool
	queue    []entry
	head     int
	pendingB int // bytes of the queued entries' frames
	nextTok  Token
	members  map[Token]*member
	inflight map[string]bool // groups known to be running a protocol
	ffdc     string          // id of the last daemon failure reported

	avail      chan struct{} // capacity 1: the queue became non-empty
	room       chan struct{} // capacity 1: an entry left the queue
	lost       chan struct{} // closed when the connection is lost
	done       chan struct{} // closed by Close
	readerDone chan struct{} // closed when the reader goroutine exits
}

// entry is one queued notification and where it goes. fn is nil only for
// responsiveness checks, which Dispatch answers itself.
type entry struct {
	n    *Notification
	fn   func(*Notification)
	size int // the frame's size, counted against MaxPendingBytes
}

// Dial connects to the daemon and opens a session (ha_gs_init). The socket
// is WithSocket's path, else $HA_GS_SOCKET, else /run/hags/<domain>/hagsd.sock
// with the domain from WithDomain, else $HA_DOMAIN_NAME, else "hags".
//
// Errors: ErrBadParameter for a deactivate script that is not an executable
// file or an unknown responsiveness type; ErrSockCreateFailed when no
// socket can be created (descriptors exhausted); ErrConnectFailed when no
// daemon answers; the daemon's code when it refuses the session (for
// instance ErrPermissionDenied, with the refusal's FFDC id in Error.FFDC,
// or ErrNotSupported from a daemon of another wire level);
// ErrSockInitFailed when the handshake fails.
func Dial(ctx context.Context, opts ...Option) (*Client, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	var conn net.Conn
	var err error
	if o.dialer != nil {
		conn, err = o.dialer(ctx)
	} else {
		var d net.Dialer
		conn, err = d.DialContext(ctx, "unix", o.socketPath())
	}
	if err != nil {
		return nil, dialError(err)
	}
	c, err := handshake(ctx, conn, o)
	if err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// handshake sends Hello, reads Welcome and starts the reader goroutine.
func handshake(ctx context.Context, conn net.Conn, o options) (*Client, error) {
	if d, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(d)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	hello := wire.Hello{
		Pid:              int32(os.Getpid()),
		Program:          o.program,
		DeactivateScript: o.script,
		Responsiveness:   o.resp,
	}
	// The reader's buffer is the connection's: readLoop looks into it to
	// tell whether another whole frame has already arrived.
	br := bufio.NewReaderSize(conn, readBufferSize)
	r := wire.NewReader(br)
	fail := func(msg string, err error) (*Client, error) {
		stop()
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%w)", ctx.Err(), err)
		}
		return nil, &Error{Code: wire.SockInitFailed, Op: "dial", Msg: msg, Err: err}
	}
	if err := wire.WriteFrame(conn, wire.MsgHello, &hello); err != nil {
		return fail("send hello", err)
	}
	t, body, err := r.Next()
	if err != nil {
		return fail("read welcome", err)
	}
	var welcome wire.Welcome
	switch t {
	case wire.MsgWelcome:
		if err := wire.Decode(body, &welcome); err != nil {
			return fail("decode welcome", err)
		}
	case wire.MsgRefused:
		var ref wire.Refused
		if err := wire.Decode(body, &ref); err != nil {
			return fail("decode refusal", err)
		}
		stop()
		code := ref.Code
		if code == wire.OK || !code.Valid() {
			code = wire.NotOK
		}
		return nil, &Error{Code: code, Op: "dial", Msg: "refused by the daemon: " + ref.Reason, FFDC: ref.FFDC}
	default:
		return fail(fmt.Sprintf("unexpected message type %d instead of welcome", t), nil)
	}
	if !stop() && ctx.Err() != nil {
		return fail("handshake", ctx.Err())
	}
	_ = conn.SetDeadline(time.Time{})

	efd, err := unix.Eventfd(0, unix.EFD_CLOEXEC|unix.EFD_NONBLOCK)
	if err != nil {
		return nil, &Error{Code: wire.SockCreateFailed, Op: "dial", Msg: "eventfd", Err: err}
	}
	c := &Client{
		conn:       conn,
		out:        newWriter(conn),
		opts:       o,
		welcome:    welcome,
		root:       os.Geteuid() == 0,
		efd:        efd,
		nextTok:    max(o.firstToken, 1),
		members:    make(map[Token]*member),
		inflight:   make(map[string]bool),
		avail:      make(chan struct{}, 1),
		room:       make(chan struct{}, 1),
		lost:       make(chan struct{}),
		done:       make(chan struct{}),
		readerDone: make(chan struct{}),
	}
	go c.readLoop(r, br)
	return c, nil
}

// Node returns this daemon's node number (ha_gs_get_node_number), or 0
// for a Client that did not come from Dial.
func (c *Client) Node() int32 {
	if !c.dialed() {
		return 0
	}
	return c.welcome.Node
}

// NodeName returns the name of the node whose daemon serves this session
// (hagsd --name; "node<N>" by default), or "" before Dial.
func (c *Client) NodeName() string {
	if !c.dialed() {
		return ""
	}
	return c.welcome.NodeName
}

// NodeInfo names one node of the domain.
type NodeInfo struct {
	Node int32
	Name string // "" when the daemon has not learned it yet
}

// DomainNodes returns the domain's nodes as the daemon knew them when this
// session began (Dial), in node order, each with its name where the daemon
// knew it. Nodes that join the domain later are not listed; subscribe to
// HostMembershipGroup to follow nodes coming and going.
func (c *Client) DomainNodes() []NodeInfo {
	if !c.dialed() {
		return nil
	}
	out := make([]NodeInfo, 0, len(c.welcome.Nodes))
	for _, n := range c.welcome.Nodes {
		out = append(out, NodeInfo{Node: n.Node, Name: n.Name})
	}
	return out
}

// dialed reports whether c came from Dial. A nil or zero Client is a
// client before ha_gs_init: its methods return ErrNoInit (or the zero
// value) and never panic.
func (c *Client) dialed() bool { return c != nil && c.conn != nil }

// Adapters returns the network addresses of the domain's nodes, as the
// daemon reported them when the session opened (ha_gs_get_adapter_info).
// The caller owns the returned slice.
func (c *Client) Adapters() []Adapter {
	if !c.dialed() {
		return nil
	}
	out := make([]Adapter, len(c.welcome.Adapters))
	for i, a := range c.welcome.Adapters {
		out[i] = a
		out[i].Addr = append([]byte(nil), a.Addr...)
	}
	return out
}

// FFDC returns the FFDC id of the last daemon failure this client was told
// of (a delayed error, or the daemon ending the session), or "" when none
// (ha_gs_get_ffdc_id). The daemon's log names the failure under that id.
func (c *Client) FFDC() string {
	if !c.dialed() {
		return ""
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ffdc
}

// Domain returns the name of the domain the daemon serves.
func (c *Client) Domain() string {
	if !c.dialed() {
		return ""
	}
	return c.welcome.Domain
}

// Fd returns a descriptor to poll for readability (select, poll, epoll):
// it is readable exactly when notifications are pending, and also once the
// connection is lost, so that the next Dispatch reports ErrNotOK. Never read
// or write it. Fd returns -1 after Close, which closes the descriptor.
func (c *Client) Fd() int {
	if !c.dialed() {
		return -1
	}
	c.mu.Lock()
	efd := c.efd
	shown := c.fdShown
	c.fdShown = efd >= 0
	c.mu.Unlock()
	if !shown {
		c.syncFd()
	}
	return efd
}

// Close ends the session (ha_gs_quit): it tells the daemon, whose groups
// see this client's providers leave with ProviderSaidGoodbye, closes the
// connection and the descriptor, and waits for the reader goroutine to exit.
// A Dispatch blocked in another goroutine returns ErrNoInit promptly; every
// later call returns ErrNoInit. Close is idempotent and always returns nil.
func (c *Client) Close() error {
	if !c.dialed() {
		return nil
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	up := c.lostErr == nil
	c.mu.Unlock()
	close(c.done)

	if up {
		_ = c.conn.SetWriteDeadline(time.Now().Add(quitTimeout))
		_ = c.write(wire.MsgRequest, &wire.Request{Op: wire.OpQuit})
	}
	_ = c.conn.Close()
	<-c.readerDone

	c.fdMu.Lock()
	c.mu.Lock()
	_ = unix.Close(c.efd)
	c.efd = -1
	c.queue, c.head, c.pendingB = nil, 0, 0
	c.mu.Unlock()
	c.fdMu.Unlock()
	return nil
}

// Pending returns how many notifications are queued for Dispatch (at most
// MaxPending). It is safe to call from any goroutine.
func (c *Client) Pending() int {
	if !c.dialed() {
		return 0
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.queue) - c.head
}

// Dispatch delivers notifications by calling their callbacks on the calling
// goroutine, one at a time, in arrival order (ha_gs_dispatch). NonBlocking
// delivers every pending notification and returns nil. Blocking delivers
// notifications as they arrive and returns only on error. Either mode first
// delivers what arrived before the connection was lost, then returns
// ErrNotOK; after Close it returns ErrNoInit.
//
// Concurrent Dispatch calls are serialized. A callback may call Vote and the
// other request methods, and Close, but must not call Dispatch or Run.
func (c *Client) Dispatch(mode DispatchMode) error {
	switch mode {
	case NonBlocking:
		return c.dispatch(context.Background(), false, "dispatch")
	case Blocking:
		return c.dispatch(context.Background(), true, "dispatch")
	}
	return newError(wire.BadParameter, "dispatch", 0)
}

// Run dispatches notifications as they arrive until ctx is done, when it
// returns ctx.Err(), or until an error ends the session: ErrNotOK when the
// connection is lost, ErrNoInit after Close. It is the idiomatic loop for
// Go programs; the same rules as for Dispatch apply to its callbacks.
func (c *Client) Run(ctx context.Context) error {
	return c.dispatch(ctx, true, "run")
}

func (c *Client) dispatch(ctx context.Context, blocking bool, op string) error {
	if !c.dialed() {
		return newError(wire.NoInit, op, 0)
	}
	for {
		delivered, err := c.deliverOne(op)
		if err != nil {
			return err
		}
		if delivered {
			continue
		}
		if !blocking {
			return nil
		}
		select {
		case <-c.avail:
		case <-c.lost:
		case <-c.done:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// deliverOne pops the oldest notification and delivers it. It reports
// false with a nil error when the queue is empty and the session is up.
func (c *Client) deliverOne(op string) (bool, error) {
	c.dmu.Lock()
	defer c.dmu.Unlock()
	e, err := c.pop(op)
	if err != nil || e.n == nil {
		return false, err
	}
	if e.fn != nil {
		e.fn(e.n)
		return true, nil
	}
	// A responsiveness check: the answer leaves from here, so a client
	// that does not dispatch fails the check.
	rc := wire.CallbackOK
	if cb := c.opts.respCallback; cb != nil {
		rc = cb(e.n)
	}
	resp := wire.Respond{Seq: e.n.Seq, RC: rc}
	if c.opts.counter != nil {
		resp.Counter = c.opts.counter()
	}
	_ = c.write(wire.MsgRespond, &resp) // a failed write means a lost connection, which the reader reports
	return true, nil
}

// pop removes the oldest entry. With an empty queue it returns the zero
// entry and ErrNoInit after Close, ErrNotOK once the connection is lost,
// else nil; it makes the eventfd unreadable when the queue becomes empty
// while the connection is up.
func (c *Client) pop(op string) (entry, error) {
	e, emptied, err := c.take(op)
	if emptied {
		c.syncFd()
	}
	return e, err
}

// take is pop under c.mu; emptied says the queue became empty.
func (c *Client) take(op string) (e entry, emptied bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return entry{}, false, newError(wire.NoInit, op, 0)
	}
	if c.head == len(c.queue) {
		if c.lostErr != nil {
			return entry{}, false, &Error{Code: wire.NotOK, Op: op, Msg: "connection to the daemon lost", Err: c.lostErr}
		}
		return entry{}, false, nil
	}
	e = c.queue[c.head]
	c.queue[c.head] = entry{}
	c.head++
	c.pendingB -= e.size
	select {
	case c.room <- struct{}{}:
	default:
	}
	if c.head == len(c.queue) {
		c.queue, c.head = c.queue[:0], 0
		emptied = c.fdShown
	}
	return e, emptied, nil
}

// push appends an entry; the caller holds c.mu. The reader makes the
// eventfd readable (syncFd) once its batch of frames is queued.
func (c *Client) push(e entry) {
	wasEmpty := c.head == len(c.queue)
	c.queue = append(c.queue, e)
	c.pendingB += e.size
	if wasEmpty {
		select {
		case c.avail <- struct{}{}:
		default:
		}
	}
}

// syncFd makes the eventfd readable while entries wait or the connection
// is lost, and unreadable otherwise, once Fd has been called. It is called
// without c.mu by whoever changed that (the reader after a batch of
// frames, a dispatcher that emptied the queue, connLost, Fd); the calls
// are serialized and each looks at the state as it is then, so the last
// one leaves the descriptor right, with one system call per change of
// readiness. Meanwhile the descriptor may be readable with nothing queued
// (a Dispatch then returns at once) but never unreadable with entries
// waiting for longer than the reader's batch.
func (c *Client) syncFd() {
	c.fdMu.Lock()
	defer c.fdMu.Unlock()
	c.mu.Lock()
	efd := c.efd
	want := c.head < len(c.queue) || c.lostErr != nil
	shown := c.fdShown && efd >= 0
	c.mu.Unlock()
	if !shown || want == c.fdSet {
		return
	}
	var b [8]byte
	if want {
		binary.NativeEndian.PutUint64(b[:], 1)
		_, _ = unix.Write(efd, b[:])
	} else {
		_, _ = unix.Read(efd, b[:])
	}
	c.fdSet = want
}

// readBufferSize is the size of the connection's read buffer: a burst of
// notification frames up to this size is read with one read(2).
const readBufferSize = 64 << 10

// readLoop decodes frames as they arrive, updates the token states and
// queues the notifications, until the connection fails or is closed. It
// works in batches: every whole frame already in the read buffer is
// queued before the descriptor is made readable (one eventfd write per
// batch, made without c.mu so that a dispatcher it wakes does not wait for
// the lock), and only then does the reader wait for more bytes or room.
func (c *Client) readLoop(r *wire.Reader, br *bufio.Reader) {
	defer close(c.readerDone)
	for {
		if !frameBuffered(br) {
			c.syncFd()
		}
		if !c.waitRoom() {
			return
		}
		t, body, err := r.Next()
		if err != nil {
			c.connLost(err)
			return
		}
		switch t {
		case wire.MsgNotification:
			n := new(Notification)
			if err := wire.Decode(body, n); err != nil {
				c.connLost(err)
				return
			}
			c.arrive(n, len(body))
		case wire.MsgRefused:
			var ref wire.Refused
			if err := wire.Decode(body, &ref); err != nil {
				c.connLost(err)
				return
			}
			if ref.FFDC != "" {
				c.mu.Lock()
				c.ffdc = ref.FFDC
				c.mu.Unlock()
			}
			c.connLost(fmt.Errorf("daemon ended the session: %s: %s", ref.Code, ref.Reason))
			return
		default:
			c.connLost(fmt.Errorf("unexpected message type %d from the daemon", t))
			return
		}
	}
}

// waitRoom blocks while the queue is at MaxPending or MaxPendingBytes,
// until Dispatch takes an entry; it returns false once the client is
// closed.
func (c *Client) waitRoom() bool {
	for {
		c.mu.Lock()
		closed := c.closed
		full := len(c.queue)-c.head >= MaxPending || c.pendingB >= MaxPendingBytes
		c.mu.Unlock()
		switch {
		case closed:
			return false
		case !full:
			return true
		}
		c.syncFd() // the batch so far waits for Dispatch, which makes room
		select {
		case <-c.room:
		case <-c.done:
			return false
		}
	}
}

// dialError classifies a failure to connect: SockCreateFailed when
// socket(2) itself failed (descriptors exhausted, for instance), else
// ConnectFailed.
func dialError(err error) *Error {
	var se *os.SyscallError
	if errors.As(err, &se) && se.Syscall == "socket" {
		return &Error{Code: wire.SockCreateFailed, Op: "dial", Msg: "cannot create a socket", Err: err}
	}
	return &Error{Code: wire.ConnectFailed, Op: "dial", Msg: "cannot connect to the daemon", Err: err}
}

// errConnClosed is the loss reason recorded when the daemon hangs up.
var errConnClosed = errors.New("connection closed by the daemon")

// connLost records that the connection is gone, wakes dispatchers and
// leaves the eventfd readable so that pollers call Dispatch and learn it.
func (c *Client) connLost(err error) {
	c.mu.Lock()
	if c.closed || c.lostErr != nil {
		c.mu.Unlock()
		return
	}
	if err == nil {
		err = errConnClosed
	}
	c.lostErr = err
	close(c.lost)
	_ = c.conn.Close()
	c.mu.Unlock()
	c.syncFd()
}

// write sends one frame; frames of concurrent callers are combined into
// one write and never interleave (writer).
func (c *Client) write(t wire.MsgType, body any) error {
	b, err := wire.AppendFrame(nil, t, body)
	if err != nil {
		return err
	}
	return c.out.send(b)
}

// frameBuffered reports whether a whole frame is already in br, so that
// reading it will not wait for the connection.
func frameBuffered(br *bufio.Reader) bool {
	const lengthSize = 4 // a frame begins with its length (internal/wire)
	n := br.Buffered()
	if n < lengthSize {
		return false
	}
	head, err := br.Peek(lengthSize)
	if err != nil {
		return false
	}
	return uint64(n) >= lengthSize+uint64(binary.BigEndian.Uint32(head))
}
