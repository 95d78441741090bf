/*
 * cgsclient - the C twin of examples/go/gsclient, over libha_gs.
 *
 * It reads the same commands on standard input and prints every
 * notification in the same one-line format, so that the tests can run a Go
 * and a C client side by side in one group and require that they report
 * the same notifications, field by field. It is driven by a select() loop
 * over standard input and the descriptor of ha_gs_init, and dispatches with
 * HA_GS_NON_BLOCKING whenever the descriptor is readable.
 *
 * Extra commands: ffdc, node, adapter A.B.C.D, fork SECONDS (a child that
 * sleeps, touching nothing, and outlives this process if it is killed).
 */
#define _POSIX_C_SOURCE 200809L

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include "ha_gs.h"

/* ---- names, as internal/wire/names.go spells them ---------------------- */

static const char *rc_names[] = {
    "HA_GS_OK", "HA_GS_NOT_OK", "HA_GS_EXISTS", "HA_GS_NO_INIT", "HA_GS_NAME_TOO_LONG",
    "HA_GS_NO_MEMORY", "HA_GS_NOT_A_MEMBER", "HA_GS_BAD_CLIENT_TOKEN", "HA_GS_BAD_MEMBER_TOKEN",
    "HA_GS_BAD_PARAMETER", "HA_GS_UNKNOWN_GROUP", "HA_GS_INVALID_GROUP",
    "HA_GS_NO_SOURCE_GROUP_PROVIDER", "HA_GS_BAD_GROUP_ATTRIBUTES", "HA_GS_WRONG_OLD_STATE",
    "HA_GS_DUPLICATE_INSTANCE_NUMBER", "HA_GS_COLLIDE", "HA_GS_SOCK_CREATE_FAILED",
    "HA_GS_SOCK_INIT_FAILED", "HA_GS_CONNECT_FAILED", "HA_GS_VOTE_NOT_EXPECTED",
    "HA_GS_NOT_SUPPORTED", "HA_GS_INVALID_SOURCE_GROUP", "HA_GS_UNKNOWN_PROVIDER",
    "HA_GS_PROVIDER_APPEARS_TWICE", "HA_GS_INVALID_DEACTIVATE_PHASE",
    "HA_GS_BACKLEVEL_PROVIDERS", "HA_GS_STATE_VALUE_TOO_LONG", "HA_GS_MESSAGE_TOO_LONG",
    "HA_GS_PERMISSION_DENIED", "HA_GS_NO_ADAPTER_INFO", "HA_GS_FORKED_CHILD",
};

static const char *rc_name(int rc)
{
    if (rc >= 0 && rc < (int)(sizeof rc_names / sizeof rc_names[0]))
        return rc_names[rc];
    return "HA_GS_UNKNOWN_CODE";
}

static const char *name_or_number(const char *const *names, int count, int v, char *buf)
{
    if (v >= 0 && v < count && names[v] != NULL)
        return names[v];
    sprintf(buf, "%d", v);
    return buf;
}

static const char *note_names[] = {NULL, "NPHASE", "APPROVED", "REJECTED", "ANNOUNCEMENT",
                                   "SUBSCRIPTION", "DELAYED_ERROR", "RESPONSIVENESS", "QUERY", "MERGE"};
static const char *proto_names[] = {NULL, "JOIN", "FAILURE_LEAVE", "LEAVE", "EXPEL",
                                    "STATE_VALUE_CHANGE", "PROVIDER_MESSAGE", "CAST_OUT",
                                    "SOURCE_STATE_REFLECTION", "MERGE", "SUBSCRIPTION",
                                    "GROUP_ATTRIBUTE_CHANGE"};
static const char *leave_names[] = {NULL, "LEFT", "PROCESS_DIED", "NODE_DIED", "SAID_GOODBYE",
                                    "EXPELLED", "CAST_OUT"};
static const char *deact_names[] = {"NOT_RUN", "OK", "FAILED", "TIMED_OUT"};
static const char *summary_names[] = {
    "EXPLICIT_APPROVE", "EXPLICIT_REJECT", "DEFAULT_APPROVE", "DEFAULT_REJECT",
    "TIME_LIMIT_EXCEEDED", "PROVIDER_FAILURE", "RESPONSIVENESS_NO_RESPONSE",
    "RESPONSIVENESS_RESPONSE", "DEACTIVATE_SUCCESSFUL", "DEACTIVATE_UNSUCCESSFUL",
    "DEACTIVATE_TIME_LIMIT_EXCEEDED", "GROUP_DISSOLVED", "GROUP_SERVICES_HAS_DIED_HORRIBLY"};
