//! Import (DESIGN.md §8.3): Kubernetes objects in, cairn source out. Pure: the CLI reads the
//! cluster or the files and writes the directory.
//!
//! Each object becomes a first-class block where the block says everything the object says,
//! and a `manifest` otherwise. "Says everything" is not guessed: the blocks are compiled and
//! lowered, and every object they produce is compared with the object it stands for, both put
//! through the API server's defaulting ([`Defaults`]). An object that differs — or whose block
//! does not compile — becomes a `manifest`, with the difference as the reason, and the round
//! runs again until every block is exact. Secret values are never read: a secret's values are
//! `env("…")` placeholders, listed in [`Imported::variables`].

mod clean;
mod kinds;
mod text;
mod verify;
mod workload;

use std::collections::{BTreeMap, BTreeSet};

use serde_json::Value as Json;

/// The API server's defaulting, applied to an object in place (kube-apiserver 1.33's, as the
/// sandbox models it, in the CLI; none in unit tests).
pub trait Defaults: Sync {
    /// Fills in what the API server would default in `obj` of `api_version`/`kind`.
    fn apply(&self, api_version: &str, kind: &str, obj: &mut Json);
}

/// No defaulting at all.
#[derive(Debug, Default, Clone, Copy)]
pub struct NoDefaults;

impl Defaults for NoDefaults {
    fn apply(&self, _: &str, _: &str, _: &mut Json) {}
}

/// How to import.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// The stack's name (`--stack`). Unset: the `app.kubernetes.io/instance` label most pod
    /// templates carry (so no pod template changes), else `fallback_stack`.
    pub stack: Option<String>,
    /// The stack name when nothing else gives one (the output directory's name).
    pub fallback_stack: String,
    /// The namespace of namespaced objects that name none (files, as `kubectl apply -n`).
    pub default_namespace: Option<String>,
    /// The objects were read from a cluster: what it allocated (`nodePort`s, a claim's
    /// `volumeName`, finalizers) is the cluster's, not the author's.
    pub live: bool,
}

/// What an import produced.
#[derive(Debug, Clone, Default)]
pub struct Imported {
    /// The stack's name.
    pub stack: String,
    /// File name → formatted source.
    pub files: BTreeMap<String, String>,
    /// Where each imported object went, sorted by object.
    pub placed: Vec<Placed>,
    /// Objects left out, and why.
    pub skipped: Vec<Skipped>,
    /// The `env()` variables that stand for secret values.
    pub variables: Vec<Variable>,
    /// Resources the imported objects use but the import does not take over: declared
    /// `existing = true` (addresses).
    pub existing: Vec<String>,
    /// Errors of the generated stack that no fallback could mend (a bug if ever non-empty).
    pub problems: Vec<String>,
    /// What adopting the blocks does beside labelling (`workload.web: env is written in name
    /// order …`).
    pub notes: Vec<String>,
}

impl Imported {
    /// How many objects became `manifest` blocks.
    pub fn manifests(&self) -> usize {
        self.placed.iter().filter(|p| p.why_manifest.is_some()).count()
    }
}

/// One imported object and the block it went to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placed {
    /// `Deployment/shop/web`.
    pub object: String,
    /// `workload.web`, `manifest.shop-serviceaccount-web`.
    pub address: String,
    /// Why the object is a `manifest` (`None`: a first-class block).
    pub why_manifest: Option<String>,
}

/// An object left out of the import.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    pub object: String,
    pub reason: String,
}

/// An `env()` placeholder that stands for one secret value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Variable {
    pub name: String,
    pub namespace: String,
    pub secret: String,
    pub key: String,
}

/// One input object, cleaned and minimized.
#[derive(Debug, Clone)]
pub(crate) struct Input {
    /// `Kind/namespace/name` or `Kind/name`.
    pub id: String,
    pub api_version: String,
    pub kind: String,
    pub namespace: Option<String>,
    pub name: String,
    /// The object as a person would write it.
    pub obj: Json,
}

impl Input {
    pub fn spec(&self) -> Option<&Json> {
        self.obj.get("spec")
    }

    pub fn labels(&self) -> BTreeMap<String, String> {
        string_map(self.obj.pointer("/metadata/labels"))
    }

    pub fn annotations(&self) -> BTreeMap<String, String> {
        string_map(self.obj.pointer("/metadata/annotations"))
    }
}

/// A map of strings (other values skipped).
pub(crate) fn string_map(v: Option<&Json>) -> BTreeMap<String, String> {
    match v {
        Some(Json::Object(m)) => m.iter().filter_map(|(k, v)| v.as_str().map(|s| (k.clone(), s.to_string()))).collect(),
        _ => BTreeMap::new(),
    }
}

