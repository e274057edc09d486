//! The tests that need an outside tool (`kubectl`) fail under `CI=true` where it is missing
//! (`support/ci.rs`), rather than skip green.

use crate::ci;

#[test]
fn under_ci_the_kubectl_part_fails_without_kubectl() {
    let (ok, out) = ci::rerun("out_of_band_changes_are_drift_undeclared_labels_are_not_and_edits_are_pending", Some("true"), true);
    assert!(!ok && out.contains("kubectl is not installed and CI=true"), "{out}");
}
