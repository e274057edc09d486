//! What the engine takes from a compilation: the declared Kubernetes objects with their
//! dependencies by key, the direct-mode pools and file systems and their cluster's settings, and
//! the `cluster` block's kubeconfig and context.

use std::path::PathBuf;
use std::sync::Arc;

use cairn_compiler::check::CephMode;
use cairn_compiler::lower::{Object, Target as ObjectTarget};
use cairn_compiler::schema::Kind;
use cairn_compiler::Compilation;
use petgraph::Direction;

use super::EngineError;
use crate::ceph::fs_spec::{DesiredFs, FS_KIND};
use crate::ceph::provider::DirectPools;
use crate::ceph::spec::DesiredPool;
use crate::ceph::Settings;
use crate::model::{Desired, DesiredObject, ExistingObject, ExistingUse, ObjectKey};

/// A compiled stack, ready for the engine.
pub struct Stack {
    pub compilation: Compilation,
    /// The declared Kubernetes objects, in apply order.
    pub desired: Arc<Desired>,
    /// The stack directory, absolute.
    pub dir: PathBuf,
    /// SHA-256 over every source file (path and text): a saved plan's staleness check.
    pub sources_hash: String,
}

impl Stack {
    /// The stack of a compilation without errors.
    pub fn new(compilation: Compilation) -> Stack {
        let name = compilation.facts.stack.clone().unwrap_or_else(|| "stack".into());
        let desired = Arc::new(desired_of(&compilation, &name));
        let sources_hash = sources_hash(&compilation);
        let dir = compilation.program.root_dir.clone();
        Stack { compilation, desired, dir, sources_hash }
    }

    /// The stack's name.
    pub fn name(&self) -> &str {
        &self.desired.stack
    }
}

/// The key of a lowered object.
fn key_of(o: &Object) -> ObjectKey {
    let mut key = o.key();
    if o.target != ObjectTarget::Kube {
        key.namespace = None;
    }
    key
}

/// The Kubernetes objects of a compilation, in apply order, each with the keys of the objects
/// it depends on (a direct-mode pool included: its step is another provider's).
pub fn desired_of(c: &Compilation, stack: &str) -> Desired {
    // Each workload's `wait`, looked up once per resource rather than by a scan per object.
    let waits: std::collections::HashMap<&cairn_compiler::value::Address, bool> = c
        .resources
        .iter()
        .filter(|r| r.addr.kind == Kind::Workload)
        .map(|r| (&r.addr, cairn_compiler::access::bool_of(&r.body, "wait").unwrap_or(true)))
        .collect();
    let mut objects = Vec::new();
    for (i, o) in c.objects.iter().enumerate() {
        if o.target != ObjectTarget::Kube {
            continue;
        }
        let node = petgraph::graph::NodeIndex::new(i);
        let mut deps: Vec<ObjectKey> =
            c.graph.graph.neighbors_directed(node, Direction::Incoming).filter_map(|d| c.objects.get(d.index())).map(key_of).collect();
        deps.sort_unstable();
        deps.dedup();
        let wait = o.address.kind != Kind::Workload || waits.get(&o.address).copied().unwrap_or(true);
        objects.push(DesiredObject {
            key: key_of(o),
            address: o.address.to_string(),
            body: o.body.clone(),
            sensitive: o.sensitive.clone(),
            protect: o.protect,
            wait,
            deps,
        });
    }
    let existing = existing_of(c, ObjectTarget::Kube);
    Desired { stack: stack.to_string(), objects, existing }
}

/// `file:line:col` of a span, as plans and refusals name source places.
pub fn location(c: &Compilation, span: cairn_lang::Span) -> String {
    let (line, col) = c.program.sources.line_col(span);
    format!("{}:{line}:{col}", c.program.sources.display(span.file))
}

/// The existing resources of `c` that `target`'s provider reads.
pub fn existing_of(c: &Compilation, target: ObjectTarget) -> Vec<ExistingObject> {
    c.existing
        .iter()
        .filter(|e| e.target == target)
        .map(|e| ExistingObject {
            key: e.key.clone(),
            address: e.address.to_string(),
            at: location(c, e.span),
            uses: e.uses.iter().map(|u| ExistingUse { by: u.by.to_string(), at: location(c, u.span), what: u.what.clone() }).collect(),
        })
        .collect()
}

