//! `cairn apply` and `cairn destroy`: lock, read, plan, confirm, execute, report.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use cairn_runtime::apply::{self, Event, ExecOptions, Outcome, StepError, Stop, Summary, Target};
use cairn_runtime::ceph::executor::CephTarget;
use cairn_runtime::ceph::lock as ceph_lock;
use cairn_runtime::ceph::spec::{POOL_API_VERSION, POOL_KIND};
use cairn_runtime::fence::{Fence, Timing};
use cairn_runtime::kube::inventory;
use cairn_runtime::kube::lock;
use cairn_runtime::kube::rollouts::{self, Unhealthy};
use cairn_runtime::kube::target::KubeTarget;
use cairn_runtime::model::{Desired, ObjectKey};
use cairn_runtime::plan::{Action, Options, Plan, Step};

use super::live::{self, ClusterFlags, Live, Session, Stack};
use super::plan::{runtime, ERROR, OK};
use crate::output::Output;
use crate::plan_view;
use crate::saved_plan::SavedPlan;

/// `apply`'s and `destroy`'s arguments.
pub struct ApplyArgs {
    /// A stack directory, or a plan file.
    pub path: PathBuf,
    pub auto_approve: bool,
    pub parallelism: usize,
    pub allow_data_loss: bool,
    pub adopt: bool,
    pub force_conflicts: bool,
    pub lock_timeout: Duration,
    /// How long one wait (rollout, namespace, CRD) may take.
    pub timeout: Duration,
    pub targets: Vec<String>,
    pub quiet: bool,
    pub destroy: bool,
}

/// Runs `apply` (or `destroy`); returns the exit code.
pub fn run(out: &Output, flags: &ClusterFlags, args: &ApplyArgs) -> u8 {
    let Some(rt) = runtime(out) else { return ERROR };
    rt.block_on(run_async(out, flags, args))
}

async fn run_async(out: &Output, flags: &ClusterFlags, args: &ApplyArgs) -> u8 {
    let saved = if args.path.is_file() {
        match SavedPlan::read(&args.path) {
            Ok(s) => Some(s),
            Err(e) => {
                out.report(&e);
                return ERROR;
            }
        }
    } else {
        None
    };
    // `destroy FILE` of a plan that is not a destroy would create and change objects, unasked.
    if let Some(s) = saved.as_ref().filter(|s| args.destroy && !s.destroy) {
        out.error(&format!(
            "{} is a saved plan that applies the stack `{}`, not a destroy; nothing was changed",
            args.path.display(),
            s.stack
        ));
        out.info(&format!(
            "  help: `cairn destroy {}` plans the destroy from the stack and asks first; `cairn apply {}` applies the saved plan",
            s.dir.display(),
            args.path.display()
        ));
        return ERROR;
    }
    live::observe_retries(out, args.quiet, args.timeout);
    let dir = saved.as_ref().map_or(args.path.clone(), |s| s.dir.clone());
    let Some(mut stack) = live::load_stack(out, &dir) else { return ERROR };
    let Some(session) = live::open(out, flags, &stack).await else { return ERROR };
    let stack_name = stack.desired.stack.clone();
    let holder = lock::holder_identity();
    let timing = lock_timing();
    let stop = Stop::new();
    let mut waiting = |why: &str| out.info(why);
    // The stack's lock: the Lease when it has Kubernetes objects, else the monitor's config-key.
    let guard = match (&session.kube, &session.ceph) {
        (Some(kube), _) => lock::acquire(kube, &stack_name, &holder, args.lock_timeout, &timing, &stop, &mut waiting)
            .await
            .map(|g| Guard::Kube(Box::new(g)))
            .map_err(|e| out.report(&e)),
        (None, Some((_, client))) => ceph_lock::acquire(client, &stack_name, &holder, args.lock_timeout, &timing, &stop, &mut waiting)
            .await
            .map(Guard::Ceph)
            .map_err(|e| out.report(&e)),
        (None, None) => return ERROR,
    };
    let Ok(guard) = guard else { return ERROR };
    // From here on a signal stops the run in order: no new step, the lock given back, a summary.
    let signals = tokio::spawn(stop_on_signal(stop.clone()));
    let fence = match &guard {
        Guard::Kube(g) => g.fence().clone(),
        Guard::Ceph(g) => g.fence().clone(),
    };
    let code = locked(out, &session, &mut stack, saved.as_ref(), args, &fence, &stop).await;
    signals.abort();
    match guard {
        Guard::Kube(g) => {
            if let Err(e) = g.release().await {
                out.report(&e);
            }
        }
        Guard::Ceph(g) => {
            if let Err(e) = g.release().await {
                out.report(&e);
            }
        }
    }
    if stop.reason().is_some_and(|r| r.starts_with(INTERRUPTED)) {
        return INTERRUPTED_EXIT;
    }
    code
}

