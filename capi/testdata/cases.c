/*
 * cases - one C test per return code of every ha_gs_* function, and the
 * library's process-level behaviour (fork, signals, environment, threads).
 *
 *   cases --list      prints the names of the cases
 *   cases NAME        runs one case; prints "PASS" and exits 0, or says why
 *                     not and exits 1
 *
 * A case named "ha_gs_FUNC/HA_GS_CODE" shows that FUNC returns CODE in the
 * situation its header comment describes; "ha_gs_FUNC/async/HA_GS_CODE"
 * that the delayed error callback receives CODE for a request FUNC sent.
 * capi_test.go checks that every code listed in include/ha_gs.h has its
 * case, and runs them all as subprocesses against a real hagsd whose socket
 * is in $HA_GS_SOCKET.
 *
 * The table at the end lists the cases. Most are a situation every
 * function meets (no session, a lost connection, a forked child, a token
 * never issued, ...) or a common set-up (a session, a provider), written
 * once as a family and applied to one function's call; the rest, which
 * check more than one call's code, are functions of their own.
 */
#define _GNU_SOURCE

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>

#include "ha_gs.h"

/* ---- failing and waiting ------------------------------------------------- */

static const char *current_case = "";

static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL %s: ", current_case);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    fflush(stdout);
    return 1;
}

