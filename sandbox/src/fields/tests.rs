//! Server-side apply and update semantics across the module.

use serde_json::{json, Value};

use super::*;
use crate::shape::BuiltinShape;

const T0: &str = "2025-06-01T10:00:00Z";
const T1: &str = "2025-06-01T10:05:00Z";

fn request<'a>(live: Option<&'a Value>, applied: &'a Value, manager: &'a str, force: bool, now: &'a str) -> ApplyRequest<'a> {
    ApplyRequest {
        live,
        applied,
        manager,
        force,
        shape: &BuiltinShape,
        scope: Scope::Main,
        now,
        api_version: applied["apiVersion"].as_str().unwrap_or("v1"),
        subresource: None,
    }
}

/// Each manager's paths, in managedFields order.
fn owners(obj: &Value) -> Vec<(String, Vec<String>)> {
    read_managed(obj).unwrap().into_iter().map(|e| (e.manager, e.fields.paths())).collect()
}

fn owners_of(list: &[(&str, &[&str])]) -> Vec<(String, Vec<String>)> {
    list.iter().map(|(m, paths)| (m.to_string(), paths.iter().map(|p| p.to_string()).collect())).collect()
}

fn configmap(data: Value) -> Value {
    json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "cm", "namespace": "default"}, "data": data})
}

enum Expect {
    /// The resulting `data`, whether anything changed, and each manager's fields.
    Ok { data: Value, changed: bool, owners: &'static [(&'static str, &'static [&'static str])] },
    /// The exact conflict message; the object stays as it was.
    Conflict(&'static str),
}

#[test]
fn server_side_apply_ownership_table() {
    use Expect::*;
    let steps: Vec<(&str, &str, Value, bool, Expect)> = vec![
        (
            "A applies x and y",
            "a",
            json!({"x": "1", "y": "2"}),
            false,
            Ok { data: json!({"x": "1", "y": "2"}), changed: true, owners: &[("a", &[".data.x", ".data.y"])] },
        ),
        (
            "B applies z",
            "b",
            json!({"z": "3"}),
            false,
            Ok {
                data: json!({"x": "1", "y": "2", "z": "3"}),
                changed: true,
                owners: &[("a", &[".data.x", ".data.y"]), ("b", &[".data.z"])],
            },
        ),
        (
            "A drops y and adds w: y goes, z stays",
            "a",
            json!({"x": "1", "w": "4"}),
            false,
            Ok {
                data: json!({"x": "1", "z": "3", "w": "4"}),
                changed: true,
                owners: &[("a", &[".data.w", ".data.x"]), ("b", &[".data.z"])],
            },
        ),
        (
            "B sets another x: conflict",
            "b",
            json!({"x": "9", "z": "3"}),
            false,
            Conflict("Apply failed with 1 conflict: conflict with \"a\": .data.x"),
        ),
        (
            "B applies A's value of w: shared, no conflict",
            "b",
            json!({"w": "4", "z": "3"}),
            false,
            Ok {
                data: json!({"x": "1", "z": "3", "w": "4"}),
                changed: true,
                owners: &[("a", &[".data.w", ".data.x"]), ("b", &[".data.w", ".data.z"])],
            },
        ),
        (
            "B forces x: B owns it, A no longer lists it",
            "b",
            json!({"x": "9", "w": "4", "z": "3"}),
            true,
            Ok {
                data: json!({"x": "9", "z": "3", "w": "4"}),
                changed: true,
                owners: &[("a", &[".data.w"]), ("b", &[".data.w", ".data.x", ".data.z"])],
            },
        ),
        (
            "A re-applies its old x: conflict with B",
            "a",
            json!({"x": "1", "w": "4"}),
            false,
            Conflict("Apply failed with 1 conflict: conflict with \"b\": .data.x"),
        ),
        (
            "A applies what it already owns: nothing changes",
            "a",
            json!({"w": "4"}),
            false,
            Ok {
                data: json!({"x": "9", "z": "3", "w": "4"}),
                changed: false,
                owners: &[("a", &[".data.w"]), ("b", &[".data.w", ".data.x", ".data.z"])],
            },
        ),
        (
            "B drops w: A still owns it, it stays",
            "b",
            json!({"x": "9", "z": "3"}),
            false,
            Ok {
                data: json!({"x": "9", "z": "3", "w": "4"}),
                changed: true,
                owners: &[("a", &[".data.w"]), ("b", &[".data.x", ".data.z"])],
            },
        ),
        (
            "A drops w: no one owns it, it goes, and so does A's entry",
            "a",
            Value::Null,
            false,
            Ok { data: json!({"x": "9", "z": "3"}), changed: true, owners: &[("b", &[".data.x", ".data.z"])] },
        ),
    ];

    let mut live: Option<Value> = None;
    for (what, manager, data, force, expect) in steps {
        let applied = configmap(data);
        let result = apply(request(live.as_ref(), &applied, manager, force, T0));
        match expect {
            Ok { data, changed, owners: expected } => {
                let applied = result.unwrap_or_else(|e| panic!("{what}: {e}"));
                assert_eq!(applied.object["data"], data, "{what}");
                assert_eq!(applied.changed, changed, "{what}");
                assert_eq!(owners(&applied.object), owners_of(expected), "{what}");
                if !changed {
                    assert_eq!(Some(&applied.object), live.as_ref(), "{what}");
                }
                live = Some(applied.object);
            }
            Conflict(message) => match result {
                Err(e @ ApplyError::Conflicts(_)) => assert_eq!(e.to_string(), message, "{what}"),
                other => panic!("{what}: expected a conflict, got {other:?}"),
            },
        }
    }
}

