//! Pod Security admission (`k8s.io/pod-security-admission`), enforce mode: a namespace labelled
//! `pod-security.kubernetes.io/enforce` (`privileged`, `baseline` or `restricted`, with
//! `enforce-version`, `latest` by default) refuses pods that violate its level, with the
//! plugin's wording; pod templates of workload objects are evaluated for a warning only.
//! Every version is evaluated with the latest checks. Not modelled: AppArmor, SELinux options,
//! `procMount`, sysctls, Windows host process, exemptions, and the `audit` and `warn` labels.

use serde_json::Value;

use crate::store::State;

/// The label naming the enforced level.
pub const ENFORCE_LABEL: &str = "pod-security.kubernetes.io/enforce";
/// The label naming the enforced policy version.
pub const ENFORCE_VERSION_LABEL: &str = "pod-security.kubernetes.io/enforce-version";

/// A Pod Security Standards level.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Unrestricted.
    Privileged,
    /// Prevents known privilege escalations.
    Baseline,
    /// Pod hardening best practices.
    Restricted,
}

/// A level and version as the plugin prints them (`restricted:latest`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Policy {
    /// The level.
    pub level: Level,
    /// `latest` or `v1.N`.
    pub version: String,
}

impl std::fmt::Display for Policy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let level = match self.level {
            Level::Privileged => "privileged",
            Level::Baseline => "baseline",
            Level::Restricted => "restricted",
        };
        write!(f, "{level}:{}", self.version)
    }
}

/// The enforced policy of a namespace (from its labels); an unset or invalid level is
/// `privileged`, as the plugin's defaults are.
pub fn enforced(state: &State, namespace: &str) -> Policy {
    let labels = state.namespace(namespace).map(|ns| ns["metadata"]["labels"].clone()).unwrap_or(Value::Null);
    let level = match labels[ENFORCE_LABEL].as_str() {
        Some("baseline") => Level::Baseline,
        Some("restricted") => Level::Restricted,
        _ => Level::Privileged,
    };
    let version = labels[ENFORCE_VERSION_LABEL]
        .as_str()
        .filter(|v| *v == "latest" || v.strip_prefix("v1.").is_some_and(|m| !m.is_empty() && m.bytes().all(|b| b.is_ascii_digit())))
        .unwrap_or("latest")
        .to_owned();
    Policy { level, version }
}

fn join_quote(items: &[String]) -> String {
    items.iter().map(|i| format!("\"{i}\"")).collect::<Vec<_>>().join(", ")
}

fn plural<'a>(singular: &'a str, plural: &'a str, count: usize) -> &'a str {
    if count == 1 {
        singular
    } else {
        plural
    }
}

/// `container "a"` / `containers "a", "b"`.
fn containers_phrase(names: &[String]) -> String {
    format!("{} {}", plural("container", "containers", names.len()), join_quote(names))
}

/// Init, regular and ephemeral containers, in the order the plugin visits them.
fn containers(spec: &Value) -> Vec<&Value> {
    ["initContainers", "containers", "ephemeralContainers"].iter().flat_map(|f| spec[*f].as_array().into_iter().flatten()).collect()
}

fn name(c: &Value) -> String {
    c["name"].as_str().unwrap_or_default().to_owned()
}

/// Sorted, deduplicated (Go's `sets.String.List()`).
fn sorted(mut items: Vec<String>) -> Vec<String> {
    items.sort();
    items.dedup();
    items
}

fn host_namespaces(spec: &Value) -> Option<(String, String)> {
    let set: Vec<String> = ["hostIPC", "hostNetwork", "hostPID"].iter().filter(|f| spec[**f] == true).map(|f| (*f).to_owned()).collect();
    (!set.is_empty()).then(|| ("host namespaces".into(), set.join(", ")))
}

