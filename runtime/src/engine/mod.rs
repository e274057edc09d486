//! The engine (DESIGN.md §8.1): from a compiled [`Stack`] and the command's options to the
//! live systems and back. It picks the providers the stack needs ([`Engine::open`]), reads
//! them concurrently ([`Engine::read`]), merges their plans by key ([`Engine::plan`]), takes
//! the lock, runs the steps on the provider each belongs to ([`Engine::execute`]) and judges
//! the workloads' health ([`Engine::health`]), reporting progress as [`Event`]s. Errors are
//! values ([`EngineError`]); nothing here prints.

mod error;
mod stack;

use std::path::PathBuf;
use std::time::{Duration, Instant};

use futures::future::try_join_all;

pub use error::EngineError;
pub use stack::{cluster_block, desired_of, direct_pools, sources_hash, Stack};

use crate::apply::{self, ExecOptions, StepError, Summary, Target};
use crate::ceph::provider::CephProvider;
use crate::fence::Fence;
use crate::kube::config::{self, Choices};
use crate::kube::provider::KubeProvider;
use crate::kube::rollouts::Unhealthy;
use crate::kube::Kube;
use crate::model::ObjectKey;
use crate::plan::{Action, Options, Plan, Step};
use crate::provider::{Lock, LockRequest, Provider, RunOptions};

/// Where the live systems are: the cluster flags and the environment (DESIGN.md §3).
#[derive(Clone, Debug, Default)]
pub struct Connect {
    /// `--kubeconfig`.
    pub kubeconfig: Option<PathBuf>,
    /// `--context`.
    pub context: Option<String>,
    /// `--cluster`: the `cluster` block whose settings apply.
    pub cluster: Option<String>,
    /// `--ceph-conf`: a direct-mode cluster's ceph.conf.
    pub ceph_conf: Option<PathBuf>,
    /// The paths of `$KUBECONFIG`, in order.
    pub env_kubeconfig: Vec<PathBuf>,
    /// The kubeconfig of a running `cairn sandbox`.
    pub sandbox_kubeconfig: Option<PathBuf>,
    /// `$HOME`.
    pub home: Option<PathBuf>,
    /// `--request-timeout`: how long one Kubernetes request may wait for an answer (`None`:
    /// no limit).
    pub request_timeout: Option<Duration>,
}

