#!/usr/bin/env bash
# Measures what a plan of a direct-mode stack of N file systems (default 20) costs — monitor
# commands and wall time — against the same reads with the `ceph` CLI (DESIGN.md §2 step 7;
# issue 18). Each file system has a metadata pool and one data pool (pg_num 1, autoscale off,
# so N file systems fit the test cluster's PG budget). Run by hand (not in CI):
#
#   scripts/bench-ceph-fs.sh              # starts a test cluster (tests/ceph/cluster.sh), N = 20
#   N=40 RUNS=5 scripts/bench-ceph-fs.sh
#   CEPH_CONF=… CEPH_KEYRING=… scripts/bench-ceph-fs.sh   # an existing (test!) cluster: it
#                                                        # makes and destroys fsb-NN there
#
# Prints, for the debug `cairn` binary: the read of `cairn plan -v` (monitor commands and time)
# before the apply and with all N applied (RUNS times, and the whole command's wall time), the
# apply and the destroy; `read_state` alone through librados (runtime/examples/ceph_read_bench);
# then the same reads as `ceph … -f json` processes (`osd pool
# ls detail`, `osd crush rule dump`, `fs dump`, `osd erasure-code-profile ls` and `get` of each),
# and for comparison the per-file-system way (`fs ls`, then `fs get` of each).
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/bin:/usr/sbin:/bin:/sbin:$PATH" # the ceph CLI needs Debian's python3

n="${N:-20}"
runs="${RUNS:-5}"

if [ -z "${CEPH_CONF:-}" ]; then
  dir="$(mktemp -d /tmp/cairn-ceph-fs-bench.XXXXXX)"
  trap 'tests/ceph/cluster.sh stop "$dir" > /dev/null 2>&1 || true; rm -rf "$dir"' EXIT
  eval "$(tests/ceph/cluster.sh start "$dir" --watch $$)"
  export CEPH_CONF CEPH_KEYRING
fi
keyring=()
[ -n "${CEPH_KEYRING:-}" ] && keyring=(--keyring "$CEPH_KEYRING")

cargo build --quiet -p cairn-cli --locked
cargo build --quiet -p cairn-runtime --locked --example ceph_read_bench
cairn="${CARGO_TARGET_DIR:-target}/debug/cairn"

stack="$(mktemp -d /tmp/cairn-fs-bench-stack.XXXXXX)/fsbench"
mkdir -p "$stack"
{
  printf 'cluster "lab" {\n  ceph {\n    mode = "direct"\n'
  [ -n "${CEPH_KEYRING:-}" ] && printf '    keyring = "%s"\n' "$CEPH_KEYRING"
  printf '  }\n}\n'
  for i in $(seq -f '%02g' 1 "$n"); do
    printf '\nfilesystem "fsb-%s" {\n' "$i"
    printf '  metadata { failure_domain = "osd" }\n'
    printf '  data "default" {\n    pg_num         = 1\n    autoscale      = "off"\n    failure_domain = "osd"\n  }\n'
    printf '  standby = false\n}\n'
  done
} > "$stack/main.cairn"

now() { date +%s%N; } # nanoseconds
ms() { echo "$(($1 / 1000000))"; }
# `cairn ARGS -v` on the stack: prints its `read …` line about Ceph and the wall time.
timed() {
  local t0 out code
  t0="$(now)"
  out="$("$cairn" --color never -v --ceph-conf "$CEPH_CONF" "$@" "$stack" 2>&1 > /dev/null)" && code=0 || code=$?
  local took=$(($(now) - t0))
  local read
  read="$(echo "$out" | grep -m1 'monitor commands' || true)"
  echo "$(ms "$took") ms whole command (exit $code); ${read:-no read line}"
}

echo "== $n file systems, debug cairn"
echo "plan before apply:  $(timed plan)"
t0="$(now)"
"$cairn" --color never --ceph-conf "$CEPH_CONF" apply --auto-approve "$stack" > /dev/null 2>&1
echo "apply:              $(ms $(($(now) - t0))) ms"
for _ in $(seq "$runs"); do
  echo "plan, all applied:  $(timed plan --detailed-exitcode)"
done

# `read_state` alone, in ms (0 pools to add): what the `-v` line rounds to 10 ms.
"${CARGO_TARGET_DIR:-target}/debug/examples/ceph_read_bench" 0 "$((runs * 2))" | grep 'read_state'

ceph=(ceph -c "$CEPH_CONF" "${keyring[@]}" --connect-timeout 10)
best=""
calls=0
for _ in $(seq "$runs"); do
  t0="$(now)"
  calls=0
  for read in "osd pool ls detail" "osd crush rule dump" "fs dump"; do
    # shellcheck disable=SC2086 # the words of the command
    "${ceph[@]}" $read -f json > /dev/null 2>&1
    calls=$((calls + 1))
  done
  profiles="$("${ceph[@]}" osd erasure-code-profile ls -f json)"
  calls=$((calls + 1))
  for p in $(echo "$profiles" | /usr/bin/python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)))'); do
    "${ceph[@]}" osd erasure-code-profile get "$p" -f json > /dev/null
    calls=$((calls + 1))
  done
  t=$(($(now) - t0))
  if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best="$t"; fi
done
printf 'ceph CLI, the same reads: %d processes; best %d ms over %d runs\n' "$calls" "$(ms "$best")" "$runs"

t0="$(now)"
names="$("${ceph[@]}" fs ls -f json | /usr/bin/python3 -c 'import json,sys; print(" ".join(f["name"] for f in json.load(sys.stdin)))')"
gets=1
for fs in $names; do
  "${ceph[@]}" fs get "$fs" -f json > /dev/null
  gets=$((gets + 1))
done
printf 'ceph CLI, per file system (fs ls + fs get each): %d processes; %d ms\n' "$gets" "$(ms $(($(now) - t0)))"

t0="$(now)"
"$cairn" --color never --ceph-conf "$CEPH_CONF" destroy --auto-approve --allow-data-loss "$stack" > /dev/null 2>&1
echo "destroy:            $(ms $(($(now) - t0))) ms"
rm -rf "$(dirname "$stack")"
