//! The sandbox's stand-in for an ingress controller: it serves no traffic, and only speaks up
//! when an Ingress names an IngressClass that does not exist (a `Warning` event), which a real
//! cluster leaves silent — the Ingress simply never gets an address. The sandbox seeds no
//! IngressClass.

use super::{events, objects, rtype};
use crate::store::State;

const COMPONENT: &str = "cairn-sandbox";
/// The reason of the event.
pub const REASON: &str = "IngressClassNotFound";

/// One pass over all Ingresses.
pub fn reconcile(state: &mut State) {
    let Some(classes) = rtype(state, "networking.k8s.io", "ingressclasses") else { return };
    for ingress in objects(state, "networking.k8s.io", "ingresses", None) {
        let Some(class) = ingress["spec"]["ingressClassName"].as_str() else { continue };
        if !ingress["metadata"]["deletionTimestamp"].is_null() || state.get(&classes.key(), "", class).is_some() {
            continue;
        }
        let message = format!(
            "IngressClass {class:?} not found: no ingress controller will serve this Ingress (the cairn sandbox runs none; it records this event where a cluster would stay silent)"
        );
        events::record_each(state, &ingress, "Warning", REASON, &message, COMPONENT);
    }
}