#define EXPECT_RC(call, want)                                                         \
    do {                                                                              \
        int got_ = (int)(call);                                                       \
        if (got_ != (int)(want))                                                      \
            return fail("%s returned %d, want %s (%d)", #call, got_, #want, (int)(want)); \
    } while (0)

#define CHECK(cond)                                                \
    do {                                                           \
        if (!(cond))                                               \
            return fail("line %d: expected %s", __LINE__, #cond); \
    } while (0)

#define WAIT_MS 15000

static long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

static ha_gs_descriptor_t gs_fd = -1;

/* Waits at most ms milliseconds for the descriptor to become readable. */
static void wait_readable(int ms)
{
    struct pollfd p;
    p.fd = gs_fd;
    p.events = POLLIN;
    p.revents = 0;
    poll(&p, 1, ms);
}

/* Dispatches until dispatch reports the connection lost (HA_GS_NOT_OK). */
static int wait_lost(void)
{
    long deadline = now_ms() + WAIT_MS;
    for (;;) {
        ha_gs_rc_t rc;
        if (now_ms() > deadline)
            return fail("the library never reported the lost connection");
        wait_readable(100);
        rc = ha_gs_dispatch(HA_GS_NON_BLOCKING);
        if (rc == HA_GS_NOT_OK)
            return 0;
        if (rc != HA_GS_OK)
            return fail("ha_gs_dispatch returned %d, want HA_GS_NOT_OK eventually", (int)rc);
    }
}

/* ---- callbacks that record ------------------------------------------------ */

static volatile int n_approved, n_rejected, n_nphase, n_sub, n_errors, n_announce;
static ha_gs_approved_notification_t last_approved;
static ha_gs_proposal_t last_approved_proposal;
static ha_gs_membership_t last_approved_current;
static ha_gs_provider_t last_approved_members[64];
static ha_gs_token_t last_nphase_token, last_sub_token, last_rejected_token;
static unsigned int last_nphase_phase;
static ha_gs_request_t last_nphase_proto;

static struct {
    ha_gs_token_t   token;
    ha_gs_request_t proto;
    ha_gs_rc_t      code;
    int             has_failing;
    char            group[160];  /* the echoed group name, if any */
    int             instance;
    unsigned int    count;       /* expel list size */
    int             state_len;
} last_error;

/* Every approval seen, in order: (token, protocol). */
static struct {
    ha_gs_token_t   token;
    ha_gs_request_t proto;
} approvals[1024];

static void on_approved(const ha_gs_approved_notification_t *n)
{
    if (n_approved < 1024) {
        approvals[n_approved].token = n->gs_provider_token;
        approvals[n_approved].proto = n->gs_protocol_type;
    }
    last_approved = *n;
    if (n->gs_proposal != NULL) {
        last_approved_proposal = *n->gs_proposal;
        if (n->gs_proposal->gs_current_providers != NULL) {
            unsigned int i;
            last_approved_current = *n->gs_proposal->gs_current_providers;
            for (i = 0; i < last_approved_current.gs_count && i < 64; i++)
                last_approved_members[i] = last_approved_current.gs_providers[i];
        }
    }
    n_approved++;
}

static void on_rejected(const ha_gs_rejected_notification_t *n)
{
    last_rejected_token = n->gs_provider_token;
    n_rejected++;
}

static void on_nphase(const ha_gs_n_phase_notification_t *n)
{
    last_nphase_token = n->gs_provider_token;
    last_nphase_proto = n->gs_protocol_type;
    last_nphase_phase = n->gs_proposal != NULL ? n->gs_proposal->gs_phase_number : 0;
    n_nphase++;
}

static void on_announcement(const ha_gs_announcement_notification_t *n)
{
    (void)n;
    n_announce++;
}

static void on_sub(const ha_gs_subscription_notification_t *n)
{
    last_sub_token = n->gs_subscriber_token;
    n_sub++;
}

static void on_error(const ha_gs_delayed_error_notification_t *n)
{
    const ha_gs_proposal_info_t *f = n->gs_failing_request;
    memset(&last_error, 0, sizeof last_error);
    last_error.token = n->gs_request_token;
    last_error.proto = n->gs_protocol_type;
    last_error.code = n->gs_delayed_return_code;
    last_error.has_failing = f != NULL;
    if (f != NULL) {
        switch (n->gs_protocol_type) {
        case HA_GS_JOIN:
            if (f->gs_join_request.gs_group_attributes != NULL &&
                f->gs_join_request.gs_group_attributes->gs_group_name != NULL)
                snprintf(last_error.group, sizeof last_error.group, "%s",
                         f->gs_join_request.gs_group_attributes->gs_group_name);
            last_error.instance = f->gs_join_request.gs_provider_instance;
            break;
        case HA_GS_SUBSCRIPTION:
            if (f->gs_subscribe_request.gs_subscription_group != NULL)
                snprintf(last_error.group, sizeof last_error.group, "%s",
                         f->gs_subscribe_request.gs_subscription_group);
            break;
        case HA_GS_EXPEL:
            last_error.count = f->gs_expel_request.gs_expel_list.gs_count;
            break;
        case HA_GS_STATE_VALUE_CHANGE:
            if (f->gs_state_change_request.gs_new_state != NULL)
                last_error.state_len = f->gs_state_change_request.gs_new_state->gs_length;
            break;
        case HA_GS_GROUP_ATTRIBUTE_CHANGE:
            if (f->gs_change_attributes_request.gs_group_attributes != NULL &&
                f->gs_change_attributes_request.gs_group_attributes->gs_group_name != NULL)
                snprintf(last_error.group, sizeof last_error.group, "%s",
                         f->gs_change_attributes_request.gs_group_attributes->gs_group_name);
            break;
        default:
            break;
        }
    }
    n_errors++;
}

/* Dispatches until done(arg) holds, or fails the case after WAIT_MS with
 * the message fmt names (what it waited for). Every dispatch must return
 * HA_GS_OK. */
static int pump(int (*done)(const void *), const void *arg, const char *fmt, ...)
{
    long deadline = now_ms() + WAIT_MS;
    while (!done(arg)) {
        ha_gs_rc_t rc;
        if (now_ms() > deadline) {
            char what[256];
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(what, sizeof what, fmt, ap);
            va_end(ap);
            return fail("%s (delayed errors so far: %d, the last code %d)", what, n_errors, (int)last_error.code);
        }
        wait_readable(200);
        rc = ha_gs_dispatch(HA_GS_NON_BLOCKING);
        if (rc != HA_GS_OK)
            return fail("ha_gs_dispatch returned %d, want HA_GS_OK", (int)rc);
    }
    return 0;
}

/* A counter and its value before a request: pump waits for it to move. */
struct since {
    const volatile int *counter;
    int before;
};

static int moved(const void *arg)
{
    const struct since *s = arg;
    return *s->counter != s->before;
}

/* Waits for the delayed error of token and checks its code and kind. */
static int expect_delayed(ha_gs_token_t tok, ha_gs_rc_t code, ha_gs_request_t proto)
{
    struct since s = {&n_errors, n_errors};
    if (pump(moved, &s, "no delayed error arrived for token %d", tok) != 0)
        return 1;
    if (last_error.token != tok)
        return fail("delayed error for token %d (code %d), want token %d", last_error.token, (int)last_error.code, tok);
    if (last_error.code != code)
        return fail("delayed error code %d, want %d", (int)last_error.code, (int)code);
    if ((int)proto >= 0 && last_error.proto != proto)
        return fail("delayed error protocol %d, want %d", (int)last_error.proto, (int)proto);
    return 0;
}

/* ---- set-up helpers -------------------------------------------------------- */

static char group_a[HA_GS_MAX_GROUP_NAME_LENGTH + 1];
static char group_b[HA_GS_MAX_GROUP_NAME_LENGTH + 1];
static ha_gs_group_attributes_t attrs_a, attrs_b;

static void make_attrs(ha_gs_group_attributes_t *a, char *name, ha_gs_num_phases_t phases)
{
    memset(a, 0, sizeof *a);
    a->gs_version = HA_GS_GROUP_ATTRIBUTES_VERSION;
    a->gs_sizeof_group_attributes = (short)sizeof *a;
    a->gs_batch_control = HA_GS_NO_BATCHING;
    a->gs_num_phases = phases;
    a->gs_group_default_vote = HA_GS_VOTE_APPROVE;
    a->gs_time_limit = 0;
    a->gs_group_name = name;
}

static int init_with(ha_gs_socket_ctrl_t opts)
{
    EXPECT_RC(ha_gs_init(&gs_fd, opts, NULL, NULL, NULL, on_error, NULL), HA_GS_OK);
    return 0;
}

static int init(void)
{
    return init_with(HA_GS_SOCKET_NO_SIGNAL | HA_GS_ENABLE_ADAPTER_INFO);
}

/* The request blocks, as the cases fill them. */

static void fill_join(ha_gs_proposal_info_t *info, ha_gs_group_attributes_t *a, short instance)
{
    memset(info, 0, sizeof *info);
    info->gs_join_request.gs_group_attributes = a;
    info->gs_join_request.gs_provider_instance = instance;
    info->gs_join_request.gs_provider_local_name = (char *)"cases";
    info->gs_join_request.gs_n_phase_protocol_callback = on_nphase;
    info->gs_join_request.gs_protocol_approved_callback = on_approved;
    info->gs_join_request.gs_protocol_rejected_callback = on_rejected;
    info->gs_join_request.gs_announcement_callback = on_announcement;
}

static ha_gs_proposal_info_t leave_info(ha_gs_num_phases_t phases, unsigned int code)
{
    ha_gs_proposal_info_t info;
    memset(&info, 0, sizeof info);
    info.gs_leave_request.gs_num_phases = phases;
    info.gs_leave_request.gs_leave_code = code;
    return info;
}

/* A one-phase expel of count providers. */
static ha_gs_proposal_info_t expel_info(ha_gs_provider_t *list, unsigned int count)
{
    ha_gs_proposal_info_t info;
    memset(&info, 0, sizeof info);
    info.gs_expel_request.gs_num_phases = HA_GS_1_PHASE;
    info.gs_expel_request.gs_expel_list.gs_count = count;
    info.gs_expel_request.gs_expel_list.gs_providers = list;
    return info;
}

static ha_gs_proposal_info_t state_info(ha_gs_num_phases_t phases, ha_gs_state_value_t *v)
{
    ha_gs_proposal_info_t info;
    memset(&info, 0, sizeof info);
    info.gs_state_change_request.gs_num_phases = phases;
    info.gs_state_change_request.gs_time_limit = 0;
    info.gs_state_change_request.gs_new_state = v;
    return info;
}

static ha_gs_proposal_info_t message_info(ha_gs_num_phases_t phases, ha_gs_provider_message_t *m)
{
    ha_gs_proposal_info_t info;
    memset(&info, 0, sizeof info);
    info.gs_message_request.gs_num_phases = phases;
    info.gs_message_request.gs_message = m;
    return info;
}

/* A one-phase change to attributes a. */
static ha_gs_proposal_info_t attributes_info(ha_gs_group_attributes_t *a)
{
    ha_gs_proposal_info_t info;
    memset(&info, 0, sizeof info);
    info.gs_change_attributes_request.gs_num_phases = HA_GS_1_PHASE;
    info.gs_change_attributes_request.gs_group_attributes = a;
    return info;
}

static ha_gs_proposal_info_t subscribe_info(ha_gs_subscription_ctrl_t ctl, const char *group)
{
    ha_gs_proposal_info_t info;
    memset(&info, 0, sizeof info);
    info.gs_subscribe_request.gs_subscription_control = ctl;
    info.gs_subscribe_request.gs_subscription_group = (char *)group;
    info.gs_subscribe_request.gs_subscription_callback = on_sub;
    return info;
}

/* The approval pump waits for: of proto, seen by tok, after from. */
struct approval {
    int from;
    ha_gs_token_t tok;
    ha_gs_request_t proto;
};

static int approved_since(const void *arg)
{
    const struct approval *w = arg;
    int i;
    for (i = w->from; i < n_approved && i < 1024; i++)
        if (approvals[i].token == w->tok && approvals[i].proto == w->proto)
            return 1;
    return 0;
}

/* Waits for the approval of a protocol of kind proto seen by tok. */
static int wait_approved(ha_gs_token_t tok, ha_gs_request_t proto)
{
    struct approval w = {n_approved, tok, proto};
    return pump(approved_since, &w, "no approval of protocol %d for token %d", (int)proto, tok);
}

/* Joins and waits for this token's approval. */
static int join_ok(ha_gs_group_attributes_t *a, short instance, ha_gs_token_t *tok)
{
    ha_gs_proposal_info_t info;
    fill_join(&info, a, instance);
    EXPECT_RC(ha_gs_join(tok, &info), HA_GS_OK);
    return wait_approved(*tok, HA_GS_JOIN);
}

static int nphase_for(const void *tok)
{
    return n_nphase > 0 && last_nphase_token == *(const ha_gs_token_t *)tok;
}

/* Waits for an n-phase notification for tok. */
static int wait_nphase(ha_gs_token_t tok)
{
    return pump(nphase_for, &tok, "no n-phase notification for token %d", tok);
}

/* Drains what has arrived so far (a short quiet period). */
static void settle(void)
{
    int i;
    for (i = 0; i < 5; i++) {
        wait_readable(20);
        ha_gs_dispatch(HA_GS_NON_BLOCKING);
    }
}

static int subscribe_ok(const char *group, ha_gs_token_t *tok)
{
    ha_gs_proposal_info_t info = subscribe_info(HA_GS_SUBSCRIBE_STATE_VALUE | HA_GS_SUBSCRIBE_ALL_MEMBERSHIP, group);
    EXPECT_RC(ha_gs_subscribe(tok, &info), HA_GS_OK);
    return 0;
}

static ha_gs_token_t ptok = 1, stok = 2; /* a provider and a subscriber token */

/* A session with one provider of group a: the set-up most cases start from. */
static int a_provider(void)
{
    if (init() != 0)
        return 1;
    return join_ok(&attrs_a, 1, &ptok);
}

static ha_gs_state_value_t sv_hello = {5, (char *)"hello"};
static ha_gs_provider_message_t pm_hi = {2, (char *)"hi"};

/* ---- the proxy: a way to lose the connection without stopping hagsd ---- */

static pid_t proxy_pid;
static char proxy_path[108];

static volatile sig_atomic_t stop_reading, hold;

static void on_usr1(int sig)
{
    (void)sig;
    stop_reading = 1;
}

static void on_usr2(int sig)
{
    (void)sig;
    hold = !hold;
}

/* Relays between the client (a) and the daemon (b). On SIGUSR1 it shuts
 * down its reading side of the client's connection, so that the client's
 * writes fail with EPIPE while its reads still wait. SIGUSR2 holds back
 * what the daemon sends, and the next SIGUSR2 lets it through. */
static void relay(int a, int b)
{
    char buf[65536];
    struct pollfd p[2];
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigaction(SIGUSR1, &sa, NULL);
    sa.sa_handler = on_usr2;
    sigaction(SIGUSR2, &sa, NULL);
    p[0].fd = a;
    p[0].events = POLLIN;
    p[1].fd = b;
    p[1].events = POLLIN;
    for (;;) {
        int i;
        if (stop_reading == 1) {
            shutdown(a, SHUT_RD);
            p[0].fd = -1;
            stop_reading = 2;
        }
        p[1].fd = hold ? -1 : b;
        if (poll(p, 2, -1) < 0)
            continue;
        for (i = 0; i < 2; i++) {
            if (p[i].revents & (POLLIN | POLLHUP | POLLERR)) {
                ssize_t n = read(i == 0 ? a : b, buf, sizeof buf);
                if (n <= 0)
                    _exit(0);
                if (write(i == 0 ? b : a, buf, (size_t)n) != n)
                    _exit(0);
            }
        }
    }
}

static int unix_listen(const char *path)
{
    struct sockaddr_un sa;
    int s = socket(AF_UNIX, SOCK_STREAM, 0);
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    unlink(path);
    if (s < 0 || bind(s, (struct sockaddr *)&sa, sizeof sa) < 0 || listen(s, 4) < 0)
        return -1;
    return s;
}

/* Starts a relay between a new socket and the daemon's, and points
 * HA_GS_SOCKET at it (setenv before ha_gs_init, read with getenv). The
 * child never calls the library. */
static int start_proxy(void)
{
    const char *daemon = getenv(HA_GS_SOCKET_ENV);
    int ls;
    if (daemon == NULL)
        return fail("HA_GS_SOCKET is not set");
    snprintf(proxy_path, sizeof proxy_path, "/tmp/hags-proxy-%d.sock", (int)getpid());
    ls = unix_listen(proxy_path);
    if (ls < 0)
        return fail("proxy listen: %s", strerror(errno));
    proxy_pid = fork();
    if (proxy_pid < 0)
        return fail("fork: %s", strerror(errno));
    if (proxy_pid == 0) {
        struct sockaddr_un sa;
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* never outlive the case */
        int c = accept(ls, NULL, NULL), d = socket(AF_UNIX, SOCK_STREAM, 0);
        memset(&sa, 0, sizeof sa);
        sa.sun_family = AF_UNIX;
        snprintf(sa.sun_path, sizeof sa.sun_path, "%s", daemon);
        if (c < 0 || d < 0 || connect(d, (struct sockaddr *)&sa, sizeof sa) < 0)
            _exit(2);
        relay(c, d);
        _exit(0);
    }
    close(ls);
    setenv(HA_GS_SOCKET_ENV, proxy_path, 1);
    return 0;
}

/* Kills the relay, which drops the connection, and waits until the library
 * reports it lost. */
static int cut_proxy(void)
{
    int st;
    kill(proxy_pid, SIGKILL);
    waitpid(proxy_pid, &st, 0);
    unlink(proxy_path);
    return wait_lost();
}

/* ---- calling each function with plausible arguments ----------------------- */

typedef ha_gs_rc_t (*call_fn)(void);

static ha_gs_rc_t call_init(void)
{
    ha_gs_descriptor_t fd;
    return ha_gs_init(&fd, HA_GS_SOCKET_NO_SIGNAL, NULL, NULL, NULL, NULL, NULL);
}

static ha_gs_rc_t call_join(void)
{
    ha_gs_proposal_info_t info;
    ha_gs_token_t t;
    fill_join(&info, &attrs_b, 7);
    return ha_gs_join(&t, &info);
}

static ha_gs_rc_t call_leave(void)
{
    ha_gs_proposal_info_t info = leave_info(HA_GS_1_PHASE, 0);
    return ha_gs_leave(ptok, &info);
}

static ha_gs_rc_t call_goodbye(void) { return ha_gs_goodbye(ptok); }

static ha_gs_provider_t expel_target = {99, 1};

static ha_gs_rc_t call_expel(void)
{
    ha_gs_proposal_info_t info = expel_info(&expel_target, 1);
    return ha_gs_expel(ptok, &info);
}

static ha_gs_rc_t call_state(void)
{
    ha_gs_proposal_info_t info = state_info(HA_GS_1_PHASE, &sv_hello);
    return ha_gs_change_state_value(ptok, &info);
}

static ha_gs_rc_t call_message(void)
{
    ha_gs_proposal_info_t info = message_info(HA_GS_1_PHASE, &pm_hi);
    return ha_gs_send_message(ptok, &info);
}

static ha_gs_rc_t call_attributes(void)
{
    ha_gs_proposal_info_t info = attributes_info(&attrs_a);
    return ha_gs_change_attributes(ptok, &info);
}

static ha_gs_rc_t call_vote(void)
{
    return ha_gs_vote(ptok, HA_GS_VOTE_APPROVE, NULL, NULL, HA_GS_NULL_VOTE);
}

static ha_gs_rc_t call_subscribe(void)
{
    ha_gs_proposal_info_t info = subscribe_info(HA_GS_SUBSCRIBE_STATE_VALUE, group_a);
    ha_gs_token_t t;
    return ha_gs_subscribe(&t, &info);
}

static ha_gs_rc_t call_unsubscribe(void) { return ha_gs_unsubscribe(stok); }
static ha_gs_rc_t call_dispatch(void) { return ha_gs_dispatch(HA_GS_NON_BLOCKING); }

static ha_gs_rc_t call_node(void)
{
    int n;
    return ha_gs_get_node_number(&n);
}

static ha_gs_rc_t call_adapter(void)
{
    ha_gs_adapter_info a;
    memset(&a, 0, sizeof a);
    a.ip_addr.ip4.s_addr = htonl(INADDR_LOOPBACK);
    return ha_gs_get_adapter_info(&a);
}

static ha_gs_rc_t call_ffdc(void)
{
    fc_eid_t id;
    return ha_gs_get_ffdc_id(id);
}

static ha_gs_rc_t call_quit(void)
{
    ha_gs_quit();
    return HA_GS_OK;
}

/* ---- the situations every function meets -----------------------------------
 *
 * Each family sets up one situation and makes one call f in it; the table
 * at the end pairs every function with the families that apply to it. arg
 * is the code the call must return (forked) or the kind of protocol its
 * delayed error must name (pending_not_a_member, async_collide); the other
 * families ignore it. */

/* The calls before ha_gs_init and after ha_gs_quit. */
static int no_init(call_fn f, int arg)
{
    (void)arg;
    EXPECT_RC(f(), HA_GS_NO_INIT);
    if (init() != 0)
        return 1;
    ha_gs_quit();
    EXPECT_RC(f(), HA_GS_NO_INIT);
    return 0;
}

/* A provider and a subscriber, then the call in a child forked after
 * ha_gs_init: HA_GS_FORKED_CHILD, and the parent's connection still works. */
static int forked(call_fn f, int want)
{
    pid_t pid;
    int st;
    if (a_provider() != 0 || subscribe_ok(group_a, &stok) != 0)
        return 1;
    pid = fork();
    if (pid == 0) {
        alarm(10);
        _exit((int)f());
    }
    if (waitpid(pid, &st, 0) < 0)
        return fail("waitpid: %s", strerror(errno));
    if (!WIFEXITED(st))
        return fail("the child did not exit normally (status %d): it must not hang or crash", st);
    if (WEXITSTATUS(st) != want)
        return fail("the child's call returned %d, want %d", WEXITSTATUS(st), want);
    /* The parent is untouched. */
    EXPECT_RC(call_state(), HA_GS_OK);
    if (wait_approved(ptok, HA_GS_STATE_VALUE_CHANGE) != 0)
        return 1;
    ha_gs_quit();
    return 0;
}

/* A provider and a subscriber through the proxy, the connection lost, then
 * the call: HA_GS_NOT_OK. */
static int not_ok(call_fn f, int arg)
{
    (void)arg;
    if (start_proxy() != 0 || a_provider() != 0 || subscribe_ok(group_a, &stok) != 0)
        return 1;
    settle();
    if (cut_proxy() != 0)
        return 1;
    EXPECT_RC(f(), HA_GS_NOT_OK);
    return 0;
}

/* A provider with a protocol of its own outstanding: HA_GS_COLLIDE. */
static int collide_sync(call_fn f, int arg)
{
    ha_gs_proposal_info_t info;
    (void)arg;
    make_attrs(&attrs_a, group_a, HA_GS_N_PHASE);
    if (a_provider() != 0)
        return 1;
    info = state_info(HA_GS_N_PHASE, &sv_hello);
    EXPECT_RC(ha_gs_change_state_value(ptok, &info), HA_GS_OK);
    EXPECT_RC(f(), HA_GS_COLLIDE);
    return 0;
}

/* The membership ended: HA_GS_NOT_A_MEMBER. */
static int not_a_member(call_fn f, int arg)
{
    (void)arg;
    if (a_provider() != 0)
        return 1;
    EXPECT_RC(ha_gs_goodbye(ptok), HA_GS_OK);
    EXPECT_RC(f(), HA_GS_NOT_A_MEMBER);
    return 0;
}

/* A token never issued: HA_GS_BAD_MEMBER_TOKEN. */
static int bad_token(call_fn f, int arg)
{
    (void)arg;
    if (a_provider() != 0)
        return 1;
    ptok = 1 << 30;
    stok = 1 << 30;
    EXPECT_RC(f(), HA_GS_BAD_MEMBER_TOKEN);
    return 0;
}

/* A join pending in an n-phase group whose other provider does not vote:
 * the library lets the pending token propose, the daemon refuses it as not
 * (yet) a member. */
static int pending_not_a_member(call_fn f, int proto)
{
    ha_gs_token_t first;
    ha_gs_proposal_info_t info;
    make_attrs(&attrs_a, group_a, HA_GS_N_PHASE);
    if (init() != 0 || join_ok(&attrs_a, 1, &first) != 0)
        return 1;
    fill_join(&info, &attrs_a, 2);
    EXPECT_RC(ha_gs_join(&ptok, &info), HA_GS_OK);
    if (wait_nphase(first) != 0) /* the join protocol runs; first does not vote */
        return 1;
    EXPECT_RC(f(), HA_GS_OK);
    return expect_delayed(ptok, HA_GS_NOT_A_MEMBER, (ha_gs_request_t)proto);
}

/* Two providers of one n-phase group: the first proposes, the second
 * proposes at once, before the first's protocol reaches the library, and
 * the daemon refuses it. The library may have seen the protocol already
 * (HA_GS_COLLIDE at once); then the protocol is finished and it is tried
 * again. */
static int async_collide(call_fn f, int proto)
{
    ha_gs_token_t first;
    int attempt;
    make_attrs(&attrs_a, group_a, HA_GS_N_PHASE);
    if (init() != 0 || join_ok(&attrs_a, 1, &first) != 0)
        return 1;
    {
        ha_gs_proposal_info_t info;
        fill_join(&info, &attrs_a, 2);
        EXPECT_RC(ha_gs_join(&ptok, &info), HA_GS_OK);
        if (wait_nphase(first) != 0)
            return 1;
        EXPECT_RC(ha_gs_vote(first, HA_GS_VOTE_APPROVE, NULL, NULL, HA_GS_NULL_VOTE), HA_GS_OK);
        if (wait_approved(ptok, HA_GS_JOIN) != 0)
            return 1;
        settle();
    }
    for (attempt = 0; attempt < 50; attempt++) {
        ha_gs_proposal_info_t info = state_info(HA_GS_N_PHASE, &sv_hello);
        ha_gs_rc_t rc;
        EXPECT_RC(ha_gs_change_state_value(first, &info), HA_GS_OK);
        rc = f();
        if (rc == HA_GS_OK)
            return expect_delayed(ptok, HA_GS_COLLIDE, (ha_gs_request_t)proto);
        if (rc != HA_GS_COLLIDE)
            return fail("the second proposal returned %d", (int)rc);
        /* Finish the protocol and try again. */
        if (wait_nphase(ptok) != 0)
            return 1;
        ha_gs_vote(first, HA_GS_VOTE_APPROVE, NULL, NULL, HA_GS_NULL_VOTE);
        ha_gs_vote(ptok, HA_GS_VOTE_APPROVE, NULL, NULL, HA_GS_NULL_VOTE);
        if (wait_approved(first, HA_GS_STATE_VALUE_CHANGE) != 0)
            return 1;
        settle();
    }
    return fail("the library saw the protocol first in 50 attempts");
}

/* ---- the cases ------------------------------------------------------------- */

/* ha_gs_init */

static int init_ok(void)
{
    int node = -1;
    if (init() != 0)
        return 1;
    CHECK(gs_fd >= 0);
    EXPECT_RC(ha_gs_get_node_number(&node), HA_GS_OK);
    CHECK(node >= 0);
    ha_gs_quit();
    /* Init again after quit works, and tokens keep counting. */
    if (a_provider() != 0)
        return 1;
    return 0;
}

static int init_exists(void)
{
    ha_gs_descriptor_t fd2;
    if (init() != 0)
        return 1;
    EXPECT_RC(ha_gs_init(&fd2, HA_GS_SOCKET_NO_SIGNAL, NULL, NULL, NULL, NULL, NULL), HA_GS_EXISTS);
    /* The first connection still works. */
    return join_ok(&attrs_a, 1, &ptok);
}

static int init_bad_parameter(void)
{
    ha_gs_descriptor_t fd;
    ha_gs_responsiveness_t r;
    EXPECT_RC(ha_gs_init(NULL, HA_GS_SOCKET_NO_SIGNAL, NULL, NULL, NULL, NULL, NULL), HA_GS_BAD_PARAMETER);
    EXPECT_RC(ha_gs_init(&fd, 0, NULL, NULL, NULL, NULL, NULL), HA_GS_BAD_PARAMETER);
    EXPECT_RC(ha_gs_init(&fd, HA_GS_ENABLE_ADAPTER_INFO, NULL, NULL, NULL, NULL, NULL), HA_GS_BAD_PARAMETER);
    EXPECT_RC(ha_gs_init(&fd, 0x100 | HA_GS_SOCKET_NO_SIGNAL, NULL, NULL, NULL, NULL, NULL), HA_GS_BAD_PARAMETER);
    memset(&r, 0, sizeof r);
    r.gs_responsiveness_type = (ha_gs_responsiveness_type_t)7;
    EXPECT_RC(ha_gs_init(&fd, HA_GS_SOCKET_NO_SIGNAL, &r, NULL, NULL, NULL, NULL), HA_GS_BAD_PARAMETER);
    r.gs_responsiveness_type = HA_GS_COUNTER_RESPONSIVENESS;
    r.gs_counter_location = NULL;
    r.gs_counter_length = 4;
    EXPECT_RC(ha_gs_init(&fd, HA_GS_SOCKET_NO_SIGNAL, &r, NULL, NULL, NULL, NULL), HA_GS_BAD_PARAMETER);
    r.gs_counter_location = &r;
    r.gs_counter_length = 2;
    EXPECT_RC(ha_gs_init(&fd, HA_GS_SOCKET_NO_SIGNAL, &r, NULL, NULL, NULL, NULL), HA_GS_BAD_PARAMETER);
    EXPECT_RC(ha_gs_init(&fd, HA_GS_SOCKET_NO_SIGNAL, NULL, "relative/script", NULL, NULL, NULL), HA_GS_BAD_PARAMETER);
    EXPECT_RC(ha_gs_init(&fd, HA_GS_SOCKET_NO_SIGNAL, NULL, "/nonexistent/hags/script", NULL, NULL, NULL), HA_GS_BAD_PARAMETER);
    EXPECT_RC(ha_gs_init(&fd, HA_GS_SOCKET_NO_SIGNAL, NULL, "/", NULL, NULL, NULL), HA_GS_BAD_PARAMETER);
    {
        char plain[64];
        int f;
        snprintf(plain, sizeof plain, "/tmp/hags-plain-%d", (int)getpid());
        f = open(plain, O_CREAT | O_WRONLY | O_TRUNC, 0644);
        if (f < 0)
            return fail("cannot create %s", plain);
        close(f);
        f = (int)ha_gs_init(&fd, HA_GS_SOCKET_NO_SIGNAL, NULL, plain, NULL, NULL, NULL);
        unlink(plain);
        if (f != HA_GS_BAD_PARAMETER)
            return fail("a script that is not executable gave %d, want HA_GS_BAD_PARAMETER", f);
    }
    {
        static char longpath[HA_GS_MAX_SCRIPT_PATH_LENGTH + 10];
        memset(longpath, 'a', sizeof longpath - 1);
        longpath[0] = '/';
        EXPECT_RC(ha_gs_init(&fd, HA_GS_SOCKET_NO_SIGNAL, NULL, longpath, NULL, NULL, NULL), HA_GS_BAD_PARAMETER);
    }
    /* None of these connected. */
    EXPECT_RC(call_node(), HA_GS_NO_INIT);
    return 0;
}

static int init_connect_failed(void)
{
    setenv(HA_GS_SOCKET_ENV, "/nonexistent/hags/hagsd.sock", 1);
    EXPECT_RC(call_init(), HA_GS_CONNECT_FAILED);
    /* The domain variable names the socket when HA_GS_SOCKET is unset. */
    unsetenv(HA_GS_SOCKET_ENV);
    setenv(HA_GS_DOMAIN_ENV, "hags-no-such-domain-for-tests", 1);
    EXPECT_RC(call_init(), HA_GS_CONNECT_FAILED);
    return 0;
}

static int init_sock_init_failed(void)
{
    char path[108];
    int ls;
    pid_t pid;
    int st;
    snprintf(path, sizeof path, "/tmp/hags-fake-%d.sock", (int)getpid());
    ls = unix_listen(path);
    if (ls < 0)
        return fail("listen: %s", strerror(errno));
    pid = fork();
    if (pid == 0) {
        /* A peer that is no hags daemon: it answers garbage. */
        static const char junk[] = "HTTP/1.0 400 Bad Request\r\n\r\n";
        int c;
        char buf[256];
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        c = accept(ls, NULL, NULL);
        if (c < 0)
            _exit(2);
        if (write(c, junk, sizeof junk - 1) < 0)
            _exit(3);
        while (read(c, buf, sizeof buf) > 0)
            ;
        _exit(0);
    }
    close(ls);
    setenv(HA_GS_SOCKET_ENV, path, 1);
    EXPECT_RC(call_init(), HA_GS_SOCK_INIT_FAILED);
    kill(pid, SIGKILL);
    waitpid(pid, &st, 0);
    unlink(path);
    return 0;
}

static int init_sock_create_failed(void)
{
    struct rlimit rl;
    int fd;
    /* A first session, so that the Go runtime's poller exists before the
     * descriptors run out. */
    if (init() != 0)
        return 1;
    ha_gs_quit();
    getrlimit(RLIMIT_NOFILE, &rl);
    rl.rlim_cur = 256;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0)
        return fail("setrlimit: %s", strerror(errno));
    while ((fd = open("/dev/null", O_RDONLY)) >= 0)
        ;
    if (errno != EMFILE)
        return fail("open stopped with %s, want EMFILE", strerror(errno));
    EXPECT_RC(call_init(), HA_GS_SOCK_CREATE_FAILED);
    return 0;
}

static int init_permission_denied(void)
{
    if (getuid() != 0)
        return fail("this case needs root, to drop to nobody");
    if (setgroups(0, NULL) != 0 || setgid(65534) != 0 || setuid(65534) != 0)
        return fail("cannot become nobody: %s", strerror(errno));
    EXPECT_RC(call_init(), HA_GS_PERMISSION_DENIED);
    return 0;
}

/* ha_gs_join */

/* ACCESS_UID is the user the access-control cases run as: not root, and
 * admitted by the test's daemon through its primary group, gid 0
 * (capi_test.go starts that daemon with --client-group naming gid 0). */
#define ACCESS_UID 4242

/* OWNED_GROUP is a group root owns: capi_test.go creates it, as root,
 * before it runs the cases. */
#define OWNED_GROUP "cases-owned-by-root"

/* as_access_user turns a root process into ACCESS_UID before it connects:
 * the daemon judges a session by the uid it connected with. */
static int as_access_user(void)
{
    if (getuid() != 0)
        return fail("this case needs root, to become uid %d", ACCESS_UID);
    if (setgroups(0, NULL) != 0 || setgid(0) != 0 || setuid(ACCESS_UID) != 0)
        return fail("cannot become uid %d: %s", ACCESS_UID, strerror(errno));
    return 0;
}

static int join_permission_denied(void)
{
    /* Only root joins a group named hags.*; the library knows at once. */
    ha_gs_group_attributes_t a;
    ha_gs_proposal_info_t info;
    ha_gs_token_t t;
    if (as_access_user() != 0 || init() != 0)
        return 1;
    make_attrs(&a, (char *)"hags.cases", HA_GS_1_PHASE);
    fill_join(&info, &a, 1);
    EXPECT_RC(ha_gs_join(&t, &info), HA_GS_PERMISSION_DENIED);
    return 0;
}

/* denied_join joins OWNED_GROUP as ACCESS_UID and waits for the daemon's
 * refusal: another uid's group, not granted to this one. */
static int denied_join(ha_gs_token_t *t)
{
    static ha_gs_group_attributes_t a;
    ha_gs_proposal_info_t info;
    if (as_access_user() != 0 || init() != 0)
        return 1;
    make_attrs(&a, (char *)OWNED_GROUP, HA_GS_1_PHASE);
    fill_join(&info, &a, 1);
    EXPECT_RC(ha_gs_join(t, &info), HA_GS_OK);
    if (expect_delayed(*t, HA_GS_PERMISSION_DENIED, HA_GS_JOIN) != 0)
        return 1;
    CHECK(strcmp(last_error.group, OWNED_GROUP) == 0);
    return 0;
}

static int join_async_permission_denied(void)
{
    ha_gs_token_t t;
    return denied_join(&t);
}

/* Every request with the token of a join refused for permission is
 * refused the same way, at once once the library has the refusal. */
static int permission_denied(call_fn f, int arg)
{
    (void)arg;
    if (denied_join(&ptok) != 0)
        return 1;
    EXPECT_RC(f(), HA_GS_PERMISSION_DENIED);
    return 0;
}

static int join_ok_case(void)
{
    unsigned int i;
    int node = -1, found = 0;
    if (init() != 0 || join_ok(&attrs_a, 3, &ptok) != 0)
        return 1;
    CHECK(ptok > 0);
    CHECK(last_approved.gs_notification_type == HA_GS_APPROVED_NOTIFICATION);
    CHECK(last_approved_proposal.gs_phase_number == 1);
    CHECK(last_approved_proposal.gs_whats_changed == HA_GS_CHANGE_MEMBERSHIP);
    EXPECT_RC(ha_gs_get_node_number(&node), HA_GS_OK);
    for (i = 0; i < last_approved_current.gs_count; i++)
        found |= last_approved_members[i].gs_instance_number == 3 && last_approved_members[i].gs_node_number == node;
    CHECK(found);
    return 0;
}

static int join_bad_parameter(void)
{
    ha_gs_proposal_info_t info;
    ha_gs_group_attributes_t a;
    ha_gs_token_t t;
    if (init() != 0)
        return 1;
    fill_join(&info, &attrs_a, 1);
    EXPECT_RC(ha_gs_join(NULL, &info), HA_GS_BAD_PARAMETER);
    EXPECT_RC(ha_gs_join(&t, NULL), HA_GS_BAD_PARAMETER);
    info.gs_join_request.gs_group_attributes = NULL;
    EXPECT_RC(ha_gs_join(&t, &info), HA_GS_BAD_PARAMETER);
    a = attrs_a;
    a.gs_group_name = NULL;
    info.gs_join_request.gs_group_attributes = &a;
    EXPECT_RC(ha_gs_join(&t, &info), HA_GS_BAD_PARAMETER);
    a.gs_group_name = (char *)"";
    EXPECT_RC(ha_gs_join(&t, &info), HA_GS_BAD_PARAMETER);
    fill_join(&info, &attrs_a, -1);
    EXPECT_RC(ha_gs_join(&t, &info), HA_GS_BAD_PARAMETER);
    return 0;
}

static int join_name_too_long(void)
{
    char name[HA_GS_MAX_GROUP_NAME_LENGTH + 2], local[HA_GS_MAX_LOCAL_NAME_LENGTH + 2];
    ha_gs_proposal_info_t info;
    ha_gs_group_attributes_t a;
    ha_gs_token_t t;
    if (init() != 0)
        return 1;
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = 0;
    make_attrs(&a, name, HA_GS_1_PHASE);
    fill_join(&info, &a, 1);
    EXPECT_RC(ha_gs_join(&t, &info), HA_GS_NAME_TOO_LONG);
    a.gs_group_name = group_a;
    a.gs_source_group_name = name;
    a.gs_source_reflection_num_phases = HA_GS_1_PHASE;
    EXPECT_RC(ha_gs_join(&t, &info), HA_GS_NAME_TOO_LONG);
    memset(local, 'l', sizeof local - 1);
    local[sizeof local - 1] = 0;
    fill_join(&info, &attrs_a, 1);
    info.gs_join_request.gs_provider_local_name = local;
    EXPECT_RC(ha_gs_join(&t, &info), HA_GS_NAME_TOO_LONG);
    /* Exactly the maximum is accepted. */
    name[HA_GS_MAX_GROUP_NAME_LENGTH] = 0;
    make_attrs(&a, name, HA_GS_1_PHASE);
    fill_join(&info, &a, 1);
    EXPECT_RC(ha_gs_join(&t, &info), HA_GS_OK);
    return 0;
}

static int join_bad_group_attributes(void)
{
    ha_gs_proposal_info_t info;
    ha_gs_group_attributes_t a;
    ha_gs_token_t t;
    if (init() != 0)
        return 1;
    a = attrs_a;
    a.gs_version = 2;
    fill_join(&info, &a, 1);
    EXPECT_RC(ha_gs_join(&t, &info), HA_GS_BAD_GROUP_ATTRIBUTES);
    a = attrs_a;
    a.gs_sizeof_group_attributes = 4;
    EXPECT_RC(ha_gs_join(&t, &info), HA_GS_BAD_GROUP_ATTRIBUTES);
    a = attrs_a;
    a.gs_num_phases = (ha_gs_num_phases_t)9;
    EXPECT_RC(ha_gs_join(&t, &info), HA_GS_BAD_GROUP_ATTRIBUTES);
    a = attrs_a;
    a.gs_group_default_vote = HA_GS_VOTE_CONTINUE;
    EXPECT_RC(ha_gs_join(&t, &info), HA_GS_BAD_GROUP_ATTRIBUTES);
    return 0;
}

static int join_async_bad_group_attributes(void)
{
    ha_gs_proposal_info_t info;
    ha_gs_group_attributes_t other;
    ha_gs_token_t t;
    if (a_provider() != 0)
        return 1;
    other = attrs_a;
    other.gs_num_phases = HA_GS_N_PHASE;
    fill_join(&info, &other, 2);
    EXPECT_RC(ha_gs_join(&t, &info), HA_GS_OK);
    if (expect_delayed(t, HA_GS_BAD_GROUP_ATTRIBUTES, HA_GS_JOIN) != 0)
        return 1;
    CHECK(last_error.has_failing);
    CHECK(strcmp(last_error.group, group_a) == 0);
    CHECK(last_error.instance == 2);
    /* The refused token is no member. */
    EXPECT_RC(ha_gs_goodbye(t), HA_GS_NOT_A_MEMBER);
    return 0;
}

static int join_async_duplicate_instance(void)
{
    ha_gs_proposal_info_t info;
    ha_gs_token_t t;
    if (init() != 0 || join_ok(&attrs_a, 4, &ptok) != 0)
        return 1;
    fill_join(&info, &attrs_a, 4);
    EXPECT_RC(ha_gs_join(&t, &info), HA_GS_OK);
    return expect_delayed(t, HA_GS_DUPLICATE_INSTANCE_NUMBER, HA_GS_JOIN);
}

static int join_async_invalid_source_group(void)
{
    /* b reflects a, so b is a target group; joining a group whose source
     * is b would chain. */
    ha_gs_group_attributes_t target, chained;
    ha_gs_proposal_info_t info;
    ha_gs_token_t t, u;
    char chained_name[32];
    if (a_provider() != 0)
        return 1;
    target = attrs_b;
    target.gs_source_group_name = group_a;
    target.gs_source_reflection_num_phases = HA_GS_1_PHASE;
    if (join_ok(&target, 1, &t) != 0)
        return 1;
    snprintf(chained_name, sizeof chained_name, "c-%d", (int)getpid());
    make_attrs(&chained, chained_name, HA_GS_1_PHASE);
    chained.gs_source_group_name = group_b;
    chained.gs_source_reflection_num_phases = HA_GS_1_PHASE;
    fill_join(&info, &chained, 1);
    EXPECT_RC(ha_gs_join(&u, &info), HA_GS_OK);
    return expect_delayed(u, HA_GS_INVALID_SOURCE_GROUP, HA_GS_JOIN);
}

static int join_async_no_source_group_provider(void)
{
    ha_gs_group_attributes_t target;
    ha_gs_proposal_info_t info;
    ha_gs_token_t t;
    if (init() != 0)
        return 1;
    target = attrs_b;
    target.gs_source_group_name = group_a; /* does not exist */
    target.gs_source_reflection_num_phases = HA_GS_1_PHASE;
    fill_join(&info, &target, 1);
    EXPECT_RC(ha_gs_join(&t, &info), HA_GS_OK);
    return expect_delayed(t, HA_GS_NO_SOURCE_GROUP_PROVIDER, HA_GS_JOIN);
}

static int join_async_invalid_group(void)
{
    ha_gs_group_attributes_t a;
    ha_gs_proposal_info_t info;
    ha_gs_token_t t;
    if (init() != 0)
        return 1;
    make_attrs(&a, (char *)HA_GS_HOST_MEMBERSHIP_GROUP, HA_GS_1_PHASE);
    fill_join(&info, &a, 1);
    EXPECT_RC(ha_gs_join(&t, &info), HA_GS_OK);
    return expect_delayed(t, HA_GS_INVALID_GROUP, HA_GS_JOIN);
}

/* ha_gs_leave */

static int leave_ok(void)
{
    ha_gs_proposal_info_t info;
    if (a_provider() != 0)
        return 1;
    info = leave_info(HA_GS_1_PHASE, 42);
    EXPECT_RC(ha_gs_leave(ptok, &info), HA_GS_OK);
    if (wait_approved(ptok, HA_GS_LEAVE) != 0)
        return 1;
    CHECK(last_approved_proposal.gs_whats_changed == HA_GS_CHANGE_MEMBERSHIP);
    EXPECT_RC(call_leave(), HA_GS_NOT_A_MEMBER);
    return 0;
}

static int leave_bad_parameter(void)
{
    ha_gs_proposal_info_t info;
    if (a_provider() != 0)
        return 1;
    EXPECT_RC(ha_gs_leave(ptok, NULL), HA_GS_BAD_PARAMETER);
    info = leave_info((ha_gs_num_phases_t)0, 0);
    EXPECT_RC(ha_gs_leave(ptok, &info), HA_GS_BAD_PARAMETER);
    return 0;
}

/* ha_gs_expel */

static int expel_ok(void)
{
    ha_gs_token_t victim;
    ha_gs_proposal_info_t info;
    ha_gs_provider_t who;
    int node = 0;
    if (init() != 0 || join_ok(&attrs_a, 1, &ptok) != 0 || join_ok(&attrs_a, 2, &victim) != 0)
        return 1;
    ha_gs_get_node_number(&node);
    who.gs_instance_number = 2;
    who.gs_node_number = node;
    info = expel_info(&who, 1);
    EXPECT_RC(ha_gs_expel(ptok, &info), HA_GS_OK);
    if (wait_approved(victim, HA_GS_EXPEL) != 0)
        return 1;
    settle();
    EXPECT_RC(ha_gs_goodbye(victim), HA_GS_NOT_A_MEMBER);
    return 0;
}

static int expel_bad_parameter(void)
{
    ha_gs_proposal_info_t info;
    if (a_provider() != 0)
        return 1;
    EXPECT_RC(ha_gs_expel(ptok, NULL), HA_GS_BAD_PARAMETER);
    info = expel_info(NULL, 0);
    EXPECT_RC(ha_gs_expel(ptok, &info), HA_GS_BAD_PARAMETER); /* empty list */
    info.gs_expel_request.gs_expel_list.gs_count = 1;
    EXPECT_RC(ha_gs_expel(ptok, &info), HA_GS_BAD_PARAMETER); /* NULL gs_providers */
    info.gs_expel_request.gs_expel_list.gs_providers = &expel_target;
    info.gs_expel_request.gs_num_phases = (ha_gs_num_phases_t)0;
    EXPECT_RC(ha_gs_expel(ptok, &info), HA_GS_BAD_PARAMETER);
    return 0;
}

static int expel_async_unknown_provider(void)
{
    if (a_provider() != 0)
        return 1;
    EXPECT_RC(call_expel(), HA_GS_OK);
    if (expect_delayed(ptok, HA_GS_UNKNOWN_PROVIDER, HA_GS_EXPEL) != 0)
        return 1;
    CHECK(last_error.has_failing);
    CHECK(last_error.count == 1);
    return 0;
}

/* ha_gs_change_state_value */

static int state_ok(void)
{
    if (a_provider() != 0)
        return 1;
    EXPECT_RC(call_state(), HA_GS_OK);
    if (wait_approved(ptok, HA_GS_STATE_VALUE_CHANGE) != 0)
        return 1;
    CHECK(last_approved_proposal.gs_whats_changed == HA_GS_CHANGE_STATE_VALUE);
    return 0;
}

static int state_bad_parameter(void)
{
    ha_gs_proposal_info_t info;
    ha_gs_state_value_t v;
    if (a_provider() != 0)
        return 1;
    EXPECT_RC(ha_gs_change_state_value(ptok, NULL), HA_GS_BAD_PARAMETER);
    info = state_info(HA_GS_1_PHASE, NULL);
    EXPECT_RC(ha_gs_change_state_value(ptok, &info), HA_GS_BAD_PARAMETER);
    v.gs_length = -1;
    v.gs_state = (char *)"x";
    info = state_info(HA_GS_1_PHASE, &v);
    EXPECT_RC(ha_gs_change_state_value(ptok, &info), HA_GS_BAD_PARAMETER);
    v.gs_length = 3;
    v.gs_state = NULL;
    EXPECT_RC(ha_gs_change_state_value(ptok, &info), HA_GS_BAD_PARAMETER);
    info = state_info((ha_gs_num_phases_t)5, &sv_hello);
    EXPECT_RC(ha_gs_change_state_value(ptok, &info), HA_GS_BAD_PARAMETER);
    return 0;
}

static char big[HA_GS_MAX_STATE_VALUE_LENGTH + HA_GS_MAX_PROVIDER_MESSAGE_LENGTH + 2];

static int state_too_long(void)
{
    ha_gs_proposal_info_t info;
    ha_gs_state_value_t v;
    if (a_provider() != 0)
        return 1;
    v.gs_length = HA_GS_MAX_STATE_VALUE_LENGTH + 1;
    v.gs_state = big;
    info = state_info(HA_GS_1_PHASE, &v);
    EXPECT_RC(ha_gs_change_state_value(ptok, &info), HA_GS_STATE_VALUE_TOO_LONG);
    v.gs_length = HA_GS_MAX_STATE_VALUE_LENGTH; /* exactly the maximum is accepted */
    EXPECT_RC(ha_gs_change_state_value(ptok, &info), HA_GS_OK);
    return wait_approved(ptok, HA_GS_STATE_VALUE_CHANGE);
}

/* ha_gs_send_message */

static int message_ok(void)
{
    if (a_provider() != 0)
        return 1;
    EXPECT_RC(call_message(), HA_GS_OK);
    return wait_approved(ptok, HA_GS_PROVIDER_MESSAGE);
}

static int message_bad_parameter(void)
{
    ha_gs_proposal_info_t info;
    ha_gs_provider_message_t m;
    if (a_provider() != 0)
        return 1;
    EXPECT_RC(ha_gs_send_message(ptok, NULL), HA_GS_BAD_PARAMETER);
    info = message_info(HA_GS_1_PHASE, NULL);
    EXPECT_RC(ha_gs_send_message(ptok, &info), HA_GS_BAD_PARAMETER);
    m.gs_length = -2;
    m.gs_message = (char *)"x";
    info.gs_message_request.gs_message = &m;
    EXPECT_RC(ha_gs_send_message(ptok, &info), HA_GS_BAD_PARAMETER);
    m.gs_length = 4;
    m.gs_message = NULL;
    EXPECT_RC(ha_gs_send_message(ptok, &info), HA_GS_BAD_PARAMETER);
    return 0;
}

/* ha_gs_change_attributes */

static int attributes_ok(void)
{
    ha_gs_proposal_info_t info;
    ha_gs_group_attributes_t a;
    if (a_provider() != 0)
        return 1;
    a = attrs_a;
    a.gs_time_limit = 9;
    info = attributes_info(&a);
    EXPECT_RC(ha_gs_change_attributes(ptok, &info), HA_GS_OK);
    if (wait_approved(ptok, HA_GS_GROUP_ATTRIBUTE_CHANGE) != 0)
        return 1;
    CHECK(last_approved_proposal.gs_whats_changed == HA_GS_CHANGE_ATTRIBUTES);
    return 0;
}

static int attributes_bad_parameter(void)
{
    ha_gs_proposal_info_t info;
    if (a_provider() != 0)
        return 1;
    EXPECT_RC(ha_gs_change_attributes(ptok, NULL), HA_GS_BAD_PARAMETER);
    info = attributes_info(NULL);
    EXPECT_RC(ha_gs_change_attributes(ptok, &info), HA_GS_BAD_PARAMETER);
    info.gs_change_attributes_request.gs_group_attributes = &attrs_a;
    info.gs_change_attributes_request.gs_num_phases = (ha_gs_num_phases_t)0;
    EXPECT_RC(ha_gs_change_attributes(ptok, &info), HA_GS_BAD_PARAMETER);
    return 0;
}

static int attributes_bad_group_attributes(void)
{
    ha_gs_proposal_info_t info;
    ha_gs_group_attributes_t a;
    if (a_provider() != 0)
        return 1;
    a = attrs_a;
    a.gs_sizeof_group_attributes = 1;
    info = attributes_info(&a);
    EXPECT_RC(ha_gs_change_attributes(ptok, &info), HA_GS_BAD_GROUP_ATTRIBUTES);
    a = attrs_a;
    a.gs_batch_control = (ha_gs_batch_ctrl_t)12;
    EXPECT_RC(ha_gs_change_attributes(ptok, &info), HA_GS_BAD_GROUP_ATTRIBUTES);
    return 0;
}

static int attributes_async_bad_group_attributes(void)
{
    ha_gs_proposal_info_t info;
    if (a_provider() != 0)
        return 1;
    info = attributes_info(&attrs_b); /* another name */
    EXPECT_RC(ha_gs_change_attributes(ptok, &info), HA_GS_OK);
    if (expect_delayed(ptok, HA_GS_BAD_GROUP_ATTRIBUTES, HA_GS_GROUP_ATTRIBUTE_CHANGE) != 0)
        return 1;
    CHECK(strcmp(last_error.group, group_b) == 0);
    return 0;
}

static int attributes_async_invalid_source_group(void)
{
    /* b reflects a; making a reflect b would chain. */
    ha_gs_group_attributes_t target, a;
    ha_gs_proposal_info_t info;
    ha_gs_token_t t;
    if (a_provider() != 0)
        return 1;
    target = attrs_b;
    target.gs_source_group_name = group_a;
    target.gs_source_reflection_num_phases = HA_GS_1_PHASE;
    if (join_ok(&target, 1, &t) != 0)
        return 1;
    a = attrs_a;
    a.gs_source_group_name = group_b;
    a.gs_source_reflection_num_phases = HA_GS_1_PHASE;
    info = attributes_info(&a);
    EXPECT_RC(ha_gs_change_attributes(ptok, &info), HA_GS_OK);
    return expect_delayed(ptok, HA_GS_INVALID_SOURCE_GROUP, HA_GS_GROUP_ATTRIBUTE_CHANGE);
}

static int attributes_async_invalid_group(void)
{
    ha_gs_proposal_info_t info;
    ha_gs_group_attributes_t a;
    if (a_provider() != 0)
        return 1;
    make_attrs(&a, (char *)HA_GS_HOST_MEMBERSHIP_GROUP, HA_GS_1_PHASE);
    info = attributes_info(&a);
    EXPECT_RC(ha_gs_change_attributes(ptok, &info), HA_GS_OK);
    return expect_delayed(ptok, HA_GS_INVALID_GROUP, HA_GS_GROUP_ATTRIBUTE_CHANGE);
}

/* ha_gs_vote */

/* An n-phase state change that awaits ptok's vote. */
static int vote_due(void)
{
    ha_gs_proposal_info_t info;
    make_attrs(&attrs_a, group_a, HA_GS_N_PHASE);
    if (a_provider() != 0)
        return 1;
    info = state_info(HA_GS_N_PHASE, &sv_hello);
    EXPECT_RC(ha_gs_change_state_value(ptok, &info), HA_GS_OK);
    return wait_nphase(ptok);
}

static int vote_ok(void)
{
    ha_gs_state_value_t v = {3, (char *)"new"};
    if (vote_due() != 0)
        return 1;
    CHECK(last_nphase_proto == HA_GS_STATE_VALUE_CHANGE);
    CHECK(last_nphase_phase == 1);
    EXPECT_RC(ha_gs_vote(ptok, HA_GS_VOTE_APPROVE, &v, &pm_hi, HA_GS_NULL_VOTE), HA_GS_OK);
    return wait_approved(ptok, HA_GS_STATE_VALUE_CHANGE);
}

static int vote_bad_parameter(void)
{
    ha_gs_state_value_t v;
    ha_gs_provider_message_t m;
    if (vote_due() != 0)
        return 1;
    EXPECT_RC(ha_gs_vote(ptok, HA_GS_NULL_VOTE, NULL, NULL, HA_GS_NULL_VOTE), HA_GS_BAD_PARAMETER);
    EXPECT_RC(ha_gs_vote(ptok, (ha_gs_vote_value_t)17, NULL, NULL, HA_GS_NULL_VOTE), HA_GS_BAD_PARAMETER);
    EXPECT_RC(ha_gs_vote(ptok, HA_GS_VOTE_APPROVE, NULL, NULL, HA_GS_VOTE_CONTINUE), HA_GS_BAD_PARAMETER);
    v.gs_length = -1;
    v.gs_state = (char *)"x";
    EXPECT_RC(ha_gs_vote(ptok, HA_GS_VOTE_APPROVE, &v, NULL, HA_GS_NULL_VOTE), HA_GS_BAD_PARAMETER);
    v.gs_length = 2;
    v.gs_state = NULL;
    EXPECT_RC(ha_gs_vote(ptok, HA_GS_VOTE_APPROVE, &v, NULL, HA_GS_NULL_VOTE), HA_GS_BAD_PARAMETER);
    m.gs_length = -1;
    m.gs_message = (char *)"x";
    EXPECT_RC(ha_gs_vote(ptok, HA_GS_VOTE_APPROVE, NULL, &m, HA_GS_NULL_VOTE), HA_GS_BAD_PARAMETER);
    /* The vote is still due. */
    EXPECT_RC(call_vote(), HA_GS_OK);
    return 0;
}

static int vote_async_not_expected(void)
{
    /* The phase ends at its time limit while what the daemon sends is held
     * back, so the library still thinks the vote due; the vote reaches the
     * daemon after the phase ended. */
    ha_gs_proposal_info_t info = state_info(HA_GS_N_PHASE, &sv_hello);
    struct timespec pause = {2, 500 * 1000 * 1000};
    make_attrs(&attrs_a, group_a, HA_GS_N_PHASE);
    if (start_proxy() != 0 || init() != 0 || join_ok(&attrs_a, 1, &ptok) != 0)
        return 1;
    info.gs_state_change_request.gs_time_limit = 1;
    EXPECT_RC(ha_gs_change_state_value(ptok, &info), HA_GS_OK);
    if (wait_nphase(ptok) != 0)
        return 1;
    kill(proxy_pid, SIGUSR2); /* hold */
    nanosleep(&pause, NULL);  /* past the phase's 1 s limit */
    EXPECT_RC(call_vote(), HA_GS_OK);
    kill(proxy_pid, SIGUSR2); /* release */
    /* The protocol voted on has ended, so the daemon may no longer name its
     * kind: gs_protocol_type is not checked here. */
    if (expect_delayed(ptok, HA_GS_VOTE_NOT_EXPECTED, (ha_gs_request_t)-1) != 0)
        return 1;
    CHECK(n_rejected == 1); /* the tardiness rejection came first */
    kill(proxy_pid, SIGKILL);
    waitpid(proxy_pid, NULL, 0);
    unlink(proxy_path);
    return 0;
}

/* ha_gs_subscribe */

static int subscription_for(const void *tok)
{
    return n_sub > 0 && last_sub_token == *(const ha_gs_token_t *)tok;
}

static int subscribe_ok_case(void)
{
    if (a_provider() != 0 || subscribe_ok(group_a, &stok) != 0)
        return 1;
    if (pump(subscription_for, &stok, "no subscription notification") != 0)
        return 1;
    CHECK(stok > ptok);
    return 0;
}

static int subscribe_bad_parameter(void)
{
    ha_gs_proposal_info_t info;
    ha_gs_token_t t;
    if (init() != 0)
        return 1;
    info = subscribe_info(HA_GS_SUBSCRIBE_STATE_VALUE, group_a);
    EXPECT_RC(ha_gs_subscribe(NULL, &info), HA_GS_BAD_PARAMETER);
    EXPECT_RC(ha_gs_subscribe(&t, NULL), HA_GS_BAD_PARAMETER);
    info.gs_subscribe_request.gs_subscription_group = NULL;
    EXPECT_RC(ha_gs_subscribe(&t, &info), HA_GS_BAD_PARAMETER);
    info.gs_subscribe_request.gs_subscription_group = (char *)"";
    EXPECT_RC(ha_gs_subscribe(&t, &info), HA_GS_BAD_PARAMETER);
    info.gs_subscribe_request.gs_subscription_group = group_a;
    info.gs_subscribe_request.gs_subscription_control = 0;
    EXPECT_RC(ha_gs_subscribe(&t, &info), HA_GS_BAD_PARAMETER);
    info.gs_subscribe_request.gs_subscription_control = 0x100;
    EXPECT_RC(ha_gs_subscribe(&t, &info), HA_GS_BAD_PARAMETER);
    info.gs_subscribe_request.gs_subscription_control = HA_GS_SUBSCRIBE_DELTAS_ONLY;
    EXPECT_RC(ha_gs_subscribe(&t, &info), HA_GS_BAD_PARAMETER);
    return 0;
}

static int subscribe_async_unknown_group(void)
{
    ha_gs_token_t t;
    if (init() != 0 || subscribe_ok(group_b, &t) != 0)
        return 1;
    if (expect_delayed(t, HA_GS_UNKNOWN_GROUP, HA_GS_SUBSCRIPTION) != 0)
        return 1;
    CHECK(strcmp(last_error.group, group_b) == 0);
    EXPECT_RC(ha_gs_unsubscribe(t), HA_GS_BAD_MEMBER_TOKEN); /* a refused subscription is no subscription */
    return 0;
}

/* Names every token a session may name, in subscriptions to the host
 * membership group, dispatching as it goes (the library holds a bounded
 * queue of notifications). */
static int name_every_token(void)
{
    int i;
    ha_gs_token_t t;
    for (i = 0; i < HA_GS_MAX_TOKENS_PER_CLIENT; i++) {
        if (subscribe_ok(HA_GS_HOST_MEMBERSHIP_GROUP, &t) != 0)
            return 1;
        if (i % 128 == 127)
            EXPECT_RC(ha_gs_dispatch(HA_GS_NON_BLOCKING), HA_GS_OK);
    }
    return 0;
}

static int subscribe_async_no_memory(void)
{
    ha_gs_token_t t;
    if (init() != 0 || name_every_token() != 0 || subscribe_ok(group_b, &t) != 0)
        return 1;
    return expect_delayed(t, HA_GS_NO_MEMORY, HA_GS_SUBSCRIPTION);
}

static int join_async_no_memory(void)
{
    ha_gs_proposal_info_t info;
    ha_gs_token_t t;
    if (init() != 0 || name_every_token() != 0)
        return 1;
    fill_join(&info, &attrs_a, 1);
    EXPECT_RC(ha_gs_join(&t, &info), HA_GS_OK);
    return expect_delayed(t, HA_GS_NO_MEMORY, HA_GS_JOIN);
}

/* ha_gs_unsubscribe */

static int unsubscribe_ok(void)
{
    if (init() != 0 || join_ok(&attrs_a, 1, &ptok) != 0 || subscribe_ok(group_a, &stok) != 0)
        return 1;
    EXPECT_RC(ha_gs_unsubscribe(stok), HA_GS_OK);
    return 0;
}

/* IBM lists HA_GS_BAD_MEMBER_TOKEN as the only token code of
 * ha_gs_unsubscribe: a token never issued, a provider token, and a
 * subscription already ended all get it. */
static int unsubscribe_bad_member_token(void)
{
    if (init() != 0 || join_ok(&attrs_a, 1, &ptok) != 0 || subscribe_ok(group_a, &stok) != 0)
        return 1;
    EXPECT_RC(ha_gs_unsubscribe(1 << 30), HA_GS_BAD_MEMBER_TOKEN);
    EXPECT_RC(ha_gs_unsubscribe(ptok), HA_GS_BAD_MEMBER_TOKEN); /* a provider token */
    EXPECT_RC(ha_gs_unsubscribe(stok), HA_GS_OK);
    EXPECT_RC(ha_gs_unsubscribe(stok), HA_GS_BAD_MEMBER_TOKEN); /* already unsubscribed */
    return 0;
}

/* ha_gs_goodbye */

static int goodbye_ok(void)
{
    if (a_provider() != 0)
        return 1;
    EXPECT_RC(ha_gs_goodbye(ptok), HA_GS_OK);
    EXPECT_RC(ha_gs_goodbye(ptok), HA_GS_NOT_A_MEMBER);
    return 0;
}

/* ha_gs_dispatch */

static volatile int nested_rc = -1;

static void dispatch_from_callback(const ha_gs_approved_notification_t *n)
{
    (void)n;
    nested_rc = (int)ha_gs_dispatch(HA_GS_NON_BLOCKING);
}

static int nested_dispatch_ran(const void *unused)
{
    (void)unused;
    return nested_rc >= 0;
}

static int dispatch_ok(void)
{
    if (init() != 0)
        return 1;
    EXPECT_RC(ha_gs_dispatch(HA_GS_NON_BLOCKING), HA_GS_OK); /* nothing pending */
    return join_ok(&attrs_a, 1, &ptok);
}

static int dispatch_bad_parameter(void)
{
    ha_gs_proposal_info_t info;
    ha_gs_token_t t;
    if (init() != 0)
        return 1;
    EXPECT_RC(ha_gs_dispatch((ha_gs_dispatch_flag_t)0), HA_GS_BAD_PARAMETER);
    EXPECT_RC(ha_gs_dispatch((ha_gs_dispatch_flag_t)3), HA_GS_BAD_PARAMETER);
    fill_join(&info, &attrs_a, 1);
    info.gs_join_request.gs_protocol_approved_callback = dispatch_from_callback;
    EXPECT_RC(ha_gs_join(&t, &info), HA_GS_OK);
    if (pump(nested_dispatch_ran, NULL, "no approval arrived") != 0)
        return 1;
    CHECK(nested_rc == HA_GS_BAD_PARAMETER);
    return 0;
}

/* ha_gs_get_node_number, ha_gs_get_adapter_info, ha_gs_get_ffdc_id */

static int node_ok(void)
{
    int node = -5;
    if (a_provider() != 0)
        return 1;
    EXPECT_RC(ha_gs_get_node_number(&node), HA_GS_OK);
    CHECK(last_approved_current.gs_count == 1);
    CHECK(last_approved_members[0].gs_node_number == node); /* the node of our provider */
    printf("node=%d\n", node);
    return 0;
}

static int adapter_ok(void)
{
    ha_gs_adapter_info a;
    int node = -1;
    if (init() != 0)
        return 1;
    ha_gs_get_node_number(&node);
    memset(&a, 0, sizeof a);
    a.ip_addr.ip4.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_RC(ha_gs_get_adapter_info(&a), HA_GS_OK);
    CHECK(a.node_number == node);
    CHECK(a.interface_name != NULL && strcmp(a.interface_name, "lo") == 0);
    return 0;
}

static int adapter_no_adapter_info(void)
{
    ha_gs_adapter_info a;
    if (init() != 0)
        return 1;
    memset(&a, 0, sizeof a);
    a.ip_addr.ip4.s_addr = inet_addr("192.0.2.77"); /* TEST-NET-1: nobody's */
    EXPECT_RC(ha_gs_get_adapter_info(&a), HA_GS_NO_ADAPTER_INFO);
    ha_gs_quit();
    /* Not enabled at ha_gs_init. */
    if (init_with(HA_GS_SOCKET_NO_SIGNAL) != 0)
        return 1;
    a.ip_addr.ip4.s_addr = htonl(INADDR_LOOPBACK);
    EXPECT_RC(ha_gs_get_adapter_info(&a), HA_GS_NO_ADAPTER_INFO);
    return 0;
}

static int ffdc_ok(void)
{
    fc_eid_t id;
    ha_gs_token_t t;
    if (init() != 0 || subscribe_ok(group_b, &t) != 0)
        return 1;
    if (expect_delayed(t, HA_GS_UNKNOWN_GROUP, HA_GS_SUBSCRIPTION) != 0)
        return 1;
    memset(id, 'x', sizeof id);
    EXPECT_RC(ha_gs_get_ffdc_id(id), HA_GS_OK);
    CHECK(memchr(id, 0, sizeof id) != NULL && id[0] != 0);
    printf("ffdc=%s\n", id); /* capi_test.go finds it in the daemon's log */
    /* A new session forgets it. */
    ha_gs_quit();
    if (init() != 0)
        return 1;
    EXPECT_RC(ha_gs_get_ffdc_id(id), HA_GS_NOT_OK);
    return 0;
}

/* ---- behaviour ---------------------------------------------------------- */

/* HA_GS_SOCKET and HA_DOMAIN_NAME are read with getenv() at ha_gs_init, so
 * a setenv() after the library loaded counts. */
static int behaviour_setenv(void)
{
    char real[256], dir[128], link[192];
    const char *s = getenv(HA_GS_SOCKET_ENV);
    if (s == NULL)
        return fail("HA_GS_SOCKET is not set");
    snprintf(real, sizeof real, "%s", s);
    setenv(HA_GS_SOCKET_ENV, "/nonexistent/hags.sock", 1);
    EXPECT_RC(call_init(), HA_GS_CONNECT_FAILED);
    setenv(HA_GS_SOCKET_ENV, real, 1);
    if (init() != 0)
        return 1;
    ha_gs_quit();
    /* The domain's default socket, /run/hags/<domain>/hagsd.sock. */
    snprintf(dir, sizeof dir, "/run/hags/capi-test-%d", (int)getpid());
    snprintf(link, sizeof link, "%s/hagsd.sock", dir);
    mkdir("/run/hags", 0755);
    if (mkdir(dir, 0755) != 0 || symlink(real, link) != 0)
        return fail("cannot make %s: %s", link, strerror(errno));
    unsetenv(HA_GS_SOCKET_ENV);
    setenv(HA_GS_DOMAIN_ENV, dir + strlen("/run/hags/"), 1);
    {
        int rc = init();
        unlink(link);
        rmdir(dir);
        if (rc != 0)
            return 1;
    }
    return join_ok(&attrs_a, 1, &ptok);
}

static volatile sig_atomic_t pipes;

static void on_sigpipe(int sig)
{
    (void)sig;
    pipes++;
}

/* The daemon side stops reading (the relay shuts its read side down), so
 * the library's next write fails with EPIPE and raises SIGPIPE: the host's
 * handler sees it, the call returns HA_GS_NOT_OK and the process lives. */
static int sigpipe_common(int install)
{
    struct sigaction sa, now;
    int i;
    ha_gs_rc_t rc = HA_GS_OK;
    if (install) {
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_sigpipe;
        sa.sa_flags = SA_ONSTACK | SA_RESTART;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGPIPE, &sa, NULL);
    }
    if (start_proxy() != 0 || a_provider() != 0)
        return 1;
    kill(proxy_pid, SIGUSR1); /* the relay shuts down its reading side */
    for (i = 0; i < 200 && rc == HA_GS_OK; i++) {
        struct timespec ts = {0, 10 * 1000 * 1000};
        rc = call_subscribe();
        nanosleep(&ts, NULL);
    }
    if (rc != HA_GS_NOT_OK)
        return fail("requests to a peer that stopped reading returned %d, want HA_GS_NOT_OK", (int)rc);
    EXPECT_RC(call_state(), HA_GS_NOT_OK);
    if (install) {
        sigaction(SIGPIPE, NULL, &now);
        CHECK(now.sa_handler == on_sigpipe); /* the library left the host's handler alone */
        printf("sigpipes=%d\n", (int)pipes);
    }
    kill(proxy_pid, SIGKILL);
    waitpid(proxy_pid, NULL, 0);
    unlink(proxy_path);
    return 0;
}