fn deployment(replicas: i64, containers: Value) -> Value {
    json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default", "labels": {"app": "web"}},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}}, "spec": {"containers": containers}}
        }
    })
}

fn web() -> Value {
    json!({"name": "web", "image": "nginx:1.27", "ports": [{"containerPort": 80}]})
}

fn sidecar() -> Value {
    json!({"name": "sidecar", "image": "envoy:1.30"})
}

fn container_names(obj: &Value) -> Vec<&str> {
    obj["spec"]["template"]["spec"]["containers"].as_array().unwrap().iter().map(|c| c["name"].as_str().unwrap()).collect()
}

#[test]
fn creating_by_apply_records_what_kubectl_would_see() {
    let config = deployment(3, json!([web()]));
    let created = apply(request(None, &config, "kubectl", false, T0)).unwrap();
    assert!(created.changed);
    let port = &created.object["spec"]["template"]["spec"]["containers"][0]["ports"][0];
    assert_eq!(port, &json!({"containerPort": 80, "protocol": "TCP"}));
    let managed = serde_json::to_string(&created.object["metadata"]["managedFields"]).unwrap();
    let expected = concat!(
        r#"[{"manager":"kubectl","operation":"Apply","apiVersion":"apps/v1","time":"2025-06-01T10:00:00Z","fieldsType":"FieldsV1","fieldsV1":"#,
        r#"{"f:metadata":{"f:labels":{"f:app":{}}},"f:spec":{"f:replicas":{},"f:selector":{},"f:template":{"f:metadata":{"f:labels":{"f:app":{}}},"#,
        r#""f:spec":{"f:containers":{"k:{\"name\":\"web\"}":{".":{},"f:image":{},"f:name":{},"f:ports":{"k:{\"containerPort\":80,\"protocol\":\"TCP\"}":"#,
        r#"{".":{},"f:containerPort":{}}}}}}}}}}]"#
    );
    assert_eq!(managed, expected);
}

#[test]
fn re_applying_an_identical_config_changes_nothing() {
    let config = deployment(3, json!([web(), sidecar()]));
    let created = apply(request(None, &config, "kubectl", false, T0)).unwrap().object;
    let again = apply(request(Some(&created), &config, "kubectl", false, T1)).unwrap();
    assert!(!again.changed);
    assert_eq!(serde_json::to_string(&again.object).unwrap(), serde_json::to_string(&created).unwrap());

    // The same config with keys in another order and the defaulted protocol spelled out.
    let reordered = json!({
        "kind": "Deployment",
        "apiVersion": "apps/v1",
        "spec": {
            "template": {"spec": {"containers": [
                {"ports": [{"protocol": "TCP", "containerPort": 80}], "image": "nginx:1.27", "name": "web"},
                sidecar()
            ]}, "metadata": {"labels": {"app": "web"}}},
            "selector": {"matchLabels": {"app": "web"}},
            "replicas": 3
        },
        "metadata": {"labels": {"app": "web"}, "namespace": "default", "name": "web"}
    });
    let again = apply(request(Some(&created), &reordered, "kubectl", false, T1)).unwrap();
    // Spelling out protocol adds f:protocol to the set, so the managed fields change, but not the time.
    assert!(again.changed);
    assert_eq!(again.object["spec"], created["spec"]);
    assert_eq!(again.object["metadata"]["managedFields"][0]["time"], T0);
}

