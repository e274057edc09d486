//! The example policy plugins of `examples/policies` (Python, JavaScript, Rust), built from their
//! sources by their own build scripts and run through `cairn check` and `cairn plan` on the
//! example stack: each denies exactly the two unpinned images, warns exactly on the pool that
//! accepts writes with one copy, reads its `config`, and fails naming itself on a bad one.
//!
//! A plugin is built once per test binary and cached across runs by the hash of its sources (and
//! the WIT) under `$CARGO_TARGET_TMPDIR/plugins`, where the build tools (a componentize-py
//! virtualenv, componentize-js's node_modules) are cached too. When a build script cannot install
//! its tools (exit 75: no python3 or npm, or no registry), the test prints `skipping: …` and
//! passes — unless `CAIRN_REQUIRE_PLUGINS` is set, as on a machine where they must run. The Rust
//! guest is built only when the `wasm32-wasip2` target is installed, and skipped otherwise even
//! under `CAIRN_REQUIRE_PLUGINS`.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;

use cairn_sandbox::{Options, Sandbox};
use serde_json::Value;

/// What a build script exits with when it cannot install its tools.
const TOOLS_MISSING: i32 = 75;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn plugins_dir() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("plugins")
}

/// SHA-256 over the files of `dirs` (paths relative to the repository, and contents), sorted.
fn sources_hash(dirs: &[&str], extra: &[&str]) -> String {
    let root = repo();
    let mut files: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
    for d in dirs {
        let mut stack = vec![root.join(d)];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap_or_else(|e| panic!("{}: {e}", dir.display())).flatten() {
                let p = e.path();
                let name = e.file_name().to_string_lossy().into_owned();
                if p.is_dir() {
                    if name != "target" && name != "node_modules" {
                        stack.push(p);
                    }
                } else if !name.ends_with(".wasm") && name != "README.md" {
                    files.push(p.strip_prefix(&root).unwrap().to_string_lossy().into_owned());
                }
            }
        }
    }
    files.sort();
    let mut all = Vec::new();
    for f in &files {
        all.extend_from_slice(f.as_bytes());
        all.push(0);
        all.extend_from_slice(&std::fs::read(root.join(f)).unwrap());
        all.push(0);
    }
    cairn_runtime::hash::sha256_hex(&all)
}

/// Runs a build command; `Err(reason)` when its tools are missing, a panic on any other failure.
fn run_build(what: &str, mut cmd: Command) -> Result<(), String> {
    let started = std::time::Instant::now();
    let o = cmd.stdin(Stdio::null()).output().unwrap_or_else(|e| panic!("cannot run the {what} build: {e}"));
    let log = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    match o.status.code() {
        Some(0) => {
            println!("built the {what} plugin in {:.1} s", started.elapsed().as_secs_f64());
            Ok(())
        }
        Some(TOOLS_MISSING) => Err(log.trim().lines().last().unwrap_or("its tools could not be installed").to_string()),
        _ => panic!("the {what} build failed ({}):\n{log}", o.status),
    }
}

/// The built component of `lang` (`python`, `js`), built by its `build.sh` unless cached.
fn script_plugin(lang: &str) -> Result<PathBuf, String> {
    let dir = format!("examples/policies/{lang}");
    let hash = sources_hash(&[dir.as_str()], &["stdlib/wit/policy.wit"]);
    let out = plugins_dir().join(format!("{lang}-{}", &hash[..16]));
    let wasm = out.join("policy.wasm");
    if wasm.is_file() {
        return Ok(wasm);
    }
    let mut cmd = Command::new("bash");
    cmd.arg(repo().join("examples/policies").join(lang).join("build.sh")).arg(&out).env("CAIRN_PLUGIN_CACHE", plugins_dir());
    run_build(lang, cmd)?;
    assert!(wasm.is_file(), "the {lang} build wrote no {}", wasm.display());
    Ok(wasm)
}

