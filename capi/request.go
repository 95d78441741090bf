package main

/*
#include <string.h>
#include "ha_gs.h"
*/
import "C"

import (
	"unsafe"

	"github.com/openhags/hags/gsapi"
	"github.com/openhags/hags/internal/wire"
)

// The request blocks are read, and copied into Go memory, during the call;
// nothing here keeps a C pointer except the program's callbacks.

// goString copies a NUL-terminated C string of at most limit bytes; a
// longer one is cut at limit+1 bytes, enough for the checks that follow to
// call it too long, without reading an unbounded string.
func goString(p *C.char, limit int) string {
	if p == nil {
		return ""
	}
	n := int(C.strnlen(p, C.size_t(limit+1)))
	return C.GoStringN(p, C.int(n))
}

// goBytes copies length bytes at p. The caller has checked length.
func goBytes(p *C.char, length C.int) []byte {
	b := make([]byte, int(length))
	if length > 0 {
		copy(b, unsafe.Slice((*byte)(unsafe.Pointer(p)), int(length)))
	}
	return b
}

// opaque reads a state value or provider message given as length and data:
// BadParameter for a negative length or NULL data with a positive length,
// tooLong beyond max. The length is checked before anything is read.
func opaque(p *C.char, length C.int, max int, tooLong gsapi.Code) ([]byte, gsapi.Code) {
	switch {
	case length < 0, p == nil && length > 0:
		return nil, wire.BadParameter
	case int(length) > max:
		return nil, tooLong
	}
	return goBytes(p, length), wire.OK
}

// attributes reads a group attributes block: HA_GS_BAD_GROUP_ATTRIBUTES for
// a wrong version or size, HA_GS_BAD_PARAMETER for a NULL or empty group
// name. gsapi checks the settings.
func attributes(a *C.ha_gs_group_attributes_t) (gsapi.Attributes, gsapi.Code) {
	if a.gs_version != C.HA_GS_GROUP_ATTRIBUTES_VERSION ||
		int(a.gs_sizeof_group_attributes) != int(C.sizeof_ha_gs_group_attributes_t) {
		return gsapi.Attributes{}, wire.BadGroupAttributes
	}
	if a.gs_group_name == nil || *a.gs_group_name == 0 {
		return gsapi.Attributes{}, wire.BadParameter
	}
	return gsapi.Attributes{
		GroupName:                 goString(a.gs_group_name, wire.MaxGroupNameLength),
		SourceGroupName:           goString(a.gs_source_group_name, wire.MaxGroupNameLength),
		BatchControl:              gsapi.BatchControl(a.gs_batch_control),
		NumPhases:                 gsapi.NumPhases(a.gs_num_phases),
		SourceReflectionNumPhases: gsapi.NumPhases(a.gs_source_reflection_num_phases),
		DefaultVote:               gsapi.Vote(a.gs_group_default_vote),
		MergeControl:              gsapi.MergeControl(a.gs_merge_control),
		TimeLimit:                 uint32(a.gs_time_limit),
		SourceReflectionTimeLimit: uint32(a.gs_source_reflection_time_limit),
	}, wire.OK
}

// member returns the member of the ha_gs_proposal_info_t union that a
// function reads (cgo sees the union as bytes).
func member[T any](info *C.ha_gs_proposal_info_t) *T { return (*T)(unsafe.Pointer(info)) }

// The readers of the request blocks: each copies its member of the union
// into the gsapi request, or returns the code that refuses it. The exports
// have checked that info is not NULL.

func readJoin(info *C.ha_gs_proposal_info_t) (gsapi.JoinRequest, gsapi.Code) {
	j := member[C.ha_gs_join_request_t](info)
	if j.gs_group_attributes == nil || j.gs_provider_instance < 0 {
		return gsapi.JoinRequest{}, wire.BadParameter
	}
	attrs, c := attributes(j.gs_group_attributes)
	if c != wire.OK {
		return gsapi.JoinRequest{}, c
	}
	return gsapi.JoinRequest{
		Attributes: attrs,
		Instance:   int32(j.gs_provider_instance),
		LocalName:  goString(j.gs_provider_local_name, wire.MaxLocalNameLength),
		Callbacks:  providerCallbacks(j),
	}, wire.OK
}

