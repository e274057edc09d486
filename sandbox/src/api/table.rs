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
                let waiting = o["status"]["containerStatuses"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .find_map(|s| s["state"]["waiting"]["reason"].as_str());
                json!(waiting.or(o["status"]["phase"].as_str()).unwrap_or("Pending"))
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
        ("storage.k8s.io", "StorageClass") => vec![
            ("Provisioner", "string", |o| text(&o["provisioner"])),
            ("ReclaimPolicy", "string", |o| text(&o["reclaimPolicy"])),
            ("VolumeBindingMode", "string", |o| text(&o["volumeBindingMode"])),
        ],
        _ => Vec::new(),
    }
}

/// Evaluates a printer column's simple JSONPath (`.status.phase`).
fn json_path<'a>(obj: &'a Value, path: &str) -> &'a Value {
    path.trim_start_matches('.').split('.').filter(|s| !s.is_empty()).fold(obj, |v, key| &v[key])
}

/// `5m`, `3h12m`, `2d` as kubectl shows ages.
pub fn age(created: &str) -> String {
    let Ok(then) = created.parse::<jiff::Timestamp>() else { return "<unknown>".into() };
    let secs = (jiff::Timestamp::now().as_second() - then.as_second()).max(0);
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
