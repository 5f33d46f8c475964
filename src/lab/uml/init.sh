#!/bin/bash
# PID 1 of the user-mode-linux guest booted by src/lab/uml/uml-run.mjs.
# The guest's / is the host's / (hostfs, rw): everything written outside the tmpfs mounts below lands on
# the host, so only the job's own result files (LK_OUT, LK_STATUS) and the project's usual writes go there.
# Parameters arrive as environment variables from the kernel command line:
#   LK_JOB     absolute path of the job script (cd + env + command) written by the host
#   LK_OUT     host file that receives the job's stdout+stderr
#   LK_STATUS  host file that receives the job's exit status (absent = the guest never finished)
#   LK_KEEP    a host directory that must stay visible even if it lies under /tmp (the repository)
#   LK_MODDIR  the UML modules tree, default /usr/lib/uml/modules
#   LK_MODULES comma-separated extra modules to load (optional ones)
set -u
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root

stop_guest() {
  sync
  # `halt -f` (systemctl in compat mode) halts at once without an init system; sysrq is the fallback.
  halt -f >/dev/null 2>&1
  echo o >/proc/sysrq-trigger 2>/dev/null
  # PID 1 must never exit (that panics the kernel); the host-side timeout ends a guest stuck here.
  while true; do sleep 3600; done
}

fail() {
  echo "lvskeep-uml-init: $*" >&2
  if [ -n "${LK_OUT:-}" ]; then echo "lvskeep-uml-init: $*" >>"$LK_OUT"; fi
  if [ -n "${LK_STATUS:-}" ]; then echo 125 >"$LK_STATUS"; fi
  stop_guest
}

[ -n "${LK_JOB:-}" ] && [ -n "${LK_OUT:-}" ] && [ -n "${LK_STATUS:-}" ] || fail "LK_JOB, LK_OUT and LK_STATUS must be set"

mount -t proc proc /proc || fail "mount /proc failed"
mount -t sysfs sysfs /sys || fail "mount /sys failed"
mount -t tmpfs -o mode=0755 lk-run /run || fail "mount tmpfs on /run failed"
mkdir -p /run/netns /run/lock
if ! mountpoint -q /dev; then mount -t devtmpfs devtmpfs /dev || fail "mount /dev failed"; fi
mkdir -p /dev/shm && mount -t tmpfs -o mode=1777 lk-shm /dev/shm

# A private /tmp so that the guest's temporary files do not land on the host. If the project itself lives
# under /tmp (a CI checkout), carry it across the new tmpfs with a bind mount.
keep="${LK_KEEP:-}"
case "$keep" in
  /tmp/*)
    mkdir -p /run/lk-keep
    mount --bind "$keep" /run/lk-keep || fail "bind of $keep failed"
    mount -t tmpfs -o mode=1777 lk-tmp /tmp || fail "mount tmpfs on /tmp failed"
    mkdir -p "$keep"
    mount --bind /run/lk-keep "$keep" || fail "rebind of $keep failed"
    ;;
  *)
    mount -t tmpfs -o mode=1777 lk-tmp /tmp || fail "mount tmpfs on /tmp failed"
    ;;
esac

moddir_root="${LK_MODDIR:-/usr/lib/uml/modules}"
release="$(uname -r)"
moddir="$moddir_root/$release"
[ -f "$moddir/modules.dep" ] || fail "no UML modules for kernel $release under $moddir_root"
# Let guest tools that expect /lib/modules (modprobe, if installed) find the UML modules. Only when the
# directory exists: creating it would write to the host's root.
if [ -d /lib/modules ]; then mount --bind "$moddir_root" /lib/modules; fi

# IPVS with every scheduler lvskeep may configure, and the link types the topologies use.
required="ip_vs ip_vs_rr ip_vs_wrr ip_vs_lc ip_vs_wlc ip_vs_lblc ip_vs_lblcr ip_vs_dh ip_vs_sh ip_vs_sed ip_vs_nq ip_vs_mh ip_vs_fo ip_vs_ovf veth bridge"
extra="${LK_MODULES:-}"
# sch_ingress, cls_flower, act_gact: the reset guard (src/vrrp/reset-guard.ts) drops resets with tc filters.
optional="ipip tun dummy macvlan sch_ingress cls_flower act_gact ${extra//,/ }"
# shellcheck disable=SC2086  # word splitting of the module lists is intended
perl "$(dirname "$0")/modload.pl" "$moddir" $required --optional $optional >>"$LK_OUT" 2>&1 \
  || fail "loading kernel modules failed (see above)"

ip link set lo up || fail "ip link set lo up failed"

[ -r "$LK_JOB" ] || fail "job script $LK_JOB is not readable in the guest"
bash "$LK_JOB" >>"$LK_OUT" 2>&1 </dev/null
echo "$?" >"$LK_STATUS"
stop_guest
