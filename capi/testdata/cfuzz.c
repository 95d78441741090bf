/*
 * cfuzz - calls every ha_gs_* function with random, NULL and stale
 * arguments, and checks that each call returns a defined ha_gs_rc_t (and
 * the one the header promises where the state makes it certain), never
 * crashes and never hangs.
 *
 *   cfuzz SEED OPS [threads]
 *
 * SEED picks every choice (the same seed makes the same calls); OPS is how
 * many calls to make. With "threads", four threads make the calls at once
 * on one session. The run also forks now and then and checks that the
 * child gets HA_GS_FORKED_CHILD from every function. It prints "PASS" and
 * exits 0, or prints what went wrong and exits 1; a crash is a signal the
 * parent (capi/cfuzz_test.go) sees. Pointers are always NULL or valid: no
 * C library can survive a wild pointer.
 */
#define _GNU_SOURCE

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ha_gs.h"

/* ---- a per-thread random source ---------------------------------------- */

typedef struct {
    unsigned long long s;
} rng_t;

static unsigned rnd(rng_t *r)
{
    r->s ^= r->s << 13;
    r->s ^= r->s >> 7;
    r->s ^= r->s << 17;
    return (unsigned)(r->s >> 11);
}

static int pick(rng_t *r, int n) { return (int)(rnd(r) % (unsigned)n); }

/* ---- shared state -------------------------------------------------------- */

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static ha_gs_token_t tokens[64]; /* tokens handed out, live or stale */
static int ntokens;
static int threaded;
static volatile int initialized; /* single-threaded mode only: what we believe */
static char big[70000];
static unsigned int counter;
static int calls, failures;
static ha_gs_descriptor_t fd = -1;

static void remember(ha_gs_token_t t)
{
    pthread_mutex_lock(&mu);
    tokens[ntokens++ % 64] = t;
    pthread_mutex_unlock(&mu);
}

static ha_gs_token_t any_token(rng_t *r)
{
    ha_gs_token_t t;
    pthread_mutex_lock(&mu);
    if (ntokens > 0 && pick(r, 4) != 0)
        t = tokens[pick(r, ntokens < 64 ? ntokens : 64)];
    else
        t = pick(r, 8) - 2 + (pick(r, 5) == 0 ? 100000 : 0);
    pthread_mutex_unlock(&mu);
    return t;
}

static void check(const char *what, ha_gs_rc_t rc)
{
    int bad = (int)rc < 0 || (int)rc > (int)HA_GS_FORKED_CHILD;
    pthread_mutex_lock(&mu);
    calls++;
    if (bad) {
        failures++;
        printf("FAIL %s returned %d, which is no ha_gs_rc_t\n", what, (int)rc);
    } else if (!threaded && !initialized && rc != HA_GS_NO_INIT && strcmp(what, "ha_gs_init") != 0) {
        failures++;
        printf("FAIL %s returned %d before ha_gs_init / after ha_gs_quit, want HA_GS_NO_INIT\n", what, (int)rc);
    }
    pthread_mutex_unlock(&mu);
    fflush(stdout);
}

/* ---- random arguments ----------------------------------------------------- */

static char names[8][200];

static char *any_name(rng_t *r)
{
    static __thread char buf[4200];
    switch (pick(r, 10)) {
    case 0:
        return NULL;
    case 1:
        return (char *)"";
    case 2:
        return (char *)HA_GS_HOST_MEMBERSHIP_GROUP;
    case 3:
        memset(buf, 'n', HA_GS_MAX_GROUP_NAME_LENGTH + 1);
        buf[HA_GS_MAX_GROUP_NAME_LENGTH + pick(r, 2)] = '\0';
        return buf;
    case 4:
        memset(buf, 'L', sizeof buf - 1);
        buf[sizeof buf - 1] = '\0';
        return buf;
    default:
        return names[pick(r, 3)];
    }
}

