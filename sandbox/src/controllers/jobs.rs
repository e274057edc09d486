//! The Job controller: runs a Job's pods until enough succeed (`SuccessCriteriaMet`, then
//! `Complete`) or more fail than `backoffLimit` allows (`FailureTarget`, then `Failed` with
//! `BackoffLimitExceeded`), with the status fields and events kube-controller-manager 1.33
//! writes. Retries are not paced (no back-off delay). CronJobs are stored only: nothing runs on a
//! schedule.

use serde_json::{json, Value};

use super::workloads::{alive, create_pod, owned_by, pod_ready};
use super::{events, objects, rtype, set_status};
use crate::api::write::{delete_object, Propagation};
use crate::store::{self, State};

const COMPONENT: &str = "job-controller";
/// The message of `BackoffLimitExceeded`, as the Job controller words it.
pub const BACKOFF_LIMIT_MESSAGE: &str = "Job has reached the specified backoff limit";
const COMPLETIONS_MESSAGE: &str = "Reached expected number of succeeded pods";

/// Whether a Job has a terminal condition (`Complete` or `Failed`) that is true.
fn finished(job: &Value) -> bool {
    job["status"]["conditions"]
        .as_array()
        .into_iter()
        .flatten()
        .any(|c| (c["type"] == "Complete" || c["type"] == "Failed") && c["status"] == "True")
}

fn phase(pod: &Value) -> &str {
    pod["status"]["phase"].as_str().unwrap_or_default()
}

/// A pod of a Job with `restartPolicy: OnFailure` whose container crash-loops: its restarts
/// count against `backoffLimit`, and the sandbox does not pace them, so it has reached it.
fn crash_looping(pod: &Value) -> bool {
    pod["spec"]["restartPolicy"] == "OnFailure"
        && pod["status"]["containerStatuses"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|s| s["state"]["waiting"]["reason"] == "CrashLoopBackOff")
}

fn condition(kind: &str, reason: &str, message: &str, now: &str) -> Value {
    json!({"type": kind, "status": "True", "lastProbeTime": now, "lastTransitionTime": now, "reason": reason, "message": message})
}

/// One pass over all Jobs.
pub fn reconcile(state: &mut State) {
    let (Some(job_type), Some(pod_type)) = (rtype(state, "batch", "jobs"), rtype(state, "", "pods")) else { return };
    for job in objects(state, "batch", "jobs", None) {
        if !alive(&job) || finished(&job) || job["spec"]["suspend"] == true {
            continue;
        }
        let ns = job["metadata"]["namespace"].as_str().unwrap_or_default().to_owned();
        let now = store::now();
        let all_pods = objects(state, "", "pods", Some(&ns));
        let owned: Vec<Value> = owned_by(&all_pods, &job).filter(|p| alive(p)).cloned().collect();
        let succeeded = owned.iter().filter(|p| phase(p) == "Succeeded").count() as i64;
        let failed = owned.iter().filter(|p| phase(p) == "Failed").count() as i64;
        let active: Vec<&Value> = owned.iter().filter(|p| !matches!(phase(p), "Succeeded" | "Failed")).collect();
        let backoff_limit = job["spec"]["backoffLimit"].as_i64().unwrap_or(6);
        let completions = job["spec"]["completions"].as_i64();
        let parallelism = job["spec"]["parallelism"].as_i64().unwrap_or(1);
        let start = job["status"]["startTime"].as_str().map_or_else(|| now.clone(), str::to_owned);
        let mut status = json!({"startTime": start, "terminating": 0, "uncountedTerminatedPods": {}});
        if failed > 0 {
            status["failed"] = json!(failed);
        }
        if succeeded > 0 {
            status["succeeded"] = json!(succeeded);
        }
        let done = match completions {
            Some(n) => succeeded >= n,
            None => succeeded > 0 && active.is_empty(),
        };
        if failed > backoff_limit || active.iter().any(|p| crash_looping(p)) {
            // The Job fails: its active pods are deleted, then the terminal condition follows
            // the interim one.
            for pod in &active {
                let name = pod["metadata"]["name"].as_str().unwrap_or_default().to_owned();
                if delete_object(state, &pod_type, &ns, &name, Propagation::Background, false, true).is_ok() {
                    events::record(state, &job, "Normal", "SuccessfulDelete", &format!("Deleted pod: {name}"), COMPONENT);
                }
            }
            status["ready"] = json!(0);
            status["failed"] = json!(failed.max(1));
            status["conditions"] = json!([
                condition("FailureTarget", "BackoffLimitExceeded", BACKOFF_LIMIT_MESSAGE, &now),
                condition("Failed", "BackoffLimitExceeded", BACKOFF_LIMIT_MESSAGE, &now)
            ]);
            events::record(state, &job, "Warning", "BackoffLimitExceeded", BACKOFF_LIMIT_MESSAGE, COMPONENT);
            set_status(state, &job_type, &job, status);
            continue;
        }
        if done {
            status["ready"] = json!(0);
            status["completionTime"] = json!(now);
            status["conditions"] = json!([
                condition("SuccessCriteriaMet", "CompletionsReached", COMPLETIONS_MESSAGE, &now),
                condition("Complete", "CompletionsReached", COMPLETIONS_MESSAGE, &now)
            ]);
            events::record(state, &job, "Normal", "Completed", "Job completed", COMPONENT);
            set_status(state, &job_type, &job, status);
            continue;
        }
        let wanted = match completions {
            Some(n) => parallelism.min(n - succeeded),
            None => parallelism,
        };
        let mut created = 0;
        for _ in (active.len() as i64)..wanted {
            match create_pod(state, &job, &job["spec"]["template"], None, json!({}), None) {
                Ok(name) => {
                    created += 1;
                    events::record(state, &job, "Normal", "SuccessfulCreate", &format!("Created pod: {name}"), COMPONENT);
                }
                Err(message) => {
                    events::record(state, &job, "Warning", "FailedCreate", &format!("Error creating: {message}"), COMPONENT);
                    break;
                }
            }
        }
        let active_now = active.len() as i64 + created;
        if active_now > 0 {
            status["active"] = json!(active_now);
        }
        status["ready"] = json!(active.iter().filter(|p| pod_ready(p)).count());
        set_status(state, &job_type, &job, status);
    }
}
