/*
 * gsbench - a libha_gs client for hagsbench's scenario (h): the cost of the
 * C library over the Go client. It speaks the membership part of the line
 * protocol of "hagsbench client" (cmd/hagsbench/client.go) with one session
 * (ha_gs_init) per process; SLOT must be 0.
 *
 * Commands:
 *   join SLOT GROUP INSTANCE
 *   goodbye SLOT GROUP
 *   quit
 * Events:
 *   ready PID
 *   call SLOT GROUP T
 *   mem SLOT GROUP KIND COUNT T   KIND: self, join, left, failed
 *   lost SLOT T
 *   err TEXT
 * T is CLOCK_MONOTONIC in nanoseconds. The socket comes from HA_GS_SOCKET.
 *
 * Build: cc -O2 -Wall -I include -o gsbench bench/gsbench.c -L build/lib -lha_gs
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ha_gs.h"

#include "benchio.h"

#define MAX_GROUPS 256

/* membership is one token of our session. */
struct membership {
    int used;
    ha_gs_token_t token;
    int instance;
    char group[HA_GS_MAX_GROUP_NAME_LENGTH + 1];
};

static struct membership groups[MAX_GROUPS];
static int my_node;

static struct membership *by_token(ha_gs_token_t tok)
{
    int i;
    for (i = 0; i < MAX_GROUPS; i++)
        if (groups[i].used && groups[i].token == tok)
            return &groups[i];
    return NULL;
}

static struct membership *by_group(const char *g)
{
    int i;
    for (i = 0; i < MAX_GROUPS; i++)
        if (groups[i].used && strcmp(groups[i].group, g) == 0)
            return &groups[i];
    return NULL;
}

static void on_approved(const ha_gs_approved_notification_t *n)
{
    int64_t t = mono();
    const ha_gs_proposal_t *p = n->gs_proposal;
    struct membership *m = by_token(n->gs_provider_token);
    const char *kind = NULL;
    unsigned int i, count = 0;
    if (m == NULL || p == NULL)
        return;
    if (p->gs_current_providers != NULL)
        count = p->gs_current_providers->gs_count;
    switch (n->gs_protocol_type) {
    case HA_GS_JOIN:
        kind = "join";
        if (p->gs_changing_providers != NULL)
            for (i = 0; i < p->gs_changing_providers->gs_count; i++)
                if (p->gs_changing_providers->gs_providers[i].gs_instance_number == m->instance &&
                    p->gs_changing_providers->gs_providers[i].gs_node_number == my_node)
                    kind = "self";
        break;
    case HA_GS_FAILURE_LEAVE:
    case HA_GS_LEAVE:
    case HA_GS_EXPEL:
        kind = "left";
        if (p->gs_leave_info != NULL && p->gs_changing_providers != NULL)
            for (i = 0; i < p->gs_changing_providers->gs_count; i++)
                if (p->gs_leave_info[i].gs_leave_reason == HA_GS_PROVIDER_PROCESS_DIED ||
                    p->gs_leave_info[i].gs_leave_reason == HA_GS_PROVIDER_NODE_DIED)
                    kind = "failed";
        break;
    default:
        return;
    }
    emit("mem 0 %s %s %u %lld", m->group, kind, count, (long long)t);
}

static void on_n_phase(const ha_gs_n_phase_notification_t *n)
{
    ha_gs_rc_t rc = ha_gs_vote(n->gs_provider_token, HA_GS_VOTE_APPROVE, NULL, NULL, HA_GS_NULL_VOTE);
    if (rc != HA_GS_OK)
        emit("err vote: %d", (int)rc);
}

static void on_rejected(const ha_gs_rejected_notification_t *n)
{
    emit("err rejected protocol %d", (int)n->gs_protocol_type);
}

static void on_delayed_error(const ha_gs_delayed_error_notification_t *n)
{
    emit("err delayed error %d for token %d", (int)n->gs_delayed_return_code, n->gs_request_token);
}

