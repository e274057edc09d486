//! `cairn import` (DESIGN.md §8.3): reads objects from the cluster (`cairn_runtime::import`)
//! or YAML files, converts them (`cairn_compiler::import`), writes the stack directory and
//! prints the report: where each object went, which became a `manifest` and why, what was left
//! out, and the variables that stand for secret values.

use std::io::Read;
use std::path::{Path, PathBuf};

use cairn_compiler::import::{self, Defaults, Imported, Options};
use serde_json::{json, Value as Json};

use super::live::{self, ClusterFlags};
use super::plan::runtime;
use crate::output::Output;
use crate::Format;

/// What `cairn import` was asked.
pub struct ImportArgs {
    pub files: Vec<PathBuf>,
    pub namespaces: Vec<String>,
    pub selector: Option<String>,
    pub kinds: Vec<String>,
    pub output: PathBuf,
    pub stack: Option<String>,
    pub format: Format,
}

/// kube-apiserver's defaulting (1.33), as the sandbox models it: what an import leaves out of
/// the source and what it compares through.
struct ApiServerDefaults;

impl Defaults for ApiServerDefaults {
    fn apply(&self, api_version: &str, kind: &str, obj: &mut Json) {
        cairn_sandbox::defaults::apply_update_defaults(api_version, kind, obj);
    }
}

/// Runs `import`; whether it succeeded.
pub fn run(out: &Output, flags: &ClusterFlags, args: &ImportArgs) -> bool {
    if let Err(e) = check_output(&args.output) {
        out.error(&e);
        return false;
    }
    let objects = if args.files.is_empty() {
        let Some(rt) = runtime(out) else { return false };
        let selection = cairn_runtime::import::Selection {
            namespaces: args.namespaces.clone(),
            selector: args.selector.clone(),
            kinds: args.kinds.clone(),
        };
        live::observe_retries(out, false, cairn_runtime::kube::retry::DEFAULT_BUDGET);
        let read =
            rt.block_on(cairn_runtime::import::read(&flags.connect(), &selection, &mut |e| live::render_event(out, flags.verbose, e)));
        match read {
            Ok(r) => {
                for k in &r.unserved {
                    out.info(&format!("the cluster does not serve {k}: none read"));
                }
                if flags.verbose {
                    out.info(&format!("read {} objects with {} LIST requests", r.objects.len(), r.requests));
                }
                r.objects
            }
            Err(e) => {
                out.report(&e);
                return false;
            }
        }
    } else {
        match read_files(&args.files).and_then(|objects| filter(objects, args)) {
            Ok(objects) => objects,
            Err(e) => {
                out.error(&e);
                return false;
            }
        }
    };
    let fallback_stack = args
        .output
        .file_name()
        .map(|n| n.to_string_lossy().to_lowercase())
        .filter(|n| cairn_core::names::is_dns1123_label(n))
        .unwrap_or_else(|| "imported".into());
    let options = Options {
        stack: args.stack.clone(),
        fallback_stack,
        default_namespace: if args.files.is_empty() { None } else { args.namespaces.first().cloned() },
        live: args.files.is_empty(),
    };
    let imported = import::import(objects, &options, &ApiServerDefaults);
    if let Err(e) = write(&args.output, &imported) {
        out.error(&e);
        return false;
    }
    match args.format {
        Format::Json => out.stdout(&format!("{}\n", serde_json::to_string_pretty(&as_json(&imported, &args.output)).unwrap_or_default())),
        Format::Text => out.stdout(&report(&imported, &args.output, args.files.is_empty())),
    }
    for p in &imported.problems {
        out.error(p);
    }
    imported.problems.is_empty()
}

/// Refuses an output directory that already holds files: an import writes a new stack and
/// never overwrites one.
fn check_output(dir: &Path) -> Result<(), String> {
    match std::fs::read_dir(dir) {
        Ok(mut entries) => {
            if entries.next().is_some() {
                return Err(format!(
                    "`{}` is not empty: an import writes a new stack directory and never overwrites files; choose a new directory with -o",
                    dir.display()
                ));
            }
            Ok(())
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot use `{}`: {e}", dir.display())),
    }
}

/// Every object in the files (`-`: stdin), `List`s unpacked, empty documents skipped.
fn read_files(files: &[PathBuf]) -> Result<Vec<Json>, String> {
    let mut objects = Vec::new();
    for f in files {
        let text = if f.as_os_str() == "-" {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s).map_err(|e| format!("cannot read stdin: {e}"))?;
            s
        } else {
            std::fs::read_to_string(f).map_err(|e| format!("cannot read `{}`: {e}", f.display()))?
        };
        let name = if f.as_os_str() == "-" { "stdin".to_string() } else { f.display().to_string() };
        for (n, doc) in serde_yaml::Deserializer::from_str(&text).enumerate() {
            let value: Json = serde::Deserialize::deserialize(doc)
                .map_err(|e| format!("{name}: document {} is not valid YAML: {e}; fix it or leave it out", n.saturating_add(1)))?;
            match value {
                Json::Null => {}
                Json::Object(ref m) if m.get("kind").and_then(Json::as_str) == Some("List") => {
                    if let Some(Json::Array(items)) = m.get("items") {
                        objects.extend(items.iter().cloned());
                    }
                }
                Json::Object(_) => objects.push(value),
                _ => {
                    return Err(format!(
                        "{name}: document {} is not a Kubernetes object (a map with apiVersion and kind)",
                        n.saturating_add(1)
                    ))
                }
            }
        }
    }
    Ok(objects)
}

