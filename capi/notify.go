package main

/*
#include <stdlib.h>
#include <string.h>
#include "ha_gs.h"
*/
import "C"

import (
	"unsafe"

	"github.com/openhags/hags/gsapi"
	"github.com/openhags/hags/internal/wire"
)

// arena holds the C memory of one notification: every block and array the
// callback sees is carved from it, and free releases it all once the
// callback has returned. Most notifications fit in the first chunk.
type arena struct {
	chunks []unsafe.Pointer
	base   unsafe.Pointer // the current chunk
	off    uintptr
	size   uintptr
}

const arenaChunk = 4096

// alloc returns n zeroed bytes aligned for any C type.
func (a *arena) alloc(n uintptr) unsafe.Pointer {
	n = (n + 15) &^ 15
	if a.base == nil || a.off+n > a.size {
		size := max(n, arenaChunk)
		a.base = C.malloc(C.size_t(size)) // cgo's malloc never returns NULL
		a.chunks = append(a.chunks, a.base)
		a.off, a.size = 0, size
	}
	p := unsafe.Add(a.base, a.off)
	a.off += n
	C.memset(p, 0, C.size_t(n))
	return p
}

func (a *arena) free() {
	for _, p := range a.chunks {
		C.free(p)
	}
	a.chunks, a.base = nil, nil
}

// bytes copies b, NUL-terminated for convenience (the length is what
// counts).
func (a *arena) bytes(b []byte) *C.char {
	p := a.alloc(uintptr(len(b)) + 1)
	if len(b) > 0 {
		copy(unsafe.Slice((*byte)(p), len(b)), b)
	}
	return (*C.char)(p)
}

// str copies s as a C string; "" stays "" (not NULL).
func (a *arena) str(s string) *C.char { return a.bytes([]byte(s)) }

// membership builds a provider list; nil stays NULL.
func (a *arena) membership(ps []gsapi.Provider) *C.ha_gs_membership_t {
	if ps == nil {
		return nil
	}
	m := (*C.ha_gs_membership_t)(a.alloc(C.sizeof_ha_gs_membership_t))
	m.gs_count = C.uint(len(ps))
	if len(ps) > 0 {
		m.gs_providers = (*C.ha_gs_provider_t)(a.alloc(uintptr(len(ps)) * C.sizeof_ha_gs_provider_t))
		out := unsafe.Slice(m.gs_providers, len(ps))
		for i, p := range ps {
			out[i].gs_instance_number = C.int(p.Instance)
			out[i].gs_node_number = C.int(p.Node)
		}
	}
	return m
}

// stateValue builds a state value; nil stays NULL.
func (a *arena) stateValue(b []byte) *C.ha_gs_state_value_t {
	if b == nil {
		return nil
	}
	v := (*C.ha_gs_state_value_t)(a.alloc(C.sizeof_ha_gs_state_value_t))
	v.gs_length = C.int(len(b))
	v.gs_state = a.bytes(b)
	return v
}

// message builds a provider message; nil stays NULL.
func (a *arena) message(b []byte) *C.ha_gs_provider_message_t {
	if b == nil {
		return nil
	}
	v := (*C.ha_gs_provider_message_t)(a.alloc(C.sizeof_ha_gs_provider_message_t))
	v.gs_length = C.int(len(b))
	v.gs_message = a.bytes(b)
	return v
}

// attributes builds a group attributes block; nil stays NULL.
func (a *arena) attributes(at *gsapi.Attributes) *C.ha_gs_group_attributes_t {
	if at == nil {
		return nil
	}
	c := (*C.ha_gs_group_attributes_t)(a.alloc(C.sizeof_ha_gs_group_attributes_t))
	c.gs_version = C.HA_GS_GROUP_ATTRIBUTES_VERSION
	c.gs_sizeof_group_attributes = C.short(C.sizeof_ha_gs_group_attributes_t)
	c.gs_batch_control = C.ha_gs_batch_ctrl_t(at.BatchControl)
	c.gs_num_phases = C.ha_gs_num_phases_t(at.NumPhases)
	c.gs_source_reflection_num_phases = C.ha_gs_num_phases_t(at.SourceReflectionNumPhases)
	c.gs_group_default_vote = C.ha_gs_vote_value_t(at.DefaultVote)
	c.gs_merge_control = C.ha_gs_merge_ctrl_t(at.MergeControl)
	c.gs_time_limit = C.ha_gs_time_limit_t(at.TimeLimit)
	c.gs_source_reflection_time_limit = C.ha_gs_time_limit_t(at.SourceReflectionTimeLimit)
	c.gs_group_name = a.str(at.GroupName)
	if at.SourceGroupName != "" {
		c.gs_source_group_name = a.str(at.SourceGroupName)
	}
	return c
}

