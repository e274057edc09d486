//! What `plan`, `apply`, `drift` and `destroy` share: compile the stack into desired objects,
//! choose and reach the cluster, read the inventory and the live snapshot, and plan.

use std::path::{Path, PathBuf};

use cairn_compiler::lower::Target as ObjectTarget;
use cairn_compiler::schema::Kind;
use cairn_compiler::{Compilation, Mode};
use cairn_runtime::ceph::CephState;
use cairn_runtime::kube::config::{self, Choices};
use cairn_runtime::kube::inventory::{self, Inventory};
use cairn_runtime::kube::read::{self, ReadStats};
use cairn_runtime::kube::Kube;
use cairn_runtime::model::{Desired, DesiredObject, ObjectKey, Snapshot};
use cairn_runtime::plan::{self, Options, Plan};
pub use cairn_runtime::policy::PlanPhase;
use petgraph::Direction;

use super::ceph::{self, DirectPools};
use crate::output::Output;

/// The cluster flags every live command takes.
#[derive(Clone, Debug, Default)]
pub struct ClusterFlags {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    /// `--cluster`: the `cluster` block whose settings apply.
    pub cluster: Option<String>,
    /// `--ceph-conf`: a direct-mode cluster's ceph.conf.
    pub ceph_conf: Option<PathBuf>,
    /// `-v`: say what was chosen and what reading cost.
    pub verbose: bool,
}

/// Tells of every retried Kubernetes call on stderr (unless `quiet`), and bounds the time one
/// call may spend retrying by `budget`.
pub fn observe_retries(out: &Output, quiet: bool, budget: std::time::Duration) {
    let observer: Option<cairn_runtime::kube::retry::Observer> = if quiet {
        None
    } else {
        let out = out.clone();
        Some(std::sync::Arc::new(move |n: &cairn_runtime::kube::retry::Notice| out.info(&n.to_string())))
    };
    cairn_runtime::kube::retry::configure(budget, observer);
}

/// A compiled stack and its desired Kubernetes objects.
pub struct Stack {
    pub compilation: Compilation,
    pub desired: Desired,
    /// The stack directory, absolute.
    pub dir: PathBuf,
    /// SHA-256 over every source file (path and text): a saved plan's staleness check.
    pub sources_hash: String,
    /// What the stack's policies found (phase `plan`), for plan output.
    pub findings: Vec<cairn_runtime::policy::Finding>,
}

/// Compiles the stack for a live command; `None` (after printing the diagnostics) on errors.
/// Policies run later, on the plan ([`judge`]).
pub fn load_stack(out: &Output, dir: &Path) -> Option<Stack> {
    let c = super::compile_dir(out, dir, Mode::Render)?;
    out.diagnostics(&c.program.sources, &c.diagnostics, &c.secret_spans);
    if c.has_errors() {
        return None;
    }
    let stack = c.facts.stack.clone().unwrap_or_else(|| "stack".into());
    let desired = desired_of(&c, &stack);
    let sources_hash = sources_hash(&c);
    let dir = c.program.root_dir.clone();
    Some(Stack { compilation: c, desired, dir, sources_hash, findings: Vec::new() })
}

/// Runs the stack's policies in `phase` on `plan`'s changes (phase `destroy`: on the deletes,
/// with no declared objects), prints their diagnostics and keeps the findings for plan output.
/// False when a policy denies the plan (or cannot run): the command then fails, and apply
/// changes nothing.
pub fn judge(out: &Output, stack: &mut Stack, plan: &Plan, phase: PlanPhase) -> bool {
    let changes = cairn_runtime::policy::changes::of_plan(plan, &stack.desired);
    let (findings, found) = cairn_runtime::policy::stack::evaluate_plan(&stack.compilation, phase, &changes);
    let c = &stack.compilation;
    out.diagnostics(&c.program.sources, &found, &c.secret_spans);
    stack.findings = findings;
    !found.iter().any(|d| d.is_error())
}

