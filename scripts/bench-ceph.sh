#!/usr/bin/env bash
# Measures reading Ceph state for a plan (DESIGN.md §2 step 7) through librados against the
# `ceph` CLI, on a cluster holding N pools (default 200; pg_num 1, autoscale off, to stay under
# mon_max_pg_per_osd). Run by hand (not in CI):
#
#   scripts/bench-ceph.sh             # starts a test cluster (tests/ceph/cluster.sh), N = 200
#   N=500 RUNS=5 scripts/bench-ceph.sh
#   CEPH_CONF=… CEPH_KEYRING=… scripts/bench-ceph.sh   # an existing (test!) cluster: it creates
#                                                     # pools named bench-NNNN there
#
# librados: `read_state` (osd pool ls detail, osd crush rule dump, fs dump, osd
# erasure-code-profile ls and get per profile), best and median of RUNS, and its monitor command
# count. CLI: the same reads as `ceph … -f json` processes, one after the other, best of RUNS.
# scripts/bench-ceph-fs.sh measures a plan of file systems.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="/usr/bin:/usr/sbin:/bin:/sbin:$PATH" # the ceph CLI needs Debian's python3

n="${N:-200}"
runs="${RUNS:-5}"

if [ -z "${CEPH_CONF:-}" ]; then
  dir="$(mktemp -d /tmp/cairn-ceph-bench.XXXXXX)"
  trap 'tests/ceph/cluster.sh stop "$dir" > /dev/null 2>&1 || true; rm -rf "$dir"' EXIT
  eval "$(tests/ceph/cluster.sh start "$dir" --watch $$)"
  export CEPH_CONF CEPH_KEYRING
fi
keyring=()
[ -n "${CEPH_KEYRING:-}" ] && keyring=(--keyring "$CEPH_KEYRING")

cargo build --quiet --workspace --locked --examples
target="${CARGO_TARGET_DIR:-target}"
"$target/debug/examples/ceph_read_bench" "$n" "$((runs * 2))"

ceph=(ceph -c "$CEPH_CONF" "${keyring[@]}" --connect-timeout 10)
now() { date +%s%N; } # nanoseconds
best=""
for _ in $(seq "$runs"); do
  t0="$(now)"
  calls=0
  "${ceph[@]}" osd pool ls detail -f json > /dev/null
  calls=$((calls + 1))
  "${ceph[@]}" osd crush rule dump -f json > /dev/null
  calls=$((calls + 1))
  "${ceph[@]}" fs dump -f json > /dev/null 2>&1
  calls=$((calls + 1))
  profiles="$("${ceph[@]}" osd erasure-code-profile ls -f json)"
  calls=$((calls + 1))
  for p in $(echo "$profiles" | /usr/bin/python3 -c 'import json,sys; print(" ".join(json.load(sys.stdin)))'); do
    "${ceph[@]}" osd erasure-code-profile get "$p" -f json > /dev/null
    calls=$((calls + 1))
  done
  t=$(($(now) - t0))
  if [ -z "$best" ] || [ "$t" -lt "$best" ]; then best="$t"; fi
done
t0="$(now)"
"${ceph[@]}" osd pool ls detail -f json > /dev/null
one=$(($(now) - t0))
printf 'ceph CLI same reads: %d processes; best %d ms over %d runs\n' "$calls" "$((best / 1000000))" "$runs"
printf 'ceph CLI one `osd pool ls detail -f json`: %d ms\n' "$((one / 1000000))"
