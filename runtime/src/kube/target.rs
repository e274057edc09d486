//! A plan's steps as Kubernetes calls (DESIGN.md §2 step 10): server-side apply with field
//! manager `cairn` (force for drift, or with `--force-conflicts`), deletes with propagation,
//! replaces as delete-then-create (a StatefulSet's with `Orphan`, so its pods and volumes
//! survive), and waits that fail fast with the cause.

mod rollback;

use std::time::Duration;

use kube::api::{DeleteParams, DynamicObject, ListParams, Patch, PatchParams, PropagationPolicy};
use serde_json::Value as Json;

use super::health::{self, Health};
use super::retry::{write_as, WriteError};
use super::{retry, to_json, Kube, KubeError, Resolved};
use crate::apply::{StepError, Target};
use crate::fence::Fence;
use crate::hash::applied_body;
use crate::model::{Desired, DesiredObject, ObjectKey, FIELD_MANAGER};
use crate::plan::{Action, Step};
use cairn_compiler::lower::BUCKET_PROVISIONER;

/// How often waits look again.
const POLL: Duration = Duration::from_millis(250);

/// Runs steps against one cluster.
pub struct KubeTarget<'a> {
    pub kube: &'a Kube,
    pub desired: &'a Desired,
    /// Position of each declared object in `desired`.
    pub index: &'a std::collections::HashMap<ObjectKey, usize>,
    /// The stack's key (applied-hash annotations).
    pub key: &'a [u8],
    /// `--force-conflicts`: take fields other managers own.
    pub force_conflicts: bool,
    /// How long one wait may take.
    pub timeout: Duration,
    /// The stack's lock: every write asks it first.
    pub fence: &'a Fence,
    /// `--rollback-on-failure`: a workload whose rollout fails goes back to its previous revision.
    pub rollback_on_failure: bool,
}

impl Target for KubeTarget<'_> {
    async fn run(&self, step: &Step) -> Result<String, StepError> {
        match step.action {
            Action::Noop => Ok("unchanged".into()),
            Action::Create | Action::Update => {
                let body = self.body(step)?;
                if step.waits_for_deletion {
                    self.gone(&step.key).await?;
                }
                self.apply(&step.key, &body, step.force).await?;
                let waited = match self.wait(step, &body).await {
                    Ok(waited) => waited,
                    Err(e) => return Err(self.after_failed_rollout(step, &body, e).await),
                };
                Ok(join(if step.action == Action::Create { "created" } else { "updated" }, waited))
            }
            Action::Replace => {
                let body = self.body(step)?;
                self.delete(&step.key, true).await?;
                self.gone(&step.key).await?;
                self.apply(&step.key, &body, true).await?;
                let waited = self.wait(step, &body).await?;
                Ok(join("replaced", waited))
            }
            Action::Delete => {
                let existed = self.delete(&step.key, false).await?;
                Ok(if existed { "deleted".into() } else { "already gone".into() })
            }
        }
    }
}

/// Sets the field at `pointer` (`/spec/replicas`), making the objects on the way.
fn keep_field(body: &mut Json, pointer: &str, value: Json) {
    let mut node = body;
    let mut keys = pointer.split('/').skip(1).peekable();
    while let Some(k) = keys.next() {
        let Some(map) = node.as_object_mut() else { return };
        if keys.peek().is_none() {
            map.insert(k.to_string(), value);
            return;
        }
        node = map.entry(k.to_string()).or_insert_with(|| Json::Object(serde_json::Map::new()));
    }
}

fn join(what: &str, waited: Option<String>) -> String {
    match waited {
        Some(w) => format!("{what}, {w}"),
        None => what.to_string(),
    }
}

fn failed(message: impl Into<String>, help: Option<&str>) -> StepError {
    StepError { help: help.map(str::to_string), ..StepError::new(message) }
}

