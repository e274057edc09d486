//! The HorizontalPodAutoscaler controller, over idle pods and a working resource metrics
//! pipeline: every Resource (and ContainerResource) metric reads 0 % utilization, so the
//! recommendation before clamping is 0 and an autoscaler settles on `minReplicas`. It writes
//! the target's `spec.replicas` through the scale subresource as kube-controller-manager does
//! (an `Update` with `subresource: scale`), honours the scale-down stabilization window (300 s,
//! or `spec.behavior.scaleDown.stabilizationWindowSeconds`) and the behavior's rate policies
//! against the current size (no per-period history), and writes the status, conditions and
//! events of kube-controller-manager 1.33's `horizontal.go`. Pods, Object and External metrics
//! fail as they do on a cluster with no custom or external metrics API.

use serde_json::{json, Value};

use super::{events, objects, rtype, set_status, MANAGER};
use crate::api::scale::set_replicas;
use crate::api::write::WriteCtx;
use crate::store::{self, Recommendation, State};

const COMPONENT: &str = "horizontal-pod-autoscaler";
/// The controller's `--horizontal-pod-autoscaler-downscale-stabilization` default.
const DEFAULT_DOWNSCALE_WINDOW_SECONDS: i64 = 300;
/// What the sandbox answers where a cluster would ask a custom or external metrics API.
const NO_CUSTOM_METRICS: &str =
    "unable to fetch metrics from custom metrics API: no matches for kind \"MetricValueList\" in group \"custom.metrics.k8s.io\"";
const NO_EXTERNAL_METRICS: &str =
    "unable to fetch metrics from external metrics API: no matches for kind \"ExternalMetricValueList\" in group \"external.metrics.k8s.io\"";

fn now_ms() -> i64 {
    jiff::Timestamp::now().as_millisecond()
}

/// Whether an autoscaler's stabilization window has ended since the last reconciliation.
pub fn due(state: &State) -> bool {
    state.recheck_at.is_some_and(|t| now_ms() >= t)
}

/// Sets condition `kind` in `conditions` as the controller's `setCondition`: the transition
/// time changes only with the status; order is first-set order.
fn set_condition(conditions: &mut Vec<Value>, kind: &str, status: bool, reason: &str, message: &str) {
    let status = if status { "True" } else { "False" };
    let index = match conditions.iter().position(|c| c["type"] == kind) {
        Some(i) => i,
        None => {
            conditions.push(json!({"type": kind}));
            conditions.len() - 1
        }
    };
    let Some(c) = conditions.get_mut(index) else { return };
    if c["status"] != status {
        c["lastTransitionTime"] = json!(store::now());
    }
    c["status"] = json!(status);
    c["reason"] = json!(reason);
    c["message"] = json!(message);
}

/// The plural of a scale target the sandbox can scale, or the error kube-controller-manager's
/// REST mapper or scale client would give.
fn target_plural(state: &State, api_version: &str, kind: &str) -> Result<&'static str, String> {
    let group = crate::registry::split_api_version(api_version).0;
    match (group, kind) {
        ("apps", "Deployment") => Ok("deployments"),
        ("apps", "StatefulSet") => Ok("statefulsets"),
        ("apps", "ReplicaSet") => Ok("replicasets"),
        _ if state.registry.types().iter().any(|t| t.group == group && t.kind == kind) => {
            Err("the server could not find the requested resource".to_owned())
        }
        _ => Err(format!("no matches for kind \"{kind}\" in group \"{group}\"")),
    }
}

