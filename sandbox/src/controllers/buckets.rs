//! Rook's bucket provisioner (lib-bucket-provisioner driven by Rook's operator), simulated: an
//! `ObjectBucketClaim` whose StorageClass names provisioner [`PROVISIONER`] and a `Ready`
//! `CephObjectStore` gets an `ObjectBucket`, a ConfigMap and a Secret of the claim's name with
//! the keys Rook writes, and reports `Bound`; any other claim stays `Pending`, with an event that
//! says why. A deleted claim loses its bucket, then its finalizer; the garbage collector takes
//! the ConfigMap and Secret, which the claim owns.

use base64::Engine;
use serde_json::{json, Value};

use super::{events, objects, rtype, set_status, without_finalizer};
use crate::api::write::{commit, delete_object, Ownership, Propagation, WriteCtx};
use crate::registry::{ResourceType, TypeKey};
use crate::store::{self, State};

/// The provisioner name Rook gives bucket StorageClasses (operator namespace `rook-ceph`).
pub const PROVISIONER: &str = "rook-ceph.ceph.rook.io/bucket";
/// The finalizer the provisioner puts on a claim it has bound.
const FINALIZER: &str = "objectbucket.io/finalizer";
/// The region Rook writes into `BUCKET_REGION` when the class names none.
const DEFAULT_REGION: &str = "us-east-1";

struct Types {
    claims: ResourceType,
    buckets: ResourceType,
    config_maps: ResourceType,
    secrets: ResourceType,
}

fn types(state: &State) -> Option<Types> {
    Some(Types {
        claims: rtype(state, "objectbucket.io", "objectbucketclaims")?,
        buckets: rtype(state, "objectbucket.io", "objectbuckets")?,
        config_maps: rtype(state, "", "configmaps")?,
        secrets: rtype(state, "", "secrets")?,
    })
}

/// Why a claim cannot be bound yet: an event to record (type, reason, message), or none when
/// the claim only waits (its object store is not `Ready` yet).
type Wait = Option<(&'static str, &'static str, String)>;

/// Where a claim's bucket lives, once its class and store are found.
struct Endpoint {
    class: String,
    reclaim: String,
    host: String,
    port: i64,
    region: String,
    /// The bucket name a class gives for an existing bucket (brownfield), if any.
    existing: Option<String>,
}

fn endpoint(state: &State, claim: &Value) -> Result<Endpoint, Wait> {
    let Some(class) = claim["spec"]["storageClassName"].as_str().filter(|c| !c.is_empty()) else {
        return Err(Some(("Warning", "ProvisioningFailed", "spec.storageClassName is empty: a bucket claim needs a bucket class".into())));
    };
    let key = TypeKey { group: "storage.k8s.io".into(), plural: "storageclasses".into() };
    let Some(sc) = state.get(&key, "", class) else {
        return Err(Some(("Warning", "ProvisioningFailed", format!("storageclass.storage.k8s.io \"{class}\" not found"))));
    };
    let provisioner = sc["provisioner"].as_str().unwrap_or_default();
    if provisioner != PROVISIONER {
        return Err(Some((
            "Normal",
            "ExternalProvisioning",
            format!("waiting for a bucket to be created by the external provisioner \"{provisioner}\""),
        )));
    }
    let params = &sc["parameters"];
    let store = params["objectStoreName"].as_str().unwrap_or_default();
    let store_ns = params["objectStoreNamespace"].as_str().unwrap_or_default();
    let stores = TypeKey { group: "ceph.rook.io".into(), plural: "cephobjectstores".into() };
    let Some(found) = state.get(&stores, store_ns, store) else {
        return Err(Some((
            "Warning",
            "ProvisioningFailed",
            format!("CephObjectStore \"{store_ns}/{store}\" named by storageclass \"{class}\" not found"),
        )));
    };
    if found["status"]["phase"] != "Ready" {
        return Err(None);
    }
    let port = found["spec"]["gateway"]["port"].as_i64().unwrap_or(80);
    Ok(Endpoint {
        class: class.to_owned(),
        reclaim: sc["reclaimPolicy"].as_str().unwrap_or("Delete").to_owned(),
        host: format!("rook-ceph-rgw-{store}.{store_ns}.svc"),
        port,
        region: params["region"].as_str().unwrap_or(DEFAULT_REGION).to_owned(),
        existing: params["bucketName"].as_str().filter(|b| !b.is_empty()).map(str::to_owned),
    })
}

