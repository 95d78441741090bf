/*
 * ha_gs.c - the public functions of libha_gs: const-correct shims over the
 * Go exports (hagsgo_*, export.go).
 *
 * What is done here, in C, before Go is entered:
 *   - the fork guard: the Go runtime's threads do not survive fork(), so a
 *     child that called into Go could hang. Every function checks the pid
 *     and returns HA_GS_FORKED_CHILD (ha_gs_quit: returns) in a forked
 *     child without entering Go;
 *   - ha_gs_dispatch called from a callback is refused (trampoline.h counts
 *     the callbacks running on each thread);
 *   - HA_DOMAIN_NAME and HA_GS_SOCKET are read with getenv(), so that a
 *     setenv() before ha_gs_init is seen (the Go runtime's copy of the
 *     environment is taken when the library loads);
 *   - the pthread_atfork child handler, which closes the session's socket
 *     in a forked child (hags_fork_child).
 * Everything else is in Go.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdlib.h>
#include <unistd.h>

#include "ha_gs.h"
#include "trampoline.h"
#include "_cgo_export.h"

__thread int hags_callback_depth;

/* The pid of the process that loaded the library, whose Go runtime is
 * running. Any other pid is a child forked after the load. */
static pid_t hags_load_pid;

/* The session's socket to the daemon, or -1. A child forked while it is
 * open would keep the connection alive after the parent died, and the
 * daemon would never fail the parent's providers: the child handler
 * closes it, in C, since a forked child must not enter Go. Go publishes
 * and withdraws the descriptor only between hags_session_hold and
 * hags_session_release, which hold fork() off as the prepare handler
 * takes the same semaphore: the child never closes a number that no
 * longer names the socket, and a socket being opened or closed is never
 * half-published. */
static int   hags_session_fd = -1;
static sem_t hags_fork_sem;

/* Waits until no fork() is under way and holds the next ones off; returns
 * the descriptor published now (-1: none). */
int hags_session_hold(void)
{
    while (sem_wait(&hags_fork_sem) != 0 && errno == EINTR)
        ;
    return hags_session_fd;
}

/* Publishes fd (-1: none) and lets fork() go on. */
void hags_session_release(int fd)
{
    hags_session_fd = fd;
    sem_post(&hags_fork_sem);
}

static void hags_fork_prepare(void)
{
    (void)hags_session_hold();
}

static void hags_fork_parent(void)
{
    sem_post(&hags_fork_sem);
}

/* Runs in the child only: close(2) and sem_post(3) are async-signal-safe. */
static void hags_fork_child(void)
{
    if (hags_session_fd >= 0)
        close(hags_session_fd);
    hags_session_release(-1);
}

__attribute__((constructor)) static void hags_record_pid(void)
{
    hags_load_pid = getpid();
    sem_init(&hags_fork_sem, 0, 1);
    pthread_atfork(hags_fork_prepare, hags_fork_parent, hags_fork_child);
}

static int hags_forked(void)
{
    return hags_load_pid != 0 && getpid() != hags_load_pid;
}

#define HAGS_FORK_GUARD()              \
    do {                               \
        if (hags_forked())             \
            return HA_GS_FORKED_CHILD; \
    } while (0)

ha_gs_rc_t ha_gs_init(ha_gs_descriptor_t          *ha_gs_descriptor,
                      const ha_gs_socket_ctrl_t     socket_options,
                      const ha_gs_responsiveness_t *responsiveness_control,
                      const char                   *deactivate_script,
                      ha_gs_responsiveness_cb_t    *responsiveness_callback,
                      ha_gs_delayed_error_cb_t     *delayed_error_callback,
                      ha_gs_query_cb_t             *query_callback)
{
    HAGS_FORK_GUARD();
    return (ha_gs_rc_t)hagsgo_init(ha_gs_descriptor, socket_options,
                                   (ha_gs_responsiveness_t *)responsiveness_control,
                                   (char *)deactivate_script, responsiveness_callback,
                                   delayed_error_callback, query_callback,
                                   getenv(HA_GS_DOMAIN_ENV), getenv(HA_GS_SOCKET_ENV));
}

ha_gs_rc_t ha_gs_join(ha_gs_token_t *provider_token, const ha_gs_proposal_info_t *proposal_info)
{
    HAGS_FORK_GUARD();
    return (ha_gs_rc_t)hagsgo_join(provider_token, (ha_gs_proposal_info_t *)proposal_info);
}

