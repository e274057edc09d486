//! Routes (LANGUAGE.md §10): an `Ingress` (`networking.k8s.io/v1`) with one rule for the host,
//! a `Prefix` path per `path` block in declaration order, each to its workload's Service, and
//! the TLS secret for the host.

use std::collections::BTreeMap;

use serde_json::{json, Map, Value as Json};

use super::{namespace_of, Lowering};
use crate::access::{int_of, name_of, str_of};
use crate::eval::Resource;
use crate::schema::Kind;

/// The Service port of each exposed workload, by name: a path's default port.
pub(super) fn exposed_ports(resources: &[Resource]) -> BTreeMap<String, i64> {
    resources
        .iter()
        .filter(|r| r.addr.kind == Kind::Workload)
        .filter_map(|r| Some((r.addr.name.clone(), int_of(&r.body.block("expose")?.body, "port")?)))
        .collect()
}

pub(super) fn route(cx: &mut Lowering, res: &Resource) {
    let body = &res.body;
    let mut paths = Vec::new();
    for p in body.blocks_of("path") {
        let Some((path, _)) = &p.label else { continue };
        let Some(to) = name_of(&p.body, "to") else { continue };
        let Some(port) = int_of(&p.body, "port").or_else(|| cx.exposed.get(&to).copied()) else { continue };
        paths.push(json!({
            "path": path,
            "pathType": "Prefix",
            "backend": { "service": { "name": to, "port": { "number": port } } },
        }));
    }
    let host = str_of(body, "host").unwrap_or_default();
    let mut spec = Map::new();
    if let Some(class) = str_of(body, "class") {
        spec.insert("ingressClassName".into(), json!(class));
    }
    spec.insert("rules".into(), json!([{ "host": host, "http": { "paths": paths } }]));
    if let Some(secret) = name_of(body, "tls") {
        spec.insert("tls".into(), json!([{ "hosts": [host], "secretName": secret }]));
    }
    let ns = namespace_of(res);
    let name = res.addr.name.clone();
    cx.kube(res, "networking.k8s.io/v1", "Ingress", ns.as_deref(), &name, vec![("spec", Json::Object(spec))], vec![]);
}