fn host_ports(spec: &Value) -> Option<(String, String)> {
    let mut bad = Vec::new();
    let mut ports = Vec::new();
    for c in containers(spec) {
        let used: Vec<String> = c["ports"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|p| p["hostPort"].as_i64())
            .filter(|p| *p != 0)
            .map(|p| p.to_string())
            .collect();
        if !used.is_empty() {
            bad.push(name(c));
            ports.extend(used);
        }
    }
    let ports = sorted(ports);
    (!bad.is_empty()).then(|| {
        let detail = format!(
            "{} {} {} {}",
            containers_phrase(&bad),
            plural("uses", "use", bad.len()),
            plural("hostPort", "hostPorts", ports.len()),
            ports.join(", ")
        );
        ("hostPort".into(), detail)
    })
}

fn privileged(spec: &Value) -> Option<(String, String)> {
    let bad: Vec<String> = containers(spec).into_iter().filter(|c| c["securityContext"]["privileged"] == true).map(name).collect();
    (!bad.is_empty()).then(|| ("privileged".into(), format!("{} must not set securityContext.privileged=true", containers_phrase(&bad))))
}

const BASELINE_CAPABILITIES: [&str; 13] = [
    "AUDIT_WRITE",
    "CHOWN",
    "DAC_OVERRIDE",
    "FOWNER",
    "FSETID",
    "KILL",
    "MKNOD",
    "NET_BIND_SERVICE",
    "SETFCAP",
    "SETGID",
    "SETPCAP",
    "SETUID",
    "SYS_CHROOT",
];

fn added(c: &Value) -> Vec<String> {
    c["securityContext"]["capabilities"]["add"].as_array().into_iter().flatten().filter_map(Value::as_str).map(str::to_owned).collect()
}

fn capabilities_baseline(spec: &Value) -> Option<(String, String)> {
    let mut bad = Vec::new();
    let mut caps = Vec::new();
    for c in containers(spec) {
        let extra: Vec<String> = added(c).into_iter().filter(|a| !BASELINE_CAPABILITIES.contains(&a.as_str())).collect();
        if !extra.is_empty() {
            bad.push(name(c));
            caps.extend(extra);
        }
    }
    (!bad.is_empty()).then(|| {
        let detail =
            format!("{} must not include {} in securityContext.capabilities.add", containers_phrase(&bad), join_quote(&sorted(caps)));
        ("non-default capabilities".into(), detail)
    })
}

fn host_path_volumes(spec: &Value) -> Option<(String, String)> {
    let bad: Vec<String> = spec["volumes"].as_array().into_iter().flatten().filter(|v| v["hostPath"].is_object()).map(name).collect();
    (!bad.is_empty()).then(|| ("hostPath volumes".into(), format!("{} {}", plural("volume", "volumes", bad.len()), join_quote(&bad))))
}

fn seccomp_valid(t: &Value) -> bool {
    *t == "RuntimeDefault" || *t == "Localhost"
}

/// Who explicitly sets a bad seccomp profile type (pod, containers) and the bad values.
fn seccomp_bad_setters(spec: &Value) -> (Vec<String>, Vec<String>, bool) {
    let mut setters = Vec::new();
    let mut values = Vec::new();
    let pod_profile = &spec["securityContext"]["seccompProfile"];
    let pod_valid = pod_profile.is_object() && seccomp_valid(&pod_profile["type"]);
    if pod_profile.is_object() && !pod_valid {
        setters.push("pod".to_owned());
        values.push(pod_profile["type"].as_str().unwrap_or_default().to_owned());
    }
    let mut bad = Vec::new();
    for c in containers(spec) {
        let profile = &c["securityContext"]["seccompProfile"];
        if profile.is_object() && !seccomp_valid(&profile["type"]) {
            bad.push(name(c));
            values.push(profile["type"].as_str().unwrap_or_default().to_owned());
        }
    }
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    (setters, sorted(values), pod_valid)
}

fn seccomp_baseline(spec: &Value) -> Option<(String, String)> {
    let (setters, values, _) = seccomp_bad_setters(spec);
    (!setters.is_empty()).then(|| {
        (
            "seccompProfile".into(),
            format!("{} must not set securityContext.seccompProfile.type to {}", setters.join(" and "), join_quote(&values)),
        )
    })
}

