"""Example cairn policy in Python (componentize-py), implementing `stdlib/wit/policy.wit`.

Two checks, the same in the JavaScript and Rust examples:

- `image-tag`: every container and init container image names a tag other than `latest`, or a
  digest; a violation is a deny.
- `min-size`: every replicated pool (Rook `CephBlockPool`, direct-mode `CephPool`) accepts writes
  only with at least `config.min_size` copies (default 2; an unset `min_size` is Ceph's default
  `size - size // 2`); a violation is a warning.

`config` (the policy block's `config`, all optional): `min_size` (an integer >= 1) and `checks`
(a list of check names, default both). Anything else is an error: `err(reason)`, which cairn
reports as the policy failing, naming it.
"""

import json

import wit_world
from componentize_py_types import Err
from wit_world.imports.types import Info, Severity, Violation

CHECKS = ("image-tag", "min-size")

# Where each kind keeps its pod spec.
POD_SPEC = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}


def dig(value, *keys):
    for key in keys:
        if not isinstance(value, dict):
            return None
        value = value.get(key)
    return value


def as_int(value):
    """An integer, also from a string (Rook's `parameters` are strings)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        try:
            return int(value)
        except ValueError:
            return None
    return None


def tag_problem(image):
    """Why an image reference is not pinned, or None when it is."""
    if "@" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return "has no tag, so Kubernetes pulls `latest`"
    tag = last.split(":", 1)[1]
    if tag == "latest":
        return "uses the `latest` tag"
    if tag == "":
        return "has an empty tag"
    return None


def image_tags(resource):
    path = POD_SPEC.get(resource.get("kind"))
    spec = dig(resource.get("object"), *path) if path else None
    if not isinstance(spec, dict):
        return
    for field in ("initContainers", "containers"):
        for container in spec.get(field) or []:
            name = container.get("name", "?")
            image = container.get("image") or ""
            why = tag_problem(image)
            if why:
                yield Violation(
                    address=resource["address"],
                    message=f"container `{name}` image `{image}` {why}; pin a version",
                    severity=Severity.DENY,
                    path=".".join(path) + f".{field}[name={name}].image",
                )


def min_size(resource, want):
    kind, obj = resource.get("kind"), resource.get("object") or {}
    if kind == "CephBlockPool" and isinstance(dig(obj, "spec", "replicated"), dict):
        size = as_int(dig(obj, "spec", "replicated", "size"))
        minimum, path = as_int(dig(obj, "spec", "parameters", "min_size")), "spec.parameters.min_size"
    elif kind == "CephPool" and dig(obj, "spec", "type") != "erasure":
        size = as_int(dig(obj, "spec", "size"))
        minimum, path = as_int(dig(obj, "spec", "min_size")), "spec.min_size"
    else:
        return
    if minimum is None and size is not None:
        minimum = size - size // 2  # Ceph's default
    if minimum is not None and minimum < want:
        name = dig(obj, "metadata", "name") or "?"
        yield Violation(
            address=resource["address"],
            message=f"pool `{name}` accepts writes with {minimum} copy(ies) (min_size); keep at least {want}",
            severity=Severity.WARN,
            path=path,
        )


def settings(config):
    """(checks, min_size) from the policy's config; raises Err on a bad one."""
    if config is None:
        config = {}
    if not isinstance(config, dict):
        raise Err(f"config must be an object, not {json.dumps(config)}")
    unknown = sorted(set(config) - {"min_size", "checks"})
    if unknown:
        raise Err(f"unknown config key `{unknown[0]}`; the keys are `min_size` and `checks`")
    want = config.get("min_size", 2)
    if isinstance(want, bool) or not isinstance(want, int) or want < 1:
        raise Err(f"config `min_size` must be an integer >= 1, not {json.dumps(want)}")
    checks = config.get("checks", list(CHECKS))
    if not isinstance(checks, list) or any(c not in CHECKS for c in checks):
        raise Err(f"config `checks` must be a list of {', '.join(CHECKS)}, not {json.dumps(checks)}")
    return checks, want


class WitWorld(wit_world.WitWorld):
    def describe(self) -> Info:
        return Info(
            name="example-python",
            version="0.1.0",
            description="Images name a tag other than `latest` (deny); replicated pools keep min_size >= config.min_size (warn).",
        )

    def evaluate(self, input: str) -> list[Violation]:
        try:
            doc = json.loads(input)
        except ValueError as e:
            raise Err(f"the input is not JSON: {e}")
        checks, want = settings(doc.get("config"))
        out = []
        for resource in doc.get("resources", []):
            if "image-tag" in checks:
                out.extend(image_tags(resource))
            if "min-size" in checks:
                out.extend(min_size(resource, want))
        wit_world.log(f"{doc.get('phase')}: {len(doc.get('resources', []))} resources, {len(out)} violation(s)")
        return out
