//! Services: `SetDefaults_Service`, and on create what the Service REST storage does —
//! `NormalizeClusterIPs`, `initIPFamilyFields` for a single-stack IPv4 cluster, ClusterIP and
//! node-port allocation, and the fresh `status.loadBalancer`.

use std::collections::BTreeMap;

use serde_json::{json, Value};

use super::{child, default_ptr, default_str, items, str_of, unset, DefaultsContext, Obj};

pub(super) fn service(obj: &mut Obj, ctx: Option<&mut dyn DefaultsContext>) {
    let Some(spec) = child(obj, "spec") else { return };
    set_defaults(spec);
    if let Some(ctx) = ctx {
        allocate(spec, ctx);
        obj.insert("status".into(), json!({"loadBalancer": {}}));
    }
}

/// `SetDefaults_Service`.
fn set_defaults(spec: &mut Obj) {
    default_str(spec, "sessionAffinity", "None");
    match str_of(spec, "sessionAffinity") {
        "None" => {
            spec.shift_remove("sessionAffinityConfig");
        }
        "ClientIP" => {
            let has_timeout = spec
                .get("sessionAffinityConfig")
                .and_then(|c| c.get("clientIP"))
                .and_then(|c| c.get("timeoutSeconds"))
                .is_some_and(|t| !t.is_null());
            if !has_timeout {
                spec.insert("sessionAffinityConfig".into(), json!({"clientIP": {"timeoutSeconds": 10800}}));
            }
        }
        _ => {}
    }
    default_str(spec, "type", "ClusterIP");
    for port in items(spec, "ports") {
        default_str(port, "protocol", "TCP");
        let target_unset = port.get("targetPort").is_none_or(|t| t.is_null() || t.as_i64() == Some(0) || t.as_str() == Some(""));
        if target_unset {
            if let Some(p) = port.get("port").cloned() {
                port.insert("targetPort".into(), p);
            }
        }
    }
    let service_type = str_of(spec, "type").to_owned();
    let has_external_ips = spec.get("externalIPs").and_then(Value::as_array).is_some_and(|ips| !ips.is_empty());
    let externally_accessible =
        service_type == "LoadBalancer" || service_type == "NodePort" || (service_type == "ClusterIP" && has_external_ips);
    if externally_accessible {
        default_str(spec, "externalTrafficPolicy", "Cluster");
    }
    if matches!(service_type.as_str(), "NodePort" | "LoadBalancer" | "ClusterIP") {
        default_ptr(spec, "internalTrafficPolicy", json!("Cluster"));
    }
    if service_type == "LoadBalancer" {
        default_ptr(spec, "allocateLoadBalancerNodePorts", json!(true));
    }
}

fn family_of(ip: &str) -> &'static str {
    if ip.contains(':') {
        "IPv6"
    } else {
        "IPv4"
    }
}

/// The create-time work of the Service REST storage.
fn allocate(spec: &mut Obj, ctx: &mut dyn DefaultsContext) {
    let service_type = str_of(spec, "type").to_owned();
    // NormalizeClusterIPs: a lone `clusterIP` (an old client) becomes `clusterIPs`.
    let cluster_ip = str_of(spec, "clusterIP").to_owned();
    if !cluster_ip.is_empty() && spec.get("clusterIPs").and_then(Value::as_array).is_none_or(Vec::is_empty) {
        spec.insert("clusterIPs".into(), json!([cluster_ip]));
    }
    if service_type != "ExternalName" {
        init_ip_families(spec);
        allocate_cluster_ips(spec, ctx);
    }
    if service_type == "NodePort" || service_type == "LoadBalancer" {
        allocate_node_ports(spec, ctx);
    }
    let needs_health_check = service_type == "LoadBalancer" && str_of(spec, "externalTrafficPolicy") == "Local";
    if needs_health_check && spec.get("healthCheckNodePort").is_none_or(|p| p.is_null() || p.as_i64() == Some(0)) {
        if let Some(port) = ctx.allocate_node_port() {
            spec.insert("healthCheckNodePort".into(), json!(port));
        }
    }
}

fn strings(spec: &Obj, key: &str) -> Vec<String> {
    spec.get(key).and_then(Value::as_array).into_iter().flatten().map(|v| v.as_str().unwrap_or_default().to_owned()).collect()
}