/// The Rust guest, built with cargo for `wasm32-wasip2` when that target is installed.
fn rust_plugin() -> Result<PathBuf, String> {
    let installed =
        Command::new("rustup").args(["target", "list", "--installed"]).output().map(|o| String::from_utf8_lossy(&o.stdout).into_owned());
    if !installed.as_deref().unwrap_or("").lines().any(|l| l.trim() == "wasm32-wasip2") {
        return Err("the wasm32-wasip2 target is not installed (rustup target add wasm32-wasip2)".into());
    }
    let hash = sources_hash(&["examples/policies/rust"], &["stdlib/wit/policy.wit"]);
    let target_dir = plugins_dir().join("rust-target");
    let wasm = target_dir.join("wasm32-wasip2/release/cairn_example_policy.wasm");
    let stamp = plugins_dir().join("rust.hash");
    if wasm.is_file() && std::fs::read_to_string(&stamp).is_ok_and(|s| s == hash) {
        return Ok(wasm);
    }
    let mut cmd = Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()));
    cmd.args(["build", "--release", "--target", "wasm32-wasip2", "--manifest-path"])
        .arg(repo().join("examples/policies/rust/Cargo.toml"))
        .arg("--target-dir")
        .arg(&target_dir);
    run_build("rust", cmd).unwrap_or_else(|e| panic!("the rust build failed: {e}"));
    std::fs::write(&stamp, hash).unwrap();
    Ok(wasm)
}

/// Each plugin built at most once per test binary.
fn plugin(lang: &str) -> Option<PathBuf> {
    static PYTHON: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    static JS: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    static RUST: OnceLock<Result<PathBuf, String>> = OnceLock::new();
    let built = match lang {
        "python" => PYTHON.get_or_init(|| script_plugin("python")),
        "js" => JS.get_or_init(|| script_plugin("js")),
        _ => RUST.get_or_init(rust_plugin),
    };
    match built {
        Ok(p) => Some(p.clone()),
        Err(why) => {
            // The Rust guest needs a target CI machines need not have; the issue asks for it
            // only where the target is installed.
            assert!(
                lang == "rust" || std::env::var_os("CAIRN_REQUIRE_PLUGINS").is_none(),
                "CAIRN_REQUIRE_PLUGINS is set, but the {lang} plugin cannot be built: {why}"
            );
            println!("skipping: the {lang} example plugin cannot be built here: {why}");
            None
        }
    }
}

/// A copy of the example stack with `policies` as its policy file.
struct Stack {
    tmp: tempfile::TempDir,
    dir: PathBuf,
    text: String,
}

impl Stack {
    fn new() -> Stack {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("policy-demo");
        std::fs::create_dir_all(&dir).unwrap();
        let text = std::fs::read_to_string(repo().join("examples/policies/stack/main.cairn")).unwrap();
        std::fs::write(dir.join("main.cairn"), &text).unwrap();
        Stack { tmp, dir, text }
    }

    fn policies(&self, text: &str) {
        std::fs::write(self.dir.join("policies.cairn"), text).unwrap();
    }

    /// The line of `kind "name" {` in main.cairn.
    fn line(&self, kind: &str, name: &str) -> u64 {
        let at = format!("{kind} \"{name}\" {{");
        1 + self.text.lines().position(|l| l.starts_with(&at)).unwrap_or_else(|| panic!("no `{at}` in the stack")) as u64
    }

    /// `cairn ARGS DIR`, compiled components cached in the test binary's shared cache.
    fn cairn(&self, args: &[&str], kubeconfig: Option<&Path>) -> (i32, String, String) {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cairn"));
        cmd.args(["--color", "never"]);
        if let Some(k) = kubeconfig {
            cmd.arg("--kubeconfig").arg(k);
        }
        let o = cmd
            .args(args)
            .arg(&self.dir)
            .env_remove("KUBECONFIG")
            .env("HOME", self.tmp.path())
            .env("XDG_CACHE_HOME", plugins_dir().join("xdg-cache"))
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
    }

    /// `cairn check --format json`: the exit code and the policy diagnostics as
    /// `(code, severity, line, message)`.
    fn check(&self) -> (i32, Vec<(String, String, u64, String)>) {
        let (code, stdout, stderr) = self.cairn(&["check", "--format", "json"], None);
        let json: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
        let found = json["diagnostics"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|d| d["code"].as_str().is_some_and(|c| c.starts_with('P')))
            .map(|d| {
                let s = |k: &str| d[k].as_str().unwrap_or_default().to_owned();
                (s("code"), s("severity"), d["line"].as_u64().unwrap(), s("message"))
            })
            .collect();
        (code, found)
    }
}