/// What a stop by a signal says first; the exit code is then [`INTERRUPTED_EXIT`].
const INTERRUPTED: &str = "interrupted";
/// The exit code of a run stopped by SIGINT or SIGTERM, as shells report a Ctrl-C.
const INTERRUPTED_EXIT: u8 = 130;

/// Stops `stop` at the first SIGINT (Ctrl-C) or SIGTERM.
async fn stop_on_signal(stop: Stop) {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let (Ok(mut int), Ok(mut term)) = (signal(SignalKind::interrupt()), signal(SignalKind::terminate())) else { return };
        let name = tokio::select! {
            _ = int.recv() => "SIGINT",
            _ = term.recv() => "SIGTERM",
        };
        stop.stop(format!("{INTERRUPTED} by {name}"));
    }
    #[cfg(not(unix))]
    {
        if tokio::signal::ctrl_c().await.is_ok() {
            stop.stop(format!("{INTERRUPTED} by Ctrl-C"));
        }
    }
}

/// The lock's timing: a 30 s lease unless `CAIRN_LOCK_LEASE_SECONDS` says otherwise (for tests
/// of lost locks, which cannot wait for 30 s leases).
fn lock_timing() -> Timing {
    std::env::var("CAIRN_LOCK_LEASE_SECONDS")
        .ok()
        .and_then(|s| s.parse::<u64>().ok())
        .filter(|&n| n > 0)
        .map_or_else(Timing::default, |n| Timing::with_lease(Duration::from_secs(n)))
}

/// A held stack lock.
enum Guard {
    Kube(Box<lock::Guard>),
    Ceph(ceph_lock::Guard),
}

/// Runs each step on its system: pools with monitor commands, everything else on Kubernetes.
struct Targets<'a> {
    kube: Option<KubeTarget<'a>>,
    ceph: Option<CephTarget<'a>>,
}

impl Target for Targets<'_> {
    async fn run(&self, index: usize, step: &Step) -> Result<String, StepError> {
        if step.key.api_version == POOL_API_VERSION && step.key.kind == POOL_KIND {
            match &self.ceph {
                Some(t) => t.run(index, step).await,
                None => Err(StepError::new(format!("{}: no Ceph cluster to apply it to", step.key))),
            }
        } else {
            match &self.kube {
                Some(t) => t.run(index, step).await,
                None => Err(StepError::new(format!("{}: no Kubernetes cluster to apply it to", step.key))),
            }
        }
    }
}