/// A block the import writes, and the input objects it stands for.
#[derive(Debug, Clone)]
pub(crate) struct Candidate {
    /// `workload.web`.
    pub address: String,
    /// The file it goes to.
    pub file: String,
    pub text: String,
    /// Indices into the inputs.
    pub claims: Vec<usize>,
    /// A `manifest` (with the reason per claimed object), or a first-class block.
    pub manifest: Option<String>,
}

/// Imports `objects` (any order; secrets' values are never copied).
pub fn import(objects: Vec<Json>, options: &Options, defaults: &dyn Defaults) -> Imported {
    let mut imported = Imported::default();
    let crds = declared_crds(&objects);
    let default_namespace = options.default_namespace.clone().unwrap_or_else(|| "default".into());
    let templates = clean::statefulset_claims(&objects, &default_namespace);
    let mut inputs: Vec<Input> = Vec::new();
    let mut seen = BTreeSet::new();
    for obj in objects {
        let api_version = obj.get("apiVersion").and_then(Json::as_str).unwrap_or_default().to_string();
        let kind = obj.get("kind").and_then(Json::as_str).unwrap_or_default().to_string();
        let name = obj.pointer("/metadata/name").and_then(Json::as_str).unwrap_or_default().to_string();
        if api_version.is_empty() || kind.is_empty() || name.is_empty() {
            imported.problems.push("an object without apiVersion, kind or metadata.name was left out".into());
            continue;
        }
        let namespaced = crate::lower::is_namespaced(&kind, &api_version, &crds);
        let obj = blank_secret(obj);
        let obj = clean::clean(obj, Some(&default_namespace), namespaced, options.live);
        let namespace = obj.pointer("/metadata/namespace").and_then(Json::as_str).map(str::to_string);
        // A namespace names a file of the output: only a DNS-1123 label (as Kubernetes
        // requires) may, so no name can reach outside the directory.
        if let Some(ns) = namespace.as_deref().filter(|ns| !cairn_core::names::is_dns1123_label(ns)) {
            imported.problems.push(format!("{kind} {name}: namespace `{ns}` is not a DNS-1123 label; left out"));
            continue;
        }
        let id = match &namespace {
            Some(ns) => format!("{kind}/{ns}/{name}"),
            None => format!("{kind}/{name}"),
        };
        if kind == "PersistentVolumeClaim" {
            if let Some(sts) = clean::made_from_template(&templates, namespace.as_deref().unwrap_or_default(), &name) {
                imported.skipped.push(Skipped { object: id, reason: format!("made by StatefulSet {sts} from its claim template") });
                continue;
            }
        }
        if let Some(reason) = clean::skip_reason(&obj) {
            imported.skipped.push(Skipped { object: id, reason });
            continue;
        }
        if !seen.insert(id.clone()) {
            imported.skipped.push(Skipped { object: id, reason: "given twice; the first one is imported".into() });
            continue;
        }
        let obj = clean::minimize(obj, defaults);
        inputs.push(Input { id, api_version, kind, namespace, name, obj });
    }
    inputs.sort_by(|a, b| {
        (a.namespace.as_deref().unwrap_or(""), &a.kind, &a.name).cmp(&(b.namespace.as_deref().unwrap_or(""), &b.kind, &b.name))
    });
    imported.stack = options.stack.clone().or_else(|| workload::common_instance(&inputs)).unwrap_or_else(|| options.fallback_stack.clone());

    let mut forced: BTreeMap<usize, String> = BTreeMap::new();
    let mut outcome = None;
    // Each round that finds a mismatch makes at least one more object a manifest.
    for _round in 0..inputs.len().saturating_add(2) {
        let (candidates, extras, result) = {
            let mut cx = kinds::Cx::new(&inputs, &forced, &imported.stack);
            let candidates = cx.candidates();
            let result = verify::verify(&inputs, &candidates, &cx, defaults);
            (candidates, cx.finish(), result)
        };
        let before = forced.len();
        for (i, reason) in &result.mismatches {
            forced.entry(*i).or_insert_with(|| reason.clone());
        }
        let stuck = !result.mismatches.is_empty() && forced.len() == before;
        let mut problems = result.problems;
        if stuck {
            problems.extend(result.mismatches.iter().map(|(i, why)| {
                let id = inputs.get(*i).map_or("?", |x| x.id.as_str());
                format!("{id}: {why}")
            }));
        }
        let done = result.mismatches.is_empty() || stuck;
        outcome = Some((candidates, extras, problems));
        if done {
            break;
        }
    }
    let Some((candidates, extras, problems)) = outcome else { return imported };
    imported.problems.extend(problems);
    imported.variables = extras.variables;
    imported.notes = extras.notes;
    imported.existing = extras.existing.iter().map(|e| e.address.clone()).collect();
    for c in &candidates {
        for &i in &c.claims {
            if let Some(input) = inputs.get(i) {
                let why = c
                    .manifest
                    .as_ref()
                    .map(|_| forced.get(&i).or_else(|| extras.reasons.get(&i)).cloned().unwrap_or_else(|| default_reason(&input.kind)));
                imported.placed.push(Placed { object: input.id.clone(), address: c.address.clone(), why_manifest: why });
            }
        }
    }
    // The very text the last round compiled and compared, laid out by the formatter (which
    // keeps meaning, or refuses).
    let (raw_files, _) = verify::files(&imported.stack, &candidates, &extras.existing);
    for (name, raw) in raw_files {
        let formatted = cairn_lang::format::format(&raw).unwrap_or_else(|_| {
            imported.problems.push(format!("{name}: the formatter refused the generated text; it is written unformatted"));
            raw.clone()
        });
        imported.files.insert(name, formatted);
    }
    name_the_whole(&mut imported.placed);
    imported.placed.sort_by(|a, b| a.object.cmp(&b.object));
    imported.skipped.sort_by(|a, b| a.object.cmp(&b.object));
    imported
}

