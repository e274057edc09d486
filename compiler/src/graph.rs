//! The dependency graph (DESIGN.md §2 step 6). Nodes are desired objects; an edge `a → b`
//! means `a` is applied before `b`. Edges come from references (with the span that made them),
//! `depends_on`, and implicit rules: a namespace before its objects, a namespace's quota and
//! limits before its workloads, a CRD before objects of its kind, a workload's claims and
//! headless Service before the workload and its autoscaler and disruption budget after it. Cycles among resources are diagnostics naming the
//! whole cycle. [`DepGraph::order`] is the deterministic apply order of LANGUAGE.md §8.

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap, HashSet};

use cairn_core::kinds::kind_rank;
use cairn_lang::{Diagnostic, Span};
use petgraph::algo::tarjan_scc;
use petgraph::graph::{DiGraph, NodeIndex};

use crate::eval::Resource;
use crate::lower::Object;
use crate::value::Address;

/// Why one object comes before another.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum EdgeReason {
    /// A reference in the dependent's source.
    Reference,
    /// `depends_on`.
    DependsOn,
    /// A namespace comes before the objects in it.
    Namespace,
    /// A namespace's ResourceQuota and LimitRange come before its workloads.
    Admission,
    /// A CustomResourceDefinition comes before objects of its kind.
    Crd,
    /// Objects lowered from one resource: claims and headless Services before the workload,
    /// its HorizontalPodAutoscaler and PodDisruptionBudget after it.
    Resource,
}

impl EdgeReason {
    /// The reason as shown in `cairn graph` output.
    pub fn as_str(self) -> &'static str {
        match self {
            EdgeReason::Reference => "reference",
            EdgeReason::DependsOn => "depends_on",
            EdgeReason::Namespace => "namespace",
            EdgeReason::Admission => "admission",
            EdgeReason::Crd => "crd",
            EdgeReason::Resource => "resource",
        }
    }
}

/// An edge and, for references, where the reference is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Edge {
    pub reason: EdgeReason,
    pub span: Option<Span>,
}

/// The object graph; node `i` is object `i` of the compilation.
#[derive(Debug, Default)]
pub struct DepGraph {
    pub graph: DiGraph<usize, Edge>,
    /// Object indices in apply order.
    pub order: Vec<usize>,
}

/// Reports cycles among resources: one diagnostic per strongly connected component.
pub fn resource_cycles(resources: &[Resource]) -> Vec<Diagnostic> {
    let index: HashMap<&Address, usize> = resources.iter().enumerate().map(|(i, r)| (&r.addr, i)).collect();
    let mut g: DiGraph<usize, Span> = DiGraph::new();
    let nodes: Vec<NodeIndex> = (0..resources.len()).map(|i| g.add_node(i)).collect();
    for (i, r) in resources.iter().enumerate() {
        for d in &r.deps {
            let Some(&j) = index.get(&d.target) else { continue };
            if let (Some(&from), Some(&to)) = (nodes.get(i), nodes.get(j)) {
                g.add_edge(from, to, d.span);
            }
        }
    }
    let mut diags = Vec::new();
    let mut sccs = tarjan_scc(&g);
    sccs.sort_by_key(|c| c.iter().map(|n| n.index()).min());
    for scc in sccs {
        let self_loop = scc.len() == 1 && scc.first().is_some_and(|n| g.find_edge(*n, *n).is_some());
        if scc.len() < 2 && !self_loop {
            continue;
        }
        let members: HashSet<NodeIndex> = scc.iter().copied().collect();
        let Some(&start) = scc.iter().min_by_key(|n| resources.get(n.index()).map(|r| r.addr.to_string())) else { continue };
        let path = cycle_from(&g, start, &members);
        let names: Vec<String> =
            path.iter().map(|(n, _)| resources.get(n.index()).map_or_else(String::new, |r| r.addr.to_string())).collect();
        let mut chain = names.clone();
        if let Some(first) = names.first() {
            chain.push(first.clone());
        }
        let Some((first_node, Some(first_span))) = path.first().map(|(n, s)| (*n, *s)) else { continue };
        // An entry of `depends_on` "depends on" its target; anything else "references" it.
        let verb = |n: NodeIndex, span: Span| {
            let dep = resources.get(n.index()).and_then(|r| r.body.attr("depends_on")).map(|a| a.span);
            if dep.is_some_and(|d| d.file == span.file && d.start <= span.start && span.end <= d.end) {
                "depends on"
            } else {
                "references"
            }
        };
        let mut d = Diagnostic::error("E0501", first_span, format!("dependency cycle: {}", chain.join(" → ")))
            .with_primary(format!(
                "{} {} {}",
                chain.first().cloned().unwrap_or_default(),
                verb(first_node, first_span),
                chain.get(1).cloned().unwrap_or_default()
            ))
            .with_help("objects in a cycle cannot be ordered: remove one of these references or `depends_on` entries");
        for (k, (n, span)) in path.iter().enumerate().skip(1) {
            if let Some(span) = span {
                d = d.with_label(
                    *span,
                    format!(
                        "{} {} {}",
                        chain.get(k).cloned().unwrap_or_default(),
                        verb(*n, *span),
                        chain.get(k.saturating_add(1)).cloned().unwrap_or_default()
                    ),
                );
            }
        }
        diags.push(d);
    }
    diags
}