static int behaviour_sigpipe_handler(void) { return sigpipe_common(1); }
static int behaviour_sigpipe_default(void) { return sigpipe_common(0); }

/* A token of a session before re-initialisation is stale:
 * HA_GS_BAD_CLIENT_TOKEN; one never issued: HA_GS_BAD_MEMBER_TOKEN. */
static int behaviour_stale_token(void)
{
    char real[256];
    ha_gs_token_t old_p, old_s;
    snprintf(real, sizeof real, "%s", getenv(HA_GS_SOCKET_ENV));
    if (not_ok(call_state, 0) != 0)
        return 1;
    old_p = ptok;
    old_s = stok;
    setenv(HA_GS_SOCKET_ENV, real, 1);
    /* After HA_GS_NOT_OK, ha_gs_init may run again without ha_gs_quit. */
    if (init() != 0)
        return 1;
    EXPECT_RC(ha_gs_goodbye(old_p), HA_GS_BAD_CLIENT_TOKEN);
    EXPECT_RC(ha_gs_unsubscribe(old_s), HA_GS_BAD_CLIENT_TOKEN);
    EXPECT_RC(ha_gs_vote(old_p, HA_GS_VOTE_APPROVE, NULL, NULL, HA_GS_NULL_VOTE), HA_GS_BAD_CLIENT_TOKEN);
    if (join_ok(&attrs_a, 1, &ptok) != 0)
        return 1;
    CHECK(ptok > old_s); /* tokens keep counting across sessions */
    EXPECT_RC(ha_gs_goodbye(ptok + 100), HA_GS_BAD_MEMBER_TOKEN);
    EXPECT_RC(ha_gs_goodbye(0), HA_GS_BAD_MEMBER_TOKEN);
    EXPECT_RC(ha_gs_goodbye(-3), HA_GS_BAD_MEMBER_TOKEN);
    return 0;
}

