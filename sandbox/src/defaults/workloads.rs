//! Workloads: `SetDefaults_Deployment`, `_ReplicaSet`, `_StatefulSet`, `_DaemonSet` (apps/v1),
//! `_Job`, `_CronJob` (batch/v1), `_ReplicationController` (v1), their pod templates, and what
//! their strategies set on create (`generation: 1`, a fresh status, Job selectors).

use serde_json::{json, Value};

use super::pod::template;
use super::{child, default_ptr, default_str, existing, items, pvc_spec, str_of, unset, Obj};

/// On create: `metadata.generation` 1 and a fresh status of the kind's shape.
fn prepare_for_create(obj: &mut Obj, status: Value) {
    if let Some(meta) = child(obj, "metadata") {
        meta.insert("generation".into(), json!(1));
    }
    obj.insert("status".into(), status);
}

pub(super) fn deployment(obj: &mut Obj, create: bool) {
    if let Some(spec) = child(obj, "spec") {
        default_ptr(spec, "replicas", json!(1));
        if let Some(strategy) = child(spec, "strategy") {
            default_str(strategy, "type", "RollingUpdate");
            if str_of(strategy, "type") == "RollingUpdate" {
                if let Some(rolling) = child(strategy, "rollingUpdate") {
                    default_ptr(rolling, "maxUnavailable", json!("25%"));
                    default_ptr(rolling, "maxSurge", json!("25%"));
                }
            }
        }
        default_ptr(spec, "revisionHistoryLimit", json!(10));
        default_ptr(spec, "progressDeadlineSeconds", json!(600));
        template(spec, "template");
    }
    if create {
        prepare_for_create(obj, json!({}));
    }
}

pub(super) fn replica_set(obj: &mut Obj, create: bool) {
    if let Some(spec) = child(obj, "spec") {
        default_ptr(spec, "replicas", json!(1));
        template(spec, "template");
    }
    if create {
        prepare_for_create(obj, json!({"replicas": 0}));
    }
}

pub(super) fn stateful_set(obj: &mut Obj, create: bool) {
    if let Some(spec) = child(obj, "spec") {
        default_str(spec, "podManagementPolicy", "OrderedReady");
        if let Some(strategy) = child(spec, "updateStrategy") {
            if strategy.get("type").is_none_or(|t| t.is_null() || t.as_str() == Some("")) {
                strategy.insert("type".into(), json!("RollingUpdate"));
                default_ptr(strategy, "rollingUpdate", json!({}));
            }
            if str_of(strategy, "type") == "RollingUpdate" {
                if let Some(rolling) = existing(strategy, "rollingUpdate") {
                    default_ptr(rolling, "partition", json!(0));
                }
            }
        }
        if let Some(policy) = child(spec, "persistentVolumeClaimRetentionPolicy") {
            default_str(policy, "whenDeleted", "Retain");
            default_str(policy, "whenScaled", "Retain");
        }
        default_ptr(spec, "replicas", json!(1));
        default_ptr(spec, "revisionHistoryLimit", json!(10));
        template(spec, "template");
        for claim in items(spec, "volumeClaimTemplates") {
            // The v1 conversion writes out the embedded claims' type.
            claim.insert("apiVersion".into(), json!("v1"));
            claim.insert("kind".into(), json!("PersistentVolumeClaim"));
            if let Some(claim_spec) = child(claim, "spec") {
                pvc_spec(claim_spec);
            }
            if let Some(status) = child(claim, "status") {
                default_str(status, "phase", "Pending");
            }
        }
    }
    if create {
        prepare_for_create(obj, json!({"replicas": 0, "availableReplicas": 0}));
    }
}

pub(super) fn daemon_set(obj: &mut Obj, create: bool) {
    if let Some(spec) = child(obj, "spec") {
        if let Some(strategy) = child(spec, "updateStrategy") {
            default_str(strategy, "type", "RollingUpdate");
            if str_of(strategy, "type") == "RollingUpdate" {
                if let Some(rolling) = child(strategy, "rollingUpdate") {
                    default_ptr(rolling, "maxUnavailable", json!(1));
                    default_ptr(rolling, "maxSurge", json!(0));
                }
            }
        }
        default_ptr(spec, "revisionHistoryLimit", json!(10));
        template(spec, "template");
    }
    if create {
        prepare_for_create(
            obj,
            json!({"currentNumberScheduled": 0, "numberMisscheduled": 0, "desiredNumberScheduled": 0, "numberReady": 0}),
        );
    }
}