static const char *what_names[] = {"MEMBERSHIP", "STATE_VALUE", "PROVIDER_MESSAGE", "ATTRIBUTES"};
static const char *subtype_names[] = {"STATE_VALUE", "DELTA_JOIN", "DELTA_LEAVE", "DISSOLVED",
                                      "SPECIAL_DATA"};

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---- an output line ---------------------------------------------------- */

static char line[1 << 16];
static size_t line_len;

static void put(const char *fmt, ...)
{
    va_list ap;
    int n;
    if (line_len >= sizeof line)
        return;
    va_start(ap, fmt);
    n = vsnprintf(line + line_len, sizeof line - line_len, fmt, ap);
    va_end(ap);
    if (n > 0)
        line_len += (size_t)n < sizeof line - line_len ? (size_t)n : sizeof line - line_len - 1;
}

static void end_line(void)
{
    fwrite(line, 1, line_len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    line_len = 0;
}

static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

static void put_flags(unsigned int v, const char *const *names, int count)
{
    int i, first = 1;
    if (v == 0) {
        put("0");
        return;
    }
    for (i = 0; i < count; i++) {
        if (v & (1u << i)) {
            put("%s%s", first ? "" : "|", names[i]);
            first = 0;
            v &= ~(1u << i);
        }
    }
    if (v != 0)
        put("%s0x%x", first ? "" : "|", v);
}

static void put_enum(const char *const *names, int count, int v)
{
    char buf[16];
    put("%s", name_or_number(names, count, v, buf));
}

/* strconv.Quote for the ASCII the tests use. */
static void put_quoted(const char *p, int n)
{
    int i;
    put("\"");
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)p[i];
        switch (c) {
        case '"': put("\\\""); break;
        case '\\': put("\\\\"); break;
        case '\a': put("\\a"); break;
        case '\b': put("\\b"); break;
        case '\f': put("\\f"); break;
        case '\n': put("\\n"); break;
        case '\r': put("\\r"); break;
        case '\t': put("\\t"); break;
        case '\v': put("\\v"); break;
        default:
            if (c >= 0x20 && c < 0x7f)
                put("%c", c);
            else
                put("\\x%02x", c);
        }
    }
    put("\"");
}

static void put_providers(const ha_gs_membership_t *m)
{
    unsigned int i;
    if (m == NULL || m->gs_count == 0) {
        put("-");
        return;
    }
    for (i = 0; i < m->gs_count; i++)
        put("%s%d@%d", i ? "," : "", m->gs_providers[i].gs_instance_number,
            m->gs_providers[i].gs_node_number);
}

/* ---- tokens and their groups --------------------------------------------- */

#define MAX_TOKENS 4096
static char *groups[MAX_TOKENS];

static const char *group_of(ha_gs_token_t t)
{
    if (t > 0 && t < MAX_TOKENS && groups[t] != NULL)
        return groups[t];
    return "";
}

static void remember(ha_gs_token_t t, const char *group)
{
    if (t > 0 && t < MAX_TOKENS) {
        free(groups[t]);
        groups[t] = strdup(group);
    }
}

/* ---- notifications ------------------------------------------------------- */

static void put_head(int type, ha_gs_token_t tok)
{
    put_enum(note_names, COUNT(note_names), type);
    put(" tok=%d group=%s", tok, group_of(tok));
}