/// `policy` blocks running `wasm`: its image check as `tags` (enforced as `enforce`), its pool
/// check as `replication` with `config`.
fn policies(wasm: &Path, tags_enforce: &str, replication_config: &str) -> String {
    let source = wasm.display();
    let sha = cairn_runtime::hash::sha256_hex(&std::fs::read(wasm).unwrap());
    format!(
        "policy \"tags\" {{\n  source  = \"{source}\"\n  sha256  = \"{sha}\"\n  config  = {{ checks = [\"image-tag\"] }}\n  enforce = \"{tags_enforce}\"\n}}\n\n\
         policy \"replication\" {{\n  source = \"{source}\"\n  config = {replication_config}\n}}\n"
    )
}

fn kubeconfig(sb: &Sandbox, dir: &Path) -> PathBuf {
    let path = dir.join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: sandbox\n  cluster:\n    server: {}\ncontexts:\n- name: sandbox\n  context:\n    cluster: sandbox\n    user: me\nusers:\n- name: me\n  user: {{}}\ncurrent-context: sandbox\n",
            sb.url()
        ),
    )
    .unwrap();
    path
}

/// What every example plugin must do on the example stack.
fn exercise(lang: &str) {
    let Some(wasm) = plugin(lang) else { return };
    let stack = Stack::new();
    let source = wasm.display().to_string();
    let (edge, bare, scratch, data) =
        (stack.line("workload", "edge"), stack.line("workload", "bare"), stack.line("pool", "scratch"), stack.line("pool", "data"));

    // Without policies the stack is clean: what follows is the plugin's doing.
    stack.policies("");
    let (code, found) = stack.check();
    assert_eq!((code, found.len()), (0, 0), "{found:#?}");

    // `cairn check`: deny exactly the two unpinned images, warn exactly on the min_size-1 pool.
    stack.policies(&policies(&wasm, "deny", "{ checks = [\"min-size\"], min_size = 2 }"));
    let (code, found) = stack.check();
    assert_eq!(code, 1, "a deny fails the check: {found:#?}");
    let at: BTreeSet<(&str, &str, u64)> = found.iter().map(|(c, s, l, _)| (c.as_str(), s.as_str(), *l)).collect();
    assert_eq!(
        at,
        BTreeSet::from([("P0001", "error", edge), ("P0001", "error", bare), ("P0001", "warning", scratch)]),
        "{lang}: {found:#?}"
    );
    assert_eq!(found.len(), 3, "{found:#?}");
    let has = |line: u64, text: &str| found.iter().any(|(_, _, l, m)| *l == line && m.contains(text));
    assert!(
        has(edge, &format!("policy `tags` ({source}): container `edge` image `ghcr.io/acme/edge:latest` uses the `latest` tag")),
        "{found:#?}"
    );
    assert!(has(bare, "container `bare` image `registry.local:5000/acme/bare` has no tag"), "{found:#?}");
    assert!(has(scratch, "policy `replication`") && has(scratch, "pool `scratch` accepts writes with 1 copy"), "{found:#?}");

    // `config` reaches the plugin: min_size 3 also warns on the pool that needs two.
    stack.policies(&policies(&wasm, "deny", "{ checks = [\"min-size\"], min_size = 3 }"));
    let (_, found) = stack.check();
    let warned: BTreeSet<u64> = found.iter().filter(|(_, s, _, _)| s == "warning").map(|(_, _, l, _)| *l).collect();
    assert_eq!(warned, BTreeSet::from([scratch, data]), "{found:#?}");

    // A bad config is the plugin's `err`: a failure naming the policy, and the check fails.
    stack.policies(&policies(&wasm, "deny", "{ min_size = \"two\" }"));
    let (code, found) = stack.check();
    assert_eq!(code, 1);
    assert!(
        found.iter().any(|(c, _, _, m)| c == "P0002"
            && m.contains("policy `replication`")
            && m.contains("returned an error: config `min_size` must be an integer >= 1")),
        "{found:#?}"
    );

    // `cairn plan`: the denials stop it before the cluster is touched.
    let sb = Sandbox::start(Options::default()).expect("sandbox starts");
    let kube = kubeconfig(&sb, stack.tmp.path());
    stack.policies(&policies(&wasm, "deny", "{ checks = [\"min-size\"] }"));
    let (code, _, stderr) = stack.cairn(&["plan"], Some(&kube));
    assert_eq!(code, 1, "{stderr}");
    assert!(stderr.contains("uses the `latest` tag") && stderr.contains("has no tag"), "{stderr}");
    assert!(sb.writes().iter().all(|w| w.controller), "nothing is written to the cluster: {:?}", sb.writes());

    // With the image check enforced as warn, plan runs and reports all three as warnings.
    stack.policies(&policies(&wasm, "warn", "{ checks = [\"min-size\"] }"));
    let (code, stdout, stderr) = stack.cairn(&["plan", "--json"], Some(&kube));
    assert_eq!(code, 0, "{stdout}\n{stderr}");
    let plan: Value = serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    let mut got: Vec<(String, String, String, String)> = plan["policies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            (s("policy"), s("result"), s("severity"), s("address"))
        })
        .collect();
    got.sort();
    let want = |p: &str, a: &str| (p.to_owned(), "violation".to_owned(), "warn".to_owned(), a.to_owned());
    assert_eq!(got, [want("replication", "pool.scratch"), want("tags", "workload.bare"), want("tags", "workload.edge")], "{plan:#}");
    assert_eq!(plan["applyable"], true, "warnings do not block apply: {plan:#}");
    let (code, stdout, _) = stack.cairn(&["plan"], Some(&kube));
    assert_eq!(code, 0);
    assert!(stdout.contains("Policies: 0 denied, 3 warnings."), "{stdout}");
}

