/*
 * threaded - a multi-threaded client: one thread dispatches with
 * HA_GS_BLOCKING while the main thread makes requests.
 *
 *   threaded GROUP COUNT
 *
 * The dispatcher thread sits in ha_gs_dispatch(HA_GS_BLOCKING), which calls
 * every callback on that thread and returns only on an error or after
 * ha_gs_quit. Its n-phase callback votes from inside the callback. The main
 * thread joins GROUP, proposes COUNT n-phase state changes one after the
 * other, waiting on a condition variable for each approval, then calls
 * ha_gs_quit, which makes the dispatcher's ha_gs_dispatch return
 * HA_GS_NO_INIT. Every ha_gs_* function may be called from any thread.
 *
 * Build (C or C++):
 *   cc  -std=c99   -Wall -Wextra -Werror -I include examples/c/threaded.c -L build/lib -lha_gs -lpthread
 *   c++ -std=c++11 -Wall -Wextra -Werror -I include -x c++ examples/c/threaded.c -L build/lib -lha_gs -lpthread
 */
#define _POSIX_C_SOURCE 200809L

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ha_gs.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int joined, approvals, wrong_thread;
static pthread_t dispatcher;

static void on_n_phase(const ha_gs_n_phase_notification_t *n)
{
    if (!pthread_equal(pthread_self(), dispatcher))
        wrong_thread = 1;
    if (ha_gs_vote(n->gs_provider_token, HA_GS_VOTE_APPROVE, NULL, NULL, HA_GS_NULL_VOTE) != HA_GS_OK)
        printf("vote failed\n");
}

static void on_approved(const ha_gs_approved_notification_t *n)
{
    const ha_gs_state_value_t *v = n->gs_proposal->gs_current_state_value;
    if (!pthread_equal(pthread_self(), dispatcher))
        wrong_thread = 1;
    pthread_mutex_lock(&mu);
    if (n->gs_protocol_type == HA_GS_JOIN)
        joined = 1;
    else if (n->gs_protocol_type == HA_GS_STATE_VALUE_CHANGE) {
        approvals++;
        printf("approved state \"%.*s\"\n", v->gs_length, v->gs_state);
    }
    pthread_cond_broadcast(&cond);
    pthread_mutex_unlock(&mu);
}

static void *dispatch_thread(void *arg)
{
    ha_gs_rc_t rc = ha_gs_dispatch(HA_GS_BLOCKING);
    *(ha_gs_rc_t *)arg = rc;
    return NULL;
}

int main(int argc, char **argv)
{
    ha_gs_descriptor_t fd;
    ha_gs_group_attributes_t attrs;
    ha_gs_proposal_info_t info;
    ha_gs_token_t token;
    ha_gs_rc_t rc, dispatch_rc = HA_GS_OK;
    int i, count;

    if (argc != 3) {
        fprintf(stderr, "usage: %s GROUP COUNT\n", argv[0]);
        return 2;
    }
    count = atoi(argv[2]);
    setvbuf(stdout, NULL, _IOLBF, 0);
    rc = ha_gs_init(&fd, HA_GS_SOCKET_NO_SIGNAL, NULL, NULL, NULL, NULL, NULL);
    if (rc != HA_GS_OK) {
        fprintf(stderr, "ha_gs_init: %d\n", (int)rc);
        return 1;
    }
    if (pthread_create(&dispatcher, NULL, dispatch_thread, &dispatch_rc) != 0)
        return 1;

    memset(&attrs, 0, sizeof attrs);
    attrs.gs_version = HA_GS_GROUP_ATTRIBUTES_VERSION;
    attrs.gs_sizeof_group_attributes = (short)sizeof attrs;
    attrs.gs_num_phases = HA_GS_N_PHASE;
    attrs.gs_group_default_vote = HA_GS_VOTE_APPROVE;
    attrs.gs_group_name = argv[1];
    memset(&info, 0, sizeof info);
    info.gs_join_request.gs_group_attributes = &attrs;
    info.gs_join_request.gs_provider_instance = 1;
    info.gs_join_request.gs_n_phase_protocol_callback = on_n_phase;
    info.gs_join_request.gs_protocol_approved_callback = on_approved;
    rc = ha_gs_join(&token, &info);
    if (rc != HA_GS_OK) {
        fprintf(stderr, "ha_gs_join: %d\n", (int)rc);
        return 1;
    }
    pthread_mutex_lock(&mu);
    while (!joined)
        pthread_cond_wait(&cond, &mu);
    pthread_mutex_unlock(&mu);

    for (i = 1; i <= count; i++) {
        char value[32];
        ha_gs_state_value_t v;
        snprintf(value, sizeof value, "value-%d", i);
        v.gs_length = (int)strlen(value);
        v.gs_state = value; /* copied by the call */
        memset(&info, 0, sizeof info);
        info.gs_state_change_request.gs_num_phases = HA_GS_N_PHASE;
        info.gs_state_change_request.gs_new_state = &v;
        rc = ha_gs_change_state_value(token, &info);
        if (rc != HA_GS_OK) {
            fprintf(stderr, "ha_gs_change_state_value: %d\n", (int)rc);
            return 1;
        }
        pthread_mutex_lock(&mu);
        while (approvals < i)
            pthread_cond_wait(&cond, &mu);
        pthread_mutex_unlock(&mu);
    }

    ha_gs_quit(); /* wakes the dispatcher */
    pthread_join(dispatcher, NULL);
    if (dispatch_rc != HA_GS_NO_INIT || wrong_thread) {
        fprintf(stderr, "dispatcher ended with %d, callbacks on another thread: %d\n", (int)dispatch_rc, wrong_thread);
        return 1;
    }
    printf("done\n");
    return 0;
}
