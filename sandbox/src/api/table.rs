//! Server-side printing (`Accept: application/json;as=Table`), as `kubectl get` asks for it.

use serde_json::{json, Value};

use super::Request;
use crate::registry::ResourceType;

/// Whether the client asked for a Table.
pub fn wanted(req: &Request) -> bool {
    req.accept.as_deref().is_some_and(|a| a.contains("as=Table"))
}

type Column = (&'static str, &'static str, fn(&Value) -> Value);

fn text(v: &Value) -> Value {
    match v {
        Value::Null => json!("<none>"),
        Value::String(_) => v.clone(),
        other => json!(other.to_string()),
    }
}

fn columns(rtype: &ResourceType) -> Vec<Column> {
    match (rtype.group.as_str(), rtype.kind.as_str()) {
        ("", "Namespace") => vec![("Status", "string", |o| text(&o["status"]["phase"]))],
        ("", "Pod") => vec![
            ("Ready", "string", |o| {
                let statuses = o["status"]["containerStatuses"].as_array().cloned().unwrap_or_default();
                let ready = statuses.iter().filter(|s| s["ready"].as_bool() == Some(true)).count();
                let total = o["spec"]["containers"].as_array().map_or(0, Vec::len);
                json!(format!("{ready}/{total}"))
            }),
            ("Status", "string", |o| {
                // As kubectl's pod printer: an init container's trouble first, then the last
                // container's waiting or terminated reason, else the phase.
                let inits = o["status"]["initContainerStatuses"].as_array().cloned().unwrap_or_default();
                let total = o["spec"]["initContainers"].as_array().map_or(0, Vec::len);
                for (i, s) in inits.iter().enumerate() {
                    if s["state"]["terminated"]["exitCode"] == 0 && s["state"]["terminated"].is_object() || s["started"] == true {
                        continue;
                    }
                    return match s["state"]["waiting"]["reason"].as_str() {
                        Some(r) if r != "PodInitializing" => json!(format!("Init:{r}")),
                        _ => json!(format!("Init:{i}/{total}")),
                    };
                }
                let statuses = o["status"]["containerStatuses"].as_array().cloned().unwrap_or_default();
                let reason = statuses.iter().rev().find_map(|s| {
                    s["state"]["waiting"]["reason"].as_str().or(s["state"]["terminated"]["reason"].as_str()).map(str::to_owned)
                });
                let running = statuses.iter().any(|s| s["state"]["running"].is_object() && s["ready"] == true);
                json!(match reason {
                    Some(r) if r == "Completed" && running => "Running".to_owned(),
                    Some(r) => r,
                    None => o["status"]["phase"].as_str().unwrap_or("Pending").to_owned(),
                })
            }),
            ("Restarts", "integer", |o| {
                json!(o["status"]["containerStatuses"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|s| s["restartCount"].as_i64())
                    .sum::<i64>())
            }),
        ],
        ("apps", "Deployment") => vec![
            ("Ready", "string", |o| {
                json!(format!("{}/{}", o["status"]["readyReplicas"].as_i64().unwrap_or(0), o["spec"]["replicas"].as_i64().unwrap_or(0)))
            }),
            ("Up-to-date", "integer", |o| json!(o["status"]["updatedReplicas"].as_i64().unwrap_or(0))),
            ("Available", "integer", |o| json!(o["status"]["availableReplicas"].as_i64().unwrap_or(0))),
        ],
        ("apps", "ReplicaSet") => vec![
            ("Desired", "integer", |o| json!(o["spec"]["replicas"].as_i64().unwrap_or(1))),
            ("Current", "integer", |o| json!(o["status"]["replicas"].as_i64().unwrap_or(0))),
            ("Ready", "integer", |o| json!(o["status"]["readyReplicas"].as_i64().unwrap_or(0))),
        ],
        ("apps", "StatefulSet") => {
            vec![("Ready", "string", |o| {
                json!(format!("{}/{}", o["status"]["readyReplicas"].as_i64().unwrap_or(0), o["spec"]["replicas"].as_i64().unwrap_or(0)))
            })]
        }
        ("", "PersistentVolumeClaim") => vec![
            ("Status", "string", |o| text(&o["status"]["phase"])),
            ("Volume", "string", |o| json!(o["spec"]["volumeName"].as_str().unwrap_or(""))),
            ("Capacity", "string", |o| json!(o["status"]["capacity"]["storage"].as_str().unwrap_or(""))),
            ("StorageClass", "string", |o| text(&o["spec"]["storageClassName"])),
        ],
        ("", "Service") => vec![
            ("Type", "string", |o| text(&o["spec"]["type"])),
            ("Cluster-IP", "string", |o| text(&o["spec"]["clusterIP"])),
            ("Port(s)", "string", |o| {
                let ports: Vec<String> = o["spec"]["ports"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| format!("{}/{}", p["port"], p["protocol"].as_str().unwrap_or("TCP")))
                    .collect();
                json!(ports.join(","))
            }),
        ],
        ("", "Node") => vec![
            ("Status", "string", |o| {
                let ready =
                    o["status"]["conditions"].as_array().into_iter().flatten().any(|c| c["type"] == "Ready" && c["status"] == "True");
                let mut status = if ready { "Ready" } else { "NotReady" }.to_owned();
                if o["spec"]["unschedulable"] == true {
                    status.push_str(",SchedulingDisabled");
                }
                json!(status)
            }),
            ("Roles", "string", |o| {
                let roles: Vec<&str> = o["metadata"]["labels"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .filter_map(|(k, _)| k.strip_prefix("node-role.kubernetes.io/"))
                    .filter(|r| !r.is_empty())
                    .collect();
                json!(if roles.is_empty() { "<none>".to_owned() } else { roles.join(",") })
            }),
        ],
        ("apps", "DaemonSet") => vec![
            ("Desired", "integer", |o| json!(o["status"]["desiredNumberScheduled"].as_i64().unwrap_or(0))),
            ("Current", "integer", |o| json!(o["status"]["currentNumberScheduled"].as_i64().unwrap_or(0))),
            ("Ready", "integer", |o| json!(o["status"]["numberReady"].as_i64().unwrap_or(0))),
            ("Up-to-date", "integer", |o| json!(o["status"]["updatedNumberScheduled"].as_i64().unwrap_or(0))),
            ("Available", "integer", |o| json!(o["status"]["numberAvailable"].as_i64().unwrap_or(0))),
            ("Node Selector", "string", |o| {
                let pairs: Vec<String> = o["spec"]["template"]["spec"]["nodeSelector"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(k, v)| format!("{k}={}", v.as_str().unwrap_or_default()))
                    .collect();
                json!(if pairs.is_empty() { "<none>".to_owned() } else { pairs.join(",") })
            }),
        ],
        ("apps", "ControllerRevision") => vec![
            ("Controller", "string", |o| {
                let owner = o["metadata"]["ownerReferences"].as_array().into_iter().flatten().find(|r| r["controller"] == true);
                json!(owner.map_or_else(
                    || "<none>".to_owned(),
                    |r| {
                        let group = r["apiVersion"].as_str().unwrap_or_default().split_once('/').map_or("", |(g, _)| g);
                        let kind = r["kind"].as_str().unwrap_or_default().to_lowercase();
                        let kind = if group.is_empty() { kind } else { format!("{kind}.{group}") };
                        format!("{kind}/{}", r["name"].as_str().unwrap_or_default())
                    }
                ))
            }),
            ("Revision", "integer", |o| json!(o["revision"].as_i64().unwrap_or(0))),
        ],
        ("batch", "Job") => vec![
            ("Status", "string", |o| {
                let has = |kind: &str| {
                    o["status"]["conditions"].as_array().into_iter().flatten().any(|c| c["type"] == kind && c["status"] == "True")
                };
                let status = if has("Complete") {
                    "Complete"
                } else if has("Failed") {
                    "Failed"
                } else if !o["metadata"]["deletionTimestamp"].is_null() {
                    "Terminating"
                } else if has("Suspended") {
                    "Suspended"
                } else if has("FailureTarget") {
                    "FailureTarget"
                } else if has("SuccessCriteriaMet") {
                    "SuccessCriteriaMet"
                } else {
                    "Running"
                };
                json!(status)
            }),
            ("Completions", "string", |o| {
                let succeeded = o["status"]["succeeded"].as_i64().unwrap_or(0);
                json!(match (o["spec"]["completions"].as_i64(), o["spec"]["parallelism"].as_i64().unwrap_or(1)) {
                    (Some(n), _) => format!("{succeeded}/{n}"),
                    (None, p) if p > 1 => format!("{succeeded}/1 of {p}"),
                    (None, _) => format!("{succeeded}/1"),
                })
            }),
            ("Duration", "string", |o| {
                let (Some(start), end) = (o["status"]["startTime"].as_str(), o["status"]["completionTime"].as_str()) else {
                    return json!("");
                };
                let seconds = |t: &str| t.parse::<jiff::Timestamp>().map(|t| t.as_second()).ok();
                let end = end.and_then(seconds).unwrap_or_else(|| jiff::Timestamp::now().as_second());
                json!(seconds(start).map_or_else(String::new, |s| human_duration((end - s).max(0))))
            }),
        ],
        ("batch", "CronJob") => vec![
            ("Schedule", "string", |o| text(&o["spec"]["schedule"])),
            ("Timezone", "string", |o| text(&o["spec"]["timeZone"])),
            ("Suspend", "boolean", |o| json!(if o["spec"]["suspend"] == true { "True" } else { "False" })),
            ("Active", "integer", |o| json!(o["status"]["active"].as_array().map_or(0, Vec::len))),
            ("Last Schedule", "date", |o| o["status"]["lastScheduleTime"].as_str().map_or_else(|| json!("<none>"), |t| json!(age(t)))),
        ],
        ("autoscaling", "HorizontalPodAutoscaler") => vec![
            ("Reference", "string", |o| {
                let r = &o["spec"]["scaleTargetRef"];
                json!(format!("{}/{}", r["kind"].as_str().unwrap_or_default(), r["name"].as_str().unwrap_or_default()))
            }),
            ("Targets", "string", hpa_targets),
            ("MinPods", "string", |o| o["spec"]["minReplicas"].as_i64().map_or_else(|| json!("<unset>"), |n| json!(n.to_string()))),
            ("MaxPods", "integer", |o| json!(o["spec"]["maxReplicas"].as_i64().unwrap_or(0))),
            ("Replicas", "integer", |o| json!(o["status"]["currentReplicas"].as_i64().unwrap_or(0))),
        ],
        ("policy", "PodDisruptionBudget") => vec![
            ("Min Available", "string", |o| int_or_percent(&o["spec"]["minAvailable"])),
            ("Max Unavailable", "string", |o| int_or_percent(&o["spec"]["maxUnavailable"])),
            ("Allowed Disruptions", "integer", |o| json!(o["status"]["disruptionsAllowed"].as_i64().unwrap_or(0))),
        ],
        ("networking.k8s.io", "Ingress") => vec![
            ("Class", "string", |o| text(&o["spec"]["ingressClassName"])),
            ("Hosts", "string", |o| {
                let hosts: Vec<&str> = o["spec"]["rules"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|r| r["host"].as_str())
                    .filter(|h| !h.is_empty())
                    .collect();
                json!(match hosts.len() {
                    0 => "*".to_owned(),
                    n if n > 3 => format!("{} + {} more...", hosts[..3].join(","), n - 3),
                    _ => hosts.join(","),
                })
            }),
            ("Address", "string", |o| {
                let addresses: Vec<&str> = o["status"]["loadBalancer"]["ingress"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|i| i["ip"].as_str().or(i["hostname"].as_str()))
                    .collect();
                json!(addresses.join(","))
            }),
            ("Ports", "string", |o| json!(if o["spec"]["tls"].as_array().is_some_and(|t| !t.is_empty()) { "80, 443" } else { "80" })),
        ],
        ("networking.k8s.io", "IngressClass") => vec![
            ("Controller", "string", |o| text(&o["spec"]["controller"])),
            ("Parameters", "string", |o| {
                let p = &o["spec"]["parameters"];
                if p.is_object() {
                    let group = p["apiGroup"].as_str().map_or_else(String::new, |g| format!(".{g}"));
                    json!(format!("{}{group}/{}", p["kind"].as_str().unwrap_or_default(), p["name"].as_str().unwrap_or_default()))
                } else {
                    json!("<none>")
                }
            }),
        ],
        ("storage.k8s.io", "StorageClass") => vec![
            ("Provisioner", "string", |o| text(&o["provisioner"])),
            ("ReclaimPolicy", "string", |o| text(&o["reclaimPolicy"])),
            ("VolumeBindingMode", "string", |o| text(&o["volumeBindingMode"])),
        ],
        _ => Vec::new(),
    }
}

/// A PDB's `minAvailable` or `maxUnavailable` as kubectl prints it (`N/A` when unset).
fn int_or_percent(v: &Value) -> Value {
    match v {
        Value::Null => json!("N/A"),
        Value::String(s) => json!(s),
        other => json!(other.to_string()),
    }
}

/// An HPA's metrics as kubectl's `formatHPAMetrics`: `cpu: 0%/80%` per metric (current over
/// target), at most two then `+ N more...`, `<none>` without metrics.
fn hpa_targets(o: &Value) -> Value {
    let specs = o["spec"]["metrics"].as_array().cloned().unwrap_or_default();
    if specs.is_empty() {
        return json!("<none>");
    }
    let statuses = o["status"]["currentMetrics"].as_array().cloned().unwrap_or_default();
    let quantity = |v: &Value| v.as_str().map(str::to_owned).or_else(|| v.as_i64().map(|n| n.to_string()));
    let list: Vec<String> = specs
        .iter()
        .enumerate()
        .map(|(i, spec)| {
            let field = match spec["type"].as_str().unwrap_or_default() {
                "Resource" => "resource",
                "ContainerResource" => "containerResource",
                "Pods" => "pods",
                "Object" => "object",
                _ => "external",
            };
            let target = &spec[field]["target"];
            let current = statuses.get(i).map(|s| &s[field]["current"]).filter(|c| c.is_object());
            let unknown = || "<unknown>".to_owned();
            if matches!(field, "resource" | "containerResource") {
                let name = spec[field]["name"].as_str().unwrap_or_default();
                if let Some(avg) = quantity(&target["averageValue"]) {
                    let now = current.and_then(|c| quantity(&c["averageValue"])).unwrap_or_else(unknown);
                    return format!("{name}: {now}/{avg}");
                }
                let now = current.and_then(|c| c["averageUtilization"].as_i64()).map_or_else(unknown, |n| format!("{n}%"));
                let goal = target["averageUtilization"].as_i64().map_or_else(|| "<auto>".to_owned(), |n| format!("{n}%"));
                return format!("{name}: {now}/{goal}");
            }
            match (quantity(&target["averageValue"]), quantity(&target["value"])) {
                (Some(avg), _) => format!("{}/{avg} (avg)", current.and_then(|c| quantity(&c["averageValue"])).unwrap_or_else(unknown)),
                (None, Some(value)) => format!("{}/{value}", current.and_then(|c| quantity(&c["value"])).unwrap_or_else(unknown)),
                (None, None) => "<unknown>".to_owned(),
            }
        })
        .collect();
    if list.len() > 2 {
        return json!(format!("{} + {} more...", list[..2].join(", "), list.len() - 2));
    }
    json!(list.join(", "))
}

/// Evaluates a printer column's simple JSONPath (`.status.phase`).
fn json_path<'a>(obj: &'a Value, path: &str) -> &'a Value {
    path.trim_start_matches('.').split('.').filter(|s| !s.is_empty()).fold(obj, |v, key| &v[key])
}

