/*
 * trampoline.h - private to libha_gs: calls from Go into the C program.
 *
 * Go cannot call a C function pointer, so every callback type has a static
 * inline caller here. Each keeps hags_callback_depth, the count of
 * callbacks running on this thread, so that ha_gs_dispatch can refuse to
 * run inside a callback without entering Go.
 */
#ifndef HAGS_TRAMPOLINE_H
#define HAGS_TRAMPOLINE_H

#include <stdint.h>
#include "ha_gs.h"

/* Callbacks running on this thread (defined in ha_gs.c). */
extern __thread int hags_callback_depth;

/* A function pointer of any callback type, for hags_call_protocol. */
typedef void (*hags_callback_fn)(void);

/* hags_call_protocol delivers an n-phase, approved or rejected notification
 * (kind says which) to f, a callback of the matching type. The three blocks
 * share their first four fields and gs_proposal; only the n-phase block
 * carries gs_time_limit. The block lives on this stack until f returns;
 * what gs_proposal points to belongs to the caller. */
static inline void hags_call_protocol(hags_callback_fn f, ha_gs_notification_type_t kind, ha_gs_token_t token,
                                      ha_gs_request_t protocol, ha_gs_summary_code_t summary,
                                      ha_gs_time_limit_t limit, ha_gs_proposal_t *proposal)
{
    hags_callback_depth++;
    if (kind == HA_GS_N_PHASE_NOTIFICATION) {
        ha_gs_n_phase_notification_t n = {kind, token, protocol, summary, limit, proposal};
        ((ha_gs_n_phase_cb_t *)f)(&n);
    } else if (kind == HA_GS_APPROVED_NOTIFICATION) {
        ha_gs_approved_notification_t n = {kind, token, protocol, summary, proposal};
        ((ha_gs_approved_cb_t *)f)(&n);
    } else {
        ha_gs_rejected_notification_t n = {kind, token, protocol, summary, proposal};
        ((ha_gs_rejected_cb_t *)f)(&n);
    }
    hags_callback_depth--;
}

/* HAGS_TRAMPOLINE defines hags_call_NAME, the caller of one callback type
 * whose block the Go side builds. */
#define HAGS_TRAMPOLINE(name, cb_t, block_t)                              \
    static inline void hags_call_##name(cb_t *f, const block_t *n)       \
    {                                                                     \
        hags_callback_depth++;                                            \
        f(n);                                                             \
        hags_callback_depth--;                                            \
    }

HAGS_TRAMPOLINE(announcement, ha_gs_announcement_cb_t, ha_gs_announcement_notification_t)
HAGS_TRAMPOLINE(merge, ha_gs_merge_cb_t, ha_gs_merge_notification_t)
HAGS_TRAMPOLINE(subscriber, ha_gs_subscriber_cb_t, ha_gs_subscription_notification_t)
HAGS_TRAMPOLINE(delayed_error, ha_gs_delayed_error_cb_t, ha_gs_delayed_error_notification_t)

static inline int hags_call_responsiveness(ha_gs_responsiveness_cb_t *f,
                                           const ha_gs_responsiveness_notification_t *n)
{
    ha_gs_callback_rc_t rc;
    hags_callback_depth++;
    rc = f(n);
    hags_callback_depth--;
    return (int)rc;
}

/* The counter of the counter responsiveness method, 4 or 8 bytes. The
 * program updates it from any thread, hence the volatile read. */
static inline uint64_t hags_read_counter(const void *p, unsigned int len)
{
    if (len == 8)
        return *(const volatile uint64_t *)p;
    return *(const volatile uint32_t *)p;
}

/* The IPv4 address of an adapter query, in network byte order, as bytes. */
static inline void hags_ip4_bytes(const ha_gs_adapter_info *a, unsigned char out[4])
{
    const unsigned char *b = (const unsigned char *)&a->ip_addr.ip4.s_addr;
    out[0] = b[0];
    out[1] = b[1];
    out[2] = b[2];
    out[3] = b[3];
}

#endif /* HAGS_TRAMPOLINE_H */