/// One pass over claims not yet bound.
pub fn provision(state: &mut State) {
    let Some(t) = types(state) else { return };
    for claim in objects(state, "objectbucket.io", "objectbucketclaims", None) {
        if claim["status"]["phase"] == "Bound" || !claim["metadata"]["deletionTimestamp"].is_null() {
            continue;
        }
        match endpoint(state, &claim) {
            Ok(end) => {
                if let Err(wait) = bind(state, &t, &claim, &end) {
                    pending(state, &t, &claim, Some(wait));
                }
            }
            Err(wait) => pending(state, &t, &claim, wait),
        }
    }
}

fn pending(state: &mut State, t: &Types, claim: &Value, wait: Wait) {
    if let Some((kind, reason, message)) = wait {
        events::record(state, claim, kind, reason, &message, PROVISIONER);
    }
    set_status(state, &t.claims, claim, json!({"phase": "Pending"}));
}

/// The owner reference a claim's ConfigMap and Secret carry.
fn owner(claim: &Value) -> Value {
    json!([{
        "apiVersion": "objectbucket.io/v1alpha1", "kind": "ObjectBucketClaim",
        "name": claim["metadata"]["name"], "uid": claim["metadata"]["uid"],
        "controller": true, "blockOwnerDeletion": true
    }])
}

/// Whether `obj` exists and is not the claim's own (a name clash the provisioner must not overwrite).
fn foreign(obj: Option<&Value>, claim: &Value) -> bool {
    obj.is_some_and(|o| !o["metadata"]["ownerReferences"].as_array().into_iter().flatten().any(|r| r["uid"] == claim["metadata"]["uid"]))
}

/// Random-looking credentials of Rook's shapes (20-character key id, 40-character secret).
fn credentials() -> (String, String) {
    let id: String = store::uid().replace('-', "").to_uppercase().chars().take(20).collect();
    let secret = format!("{}{}", store::uid().replace('-', ""), store::uid().replace('-', "")).chars().take(40).collect();
    (id, secret)
}

