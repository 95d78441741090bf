package main

/*
#cgo CFLAGS: -I${SRCDIR}/../include -I${SRCDIR} -Wall -Wextra
#cgo LDFLAGS: -lpthread
#include <string.h>
#include "ha_gs.h"
#include "trampoline.h"
*/
import "C"

import (
	"context"
	"path/filepath"
	"time"
	"unsafe"

	"github.com/openhags/hags/gsapi"
	"github.com/openhags/hags/internal/wire"
)

// The exports behind the public functions of ha_gs.c. Each recovers a
// panic (recoverRC) so that no Go panic crosses into the host program.
// They are local symbols of libha_gs.so (libha_gs.map).

// initTimeout bounds ha_gs_init's connection and handshake.
const initTimeout = 30 * time.Second

// recoverRC turns a panic into HA_GS_NOT_OK.
func recoverRC(out *C.int) {
	if r := recover(); r != nil {
		*out = rc(wire.NotOK)
	}
}

//export hagsgo_init
func hagsgo_init(desc *C.ha_gs_descriptor_t, opts C.ha_gs_socket_ctrl_t, resp *C.ha_gs_responsiveness_t,
	script *C.char, respCb *C.ha_gs_responsiveness_cb_t, errCb *C.ha_gs_delayed_error_cb_t,
	_ *C.ha_gs_query_cb_t, domain, socket *C.char) (out C.int) {
	defer recoverRC(&out)
	lib.mu.Lock()
	defer lib.mu.Unlock()
	if old := lib.s; old != nil {
		if !old.lost.Load() {
			return rc(wire.Exists)
		}
		old.close() // re-initialising after HA_GS_NOT_OK drops the dead session
		lib.s = nil
	}
	if desc == nil {
		return rc(wire.BadParameter)
	}
	adapterInfo := false
	switch opts {
	case C.HA_GS_SOCKET_NO_SIGNAL:
	case C.HA_GS_SOCKET_NO_SIGNAL | C.HA_GS_ENABLE_ADAPTER_INFO:
		adapterInfo = true
	default:
		return rc(wire.BadParameter)
	}

	options := []gsapi.Option{gsapi.WithFirstToken(lib.lastTok + 1)}
	// The socket: $HA_GS_SOCKET, else the domain's ($HA_DOMAIN_NAME, else
	// the default). Both were read by getenv in ha_gs.c; gsapi's own
	// environment lookup (os.Getenv) would miss a setenv by the program.
	sock := goString(socket, 4096)
	if sock == "" {
		sock = gsapi.SocketPath(goString(domain, 4096))
	}
	options = append(options, gsapi.WithDialer(dialSession(sock)))

	if resp != nil {
		r, code := responsiveness(resp)
		if code != wire.OK {
			return rc(code)
		}
		if r.Type != gsapi.NoResponsiveness {
			info := *resp
			options = append(options, gsapi.WithResponsiveness(r, responsivenessCallback(respCb, info)))
		}
		if r.Type == gsapi.CounterResponsiveness {
			loc, n := resp.gs_counter_location, resp.gs_counter_length
			options = append(options, gsapi.WithCounter(func() uint64 { return uint64(C.hags_read_counter(loc, n)) }))
		}
	}
	if script != nil && *script != 0 {
		path := goString(script, wire.MaxScriptPathLength)
		if len(path) > wire.MaxScriptPathLength || !filepath.IsAbs(path) {
			return rc(wire.BadParameter)
		}
		options = append(options, gsapi.WithDeactivateScript(path))
	}
	if f := delayedErrorCallback(errCb); f != nil {
		options = append(options, gsapi.WithDelayedErrorHandler(f))
	}

	ctx, cancel := context.WithTimeout(context.Background(), initTimeout)
	defer cancel()
	cl, err := gsapi.Dial(ctx, options...)
	if err != nil {
		return rcOf(err)
	}
	s := &session{cl: cl, first: lib.lastTok + 1, adapterInfo: adapterInfo, adapters: cl.Adapters()}
	lib.s = s
	*desc = C.ha_gs_descriptor_t(cl.Fd())
	return rc(wire.OK)
}