ha_gs_rc_t ha_gs_leave(ha_gs_token_t provider_token, const ha_gs_proposal_info_t *proposal_info)
{
    HAGS_FORK_GUARD();
    return (ha_gs_rc_t)hagsgo_leave(provider_token, (ha_gs_proposal_info_t *)proposal_info);
}

ha_gs_rc_t ha_gs_goodbye(ha_gs_token_t provider_token)
{
    HAGS_FORK_GUARD();
    return (ha_gs_rc_t)hagsgo_goodbye(provider_token);
}

ha_gs_rc_t ha_gs_expel(ha_gs_token_t provider_token, const ha_gs_proposal_info_t *proposal_info)
{
    HAGS_FORK_GUARD();
    return (ha_gs_rc_t)hagsgo_expel(provider_token, (ha_gs_proposal_info_t *)proposal_info);
}

ha_gs_rc_t ha_gs_change_state_value(ha_gs_token_t provider_token,
                                    const ha_gs_proposal_info_t *proposal_info)
{
    HAGS_FORK_GUARD();
    return (ha_gs_rc_t)hagsgo_change_state_value(provider_token,
                                                 (ha_gs_proposal_info_t *)proposal_info);
}

ha_gs_rc_t ha_gs_send_message(ha_gs_token_t provider_token, const ha_gs_proposal_info_t *proposal_info)
{
    HAGS_FORK_GUARD();
    return (ha_gs_rc_t)hagsgo_send_message(provider_token, (ha_gs_proposal_info_t *)proposal_info);
}

ha_gs_rc_t ha_gs_change_attributes(ha_gs_token_t provider_token,
                                   const ha_gs_proposal_info_t *proposal_info)
{
    HAGS_FORK_GUARD();
    return (ha_gs_rc_t)hagsgo_change_attributes(provider_token,
                                                (ha_gs_proposal_info_t *)proposal_info);
}

ha_gs_rc_t ha_gs_vote(ha_gs_token_t                   provider_token,
                      ha_gs_vote_value_t              vote_value,
                      const ha_gs_state_value_t      *proposed_state_value,
                      const ha_gs_provider_message_t *provider_message,
                      ha_gs_vote_value_t              default_vote_value)
{
    HAGS_FORK_GUARD();
    return (ha_gs_rc_t)hagsgo_vote(provider_token, (int)vote_value,
                                   (ha_gs_state_value_t *)proposed_state_value,
                                   (ha_gs_provider_message_t *)provider_message,
                                   (int)default_vote_value);
}

ha_gs_rc_t ha_gs_subscribe(ha_gs_token_t *subscriber_token, const ha_gs_proposal_info_t *proposal_info)
{
    HAGS_FORK_GUARD();
    return (ha_gs_rc_t)hagsgo_subscribe(subscriber_token, (ha_gs_proposal_info_t *)proposal_info);
}

ha_gs_rc_t ha_gs_unsubscribe(ha_gs_token_t subscriber_token)
{
    HAGS_FORK_GUARD();
    return (ha_gs_rc_t)hagsgo_unsubscribe(subscriber_token);
}

ha_gs_rc_t ha_gs_dispatch(const ha_gs_dispatch_flag_t dispatch_flags)
{
    HAGS_FORK_GUARD();
    if (hags_callback_depth > 0)
        return HA_GS_BAD_PARAMETER;
    return (ha_gs_rc_t)hagsgo_dispatch((int)dispatch_flags);
}

void ha_gs_quit(void)
{
    if (hags_forked())
        return;
    hagsgo_quit();
}

ha_gs_rc_t ha_gs_get_node_number(int *node_number)
{
    HAGS_FORK_GUARD();
    return (ha_gs_rc_t)hagsgo_get_node_number(node_number);
}

ha_gs_rc_t ha_gs_get_adapter_info(ha_gs_adapter_info *adapter)
{
    HAGS_FORK_GUARD();
    return (ha_gs_rc_t)hagsgo_get_adapter_info(adapter);
}

ha_gs_rc_t ha_gs_get_ffdc_id(fc_eid_t fid)
{
    HAGS_FORK_GUARD();
    return (ha_gs_rc_t)hagsgo_get_ffdc_id(fid);
}