#[test]
fn python_plugin_denies_unpinned_images_and_warns_on_min_size_one() {
    exercise("python");
}

#[test]
fn javascript_plugin_denies_unpinned_images_and_warns_on_min_size_one() {
    // Built as componentize-js builds by default, the component imports `wasi:http`; the host
    // links it (refusing every request), so the plugin still loads and judges.
    if let Some(wasm) = plugin("js") {
        let bytes = std::fs::read(&wasm).unwrap();
        assert!(bytes.windows(26).any(|w| w == b"wasi:http/outgoing-handler"), "the JS plugin does not import wasi:http");
    }
    exercise("js");
}

#[test]
fn rust_plugin_denies_unpinned_images_and_warns_on_min_size_one() {
    exercise("rust");
}

/// The process's peak resident memory (`VmHWM`), in MiB.
fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

/// The benchmark, by hand: `cargo test --workspace --locked --test policy_plugins --
/// --ignored --nocapture`. The Python plugin through the host API over 10, 100 and 1,000
/// Deployments: load time, evaluation time (median of 5) and the process's peak memory.
#[test]
#[ignore = "a benchmark: run by hand with --ignored --nocapture"]
fn python_plugin_evaluation_cost_by_input_size() {
    use cairn_runtime::policy::wasm::WasmPolicy;
    use cairn_stdlib::policy::{Input, Policy, Resource};
    let Some(wasm) = plugin("python") else { return };
    let started = std::time::Instant::now();
    let cache = plugins_dir().join("xdg-cache/cairn/policies");
    let (policy, used) = WasmPolicy::load_with_cache(&wasm, None, Some(&cache)).unwrap();
    println!("load ({used:?}): {:.0} ms, peak RSS {:.0} MiB", started.elapsed().as_secs_f64() * 1e3, peak_rss_mib());
    for n in [10usize, 100, 1000] {
        let resources = (0..n)
            .map(|i| Resource {
                address: format!("workload.w{i}"),
                kind: "Deployment".into(),
                object: serde_json::json!({
                    "apiVersion": "apps/v1", "kind": "Deployment",
                    "metadata": {"name": format!("w{i}"), "namespace": "team", "labels": {"app": format!("w{i}")}},
                    "spec": {"replicas": 2, "selector": {"matchLabels": {"app": format!("w{i}")}},
                        "template": {"metadata": {"labels": {"app": format!("w{i}")}},
                            "spec": {"containers": [{"name": "main", "image": format!("ghcr.io/acme/w{i}:{}", if i % 10 == 0 { "latest".to_string() } else { format!("1.{i}") }),
                                "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"memory": "256Mi"}}}]}}},
                }),
            })
            .collect();
        let input = Input { phase: "check".into(), stack: "bench".into(), config: serde_json::Value::Null, resources, changes: vec![] };
        let bytes = serde_json::to_string(&input).unwrap().len();
        let mut times = Vec::new();
        let mut found = 0;
        for _ in 0..5 {
            let t = std::time::Instant::now();
            found = policy.evaluate(&input).unwrap().len();
            times.push(t.elapsed().as_secs_f64() * 1e3);
        }
        times.sort_by(f64::total_cmp);
        println!(
            "{n:>5} resources ({:>7} bytes of input): {found:>4} violations, evaluate median {:>7.1} ms (min {:.1}, max {:.1}), peak RSS {:.0} MiB",
            bytes,
            times[2],
            times[0],
            times[4],
            peak_rss_mib()
        );
    }
}
