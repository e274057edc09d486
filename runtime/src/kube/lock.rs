//! The apply lock (DESIGN.md §2 step 11): the `coordination.k8s.io/v1 Lease` `cairn-<stack>` in
//! `cairn-system`, created on demand and never deleted. Taken with optimistic concurrency (a
//! PUT carrying the `resourceVersion` read), so of two applies at once exactly one wins; renewed
//! while held; released by clearing the holder. An expired lease (its holder died) is taken over.

use std::time::Duration;

use kube::api::{DynamicObject, PostParams};
use serde_json::{json, Value as Json};

use super::{inventory, retry, Kube, KubeError};
use crate::model::SYSTEM_NAMESPACE;

/// How long a lease lasts without renewal.
const LEASE_SECONDS: i64 = 30;
/// How often the holder renews it.
const RENEW_EVERY: Duration = Duration::from_secs(10);

/// Why the lock could not be taken.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LockError {
    #[error("stack `{stack}` is locked by {holder} (Lease {SYSTEM_NAMESPACE}/cairn-{stack}, renewed {renewed}, expires {expires})")]
    #[diagnostic(help("wait for that run to finish, or retry with --lock-timeout 5m to wait for it"))]
    Held { stack: String, holder: String, renewed: String, expires: String },
    #[error(transparent)]
    #[diagnostic(transparent)]
    Kube(#[from] KubeError),
}

/// Who this process is, as recorded in the lease: `user@host pid N`.
pub fn holder_identity() -> String {
    let user = std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".into());
    let host = std::fs::read_to_string("/etc/hostname")
        .ok()
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .or_else(|| std::env::var("HOSTNAME").ok())
        .unwrap_or_else(|| "localhost".into());
    format!("{user}@{host} pid {}", std::process::id())
}

