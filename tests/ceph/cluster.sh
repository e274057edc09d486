#!/usr/bin/env bash
# A throwaway single-host Ceph cluster for cairn's direct-mode tests (DESIGN.md §6): one monitor,
# one manager, one MDS (standby until a file system needs it) and three memstore OSDs (512 MiB
# each) from Debian's packages, cephx on, messenger v2 only, bound to 127.0.0.1. Daemons run directly (no systemd) with `-c DIR/ceph.conf`; their
# data, pid files, admin sockets, logs and keyrings all live under DIR.
#
#   tests/ceph/cluster.sh start [DIR] [--port N] [--timeout S] [--watch PID]
#   tests/ceph/cluster.sh stop DIR
#
# `start` creates DIR (or a new temp dir), waits until every OSD is up, every PG is
# active+clean (HEALTH_OK can come while PGs are still unknown) and the MDS is a standby, and prints on stdout, one per line:
#
#   CEPH_CONF=DIR/ceph.conf
#   CEPH_KEYRING=DIR/ceph.client.admin.keyring
#   CEPH_MON_HOST=v2:127.0.0.1:PORT
#   CEPH_CLUSTER_DIR=DIR
#
# so `eval "$(tests/ceph/cluster.sh start)"; export CEPH_CONF` points the `ceph` CLI at it.
# Progress goes to stderr. On failure the cluster is stopped and the tail of the logs shown.
# `--watch PID` also stops the cluster once process PID is gone (for test binaries that may die
# without cleaning up). `stop` sends SIGTERM to the cluster's own PIDs, then SIGKILL after 3 s.
# Packages: tests/ceph/install.sh.
set -euo pipefail

# The `ceph` CLI is a Python program for Debian's own interpreter; a pyenv shim earlier on PATH
# would run it without the `rados` module.
export PATH="/usr/bin:/usr/sbin:/bin:/sbin:$PATH"
unset CEPH_ARGS

say() { echo "cluster.sh: $*" >&2; }
die() {
  say "error: $*"
  exit 1
}

usage() {
  sed -n '7,8p' "$0" | sed 's/^# *//' >&2
  exit 2
}