static void put_proposal(const ha_gs_proposal_t *p)
{
    unsigned int i;
    if (p == NULL)
        return;
    put(" phase=%u what=", p->gs_phase_number);
    put_flags(p->gs_whats_changed, what_names, COUNT(what_names));
    put(" members=");
    put_providers(p->gs_current_providers);
    put(" changing=");
    put_providers(p->gs_changing_providers);
    put(" state=");
    if (p->gs_current_state_value != NULL)
        put_quoted(p->gs_current_state_value->gs_state, p->gs_current_state_value->gs_length);
    else
        put("\"\"");
    if (p->gs_proposed_state_value != NULL) {
        put(" pstate=");
        put_quoted(p->gs_proposed_state_value->gs_state, p->gs_proposed_state_value->gs_length);
    }
    if (p->gs_provider_message != NULL) {
        put(" msg=");
        put_quoted(p->gs_provider_message->gs_message, p->gs_provider_message->gs_length);
    }
    if (p->gs_leave_info != NULL && p->gs_changing_providers != NULL &&
        p->gs_changing_providers->gs_count > 0) {
        put(" leave=");
        for (i = 0; i < p->gs_changing_providers->gs_count; i++) {
            put("%s", i ? "," : "");
            put_enum(leave_names, COUNT(leave_names), (int)p->gs_leave_info[i].gs_leave_reason);
            if (p->gs_leave_info[i].gs_leave_code != 0)
                put(":%u", p->gs_leave_info[i].gs_leave_code);
        }
    }
    if (p->gs_expel_info != NULL) {
        put(" dphase=%u deactivate=", p->gs_expel_info->gs_deactivate_phase);
        if (p->gs_changing_providers != NULL && p->gs_expel_info->gs_deactivate_results != NULL)
            for (i = 0; i < p->gs_changing_providers->gs_count; i++) {
                put("%s", i ? "," : "");
                put_enum(deact_names, COUNT(deact_names),
                         (int)p->gs_expel_info->gs_deactivate_results[i]);
            }
    }
}

static void put_protocol(int proto, unsigned int summary)
{
    put(" proto=");
    put_enum(proto_names, COUNT(proto_names), proto);
    put(" sum=");
    put_flags(summary, summary_names, COUNT(summary_names));
}

static char autovote[32];
static int wedged;

static void on_n_phase(const ha_gs_n_phase_notification_t *n)
{
    ha_gs_vote_value_t vote = HA_GS_VOTE_APPROVE;
    ha_gs_rc_t rc;
    put_head(n->gs_notification_type, n->gs_provider_token);
    put_protocol(n->gs_protocol_type, n->gs_summary_code);
    put(" limit=%u", n->gs_time_limit);
    put_proposal(n->gs_proposal);
    end_line();
    if (autovote[0] == 0 || strcmp(autovote, "none") == 0)
        return;
    if (strcmp(autovote, "reject") == 0)
        vote = HA_GS_VOTE_REJECT;
    else if (strncmp(autovote, "continue:", 9) == 0) {
        unsigned int k = (unsigned int)atoi(autovote + 9);
        if (n->gs_proposal != NULL && n->gs_proposal->gs_phase_number < k)
            vote = HA_GS_VOTE_CONTINUE;
    }
    rc = ha_gs_vote(n->gs_provider_token, vote, NULL, NULL, HA_GS_NULL_VOTE);
    if (rc != HA_GS_OK)
        say("error vote %s", rc_name(rc));
}

static void on_approved(const ha_gs_approved_notification_t *n)
{
    put_head(n->gs_notification_type, n->gs_provider_token);
    put_protocol(n->gs_protocol_type, n->gs_summary_code);
    put_proposal(n->gs_proposal);
    end_line();
}

static void on_rejected(const ha_gs_rejected_notification_t *n)
{
    put_head(n->gs_notification_type, n->gs_provider_token);
    put_protocol(n->gs_protocol_type, n->gs_summary_code);
    put_proposal(n->gs_proposal);
    end_line();
}

static void on_announcement(const ha_gs_announcement_notification_t *n)
{
    put_head(n->gs_notification_type, n->gs_provider_token);
    put(" sum=");
    put_flags(n->gs_summary_code, summary_names, COUNT(summary_names));
    put(" providers=");
    put_providers(n->gs_announcement);
    end_line();
}

static void on_merge(const ha_gs_merge_notification_t *n)
{
    put_head(n->gs_notification_type, n->gs_provider_token);
    end_line();
}