/// Columns kube-apiserver prints after `Age` (a node's `Version`), with their priority (1: only
/// with `-o wide`).
fn columns_after_age(rtype: &ResourceType) -> Vec<(Column, i64)> {
    fn address(o: &Value, kind: &str) -> Value {
        let found = o["status"]["addresses"].as_array().into_iter().flatten().find(|a| a["type"] == kind);
        found.map_or_else(|| json!("<none>"), |a| text(&a["address"]))
    }
    match (rtype.group.as_str(), rtype.kind.as_str()) {
        ("", "Node") => vec![
            (("Version", "string", |o| text(&o["status"]["nodeInfo"]["kubeletVersion"])), 0),
            (("Internal-IP", "string", |o| address(o, "InternalIP")), 1),
            (("External-IP", "string", |o| address(o, "ExternalIP")), 1),
            (("OS-Image", "string", |o| text(&o["status"]["nodeInfo"]["osImage"])), 1),
            (("Kernel-Version", "string", |o| text(&o["status"]["nodeInfo"]["kernelVersion"])), 1),
            (("Container-Runtime", "string", |o| text(&o["status"]["nodeInfo"]["containerRuntimeVersion"])), 1),
        ],
        ("", "Pod") => vec![
            (("IP", "string", |o| text(&o["status"]["podIP"])), 1),
            (("Node", "string", |o| text(&o["spec"]["nodeName"])), 1),
            (("Nominated Node", "string", |o| text(&o["status"]["nominatedNodeName"])), 1),
            (("Readiness Gates", "string", |_| json!("<none>")), 1),
        ],
        _ => Vec::new(),
    }
}

