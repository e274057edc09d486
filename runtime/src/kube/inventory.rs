//! The inventory (DESIGN.md §2 step 7): the Secret `cairn-inventory-<stack>` in `cairn-system`,
//! ApplySet-style. It records the group-kinds and namespaces the stack wrote, so a later plan
//! LISTs kinds the stack no longer declares and finds what to delete, and the stack's key for
//! secret HMACs. It carries no stack label: it is bookkeeping, never planned.

use std::collections::BTreeSet;

use base64::Engine;
use kube::api::{Patch, PatchParams, PostParams};
use serde_json::{json, Value as Json};

use super::retry::{write_as, WriteError};
use super::{retry, retry_as, Kube, KubeError};
use crate::fence::Fence;
use crate::model::{GroupKind, FIELD_MANAGER, SYSTEM_NAMESPACE};

/// What the inventory holds.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Inventory {
    pub kinds: BTreeSet<GroupKind>,
    pub namespaces: BTreeSet<String>,
    /// The key for secret HMACs; `None` before the first apply.
    pub key: Option<Vec<u8>>,
}

/// The Secret's name.
pub fn name(stack: &str) -> String {
    format!("cairn-inventory-{stack}")
}

/// A fresh random key (32 bytes from the OS).
pub fn new_key() -> Result<Vec<u8>, KubeError> {
    let mut key = vec![0u8; 32];
    getrandom::getrandom(&mut key).map_err(|e| KubeError::Other { what: "make the stack's secret key".into(), message: e.to_string() })?;
    Ok(key)
}

/// Reads the inventory; an empty one when the Secret (or `cairn-system`) does not exist.
pub async fn read(kube: &Kube, stack: &str) -> Result<Inventory, KubeError> {
    let api: kube::Api<k8s_openapi::api::core::v1::Secret> = kube::Api::namespaced(kube.client().clone(), SYSTEM_NAMESPACE);
    let secret_name = name(stack);
    let secret = match retry(|| api.get_opt(&secret_name)).await {
        Ok(Some(s)) => s,
        Ok(None) => return Ok(Inventory::default()),
        Err(e) => return Err(KubeError::of(format!("read the inventory Secret {SYSTEM_NAMESPACE}/{}", name(stack)), e)),
    };
    let data = secret.data.unwrap_or_default();
    let text = |k: &str| data.get(k).map(|b| String::from_utf8_lossy(&b.0).into_owned()).unwrap_or_default();
    Ok(Inventory {
        kinds: text("kinds").lines().filter_map(GroupKind::parse).collect(),
        namespaces: text("namespaces").lines().filter(|l| !l.is_empty()).map(str::to_string).collect(),
        key: data.get("key").map(|b| b.0.clone()).filter(|k| !k.is_empty()),
    })
}

/// Writes the inventory (creating `cairn-system` when needed), with server-side apply, under the
/// stack's lock: nothing is written once `fence` is broken.
pub async fn write(kube: &Kube, stack: &str, inv: &Inventory, fence: &Fence) -> Result<(), KubeError> {
    fence.check().map_err(|lost| KubeError::Other { what: "write the inventory".into(), message: lost.to_string() })?;
    ensure_system_namespace(kube).await?;
    let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s.as_bytes());
    let kinds: Vec<String> = inv.kinds.iter().map(ToString::to_string).collect();
    let namespaces: Vec<&str> = inv.namespaces.iter().map(String::as_str).collect();
    let mut data = serde_json::Map::new();
    data.insert("kinds".into(), Json::String(b64(&kinds.join("\n"))));
    data.insert("namespaces".into(), Json::String(b64(&namespaces.join("\n"))));
    if let Some(key) = &inv.key {
        data.insert("key".into(), Json::String(base64::engine::general_purpose::STANDARD.encode(key)));
    }
    let body = json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name(stack),
            "namespace": SYSTEM_NAMESPACE,
            "labels": {"app.kubernetes.io/managed-by": "cairn"},
            "annotations": {"cairn.dev/inventory-of": stack, "cairn.dev/contains-group-kinds": kinds.join(",")},
        },
        "type": "Opaque",
        "data": data,
    });
    let api: kube::Api<k8s_openapi::api::core::v1::Secret> = kube::Api::namespaced(kube.client().clone(), SYSTEM_NAMESPACE);
    let params = PatchParams::apply(FIELD_MANAGER).force();
    let secret_name = name(stack);
    let patch = Patch::Apply(&body);
    let what = format!("the inventory Secret {SYSTEM_NAMESPACE}/{secret_name}");
    match write_as(&format!("PATCH {what}"), fence, || api.patch(&secret_name, &params, &patch)).await {
        Ok(_) => Ok(()),
        Err(WriteError::Lost(lost)) => Err(KubeError::Other { what: format!("write {what}"), message: lost.to_string() }),
        Err(WriteError::Kube(e)) => Err(KubeError::of(format!("write {what}"), e)),
    }
}

