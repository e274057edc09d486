//! What a plan refuses before anything is written: kinds the cluster does not serve (Rook not
//! installed, a CRD missing) and `--target` addresses that name nothing.

use crate::common::*;

/// The stack's writes, leaving out cairn's own (the lock, the inventory).
fn stack_writes(env: &Env) -> Vec<(String, String)> {
    env.client_writes().into_iter().filter(|(_, id)| !id.contains("cairn-system")).collect()
}

#[test]
fn kinds_the_cluster_does_not_serve_are_refused_naming_the_missing_operator() {
    let env = env();
    env.call(
        "DELETE",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/cephblockpools.ceph.rook.io",
        "application/json",
        &json!({}),
    );
    let shop = env.stack("shop");
    let s = shop.to_str().unwrap();

    let plan = env.cairn(&["plan", s]).code(1);
    let all = plan.all();
    assert!(all.contains("the cluster does not serve CephBlockPool (ceph.rook.io/v1)"), "{all}");
    assert!(all.contains("install Rook"), "{all}");
    let json = env.cairn(&["plan", s, "--json"]).code(1).json();
    assert_eq!(json["applyable"], false, "{json:#}");

    let before = stack_writes(&env).len();
    let apply = env.cairn(&["apply", s, "--auto-approve"]).code(1);
    assert!(apply.all().contains("nothing was applied"), "{}", apply.all());
    assert_eq!(stack_writes(&env).split_off(before), Vec::<(String, String)>::new(), "apply wrote before refusing");

    // Another operator's kind, with no CRD in the stack: install the CRD or its operator.
    let dir = env.write_stack("widgets", "namespace \"w\" {}\nmanifest \"widgets\" {\n  source = file(\"w.yaml\")\n}\n");
    std::fs::write(
        dir.join("w.yaml"),
        "apiVersion: example.com/v1\nkind: Widget\nmetadata:\n  name: w1\n  namespace: w\nspec:\n  size: 3\n",
    )
    .unwrap();
    let all = env.cairn(&["plan", dir.to_str().unwrap()]).code(1).all();
    assert!(
        all.contains("does not serve Widget (example.com/v1)")
            && all.contains("install the CRD or operator that provides Widget.example.com"),
        "{all}"
    );
}

#[test]
fn a_mistyped_target_is_an_error_listing_near_matches_and_an_owned_object_is_a_target() {
    let env = env();
    let dir = env.write_stack(
        "t",
        "namespace \"t\" {}\nconfig \"settings\" {\n  namespace = namespace.t\n  data      = { a = \"b\" }\n}\nconfig \"old\" {\n  namespace = namespace.t\n  data      = { a = \"b\" }\n}\n",
    );
    let d = dir.to_str().unwrap();
    let run = env.cairn(&["plan", d, "--target", "config.setings"]).code(1);
    let all = run.all();
    assert!(all.contains("--target config.setings names no object of the stack; did you mean config.settings"), "{all}");
    assert!(!all.contains("No changes"), "{all}");
    let run = env.cairn(&["apply", d, "--auto-approve", "--target", "ConfigMap/t/setings"]).code(1);
    assert!(run.all().contains("did you mean ConfigMap/t/settings"), "{}", run.all());
    env.cairn(&["plan", d, "--target", "config.settings"]).code(0);

    // An object no longer declared but still owned is a target: its delete.
    env.cairn(&["apply", d, "--auto-approve"]).code(0);
    std::fs::write(
        dir.join("main.cairn"),
        "namespace \"t\" {}\nconfig \"settings\" {\n  namespace = namespace.t\n  data      = { a = \"b\" }\n}\n",
    )
    .unwrap();
    let plan = env.cairn(&["plan", d, "--target", "config.old", "--detailed-exitcode"]).code(2);
    assert!(plan.stdout.contains("ConfigMap/t/old"), "{}", plan.stdout);
}