impl KubeTarget<'_> {
    /// The declaration of a declared step's object.
    fn declared(&self, step: &Step) -> Option<&DesiredObject> {
        self.index.get(&step.key).filter(|_| step.declared).and_then(|i| self.desired.objects.get(*i))
    }

    fn body(&self, step: &Step) -> Result<Json, StepError> {
        let obj = self.declared(step).ok_or_else(|| failed(format!("{} has no declared body", step.key), None))?;
        let mut body = applied_body(obj, self.key);
        for kept in &step.keep {
            keep_field(&mut body, &kept.pointer, kept.value.clone());
        }
        Ok(body)
    }

    async fn resolved(&self, key: &ObjectKey) -> Result<Resolved, StepError> {
        match self.kube.resolve(&key.api_version, &key.kind).await {
            Ok(Some(r)) => Ok(r),
            Ok(None) => Err(failed(
                format!("the cluster does not serve {} {}", key.api_version, key.kind),
                Some("install the CustomResourceDefinition of this kind first (or declare it in the stack), or fix the apiVersion"),
            )),
            Err(e) => Err(kube_failed(e)),
        }
    }

    /// Server-side apply with field manager `cairn`.
    async fn apply(&self, key: &ObjectKey, body: &Json, force: bool) -> Result<(), StepError> {
        let r = self.resolved(key).await?;
        let api = self.kube.api_for(&r, key);
        let mut params = PatchParams::apply(FIELD_MANAGER);
        if force || self.force_conflicts {
            params = params.force();
        }
        let patch = Patch::Apply(body);
        match write_as(&format!("PATCH {key}"), self.fence, || api.patch(&key.name, &params, &patch)).await {
            Ok(_) => Ok(()),
            Err(WriteError::Kube(kube::Error::Api(s))) if s.code == 409 => Err(failed(
                format!("conflict: {}", s.message),
                Some("another field manager owns these fields: remove them from the stack, or re-run with --force-conflicts to take them over"),
            )),
            Err(e) => Err(write_failed(format!("apply {key}"), e)),
        }
    }

    /// Deletes; `false` when it was already gone.
    async fn delete(&self, key: &ObjectKey, replacing: bool) -> Result<bool, StepError> {
        let r = self.resolved(key).await?;
        let api = self.kube.api_for(&r, key);
        // A StatefulSet is swapped without its pods and volumes: they are adopted by the new one.
        let propagation = if replacing && key.kind == "StatefulSet" { PropagationPolicy::Orphan } else { PropagationPolicy::Background };
        let params = DeleteParams { propagation_policy: Some(propagation), ..DeleteParams::default() };
        match write_as(&format!("DELETE {key}"), self.fence, || api.delete(&key.name, &params)).await {
            Ok(_) => Ok(true),
            Err(WriteError::Kube(kube::Error::Api(s))) if s.code == 404 => Ok(false),
            Err(e) => Err(write_failed(format!("delete {key}"), e)),
        }
    }

    /// Waits until the object is gone (before re-creating it).
    async fn gone(&self, key: &ObjectKey) -> Result<(), StepError> {
        let r = self.resolved(key).await?;
        let api = self.kube.api_for(&r, key);
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            match retry(|| api.get_opt(&key.name)).await {
                Ok(None) => return Ok(()),
                Ok(Some(_)) if tokio::time::Instant::now() >= deadline => {
                    return Err(failed(
                        format!("{key} was not gone after {}s", self.timeout.as_secs()),
                        Some("a finalizer may hold it: `kubectl get` it and look at metadata.finalizers"),
                    ))
                }
                Ok(Some(_)) => tokio::time::sleep(POLL).await,
                Err(e) => return Err(kube_failed(KubeError::of(format!("read {key}"), e))),
            }
        }
    }

    /// Waits where it matters; `Some(text)` says what was waited for.
    async fn wait(&self, step: &Step, body: &Json) -> Result<Option<String>, StepError> {
        let key = &step.key;
        let wants_wait = self.declared(step).is_some_and(|o| o.wait);
        match (key.group(), key.kind.as_str()) {
            ("", "Namespace") => self.poll(key, |obj, _, _| health::namespace(obj), false).await.map(|_| None),
            ("apiextensions.k8s.io", "CustomResourceDefinition") => {
                self.poll(key, |obj, _, _| health::crd(obj), false).await?;
                if let Some(group) = body.pointer("/spec/group").and_then(Json::as_str) {
                    self.kube.forget_group(group);
                }
                Ok(Some("established".into()))
            }
            ("apps", "Deployment" | "StatefulSet") if wants_wait => {
                let obj = self.poll(key, health::workload, true).await?;
                let ready = obj.pointer("/status/readyReplicas").and_then(Json::as_i64).unwrap_or(0);
                let want = obj.pointer("/spec/replicas").and_then(Json::as_i64).unwrap_or(1);
                Ok(Some(format!("rolled out {ready}/{want}")))
            }
            ("apps", "DaemonSet") if wants_wait => {
                let obj = self.poll(key, health::workload, true).await?;
                let available = obj.pointer("/status/numberAvailable").and_then(Json::as_i64).unwrap_or(0);
                let want = obj.pointer("/status/desiredNumberScheduled").and_then(Json::as_i64).unwrap_or(0);
                Ok(Some(format!("rolled out {available}/{want} nodes")))
            }
            ("batch", "Job") if wants_wait => {
                let obj = self.poll(key, health::workload, true).await?;
                let succeeded = obj.pointer("/status/succeeded").and_then(Json::as_i64).unwrap_or(0);
                Ok(Some(format!("completed ({succeeded} succeeded)")))
            }
            ("autoscaling", "HorizontalPodAutoscaler") if wants_wait => {
                let hpa = self.poll(key, |obj, _, _| health::autoscaler(obj), false).await?;
                // Then the target at the size the autoscaler gave it.
                let target = hpa.pointer("/spec/scaleTargetRef");
                let api_version = target.and_then(|t| t.get("apiVersion")).and_then(Json::as_str).unwrap_or("apps/v1");
                let kind = target.and_then(|t| t.get("kind")).and_then(Json::as_str).unwrap_or_default();
                let name = target.and_then(|t| t.get("name")).and_then(Json::as_str).unwrap_or_default();
                if api_version != "apps/v1" || !matches!(kind, "Deployment" | "StatefulSet") || name.is_empty() {
                    return Ok(Some("autoscaling".into()));
                }
                let target =
                    ObjectKey { api_version: api_version.into(), kind: kind.into(), namespace: key.namespace.clone(), name: name.into() };
                let obj = self.poll(&target, health::workload, true).await?;
                let ready = obj.pointer("/status/readyReplicas").and_then(Json::as_i64).unwrap_or(0);
                Ok(Some(format!("autoscaling, {kind} {name} at {ready} replicas")))
            }
            ("objectbucket.io", "ObjectBucketClaim") => {
                self.bucket_backing(key, body).await?;
                self.poll(key, |obj, _, _| health::bucket_claim(obj), false).await.map(|_| Some("bound".into()))
            }
            ("", "PersistentVolumeClaim") if self.binds_immediately(body).await? => {
                self.poll(key, |obj, _, _| health::pvc(obj), false).await.map(|_| Some("bound".into()))
            }
            _ => Ok(None),
        }
    }

    /// Whether a claim's StorageClass binds at once (so waiting for `Bound` makes sense).
    async fn binds_immediately(&self, body: &Json) -> Result<bool, StepError> {
        let Some(class) = body.pointer("/spec/storageClassName").and_then(Json::as_str) else { return Ok(false) };
        let api: kube::Api<k8s_openapi::api::storage::v1::StorageClass> = kube::Api::all(self.kube.client().clone());
        match retry(|| api.get_opt(class)).await {
            Ok(Some(sc)) => Ok(sc.volume_binding_mode.as_deref().unwrap_or("Immediate") == "Immediate"),
            Ok(None) => Ok(false),
            Err(e) => Err(read_back_failed(KubeError::of(format!("read StorageClass {class}"), e))),
        }
    }

    /// Fails fast when a bucket claim's class, or the object store a Rook bucket class names, is
    /// missing: the provisioner would leave the claim `Pending` for ever. A class of another
    /// provisioner is only waited for.
    async fn bucket_backing(&self, key: &ObjectKey, body: &Json) -> Result<(), StepError> {
        let Some(class) = body.pointer("/spec/storageClassName").and_then(Json::as_str) else { return Ok(()) };
        let api: kube::Api<k8s_openapi::api::storage::v1::StorageClass> = kube::Api::all(self.kube.client().clone());
        let sc = match retry(|| api.get_opt(class)).await {
            Ok(Some(sc)) => sc,
            Ok(None) => {
                return Err(failed(
                    format!("{key}: its bucket class storageclass/{class} does not exist, so no bucket can be provisioned"),
                    Some("declare the bucket's `store = object_store.NAME` in this stack (cairn makes the class), or create the class"),
                ))
            }
            Err(e) => return Err(read_back_failed(KubeError::of(format!("read StorageClass {class}"), e))),
        };
        if sc.provisioner != BUCKET_PROVISIONER {
            return Ok(());
        }
        let params = sc.parameters.unwrap_or_default();
        let (Some(store), Some(ns)) = (params.get("objectStoreName"), params.get("objectStoreNamespace")) else { return Ok(()) };
        let store_key = ObjectKey {
            api_version: "ceph.rook.io/v1".into(),
            kind: "CephObjectStore".into(),
            namespace: Some(ns.clone()),
            name: store.clone(),
        };
        let r = self.resolved(&store_key).await?;
        let stores = self.kube.api_for(&r, &store_key);
        match retry(|| stores.get_opt(store)).await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => Err(failed(
                format!("{key}: object store {ns}/{store}, named by storageclass/{class}, does not exist"),
                Some("declare the object_store in this stack, or point the bucket at an existing one"),
            )),
            Err(e) => Err(read_back_failed(KubeError::of(format!("read {store_key}"), e))),
        }
    }

    /// Reads the object (and for workloads its ReplicaSets and pods) until `judge` says ready
    /// or failed, or the timeout passes.
    async fn poll(&self, key: &ObjectKey, judge: impl Fn(&Json, &[Json], &[Json]) -> Health, with_pods: bool) -> Result<Json, StepError> {
        let r = self.resolved(key).await?;
        let api = self.kube.api_for(&r, key);
        let deadline = tokio::time::Instant::now() + self.timeout;
        loop {
            let obj = match retry(|| api.get_opt(&key.name)).await {
                Ok(Some(o)) => to_json(&o, &r.resource),
                Ok(None) => return Err(failed(format!("{key} disappeared while cairn waited for it"), None)),
                Err(e) => return Err(read_back_failed(KubeError::of(format!("read {key}"), e))),
            };
            let (sets, pods) = if with_pods { self.pods_of(key, &obj).await? } else { (Vec::new(), Vec::new()) };
            match judge(&obj, &sets, &pods) {
                Health::Ready => return Ok(obj),
                Health::Failed(why) => {
                    return Err(failed(why, Some("fix the cause (image, command, resources, quota) in the stack and apply again; `kubectl describe` shows the events")))
                }
                Health::Progressing(what) if tokio::time::Instant::now() >= deadline => {
                    return Err(failed(format!("{key}: timed out after {}s: {what}", self.timeout.as_secs()), Some("raise --timeout if it is only slow")));
                }
                Health::Progressing(_) => {}
            }
            tokio::time::sleep(POLL).await;
        }
    }

    /// A workload's ReplicaSets (Deployments) and pods, by its selector.
    async fn pods_of(&self, key: &ObjectKey, obj: &Json) -> Result<(Vec<Json>, Vec<Json>), StepError> {
        let Some(ns) = key.namespace.as_deref() else { return Ok((Vec::new(), Vec::new())) };
        let selector: Vec<String> = obj
            .pointer("/spec/selector/matchLabels")
            .and_then(Json::as_object)
            .map(|m| m.iter().filter_map(|(k, v)| v.as_str().map(|v| format!("{k}={v}"))).collect())
            .unwrap_or_default();
        if selector.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let lp = ListParams::default().labels(&selector.join(","));
        let list = |ar: kube::api::ApiResource| {
            let api: kube::Api<DynamicObject> = kube::Api::namespaced_with(self.kube.client().clone(), ns, &ar);
            let lp = lp.clone();
            async move {
                retry(|| api.list(&lp))
                    .await
                    .map(|l| l.items.iter().map(|o| to_json(o, &ar)).collect::<Vec<Json>>())
                    .map_err(|e| read_back_failed(KubeError::of(format!("list pods of {key}"), e)))
            }
        };
        let sets = if key.kind == "Deployment" {
            list(kube::api::ApiResource::erase::<k8s_openapi::api::apps::v1::ReplicaSet>(&())).await?
        } else {
            Vec::new()
        };
        let pods = list(kube::api::ApiResource::erase::<k8s_openapi::api::core::v1::Pod>(&())).await?;
        Ok((sets, pods))
    }
}

/// A write that failed, or was not made because the lock is gone.
fn write_failed(what: String, e: WriteError) -> StepError {
    match e {
        WriteError::Lost(lost) => failed(
            format!("not written: {lost}"),
            Some("another apply may have taken the stack over; run `cairn plan` to see where it stands"),
        ),
        WriteError::Kube(e) => kube_failed(KubeError::of(what, e)),
    }
}

fn kube_failed(e: KubeError) -> StepError {
    StepError::new(e.to_string())
}

/// A read after the write failed (retries spent): the write stands, its result is unknown.
fn read_back_failed(e: KubeError) -> StepError {
    StepError {
        unverified: true,
        ..StepError::with_help(e.to_string(), "the write went through; run `cairn apply` again to check the object once the API answers")
    }
}