/// One metric's proposal: its status entry and the metric's name in messages, or the failure
/// reason and error.
fn measure(metric: &Value, namespace: &str) -> Result<(Value, String), (&'static str, String)> {
    let current = |target: &Value| {
        if target["type"] == "Utilization" {
            json!({"averageUtilization": 0, "averageValue": "0"})
        } else {
            json!({"averageValue": "0"})
        }
    };
    match metric["type"].as_str().unwrap_or_default() {
        "Resource" => {
            let r = &metric["resource"];
            let name = r["name"].as_str().unwrap_or_default();
            let what = if r["target"]["type"] == "Utilization" {
                format!("{name} resource utilization (percentage of request)")
            } else {
                format!("{name} resource")
            };
            Ok((json!({"type": "Resource", "resource": {"name": name, "current": current(&r["target"])}}), what))
        }
        "ContainerResource" => {
            let r = &metric["containerResource"];
            let name = r["name"].as_str().unwrap_or_default();
            let what = if r["target"]["type"] == "Utilization" {
                format!("{name} container resource utilization (percentage of request)")
            } else {
                format!("{name} container resource")
            };
            let status = json!({"type": "ContainerResource", "containerResource": {"name": name, "container": r["container"], "current": current(&r["target"])}});
            Ok((status, what))
        }
        "Pods" => {
            let name = metric["pods"]["metric"]["name"].as_str().unwrap_or_default();
            Err(("FailedGetPodsMetric", format!("unable to get metric {name}: {NO_CUSTOM_METRICS}")))
        }
        "Object" => {
            let o = &metric["object"];
            let name = o["metric"]["name"].as_str().unwrap_or_default();
            let target = format!(
                "{} on {namespace} {}",
                o["describedObject"]["kind"].as_str().unwrap_or_default(),
                o["describedObject"]["name"].as_str().unwrap_or_default()
            );
            Err(("FailedGetObjectMetric", format!("unable to get metric {name}: {target}/{NO_CUSTOM_METRICS}")))
        }
        _ => {
            let name = metric["external"]["metric"]["name"].as_str().unwrap_or_default();
            Err(("FailedGetExternalMetric", format!("unable to get external metric {namespace}/{name}/nil: {NO_EXTERNAL_METRICS}")))
        }
    }
}

/// The limit the behavior's policies put on one scaling step from `current` (no per-period
/// history: every step starts a fresh period), or `None` when the direction is `Disabled`.
fn rate_limit(rules: &Value, current: i64, up: bool) -> Option<i64> {
    let select = rules["selectPolicy"].as_str().unwrap_or("Max");
    if select == "Disabled" {
        return None;
    }
    let limits = rules["policies"].as_array().into_iter().flatten().map(|p| {
        let value = p["value"].as_i64().unwrap_or(0);
        match (p["type"].as_str().unwrap_or_default(), up) {
            ("Pods", true) => current + value,
            ("Pods", false) => current - value,
            (_, true) => (current as f64 * (1.0 + value as f64 / 100.0)).ceil() as i64,
            (_, false) => (current as f64 * (1.0 - value as f64 / 100.0)) as i64,
        }
    });
    // `Max` allows the largest change: the highest limit going up, the lowest going down.
    let pick_high = up == (select == "Max");
    if pick_high {
        limits.max()
    } else {
        limits.min()
    }
}

/// Clamps the stabilized recommendation: `(replicas, ScalingLimited reason, message)`.
fn clamp(hpa: &Value, current: i64, stabilized: i64, min: i64, max: i64) -> (i64, &'static str, &'static str) {
    const UP_LIMIT: (&str, &str) = ("ScaleUpLimit", "the desired replica count is increasing faster than the maximum scale rate");
    const TOO_MANY: (&str, &str) = ("TooManyReplicas", "the desired replica count is more than the maximum replica count");
    const DOWN_LIMIT: (&str, &str) = ("ScaleDownLimit", "the desired replica count is decreasing faster than the maximum scale rate");
    const TOO_FEW: (&str, &str) = ("TooFewReplicas", "the desired replica count is less than the minimum replica count");
    let behavior = &hpa["spec"]["behavior"];
    if behavior.is_null() {
        let up_limit = (2 * current).max(4);
        let (ceiling, why) = if max > up_limit { (up_limit, UP_LIMIT) } else { (max, TOO_MANY) };
        if stabilized < min {
            return (min, TOO_FEW.0, TOO_FEW.1);
        }
        if stabilized > ceiling {
            return (ceiling, why.0, why.1);
        }
    } else if stabilized > current {
        let limit = rate_limit(&behavior["scaleUp"], current, true).unwrap_or(current).max(current);
        let (ceiling, why) = if max > limit { (limit, UP_LIMIT) } else { (max, TOO_MANY) };
        if stabilized > ceiling {
            return (ceiling, why.0, why.1);
        }
    } else if stabilized < current {
        let limit = rate_limit(&behavior["scaleDown"], current, false).unwrap_or(current).min(current);
        let (floor, why) = if min < limit { (limit, DOWN_LIMIT) } else { (min, TOO_FEW) };
        if stabilized < floor {
            return (floor, why.0, why.1);
        }
    }
    (stabilized, "DesiredWithinRange", "the desired count is within the acceptable range")
}

