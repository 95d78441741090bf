/*
 * benchio.h - what the two C benchmark clients (gsbench.c over libha_gs,
 * cpgbench.c over libcpg) share: the clock they stamp events with and the
 * way they report them to hagsbench, one line per event on stdout.
 */
#ifndef HAGS_BENCHIO_H
#define HAGS_BENCHIO_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

/* mono returns the monotonic clock in nanoseconds. */
static inline int64_t mono(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* emit prints one event line and flushes it at once: hagsbench reads the
 * lines as they come. */
static inline void emit(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    putchar('\n');
    fflush(stdout);
}

#endif /* HAGS_BENCHIO_H */