/// A Service, claim, autoscaler or budget that is a manifest because its workload is one says
/// so (its own reason is only that no workload block made it).
fn name_the_whole(placed: &mut [Placed]) {
    let manifests: BTreeMap<(String, String), String> = placed
        .iter()
        .filter(|p| p.why_manifest.is_some())
        .filter_map(|p| {
            let mut parts = p.object.splitn(3, '/');
            let kind = parts.next()?;
            let (ns, name) = (parts.next()?, parts.next()?);
            matches!(kind, "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob")
                .then(|| ((ns.to_string(), name.to_string()), p.object.clone()))
        })
        .collect();
    for p in placed.iter_mut() {
        let Some(why) = &p.why_manifest else { continue };
        if !why.contains("no imported workload of its name makes this one") {
            continue;
        }
        let mut parts = p.object.splitn(3, '/');
        let (Some(_), Some(ns), Some(name)) = (parts.next(), parts.next(), parts.next()) else { continue };
        let name = name.strip_suffix("-hl").unwrap_or(name);
        if let Some(w) = manifests.get(&(ns.to_string(), name.to_string())) {
            p.why_manifest = Some(format!("its workload {w} is a manifest, so it is one too"));
        }
    }
}

/// Why an object no block claimed is a `manifest`.
fn default_reason(kind: &str) -> String {
    match kind {
        "Service" | "PersistentVolumeClaim" | "HorizontalPodAutoscaler" | "PodDisruptionBudget" => {
            format!("a {kind} is part of a workload block, and no imported workload of its name makes this one")
        }
        "ResourceQuota" | "LimitRange" => {
            format!("a {kind} is part of a namespace block, named `<namespace>-quota` / `<namespace>-limits`")
        }
        _ => format!("cairn has no block for a {kind}"),
    }
}

/// The CRDs among the objects: (group, kind, namespaced).
fn declared_crds(objects: &[Json]) -> Vec<(String, String, bool)> {
    objects
        .iter()
        .filter(|o| o.get("kind").and_then(Json::as_str) == Some("CustomResourceDefinition"))
        .filter_map(|o| {
            let group = o.pointer("/spec/group")?.as_str()?.to_string();
            let kind = o.pointer("/spec/names/kind")?.as_str()?.to_string();
            let namespaced = o.pointer("/spec/scope").and_then(Json::as_str) != Some("Cluster");
            Some((group, kind, namespaced))
        })
        .collect()
}