/// The stabilization window for scaling down, in milliseconds.
fn down_window_ms(hpa: &Value) -> i64 {
    let seconds = hpa["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"].as_i64().unwrap_or(DEFAULT_DOWNSCALE_WINDOW_SECONDS);
    seconds * 1000
}

/// The highest recommendation within the window (with `raw`), after recording `raw` as the
/// controller's `stabilizeRecommendation` does. Samples that can no longer matter are dropped:
/// those outside the window and those not above `raw` (the sandbox's raw recommendation never
/// changes, so a sample equal to it is only a later copy of itself).
fn stabilize(state: &mut State, uid: &str, raw: i64, window_ms: i64, now: i64) -> (i64, Option<i64>) {
    let samples = state.recommendations.entry(uid.to_owned()).or_default();
    samples.retain(|s| s.at_ms > now - window_ms && s.replicas > raw);
    let stabilized = samples.iter().map(|s| s.replicas).fold(raw, i64::max);
    let expires = samples.iter().map(|s| s.at_ms + window_ms).min();
    samples.push(Recommendation { replicas: raw, at_ms: now });
    (stabilized, expires)
}

/// One pass over all HorizontalPodAutoscalers.
pub fn reconcile(state: &mut State) {
    let Some(hpa_type) = rtype(state, "autoscaling", "horizontalpodautoscalers") else { return };
    let hpas = objects(state, "autoscaling", "horizontalpodautoscalers", None);
    let live: Vec<String> = hpas.iter().filter_map(|h| h["metadata"]["uid"].as_str().map(str::to_owned)).collect();
    state.recommendations.retain(|uid, _| live.contains(uid));
    let mut recheck: Option<i64> = None;
    for hpa in hpas {
        if !hpa["metadata"]["deletionTimestamp"].is_null() {
            continue;
        }
        if let Some(at) = reconcile_one(state, &hpa_type, &hpa) {
            recheck = Some(recheck.map_or(at, |r| r.min(at)));
        }
    }
    state.recheck_at = recheck;
}