static void do_join(const char *group, int instance)
{
    static ha_gs_group_attributes_t attrs;
    ha_gs_proposal_info_t info;
    struct membership *m = NULL;
    ha_gs_rc_t rc;
    int i;
    if (strlen(group) > HA_GS_MAX_GROUP_NAME_LENGTH) {
        emit("err join: group name too long");
        return;
    }
    for (i = 0; i < MAX_GROUPS && m == NULL; i++)
        if (!groups[i].used)
            m = &groups[i];
    if (m == NULL) {
        emit("err join: too many groups");
        return;
    }
    strcpy(m->group, group);
    m->instance = instance;
    memset(&attrs, 0, sizeof attrs);
    attrs.gs_version = HA_GS_GROUP_ATTRIBUTES_VERSION;
    attrs.gs_sizeof_group_attributes = (short)sizeof attrs;
    attrs.gs_batch_control = HA_GS_NO_BATCHING;
    attrs.gs_num_phases = HA_GS_1_PHASE;
    attrs.gs_group_default_vote = HA_GS_VOTE_APPROVE;
    attrs.gs_group_name = m->group;
    memset(&info, 0, sizeof info);
    info.gs_join_request.gs_group_attributes = &attrs;
    info.gs_join_request.gs_provider_instance = (short)instance;
    info.gs_join_request.gs_n_phase_protocol_callback = on_n_phase;
    info.gs_join_request.gs_protocol_approved_callback = on_approved;
    info.gs_join_request.gs_protocol_rejected_callback = on_rejected;
    emit("call 0 %s %lld", group, (long long)mono());
    rc = ha_gs_join(&m->token, &info);
    if (rc != HA_GS_OK) {
        emit("err ha_gs_join: %d", (int)rc);
        return;
    }
    m->used = 1;
}

static void do_goodbye(const char *group)
{
    struct membership *m = by_group(group);
    ha_gs_rc_t rc;
    if (m == NULL) {
        emit("err goodbye: not in %s", group);
        return;
    }
    m->used = 0;
    rc = ha_gs_goodbye(m->token);
    if (rc != HA_GS_OK)
        emit("err ha_gs_goodbye: %d", (int)rc);
}

static int command(char *line)
{
    char *f[8];
    int n = 0;
    char *save = NULL, *tok;
    for (tok = strtok_r(line, " \t\r", &save); tok && n < 8; tok = strtok_r(NULL, " \t\r", &save))
        f[n++] = tok;
    if (n == 0)
        return 1;
    if (strcmp(f[0], "quit") == 0)
        return 0;
    if (n >= 3 && atoi(f[1]) != 0) {
        emit("err only slot 0: one ha_gs_init per process");
        return 1;
    }
    if (strcmp(f[0], "join") == 0 && n == 4)
        do_join(f[2], atoi(f[3]));
    else if (strcmp(f[0], "goodbye") == 0 && n == 3)
        do_goodbye(f[2]);
    else
        emit("err unsupported command %s", f[0]);
    return 1;
}

int main(void)
{
    static char buf[65536];
    size_t have = 0;
    ha_gs_descriptor_t fd;
    ha_gs_rc_t rc;

    rc = ha_gs_init(&fd, HA_GS_SOCKET_NO_SIGNAL, NULL, NULL, NULL, on_delayed_error, NULL);
    if (rc != HA_GS_OK) {
        fprintf(stderr, "ha_gs_init: %d\n", (int)rc);
        return 1;
    }
    ha_gs_get_node_number(&my_node);
    emit("ready %d", (int)getpid());
    for (;;) {
        struct pollfd p[2] = {{0, POLLIN, 0}, {fd, POLLIN, 0}};
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        if (p[1].revents) {
            rc = ha_gs_dispatch(HA_GS_NON_BLOCKING);
            if (rc != HA_GS_OK) {
                emit("lost 0 %lld", (long long)mono());
                return 0;
            }
        }
        if (p[0].revents) {
            ssize_t r = read(0, buf + have, sizeof buf - 1 - have);
            char *nl;
            if (r <= 0)
                break;
            have += (size_t)r;
            buf[have] = 0;
            while ((nl = memchr(buf, '\n', have)) != NULL) {
                size_t len = (size_t)(nl - buf) + 1;
                *nl = 0;
                if (!command(buf)) {
                    ha_gs_quit();
                    return 0;
                }
                memmove(buf, buf + len, have - len);
                have -= len;
                buf[have] = 0;
            }
            if (have == sizeof buf - 1)
                have = 0;
        }
    }
    ha_gs_quit();
    return 0;
}