static ha_gs_group_attributes_t *any_attrs(rng_t *r, ha_gs_group_attributes_t *a)
{
    if (pick(r, 8) == 0)
        return NULL;
    memset(a, 0, sizeof *a);
    a->gs_version = pick(r, 6) == 0 ? (short)pick(r, 5) : HA_GS_GROUP_ATTRIBUTES_VERSION;
    a->gs_sizeof_group_attributes = pick(r, 6) == 0 ? (short)pick(r, 200) : (short)sizeof *a;
    a->gs_batch_control = (ha_gs_batch_ctrl_t)pick(r, 6);
    a->gs_num_phases = (ha_gs_num_phases_t)(pick(r, 5) == 0 ? pick(r, 9) : (pick(r, 2) ? HA_GS_1_PHASE : HA_GS_N_PHASE));
    a->gs_source_reflection_num_phases = (ha_gs_num_phases_t)pick(r, 4);
    a->gs_group_default_vote = (ha_gs_vote_value_t)(pick(r, 4) == 0 ? pick(r, 7) : HA_GS_VOTE_APPROVE);
    a->gs_merge_control = (ha_gs_merge_ctrl_t)pick(r, 4);
    a->gs_time_limit = (ha_gs_time_limit_t)pick(r, 3);
    a->gs_source_reflection_time_limit = (ha_gs_time_limit_t)pick(r, 3);
    a->gs_group_name = pick(r, 6) == 0 ? any_name(r) : names[pick(r, 3)];
    a->gs_source_group_name = pick(r, 5) == 0 ? any_name(r) : NULL;
    return a;
}

static ha_gs_num_phases_t any_phases(rng_t *r)
{
    return (ha_gs_num_phases_t)(pick(r, 5) == 0 ? pick(r, 9) - 2 : (pick(r, 2) ? HA_GS_1_PHASE : HA_GS_N_PHASE));
}

static ha_gs_state_value_t *any_state(rng_t *r, ha_gs_state_value_t *v)
{
    switch (pick(r, 6)) {
    case 0:
        return NULL;
    case 1:
        v->gs_length = HA_GS_MAX_STATE_VALUE_LENGTH + pick(r, 2);
        v->gs_state = big;
        return v;
    case 2:
        v->gs_length = -pick(r, 3) - 1;
        v->gs_state = big;
        return v;
    case 3:
        v->gs_length = pick(r, 4);
        v->gs_state = NULL;
        return v;
    default:
        v->gs_length = pick(r, 9);
        v->gs_state = big;
        return v;
    }
}

static ha_gs_provider_message_t *any_message(rng_t *r, ha_gs_provider_message_t *m)
{
    ha_gs_state_value_t v;
    if (any_state(r, &v) == NULL)
        return NULL;
    m->gs_length = v.gs_length;
    m->gs_message = v.gs_state;
    return m;
}

static ha_gs_vote_value_t any_vote(rng_t *r) { return (ha_gs_vote_value_t)(pick(r, 6) - 1); }

/* ---- callbacks ------------------------------------------------------------- */

/* long_string returns a thread's own NUL-terminated string of n bytes. */
static char *long_string(int n)
{
    static __thread char buf[5000];
    if (n > (int)sizeof buf - 1)
        n = (int)sizeof buf - 1;
    memset(buf, 'L', (size_t)n);
    buf[n] = '\0';
    return buf;
}

static __thread rng_t cb_rng = {88172645463325252ULL};

static void on_nphase(const ha_gs_n_phase_notification_t *n)
{
    ha_gs_state_value_t v;
    ha_gs_provider_message_t m;
    check("ha_gs_vote (callback)", ha_gs_vote(n->gs_provider_token, any_vote(&cb_rng), any_state(&cb_rng, &v),
                                              any_message(&cb_rng, &m), any_vote(&cb_rng)));
}
static void on_approved(const ha_gs_approved_notification_t *n) { (void)n; }
static void on_rejected(const ha_gs_rejected_notification_t *n) { (void)n; }
static void on_announcement(const ha_gs_announcement_notification_t *n) { (void)n; }
static void on_merge(const ha_gs_merge_notification_t *n) { (void)n; }
static void on_subscription(const ha_gs_subscription_notification_t *n) { (void)n; }
static void on_error(const ha_gs_delayed_error_notification_t *n) { (void)n; }
static void on_query(const ha_gs_query_notification_t *n) { (void)n; }
static ha_gs_callback_rc_t on_ping(const ha_gs_responsiveness_notification_t *n)
{
    (void)n;
    return HA_GS_CALLBACK_OK;
}

