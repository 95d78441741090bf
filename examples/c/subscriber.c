/*
 * subscriber - watch a group from a select() loop.
 *
 *   subscriber GROUP
 *
 * Subscribes to GROUP's state value and membership and prints each
 * subscription notification. The program's own loop select()s on standard
 * input and on the descriptor of ha_gs_init, which is readable exactly when
 * notifications wait; it then calls ha_gs_dispatch(HA_GS_NON_BLOCKING),
 * which delivers all of them and returns. It exits 0 when the group
 * dissolves, 1 on an error, and quits on end of input.
 *
 * Build (C or C++):
 *   cc  -std=c99   -Wall -Wextra -Werror -I include examples/c/subscriber.c -L build/lib -lha_gs
 *   c++ -std=c++11 -Wall -Wextra -Werror -I include -x c++ examples/c/subscriber.c -L build/lib -lha_gs
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/select.h>
#include <unistd.h>

#include "ha_gs.h"

static int dissolved, failed;

static void print_members(const char *what, const ha_gs_membership_t *m)
{
    unsigned int i;
    if (m == NULL)
        return;
    printf(" %s=", what);
    if (m->gs_count == 0)
        printf("-");
    for (i = 0; i < m->gs_count; i++)
        printf("%s%d@%d", i ? "," : "", m->gs_providers[i].gs_instance_number,
               m->gs_providers[i].gs_node_number);
}

/* The notification and everything it points to belong to the library until
 * this returns: print it, do not keep it. */
static void on_notification(const ha_gs_subscription_notification_t *n)
{
    printf("subscription:");
    if ((n->gs_subscription_type & HA_GS_SUBSCRIPTION_STATE_VALUE) && n->gs_state_value != NULL)
        printf(" state=\"%.*s\"", n->gs_state_value->gs_length, n->gs_state_value->gs_state);
    if (n->gs_subscription_type & HA_GS_SUBSCRIPTION_DELTA_JOIN)
        print_members("joined", n->gs_changing_membership);
    if (n->gs_subscription_type & HA_GS_SUBSCRIPTION_DELTA_LEAVE)
        print_members("left", n->gs_changing_membership);
    print_members("members", n->gs_full_membership);
    if (n->gs_subscription_type & HA_GS_SUBSCRIPTION_DISSOLVED) {
        printf(" dissolved");
        dissolved = 1;
    }
    printf("\n");
}

static void on_delayed_error(const ha_gs_delayed_error_notification_t *n)
{
    printf("delayed error %d (HA_GS_UNKNOWN_GROUP is %d)\n", (int)n->gs_delayed_return_code,
           (int)HA_GS_UNKNOWN_GROUP);
    failed = 1;
}

int main(int argc, char **argv)
{
    ha_gs_descriptor_t fd;
    ha_gs_proposal_info_t info;
    ha_gs_token_t token;
    ha_gs_rc_t rc;

    if (argc != 2) {
        fprintf(stderr, "usage: %s GROUP\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    rc = ha_gs_init(&fd, HA_GS_SOCKET_NO_SIGNAL, NULL, NULL, NULL, on_delayed_error, NULL);
    if (rc != HA_GS_OK) {
        fprintf(stderr, "ha_gs_init: %d\n", (int)rc);
        return 1;
    }
    memset(&info, 0, sizeof info);
    info.gs_subscribe_request.gs_subscription_control = HA_GS_SUBSCRIBE_STATE_VALUE | HA_GS_SUBSCRIBE_ALL_MEMBERSHIP;
    info.gs_subscribe_request.gs_subscription_group = argv[1];
    info.gs_subscribe_request.gs_subscription_callback = on_notification;
    rc = ha_gs_subscribe(&token, &info);
    if (rc != HA_GS_OK) {
        fprintf(stderr, "ha_gs_subscribe: %d\n", (int)rc);
        return 1;
    }
    printf("subscribed to %s\n", argv[1]);

    while (!dissolved && !failed) {
        fd_set rd;
        FD_ZERO(&rd);
        FD_SET(0, &rd);
        FD_SET(fd, &rd);
        if (select(fd + 1, &rd, NULL, NULL, NULL) < 0) {
            if (errno == EINTR)
                continue;
            perror("select");
            return 1;
        }
        if (FD_ISSET(fd, &rd)) {
            rc = ha_gs_dispatch(HA_GS_NON_BLOCKING);
            if (rc != HA_GS_OK) {
                fprintf(stderr, "ha_gs_dispatch: %d\n", (int)rc);
                return 1;
            }
        }
        if (FD_ISSET(0, &rd)) {
            char buf[256];
            if (read(0, buf, sizeof buf) <= 0)
                break; /* end of input: stop watching */
        }
    }
    ha_gs_quit();
    return failed ? 1 : 0;
}