/* The descriptor is readable exactly when notifications are pending. */
static int behaviour_descriptor(void)
{
    struct pollfd p;
    ha_gs_proposal_info_t info;
    ha_gs_token_t t;
    if (init() != 0)
        return 1;
    p.fd = gs_fd;
    p.events = POLLIN;
    p.revents = 0;
    CHECK(poll(&p, 1, 0) == 0); /* nothing pending */
    fill_join(&info, &attrs_a, 1);
    EXPECT_RC(ha_gs_join(&t, &info), HA_GS_OK);
    CHECK(poll(&p, 1, WAIT_MS) == 1 && (p.revents & POLLIN));
    CHECK(n_approved == 0); /* nothing delivered outside dispatch */
    EXPECT_RC(ha_gs_dispatch(HA_GS_NON_BLOCKING), HA_GS_OK);
    CHECK(n_approved == 1); /* one dispatch delivers what has arrived */
    p.revents = 0;
    CHECK(poll(&p, 1, 0) == 0); /* drained */
    return 0;
}

/* ha_gs_quit in a callback: the dispatch around it returns HA_GS_NO_INIT. */
static void quit_in_callback(const ha_gs_approved_notification_t *n)
{
    (void)n;
    ha_gs_quit();
}

static int behaviour_quit_in_callback(void)
{
    ha_gs_proposal_info_t info;
    ha_gs_token_t t;
    struct pollfd p;
    if (init() != 0)
        return 1;
    fill_join(&info, &attrs_a, 1);
    info.gs_join_request.gs_protocol_approved_callback = quit_in_callback;
    EXPECT_RC(ha_gs_join(&t, &info), HA_GS_OK);
    p.fd = gs_fd;
    p.events = POLLIN;
    CHECK(poll(&p, 1, WAIT_MS) == 1);
    EXPECT_RC(ha_gs_dispatch(HA_GS_NON_BLOCKING), HA_GS_NO_INIT);
    EXPECT_RC(ha_gs_goodbye(t), HA_GS_NO_INIT);
    return init(); /* and a new session opens */
}

