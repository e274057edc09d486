//! What `plan`, `apply`, `drift` and `destroy` share: compile the stack, open the engine on the
//! live systems it needs and read them, judge the plan with the stack's policies, and render
//! the engine's events.

use std::path::{Path, PathBuf};

use cairn_compiler::Mode;
use cairn_runtime::engine::{Connect, Engine, Event, Stack};
use cairn_runtime::plan::{Options, Plan};
pub use cairn_runtime::policy::PlanPhase;

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
    /// `--request-timeout` (`None`: `0`, no limit).
    pub request_timeout: Option<std::time::Duration>,
}

impl ClusterFlags {
    /// Where the live systems are: these flags and the environment. (`cairn lsp` gives the
    /// language server this, so its `cairn.status` finds the cluster as the commands do.)
    pub fn connect(&self) -> Connect {
        Connect {
            kubeconfig: self.kubeconfig.clone(),
            context: self.context.clone(),
            cluster: self.cluster.clone(),
            ceph_conf: self.ceph_conf.clone(),
            env_kubeconfig: std::env::var_os("KUBECONFIG").as_deref().map(cairn_runtime::kube::config::paths).unwrap_or_default(),
            sandbox_kubeconfig: super::sandbox::running(),
            home: std::env::var_os("HOME").map(PathBuf::from),
            request_timeout: self.request_timeout,
        }
    }
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

/// Compiles the stack for a live command; `None` (after printing the diagnostics) on errors.
/// Policies run later, on the plan ([`judge`]).
pub fn load_stack(out: &Output, dir: &Path) -> Option<Stack> {
    let c = super::compile_dir(out, dir, Mode::Render)?;
    out.diagnostics(&c.program.sources, &c.diagnostics, &c.secret_spans);
    if c.has_errors() {
        return None;
    }
    Some(Stack::new(c))
}

/// What the stack's policies found on a plan.
pub type Findings = Vec<cairn_runtime::policy::Finding>;

/// Runs the stack's policies in `phase` on `plan`'s changes (phase `destroy`: on the deletes,
/// with no declared objects) and prints their diagnostics. The findings, for plan output, and
/// whether the plan is allowed: false when a policy denies it (or cannot run) — the command
/// then fails, and apply changes nothing.
pub fn judge(out: &Output, stack: &Stack, plan: &Plan, phase: PlanPhase) -> (Findings, bool) {
    let changes = cairn_runtime::policy::changes::of_plan(plan, &stack.desired);
    let (findings, found) =
        cairn_runtime::policy::stack::evaluate_plan(&stack.compilation, phase, &changes, &mut |c| compiling_policy(out, c));
    let c = &stack.compilation;
    out.diagnostics(&c.program.sources, &found, &c.secret_spans);
    (findings, !found.iter().any(|d| d.is_error()))
}

/// Says that a policy component is being compiled — its first run takes tens of seconds for a
/// Python or JavaScript one, which would otherwise pass without a word.
pub fn compiling_policy(out: &Output, c: &cairn_runtime::policy::Compiling) {
    let later = if c.cached_afterwards { "first run, cached afterwards" } else { "no cache directory: compiled on every run" };
    out.info(&format!("compiling policy `{}` ({}; {later})…", c.policy, c.path.display()));
}

/// Renders the engine's events that are not steps: choices (with `-v`, or when notable),
/// read costs (with `-v`), waits and the lock.
pub fn render_event(out: &Output, verbose: bool, e: &Event) {
    match e {
        Event::Chose { message, notable } if *notable || verbose => out.info(message),
        Event::Read { cost, took, .. } if verbose => out.info(&format!("read {cost} in {:.2}s", took.as_secs_f64())),
        Event::ReadAll { providers, took } if verbose && *providers > 1 => {
            out.info(&format!("read {providers} live systems concurrently in {:.2}s", took.as_secs_f64()))
        }
        Event::Waiting(why) => out.info(why),
        Event::Chose { .. } | Event::Read { .. } | Event::ReadAll { .. } | Event::Locked { .. } | Event::Step(_) => {}
    }
}

/// Opens the engine on what the stack needs; the error printed.
pub async fn open(out: &Output, flags: &ClusterFlags, stack: &Stack) -> Option<Engine> {
    match Engine::open(stack, &flags.connect(), &mut |e| render_event(out, flags.verbose, e)).await {
        Ok(engine) => Some(engine),
        Err(e) => {
            out.report(&e);
            None
        }
    }
}

/// Reads every live system the engine has open, concurrently; false (the error printed) when
/// one could not be read.
pub async fn read(out: &Output, flags: &ClusterFlags, engine: &mut Engine, options: &Options) -> bool {
    match engine.read(options, &mut |e| render_event(out, flags.verbose, e)).await {
        Ok(()) => true,
        Err(e) => {
            out.report(&e);
            false
        }
    }
}

/// [`open`], then [`read`].
pub async fn open_and_read(out: &Output, flags: &ClusterFlags, stack: &Stack, options: &Options) -> Option<Engine> {
    let mut engine = open(out, flags, stack).await?;
    read(out, flags, &mut engine, options).await.then_some(engine)
}
