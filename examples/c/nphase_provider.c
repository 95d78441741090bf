/*
 * nphase_provider - a provider that takes part in an n-phase protocol.
 *
 *   nphase_provider GROUP INSTANCE
 *
 * Joins GROUP (n-phase group attributes), proposes a new state value in a
 * two-phase protocol and votes in it from its n-phase callback: in phase 1
 * it votes CONTINUE and proposes a refined state value, in phase 2 it
 * approves. When the change is approved it leaves the group and exits 0.
 * Any other provider of the group votes too; this one waits for them.
 * Notifications are dispatched from a poll() loop on the descriptor of
 * ha_gs_init.
 *
 * Build (C or C++):
 *   cc  -std=c99   -Wall -Wextra -Werror -I include examples/c/nphase_provider.c -L build/lib -lha_gs
 *   c++ -std=c++11 -Wall -Wextra -Werror -I include -x c++ examples/c/nphase_provider.c -L build/lib -lha_gs
 * Run with HA_GS_SOCKET naming the daemon's socket (or HA_DOMAIN_NAME).
 */
#define _POSIX_C_SOURCE 200809L

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ha_gs.h"

static ha_gs_token_t token;
static int joined, changed, done;
static char refined[] = "refined-state";

static void print_members(const char *what, const ha_gs_membership_t *m)
{
    unsigned int i;
    printf(" %s=", what);
    if (m == NULL || m->gs_count == 0) {
        printf("-");
        return;
    }
    for (i = 0; i < m->gs_count; i++)
        printf("%s%d@%d", i ? "," : "", m->gs_providers[i].gs_instance_number,
               m->gs_providers[i].gs_node_number);
}

static void print_state(const char *what, const ha_gs_state_value_t *v)
{
    if (v != NULL)
        printf(" %s=\"%.*s\"", what, v->gs_length, v->gs_state);
}

/* One phase: vote CONTINUE with a refined proposal in phase 1 of our state
 * change, APPROVE otherwise. The notification belongs to the library until
 * this returns; the vote's state value is copied by ha_gs_vote. */
static void on_n_phase(const ha_gs_n_phase_notification_t *n)
{
    const ha_gs_proposal_t *p = n->gs_proposal;
    ha_gs_state_value_t next;
    ha_gs_rc_t rc;

    printf("n-phase: protocol=%d phase=%u", (int)n->gs_protocol_type, p->gs_phase_number);
    print_members("members", p->gs_current_providers);
    print_state("proposed", p->gs_proposed_state_value);
    printf("\n");

    if (n->gs_protocol_type == HA_GS_STATE_VALUE_CHANGE && p->gs_phase_number == 1) {
        next.gs_length = (int)strlen(refined);
        next.gs_state = refined;
        rc = ha_gs_vote(n->gs_provider_token, HA_GS_VOTE_CONTINUE, &next, NULL, HA_GS_NULL_VOTE);
    } else {
        rc = ha_gs_vote(n->gs_provider_token, HA_GS_VOTE_APPROVE, NULL, NULL, HA_GS_NULL_VOTE);
    }
    if (rc != HA_GS_OK)
        printf("vote failed: %d\n", (int)rc);
}

static void on_approved(const ha_gs_approved_notification_t *n)
{
    const ha_gs_proposal_t *p = n->gs_proposal;
    printf("approved: protocol=%d phases=%u", (int)n->gs_protocol_type, p->gs_phase_number);
    print_members("members", p->gs_current_providers);
    print_state("state", p->gs_current_state_value);
    printf("\n");
    if (n->gs_protocol_type == HA_GS_JOIN && !joined)
        joined = 1;
    else if (n->gs_protocol_type == HA_GS_STATE_VALUE_CHANGE)
        changed = 1;
    else if (n->gs_protocol_type == HA_GS_LEAVE)
        done = 1;
}

