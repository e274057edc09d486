//! ResourceQuota status: `hard` as declared, `used` as counted now.

use serde_json::json;

use super::{objects, rtype, set_status};
use crate::admission;
use crate::store::State;

/// One pass over quotas.
pub fn update(state: &mut State) {
    let Some(t) = rtype(state, "", "resourcequotas") else { return };
    for quota in objects(state, "", "resourcequotas", None) {
        let Some(hard) = quota["spec"]["hard"].as_object() else { continue };
        let ns = quota["metadata"]["namespace"].as_str().unwrap_or_default();
        let used = admission::usage(state, ns, hard);
        set_status(state, &t, &quota, json!({"hard": hard, "used": used}));
    }
}
