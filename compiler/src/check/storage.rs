//! The rules of file and object storage (LANGUAGE.md §10): a file system's first data pool,
//! storage classes on a pool or a file system, `ReadWriteMany` volumes, object stores in direct
//! mode, and where bucket references may go.

use cairn_lang::Diagnostic;

use super::{CephMode, Checker, Facts};
use crate::access::{name_of, str_of};
use crate::eval::{BodyValue, Resource};
use crate::schema::Kind;
use crate::value::Value;

pub(super) fn check_storage(cx: &mut Checker<'_>, facts: &Facts) {
    let resources = cx.resources;
    for (i, res) in resources.iter().enumerate() {
        if res.is_existing() {
            continue;
        }
        match res.addr.kind {
            Kind::Filesystem => check_filesystem(cx, res),
            Kind::StorageClass => check_class_source(cx, res),
            Kind::ObjectStore => {
                if let Some(Some(cluster)) = facts.cluster_of.get(i) {
                    if cluster.mode == CephMode::Direct {
                        cx.report(
                            res,
                            Diagnostic::error(
                                "E0425",
                                res.label_span,
                                format!("object store `{}` is on cluster `{}`, which is in direct mode", res.addr.name, cluster.name),
                            )
                            .with_help("object stores need Rook, which runs the RADOS gateways (monitor commands cannot): use a cluster with `ceph { mode = \"rook\" }`"),
                        );
                    }
                }
            }
            Kind::Workload => {
                check_shared_volumes(cx, res);
                check_bucket_namespaces(cx, res);
            }
            _ => {}
        }
        check_bucket_references(cx, res);
    }
}

/// E0422: a file system needs a data pool, and its first (default) one must be replicated:
/// CephFS keeps every file's backtrace there.
fn check_filesystem(cx: &mut Checker<'_>, res: &Resource) {
    let Some(first) = res.body.block("data") else {
        cx.report(
            res,
            Diagnostic::error("E0422", res.label_span, format!("file system `{}` has no `data` pool", res.addr.name))
                .with_help("add `data \"default\" { size = 3 }`: file data lives in data pools"),
        );
        return;
    };
    if str_of(&first.body, "type").as_deref() == Some("erasure") {
        let at = first.body.attr("type").map_or(first.kind_span, |a| a.span);
        cx.report(
            res,
            Diagnostic::error(
                "E0422",
                at,
                format!("the first data pool of file system `{}` is erasure-coded; it must be replicated", res.addr.name),
            )
            .with_help("CephFS keeps its backtraces in the first data pool: add a replicated `data` block before this one, and point storage classes at this one with `data = …`"),
        );
    }
}

/// E0423: a storage class takes exactly one of `pool` and `filesystem`; with `filesystem`,
/// `data` names one of its data pools and `fs_type` is not accepted; `data` needs `filesystem`.
fn check_class_source(cx: &mut Checker<'_>, res: &Resource) {
    let body = &res.body;
    let (pool, fs) = (body.attr("pool"), body.attr("filesystem"));
    match (pool, fs) {
        (Some(_), Some(f)) => cx.report(
            res,
            Diagnostic::error("E0423", f.name_span, format!("storage class `{}` sets both `pool` and `filesystem`", res.addr.name))
                .with_help("RBD volumes come from a `pool`, CephFS volumes from a `filesystem`: keep one"),
        ),
        (None, None) => cx.report(
            res,
            Diagnostic::error("E0423", res.label_span, format!("storage class `{}` sets neither `pool` nor `filesystem`", res.addr.name))
                .with_help("add `pool = pool.NAME` for RBD volumes or `filesystem = filesystem.NAME` for shared CephFS volumes"),
        ),
        _ => {}
    }
    if fs.is_none() {
        if let Some(d) = body.attr("data") {
            cx.report(
                res,
                Diagnostic::error("E0423", d.name_span, "`data` picks a file system's data pool; this class has no `filesystem`")
                    .with_help("remove `data`, or set `filesystem`"),
            );
        }
        return;
    }
    if let Some(t) = body.attr("fs_type") {
        cx.report(
            res,
            Diagnostic::error("E0423", t.name_span, "`fs_type` applies to RBD volumes; a CephFS volume has no file system to format")
                .with_help("remove `fs_type`"),
        );
    }
    let Some(fs_name) = name_of(body, "filesystem") else { return };
    let Some(fs) = cx.find(Kind::Filesystem, &fs_name) else { return };
    if fs.is_existing() {
        if body.attr("data").is_none() {
            cx.report(
                res,
                Diagnostic::error(
                    "E0423",
                    res.label_span,
                    format!("storage class `{}` needs `data` on existing file system `{fs_name}`", res.addr.name),
                )
                .with_label(fs.label_span, "cairn does not know this file system's data pools")
                .with_help("name the data pool volumes go to: `data = \"NAME\"` for the pool `<filesystem>-NAME`"),
            );
        }
        return;
    }
    let Some(d) = body.attr("data") else { return };
    let Some(wanted) = d.value.as_str() else { return };
    let pools: Vec<&str> = fs.body.blocks_of("data").filter_map(|b| b.label.as_ref().map(|(l, _)| l.as_str())).collect();
    if !pools.contains(&wanted) {
        let help = match crate::eval::did_you_mean(wanted, pools.iter().copied()) {
            Some(p) => format!("did you mean `{p}`?"),
            None => format!("the data pools of `{fs_name}` are: {}", pools.join(", ")),
        };
        cx.report(
            res,
            Diagnostic::error("E0423", d.span, format!("file system `{fs_name}` has no data pool `{wanted}`"))
                .with_label(fs.label_span, "declared here")
                .with_help(help),
        );
    }
}