/// The objects `--kind` and `--selector` keep. For files the selector is `k=v` pairs joined by
/// `,`; anything else is refused rather than misread.
fn filter(objects: Vec<Json>, args: &ImportArgs) -> Result<Vec<Json>, String> {
    let mut pairs: Vec<(String, String)> = Vec::new();
    for p in args.selector.iter().flat_map(|s| s.split(',')) {
        match p.split_once('=') {
            Some((k, v)) if !k.ends_with('!') && !v.starts_with('=') => pairs.push((k.trim().to_string(), v.trim().to_string())),
            _ => {
                return Err(format!(
                    "--selector `{}`: with -f only `key=value` pairs joined by `,` are understood (`{p}` is not one)",
                    args.selector.as_deref().unwrap_or_default()
                ))
            }
        }
    }
    Ok(objects
        .into_iter()
        .filter(|o| {
            let kind = o.get("kind").and_then(Json::as_str).unwrap_or_default();
            args.kinds.is_empty() || args.kinds.iter().any(|k| k.eq_ignore_ascii_case(kind))
        })
        .filter(|o| {
            pairs.iter().all(|(k, v)| o.pointer("/metadata/labels").and_then(|l| l.get(k)).and_then(Json::as_str) == Some(v.as_str()))
        })
        .collect())
}

/// Writes the stack's files.
fn write(dir: &Path, imported: &Imported) -> Result<(), String> {
    std::fs::create_dir_all(dir).map_err(|e| format!("cannot create `{}`: {e}", dir.display()))?;
    for (name, text) in &imported.files {
        let path = dir.join(name);
        // `create_new`: a file that appeared since the directory was checked is not overwritten.
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .open(&path)
            .map_err(|e| format!("cannot write `{}`: {e}; nothing there was overwritten", path.display()))?;
        std::io::Write::write_all(&mut f, text.as_bytes()).map_err(|e| format!("cannot write `{}`: {e}", path.display()))?;
    }
    Ok(())
}

/// The text report.
fn report(imported: &Imported, dir: &Path, live: bool) -> String {
    let mut s = String::new();
    let total = imported.placed.len();
    let manifests = imported.manifests();
    s.push_str(&format!("wrote {} ({} files), stack `{}`\n", dir.display(), imported.files.len(), imported.stack));
    let mut by_block: std::collections::BTreeMap<&str, Vec<&import::Placed>> = Default::default();
    for p in &imported.placed {
        by_block.entry(p.address.as_str()).or_default().push(p);
    }
    s.push_str("\nblocks:\n");
    for (address, placed) in by_block.iter().filter(|(_, p)| p.iter().all(|p| p.why_manifest.is_none())) {
        let objects: Vec<&str> = placed.iter().map(|p| p.object.as_str()).collect();
        s.push_str(&format!("  {address}  ← {}\n", objects.join(", ")));
    }
    if manifests > 0 {
        s.push_str("\nmanifests (no block says everything these objects say):\n");
        for p in imported.placed.iter().filter(|p| p.why_manifest.is_some()) {
            s.push_str(&format!("  {}  ← {}: {}\n", p.address, p.object, p.why_manifest.as_deref().unwrap_or_default()));
        }
    }
    if !imported.existing.is_empty() {
        s.push_str("\nused but not taken over (`existing = true`: read, never written):\n");
        for e in &imported.existing {
            s.push_str(&format!("  {e}\n"));
        }
    }
    if !imported.skipped.is_empty() {
        s.push_str("\nleft out:\n");
        for k in &imported.skipped {
            s.push_str(&format!("  {}: {}\n", k.object, k.reason));
        }
    }
    if !imported.notes.is_empty() {
        s.push_str("\nnotes:\n");
        for n in &imported.notes {
            s.push_str(&format!("  {n}\n"));
        }
    }
    if !imported.variables.is_empty() {
        s.push_str("\nsecret values are not imported; set these variables before `cairn plan`:\n");
        for v in &imported.variables {
            if live {
                s.push_str(&format!(
                    "  {}  (kubectl -n {} get secret {} -o jsonpath='{{.data.{}}}' | base64 -d)\n",
                    v.name,
                    v.namespace,
                    v.secret,
                    v.key.replace('.', "\\.")
                ));
            } else {
                s.push_str(&format!("  {}  (secret {}/{}, key {})\n", v.name, v.namespace, v.secret, v.key));
            }
        }
    }
    let share = if total == 0 { 0.0 } else { manifests as f64 * 100.0 / total as f64 };
    s.push_str(&format!(
        "\n{total} objects imported: {} in blocks, {manifests} as manifest ({share:.0}%); {} left out\n",
        total.saturating_sub(manifests),
        imported.skipped.len()
    ));
    let adopt = if live { "cairn plan --adopt" } else { "cairn render" };
    s.push_str(&format!("next: {adopt} {}\n", dir.display()));
    s
}

/// The JSON report.
fn as_json(imported: &Imported, dir: &Path) -> Json {
    json!({
        "directory": dir.display().to_string(),
        "stack": imported.stack,
        "files": imported.files.keys().collect::<Vec<_>>(),
        "objects": imported.placed.iter().map(|p| json!({
            "object": p.object,
            "block": p.address,
            "manifest_reason": p.why_manifest,
        })).collect::<Vec<_>>(),
        "existing": imported.existing,
        "skipped": imported.skipped.iter().map(|k| json!({ "object": k.object, "reason": k.reason })).collect::<Vec<_>>(),
        "variables": imported.variables.iter().map(|v| json!({
            "name": v.name, "namespace": v.namespace, "secret": v.secret, "key": v.key,
        })).collect::<Vec<_>>(),
        "notes": imported.notes,
        "problems": imported.problems,
    })
}