/// The Kubernetes objects of a compilation, in apply order, with their dependencies.
pub fn desired_of(c: &Compilation, stack: &str) -> Desired {
    // Index of each Kubernetes object among the kept ones (direct-mode pools are not Kubernetes').
    let mut kept = vec![None; c.objects.len()];
    let mut n = 0usize;
    for (i, o) in c.objects.iter().enumerate() {
        if o.target == ObjectTarget::Kube {
            if let Some(slot) = kept.get_mut(i) {
                *slot = Some(n);
            }
            n = n.saturating_add(1);
        }
    }
    let mut objects = Vec::with_capacity(n);
    for (i, o) in c.objects.iter().enumerate() {
        if o.target != ObjectTarget::Kube {
            continue;
        }
        let node = petgraph::graph::NodeIndex::new(i);
        let mut deps: Vec<usize> =
            c.graph.graph.neighbors_directed(node, Direction::Incoming).filter_map(|d| kept.get(d.index()).copied().flatten()).collect();
        deps.sort_unstable();
        deps.dedup();
        let wait = o.address.kind != Kind::Workload
            || c.resources
                .iter()
                .find(|r| r.addr == o.address)
                .and_then(|r| cairn_compiler::access::bool_of(&r.body, "wait"))
                .unwrap_or(true);
        objects.push(DesiredObject {
            key: ObjectKey {
                api_version: o.api_version.clone(),
                kind: o.kind.clone(),
                namespace: o.namespace.clone(),
                name: o.name.clone(),
            },
            address: o.address.to_string(),
            body: o.body.clone(),
            sensitive: o.sensitive.clone(),
            protect: o.protect,
            wait,
            deps,
        });
    }
    Desired { stack: stack.to_string(), objects }
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
    cairn_runtime::hash::sha256_hex(&all)
}

/// The `cluster` block's `kube { kubeconfig, context }`: the one `--cluster` names, else the
/// stack's default cluster, else the only one.
fn cluster_block(c: &Compilation, wanted: Option<&str>) -> (Option<PathBuf>, Option<String>) {
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
    (cairn_compiler::access::str_of(&kube.body, "kubeconfig").map(PathBuf::from), cairn_compiler::access::str_of(&kube.body, "context"))
}

/// Chooses the cluster (DESIGN.md §3) and connects; says on stderr when it uses the sandbox.
pub async fn connect(out: &Output, flags: &ClusterFlags, c: &Compilation) -> Option<Kube> {
    if let Some(name) = &flags.cluster {
        if !c.resources.iter().any(|r| r.addr.kind == Kind::Cluster && &r.addr.name == name) {
            out.error(&format!("--cluster {name}: the stack declares no `cluster \"{name}\"` block"));
            return None;
        }
    }
    let (block_kubeconfig, block_context) = cluster_block(c, flags.cluster.as_deref());
    let choices = Choices {
        flag_kubeconfig: flags.kubeconfig.clone(),
        flag_context: flags.context.clone(),
        block_kubeconfig,
        block_context,
        env_kubeconfig: std::env::var_os("KUBECONFIG").as_deref().and_then(config::first_path),
        sandbox_kubeconfig: super::sandbox::running_kubeconfig(&super::sandbox::default_dir()),
        home: std::env::var_os("HOME").map(PathBuf::from),
    };
    let Some(chosen) = config::choose(&choices) else {
        out.error("no cluster to talk to: no --kubeconfig, KUBECONFIG, running sandbox or ~/.kube/config");
        out.info("  help: start a local one with `eval \"$(cairn sandbox up)\"`, or pass --kubeconfig");
        return None;
    };
    if chosen.sandbox {
        out.info(&format!("using the running sandbox ({})", chosen.kubeconfig.display()));
    } else if flags.verbose {
        let context = chosen.context.as_deref().map(|c| format!(", context {c}")).unwrap_or_default();
        out.info(&format!("using {} (from {}){context}", chosen.kubeconfig.display(), chosen.source));
    }
    let kube = match Kube::connect(&chosen.kubeconfig, chosen.context.as_deref()).await {
        Ok(k) => k,
        Err(e) => {
            out.report(&e);
            return None;
        }
    };
    if let Err(e) = kube.ping().await {
        out.report(&e);
        return None;
    }
    Some(kube)
}

