//! Where the built-in kinds hold `resource.Quantity` values.

use serde_json::Value;

/// A path through an object: field names, `[]` for each list item, `*` for each map value.
type Pattern = &'static [&'static str];

/// Quantity paths inside any pod spec, with whether the value sits in a `ResourceList`.
const POD_SPEC: &[(Pattern, bool)] = &[
    (&["containers", "[]", "resources", "limits", "*"], true),
    (&["containers", "[]", "resources", "requests", "*"], true),
    (&["initContainers", "[]", "resources", "limits", "*"], true),
    (&["initContainers", "[]", "resources", "requests", "*"], true),
    (&["ephemeralContainers", "[]", "resources", "limits", "*"], true),
    (&["ephemeralContainers", "[]", "resources", "requests", "*"], true),
    (&["overhead", "*"], true),
    (&["resources", "limits", "*"], true),
    (&["resources", "requests", "*"], true),
    (&["volumes", "[]", "emptyDir", "sizeLimit"], false),
    (&["volumes", "[]", "ephemeral", "volumeClaimTemplate", "spec", "resources", "requests", "*"], true),
    (&["volumes", "[]", "ephemeral", "volumeClaimTemplate", "spec", "resources", "limits", "*"], true),
];

/// Quantity paths inside a claim (`PersistentVolumeClaim`), from its root.
const CLAIM: &[(Pattern, bool)] = &[
    (&["spec", "resources", "requests", "*"], true),
    (&["spec", "resources", "limits", "*"], true),
    (&["status", "capacity", "*"], true),
    (&["status", "allocatedResources", "*"], true),
];

/// Where this kind's pod spec is, if it has one.
fn pod_spec_prefix(group: &str, kind: &str) -> Option<Pattern> {
    Some(match (group, kind) {
        ("", "Pod") => &["spec"],
        ("", "PodTemplate") => &["template", "spec"],
        ("", "ReplicationController") | ("apps", "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet") | ("batch", "Job") => {
            &["spec", "template", "spec"]
        }
        ("batch", "CronJob") => &["spec", "jobTemplate", "spec", "template", "spec"],
        _ => return None,
    })
}

/// Calls `f` on every quantity an object of `group`/`kind` holds, with `true` for values of a
/// `ResourceList` (which kube-apiserver also rounds up to milli-units).
pub(crate) fn for_each_quantity(group: &str, kind: &str, obj: &mut Value, f: &mut dyn FnMut(&mut Value, bool)) {
    if let Some(prefix) = pod_spec_prefix(group, kind) {
        for (pattern, list) in POD_SPEC {
            let path: Vec<&str> = prefix.iter().chain(pattern.iter()).copied().collect();
            walk(obj, &path, *list, f);
        }
    }
    match (group, kind) {
        ("", "PersistentVolumeClaim") => {
            for (pattern, list) in CLAIM {
                walk(obj, pattern, *list, f);
            }
        }
        ("apps", "StatefulSet") => {
            for (pattern, list) in CLAIM {
                let path: Vec<&str> = ["spec", "volumeClaimTemplates", "[]"].iter().chain(pattern.iter()).copied().collect();
                walk(obj, &path, *list, f);
            }
        }
        ("", "PersistentVolume") => walk(obj, &["spec", "capacity", "*"], true, f),
        ("", "ResourceQuota") => {
            for pattern in [&["spec", "hard", "*"][..], &["status", "hard", "*"], &["status", "used", "*"]] {
                walk(obj, pattern, true, f);
            }
        }
        ("", "LimitRange") => {
            for field in ["max", "min", "default", "defaultRequest", "maxLimitRequestRatio"] {
                walk(obj, &["spec", "limits", "[]", field, "*"], true, f);
            }
        }
        ("", "Node") => {
            walk(obj, &["status", "capacity", "*"], true, f);
            walk(obj, &["status", "allocatable", "*"], true, f);
        }
        _ => {}
    }
}

fn walk(node: &mut Value, path: &[&str], list: bool, f: &mut dyn FnMut(&mut Value, bool)) {
    let Some((head, rest)) = path.split_first() else {
        if !node.is_null() {
            f(node, list);
        }
        return;
    };
    match *head {
        "[]" => {
            for item in node.as_array_mut().into_iter().flatten() {
                walk(item, rest, list, f);
            }
        }
        "*" => {
            for value in node.as_object_mut().into_iter().flat_map(|m| m.values_mut()) {
                walk(value, rest, list, f);
            }
        }
        field => {
            if let Some(next) = node.get_mut(field) {
                walk(next, rest, list, f);
            }
        }
    }
}
