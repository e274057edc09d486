//! File and object storage (LANGUAGE.md §10) on the sandbox, in rook mode: `examples/shop`'s
//! CephFS file system, shared uploads volume, object store and bucket; a bucket claim waited
//! for until Bound before the workload that reads it; claims whose class or store is missing
//! failing apply at once; a protected bucket or file system refused on delete without
//! `--allow-data-loss`.

use std::path::Path;

use base64::Engine;

use crate::common::{assert_no_secret, env, Env};

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// The first line of `text` that contains every one of `parts`, by position.
fn line_of(text: &str, parts: &[&str]) -> Option<usize> {
    text.lines().position(|l| parts.iter().all(|p| l.contains(p)))
}

fn decoded(secret: &serde_json::Value, key: &str) -> String {
    let b64 = secret["data"][key].as_str().unwrap_or_else(|| panic!("no {key} in {secret:#}"));
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(b64).unwrap()).unwrap()
}

/// `examples/shop` makes the file system and its class, the uploads volume, the object store,
/// the bucket class and claim; the claim is Bound before the web Deployment (which reads its
/// ConfigMap and Secret) is applied; no bucket key appears in any output; a second plan is empty.
#[test]
fn the_shop_gets_its_file_system_uploads_volume_and_media_bucket() {
    let env = env();
    let shop = env.stack("shop");
    let out = env.cairn(&["apply", s(&shop), "--auto-approve"]).code(0);
    let stdout = &out.all();

    let fs = env.get("ceph.rook.io", "cephfilesystems", "rook-ceph", "shop-files").expect("the CephFilesystem");
    assert_eq!(fs["spec"]["dataPools"][0]["name"], "default", "{fs:#}");
    assert_eq!(fs["spec"]["preserveFilesystemOnDelete"], true, "{fs:#}");
    let class = env.get("storage.k8s.io", "storageclasses", "", "shop-files").expect("the file-system class");
    assert_eq!(class["provisioner"], "rook-ceph.cephfs.csi.ceph.com", "{class:#}");
    assert_eq!(class["parameters"]["fsName"], "shop-files", "{class:#}");
    let uploads = env.get("", "persistentvolumeclaims", "shop", "web-uploads").expect("the uploads claim");
    assert_eq!(uploads["spec"]["accessModes"], serde_json::json!(["ReadWriteMany"]), "{uploads:#}");
    assert_eq!(uploads["status"]["phase"], "Bound", "{uploads:#}");

    env.get("ceph.rook.io", "cephobjectstores", "rook-ceph", "shop-media").expect("the CephObjectStore");
    let bucket_class = env.get("storage.k8s.io", "storageclasses", "", "shop-media-buckets").expect("the bucket class");
    assert_eq!(bucket_class["provisioner"], "rook-ceph.ceph.rook.io/bucket", "{bucket_class:#}");
    let claim = env.get("objectbucket.io", "objectbucketclaims", "shop", "media").expect("the bucket claim");
    assert_eq!(claim["status"]["phase"], "Bound", "{claim:#}");

    // The workload reads the bucket through references, never values.
    let web = env.get("apps", "deployments", "shop", "web").expect("web");
    let envs = web["spec"]["template"]["spec"]["containers"][0]["env"].as_array().unwrap().clone();
    let var = |name: &str| envs.iter().find(|e| e["name"] == name).cloned().unwrap_or_else(|| panic!("no {name}: {envs:#?}"));
    assert_eq!(var("MEDIA_HOST")["valueFrom"]["configMapKeyRef"], serde_json::json!({"name": "media", "key": "BUCKET_HOST"}));
    assert_eq!(var("MEDIA_KEY")["valueFrom"]["secretKeyRef"], serde_json::json!({"name": "media", "key": "AWS_SECRET_ACCESS_KEY"}));

    // Ordered: the claim was waited for until bound before the Deployment was applied.
    let bound = line_of(stdout, &["ObjectBucketClaim", "media", "bound"]).unwrap_or_else(|| panic!("no bound claim line:\n{stdout}"));
    let rolled = line_of(stdout, &["Deployment", "web", "rolled out"]).unwrap_or_else(|| panic!("no web rollout line:\n{stdout}"));
    assert!(bound < rolled, "the Deployment was applied before its bucket was bound:\n{stdout}");

    let secret = env.get("", "secrets", "shop", "media").expect("Rook's bucket Secret");
    let key = decoded(&secret, "AWS_SECRET_ACCESS_KEY");
    let plan = env.cairn(&["plan", s(&shop), "--detailed-exitcode"]).code(0);
    for (what, text) in [("apply", out.all()), ("plan", plan.all())] {
        assert!(!text.contains(&key), "{what} output holds the bucket's secret key:\n{text}");
        assert_no_secret(what, &text);
    }
}

fn manifest_stack(env: &Env, name: &str, yaml: &str) -> std::path::PathBuf {
    let dir = env.write_stack(name, &format!("namespace \"{name}\" {{}}\n\nmanifest \"claim\" {{\n  source = file(\"claim.yaml\")\n}}\n"));
    std::fs::write(dir.join("claim.yaml"), yaml).unwrap();
    dir
}

