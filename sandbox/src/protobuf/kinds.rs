//! The `k8s-pb` message of each built-in kind the sandbox serves, by group, version and kind.

use prost::Message;

use super::reflect::Decoder;

/// Decodes raw bytes as `T` and prints it with `Debug` (see [`super::debug`]).
fn debug<T: Message + Default + std::fmt::Debug>(raw: &[u8]) -> Result<String, prost::DecodeError> {
    T::decode(raw).map(|m| format!("{m:?}"))
}

/// Every built-in kind with a protobuf message: `(group, version, kind)`.
#[cfg(test)]
pub const ALL: &[(&str, &str, &str)] = &[
    ("", "v1", "Namespace"),
    ("", "v1", "ConfigMap"),
    ("", "v1", "Secret"),
    ("", "v1", "Service"),
    ("", "v1", "ServiceAccount"),
    ("", "v1", "Pod"),
    ("", "v1", "PersistentVolumeClaim"),
    ("", "v1", "PersistentVolume"),
    ("", "v1", "Event"),
    ("", "v1", "ResourceQuota"),
    ("", "v1", "LimitRange"),
    ("", "v1", "Endpoints"),
    ("", "v1", "Node"),
    ("apps", "v1", "Deployment"),
    ("apps", "v1", "StatefulSet"),
    ("apps", "v1", "ReplicaSet"),
    ("apps", "v1", "DaemonSet"),
    ("apps", "v1", "ControllerRevision"),
    ("batch", "v1", "Job"),
    ("batch", "v1", "CronJob"),
    ("storage.k8s.io", "v1", "StorageClass"),
    ("coordination.k8s.io", "v1", "Lease"),
    ("events.k8s.io", "v1", "Event"),
    ("networking.k8s.io", "v1", "Ingress"),
    ("networking.k8s.io", "v1", "NetworkPolicy"),
    ("networking.k8s.io", "v1", "IngressClass"),
    ("policy", "v1", "PodDisruptionBudget"),
    ("autoscaling", "v2", "HorizontalPodAutoscaler"),
    ("rbac.authorization.k8s.io", "v1", "Role"),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding"),
    ("apiextensions.k8s.io", "v1", "CustomResourceDefinition"),
    ("autoscaling", "v1", "Scale"),
];

/// The decoder of a kind's message; `None` when the sandbox serves no such built-in kind.
pub fn decoder(group: &str, version: &str, kind: &str) -> Option<Decoder> {
    use k8s_pb::api::{apps, autoscaling, batch, coordination, core, events, networking, policy, rbac, storage};
    use k8s_pb::apiextensions_apiserver::pkg::apis::apiextensions;
    Some(match (group, version, kind) {
        ("", "v1", "Namespace") => debug::<core::v1::Namespace>,
        ("", "v1", "ConfigMap") => debug::<core::v1::ConfigMap>,
        ("", "v1", "Secret") => debug::<core::v1::Secret>,
        ("", "v1", "Service") => debug::<core::v1::Service>,
        ("", "v1", "ServiceAccount") => debug::<core::v1::ServiceAccount>,
        ("", "v1", "Pod") => debug::<core::v1::Pod>,
        ("", "v1", "PersistentVolumeClaim") => debug::<core::v1::PersistentVolumeClaim>,
        ("", "v1", "PersistentVolume") => debug::<core::v1::PersistentVolume>,
        ("", "v1", "Event") => debug::<core::v1::Event>,
        ("", "v1", "ResourceQuota") => debug::<core::v1::ResourceQuota>,
        ("", "v1", "LimitRange") => debug::<core::v1::LimitRange>,
        ("", "v1", "Endpoints") => debug::<core::v1::Endpoints>,
        ("", "v1", "Node") => debug::<core::v1::Node>,
        ("apps", "v1", "Deployment") => debug::<apps::v1::Deployment>,
        ("apps", "v1", "StatefulSet") => debug::<apps::v1::StatefulSet>,
        ("apps", "v1", "ReplicaSet") => debug::<apps::v1::ReplicaSet>,
        ("apps", "v1", "DaemonSet") => debug::<apps::v1::DaemonSet>,
        ("apps", "v1", "ControllerRevision") => debug::<apps::v1::ControllerRevision>,
        ("batch", "v1", "Job") => debug::<batch::v1::Job>,
        ("batch", "v1", "CronJob") => debug::<batch::v1::CronJob>,
        ("storage.k8s.io", "v1", "StorageClass") => debug::<storage::v1::StorageClass>,
        ("coordination.k8s.io", "v1", "Lease") => debug::<coordination::v1::Lease>,
        ("events.k8s.io", "v1", "Event") => debug::<events::v1::Event>,
        ("networking.k8s.io", "v1", "Ingress") => debug::<networking::v1::Ingress>,
        ("networking.k8s.io", "v1", "NetworkPolicy") => debug::<networking::v1::NetworkPolicy>,
        ("networking.k8s.io", "v1", "IngressClass") => debug::<networking::v1::IngressClass>,
        ("policy", "v1", "Eviction") => debug::<policy::v1::Eviction>,
        ("policy", "v1beta1", "Eviction") => debug::<policy::v1beta1::Eviction>,
        ("policy", "v1", "PodDisruptionBudget") => debug::<policy::v1::PodDisruptionBudget>,
        ("autoscaling", "v2", "HorizontalPodAutoscaler") => debug::<autoscaling::v2::HorizontalPodAutoscaler>,
        ("rbac.authorization.k8s.io", "v1", "Role") => debug::<rbac::v1::Role>,
        ("rbac.authorization.k8s.io", "v1", "RoleBinding") => debug::<rbac::v1::RoleBinding>,
        ("rbac.authorization.k8s.io", "v1", "ClusterRole") => debug::<rbac::v1::ClusterRole>,
        ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding") => debug::<rbac::v1::ClusterRoleBinding>,
        ("apiextensions.k8s.io", "v1", "CustomResourceDefinition") => debug::<apiextensions::v1::CustomResourceDefinition>,
        ("autoscaling", "v1", "Scale") => debug::<autoscaling::v1::Scale>,
        _ => return None,
    })
}

/// The decoder of `meta.k8s.io/v1`'s `ListMeta`, written into every list.
pub fn list_meta() -> Decoder {
    debug::<k8s_pb::apimachinery::pkg::apis::meta::v1::ListMeta>
}

/// The decoder of `meta.k8s.io/v1`'s `Status`, the body of every error.
pub fn status() -> Decoder {
    debug::<k8s_pb::apimachinery::pkg::apis::meta::v1::Status>
}