#[test]
fn removing_a_container_from_the_config_removes_it() {
    let created = apply(request(None, &deployment(3, json!([web(), sidecar()])), "cairn", false, T0)).unwrap().object;
    assert_eq!(container_names(&created), ["web", "sidecar"]);
    let applied = apply(request(Some(&created), &deployment(3, json!([web()])), "cairn", false, T1)).unwrap();
    assert!(applied.changed);
    assert_eq!(container_names(&applied.object), ["web"]);
    assert!(!owners(&applied.object)[0].1.iter().any(|p| p.contains("sidecar")));
    assert_eq!(applied.object["metadata"]["managedFields"][0]["time"], T1);
}

#[test]
fn a_container_another_applier_owns_survives_being_dropped() {
    let created = apply(request(None, &deployment(3, json!([web(), sidecar()])), "cairn", false, T0)).unwrap().object;
    let mesh_config = json!({
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "web", "namespace": "default"},
        "spec": {"template": {"spec": {"containers": [sidecar()]}}}
    });
    let shared = apply(request(Some(&created), &mesh_config, "mesh", false, T0)).unwrap().object;
    let dropped = apply(request(Some(&shared), &deployment(3, json!([web()])), "cairn", false, T1)).unwrap();
    assert_eq!(container_names(&dropped.object), ["web", "sidecar"]);
    assert_eq!(dropped.object["spec"]["template"]["spec"]["containers"][1], sidecar());
    let owners = owners(&dropped.object);
    // Apply entries sort by time: mesh (T0) before cairn (T1).
    assert_eq!(owners[1].0, "cairn");
    assert!(!owners[1].1.iter().any(|p| p.contains("sidecar")));
    assert_eq!(
        owners[0],
        (
            "mesh".to_owned(),
            vec![
                ".spec.template.spec.containers[name=\"sidecar\"]".to_owned(),
                ".spec.template.spec.containers[name=\"sidecar\"].image".to_owned(),
                ".spec.template.spec.containers[name=\"sidecar\"].name".to_owned(),
            ]
        )
    );
}

#[test]
fn a_field_dropped_from_a_config_loses_only_what_no_one_else_owns() {
    // cairn stops setting the web container's image; no one else owns it, so it goes, but
    // the container (still applied) stays.
    let created = apply(request(None, &deployment(3, json!([web()])), "cairn", false, T0)).unwrap().object;
    let without_image = json!({"name": "web", "ports": [{"containerPort": 80}]});
    let applied = apply(request(Some(&created), &deployment(3, json!([without_image])), "cairn", false, T1)).unwrap().object;
    assert_eq!(
        applied["spec"]["template"]["spec"]["containers"],
        json!([{"name": "web", "ports": [{"containerPort": 80, "protocol": "TCP"}]}])
    );
}

#[test]
fn a_patch_moves_one_field_to_its_manager_and_later_applies_conflict() {
    let created = apply(request(None, &deployment(3, json!([web()])), "cairn", false, T0)).unwrap().object;

    let mut patched = created.clone();
    patched["spec"]["replicas"] = json!(5);
    record_update(Some(&created), &mut patched, "kubectl-patch", "apps/v1", None, &BuiltinShape, Scope::Main, T1);

    let entries = read_managed(&patched).unwrap();
    assert_eq!(entries.len(), 2);
    let patch_entry = &entries[1];
    assert_eq!((patch_entry.manager.as_str(), patch_entry.operation), ("kubectl-patch", Operation::Update));
    assert_eq!(patch_entry.fields.paths(), vec![".spec.replicas"]);
    assert_eq!(patch_entry.time.as_deref(), Some(T1));
    let before = read_managed(&created).unwrap().remove(0).fields;
    let replicas = [PathElement::Field("spec".into()), PathElement::Field("replicas".into())];
    assert!(before.contains(&replicas));
    let mut expected = FieldSet::new();
    expected.insert(&replicas);
    assert_eq!(entries[0].fields, before.difference(&expected));

    let err = apply(request(Some(&patched), &deployment(4, json!([web()])), "cairn", false, T1)).unwrap_err();
    assert_eq!(err.to_string(), "Apply failed with 1 conflict: conflict with \"kubectl-patch\" using apps/v1: .spec.replicas");
    let ApplyError::Conflicts(conflicts) = err else { panic!("not a conflict") };
    assert_eq!(conflicts[0].operation, Operation::Update);

    // Forcing takes it back and empties the patcher's entry.
    let forced = apply(request(Some(&patched), &deployment(4, json!([web()])), "cairn", true, T1)).unwrap().object;
    assert_eq!(forced["spec"]["replicas"], 4);
    assert_eq!(owners(&forced).iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>(), ["cairn"]);
}

