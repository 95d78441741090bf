package gsapi

import (
	"context"
	"net"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/openhags/hags/internal/wire"
)

// Option configures Dial.
type Option func(*options)

type options struct {
	socket         string
	domain         string
	script         string
	program        string
	resp           Responsiveness
	respCallback   func(*Notification) CallbackRC
	counter        func() uint64
	delayedErrorCb func(*Notification)
	dialer         func(context.Context) (net.Conn, error)
	firstToken     Token
}

// WithSocket names the daemon's Unix socket, overriding $HA_GS_SOCKET and
// the default derived from the domain.
func WithSocket(path string) Option { return func(o *options) { o.socket = path } }

// WithDomain names the domain whose daemon to reach, overriding
// $HA_DOMAIN_NAME. The socket is then /run/hags/<domain>/hagsd.sock unless
// WithSocket or $HA_GS_SOCKET names another.
func WithDomain(name string) Option { return func(o *options) { o.domain = name } }

// WithDeactivateScript registers the script the daemon runs on this node
// when one of this client's providers is expelled with a deactivate phase.
// The path must name an executable regular file when Dial runs, else Dial
// fails with ErrBadParameter.
func WithDeactivateScript(path string) Option { return func(o *options) { o.script = path } }

// WithResponsiveness asks the daemon to check this client's responsiveness.
// For the ping method, every check runs cb inside Dispatch and the answer is
// cb's return value (CallbackOK when cb is nil), so a client whose dispatch
// loop is wedged fails the check. cb runs on the dispatching goroutine.
func WithResponsiveness(r Responsiveness, cb func(*Notification) CallbackRC) Option {
	return func(o *options) { o.resp, o.respCallback = r, cb }
}

// WithCounter supplies the counter of the counter responsiveness method:
// each answer to a check carries counter()'s value, which must advance
// between checks. counter runs on the dispatching goroutine.
func WithCounter(counter func() uint64) Option { return func(o *options) { o.counter = counter } }

// WithDelayedErrorHandler sets the callback that receives delayed errors:
// errors that only the daemon can detect, reported after the request
// returned. Without it, delayed errors are dropped.
func WithDelayedErrorHandler(cb func(*Notification)) Option {
	return func(o *options) { o.delayedErrorCb = cb }
}

// WithProgram names this client in the daemon's logs and in hagsctl, in
// at most MaxProgramNameLength bytes (Dial fails with ErrNameTooLong for a
// longer name). The default is the base name of os.Args[0], cut to that
// length.
func WithProgram(name string) Option { return func(o *options) { o.program = name } }

// WithFirstToken makes the client's tokens start at first (default 1)
// instead of 1; later tokens count up from it. A program that opens one
// session after another can thus keep tokens unique across sessions, and
// tell a token of an earlier session from one never issued (libha_gs does).
// Values below 1 mean 1.
func WithFirstToken(first Token) Option { return func(o *options) { o.firstToken = first } }

// WithDialer replaces the Unix-socket connection with dial; gsapitest uses
// it to reach an in-memory daemon. The socket options are then ignored.
func WithDialer(dial func(ctx context.Context) (net.Conn, error)) Option {
	return func(o *options) { o.dialer = dial }
}

// socketPath resolves the socket: WithSocket, else $HA_GS_SOCKET, else the
// domain's default.
func (o *options) socketPath() string {
	if o.socket != "" {
		return o.socket
	}
	if p := os.Getenv(SocketEnv); p != "" {
		return p
	}
	domain := o.domain
	if domain == "" {
		domain = os.Getenv(DomainEnv)
	}
	return SocketPath(domain)
}

// check validates the options that Dial can judge before connecting.
func (o *options) check() *Error {
	if o.script != "" {
		if abs, err := filepath.Abs(o.script); err == nil {
			o.script = abs // the daemon runs it from another directory
		}
		if len(o.script) > wire.MaxScriptPathLength {
			return &Error{Code: wire.BadParameter, Op: "dial", Msg: "deactivate script path too long"}
		}
		st, err := os.Stat(o.script)
		if err != nil {
			return &Error{Code: wire.BadParameter, Op: "dial", Msg: "deactivate script", Err: err}
		}
		if !st.Mode().IsRegular() {
			return &Error{Code: wire.BadParameter, Op: "dial", Msg: "deactivate script " + o.script + " is not a regular file"}
		}
		if err := unix.Access(o.script, unix.X_OK); err != nil || st.Mode().Perm()&0o111 == 0 {
			return &Error{Code: wire.BadParameter, Op: "dial", Msg: "deactivate script " + o.script + " is not executable"}
		}
	}
	switch o.resp.Type {
	case wire.NoResponsiveness, wire.PingResponsiveness, wire.CounterResponsiveness:
	default:
		return &Error{Code: wire.BadParameter, Op: "dial", Msg: "unknown responsiveness type"}
	}
	if len(o.program) > wire.MaxProgramNameLength {
		return &Error{Code: wire.NameTooLong, Op: "dial", Msg: "program name longer than MaxProgramNameLength"}
	}
	if o.program == "" {
		o.program = filepath.Base(os.Args[0])
		o.program = o.program[:min(len(o.program), wire.MaxProgramNameLength)]
	}
	return nil
}