pub(super) fn replication_controller(obj: &mut Obj, create: bool) {
    let template_labels =
        obj.get("spec").and_then(|s| s.get("template")).and_then(|t| t.get("metadata")).and_then(|m| m.get("labels")).cloned();
    if let Some(labels @ Value::Object(_)) = template_labels {
        if let Some(spec) = child(obj, "spec") {
            if spec.get("selector").and_then(Value::as_object).is_none_or(|s| s.is_empty()) {
                spec.insert("selector".into(), labels.clone());
            }
        }
        if let Some(meta) = child(obj, "metadata") {
            if meta.get("labels").and_then(Value::as_object).is_none_or(|l| l.is_empty()) {
                meta.insert("labels".into(), labels);
            }
        }
    }
    if let Some(spec) = child(obj, "spec") {
        default_ptr(spec, "replicas", json!(1));
        if spec.get("template").is_some_and(|t| !t.is_null()) {
            template(spec, "template");
        }
    }
    if create {
        prepare_for_create(obj, json!({"replicas": 0}));
    }
}

pub(super) fn job(obj: &mut Obj, create: bool) {
    if let Some(spec) = child(obj, "spec") {
        if unset(spec, "completions") && unset(spec, "parallelism") {
            spec.insert("completions".into(), json!(1));
            spec.insert("parallelism".into(), json!(1));
        }
        default_ptr(spec, "parallelism", json!(1));
        if unset(spec, "backoffLimit") {
            let limit = if unset(spec, "backoffLimitPerIndex") { 6 } else { i64::from(i32::MAX) };
            spec.insert("backoffLimit".into(), json!(limit));
        }
        default_ptr(spec, "completionMode", json!("NonIndexed"));
        default_ptr(spec, "suspend", json!(false));
        let has_failure_policy = !unset(spec, "podFailurePolicy");
        if let Some(policy) = existing(spec, "podFailurePolicy") {
            for rule in items(policy, "rules") {
                for pattern in items(rule, "onPodConditions") {
                    default_str(pattern, "status", "True");
                }
            }
        }
        default_ptr(spec, "podReplacementPolicy", json!(if has_failure_policy { "Failed" } else { "TerminatingOrFailed" }));
        template(spec, "template");
    }
    if create {
        let name = obj.get("metadata").and_then(|m| m.get("name")).and_then(Value::as_str).unwrap_or_default().to_owned();
        let uid = obj.get("metadata").and_then(|m| m.get("uid")).and_then(Value::as_str).unwrap_or_default().to_owned();
        if let Some(spec) = existing(obj, "spec") {
            fill_job_labels(spec, &name, &uid);
        }
    }
    // `SetDefaults_Job`: the Job takes its template's labels when it has none.
    let template_labels =
        obj.get("spec").and_then(|s| s.get("template")).and_then(|t| t.get("metadata")).and_then(|m| m.get("labels")).cloned();
    if let Some(labels @ Value::Object(_)) = template_labels {
        if let Some(meta) = child(obj, "metadata") {
            if meta.get("labels").and_then(Value::as_object).is_none_or(|l| l.is_empty()) {
                meta.insert("labels".into(), labels);
            }
        }
    }
    if create {
        prepare_for_create(obj, json!({}));
    }
}