#[test]
fn conflict_messages_group_by_manager() {
    let created = apply(request(None, &configmap(json!({"a": "1", "b": "2"})), "alpha", false, T0)).unwrap().object;
    let mut edited = created.clone();
    edited["data"]["c"] = json!("3");
    edited["data"]["d"] = json!("4");
    record_update(Some(&created), &mut edited, "kubectl", "v1", None, &BuiltinShape, Scope::Main, T1);

    let two = apply(request(Some(&edited), &configmap(json!({"c": "x", "d": "y"})), "beta", false, T1)).unwrap_err();
    assert_eq!(two.to_string(), "Apply failed with 2 conflicts: conflicts with \"kubectl\" using v1:\n- .data.c\n- .data.d");

    let three = apply(request(Some(&edited), &configmap(json!({"d": "y", "a": "x", "b": "x"})), "beta", false, T1)).unwrap_err();
    assert_eq!(
        three.to_string(),
        "Apply failed with 3 conflicts: conflicts with \"alpha\":\n- .data.a\n- .data.b\nconflicts with \"kubectl\" using v1:\n- .data.d"
    );
}

#[test]
fn updates_own_what_they_change_and_removals_leave_every_set() {
    let mut created = configmap(json!({"a": "1"}));
    record_update(None, &mut created, "kubectl-create", "v1", None, &BuiltinShape, Scope::Main, T0);
    assert_eq!(
        created["metadata"]["managedFields"],
        json!([{
            "manager": "kubectl-create", "operation": "Update", "apiVersion": "v1", "time": T0,
            "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {".": {}, "f:a": {}}}
        }])
    );

    // Nothing changed: managed fields are exactly the stored ones, even if the client sent none.
    let mut same = without_managed_fields(&created);
    record_update(Some(&created), &mut same, "kubectl-edit", "v1", None, &BuiltinShape, Scope::Main, T1);
    assert_eq!(serde_json::to_string(&same).unwrap(), serde_json::to_string(&created).unwrap());

    // Another manager adds a label and changes a: a moves, the new map is marked as created.
    let mut edited = created.clone();
    edited["data"]["a"] = json!("2");
    edited["metadata"]["labels"] = json!({"team": "x"});
    record_update(Some(&created), &mut edited, "kubectl-edit", "v1", None, &BuiltinShape, Scope::Main, T1);
    assert_eq!(
        owners(&edited),
        owners_of(&[("kubectl-create", &[".data"]), ("kubectl-edit", &[".data.a", ".metadata.labels", ".metadata.labels.team"])])
    );

    // Removing the label removes it from the set; the map removal leaves the editor with data.a only.
    let mut removed = edited.clone();
    removed["metadata"].as_object_mut().unwrap().shift_remove("labels");
    record_update(Some(&edited), &mut removed, "someone", "v1", None, &BuiltinShape, Scope::Main, T1);
    assert_eq!(owners(&removed), owners_of(&[("kubectl-create", &[".data"]), ("kubectl-edit", &[".data.a"])]));
}

fn without_managed_fields(obj: &Value) -> Value {
    let mut out = obj.clone();
    out["metadata"].as_object_mut().unwrap().shift_remove("managedFields");
    out
}

