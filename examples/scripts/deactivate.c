/*
 * deactivate.c - sample hags deactivate program, in C.
 *
 * hagsd runs this when the provider that registered it (ha_gs_init) is
 * expelled from a group, or fails. It runs on the provider's node, as the
 * provider's user, in "/", with a clean environment. See
 * docs/deactivate-scripts.md.
 *
 *   deactivate -- <group> <instance> <node> <pid> <expel|failure> [<flag>]
 *
 * It does what deactivate.sh does: logs what it was given (stdout and
 * stderr go to the daemon log) and stops a hypothetical service,
 * "exampled", whose pid is in /run/exampled.pid; the flag "force" skips
 * the polite SIGTERM. Exit 0 tells the group that the provider is
 * deactivated; anything else that it is not.
 *
 * EXAMPLED_PIDFILE overrides the pid file. hagsd never sets it; it is here
 * so that the sample can be tried by hand and tested.
 *
 * Build: cc -Wall -Wextra -Werror -std=c99 -o deactivate deactivate.c
 */
#define _POSIX_C_SOURCE 200809L

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_PIDFILE "/run/exampled.pid"

/* alive reports whether pid still exists (a zombie counts as alive). */
static int alive(pid_t pid)
{
    return kill(pid, 0) == 0 || errno == EPERM;
}

/* wait_gone polls for up to about tenths/10 seconds until pid is gone. */
static int wait_gone(pid_t pid, int tenths)
{
    struct timespec tick = { 0, 100 * 1000 * 1000 };

    while (alive(pid) && tenths-- > 0)
        nanosleep(&tick, NULL);
    return !alive(pid);
}

/* read_pid reads a positive pid from path: 1 found, 0 absent, -1 bad. */
static int read_pid(const char *path, pid_t *out)
{
    FILE *f = fopen(path, "r");
    long v = 0;
    int n;

    if (f == NULL)
        return errno == ENOENT ? 0 : -1;
    n = fscanf(f, "%ld", &v);
    fclose(f);
    if (n == EOF)
        return 0;             /* empty file: nothing running */
    if (n != 1 || v <= 0)
        return -1;
    *out = (pid_t)v;
    return 1;
}

int main(int argc, char **argv)
{
    const char *group, *instance, *node, *pid, *reason, *flag;
    const char *pidfile = getenv("EXAMPLED_PIDFILE");
    char **arg = argv + 1;
    int n = argc - 1;
    pid_t svc = 0;
    int force;

    /* hagsd passes "--" first, so that a group name or flag starting
     * with '-' is never read as an option; by hand it may be left out. */
    if (n > 0 && strcmp(arg[0], "--") == 0) {
        arg++;
        n--;
    }
    if (n < 5 || n > 6) {
        fprintf(stderr, "usage: %s [--] group instance node pid expel|failure [flag]\n", argv[0]);
        return 2;
    }
    group = arg[0];
    instance = arg[1];
    node = arg[2];
    pid = arg[3];
    reason = arg[4];
    flag = n == 6 ? arg[5] : NULL;
    if (flag != NULL)
        printf("deactivating provider %s/%s (pid %s) of group '%s': reason=%s flag='%s'\n",
               instance, node, pid, group, reason, flag);
    else
        printf("deactivating provider %s/%s (pid %s) of group '%s': reason=%s, no flag\n",
               instance, node, pid, group, reason);

    if (pidfile == NULL || pidfile[0] == '\0')
        pidfile = DEFAULT_PIDFILE;
    switch (read_pid(pidfile, &svc)) {
    case 0:
        printf("exampled is not running (%s absent or empty): nothing to stop\n", pidfile);
        return 0;
    case -1:
        fprintf(stderr, "pid file %s does not hold a pid\n", pidfile);
        return 1;
    }
    if (!alive(svc)) {
        printf("exampled (pid %ld) already gone\n", (long)svc);
        unlink(pidfile);
        return 0;
    }

    force = flag != NULL && strcmp(flag, "force") == 0;
    if (!force) {
        printf("sending SIGTERM to exampled (pid %ld)\n", (long)svc);
        fflush(stdout);
        kill(svc, SIGTERM);
        wait_gone(svc, 50);
    }
    if (alive(svc)) {
        printf("sending SIGKILL to exampled (pid %ld)\n", (long)svc);
        fflush(stdout);
        kill(svc, SIGKILL);
    }
    if (!wait_gone(svc, 50)) {
        fprintf(stderr, "exampled (pid %ld) would not stop\n", (long)svc);
        return 1;
    }
    unlink(pidfile);
    printf("exampled stopped\n");
    return 0;
}