// responsiveness reads ha_gs_responsiveness_t: BadParameter for an unknown
// type, or a counter without a location or with a length other than 4 or
// 8. An interval of 0 counts as 1 second.
func responsiveness(r *C.ha_gs_responsiveness_t) (gsapi.Responsiveness, gsapi.Code) {
	out := gsapi.Responsiveness{
		Type:              gsapi.ResponsivenessType(r.gs_responsiveness_type),
		Interval:          max(uint32(r.gs_responsiveness_interval), 1),
		ResponseTimeLimit: uint32(r.gs_responsiveness_response_time_limit),
	}
	switch out.Type {
	case gsapi.NoResponsiveness, gsapi.PingResponsiveness:
	case gsapi.CounterResponsiveness:
		if r.gs_counter_location == nil || (r.gs_counter_length != 4 && r.gs_counter_length != 8) {
			return out, wire.BadParameter
		}
		out.CounterLength = uint32(r.gs_counter_length)
	default:
		return out, wire.BadParameter
	}
	return out, wire.OK
}

//export hagsgo_join
func hagsgo_join(tok *C.ha_gs_token_t, info *C.ha_gs_proposal_info_t) (out C.int) {
	defer recoverRC(&out)
	return open(tok, info, readJoin, (*gsapi.Client).Join)
}

//export hagsgo_subscribe
func hagsgo_subscribe(tok *C.ha_gs_token_t, info *C.ha_gs_proposal_info_t) (out C.int) {
	defer recoverRC(&out)
	return open(tok, info, readSubscribe, (*gsapi.Client).Subscribe)
}

//export hagsgo_leave
func hagsgo_leave(tok C.ha_gs_token_t, info *C.ha_gs_proposal_info_t) (out C.int) {
	defer recoverRC(&out)
	return propose(tok, info, readLeave, (*gsapi.Client).Leave)
}

//export hagsgo_expel
func hagsgo_expel(tok C.ha_gs_token_t, info *C.ha_gs_proposal_info_t) (out C.int) {
	defer recoverRC(&out)
	return propose(tok, info, readExpel, (*gsapi.Client).Expel)
}

//export hagsgo_change_state_value
func hagsgo_change_state_value(tok C.ha_gs_token_t, info *C.ha_gs_proposal_info_t) (out C.int) {
	defer recoverRC(&out)
	return propose(tok, info, readStateChange, (*gsapi.Client).ChangeStateValue)
}

//export hagsgo_send_message
func hagsgo_send_message(tok C.ha_gs_token_t, info *C.ha_gs_proposal_info_t) (out C.int) {
	defer recoverRC(&out)
	return propose(tok, info, readMessage, (*gsapi.Client).SendMessage)
}

//export hagsgo_change_attributes
func hagsgo_change_attributes(tok C.ha_gs_token_t, info *C.ha_gs_proposal_info_t) (out C.int) {
	defer recoverRC(&out)
	return propose(tok, info, readAttributesChange, (*gsapi.Client).ChangeAttributes)
}

//export hagsgo_goodbye
func hagsgo_goodbye(tok C.ha_gs_token_t) (out C.int) {
	defer recoverRC(&out)
	return onToken(tok, (*gsapi.Client).Goodbye)
}

//export hagsgo_unsubscribe
func hagsgo_unsubscribe(tok C.ha_gs_token_t) (out C.int) {
	defer recoverRC(&out)
	return onToken(tok, (*gsapi.Client).Unsubscribe)
}

//export hagsgo_vote
func hagsgo_vote(tok C.ha_gs_token_t, vote C.int, state *C.ha_gs_state_value_t, msg *C.ha_gs_provider_message_t, dflt C.int) (out C.int) {
	defer recoverRC(&out)
	s, t, code := provider(tok)
	if s == nil {
		return code
	}
	req := gsapi.VoteRequest{Vote: gsapi.Vote(vote), Default: gsapi.Vote(dflt)}
	var c gsapi.Code
	if state != nil {
		if req.State, c = opaque(state.gs_state, state.gs_length, wire.MaxStateValueLength, wire.StateValueTooLong); c != wire.OK {
			return rc(c)
		}
	}
	if msg != nil {
		if req.Message, c = opaque(msg.gs_message, msg.gs_length, wire.MaxProviderMessageLength, wire.MessageTooLong); c != wire.OK {
			return rc(c)
		}
	}
	return s.result(s.cl.Vote(t, req))
}

// The skeletons of the exports. Each is the whole of its exports' work
// but the reading of their request block, so that every function judges
// its arguments in the same order: the session (HA_GS_NO_INIT), the token
// (HA_GS_BAD_CLIENT_TOKEN), the pointers (HA_GS_BAD_PARAMETER), the block
// (its reader's code), then gsapi.