/// Everything done while holding the lock.
async fn locked(
    out: &Output,
    session: &Session,
    stack: &mut Stack,
    saved: Option<&SavedPlan>,
    args: &ApplyArgs,
    fence: &Fence,
    stop: &Stop,
) -> u8 {
    let options = match saved {
        Some(s) => Options { adopt: s.adopt, targets: s.targets.clone(), destroy: s.destroy },
        None => Options { adopt: args.adopt, targets: args.targets.clone(), destroy: args.destroy },
    };
    let Some(mut state) = live::read_live(out, session, &stack.desired, options.adopt, options.destroy).await else { return ERROR };
    let plan = live::make_plan(session, &stack.desired, &state, &options);
    let server = session.server();
    if let Some(saved) = saved {
        let pools = crate::saved_plan::pool_bodies(&stack.compilation);
        let stale = saved.staleness(&stack.sources_hash, &stack.desired, &pools, &state.key, &server, &plan);
        if !stale.is_empty() {
            out.error("the saved plan is stale; nothing was applied:");
            for why in &stale {
                out.info(&format!("  - {why}"));
            }
            out.info("  help: make a new plan with `cairn plan -o FILE` and review it");
            return ERROR;
        }
    }
    let allowed = live::judge(out, stack, &plan, if options.destroy { live::PlanPhase::Destroy } else { live::PlanPhase::Plan });
    out.stdout(&plan_view::text(&plan, &server, out.color(), &stack.findings));
    if !allowed {
        out.error("a policy denies the plan (above); nothing was applied");
        out.info("  help: change the stack so the policy passes, or set the policy's `enforce = \"warn\"`");
        return ERROR;
    }
    if !plan.refusals.is_empty() {
        out.error("the plan refuses some objects (above); nothing was applied");
        return ERROR;
    }
    let protected: Vec<String> = plan.protected().map(|s| s.key.to_string()).collect();
    if !protected.is_empty() && !args.allow_data_loss {
        out.error(&format!("the plan deletes or replaces protected objects ({}); nothing was applied", protected.join(", ")));
        out.info("  help: these destroy data (protected objects, volume claims, namespaces that hold data: see the plan above); re-run with --allow-data-loss if that is intended, or set `protect = false` first");
        return ERROR;
    }
    if plan.is_empty() {
        // Nothing to write is not the same as done: a workload may still be broken.
        return match stack_health(out, session, &stack.desired, &state, &plan, args).await {
            Ok(unhealthy) if unhealthy.is_empty() => OK,
            Ok(unhealthy) => {
                for u in &unhealthy {
                    out.stdout(&format!("No changes, but {} ({}) is unhealthy: {}\n", u.address, u.key, u.cause()));
                }
                report_unhealthy(out, &unhealthy);
                ERROR
            }
            Err(()) => ERROR,
        };
    }
    if saved.is_none() && !args.auto_approve && !confirm(out, args.destroy, stop).await {
        return ERROR;
    }
    if let Some(why) = stop.reason() {
        out.error(&format!("{why}; nothing was applied"));
        return ERROR;
    }
    let started = Instant::now();
    if let Some(kube) = &session.kube {
        // The key the plan's HMACs use must be the one stored: a `plan -o` running meanwhile
        // may have stored one first.
        if state.inventory.key.is_none() {
            match inventory::ensure_key(kube, &stack.desired.stack, &state.key).await {
                Ok(key) if key == state.key => {}
                Ok(_) => {
                    out.error("another cairn run stored this stack's key while this one planned; nothing was applied");
                    out.info("  help: run apply again");
                    return ERROR;
                }
                Err(e) => {
                    out.report(&e);
                    out.info("nothing was applied");
                    return ERROR;
                }
            }
        }
        // Record the kinds before writing, so a run cut short is still found by the next plan.
        state.inventory.key = Some(state.key.clone());
        let before = inventory_for(&state, &stack.desired, &plan, None);
        if let Err(e) = inventory::write(kube, &stack.desired.stack, &before, fence).await {
            out.report(&e);
            out.info("nothing was applied");
            return ERROR;
        }
    }
    let target = Targets {
        kube: session.kube.as_ref().map(|kube| KubeTarget {
            kube,
            desired: &stack.desired,
            key: &state.key,
            force_conflicts: args.force_conflicts,
            timeout: args.timeout,
            fence,
        }),
        ceph: match (&session.ceph, &state.ceph) {
            (Some((direct, client)), Some(live)) => {
                Some(CephTarget { client, stack: &stack.desired.stack, pools: &direct.pools, live, fence })
            }
            _ => None,
        },
    };
    let mut progress = Progress::new(out, &plan, args.quiet);
    let exec = ExecOptions { parallelism: args.parallelism.max(1), stop: stop.clone(), grace: STOP_GRACE };
    let summary = apply::execute(&plan, &target, &exec, &mut |e| progress.event(e)).await;
    progress.finish();
    if let Some(kube) = &session.kube {
        // Only kinds verified empty leave the inventory; with the lock lost, nothing is written.
        let after = inventory_for(&state, &stack.desired, &plan, Some(&summary));
        if fence.check().is_ok() {
            if let Err(e) = inventory::write(kube, &stack.desired.stack, &after, fence).await {
                out.report(&e);
            }
        }
    }
    // A stopped run (a signal, a lost lock) reports at once: no waiting on rollouts.
    let stopped = stop.reason();
    let health = match stopped {
        Some(_) => Err(()),
        None => stack_health(out, session, &stack.desired, &state, &plan, args).await,
    };
    report(out, &plan, &summary, health.as_deref().ok(), started.elapsed(), stopped.as_deref());
    match health {
        Ok(unhealthy) if unhealthy.is_empty() && summary.is_success() && fence.lost().is_none() => OK,
        _ => ERROR,
    }
}

