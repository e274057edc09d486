//! `cairn import`'s read of a live cluster (DESIGN.md §8.3): whole objects of the kinds an
//! import knows, one LIST per kind and namespace (as `plan` reads), with every Secret's values
//! blanked the moment they arrive. The conversion itself is `cairn_compiler::import`.

use futures::stream::{self, StreamExt, TryStreamExt};
use serde_json::Value as Json;

use crate::engine::{connect_cluster, Connect, EngineError, Event};
use crate::kube::Kube;

/// The namespaced kinds an import reads by default: `(apiVersion, kind)`.
pub const NAMESPACED_KINDS: [(&str, &str); 22] = [
    ("v1", "ConfigMap"),
    ("v1", "Secret"),
    ("v1", "Service"),
    ("v1", "PersistentVolumeClaim"),
    ("v1", "ServiceAccount"),
    ("v1", "ResourceQuota"),
    ("v1", "LimitRange"),
    ("apps/v1", "Deployment"),
    ("apps/v1", "StatefulSet"),
    ("apps/v1", "DaemonSet"),
    ("batch/v1", "Job"),
    ("batch/v1", "CronJob"),
    ("autoscaling/v2", "HorizontalPodAutoscaler"),
    ("policy/v1", "PodDisruptionBudget"),
    ("networking.k8s.io/v1", "Ingress"),
    ("networking.k8s.io/v1", "NetworkPolicy"),
    ("rbac.authorization.k8s.io/v1", "Role"),
    ("rbac.authorization.k8s.io/v1", "RoleBinding"),
    ("objectbucket.io/v1alpha1", "ObjectBucketClaim"),
    ("ceph.rook.io/v1", "CephBlockPool"),
    ("ceph.rook.io/v1", "CephFilesystem"),
    ("ceph.rook.io/v1", "CephObjectStore"),
];

/// Namespaces an import of the whole cluster leaves alone.
const SYSTEM_NAMESPACES: [&str; 4] = ["kube-system", "kube-public", "kube-node-lease", "rook-ceph"];

/// What to read.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Namespaces; empty: every namespace but the system ones.
    pub namespaces: Vec<String>,
    /// A label selector for every LIST (`--selector`).
    pub selector: Option<String>,
    /// Kinds (case-insensitive, singular: `deployment`); empty: [`NAMESPACED_KINDS`].
    pub kinds: Vec<String>,
}

/// What was read.
#[derive(Debug, Default)]
pub struct Read {
    /// Every object, Namespaces first.
    pub objects: Vec<Json>,
    /// LIST requests made (pages).
    pub requests: usize,
    /// Kinds the cluster does not serve (left out).
    pub unserved: Vec<String>,
}

/// Connects as every live command does and reads the selection.
pub async fn read(connect: &Connect, selection: &Selection, on_event: &mut dyn FnMut(&Event)) -> Result<Read, EngineError> {
    let kube = connect_cluster(connect, on_event).await?;
    Ok(read_from(&kube, selection).await?)
}

/// Reads the selection from a connected cluster.
pub async fn read_from(kube: &Kube, selection: &Selection) -> Result<Read, crate::kube::KubeError> {
    let mut read = Read::default();
    let namespaces_kind = kube.resolve("v1", "Namespace").await?;
    let mut namespaces = Vec::new();
    if let Some(r) = &namespaces_kind {
        let (all, pages) = crate::kube::read::list_whole(kube, r, None, None).await?;
        read.requests += pages;
        for ns in all {
            let name = ns.pointer("/metadata/name").and_then(Json::as_str).unwrap_or_default().to_string();
            let wanted = if selection.namespaces.is_empty() {
                !SYSTEM_NAMESPACES.contains(&name.as_str())
            } else {
                selection.namespaces.contains(&name)
            };
            if wanted {
                namespaces.push(name);
                read.objects.push(ns);
            }
        }
    }
    let mut kinds = Vec::new();
    for (api_version, kind) in NAMESPACED_KINDS {
        if !selection.kinds.is_empty() && !selection.kinds.iter().any(|k| k.eq_ignore_ascii_case(kind)) {
            continue;
        }
        match kube.resolve(api_version, kind).await? {
            Some(r) => kinds.push(r),
            None => read.unserved.push(format!("{kind} ({api_version})")),
        }
    }
    let jobs: Vec<_> = namespaces.iter().flat_map(|ns| kinds.iter().map(move |r| (ns, r))).collect();
    let lists: Vec<(Vec<Json>, usize)> =
        stream::iter(jobs.iter().map(|(ns, r)| crate::kube::read::list_whole(kube, r, Some(ns.as_str()), selection.selector.as_deref())))
            .buffered(8)
            .try_collect()
            .await?;
    for (items, pages) in lists {
        read.requests += pages;
        read.objects.extend(items.into_iter().map(blank_secret));
    }
    // Storage classes: what claims name (as `existing`), or all of them for a whole-cluster import.
    if let Some(r) = kube.resolve("storage.k8s.io/v1", "StorageClass").await? {
        if selection.namespaces.is_empty()
            && (selection.kinds.is_empty() || selection.kinds.iter().any(|k| k.eq_ignore_ascii_case("StorageClass")))
        {
            let (items, pages) = crate::kube::read::list_whole(kube, &r, None, selection.selector.as_deref()).await?;
            read.requests += pages;
            read.objects.extend(items);
        }
    }
    Ok(read)
}

/// A Secret with its values blanked (other objects as they are).
fn blank_secret(obj: Json) -> Json {
    if obj.get("kind").and_then(Json::as_str) == Some("Secret") {
        crate::plan::existing::blank_values(obj)
    } else {
        obj
    }
}