/// A cycle through `start` inside `members`: each node with the span of its edge to the next.
fn cycle_from(g: &DiGraph<usize, Span>, start: NodeIndex, members: &HashSet<NodeIndex>) -> Vec<(NodeIndex, Option<Span>)> {
    // Breadth-first search from start's successors back to start gives a shortest cycle.
    let mut prev: HashMap<NodeIndex, (NodeIndex, Span)> = HashMap::new();
    let mut queue = std::collections::VecDeque::new();
    let mut edges: Vec<_> = g.edges(start).map(|e| (petgraph::visit::EdgeRef::target(&e), *e.weight())).collect();
    edges.sort_by_key(|(n, s)| (n.index(), s.start));
    for (n, span) in edges {
        if !members.contains(&n) || prev.contains_key(&n) {
            continue;
        }
        prev.insert(n, (start, span));
        queue.push_back(n);
    }
    while let Some(n) = queue.pop_front() {
        if n == start {
            break;
        }
        let mut next: Vec<_> = g.edges(n).map(|e| (petgraph::visit::EdgeRef::target(&e), *e.weight())).collect();
        next.sort_by_key(|(m, s)| (m.index(), s.start));
        for (m, span) in next {
            if members.contains(&m) && !prev.contains_key(&m) {
                prev.insert(m, (n, span));
                queue.push_back(m);
            }
        }
    }
    // Walk back from start.
    let mut rev: Vec<(NodeIndex, Span)> = Vec::new();
    let mut cur = start;
    let mut guard = 0usize;
    while let Some(&(p, span)) = prev.get(&cur) {
        rev.push((p, span));
        cur = p;
        guard = guard.saturating_add(1);
        if cur == start || guard > members.len() {
            break;
        }
    }
    rev.reverse();
    rev.into_iter().map(|(n, s)| (n, Some(s))).collect()
}