static void on_subscription(const ha_gs_subscription_notification_t *n)
{
    put_head(n->gs_notification_type, n->gs_subscriber_token);
    put(" type=");
    put_flags(n->gs_subscription_type, subtype_names, COUNT(subtype_names));
    if (n->gs_state_value != NULL) {
        put(" state=");
        put_quoted(n->gs_state_value->gs_state, n->gs_state_value->gs_length);
    }
    if (n->gs_full_membership != NULL) {
        put(" members=");
        put_providers(n->gs_full_membership);
    }
    put(" changing=");
    put_providers(n->gs_changing_membership);
    end_line();
}

static void on_delayed_error(const ha_gs_delayed_error_notification_t *n)
{
    put_head(n->gs_notification_type, n->gs_request_token);
    put(" proto=");
    put_enum(proto_names, COUNT(proto_names), n->gs_protocol_type);
    put(" code=%s", rc_name(n->gs_delayed_return_code));
    end_line();
}

static ha_gs_callback_rc_t on_responsiveness(const ha_gs_responsiveness_notification_t *n)
{
    (void)n;
    return HA_GS_CALLBACK_OK;
}

/* ---- commands ------------------------------------------------------------ */

#define MAX_WORDS 32

struct args {
    int    n;                 /* positional arguments after the command */
    char  *pos[MAX_WORDS];
    char  *keys[MAX_WORDS];
    char  *vals[MAX_WORDS];
    int    nkv;
};

static const char *known_keys[] = {"phases", "limit", "batch", "default", "code", "dphase",
                                   "flag", "state", "msg"};

static void split(char **words, int nwords, struct args *a)
{
    int i, k;
    memset(a, 0, sizeof *a);
    for (i = 0; i < nwords; i++) {
        char *eq = strchr(words[i], '=');
        int known = 0;
        if (eq != NULL)
            for (k = 0; k < COUNT(known_keys); k++)
                if (strlen(known_keys[k]) == (size_t)(eq - words[i]) &&
                    strncmp(words[i], known_keys[k], (size_t)(eq - words[i])) == 0)
                    known = 1;
        if (known) {
            *eq = 0;
            a->keys[a->nkv] = words[i];
            a->vals[a->nkv++] = eq + 1;
        } else {
            a->pos[a->n++] = words[i];
        }
    }
}

static const char *kv(const struct args *a, const char *key)
{
    int i;
    for (i = a->nkv - 1; i >= 0; i--)
        if (strcmp(a->keys[i], key) == 0)
            return a->vals[i];
    return NULL;
}

static ha_gs_num_phases_t phases_of(const struct args *a)
{
    const char *p = kv(a, "phases");
    return p != NULL && strcmp(p, "n") == 0 ? HA_GS_N_PHASE : HA_GS_1_PHASE;
}

static ha_gs_time_limit_t limit_of(const struct args *a)
{
    const char *l = kv(a, "limit");
    return l != NULL ? (ha_gs_time_limit_t)atoi(l) : 0;
}

static ha_gs_vote_value_t vote_of(const char *s, ha_gs_vote_value_t def)
{
    if (s == NULL)
        return def;
    if (strcmp(s, "approve") == 0)
        return HA_GS_VOTE_APPROVE;
    if (strcmp(s, "continue") == 0)
        return HA_GS_VOTE_CONTINUE;
    if (strcmp(s, "reject") == 0)
        return HA_GS_VOTE_REJECT;
    return def;
}

static ha_gs_batch_ctrl_t batch_of(const char *s)
{
    if (s == NULL)
        return HA_GS_NO_BATCHING;
    if (strcmp(s, "joins") == 0)
        return HA_GS_BATCH_JOINS;
    if (strcmp(s, "failures") == 0)
        return HA_GS_BATCH_FAILURE_LEAVES;
    if (strcmp(s, "both") == 0)
        return HA_GS_BATCH_BOTH;
    return HA_GS_NO_BATCHING;
}

static int parse_token(const struct args *a, ha_gs_token_t *t)
{
    char *end;
    long v;
    if (a->n < 1)
        return 0;
    v = strtol(a->pos[0], &end, 10);
    if (*end != 0)
        return 0;
    *t = (ha_gs_token_t)v;
    return 1;
}

