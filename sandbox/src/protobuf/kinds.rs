//! The `k8s-pb` message of each built-in kind the sandbox serves, by group, version and kind.

use prost::Message;

/// Decodes `raw` as the message of a kind and prints it with `Debug` (see [`super::debug`]);
/// `None` when the sandbox serves no such built-in kind.
pub fn decode_debug(group: &str, version: &str, kind: &str, raw: &[u8]) -> Option<Result<String, prost::DecodeError>> {
    use k8s_pb::api::{apps, autoscaling, batch, coordination, core, events, networking, policy, rbac, storage};
    use k8s_pb::apiextensions_apiserver::pkg::apis::apiextensions;
    fn debug<T: Message + Default + std::fmt::Debug>(raw: &[u8]) -> Result<String, prost::DecodeError> {
        T::decode(raw).map(|m| format!("{m:?}"))
    }
    Some(match (group, version, kind) {
        ("", "v1", "Namespace") => debug::<core::v1::Namespace>(raw),
        ("", "v1", "ConfigMap") => debug::<core::v1::ConfigMap>(raw),
        ("", "v1", "Secret") => debug::<core::v1::Secret>(raw),
        ("", "v1", "Service") => debug::<core::v1::Service>(raw),
        ("", "v1", "ServiceAccount") => debug::<core::v1::ServiceAccount>(raw),
        ("", "v1", "Pod") => debug::<core::v1::Pod>(raw),
        ("", "v1", "PersistentVolumeClaim") => debug::<core::v1::PersistentVolumeClaim>(raw),
        ("", "v1", "PersistentVolume") => debug::<core::v1::PersistentVolume>(raw),
        ("", "v1", "Event") => debug::<core::v1::Event>(raw),
        ("", "v1", "ResourceQuota") => debug::<core::v1::ResourceQuota>(raw),
        ("", "v1", "LimitRange") => debug::<core::v1::LimitRange>(raw),
        ("", "v1", "Endpoints") => debug::<core::v1::Endpoints>(raw),
        ("", "v1", "Node") => debug::<core::v1::Node>(raw),
        ("apps", "v1", "Deployment") => debug::<apps::v1::Deployment>(raw),
        ("apps", "v1", "StatefulSet") => debug::<apps::v1::StatefulSet>(raw),
        ("apps", "v1", "ReplicaSet") => debug::<apps::v1::ReplicaSet>(raw),
        ("apps", "v1", "DaemonSet") => debug::<apps::v1::DaemonSet>(raw),
        ("apps", "v1", "ControllerRevision") => debug::<apps::v1::ControllerRevision>(raw),
        ("batch", "v1", "Job") => debug::<batch::v1::Job>(raw),
        ("batch", "v1", "CronJob") => debug::<batch::v1::CronJob>(raw),
        ("storage.k8s.io", "v1", "StorageClass") => debug::<storage::v1::StorageClass>(raw),
        ("coordination.k8s.io", "v1", "Lease") => debug::<coordination::v1::Lease>(raw),
        ("events.k8s.io", "v1", "Event") => debug::<events::v1::Event>(raw),
        ("networking.k8s.io", "v1", "Ingress") => debug::<networking::v1::Ingress>(raw),
        ("networking.k8s.io", "v1", "NetworkPolicy") => debug::<networking::v1::NetworkPolicy>(raw),
        ("policy", "v1", "PodDisruptionBudget") => debug::<policy::v1::PodDisruptionBudget>(raw),
        ("autoscaling", "v2", "HorizontalPodAutoscaler") => debug::<autoscaling::v2::HorizontalPodAutoscaler>(raw),
        ("rbac.authorization.k8s.io", "v1", "Role") => debug::<rbac::v1::Role>(raw),
        ("rbac.authorization.k8s.io", "v1", "RoleBinding") => debug::<rbac::v1::RoleBinding>(raw),
        ("rbac.authorization.k8s.io", "v1", "ClusterRole") => debug::<rbac::v1::ClusterRole>(raw),
        ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding") => debug::<rbac::v1::ClusterRoleBinding>(raw),
        ("apiextensions.k8s.io", "v1", "CustomResourceDefinition") => debug::<apiextensions::v1::CustomResourceDefinition>(raw),
        _ => return None,
    })
}