/// `5m`, `3h12m`, `2d` as kubectl shows ages.
pub fn age(created: &str) -> String {
    let Ok(then) = created.parse::<jiff::Timestamp>() else { return "<unknown>".into() };
    human_duration((jiff::Timestamp::now().as_second() - then.as_second()).max(0))
}

/// A duration in seconds as apimachinery's `HumanDuration` prints it.
fn human_duration(secs: i64) -> String {
    match secs {
        s if s < 120 => format!("{s}s"),
        s if s < 600 => format!("{}m{}s", s / 60, s % 60),
        s if s < 3 * 3600 => format!("{}m", s / 60),
        s if s < 8 * 3600 => format!("{}h{}m", s / 3600, (s % 3600) / 60),
        s if s < 2 * 86400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86400),
    }
}

/// The Table of `items`.
pub fn table(rtype: &ResourceType, items: &[Value], resource_version: &str, continue_token: Option<&str>) -> Value {
    if rtype.kind == "Event" {
        return events(items, resource_version, continue_token);
    }
    let builtin = columns(rtype);
    let mut defs = vec![
        json!({"name": "Name", "type": "string", "format": "name", "description": "Name must be unique within a namespace.", "priority": 0}),
    ];
    for (name, ty, _) in &builtin {
        defs.push(json!({"name": name, "type": ty, "format": "", "description": "", "priority": 0}));
    }
    let custom: Vec<&Value> = rtype.printer_columns.iter().filter(|c| c["name"].as_str() != Some("Age")).collect();
    for c in &custom {
        defs.push(json!({"name": c["name"], "type": c["type"], "format": "", "description": c["description"].as_str().unwrap_or(""), "priority": c["priority"].as_i64().unwrap_or(0)}));
    }
    defs.push(json!({"name": "Age", "type": "string", "format": "", "description": "CreationTimestamp is a timestamp representing the server time when this object was created.", "priority": 0}));
    let after = columns_after_age(rtype);
    for ((name, ty, _), priority) in &after {
        defs.push(json!({"name": name, "type": ty, "format": "", "description": "", "priority": priority}));
    }
    let rows: Vec<Value> = items
        .iter()
        .map(|obj| {
            let mut cells = vec![obj["metadata"]["name"].clone()];
            cells.extend(builtin.iter().map(|(_, _, f)| f(obj)));
            cells.extend(custom.iter().map(|c| {
                let v = json_path(obj, c["jsonPath"].as_str().unwrap_or_default());
                if v.is_null() { json!("") } else { v.clone() }
            }));
            cells.push(json!(age(obj["metadata"]["creationTimestamp"].as_str().unwrap_or_default())));
            cells.extend(after.iter().map(|((_, _, f), _)| f(obj)));
            json!({"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj["metadata"]}})
        })
        .collect();
    wrap(defs, rows, resource_version, continue_token)
}

fn wrap(defs: Vec<Value>, rows: Vec<Value>, resource_version: &str, continue_token: Option<&str>) -> Value {
    let mut metadata = json!({"resourceVersion": resource_version});
    if let Some(token) = continue_token {
        metadata["continue"] = json!(token);
    }
    json!({"kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata, "columnDefinitions": defs, "rows": rows})
}

/// Events print as kube-apiserver prints them: no name, the object they are about instead.
fn events(items: &[Value], resource_version: &str, continue_token: Option<&str>) -> Value {
    let defs: Vec<Value> = ["Last Seen", "Type", "Reason", "Object", "Message"]
        .iter()
        .map(|name| json!({"name": name, "type": "string", "format": "", "description": "", "priority": 0}))
        .collect();
    let rows: Vec<Value> = items
        .iter()
        .map(|e| {
            let seen = e["lastTimestamp"].as_str().or(e["metadata"]["creationTimestamp"].as_str()).unwrap_or_default();
            let involved = &e["involvedObject"];
            let object = format!(
                "{}/{}",
                involved["kind"].as_str().unwrap_or_default().to_lowercase(),
                involved["name"].as_str().unwrap_or_default()
            );
            let cells = json!([age(seen), text(&e["type"]), text(&e["reason"]), object, text(&e["message"])]);
            json!({"cells": cells, "object": {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": e["metadata"]}})
        })
        .collect();
    wrap(defs, rows, resource_version, continue_token)
}
