#!/usr/bin/env bash
# Measures `cairn plan` and `cairn apply` against cairn-sandbox with the release build: plan
# wall time for stacks of N objects (against an empty cluster and after they are applied), the
# requests a plan makes, and apply throughput at --parallelism 1 and 10. Run by hand (not in CI):
#
#   scripts/bench-plan.sh              # N = 1,000 and 10,000
#   scripts/bench-plan.sh 500 5000     # other sizes
#
# A stack of N objects is N/100 namespaces holding configs (ConfigMaps), N objects in all. Each
# plan runs RUNS times (default 3) and the best wall time is reported. The sandbox runs in the
# background on a free port and is stopped at the end. `CAIRN_BIN=PATH` measures that binary
# instead of this tree's (say, the commit before a change).
set -euo pipefail
cd "$(dirname "$0")/.."

runs="${RUNS:-3}"
sizes=("$@")
if [ ${#sizes[@]} -eq 0 ]; then
  sizes=(1000 10000)
fi

cargo build --quiet --release -p cairn-cli --bin cairn
cairn="${CAIRN_BIN:-$PWD/target/release/cairn}"
work="$(mktemp -d)"
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')"
(cd "$work" && "$cairn" sandbox up --port "$port" --dir "$work/sb" > /dev/null 2>&1)
export KUBECONFIG="$work/sb/kubeconfig"
trap '(cd "$work" && "$cairn" sandbox down --dir "$work/sb" > /dev/null 2>&1); rm -rf "$work"' EXIT

# gen DIR N [PREFIX]: a stack of N objects (namespaces of 99 configs each, plus the namespace).
gen() {
  local dir="$1" n="$2" prefix="${3:-b}" per=100
  mkdir -p "$dir"
  {
    echo "stack \"bench$prefix$n\" {}"
    local ns=0 made=0
    while [ "$made" -lt "$n" ]; do
      echo "namespace \"$prefix$ns\" {}"
      made=$((made + 1))
      local i=1
      while [ "$i" -lt "$per" ] && [ "$made" -lt "$n" ]; do
        echo "config \"c$ns-$i\" {"
        echo "  namespace = namespace.$prefix$ns"
        echo "  data      = { key = \"value-$i\", other = \"x\" }"
        echo "}"
        made=$((made + 1))
        i=$((i + 1))
      done
      ns=$((ns + 1))
    done
  } > "$dir/main.cairn"
}

best_of() {
  local best=""
  for _ in $(seq "$runs"); do
    local start end t
    start=$(date +%s.%N)
    "$@" > /dev/null 2>&1 || true
    end=$(date +%s.%N)
    t=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }')
    if [ -z "$best" ] || awk -v a="$t" -v b="$best" 'BEGIN { exit !(a < b) }'; then best="$t"; fi
  done
  echo "$best"
}

requests() {
  curl -s "http://127.0.0.1:$port/sandbox.cairn.dev/requests"
}

reset_requests() {
  curl -s -X DELETE "http://127.0.0.1:$port/sandbox.cairn.dev/requests" > /dev/null
}

printf '%8s %16s %16s %14s %22s\n' objects "plan empty (s)" "plan applied (s)" "requests" "apply p1 / p10 (obj/s)"
for n in "${sizes[@]}"; do
  stack="$work/stack-$n"
  gen "$stack" "$n"
  empty=$(best_of "$cairn" plan "$stack")
  # Apply throughput: parallelism 1 on a twin stack (other names, so no namespace is still
  # terminating), then parallelism 10 on this one, which stays for the plan.
  p1=""
  if [ "$n" -le 2000 ]; then
    twin="$work/twin-$n"
    gen "$twin" "$n" t
    s=$(date +%s.%N); "$cairn" -q apply "$twin" --auto-approve --parallelism 1 > /dev/null 2>&1; e=$(date +%s.%N)
    p1=$(awk -v a="$s" -v b="$e" -v n="$n" 'BEGIN { printf "%.0f", n / (b - a) }')
    "$cairn" -q destroy "$twin" --auto-approve > /dev/null 2>&1
  fi
  s=$(date +%s.%N); "$cairn" -q apply "$stack" --auto-approve --parallelism 10 > /dev/null 2>&1; e=$(date +%s.%N)
  p10=$(awk -v a="$s" -v b="$e" -v n="$n" 'BEGIN { printf "%.0f", n / (b - a) }')
  applied=$(best_of "$cairn" plan "$stack")
  reset_requests
  "$cairn" plan "$stack" > /dev/null 2>&1
  total=$(requests | python3 -c 'import json,sys; print(json.load(sys.stdin)["total"])')
  printf '%8s %16s %16s %14s %22s\n' "$n" "$empty" "$applied" "$total" "${p1:--} / $p10"
  "$cairn" -q destroy "$stack" --auto-approve > /dev/null 2>&1
done