#[test]
fn update_entries_are_per_api_version_and_merge_within_one() {
    let mut obj = configmap(json!({"a": "1"}));
    record_update(None, &mut obj, "ctl", "v1", None, &BuiltinShape, Scope::Main, T0);
    let mut next = obj.clone();
    next["data"]["b"] = json!("2");
    record_update(Some(&obj), &mut next, "ctl", "v1", None, &BuiltinShape, Scope::Main, T1);
    let entries = read_managed(&next).unwrap();
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].fields.paths(), vec![".data", ".data.a", ".data.b"]);
    assert_eq!(entries[0].time.as_deref(), Some(T1));
}

#[test]
fn status_and_main_scopes_do_not_touch_each_other() {
    let mut created = deployment(1, json!([web()]));
    created["status"] = json!({"replicas": 0});
    let created = apply(request(None, &created, "cairn", false, T0)).unwrap().object;
    assert!(!owners(&created)[0].1.iter().any(|p| p.starts_with(".status")));

    let status = json!({"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"}, "status": {"replicas": 1}, "spec": {"replicas": 99}});
    let mut req = request(Some(&created), &status, "controller", false, T1);
    req.scope = Scope::Status;
    req.subresource = Some("status");
    let updated = apply(req).unwrap().object;
    assert_eq!(updated["status"], json!({"replicas": 1}));
    assert_eq!(updated["spec"], created["spec"]);
    let entries = read_managed(&updated).unwrap();
    assert_eq!(entries[1].subresource.as_deref(), Some("status"));
    assert_eq!(entries[1].fields.paths(), vec![".status.replicas"]);

    // A main-resource apply leaves status alone.
    let mut main = deployment(1, json!([web()]));
    main["status"] = json!({"replicas": 7});
    let again = apply(request(Some(&updated), &main, "cairn", false, T1)).unwrap();
    assert!(!again.changed);
}

#[test]
fn objects_without_managed_fields_belong_to_before_first_apply() {
    let live = configmap(json!({"a": "1", "b": "2"}));
    let err = apply(request(Some(&live), &configmap(json!({"a": "9"})), "cairn", false, T0)).unwrap_err();
    assert_eq!(err.to_string(), "Apply failed with 1 conflict: conflict with \"before-first-apply\" using v1: .data.a");
    let ok = apply(request(Some(&live), &configmap(json!({"a": "1"})), "cairn", false, T0)).unwrap();
    assert_eq!(owners(&ok.object), owners_of(&[("cairn", &[".data.a"]), ("before-first-apply", &[".data", ".data.a", ".data.b"])]));
}

#[test]
fn shared_ownership_without_a_change_keeps_the_object_and_stamps_no_time() {
    let created = apply(request(None, &configmap(json!({"a": "1"})), "alpha", false, T0)).unwrap().object;
    let shared = apply(request(Some(&created), &configmap(json!({"a": "1"})), "beta", false, T1)).unwrap();
    assert!(shared.changed);
    assert_eq!(shared.object["data"], created["data"]);
    // beta's entry has no time, so it sorts first.
    let entries = read_managed(&shared.object).unwrap();
    assert_eq!((entries[0].manager.as_str(), entries[0].time.as_deref()), ("beta", None));
    assert_eq!((entries[1].manager.as_str(), entries[1].time.as_deref()), ("alpha", Some(T0)));
    assert_eq!(entries[0].fields, entries[1].fields);
}

#[test]
fn malformed_managed_fields_are_errors_not_panics() {
    let mut live = configmap(json!({"a": "1"}));
    live["metadata"]["managedFields"] = json!([{"manager": "x", "operation": "Apply", "apiVersion": "v1", "fieldsType": "FieldsV1", "fieldsV1": {"f:data": {"bogus": {}}}}]);
    let err = apply(request(Some(&live), &configmap(json!({"a": "2"})), "cairn", false, T0)).unwrap_err();
    assert!(matches!(err, ApplyError::ManagedFields(FieldsError::BadKey(ref k)) if k == "bogus"), "{err}");

    // A client sending unreadable managed fields on update falls back to the stored ones.
    let stored = apply(request(None, &configmap(json!({"a": "1"})), "cairn", false, T0)).unwrap().object;
    let mut sent = stored.clone();
    sent["metadata"]["managedFields"] = json!([{"manager": "x", "fieldsV1": {"k:{oops": {}}}]);
    sent["data"]["b"] = json!("2");
    record_update(Some(&stored), &mut sent, "editor", "v1", None, &BuiltinShape, Scope::Main, T1);
    assert_eq!(owners(&sent), owners_of(&[("cairn", &[".data.a"]), ("editor", &[".data.b"])]));
}