/// Reconciles one autoscaler; returns when it next needs a look without any write.
fn reconcile_one(state: &mut State, hpa_type: &crate::registry::ResourceType, hpa: &Value) -> Option<i64> {
    let ns = hpa["metadata"]["namespace"].as_str().unwrap_or_default().to_owned();
    let uid = hpa["metadata"]["uid"].as_str().unwrap_or_default().to_owned();
    let spec = &hpa["spec"];
    let target_ref = &spec["scaleTargetRef"];
    let target_name = target_ref["name"].as_str().unwrap_or_default();
    let mut status = hpa["status"].clone();
    if !status.is_object() {
        status = json!({});
    }
    let mut conditions: Vec<Value> = status["conditions"].as_array().cloned().unwrap_or_default();
    let found =
        target_plural(state, target_ref["apiVersion"].as_str().unwrap_or_default(), target_ref["kind"].as_str().unwrap_or_default())
            .and_then(|plural| {
                let t = rtype(state, "apps", plural).ok_or_else(|| "the server could not find the requested resource".to_owned())?;
                match state.get(&t.key(), &ns, target_name) {
                    Some(obj) if obj["metadata"]["deletionTimestamp"].is_null() => Ok((t, obj.clone())),
                    _ => Err(format!("{plural}/scale.apps \"{target_name}\" not found")),
                }
            });
    let (target_type, target) = match found {
        Ok(found) => found,
        Err(err) => {
            events::record_each(state, hpa, "Warning", "FailedGetScale", &err, COMPONENT);
            let message = format!("the HPA controller was unable to get the target's current scale: {err}");
            set_condition(&mut conditions, "AbleToScale", false, "FailedGetScale", &message);
            status["conditions"] = json!(conditions);
            finish_status(&mut status);
            set_status(state, hpa_type, hpa, status);
            return None;
        }
    };
    set_condition(
        &mut conditions,
        "AbleToScale",
        true,
        "SucceededGetScale",
        "the HPA controller was able to get the target's current scale",
    );
    let current = target["spec"]["replicas"].as_i64().unwrap_or(1);
    let min = spec["minReplicas"].as_i64().unwrap_or(1);
    let max = spec["maxReplicas"].as_i64().unwrap_or(min);
    let now = now_ms();
    if !state.recommendations.contains_key(&uid) {
        state.recommendations.insert(uid.clone(), vec![Recommendation { replicas: current, at_ms: now }]);
    }
    let mut recheck = None;
    let mut metric_statuses: Option<Vec<Value>> = None;
    let (desired, reason) = if current == 0 && min != 0 {
        set_condition(
            &mut conditions,
            "ScalingActive",
            false,
            "ScalingDisabled",
            "scaling is disabled since the replica count of the target is zero",
        );
        (0, None)
    } else if current > max {
        (max, Some("Current number of replicas above Spec.MaxReplicas"))
    } else if current < min {
        (min, Some("Current number of replicas below Spec.MinReplicas"))
    } else {
        let metrics = spec["metrics"].as_array().cloned().unwrap_or_default();
        let mut statuses = Vec::new();
        let mut last_valid = None;
        let mut first_error = None;
        for metric in &metrics {
            match measure(metric, &ns) {
                Ok((entry, what)) => {
                    statuses.push(entry);
                    last_valid = Some(what);
                }
                Err((why, err)) => {
                    statuses.push(json!({"type": ""}));
                    events::record_each(state, hpa, "Warning", why, &err, COMPONENT);
                    first_error.get_or_insert((why, err));
                }
            }
        }
        if let Some((why, err)) = first_error {
            // Every metric reads 0, so any metric that cannot be read leaves the controller
            // unsure whether to scale: it gives up for this round, as kube-controller-manager.
            set_condition(&mut conditions, "ScalingActive", false, why, &format!("the HPA was unable to compute the replica count: {err}"));
            status["currentReplicas"] = json!(current);
            status["conditions"] = json!(conditions);
            finish_status(&mut status);
            set_status(state, hpa_type, hpa, status);
            return None;
        }
        if let Some(what) = last_valid {
            let message = format!("the HPA was able to successfully calculate a replica count from {what}");
            set_condition(&mut conditions, "ScalingActive", true, "ValidMetricFound", &message);
        }
        metric_statuses = Some(statuses);
        let raw = 0;
        let (stabilized, expires) = stabilize(state, &uid, raw, down_window_ms(hpa), now);
        recheck = expires;
        if stabilized != raw {
            set_condition(
                &mut conditions,
                "AbleToScale",
                true,
                "ScaleDownStabilized",
                "recent recommendations were higher than current one, applying the highest recent recommendation",
            );
        } else {
            set_condition(&mut conditions, "AbleToScale", true, "ReadyForNewScale", "recommended size matches current size");
        }
        let (desired, why, message) = clamp(hpa, current, stabilized, min, max);
        set_condition(&mut conditions, "ScalingLimited", desired != stabilized, why, message);
        (desired, Some("All metrics below target"))
    };
    let mut desired = desired;
    if let (Some(reason), true) = (reason, desired != current) {
        let ctx = WriteCtx::controller("update", MANAGER, Some("scale"));
        match set_replicas(state, &target_type, &target, desired, &ctx) {
            Ok(_) => {
                let message = format!("the HPA controller was able to update the target scale to {desired}");
                set_condition(&mut conditions, "AbleToScale", true, "SucceededRescale", &message);
                events::record_each(
                    state,
                    hpa,
                    "Normal",
                    "SuccessfulRescale",
                    &format!("New size: {desired}; reason: {reason}"),
                    COMPONENT,
                );
                status["lastScaleTime"] = json!(store::now());
            }
            Err(err) => {
                let message = format!("New size: {desired}; reason: {reason}; error: {}", err.message);
                events::record_each(state, hpa, "Warning", "FailedRescale", &message, COMPONENT);
                let message = format!("the HPA controller was unable to update the target scale: {}", err.message);
                set_condition(&mut conditions, "AbleToScale", false, "FailedUpdateScale", &message);
                desired = current;
            }
        }
    } else {
        desired = current;
    }
    status["currentReplicas"] = json!(current);
    status["desiredReplicas"] = json!(desired);
    match metric_statuses {
        Some(m) if !m.is_empty() => status["currentMetrics"] = json!(m),
        _ => {
            if let Some(map) = status.as_object_mut() {
                map.remove("currentMetrics");
            }
        }
    }
    status["conditions"] = json!(conditions);
    finish_status(&mut status);
    set_status(state, hpa_type, hpa, status);
    recheck
}

/// The fields the API always shows: `desiredReplicas` (required in autoscaling/v2).
fn finish_status(status: &mut Value) {
    if status["desiredReplicas"].is_null() {
        status["desiredReplicas"] = json!(0);
    }
}