fn allow_privilege_escalation(spec: &Value) -> Option<(String, String)> {
    let bad: Vec<String> =
        containers(spec).into_iter().filter(|c| c["securityContext"]["allowPrivilegeEscalation"] != false).map(name).collect();
    (!bad.is_empty()).then(|| {
        (
            "allowPrivilegeEscalation != false".into(),
            format!("{} must set securityContext.allowPrivilegeEscalation=false", containers_phrase(&bad)),
        )
    })
}

fn capabilities_restricted(spec: &Value) -> Option<(String, String)> {
    let mut missing_drop = Vec::new();
    let mut adding = Vec::new();
    let mut caps = Vec::new();
    for c in containers(spec) {
        let drops_all = c["securityContext"]["capabilities"]["drop"].as_array().into_iter().flatten().any(|d| d == "ALL");
        if !drops_all {
            missing_drop.push(name(c));
        }
        let extra: Vec<String> = added(c).into_iter().filter(|a| a != "NET_BIND_SERVICE").collect();
        if !extra.is_empty() {
            adding.push(name(c));
            caps.extend(extra);
        }
    }
    let mut details = Vec::new();
    if !missing_drop.is_empty() {
        details.push(format!("{} must set securityContext.capabilities.drop=[\"ALL\"]", containers_phrase(&missing_drop)));
    }
    if !adding.is_empty() {
        details.push(format!(
            "{} must not include {} in securityContext.capabilities.add",
            containers_phrase(&adding),
            join_quote(&sorted(caps))
        ));
    }
    (!details.is_empty()).then(|| ("unrestricted capabilities".into(), details.join("; ")))
}

/// The volume source types the restricted level allows.
const ALLOWED_VOLUMES: [&str; 8] =
    ["configMap", "csi", "downwardAPI", "emptyDir", "ephemeral", "persistentVolumeClaim", "projected", "secret"];
/// The restricted volume types the plugin names; any other source is `unknown`.
const KNOWN_VOLUMES: [&str; 21] = [
    "hostPath",
    "gcePersistentDisk",
    "awsElasticBlockStore",
    "gitRepo",
    "nfs",
    "iscsi",
    "glusterfs",
    "rbd",
    "flexVolume",
    "cinder",
    "cephfs",
    "flocker",
    "fc",
    "azureFile",
    "vsphereVolume",
    "quobyte",
    "azureDisk",
    "photonPersistentDisk",
    "portworxVolume",
    "scaleIO",
    "storageos",
];

fn restricted_volumes(spec: &Value) -> Option<(String, String)> {
    let mut bad = Vec::new();
    let mut types = Vec::new();
    for v in spec["volumes"].as_array().into_iter().flatten() {
        let has = |f: &str| v.get(f).is_some_and(|x| !x.is_null());
        if ALLOWED_VOLUMES.iter().any(|f| has(f)) {
            continue;
        }
        bad.push(name(v));
        types.push(KNOWN_VOLUMES.iter().find(|f| has(f)).map_or("unknown", |f| *f).to_owned());
    }
    let types = sorted(types);
    (!bad.is_empty()).then(|| {
        let detail = format!(
            "{} {} {} {} {}",
            plural("volume", "volumes", bad.len()),
            join_quote(&bad),
            plural("uses", "use", bad.len()),
            plural("restricted volume type", "restricted volume types", types.len()),
            join_quote(&types)
        );
        ("restricted volume types".into(), detail)
    })
}

fn run_as_non_root(spec: &Value) -> Option<(String, String)> {
    let reason = "runAsNonRoot != true".to_owned();
    let mut setters = Vec::new();
    let pod_value = &spec["securityContext"]["runAsNonRoot"];
    if pod_value == false {
        setters.push("pod".to_owned());
    }
    let (mut explicit, mut implicit) = (Vec::new(), Vec::new());
    for c in containers(spec) {
        match c["securityContext"]["runAsNonRoot"].as_bool() {
            Some(false) => explicit.push(name(c)),
            Some(true) => {}
            None if pod_value != true => implicit.push(name(c)),
            None => {}
        }
    }
    if !explicit.is_empty() {
        setters.push(containers_phrase(&explicit));
    }
    if !setters.is_empty() {
        return Some((reason, format!("{} must not set securityContext.runAsNonRoot=false", setters.join(" and "))));
    }
    (!implicit.is_empty()).then(|| (reason, format!("pod or {} must set securityContext.runAsNonRoot=true", containers_phrase(&implicit))))
}

