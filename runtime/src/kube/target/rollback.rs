//! `apply --rollback-on-failure` (DESIGN.md §8.2): when a workload's rollout fails, put back the
//! pod template of its previous revision from Kubernetes' own history — a Deployment's previous
//! ReplicaSet (what `kubectl rollout undo` does), a StatefulSet's or DaemonSet's previous
//! ControllerRevision — with a server-side apply as `cairn`, and wait for it.
//!
//! The rolled-back object's `cairn.dev/applied-hash` is set to [`ROLLED_BACK`], so the next plan
//! shows the stack's change as pending again rather than as drift.
//!
//! The stored template carries the API server's defaults (`imagePullPolicy`,
//! `terminationMessagePath`, a port's `protocol`, `dnsPolicy`, `restartPolicy`, …). Applied as
//! they are, they would become cairn's, and the next plan would list them as removals beside
//! the stack's change. So the template is first cut to the shape of the one cairn applied
//! ([`prune`]): a field is kept only where the desired template has it, and list items matched
//! by merge key (containers by `name`, ports by `containerPort`, env by `name`, as the planner
//! matches them) are cut the same way. The rule for a revision an older stack made, which has
//! more than today's stack declares: a field of a kept map that the desired template lacks is
//! dropped (it may be a default; the controller defaults it again), while a list item the
//! desired template has no match for (a container or env var the stack no longer declares) is
//! kept whole, so the workload runs again what it ran; an atomic list is kept whole too.

use kube::api::{DynamicObject, ListParams};
use serde_json::Value as Json;

use super::{failed, read_back_failed, KubeTarget};
use crate::apply::StepError;
use crate::kube::health;
use crate::kube::{retry, to_json, KubeError};
use crate::model::{ObjectKey, APPLIED_HASH};
use crate::plan::{find_item, item_key, merge_key, Action, Step};

/// The applied-hash a rolled-back workload carries: matches no stack's hash.
pub const ROLLED_BACK: &str = "rolled-back";

/// The Deployment ReplicaSet label that is not part of the template the user wrote.
const TEMPLATE_HASH: &str = "pod-template-hash";

/// A revision to go back to.
#[derive(Debug, PartialEq)]
pub(crate) struct Previous {
    pub revision: i64,
    /// The pod template, as the workload's `spec.template`.
    pub template: Json,
}

/// Whether rollback applies to a kind.
pub(crate) fn rolls_back(key: &ObjectKey) -> bool {
    key.api_version == "apps/v1" && matches!(key.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet")
}

fn owned_by(obj: &Json, uid: &str) -> bool {
    obj.pointer("/metadata/ownerReferences").and_then(Json::as_array).is_some_and(|refs| refs.iter().any(|r| r["uid"] == uid))
}

/// A Deployment's previous revision: among its ReplicaSets (`sets`, any order), the one with the
/// highest `deployment.kubernetes.io/revision` below the Deployment's own, its template without
/// the `pod-template-hash` label.
pub(crate) fn previous_replica_set(deployment: &Json, sets: &[Json]) -> Option<Previous> {
    let revision = |o: &Json| {
        o.pointer("/metadata/annotations/deployment.kubernetes.io~1revision").and_then(Json::as_str).and_then(|r| r.parse::<i64>().ok())
    };
    let uid = deployment.pointer("/metadata/uid").and_then(Json::as_str)?;
    let owned: Vec<(i64, &Json)> = sets.iter().filter(|rs| owned_by(rs, uid)).filter_map(|rs| Some((revision(rs)?, rs))).collect();
    // The Deployment's own annotation, else its newest ReplicaSet's.
    let current = revision(deployment).or_else(|| owned.iter().map(|(r, _)| *r).max())?;
    let (rev, rs) = owned.into_iter().filter(|(r, _)| *r < current).max_by_key(|(r, _)| *r)?;
    let mut template = rs.pointer("/spec/template")?.clone();
    if let Some(labels) = template.pointer_mut("/metadata/labels").and_then(Json::as_object_mut) {
        labels.remove(TEMPLATE_HASH);
    }
    Some(Previous { revision: rev, template })
}

/// A StatefulSet's or DaemonSet's previous revision: the ControllerRevision (`revisions`, any
/// order) owned by it with the second-highest `revision`, its `data.spec.template`.
pub(crate) fn previous_controller_revision(workload: &Json, revisions: &[Json]) -> Option<Previous> {
    let uid = workload.pointer("/metadata/uid").and_then(Json::as_str)?;
    let mut owned: Vec<(i64, &Json)> =
        revisions.iter().filter(|r| owned_by(r, uid)).filter_map(|r| Some((r.get("revision")?.as_i64()?, r))).collect();
    owned.sort_by_key(|(r, _)| std::cmp::Reverse(*r));
    let (rev, r) = owned.get(1)?;
    let mut template = r.pointer("/data/spec/template")?.clone();
    if let Some(t) = template.as_object_mut() {
        t.remove("$patch");
    }
    Some(Previous { revision: *rev, template })
}

/// The names of the pods (`pods`: a StatefulSet's) that are not ready and not of revision
/// `restored` (their `controller-revision-hash`): what a forced rollback deletes.
pub(crate) fn broken_pods<'a>(pods: &'a [Json], restored: &str) -> Vec<&'a str> {
    let ready = |p: &Json| {
        p.pointer("/status/conditions")
            .and_then(Json::as_array)
            .is_some_and(|cs| cs.iter().any(|c| c["type"] == "Ready" && c["status"] == "True"))
    };
    pods.iter()
        .filter(|p| !restored.is_empty() && p.pointer("/metadata/labels/controller-revision-hash").and_then(Json::as_str) != Some(restored))
        .filter(|p| !ready(p))
        .filter_map(|p| p.pointer("/metadata/name").and_then(Json::as_str))
        .collect()
}