/* ---- one random call ------------------------------------------------------------ */

static void one_call(rng_t *r, int may_init)
{
    ha_gs_proposal_info_t p;
    ha_gs_group_attributes_t a;
    ha_gs_state_value_t v;
    ha_gs_provider_message_t m;
    ha_gs_provider_t expel[4];
    ha_gs_token_t tok;
    int node, i;
    memset(&p, 0, sizeof p);
    switch (pick(r, 18)) {
    case 0: {
        ha_gs_responsiveness_t resp;
        const char *scripts[] = {NULL, "", "relative/script", "/bin/true", "/nonexistent/script", NULL};
        if (!may_init)
            break;
        scripts[5] = long_string(4096);
        memset(&resp, 0, sizeof resp);
        resp.gs_responsiveness_type = (ha_gs_responsiveness_type_t)pick(r, 5);
        resp.gs_responsiveness_interval = (unsigned)pick(r, 3);
        resp.gs_responsiveness_response_time_limit = (unsigned)pick(r, 3);
        resp.gs_counter_location = pick(r, 2) ? &counter : NULL;
        resp.gs_counter_length = (unsigned)(pick(r, 3) * 4 + pick(r, 2));
        {
            ha_gs_rc_t rc = ha_gs_init(pick(r, 8) == 0 ? NULL : &fd,
                                       (ha_gs_socket_ctrl_t)(pick(r, 4) == 0 ? pick(r, 8) : HA_GS_SOCKET_NO_SIGNAL),
                                       pick(r, 3) == 0 ? &resp : NULL, scripts[pick(r, 6)],
                                       pick(r, 3) ? on_ping : NULL, pick(r, 3) ? on_error : NULL,
                                       pick(r, 3) ? on_query : NULL);
            check("ha_gs_init", rc);
            if (rc == HA_GS_OK)
                initialized = 1;
        }
        break;
    }
    case 1:
    case 2:
        p.gs_join_request.gs_group_attributes = any_attrs(r, &a);
        p.gs_join_request.gs_provider_instance = (short)(pick(r, 6) == 0 ? -pick(r, 5) : pick(r, 40));
        p.gs_join_request.gs_provider_local_name = pick(r, 4) == 0 ? long_string(200 + pick(r, 100)) : NULL;
        p.gs_join_request.gs_n_phase_protocol_callback = pick(r, 4) ? on_nphase : NULL;
        p.gs_join_request.gs_protocol_approved_callback = pick(r, 4) ? on_approved : NULL;
        p.gs_join_request.gs_protocol_rejected_callback = pick(r, 4) ? on_rejected : NULL;
        p.gs_join_request.gs_announcement_callback = pick(r, 4) ? on_announcement : NULL;
        p.gs_join_request.gs_merge_callback = pick(r, 4) ? on_merge : NULL;
        tok = -1;
        {
            ha_gs_rc_t rc = ha_gs_join(pick(r, 10) == 0 ? NULL : &tok, pick(r, 10) == 0 ? NULL : &p);
            check("ha_gs_join", rc);
            if (rc == HA_GS_OK)
                remember(tok);
        }
        break;
    case 3:
        p.gs_leave_request.gs_num_phases = any_phases(r);
        p.gs_leave_request.gs_time_limit = (unsigned)pick(r, 3);
        p.gs_leave_request.gs_leave_code = rnd(r);
        check("ha_gs_leave", ha_gs_leave(any_token(r), pick(r, 8) == 0 ? NULL : &p));
        break;
    case 4:
        check("ha_gs_goodbye", ha_gs_goodbye(any_token(r)));
        break;
    case 5:
        p.gs_expel_request.gs_num_phases = any_phases(r);
        p.gs_expel_request.gs_time_limit = (unsigned)pick(r, 3);
        p.gs_expel_request.gs_expel_list.gs_count = (unsigned)pick(r, 5);
        for (i = 0; i < 4; i++) {
            expel[i].gs_instance_number = pick(r, 5);
            expel[i].gs_node_number = pick(r, 3);
        }
        if (p.gs_expel_request.gs_expel_list.gs_count > 4)
            p.gs_expel_request.gs_expel_list.gs_count = 4;
        p.gs_expel_request.gs_expel_list.gs_providers = pick(r, 6) == 0 ? NULL : expel;
        p.gs_expel_request.gs_deactivate_phase = (unsigned)pick(r, 4);
        p.gs_expel_request.gs_deactivate_flag = pick(r, 2) ? long_string(250 + pick(r, 60)) : NULL;
        check("ha_gs_expel", ha_gs_expel(any_token(r), pick(r, 8) == 0 ? NULL : &p));
        break;
    case 6:
    case 7:
        p.gs_state_change_request.gs_num_phases = any_phases(r);
        p.gs_state_change_request.gs_time_limit = (unsigned)pick(r, 3);
        p.gs_state_change_request.gs_new_state = any_state(r, &v);
        check("ha_gs_change_state_value", ha_gs_change_state_value(any_token(r), pick(r, 8) == 0 ? NULL : &p));
        break;
    case 8:
        p.gs_message_request.gs_num_phases = any_phases(r);
        p.gs_message_request.gs_time_limit = (unsigned)pick(r, 3);
        p.gs_message_request.gs_message = any_message(r, &m);
        check("ha_gs_send_message", ha_gs_send_message(any_token(r), pick(r, 8) == 0 ? NULL : &p));
        break;
    case 9:
        p.gs_change_attributes_request.gs_num_phases = any_phases(r);
        p.gs_change_attributes_request.gs_time_limit = (unsigned)pick(r, 3);
        p.gs_change_attributes_request.gs_group_attributes = any_attrs(r, &a);
        check("ha_gs_change_attributes", ha_gs_change_attributes(any_token(r), pick(r, 8) == 0 ? NULL : &p));
        break;
    case 10:
        check("ha_gs_vote", ha_gs_vote(any_token(r), any_vote(r), any_state(r, &v), any_message(r, &m), any_vote(r)));
        break;
    case 11:
        p.gs_subscribe_request.gs_subscription_control = (ha_gs_subscription_ctrl_t)pick(r, 20);
        p.gs_subscribe_request.gs_subscription_group = any_name(r);
        p.gs_subscribe_request.gs_subscription_callback = pick(r, 4) ? on_subscription : NULL;
        tok = -1;
        {
            ha_gs_rc_t rc = ha_gs_subscribe(pick(r, 10) == 0 ? NULL : &tok, pick(r, 10) == 0 ? NULL : &p);
            check("ha_gs_subscribe", rc);
            if (rc == HA_GS_OK)
                remember(tok);
        }
        break;
    case 12:
        check("ha_gs_unsubscribe", ha_gs_unsubscribe(any_token(r)));
        break;
    case 13:
    case 14:
        /* Never HA_GS_BLOCKING on a live session: it returns only on error. */
        check("ha_gs_dispatch", ha_gs_dispatch(pick(r, 4) == 0 ? (ha_gs_dispatch_flag_t)(pick(r, 9) + 5)
                                                               : HA_GS_NON_BLOCKING));
        break;
    case 15:
        check("ha_gs_get_node_number", ha_gs_get_node_number(pick(r, 4) == 0 ? NULL : &node));
        break;
    case 16:
        if (pick(r, 2)) {
            ha_gs_adapter_info ai = {0};
            check("ha_gs_get_adapter_info", ha_gs_get_adapter_info(pick(r, 4) == 0 ? NULL : &ai));
        } else {
            fc_eid_t id;
            check("ha_gs_get_ffdc_id", ha_gs_get_ffdc_id(pick(r, 4) == 0 ? NULL : id));
        }
        break;
    case 17:
        if (may_init && pick(r, 3) == 0) {
            ha_gs_quit();
            initialized = 0;
        }
        break;
    }
}