static ha_gs_rc_t command(char *cmd, struct args *a)
{
    ha_gs_proposal_info_t info;
    ha_gs_token_t tok = 0;
    memset(&info, 0, sizeof info);

    if (strcmp(cmd, "join") == 0) {
        ha_gs_group_attributes_t attrs;
        ha_gs_rc_t rc;
        if (a->n < 2)
            return HA_GS_BAD_PARAMETER;
        memset(&attrs, 0, sizeof attrs);
        attrs.gs_version = HA_GS_GROUP_ATTRIBUTES_VERSION;
        attrs.gs_sizeof_group_attributes = (short)sizeof attrs;
        attrs.gs_batch_control = batch_of(kv(a, "batch"));
        attrs.gs_num_phases = phases_of(a);
        attrs.gs_group_default_vote = vote_of(kv(a, "default"), HA_GS_VOTE_APPROVE);
        attrs.gs_time_limit = limit_of(a);
        attrs.gs_group_name = a->pos[0];
        info.gs_join_request.gs_group_attributes = &attrs;
        info.gs_join_request.gs_provider_instance = (short)atoi(a->pos[1]);
        info.gs_join_request.gs_provider_local_name = (char *)"gsclient";
        info.gs_join_request.gs_n_phase_protocol_callback = on_n_phase;
        info.gs_join_request.gs_protocol_approved_callback = on_approved;
        info.gs_join_request.gs_protocol_rejected_callback = on_rejected;
        info.gs_join_request.gs_announcement_callback = on_announcement;
        info.gs_join_request.gs_merge_callback = on_merge;
        rc = ha_gs_join(&tok, &info);
        if (rc == HA_GS_OK) {
            remember(tok, a->pos[0]);
            say("token %d %s", tok, a->pos[0]);
        }
        return rc;
    }
    if (strcmp(cmd, "subscribe") == 0) {
        ha_gs_subscription_ctrl_t ctl = 0;
        ha_gs_rc_t rc;
        int i;
        if (a->n < 1)
            return HA_GS_BAD_PARAMETER;
        for (i = 1; i < a->n; i++) {
            if (strcmp(a->pos[i], "state") == 0)
                ctl |= HA_GS_SUBSCRIBE_STATE_VALUE;
            else if (strcmp(a->pos[i], "joins") == 0)
                ctl |= HA_GS_SUBSCRIBE_DELTA_JOINS;
            else if (strcmp(a->pos[i], "leaves") == 0)
                ctl |= HA_GS_SUBSCRIBE_DELTA_LEAVES;
            else if (strcmp(a->pos[i], "deltas") == 0)
                ctl |= HA_GS_SUBSCRIBE_DELTAS_ONLY;
        }
        if (ctl == 0)
            ctl = HA_GS_SUBSCRIBE_STATE_VALUE | HA_GS_SUBSCRIBE_ALL_MEMBERSHIP;
        info.gs_subscribe_request.gs_subscription_control = ctl;
        info.gs_subscribe_request.gs_subscription_group = a->pos[0];
        info.gs_subscribe_request.gs_subscription_callback = on_subscription;
        rc = ha_gs_subscribe(&tok, &info);
        if (rc == HA_GS_OK) {
            remember(tok, a->pos[0]);
            say("token %d %s", tok, a->pos[0]);
        }
        return rc;
    }
    if (strcmp(cmd, "autovote") == 0) {
        if (a->n < 1)
            return HA_GS_BAD_PARAMETER;
        snprintf(autovote, sizeof autovote, "%s", a->pos[0]);
        say("autovote %s", a->pos[0]);
        return HA_GS_OK;
    }
    if (strcmp(cmd, "ffdc") == 0) {
        fc_eid_t id;
        ha_gs_rc_t rc = ha_gs_get_ffdc_id(id);
        if (rc == HA_GS_OK)
            say("ffdc %s", id);
        return rc;
    }
    if (strcmp(cmd, "node") == 0) {
        int node = -1;
        ha_gs_rc_t rc = ha_gs_get_node_number(&node);
        if (rc == HA_GS_OK)
            say("node %d", node);
        return rc;
    }
    if (strcmp(cmd, "fork") == 0) {
        unsigned int secs = a->n > 0 ? (unsigned int)atoi(a->pos[0]) : 60;
        pid_t pid;
        fflush(stdout);
        pid = fork();
        if (pid < 0)
            return HA_GS_NOT_OK;
        if (pid == 0) {
            /* The child keeps none of the parent's pipes, and never calls
             * the library: it only outlives the parent. */
            int null = open("/dev/null", O_RDWR);
            if (null >= 0) {
                dup2(null, 0);
                dup2(null, 1);
                dup2(null, 2);
            }
            sleep(secs);
            _exit(0);
        }
        say("forked pid=%d", (int)pid);
        return HA_GS_OK;
    }
    if (strcmp(cmd, "adapter") == 0) {
        ha_gs_adapter_info ad;
        ha_gs_rc_t rc;
        memset(&ad, 0, sizeof ad);
        if (a->n < 1 || inet_pton(AF_INET, a->pos[0], &ad.ip_addr.ip4) != 1)
            return HA_GS_BAD_PARAMETER;
        rc = ha_gs_get_adapter_info(&ad);
        if (rc == HA_GS_OK)
            say("adapter node=%d if=%s", ad.node_number, ad.interface_name);
        return rc;
    }

    if (!parse_token(a, &tok))
        return HA_GS_BAD_PARAMETER;
    if (strcmp(cmd, "leave") == 0) {
        const char *code = kv(a, "code");
        info.gs_leave_request.gs_num_phases = phases_of(a);
        info.gs_leave_request.gs_time_limit = limit_of(a);
        info.gs_leave_request.gs_leave_code = code != NULL ? (unsigned int)atoi(code) : 0;
        return ha_gs_leave(tok, &info);
    }
    if (strcmp(cmd, "goodbye") == 0)
        return ha_gs_goodbye(tok);
    if (strcmp(cmd, "unsubscribe") == 0)
        return ha_gs_unsubscribe(tok);
    if (strcmp(cmd, "expel") == 0) {
        ha_gs_provider_t list[64];
        unsigned int n = 0;
        char *save = NULL, *p;
        const char *dphase = kv(a, "dphase");
        if (a->n < 2)
            return HA_GS_BAD_PARAMETER;
        for (p = strtok_r(a->pos[1], ",", &save); p != NULL && n < 64; p = strtok_r(NULL, ",", &save)) {
            char *at = strchr(p, '@');
            if (at == NULL)
                return HA_GS_BAD_PARAMETER;
            list[n].gs_instance_number = atoi(p);
            list[n].gs_node_number = atoi(at + 1);
            n++;
        }
        info.gs_expel_request.gs_num_phases = phases_of(a);
        info.gs_expel_request.gs_time_limit = limit_of(a);
        info.gs_expel_request.gs_expel_list.gs_count = n;
        info.gs_expel_request.gs_expel_list.gs_providers = list;
        info.gs_expel_request.gs_deactivate_phase = dphase != NULL ? (unsigned int)atoi(dphase) : 0;
        info.gs_expel_request.gs_deactivate_flag = (char *)kv(a, "flag");
        return ha_gs_expel(tok, &info);
    }
    if (strcmp(cmd, "state") == 0) {
        ha_gs_state_value_t v;
        if (a->n < 2)
            return HA_GS_BAD_PARAMETER;
        v.gs_length = (int)strlen(a->pos[1]);
        v.gs_state = a->pos[1];
        info.gs_state_change_request.gs_num_phases = phases_of(a);
        info.gs_state_change_request.gs_time_limit = limit_of(a);
        info.gs_state_change_request.gs_new_state = &v;
        return ha_gs_change_state_value(tok, &info);
    }
    if (strcmp(cmd, "msg") == 0) {
        ha_gs_provider_message_t m;
        if (a->n < 2)
            return HA_GS_BAD_PARAMETER;
        m.gs_length = (int)strlen(a->pos[1]);
        m.gs_message = a->pos[1];
        info.gs_message_request.gs_num_phases = phases_of(a);
        info.gs_message_request.gs_time_limit = limit_of(a);
        info.gs_message_request.gs_message = &m;
        return ha_gs_send_message(tok, &info);
    }
    if (strcmp(cmd, "vote") == 0) {
        ha_gs_state_value_t sv, *svp = NULL;
        ha_gs_provider_message_t pm, *pmp = NULL;
        const char *s = kv(a, "state"), *m = kv(a, "msg");
        if (a->n < 2)
            return HA_GS_BAD_PARAMETER;
        if (s != NULL) {
            sv.gs_length = (int)strlen(s);
            sv.gs_state = (char *)s;
            svp = &sv;
        }
        if (m != NULL) {
            pm.gs_length = (int)strlen(m);
            pm.gs_message = (char *)m;
            pmp = &pm;
        }
        return ha_gs_vote(tok, vote_of(a->pos[1], HA_GS_NULL_VOTE), svp, pmp,
                          vote_of(kv(a, "default"), HA_GS_NULL_VOTE));
    }
    return HA_GS_BAD_PARAMETER;
}