/// `template` (a previous revision's, as Kubernetes stored it) cut to the shape of `desired` (the
/// template cairn applied) in an object of `api_version`/`kind`; see the module docs for the rule.
pub(crate) fn prune(template: &Json, desired: &Json, api_version: &str, kind: &str) -> Json {
    let path = vec!["spec".to_string(), "template".to_string()];
    prune_at(template, desired, api_version, kind, &path)
}

fn prune_at(template: &Json, desired: &Json, api_version: &str, kind: &str, path: &[String]) -> Json {
    match (template, desired) {
        (Json::Object(t), Json::Object(d)) => Json::Object(
            t.iter()
                .filter_map(|(k, v)| {
                    let shape = d.get(k)?;
                    let mut at = path.to_vec();
                    at.push(k.clone());
                    Some((k.clone(), prune_at(v, shape, api_version, kind, &at)))
                })
                .collect(),
        ),
        (Json::Array(items), Json::Array(shapes)) => {
            let at: Vec<&str> = path.iter().map(String::as_str).collect();
            let Some(key) = merge_key(api_version, kind, &at, shapes) else { return template.clone() };
            let matching = |item: &Json| shapes.iter().find(|s| find_item(std::slice::from_ref(item), &item_key(s, key)).is_some());
            Json::Array(
                items
                    .iter()
                    .map(|item| match matching(item) {
                        Some(shape) => prune_at(item, shape, api_version, kind, path),
                        None => item.clone(),
                    })
                    .collect(),
            )
        }
        _ => template.clone(),
    }
}

/// The images of a pod template's containers, `a:1, b:2`.
pub(crate) fn images(template: &Json) -> String {
    let images: Vec<&str> = template
        .pointer("/spec/containers")
        .and_then(Json::as_array)
        .map(|cs| cs.iter().filter_map(|c| c.get("image").and_then(Json::as_str)).collect())
        .unwrap_or_default();
    images.join(", ")
}