/* forked checks that a child forked now gets HA_GS_FORKED_CHILD from every
 * function it calls. */
static void forked(rng_t *r)
{
    pid_t pid = fork();
    int status;
    if (pid < 0)
        return;
    if (pid == 0) {
        int node;
        ha_gs_proposal_info_t p;
        memset(&p, 0, sizeof p);
        if (ha_gs_get_node_number(&node) != HA_GS_FORKED_CHILD || ha_gs_dispatch(HA_GS_NON_BLOCKING) != HA_GS_FORKED_CHILD ||
            ha_gs_goodbye(any_token(r)) != HA_GS_FORKED_CHILD || ha_gs_leave(any_token(r), &p) != HA_GS_FORKED_CHILD ||
            ha_gs_init(&fd, HA_GS_SOCKET_NO_SIGNAL, NULL, NULL, NULL, NULL, NULL) != HA_GS_FORKED_CHILD) {
            printf("FAIL a forked child got something other than HA_GS_FORKED_CHILD\n");
            fflush(stdout);
            _exit(1);
        }
        ha_gs_quit(); /* returns without touching the parent's connection */
        _exit(0);
    }
    if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        pthread_mutex_lock(&mu);
        failures++;
        pthread_mutex_unlock(&mu);
        printf("FAIL the forked child ended with status %d\n", status);
    }
}

