//! The proof of a round: compile the candidate blocks, lower them, and compare every object
//! they make with the object each stands for — both through the API server's defaulting, with
//! keyed lists matched by key and secret values left out. A block that does not compile, makes
//! an object that differs, or makes one nobody asked for, is a mismatch: its objects become
//! `manifest`s in the next round.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use serde_json::Value as Json;

use super::clean::{CAIRN_ANNOTATION, CAIRN_LABELS};
use super::kinds::{Cx, Existing};
use super::{Candidate, Defaults, Input};
use crate::loader::{MapEnv, MemoryLoader};

/// What a round's check found.
pub(crate) struct Verdict {
    /// Input index → why its block is not exact.
    pub mismatches: Vec<(usize, String)>,
    /// Errors no fallback mends.
    pub problems: Vec<String>,
}

/// Where the generated stack lives in memory.
const ROOT: &str = "/cairn-import";

/// The stack's files as the round writes them (unformatted), and each candidate's place.
/// Where a candidate's text is: file, start and end offsets.
type Place = (String, usize, usize);

pub(crate) fn files<'e>(
    stack: &str,
    candidates: &[Candidate],
    existing: impl IntoIterator<Item = &'e Existing>,
) -> (BTreeMap<String, String>, Vec<Place>) {
    let mut files: BTreeMap<String, String> = BTreeMap::new();
    files.insert("cluster.cairn".into(), format!("stack {} {{}}\n", super::text::string(stack)));
    for e in existing {
        let f = files.entry(e.file.clone()).or_default();
        f.push_str(&e.text);
        f.push_str("\n\n");
    }
    let mut places = Vec::new();
    for c in candidates {
        let f = files.entry(c.file.clone()).or_default();
        let start = f.len();
        f.push_str(&c.text);
        places.push((c.file.clone(), start, f.len()));
        f.push_str("\n\n");
    }
    (files, places)
}

/// Compiles the round's blocks and compares what they make with the inputs.
pub(crate) fn verify(inputs: &[Input], candidates: &[Candidate], cx: &Cx<'_>, defaults: &dyn Defaults) -> Verdict {
    let mut verdict = Verdict { mismatches: Vec::new(), problems: Vec::new() };
    let (files, places) = files(cx.stack, candidates, cx.existing_blocks());
    let mut loader = MemoryLoader::new();
    for (name, text) in &files {
        loader.insert(Path::new(ROOT).join(name), text.clone());
    }
    let env = MapEnv(cx.variable_names().into_iter().map(|v| (v, "x".to_string())).collect());
    let compiled = match crate::compile(&loader, &env, Path::new(ROOT), crate::Mode::Render) {
        Ok(c) => c,
        Err(e) => {
            verdict.problems.push(format!("the imported stack could not be loaded: {e}"));
            return verdict;
        }
    };
    let mut bad: BTreeSet<usize> = BTreeSet::new();
    let mismatch = |verdict: &mut Verdict, bad: &mut BTreeSet<usize>, c: &Candidate, why: String| {
        if c.manifest.is_some() {
            // A manifest is the object itself: if even it differs, no fallback is left.
            verdict.problems.push(format!("{}: {why}", c.address));
            return;
        }
        if bad.insert(candidates.iter().position(|x| std::ptr::eq(x, c)).unwrap_or(usize::MAX)) {
            for &i in &c.claims {
                verdict.mismatches.push((i, why.clone()));
            }
        }
    };
    for d in compiled.diagnostics.iter().filter(|d| d.is_error()) {
        let file = compiled.program.sources.display(d.span.file).to_string();
        let start = d.span.start as usize;
        let at = places.iter().position(|(f, s, e)| *f == file && *s <= start && start < *e);
        match at.and_then(|p| candidates.get(p)) {
            Some(c) if c.manifest.is_none() => mismatch(&mut verdict, &mut bad, c, format!("cairn reports {}: {}", d.code, d.message)),
            _ => verdict.problems.push(format!("{file}: {}: {}", d.code, d.message)),
        }
    }
    if !verdict.mismatches.is_empty() || !verdict.problems.is_empty() {
        return verdict;
    }

    let mut made: BTreeMap<String, Vec<&crate::lower::Object>> = BTreeMap::new();
    for o in &compiled.objects {
        made.entry(o.address.to_string()).or_default().push(o);
    }
    let autoscaled: BTreeSet<String> = compiled
        .objects
        .iter()
        .filter(|o| o.kind == "HorizontalPodAutoscaler")
        .filter_map(|o| {
            let kind = o.body.pointer("/spec/scaleTargetRef/kind")?.as_str()?;
            let name = o.body.pointer("/spec/scaleTargetRef/name")?.as_str()?;
            Some(format!("{kind}/{}/{name}", o.namespace.as_deref().unwrap_or_default()))
        })
        .collect();
    let mut accounted: BTreeSet<String> = BTreeSet::new();
    for c in candidates {
        let objects = made.get(&c.address).cloned().unwrap_or_default();
        let claimed: BTreeSet<&str> = c.claims.iter().filter_map(|&i| inputs.get(i)).map(|i| i.id.as_str()).collect();
        accounted.insert(c.address.clone());
        if let Some(extra) = objects.iter().find(|o| !claimed.contains(o.id().as_str())) {
            mismatch(&mut verdict, &mut bad, c, format!("cairn would also make {}", extra.id()));
            continue;
        }
        for &i in &c.claims {
            let Some(input) = inputs.get(i) else { continue };
            let Some(o) = objects.iter().find(|o| o.id() == input.id) else {
                mismatch(&mut verdict, &mut bad, c, format!("the block would not make {}", input.id));
                break;
            };
            let scaled = autoscaled.contains(&input.id);
            let want = normal(&input.obj, &input.api_version, &input.kind, scaled, defaults);
            let got = normal(&o.body, &input.api_version, &input.kind, scaled, defaults);
            if let Some(diff) = difference(&want, &got, "") {
                if c.manifest.is_some() {
                    verdict.problems.push(format!("{}: the manifest does not give the object back ({diff})", input.id));
                } else {
                    mismatch(&mut verdict, &mut bad, c, format!("{} would differ: {diff}", input.id));
                }
                break;
            }
        }
    }
    for (address, objects) in &made {
        if accounted.contains(address) {
            continue;
        }
        let ids: Vec<String> = objects.iter().map(|o| o.id()).collect();
        // Made by an `existing` block's users (a bucket class for an existing store, say):
        // the blocks that name it are not exact.
        let users: Vec<&Candidate> = candidates.iter().filter(|c| c.manifest.is_none() && mentions(&c.text, address)).collect();
        if users.is_empty() {
            verdict.problems.push(format!("{address} makes {} that no imported object asked for", ids.join(", ")));
        }
        for c in users {
            mismatch(&mut verdict, &mut bad, c, format!("cairn would also make {}", ids.join(", ")));
        }
    }
    verdict
}