func readSubscribe(info *C.ha_gs_proposal_info_t) (gsapi.SubscribeRequest, gsapi.Code) {
	r := member[C.ha_gs_subscribe_request_t](info)
	if r.gs_subscription_group == nil {
		return gsapi.SubscribeRequest{}, wire.BadParameter
	}
	return gsapi.SubscribeRequest{
		Group:    goString(r.gs_subscription_group, wire.MaxGroupNameLength),
		Control:  gsapi.SubscriptionControl(r.gs_subscription_control),
		Callback: subscriberCallback(r.gs_subscription_callback),
	}, wire.OK
}

func readLeave(info *C.ha_gs_proposal_info_t) (gsapi.LeaveRequest, gsapi.Code) {
	l := member[C.ha_gs_leave_request_t](info)
	return gsapi.LeaveRequest{
		NumPhases: gsapi.NumPhases(l.gs_num_phases),
		TimeLimit: uint32(l.gs_time_limit),
		LeaveCode: uint32(l.gs_leave_code),
	}, wire.OK
}

func readExpel(info *C.ha_gs_proposal_info_t) (gsapi.ExpelRequest, gsapi.Code) {
	e := member[C.ha_gs_expel_request_t](info)
	list, c := expelList(&e.gs_expel_list)
	if c != wire.OK {
		return gsapi.ExpelRequest{}, c
	}
	req := gsapi.ExpelRequest{
		NumPhases:       gsapi.NumPhases(e.gs_num_phases),
		TimeLimit:       uint32(e.gs_time_limit),
		List:            list,
		DeactivatePhase: uint32(e.gs_deactivate_phase),
	}
	if e.gs_deactivate_flag != nil {
		// Truncated to HA_GS_MAX_DEACTIVATE_FLAG_LENGTH - 1 bytes.
		f := goString(e.gs_deactivate_flag, wire.MaxDeactivateFlagLength-2)
		req.Flag = &f
	}
	return req, wire.OK
}

func readStateChange(info *C.ha_gs_proposal_info_t) (gsapi.StateChangeRequest, gsapi.Code) {
	r := member[C.ha_gs_state_change_request_t](info)
	if r.gs_new_state == nil {
		return gsapi.StateChangeRequest{}, wire.BadParameter
	}
	state, c := opaque(r.gs_new_state.gs_state, r.gs_new_state.gs_length, wire.MaxStateValueLength, wire.StateValueTooLong)
	return gsapi.StateChangeRequest{
		NumPhases: gsapi.NumPhases(r.gs_num_phases), TimeLimit: uint32(r.gs_time_limit), State: state,
	}, c
}

func readMessage(info *C.ha_gs_proposal_info_t) (gsapi.MessageRequest, gsapi.Code) {
	r := member[C.ha_gs_message_request_t](info)
	if r.gs_message == nil {
		return gsapi.MessageRequest{}, wire.BadParameter
	}
	msg, c := opaque(r.gs_message.gs_message, r.gs_message.gs_length, wire.MaxProviderMessageLength, wire.MessageTooLong)
	return gsapi.MessageRequest{
		NumPhases: gsapi.NumPhases(r.gs_num_phases), TimeLimit: uint32(r.gs_time_limit), Message: msg,
	}, c
}

func readAttributesChange(info *C.ha_gs_proposal_info_t) (gsapi.AttributesRequest, gsapi.Code) {
	r := member[C.ha_gs_change_attributes_t](info)
	if r.gs_group_attributes == nil {
		return gsapi.AttributesRequest{}, wire.BadParameter
	}
	attrs, c := attributes(r.gs_group_attributes)
	return gsapi.AttributesRequest{
		NumPhases: gsapi.NumPhases(r.gs_num_phases), TimeLimit: uint32(r.gs_time_limit), Attributes: attrs,
	}, c
}

// expelList copies an expel list: BadParameter when it is empty, NULL, or
// longer than a group can be (a guard against reading a bogus count).
func expelList(m *C.ha_gs_membership_t) ([]gsapi.Provider, gsapi.Code) {
	n := int(m.gs_count)
	if n == 0 || m.gs_providers == nil || n > wire.MaxProvidersPerGroup {
		return nil, wire.BadParameter
	}
	ps := unsafe.Slice(m.gs_providers, n)
	out := make([]gsapi.Provider, n)
	for i, p := range ps {
		out[i] = gsapi.Provider{Instance: int32(p.gs_instance_number), Node: int32(p.gs_node_number)}
	}
	return out, wire.OK
}
