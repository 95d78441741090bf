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

static inline void hags_call_n_phase(ha_gs_n_phase_cb_t *f, const ha_gs_n_phase_notification_t *n)
{
    hags_callback_depth++;
    f(n);
    hags_callback_depth--;
}

static inline void hags_call_approved(ha_gs_approved_cb_t *f, const ha_gs_approved_notification_t *n)
{
    hags_callback_depth++;
    f(n);
    hags_callback_depth--;
}

static inline void hags_call_rejected(ha_gs_rejected_cb_t *f, const ha_gs_rejected_notification_t *n)
{
    hags_callback_depth++;
    f(n);
    hags_callback_depth--;
}

static inline void hags_call_announcement(ha_gs_announcement_cb_t *f,
                                          const ha_gs_announcement_notification_t *n)
{
    hags_callback_depth++;
    f(n);
    hags_callback_depth--;
}

static inline void hags_call_merge(ha_gs_merge_cb_t *f, const ha_gs_merge_notification_t *n)
{
    hags_callback_depth++;
    f(n);
    hags_callback_depth--;
}

static inline void hags_call_subscriber(ha_gs_subscriber_cb_t *f, const ha_gs_subscription_notification_t *n)
{
    hags_callback_depth++;
    f(n);
    hags_callback_depth--;
}

static inline void hags_call_delayed_error(ha_gs_delayed_error_cb_t *f,
                                           const ha_gs_delayed_error_notification_t *n)
{
    hags_callback_depth++;
    f(n);
    hags_callback_depth--;
}

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