/* A thread in HA_GS_BLOCKING dispatch gets the callbacks on itself, may
 * vote from them, and returns HA_GS_NO_INIT promptly after ha_gs_quit from
 * another thread. */
static pthread_t dispatcher;
static volatile int wrong_thread, votes_from_callback, blocking_rc = -1;

static void vote_now(const ha_gs_n_phase_notification_t *n)
{
    if (!pthread_equal(pthread_self(), dispatcher))
        wrong_thread = 1;
    if (ha_gs_vote(n->gs_provider_token, HA_GS_VOTE_APPROVE, NULL, NULL, HA_GS_NULL_VOTE) == HA_GS_OK)
        votes_from_callback++;
}

static void count_approved(const ha_gs_approved_notification_t *n)
{
    if (!pthread_equal(pthread_self(), dispatcher))
        wrong_thread = 1;
    on_approved(n);
}

static void *blocking(void *arg)
{
    (void)arg;
    blocking_rc = (int)ha_gs_dispatch(HA_GS_BLOCKING);
    return NULL;
}

static int behaviour_blocking_dispatch(void)
{
    ha_gs_proposal_info_t info;
    long deadline;
    struct timespec ts = {0, 5 * 1000 * 1000};
    make_attrs(&attrs_a, group_a, HA_GS_N_PHASE);
    if (init() != 0)
        return 1;
    if (pthread_create(&dispatcher, NULL, blocking, NULL) != 0)
        return fail("pthread_create");
    fill_join(&info, &attrs_a, 1);
    info.gs_join_request.gs_n_phase_protocol_callback = vote_now;
    info.gs_join_request.gs_protocol_approved_callback = count_approved;
    EXPECT_RC(ha_gs_join(&ptok, &info), HA_GS_OK);
    info = state_info(HA_GS_N_PHASE, &sv_hello);
    deadline = now_ms() + WAIT_MS;
    while (n_approved < 1 && now_ms() < deadline)
        nanosleep(&ts, NULL);
    EXPECT_RC(ha_gs_change_state_value(ptok, &info), HA_GS_OK);
    while (n_approved < 2 && now_ms() < deadline)
        nanosleep(&ts, NULL);
    CHECK(n_approved == 2);
    CHECK(votes_from_callback == 1);
    CHECK(!wrong_thread);
    CHECK(blocking_rc == -1); /* still dispatching */
    ha_gs_quit();
    deadline = now_ms() + 5000;
    while (blocking_rc == -1 && now_ms() < deadline)
        nanosleep(&ts, NULL);
    CHECK(blocking_rc == HA_GS_NO_INIT);
    pthread_join(dispatcher, NULL);
    return 0;
}

