//! Where a field is a Kubernetes quantity (`resource.Quantity` in the API's schema), so the
//! comparison reads it by value (`500m == 0.5`, `1Gi == 1024Mi`). Everywhere else a string is
//! compared as written: `"1.10"` in a ConfigMap is not `"1.1"`, an env value `"0.5"` is not
//! `"500m"`.
//!
//! One table, [`QUANTITY_PATHS`]: per API group and kinds, patterns of field paths from the
//! object's root. A pattern is dot-separated keys; `*` is any key, `name[]` is the key `name`
//! then any list item. Pod specs are listed once ([`POD_SPEC`]) and placed under each workload
//! kind's pod template ([`POD_TEMPLATES`]).

use super::path::Seg;

/// Quantity fields of a pod spec, relative to the spec.
const POD_SPEC: &[&str] = &[
    "containers[].resources.requests.*",
    "containers[].resources.limits.*",
    "initContainers[].resources.requests.*",
    "initContainers[].resources.limits.*",
    "ephemeralContainers[].resources.requests.*",
    "ephemeralContainers[].resources.limits.*",
    "resources.requests.*",
    "resources.limits.*",
    "overhead.*",
    "volumes[].emptyDir.sizeLimit",
    "volumes[].ephemeral.volumeClaimTemplate.spec.resources.requests.*",
    "volumes[].ephemeral.volumeClaimTemplate.spec.resources.limits.*",
];

/// Where each kind keeps its pod spec: group, kinds, path of the pod spec.
const POD_TEMPLATES: &[(&str, &[&str], &str)] = &[
    ("", &["Pod"], "spec"),
    ("", &["PodTemplate"], "template.spec"),
    ("", &["ReplicationController"], "spec.template.spec"),
    ("apps", &["Deployment", "ReplicaSet", "StatefulSet", "DaemonSet"], "spec.template.spec"),
    ("batch", &["Job"], "spec.template.spec"),
    ("batch", &["CronJob"], "spec.jobTemplate.spec.template.spec"),
];

/// Quantity fields outside pod specs: group, kinds, pattern from the object's root.
pub(crate) const QUANTITY_PATHS: &[(&str, &[&str], &str)] = &[
    ("", &["PersistentVolumeClaim"], "spec.resources.requests.*"),
    ("", &["PersistentVolumeClaim"], "spec.resources.limits.*"),
    ("", &["PersistentVolume"], "spec.capacity.*"),
    ("", &["ResourceQuota"], "spec.hard.*"),
    ("", &["LimitRange"], "spec.limits[].max.*"),
    ("", &["LimitRange"], "spec.limits[].min.*"),
    ("", &["LimitRange"], "spec.limits[].default.*"),
    ("", &["LimitRange"], "spec.limits[].defaultRequest.*"),
    ("", &["LimitRange"], "spec.limits[].maxLimitRequestRatio.*"),
    ("apps", &["StatefulSet"], "spec.volumeClaimTemplates[].spec.resources.requests.*"),
    ("apps", &["StatefulSet"], "spec.volumeClaimTemplates[].spec.resources.limits.*"),
    ("node.k8s.io", &["RuntimeClass"], "overhead.podFixed.*"),
    // Rook: pool quotas and daemon resources.
    ("ceph.rook.io", &["CephBlockPool"], "spec.quotas.maxSize"),
    ("ceph.rook.io", &["CephFilesystem"], "spec.metadataPool.quotas.maxSize"),
    ("ceph.rook.io", &["CephFilesystem"], "spec.dataPools[].quotas.maxSize"),
    ("ceph.rook.io", &["CephObjectStore"], "spec.metadataPool.quotas.maxSize"),
    ("ceph.rook.io", &["CephObjectStore"], "spec.dataPool.quotas.maxSize"),
    ("ceph.rook.io", &["CephCluster"], "spec.resources.*.requests.*"),
    ("ceph.rook.io", &["CephCluster"], "spec.resources.*.limits.*"),
];

/// Whether `segs` (a path from the root of an object of `group`/`kind`) is a quantity field.
pub(crate) fn is_quantity(group: &str, kind: &str, segs: &[Seg]) -> bool {
    let applies = |g: &str, kinds: &[&str]| g == group && kinds.contains(&kind);
    QUANTITY_PATHS.iter().filter(|(g, kinds, _)| applies(g, kinds)).any(|(_, _, pattern)| matches(&[pattern], segs))
        || POD_TEMPLATES
            .iter()
            .filter(|(g, kinds, _)| applies(g, kinds))
            .any(|(_, _, spec)| POD_SPEC.iter().any(|suffix| matches(&[spec, suffix], segs)))
}

/// Whether the path matches the patterns joined end to end.
fn matches(patterns: &[&str], segs: &[Seg]) -> bool {
    let mut rest = segs;
    for part in patterns.iter().flat_map(|p| p.split('.')) {
        let (key, item) = match part.strip_suffix("[]") {
            Some(k) => (k, true),
            None => (part, false),
        };
        match rest.split_first() {
            Some((Seg::Key(k), tail)) if key == "*" || key == k => rest = tail,
            _ => return false,
        }
        if item {
            match rest.split_first() {
                Some((Seg::Item(_) | Seg::Index(_), tail)) => rest = tail,
                _ => return false,
            }
        }
    }
    rest.is_empty()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn path(text: &str) -> Vec<Seg> {
        text.split('.')
            .flat_map(|p| match p.strip_suffix("[]") {
                Some(k) => vec![Seg::Key(k.into()), Seg::Item(vec![("name".into(), json!("x"))])],
                None => vec![Seg::Key(p.into())],
            })
            .collect()
    }

    #[test]
    fn resources_quotas_and_claims_are_quantities() {
        assert!(is_quantity("apps", "Deployment", &path("spec.template.spec.containers[].resources.requests.cpu")));
        assert!(is_quantity("batch", "CronJob", &path("spec.jobTemplate.spec.template.spec.initContainers[].resources.limits.memory")));
        assert!(is_quantity("", "Pod", &path("spec.volumes[].emptyDir.sizeLimit")));
        assert!(is_quantity("", "PersistentVolumeClaim", &path("spec.resources.requests.storage")));
        let hard = [Seg::Key("spec".into()), Seg::Key("hard".into()), Seg::Key("requests.cpu".into())];
        assert!(is_quantity("", "ResourceQuota", &hard));
        assert!(is_quantity("", "LimitRange", &path("spec.limits[].defaultRequest.memory")));
        assert!(is_quantity("apps", "StatefulSet", &path("spec.volumeClaimTemplates[].spec.resources.requests.storage")));
        assert!(is_quantity("ceph.rook.io", "CephBlockPool", &path("spec.quotas.maxSize")));
    }

    #[test]
    fn data_env_args_and_labels_are_not() {
        assert!(!is_quantity("", "ConfigMap", &path("data.version")));
        assert!(!is_quantity("apps", "Deployment", &path("spec.template.spec.containers[].env[].value")));
        assert!(!is_quantity("apps", "Deployment", &path("spec.template.spec.containers[].resources")));
        assert!(!is_quantity("apps", "Deployment", &path("metadata.labels.version")));
        // The right path under another kind or group does not count.
        assert!(!is_quantity("example.com", "Deployment", &path("spec.template.spec.containers[].resources.requests.cpu")));
        assert!(!is_quantity("", "Pod", &path("spec.template.spec.containers[].resources.requests.cpu")));
    }
}
