//! The order kinds are applied in (LANGUAGE.md §8): the compiler sorts ready objects by it, the
//! planner deletes in its reverse.

/// The apply rank of a kind; lower comes first among ready objects. Kinds not listed (custom
/// resources included) come last, all with the same rank.
pub fn kind_rank(kind: &str) -> u8 {
    match kind {
        "Namespace" => 0,
        "CustomResourceDefinition" => 1,
        "CephBlockPool" | "CephPool" => 2,
        "StorageClass" => 3,
        "ResourceQuota" => 4,
        "LimitRange" => 5,
        "ConfigMap" => 6,
        "Secret" => 7,
        "PersistentVolumeClaim" => 8,
        "Service" => 9,
        "StatefulSet" => 10,
        "Deployment" => 11,
        _ => 12,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_first_workloads_last_unknown_kinds_after() {
        assert!(kind_rank("Namespace") < kind_rank("CustomResourceDefinition"));
        assert!(kind_rank("Secret") < kind_rank("Deployment"));
        assert!(kind_rank("Deployment") < kind_rank("Widget"));
        assert_eq!(kind_rank("Widget"), kind_rank("Job"));
    }
}