/* ---- main loop ------------------------------------------------------------ */

int main(int argc, char **argv)
{
    const char *script = NULL;
    unsigned int ping = 0;
    ha_gs_responsiveness_t resp;
    ha_gs_descriptor_t fd = -1;
    ha_gs_rc_t rc;
    int node = -1, i, dispatching = 1;
    static char inbuf[1 << 16];
    size_t inlen = 0;

    for (i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] == '-' && a[1] == '-')
            a++;
        if (strcmp(a, "-deactivate-script") == 0 && i + 1 < argc)
            script = argv[++i];
        else if (strncmp(a, "-deactivate-script=", 19) == 0)
            script = a + 19;
        else if (strcmp(a, "-ping") == 0 && i + 1 < argc)
            ping = (unsigned int)atoi(argv[++i]);
        else if (strncmp(a, "-ping=", 6) == 0)
            ping = (unsigned int)atoi(a + 6);
    }
    memset(&resp, 0, sizeof resp);
    if (ping > 0) {
        resp.gs_responsiveness_type = HA_GS_PING_RESPONSIVENESS;
        resp.gs_responsiveness_interval = ping;
        resp.gs_responsiveness_response_time_limit = ping;
    }
    rc = ha_gs_init(&fd, HA_GS_SOCKET_NO_SIGNAL | HA_GS_ENABLE_ADAPTER_INFO, ping > 0 ? &resp : NULL,
                    script, on_responsiveness, on_delayed_error, NULL);
    if (rc != HA_GS_OK) {
        say("error init %s", rc_name(rc));
        return 1;
    }
    if (ha_gs_get_node_number(&node) != HA_GS_OK)
        node = -1;
    say("ready node=%d", node);

    for (;;) {
        fd_set rd;
        int maxfd = 0;
        FD_ZERO(&rd);
        FD_SET(0, &rd);
        if (dispatching) {
            FD_SET(fd, &rd);
            maxfd = fd;
        }
        if (select(maxfd + 1, &rd, NULL, NULL, NULL) < 0) {
            if (errno == EINTR)
                continue;
            perror("select");
            return 1;
        }
        if (dispatching && FD_ISSET(fd, &rd)) {
            rc = ha_gs_dispatch(HA_GS_NON_BLOCKING);
            if (rc != HA_GS_OK) {
                say("lost %s", rc_name(rc));
                dispatching = 0;
            }
        }
        if (FD_ISSET(0, &rd)) {
            ssize_t n = read(0, inbuf + inlen, sizeof inbuf - 1 - inlen);
            char *start, *nl;
            if (n <= 0) {
                ha_gs_quit();
                return 0;
            }
            inlen += (size_t)n;
            inbuf[inlen] = 0;
            start = inbuf;
            while ((nl = strchr(start, '\n')) != NULL) {
                char *words[MAX_WORDS + 1], *save = NULL, *w;
                int nw = 0;
                struct args a;
                *nl = 0;
                for (w = strtok_r(start, " \t\r", &save); w != NULL && nw < MAX_WORDS + 1;
                     w = strtok_r(NULL, " \t\r", &save))
                    words[nw++] = w;
                start = nl + 1;
                if (nw == 0)
                    continue;
                if (strcmp(words[0], "quit") == 0) {
                    ha_gs_quit();
                    say("bye");
                    return 0;
                }
                if (strcmp(words[0], "wedge") == 0) {
                    dispatching = 0;
                    wedged = 1;
                    say("wedged");
                    continue;
                }
                split(words + 1, nw - 1, &a);
                rc = command(words[0], &a);
                if (rc != HA_GS_OK)
                    say("error %s %s", words[0], rc_name(rc));
            }
            inlen = strlen(start);
            memmove(inbuf, start, inlen);
        }
    }
}