/// `initIPFamilyFields` on a cluster with one (IPv4) service CIDR.
fn init_ip_families(spec: &mut Obj) {
    let headless = str_of(spec, "clusterIP") == "None";
    let selectorless = spec.get("selector").and_then(Value::as_object).is_none_or(|s| s.is_empty());
    if unset(spec, "ipFamilyPolicy") {
        let policy = if headless && selectorless { "RequireDualStack" } else { "SingleStack" };
        spec.insert("ipFamilyPolicy".into(), json!(policy));
    }
    let policy = str_of(spec, "ipFamilyPolicy").to_owned();
    let mut families = strings(spec, "ipFamilies");
    for (i, ip) in strings(spec, "clusterIPs").iter().enumerate() {
        if ip == "None" {
            break;
        }
        if i >= families.len() {
            families.push(family_of(ip).to_owned());
        }
    }
    if families.is_empty() {
        families.push("IPv4".to_owned());
    }
    if headless && selectorless && families.len() < 2 && policy != "SingleStack" {
        let other = if families.first().map(String::as_str) == Some("IPv4") { "IPv6" } else { "IPv4" };
        families.push(other.to_owned());
    }
    spec.insert("ipFamilies".into(), json!(families));
}

/// `allocClusterIPs`: an IPv4 address for each IPv4 family without one; headless Services get
/// none.
fn allocate_cluster_ips(spec: &mut Obj, ctx: &mut dyn DefaultsContext) {
    let mut ips = strings(spec, "clusterIPs");
    if ips.first().map(String::as_str) == Some("None") {
        return;
    }
    let families = strings(spec, "ipFamilies");
    for (i, family) in families.iter().enumerate() {
        if i >= ips.len() {
            ips.push(String::new());
        }
        if let Some(slot) = ips.get_mut(i) {
            if slot.is_empty() && family == "IPv4" {
                *slot = ctx.allocate_cluster_ip();
            }
        }
    }
    ips.retain(|ip| !ip.is_empty());
    if let Some(primary) = ips.first() {
        spec.insert("clusterIP".into(), json!(primary));
        spec.insert("clusterIPs".into(), json!(ips));
    }
}