fn bind(state: &mut State, t: &Types, claim: &Value, end: &Endpoint) -> Result<(), (&'static str, &'static str, String)> {
    let ns = claim["metadata"]["namespace"].as_str().unwrap_or_default().to_owned();
    let name = claim["metadata"]["name"].as_str().unwrap_or_default().to_owned();
    let cm = state.get(&t.config_maps.key(), &ns, &name).cloned();
    let secret = state.get(&t.secrets.key(), &ns, &name).cloned();
    for (kind, obj) in [("configmap", &cm), ("secret", &secret)] {
        if foreign(obj.as_ref(), claim) {
            return Err((
                "Warning",
                "ProvisioningFailed",
                format!("{kind} \"{name}\" already exists in namespace \"{ns}\" and is not owned by this claim; the provisioner does not overwrite it"),
            ));
        }
    }
    let ob_name = format!("obc-{ns}-{name}");
    let existing = state.get(&t.buckets.key(), "", &ob_name).cloned();
    let bucket = match (&existing, claim["spec"]["bucketName"].as_str().filter(|b| !b.is_empty()), &end.existing) {
        (Some(ob), _, _) => ob["spec"]["endpoint"]["bucketName"].as_str().unwrap_or_default().to_owned(),
        (None, Some(named), _) => named.to_owned(),
        (None, None, Some(brownfield)) => brownfield.clone(),
        (None, None, None) => {
            let prefix = claim["spec"]["generateBucketName"].as_str().filter(|p| !p.is_empty()).unwrap_or(&name);
            format!("{prefix}-{}", store::uid())
        }
    };
    let controller = |verb| WriteCtx::controller(verb, PROVISIONER, None);
    if existing.is_none() {
        let ob = json!({
            "apiVersion": "objectbucket.io/v1alpha1", "kind": "ObjectBucket",
            "metadata": {"name": ob_name, "labels": {"bucket-provisioner": PROVISIONER.replace('/', "-")}, "finalizers": [FINALIZER]},
            "spec": {
                "storageClassName": end.class,
                "reclaimPolicy": end.reclaim,
                "claimRef": {"apiVersion": "objectbucket.io/v1alpha1", "kind": "ObjectBucketClaim", "namespace": ns, "name": name, "uid": claim["metadata"]["uid"]},
                "endpoint": {"bucketHost": end.host, "bucketPort": end.port, "bucketName": bucket, "region": end.region, "subRegion": "", "additionalConfig": {}}
            }
        });
        let Ok((ob, _)) = commit(state, &t.buckets, None, ob, &controller("create"), Ownership::Update) else {
            return Err(("Warning", "ProvisioningFailed", format!("could not create objectbucket \"{ob_name}\"")));
        };
        set_status(state, &t.buckets, &ob, json!({"phase": "Bound"}));
    }
    let labels = json!({"bucket-provisioner": PROVISIONER.replace('/', "-")});
    if cm.is_none() {
        let data = json!({
            "BUCKET_HOST": end.host, "BUCKET_NAME": bucket, "BUCKET_PORT": end.port.to_string(),
            "BUCKET_REGION": end.region, "BUCKET_SUBREGION": ""
        });
        let obj = json!({
            "apiVersion": "v1", "kind": "ConfigMap",
            "metadata": {"name": name, "namespace": ns, "labels": labels, "ownerReferences": owner(claim)},
            "data": data
        });
        let _ = commit(state, &t.config_maps, None, obj, &controller("create"), Ownership::Update);
    }
    if secret.is_none() {
        let (id, key) = credentials();
        let b64 = |s: &str| base64::engine::general_purpose::STANDARD.encode(s);
        let obj = json!({
            "apiVersion": "v1", "kind": "Secret", "type": "Opaque",
            "metadata": {"name": name, "namespace": ns, "labels": labels, "ownerReferences": owner(claim)},
            "data": {"AWS_ACCESS_KEY_ID": b64(&id), "AWS_SECRET_ACCESS_KEY": b64(&key)}
        });
        let _ = commit(state, &t.secrets, None, obj, &controller("create"), Ownership::Update);
    }
    let mut next = claim.clone();
    next["spec"]["bucketName"] = json!(bucket);
    next["spec"]["objectBucketName"] = json!(ob_name);
    let mut finalizers: Vec<Value> = claim["metadata"]["finalizers"].as_array().cloned().unwrap_or_default();
    if !finalizers.iter().any(|f| f == FINALIZER) {
        finalizers.push(json!(FINALIZER));
    }
    next["metadata"]["finalizers"] = json!(finalizers);
    let Ok((bound, _)) = commit(state, &t.claims, Some(claim), next, &controller("update"), Ownership::Update) else {
        return Err(("Warning", "ProvisioningFailed", format!("could not update objectbucketclaim \"{name}\"")));
    };
    set_status(state, &t.claims, &bound, json!({"phase": "Bound"}));
    Ok(())
}

/// Deleted claims: the bucket goes (its data with it under `Delete`; `Retain` keeps the data in
/// the store, as Rook does), then the claim's finalizer.
pub fn release(state: &mut State) {
    let Some(t) = types(state) else { return };
    for claim in objects(state, "objectbucket.io", "objectbucketclaims", None) {
        let held = claim["metadata"]["finalizers"].as_array().is_some_and(|f| f.iter().any(|x| x == FINALIZER));
        if claim["metadata"]["deletionTimestamp"].is_null() || !held {
            continue;
        }
        let ns = claim["metadata"]["namespace"].as_str().unwrap_or_default();
        let name = claim["metadata"]["name"].as_str().unwrap_or_default();
        let ob_name = format!("obc-{ns}-{name}");
        if let Some(ob) = state.get(&t.buckets.key(), "", &ob_name).cloned() {
            let ctx = WriteCtx::controller("update", PROVISIONER, None);
            let _ = commit(state, &t.buckets, Some(&ob), without_finalizer(&ob, FINALIZER), &ctx, Ownership::Update);
            let _ = delete_object(state, &t.buckets, "", &ob_name, Propagation::Background, false, true);
        }
        let ctx = WriteCtx::controller("update", PROVISIONER, None);
        let _ = commit(state, &t.claims, Some(&claim), without_finalizer(&claim, FINALIZER), &ctx, Ownership::Update);
    }
}