pids_of() {
  local dir="$1" f
  for f in "$dir"/run/*.pid; do
    [ -f "$f" ] && cat "$f"
  done
  return 0
}

# Whether PID runs (a zombie waiting for a parent that does not reap it counts as gone).
running() {
  kill -0 "$1" 2> /dev/null || return 1
  local state
  state="$(awk '{print $3}' "/proc/$1/stat" 2> /dev/null || true)"
  [ "$state" != "Z" ]
}

stop_cluster() {
  local dir="$1" pid pids=() alive i
  [ -d "$dir" ] || die "no cluster directory $dir"
  # The watchdog first, so it does not run `stop` a second time.
  if [ -f "$dir/watchdog.pid" ]; then
    pid="$(cat "$dir/watchdog.pid")"
    [ "$pid" != "$$" ] && kill "$pid" 2> /dev/null || true
    rm -f "$dir/watchdog.pid"
  fi
  while read -r pid; do
    [[ "$pid" =~ ^[0-9]+$ ]] && pids+=("$pid")
  done < <(pids_of "$dir")
  [ ${#pids[@]} -eq 0 ] && return 0
  kill -TERM "${pids[@]}" 2> /dev/null || true
  for i in $(seq 30); do
    alive=()
    for pid in "${pids[@]}"; do
      running "$pid" && alive+=("$pid")
    done
    [ ${#alive[@]} -eq 0 ] && break
    sleep 0.1
  done
  if [ ${#alive[@]} -gt 0 ]; then
    kill -KILL "${alive[@]}" 2> /dev/null || true
  fi
  rm -f "$dir"/run/*.pid
  say "stopped the cluster in $dir"
}

free_port() {
  /usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

new_uuid() { cat /proc/sys/kernel/random/uuid; }

start_cluster() {
  local dir="" port="" timeout=120 watch=""
  while [ $# -gt 0 ]; do
    case "$1" in
      --port) port="${2:?--port needs a value}"; shift 2 ;;
      --timeout) timeout="${2:?--timeout needs a value}"; shift 2 ;;
      --watch) watch="${2:?--watch needs a value}"; shift 2 ;;
      -*) usage ;;
      *) [ -z "$dir" ] || usage; dir="$1"; shift ;;
    esac
  done
  for bin in ceph-mon ceph-mgr ceph-mds ceph-osd ceph ceph-authtool monmaptool; do
    command -v "$bin" > /dev/null || die "$bin not found: install the packages with tests/ceph/install.sh"
  done
  if [ -z "$dir" ]; then
    dir="$(mktemp -d /tmp/cairn-ceph.XXXXXX)"
  fi
  mkdir -p "$dir"
  dir="$(cd "$dir" && pwd)"
  [ -e "$dir/ceph.conf" ] && die "$dir already holds a cluster (stop it and remove the directory first)"
  [ -n "$port" ] || port="$(free_port)"

  local fsid conf admin mon_addr
  fsid="$(new_uuid)"
  conf="$dir/ceph.conf"
  admin="$dir/ceph.client.admin.keyring"
  mon_addr="v2:127.0.0.1:$port"
  mkdir -p "$dir/run" "$dir/log" "$dir/mon/ceph-a" "$dir/mgr/ceph-x" "$dir/mds/ceph-a"

  cat > "$conf" << EOF
[global]
fsid = $fsid
mon_initial_members = a
mon_host = [$mon_addr]
public_addr = 127.0.0.1
ms_bind_msgr1 = false
ms_bind_msgr2 = true
ms_bind_ipv6 = false
auth_cluster_required = cephx
auth_service_required = cephx
auth_client_required = cephx
auth_allow_insecure_global_id_reclaim = false
keyring = $admin
run_dir = $dir/run
pid_file = $dir/run/\$name.pid
admin_socket = $dir/run/\$name.asok
log_file = $dir/log/\$name.log
mon_cluster_log_file = $dir/log/cluster.log
crash_dir = $dir/crash
# Read by the monitor at mkfs, so it must be here rather than under [mgr].
mgr_initial_modules = iostat
# Single host: replicas are spread over OSDs, so the default rules work.
osd_crush_chooseleaf_type = 0
osd_pool_default_size = 3
osd_pool_default_min_size = 2
mon_allow_pool_delete = true
mon_max_pg_per_osd = 1000
mon_debug_no_require_bluestore_for_ec_overwrites = true
mon_warn_on_pool_no_redundancy = false
# Test machines' disks are often fuller than the monitor likes (it warns under 30% free).
mon_data_avail_warn = 2
mon_data_avail_crit = 1
paxos_propose_interval = 0.05
mgr_stats_period = 1
mon_mgr_digest_period = 1
osd_objectstore = memstore
memstore_device_bytes = 536870912
osd_data = $dir/osd/\$cluster-\$id
mon_data = $dir/mon/\$cluster-\$id
mgr_data = $dir/mgr/\$cluster-\$id
mds_data = $dir/mds/\$cluster-\$id

[mon]
keyring = \$mon_data/keyring

[mgr]
keyring = \$mgr_data/keyring

[mds]
keyring = \$mds_data/keyring

[osd]
keyring = \$osd_data/keyring
osd_max_object_name_len = 460
osd_max_object_namespace_len = 64
EOF

  local ceph=(ceph -c "$conf" --connect-timeout 15)
  local log="$dir/log/setup.log"
  cleanup_on_error() {
    say "startup failed; last lines of the logs in $dir/log:"
    tail -n 5 "$dir"/log/*.log >&2 2> /dev/null || true
    stop_cluster "$dir" > /dev/null 2>&1 || true
  }
  trap cleanup_on_error ERR

  say "monitor a on $mon_addr in $dir"
  ceph-authtool --create-keyring "$dir/mon.keyring" --gen-key -n mon. --cap mon 'allow *' >> "$log"
  ceph-authtool --create-keyring "$admin" --gen-key -n client.admin \
    --cap mon 'allow *' --cap osd 'allow *' --cap mgr 'allow *' --cap mds 'allow *' >> "$log"
  ceph-authtool "$dir/mon.keyring" --import-keyring "$admin" >> "$log"
  # The MDS's key goes in at mkfs too: one `ceph auth` round trip less at startup.
  ceph-authtool --create-keyring "$dir/mds/ceph-a/keyring" --gen-key -n mds.a \
    --cap mon 'allow profile mds' --cap osd 'allow rwx' --cap mds 'allow' --cap mgr 'allow profile mds' >> "$log"
  ceph-authtool "$dir/mon.keyring" --import-keyring "$dir/mds/ceph-a/keyring" >> "$log"
  monmaptool --create --fsid "$fsid" --addv a "[$mon_addr]" "$dir/monmap" >> "$log"
  ceph-mon -c "$conf" --mkfs -i a --monmap "$dir/monmap" --keyring "$dir/mon.keyring" >> "$log" 2>&1
  ceph-mon -c "$conf" -i a < /dev/null >> "$dir/log/mon.a.out" 2>&1

  say "manager x"
  "${ceph[@]}" auth get-or-create mgr.x mon 'allow profile mgr' osd 'allow *' mds 'allow *' \
    -o "$dir/mgr/ceph-x/keyring" >> "$log" 2>&1
  ceph-mgr -c "$conf" -i x < /dev/null >> "$dir/log/mgr.x.out" 2>&1

  # Started early, it waits as a standby while the OSDs come up, for the first file system.
  say "MDS a"
  ceph-mds -c "$conf" -i a < /dev/null >> "$dir/log/mds.a.out" 2>&1

  local i uuid key id
  for i in 0 1 2; do
    uuid="$(new_uuid)"
    key="$(ceph-authtool --gen-print-key)"
    id="$(echo "{\"cephx_secret\": \"$key\"}" | "${ceph[@]}" osd new "$uuid" -i - 2>> "$log")"
    [[ "$id" =~ ^[0-9]+$ ]] || die "osd new returned '$id'"
    say "OSD $id (memstore, 512 MiB)"
    mkdir -p "$dir/osd/ceph-$id"
    printf '[osd.%s]\n\tkey = %s\n' "$id" "$key" > "$dir/osd/ceph-$id/keyring"
    ceph-osd -c "$conf" -i "$id" --mkfs --osd-uuid "$uuid" >> "$log" 2>&1
    ceph-osd -c "$conf" -i "$id" < /dev/null >> "$dir/log/osd.$id.out" 2>&1
  done

  if [ -n "$watch" ]; then
    # Stops the cluster once the watched process is gone. setsid + closed stdio: it must not hold
    # the caller's pipes open.
    setsid bash -c 'while kill -0 "$1" 2> /dev/null; do sleep 1; done; exec "$2" stop "$3"' \
      watchdog "$watch" "$(cd "$(dirname "$0")" && pwd)/$(basename "$0")" "$dir" \
      < /dev/null > /dev/null 2>&1 &
    echo $! > "$dir/watchdog.pid"
  fi

  say "waiting up to ${timeout}s for 3 OSDs up and every PG active+clean"
  local deadline=$((SECONDS + timeout)) osd pg
  while :; do
    osd="$("${ceph[@]}" osd stat -f json 2> /dev/null || true)"
    pg="$("${ceph[@]}" pg stat -f json 2> /dev/null || true)"
    if /usr/bin/python3 - "$osd" "$pg" << 'EOF'; then
import json, sys
try:
    osd, pg = json.loads(sys.argv[1]), json.loads(sys.argv[2])
except ValueError:
    sys.exit(1)
osd = osd.get("osdmap", osd)
states = pg.get("pg_summary", pg).get("num_pg_by_state", [])
total = pg.get("pg_summary", pg).get("num_pgs", 0)
clean = sum(s["num"] for s in states if s["name"] == "active+clean")
sys.exit(0 if osd.get("num_up_osds") == 3 and osd.get("num_in_osds") == 3 and total > 0 and clean == total else 1)
EOF
      break
    fi
    if [ $SECONDS -ge $deadline ]; then
      say "osd stat: $osd"
      say "pg stat: $pg"
      false
    fi
    sleep 0.5
  done
  # The MDS registers within a second or two of starting, long before the PGs are clean.
  until "${ceph[@]}" fs dump -f json 2> /dev/null | grep -q '"up:standby"'; do
    if [ $SECONDS -ge $deadline ]; then
      say "fs dump: $("${ceph[@]}" fs dump 2>&1 || true)"
      false
    fi
    sleep 0.5
  done
  trap - ERR
  say "ready: $("${ceph[@]}" health 2> /dev/null || echo unknown)"
  echo "CEPH_CONF=$conf"
  echo "CEPH_KEYRING=$admin"
  echo "CEPH_MON_HOST=$mon_addr"
  echo "CEPH_CLUSTER_DIR=$dir"
}

case "${1:-}" in
  start) shift; start_cluster "$@" ;;
  stop) [ $# -eq 2 ] || usage; stop_cluster "$2" ;;
  *) usage ;;
esac