/// Whether block text refers to `address` (`object_store.media` or `object_store["media"]`).
fn mentions(text: &str, address: &str) -> bool {
    let Some((kind, name)) = address.split_once('.') else { return false };
    text.contains(&super::text::reference(kind, name))
}

/// An object as compared: without cairn's own labels and annotation, secret values, and (for
/// an autoscaled workload) replicas; defaulted; keyed lists sorted by key.
fn normal(obj: &Json, api_version: &str, kind: &str, autoscaled: bool, defaults: &dyn Defaults) -> Json {
    let mut o = obj.clone();
    if let Some(Json::Object(meta)) = o.get_mut("metadata") {
        if let Some(Json::Object(l)) = meta.get_mut("labels") {
            l.retain(|k, _| !CAIRN_LABELS.contains(&k.as_str()));
            if l.is_empty() {
                meta.remove("labels");
            }
        }
        if let Some(Json::Object(a)) = meta.get_mut("annotations") {
            a.remove(CAIRN_ANNOTATION);
            if a.is_empty() {
                meta.remove("annotations");
            }
        }
    }
    if kind == "Secret" {
        if let Some(Json::Object(d)) = o.get_mut("data") {
            for v in d.values_mut() {
                *v = Json::String(String::new());
            }
        }
    }
    if autoscaled {
        if let Some(Json::Object(spec)) = o.get_mut("spec") {
            spec.remove("replicas");
        }
    }
    defaults.apply(api_version, kind, &mut o);
    sort_keyed(&mut o, api_version, kind, "");
    o
}

/// Sorts every keyed list (containers by name, ports by containerPort, …) by its key.
fn sort_keyed(v: &mut Json, api_version: &str, kind: &str, path: &str) {
    match v {
        Json::Object(m) => {
            for (k, child) in m.iter_mut() {
                let p = if path.is_empty() { k.clone() } else { format!("{path}.{k}") };
                sort_keyed(child, api_version, kind, &p);
            }
        }
        Json::Array(items) => {
            for item in items.iter_mut() {
                sort_keyed(item, api_version, kind, path);
            }
            // Env too: its order matters only to `$(VAR)` references, and a workload whose env
            // has them out of name order is never a block (`workload.rs`).
            if let Some(key) = cairn_core::merge_keys::merge_key(api_version, kind, path) {
                items.sort_by_key(|i| i.get(key).map(|k| k.to_string()).unwrap_or_default());
            }
        }
        _ => {}
    }
}

/// The first place where `want` (the input) and `got` (what cairn makes) differ, described.
fn difference(want: &Json, got: &Json, at: &str) -> Option<String> {
    match (want, got) {
        (Json::Object(a), Json::Object(b)) => {
            let keys: BTreeSet<&String> = a.keys().chain(b.keys()).collect();
            for k in keys {
                let p = if at.is_empty() { k.clone() } else { format!("{at}.{k}") };
                match (a.get(k), b.get(k)) {
                    (Some(x), Some(y)) => {
                        if let Some(d) = difference(x, y, &p) {
                            return Some(d);
                        }
                    }
                    (Some(_), None) => return Some(format!("`{p}` has no cairn attribute")),
                    (None, Some(_)) => return Some(format!("cairn would set `{p}`")),
                    (None, None) => {}
                }
            }
            None
        }
        (Json::Array(a), Json::Array(b)) => {
            if a.len() != b.len() {
                return Some(format!("`{at}` would have {} items instead of {}", b.len(), a.len()));
            }
            a.iter().zip(b).enumerate().find_map(|(i, (x, y))| difference(x, y, &format!("{at}[{i}]")))
        }
        (x, y) if x == y => None,
        (x, y) => {
            // Quantities compare by value.
            if let (Json::String(_), Json::String(_), Ok(p), Ok(q)) =
                (x, y, cairn_core::Quantity::from_json(x), cairn_core::Quantity::from_json(y))
            {
                if p == q {
                    return None;
                }
            }
            Some(format!("`{at}` would be {} instead of {}", short(y), short(x)))
        }
    }
}

/// A value for a message, cut short.
fn short(v: &Json) -> String {
    let s = v.to_string();
    if s.chars().count() > 60 {
        format!("{}…", s.chars().take(60).collect::<String>())
    } else {
        s
    }
}