/// The Job strategy's `generateSelector`: unless `manualSelector` is true, the template gets
/// `job-name`/`controller-uid` labels (legacy and `batch.kubernetes.io/` forms) and the selector
/// matches `batch.kubernetes.io/controller-uid`. Needs `metadata.uid`; without one nothing is
/// generated.
fn fill_job_labels(spec: &mut Obj, name: &str, uid: &str) {
    if uid.is_empty() || spec.get("manualSelector").and_then(Value::as_bool) == Some(true) {
        return;
    }
    if let Some(labels) = child(spec, "template").and_then(|t| child(t, "metadata")).and_then(|m| child(m, "labels")) {
        for (key, value) in [
            ("job-name", name),
            ("batch.kubernetes.io/job-name", name),
            ("controller-uid", uid),
            ("batch.kubernetes.io/controller-uid", uid),
        ] {
            labels.entry(key.to_owned()).or_insert_with(|| json!(value));
        }
    }
    if let Some(match_labels) = child(spec, "selector").and_then(|s| child(s, "matchLabels")) {
        match_labels.entry("batch.kubernetes.io/controller-uid".to_owned()).or_insert_with(|| json!(uid));
    }
}

pub(super) fn cron_job(obj: &mut Obj, create: bool) {
    if let Some(spec) = child(obj, "spec") {
        default_str(spec, "concurrencyPolicy", "Allow");
        default_ptr(spec, "suspend", json!(false));
        default_ptr(spec, "successfulJobsHistoryLimit", json!(3));
        default_ptr(spec, "failedJobsHistoryLimit", json!(1));
        if let Some(job_template) = child(spec, "jobTemplate") {
            default_ptr(job_template, "metadata", json!({}));
            if let Some(job_spec) = child(job_template, "spec") {
                template(job_spec, "template");
            }
        }
    }
    if create {
        prepare_for_create(obj, json!({}));
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::defaulted;
    use super::*;

    fn pod_template_defaults() -> Value {
        json!({"metadata": {"labels": {"app": "web"}}, "spec": {
            "containers": [{"name": "web", "image": "nginx:1.27", "imagePullPolicy": "IfNotPresent", "resources": {},
                "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}],
            "dnsPolicy": "ClusterFirst", "restartPolicy": "Always", "securityContext": {},
            "terminationGracePeriodSeconds": 30, "schedulerName": "default-scheduler"}})
    }

    fn template_in() -> Value {
        json!({"metadata": {"labels": {"app": "web"}}, "spec": {"containers": [{"name": "web", "image": "nginx:1.27"}]}})
    }

    #[test]
    fn deployment_defaults() {
        let d = defaulted(
            "apps/v1",
            "Deployment",
            json!({"metadata": {"name": "web"}, "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": template_in()}}),
        );
        assert_eq!(
            d,
            json!({"metadata": {"name": "web", "generation": 1},
                "spec": {"selector": {"matchLabels": {"app": "web"}}, "template": pod_template_defaults(),
                    "replicas": 1, "strategy": {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}},
                    "revisionHistoryLimit": 10, "progressDeadlineSeconds": 600},
                "status": {}})
        );
        let recreate = defaulted("apps/v1", "Deployment", json!({"spec": {"strategy": {"type": "Recreate"}, "replicas": 0}}));
        assert_eq!(recreate.pointer("/spec/strategy"), Some(&json!({"type": "Recreate"})));
        assert_eq!(recreate.pointer("/spec/replicas"), Some(&json!(0)));
    }

    #[test]
    fn stateful_set_defaults() {
        let s = defaulted(
            "apps/v1",
            "StatefulSet",
            json!({"metadata": {"name": "db"}, "spec": {"serviceName": "db", "selector": {"matchLabels": {"app": "web"}}, "template": template_in(),
                "volumeClaimTemplates": [{"metadata": {"name": "data"}, "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1024Mi"}}}}]}}),
        );
        assert_eq!(
            s,
            json!({"metadata": {"name": "db", "generation": 1},
                "spec": {"serviceName": "db", "selector": {"matchLabels": {"app": "web"}}, "template": pod_template_defaults(),
                    "volumeClaimTemplates": [{"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": "data"},
                        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}, "volumeMode": "Filesystem"},
                        "status": {"phase": "Pending"}}],
                    "podManagementPolicy": "OrderedReady",
                    "updateStrategy": {"type": "RollingUpdate", "rollingUpdate": {"partition": 0}},
                    "persistentVolumeClaimRetentionPolicy": {"whenDeleted": "Retain", "whenScaled": "Retain"},
                    "replicas": 1, "revisionHistoryLimit": 10},
                "status": {"replicas": 0, "availableReplicas": 0}})
        );
        // An explicit RollingUpdate type without rollingUpdate gets no partition, as in Kubernetes.
        let s = defaulted("apps/v1", "StatefulSet", json!({"spec": {"updateStrategy": {"type": "RollingUpdate"}}}));
        assert_eq!(s.pointer("/spec/updateStrategy"), Some(&json!({"type": "RollingUpdate"})));
        let s = defaulted("apps/v1", "StatefulSet", json!({"spec": {"updateStrategy": {"type": "OnDelete"}}}));
        assert_eq!(s.pointer("/spec/updateStrategy"), Some(&json!({"type": "OnDelete"})));
    }

    #[test]
    fn replica_set_and_daemon_set_defaults() {
        let rs = defaulted("apps/v1", "ReplicaSet", json!({"spec": {"template": template_in()}}));
        assert_eq!(rs.pointer("/spec/replicas"), Some(&json!(1)));
        assert_eq!(rs.pointer("/spec/template"), Some(&pod_template_defaults()));
        assert_eq!(rs.pointer("/status"), Some(&json!({"replicas": 0})));
        let ds = defaulted("apps/v1", "DaemonSet", json!({"spec": {"template": template_in()}}));
        assert_eq!(
            ds.pointer("/spec/updateStrategy"),
            Some(&json!({"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": 1, "maxSurge": 0}}))
        );
        assert_eq!(ds.pointer("/spec/revisionHistoryLimit"), Some(&json!(10)));
    }

    #[test]
    fn job_and_cron_job_defaults() {
        let mut template = template_in();
        if let Some(spec) = template.get_mut("spec").and_then(Value::as_object_mut) {
            spec.insert("restartPolicy".into(), json!("Never"));
        }
        let job = defaulted("batch/v1", "Job", json!({"metadata": {"name": "pi", "uid": "u-1"}, "spec": {"template": template.clone()}}));
        let labels = json!({"app": "web", "job-name": "pi", "batch.kubernetes.io/job-name": "pi", "controller-uid": "u-1", "batch.kubernetes.io/controller-uid": "u-1"});
        assert_eq!(job.pointer("/spec/template/metadata/labels"), Some(&labels));
        assert_eq!(job.pointer("/metadata/labels"), Some(&labels));
        assert_eq!(job.pointer("/spec/selector"), Some(&json!({"matchLabels": {"batch.kubernetes.io/controller-uid": "u-1"}})));
        for (field, value) in [
            ("completions", json!(1)),
            ("parallelism", json!(1)),
            ("backoffLimit", json!(6)),
            ("completionMode", json!("NonIndexed")),
            ("suspend", json!(false)),
            ("podReplacementPolicy", json!("TerminatingOrFailed")),
        ] {
            assert_eq!(job.pointer(&format!("/spec/{field}")), Some(&value), "{field}");
        }
        assert_eq!(job.pointer("/spec/template/spec/restartPolicy"), Some(&json!("Never")));
        let job = defaulted("batch/v1", "Job", json!({"spec": {"parallelism": 3, "manualSelector": true, "template": template.clone()}}));
        assert_eq!(job.pointer("/spec/completions"), None);
        assert_eq!(job.pointer("/spec/selector"), None);

        let cron =
            defaulted("batch/v1", "CronJob", json!({"spec": {"schedule": "* * * * *", "jobTemplate": {"spec": {"template": template}}}}));
        for (field, value) in [
            ("concurrencyPolicy", json!("Allow")),
            ("suspend", json!(false)),
            ("successfulJobsHistoryLimit", json!(3)),
            ("failedJobsHistoryLimit", json!(1)),
        ] {
            assert_eq!(cron.pointer(&format!("/spec/{field}")), Some(&value), "{field}");
        }
        assert_eq!(cron.pointer("/spec/jobTemplate/spec/template/spec/schedulerName"), Some(&json!("default-scheduler")));
        assert_eq!(cron.pointer("/spec/jobTemplate/spec/backoffLimit"), None);
    }
}
