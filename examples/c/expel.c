/*
 * expel - one provider expels another, whose deactivate script runs.
 *
 *   expel victim GROUP INSTANCE SCRIPT   join GROUP with SCRIPT registered as
 *                                        the deactivate script; exit 0 once
 *                                        expelled
 *   expel expeller GROUP INSTANCE FLAG   join GROUP, wait for a second
 *                                        provider, expel it in two phases
 *                                        with its script run at the start of
 *                                        phase 1 with FLAG; print each
 *                                        script's result; exit 0 when the
 *                                        expel is approved
 *
 * The daemon runs the victim's script on the victim's node, as the victim's
 * user, bounded by the expel's time limit (docs/deactivate-scripts.md), and
 * reports the result to the voters in gs_expel_info. Both roles dispatch
 * with HA_GS_BLOCKING; a callback ends the program by calling ha_gs_quit,
 * after which the dispatch returns HA_GS_NO_INIT.
 *
 * Build (C or C++):
 *   cc  -std=c99   -Wall -Wextra -Werror -I include examples/c/expel.c -L build/lib -lha_gs
 *   c++ -std=c++11 -Wall -Wextra -Werror -I include -x c++ examples/c/expel.c -L build/lib -lha_gs
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ha_gs.h"

static ha_gs_token_t token;
static int victim, instance, node;
static char *flag;
static int expelling;
static int outcome = -1; /* the exit status, once known */

/* Ends the program from inside a callback. */
static void finish(int status)
{
    outcome = status;
    ha_gs_quit();
}

static const char *result_name(ha_gs_deactivate_result_t r)
{
    switch (r) {
    case HA_GS_DEACTIVATE_NOT_RUN: return "not run";
    case HA_GS_DEACTIVATE_OK: return "ok";
    case HA_GS_DEACTIVATE_FAILED: return "failed";
    case HA_GS_DEACTIVATE_TIMED_OUT: return "timed out";
    }
    return "?";
}

static void print_results(const char *when, const ha_gs_proposal_t *p)
{
    unsigned int i;
    if (p->gs_expel_info == NULL || p->gs_changing_providers == NULL)
        return;
    for (i = 0; i < p->gs_changing_providers->gs_count; i++)
        printf("%s: provider %d@%d deactivate script %s\n", when,
               p->gs_changing_providers->gs_providers[i].gs_instance_number,
               p->gs_changing_providers->gs_providers[i].gs_node_number,
               result_name(p->gs_expel_info->gs_deactivate_results[i]));
}

/* The expeller decides on each phase; here it approves when every script
 * succeeded and rejects otherwise. */
static void on_n_phase(const ha_gs_n_phase_notification_t *n)
{
    ha_gs_vote_value_t vote = HA_GS_VOTE_APPROVE;
    if (n->gs_protocol_type == HA_GS_EXPEL) {
        print_results("phase", n->gs_proposal);
        if (n->gs_summary_code & (HA_GS_DEACTIVATE_UNSUCCESSFUL | HA_GS_DEACTIVATE_TIME_LIMIT_EXCEEDED))
            vote = HA_GS_VOTE_REJECT;
    }
    if (ha_gs_vote(n->gs_provider_token, vote, NULL, NULL, HA_GS_NULL_VOTE) != HA_GS_OK)
        printf("vote failed\n");
}

static void expel_second(const ha_gs_membership_t *members)
{
    ha_gs_proposal_info_t info;
    ha_gs_provider_t target;
    unsigned int i;
    for (i = 0; i < members->gs_count; i++)
        if (members->gs_providers[i].gs_instance_number != instance ||
            members->gs_providers[i].gs_node_number != node)
            break;
    if (i == members->gs_count)
        return;
    target = members->gs_providers[i]; /* copied: the list is the library's */
    memset(&info, 0, sizeof info);
    info.gs_expel_request.gs_num_phases = HA_GS_N_PHASE;
    info.gs_expel_request.gs_time_limit = 10;
    info.gs_expel_request.gs_expel_list.gs_count = 1;
    info.gs_expel_request.gs_expel_list.gs_providers = &target;
    info.gs_expel_request.gs_deactivate_phase = 1;
    info.gs_expel_request.gs_deactivate_flag = flag;
    if (ha_gs_expel(token, &info) != HA_GS_OK) {
        printf("ha_gs_expel failed\n");
        finish(1);
        return;
    }
    expelling = 1;
    printf("expelling %d@%d\n", target.gs_instance_number, target.gs_node_number);
}

