#!/usr/bin/env bash
# Builds the JavaScript example policy into a WebAssembly component with componentize-js.
#
#   examples/policies/js/build.sh [OUT_DIR]
#
# Writes OUT_DIR/policy.wasm (default: $CAIRN_PLUGIN_CACHE/js, where CAIRN_PLUGIN_CACHE defaults
# to target/plugins at the repository's root). componentize-js is installed by npm, at the versions
# package-lock.json pins, into $CAIRN_PLUGIN_CACHE (not next to the sources), once per lock file.
# (`npm install` from a copy, not `npm ci`: npm 11's `ci` rejects this lock file for lacking other
# platforms' optional packages.) `fetch-event` (an exported HTTP handler) is disabled; `wasi:http` stays imported, as
# componentize-js builds by default: the cairn host links it and refuses every outgoing request.
# Exits 75 when node/npm are missing or the packages cannot be installed.
set -euo pipefail

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cache="${CAIRN_PLUGIN_CACHE:-$root/target/plugins}"
out="${1:-$cache/js}"

for tool in node npm sha256sum; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "cannot build the JavaScript policy: \`$tool\` is not installed" >&2
    exit 75
  fi
done

lock_hash="$(cat "$here/package.json" "$here/package-lock.json" | sha256sum | cut -c1-16)"
tools="$cache/node-componentize-js-$lock_hash"
if [ ! -x "$tools/node_modules/.bin/componentize-js" ]; then
  rm -rf "$tools"
  mkdir -p "$tools"
  cp "$here/package.json" "$here/package-lock.json" "$tools/"
  if ! (cd "$tools" && npm install --no-audit --no-fund --loglevel=error >&2); then
    rm -rf "$tools"
    echo "cannot build the JavaScript policy: npm could not install @bytecodealliance/componentize-js" >&2
    exit 75
  fi
fi

mkdir -p "$out"
"$tools/node_modules/.bin/componentize-js" "$here/policy.js" \
  --wit "$root/stdlib/wit" --world-name policy \
  --disable fetch-event \
  --out "$out/policy.wasm.tmp" >/dev/null
mv "$out/policy.wasm.tmp" "$out/policy.wasm"
echo "$out/policy.wasm"
