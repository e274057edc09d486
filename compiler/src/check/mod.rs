//! Checks evaluated resources against the block schemas ([`types`]) and the domain rules of
//! LANGUAGE.md §7 ([`rules`], [`quota`]), and works out the stack-wide facts lowering needs:
//! the stack's name and which cluster (and Ceph mode) each resource belongs to.

mod pods;
mod quota;
mod routes;
mod rules;
mod scaling;
mod storage;
mod types;

pub use cairn_stdlib::policy::image_tag_problem;
pub use rules::workload_kind;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;

use cairn_lang::{Diagnostic, Span};

use crate::access::{name_of, str_of};
use crate::eval::Resource;
use crate::schema::Kind;
use cairn_core::names;

/// How a cluster's pools are managed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CephMode {
    Rook,
    Direct,
}

/// What lowering needs to know about a cluster.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ClusterInfo {
    pub name: String,
    pub mode: CephMode,
    pub rook_namespace: String,
    pub fsid: Option<String>,
}

impl ClusterInfo {
    /// The cluster a stack without `cluster` blocks targets: the current context, Rook mode.
    pub fn implicit() -> ClusterInfo {
        ClusterInfo { name: "default".into(), mode: CephMode::Rook, rook_namespace: "rook-ceph".into(), fsid: None }
    }
}

/// Stack-wide facts established by the checker.
#[derive(Clone, Debug, Default)]
pub struct Facts {
    /// The stack's name, when valid.
    pub stack: Option<String>,
    pub clusters: BTreeMap<String, ClusterInfo>,
    /// The cluster of each resource, by index into the resources.
    pub cluster_of: Vec<Option<ClusterInfo>>,
}

/// Checks every resource; returns the facts and the diagnostics.
pub fn check(resources: &[Resource], root_dir: &Path) -> (Facts, Vec<Diagnostic>) {
    let mut index = HashMap::with_capacity(resources.len());
    for (i, r) in resources.iter().enumerate() {
        index.entry((r.addr.kind, r.addr.name.as_str())).or_insert(i);
    }
    let mut cx = Checker { resources, index, diags: Vec::new() };
    for res in resources {
        types::check_resource(&mut cx, res);
    }
    let stack = cx.stack_name(root_dir);
    let clusters = cx.clusters();
    let cluster_of = cx.resolve_clusters(&clusters);
    let facts = Facts { stack, clusters, cluster_of };
    rules::check_rules(&mut cx, &facts);
    storage::check_storage(&mut cx, &facts);
    routes::check_routes(&mut cx);
    quota::check_quotas(&mut cx);
    (facts, cx.diags)
}

pub(crate) struct Checker<'a> {
    resources: &'a [Resource],
    /// The first resource of each address, so `find` does not scan all of them per lookup.
    index: HashMap<(Kind, &'a str), usize>,
    diags: Vec<Diagnostic>,
}

impl<'a> Checker<'a> {
    /// Reports a diagnostic about `res`, with labels on the template instances that made it.
    fn report(&mut self, res: &Resource, d: Diagnostic) {
        self.diags.push(crate::eval::with_instance_labels(d, &res.via));
    }

    fn of_kind(&self, kind: Kind) -> impl Iterator<Item = (usize, &'a Resource)> + 'a {
        self.resources.iter().enumerate().filter(move |(_, r)| r.addr.kind == kind)
    }

    fn find(&self, kind: Kind, name: &str) -> Option<&'a Resource> {
        self.index.get(&(kind, name)).and_then(|&i| self.resources.get(i))
    }

    /// The stack's name: the `stack` block's label, else the directory's name.
    fn stack_name(&mut self, root_dir: &Path) -> Option<String> {
        let stacks: Vec<&Resource> = self.of_kind(Kind::Stack).map(|(_, r)| r).collect();
        if let Some((first, rest)) = stacks.split_first() {
            for extra in rest {
                self.report(
                    extra,
                    Diagnostic::error("E0203", extra.label_span, "a stack has at most one `stack` block")
                        .with_label(first.label_span, "the stack is named here")
                        .with_help("remove one of the `stack` blocks"),
                );
            }
            return match names::dns1123_label(&first.addr.name) {
                Ok(()) => Some(first.addr.name.clone()),
                Err(why) => {
                    self.report(
                        first,
                        Diagnostic::error("E0305", first.label_span, format!("invalid stack name `{}`: {why}", first.addr.name))
                            .with_help("a stack name must be a DNS-1123 label: lowercase letters, digits and `-`, at most 63 characters"),
                    );
                    None
                }
            };
        }
        let dir = root_dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
        match names::dns1123_label(dir) {
            Ok(()) => Some(dir.to_string()),
            Err(why) => {
                let span = self.resources.first().map_or(Span::default(), |r| r.label_span);
                self.diags.push(
                    Diagnostic::error("E0605", span, format!("the directory name `{dir}` cannot name the stack: {why}"))
                        .with_help("add a `stack \"name\" {}` block with a DNS-1123 label (lowercase letters, digits, `-`)"),
                );
                None
            }
        }
    }

    fn clusters(&mut self) -> BTreeMap<String, ClusterInfo> {
        let mut out = BTreeMap::new();
        for (_, r) in self.of_kind(Kind::Cluster) {
            let ceph = r.body.block("ceph").map(|b| &b.body);
            let mode = match ceph.and_then(|c| str_of(c, "mode")).as_deref() {
                Some("direct") => CephMode::Direct,
                _ => CephMode::Rook,
            };
            let rook_namespace = ceph.and_then(|c| str_of(c, "rook_namespace")).unwrap_or_else(|| "rook-ceph".into());
            let fsid = ceph.and_then(|c| str_of(c, "fsid"));
            out.insert(r.addr.name.clone(), ClusterInfo { name: r.addr.name.clone(), mode, rook_namespace, fsid });
        }
        out
    }

    /// Each resource's cluster: its `cluster`, else the stack's, else the only one.
    fn resolve_clusters(&mut self, clusters: &BTreeMap<String, ClusterInfo>) -> Vec<Option<ClusterInfo>> {
        let stack_default = self.of_kind(Kind::Stack).next().and_then(|(_, r)| name_of(&r.body, "cluster"));
        let resources = self.resources;
        let mut out = Vec::with_capacity(resources.len());
        for res in resources {
            if matches!(res.addr.kind, Kind::Stack | Kind::Cluster | Kind::Policy | Kind::Moved) {
                out.push(None);
                continue;
            }
            let chosen = name_of(&res.body, "cluster").or_else(|| stack_default.clone());
            let info = match chosen {
                Some(name) => clusters.get(&name).cloned(),
                None if clusters.is_empty() => Some(ClusterInfo::implicit()),
                None if clusters.len() == 1 => clusters.values().next().cloned(),
                None => {
                    let names: Vec<String> = clusters.keys().map(|k| format!("cluster.{k}")).collect();
                    self.report(
                        res,
                        Diagnostic::error("E0410", res.label_span, format!("`{}` does not say which cluster it belongs to", res.addr))
                            .with_help(format!(
                                "the stack has several clusters ({}): set `cluster = …` here or a default in the `stack` block",
                                names.join(", ")
                            )),
                    );
                    None
                }
            };
            out.push(info);
        }
        out
    }
}
