//! `cairn status`: the live health of the stack's workloads, each unhealthy one explained at
//! the source line that declared its cause (DESIGN.md §8.2). Exit 0 healthy, 2 unhealthy, 1 error.
//! The reading and explaining is `cairn_runtime::status`; this renders it.

use std::path::Path;

use super::live::{self, ClusterFlags};
use super::plan::{runtime, CHANGES, ERROR, OK};
use crate::output::Output;
use crate::{report, Format};

/// Runs `status`; returns the exit code.
pub fn run(out: &Output, flags: &ClusterFlags, dir: &Path, format: Format) -> u8 {
    let Some(rt) = runtime(out) else { return ERROR };
    rt.block_on(async {
        let Some(stack) = live::load_stack(out, dir) else { return ERROR };
        live::observe_retries(out, false, cairn_runtime::kube::retry::DEFAULT_BUDGET);
        let status = match cairn_runtime::status::check(&stack, &flags.connect(), &mut |e| live::render_event(out, flags.verbose, e)).await
        {
            Ok(s) => s,
            Err(e) => {
                out.report(&e);
                return ERROR;
            }
        };
        let c = &stack.compilation;
        match format {
            Format::Json => {
                let found: Vec<report::Found<'_>> = status
                    .findings
                    .iter()
                    .map(|f| report::Found { diagnostic: &f.diagnostic, object: &f.object, evidence: &f.evidence })
                    .collect();
                out.stdout(&report::json_found(&c.program.sources, &found))
            }
            Format::Text => {
                let diags: Vec<cairn_lang::Diagnostic> = status.findings.iter().map(|f| f.diagnostic.clone()).collect();
                out.diagnostics(&c.program.sources, &diags, &c.secret_spans);
                out.info(&format!("{}: {} of {} workloads healthy", dir.display(), status.healthy(), status.workloads));
            }
        }
        if status.findings.is_empty() {
            OK
        } else {
            CHANGES
        }
    })
}
