#!/bin/sh
# deactivate.sh - sample hags deactivate script.
#
# hagsd runs this when the provider that registered it (ha_gs_init) is
# expelled from a group, or fails. It runs on the provider's node, as the
# provider's user, in "/", with a clean environment. See
# docs/deactivate-scripts.md.
#
#   deactivate.sh -- <group> <instance> <node> <pid> <expel|failure> [<flag>]
#
# This sample logs what it was given (stdout and stderr go to the daemon
# log) and stops a hypothetical service, "exampled", whose pid is in
# /run/exampled.pid. The flag "force" skips the polite SIGTERM. Exit 0 tells
# the group that the provider is deactivated; anything else that it is not.
#
# EXAMPLED_PIDFILE overrides the pid file. hagsd never sets it; it is here
# so that the sample can be tried by hand and tested.

set -u

# hagsd passes "--" first, so that a group name or flag starting with '-'
# is never read as an option; by hand it may be left out.
if [ "$#" -gt 0 ] && [ "$1" = -- ]; then
    shift
fi
if [ "$#" -lt 5 ] || [ "$#" -gt 6 ]; then
    echo "usage: $0 [--] group instance node pid expel|failure [flag]" >&2
    exit 2
fi

group=$1 instance=$2 node=$3 pid=$4 reason=$5
if [ "$#" -eq 6 ]; then
    flag=$6
    echo "deactivating provider $instance/$node (pid $pid) of group '$group': reason=$reason flag='$flag'"
else
    flag=
    echo "deactivating provider $instance/$node (pid $pid) of group '$group': reason=$reason, no flag"
fi

pidfile=${EXAMPLED_PIDFILE:-/run/exampled.pid}
if [ ! -s "$pidfile" ]; then
    echo "exampled is not running ($pidfile absent or empty): nothing to stop"
    exit 0
fi
svc=$(cat "$pidfile")
case $svc in
    ''|*[!0-9]*)
        echo "pid file $pidfile does not hold a pid: '$svc'" >&2
        exit 1 ;;
esac
if ! kill -0 "$svc" 2>/dev/null; then
    echo "exampled (pid $svc) already gone"
    rm -f "$pidfile"
    exit 0
fi

if [ "$flag" != force ]; then
    echo "sending SIGTERM to exampled (pid $svc)"
    kill -TERM "$svc" 2>/dev/null
    # Give it about five seconds to stop on its own.
    i=0
    while kill -0 "$svc" 2>/dev/null && [ "$i" -lt 50 ]; do
        sleep 0.1   # GNU and BusyBox sleep take fractions
        i=$((i + 1))
    done
fi
if kill -0 "$svc" 2>/dev/null; then
    echo "sending SIGKILL to exampled (pid $svc)"
    kill -KILL "$svc" 2>/dev/null
fi
i=0
while kill -0 "$svc" 2>/dev/null && [ "$i" -lt 50 ]; do
    sleep 0.1
    i=$((i + 1))
done
if kill -0 "$svc" 2>/dev/null; then
    echo "exampled (pid $svc) would not stop" >&2
    exit 1
fi
rm -f "$pidfile"
echo "exampled stopped"
exit 0