/// How long running steps may go on once a run is stopped (a signal, a lost lock).
const STOP_GRACE: Duration = Duration::from_secs(10);

/// The health pass (`kube/rollouts.rs`) over the workloads apply waits for whose step did not
/// run now (unchanged ones: those that ran waited already and are reported as steps), waiting
/// up to `--timeout` for those still rolling out. `Err` (printed) when the cluster could not
/// be read.
async fn stack_health(
    out: &Output,
    session: &Session,
    desired: &Desired,
    state: &Live,
    plan: &Plan,
    args: &ApplyArgs,
) -> Result<Vec<Unhealthy>, ()> {
    let Some(kube) = &session.kube else { return Ok(Vec::new()) };
    if args.destroy {
        return Ok(Vec::new());
    }
    let unchanged = plan.steps.iter().filter(|s| s.action == Action::Noop).filter_map(|s| s.desired);
    let workloads = rollouts::waited_workloads(desired, unchanged);
    if workloads.is_empty() {
        return Ok(Vec::new());
    }
    let mut waiting = |p: &[Unhealthy]| {
        let what: Vec<String> = p.iter().map(|u| format!("{} ({})", u.key, u.cause())).collect();
        out.info(&format!(
            "waiting up to {}s for {} to roll out: {}",
            args.timeout.as_secs(),
            plural(p.len(), "workload"),
            what.join(", ")
        ));
    };
    match rollouts::settle(kube, &desired.stack, &workloads, &state.snapshot, args.timeout, &mut waiting).await {
        Ok(verdict) => Ok(verdict.unhealthy),
        Err(e) => {
            out.report(&e);
            out.info("  the health of the stack's workloads could not be checked; run `cairn apply` again once the API answers");
            Err(())
        }
    }
}

/// Each unhealthy workload as an error with the cause and what to do.
fn report_unhealthy(out: &Output, unhealthy: &[Unhealthy]) {
    for u in unhealthy {
        out.error(&format!("{} ({}) is unhealthy: {}", u.key, u.address, u.cause()));
        let help = if u.cause().starts_with("timed out") {
            "raise --timeout if it is only slow"
        } else {
            "fix the cause (image, command, resources, quota) in the stack and apply again; `kubectl describe` shows the events"
        };
        out.info(&format!("  help: {help}"));
    }
}

/// `1 workload`, `2 workloads`.
fn plural(n: usize, what: &str) -> String {
    format!("{n} {what}{}", if n == 1 { "" } else { "s" })
}

/// The inventory to record. Before a run: every kind and namespace inventoried, live or desired.
/// After it: the declared ones, plus every kind and namespace not verified empty — an object of
/// the stack is left in it (a delete outside `--target`, a delete that failed), or its LIST was
/// not made (a kind no longer served). A run only ever drops what it has seen to be gone, so no
/// object of the stack becomes invisible to later plans.
fn inventory_for(state: &Live, desired: &Desired, plan: &Plan, summary: Option<&Summary>) -> inventory::Inventory {
    let mut inv = state.inventory.clone();
    inv.kinds.extend(desired.group_kinds());
    inv.kinds.extend(state.snapshot.owned.keys().map(|k| k.group_kind()));
    inv.namespaces.extend(desired.objects.iter().filter_map(|o| o.key.namespace.clone()));
    inv.namespaces.extend(state.snapshot.owned.keys().filter_map(|k| k.namespace.clone()));
    let Some(summary) = summary else { return inv };
    let deleted: std::collections::BTreeSet<&ObjectKey> = plan
        .steps
        .iter()
        .zip(&summary.outcomes)
        .filter(|(s, o)| s.action == Action::Delete && matches!(o, Some(Outcome::Done(_))))
        .map(|(s, _)| &s.key)
        .collect();
    let left: Vec<&ObjectKey> = state.snapshot.owned.keys().filter(|k| !deleted.contains(k)).collect();
    let unverified: Vec<_> = inv.kinds.iter().filter(|k| !state.stats.listed.contains(*k)).cloned().collect();
    inv.kinds = desired.group_kinds().into_iter().chain(left.iter().map(|k| k.group_kind())).chain(unverified.iter().cloned()).collect();
    if unverified.is_empty() {
        inv.namespaces =
            desired.objects.iter().filter_map(|o| o.key.namespace.clone()).chain(left.iter().filter_map(|k| k.namespace.clone())).collect();
    }
    inv
}

