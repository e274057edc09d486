//! The whole pipeline in one call: load, evaluate, check, lower, graph.

use std::path::Path;

use cairn_lang::{Diagnostic, Span};

use crate::check::{self, Facts};
use crate::eval::{self, Mode, Resource};
use crate::graph::{self, DepGraph};
use crate::loader::{Environment, SourceLoader};
use crate::lower::{self, Object};
use crate::program::{self, ParseCache, Program, StackError};
use crate::render;

/// Everything a compilation produces. Objects are in apply order and node `i` of the graph is
/// object `i`.
#[derive(Debug)]
pub struct Compilation {
    pub program: Program,
    pub facts: Facts,
    pub resources: Vec<Resource>,
    pub objects: Vec<Object>,
    pub graph: DepGraph,
    /// The resources the stack uses but does not manage (`existing = true`): no objects, read
    /// and checked at plan time.
    pub existing: Vec<crate::existing::Existing>,
    /// Every diagnostic, sorted by file, position and code.
    pub diagnostics: Vec<Diagnostic>,
    /// Where secrets are written in the sources; printers of source text mask them.
    pub secret_spans: Vec<Span>,
}

/// Compiles the stack in `dir`.
pub fn compile(loader: &dyn SourceLoader, env: &dyn Environment, dir: &Path, mode: Mode) -> Result<Compilation, StackError> {
    let program = program::load(loader, dir)?;
    finish(program, loader, env, mode)
}

/// [`compile`], reusing the parses of `cache` for the files whose text did not change since
/// its last load (see [`program::load_with`]).
pub fn compile_with(
    loader: &dyn SourceLoader,
    env: &dyn Environment,
    dir: &Path,
    mode: Mode,
    cache: &mut ParseCache,
) -> Result<Compilation, StackError> {
    let program = program::load_with(loader, dir, cache)?;
    finish(program, loader, env, mode)
}

/// Everything after loading: evaluate, check, lower, graph.
fn finish(program: Program, loader: &dyn SourceLoader, env: &dyn Environment, mode: Mode) -> Result<Compilation, StackError> {
    let mut diagnostics = program.diagnostics.clone();
    let evaluated = eval::evaluate(&program, loader, env, mode);
    diagnostics.extend(evaluated.diagnostics);
    let resources = evaluated.resources;
    let (facts, d) = check::check(&resources, &program.root_dir);
    diagnostics.extend(d);
    let existing = crate::existing::existing(&resources, &facts);
    let (objects, d) = lower::lower(&resources, &facts);
    diagnostics.extend(d);
    diagnostics.extend(graph::resource_cycles(&resources));
    let g = graph::build(&resources, &objects);
    let (objects, graph) = reorder(objects, g);
    diagnostics.extend(duplicate_objects(&objects, &resources));
    sort_diagnostics(&program, &mut diagnostics);
    let secret_spans = crate::secrets::literal_secret_spans(&program.files);
    Ok(Compilation { program, facts, resources, objects, graph, existing, diagnostics, secret_spans })
}

impl Compilation {
    /// Whether any diagnostic is an error.
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }

    /// The objects as a YAML stream (LANGUAGE.md §8).
    pub fn render(&self, reveal_secrets: bool) -> String {
        render::stream(&self.objects, reveal_secrets)
    }
}

/// Puts objects in apply order and renumbers the graph to match.
fn reorder(objects: Vec<Object>, g: DepGraph) -> (Vec<Object>, DepGraph) {
    let mut new_index = vec![0usize; objects.len()];
    for (pos, &old) in g.order.iter().enumerate() {
        if let Some(slot) = new_index.get_mut(old) {
            *slot = pos;
        }
    }
    let mut slots: Vec<Option<Object>> = objects.into_iter().map(Some).collect();
    let ordered: Vec<Object> = g.order.iter().filter_map(|&i| slots.get_mut(i).and_then(Option::take)).collect();
    let mut graph = petgraph::graph::DiGraph::with_capacity(ordered.len(), g.graph.edge_count());
    for i in 0..ordered.len() {
        graph.add_node(i);
    }
    let mut edges: Vec<(usize, usize, graph::Edge)> = g
        .graph
        .edge_indices()
        .filter_map(|e| {
            let (a, b) = g.graph.edge_endpoints(e)?;
            let w = *g.graph.edge_weight(e)?;
            Some((*new_index.get(a.index())?, *new_index.get(b.index())?, w))
        })
        .collect();
    edges.sort_by_key(|(a, b, _)| (*a, *b));
    for (a, b, w) in edges {
        graph.add_edge(petgraph::graph::NodeIndex::new(a), petgraph::graph::NodeIndex::new(b), w);
    }
    let order = (0..ordered.len()).collect();
    (ordered, DepGraph { graph, order })
}

/// Two resources that lower to the same Kubernetes object (a workload `web` and a manifest
/// declaring Service `web`, say) would overwrite each other.
fn duplicate_objects(objects: &[Object], resources: &[Resource]) -> Vec<Diagnostic> {
    let mut seen: std::collections::HashMap<String, &Object> = std::collections::HashMap::new();
    let mut out = Vec::new();
    for o in objects {
        let id = o.id();
        match seen.get(&id) {
            Some(first) => {
                let span_of =
                    |addr: &crate::value::Address| resources.iter().find(|r| &r.addr == addr).map(|r| r.label_span).unwrap_or_default();
                out.push(
                    Diagnostic::error("E0203", span_of(&o.address), format!("`{}` and `{}` both produce {id}", first.address, o.address))
                        .with_label(span_of(&first.address), "also produced here")
                        .with_help("rename one of them: one Kubernetes object can have one owner"),
                );
            }
            None => {
                seen.insert(id, o);
            }
        }
    }
    out
}

/// Sorts by file (display path), then position, then code; drops exact repeats.
fn sort_diagnostics(program: &Program, diags: &mut Vec<Diagnostic>) {
    diags.sort_by(|a, b| {
        let fa = program.sources.display(a.span.file);
        let fb = program.sources.display(b.span.file);
        (fa, a.span.start, a.code, &a.message).cmp(&(fb, b.span.start, b.code, &b.message))
    });
    diags.dedup_by(|a, b| a.code == b.code && a.span == b.span && a.message == b.message && a.labels.len() == b.labels.len());
}
