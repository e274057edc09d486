//! The inventory (DESIGN.md §2 step 7) never forgets a kind it has not seen to be empty, and
//! concurrent `plan -o` runs of a new stack agree on one key.

use crate::common::*;

fn stack(env: &Env, with_binding: bool, value: &str) -> std::path::PathBuf {
    let binding = if with_binding {
        r#"
manifest "admins" {
  object = {
    apiVersion = "rbac.authorization.k8s.io/v1"
    kind       = "ClusterRoleBinding"
    metadata   = { name = "inv-admins" }
    roleRef    = { apiGroup = "rbac.authorization.k8s.io", kind = "ClusterRole", name = "cluster-admin" }
    subjects   = [{ kind = "ServiceAccount", name = "default", namespace = "inv" }]
  }
}
"#
    } else {
        ""
    };
    env.write_stack(
        "inv",
        &format!("stack \"inv\" {{}}\n\nnamespace \"inv\" {{}}\n\nconfig \"a\" {{\n  namespace = namespace.inv\n  data      = {{ v = \"{value}\" }}\n}}\n{binding}"),
    )
}

/// A targeted apply after an object was removed from the stack keeps the removed object's kind
/// in the inventory: the next plan still deletes it and destroy removes it. Before, the targeted
/// run dropped the kind and the cluster-admin binding became invisible for good.
#[test]
fn a_targeted_apply_keeps_the_kinds_of_deletes_outside_its_target() {
    let env = env();
    let dir = stack(&env, true, "1");
    let d = dir.to_str().unwrap();
    env.cairn(&["apply", d, "--auto-approve"]).code(0);
    assert!(env.get("rbac.authorization.k8s.io", "clusterrolebindings", "", "inv-admins").is_some());

    stack(&env, false, "2");
    env.cairn(&["apply", d, "--auto-approve", "--target", "config.a"]).code(0);
    assert!(env.get("rbac.authorization.k8s.io", "clusterrolebindings", "", "inv-admins").is_some(), "outside the target");

    let plan = env.cairn(&["plan", d, "--json"]).code(0).json();
    let deletes: Vec<String> =
        plan["resource_changes"].as_array().unwrap().iter().filter(|c| c["action"] == "delete").map(|c| c.to_string()).collect();
    assert!(deletes.iter().any(|c| c.contains("inv-admins")), "the removed binding is invisible to plan:\n{plan:#}");
    env.cairn(&["destroy", d, "--auto-approve"]).code(0);
    assert!(env.get("rbac.authorization.k8s.io", "clusterrolebindings", "", "inv-admins").is_none(), "destroy left the binding");
}

/// Four `plan -o` of a new stack at once store one key between them: every saved plan's secret
/// HMACs match what apply computes. Before, the last writer's key won and the other plans were
/// refused with a misleading "an env() value or secret changed".
#[test]
fn parallel_saved_plans_of_a_new_stack_agree_on_the_key() {
    let env = env();
    let shop = env.stack("shop");
    let files: Vec<String> = (0..4).map(|i| env.dir.path().join(format!("p{i}.json")).display().to_string()).collect();
    let children: Vec<_> = files.iter().map(|f| env.command(&["plan", shop.to_str().unwrap(), "-o", f]).spawn().unwrap()).collect();
    for c in children {
        run_of(c.wait_with_output().unwrap()).code(0);
    }
    for (i, f) in files.iter().enumerate() {
        let run = env.cairn(&["apply", f]);
        assert!(!run.all().contains("evaluates differently"), "plan {i} was made with another key:\n{}", run.all());
        if i == 0 {
            run.code(0);
        }
    }
}
