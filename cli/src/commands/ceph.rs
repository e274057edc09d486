//! Direct-mode Ceph for the live commands: which `cluster` block's `ceph` settings apply, the
//! declared pools and `moved` blocks, connecting, reading, and the pools' part of the plan.

use std::path::PathBuf;

use cairn_compiler::check::CephMode;
use cairn_compiler::lower::Target as ObjectTarget;
use cairn_compiler::schema::Kind;
use cairn_compiler::Compilation;
use cairn_runtime::ceph::plan::{plan_pools, PoolPlan, PoolPlanInput};
use cairn_runtime::ceph::spec::DesiredPool;
use cairn_runtime::ceph::{read_state, CephState, Client, Settings};
use cairn_runtime::model::{DesiredObject, ObjectKey};
use cairn_runtime::plan::{Action, Plan};

use super::live::ClusterFlags;
use crate::output::Output;

/// What a stack's direct-mode pools need: the cluster's connection settings, the pools and the
/// renames.
pub struct DirectPools {
    /// The `cluster` block's name.
    pub cluster: String,
    pub settings: Settings,
    pub pools: Vec<DesiredPool>,
    /// `moved` blocks of pools, as (old name, new name).
    pub moves: Vec<(String, String)>,
}

/// The direct-mode pools of `c`, or `None` when it declares none. An error (printed) when they
/// are spread over several clusters and `--cluster` does not pick one, or a pool cannot be read.
pub fn direct_pools(out: &Output, c: &Compilation, flags: &ClusterFlags) -> Result<Option<DirectPools>, ()> {
    let mut by_cluster: Vec<(String, &cairn_compiler::lower::Object)> = Vec::new();
    for o in c.objects.iter().filter(|o| o.target == ObjectTarget::Ceph) {
        let cluster = c
            .resources
            .iter()
            .position(|r| r.addr == o.address)
            .and_then(|i| c.facts.cluster_of.get(i).cloned().flatten())
            .filter(|info| info.mode == CephMode::Direct)
            .map(|info| info.name);
        if let Some(cluster) = cluster {
            by_cluster.push((cluster, o));
        }
    }
    let mut clusters: Vec<&str> = by_cluster.iter().map(|(c, _)| c.as_str()).collect();
    clusters.sort_unstable();
    clusters.dedup();
    // A direct-mode cluster without declared pools still counts: its owned pools are deleted.
    let direct: Vec<&str> = c.facts.clusters.values().filter(|i| i.mode == CephMode::Direct).map(|i| i.name.as_str()).collect();
    let cluster = match (flags.cluster.as_deref(), clusters.as_slice()) {
        (Some(wanted), _) if direct.contains(&wanted) => wanted.to_string(),
        (Some(_), _) => return Ok(None),
        (None, []) if direct.len() == 1 && c.facts.clusters.len() == 1 => direct.concat(),
        (None, []) => return Ok(None),
        (None, [only]) => (*only).to_string(),
        (None, many) => {
            out.error(&format!("the stack's pools are on {} direct-mode clusters ({})", many.len(), many.join(", ")));
            out.info("  help: plan and apply one cluster at a time with --cluster NAME");
            return Err(());
        }
    };
    let mut pools = Vec::new();
    for (_, o) in by_cluster.iter().filter(|(name, _)| *name == cluster) {
        let obj = DesiredObject {
            key: ObjectKey { api_version: o.api_version.clone(), kind: o.kind.clone(), namespace: None, name: o.name.clone() },
            address: o.address.to_string(),
            body: o.body.clone(),
            sensitive: Vec::new(),
            protect: o.protect,
            wait: false,
            deps: Vec::new(),
        };
        match DesiredPool::from_object(&obj, None) {
            Ok(p) => pools.push(p),
            Err(e) => {
                out.error(&format!("cannot plan pool `{}`: {e}", o.name));
                return Err(());
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
    Ok(Some(DirectPools { settings: settings_of(c, &cluster, flags), cluster, pools, moves }))
}

/// The connection settings: `--ceph-conf`, else the block's `conf`, else `$CEPH_CONF`, else
/// `/etc/ceph/ceph.conf` (as the `ceph` CLI); `keyring` and `user` from the block.
fn settings_of(c: &Compilation, cluster: &str, flags: &ClusterFlags) -> Settings {
    let block = c.resources.iter().find(|r| r.addr.kind == Kind::Cluster && r.addr.name == cluster).and_then(|r| r.body.block("ceph"));
    let attr = |name: &str| block.and_then(|b| cairn_compiler::access::str_of(&b.body, name));
    let defaults = Settings::default();
    Settings {
        conf: flags.ceph_conf.clone().or_else(|| attr("conf").map(|p| expand_home(&p))),
        keyring: attr("keyring").map(|p| expand_home(&p)),
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

/// Connects to the cluster; the error printed.
pub async fn connect(out: &Output, direct: &DirectPools, verbose: bool) -> Option<Client> {
    match Client::connect(&direct.settings).await {
        Ok(client) => {
            if verbose {
                out.info(&format!("using Ceph cluster `{}` ({})", direct.cluster, client.describe()));
            }
            Some(client)
        }
        Err(e) => {
            out.report(&e);
            None
        }
    }
}

/// Reads the pools, EC profiles and CRUSH rules; the error printed.
pub async fn read(out: &Output, client: &Client) -> Option<CephState> {
    match read_state(client).await {
        Ok(s) => Some(s),
        Err(e) => {
            out.report(&e);
            None
        }
    }
}

/// Plans the pools (pure).
pub fn plan(stack: &str, direct: &DirectPools, live: &CephState, adopt: bool, destroy: bool) -> PoolPlan {
    plan_pools(&PoolPlanInput { stack, pools: &direct.pools, moves: &direct.moves, live, adopt, destroy })
}

/// One plan from the Kubernetes plan and the pools': pool creates and updates first (storage
/// classes name pools), then the Kubernetes steps, then pool deletes (after whatever used them).
pub fn merge(kube: Plan, pools: PoolPlan) -> Plan {
    let (deletes, front): (Vec<_>, Vec<_>) = pools.steps.into_iter().partition(|s| s.action == Action::Delete);
    let shift = front.len();
    let mut steps = front;
    for mut s in kube.steps {
        for a in &mut s.after {
            *a = a.saturating_add(shift);
        }
        steps.push(s);
    }
    // Pool deletes wait for every Kubernetes delete (a storage class on the pool goes first).
    let kube_deletes: Vec<usize> = (shift..steps.len()).filter(|&i| steps.get(i).is_some_and(|s| s.action == Action::Delete)).collect();
    for mut s in deletes {
        s.after = kube_deletes.clone();
        steps.push(s);
    }
    let mut refusals = pools.refusals;
    refusals.extend(kube.refusals);
    Plan { stack: kube.stack, steps, refusals }
}
