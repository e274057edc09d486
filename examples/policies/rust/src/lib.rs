//! Example cairn policy in Rust, implementing `stdlib/wit/policy.wit` with `wit-bindgen`.
//!
//! Two checks, the same in the Python and JavaScript examples:
//!
//! - `image-tag`: every container and init container image names a tag other than `latest`, or a
//!   digest; a violation is a deny.
//! - `min-size`: every replicated pool (Rook `CephBlockPool`, direct-mode `CephPool`) accepts
//!   writes only with at least `config.min_size` copies (default 2; an unset `min_size` is Ceph's
//!   default `size - size / 2`); a violation is a warning.
//!
//! `config` (the policy block's `config`, all optional): `min_size` (an integer >= 1) and `checks`
//! (a list of check names, default both). Anything else is an error: `err(reason)`, which cairn
//! reports as the policy failing, naming it.
//!
//! Build: `cargo build --release --target wasm32-wasip2` (the component is
//! `target/wasm32-wasip2/release/cairn_example_policy.wasm`).

use serde_json::Value as Json;

mod bindings {
    wit_bindgen::generate!({
        world: "policy",
        path: "../../../stdlib/wit",
    });
}

use bindings::cairn::policy::types::{Info, Severity, Violation};
use bindings::{log, Guest};

const CHECKS: [&str; 2] = ["image-tag", "min-size"];

/// Where a kind keeps its pod spec.
fn pod_spec_path(kind: &str) -> Option<&'static [&'static str]> {
    match kind {
        "Deployment" | "StatefulSet" | "DaemonSet" | "ReplicaSet" | "Job" => Some(&["spec", "template", "spec"]),
        "CronJob" => Some(&["spec", "jobTemplate", "spec", "template", "spec"]),
        "Pod" => Some(&["spec"]),
        _ => None,
    }
}

fn dig<'a>(value: &'a Json, keys: &[&str]) -> Option<&'a Json> {
    keys.iter().try_fold(value, |v, k| v.as_object()?.get(*k))
}

/// An integer, also from a string (Rook's `parameters` are strings).
fn as_int(value: Option<&Json>) -> Option<i64> {
    match value? {
        Json::Number(n) => n.as_i64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Why an image reference is not pinned, or `None` when it is.
fn tag_problem(image: &str) -> Option<&'static str> {
    if image.contains('@') {
        return None;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => Some("has no tag, so Kubernetes pulls `latest`"),
        Some((_, "latest")) => Some("uses the `latest` tag"),
        Some((_, "")) => Some("has an empty tag"),
        Some(_) => None,
    }
}

fn image_tags(address: &str, kind: &str, object: &Json, out: &mut Vec<Violation>) {
    let Some(path) = pod_spec_path(kind) else { return };
    let Some(spec) = dig(object, path) else { return };
    for field in ["initContainers", "containers"] {
        for container in spec.get(field).and_then(Json::as_array).into_iter().flatten() {
            let name = container.get("name").and_then(Json::as_str).unwrap_or("?");
            let image = container.get("image").and_then(Json::as_str).unwrap_or("");
            if let Some(why) = tag_problem(image) {
                out.push(Violation {
                    address: address.to_string(),
                    message: format!("container `{name}` image `{image}` {why}; pin a version"),
                    severity: Severity::Deny,
                    path: Some(format!("{}.{field}[name={name}].image", path.join("."))),
                });
            }
        }
    }
}

fn min_size(address: &str, kind: &str, object: &Json, want: i64, out: &mut Vec<Violation>) {
    let (size, minimum, path) = match kind {
        "CephBlockPool" if dig(object, &["spec", "replicated"]).is_some_and(Json::is_object) => (
            as_int(dig(object, &["spec", "replicated", "size"])),
            as_int(dig(object, &["spec", "parameters", "min_size"])),
            "spec.parameters.min_size",
        ),
        "CephPool" if dig(object, &["spec", "type"]).and_then(Json::as_str) != Some("erasure") => {
            (as_int(dig(object, &["spec", "size"])), as_int(dig(object, &["spec", "min_size"])), "spec.min_size")
        }
        _ => return,
    };
    // Ceph's default min_size is size - size / 2.
    let Some(minimum) = minimum.or(size.map(|s| s - s / 2)) else { return };
    if minimum < want {
        let name = dig(object, &["metadata", "name"]).and_then(Json::as_str).unwrap_or("?");
        out.push(Violation {
            address: address.to_string(),
            message: format!("pool `{name}` accepts writes with {minimum} copy(ies) (min_size); keep at least {want}"),
            severity: Severity::Warn,
            path: Some(path.to_string()),
        });
    }
}

/// The checks to run and the minimum `min_size`, from the policy's config.
fn settings(config: &Json) -> Result<(Vec<String>, i64), String> {
    let empty = serde_json::Map::new();
    let config = match config {
        Json::Null => &empty,
        Json::Object(m) => m,
        other => return Err(format!("config must be an object, not {other}")),
    };
    if let Some(key) = config.keys().filter(|k| *k != "min_size" && *k != "checks").min() {
        return Err(format!("unknown config key `{key}`; the keys are `min_size` and `checks`"));
    }
    let want = match config.get("min_size") {
        None => 2,
        Some(v) => v.as_i64().filter(|n| *n >= 1).ok_or_else(|| format!("config `min_size` must be an integer >= 1, not {v}"))?,
    };
    let checks = match config.get("checks") {
        None => CHECKS.iter().map(|c| c.to_string()).collect(),
        Some(v) => v
            .as_array()
            .and_then(|a| a.iter().map(|c| c.as_str().filter(|c| CHECKS.contains(c)).map(str::to_string)).collect::<Option<Vec<_>>>())
            .ok_or_else(|| format!("config `checks` must be a list of {}, not {v}", CHECKS.join(", ")))?,
    };
    Ok((checks, want))
}

struct Policy;

impl Guest for Policy {
    fn describe() -> Info {
        Info {
            name: "example-rust".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            description: "Images name a tag other than `latest` (deny); replicated pools keep min_size >= config.min_size (warn).".into(),
        }
    }

    fn evaluate(input: String) -> Result<Vec<Violation>, String> {
        let doc: Json = serde_json::from_str(&input).map_err(|e| format!("the input is not JSON: {e}"))?;
        let (checks, want) = settings(doc.get("config").unwrap_or(&Json::Null))?;
        let resources = doc.get("resources").and_then(Json::as_array).map(Vec::as_slice).unwrap_or_default();
        let mut out = Vec::new();
        for r in resources {
            let address = r.get("address").and_then(Json::as_str).unwrap_or("?");
            let kind = r.get("kind").and_then(Json::as_str).unwrap_or("");
            let object = r.get("object").unwrap_or(&Json::Null);
            if checks.iter().any(|c| c == "image-tag") {
                image_tags(address, kind, object, &mut out);
            }
            if checks.iter().any(|c| c == "min-size") {
                min_size(address, kind, object, want, &mut out);
            }
        }
        let phase = doc.get("phase").and_then(Json::as_str).unwrap_or("?");
        log(&format!("{phase}: {} resources, {} violation(s)", resources.len(), out.len()));
        Ok(out)
    }
}

bindings::export!(Policy with_types_in bindings);
