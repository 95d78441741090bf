package main

/*
#include "ha_gs.h"
#include "trampoline.h"
*/
import "C"

import (
	"unsafe"

	"github.com/openhags/hags/gsapi"
)

// The functions below turn the program's C callbacks into gsapi callbacks.
// gsapi calls them inside Dispatch, on the dispatching thread (the thread
// that called ha_gs_dispatch), one at a time and with no lock held; each
// builds the C block once, calls the program through its trampoline and
// frees the block when the program returns. A NULL callback gives a nil
// func, which gsapi drops.

func providerCallbacks(j *C.ha_gs_join_request_t) gsapi.ProviderCallbacks {
	return gsapi.ProviderCallbacks{
		NPhase:       protocolCallback(C.HA_GS_N_PHASE_NOTIFICATION, unsafe.Pointer(j.gs_n_phase_protocol_callback)),
		Approved:     protocolCallback(C.HA_GS_APPROVED_NOTIFICATION, unsafe.Pointer(j.gs_protocol_approved_callback)),
		Rejected:     protocolCallback(C.HA_GS_REJECTED_NOTIFICATION, unsafe.Pointer(j.gs_protocol_rejected_callback)),
		Announcement: callback(j.gs_announcement_callback, fillAnnouncement, callAnnouncement),
		Merge:        callback(j.gs_merge_callback, fillMerge, callMerge),
	}
}

func subscriberCallback(f *C.ha_gs_subscriber_cb_t) func(*gsapi.Notification) {
	return callback(f, fillSubscription, callSubscriber)
}

func delayedErrorCallback(f *C.ha_gs_delayed_error_cb_t) func(*gsapi.Notification) {
	return callback(f, fillDelayedError, callDelayedError)
}

// protocolCallback turns the program's n-phase, approved or rejected
// callback f (kind says which) into a gsapi callback. The three blocks
// differ only in the n-phase block's time limit, so one C function builds
// whichever kind says; what the block points to is built here, in an arena
// freed when the program returns. A NULL f gives nil.
func protocolCallback(kind C.ha_gs_notification_type_t, f unsafe.Pointer) func(*gsapi.Notification) {
	if f == nil {
		return nil
	}
	return func(n *gsapi.Notification) {
		var a arena
		defer a.free()
		C.hags_call_protocol(C.hags_callback_fn(f), kind, C.ha_gs_token_t(n.Token), C.ha_gs_request_t(n.Protocol),
			C.ha_gs_summary_code_t(n.Summary), C.ha_gs_time_limit_t(n.TimeLimit), a.proposal(n.Proposal))
	}
}

// callback turns the program's callback f, whose block B the Go side
// builds, into a gsapi callback: fill writes the block, call hands it to
// the program through its trampoline. A NULL f gives nil.
func callback[F, B any](f *F, fill func(*arena, *B, *gsapi.Notification), call func(*F, *B)) func(*gsapi.Notification) {
	if f == nil {
		return nil
	}
	return func(n *gsapi.Notification) {
		inArena(func(a *arena, b *B) { fill(a, b, n) }, func(b *B) struct{} { call(f, b); return struct{}{} })
	}
}

// inArena builds one block B and everything it points to in a fresh
// arena (fill), hands it to the program (call), and frees it all when the
// program returns.
func inArena[B, R any](fill func(*arena, *B), call func(*B) R) R {
	var a arena
	defer a.free()
	b := (*B)(a.alloc(unsafe.Sizeof(*new(B))))
	fill(&a, b)
	return call(b)
}

func fillAnnouncement(a *arena, b *C.ha_gs_announcement_notification_t, n *gsapi.Notification) {
	b.gs_notification_type = C.HA_GS_ANNOUNCEMENT_NOTIFICATION
	b.gs_provider_token = C.ha_gs_token_t(n.Token)
	b.gs_summary_code = C.ha_gs_summary_code_t(n.Summary)
	ps := n.Providers
	if ps == nil {
		ps = []gsapi.Provider{}
	}
	b.gs_announcement = a.membership(ps)
}

func fillMerge(_ *arena, b *C.ha_gs_merge_notification_t, n *gsapi.Notification) {
	b.gs_notification_type = C.HA_GS_MERGE_NOTIFICATION
	b.gs_provider_token = C.ha_gs_token_t(n.Token)
}

func fillSubscription(a *arena, b *C.ha_gs_subscription_notification_t, n *gsapi.Notification) {
	b.gs_notification_type = C.HA_GS_SUBSCRIPTION_NOTIFICATION
	b.gs_subscriber_token = C.ha_gs_token_t(n.Token)
	b.gs_subscription_type = C.ha_gs_subscription_type_t(n.SubType)
	b.gs_state_value = a.stateValue(n.State)
	b.gs_full_membership = a.membership(n.Full)
	b.gs_changing_membership = a.membership(n.Changing)
}

func fillDelayedError(a *arena, b *C.ha_gs_delayed_error_notification_t, n *gsapi.Notification) {
	b.gs_notification_type = C.HA_GS_DELAYED_ERROR_NOTIFICATION
	b.gs_request_token = C.ha_gs_token_t(n.Token)
	b.gs_protocol_type = C.ha_gs_request_t(n.Protocol)
	b.gs_delayed_return_code = C.ha_gs_rc_t(rc(n.Code))
	b.gs_failing_request = a.failingRequest(n.Failing)
}

// The trampolines as Go functions (cgo's C functions are not values).

func callAnnouncement(f *C.ha_gs_announcement_cb_t, b *C.ha_gs_announcement_notification_t) {
	C.hags_call_announcement(f, b)
}

func callMerge(f *C.ha_gs_merge_cb_t, b *C.ha_gs_merge_notification_t) { C.hags_call_merge(f, b) }

func callSubscriber(f *C.ha_gs_subscriber_cb_t, b *C.ha_gs_subscription_notification_t) {
	C.hags_call_subscriber(f, b)
}

func callDelayedError(f *C.ha_gs_delayed_error_cb_t, b *C.ha_gs_delayed_error_notification_t) {
	C.hags_call_delayed_error(f, b)
}

// responsivenessCallback answers a ping check with the program's callback;
// info is the block given to ha_gs_init, copied.
func responsivenessCallback(f *C.ha_gs_responsiveness_cb_t, info C.ha_gs_responsiveness_t) func(*gsapi.Notification) gsapi.CallbackRC {
	if f == nil {
		return nil
	}
	return func(*gsapi.Notification) gsapi.CallbackRC {
		return inArena(func(_ *arena, b *C.ha_gs_responsiveness_notification_t) {
			b.gs_notification_type = C.HA_GS_RESPONSIVENESS_NOTIFICATION
			b.gs_responsiveness_information = info
		}, func(b *C.ha_gs_responsiveness_notification_t) gsapi.CallbackRC {
			if C.hags_call_responsiveness(f, b) == C.HA_GS_CALLBACK_OK {
				return gsapi.CallbackOK
			}
			return gsapi.CallbackNotOK
		})
	}
}