/// Asks on the terminal; anything but `yes` declines, and so does a signal while it asks.
async fn confirm(out: &Output, destroy: bool, stop: &Stop) -> bool {
    if !std::io::stdin().is_terminal() {
        out.error("apply needs confirmation and there is no terminal to ask on; nothing was applied");
        out.info("  help: review the plan above and re-run with --auto-approve, or apply a saved plan (`cairn plan -o FILE`)");
        return false;
    }
    let what = if destroy { "destroy everything above" } else { "apply these changes" };
    eprint!("Do you want to {what}? Only 'yes' will be accepted: ");
    let _ = std::io::stderr().flush();
    let read = tokio::task::spawn_blocking(|| {
        let mut answer = String::new();
        std::io::stdin().read_line(&mut answer).map(|_| answer)
    });
    let answer = tokio::select! {
        answer = read => answer.ok().and_then(Result::ok),
        () = stop.stopped() => None,
    };
    if answer.as_deref().map(str::trim) != Some("yes") {
        eprintln!();
        out.info("Cancelled; nothing was applied.");
        return false;
    }
    true
}

/// Progress on stderr: a line per finished step, and on a terminal a live status line.
struct Progress<'a> {
    out: &'a Output,
    plan: &'a Plan,
    live: bool,
    quiet: bool,
    started: Vec<Option<Instant>>,
    running: usize,
    done: usize,
    total: usize,
}

impl<'a> Progress<'a> {
    fn new(out: &'a Output, plan: &'a Plan, quiet: bool) -> Progress<'a> {
        Progress {
            out,
            plan,
            live: std::io::stderr().is_terminal() && !quiet,
            quiet,
            started: vec![None; plan.steps.len()],
            running: 0,
            done: 0,
            total: plan.changes().count(),
        }
    }

    fn event(&mut self, e: &Event) {
        match e {
            Event::Started { index } => {
                if let Some(slot) = self.started.get_mut(*index) {
                    *slot = Some(Instant::now());
                }
                self.running = self.running.saturating_add(1);
            }
            Event::Finished { index, outcome } => {
                self.running = self.running.saturating_sub(1);
                self.done = self.done.saturating_add(1);
                let key = self.plan.steps.get(*index).map(|s| s.key.to_string()).unwrap_or_default();
                let took = self
                    .started
                    .get(*index)
                    .copied()
                    .flatten()
                    .map(|t| format!(" ({:.1}s)", t.elapsed().as_secs_f64()))
                    .unwrap_or_default();
                let line = match outcome {
                    Outcome::Done(what) => format!("{key}: {what}{took}"),
                    Outcome::Failed(err) => format!("{key}: FAILED: {}{took}", err.message),
                    Outcome::Unverified(err) => format!("{key}: written, not verified: {}{took}", err.message),
                    Outcome::Skipped { because } => {
                        format!("{key}: skipped: {} failed", self.plan.steps.get(*because).map(|s| s.key.to_string()).unwrap_or_default())
                    }
                    Outcome::NotStarted(_) | Outcome::Abandoned(_) => format!("{key}: {}", outcome.describe(self.plan)),
                };
                // Steps a stop kept from starting are listed once, in the summary.
                let shown = !matches!(outcome, Outcome::NotStarted(_)) && (!self.quiet || !matches!(outcome, Outcome::Done(_)));
                if shown {
                    self.clear();
                    self.out.info(&line);
                }
            }
        }
        if self.live {
            eprint!("\r\x1b[Kapplying: {}/{} done, {} running", self.done, self.total, self.running);
            let _ = std::io::stderr().flush();
        }
    }

    fn clear(&self) {
        if self.live {
            eprint!("\r\x1b[K");
        }
    }

    fn finish(&self) {
        self.clear();
    }
}