/// A Secret with every value replaced by an empty string, and its `stringData` folded into
/// `data`: from here on no secret value exists in the import.
fn blank_secret(mut obj: Json) -> Json {
    if obj.get("kind").and_then(Json::as_str) != Some("Secret") {
        return obj;
    }
    if let Some(m) = obj.as_object_mut() {
        let mut keys: BTreeSet<String> = BTreeSet::new();
        for field in ["data", "stringData"] {
            if let Some(Json::Object(d)) = m.remove(field) {
                keys.extend(d.keys().cloned());
            }
        }
        if !keys.is_empty() {
            m.insert("data".into(), Json::Object(keys.into_iter().map(|k| (k, Json::String(String::new()))).collect()));
        }
    }
    obj
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn run(objects: Vec<Json>) -> Imported {
        import(objects, &Options { fallback_stack: "t".into(), default_namespace: Some("apps".into()), ..Options::default() }, &NoDefaults)
    }

    fn deployment(extra_pod: Json) -> Json {
        let mut pod = json!({ "containers": [{ "name": "web", "image": "web:1.0" }] });
        if let (Some(p), Json::Object(extra)) = (pod.as_object_mut(), extra_pod) {
            p.extend(extra);
        }
        json!({
            "apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": { "name": "web", "namespace": "apps" },
            "spec": {
                "selector": { "matchLabels": { "app": "web" } },
                "template": { "metadata": { "labels": { "app": "web" } }, "spec": pod },
            },
        })
    }

    #[test]
    fn a_workload_cairn_can_say_becomes_a_block_and_one_it_cannot_a_manifest_with_the_field() {
        let ok = run(vec![deployment(json!({}))]);
        assert_eq!(ok.placed, vec![Placed { object: "Deployment/apps/web".into(), address: "workload.web".into(), why_manifest: None }]);
        assert!(ok.files.get("apps.cairn").is_some_and(|f| f.contains("selector")), "{:?}", ok.files);
        let not = run(vec![deployment(json!({ "tolerations": [{ "operator": "Exists" }] }))]);
        let why = not.placed.first().and_then(|p| p.why_manifest.clone()).unwrap_or_default();
        assert!(why.contains("tolerations"), "{why}");
        assert!(not.files.get("apps.cairn").is_some_and(|f| f.contains("manifest \"apps-deployment-web\"")), "{:?}", not.files);
        assert!(not.problems.is_empty(), "{:?}", not.problems);
    }

    #[test]
    fn a_namespace_that_is_no_label_cannot_name_a_file() {
        let mut d = deployment(json!({}));
        d["metadata"]["namespace"] = json!("../prod/main");
        let out = run(vec![d]);
        assert!(out.files.keys().all(|f| !f.contains('/')), "{:?}", out.files.keys());
        assert!(out.problems.iter().any(|p| p.contains("../prod/main")), "{:?}", out.problems);
    }

    #[test]
    fn helm_release_records_are_left_out() {
        let cm = json!({ "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": { "name": "sh.helm.release.v1.web.v1", "namespace": "apps", "labels": { "owner": "helm" } },
            "data": { "release": "H4sI-planted" } });
        let out = run(vec![cm]);
        assert!(out.placed.is_empty() && out.skipped.len() == 1, "{out:?}");
        assert!(!format!("{:?}", out.files).contains("planted"));
    }

    #[test]
    fn no_secret_value_reaches_the_source_or_the_report() {
        let planted = "planted-Secret-9f3e7c";
        let b64 = "cGxhbnRlZC1TZWNyZXQtOWYzZTdj";
        let secret = |name: &str, extra: Json| {
            let mut s = json!({
                "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
                "metadata": { "name": name, "namespace": "apps", "annotations": {
                    "kubectl.kubernetes.io/last-applied-configuration": format!("{{\"stringData\":{{\"password\":\"{planted}\"}}}}"),
                } },
                "data": { "password": b64 },
                "stringData": { "token": planted },
            });
            if let (Some(m), Json::Object(extra)) = (s.as_object_mut(), extra) {
                m.extend(extra);
            }
            s
        };
        // One that maps to a `secret` block, one that stays a manifest (`immutable`).
        let out = run(vec![secret("db", json!({})), secret("frozen", json!({ "immutable": true }))]);
        let everything = format!("{:?}{:?}", out.files, out.placed);
        assert!(!everything.contains(planted) && !everything.contains(b64), "{everything}");
        let names: Vec<&str> = out.variables.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names, ["DB_PASSWORD", "DB_TOKEN", "FROZEN_PASSWORD", "FROZEN_TOKEN"]);
        // Names that read alike never share a variable.
        let alike = |name: &str, key: &str| json!({ "apiVersion": "v1", "kind": "Secret", "metadata": { "name": name, "namespace": "apps" }, "data": { key: "eA==" } });
        let alike_out = run(vec![alike("a-b", "c"), alike("a", "b-c")]);
        let names: std::collections::BTreeSet<&str> = alike_out.variables.iter().map(|v| v.name.as_str()).collect();
        assert_eq!(names.len(), 2, "{:?}", alike_out.variables);
        assert!(
            out.files.get("apps.cairn").is_some_and(|f| f.contains("base64encode(sensitive(env(\"FROZEN_PASSWORD\")))")),
            "{:?}",
            out.files
        );
    }
}