fn run_as_user(spec: &Value) -> Option<(String, String)> {
    let mut setters = Vec::new();
    if spec["securityContext"]["runAsUser"] == 0 {
        setters.push("pod".to_owned());
    }
    let bad: Vec<String> = containers(spec).into_iter().filter(|c| c["securityContext"]["runAsUser"] == 0).map(name).collect();
    if !bad.is_empty() {
        setters.push(containers_phrase(&bad));
    }
    (!setters.is_empty()).then(|| ("runAsUser=0".into(), format!("{} must not set runAsUser=0", setters.join(" and "))))
}

fn seccomp_restricted(spec: &Value) -> Option<(String, String)> {
    let (setters, values, pod_valid) = seccomp_bad_setters(spec);
    if !setters.is_empty() {
        return Some((
            "seccompProfile".into(),
            format!("{} must not set securityContext.seccompProfile.type to {}", setters.join(" and "), join_quote(&values)),
        ));
    }
    let implicit: Vec<String> =
        containers(spec).into_iter().filter(|c| !c["securityContext"]["seccompProfile"].is_object() && !pod_valid).map(name).collect();
    (!implicit.is_empty()).then(|| {
        (
            "seccompProfile".into(),
            format!(
                "pod or {} must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\"",
                containers_phrase(&implicit)
            ),
        )
    })
}

type Check = fn(&Value) -> Option<(String, String)>;

/// The violations of a pod spec against a level, in the plugin's order: the baseline checks,
/// then the baseline-only or the restricted ones.
pub fn violations(level: Level, spec: &Value) -> Vec<(String, String)> {
    let baseline: [Check; 3] = [host_namespaces, host_ports, privileged];
    let overlapping: [Check; 3] = [capabilities_baseline, host_path_volumes, seccomp_baseline];
    let restricted: [Check; 6] =
        [allow_privilege_escalation, capabilities_restricted, restricted_volumes, run_as_non_root, run_as_user, seccomp_restricted];
    let checks: Vec<Check> = match level {
        Level::Privileged => return Vec::new(),
        Level::Baseline => baseline.into_iter().chain(overlapping).collect(),
        Level::Restricted => baseline.into_iter().chain(restricted).collect(),
    };
    checks.into_iter().filter_map(|check| check(spec)).collect()
}

/// `reason (detail), reason (detail)`, as `AggregateCheckResult.ForbiddenDetail` joins them.
fn joined(violations: &[(String, String)]) -> String {
    violations.iter().map(|(r, d)| if d.is_empty() { r.clone() } else { format!("{r} ({d})") }).collect::<Vec<_>>().join(", ")
}

/// Why a new pod in `namespace` is refused (`violates PodSecurity "restricted:latest": …`), or
/// `None` when the namespace's enforced level allows it.
pub fn refusal(state: &State, namespace: &str, pod: &Value) -> Option<String> {
    let policy = enforced(state, namespace);
    let found = violations(policy.level, &pod["spec"]);
    (!found.is_empty()).then(|| format!("violates PodSecurity \"{policy}\": {}", joined(&found)))
}

/// The pod template of a workload object (`spec.template`, a CronJob's job template's).
pub fn pod_template<'a>(kind: &str, obj: &'a Value) -> Option<&'a Value> {
    match kind {
        "Deployment" | "ReplicaSet" | "StatefulSet" | "DaemonSet" | "Job" | "ReplicationController" => Some(&obj["spec"]["template"]),
        "CronJob" => Some(&obj["spec"]["jobTemplate"]["spec"]["template"]),
        "PodTemplate" => Some(&obj["template"]),
        _ => None,
    }
    .filter(|t| t.is_object())
}

