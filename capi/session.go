package main

/*
#include <stdlib.h>
#include "ha_gs.h"

int hags_session_hold(void);
void hags_session_release(int fd);
*/
import "C"

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"unsafe"

	"github.com/openhags/hags/gsapi"
	"github.com/openhags/hags/internal/wire"
)

// session is one ha_gs_init: the gsapi client and what the C side gave.
type session struct {
	cl    *gsapi.Client
	first gsapi.Token // the first token of this session; smaller ones are stale

	lost        atomic.Bool // a call returned HA_GS_NOT_OK: ha_gs_init may run again
	adapterInfo bool        // HA_GS_ENABLE_ADAPTER_INFO was given
	adapters    []gsapi.Adapter

	// Interface names handed to ha_gs_get_adapter_info callers, in C
	// memory, valid until ha_gs_quit.
	namesMu sync.Mutex
	names   map[string]*C.char
}

// lib is the library's one session (one connection per process).
var lib struct {
	mu      sync.Mutex
	s       *session
	lastTok gsapi.Token // the highest token ever issued, across sessions
}

// current returns the open session, or nil and HA_GS_NO_INIT.
func current() (*session, C.int) {
	lib.mu.Lock()
	defer lib.mu.Unlock()
	if lib.s == nil {
		return nil, rc(wire.NoInit)
	}
	return lib.s, rc(wire.OK)
}

// result converts the outcome of a gsapi call on s and records a lost
// connection, after which ha_gs_init may open a new session.
func (s *session) result(err error) C.int {
	code := gsapi.CodeOf(err)
	if code == wire.NotOK {
		s.lost.Store(true)
	}
	return rc(code)
}

// issued records a token handed to the program, so that the next session
// starts counting after it.
func issued(tok gsapi.Token) {
	lib.mu.Lock()
	defer lib.mu.Unlock()
	lib.lastTok = max(lib.lastTok, tok)
}

// checkToken refuses a token of an earlier session (HA_GS_BAD_CLIENT_TOKEN)
// before gsapi judges the others.
func (s *session) checkToken(tok C.ha_gs_token_t) (gsapi.Token, bool) {
	t := gsapi.Token(tok)
	return t, !(t > 0 && t < s.first)
}

// close ends the session's client and frees the C memory it handed out.
func (s *session) close() {
	_ = s.cl.Close()
	s.namesMu.Lock()
	defer s.namesMu.Unlock()
	for _, p := range s.names {
		C.free(unsafe.Pointer(p))
	}
	s.names = nil
}

// interfaceName returns the C copy of name, made once per session.
func (s *session) interfaceName(name string) *C.char {
	s.namesMu.Lock()
	defer s.namesMu.Unlock()
	if p, ok := s.names[name]; ok {
		return p
	}
	if s.names == nil {
		s.names = make(map[string]*C.char)
	}
	p := C.CString(name)
	s.names[name] = p
	return p
}

// sessionConn is the library's connection to the daemon. Its descriptor is
// published to ha_gs.c, whose pthread_atfork child handler closes it in a
// forked child, so that a child outliving its parent does not hold the
// session open: the daemon sees the connection end when the parent's
// process ends and fails its providers. It is published when the socket
// is made and withdrawn when it is closed, each time with fork() held off
// (hags_session_hold), so that the handler never closes a descriptor
// number that has come to name another file.
type sessionConn struct {
	*net.UnixConn
	fd   int // -1: unknown, nothing published
	once sync.Once
	err  error
}

// dialSession returns gsapi's dialer for the socket at path.
func dialSession(path string) func(context.Context) (net.Conn, error) {
	return func(ctx context.Context) (net.Conn, error) {
		published := int(C.hags_session_hold())
		defer func() { C.hags_session_release(C.int(published)) }()
		var d net.Dialer
		c, err := d.DialContext(ctx, "unix", path)
		if err != nil {
			return nil, err
		}
		sc := &sessionConn{UnixConn: c.(*net.UnixConn), fd: -1}
		if raw, err := sc.SyscallConn(); err == nil {
			_ = raw.Control(func(fd uintptr) { sc.fd = int(fd) })
		}
		if sc.fd >= 0 {
			published = sc.fd
		}
		return sc, nil
	}
}

// Close withdraws the descriptor and closes the connection; later calls
// return the first call's result.
func (c *sessionConn) Close() error {
	c.once.Do(func() {
		published := int(C.hags_session_hold())
		if published == c.fd {
			published = -1
		}
		c.err = c.UnixConn.Close()
		C.hags_session_release(C.int(published))
	})
	return c.err
}