/// SHA-256 over the stack's own source files (paths and texts, in load order).
pub fn sources_hash(c: &Compilation) -> String {
    let mut all = Vec::new();
    for (_, f) in c.program.sources.iter() {
        all.extend_from_slice(f.display.as_bytes());
        all.push(0);
        all.extend_from_slice(f.text.as_bytes());
        all.push(0);
    }
    crate::hash::sha256_hex(&all)
}

/// The `cluster` block's `kube { kubeconfig, context }`: the one `wanted` names, else the
/// stack's default cluster, else the only one. A relative kubeconfig path is the stack
/// directory's.
pub fn cluster_block(c: &Compilation, wanted: Option<&str>) -> (Option<PathBuf>, Option<String>) {
    let clusters: Vec<_> = c.resources.iter().filter(|r| r.addr.kind == Kind::Cluster).collect();
    let stack_default = wanted.map(str::to_string).or_else(|| {
        c.resources.iter().find(|r| r.addr.kind == Kind::Stack).and_then(|r| cairn_compiler::access::name_of(&r.body, "cluster"))
    });
    let chosen = match (clusters.as_slice(), stack_default) {
        (many, Some(name)) => many.iter().copied().find(|r| r.addr.name == name),
        ([only], None) => Some(*only),
        _ => None,
    };
    let Some(kube) = chosen.and_then(|r| r.body.block("kube")) else { return (None, None) };
    let dir = &c.program.root_dir;
    (
        cairn_compiler::access::str_of(&kube.body, "kubeconfig").map(|p| from_stack(dir, &p)),
        cairn_compiler::access::str_of(&kube.body, "context"),
    )
}

/// A path written in a `cluster` block: `~/x` from `$HOME`, a relative one from the stack
/// directory (as `file()` and policy `source` resolve), an absolute one as it is.
fn from_stack(dir: &std::path::Path, p: &str) -> PathBuf {
    let p = expand_home(p);
    if p.is_relative() {
        dir.join(p)
    } else {
        p
    }
}

/// Whether the stack declares `cluster "<name>"`.
pub fn declares_cluster(c: &Compilation, name: &str) -> bool {
    c.resources.iter().any(|r| r.addr.kind == Kind::Cluster && r.addr.name == name)
}

