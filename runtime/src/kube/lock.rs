//! The apply lock (DESIGN.md §2 step 11): the `coordination.k8s.io/v1 Lease` `cairn-<stack>` in
//! `cairn-system`, created on demand and never deleted. Taken with optimistic concurrency (a
//! PUT carrying the `resourceVersion` read), so of two applies at once exactly one wins; renewed
//! while held; released by clearing the holder.
//!
//! Fenced, as client-go's leader election: the holder's writes go through a [`Fence`] that
//! breaks when renewal has not succeeded within the renew deadline or someone else holds the
//! lease; and another apply takes a lease over only after watching it unchanged for a whole
//! lease duration by its own clock — never because the holder's `renewTime` looks old, which
//! clock skew would make unsafe.

use std::time::{Duration, Instant};

use kube::api::{DynamicObject, PostParams};
use serde_json::{json, Value as Json};

use super::{inventory, retry_as, Kube, KubeError};
use crate::apply::Stop;
use crate::fence::{waiting_message, Fence, Timing};
use crate::model::SYSTEM_NAMESPACE;

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

/// A held lock; renewed in the background until [`Guard::release`] (or drop). Writes made under
/// it ask [`Guard::fence`] first.
pub struct Guard {
    api: kube::Api<DynamicObject>,
    name: String,
    holder: String,
    fence: Fence,
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

/// Another holder's lease as read.
struct Held {
    holder: String,
    renewed: String,
    /// When it lapses by the holder's own stamps (`unknown` when they cannot be read).
    expires: String,
    /// Whether the holder's stamps say it is still current (by this machine's clock: a hint for
    /// failing at once, never a reason to take it over).
    looks_current: bool,
    /// Its `leaseDurationSeconds`.
    duration: Duration,
    /// What changes whenever the holder renews (holder, renew time and `resourceVersion`).
    version: String,
}

/// Takes the lock, waiting up to `timeout` (0: fail at once) while another holder has it. A lease
/// whose holder stopped renewing is taken over once it has been seen unchanged for its whole
/// duration, even past `timeout`. `on_wait` is told once, in a sentence, why it waits. Breaking the
/// returned guard's fence stops `stop`.
pub async fn acquire(
    kube: &Kube,
    stack: &str,
    holder: &str,
    timeout: Duration,
    timing: &Timing,
    stop: &Stop,
    on_wait: &mut dyn FnMut(&str),
) -> Result<Guard, LockError> {
    inventory::ensure_system_namespace(kube).await?;
    let ar = kube::api::ApiResource::erase::<k8s_openapi::api::coordination::v1::Lease>(&());
    let api: kube::Api<DynamicObject> = kube::Api::namespaced_with(kube.client().clone(), SYSTEM_NAMESPACE, &ar);
    let name = format!("cairn-{stack}");
    let what = format!("Lease {SYSTEM_NAMESPACE}/{name}");
    let deadline = Instant::now() + timeout;
    // The other holder's lease as last seen, and since when it has looked so.
    let mut watched: Option<(String, Instant)> = None;
    let mut told = false;
    loop {
        let taken_at = Fence::now();
        let current =
            retry_as(&format!("GET {what}"), || api.get_opt(&name)).await.map_err(|e| KubeError::of(format!("read {what}"), e))?;
        let attempt = match current {
            None => {
                let lease: DynamicObject = serde_json::from_value(lease_body(&name, holder, None, timing))
                    .map_err(|e| KubeError::Other { what: "lease".into(), message: e.to_string() })?;
                api.create(&PostParams::default(), &lease).await.map(|_| ())
            }
            Some(obj) => {
                let v = serde_json::to_value(&obj).unwrap_or_default();
                if let Some(held) = held_by_other(&v, holder) {
                    let seen_now = Instant::now();
                    let since = match &watched {
                        Some((version, since)) if *version == held.version => *since,
                        changed => {
                            // It was renewed while we watched it: its holder is alive.
                            if changed.is_some() && seen_now >= deadline {
                                return Err(held_error(stack, held));
                            }
                            watched = Some((held.version.clone(), seen_now));
                            seen_now
                        }
                    };
                    let unchanged = seen_now.saturating_duration_since(since) >= held.duration;
                    if !unchanged {
                        if seen_now >= deadline && held.looks_current {
                            return Err(held_error(stack, held));
                        }
                        if !told {
                            on_wait(&waiting_message(stack, &held.holder, seen_now >= deadline, timeout, held.duration));
                            told = true;
                        }
                        tokio::time::sleep(Duration::from_millis(500)).await;
                        continue;
                    }
                }
                let rv = obj.metadata.resource_version.clone();
                let lease: DynamicObject = serde_json::from_value(lease_body(&name, holder, rv, timing))
                    .map_err(|e| KubeError::Other { what: "lease".into(), message: e.to_string() })?;
                api.replace(&name, &PostParams::default(), &lease).await.map(|_| ())
            }
        };
        match attempt {
            Ok(()) => {
                let fence = Fence::new(stack, timing, taken_at, stop.clone());
                let renewer = tokio::spawn(renew(api.clone(), name.clone(), holder.to_string(), *timing, fence.clone()));
                return Ok(Guard { api, name, holder: holder.to_string(), fence, renewer });
            }
            // Somebody else created or took it between our read and write: read again.
            Err(kube::Error::Api(s)) if s.code == 409 => continue,
            Err(e) if super::retry::transient(&e) => {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            }
            Err(e) => return Err(KubeError::of(format!("take {what}"), e).into()),
        }
    }
}

fn held_error(stack: &str, held: Held) -> LockError {
    LockError::Held { stack: stack.to_string(), holder: held.holder, renewed: held.renewed, expires: held.expires }
}

/// The lease's holder when it is someone else.
fn held_by_other(lease: &Json, me: &str) -> Option<Held> {
    let spec = lease.get("spec")?;
    let holder = spec.get("holderIdentity").and_then(Json::as_str).filter(|h| !h.is_empty())?;
    if holder == me {
        return None;
    }
    let renewed = spec.get("renewTime").or_else(|| spec.get("acquireTime")).and_then(Json::as_str).unwrap_or_default();
    let seconds = spec.get("leaseDurationSeconds").and_then(Json::as_i64).filter(|&s| s > 0).unwrap_or(Timing::default().lease_seconds());
    let expires = renewed.parse::<jiff::Timestamp>().ok().and_then(|t| t.checked_add(jiff::SignedDuration::from_secs(seconds)).ok());
    let rv = lease.pointer("/metadata/resourceVersion").and_then(Json::as_str).unwrap_or_default();
    Some(Held {
        holder: holder.to_string(),
        renewed: renewed.to_string(),
        expires: expires.map_or_else(|| "unknown".into(), micro_time),
        looks_current: expires.is_none_or(|e| e > now()),
        duration: Duration::from_secs(u64::try_from(seconds).unwrap_or(30)),
        version: format!("{holder}\u{0}{renewed}\u{0}{rv}"),
    })
}

fn lease_body(name: &str, holder: &str, resource_version: Option<String>, timing: &Timing) -> Json {
    let t = micro_time(now());
    let mut metadata = json!({"name": name, "namespace": SYSTEM_NAMESPACE, "labels": {"app.kubernetes.io/managed-by": "cairn"}});
    if let Some(rv) = resource_version {
        metadata["resourceVersion"] = json!(rv);
    }
    json!({
        "apiVersion": "coordination.k8s.io/v1",
        "kind": "Lease",
        "metadata": metadata,
        "spec": {"holderIdentity": holder, "leaseDurationSeconds": timing.lease_seconds(), "acquireTime": t, "renewTime": t},
    })
}

/// Renews the lease every `timing.renew_every` (sooner after a failure) and tells the fence of
/// each success; breaks the fence when someone else holds the lease or it was deleted. A fence
/// broken by its deadline stops renewal: a lost lock is never taken back silently.
async fn renew(api: kube::Api<DynamicObject>, name: String, holder: String, timing: Timing, fence: Fence) {
    let what = format!("Lease {SYSTEM_NAMESPACE}/{name}");
    let mut pause = timing.renew_every;
    loop {
        tokio::time::sleep(pause).await;
        if fence.check().is_err() {
            return;
        }
        pause = (timing.renew_every / 5).max(Duration::from_millis(100));
        let started = Fence::now();
        let obj = match api.get_opt(&name).await {
            Ok(Some(obj)) => obj,
            Ok(None) => {
                fence.lose(format!("{what} was deleted"));
                return;
            }
            Err(_) => continue,
        };
        let mut v = serde_json::to_value(&obj).unwrap_or_default();
        match v.pointer("/spec/holderIdentity").and_then(Json::as_str) {
            Some(h) if h == holder => {}
            other => {
                fence.lose(format!("{what} is now held by {}", other.filter(|h| !h.is_empty()).unwrap_or("nobody")));
                return;
            }
        }
        v["spec"]["renewTime"] = json!(micro_time(now()));
        let Ok(renewed) = serde_json::from_value::<DynamicObject>(v) else { continue };
        // Optimistic concurrency: the PUT carries the resourceVersion just read.
        if api.replace(&name, &PostParams::default(), &renewed).await.is_ok() {
            fence.renewed(started);
            pause = timing.renew_every;
        }
    }
}

impl Guard {
    /// What every write made under this lock asks first.
    pub fn fence(&self) -> &Fence {
        &self.fence
    }

    /// Gives the lock back (clears the holder, if it is still this process); the Lease object
    /// stays. The write carries the `resourceVersion` read, so it never clears another holder.
    pub async fn release(self) -> Result<(), KubeError> {
        self.renewer.abort();
        let what = format!("Lease {SYSTEM_NAMESPACE}/{}", self.name);
        for _ in 0..5 {
            let obj = retry_as(&format!("GET {what}"), || self.api.get_opt(&self.name))
                .await
                .map_err(|e| KubeError::of(format!("read {what}"), e))?;
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
            match retry_as(&format!("PUT {what}"), || self.api.replace(&self.name, &params, &obj)).await {
                Ok(_) => return Ok(()),
                Err(kube::Error::Api(s)) if s.code == 409 => continue,
                Err(e) => return Err(KubeError::of(format!("release {what}"), e)),
            }
        }
        Ok(())
    }
}
