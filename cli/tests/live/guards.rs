//! The guards around `plan`/`apply` (DESIGN.md §2 steps 8, 10, 11 and §3): ownership and
//! `--adopt`, immutable fields and protected objects, saved-plan staleness, the lock, flaky API
//! servers, failing fast on workloads that cannot start, and the number of requests a plan makes.

use std::collections::BTreeMap;
use std::path::Path;
use std::time::{Duration, Instant};

use cairn_sandbox::{Action, Fault};

use crate::common::*;

// ---------------------------------------------------------------------------------------------
// Helpers

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// `plan --json` (exit 0 or 1 as given) as JSON.
#[track_caller]
fn plan_json(env: &Env, dir: &Path, extra: &[&str], code: i32) -> Value {
    let mut args = vec!["plan", s(dir), "--json"];
    args.extend_from_slice(extra);
    env.cairn(&args).code(code).json()
}

/// The planned change of `Kind/ns/name` (or `Kind/name`).
#[track_caller]
fn change<'a>(plan: &'a Value, id: &str) -> &'a Value {
    plan["resource_changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| {
            let o = &c["object"];
            let ns = o["namespace"].as_str().unwrap_or_default();
            let key = if ns.is_empty() {
                format!("{}/{}", o["kind"].as_str().unwrap(), o["name"].as_str().unwrap())
            } else {
                format!("{}/{ns}/{}", o["kind"].as_str().unwrap(), o["name"].as_str().unwrap())
            };
            key == id
        })
        .unwrap_or_else(|| panic!("no change for {id} in the plan:\n{plan:#}"))
}

/// Replaces `from` by `to` in a file, asserting `from` is there.
#[track_caller]
fn edit(file: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(file).unwrap();
    assert!(text.contains(from), "{} has no `{from}`:\n{text}", file.display());
    std::fs::write(file, text.replacen(from, to, 1)).unwrap();
}

/// Client writes of stack objects: the lock's Lease and the bookkeeping in `cairn-system` left out.
fn stack_writes(env: &Env) -> Vec<(String, String)> {
    env.client_writes()
        .into_iter()
        .filter(|(_, id)| !id.starts_with("Lease/") && !id.contains("/cairn-system/") && id != "Namespace/cairn-system")
        .collect()
}

/// The API path of a namespace (created as another client, without any stack label).
fn create_namespace(env: &Env, name: &str, labels: Value) {
    env.call(
        "POST",
        "/api/v1/namespaces?fieldManager=someone",
        "application/json",
        &json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}),
    );
}