static void on_rejected(const ha_gs_rejected_notification_t *n)
{
    printf("rejected: protocol=%d summary=0x%x\n", (int)n->gs_protocol_type, n->gs_summary_code);
    if (n->gs_protocol_type == HA_GS_JOIN)
        exit(1);
}

static void on_delayed_error(const ha_gs_delayed_error_notification_t *n)
{
    printf("delayed error %d for token %d\n", (int)n->gs_delayed_return_code, n->gs_request_token);
    exit(1);
}

int main(int argc, char **argv)
{
    ha_gs_descriptor_t fd;
    ha_gs_group_attributes_t attrs;
    ha_gs_proposal_info_t info;
    ha_gs_state_value_t first;
    ha_gs_rc_t rc;
    int proposed = 0, leaving = 0;
    static char initial[] = "initial-state";

    if (argc != 3) {
        fprintf(stderr, "usage: %s GROUP INSTANCE\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);

    rc = ha_gs_init(&fd, HA_GS_SOCKET_NO_SIGNAL, NULL, NULL, NULL, on_delayed_error, NULL);
    if (rc != HA_GS_OK) {
        fprintf(stderr, "ha_gs_init: %d\n", (int)rc);
        return 1;
    }

    memset(&attrs, 0, sizeof attrs);
    attrs.gs_version = HA_GS_GROUP_ATTRIBUTES_VERSION;
    attrs.gs_sizeof_group_attributes = (short)sizeof attrs;
    attrs.gs_batch_control = HA_GS_NO_BATCHING;
    attrs.gs_num_phases = HA_GS_N_PHASE;
    attrs.gs_group_default_vote = HA_GS_VOTE_APPROVE;
    attrs.gs_time_limit = 10;
    attrs.gs_group_name = argv[1];

    memset(&info, 0, sizeof info);
    info.gs_join_request.gs_group_attributes = &attrs;
    info.gs_join_request.gs_provider_instance = (short)atoi(argv[2]);
    info.gs_join_request.gs_n_phase_protocol_callback = on_n_phase;
    info.gs_join_request.gs_protocol_approved_callback = on_approved;
    info.gs_join_request.gs_protocol_rejected_callback = on_rejected;
    rc = ha_gs_join(&token, &info);
    if (rc != HA_GS_OK) {
        fprintf(stderr, "ha_gs_join: %d\n", (int)rc);
        return 1;
    }

    while (!done) {
        struct pollfd p;
        p.fd = fd;
        p.events = POLLIN;
        p.revents = 0;
        if (poll(&p, 1, -1) < 0)
            continue;
        rc = ha_gs_dispatch(HA_GS_NON_BLOCKING);
        if (rc != HA_GS_OK) {
            fprintf(stderr, "ha_gs_dispatch: %d\n", (int)rc);
            return 1;
        }
        if (joined && !proposed) {
            proposed = 1;
            first.gs_length = (int)strlen(initial);
            first.gs_state = initial;
            memset(&info, 0, sizeof info);
            info.gs_state_change_request.gs_num_phases = HA_GS_N_PHASE;
            info.gs_state_change_request.gs_time_limit = 10;
            info.gs_state_change_request.gs_new_state = &first;
            rc = ha_gs_change_state_value(token, &info);
            if (rc != HA_GS_OK) {
                fprintf(stderr, "ha_gs_change_state_value: %d\n", (int)rc);
                return 1;
            }
        }
        if (changed && !leaving) {
            leaving = 1;
            memset(&info, 0, sizeof info);
            info.gs_leave_request.gs_num_phases = HA_GS_1_PHASE;
            info.gs_leave_request.gs_leave_code = 0;
            rc = ha_gs_leave(token, &info);
            if (rc != HA_GS_OK) {
                fprintf(stderr, "ha_gs_leave: %d\n", (int)rc);
                return 1;
            }
        }
    }
    ha_gs_quit();
    printf("done\n");
    return 0;
}