/// The warning for a workload whose pod template violates the namespace's enforced level
/// (`would violate PodSecurity "restricted:latest": …`); the object itself is admitted.
pub fn workload_warning(state: &State, namespace: &str, kind: &str, obj: &Value) -> Option<String> {
    let template = pod_template(kind, obj)?;
    let policy = enforced(state, namespace);
    let found = violations(policy.level, &template["spec"]);
    (!found.is_empty()).then(|| format!("would violate PodSecurity \"{policy}\": {}", joined(&found)))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn detail(level: Level, spec: Value) -> String {
        joined(&violations(level, &spec))
    }

    #[test]
    fn restricted_names_every_missing_setting_in_the_plugins_order() {
        let spec = json!({"containers": [{"name": "web", "image": "nginx"}]});
        assert_eq!(
            detail(Level::Restricted, spec.clone()),
            "allowPrivilegeEscalation != false (container \"web\" must set securityContext.allowPrivilegeEscalation=false), \
             unrestricted capabilities (container \"web\" must set securityContext.capabilities.drop=[\"ALL\"]), \
             runAsNonRoot != true (pod or container \"web\" must set securityContext.runAsNonRoot=true), \
             seccompProfile (pod or container \"web\" must set securityContext.seccompProfile.type to \"RuntimeDefault\" or \"Localhost\")"
        );
        assert_eq!(detail(Level::Baseline, spec.clone()), "");
        assert_eq!(detail(Level::Privileged, spec), "");
    }

    #[test]
    fn a_hardened_pod_passes_restricted() {
        let hardened = json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}});
        let spec = json!({
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "initContainers": [{"name": "migrate", "securityContext": hardened}],
            "containers": [{"name": "web", "securityContext": hardened}, {"name": "metrics", "securityContext": hardened}],
            "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": "d"}}, {"name": "tmp", "emptyDir": {}}]
        });
        assert_eq!(detail(Level::Restricted, spec), "");
    }

    #[test]
    fn baseline_and_restricted_checks_word_their_findings_as_the_plugin_does() {
        let spec = json!({
            "hostNetwork": true, "hostPID": true,
            "securityContext": {"runAsNonRoot": false, "runAsUser": 0, "seccompProfile": {"type": "Unconfined"}},
            "containers": [
                {"name": "a", "ports": [{"containerPort": 80, "hostPort": 80}], "securityContext": {"privileged": true, "capabilities": {"add": ["NET_ADMIN", "CHOWN"]}}},
                {"name": "b", "ports": [{"containerPort": 81, "hostPort": 8081}], "securityContext": {"privileged": true, "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}
            ],
            "volumes": [{"name": "host", "hostPath": {"path": "/"}}, {"name": "nfs", "nfs": {"server": "x", "path": "/"}}]
        });
        assert_eq!(
            detail(Level::Baseline, spec.clone()),
            "host namespaces (hostNetwork, hostPID), \
             hostPort (containers \"a\", \"b\" use hostPorts 80, 8081), \
             privileged (containers \"a\", \"b\" must not set securityContext.privileged=true), \
             non-default capabilities (container \"a\" must not include \"NET_ADMIN\" in securityContext.capabilities.add), \
             hostPath volumes (volume \"host\"), \
             seccompProfile (pod must not set securityContext.seccompProfile.type to \"Unconfined\")"
        );
        let restricted = detail(Level::Restricted, spec);
        for part in [
            "allowPrivilegeEscalation != false (container \"a\" must set securityContext.allowPrivilegeEscalation=false)",
            "unrestricted capabilities (container \"a\" must set securityContext.capabilities.drop=[\"ALL\"]; container \"a\" must not include \"CHOWN\", \"NET_ADMIN\" in securityContext.capabilities.add)",
            "restricted volume types (volumes \"host\", \"nfs\" use restricted volume types \"hostPath\", \"nfs\")",
            "runAsNonRoot != true (pod must not set securityContext.runAsNonRoot=false)",
            "runAsUser=0 (pod must not set runAsUser=0)",
            "seccompProfile (pod must not set securityContext.seccompProfile.type to \"Unconfined\")",
        ] {
            assert!(restricted.contains(part), "{part}\nnot in\n{restricted}");
        }
        assert!(!restricted.contains("hostPath volumes"), "{restricted}");
    }
}
