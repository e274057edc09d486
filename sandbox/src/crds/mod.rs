//! The CRDs the sandbox preinstalls (Rook's), and CRD status handling.

use serde_json::{json, Value};

const ROOK: &str = include_str!("rook.yaml");

/// Rook's CRDs (CephBlockPool, CephCluster, CephFilesystem, CephObjectStore) and the bucket claim
/// API Rook ships with them (ObjectBucketClaim, ObjectBucket).
pub fn rook() -> Vec<Value> {
    use serde::Deserialize;
    serde_yaml::Deserializer::from_str(ROOK).filter_map(|doc| Value::deserialize(doc).ok()).collect()
}

/// Marks a CRD as accepted and established at `now`, with its names in status, as the
/// apiextensions server does once the new kind is served. The caller gives the time, so this
/// module needs nothing of the store.
pub fn set_established(crd: &mut Value, now: &str) {
    let names = crd["spec"]["names"].clone();
    let stored: Vec<Value> = crd["spec"]["versions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v["storage"].as_bool() == Some(true))
        .map(|v| v["name"].clone())
        .collect();
    crd["status"] = json!({
        "acceptedNames": names,
        "conditions": [
            {"type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found", "lastTransitionTime": now},
            {"type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted", "lastTransitionTime": now}
        ],
        "storedVersions": stored
    });
}

#[cfg(test)]
mod tests {
    #[test]
    fn rook_crds_parse_into_six_kinds() {
        let kinds: Vec<String> = super::rook().iter().map(|c| c["spec"]["names"]["kind"].as_str().unwrap().to_owned()).collect();
        assert_eq!(kinds, ["CephBlockPool", "CephCluster", "CephFilesystem", "CephObjectStore", "ObjectBucketClaim", "ObjectBucket"]);
    }
}