/* A process that forks after loading the library: the child gets
 * HA_GS_FORKED_CHILD even before any ha_gs_init, because the Go runtime
 * does not survive fork and entering it would hang. */
static int behaviour_fork_before_init(void)
{
    pid_t pid = fork();
    int st;
    if (pid == 0) {
        alarm(10);
        _exit((int)call_init());
    }
    waitpid(pid, &st, 0);
    CHECK(WIFEXITED(st));
    CHECK(WEXITSTATUS(st) == HA_GS_FORKED_CHILD);
    return init(); /* the parent is unaffected */
}

/* A scenario that builds every kind of notification block, for valgrind:
 * approved, n-phase, rejected, announcement, subscription and delayed error
 * notifications, and every request block. */
static int behaviour_every_notification(void)
{
    ha_gs_token_t second, sub, bad;
    ha_gs_proposal_info_t info;
    ha_gs_state_value_t v = {4, (char *)"zzzz"};
    ha_gs_provider_t who;
    int node = 0;
    make_attrs(&attrs_a, group_a, HA_GS_N_PHASE);
    attrs_a.gs_time_limit = 1;
    if (a_provider() != 0 || subscribe_ok(group_a, &sub) != 0)
        return 1;
    ha_gs_get_node_number(&node);
    fill_join(&info, &attrs_a, 2);
    EXPECT_RC(ha_gs_join(&second, &info), HA_GS_OK);
    if (wait_nphase(ptok) != 0)
        return 1;
    EXPECT_RC(ha_gs_vote(ptok, HA_GS_VOTE_APPROVE, &v, &pm_hi, HA_GS_NULL_VOTE), HA_GS_OK);
    if (wait_approved(second, HA_GS_JOIN) != 0)
        return 1;
    /* Rejected, by a reject vote. */
    info = state_info(HA_GS_N_PHASE, &sv_hello);
    EXPECT_RC(ha_gs_change_state_value(ptok, &info), HA_GS_OK);
    if (wait_nphase(second) != 0)
        return 1;
    settle();
    ha_gs_vote(ptok, HA_GS_VOTE_APPROVE, NULL, NULL, HA_GS_NULL_VOTE);
    ha_gs_vote(second, HA_GS_VOTE_REJECT, NULL, NULL, HA_GS_NULL_VOTE);
    {
        long deadline = now_ms() + WAIT_MS;
        while (n_rejected < 2 && now_ms() < deadline)
            settle();
        CHECK(n_rejected == 2);
    }
    /* Tardy: nobody votes within the 1 s limit; an announcement names them. */
    info = message_info(HA_GS_N_PHASE, &pm_hi);
    info.gs_message_request.gs_time_limit = 1;
    EXPECT_RC(ha_gs_send_message(ptok, &info), HA_GS_OK);
    {
        long deadline = now_ms() + WAIT_MS;
        while ((n_announce < 1 || n_rejected < 4) && now_ms() < deadline)
            settle();
        CHECK(n_announce >= 1);
        CHECK(n_rejected == 4);
    }
    settle();
    /* An expel, and delayed errors with each request block. */
    who.gs_instance_number = 2;
    who.gs_node_number = node;
    info = expel_info(&who, 1);
    info.gs_expel_request.gs_deactivate_flag = (char *)"flag";
    EXPECT_RC(ha_gs_expel(ptok, &info), HA_GS_OK);
    if (wait_approved(ptok, HA_GS_EXPEL) != 0)
        return 1;
    if (subscribe_ok(group_b, &bad) != 0 || expect_delayed(bad, HA_GS_UNKNOWN_GROUP, HA_GS_SUBSCRIPTION) != 0)
        return 1;
    EXPECT_RC(call_expel(), HA_GS_OK);
    if (expect_delayed(ptok, HA_GS_UNKNOWN_PROVIDER, HA_GS_EXPEL) != 0)
        return 1;
    info = attributes_info(&attrs_b);
    EXPECT_RC(ha_gs_change_attributes(ptok, &info), HA_GS_OK);
    if (expect_delayed(ptok, HA_GS_BAD_GROUP_ATTRIBUTES, HA_GS_GROUP_ATTRIBUTE_CHANGE) != 0)
        return 1;
    {
        ha_gs_group_attributes_t other = attrs_a;
        ha_gs_token_t t;
        other.gs_num_phases = HA_GS_1_PHASE;
        fill_join(&info, &other, 9);
        EXPECT_RC(ha_gs_join(&t, &info), HA_GS_OK);
        if (expect_delayed(t, HA_GS_BAD_GROUP_ATTRIBUTES, HA_GS_JOIN) != 0)
            return 1;
    }
    {
        ha_gs_adapter_info a;
        fc_eid_t id;
        memset(&a, 0, sizeof a);
        a.ip_addr.ip4.s_addr = htonl(INADDR_LOOPBACK);
        EXPECT_RC(ha_gs_get_adapter_info(&a), HA_GS_OK);
        EXPECT_RC(ha_gs_get_ffdc_id(id), HA_GS_OK);
    }
    info = leave_info(HA_GS_N_PHASE, 3);
    EXPECT_RC(ha_gs_leave(ptok, &info), HA_GS_OK);
    if (wait_nphase(ptok) != 0)
        return 1;
    EXPECT_RC(call_vote(), HA_GS_OK);
    if (wait_approved(ptok, HA_GS_LEAVE) != 0)
        return 1;
    settle();
    ha_gs_quit();
    return 0;
}

