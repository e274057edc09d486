//! An object's identity: [`ObjectKey`] (apiVersion, kind, namespace, name) and [`GroupKind`].
//! The compiler's lowered objects, the planner's steps and the inventory all name objects with
//! these.

use serde::{Deserialize, Serialize};
use serde_json::Value as Json;

/// Names one Kubernetes object.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ObjectKey {
    /// `apps/v1`, `v1`.
    pub api_version: String,
    /// `Deployment`, `ConfigMap`.
    pub kind: String,
    /// `None` for cluster-scoped objects.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// `metadata.name`.
    pub name: String,
}

impl ObjectKey {
    /// The key of a JSON object (`apiVersion`, `kind`, `metadata.namespace`, `metadata.name`).
    pub fn of(body: &Json) -> Option<ObjectKey> {
        Some(ObjectKey {
            api_version: body.get("apiVersion")?.as_str()?.to_string(),
            kind: body.get("kind")?.as_str()?.to_string(),
            namespace: body.pointer("/metadata/namespace").and_then(Json::as_str).map(str::to_string),
            name: body.pointer("/metadata/name")?.as_str()?.to_string(),
        })
    }

    /// The API group (`""` for the core group).
    pub fn group(&self) -> &str {
        self.api_version.rsplit_once('/').map_or("", |(g, _)| g)
    }

    /// The group and kind, `Deployment.apps` or `ConfigMap` (the form ApplySets record).
    pub fn group_kind(&self) -> GroupKind {
        GroupKind { group: self.group().to_string(), kind: self.kind.clone() }
    }

    /// `Kind/namespace/name`, or `Kind/name` for cluster-scoped objects, as plans print it.
    pub fn id(&self) -> String {
        match &self.namespace {
            Some(ns) => format!("{}/{ns}/{}", self.kind, self.name),
            None => format!("{}/{}", self.kind, self.name),
        }
    }
}

impl std::fmt::Display for ObjectKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.id())
    }
}

/// A group and kind (no version): what the inventory records and discovery resolves.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct GroupKind {
    /// `apps`, or `""` for the core group.
    pub group: String,
    /// `Deployment`.
    pub kind: String,
}

impl GroupKind {
    /// Parses `Kind.group` or `Kind`.
    pub fn parse(s: &str) -> Option<GroupKind> {
        let (kind, group) = s.split_once('.').unwrap_or((s, ""));
        (!kind.is_empty()).then(|| GroupKind { group: group.to_string(), kind: kind.to_string() })
    }
}

impl std::fmt::Display for GroupKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.group.is_empty() {
            f.write_str(&self.kind)
        } else {
            write!(f, "{}.{}", self.kind, self.group)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_read_from_bodies_and_print_as_plans_do() {
        let body = serde_json::json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web", "namespace": "shop"}});
        let key = ObjectKey::of(&body).unwrap();
        assert_eq!(key.id(), "Deployment/shop/web");
        assert_eq!(key.group_kind().to_string(), "Deployment.apps");
        assert_eq!(GroupKind::parse("ConfigMap").unwrap().to_string(), "ConfigMap");
        assert_eq!(GroupKind::parse("Deployment.apps"), Some(key.group_kind()));
        assert_eq!(GroupKind::parse(""), None);
        assert_eq!(ObjectKey::of(&serde_json::json!({"kind": "X"})), None);
    }
}