/// A bucket claim whose class does not exist, or whose Rook class names an object store that
/// does not exist, fails apply at once with the cause instead of waiting for the timeout.
#[test]
fn a_bucket_claim_without_its_class_or_store_fails_apply_fast() {
    let env = env();
    let cases = [
        (
            "noclass",
            "apiVersion: objectbucket.io/v1alpha1\nkind: ObjectBucketClaim\nmetadata: {name: lost, namespace: NS}\nspec: {generateBucketName: lost, storageClassName: nowhere}\n",
            "storageclass/nowhere does not exist",
        ),
        (
            "nostore",
            "apiVersion: storage.k8s.io/v1\nkind: StorageClass\nmetadata: {name: ghost-buckets}\nprovisioner: rook-ceph.ceph.rook.io/bucket\nparameters: {objectStoreName: ghost, objectStoreNamespace: rook-ceph}\n---\napiVersion: objectbucket.io/v1alpha1\nkind: ObjectBucketClaim\nmetadata: {name: lost, namespace: NS}\nspec: {generateBucketName: lost, storageClassName: ghost-buckets}\n",
            "object store rook-ceph/ghost, named by storageclass/ghost-buckets, does not exist",
        ),
    ];
    for (name, yaml, cause) in cases {
        let dir = manifest_stack(&env, name, &yaml.replace("NS", name));
        let started = std::time::Instant::now();
        let out = env.cairn(&["apply", s(&dir), "--auto-approve", "--timeout", "120s"]).code(1);
        let all = out.all();
        assert!(all.contains(&format!("ObjectBucketClaim/{name}/lost")) && all.contains(cause), "{name}: {all}");
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "{name}: it waited for the timeout: {all}");
    }
}

/// A bucket is protected by default: dropping it from the stack is refused without
/// `--allow-data-loss`, and with it the claim goes, and with the claim its ConfigMap and Secret.
/// `destroy` removes the claim before its class and the class before the object store.
#[test]
fn a_protected_bucket_is_deleted_only_with_allow_data_loss_and_destroy_goes_claim_class_store() {
    let env = env();
    let stack = |with_bucket: bool| {
        let bucket =
            if with_bucket { "bucket \"media\" {\n  namespace = namespace.media\n  store     = object_store.media\n}\n" } else { "" };
        format!(
            "namespace \"media\" {{}}\n\nobject_store \"media\" {{\n  protect = false\n  metadata {{ size = 3 }}\n  data {{ size = 3 }}\n}}\n\n{bucket}"
        )
    };
    let dir = env.write_stack("media", &stack(true));
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    assert!(env.get("", "configmaps", "media", "media").is_some(), "Rook's ConfigMap");

    std::fs::write(dir.join("main.cairn"), stack(false)).unwrap();
    let refused = env.cairn(&["apply", s(&dir), "--auto-approve"]).code(1);
    assert!(refused.all().contains("--allow-data-loss"), "{}", refused.all());
    assert!(env.get("objectbucket.io", "objectbucketclaims", "media", "media").is_some(), "the claim survived a refused apply");

    env.cairn(&["apply", s(&dir), "--auto-approve", "--allow-data-loss"]).code(0);
    crate::common::wait_until(20, "the claim and Rook's ConfigMap and Secret to go", || {
        env.get("objectbucket.io", "objectbucketclaims", "media", "media").is_none()
            && env.get("", "configmaps", "media", "media").is_none()
            && env.get("", "secrets", "media", "media").is_none()
    });

    std::fs::write(dir.join("main.cairn"), stack(true)).unwrap();
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    let out = env.cairn(&["destroy", s(&dir), "--auto-approve", "--allow-data-loss"]).code(0);
    let stdout = &out.stdout;
    let claim = line_of(stdout, &["ObjectBucketClaim", "media"]).unwrap_or_else(|| panic!("no claim delete:\n{stdout}"));
    let class = line_of(stdout, &["StorageClass", "media-buckets"]).unwrap_or_else(|| panic!("no class delete:\n{stdout}"));
    let store = line_of(stdout, &["CephObjectStore", "media"]).unwrap_or_else(|| panic!("no store delete:\n{stdout}"));
    assert!(claim < class && class < store, "destroy order is not claim, class, store:\n{stdout}");
}

/// A file system is protected by default: dropping it from the stack is refused, naming it,
/// without `--allow-data-loss`, and nothing is written; with the flag it goes.
#[test]
fn a_protected_file_system_is_deleted_only_with_allow_data_loss() {
    let env = env();
    let with_fs = "filesystem \"files\" {\n  metadata { size = 3 }\n  data \"default\" { size = 3 }\n}\n";
    let dir = env.write_stack("files", &format!("namespace \"files\" {{}}\n\n{with_fs}"));
    env.cairn(&["apply", s(&dir), "--auto-approve"]).code(0);
    assert!(env.get("ceph.rook.io", "cephfilesystems", "rook-ceph", "files").is_some());

    std::fs::write(dir.join("main.cairn"), "namespace \"files\" {}\n").unwrap();
    let plan = env.cairn(&["plan", s(&dir)]).code(0);
    assert!(plan.stdout.contains("CephFilesystem") && plan.stdout.contains("protected: destroys data"), "{}", plan.stdout);
    let refused = env.cairn(&["apply", s(&dir), "--auto-approve"]).code(1);
    let all = refused.all();
    assert!(all.contains("CephFilesystem/rook-ceph/files") && all.contains("--allow-data-loss"), "{all}");
    assert!(env.get("ceph.rook.io", "cephfilesystems", "rook-ceph", "files").is_some(), "a refused apply deleted the file system");

    env.cairn(&["apply", s(&dir), "--auto-approve", "--allow-data-loss"]).code(0);
    assert!(env.get("ceph.rook.io", "cephfilesystems", "rook-ceph", "files").is_none());
}
