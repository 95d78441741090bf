package failover

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/openhags/hags/failover/internal/mgmtwire"
	"github.com/openhags/hags/internal/wire"
)

// Errors a Client returns that carry no return code: the connection, not
// the cluster, failed. Every error that carries a code is an *Error.
var (
	// ErrClosed: the Client was closed.
	ErrClosed = errors.New("failover: client closed")
	// ErrConnectionLost: the connection to hagsrmd ended (it stopped,
	// or broke the protocol); wrapped with the cause.
	ErrConnectionLost = errors.New("failover: connection to hagsrmd lost")
	// ErrOutcomeUnknown: hagsrmd took the request but could not say how
	// it ended (it stopped while the request was being agreed). The
	// request may or may not have been carried out: read the state.
	ErrOutcomeUnknown = errors.New("failover: hagsrmd could not tell how the request ended")
	// ErrWatchEnded: a watch's stream ended before it was closed (the
	// watcher fell behind the changes, or hagsrmd stopped); changes may
	// have been missed.
	ErrWatchEnded = errors.New("failover: the change stream ended")
)

// DefaultSocket returns the management socket Dial uses without
// WithSocket: $HAGSRM_SOCKET, else /run/hags/<domain>/hagsrmd.sock with
// the domain from $HA_DOMAIN_NAME (default "hags").
func DefaultSocket() string {
	if s := os.Getenv("HAGSRM_SOCKET"); s != "" {
		return s
	}
	return SocketPath(os.Getenv(wire.DomainEnv))
}

// SocketPath returns the management socket of hagsrmd in domain:
// /run/hags/<domain>/hagsrmd.sock, beside that domain's hagsd socket (the
// default domain for the empty name).
func SocketPath(domain string) string { return filepath.Join(wire.DomainDir(domain), "hagsrmd.sock") }

// Option configures Dial.
type Option func(*dialOptions)

type dialOptions struct {
	socket string
}

// WithSocket makes Dial connect to the management socket at path instead
// of DefaultSocket's.
func WithSocket(path string) Option { return func(o *dialOptions) { o.socket = path } }

// Client is a connection to the hagsrmd of this node. It is safe for
// concurrent use: calls from several goroutines run at once over the one
// connection. One goroutine of the Client reads hagsrmd's answers and
// changes; Close stops it. Handles (Group, Resource, Node) belong to the
// connection and die with it.
type Client struct {
	wc     *mgmtwire.Conn
	access Access
	socket string

	mu      sync.Mutex
	next    uint64
	calls   map[uint64]chan mgmtwire.Response
	watches map[uint64]*Watcher
	err     error         // why the connection ended; set once
	done    chan struct{} // closed when err is set
	bg      sync.WaitGroup
}

// Dial connects to hagsrmd and returns a Client once hagsrmd has admitted
// it. A caller hagsrmd refuses gets an *Error with ERROR_ACCESS_DENIED.
// ctx bounds the connection's set-up only.
func Dial(ctx context.Context, opts ...Option) (*Client, error) {
	o := dialOptions{}
	for _, opt := range opts {
		opt(&o)
	}
	if o.socket == "" {
		o.socket = DefaultSocket()
	}
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", o.socket)
	if err != nil {
		return nil, fmt.Errorf("failover: cannot reach hagsrmd at %s: %w", o.socket, err)
	}
	wc := mgmtwire.NewConn(nc, mgmtwire.MaxMessageClient)
	if dl, ok := ctx.Deadline(); ok {
		_ = nc.SetReadDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = nc.SetReadDeadline(time.Unix(1, 0)) })
	typ, body, err := wc.Recv()
	stop()
	_ = nc.SetReadDeadline(time.Time{})
	var w mgmtwire.Welcome
	switch {
	case err != nil && ctx.Err() != nil:
		err = ctx.Err()
	case err != nil:
	case typ != mgmtwire.MsgWelcome:
		err = fmt.Errorf("%w: hagsrmd spoke first with message type %d", ErrConnectionLost, typ)
	default:
		err = mgmtwire.Decode(body, &w)
	}
	if err != nil {
		nc.Close()
		return nil, fmt.Errorf("failover: no welcome from hagsrmd at %s: %w", o.socket, err)
	}
	if w.Code != 0 {
		nc.Close()
		return nil, &Error{Code: Code(w.Code), Message: w.Message}
	}
	c := &Client{
		wc: wc, access: Access(w.Access), socket: o.socket,
		calls: map[uint64]chan mgmtwire.Response{}, watches: map[uint64]*Watcher{},
		done: make(chan struct{}),
	}
	c.bg.Add(1)
	go c.read()
	return c, nil
}

// Access returns what hagsrmd lets this connection do.
func (c *Client) Access() Access { return c.access }

// Socket returns the path of the socket the Client is connected to.
func (c *Client) Socket() string { return c.socket }

// Close ends the connection (and so every handle and watch of it) and
// waits for the Client's goroutines. Calls in flight return ErrClosed.
func (c *Client) Close() error {
	c.fail(ErrClosed)
	c.bg.Wait()
	return nil
}

// fail ends the connection for the reason err (the first reason wins).
func (c *Client) fail(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	close(c.done)
	watches := c.watches
	c.watches = map[uint64]*Watcher{}
	c.mu.Unlock()
	c.wc.Close()
	for _, w := range watches {
		w.end(err)
	}
}

