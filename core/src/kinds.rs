//! The order kinds are applied in (LANGUAGE.md §8 and §10): the compiler sorts ready objects by
//! it, the planner deletes in its reverse.

/// The kinds in apply order; kinds on one line share a rank.
const ORDER: &[&[&str]] = &[
    &["Namespace"],
    &["CustomResourceDefinition"],
    &["CephBlockPool", "CephPool"],
    &["CephFilesystem", "CephFs"],
    &["CephObjectStore"],
    &["StorageClass"],
    &["ResourceQuota"],
    &["LimitRange"],
    &["ConfigMap"],
    &["Secret"],
    &["PersistentVolumeClaim"],
    &["ObjectBucketClaim"],
    &["Service"],
    &["StatefulSet"],
    &["Deployment"],
    &["DaemonSet"],
    &["Job"],
    &["CronJob"],
    &["HorizontalPodAutoscaler"],
    &["PodDisruptionBudget"],
    &["Ingress"],
];

/// The apply rank of a kind; lower comes first among ready objects. Kinds not listed (custom
/// resources included) come last, all with the same rank.
pub fn kind_rank(kind: &str) -> u8 {
    let rank = ORDER.iter().position(|same| same.contains(&kind)).unwrap_or(ORDER.len());
    u8::try_from(rank).unwrap_or(u8::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_first_workloads_last_unknown_kinds_after() {
        assert!(kind_rank("Namespace") < kind_rank("CustomResourceDefinition"));
        assert!(kind_rank("Secret") < kind_rank("Deployment"));
        assert!(kind_rank("Deployment") < kind_rank("Widget"));
        assert_eq!(kind_rank("CephPool"), kind_rank("CephBlockPool"));
        assert!(kind_rank("CephFs") < kind_rank("StorageClass"), "a file system before its storage class");
        assert!(kind_rank("StorageClass") < kind_rank("ObjectBucketClaim"), "a bucket class before its claims");
        assert!(kind_rank("ObjectBucketClaim") < kind_rank("Deployment"), "a bucket before the workloads that read it");
        assert!(kind_rank("Job") < kind_rank("Ingress") && kind_rank("Ingress") < kind_rank("Widget"));
    }
}
