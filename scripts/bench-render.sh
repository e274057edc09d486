#!/usr/bin/env bash
# Measures `cairn render` of generated stacks with the release build: wall time and peak RSS.
# Run by hand (not in CI):
#
#   scripts/bench-render.sh            # N = 1,000 and 10,000 workloads
#   scripts/bench-render.sh 500 20000  # other sizes
#
# Target: 10,000 workloads in at most 0.25 s and 150 MiB, linear in N. The stacks come from
# `cli/examples/gen_stack.rs` (N workloads over N/50 namespaces; see
# `cli/benches/support/stackgen.rs`). Each size runs RUNS times (default 3); the best wall
# time and the largest peak RSS are reported. Needs GNU time (`apt-get install time`).
# `CAIRN_BIN=PATH` times that binary instead of this tree's.
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${RUNS:-3}"
sizes=("$@")
if [ ${#sizes[@]} -eq 0 ]; then
  sizes=(1000 10000)
fi

if [ ! -x /usr/bin/time ]; then
  echo "bench-render: GNU time is missing (/usr/bin/time): apt-get install time" >&2
  exit 1
fi

# CAIRN_BIN=PATH times another build (say, the commit before a change) with this stack generator.
cargo build --quiet --release -p cairn-cli --bin cairn --example gen_stack
cairn="${CAIRN_BIN:-target/release/cairn}"
gen=target/release/examples/gen_stack

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

printf '%10s %10s %12s %14s %12s\n' workloads objects "wall (s)" "peak RSS (MiB)" "YAML (MiB)"
for n in "${sizes[@]}"; do
  stack="$work/stack-$n"
  "$gen" "$stack" "$n"
  best=""
  peak=0
  for _ in $(seq "$runs"); do
    /usr/bin/time -f '%e %M' -o "$work/time" "$cairn" render "$stack" > "$work/out.yaml"
    read -r wall rss_kb < "$work/time"
    if [ -z "$best" ] || awk -v a="$wall" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best="$wall"
    fi
    if [ "$rss_kb" -gt "$peak" ]; then
      peak="$rss_kb"
    fi
  done
  objects="$(grep -c '^kind: ' "$work/out.yaml" || true)"
  yaml_mib="$(awk -v b="$(wc -c < "$work/out.yaml")" 'BEGIN { printf "%.1f", b / 1048576 }')"
  printf '%10s %10s %12s %14s %12s\n' "$n" "$objects" "$best" "$(awk -v k="$peak" 'BEGIN { printf "%.0f", k / 1024 }')" "$yaml_mib"
done
