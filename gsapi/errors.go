package gsapi

import (
	"errors"
	"fmt"

	"github.com/openhags/hags/internal/wire"
)

// Sentinel errors, one per GSAPI return code other than OK. Every error
// gsapi returns is an *Error whose Is method matches the sentinel of its
// Code, so callers test errors.Is(err, gsapi.ErrCollide).
var (
	ErrNotOK                   = sentinel(wire.NotOK, "connection to the daemon lost or generic failure")
	ErrExists                  = sentinel(wire.Exists, "already exists")
	ErrNoInit                  = sentinel(wire.NoInit, "client not initialized or already closed")
	ErrNameTooLong             = sentinel(wire.NameTooLong, "name too long")
	ErrNoMemory                = sentinel(wire.NoMemory, "out of memory")
	ErrNotAMember              = sentinel(wire.NotAMember, "not a member of the group")
	ErrBadClientToken          = sentinel(wire.BadClientToken, "bad client token")
	ErrBadMemberToken          = sentinel(wire.BadMemberToken, "bad member token")
	ErrBadParameter            = sentinel(wire.BadParameter, "bad parameter")
	ErrUnknownGroup            = sentinel(wire.UnknownGroup, "unknown group")
	ErrInvalidGroup            = sentinel(wire.InvalidGroup, "invalid group")
	ErrNoSourceGroupProvider   = sentinel(wire.NoSourceGroupProvider, "source group has no provider")
	ErrBadGroupAttributes      = sentinel(wire.BadGroupAttributes, "bad group attributes")
	ErrWrongOldState           = sentinel(wire.WrongOldState, "wrong old state")
	ErrDuplicateInstanceNumber = sentinel(wire.DuplicateInstanceNumber, "duplicate instance number")
	ErrCollide                 = sentinel(wire.Collide, "another protocol is running or proposed")
	ErrSockCreateFailed        = sentinel(wire.SockCreateFailed, "cannot create socket")
	ErrSockInitFailed          = sentinel(wire.SockInitFailed, "cannot initialize socket")
	ErrConnectFailed           = sentinel(wire.ConnectFailed, "cannot connect to the daemon")
	ErrVoteNotExpected         = sentinel(wire.VoteNotExpected, "no vote expected")
	ErrNotSupported            = sentinel(wire.NotSupported, "not supported")
	ErrInvalidSourceGroup      = sentinel(wire.InvalidSourceGroup, "invalid source group")
	ErrUnknownProvider         = sentinel(wire.UnknownProvider, "unknown provider")
	ErrProviderAppearsTwice    = sentinel(wire.ProviderAppearsTwice, "provider appears twice")
	ErrInvalidDeactivatePhase  = sentinel(wire.InvalidDeactivatePhase, "invalid deactivate phase")
	ErrBacklevelProviders      = sentinel(wire.BacklevelProviders, "back-level providers")
	ErrStateValueTooLong       = sentinel(wire.StateValueTooLong, "state value too long")
	ErrMessageTooLong          = sentinel(wire.MessageTooLong, "provider message too long")
	ErrPermissionDenied        = sentinel(wire.PermissionDenied, "permission denied")
	ErrNoAdapterInfo           = sentinel(wire.NoAdapterInfo, "no adapter information")
	ErrForkedChild             = sentinel(wire.ForkedChild, "called in a forked child")
)

// sentinels maps each code to its sentinel; filled by sentinel().
var sentinels = map[wire.Code]*Error{}

func sentinel(c wire.Code, msg string) *Error {
	e := &Error{Code: c, Msg: msg}
	sentinels[c] = e
	return e
}

// ErrorFor returns the sentinel error of code c: nil for OK, ErrNotOK for a
// value that is not a known code.
func ErrorFor(c Code) error {
	if c == wire.OK {
		return nil
	}
	if e, ok := sentinels[c]; ok {
		return e
	}
	return ErrNotOK
}

// Error is the error every gsapi call returns: a GSAPI return code, the
// operation that failed ("join", "vote", "dial", ...), the token it
// concerned (0 when none) and a message. Err, when set, is the underlying
// cause (a network error, for instance).
type Error struct {
	Code  Code
	Op    string
	Token Token
	Msg   string
	Err   error
	// FFDC is the id under which the daemon logged a refusal of the
	// session (Dial), or "".
	FFDC string
}

// Error formats e as "gsapi: <op> token <n>: HA_GS_<CODE>: <msg>: <cause>",
// leaving out the parts that are empty.
func (e *Error) Error() string {
	s := "gsapi: "
	if e.Op != "" {
		s += e.Op
		if e.Token != 0 {
			s += fmt.Sprintf(" token %d", e.Token)
		}
		s += ": "
	}
	s += e.Code.String()
	if e.Msg != "" {
		s += ": " + e.Msg
	}
	if e.Err != nil {
		s += ": " + e.Err.Error()
	}
	return s
}

// Is reports whether target is an *Error with the same Code, so that every
// error matches the sentinel of its code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Unwrap returns the underlying cause, if any.
func (e *Error) Unwrap() error { return e.Err }

// CodeOf returns the GSAPI return code of err: OK for nil, the Code of an
// *Error in err's chain, and NotOK for any other error.
func CodeOf(err error) Code {
	if err == nil {
		return wire.OK
	}
	var e *Error
	if errors.As(err, &e) && e.Code != wire.OK {
		return e.Code
	}
	return wire.NotOK
}

// newError builds the error returned by an operation, with the sentinel's
// text as its message.
func newError(c Code, op string, tok Token) *Error {
	msg := ""
	if s, ok := sentinels[c]; ok {
		msg = s.Msg
	}
	return &Error{Code: c, Op: op, Token: tok, Msg: msg}
}