/* Eight threads make bad calls at once on one session, a hundred rounds
 * each: every call gets its exact error every time, and the session still
 * works afterwards. */
static ha_gs_token_t threads_ptok;
static volatile int threads_wrong;

static void wrong_rc(const char *what, ha_gs_rc_t got, ha_gs_rc_t want)
{
    if (got != want) {
        __sync_fetch_and_add(&threads_wrong, 1);
        printf("threads: %s returned %d, want %d\n", what, (int)got, (int)want);
    }
}

static void *bad_calls(void *arg)
{
    int i;
    char longname[HA_GS_MAX_GROUP_NAME_LENGTH + 2];
    ha_gs_group_attributes_t a = attrs_a;
    ha_gs_proposal_info_t info;
    ha_gs_state_value_t big_sv;
    ha_gs_provider_message_t big_pm;
    ha_gs_token_t t;
    int node;
    (void)arg;
    memset(longname, 'n', sizeof longname - 1);
    longname[sizeof longname - 1] = '\0';
    a.gs_group_name = longname;
    big_sv.gs_length = HA_GS_MAX_STATE_VALUE_LENGTH + 1;
    big_sv.gs_state = big;
    big_pm.gs_length = HA_GS_MAX_PROVIDER_MESSAGE_LENGTH + 1;
    big_pm.gs_message = big;
    for (i = 0; i < 100; i++) {
        fill_join(&info, &a, 3);
        wrong_rc("join with a long name", ha_gs_join(&t, &info), HA_GS_NAME_TOO_LONG);
        wrong_rc("join without a token pointer", ha_gs_join(NULL, &info), HA_GS_BAD_PARAMETER);
        wrong_rc("goodbye of a token never issued", ha_gs_goodbye(threads_ptok + 1000), HA_GS_BAD_MEMBER_TOKEN);
        wrong_rc("state change without proposal", ha_gs_change_state_value(threads_ptok, NULL), HA_GS_BAD_PARAMETER);
        info = state_info(HA_GS_1_PHASE, &big_sv);
        wrong_rc("oversized state value", ha_gs_change_state_value(threads_ptok, &info), HA_GS_STATE_VALUE_TOO_LONG);
        info = state_info((ha_gs_num_phases_t)7, &sv_hello);
        wrong_rc("bad phase count", ha_gs_change_state_value(threads_ptok, &info), HA_GS_BAD_PARAMETER);
        info = message_info(HA_GS_1_PHASE, &big_pm);
        wrong_rc("oversized message", ha_gs_send_message(threads_ptok, &info), HA_GS_MESSAGE_TOO_LONG);
        wrong_rc("vote with nothing to vote on", ha_gs_vote(threads_ptok, HA_GS_VOTE_APPROVE, NULL, NULL, HA_GS_NULL_VOTE),
                 HA_GS_VOTE_NOT_EXPECTED);
        wrong_rc("unsubscribe a provider token", ha_gs_unsubscribe(threads_ptok), HA_GS_BAD_MEMBER_TOKEN);
        wrong_rc("node number into NULL", ha_gs_get_node_number(NULL), HA_GS_BAD_PARAMETER);
        wrong_rc("dispatch with a bad flag", ha_gs_dispatch((ha_gs_dispatch_flag_t)99), HA_GS_BAD_PARAMETER);
        wrong_rc("node number", ha_gs_get_node_number(&node), HA_GS_OK);
    }
    return NULL;
}

static int behaviour_threads_bad_input(void)
{
    pthread_t th[8];
    int i;
    if (init() != 0 || join_ok(&attrs_a, 1, &threads_ptok) != 0)
        return 1;
    for (i = 0; i < 8; i++)
        if (pthread_create(&th[i], NULL, bad_calls, NULL) != 0)
            return fail("pthread_create");
    for (i = 0; i < 8; i++)
        pthread_join(th[i], NULL);
    CHECK(threads_wrong == 0);
    ptok = threads_ptok;
    EXPECT_RC(call_state(), HA_GS_OK);
    if (wait_approved(ptok, HA_GS_STATE_VALUE_CHANGE) != 0)
        return 1;
    ha_gs_quit();
    return 0;
}

/* The daemon checks a ping-responsiveness client through its callback,
 * which runs inside ha_gs_dispatch with the block given to ha_gs_init. */
static volatile int pings, bad_ping;

static ha_gs_callback_rc_t on_ping(const ha_gs_responsiveness_notification_t *n)
{
    if (n->gs_notification_type != HA_GS_RESPONSIVENESS_NOTIFICATION ||
        n->gs_responsiveness_information.gs_responsiveness_type != HA_GS_PING_RESPONSIVENESS ||
        n->gs_responsiveness_information.gs_responsiveness_interval != 1)
        bad_ping = 1;
    pings++;
    return HA_GS_CALLBACK_OK;
}

static int two_pings(const void *unused)
{
    (void)unused;
    return pings >= 2;
}

static int behaviour_responsiveness(void)
{
    ha_gs_responsiveness_t r;
    memset(&r, 0, sizeof r);
    r.gs_responsiveness_type = HA_GS_PING_RESPONSIVENESS;
    r.gs_responsiveness_interval = 1;
    r.gs_responsiveness_response_time_limit = 2;
    EXPECT_RC(ha_gs_init(&gs_fd, HA_GS_SOCKET_NO_SIGNAL, &r, NULL, on_ping, on_error, NULL), HA_GS_OK);
    if (pump(two_pings, NULL, "fewer than two pings arrived") != 0)
        return 1;
    CHECK(pings >= 2);
    CHECK(!bad_ping);
    return 0;
}

/* ---- one call, one code ----------------------------------------------------
 *
 * The cases that are a single call in a common situation: the families
 * below set the situation up, the table names the call and the code it
 * must return. */

/* The call alone, before anything (capi_test.go may have prepared the
 * daemon, as for ha_gs_init/HA_GS_NO_MEMORY). */
static int alone(call_fn f, int want)
{
    EXPECT_RC(f(), want);
    return 0;
}

/* The call in a session. */
static int in_session(call_fn f, int want)
{
    if (init() != 0)
        return 1;
    EXPECT_RC(f(), want);
    return 0;
}

/* The call by a provider of group a. */
static int as_provider(call_fn f, int want)
{
    if (a_provider() != 0)
        return 1;
    EXPECT_RC(f(), want);
    return 0;
}

/* The call by a provider whose vote is due. */
static int vote_pending(call_fn f, int want)
{
    if (vote_due() != 0)
        return 1;
    EXPECT_RC(f(), want);
    return 0;
}

/* A name one byte longer than the group names allow. */
static char *long_name(void)
{
    static char name[HA_GS_MAX_GROUP_NAME_LENGTH + 2];
    memset(name, 'n', sizeof name - 1);
    name[sizeof name - 1] = 0;
    return name;
}

/* A group that names itself as its source. */
static ha_gs_rc_t call_join_own_source(void)
{
    ha_gs_proposal_info_t info;
    ha_gs_group_attributes_t a = attrs_a;
    ha_gs_token_t t;
    a.gs_source_group_name = group_a;
    a.gs_source_reflection_num_phases = HA_GS_1_PHASE;
    fill_join(&info, &a, 1);
    return ha_gs_join(&t, &info);
}

static ha_gs_rc_t call_expel_twice(void)
{
    ha_gs_provider_t list[2] = {{5, 1}, {5, 1}};
    ha_gs_proposal_info_t info = expel_info(list, 2);
    return ha_gs_expel(ptok, &info);
}

/* A deactivate phase beyond a one-phase expel's only phase. */
static ha_gs_rc_t call_expel_phase_2(void)
{
    ha_gs_proposal_info_t info = expel_info(&expel_target, 1);
    info.gs_expel_request.gs_deactivate_phase = 2;
    return ha_gs_expel(ptok, &info);
}

static ha_gs_rc_t call_message_too_long(void)
{
    ha_gs_provider_message_t m = {HA_GS_MAX_PROVIDER_MESSAGE_LENGTH + 1, big};
    ha_gs_proposal_info_t info = message_info(HA_GS_1_PHASE, &m);
    return ha_gs_send_message(ptok, &info);
}

static ha_gs_rc_t call_attributes_long_name(void)
{
    ha_gs_group_attributes_t a;
    ha_gs_proposal_info_t info;
    make_attrs(&a, long_name(), HA_GS_1_PHASE);
    info = attributes_info(&a);
    return ha_gs_change_attributes(ptok, &info);
}

static ha_gs_rc_t call_subscribe_long_name(void)
{
    ha_gs_proposal_info_t info = subscribe_info(HA_GS_SUBSCRIBE_STATE_VALUE, long_name());
    ha_gs_token_t t;
    return ha_gs_subscribe(&t, &info);
}

static ha_gs_rc_t call_vote_state_too_long(void)
{
    ha_gs_state_value_t v = {HA_GS_MAX_STATE_VALUE_LENGTH + 1, big};
    return ha_gs_vote(ptok, HA_GS_VOTE_APPROVE, &v, NULL, HA_GS_NULL_VOTE);
}

static ha_gs_rc_t call_vote_message_too_long(void)
{
    ha_gs_provider_message_t m = {HA_GS_MAX_PROVIDER_MESSAGE_LENGTH + 1, big};
    return ha_gs_vote(ptok, HA_GS_VOTE_APPROVE, NULL, &m, HA_GS_NULL_VOTE);
}

