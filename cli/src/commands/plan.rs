//! `cairn plan` and `cairn drift`: read live state, plan, show it.

use std::path::{Path, PathBuf};

use cairn_runtime::engine::{health_keys, Engine};
use cairn_runtime::kube::rollouts::Unhealthy;
use cairn_runtime::plan::{Options, Plan};

use super::live::{self, ClusterFlags};
use crate::output::Output;
use crate::saved_plan::SavedPlan;
use crate::{plan_view, DriftFormat, Format};

/// The exit codes of `plan` and `drift` (README, Commands).
pub const OK: u8 = 0;
pub const ERROR: u8 = 1;
pub const CHANGES: u8 = 2;

/// `plan`'s arguments.
pub struct PlanArgs {
    pub dir: PathBuf,
    pub out_file: Option<PathBuf>,
    pub json: bool,
    pub detailed_exitcode: bool,
    pub targets: Vec<String>,
    pub adopt: bool,
}

/// A current-thread runtime for one command.
pub fn runtime(out: &Output) -> Option<tokio::runtime::Runtime> {
    match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(rt) => Some(rt),
        Err(e) => {
            out.error(&format!("cannot start the async runtime: {e}"));
            None
        }
    }
}

/// Runs `plan`; returns the exit code.
pub fn plan(out: &Output, flags: &ClusterFlags, args: &PlanArgs) -> u8 {
    let Some(rt) = runtime(out) else { return ERROR };
    rt.block_on(plan_async(out, flags, args))
}

async fn plan_async(out: &Output, flags: &ClusterFlags, args: &PlanArgs) -> u8 {
    live::observe_retries(out, false, cairn_runtime::kube::retry::DEFAULT_BUDGET);
    let Some(stack) = live::load_stack(out, &args.dir) else { return ERROR };
    let options = Options { adopt: args.adopt, targets: args.targets.clone(), destroy: false };
    let Some(mut engine) = live::open_and_read(out, flags, &stack, &options).await else { return ERROR };
    if args.out_file.is_some() {
        // A saved plan's secret HMACs must survive until apply: the key is stored now — or,
        // when another `plan -o` stored one first, that one is used.
        if let Err(e) = engine.keep_secret_key().await {
            out.report(&e);
            return ERROR;
        }
    }
    let plan = match engine.plan(&options) {
        Ok(plan) => plan,
        Err(e) => {
            out.report(&e);
            return ERROR;
        }
    };
    let server = engine.server();
    let (findings, allowed) = live::judge(out, &stack, &plan, live::PlanPhase::Plan);
    let unhealthy = health_notes(out, flags, &engine, &plan).await;
    if args.json {
        out.stdout(&format!("{:#}\n", plan_view::json(&plan, &server, &engine.clusters(), "plan", &findings, &unhealthy)));
    } else {
        out.stdout(&plan_view::text(&plan, &server, out.color(), &findings));
        out.stdout(&plan_view::health_text(&unhealthy));
    }
    if let Some(file) = &args.out_file {
        let saved = SavedPlan::new(
            &stack.desired,
            crate::saved_plan::pool_bodies(&stack.compilation),
            engine.secret_key(),
            &stack.dir,
            &stack.sources_hash,
            &server,
            engine.clusters(),
            &options,
            &plan,
        );
        if let Err(e) = saved.write(file) {
            out.report(&e);
            return ERROR;
        }
        out.info(&format!("saved the plan to {}; apply it with `cairn apply {}`", file.display(), file.display()));
    }
    if !plan.refusals.is_empty() || !allowed {
        return ERROR;
    }
    if args.detailed_exitcode && !plan.is_empty() {
        return CHANGES;
    }
    OK
}