/// The stack's key for secret HMACs, made and stored now if the inventory has none: `candidate`
/// when this call stored it, else the key someone else stored first. Safe without the lock — two
/// `plan -o` of a new stack at once agree on one key — because the Secret is created, never
/// overwritten, and a key is added to an existing one only with its `resourceVersion`.
pub async fn ensure_key(kube: &Kube, stack: &str, candidate: &[u8]) -> Result<Vec<u8>, KubeError> {
    ensure_system_namespace(kube).await?;
    let api: kube::Api<k8s_openapi::api::core::v1::Secret> = kube::Api::namespaced(kube.client().clone(), SYSTEM_NAMESPACE);
    let secret_name = name(stack);
    let what = format!("the inventory Secret {SYSTEM_NAMESPACE}/{secret_name}");
    let key_b64 = base64::engine::general_purpose::STANDARD.encode(candidate);
    for _ in 0..10 {
        let existing =
            retry_as(&format!("GET {what}"), || api.get_opt(&secret_name)).await.map_err(|e| KubeError::of(format!("read {what}"), e))?;
        let attempt = match existing {
            Some(secret) => {
                if let Some(key) = secret.data.as_ref().and_then(|d| d.get("key")).map(|b| b.0.clone()).filter(|k| !k.is_empty()) {
                    return Ok(key);
                }
                // A PUT carries the resourceVersion read: it fails if the Secret changed since.
                let mut secret = secret;
                secret.data.get_or_insert_with(Default::default).insert("key".into(), k8s_openapi::ByteString(candidate.to_vec()));
                let params = PostParams { field_manager: Some(FIELD_MANAGER.into()), ..PostParams::default() };
                api.replace(&secret_name, &params, &secret).await.map(|_| ())
            }
            None => {
                let body = json!({
                    "apiVersion": "v1",
                    "kind": "Secret",
                    "metadata": {
                        "name": secret_name,
                        "namespace": SYSTEM_NAMESPACE,
                        "labels": {"app.kubernetes.io/managed-by": "cairn"},
                        "annotations": {"cairn.dev/inventory-of": stack},
                    },
                    "type": "Opaque",
                    "data": {"key": key_b64},
                });
                let secret = serde_json::from_value(body)
                    .map_err(|e| KubeError::Other { what: format!("create {what}"), message: e.to_string() })?;
                let params = PostParams { field_manager: Some(FIELD_MANAGER.into()), ..PostParams::default() };
                api.create(&params, &secret).await.map(|_| ())
            }
        };
        match attempt {
            Ok(()) => return Ok(candidate.to_vec()),
            // Someone else created it or added a key first: read theirs.
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(e) if super::retry::transient(&e) => tokio::time::sleep(std::time::Duration::from_millis(200)).await,
            Err(e) => return Err(KubeError::of(format!("store the stack's key in {what}"), e)),
        }
    }
    Err(KubeError::Other { what: format!("store the stack's key in {what}"), message: "it kept changing under us; try again".into() })
}

/// Creates the namespace `cairn-system` if it does not exist (never deleted by cairn).
pub async fn ensure_system_namespace(kube: &Kube) -> Result<(), KubeError> {
    let api: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(kube.client().clone());
    if retry(|| api.get_opt(SYSTEM_NAMESPACE)).await.map_err(|e| KubeError::of(format!("read namespace {SYSTEM_NAMESPACE}"), e))?.is_some()
    {
        return Ok(());
    }
    let body = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": SYSTEM_NAMESPACE, "labels": {"app.kubernetes.io/managed-by": "cairn"}}});
    let dynapi: kube::Api<kube::api::DynamicObject> =
        kube::Api::all_with(kube.client().clone(), &kube::api::ApiResource::erase::<k8s_openapi::api::core::v1::Namespace>(&()));
    let params = PatchParams::apply(FIELD_MANAGER);
    let patch = Patch::Apply(&body);
    retry(|| dynapi.patch(SYSTEM_NAMESPACE, &params, &patch))
        .await
        .map_err(|e| KubeError::of(format!("create namespace {SYSTEM_NAMESPACE}"), e))?;
    Ok(())
}