static int ops_per_thread;

static void *worker(void *arg)
{
    rng_t r = {*(unsigned long long *)arg};
    int i;
    for (i = 0; i < ops_per_thread; i++)
        one_call(&r, 0);
    return NULL;
}

int main(int argc, char **argv)
{
    unsigned long long seed;
    int ops, i;
    rng_t r;
    if (argc < 3) {
        fprintf(stderr, "usage: %s SEED OPS [threads]\n", argv[0]);
        return 2;
    }
    seed = strtoull(argv[1], NULL, 10);
    ops = atoi(argv[2]);
    threaded = argc > 3 && strcmp(argv[3], "threads") == 0;
    r.s = seed * 2654435761ULL + 1;
    memset(big, 'v', sizeof big);
    snprintf(names[0], sizeof names[0], "fz-a-%d", (int)getpid());
    snprintf(names[1], sizeof names[1], "fz-b-%d", (int)getpid());
    snprintf(names[2], sizeof names[2], "fz-c-%d", (int)getpid());
    cb_rng.s = seed + 7;

    if (threaded) {
        pthread_t th[4];
        unsigned long long seeds[4];
        if (ha_gs_init(&fd, HA_GS_SOCKET_NO_SIGNAL, NULL, NULL, NULL, on_error, NULL) != HA_GS_OK) {
            printf("FAIL ha_gs_init\n");
            return 1;
        }
        ops_per_thread = ops / 4;
        for (i = 0; i < 4; i++) {
            seeds[i] = r.s + (unsigned long long)i * 1000003ULL;
            pthread_create(&th[i], NULL, worker, &seeds[i]);
        }
        for (i = 0; i < 4; i++)
            pthread_join(th[i], NULL);
        ha_gs_quit();
    } else {
        for (i = 0; i < ops; i++) {
            one_call(&r, 1);
            if (pick(&r, 60) == 0)
                forked(&r);
        }
        ha_gs_quit();
        initialized = 0;
        check("ha_gs_dispatch after ha_gs_quit", ha_gs_dispatch(HA_GS_NON_BLOCKING));
    }
    printf("calls=%d failures=%d\n", calls, failures);
    if (failures > 0)
        return 1;
    printf("PASS\n");
    return 0;
}