/// E0424: a `ReadWriteMany` volume needs a CephFS storage class; an RBD image is mounted by
/// one node at a time.
fn check_shared_volumes(cx: &mut Checker<'_>, res: &Resource) {
    for v in res.body.blocks_of("volume") {
        let Some(access) = v.body.attr("access") else { continue };
        if access.value.as_str() != Some("ReadWriteMany") {
            continue;
        }
        let Some(class_name) = name_of(&v.body, "storage_class") else { continue };
        let Some(class) = cx.find(Kind::StorageClass, &class_name) else { continue };
        if class.body.attr("pool").is_some() && class.body.attr("filesystem").is_none() {
            cx.report(
                res,
                Diagnostic::error(
                    "E0424",
                    access.span,
                    format!("a ReadWriteMany volume on storage class `{class_name}`, which provisions RBD block volumes"),
                )
                .with_label(class.label_span, "an RBD class (it names a `pool`)")
                .with_help("shared volumes need CephFS: declare a `filesystem` and a storage class with `filesystem = filesystem.NAME`"),
            );
        }
    }
}

/// E0426: a pod reads a bucket's ConfigMap and Secret, which exist in the claim's namespace
/// only.
fn check_bucket_namespaces(cx: &mut Checker<'_>, res: &Resource) {
    let Some(ns) = name_of(&res.body, "namespace") else { return };
    let sidecars = res.body.blocks.iter().filter(|b| b.kind == "container" || b.kind == "init").map(|b| &b.body);
    for body in std::iter::once(&*res.body).chain(sidecars) {
        let Some(env) = body.attr("env") else { continue };
        let Value::Map(m) = env.value.unwrap_sensitive().0 else { continue };
        for (k, v) in m.iter() {
            let Value::Ref(r) = v.unwrap_sensitive().0 else { continue };
            if r.kind != Kind::Bucket {
                continue;
            }
            let Some(bucket) = cx.find(Kind::Bucket, &r.name) else { continue };
            let Some(bns) = name_of(&bucket.body, "namespace") else { continue };
            if bns != ns {
                cx.report(
                    res,
                    Diagnostic::error(
                        "E0426",
                        env.key_span(k),
                        format!("env `{k}` reads bucket `{}` in namespace `{bns}`, but the workload runs in `{ns}`", r.name),
                    )
                    .with_label(bucket.label_span, "the bucket is claimed here")
                    .with_help("a bucket's ConfigMap and Secret live beside its claim: claim the bucket in the workload's namespace"),
                );
            }
        }
    }
}

/// E0426: `bucket.B.access_key` and friends are known only once the bucket exists, in the
/// pod: they may appear only as `env` values.
fn check_bucket_references(cx: &mut Checker<'_>, res: &Resource) {
    fn walk(cx: &mut Checker<'_>, res: &Resource, block: &str, body: &BodyValue) {
        for a in &body.attrs {
            let env = a.name == "env" && res.addr.kind == Kind::Workload && matches!(block, "workload" | "container" | "init");
            if env {
                continue;
            }
            if let Some(name) = bucket_reference(&a.value) {
                cx.report(
                    res,
                    Diagnostic::error("E0426", a.span, format!("`{}` reads bucket `{name}`, which only a pod's `env` can", a.name))
                        .with_help("the bucket's name, endpoint and keys exist once Rook made the bucket: pass them to a workload as `env = { BUCKET = bucket.NAME.name }`"),
                );
            }
        }
        for b in &body.blocks {
            walk(cx, res, &b.kind, &b.body);
        }
    }
    walk(cx, res, res.addr.kind.as_str(), &res.body);
}

/// The bucket a value reads a key of (`bucket.media.host`), anywhere inside it.
pub(super) fn bucket_reference(v: &Value) -> Option<String> {
    match v.unwrap_sensitive().0 {
        Value::Ref(r) if r.kind == Kind::Bucket && r.key.is_some() => Some(r.name.clone()),
        Value::List(items) => items.iter().find_map(bucket_reference),
        Value::Map(m) => m.values().find_map(bucket_reference),
        _ => None,
    }
}
