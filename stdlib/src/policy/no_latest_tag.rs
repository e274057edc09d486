//! `std:no-latest-tag`: every container image names a tag other than `latest` (or a digest).

use super::workloads::{containers, pod_spec, pod_spec_path};
use super::{info, Info, Input, Policy, Severity, Violation};

pub struct NoLatestTag;

/// What is wrong with an image reference's tag for reproducible deploys: none, `latest` or
/// empty (a digest is always fine). Also the compiler's warning W0406.
pub fn image_tag_problem(image: &str) -> Option<&'static str> {
    if image.contains('@') {
        return None;
    }
    let last = image.rsplit('/').next().unwrap_or(image);
    match last.split_once(':') {
        None => Some("has no tag (Kubernetes pulls `latest`)"),
        Some((_, "latest")) => Some("uses the `latest` tag"),
        Some((_, "")) => Some("has an empty tag"),
        Some(_) => None,
    }
}

impl Policy for NoLatestTag {
    fn describe(&self) -> Info {
        info("no-latest-tag", "Every container image names a tag other than `latest`, or a digest.")
    }

    fn evaluate(&self, input: &Input) -> Result<Vec<Violation>, String> {
        let mut out = Vec::new();
        for r in &input.resources {
            let Some(spec) = pod_spec(r) else { continue };
            for (list, c) in containers(spec) {
                let name = c.get("name").and_then(|n| n.as_str()).unwrap_or("?");
                let image = c.get("image").and_then(|i| i.as_str()).unwrap_or("");
                if let Some(why) = image_tag_problem(image) {
                    out.push(Violation {
                        address: r.address.clone(),
                        message: format!("{} {}: container `{name}` image `{image}` {why}; pin a version", r.kind, object_name(r)),
                        severity: Severity::Deny,
                        path: Some(format!("{}.{list}[name={name}].image", pod_spec_path(&r.kind))),
                    });
                }
            }
        }
        Ok(out)
    }
}

/// `namespace/name` or `name` of a resource's object.
pub fn object_name(r: &super::Resource) -> String {
    let name = r.object.pointer("/metadata/name").and_then(|n| n.as_str()).unwrap_or("?");
    match r.object.pointer("/metadata/namespace").and_then(|n| n.as_str()) {
        Some(ns) => format!("{ns}/{name}"),
        None => name.to_string(),
    }
}