/// A held lock; renewed in the background until [`Guard::release`] (or drop).
pub struct Guard {
    api: kube::Api<DynamicObject>,
    name: String,
    holder: String,
    renewer: tokio::task::JoinHandle<()>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

fn now() -> jiff::Timestamp {
    jiff::Timestamp::now()
}

fn micro_time(t: jiff::Timestamp) -> String {
    t.strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// Takes the lock, waiting up to `timeout` (0: fail at once) while another holder has it;
/// `on_wait` is told the holder once when waiting starts.
pub async fn acquire(kube: &Kube, stack: &str, holder: &str, timeout: Duration, on_wait: &mut dyn FnMut(&str)) -> Result<Guard, LockError> {
    inventory::ensure_system_namespace(kube).await?;
    let ar = kube::api::ApiResource::erase::<k8s_openapi::api::coordination::v1::Lease>(&());
    let api: kube::Api<DynamicObject> = kube::Api::namespaced_with(kube.client().clone(), SYSTEM_NAMESPACE, &ar);
    let name = format!("cairn-{stack}");
    let deadline = tokio::time::Instant::now() + timeout;
    let mut told = false;
    loop {
        let current = retry(|| api.get_opt(&name)).await.map_err(|e| KubeError::of(format!("read Lease {SYSTEM_NAMESPACE}/{name}"), e))?;
        let attempt = match current {
            None => {
                let lease: DynamicObject = serde_json::from_value(lease_body(&name, holder, None))
                    .map_err(|e| KubeError::Other { what: "lease".into(), message: e.to_string() })?;
                api.create(&PostParams::default(), &lease).await.map(|_| ())
            }
            Some(obj) => {
                let v = serde_json::to_value(&obj).unwrap_or_default();
                if let Some(held) = held_by_other(&v, holder) {
                    if tokio::time::Instant::now() >= deadline {
                        return Err(LockError::Held { stack: stack.to_string(), holder: held.0, renewed: held.1, expires: held.2 });
                    }
                    if !told {
                        on_wait(&held.0);
                        told = true;
                    }
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
                let rv = obj.metadata.resource_version.clone();
                let lease: DynamicObject = serde_json::from_value(lease_body(&name, holder, rv))
                    .map_err(|e| KubeError::Other { what: "lease".into(), message: e.to_string() })?;
                api.replace(&name, &PostParams::default(), &lease).await.map(|_| ())
            }
        };
        match attempt {
            Ok(()) => break,
            // Somebody else created or took it between our read and write: read again.
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(e) if super::retry::transient(&e) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            Err(e) => return Err(KubeError::of(format!("take Lease {SYSTEM_NAMESPACE}/{name}"), e).into()),
        }
    }
    let renewer = tokio::spawn(renew(api.clone(), name.clone(), holder.to_string()));
    Ok(Guard { api, name, holder: holder.to_string(), renewer })
}

/// `(holder, renewed, expires)` when someone else holds an unexpired lease.
fn held_by_other(lease: &Json, me: &str) -> Option<(String, String, String)> {
    let spec = lease.get("spec")?;
    let holder = spec.get("holderIdentity").and_then(Json::as_str).filter(|h| !h.is_empty())?;
    if holder == me {
        return None;
    }
    let renewed = spec.get("renewTime").or_else(|| spec.get("acquireTime")).and_then(Json::as_str).unwrap_or_default();
    let seconds = spec.get("leaseDurationSeconds").and_then(Json::as_i64).unwrap_or(LEASE_SECONDS);
    let expires = renewed.parse::<jiff::Timestamp>().ok().and_then(|t| t.checked_add(jiff::SignedDuration::from_secs(seconds)).ok());
    match expires {
        Some(e) if e <= now() => None,
        Some(e) => Some((holder.to_string(), renewed.to_string(), micro_time(e))),
        None => Some((holder.to_string(), renewed.to_string(), "unknown".into())),
    }
}

fn lease_body(name: &str, holder: &str, resource_version: Option<String>) -> Json {
    let t = micro_time(now());
    let mut metadata = json!({"name": name, "namespace": SYSTEM_NAMESPACE, "labels": {"app.kubernetes.io/managed-by": "cairn"}});
    if let Some(rv) = resource_version {
        metadata["resourceVersion"] = json!(rv);
    }
    json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": metadata,
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": LEASE_SECONDS, "acquireTime": t, "renewTime": t},
    })
}

/// Renews the lease while it is ours.
async fn renew(api: kube::Api<DynamicObject>, name: String, holder: String) {
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        let Ok(Some(mut obj)) = api.get_opt(&name).await else { continue };
        let mut v = serde_json::to_value(&obj).unwrap_or_default();
        if v.pointer("/spec/holderIdentity").and_then(Json::as_str) != Some(holder.as_str()) {
            return;
        }
        v["spec"]["renewTime"] = json!(micro_time(now()));
        if let Ok(o) = serde_json::from_value(v) {
            obj = o;
            let _ = api.replace(&name, &PostParams::default(), &obj).await;
        }
    }
}

impl Guard {
    /// Gives the lock back (clears the holder); the Lease object stays.
    pub async fn release(self) -> Result<(), KubeError> {
        self.renewer.abort();
        for _ in 0..5 {
            let obj = retry(|| self.api.get_opt(&self.name)).await.map_err(|e| KubeError::of(format!("read Lease {}", self.name), e))?;
            let Some(obj) = obj else { return Ok(()) };
            let mut v = serde_json::to_value(&obj).unwrap_or_default();
            if v.pointer("/spec/holderIdentity").and_then(Json::as_str) != Some(self.holder.as_str()) {
                return Ok(());
            }
            if let Some(spec) = v.get_mut("spec").and_then(Json::as_object_mut) {
                spec.remove("holderIdentity");
                spec.remove("renewTime");
                spec.remove("acquireTime");
            }
            let Ok(obj) = serde_json::from_value::<DynamicObject>(v) else { return Ok(()) };
            let params = PostParams::default();
            match retry(|| self.api.replace(&self.name, &params, &obj)).await {
                Ok(_) => return Ok(()),
                Err(kube::Error::Api(s)) if s.code == 409 => continue,
                Err(e) => return Err(KubeError::of(format!("release Lease {}", self.name), e)),
            }
        }
        Ok(())
    }
}