// open is ha_gs_join and ha_gs_subscribe: a request that makes a token,
// stored for the program when gsapi accepts the request.
func open[R any](tok *C.ha_gs_token_t, info *C.ha_gs_proposal_info_t,
	read func(*C.ha_gs_proposal_info_t) (R, gsapi.Code), send func(*gsapi.Client, R) (gsapi.Token, error)) C.int {
	s, code := current()
	if s == nil {
		return code
	}
	if tok == nil || info == nil {
		return rc(wire.BadParameter)
	}
	req, c := read(info)
	if c != wire.OK {
		return rc(c)
	}
	t, err := send(s.cl, req)
	if err != nil {
		return s.result(err)
	}
	issued(t)
	*tok = C.ha_gs_token_t(t)
	return rc(wire.OK)
}

// propose is the proposals of a provider: leave, expel, state value,
// message and attributes.
func propose[R any](tok C.ha_gs_token_t, info *C.ha_gs_proposal_info_t,
	read func(*C.ha_gs_proposal_info_t) (R, gsapi.Code), send func(*gsapi.Client, gsapi.Token, R) error) C.int {
	s, t, code := provider(tok)
	if s == nil {
		return code
	}
	if info == nil {
		return rc(wire.BadParameter)
	}
	req, c := read(info)
	if c != wire.OK {
		return rc(c)
	}
	return s.result(send(s.cl, t, req))
}

// onToken is the requests that name nothing but their token: goodbye and
// unsubscribe.
func onToken(tok C.ha_gs_token_t, send func(*gsapi.Client, gsapi.Token) error) C.int {
	s, t, code := provider(tok)
	if s == nil {
		return code
	}
	return s.result(send(s.cl, t))
}

// provider returns the session and the token for a request on an issued
// token: HA_GS_NO_INIT without a session, HA_GS_BAD_CLIENT_TOKEN for a
// token of an earlier session.
func provider(tok C.ha_gs_token_t) (*session, gsapi.Token, C.int) {
	s, code := current()
	if s == nil {
		return nil, 0, code
	}
	t, ok := s.checkToken(tok)
	if !ok {
		return nil, 0, rc(wire.BadClientToken)
	}
	return s, t, rc(wire.OK)
}

//export hagsgo_dispatch
func hagsgo_dispatch(flag C.int) (out C.int) {
	defer recoverRC(&out)
	s, code := current()
	if s == nil {
		return code
	}
	var mode gsapi.DispatchMode
	switch flag {
	case C.HA_GS_NON_BLOCKING:
		mode = gsapi.NonBlocking
	case C.HA_GS_BLOCKING:
		mode = gsapi.Blocking
	default:
		return rc(wire.BadParameter)
	}
	return s.result(s.cl.Dispatch(mode))
}

//export hagsgo_quit
func hagsgo_quit() {
	defer func() { _ = recover() }()
	lib.mu.Lock()
	s := lib.s
	lib.s = nil
	lib.mu.Unlock()
	if s != nil {
		s.close()
	}
}

//export hagsgo_get_node_number
func hagsgo_get_node_number(node *C.int) (out C.int) {
	defer recoverRC(&out)
	s, code := current()
	if s == nil {
		return code
	}
	if node == nil {
		return rc(wire.BadParameter)
	}
	*node = C.int(s.cl.Node())
	return rc(wire.OK)
}

//export hagsgo_get_adapter_info
func hagsgo_get_adapter_info(ad *C.ha_gs_adapter_info) (out C.int) {
	defer recoverRC(&out)
	s, code := current()
	if s == nil {
		return code
	}
	if ad == nil {
		return rc(wire.BadParameter)
	}
	if !s.adapterInfo {
		return rc(wire.NoAdapterInfo)
	}
	var ip [4]C.uchar
	C.hags_ip4_bytes(ad, &ip[0])
	for _, a := range s.adapters {
		if len(a.Addr) == 4 && a.Addr[0] == byte(ip[0]) && a.Addr[1] == byte(ip[1]) && a.Addr[2] == byte(ip[2]) && a.Addr[3] == byte(ip[3]) {
			ad.node_number = C.short(a.Node)
			ad.interface_name = s.interfaceName(a.Interface)
			return rc(wire.OK)
		}
	}
	return rc(wire.NoAdapterInfo)
}

//export hagsgo_get_ffdc_id
func hagsgo_get_ffdc_id(fid *C.char) (out C.int) {
	defer recoverRC(&out)
	s, code := current()
	if s == nil {
		return code
	}
	if fid == nil {
		return rc(wire.BadParameter)
	}
	id := s.cl.FFDC()
	if id == "" {
		return rc(wire.NotOK)
	}
	const size = C.sizeof_fc_eid_t
	if len(id) > size-1 {
		id = id[:size-1]
	}
	dst := unsafe.Slice((*byte)(unsafe.Pointer(fid)), size)
	n := copy(dst, id)
	dst[n] = 0
	return rc(wire.OK)
}