#[test]
fn invalid_applied_configs_are_errors() {
    let no_name = deployment(1, json!([{"image": "x"}]));
    let err = apply(request(None, &no_name, "cairn", false, T0)).unwrap_err();
    assert!(matches!(err, ApplyError::Invalid(_)));
    assert!(err.to_string().contains("omits key field \"name\""), "{err}");
}

#[test]
fn an_update_entry_of_the_same_name_is_another_manager() {
    // kube-apiserver keys managers by name, operation, subresource and (for updates) version:
    // "kubectl" updating and "kubectl" applying are two managers.
    let mut created = configmap(json!({"a": "1"}));
    record_update(None, &mut created, "kubectl", "v1", None, &BuiltinShape, Scope::Main, T0);
    let err = apply(request(Some(&created), &configmap(json!({"a": "2"})), "kubectl", false, T1)).unwrap_err();
    assert_eq!(err.to_string(), "Apply failed with 1 conflict: conflict with \"kubectl\" using v1: .data.a");

    // An applier of the same name through the status subresource is another manager too.
    let mut status = configmap(json!({"a": "1"}));
    status["status"] = json!({"phase": "x"});
    let created = apply(request(None, &status, "ctl", false, T0)).unwrap().object;
    status["status"]["phase"] = json!("y");
    let mut status_apply = request(Some(&created), &status, "ctl", false, T1);
    status_apply.scope = Scope::Status;
    status_apply.subresource = Some("status");
    let both = apply(status_apply).unwrap().object;
    let entries = read_managed(&both).unwrap();
    assert_eq!(entries.len(), 2);
    assert_eq!(entries[1].subresource.as_deref(), Some("status"));
    assert_eq!(entries[1].fields.paths(), vec![".status.phase"]);
    let err = Conflict {
        manager: "ctl".into(),
        operation: Operation::Apply,
        api_version: "v1".into(),
        subresource: Some("status".into()),
        path: ".status.phase".into(),
    };
    assert_eq!(err.manager_display(), "\"ctl\" with subresource \"status\"");
}

#[test]
fn an_item_dropped_by_its_applier_goes_even_if_an_updater_changed_a_field_in_it() {
    let created = apply(request(None, &deployment(3, json!([web(), sidecar()])), "cairn", false, T0)).unwrap().object;
    let mut edited = created.clone();
    edited["spec"]["template"]["spec"]["containers"][1]["image"] = json!("envoy:1.31");
    record_update(Some(&created), &mut edited, "kubectl-edit", "apps/v1", None, &BuiltinShape, Scope::Main, T1);
    assert_eq!(owners(&edited)[1], ("kubectl-edit".to_owned(), vec![".spec.template.spec.containers[name=\"sidecar\"].image".to_owned()]));

    let dropped = apply(request(Some(&edited), &deployment(3, json!([web()])), "cairn", false, T1)).unwrap().object;
    assert_eq!(container_names(&dropped), ["web"]);
    assert_eq!(owners(&dropped).iter().map(|(m, _)| m.as_str()).collect::<Vec<_>>(), ["cairn"]);
}

#[test]
fn an_emptied_map_stays_when_someone_owns_it() {
    // beta applied `labels: {}` and so owns the map itself; alpha's last label goes, the map stays.
    let mut alpha = configmap(json!({"a": "1"}));
    alpha["metadata"]["labels"] = json!({"team": "x"});
    let created = apply(request(None, &alpha, "alpha", false, T0)).unwrap().object;
    let mut beta = configmap(Value::Null);
    beta["metadata"]["labels"] = json!({});
    let shared = apply(request(Some(&created), &beta, "beta", false, T0)).unwrap().object;
    let dropped = apply(request(Some(&shared), &configmap(json!({"a": "1"})), "alpha", false, T1)).unwrap().object;
    assert_eq!(dropped["metadata"]["labels"], json!({}));

    // Without beta, the emptied map goes with its last label.
    let alone = apply(request(Some(&created), &configmap(json!({"a": "1"})), "alpha", false, T1)).unwrap().object;
    assert!(alone["metadata"].get("labels").is_none());
}
