#!/usr/bin/env bash
# Builds the Python example policy into a WebAssembly component with componentize-py.
#
#   examples/policies/python/build.sh [OUT_DIR]
#
# Writes OUT_DIR/policy.wasm (default: $CAIRN_PLUGIN_CACHE/python, where CAIRN_PLUGIN_CACHE
# defaults to target/plugins at the repository's root). componentize-py is pip-installed, pinned,
# into a virtual environment under $CAIRN_PLUGIN_CACHE, made once and reused.
# Exits 75 when Python or componentize-py cannot be installed.
set -euo pipefail

COMPONENTIZE_PY_VERSION=0.25.1

here="$(cd "$(dirname "$0")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
cache="${CAIRN_PLUGIN_CACHE:-$root/target/plugins}"
out="${1:-$cache/python}"
venv="$cache/venv-componentize-py-$COMPONENTIZE_PY_VERSION"
python="${PYTHON:-python3}"

if [ ! -x "$venv/bin/componentize-py" ]; then
  rm -rf "$venv"
  if ! "$python" -m venv "$venv" >&2 ||
    ! "$venv/bin/pip" install --quiet --disable-pip-version-check "componentize-py==$COMPONENTIZE_PY_VERSION" >&2; then
    rm -rf "$venv"
    echo "cannot build the Python policy: could not install componentize-py $COMPONENTIZE_PY_VERSION with $python -m venv and pip" >&2
    exit 75
  fi
fi

mkdir -p "$out"
# The guest's bindings (module `wit_world`) are generated into the component by `componentize`;
# `componentize-py -d ../../../stdlib/wit -w policy bindings .` writes them out for an editor.
# Built from a copy, so that nothing (__pycache__) is written next to the sources.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$here/app.py" "$work/"
(cd "$work" && "$venv/bin/componentize-py" -d "$root/stdlib/wit" -w policy componentize app -o "$work/policy.wasm" >/dev/null)
mv "$work/policy.wasm" "$out/policy.wasm"
echo "$out/policy.wasm"
