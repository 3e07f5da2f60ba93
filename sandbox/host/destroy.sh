#!/bin/bash
# Remove one sandbox completely: every process in its namespaces, the netns (and its
# veth pair), its files. Usage: destroy.sh SANDBOX_DIR
set -u
R="${1:?sandbox dir}"
BASE="$(dirname "$R")"
NAME="$(basename "$R")"
NS="mcsbx-$NAME"
N="$(cat "$R/net" 2>/dev/null || true)"
INIT="$(cat "$R/init.pid" 2>/dev/null || true)"

victims() {
  local mnt="" p
  [ -n "$INIT" ] && [ -d "/proc/$INIT" ] && mnt=$(readlink "/proc/$INIT/ns/mnt" 2>/dev/null)
  { ip netns pids "$NS" 2>/dev/null
    if [ -n "$mnt" ]; then
      for p in /proc/[0-9]*; do [ "$(readlink "$p/ns/mnt" 2>/dev/null)" = "$mnt" ] && echo "${p#/proc/}"; done
    fi
    [ -n "$INIT" ] && [ -d "/proc/$INIT" ] && echo "$INIT"
  } | sort -u | grep -v "^$$\$"
}
# A compose sandbox's containers live in namespaces of their own: its Docker engine stops them, and whatever
# is left in their cgroups (dockerd --cgroup-parent /mcsbx-NAME) is killed with the rest.
if [ -d "$R/docker" ] && [ -n "$INIT" ] && [ -d "/proc/$INIT" ]; then
  timeout 90 nsenter -t "$INIT" -n -m -- env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin systemctl stop docker >/dev/null 2>&1
fi
container_pids() { cat /sys/fs/cgroup/*/mcsbx-"$NAME"/*/cgroup.procs /sys/fs/cgroup/mcsbx-"$NAME"/*/cgroup.procs 2>/dev/null; }
# Kill what the lister names until it names nothing (a few rounds: a dying process may leave children).
kill_all() {
  local pids
  for _ in 1 2 3 4 5 6 7 8 9 10; do
    pids=$("$1")
    [ -z "$pids" ] && break
    # shellcheck disable=SC2086
    kill -KILL $pids 2>/dev/null
    sleep 0.1
  done
}
kill_all container_pids
kill_all victims
[ -n "$N" ] && ip link del "mcsh$N" 2>/dev/null
ip netns del "$NS" 2>/dev/null
# The engine's leftovers: its containers' cgroups, empty once their processes are gone.
rmdir /sys/fs/cgroup/*/mcsbx-"$NAME"/* /sys/fs/cgroup/*/mcsbx-"$NAME" /sys/fs/cgroup/mcsbx-"$NAME"/* /sys/fs/cgroup/mcsbx-"$NAME" 2>/dev/null
rm -rf "$R"
[ -n "$N" ] && rm -rf "$BASE/.slots/$N"
# last sandbox gone: remove the shared (empty) mountpoints and the base directory
if [ -z "$(ls -A "$BASE/.slots" 2>/dev/null)" ] && [ -z "$(find "$BASE" -mindepth 1 -maxdepth 1 ! -name .slots 2>/dev/null)" ]; then
  rmdir "$BASE/.slots" 2>/dev/null; rmdir "$BASE" 2>/dev/null
  mountpoint -q /opt/mastodon-sim || rmdir /opt/mastodon-sim 2>/dev/null
  mountpoint -q /var/lib/mastodon-sim || rmdir /var/lib/mastodon-sim 2>/dev/null
  mountpoint -q /var/lib/mastodon-closure || rmdir /var/lib/mastodon-closure 2>/dev/null
fi
exit 0