static void on_approved(const ha_gs_approved_notification_t *n)
{
    const ha_gs_proposal_t *p = n->gs_proposal;
    if (n->gs_protocol_type == HA_GS_EXPEL) {
        print_results("approved", p);
        if (victim)
            printf("expelled\n");
        finish(0);
        return;
    }
    if (n->gs_protocol_type == HA_GS_JOIN) {
        printf("joined: %u providers\n", p->gs_current_providers->gs_count);
        if (!victim && !expelling && p->gs_current_providers->gs_count >= 2)
            expel_second(p->gs_current_providers);
    }
}

static void on_rejected(const ha_gs_rejected_notification_t *n)
{
    printf("rejected: protocol %d\n", (int)n->gs_protocol_type);
    finish(1);
}

static void on_delayed_error(const ha_gs_delayed_error_notification_t *n)
{
    printf("delayed error %d\n", (int)n->gs_delayed_return_code);
    finish(1);
}

int main(int argc, char **argv)
{
    ha_gs_descriptor_t fd;
    ha_gs_group_attributes_t attrs;
    ha_gs_proposal_info_t info;
    ha_gs_rc_t rc;

    if (argc != 5 || (strcmp(argv[1], "victim") != 0 && strcmp(argv[1], "expeller") != 0)) {
        fprintf(stderr, "usage: %s victim GROUP INSTANCE SCRIPT | expeller GROUP INSTANCE FLAG\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    victim = strcmp(argv[1], "victim") == 0;
    instance = atoi(argv[3]);
    if (!victim)
        flag = argv[4];

    rc = ha_gs_init(&fd, HA_GS_SOCKET_NO_SIGNAL, NULL, victim ? argv[4] : NULL, NULL, on_delayed_error, NULL);
    if (rc != HA_GS_OK) {
        fprintf(stderr, "ha_gs_init: %d\n", (int)rc);
        return 1;
    }
    ha_gs_get_node_number(&node);

    memset(&attrs, 0, sizeof attrs);
    attrs.gs_version = HA_GS_GROUP_ATTRIBUTES_VERSION;
    attrs.gs_sizeof_group_attributes = (short)sizeof attrs;
    attrs.gs_num_phases = HA_GS_N_PHASE;
    attrs.gs_group_default_vote = HA_GS_VOTE_APPROVE;
    attrs.gs_time_limit = 10;
    attrs.gs_group_name = argv[2];
    memset(&info, 0, sizeof info);
    info.gs_join_request.gs_group_attributes = &attrs;
    info.gs_join_request.gs_provider_instance = (short)instance;
    info.gs_join_request.gs_n_phase_protocol_callback = on_n_phase;
    info.gs_join_request.gs_protocol_approved_callback = on_approved;
    info.gs_join_request.gs_protocol_rejected_callback = on_rejected;
    rc = ha_gs_join(&token, &info);
    if (rc != HA_GS_OK) {
        fprintf(stderr, "ha_gs_join: %d\n", (int)rc);
        return 1;
    }
    rc = ha_gs_dispatch(HA_GS_BLOCKING); /* returns only on error, or after ha_gs_quit */
    if (rc == HA_GS_NO_INIT && outcome >= 0)
        return outcome;
    fprintf(stderr, "ha_gs_dispatch: %d\n", (int)rc);
    return 1;
}