/// The direct-mode pools and file systems of `c`, or `None` when it declares none. An error
/// when they are spread over several clusters and `cluster` (`--cluster`) does not pick one, or
/// one cannot be read. `ceph_conf` (`--ceph-conf`) overrides the block's `conf`.
pub fn direct_pools(c: &Compilation, cluster: Option<&str>, ceph_conf: Option<&PathBuf>) -> Result<Option<DirectPools>, EngineError> {
    let mut by_cluster: Vec<(String, &Object)> = Vec::new();
    for o in c.objects.iter().filter(|o| o.target == ObjectTarget::Ceph) {
        let owner = c
            .resources
            .iter()
            .position(|r| r.addr == o.address)
            .and_then(|i| c.facts.cluster_of.get(i).cloned().flatten())
            .filter(|info| info.mode == CephMode::Direct)
            .map(|info| info.name);
        if let Some(owner) = owner {
            by_cluster.push((owner, o));
        }
    }
    let cluster_of = |address: &cairn_compiler::value::Address| {
        c.resources
            .iter()
            .position(|r| &r.addr == address)
            .and_then(|i| c.facts.cluster_of.get(i).cloned().flatten())
            .filter(|info| info.mode == CephMode::Direct)
            .map(|info| info.name)
    };
    // `existing_of` keeps the order of `c.existing`: the two filtered lists pair up.
    let existing: Vec<(String, ExistingObject)> = c
        .existing
        .iter()
        .filter(|e| e.target == ObjectTarget::Ceph)
        .zip(existing_of(c, ObjectTarget::Ceph))
        .filter_map(|(e, object)| Some((cluster_of(&e.address)?, object)))
        .collect();
    let mut clusters: Vec<&str> = by_cluster.iter().map(|(c, _)| c.as_str()).chain(existing.iter().map(|(c, _)| c.as_str())).collect();
    clusters.sort_unstable();
    clusters.dedup();
    // A direct-mode cluster without declared pools still counts: its owned pools are deleted.
    let direct: Vec<&str> = c.facts.clusters.values().filter(|i| i.mode == CephMode::Direct).map(|i| i.name.as_str()).collect();
    let chosen = match (cluster, clusters.as_slice()) {
        (Some(wanted), _) if direct.contains(&wanted) => wanted.to_string(),
        (Some(_), _) => return Ok(None),
        (None, []) if direct.len() == 1 && c.facts.clusters.len() == 1 => direct.concat(),
        (None, []) => return Ok(None),
        (None, [only]) => (*only).to_string(),
        (None, many) => {
            return Err(EngineError::Stack {
                message: format!("the stack's pools are on {} direct-mode clusters ({})", many.len(), many.join(", ")),
                help: Some("plan and apply one cluster at a time with --cluster NAME".into()),
            })
        }
    };
    let mut pools = Vec::new();
    let mut filesystems = Vec::new();
    for (_, o) in by_cluster.iter().filter(|(name, _)| *name == chosen) {
        match o.kind.as_str() {
            cairn_compiler::lower::DIRECT_POOL_KIND => {
                let pool = DesiredPool::from_lowered(&o.name, &o.address.to_string(), o.protect, &o.body)
                    .map_err(|e| EngineError::Stack { message: format!("cannot plan pool `{}`: {e}", o.name), help: None })?;
                pools.push(pool);
            }
            FS_KIND => {
                let fs = DesiredFs::from_lowered(&o.name, &o.address.to_string(), o.protect, &o.body)
                    .map_err(|e| EngineError::Stack { message: format!("cannot plan file system `{}`: {e}", o.name), help: None })?;
                filesystems.push(fs);
            }
            other => {
                return Err(EngineError::Stack {
                    message: format!(
                        "{} `{}` lowers to a {other} on direct-mode cluster `{chosen}`, which cairn cannot apply with monitor commands",
                        o.address.kind.as_str(),
                        o.name
                    ),
                    help: Some("`cairn render` shows the object; manage it through Rook (`ceph { mode = \"rook\" }`)".into()),
                })
            }
        }
    }
    let moves = c
        .resources
        .iter()
        .filter(|r| r.addr.kind == Kind::Moved)
        .filter_map(|r| {
            let from = cairn_compiler::access::str_of(&r.body, "from")?;
            let from = from.strip_prefix("pool.")?.to_string();
            let to = cairn_compiler::access::name_of(&r.body, "to")?;
            Some((from, to))
        })
        .collect();
    let existing = existing.into_iter().filter(|(cluster, _)| *cluster == chosen).map(|(_, e)| e).collect();
    Ok(Some(DirectPools { settings: settings_of(c, &chosen, ceph_conf), cluster: chosen, pools, filesystems, moves, existing }))
}

/// The connection settings: `--ceph-conf`, else the block's `conf`, else `$CEPH_CONF`, else
/// `/etc/ceph/ceph.conf` (as the `ceph` CLI); `keyring` and `user` from the block. The block's
/// relative paths are the stack directory's; `--ceph-conf`'s is the current directory's.
fn settings_of(c: &Compilation, cluster: &str, ceph_conf: Option<&PathBuf>) -> Settings {
    let block = c.resources.iter().find(|r| r.addr.kind == Kind::Cluster && r.addr.name == cluster).and_then(|r| r.body.block("ceph"));
    let attr = |name: &str| block.and_then(|b| cairn_compiler::access::str_of(&b.body, name));
    let defaults = Settings::default();
    Settings {
        conf: ceph_conf.cloned().or_else(|| attr("conf").map(|p| from_stack(&c.program.root_dir, &p))),
        conf_from: match (ceph_conf, attr("conf")) {
            (Some(_), _) => Some("--ceph-conf"),
            (None, Some(_)) => Some("the cluster block's `conf`"),
            (None, None) => None,
        },
        keyring: attr("keyring").map(|p| from_stack(&c.program.root_dir, &p)),
        user: attr("user").unwrap_or(defaults.user.clone()),
        ..defaults
    }
}

/// `~/x` → `$HOME/x`.
fn expand_home(p: &str) -> PathBuf {
    match (p.strip_prefix("~/"), std::env::var_os("HOME")) {
        (Some(rest), Some(home)) => PathBuf::from(home).join(rest),
        _ => PathBuf::from(p),
    }
}
