/*
 * cpgbench - the Corosync side of hagsbench: a closed-process-group client
 * driven by commands on its standard input, reporting timestamped events on
 * its standard output. It speaks the same line protocol as "hagsbench
 * client" (cmd/hagsbench/client.go), so the coordinator runs the same
 * scenarios against both systems.
 *
 * Commands:
 *   join SLOT GROUP INSTANCE   join GROUP on a connection of its own (INSTANCE is ignored:
 *                              CPG names a member by node id and pid)
 *   goodbye SLOT GROUP         cpg_leave
 *   loop MS SLOT GROUP...      closed loop of agreed multicasts in each GROUP for MS ms:
 *                              the next message leaves when our own comes back
 *   quit
 * Events:
 *   ready PID
 *   call SLOT GROUP T
 *   mem SLOT GROUP KIND COUNT T   KIND: self, join, left, failed; COUNT: members after it
 *   count N NS
 *   lost SLOT T
 *   err TEXT
 * T is CLOCK_MONOTONIC in nanoseconds.
 *
 * Build: cc -O2 -Wall -o cpgbench bench/cpgbench.c -lcpg
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <corosync/cpg.h>

#include "benchio.h"

#define MAX_MEMBERS 1024
#define LINE_MAX_LEN 65536

/* member is one connection to corosync, joined to one group. */
struct member {
    int used;
    int slot;
    int joined;
    int lost;
    int looping;
    struct cpg_name name;
    cpg_handle_t handle;
    int fd;
};

static struct member members[MAX_MEMBERS];
static uint32_t my_node;
static uint32_t my_pid;

static int64_t loop_deadline, loop_start, loop_count;
static int loop_active;

static char loop_msg[] = "hagsbench-loop-1";

static const char *group_of(const struct member *m)
{
    static char buf[CPG_MAX_NAME_LENGTH + 1];
    memcpy(buf, m->name.value, m->name.length);
    buf[m->name.length] = 0;
    return buf;
}

static struct member *by_handle(cpg_handle_t h)
{
    void *ctx = NULL;
    if (cpg_context_get(h, &ctx) != CS_OK)
        return NULL;
    return ctx;
}

static int is_self(const struct cpg_address *a)
{
    return a->nodeid == my_node && a->pid == my_pid;
}

static void send_loop(struct member *m)
{
    struct iovec iov = {loop_msg, sizeof loop_msg};
    cs_error_t rc;
    int tries = 0;
    while ((rc = cpg_mcast_joined(m->handle, CPG_TYPE_AGREED, &iov, 1)) == CS_ERR_TRY_AGAIN && tries++ < 100000)
        ;
    if (rc != CS_OK)
        emit("err mcast %s: %d", group_of(m), (int)rc);
}

static void on_deliver(cpg_handle_t h, const struct cpg_name *group, uint32_t nodeid, uint32_t pid,
                       void *msg, size_t len)
{
    struct member *m = by_handle(h);
    int64_t t = mono();
    (void)group;
    (void)msg;
    (void)len;
    if (m == NULL || !m->looping || nodeid != my_node || pid != my_pid)
        return;
    loop_count++;
    if (t < loop_deadline) {
        send_loop(m);
        return;
    }
    m->looping = 0;
    if (--loop_active == 0)
        emit("count %lld %lld", (long long)loop_count, (long long)(t - loop_start));
}

static void on_confchg(cpg_handle_t h, const struct cpg_name *group,
                       const struct cpg_address *list, size_t n,
                       const struct cpg_address *left, size_t nleft,
                       const struct cpg_address *joined, size_t njoined)
{
    struct member *m = by_handle(h);
    int64_t t = mono();
    size_t i;
    const char *kind = NULL;
    (void)group;
    (void)list;
    if (m == NULL)
        return;
    for (i = 0; i < njoined; i++) {
        kind = is_self(&joined[i]) ? "self" : (kind ? kind : "join");
        if (is_self(&joined[i]))
            m->joined = 1;
    }
    if (kind != NULL) {
        emit("mem %d %s %s %zu %lld", m->slot, group_of(m), kind, n, (long long)t);
        kind = NULL;
    }
    for (i = 0; i < nleft; i++) {
        if (is_self(&left[i])) {
            m->joined = 0;
            return; /* our own leave: nothing to report */
        }
        if (left[i].reason == CPG_REASON_PROCDOWN || left[i].reason == CPG_REASON_NODEDOWN)
            kind = "failed";
        else if (kind == NULL)
            kind = "left";
    }
    if (kind != NULL)
        emit("mem %d %s %s %zu %lld", m->slot, group_of(m), kind, n, (long long)t);
}

static cpg_callbacks_t callbacks = {on_deliver, on_confchg};

static struct member *find(int slot, const char *group)
{
    int i;
    for (i = 0; i < MAX_MEMBERS; i++)
        if (members[i].used && members[i].slot == slot && members[i].name.length == strlen(group) &&
            memcmp(members[i].name.value, group, members[i].name.length) == 0)
            return &members[i];
    return NULL;
}

static void dispatch(struct member *m)
{
    cs_error_t rc = cpg_dispatch(m->handle, CS_DISPATCH_ALL);
    if (rc != CS_OK && rc != CS_ERR_TRY_AGAIN && !m->lost) {
        m->lost = 1;
        emit("lost %d %lld", m->slot, (long long)mono());
    }
}

