#!/bin/sh
# node.sh: one Pacemaker node for hagsbench (make bench-compare).
#
# hagsbench runs it as the first process of new mount, UTS and PID
# namespaces inside the node's network namespace:
#
#   ip netns exec NS unshare --mount --propagation private --uts --pid \
#       --fork --kill-child --mount-proc sh node.sh NAME DIR OCFEXTRA
#
# so that nothing of this node meets the machine's own cluster services or
# the other nodes': its own /run and /dev/shm (libqb's IPC files), its own
# /var/lib/pacemaker, /var/lib/corosync and /var/log/pacemaker (bind mounts
# of DIR's subdirectories, which outlive the node so that its CIB survives
# a restart), the host name NAME, and the OCF agents of the machine plus
# those of OCFEXTRA (an overlay, read-only). Killing this script (PID 1 of
# the namespace) with SIGKILL kills every process of the node at once: a
# node death.
#
# It starts corosync with DIR/corosync.conf, then pacemakerd, both in the
# foreground, and waits; their output goes to this script's.
set -eu
name=$1 dir=$2 ocfextra=$3

hostname "$name"
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p /run/lock
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
for d in lib/pacemaker lib/corosync log/pacemaker; do
	mkdir -p "$dir/$d"
	mount --bind "$dir/$d" "/var/$d"
done
for d in blackbox cib cores pengine; do
	mkdir -p "/var/lib/pacemaker/$d"
done
mkdir -p /var/log/pacemaker/bundles
chown -R hacluster:haclient /var/lib/pacemaker /var/log/pacemaker
chmod 0750 /var/lib/pacemaker/cib /var/lib/pacemaker/pengine /var/lib/pacemaker/blackbox /var/lib/pacemaker/cores
chmod 0770 /var/log/pacemaker
mount -t overlay overlay -o "lowerdir=$ocfextra:/usr/lib/ocf/resource.d" /usr/lib/ocf/resource.d

export PCMK_logfile=/var/log/pacemaker/pacemaker.log
corosync -f -c "$dir/corosync.conf" &
corosync=$!
# pacemakerd waits for corosync's IPC itself, trying again for a while.
pacemakerd -f &
pacemakerd=$!
echo "node.sh: $name: corosync $corosync, pacemakerd $pacemakerd"
wait
