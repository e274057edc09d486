//! `cairn status`: the live health of the stack's workloads, each unhealthy one explained at
//! the source line that declared its cause (DESIGN.md §8.2). Exit 0 healthy, 2 unhealthy, 1 error.

use std::path::Path;

use cairn_runtime::engine::health_keys;

use super::live::{self, ClusterFlags};
use super::plan::{runtime, CHANGES, ERROR, OK};
use crate::output::Output;
use crate::{status_view, Format};

/// Runs `status`; returns the exit code.
pub fn run(out: &Output, flags: &ClusterFlags, dir: &Path, format: Format) -> u8 {
    let Some(rt) = runtime(out) else { return ERROR };
    rt.block_on(async {
        let Some((stack, engine, plan)) = super::plan::read_and_plan(out, flags, dir).await else { return ERROR };
        let keys = health_keys(&plan, false);
        let unhealthy = match engine.health(&keys, None, &mut |e| live::render_event(out, flags.verbose, e)).await {
            Ok(u) => u,
            Err(e) => {
                out.report(&e);
                return ERROR;
            }
        };
        let c = &stack.compilation;
        let mut findings: Vec<status_view::Finding> = unhealthy.iter().map(|u| status_view::explain(c, u)).collect();
        findings.sort_by_key(|f| (c.program.sources.display(f.diagnostic.span.file).to_string(), f.diagnostic.span.start));
        match format {
            Format::Json => out.stdout(&status_view::json(c, &findings)),
            Format::Text => {
                let diags: Vec<cairn_lang::Diagnostic> = findings.iter().map(|f| f.diagnostic.clone()).collect();
                out.diagnostics(&c.program.sources, &diags, &c.secret_spans);
                let workloads = keys.iter().filter(|k| cairn_runtime::kube::rollouts::is_workload(k)).count();
                out.info(&format!("{}: {} of {workloads} workloads healthy", dir.display(), workloads.saturating_sub(findings.len())));
            }
        }
        if findings.is_empty() {
            OK
        } else {
            CHANGES
        }
    })
}