/// The live systems a stack needs: Kubernetes when it has Kubernetes objects (or no
/// direct-mode pools), Ceph when it has direct-mode pools. A stack of direct-mode pools alone
/// touches no Kubernetes API.
pub struct Session {
    pub kube: Option<Kube>,
    pub ceph: Option<(DirectPools, cairn_runtime::ceph::Client)>,
}

impl Session {
    /// What the plan is against, for plan output and saved plans.
    pub fn server(&self) -> String {
        let ceph = self.ceph.as_ref().map(|(d, c)| format!("Ceph cluster `{}` ({})", d.cluster, c.describe()));
        match (self.kube.as_ref().map(|k| k.server().to_string()), ceph) {
            (Some(k), Some(c)) => format!("{k} and {c}"),
            (Some(one), None) | (None, Some(one)) => one,
            (None, None) => "no cluster".into(),
        }
    }
}

/// Chooses and connects to what the stack needs (see [`Session`]); errors printed.
pub async fn open(out: &Output, flags: &ClusterFlags, stack: &Stack) -> Option<Session> {
    let direct = ceph::direct_pools(out, &stack.compilation, flags).ok()?;
    let kube =
        if !stack.desired.objects.is_empty() || direct.is_none() { Some(connect(out, flags, &stack.compilation).await?) } else { None };
    let ceph = match direct {
        Some(d) => {
            let client = ceph::connect(out, &d, flags.verbose).await?;
            Some((d, client))
        }
        None => None,
    };
    Some(Session { kube, ceph })
}

/// The live state a plan is made from.
pub struct Live {
    pub inventory: Inventory,
    pub snapshot: Snapshot,
    /// The key for secret HMACs: the inventory's, or a fresh one before the first apply.
    pub key: Vec<u8>,
    pub stats: ReadStats,
    /// The Ceph cluster's pools, EC profiles and CRUSH rules (direct mode).
    pub ceph: Option<CephState>,
}

/// Reads the inventory and the snapshot (Kubernetes), and the pools (Ceph). `destroy`: the plan
/// deletes every owned object, so every owned namespace's contents are read.
pub async fn read_live(out: &Output, session: &Session, desired: &Desired, adopt: bool, destroy: bool) -> Option<Live> {
    let ceph = match &session.ceph {
        Some((_, client)) => Some(ceph::read(out, client).await?),
        None => None,
    };
    let Some(kube) = &session.kube else {
        let key = match inventory::new_key() {
            Ok(k) => k,
            Err(e) => {
                out.report(&e);
                return None;
            }
        };
        return Some(Live { inventory: Inventory::default(), snapshot: Snapshot::default(), key, stats: ReadStats::default(), ceph });
    };
    let inventory = match inventory::read(kube, &desired.stack).await {
        Ok(i) => i,
        Err(e) => {
            out.report(&e);
            return None;
        }
    };
    let kinds: Vec<_> = inventory.kinds.iter().cloned().collect();
    let (mut snapshot, stats) = match read::snapshot(kube, desired, &kinds, adopt, destroy).await {
        Ok(s) => s,
        Err(e) => {
            out.report(&e);
            return None;
        }
    };
    let key = match &inventory.key {
        Some(k) => k.clone(),
        None => match inventory::new_key() {
            Ok(k) => k,
            Err(e) => {
                out.report(&e);
                return None;
            }
        },
    };
    snapshot.secret_key = inventory.key.clone();
    Some(Live { inventory, snapshot, key, stats, ceph })
}

/// Plans (pure): the Kubernetes objects, and the pools merged in ([`ceph::merge`]).
pub fn make_plan(session: &Session, desired: &Desired, live: &Live, options: &Options) -> Plan {
    let kube = plan::plan(desired, &live.snapshot, &live.key, options);
    match (&session.ceph, &live.ceph) {
        (Some((direct, _)), Some(state)) => {
            let pools = ceph::plan(&desired.stack, direct, state, options.adopt, options.destroy);
            ceph::merge(kube, pools)
        }
        _ => kube,
    }
}