/// `initNodePorts`: a node port per service port number (ports sharing a number share one),
/// keeping those the client chose; LoadBalancers with `allocateLoadBalancerNodePorts: false`
/// only keep chosen ones.
fn allocate_node_ports(spec: &mut Obj, ctx: &mut dyn DefaultsContext) {
    let allocate_new =
        str_of(spec, "type") == "NodePort" || spec.get("allocateLoadBalancerNodePorts").and_then(Value::as_bool) != Some(false);
    let mut by_port: BTreeMap<i64, i64> = BTreeMap::new();
    for port in items(spec, "ports") {
        let (Some(number), Some(node_port)) = (port.get("port").and_then(Value::as_i64), port.get("nodePort").and_then(Value::as_i64))
        else {
            continue;
        };
        if node_port != 0 {
            by_port.entry(number).or_insert(node_port);
        }
    }
    for port in items(spec, "ports") {
        if port.get("nodePort").and_then(Value::as_i64).is_some_and(|p| p != 0) {
            continue;
        }
        let number = port.get("port").and_then(Value::as_i64).unwrap_or(0);
        let node_port = match by_port.get(&number) {
            Some(p) => Some(*p),
            None if allocate_new => ctx.allocate_node_port(),
            None => None,
        };
        if let Some(node_port) = node_port {
            by_port.insert(number, node_port);
            port.insert("nodePort".into(), json!(node_port));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{defaulted, TestContext};
    use super::super::{apply_defaults, apply_update_defaults};
    use super::*;

    #[test]
    fn cluster_ip_service_defaults() {
        let svc = defaulted(
            "v1",
            "Service",
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                   "spec": {"selector": {"app": "web"}, "ports": [{"port": 80}, {"name": "metrics", "port": 9090, "targetPort": "metrics"}]}}),
        );
        assert_eq!(
            svc,
            json!({"apiVersion": "v1", "kind": "Service", "metadata": {"name": "web"},
                "spec": {"selector": {"app": "web"},
                    "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80}, {"name": "metrics", "port": 9090, "targetPort": "metrics", "protocol": "TCP"}],
                    "sessionAffinity": "None", "type": "ClusterIP", "internalTrafficPolicy": "Cluster",
                    "ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv4"], "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"]},
                "status": {"loadBalancer": {}}})
        );
    }

    #[test]
    fn headless_and_preset_addresses() {
        let svc = defaulted("v1", "Service", json!({"spec": {"clusterIP": "None", "selector": {"app": "db"}, "ports": [{"port": 5432}]}}));
        assert_eq!(svc.pointer("/spec/clusterIPs"), Some(&json!(["None"])));
        assert_eq!(svc.pointer("/spec/ipFamilies"), Some(&json!(["IPv4"])));
        assert_eq!(svc.pointer("/spec/ipFamilyPolicy"), Some(&json!("SingleStack")));
        // Headless without a selector defaults to dual-stack, as kube-apiserver does.
        let svc = defaulted("v1", "Service", json!({"spec": {"clusterIP": "None"}}));
        assert_eq!(svc.pointer("/spec/ipFamilyPolicy"), Some(&json!("RequireDualStack")));
        assert_eq!(svc.pointer("/spec/ipFamilies"), Some(&json!(["IPv4", "IPv6"])));
        let svc = defaulted("v1", "Service", json!({"spec": {"clusterIP": "10.96.5.5", "ports": [{"port": 1}]}}));
        assert_eq!(svc.pointer("/spec/clusterIPs"), Some(&json!(["10.96.5.5"])));
    }

    #[test]
    fn node_port_load_balancer_and_external_name() {
        let svc = defaulted(
            "v1",
            "Service",
            json!({"spec": {"type": "NodePort", "ports": [{"port": 80}, {"port": 80, "protocol": "UDP"}, {"port": 443, "nodePort": 31443}]}}),
        );
        assert_eq!(svc.pointer("/spec/externalTrafficPolicy"), Some(&json!("Cluster")));
        assert_eq!(svc.pointer("/spec/ports/0/nodePort"), Some(&json!(30000)));
        assert_eq!(svc.pointer("/spec/ports/1/nodePort"), Some(&json!(30000)));
        assert_eq!(svc.pointer("/spec/ports/2/nodePort"), Some(&json!(31443)));
        let lb = defaulted(
            "v1",
            "Service",
            json!({"spec": {"type": "LoadBalancer", "externalTrafficPolicy": "Local", "ports": [{"port": 80}]}}),
        );
        assert_eq!(lb.pointer("/spec/allocateLoadBalancerNodePorts"), Some(&json!(true)));
        assert_eq!(lb.pointer("/spec/healthCheckNodePort"), Some(&json!(30001)));
        let ext = defaulted("v1", "Service", json!({"spec": {"type": "ExternalName", "externalName": "db.example.com"}}));
        assert_eq!(
            ext,
            json!({"spec": {"type": "ExternalName", "externalName": "db.example.com", "sessionAffinity": "None"}, "status": {"loadBalancer": {}}})
        );
        let sticky = defaulted("v1", "Service", json!({"spec": {"sessionAffinity": "ClientIP"}}));
        assert_eq!(sticky.pointer("/spec/sessionAffinityConfig"), Some(&json!({"clientIP": {"timeoutSeconds": 10800}})));
    }

    #[test]
    fn updates_do_not_allocate() {
        let mut svc = json!({"spec": {"ports": [{"port": 80}]}});
        apply_update_defaults("v1", "Service", &mut svc);
        assert_eq!(svc.pointer("/spec/clusterIP"), None);
        assert_eq!(svc.pointer("/spec/ports/0/targetPort"), Some(&json!(80)));
        let mut ctx = TestContext::default();
        let mut a = json!({"spec": {"ports": [{"port": 80}]}});
        let mut b = a.clone();
        apply_defaults("v1", "Service", &mut a, &mut ctx);
        apply_defaults("v1", "Service", &mut b, &mut ctx);
        assert_eq!(a.pointer("/spec/clusterIP"), Some(&json!("10.96.0.10")));
        assert_eq!(b.pointer("/spec/clusterIP"), Some(&json!("10.96.0.11")));
    }
}
