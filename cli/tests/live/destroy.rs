//! `cairn destroy` and saved plans, and policies on a destroy (phase `destroy`: no declared
//! objects, the deletes as changes), through the real binary against the sandbox.

use std::path::Path;

use crate::common::*;
use crate::component::echo_component;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Which of the stack `shop`'s workloads (Deployment `web`, StatefulSet `db`) are in the sandbox.
fn shop_objects(env: &Env) -> Vec<&'static str> {
    [("deployments", "web"), ("statefulsets", "db")]
        .into_iter()
        .filter(|(plural, name)| env.get("apps", plural, "shop", name).is_some())
        .map(|(_, name)| name)
        .collect()
}

/// `destroy FILE` of a saved plan that applies the stack is refused before anything is read or
/// locked: it would create the stack's objects without asking.
#[test]
fn destroy_of_a_saved_apply_plan_is_refused_and_writes_nothing() {
    let env = env();
    let shop = env.stack("shop");
    let file = env.dir.path().join("shop.plan");
    env.cairn(&["plan", s(&shop), "-o", s(&file)]).code(0);
    // `plan -o` before a first apply writes the inventory (its key); destroy then writes nothing.
    let before = env.client_writes();
    let run = env.cairn(&["destroy", s(&file), "--auto-approve", "--allow-data-loss"]).code(1);
    assert!(
        run.stderr
            .contains(&format!("{} is a saved plan that applies the stack `shop`, not a destroy; nothing was changed", file.display())),
        "{}",
        run.all()
    );
    assert!(run.stderr.contains(&format!("`cairn destroy {}`", shop.display())), "{}", run.all());
    assert_eq!(env.client_writes(), before, "not even the lock");
    assert_eq!(shop_objects(&env), Vec::<&str>::new());
}

/// A saved plan of the applied stack turned into a destroy plan, as a plan file of a destroy
/// records it (no command writes one today): the `destroy` field set, every object deleted, each
/// with the fingerprint a delete records (of the live object as a whole).
fn destroy_plan(env: &Env, shop: &Path, name: &str) -> std::path::PathBuf {
    let file = env.dir.path().join(name);
    env.cairn(&["plan", s(shop), "-o", s(&file)]).code(0);
    let mut plan: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    plan["destroy"] = json!(true);
    for step in plan["plan"]["steps"].as_array_mut().unwrap() {
        let key = &step["key"];
        let group = key["api_version"].as_str().unwrap().rsplit_once('/').map_or("", |(g, _)| g);
        let kind = key["kind"].as_str().unwrap().to_lowercase();
        let plural = if kind.ends_with("ss") { format!("{kind}es") } else { format!("{kind}s") };
        let live = env
            .get(group, &plural, key["namespace"].as_str().unwrap_or(""), key["name"].as_str().unwrap())
            .unwrap_or_else(|| panic!("{key} is live"));
        step["action"] = json!("delete");
        step["live_fingerprint"] = json!(cairn_runtime::plan::fingerprint(&live, None));
    }
    std::fs::write(&file, plan.to_string()).unwrap();
    file
}

/// A saved destroy plan is what both `destroy FILE` and `apply FILE` carry out.
#[test]
fn a_saved_destroy_plan_destroys_through_destroy_and_apply() {
    let env = env();
    let shop = env.stack("shop");
    for command in ["destroy", "apply"] {
        env.cairn(&["apply", s(&shop), "--auto-approve"]).code(0);
        assert_eq!(shop_objects(&env), ["web", "db"], "applied before {command}");
        let file = destroy_plan(&env, &shop, &format!("{command}.plan"));
        let run = env.cairn(&[command, s(&file), "--allow-data-loss"]);
        assert_eq!(run.code, 0, "{command} FILE\n{}", run.all());
        assert_eq!(shop_objects(&env), Vec::<&str>::new(), "{command} FILE destroyed the stack");
    }
}

/// A policy about the declared objects has nothing to object to on a destroy: it denies the
/// plan, not the destroy.
#[test]
fn a_policy_on_declared_objects_does_not_block_destroy() {
    let env = env();
    let shop = env.stack("shop");
    env.cairn(&["apply", s(&shop), "--auto-approve"]).code(0);
    std::fs::write(
        shop.join("policies.cairn"),
        "policy \"tags\" {\n  source = \"std:no-latest-tag\"\n}\npolicy \"replication\" {\n  source = \"std:min-replication\"\n  config = { size = 5 }\n}\n",
    )
    .unwrap();
    let plan = env.cairn(&["plan", s(&shop)]).code(1);
    assert!(plan.stderr.contains("policy `replication` (std:min-replication)"), "{}", plan.all());
    let destroy = env.cairn(&["destroy", s(&shop), "--auto-approve", "--allow-data-loss"]);
    assert_eq!(destroy.code, 0, "{}", destroy.all());
    assert!(!destroy.stderr.contains("P0001"), "{}", destroy.all());
    // A destroy says what it is: deletions counted as deletions, not as pending changes.
    assert!(destroy.stdout.contains("to delete.") && !destroy.stdout.contains("pending"), "{}", destroy.stdout);
    assert!(destroy.stdout.contains("Destroy complete: ") && destroy.stdout.contains(" deleted, 0 failed"), "{}", destroy.stdout);
    assert!(!destroy.stdout.contains("Apply complete"), "{}", destroy.stdout);
    assert_eq!(shop_objects(&env), Vec::<&str>::new());
}

/// Policies still judge a destroy: a component sees phase `destroy`, no resources and the
/// deletes, and its deny blocks the destroy.
#[test]
fn a_policy_guarding_deletes_judges_and_can_block_destroy() {
    let env = env();
    let shop = env.stack("shop");
    env.cairn(&["apply", s(&shop), "--auto-approve"]).code(0);
    std::fs::write(shop.join("echo.wasm"), echo_component()).unwrap();
    std::fs::write(shop.join("policies.cairn"), "policy \"guard\" {\n  source = \"./echo.wasm\"\n}\n").unwrap();
    let destroy = env.cairn(&["destroy", s(&shop), "--auto-approve", "--allow-data-loss"]).code(1);
    let all = destroy.all();
    assert!(all.contains("a policy denies the plan (above); nothing was applied"), "{all}");
    // The denial's message is the input the component got (JSON has no spaces to wrap at, so
    // the report's line breaks go between characters).
    let all = all.replace("\n  │ ", "");
    let input = all.find("{\"phase\"").map(|at| &all[at..]).unwrap_or_else(|| panic!("no echoed input: {all}"));
    let input: Value = serde_json::Deserializer::from_str(input).into_iter().next().unwrap().unwrap();
    assert_eq!((input["phase"].as_str(), input["resources"].as_array().map(Vec::len)), (Some("destroy"), Some(0)), "{input:#}");
    let changes = input["changes"].as_array().unwrap();
    assert!(!changes.is_empty() && changes.iter().all(|c| c["action"] == "delete"), "{input:#}");
    assert!(changes.iter().any(|c| c["before"]["metadata"]["name"] == "web"), "{input:#}");
    assert_eq!(shop_objects(&env), ["web", "db"], "nothing was deleted");
}
