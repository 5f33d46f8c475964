#!/bin/bash
# Runs the net suite ("$@") inside the private network + mount namespace that test/runner/run-tests.mjs made
# with `unshare --net --mount --propagation private`. A tmpfs on /run/netns keeps the namespaces tests
# create with `ip netns add` off the host; they vanish with this sandbox. Afterwards, anything a test
# leaked (namespaces, processes still running in them or in the sandbox itself) is named and ended:
# such processes can only be descendants of this run, because every namespace here is new.
set -euo pipefail
mkdir -p /run/netns
mount -t tmpfs -o mode=0755 lvskeep-netns /run/netns
ip link set lo up

set +e
"$@"
status=$?

leak() { echo "WARNING net suite: $*"; }
for ns in $(ip netns list | cut -d' ' -f1); do
  leak "namespace $ns was left behind by a test"
  for pid in $(ip netns pids "$ns" 2>/dev/null); do
    leak "ending leftover pid $pid in $ns: $(tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null)"
    kill -KILL "$pid" 2>/dev/null
  done
done
self_ns=$(readlink /proc/$$/ns/net)
for dir in /proc/[0-9]*; do
  pid=${dir#/proc/}
  [ "$pid" = "$$" ] && continue
  [ "$(readlink "$dir/ns/net" 2>/dev/null)" = "$self_ns" ] || continue
  cmd=$(tr '\0' ' ' <"$dir/cmdline" 2>/dev/null) || continue
  # Our own short-lived helpers (readlink, tr) may show up while they run; they have ended by now.
  [ -d "$dir" ] || continue
  leak "ending leftover pid $pid in the sandbox: $cmd"
  kill -KILL "$pid" 2>/dev/null
done
exit "$status"
