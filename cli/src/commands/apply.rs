//! `cairn apply` and `cairn destroy`: lock, read, plan, confirm, execute, report.

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use std::collections::HashMap;

use cairn_runtime::apply::{self, ExecOptions, Outcome, Stop, Summary};
use cairn_runtime::engine::{health_keys, Engine, Event, Stack};
use cairn_runtime::fence::{Fence, Timing};
use cairn_runtime::kube::lock;
use cairn_runtime::kube::rollouts::Unhealthy;
use cairn_runtime::model::ObjectKey;
use cairn_runtime::plan::{Options, Plan};
use cairn_runtime::provider::{LockRequest, RunOptions};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use super::live::{self, ClusterFlags};
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
    /// `--rollback-on-failure`: a workload whose rollout fails goes back to its previous revision.
    pub rollback_on_failure: bool,
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
    let Some(stack) = live::load_stack(out, &dir) else { return ERROR };
    let Some(mut engine) = live::open(out, flags, &stack).await else { return ERROR };
    let holder = lock::holder_identity();
    let timing = lock_timing();
    let stop = Stop::new();
    let request = LockRequest { stack: stack.name(), holder: &holder, timeout: args.lock_timeout, timing: &timing, stop: &stop };
    let guard = match engine.lock(&request, &mut |e| live::render_event(out, flags.verbose, e)).await {
        Ok(g) => g,
        Err(e) => {
            out.report(&e);
            return ERROR;
        }
    };
    // From here on a signal stops the run in order: no new step, the lock given back, a summary.
    let signals = tokio::spawn(stop_on_signal(stop.clone()));
    let fence = guard.fence().clone();
    let code = locked(out, flags, &mut engine, &stack, saved.as_ref(), args, &fence, &stop).await;
    signals.abort();
    if let Err(e) = guard.release().await {
        out.report(&e);
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

/// Everything done while holding the lock.
#[allow(clippy::too_many_arguments)]
async fn locked(
    out: &Output,
    flags: &ClusterFlags,
    engine: &mut Engine,
    stack: &Stack,
    saved: Option<&SavedPlan>,
    args: &ApplyArgs,
    fence: &Fence,
    stop: &Stop,
) -> u8 {
    let options = match saved {
        Some(s) => Options { adopt: s.adopt, targets: s.targets.clone(), destroy: s.destroy },
        None => Options { adopt: args.adopt, targets: args.targets.clone(), destroy: args.destroy },
    };
    if !live::read(out, flags, engine, &options).await {
        return ERROR;
    }
    let plan = match engine.plan(&options) {
        Ok(plan) => plan,
        Err(e) => {
            out.report(&e);
            return ERROR;
        }
    };
    let server = engine.server();
    if let Some(saved) = saved {
        let pools = crate::saved_plan::pool_bodies(&stack.compilation);
        let stale = saved.staleness(&stack.sources_hash, &stack.desired, &pools, engine.secret_key(), &server, &plan);
        if !stale.is_empty() {
            out.error("the saved plan is stale; nothing was applied:");
            for why in &stale {
                out.info(&format!("  - {why}"));
            }
            out.info("  help: make a new plan with `cairn plan -o FILE` and review it");
            return ERROR;
        }
    }
    let (findings, allowed) =
        live::judge(out, stack, &plan, if options.destroy { live::PlanPhase::Destroy } else { live::PlanPhase::Plan });
    let view = if options.destroy { plan_view::destroy_text } else { plan_view::text };
    out.stdout(&view(&plan, &server, out.color(), &findings));
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
        return match stack_health(out, flags, engine, &plan, args).await {
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
    let run = RunOptions { force_conflicts: args.force_conflicts, timeout: args.timeout, rollback_on_failure: args.rollback_on_failure };
    let exec = ExecOptions { parallelism: args.parallelism.max(1), stop: stop.clone(), grace: STOP_GRACE };
    let mut progress = Progress::new(out, &plan, args.quiet);
    let executed = engine
        .execute(&plan, &run, &exec, fence, &mut |e| match e {
            Event::Step(step) => progress.event(step),
            other => live::render_event(out, flags.verbose, other),
        })
        .await;
    progress.finish();
    let summary = match executed {
        Ok((summary, warnings)) => {
            for w in &warnings {
                out.report(w);
            }
            summary
        }
        Err(e) => {
            out.report(&e);
            out.info("nothing was applied");
            return ERROR;
        }
    };
    // A stopped run (a signal, a lost lock) reports at once: no waiting on rollouts.
    let stopped = stop.reason();
    let health = match stopped {
        Some(_) => Err(()),
        None => stack_health(out, flags, engine, &plan, args).await,
    };
    report(out, &plan, &summary, health.as_deref().ok(), started.elapsed(), stopped.as_deref(), options.destroy);
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
async fn stack_health(out: &Output, flags: &ClusterFlags, engine: &Engine, plan: &Plan, args: &ApplyArgs) -> Result<Vec<Unhealthy>, ()> {
    if args.destroy {
        return Ok(Vec::new());
    }
    let keys = health_keys(plan, true);
    match engine.health(&keys, Some(args.timeout), &mut |e| live::render_event(out, flags.verbose, e)).await {
        Ok(unhealthy) => Ok(unhealthy),
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

/// Progress on stderr: a line per finished step and, on a terminal, a progress bar for the
/// stack below them (indicatif). Plain lines when stderr is not a terminal; with `-q`, only
/// the steps that did not succeed.
struct Progress<'a> {
    out: &'a Output,
    bar: Option<ProgressBar>,
    quiet: bool,
    started: HashMap<ObjectKey, Instant>,
    running: usize,
}

impl<'a> Progress<'a> {
    fn new(out: &'a Output, plan: &Plan, quiet: bool) -> Progress<'a> {
        let bar = (std::io::stderr().is_terminal() && !quiet).then(|| {
            let total = u64::try_from(plan.changes().count()).unwrap_or(u64::MAX);
            let bar = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            let style = ProgressStyle::with_template("{spinner} applying [{bar:30}] {pos}/{len} done, {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> ");
            bar.set_style(style);
            bar.set_message("0 running");
            bar.tick();
            bar.enable_steady_tick(Duration::from_millis(120));
            bar
        });
        Progress { out, bar, quiet, started: HashMap::new(), running: 0 }
    }

    fn event(&mut self, e: &apply::Event) {
        match e {
            apply::Event::Started { step } => {
                self.started.insert(step.key.clone(), Instant::now());
                self.running = self.running.saturating_add(1);
            }
            apply::Event::Finished { step, outcome } => {
                let key = &step.key;
                let took = self.started.get(key).map(|t| format!(" ({:.1}s)", t.elapsed().as_secs_f64())).unwrap_or_default();
                if self.started.contains_key(key) {
                    self.running = self.running.saturating_sub(1);
                }
                let line = match outcome {
                    Outcome::Done(what) => format!("{key}: {what}{took}"),
                    Outcome::Failed(err) => format!("{key}: FAILED: {}{took}", err.message),
                    Outcome::Unverified(err) => format!("{key}: written, not verified: {}{took}", err.message),
                    Outcome::Skipped { .. } | Outcome::NotStarted(_) | Outcome::Abandoned(_) => format!("{key}: {}", outcome.describe()),
                };
                // Steps a stop kept from starting are listed once, in the summary.
                let shown = !matches!(outcome, Outcome::NotStarted(_)) && (!self.quiet || !matches!(outcome, Outcome::Done(_)));
                match &self.bar {
                    Some(bar) => {
                        if shown {
                            bar.println(&line);
                        }
                        bar.inc(1);
                    }
                    None if shown => self.out.info(&line),
                    None => {}
                }
            }
        }
        if let Some(bar) = &self.bar {
            bar.set_message(format!("{} running", self.running));
        }
    }

    fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// The summary of every step's outcome, then the unhealthy workloads (`None`: health was not
/// checked). "Apply complete" only when every step succeeded and every workload is healthy;
/// `stopped` says why the run was cut short, if it was. A destroy says "Destroy complete" and
/// counts what it deleted.
fn report(
    out: &Output,
    plan: &Plan,
    summary: &Summary,
    unhealthy: Option<&[Unhealthy]>,
    took: Duration,
    stopped: Option<&str>,
    destroy: bool,
) {
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
    let done = if destroy { "deleted" } else { "done" };
    let mut counts = format!("{} {done}, {} failed, {} skipped", summary.succeeded(), summary.failed(), summary.skipped());
    if summary.unverified() > 0 {
        counts.push_str(&format!(", {} not verified", summary.unverified()));
    }
    if summary.stopped() > 0 {
        counts.push_str(&format!(", {} not done because the run stopped", summary.stopped()));
    }
    if let Some(u) = unhealthy.filter(|u| !u.is_empty()) {
        counts.push_str(&format!(", {} unhealthy", u.len()));
    }
    let command = if destroy { "Destroy" } else { "Apply" };
    out.stdout(&format!("{command} {status}: {counts} in {:.1}s.\n", took.as_secs_f64()));
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