static void do_join(int slot, const char *group)
{
    struct member *m = find(slot, group);
    cs_error_t rc;
    int i, tries;
    if (strlen(group) >= CPG_MAX_NAME_LENGTH) {
        emit("err join: group name too long");
        return;
    }
    if (m != NULL && !m->joined) {
        /* A connection that has left cannot join again: use a new one. */
        cpg_finalize(m->handle);
        m->used = 0;
        m = NULL;
    }
    if (m == NULL) {
        for (i = 0; i < MAX_MEMBERS && members[i].used; i++)
            ;
        if (i == MAX_MEMBERS) {
            emit("err join: too many members");
            return;
        }
        m = &members[i];
        memset(m, 0, sizeof *m);
        m->slot = slot;
        m->name.length = (uint32_t)strlen(group);
        memcpy(m->name.value, group, m->name.length);
        rc = cpg_initialize(&m->handle, &callbacks);
        if (rc != CS_OK) {
            emit("err cpg_initialize: %d", (int)rc);
            return;
        }
        m->used = 1;
        cpg_context_set(m->handle, m);
        cpg_fd_get(m->handle, &m->fd);
        if (my_node == 0)
            cpg_local_get(m->handle, &my_node);
    }
    emit("call %d %s %lld", slot, group, (long long)mono());
    /* A leave of this connection may still be finishing: try again. */
    for (tries = 0; tries < 20000; tries++) {
        rc = cpg_join(m->handle, &m->name);
        if (rc != CS_ERR_TRY_AGAIN && rc != CS_ERR_EXIST && rc != CS_ERR_BUSY)
            break;
        dispatch(m);
        usleep(100);
    }
    if (rc != CS_OK)
        emit("err cpg_join %s: %d", group, (int)rc);
}

static void do_goodbye(int slot, const char *group)
{
    struct member *m = find(slot, group);
    cs_error_t rc;
    if (m == NULL) {
        emit("err goodbye: slot %d is not in %s", slot, group);
        return;
    }
    rc = cpg_leave(m->handle, &m->name);
    if (rc != CS_OK)
        emit("err cpg_leave %s: %d", group, (int)rc);
    m->joined = 0; /* the next join of this slot and group takes a new connection */
}

static void do_loop(int ms, int slot, char **groups, int ngroups)
{
    int i;
    if (loop_active) {
        emit("err loop: a loop is running");
        return;
    }
    loop_start = mono();
    loop_deadline = loop_start + (int64_t)ms * 1000000LL;
    loop_count = 0;
    for (i = 0; i < ngroups; i++) {
        struct member *m = find(slot, groups[i]);
        if (m == NULL) {
            emit("err loop: slot %d is not in %s", slot, groups[i]);
            return;
        }
        m->looping = 1;
        loop_active++;
    }
    for (i = 0; i < MAX_MEMBERS; i++)
        if (members[i].used && members[i].looping)
            send_loop(&members[i]);
}

/* command runs one line; it returns 0 on quit. */
static int command(char *line)
{
    char *f[MAX_MEMBERS + 4];
    int n = 0;
    char *save = NULL, *tok;
    for (tok = strtok_r(line, " \t\r", &save); tok && n < (int)(sizeof f / sizeof f[0]);
         tok = strtok_r(NULL, " \t\r", &save))
        f[n++] = tok;
    if (n == 0)
        return 1;
    if (strcmp(f[0], "quit") == 0)
        return 0;
    if (strcmp(f[0], "join") == 0 && n == 4)
        do_join(atoi(f[1]), f[2]);
    else if (strcmp(f[0], "goodbye") == 0 && n == 3)
        do_goodbye(atoi(f[1]), f[2]);
    else if (strcmp(f[0], "loop") == 0 && n >= 4)
        do_loop(atoi(f[1]), atoi(f[2]), f + 3, n - 3);
    else
        emit("err unsupported command %s", f[0]);
    return 1;
}

int main(void)
{
    static char buf[LINE_MAX_LEN];
    static struct pollfd pfds[MAX_MEMBERS + 1];
    static struct member *pm[MAX_MEMBERS + 1];
    size_t have = 0;
    int i, np;

    my_pid = (uint32_t)getpid();
    emit("ready %d", (int)my_pid);
    for (;;) {
        np = 0;
        pfds[np].fd = 0;
        pfds[np].events = POLLIN;
        pm[np++] = NULL;
        for (i = 0; i < MAX_MEMBERS; i++) {
            if (!members[i].used || members[i].lost)
                continue;
            pfds[np].fd = members[i].fd;
            pfds[np].events = POLLIN;
            pm[np++] = &members[i];
        }
        if (poll(pfds, (nfds_t)np, -1) < 0) {
            if (errno == EINTR)
                continue;
            return 1;
        }
        for (i = 1; i < np; i++)
            if (pfds[i].revents)
                dispatch(pm[i]);
        if (pfds[0].revents) {
            ssize_t r = read(0, buf + have, sizeof buf - 1 - have);
            char *nl;
            if (r <= 0)
                return 0;
            have += (size_t)r;
            buf[have] = 0;
            while ((nl = memchr(buf, '\n', have)) != NULL) {
                size_t len = (size_t)(nl - buf) + 1;
                *nl = 0;
                if (!command(buf))
                    return 0;
                memmove(buf, buf + len, have - len);
                have -= len;
                buf[have] = 0;
            }
            if (have == sizeof buf - 1)
                have = 0; /* a line too long: drop it */
        }
    }
}