/// Builds the object graph and the apply order.
pub fn build(resources: &[Resource], objects: &[Object]) -> DepGraph {
    let mut g: DiGraph<usize, Edge> = DiGraph::with_capacity(objects.len(), objects.len().saturating_mul(2));
    let nodes: Vec<NodeIndex> = (0..objects.len()).map(|i| g.add_node(i)).collect();
    let mut by_addr: BTreeMap<&Address, Vec<usize>> = BTreeMap::new();
    for (i, o) in objects.iter().enumerate() {
        by_addr.entry(&o.address).or_default().push(i);
    }
    let mut seen: HashSet<(usize, usize)> = HashSet::new();
    let mut add = |g: &mut DiGraph<usize, Edge>, from: usize, to: usize, edge: Edge| {
        if from != to && seen.insert((from, to)) {
            if let (Some(&a), Some(&b)) = (nodes.get(from), nodes.get(to)) {
                g.add_edge(a, b, edge);
            }
        }
    };
    for r in resources {
        let Some(mine) = by_addr.get(&r.addr) else { continue };
        let dep_span = r.body.attr("depends_on").map(|a| a.span);
        for d in &r.deps {
            let Some(theirs) = by_addr.get(&d.target) else { continue };
            let reason = if dep_span.is_some_and(|s| s.file == d.span.file && s.start <= d.span.start && d.span.end <= s.end) {
                EdgeReason::DependsOn
            } else {
                EdgeReason::Reference
            };
            for &a in theirs {
                for &b in mine {
                    add(&mut g, a, b, Edge { reason, span: Some(d.span) });
                }
            }
        }
        // Within a resource: claims and the headless Service before the workload itself, its
        // autoscaler and disruption budget after it.
        let workload = mine.iter().copied().find(|&i| {
            objects.get(i).is_some_and(|o| matches!(o.kind.as_str(), "Deployment" | "StatefulSet" | "DaemonSet" | "Job" | "CronJob"))
        });
        if let Some(w) = workload {
            for &i in mine {
                let Some(o) = objects.get(i) else { continue };
                if o.kind == "PersistentVolumeClaim" || (o.kind == "Service" && o.name.ends_with("-hl")) {
                    add(&mut g, i, w, Edge { reason: EdgeReason::Resource, span: None });
                } else if matches!(o.kind.as_str(), "HorizontalPodAutoscaler" | "PodDisruptionBudget") {
                    add(&mut g, w, i, Edge { reason: EdgeReason::Resource, span: None });
                }
            }
        }
    }
    let mut namespaces: HashMap<&str, usize> = HashMap::new();
    let mut admission: HashMap<&str, Vec<usize>> = HashMap::new();
    let mut crds: HashMap<(String, String), usize> = HashMap::new();
    for (i, o) in objects.iter().enumerate() {
        match o.kind.as_str() {
            "Namespace" if o.api_version == "v1" => {
                namespaces.insert(o.name.as_str(), i);
            }
            "ResourceQuota" | "LimitRange" => {
                if let Some(ns) = &o.namespace {
                    admission.entry(ns.as_str()).or_default().push(i);
                }
            }
            "CustomResourceDefinition" => {
                let spec = o.body.get("spec");
                let group = spec.and_then(|s| s.get("group")).and_then(|v| v.as_str()).unwrap_or_default();
                let kind = spec.and_then(|s| s.pointer("/names/kind")).and_then(|v| v.as_str()).unwrap_or_default();
                crds.insert((group.to_string(), kind.to_string()), i);
            }
            _ => {}
        }
    }
    for (i, o) in objects.iter().enumerate() {
        if let Some(ns) = &o.namespace {
            if let Some(&n) = namespaces.get(ns.as_str()) {
                add(&mut g, n, i, Edge { reason: EdgeReason::Namespace, span: None });
            }
            if matches!(o.kind.as_str(), "Deployment" | "StatefulSet") {
                for &a in admission.get(ns.as_str()).map(Vec::as_slice).unwrap_or(&[]) {
                    add(&mut g, a, i, Edge { reason: EdgeReason::Admission, span: None });
                }
            }
        }
        if let Some(&c) = crds.get(&(o.group().to_string(), o.kind.clone())) {
            add(&mut g, c, i, Edge { reason: EdgeReason::Crd, span: None });
        }
    }
    let order = topo_order(&g, objects);
    DepGraph { graph: g, order }
}

/// Kahn's algorithm; among ready objects the least by (kind rank, namespace, name) goes first.
/// Objects left in a cycle follow in the same order (the cycle is reported separately).
fn topo_order(g: &DiGraph<usize, Edge>, objects: &[Object]) -> Vec<usize> {
    let key = |i: usize| {
        let o = objects.get(i);
        (
            o.map_or(u8::MAX, |o| kind_rank(&o.kind)),
            o.and_then(|o| o.namespace.clone()).unwrap_or_default(),
            o.map(|o| o.name.clone()).unwrap_or_default(),
            o.map(|o| o.kind.clone()).unwrap_or_default(),
            i,
        )
    };
    let mut indegree: Vec<usize> = g.node_indices().map(|n| g.neighbors_directed(n, petgraph::Direction::Incoming).count()).collect();
    let mut heap = BinaryHeap::new();
    for (i, d) in indegree.iter().enumerate() {
        if *d == 0 {
            heap.push(Reverse(key(i)));
        }
    }
    let mut order = Vec::with_capacity(objects.len());
    let mut done = vec![false; objects.len()];
    while let Some(Reverse(k)) = heap.pop() {
        let i = k.4;
        order.push(i);
        if let Some(d) = done.get_mut(i) {
            *d = true;
        }
        for m in g.neighbors_directed(NodeIndex::new(i), petgraph::Direction::Outgoing) {
            if let Some(d) = indegree.get_mut(m.index()) {
                *d = d.saturating_sub(1);
                if *d == 0 {
                    heap.push(Reverse(key(m.index())));
                }
            }
        }
    }
    if order.len() < objects.len() {
        let mut rest: Vec<usize> = (0..objects.len()).filter(|i| !done.get(*i).copied().unwrap_or(true)).collect();
        rest.sort_by_key(|i| key(*i));
        order.extend(rest);
    }
    order
}