/// The summary of every step's outcome, then the unhealthy workloads (`None`: health was not
/// checked). "Apply complete" only when every step succeeded and every workload is healthy;
/// `stopped` says why the run was cut short, if it was.
fn report(out: &Output, plan: &Plan, summary: &Summary, unhealthy: Option<&[Unhealthy]>, took: Duration, stopped: Option<&str>) {
    for (step, o) in plan.steps.iter().zip(&summary.outcomes) {
        let (prefix, err) = match o {
            Some(Outcome::Failed(err)) => ("", err),
            Some(Outcome::Unverified(err)) => ("written, not verified: ", err),
            _ => continue,
        };
        out.error(&format!("{}: {prefix}{}", step.key, err.message));
        if let Some(help) = &err.help {
            out.info(&format!("  help: {help}"));
        }
    }
    let listed = |pick: fn(&Outcome) -> bool| -> Vec<String> {
        plan.steps
            .iter()
            .zip(&summary.outcomes)
            .filter(|(_, o)| o.as_ref().is_some_and(pick))
            .map(|(s, _)| format!("{} {}", s.action.as_str(), s.key))
            .collect()
    };
    let healthy = unhealthy.is_some_and(<[Unhealthy]>::is_empty);
    let status = match stopped {
        Some(_) => "stopped",
        None if summary.is_success() && healthy => "complete",
        None => "incomplete",
    };
    let mut counts = format!("{} done, {} failed, {} skipped", summary.succeeded(), summary.failed(), summary.skipped());
    if summary.unverified() > 0 {
        counts.push_str(&format!(", {} not verified", summary.unverified()));
    }
    if summary.stopped() > 0 {
        counts.push_str(&format!(", {} not done because the run stopped", summary.stopped()));
    }
    if let Some(u) = unhealthy.filter(|u| !u.is_empty()) {
        counts.push_str(&format!(", {} unhealthy", u.len()));
    }
    out.stdout(&format!("Apply {status}: {counts} in {:.1}s.\n", took.as_secs_f64()));
    if let Some(why) = stopped {
        out.error(&format!("the run stopped: {why}"));
        let done = listed(|o| matches!(o, Outcome::Done(_)));
        if !done.is_empty() {
            out.stdout(&format!("Written: {}\n", done.join(", ")));
        }
        let abandoned = listed(|o| matches!(o, Outcome::Abandoned(_)));
        if !abandoned.is_empty() {
            out.stdout(&format!("Abandoned while running (may or may not be written): {}\n", abandoned.join(", ")));
        }
    }
    // Unverified writes went through: re-running will not redo them, only check them.
    let not_done = listed(|o| !matches!(o, Outcome::Done(_) | Outcome::Unverified(_) | Outcome::Abandoned(_)));
    if !not_done.is_empty() {
        out.stdout(&format!("Not done (re-run apply to converge): {}\n", not_done.join(", ")));
    }
    let unverified: Vec<String> = plan
        .steps
        .iter()
        .zip(&summary.outcomes)
        .filter(|(_, o)| matches!(o, Some(Outcome::Unverified(_))))
        .map(|(s, _)| s.key.to_string())
        .collect();
    if !unverified.is_empty() {
        out.stdout(&format!("Written, not verified (re-run apply to check them): {}\n", unverified.join(", ")));
    }
    if let Some(u) = unhealthy {
        report_unhealthy(out, u);
    }
}

/// Parses `0`, `30s`, `5m`, `1h` (as Terraform's `-lock-timeout`).
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let (num, unit) = s.find(|c: char| !c.is_ascii_digit()).map_or((s, ""), |i| s.split_at(i));
    let n: u64 = num.parse().map_err(|_| format!("`{s}` is not a duration: use e.g. 0, 30s, 5m or 1h"))?;
    let secs = match unit {
        "" | "s" => n,
        "m" => n.saturating_mul(60),
        "h" => n.saturating_mul(3600),
        "ms" => return Ok(Duration::from_millis(n)),
        _ => return Err(format!("`{s}` is not a duration: use e.g. 0, 30s, 5m or 1h")),
    };
    Ok(Duration::from_secs(secs))
}