/// Every declared object of a stack from `cairn graph --format json`: `(id, group, plural, ns, name)`.
fn declared(env: &Env, dir: &Path) -> Vec<(String, String, String, String, String)> {
    let g = env.cairn(&["graph", s(dir), "--format", "json"]).code(0).json();
    g["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| {
            let api = n["apiVersion"].as_str().unwrap();
            let group = api.rsplit_once('/').map_or("", |(g, _)| g).to_owned();
            let kind = n["kind"].as_str().unwrap().to_ascii_lowercase();
            let plural = if kind.ends_with('s') { format!("{kind}es") } else { format!("{kind}s") };
            (
                n["id"].as_str().unwrap().to_owned(),
                group,
                plural,
                n["namespace"].as_str().unwrap_or_default().to_owned(),
                n["name"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// RFC 3339 with microseconds (a Lease's `MicroTime`) of now.
fn micro_now() -> String {
    jiff::Timestamp::now().strftime("%Y-%m-%dT%H:%M:%S%.6fZ").to_string()
}

/// The Lease `cairn-STACK` held by a stranger who renewed it just now.
fn hold_lock(env: &Env, stack: &str) {
    create_namespace(env, "cairn-system", json!({}));
    let t = micro_now();
    env.call(
        "POST",
        "/apis/coordination.k8s.io/v1/namespaces/cairn-system/leases?fieldManager=someone",
        "application/json",
        &json!({
            "apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
            "metadata": {"name": format!("cairn-{stack}"), "namespace": "cairn-system"},
            "spec": {"holderIdentity": "someone@elsewhere pid 1", "leaseDurationSeconds": 60, "acquireTime": t, "renewTime": t}
        }),
    );
}

// ---------------------------------------------------------------------------------------------
// 1. Ownership

/// A same-named object without the stack's label is refused (plan exits 1 naming it and
/// suggesting `--adopt`; apply writes nothing) until `--adopt`, which labels it; one labelled for
/// another stack is refused even with `--adopt`, naming that stack.
#[test]
fn unlabelled_objects_are_refused_until_adopted_and_other_stacks_objects_always() {
    let env = env();
    let shop = env.stack("shop");
    create_namespace(&env, "shop", json!({}));
    env.call(
        "POST",
        "/api/v1/namespaces/shop/configmaps?fieldManager=someone",
        "application/json",
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app", "labels": {"owner": "alice"}}}),
    );

    let plan = env.cairn(&["plan", s(&shop)]).code(1);
    assert!(plan.all().contains("ConfigMap/shop/app") && plan.all().contains("--adopt"), "{}", plan.all());
    let json = plan_json(&env, &shop, &[], 1);
    let refusals = json["refusals"].as_array().unwrap();
    let cm = refusals
        .iter()
        .find(|r| r["message"].as_str().unwrap_or_default().contains("ConfigMap/shop/app"))
        .unwrap_or_else(|| panic!("no refusal of the ConfigMap: {json:#}"));
    assert!(format!("{}{}", cm["message"], cm["help"]).contains("--adopt"), "{cm:#}");

    let before = stack_writes(&env);
    let apply = env.cairn(&["apply", s(&shop), "--auto-approve"]).code(1);
    assert!(apply.all().contains("ConfigMap/shop/app"), "{}", apply.all());
    assert_eq!(stack_writes(&env), before, "a refused apply wrote stack objects");
    assert!(env.get("", "configmaps", "shop", "app").unwrap()["data"].is_null());

    // With --adopt the plan marks it adopted and apply takes it over.
    let adopting = plan_json(&env, &shop, &["--adopt"], 0);
    assert_eq!(change(&adopting, "ConfigMap/shop/app")["adopt"], true, "{adopting:#}");
    env.cairn(&["apply", s(&shop), "--auto-approve", "--adopt"]).code(0);
    let cm = env.get("", "configmaps", "shop", "app").unwrap();
    assert_eq!(cm["metadata"]["labels"]["cairn.dev/stack"], "shop", "{cm:#}");
    assert_eq!((cm["data"]["LOG_LEVEL"].as_str(), cm["metadata"]["labels"]["owner"].as_str()), (Some("info"), Some("alice")), "{cm:#}");
    env.cairn(&["plan", s(&shop), "--detailed-exitcode"]).code(0);

    // Another stack's object: never, --adopt or not.
    create_namespace(&env, "elsewhere", json!({"cairn.dev/stack": "other"}));
    env.call(
        "POST",
        "/api/v1/namespaces/elsewhere/configmaps?fieldManager=someone",
        "application/json",
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app", "labels": {"cairn.dev/stack": "other"}}, "data": {"k": "theirs"}}),
    );
    let mini = env.write_stack(
        "mini",
        r#"namespace "elsewhere" {}
config "app" {
  namespace = namespace.elsewhere
  data      = { k = "mine" }
}
"#,
    );
    for adopt in [&[][..], &["--adopt"][..]] {
        let json = plan_json(&env, &mini, adopt, 1);
        let r = json["refusals"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["message"].as_str().unwrap_or_default().contains("ConfigMap/elsewhere/app"))
            .unwrap_or_else(|| panic!("no refusal of the other stack's ConfigMap ({adopt:?}): {json:#}"));
        assert!(r["message"].as_str().unwrap().contains("other"), "the refusal does not name the other stack: {r:#}");
    }
    let before = stack_writes(&env);
    let apply = env.cairn(&["apply", s(&mini), "--auto-approve", "--adopt"]).code(1);
    assert!(apply.all().contains("ConfigMap/elsewhere/app") && apply.all().contains("other"), "{}", apply.all());
    assert_eq!(stack_writes(&env), before, "a refused apply wrote");
    let cm = env.get("", "configmaps", "elsewhere", "app").unwrap();
    assert_eq!((cm["metadata"]["labels"]["cairn.dev/stack"].as_str(), cm["data"]["k"].as_str()), (Some("other"), Some("theirs")));
}

/// Adopting an object whose declared fields another manager set is a server-side-apply conflict
/// (DESIGN.md §2 step 10: only drift is taken back with force): `--adopt` alone fails naming the
/// field and `--force-conflicts`; with `--force-conflicts` it goes through.
#[test]
fn adopting_fields_another_manager_set_needs_force_conflicts() {
    let env = env();
    create_namespace(&env, "taken", json!({}));
    env.call(
        "POST",
        "/api/v1/namespaces/taken/configmaps?fieldManager=someone",
        "application/json",
        &json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "app"}, "data": {"LOG_LEVEL": "debug"}}),
    );
    let dir = env.write_stack(
        "taken",
        "namespace \"taken\" {}\nconfig \"app\" {\n  namespace = namespace.taken\n  data      = { LOG_LEVEL = \"info\" }\n}\n",
    );
    let conflict = env.cairn(&["apply", s(&dir), "--auto-approve", "--adopt"]).code(1);
    assert!(conflict.all().contains("LOG_LEVEL") && conflict.all().contains("--force-conflicts"), "{}", conflict.all());
    env.cairn(&["apply", s(&dir), "--auto-approve", "--adopt", "--force-conflicts"]).code(0);
    let cm = env.get("", "configmaps", "taken", "app").unwrap();
    assert_eq!(
        (cm["metadata"]["labels"]["cairn.dev/stack"].as_str(), cm["data"]["LOG_LEVEL"].as_str()),
        (Some("taken"), Some("info")),
        "{cm:#}"
    );
    env.cairn(&["plan", s(&dir), "--detailed-exitcode"]).code(0);
}

/// `refusals[]` in `plan --json` name the object as docs/plan-format.md documents it
/// (`{object, address, message, help}`, `object` shaped as in `resource_changes[]`).
#[test]
fn refusals_in_plan_json_have_the_documented_shape() {
    let env = env();
    let dir = env.write_stack("mini", "namespace \"taken\" {}\n");
    create_namespace(&env, "taken", json!({}));
    let json = plan_json(&env, &dir, &[], 1);
    let r = &json["refusals"][0];
    let o = &r["object"];
    assert_eq!(
        (o["apiVersion"].as_str(), o["kind"].as_str(), o["name"].as_str()),
        (Some("v1"), Some("Namespace"), Some("taken")),
        "{json:#}"
    );
    assert_eq!(r["address"], "namespace.taken", "{json:#}");
    assert!(r["message"].is_string() && r["help"].is_string(), "{json:#}");
}

// ---------------------------------------------------------------------------------------------
// 2. Immutable fields and protected objects

const IMMUTABLE: &str = r#"pool "data" {}

pool "scratch" {}

storage_class "blk" {
  pool    = pool.data
  fs_type = "ext4"
}

namespace "db" {}

workload "pg" {
  namespace = namespace.db
  image     = "postgres:16"
  volume "data" {
    storage_class = storage_class.blk
    size          = 1Gi
    mount         = "/data"
  }
}

manifest "sel" {
  namespace = namespace.db
  object = {
    apiVersion = "apps/v1"
    kind       = "Deployment"
    metadata   = { name = "sel" }
    spec = {
      selector = { matchLabels = { app = "sel-a" } }
      template = {
        metadata = { labels = { app = "sel-a" } }
        spec     = { containers = [{ name = "c", image = "nginx:1.27" }] }
      }
    }
  }
}
"#;

/// A StatefulSet's volume size (its `volumeClaimTemplates` are immutable) plans a `replace` with
/// that reason; apply converges and the claim and pod survive the swap (orphan delete, adoption).
#[test]
fn a_statefulset_volume_size_change_is_a_replace_that_keeps_its_volume() {
    let env = env();
    let dir = env.write_stack("imm", IMMUTABLE);
    let file = dir.join("main.cairn");
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    let pvc = env.get("", "persistentvolumeclaims", "db", "data-pg-0").expect("the StatefulSet's claim exists");
    let pvc_uid = pvc["metadata"]["uid"].clone();

    edit(&file, "size          = 1Gi", "size          = 2Gi");
    let plan = plan_json(&env, &dir, &[], 0);
    let sts = change(&plan, "StatefulSet/db/pg");
    assert_eq!(sts["action"], "replace", "{plan:#}");
    assert!(sts["reason"].as_str().unwrap_or_default().contains("volumeClaimTemplates"), "{sts:#}");
    env.cairn(&["apply", s(&dir), "--auto-approve", "--timeout", "10s"]).code(0);
    env.cairn(&["plan", s(&dir), "--detailed-exitcode"]).code(0);
    let sts = env.get("apps", "statefulsets", "db", "pg").unwrap();
    assert_eq!(sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"], "2Gi", "{sts:#}");
    let pvc = env.get("", "persistentvolumeclaims", "db", "data-pg-0").expect("the claim survived the replace");
    assert_eq!(pvc["metadata"]["uid"], pvc_uid, "the claim was recreated, its data lost");
    assert!(env.get("", "pods", "db", "pg-0").is_some(), "no pod pg-0 after the replace");
}

/// A StorageClass's parameters (`fs_type`) and a Deployment's selector are immutable: each change
/// plans a `replace` with the reason, and apply converges.
#[test]
fn storage_class_parameters_and_a_selector_change_are_replaces_with_the_reason() {
    let env = env();
    let dir = env.write_stack("imm", IMMUTABLE);
    let file = dir.join("main.cairn");
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);

    // A StorageClass's parameters.
    edit(&file, "fs_type = \"ext4\"", "fs_type = \"xfs\"");
    let plan = plan_json(&env, &dir, &[], 0);
    let sc = change(&plan, "StorageClass/blk");
    assert_eq!(sc["action"], "replace", "{plan:#}");
    assert!(sc["reason"].as_str().unwrap_or_default().contains("parameters"), "{sc:#}");
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    env.cairn(&["plan", s(&dir), "--detailed-exitcode"]).code(0);
    assert_eq!(env.get("storage.k8s.io", "storageclasses", "", "blk").unwrap()["parameters"]["csi.storage.k8s.io/fstype"], "xfs");

    // A Deployment's selector.
    let text = std::fs::read_to_string(&file).unwrap().replace("sel-a", "sel-b");
    std::fs::write(&file, text).unwrap();
    let plan = plan_json(&env, &dir, &[], 0);
    let d = change(&plan, "Deployment/db/sel");
    assert_eq!(d["action"], "replace", "{plan:#}");
    assert!(d["reason"].as_str().unwrap_or_default().contains("spec.selector is immutable"), "{d:#}");
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    env.cairn(&["plan", s(&dir), "--detailed-exitcode"]).code(0);
    assert_eq!(env.get("apps", "deployments", "db", "sel").unwrap()["spec"]["selector"]["matchLabels"]["app"], "sel-b");
}

/// A pool (protected by default) planned for delete or replace is marked protected; apply
/// refuses, naming it, and changes nothing; `--allow-data-loss` goes ahead.
#[test]
fn protected_pools_are_not_deleted_or_replaced_without_allow_data_loss() {
    let env = env();
    let dir = env.write_stack("prot", IMMUTABLE);
    let file = dir.join("main.cairn");
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    assert!(env.get("ceph.rook.io", "cephblockpools", "rook-ceph", "scratch").is_some());

    // Removed from the stack.
    edit(&file, "pool \"scratch\" {}\n", "");
    let plan = plan_json(&env, &dir, &[], 0);
    let c = change(&plan, "CephBlockPool/rook-ceph/scratch");
    assert_eq!((c["action"].as_str(), c["protected"].as_bool()), (Some("delete"), Some(true)), "{plan:#}");
    let before = stack_writes(&env);
    let apply = env.cairn(&["apply", s(&dir), "--auto-approve"]).code(1);
    assert!(apply.all().contains("CephBlockPool/rook-ceph/scratch") && apply.all().contains("--allow-data-loss"), "{}", apply.all());
    assert_eq!(stack_writes(&env), before, "a refused apply wrote");
    assert!(env.get("ceph.rook.io", "cephblockpools", "rook-ceph", "scratch").is_some(), "the protected pool was deleted");

    // A type change: replace, protected too.
    edit(&file, "pool \"data\" {}", "pool \"data\" {\n  type = \"erasure\"\n  erasure {\n    k = 2\n    m = 1\n  }\n}");
    let plan = plan_json(&env, &dir, &[], 0);
    let c = change(&plan, "CephBlockPool/rook-ceph/data");
    assert_eq!((c["action"].as_str(), c["protected"].as_bool()), (Some("replace"), Some(true)), "{plan:#}");
    let apply = env.cairn(&["apply", s(&dir), "--auto-approve"]).code(1);
    assert!(
        apply.all().contains("CephBlockPool/rook-ceph/data") && apply.all().contains("CephBlockPool/rook-ceph/scratch"),
        "{}",
        apply.all()
    );
    assert_eq!(stack_writes(&env), before, "a refused apply wrote");
    let data = env.get("ceph.rook.io", "cephblockpools", "rook-ceph", "data").unwrap();
    assert!(data["spec"]["erasureCoded"].is_null() || data["spec"]["erasureCoded"]["dataChunks"].as_i64().unwrap_or(0) == 0, "{data:#}");

    // --allow-data-loss: both happen.
    env.cairn(&["apply", s(&dir), "--auto-approve", "--allow-data-loss"]).code(0);
    assert!(env.get("ceph.rook.io", "cephblockpools", "rook-ceph", "scratch").is_none(), "the removed pool is still there");
    let data = env.get("ceph.rook.io", "cephblockpools", "rook-ceph", "data").unwrap();
    assert_eq!(data["spec"]["erasureCoded"]["dataChunks"], 2, "{data:#}");
    env.cairn(&["plan", s(&dir), "--detailed-exitcode"]).code(0);
}

// ---------------------------------------------------------------------------------------------
// 3. Saved plans

/// `apply PLANFILE` applies without a prompt; a plan made stale by an out-of-band change of a
/// declared field or by an edited source is refused, naming why, and nothing is written.
#[test]
fn saved_plans_apply_without_prompting_and_stale_ones_are_refused() {
    let env = env();
    let shop = env.stack("shop");
    let p1 = env.dir.path().join("p1.plan");
    env.cairn(&["plan", s(&shop), "-o", s(&p1)]).code(0);
    env.cairn(&["apply", s(&p1)]).code(0);
    env.cairn(&["plan", s(&shop), "--detailed-exitcode"]).code(0);

    // A change planned, then someone changes the Deployment's CPU limit behind cairn's back.
    edit(&shop.join("apps.cairn"), "cpu_limit     = 500m", "cpu_limit     = 600m");
    let p2 = env.dir.path().join("p2.plan");
    env.cairn(&["plan", s(&shop), "-o", s(&p2)]).code(0);
    let by_hand = json!({"spec": {"template": {"spec": {"containers": [{"name": "web", "resources": {"limits": {"cpu": "700m"}}}]}}}});
    env.call(
        "PATCH",
        "/apis/apps/v1/namespaces/shop/deployments/web?fieldManager=someone",
        "application/strategic-merge-patch+json",
        &by_hand,
    );
    let before = stack_writes(&env);
    let stale = env.cairn(&["apply", s(&p2)]).code(1);
    assert!(stale.all().contains("stale") && stale.all().contains("Deployment/shop/web"), "{}", stale.all());
    assert_eq!(stack_writes(&env), before, "a stale plan wrote");
    let web = env.get("apps", "deployments", "shop", "web").unwrap();
    assert_eq!(web["spec"]["template"]["spec"]["containers"][0]["resources"]["limits"]["cpu"], "700m", "{web:#}");

    // A source edited after the plan was made.
    let p3 = env.dir.path().join("p3.plan");
    env.cairn(&["plan", s(&shop), "-o", s(&p3)]).code(0);
    edit(&shop.join("apps.cairn"), "LOG_LEVEL   = \"info\"", "LOG_LEVEL   = \"warn\"");
    let before = stack_writes(&env);
    let stale = env.cairn(&["apply", s(&p3)]).code(1);
    assert!(stale.all().contains("stale") && stale.all().contains("sources") && stale.all().contains(s(&shop)), "{}", stale.all());
    assert_eq!(stack_writes(&env), before, "a stale plan wrote");
}

// ---------------------------------------------------------------------------------------------
// 4. Lock

/// A lease held by someone else makes apply fail at once naming the holder; with
/// `--lock-timeout` it waits and goes ahead once the holder lets go.
#[test]
fn a_held_lock_fails_at_once_naming_the_holder_or_is_waited_for() {
    let env = env();
    let shop = env.stack("shop");
    hold_lock(&env, "shop");
    let t = Instant::now();
    let held = env.cairn(&["apply", s(&shop), "--auto-approve"]).code(1);
    assert!(held.all().contains("someone@elsewhere"), "{}", held.all());
    assert!(t.elapsed() < Duration::from_secs(5), "took {:?} to fail", t.elapsed());
    assert!(stack_writes(&env).is_empty(), "wrote without the lock: {:?}", stack_writes(&env));

    let t = Instant::now();
    let waited = std::thread::scope(|scope| {
        let sb = &env.sb;
        scope.spawn(move || {
            std::thread::sleep(Duration::from_millis(1500));
            let (code, v) = sb.call(
                "PATCH",
                "/apis/coordination.k8s.io/v1/namespaces/cairn-system/leases/cairn-shop?fieldManager=someone",
                Some("application/merge-patch+json"),
                Some(&json!({"spec": {"holderIdentity": null}})),
            );
            assert!((200..300).contains(&code), "{code} {v}");
        });
        env.cairn(&["apply", s(&shop), "--auto-approve", "--lock-timeout", "10s"])
    });
    let waited = waited.code(0);
    assert!(t.elapsed() >= Duration::from_millis(1500), "did not wait for the lock: {:?}", t.elapsed());
    assert!(waited.all().contains("someone@elsewhere"), "does not say who it waits for: {}", waited.all());
    env.cairn(&["plan", s(&shop), "--detailed-exitcode"]).code(0);
}

/// Two applies at once: one waits for the other, finds nothing left to do, and no object is
/// written twice.
#[test]
fn two_concurrent_applies_write_each_object_once() {
    let env = env();
    let shop = env.stack("shop");
    let args = ["apply", s(&shop), "--auto-approve", "--lock-timeout", "30s"];
    let a = env.command(&args).spawn().unwrap();
    let b = env.command(&args).spawn().unwrap();
    let (a, b) = (run_of(a.wait_with_output().unwrap()), run_of(b.wait_with_output().unwrap()));
    a.code(0);
    b.code(0);
    let mut count: BTreeMap<String, usize> = BTreeMap::new();
    for (verb, id) in stack_writes(&env) {
        if verb == "apply" {
            *count.entry(id).or_default() += 1;
        }
    }
    let nodes = declared(&env, &shop);
    for (id, ..) in &nodes {
        assert_eq!(count.get(id), Some(&1), "{id} written {:?} times: {count:?}", count.get(id));
    }
    assert_eq!(count.len(), nodes.len(), "{count:?}");
    env.cairn(&["plan", s(&shop), "--detailed-exitcode"]).code(0);
}

// ---------------------------------------------------------------------------------------------
// 5. Faults

/// Sets the fault rules with a seed for the generator behind `rate` (printed, to replay a run).
fn set_faults_seeded(env: &Env, rules: Vec<Fault>, seed: u64) {
    println!("fault seed: {seed}");
    let (code, v) =
        env.sb.call("PUT", "/sandbox.cairn.dev/faults", Some("application/json"), Some(&json!(cairn_sandbox::Faults { rules, seed })));
    assert_eq!(code, 200, "{v}");
}

fn faulted_apply_converges(run: u64) {
    let env = env();
    let shop = env.stack("shop");
    let shop_s = s(&shop);
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    set_faults_seeded(
        &env,
        vec![
            Fault { action: Action::Error { status: 503 }, verb: None, resource: None, rate: 0.1, times: None },
            Fault { action: Action::Throttle { retry_after: 1 }, verb: None, resource: None, rate: 0.05, times: None },
            Fault { action: Action::Latency { ms: 20 }, verb: None, resource: None, rate: 0.2, times: None },
            Fault { action: Action::Drop, verb: None, resource: None, rate: 0.05, times: None },
        ],
        run.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ u64::from(nanos),
    );
    let t = Instant::now();
    let faulted = env.cairn(&["apply", shop_s, "--auto-approve"]);
    println!(
        "faulted apply: exit {} in {:?}; {}",
        faulted.code,
        t.elapsed(),
        faulted.stdout.lines().filter(|l| l.starts_with("Apply") || l.starts_with("Not done")).collect::<Vec<_>>().join(" / ")
    );
    println!("{}", faulted.stderr.lines().filter(|l| l.contains("error")).collect::<Vec<_>>().join("\n"));
    match faulted.code {
        0 => assert!(faulted.stdout.contains("Apply complete"), "{}", faulted.all()),
        1 => {
            // Either it failed before writing anything, or it says what was not done.
            let wrote = !stack_writes(&env).is_empty();
            if wrote {
                assert!(
                    faulted.stdout.contains("Apply incomplete") && faulted.stdout.contains("Not done"),
                    "a partial apply without a report of what was not done:\n{}",
                    faulted.all()
                );
            }
        }
        other => panic!("exit {other}:\n{}", faulted.all()),
    }
    assert_no_secret("faulted apply", &faulted.all());
    env.sb.set_faults(vec![]);
    env.cairn(&["apply", shop_s, "--auto-approve"]).code(0);
    env.cairn(&["plan", shop_s, "--detailed-exitcode"]).code(0);
    for (id, group, plural, ns, name) in declared(&env, &shop) {
        if id.starts_with("CephBlockPool/") || plural == "storageclasses" || plural == "namespaces" {
            assert!(env.get(&group, &plural, &ns, &name).is_some(), "{id} missing");
            continue;
        }
        // Exactly once: one object of that name in a list of its kind.
        let version = match group.as_str() {
            "objectbucket.io" => "v1alpha1",
            "autoscaling" => "v2",
            _ => "v1",
        };
        let base = if group.is_empty() { "/api/v1".to_owned() } else { format!("/apis/{group}/{version}") };
        let (code, list) = env.sb.call("GET", &format!("{base}/namespaces/{ns}/{plural}"), None, None);
        assert_eq!(code, 200, "{list}");
        let n = list["items"].as_array().unwrap().iter().filter(|o| o["metadata"]["name"] == name.as_str()).count();
        assert_eq!(n, 1, "{id} exists {n} times");
    }
    let (_, rs) = env.sb.call("GET", "/apis/apps/v1/namespaces/shop/replicasets", None, None);
    let web: Vec<&str> = rs["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|r| r["metadata"]["ownerReferences"][0]["name"] == "web")
        .map(|r| r["metadata"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(web.len(), 1, "ReplicaSets of web: {web:?}");
}

/// Under injected 503s, 429s, latency and dropped connections apply either completes or says what
/// it did not do; once the faults stop a re-run converges and nothing exists twice.
#[test]
fn a_flaky_api_server_leaves_a_convergent_state_run_1() {
    faulted_apply_converges(1);
}

/// As above, a second time (the faults are random).
#[test]
fn a_flaky_api_server_leaves_a_convergent_state_run_2() {
    faulted_apply_converges(2);
}

// ---------------------------------------------------------------------------------------------
// 6. Fail fast

/// A stack whose workload `bad` (the given block) cannot start, a ConfigMap independent of it and
/// one depending on it. Applies it; returns the run and its wall time.
fn apply_failing(env: &Env, bad: &str) -> (Run, Duration) {
    let dir = env.write_stack(
        "ff",
        &format!(
            r#"namespace "ff" {{}}

config "side" {{
  namespace = namespace.ff
  data      = {{ a = "b" }}
}}

{bad}

config "after" {{
  namespace  = namespace.ff
  data       = {{ a = "b" }}
  depends_on = [{dep}]
}}
"#,
            dep = if bad.contains("manifest \"bad\"") { "manifest.bad" } else { "workload.bad" }
        ),
    );
    let t = Instant::now();
    let run = env.cairn(&["apply", s(&dir), "--auto-approve"]);
    let took = t.elapsed();
    println!("wall time: {took:?}");
    (run, took)
}

/// The common checks: exit 1 fast, the cause and the workload named, the independent ConfigMap
/// applied, the dependent one skipped.
#[track_caller]
fn assert_failed_fast(env: &Env, run: Run, took: Duration, cause: &str) {
    let run = run.code(1);
    let all = run.all();
    assert!(took < Duration::from_secs(20), "took {took:?}: no fail-fast\n{all}");
    assert!(all.contains(cause), "the cause {cause} is not named:\n{all}");
    assert!(all.contains("Deployment/ff/bad"), "the workload is not named:\n{all}");
    assert!(env.get("", "configmaps", "ff", "side").is_some(), "the independent ConfigMap was not applied:\n{all}");
    assert!(env.get("", "configmaps", "ff", "after").is_none(), "the dependent ConfigMap was applied:\n{all}");
    assert!(all.contains("ConfigMap/ff/after: skipped"), "the dependent is not reported skipped:\n{all}");
    assert!(run.stdout.contains("Apply incomplete") && run.stdout.contains("ConfigMap/ff/after"), "{all}");
}

fn crashing_manifest(annotation: &str) -> String {
    format!(
        r#"manifest "bad" {{
  namespace = namespace.ff
  object = {{
    apiVersion = "apps/v1"
    kind       = "Deployment"
    metadata   = {{ name = "bad" }}
    spec = {{
      selector = {{ matchLabels = {{ app = "bad" }} }}
      template = {{
        metadata = {{
          labels      = {{ app = "bad" }}
          annotations = {{ "{annotation}" = "true" }}
        }}
        spec = {{ containers = [{{ name = "bad", image = "nginx:1.27" }}] }}
      }}
    }}
  }}
}}"#
    )
}

/// An image that cannot be pulled fails the apply in seconds, naming ImagePullBackOff.
#[test]
fn fail_fast_on_image_pull_backoff() {
    let env = env();
    let (run, took) =
        apply_failing(&env, "workload \"bad\" {\n  namespace = namespace.ff\n  image     = \"registry.example/doesnotexist:1\"\n}");
    assert_failed_fast(&env, run, took, "ImagePullBackOff");
}

/// A crashing container fails the apply in seconds, naming CrashLoopBackOff.
#[test]
fn fail_fast_on_crash_loop_backoff() {
    let env = env();
    let (run, took) = apply_failing(&env, &crashing_manifest("sandbox.cairn.dev/crash"));
    assert_failed_fast(&env, run, took, "CrashLoopBackOff");
}

/// A container killed for memory fails the apply in seconds, naming OOMKilled.
#[test]
fn fail_fast_on_oom_killed() {
    let env = env();
    let (run, took) = apply_failing(&env, &crashing_manifest("sandbox.cairn.dev/oom"));
    assert_failed_fast(&env, run, took, "OOMKilled");
}

/// Pods refused by a too-small ResourceQuota fail the apply in seconds, naming the quota.
#[test]
fn fail_fast_on_a_quota_refusal() {
    let env = env();
    let (run, took) = apply_failing(
        &env,
        r#"# A quota the compiler does not know about (a `quota` block would be caught by `check`).
manifest "quota" {
  namespace = namespace.ff
  object = {
    apiVersion = "v1"
    kind       = "ResourceQuota"
    metadata   = { name = "tiny" }
    spec       = { hard = { pods = "1" } }
  }
}

workload "bad" {
  namespace  = namespace.ff
  image      = "nginx:1.27"
  replicas   = 3
  depends_on = [manifest.quota]
}"#,
    );
    assert_failed_fast(&env, run, took, "exceeded quota");
}

// ---------------------------------------------------------------------------------------------
// 7. Request economy

/// A stack of `namespaces` × `per` ConfigMaps (plus the namespaces), with a top-level `for`.
fn wide_stack(env: &Env, name: &str, namespaces: usize, per: usize) -> std::path::PathBuf {
    env.write_stack(
        name,
        &format!(
            r#"for n in range({namespaces}) {{
  namespace "ns-${{n}}" {{}}

  for c in range({per}) {{
    config "c-${{n}}-${{c}}" {{
      namespace = namespace["ns-${{n}}"]
      data      = {{ k = "v" }}
    }}
  }}
}}
"#
        ),
    )
}

/// The GETs and LISTs among the requests, with the allowed ones (version, discovery, the
/// inventory Secret) apart.
fn reads(requests: &BTreeMap<String, u64>) -> (BTreeMap<String, u64>, BTreeMap<String, u64>) {
    let mut gets = BTreeMap::new();
    let mut lists = BTreeMap::new();
    for (k, n) in requests {
        if k.starts_with("list ") {
            lists.insert(k.clone(), *n);
        } else if k.starts_with("get ") && !k.starts_with("get /") && k != "get secrets" {
            gets.insert(k.clone(), *n);
        }
    }
    (gets, lists)
}

/// Planning 10,100 objects against an empty cluster: no per-object GET, at most two LISTs per kind
/// (the owned LIST with the stack selector and the metadata-only LIST without it; one page each,
/// as nothing exists).
#[test]
fn planning_ten_thousand_objects_lists_each_kind_at_most_twice() {
    let env = env();
    let dir = wide_stack(&env, "wide", 100, 100);
    env.sb.reset_requests();
    let t = Instant::now();
    let plan = env.cairn(&["plan", s(&dir), "--detailed-exitcode"]).code(2);
    println!("plan of 10,100 objects: {:?}", t.elapsed());
    assert!(
        plan.stdout.contains("10100 to create") || plan.stdout.contains("10,100"),
        "{}",
        plan.stdout.lines().last().unwrap_or_default()
    );
    let requests = env.sb.requests();
    println!("requests: {requests:?}");
    let (gets, lists) = reads(&requests);
    assert!(gets.is_empty(), "per-object GETs: {gets:?} (all: {requests:?})");
    for kind in ["list configmaps", "list namespaces"] {
        assert!(requests.get(kind).copied().unwrap_or(0) <= 2, "{kind}: {:?} (all: {requests:?})", requests.get(kind));
    }
    assert!(lists.values().all(|n| *n <= 2), "a kind listed more than twice: {lists:?}");
}

/// After applying 600 ConfigMaps in 6 namespaces, a plan makes at most two LISTs per kind (600 is
/// one page) and no per-object GET: only `/version`, discovery and the inventory Secret.
#[test]
fn planning_six_hundred_applied_objects_makes_no_per_object_requests() {
    let env = env();
    let dir = wide_stack(&env, "six", 6, 100);
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    env.sb.reset_requests();
    env.cairn(&["plan", s(&dir), "--detailed-exitcode"]).code(0);
    let requests = env.sb.requests();
    println!("requests: {requests:?}");
    let (gets, lists) = reads(&requests);
    assert!(gets.is_empty(), "per-object GETs: {gets:?} (all: {requests:?})");
    assert!(requests.get("get secrets").copied().unwrap_or(0) <= 1, "{requests:?}");
    assert!(lists.values().all(|n| *n <= 2), "a kind listed more than twice: {lists:?} (all: {requests:?})");
    assert!(lists.contains_key("list configmaps") && lists.contains_key("list namespaces"), "{requests:?}");
    let total: u64 = requests.values().sum();
    assert!(total < 60, "{total} requests to plan 606 objects: {requests:?}");
}
