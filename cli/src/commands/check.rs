//! `cairn check`: every diagnostic of a stack, as text or JSON.

use std::path::Path;

use cairn_compiler::Mode;

use crate::output::Output;
use crate::{report, Format};

/// Runs `check`; true when there are no errors.
pub fn run(out: &Output, dir: &Path, format: Format) -> bool {
    let Some(mut c) = super::compile_dir(out, dir, Mode::Check) else { return false };
    // Policies judge a stack that compiles (phase `check`, docs/policy-abi.md).
    if !c.has_errors() {
        let found = cairn_runtime::policy::stack::diagnostics_reporting(&c, "check", &mut |p| super::live::compiling_policy(out, p));
        c.diagnostics.extend(found);
    }
    // The process ends after this command: freeing a large compilation allocation by
    // allocation takes longer than writing it out, so it is left to the operating system.
    let c = std::mem::ManuallyDrop::new(c);
    match format {
        Format::Json => out.stdout(&report::json(&c.program.sources, &c.diagnostics)),
        Format::Text => {
            out.diagnostics(&c.program.sources, &c.diagnostics, &c.secret_spans);
            if !c.has_errors() {
                let n = c.resources.len();
                out.info(&format!(
                    "{} ok: {n} resource{}, {} object{}",
                    dir.display(),
                    if n == 1 { "" } else { "s" },
                    c.objects.len(),
                    if c.objects.len() == 1 { "" } else { "s" }
                ));
            }
        }
    }
    !c.has_errors()
}