/// Runs `drift`: 0 in sync, 2 differences, 1 error.
pub fn drift(out: &Output, flags: &ClusterFlags, dir: &Path, format: DriftFormat) -> u8 {
    let Some(rt) = runtime(out) else { return ERROR };
    rt.block_on(async {
        let Some((stack, engine, plan)) = read_and_plan(out, flags, dir).await else { return ERROR };
        let server = engine.server();
        let (findings, allowed) = live::judge(out, &stack, &plan, live::PlanPhase::Plan);
        let unhealthy = health_notes(out, flags, &engine, &plan).await;
        match format {
            DriftFormat::Text => {
                out.stdout(&plan_view::text(&plan, &server, out.color(), &findings));
                out.stdout(&plan_view::health_text(&unhealthy));
            }
            DriftFormat::Json => {
                out.stdout(&format!("{:#}\n", plan_view::json(&plan, &server, &engine.clusters(), "drift", &findings, &unhealthy)))
            }
            DriftFormat::Markdown => out.stdout(&plan_view::markdown(&plan, &server, &findings, &unhealthy)),
        }
        if !plan.refusals.is_empty() || !allowed {
            return ERROR;
        }
        if plan.is_empty() {
            OK
        } else {
            CHANGES
        }
    })
}

/// What `drift` starts with: the stack compiled, the live state read, and the plan against it
/// (whole stack, no adoption); `None` once an error was reported.
async fn read_and_plan(out: &Output, flags: &ClusterFlags, dir: &Path) -> Option<(cairn_runtime::engine::Stack, Engine, Plan)> {
    let stack = live::load_stack(out, dir)?;
    live::observe_retries(out, false, cairn_runtime::kube::retry::DEFAULT_BUDGET);
    let options = Options::default();
    let engine = live::open_and_read(out, flags, &stack, &options).await?;
    match engine.plan(&options) {
        Ok(plan) => Some((stack, engine, plan)),
        Err(e) => {
            out.report(&e);
            None
        }
    }
}

/// The stack's workloads (those apply waits for) that are failed or still rolling out, judged
/// once from the snapshot plus the ReplicaSets and pods of their namespaces. A note, never a
/// change: exit codes do not depend on it. When it cannot be checked, a warning says so.
async fn health_notes(out: &Output, flags: &ClusterFlags, engine: &Engine, plan: &Plan) -> Vec<Unhealthy> {
    let keys = health_keys(plan, false);
    match engine.health(&keys, None, &mut |e| live::render_event(out, flags.verbose, e)).await {
        Ok(unhealthy) => unhealthy,
        Err(e) => {
            out.info(&format!("warning: could not check the health of the stack's workloads: {e}"));
            Vec::new()
        }
    }
}

/// Runs `show`: a plan saved with `plan -o`, printed as `plan` printed it (without the policy
/// results and health notes, which are not saved); true when the file could be read.
pub fn show(out: &Output, file: &Path, format: Format) -> bool {
    let saved = match SavedPlan::read(file) {
        Ok(s) => s,
        Err(e) => {
            out.report(&e);
            return false;
        }
    };
    let command = if saved.destroy { "destroy" } else { "plan" };
    match format {
        Format::Json => {
            let mut json = plan_view::json(&saved.plan, &saved.cluster, &saved.clusters, command, &[], &[]);
            if let Some(o) = json.as_object_mut() {
                o.insert(
                    "saved".into(),
                    serde_json::json!({"dir": saved.dir, "targets": saved.targets, "adopt": saved.adopt, "destroy": saved.destroy}),
                );
            }
            out.stdout(&format!("{json:#}\n"));
        }
        Format::Text => {
            let mut what = String::new();
            if saved.destroy {
                what.push_str(", destroy");
            }
            if saved.adopt {
                what.push_str(", --adopt");
            }
            for t in &saved.targets {
                what.push_str(&format!(", --target {t}"));
            }
            out.stdout(&format!("Saved plan {} of {}{what}:\n\n", file.display(), saved.dir.display()));
            let view = if saved.destroy { plan_view::destroy_text } else { plan_view::text };
            out.stdout(&view(&saved.plan, &saved.cluster, out.color(), &[]));
        }
    }
    true
}
