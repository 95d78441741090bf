package main

/*
#include "ha_gs.h"
#include "trampoline.h"
*/
import "C"

import (
	"github.com/openhags/hags/gsapi"
)

// The functions below turn the program's C callbacks into gsapi callbacks.
// gsapi calls them inside Dispatch, on the dispatching thread (the thread
// that called ha_gs_dispatch), one at a time and with no lock held; each
// builds the C block once, calls the program through its trampoline and
// frees the block when the program returns. A NULL callback gives a nil
// func, which gsapi drops.

func providerCallbacks(j *C.ha_gs_join_request_t) gsapi.ProviderCallbacks {
	var cbs gsapi.ProviderCallbacks
	if f := j.gs_n_phase_protocol_callback; f != nil {
		cbs.NPhase = func(n *gsapi.Notification) {
			var a arena
			defer a.free()
			b := (*C.ha_gs_n_phase_notification_t)(a.alloc(C.sizeof_ha_gs_n_phase_notification_t))
			b.gs_notification_type = C.HA_GS_N_PHASE_NOTIFICATION
			b.gs_provider_token = C.ha_gs_token_t(n.Token)
			b.gs_protocol_type = C.ha_gs_request_t(n.Protocol)
			b.gs_summary_code = C.ha_gs_summary_code_t(n.Summary)
			b.gs_time_limit = C.ha_gs_time_limit_t(n.TimeLimit)
			b.gs_proposal = a.proposal(n.Proposal)
			C.hags_call_n_phase(f, b)
		}
	}
	if f := j.gs_protocol_approved_callback; f != nil {
		cbs.Approved = func(n *gsapi.Notification) {
			var a arena
			defer a.free()
			b := (*C.ha_gs_approved_notification_t)(a.alloc(C.sizeof_ha_gs_approved_notification_t))
			b.gs_notification_type = C.HA_GS_APPROVED_NOTIFICATION
			b.gs_provider_token = C.ha_gs_token_t(n.Token)
			b.gs_protocol_type = C.ha_gs_request_t(n.Protocol)
			b.gs_summary_code = C.ha_gs_summary_code_t(n.Summary)
			b.gs_proposal = a.proposal(n.Proposal)
			C.hags_call_approved(f, b)
		}
	}
	if f := j.gs_protocol_rejected_callback; f != nil {
		cbs.Rejected = func(n *gsapi.Notification) {
			var a arena
			defer a.free()
			b := (*C.ha_gs_rejected_notification_t)(a.alloc(C.sizeof_ha_gs_rejected_notification_t))
			b.gs_notification_type = C.HA_GS_REJECTED_NOTIFICATION
			b.gs_provider_token = C.ha_gs_token_t(n.Token)
			b.gs_protocol_type = C.ha_gs_request_t(n.Protocol)
			b.gs_summary_code = C.ha_gs_summary_code_t(n.Summary)
			b.gs_proposal = a.proposal(n.Proposal)
			C.hags_call_rejected(f, b)
		}
	}
	if f := j.gs_announcement_callback; f != nil {
		cbs.Announcement = func(n *gsapi.Notification) {
			var a arena
			defer a.free()
			b := (*C.ha_gs_announcement_notification_t)(a.alloc(C.sizeof_ha_gs_announcement_notification_t))
			b.gs_notification_type = C.HA_GS_ANNOUNCEMENT_NOTIFICATION
			b.gs_provider_token = C.ha_gs_token_t(n.Token)
			b.gs_summary_code = C.ha_gs_summary_code_t(n.Summary)
			ps := n.Providers
			if ps == nil {
				ps = []gsapi.Provider{}
			}
			b.gs_announcement = a.membership(ps)
			C.hags_call_announcement(f, b)
		}
	}
	if f := j.gs_merge_callback; f != nil {
		cbs.Merge = func(n *gsapi.Notification) {
			var a arena
			defer a.free()
			b := (*C.ha_gs_merge_notification_t)(a.alloc(C.sizeof_ha_gs_merge_notification_t))
			b.gs_notification_type = C.HA_GS_MERGE_NOTIFICATION
			b.gs_provider_token = C.ha_gs_token_t(n.Token)
			C.hags_call_merge(f, b)
		}
	}
	return cbs
}

func subscriberCallback(f *C.ha_gs_subscriber_cb_t) func(*gsapi.Notification) {
	if f == nil {
		return nil
	}
	return func(n *gsapi.Notification) {
		var a arena
		defer a.free()
		b := (*C.ha_gs_subscription_notification_t)(a.alloc(C.sizeof_ha_gs_subscription_notification_t))
		b.gs_notification_type = C.HA_GS_SUBSCRIPTION_NOTIFICATION
		b.gs_subscriber_token = C.ha_gs_token_t(n.Token)
		b.gs_subscription_type = C.ha_gs_subscription_type_t(n.SubType)
		b.gs_state_value = a.stateValue(n.State)
		b.gs_full_membership = a.membership(n.Full)
		b.gs_changing_membership = a.membership(n.Changing)
		C.hags_call_subscriber(f, b)
	}
}

func delayedErrorCallback(f *C.ha_gs_delayed_error_cb_t) func(*gsapi.Notification) {
	if f == nil {
		return nil
	}
	return func(n *gsapi.Notification) {
		var a arena
		defer a.free()
		b := (*C.ha_gs_delayed_error_notification_t)(a.alloc(C.sizeof_ha_gs_delayed_error_notification_t))
		b.gs_notification_type = C.HA_GS_DELAYED_ERROR_NOTIFICATION
		b.gs_request_token = C.ha_gs_token_t(n.Token)
		b.gs_protocol_type = C.ha_gs_request_t(n.Protocol)
		b.gs_delayed_return_code = C.ha_gs_rc_t(rc(n.Code))
		b.gs_failing_request = a.failingRequest(n.Failing)
		C.hags_call_delayed_error(f, b)
	}
}

// responsivenessCallback answers a ping check with the program's callback;
// info is the block given to ha_gs_init, copied.
func responsivenessCallback(f *C.ha_gs_responsiveness_cb_t, info C.ha_gs_responsiveness_t) func(*gsapi.Notification) gsapi.CallbackRC {
	if f == nil {
		return nil
	}
	return func(*gsapi.Notification) gsapi.CallbackRC {
		var a arena
		defer a.free()
		b := (*C.ha_gs_responsiveness_notification_t)(a.alloc(C.sizeof_ha_gs_responsiveness_notification_t))
		b.gs_notification_type = C.HA_GS_RESPONSIVENESS_NOTIFICATION
		b.gs_responsiveness_information = info
		if C.hags_call_responsiveness(f, b) == C.HA_GS_CALLBACK_OK {
			return gsapi.CallbackOK
		}
		return gsapi.CallbackNotOK
	}
}