impl KubeTarget<'_> {
    /// After `failure` of `step`'s rollout: rolls the workload back when asked and possible, and
    /// returns the failure with what happened to the workload appended.
    pub(super) async fn after_failed_rollout(&self, step: &Step, body: &Json, failure: StepError) -> StepError {
        if !self.rollback_on_failure || !rolls_back(&step.key) {
            return failure;
        }
        let key = &step.key;
        if failure.unverified {
            return StepError { message: format!("{}; not rolled back: {key}'s health could not be read", failure.message), ..failure };
        }
        if step.action == Action::Create {
            return StepError {
                message: format!("{}; not rolled back: {key} was created by this apply and has no previous revision", failure.message),
                ..failure
            };
        }
        match self.roll_back(key, body).await {
            Ok(done) => StepError { message: format!("{}; {done}", failure.message), ..failure },
            Err(e) => StepError {
                message: format!("{}; the rollback failed: {}", failure.message, e.message),
                help: Some(
                    "the workload is left as the failed rollout made it: `kubectl rollout undo` it, or fix the stack and apply again"
                        .into(),
                ),
                unverified: e.unverified,
            },
        }
    }

    /// Applies the previous revision's template and waits for it; says what it rolled back to.
    async fn roll_back(&self, key: &ObjectKey, body: &Json) -> Result<String, StepError> {
        let r = self.resolved(key).await?;
        let api = self.kube.api_for(&r, key);
        let live = match retry(|| api.get_opt(&key.name)).await {
            Ok(Some(o)) => to_json(&o, &r.resource),
            Ok(None) => return Err(failed(format!("{key} is gone"), None)),
            Err(e) => return Err(read_back_failed(KubeError::of(format!("read {key}"), e))),
        };
        let history = self.history(key).await?;
        let previous =
            if key.kind == "Deployment" { previous_replica_set(&live, &history) } else { previous_controller_revision(&live, &history) };
        let Some(previous) = previous else {
            return Ok(format!("not rolled back: {key} has no previous revision in its history"));
        };
        let mut rollback = body.clone();
        let desired = body.pointer("/spec/template").cloned().unwrap_or(Json::Null);
        let template = prune(&previous.template, &desired, &key.api_version, &key.kind);
        if let Some(spec) = rollback.get_mut("spec").and_then(Json::as_object_mut) {
            spec.insert("template".into(), template);
        }
        if let Some(a) = rollback.pointer_mut("/metadata/annotations").and_then(Json::as_object_mut) {
            a.insert(APPLIED_HASH.into(), Json::String(ROLLED_BACK.into()));
        }
        self.apply(key, &rollback, true).await?;
        if key.kind == "StatefulSet" {
            self.replace_broken_pods(key).await?;
        }
        let obj = self.poll(key, health::workload, true).await.map_err(|e| StepError {
            message: format!(
                "rolled back to revision {} ({}), but that did not become healthy either: {}",
                previous.revision,
                images(&previous.template),
                e.message
            ),
            ..e
        })?;
        let ready = obj.pointer("/status/readyReplicas").or_else(|| obj.pointer("/status/numberReady")).and_then(Json::as_i64).unwrap_or(0);
        Ok(format!("rolled back to revision {} ({}), {ready} ready", previous.revision, images(&previous.template)))
    }

    /// A StatefulSet's forced rollback (Kubernetes' docs, "Forced rollback"): with the default
    /// `OrderedReady` policy the controller waits for a pod of the failed revision to become ready
    /// before replacing it, which never happens, so the pods that are not ready and not of the
    /// restored revision are deleted for the controller to recreate from it. Their claims stay.
    async fn replace_broken_pods(&self, key: &ObjectKey) -> Result<(), StepError> {
        // The controller's view of the restored template first: its `updateRevision`.
        let observed = |obj: &Json, _: &[Json], _: &[Json]| {
            let at = |p: &str| obj.pointer(p).and_then(Json::as_i64).unwrap_or(0);
            if at("/status/observedGeneration") >= at("/metadata/generation") {
                health::Health::Ready
            } else {
                health::Health::Progressing(format!("waiting for the controller to observe {key}'s restored template"))
            }
        };
        let live = self.poll(key, observed, false).await?;
        let (_, pods) = self.pods_of(key, &live).await?;
        let restored = live.pointer("/status/updateRevision").and_then(Json::as_str).unwrap_or_default();
        let Some(ns) = key.namespace.as_deref() else { return Ok(()) };
        let pod_api: kube::Api<k8s_openapi::api::core::v1::Pod> = kube::Api::namespaced(self.kube.client().clone(), ns);
        let params = kube::api::DeleteParams::default();
        for pod in broken_pods(&pods, restored) {
            let what = format!("DELETE Pod/{ns}/{pod}");
            match super::write_as(&what, self.fence, || pod_api.delete(pod, &params)).await {
                Ok(_) => {}
                Err(super::WriteError::Kube(kube::Error::Api(s))) if s.code == 404 => {}
                Err(e) => return Err(super::write_failed(format!("delete pod {pod} of {key}"), e)),
            }
        }
        Ok(())
    }

    /// A workload's history: its namespace's ReplicaSets (Deployment) or ControllerRevisions.
    async fn history(&self, key: &ObjectKey) -> Result<Vec<Json>, StepError> {
        let Some(ns) = key.namespace.as_deref() else { return Ok(Vec::new()) };
        let ar = if key.kind == "Deployment" {
            kube::api::ApiResource::erase::<k8s_openapi::api::apps::v1::ReplicaSet>(&())
        } else {
            kube::api::ApiResource::erase::<k8s_openapi::api::apps::v1::ControllerRevision>(&())
        };
        let api: kube::Api<DynamicObject> = kube::Api::namespaced_with(self.kube.client().clone(), ns, &ar);
        let lp = ListParams::default();
        retry(|| api.list(&lp))
            .await
            .map(|l| l.items.iter().map(|o| to_json(o, &ar)).collect())
            .map_err(|e| read_back_failed(KubeError::of(format!("list the history of {key}"), e)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn rs(rev: &str, uid: &str, image: &str) -> Json {
        json!({"metadata": {"name": format!("web-{rev}"), "annotations": {"deployment.kubernetes.io/revision": rev},
                "ownerReferences": [{"uid": uid}]},
               "spec": {"template": {"metadata": {"labels": {"app": "web", "pod-template-hash": "abc"}}, "spec": {"containers": [{"name": "web", "image": image}]}}}})
    }

    #[test]
    fn a_deployment_goes_back_to_the_replica_set_before_its_own_revision() {
        let dep = json!({"metadata": {"uid": "d1", "annotations": {"deployment.kubernetes.io/revision": "3"}}});
        let sets = [rs("1", "d1", "web:1"), rs("3", "d1", "web:bad"), rs("2", "d1", "web:2"), rs("9", "other", "x:9")];
        let p = previous_replica_set(&dep, &sets).expect("a previous revision");
        assert_eq!(p.revision, 2);
        assert_eq!(images(&p.template), "web:2");
        assert_eq!(p.template["metadata"]["labels"], json!({"app": "web"}), "pod-template-hash is the controller's");
        // Without the Deployment's annotation, its newest ReplicaSet is the current revision.
        let unannotated = json!({"metadata": {"uid": "d1"}});
        assert_eq!(previous_replica_set(&unannotated, &sets).map(|p| p.revision), Some(2));
        // The first revision has nothing before it.
        let first = json!({"metadata": {"uid": "d1", "annotations": {"deployment.kubernetes.io/revision": "1"}}});
        assert_eq!(previous_replica_set(&first, &sets), None);
    }

    #[test]
    fn a_restored_template_is_cut_to_the_declared_shape() {
        let stored = json!({
            "metadata": {"labels": {"app": "web"}, "annotations": {"kubectl.kubernetes.io/restartedAt": "now"}},
            "spec": {
                "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "schedulerName": "default-scheduler", "securityContext": {},
                "containers": [
                    {"name": "web", "image": "web:1", "imagePullPolicy": "IfNotPresent", "terminationMessagePath": "/dev/termination-log",
                     "ports": [{"containerPort": 8080, "protocol": "TCP"}],
                     "env": [{"name": "A", "value": "1"}, {"name": "OLD", "value": "x"}],
                     "args": ["--a", "--b"]},
                    {"name": "old-sidecar", "image": "side:1", "imagePullPolicy": "IfNotPresent"}
                ]
            }
        });
        let desired = json!({
            "metadata": {"labels": {"app": "web"}},
            "spec": {"containers": [{"name": "web", "image": "web:2", "ports": [{"containerPort": 8080}], "env": [{"name": "A", "value": "2"}], "args": ["--c"]}]}
        });
        let pruned = prune(&stored, &desired, "apps/v1", "Deployment");
        assert_eq!(
            pruned,
            json!({
                "metadata": {"labels": {"app": "web"}},
                "spec": {"containers": [
                    {"name": "web", "image": "web:1", "ports": [{"containerPort": 8080}],
                     "env": [{"name": "A", "value": "1"}, {"name": "OLD", "value": "x"}], "args": ["--a", "--b"]},
                    {"name": "old-sidecar", "image": "side:1", "imagePullPolicy": "IfNotPresent"}
                ]}
            }),
            "defaults dropped; the previous values kept; unmatched items and atomic lists kept whole"
        );
    }

    #[test]
    fn a_forced_rollback_deletes_only_the_pods_of_other_revisions_that_are_not_ready() {
        let pod = |name: &str, rev: &str, ready: &str| {
            json!({"metadata": {"name": name, "labels": {"controller-revision-hash": rev}},
                   "status": {"conditions": [{"type": "Ready", "status": ready}]}})
        };
        let pods = [
            pod("db-2", "db-bad", "False"),
            pod("db-1", "db-good", "True"),
            pod("db-0", "db-good", "False"),
            pod("db-3", "db-bad", "True"),
        ];
        assert_eq!(broken_pods(&pods, "db-good"), ["db-2"]);
        assert!(broken_pods(&pods, "").is_empty(), "no restored revision known: nothing is deleted");
    }

    #[test]
    fn a_stateful_or_daemon_set_goes_back_to_its_second_newest_controller_revision() {
        let rev = |n: i64, uid: &str, image: &str| {
            json!({"revision": n, "metadata": {"ownerReferences": [{"uid": uid}]},
                   "data": {"spec": {"template": {"$patch": "replace", "spec": {"containers": [{"name": "db", "image": image}]}}}}})
        };
        let sts = json!({"metadata": {"uid": "s1"}});
        let revisions = [rev(2, "s1", "db:2"), rev(3, "s1", "db:bad"), rev(1, "s1", "db:1"), rev(7, "x", "x:7")];
        let p = previous_controller_revision(&sts, &revisions).expect("a previous revision");
        assert_eq!((p.revision, images(&p.template)), (2, "db:2".to_string()));
        assert!(p.template.get("$patch").is_none());
        assert_eq!(previous_controller_revision(&sts, &revisions[..1]), None, "one revision: nothing to go back to");
    }
}