/// Progress, as it happens.
#[derive(Clone, Copy, Debug)]
pub enum Event<'a> {
    /// Which system was chosen and why. `notable`: worth saying without `-v` (the sandbox).
    Chose { message: &'a str, notable: bool },
    /// A provider read its snapshot: what it cost (`12 kinds with 14 LIST requests`) and how
    /// long it took.
    Read { provider: &'static str, cost: &'a str, took: Duration },
    /// Every provider has read its snapshot (concurrently): how long that took in all.
    ReadAll { providers: usize, took: Duration },
    /// Waiting on something: the lock, a rollout.
    Waiting(&'a str),
    /// The stack's lock was taken.
    Locked { holder: &'a str },
    /// A step started or finished.
    Step(apply::Event<'a>),
}

/// The live systems of one stack.
pub struct Engine {
    stack: String,
    /// Lowest tier first (Ceph pools, then Kubernetes): the order plans merge in.
    providers: Vec<Box<dyn Provider>>,
    /// The key for secret HMACs when no provider stores one.
    fallback_key: Vec<u8>,
}

impl Engine {
    /// Connects to what the stack needs: Kubernetes when it has Kubernetes objects (or no
    /// direct-mode pools), Ceph when it has direct-mode pools. A stack of direct-mode pools
    /// alone touches no Kubernetes API.
    pub async fn open(stack: &Stack, connect: &Connect, on_event: &mut dyn FnMut(&Event)) -> Result<Engine, EngineError> {
        let c = &stack.compilation;
        if let Some(name) = &connect.cluster {
            if !stack::declares_cluster(c, name) {
                return Err(EngineError::Stack {
                    message: format!("--cluster {name}: the stack declares no `cluster \"{name}\"` block"),
                    help: None,
                });
            }
        }
        let direct = direct_pools(c, connect.cluster.as_deref(), connect.ceph_conf.as_ref())?;
        let wants_kube = !stack.desired.objects.is_empty() || direct.is_none();
        let kube = async {
            if !wants_kube {
                return Ok(None);
            }
            let kube = connect_kube(stack, connect, on_event).await?;
            Ok::<_, EngineError>(Some(KubeProvider::new(kube, stack.desired.clone())))
        };
        let ceph = async {
            match &direct {
                Some(d) => Ok::<_, EngineError>(Some(CephProvider::connect(stack.name(), d.clone()).await?)),
                None => Ok(None),
            }
        };
        let (kube, ceph) = futures::try_join!(kube, ceph)?;
        let mut providers: Vec<Box<dyn Provider>> = Vec::new();
        if let Some(ceph) = ceph {
            let message = format!("using {}", ceph.describe());
            on_event(&Event::Chose { message: &message, notable: false });
            providers.push(Box::new(ceph));
        }
        if let Some(kube) = kube {
            providers.push(Box::new(kube));
        }
        let fallback_key = crate::kube::inventory::new_key()?;
        Ok(Engine { stack: stack.name().to_string(), providers, fallback_key })
    }

    /// What the plan is against, for plan output and saved plans.
    pub fn server(&self) -> String {
        let all: Vec<String> = self.providers.iter().rev().map(|p| p.describe()).collect();
        if all.is_empty() {
            "no cluster".into()
        } else {
            all.join(" and ")
        }
    }

    /// What the plan is against, as data: one entry per live system by provider name
    /// (`{"kubernetes": "https://…", "ceph": {"cluster": "lab", "conf": "…"}}`), for plan JSON.
    pub fn clusters(&self) -> serde_json::Value {
        serde_json::Value::Object(self.providers.iter().rev().map(|p| (p.name().to_string(), p.identity())).collect())
    }

    /// Reads every provider's snapshot, concurrently.
    pub async fn read(&mut self, opts: &Options, on_event: &mut dyn FnMut(&Event)) -> Result<(), EngineError> {
        let started = Instant::now();
        let costs = try_join_all(self.providers.iter_mut().map(|p| {
            let name = p.name();
            async move {
                let started = Instant::now();
                let cost = p.read(opts).await?;
                Ok::<_, EngineError>((name, cost, started.elapsed()))
            }
        }))
        .await?;
        let took = started.elapsed();
        for (provider, cost, took) in &costs {
            on_event(&Event::Read { provider, cost, took: *took });
        }
        on_event(&Event::ReadAll { providers: costs.len(), took });
        Ok(())
    }

    /// The plan (pure, from what [`Engine::read`] read): every provider's steps, merged by key.
    /// An error when a `--target` names no declared object and no live object of the stack.
    pub fn plan(&self, opts: &Options) -> Result<Plan, EngineError> {
        if !opts.targets.is_empty() {
            let all = Options { targets: Vec::new(), ..opts.clone() };
            let full = crate::plan::merge(&self.stack, self.providers.iter().map(|p| p.plan(&all)).collect());
            let unknown = crate::plan::unknown_targets(&full, &opts.targets);
            if !unknown.is_empty() {
                return Err(EngineError::UnknownTargets(unknown));
            }
        }
        Ok(crate::plan::merge(&self.stack, self.providers.iter().map(|p| p.plan(opts)).collect()))
    }

    /// The stack's key for secret HMACs.
    pub fn secret_key(&self) -> &[u8] {
        self.providers.iter().rev().find_map(|p| p.secret_key()).unwrap_or(&self.fallback_key)
    }

    /// Stores the secret key unless one is stored (a saved plan's HMACs must survive until
    /// apply). `Ok(false)`: another run stored a different one first, which is used from now on.
    pub async fn keep_secret_key(&mut self) -> Result<bool, EngineError> {
        let mut same = true;
        for p in &mut self.providers {
            same &= p.keep_secret_key().await?;
        }
        Ok(same)
    }

    /// Takes the stack's lock: the Kubernetes Lease when the stack has Kubernetes objects, else
    /// the Ceph monitor's config-key.
    pub async fn lock(&self, req: &LockRequest<'_>, on_event: &mut dyn FnMut(&Event)) -> Result<Box<dyn Lock>, EngineError> {
        let Some(p) = self.providers.last() else {
            return Err(EngineError::Stack { message: "the stack manages nothing live: there is nothing to lock".into(), help: None });
        };
        let mut on_wait = |why: &str| on_event(&Event::Waiting(why));
        let lock = p.lock(req, &mut on_wait).await?;
        on_event(&Event::Locked { holder: req.holder });
        Ok(lock)
    }

    /// Applies `plan` under the lock of `fence`: stores the secret key and records what the
    /// run may write (an `Err` means nothing was applied), runs the steps on their providers,
    /// then records what was written unless the lock was lost. What recording afterwards
    /// could not do comes back as warnings beside the summary.
    pub async fn execute(
        &mut self,
        plan: &Plan,
        run: &RunOptions,
        exec: &ExecOptions,
        fence: &Fence,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<(Summary, Vec<EngineError>), EngineError> {
        // The key the plan's HMACs use must be the one stored: a `plan -o` running meanwhile
        // may have stored one first.
        if !self.keep_secret_key().await? {
            return Err(EngineError::Stack {
                message: "another cairn run stored this stack's key while this one planned".into(),
                help: Some("run apply again".into()),
            });
        }
        for p in &mut self.providers {
            p.prepare(plan, fence).await?;
        }
        let target = Dispatch { providers: &self.providers, run, fence };
        let summary = apply::execute(plan, &target, exec, &mut |e| on_event(&Event::Step(*e))).await;
        let mut warnings = Vec::new();
        if fence.check().is_ok() {
            for p in &mut self.providers {
                if let Err(e) = p.finish(plan, &summary, fence).await {
                    warnings.push(e);
                }
            }
        }
        Ok((summary, warnings))
    }

    /// The declared workloads among `keys` that are failed or still rolling out; with `wait`,
    /// waiting up to that long for those still rolling out.
    pub async fn health(
        &self,
        keys: &[&ObjectKey],
        wait: Option<Duration>,
        on_event: &mut dyn FnMut(&Event),
    ) -> Result<Vec<Unhealthy>, EngineError> {
        let mut all = Vec::new();
        for p in &self.providers {
            let mut on_wait = |waiting: &[Unhealthy]| {
                let what: Vec<String> = waiting.iter().map(|u| format!("{} ({})", u.key, u.cause())).collect();
                let n = waiting.len();
                let message = format!(
                    "waiting up to {}s for {n} workload{} to roll out: {}",
                    wait.unwrap_or_default().as_secs(),
                    if n == 1 { "" } else { "s" },
                    what.join(", ")
                );
                on_event(&Event::Waiting(&message));
            };
            all.extend(p.health(keys.to_vec(), wait, &mut on_wait).await?);
        }
        Ok(all)
    }
}

/// The keys of a plan's steps that would be health-checked: the declared ones, or with
/// `unchanged`, only the no-ops (the steps that ran waited already).
pub fn health_keys(plan: &Plan, unchanged: bool) -> Vec<&ObjectKey> {
    plan.steps.iter().filter(|s| s.declared && (!unchanged || s.action == Action::Noop)).map(|s| &s.key).collect()
}

/// Chooses the cluster (DESIGN.md §3), connects and pings it.
async fn connect_kube(stack: &Stack, connect: &Connect, on_event: &mut dyn FnMut(&Event)) -> Result<Kube, EngineError> {
    let block = cluster_block(&stack.compilation, connect.cluster.as_deref());
    connect_kube_with(block, connect, on_event).await
}

/// Connects to the cluster the flags and the environment choose, with no stack (`cairn
/// import`): the rules of every live command but the `cluster` block's.
pub async fn connect_cluster(connect: &Connect, on_event: &mut dyn FnMut(&Event)) -> Result<Kube, EngineError> {
    connect_kube_with((None, None), connect, on_event).await
}

async fn connect_kube_with(
    (block_kubeconfig, block_context): (Option<PathBuf>, Option<String>),
    connect: &Connect,
    on_event: &mut dyn FnMut(&Event),
) -> Result<Kube, EngineError> {
    let choices = Choices {
        flag_kubeconfig: connect.kubeconfig.clone(),
        flag_context: connect.context.clone(),
        block_kubeconfig,
        block_context,
        env_kubeconfig: connect.env_kubeconfig.clone(),
        sandbox_kubeconfig: connect.sandbox_kubeconfig.clone(),
        home: connect.home.clone(),
    };
    let Some(chosen) = config::choose(&choices) else {
        return Err(EngineError::Stack {
            message: "no cluster to talk to: no --kubeconfig, KUBECONFIG, running sandbox or ~/.kube/config".into(),
            help: Some("start a local one with `eval \"$(cairn sandbox up)\"`, or pass --kubeconfig".into()),
        });
    };
    let message = if chosen.sandbox {
        format!("using the running sandbox ({})", shown(&chosen.kubeconfigs))
    } else {
        let context = chosen.context.as_deref().map(|c| format!(", context {c}")).unwrap_or_default();
        format!("using {} (from {}){context}", shown(&chosen.kubeconfigs), chosen.source)
    };
    on_event(&Event::Chose { message: &message, notable: chosen.sandbox });
    let kube = Kube::connect(&chosen.kubeconfigs, chosen.context.as_deref(), connect.request_timeout).await?;
    kube.ping().await?;
    Ok(kube)
}

/// Kubeconfig paths for messages, as `KUBECONFIG` lists them.
fn shown(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(":")
}

/// Runs each step on the provider it belongs to.
struct Dispatch<'a> {
    providers: &'a [Box<dyn Provider>],
    run: &'a RunOptions,
    fence: &'a Fence,
}

impl Target for Dispatch<'_> {
    async fn run(&self, step: &Step) -> Result<String, StepError> {
        match self.providers.iter().find(|p| p.handles(&step.key)) {
            Some(p) => p.apply(step, self.run, self.fence).await,
            None => Err(StepError::new(format!("{}: none of the stack's live systems applies it", step.key))),
        }
    }
}
