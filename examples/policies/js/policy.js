// Example cairn policy in JavaScript (componentize-js), implementing `stdlib/wit/policy.wit`.
//
// Two checks, the same in the Python and Rust examples:
//
// - `image-tag`: every container and init container image names a tag other than `latest`, or a
//   digest; a violation is a deny.
// - `min-size`: every replicated pool (Rook `CephBlockPool`, direct-mode `CephPool`) accepts
//   writes only with at least `config.min_size` copies (default 2; an unset `min_size` is Ceph's
//   default `size - floor(size / 2)`); a violation is a warning.
//
// `config` (the policy block's `config`, all optional): `min_size` (an integer >= 1) and `checks`
// (a list of check names, default both). Anything else is an error: `err(reason)`, which cairn
// reports as the policy failing, naming it.

// The world's `import log: func(message: string)`.
import log from "log";

const CHECKS = ["image-tag", "min-size"];

// Where each kind keeps its pod spec.
const POD_SPEC = {
  Deployment: ["spec", "template", "spec"],
  StatefulSet: ["spec", "template", "spec"],
  DaemonSet: ["spec", "template", "spec"],
  ReplicaSet: ["spec", "template", "spec"],
  Job: ["spec", "template", "spec"],
  CronJob: ["spec", "jobTemplate", "spec", "template", "spec"],
  Pod: ["spec"],
};

// A `result`'s `err(reason)`: componentize-js returns a thrown value's `payload` as the error.
class Failure {
  constructor(reason) {
    this.payload = reason;
  }
}

function dig(value, ...keys) {
  for (const key of keys) {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
    value = value[key];
  }
  return value;
}

// An integer, also from a string (Rook's `parameters` are strings).
function asInt(value) {
  if (Number.isInteger(value)) return value;
  if (typeof value === "string" && /^-?\d+$/.test(value.trim())) return parseInt(value, 10);
  return undefined;
}

// Why an image reference is not pinned, or undefined when it is.
function tagProblem(image) {
  if (image.includes("@")) return undefined;
  const last = image.slice(image.lastIndexOf("/") + 1);
  const colon = last.indexOf(":");
  if (colon < 0) return "has no tag, so Kubernetes pulls `latest`";
  const tag = last.slice(colon + 1);
  if (tag === "latest") return "uses the `latest` tag";
  if (tag === "") return "has an empty tag";
  return undefined;
}

function imageTags(resource, out) {
  const path = POD_SPEC[resource.kind];
  const spec = path && dig(resource.object, ...path);
  if (!spec || typeof spec !== "object") return;
  for (const field of ["initContainers", "containers"]) {
    for (const container of spec[field] || []) {
      const name = container.name ?? "?";
      const image = container.image || "";
      const why = tagProblem(image);
      if (why) {
        out.push({
          address: resource.address,
          message: `container \`${name}\` image \`${image}\` ${why}; pin a version`,
          severity: "deny",
          path: `${path.join(".")}.${field}[name=${name}].image`,
        });
      }
    }
  }
}

function minSize(resource, want, out) {
  const obj = resource.object || {};
  let size, minimum, path;
  if (resource.kind === "CephBlockPool" && typeof dig(obj, "spec", "replicated") === "object") {
    size = asInt(dig(obj, "spec", "replicated", "size"));
    minimum = asInt(dig(obj, "spec", "parameters", "min_size"));
    path = "spec.parameters.min_size";
  } else if (resource.kind === "CephPool" && dig(obj, "spec", "type") !== "erasure") {
    size = asInt(dig(obj, "spec", "size"));
    minimum = asInt(dig(obj, "spec", "min_size"));
    path = "spec.min_size";
  } else {
    return;
  }
  if (minimum === undefined && size !== undefined) minimum = size - Math.floor(size / 2); // Ceph's default
  if (minimum !== undefined && minimum < want) {
    const name = dig(obj, "metadata", "name") ?? "?";
    out.push({
      address: resource.address,
      message: `pool \`${name}\` accepts writes with ${minimum} copy(ies) (min_size); keep at least ${want}`,
      severity: "warn",
      path,
    });
  }
}

// [checks, minSize] from the policy's config; throws a Failure on a bad one.
function settings(config) {
  config = config ?? {};
  if (typeof config !== "object" || Array.isArray(config)) {
    throw new Failure(`config must be an object, not ${JSON.stringify(config)}`);
  }
  const unknown = Object.keys(config).filter((k) => k !== "min_size" && k !== "checks").sort();
  if (unknown.length > 0) {
    throw new Failure(`unknown config key \`${unknown[0]}\`; the keys are \`min_size\` and \`checks\``);
  }
  const want = config.min_size ?? 2;
  if (!Number.isInteger(want) || want < 1) {
    throw new Failure(`config \`min_size\` must be an integer >= 1, not ${JSON.stringify(want)}`);
  }
  const checks = config.checks ?? CHECKS;
  if (!Array.isArray(checks) || checks.some((c) => !CHECKS.includes(c))) {
    throw new Failure(`config \`checks\` must be a list of ${CHECKS.join(", ")}, not ${JSON.stringify(checks)}`);
  }
  return [checks, want];
}

export function describe() {
  return {
    name: "example-js",
    version: "0.1.0",
    description: "Images name a tag other than `latest` (deny); replicated pools keep min_size >= config.min_size (warn).",
  };
}

export function evaluate(input) {
  let doc;
  try {
    doc = JSON.parse(input);
  } catch (e) {
    throw new Failure(`the input is not JSON: ${e}`);
  }
  const [checks, want] = settings(doc.config);
  const resources = doc.resources || [];
  const out = [];
  for (const resource of resources) {
    if (checks.includes("image-tag")) imageTags(resource, out);
    if (checks.includes("min-size")) minSize(resource, want, out);
  }
  log(`${doc.phase}: ${resources.length} resources, ${out.length} violation(s)`);
  return out;
}
