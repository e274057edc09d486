//! `cairn graph`: the dependency graph as Graphviz dot, Mermaid or JSON.

use std::fmt::Write;
use std::path::Path;

use cairn_compiler::schema::Kind;
use cairn_compiler::{Compilation, Mode};
use petgraph::visit::EdgeRef;
use serde_json::json;

use crate::output::Output;
use crate::GraphFormat;

/// Runs `graph`; true when the stack has no errors.
pub fn run(out: &Output, dir: &Path, format: GraphFormat) -> bool {
    let Some(c) = super::compile_dir(out, dir, Mode::Check) else { return false };
    out.diagnostics(&c.program.sources, &c.diagnostics, &c.secret_spans);
    if c.has_errors() {
        return false;
    }
    let text = match format {
        GraphFormat::Dot => dot(&c),
        GraphFormat::Mermaid => mermaid(&c),
        GraphFormat::Json => graph_json(&c),
    };
    out.stdout(&text);
    true
}

/// Edges as (from, to, reason), sorted. Existing resources are nodes after the objects
/// (`objects.len() + i`), with an edge to the first object of each resource that uses them
/// and, for an existing namespace, to every object in it.
fn edges(c: &Compilation) -> Vec<(usize, usize, &'static str)> {
    let mut v: Vec<_> =
        c.graph.graph.edge_references().map(|e| (e.source().index(), e.target().index(), e.weight().reason.as_str())).collect();
    for (j, e) in c.existing.iter().enumerate() {
        let node = c.objects.len().saturating_add(j);
        for u in &e.uses {
            if let Some(i) = main_object(c, &u.by) {
                v.push((node, i, "existing"));
            }
        }
        if e.address.kind == Kind::Namespace {
            for (i, o) in c.objects.iter().enumerate() {
                if o.namespace.as_deref() == Some(e.address.name.as_str()) {
                    v.push((node, i, "namespace"));
                }
            }
        }
    }
    v.sort();
    v.dedup();
    v
}

/// The object a resource is about: its workload controller, claim, Ingress… rather than the
/// Service or autoscaler lowered beside it.
fn main_object(c: &Compilation, address: &cairn_compiler::value::Address) -> Option<usize> {
    const BESIDE: [&str; 4] = ["Service", "HorizontalPodAutoscaler", "PodDisruptionBudget", "PersistentVolumeClaim"];
    let of = || c.objects.iter().enumerate().filter(|(_, o)| &o.address == address);
    of().find(|(_, o)| !BESIDE.contains(&o.kind.as_str())).or_else(|| of().next()).map(|(i, _)| i)
}

fn dot(c: &Compilation) -> String {
    let mut s = String::from("digraph cairn {\n  rankdir=LR;\n  node [shape=box];\n");
    for (i, o) in c.objects.iter().enumerate() {
        let _ = writeln!(s, "  n{i} [label=\"{}\\n{}\"];", esc(&o.id()), esc(&o.address.to_string()));
    }
    for (j, e) in c.existing.iter().enumerate() {
        let i = c.objects.len().saturating_add(j);
        let _ = writeln!(s, "  n{i} [label=\"{}\\n{} (existing)\", style=dashed];", esc(&e.key.id()), esc(&e.address.to_string()));
    }
    for (a, b, r) in edges(c) {
        let _ = writeln!(s, "  n{a} -> n{b} [label=\"{r}\"];");
    }
    s.push_str("}\n");
    s
}

fn esc(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}

fn mermaid(c: &Compilation) -> String {
    let mut s = String::from("graph LR\n");
    for (i, o) in c.objects.iter().enumerate() {
        let label = format!("{}<br/>{}", o.id(), o.address).replace('"', "#quot;");
        let _ = writeln!(s, "  n{i}[\"{label}\"]");
    }
    for (j, e) in c.existing.iter().enumerate() {
        let label = format!("{}<br/>{} (existing)", e.key.id(), e.address).replace('"', "#quot;");
        let _ = writeln!(s, "  n{}[/\"{label}\"/]", c.objects.len().saturating_add(j));
    }
    for (a, b, r) in edges(c) {
        let _ = writeln!(s, "  n{a} -->|{r}| n{b}");
    }
    s
}

fn graph_json(c: &Compilation) -> String {
    let mut nodes: Vec<_> = c
        .objects
        .iter()
        .map(|o| json!({ "id": o.id(), "address": o.address.to_string(), "apiVersion": o.api_version, "kind": o.kind, "namespace": o.namespace, "name": o.name }))
        .collect();
    nodes.extend(c.existing.iter().map(|e| {
        json!({ "id": e.key.id(), "address": e.address.to_string(), "apiVersion": e.key.api_version, "kind": e.key.kind, "namespace": e.key.namespace, "name": e.key.name, "external": true })
    }));
    let ids: Vec<String> = c.objects.iter().map(|o| o.id()).chain(c.existing.iter().map(|e| e.key.id())).collect();
    let edges: Vec<_> = edges(c).into_iter().map(|(a, b, r)| json!({ "from": ids.get(a), "to": ids.get(b), "reason": r })).collect();
    let mut s = serde_json::to_string_pretty(&json!({ "nodes": nodes, "edges": edges })).unwrap_or_default();
    s.push('\n');
    s
}