static ha_gs_rc_t call_node_null(void) { return ha_gs_get_node_number(NULL); }
static ha_gs_rc_t call_adapter_null(void) { return ha_gs_get_adapter_info(NULL); }
static ha_gs_rc_t call_ffdc_null(void) { return ha_gs_get_ffdc_id(NULL); }

/* ---- the table ------------------------------------------------------------
 *
 * A case is either a function of its own (fn) or a family of the
 * situations every function meets, applied to one function's call
 * (family, call, arg). The macros list the families a kind of function
 * meets: every function (no session, a forked child), every function that
 * talks to the daemon (a lost connection), every request on a provider
 * token (a token never issued, a membership ended, a join refused for
 * permission), every proposal (a collision, seen at once or by the daemon,
 * and a token whose join is still pending). */

struct tcase {
    const char *name;
    int (*fn)(void);
    int (*family)(call_fn call, int arg);
    call_fn call;
    int arg;
};

#define CASE(name, fn) {name, fn, NULL, NULL, 0}
#define FAMILY(name, family, call, arg) {name, NULL, family, call, arg}

#define ANY_CASES(fn, call)                                     \
    FAMILY(fn "/HA_GS_NO_INIT", no_init, call, 0),              \
    FAMILY(fn "/HA_GS_FORKED_CHILD", forked, call, HA_GS_FORKED_CHILD)

#define CONNECTED_CASES(fn, call) \
    ANY_CASES(fn, call), FAMILY(fn "/HA_GS_NOT_OK", not_ok, call, 0)

#define TOKEN_CASES(fn, call)                                        \
    CONNECTED_CASES(fn, call),                                       \
    FAMILY(fn "/HA_GS_BAD_MEMBER_TOKEN", bad_token, call, 0),        \
    FAMILY(fn "/HA_GS_NOT_A_MEMBER", not_a_member, call, 0),         \
    FAMILY(fn "/HA_GS_PERMISSION_DENIED", permission_denied, call, 0)

#define PROPOSAL_CASES(fn, call, proto)                                     \
    TOKEN_CASES(fn, call),                                                  \
    FAMILY(fn "/HA_GS_COLLIDE", collide_sync, call, 0),                     \
    FAMILY(fn "/async/HA_GS_COLLIDE", async_collide, call, proto),          \
    FAMILY(fn "/async/HA_GS_NOT_A_MEMBER", pending_not_a_member, call, proto)

static const struct tcase cases[] = {
    CASE("ha_gs_init/HA_GS_OK", init_ok),
    CASE("ha_gs_init/HA_GS_EXISTS", init_exists),
    CASE("ha_gs_init/HA_GS_BAD_PARAMETER", init_bad_parameter),
    CASE("ha_gs_init/HA_GS_SOCK_CREATE_FAILED", init_sock_create_failed),
    CASE("ha_gs_init/HA_GS_CONNECT_FAILED", init_connect_failed),
    CASE("ha_gs_init/HA_GS_SOCK_INIT_FAILED", init_sock_init_failed),
    CASE("ha_gs_init/HA_GS_PERMISSION_DENIED", init_permission_denied),
    FAMILY("ha_gs_init/HA_GS_NO_MEMORY", alone, call_init, HA_GS_NO_MEMORY),
    FAMILY("ha_gs_init/HA_GS_FORKED_CHILD", forked, call_init, HA_GS_FORKED_CHILD),

    CONNECTED_CASES("ha_gs_join", call_join),
    CASE("ha_gs_join/HA_GS_OK", join_ok_case),
    CASE("ha_gs_join/HA_GS_BAD_PARAMETER", join_bad_parameter),
    CASE("ha_gs_join/HA_GS_NAME_TOO_LONG", join_name_too_long),
    CASE("ha_gs_join/HA_GS_BAD_GROUP_ATTRIBUTES", join_bad_group_attributes),
    FAMILY("ha_gs_join/HA_GS_INVALID_SOURCE_GROUP", in_session, call_join_own_source, HA_GS_INVALID_SOURCE_GROUP),
    CASE("ha_gs_join/HA_GS_PERMISSION_DENIED", join_permission_denied),
    CASE("ha_gs_join/async/HA_GS_BAD_GROUP_ATTRIBUTES", join_async_bad_group_attributes),
    CASE("ha_gs_join/async/HA_GS_DUPLICATE_INSTANCE_NUMBER", join_async_duplicate_instance),
    CASE("ha_gs_join/async/HA_GS_INVALID_SOURCE_GROUP", join_async_invalid_source_group),
    CASE("ha_gs_join/async/HA_GS_NO_SOURCE_GROUP_PROVIDER", join_async_no_source_group_provider),
    CASE("ha_gs_join/async/HA_GS_INVALID_GROUP", join_async_invalid_group),
    CASE("ha_gs_join/async/HA_GS_PERMISSION_DENIED", join_async_permission_denied),
    CASE("ha_gs_join/async/HA_GS_NO_MEMORY", join_async_no_memory),

    PROPOSAL_CASES("ha_gs_leave", call_leave, HA_GS_LEAVE),
    CASE("ha_gs_leave/HA_GS_OK", leave_ok),
    CASE("ha_gs_leave/HA_GS_BAD_PARAMETER", leave_bad_parameter),

    TOKEN_CASES("ha_gs_goodbye", call_goodbye),
    CASE("ha_gs_goodbye/HA_GS_OK", goodbye_ok),

    PROPOSAL_CASES("ha_gs_expel", call_expel, HA_GS_EXPEL),
    CASE("ha_gs_expel/HA_GS_OK", expel_ok),
    CASE("ha_gs_expel/HA_GS_BAD_PARAMETER", expel_bad_parameter),
    FAMILY("ha_gs_expel/HA_GS_PROVIDER_APPEARS_TWICE", as_provider, call_expel_twice, HA_GS_PROVIDER_APPEARS_TWICE),
    FAMILY("ha_gs_expel/HA_GS_INVALID_DEACTIVATE_PHASE", as_provider, call_expel_phase_2, HA_GS_INVALID_DEACTIVATE_PHASE),
    CASE("ha_gs_expel/async/HA_GS_UNKNOWN_PROVIDER", expel_async_unknown_provider),

    PROPOSAL_CASES("ha_gs_change_state_value", call_state, HA_GS_STATE_VALUE_CHANGE),
    CASE("ha_gs_change_state_value/HA_GS_OK", state_ok),
    CASE("ha_gs_change_state_value/HA_GS_BAD_PARAMETER", state_bad_parameter),
    CASE("ha_gs_change_state_value/HA_GS_STATE_VALUE_TOO_LONG", state_too_long),

    PROPOSAL_CASES("ha_gs_send_message", call_message, HA_GS_PROVIDER_MESSAGE),
    CASE("ha_gs_send_message/HA_GS_OK", message_ok),
    CASE("ha_gs_send_message/HA_GS_BAD_PARAMETER", message_bad_parameter),
    FAMILY("ha_gs_send_message/HA_GS_MESSAGE_TOO_LONG", as_provider, call_message_too_long, HA_GS_MESSAGE_TOO_LONG),

    PROPOSAL_CASES("ha_gs_change_attributes", call_attributes, HA_GS_GROUP_ATTRIBUTE_CHANGE),
    CASE("ha_gs_change_attributes/HA_GS_OK", attributes_ok),
    CASE("ha_gs_change_attributes/HA_GS_BAD_PARAMETER", attributes_bad_parameter),
    CASE("ha_gs_change_attributes/HA_GS_BAD_GROUP_ATTRIBUTES", attributes_bad_group_attributes),
    FAMILY("ha_gs_change_attributes/HA_GS_NAME_TOO_LONG", as_provider, call_attributes_long_name, HA_GS_NAME_TOO_LONG),
    CASE("ha_gs_change_attributes/async/HA_GS_BAD_GROUP_ATTRIBUTES", attributes_async_bad_group_attributes),
    CASE("ha_gs_change_attributes/async/HA_GS_INVALID_SOURCE_GROUP", attributes_async_invalid_source_group),
    CASE("ha_gs_change_attributes/async/HA_GS_INVALID_GROUP", attributes_async_invalid_group),

    TOKEN_CASES("ha_gs_vote", call_vote),
    CASE("ha_gs_vote/HA_GS_OK", vote_ok),
    CASE("ha_gs_vote/HA_GS_BAD_PARAMETER", vote_bad_parameter),
    FAMILY("ha_gs_vote/HA_GS_STATE_VALUE_TOO_LONG", vote_pending, call_vote_state_too_long, HA_GS_STATE_VALUE_TOO_LONG),
    FAMILY("ha_gs_vote/HA_GS_MESSAGE_TOO_LONG", vote_pending, call_vote_message_too_long, HA_GS_MESSAGE_TOO_LONG),
    FAMILY("ha_gs_vote/HA_GS_VOTE_NOT_EXPECTED", as_provider, call_vote, HA_GS_VOTE_NOT_EXPECTED),
    CASE("ha_gs_vote/async/HA_GS_VOTE_NOT_EXPECTED", vote_async_not_expected),

    CONNECTED_CASES("ha_gs_subscribe", call_subscribe),
    CASE("ha_gs_subscribe/HA_GS_OK", subscribe_ok_case),
    CASE("ha_gs_subscribe/HA_GS_BAD_PARAMETER", subscribe_bad_parameter),
    FAMILY("ha_gs_subscribe/HA_GS_NAME_TOO_LONG", in_session, call_subscribe_long_name, HA_GS_NAME_TOO_LONG),
    CASE("ha_gs_subscribe/async/HA_GS_UNKNOWN_GROUP", subscribe_async_unknown_group),
    CASE("ha_gs_subscribe/async/HA_GS_NO_MEMORY", subscribe_async_no_memory),

    CONNECTED_CASES("ha_gs_unsubscribe", call_unsubscribe),
    CASE("ha_gs_unsubscribe/HA_GS_OK", unsubscribe_ok),
    CASE("ha_gs_unsubscribe/HA_GS_BAD_MEMBER_TOKEN", unsubscribe_bad_member_token),

    CONNECTED_CASES("ha_gs_dispatch", call_dispatch),
    CASE("ha_gs_dispatch/HA_GS_OK", dispatch_ok),
    CASE("ha_gs_dispatch/HA_GS_BAD_PARAMETER", dispatch_bad_parameter),

    FAMILY("ha_gs_quit/HA_GS_OK", as_provider, call_quit, HA_GS_OK),
    FAMILY("ha_gs_quit/HA_GS_FORKED_CHILD", forked, call_quit, HA_GS_OK),

    ANY_CASES("ha_gs_get_node_number", call_node),
    CASE("ha_gs_get_node_number/HA_GS_OK", node_ok),
    FAMILY("ha_gs_get_node_number/HA_GS_BAD_PARAMETER", in_session, call_node_null, HA_GS_BAD_PARAMETER),

    ANY_CASES("ha_gs_get_adapter_info", call_adapter),
    CASE("ha_gs_get_adapter_info/HA_GS_OK", adapter_ok),
    FAMILY("ha_gs_get_adapter_info/HA_GS_BAD_PARAMETER", in_session, call_adapter_null, HA_GS_BAD_PARAMETER),
    CASE("ha_gs_get_adapter_info/HA_GS_NO_ADAPTER_INFO", adapter_no_adapter_info),

    ANY_CASES("ha_gs_get_ffdc_id", call_ffdc),
    CASE("ha_gs_get_ffdc_id/HA_GS_OK", ffdc_ok),
    FAMILY("ha_gs_get_ffdc_id/HA_GS_NOT_OK", in_session, call_ffdc, HA_GS_NOT_OK),
    FAMILY("ha_gs_get_ffdc_id/HA_GS_BAD_PARAMETER", in_session, call_ffdc_null, HA_GS_BAD_PARAMETER),

    CASE("behaviour/setenv", behaviour_setenv),
    CASE("behaviour/sigpipe-handler", behaviour_sigpipe_handler),
    CASE("behaviour/sigpipe-default", behaviour_sigpipe_default),
    CASE("behaviour/stale-token", behaviour_stale_token),
    CASE("behaviour/descriptor", behaviour_descriptor),
    CASE("behaviour/quit-in-callback", behaviour_quit_in_callback),
    CASE("behaviour/blocking-dispatch", behaviour_blocking_dispatch),
    CASE("behaviour/fork-before-init", behaviour_fork_before_init),
    CASE("behaviour/every-notification", behaviour_every_notification),
    CASE("behaviour/responsiveness", behaviour_responsiveness),
    CASE("behaviour/threads-bad-input", behaviour_threads_bad_input),
};

int main(int argc, char **argv)
{
    size_t i;
    if (argc == 2 && strcmp(argv[1], "--list") == 0) {
        for (i = 0; i < sizeof cases / sizeof cases[0]; i++)
            printf("%s\n", cases[i].name);
        return 0;
    }
    if (argc != 2) {
        fprintf(stderr, "usage: %s --list | CASE\n", argv[0]);
        return 2;
    }
    /* Group names unique to this process: cases share one daemon. */
    snprintf(group_a, sizeof group_a, "a-%d", (int)getpid());
    snprintf(group_b, sizeof group_b, "b-%d", (int)getpid());
    make_attrs(&attrs_a, group_a, HA_GS_1_PHASE);
    make_attrs(&attrs_b, group_b, HA_GS_1_PHASE);
    memset(big, 'v', sizeof big);
    for (i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (strcmp(cases[i].name, argv[1]) == 0) {
            current_case = cases[i].name;
            if ((cases[i].fn != NULL ? cases[i].fn() : cases[i].family(cases[i].call, cases[i].arg)) != 0)
                return 1;
            printf("PASS\n");
            return 0;
        }
    }
    fprintf(stderr, "no case %s\n", argv[1]);
    return 2;
}
