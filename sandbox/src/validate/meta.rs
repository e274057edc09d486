//! Object metadata rules shared by every kind and by pod templates: `ValidateLabels`,
//! `ValidateAnnotations` and the two on `metadata`.

use serde_json::Value;

use super::FieldError;
use crate::selector::go_quote;
use cairn_core::names::{label_value_errors, qualified_name_errors};

/// `ValidateLabels`.
pub(super) fn validate_labels(labels: Option<&Value>, path: &str, errs: &mut Vec<FieldError>) {
    for (k, v) in labels.and_then(Value::as_object).into_iter().flatten() {
        for msg in qualified_name_errors(k) {
            errs.push(FieldError::invalid(path, go_quote(k), msg));
        }
        for msg in label_value_errors(v.as_str().unwrap_or_default()) {
            errs.push(FieldError::invalid(path, go_quote(v.as_str().unwrap_or_default()), msg));
        }
    }
}

/// `ValidateAnnotations`: qualified keys (case-insensitively), 256 KiB in all.
pub(super) fn validate_annotations(annotations: Option<&Value>, path: &str, errs: &mut Vec<FieldError>) {
    let Some(annotations) = annotations.and_then(Value::as_object) else { return };
    let mut total = 0usize;
    for (k, v) in annotations {
        for msg in qualified_name_errors(&k.to_lowercase()) {
            errs.push(FieldError::invalid(path, go_quote(k), msg));
        }
        total = total.saturating_add(k.len()).saturating_add(v.as_str().map_or(0, str::len));
    }
    if total > 256 * 1024 {
        errs.push(FieldError::too_long(path, 256 * 1024));
    }
}

/// The labels and annotations of `metadata`.
pub(super) fn validate_metadata(meta: Option<&Value>, errs: &mut Vec<FieldError>) {
    validate_labels(meta.and_then(|m| m.get("labels")), "metadata.labels", errs);
    validate_annotations(meta.and_then(|m| m.get("annotations")), "metadata.annotations", errs);
}