// read delivers answers to their calls and events to their watchers.
func (c *Client) read() {
	defer c.bg.Done()
	for {
		typ, body, err := c.wc.Recv()
		if err != nil {
			c.fail(fmt.Errorf("%w: %v", ErrConnectionLost, err))
			return
		}
		switch typ {
		case mgmtwire.MsgResponse:
			var r mgmtwire.Response
			if err := mgmtwire.Decode(body, &r); err != nil {
				c.fail(fmt.Errorf("%w: undecodable answer: %v", ErrConnectionLost, err))
				return
			}
			c.mu.Lock()
			ch := c.calls[r.ID]
			delete(c.calls, r.ID)
			c.mu.Unlock()
			if ch != nil {
				ch <- r // buffered, and only this goroutine sends
			}
		case mgmtwire.MsgEvent:
			var ev mgmtwire.Event
			if err := mgmtwire.Decode(body, &ev); err != nil {
				c.fail(fmt.Errorf("%w: undecodable event: %v", ErrConnectionLost, err))
				return
			}
			c.mu.Lock()
			w := c.watches[ev.Watch]
			c.mu.Unlock()
			if w != nil {
				c.deliver(w, &ev)
			}
		default:
			c.fail(fmt.Errorf("%w: unexpected message type %d", ErrConnectionLost, typ))
			return
		}
	}
}

// call sends req and waits for its answer. A code other than
// ERROR_SUCCESS is returned as an *Error, with the answer.
func (c *Client) call(ctx context.Context, req *mgmtwire.Request) (mgmtwire.Response, error) {
	ch := make(chan mgmtwire.Response, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return mgmtwire.Response{}, err
	}
	c.next++
	req.ID = c.next
	c.calls[req.ID] = ch
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		delete(c.calls, req.ID)
		c.mu.Unlock()
	}
	if err := c.wc.Send(mgmtwire.MsgRequest, req); err != nil {
		forget()
		if errors.Is(err, wire.ErrFrameTooLarge) {
			return mgmtwire.Response{}, Errorf(CodeInvalidParameter, "the request is too large: %v", err)
		}
		c.fail(fmt.Errorf("%w: %v", ErrConnectionLost, err))
		return mgmtwire.Response{}, c.reason()
	}
	select {
	case r := <-ch:
		if r.Fault != "" {
			return r, fmt.Errorf("%w: %s", ErrOutcomeUnknown, r.Fault)
		}
		if r.Code != uint32(CodeSuccess) {
			return r, &Error{Code: Code(r.Code), Message: r.Message}
		}
		return r, nil
	case <-ctx.Done():
		forget()
		return mgmtwire.Response{}, ctx.Err()
	case <-c.done:
		return mgmtwire.Response{}, c.reason()
	}
}

func (c *Client) reason() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// get sends req and decodes the answer's objects into out.
func (c *Client) get(ctx context.Context, req *mgmtwire.Request, out any) error {
	r, err := c.call(ctx, req)
	if err != nil {
		return err
	}
	if err := mgmtwire.DecodeBody(r.Body, out); err != nil {
		return fmt.Errorf("%w: %v", ErrConnectionLost, err)
	}
	return nil
}

// OpOption modifies an operation.
type OpOption func(*opOptions)

type opOptions struct {
	ignoreLocked bool
}

// IgnoreLocked makes an operation go on although a resource it concerns
// is locked (a move stops locked resources anyway).
func IgnoreLocked() OpOption { return func(o *opOptions) { o.ignoreLocked = true } }

func applyOps(opts []OpOption) opOptions {
	var o opOptions
	for _, opt := range opts {
		opt(&o)
	}
	return o
}

// Groups returns every group, in name order.
func (c *Client) Groups(ctx context.Context) ([]GroupInfo, error) {
	var out []GroupInfo
	return out, c.get(ctx, &mgmtwire.Request{Op: mgmtwire.OpListGroups}, &out)
}

// Resources returns every resource, in name order.
func (c *Client) Resources(ctx context.Context) ([]ResourceInfo, error) {
	var out []ResourceInfo
	return out, c.get(ctx, &mgmtwire.Request{Op: mgmtwire.OpListResources}, &out)
}

// Nodes returns every node, by number.
func (c *Client) Nodes(ctx context.Context) ([]NodeInfo, error) {
	var out []NodeInfo
	return out, c.get(ctx, &mgmtwire.Request{Op: mgmtwire.OpListNodes}, &out)
}

// Config returns the cluster's whole configuration.
func (c *Client) Config(ctx context.Context) (*Config, error) {
	var out Config
	if err := c.get(ctx, &mgmtwire.Request{Op: mgmtwire.OpGetConfig}, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// ApplyConfig makes the cluster's configuration cfg: groups and resources
// are created, changed and deleted to match it, as one agreed change.
func (c *Client) ApplyConfig(ctx context.Context, cfg *Config) error {
	body, err := mgmtwire.EncodeBody(cfg)
	if err != nil {
		return Errorf(CodeInvalidParameter, "the configuration does not encode: %v", err)
	}
	_, err = c.call(ctx, &mgmtwire.Request{Op: mgmtwire.OpApplyConfig, Config: body})
	return err
}

// Console returns the address of hagsrmd's web console and the token that
// lets its holder act through it (hagsrm console). It needs access All
// (else ERROR_ACCESS_DENIED); a hagsrmd started without --http answers
// ERROR_INVALID_STATE.
func (c *Client) Console(ctx context.Context) (ConsoleInfo, error) {
	var out ConsoleInfo
	return out, c.get(ctx, &mgmtwire.Request{Op: mgmtwire.OpConsole}, &out)
}