// proposal builds the content of an n-phase, approved or rejected
// notification. Pointers that do not apply stay NULL: the changing
// providers when the protocol changes no membership and names none, the
// proposed state value and message when there are none, and so on.
func (a *arena) proposal(p *gsapi.Proposal) *C.ha_gs_proposal_t {
	if p == nil {
		return nil
	}
	c := (*C.ha_gs_proposal_t)(a.alloc(C.sizeof_ha_gs_proposal_t))
	c.gs_phase_number = C.uint(p.Phase)
	c.gs_whats_changed = C.ha_gs_whats_changed_t(p.WhatsChanged)
	cur := p.Current
	if cur == nil {
		cur = []gsapi.Provider{}
	}
	c.gs_current_providers = a.membership(cur)
	chg := p.Changing
	if chg == nil && p.WhatsChanged&wire.ChangeMembership != 0 {
		chg = []gsapi.Provider{}
	}
	c.gs_changing_providers = a.membership(chg)
	cs := p.CurrentState
	if cs == nil {
		cs = []byte{}
	}
	c.gs_current_state_value = a.stateValue(cs)
	c.gs_proposed_state_value = a.stateValue(p.ProposedState)
	c.gs_provider_message = a.message(p.Message)
	c.gs_proposed_attributes = a.attributes(p.ProposedAttributes)
	if len(p.LeaveInfo) > 0 {
		li := unsafe.Slice((*C.ha_gs_leave_info_t)(a.alloc(uintptr(len(p.LeaveInfo))*C.sizeof_ha_gs_leave_info_t)), len(p.LeaveInfo))
		for i, l := range p.LeaveInfo {
			li[i].gs_leave_reason = C.ha_gs_leave_reason_t(l.Reason)
			li[i].gs_leave_code = C.uint(l.Code)
		}
		c.gs_leave_info = &li[0]
	}
	if e := p.ExpelInfo; e != nil {
		x := (*C.ha_gs_expel_info_t)(a.alloc(C.sizeof_ha_gs_expel_info_t))
		x.gs_deactivate_phase = C.uint(e.Phase)
		if e.Flag != nil {
			x.gs_deactivate_flag = a.str(*e.Flag)
		}
		if len(e.Results) > 0 {
			rs := unsafe.Slice((*C.ha_gs_deactivate_result_t)(a.alloc(uintptr(len(e.Results))*C.sizeof_ha_gs_deactivate_result_t)), len(e.Results))
			for i, r := range e.Results {
				rs[i] = C.ha_gs_deactivate_result_t(r)
			}
			x.gs_deactivate_results = &rs[0]
		}
		c.gs_expel_info = x
	}
	return c
}

// failingRequest echoes a refused request as the union member of its
// kind; NULL for the requests that have no request block (goodbye, vote,
// unsubscribe). Callback pointers in the echo are NULL.
func (a *arena) failingRequest(r *gsapi.Request) *C.ha_gs_proposal_info_t {
	if r == nil {
		return nil
	}
	var info *C.ha_gs_proposal_info_t
	newInfo := func() unsafe.Pointer {
		info = (*C.ha_gs_proposal_info_t)(a.alloc(C.sizeof_ha_gs_proposal_info_t))
		return unsafe.Pointer(info)
	}
	switch r.Op {
	case wire.OpJoin:
		j := (*C.ha_gs_join_request_t)(newInfo())
		j.gs_group_attributes = a.attributes(r.Attributes)
		j.gs_provider_instance = C.short(r.Instance)
		if r.LocalName != "" {
			j.gs_provider_local_name = a.str(r.LocalName)
		}
	case wire.OpLeave:
		l := (*C.ha_gs_leave_request_t)(newInfo())
		l.gs_num_phases = C.ha_gs_num_phases_t(r.NumPhases)
		l.gs_time_limit = C.ha_gs_time_limit_t(r.TimeLimit)
		l.gs_leave_code = C.uint(r.LeaveCode)
	case wire.OpExpel:
		e := (*C.ha_gs_expel_request_t)(newInfo())
		e.gs_num_phases = C.ha_gs_num_phases_t(r.NumPhases)
		e.gs_time_limit = C.ha_gs_time_limit_t(r.TimeLimit)
		if m := a.membership(r.ExpelList); m != nil {
			e.gs_expel_list = *m
		}
		e.gs_deactivate_phase = C.uint(r.DeactivatePhase)
		if r.DeactivateFlag != nil {
			e.gs_deactivate_flag = a.str(*r.DeactivateFlag)
		}
	case wire.OpChangeState:
		s := (*C.ha_gs_state_change_request_t)(newInfo())
		s.gs_num_phases = C.ha_gs_num_phases_t(r.NumPhases)
		s.gs_time_limit = C.ha_gs_time_limit_t(r.TimeLimit)
		s.gs_new_state = a.stateValue(r.State)
	case wire.OpSendMessage:
		m := (*C.ha_gs_message_request_t)(newInfo())
		m.gs_num_phases = C.ha_gs_num_phases_t(r.NumPhases)
		m.gs_time_limit = C.ha_gs_time_limit_t(r.TimeLimit)
		m.gs_message = a.message(r.Message)
	case wire.OpChangeAttributes:
		c := (*C.ha_gs_change_attributes_t)(newInfo())
		c.gs_num_phases = C.ha_gs_num_phases_t(r.NumPhases)
		c.gs_time_limit = C.ha_gs_time_limit_t(r.TimeLimit)
		c.gs_group_attributes = a.attributes(r.Attributes)
	case wire.OpSubscribe:
		s := (*C.ha_gs_subscribe_request_t)(newInfo())
		s.gs_subscription_control = C.ha_gs_subscription_ctrl_t(r.Control)
		s.gs_subscription_group = a.str(r.Group)
	}
	return info
}
