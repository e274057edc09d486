//! A workload block from a Deployment, StatefulSet, DaemonSet, Job or CronJob, with the objects
//! cairn makes beside it: its Service (`expose`), a StatefulSet's headless Service, a
//! Deployment's claims (`volume`), its HorizontalPodAutoscaler (`autoscale`) and
//! PodDisruptionBudget (`disruption`).

use std::collections::BTreeMap;

use serde_json::{Map, Value as Json};

use super::kinds::{meta_attrs, namespace_file, only, only_meta, quantities, Cx};
use super::text::{self, Block};
use super::{string_map, Candidate, Input};

const NAME_LABEL: &str = "app.kubernetes.io/name";
const INSTANCE_LABEL: &str = "app.kubernetes.io/instance";

/// Whether the input is a kind a workload block stands for.
pub(crate) fn is_workload(i: &Input) -> bool {
    matches!(
        (i.api_version.as_str(), i.kind.as_str()),
        ("apps/v1", "Deployment" | "StatefulSet" | "DaemonSet") | ("batch/v1", "Job" | "CronJob")
    )
}

/// The `app.kubernetes.io/instance` label most workloads' pods carry: the stack name that
/// keeps their pod templates as they are.
pub(crate) fn common_instance(inputs: &[Input]) -> Option<String> {
    let mut counts: BTreeMap<String, usize> = BTreeMap::new();
    for i in inputs.iter().filter(|i| is_workload(i)) {
        let t = template_of(i).and_then(|t| t.pointer("/metadata/labels")).cloned();
        if let Some(v) = string_map(t.as_ref()).get(INSTANCE_LABEL) {
            let n = counts.entry(v.clone()).or_default();
            *n = n.saturating_add(1);
        }
    }
    let best = counts.iter().max_by_key(|(_, n)| **n)?;
    cairn_core::names::is_dns1123_label(best.0).then(|| best.0.clone())
}

/// `base` with `extra`'s entries added (base wins), as cairn merges a workload's labels into
/// its pods'.
fn with(base: &BTreeMap<String, String>, extra: &BTreeMap<String, String>) -> BTreeMap<String, String> {
    let mut m = base.clone();
    for (k, v) in extra {
        m.entry(k.clone()).or_insert_with(|| v.clone());
    }
    m
}

/// The pod template of a workload object.
fn template_of(i: &Input) -> Option<&Json> {
    match i.kind.as_str() {
        "CronJob" => i.obj.pointer("/spec/jobTemplate/spec/template"),
        _ => i.obj.pointer("/spec/template"),
    }
}

impl Cx<'_> {
    /// The workload block of input `i`, with its notes (none when it is no block).
    pub(crate) fn workload_candidate(&mut self, i: usize) -> Result<Candidate, String> {
        let at = self.notes.len();
        let result = self.workload_block(i);
        match &result {
            Ok(c) => {
                for n in self.notes.iter_mut().skip(at) {
                    *n = format!("{}: {n}", c.address);
                }
            }
            Err(_) => self.notes.truncate(at),
        }
        result
    }

    fn workload_block(&mut self, i: usize) -> Result<Candidate, String> {
        let input = self.input(i)?;
        only(&input.obj, &["apiVersion", "kind", "metadata", "spec"])?;
        only_meta(&input.obj)?;
        let name = input.name.clone();
        let ns = input.namespace.clone().unwrap_or_default();
        let kind = input.kind.as_str();
        let spec = input.spec().cloned().unwrap_or_default();
        let mut b = Block::new("workload", Some(&name));
        b.attr("namespace", self.namespace_expr(&ns));
        let mut claims = vec![i];
        let mut blocks: Vec<Block> = Vec::new();

        // The rollout around the pod template.
        let (template, job_spec) = match kind {
            "Deployment" => {
                only(&spec, &["replicas", "selector", "strategy", "template"])?;
                (spec.get("template"), None)
            }
            "StatefulSet" => {
                only(&spec, &["replicas", "selector", "serviceName", "updateStrategy", "template", "volumeClaimTemplates"])?;
                (spec.get("template"), None)
            }
            "DaemonSet" => {
                only(&spec, &["selector", "updateStrategy", "template"])?;
                (spec.get("template"), None)
            }
            "Job" => {
                only(&spec, &["backoffLimit", "template"])?;
                (spec.get("template"), Some(&spec))
            }
            _ => {
                only(&spec, &["schedule", "jobTemplate"])?;
                let jt = spec.get("jobTemplate").ok_or("no jobTemplate")?;
                only(jt, &["spec"])?;
                let js = jt.get("spec").ok_or("no jobTemplate.spec")?;
                only(js, &["backoffLimit", "template"])?;
                let s = spec.get("schedule").and_then(Json::as_str).ok_or("no schedule")?;
                b.str("schedule", s);
                (js.get("template"), Some(js))
            }
        };
        let template = template.ok_or("no pod template")?.clone();
        if let Some(r) = job_spec.and_then(|s| s.get("backoffLimit")) {
            b.value("retries", r);
        }

        // Labels: cairn selects pods by `app.kubernetes.io/name` and labels them with the stack.
        let labels = input.labels();
        let annotations = input.annotations();
        only(&template, &["metadata", "spec"])?;
        only(template.get("metadata").unwrap_or(&Json::Null), &["labels", "annotations"]).map_err(|e| format!("pod template {e}"))?;
        let pod_labels = string_map(template.pointer("/metadata/labels"));
        let pod_annotations = string_map(template.pointer("/metadata/annotations"));
        // cairn's own selector and pod labels when they fit, else `selector` (the pods then
        // carry exactly it and the workload's labels).
        let cairn_selector: BTreeMap<String, String> = [(NAME_LABEL.to_string(), name.clone())].into();
        let mut cairn_pods = cairn_selector.clone();
        cairn_pods.insert(INSTANCE_LABEL.into(), self.stack.to_string());
        let selector = match job_spec {
            None => {
                let selector = spec.get("selector").ok_or("no selector")?;
                only(selector, &["matchLabels"]).map_err(|e| format!("selector: {e}"))?;
                string_map(selector.get("matchLabels"))
            }
            // A job's selector is generated: its pods' labels that are not the job's own.
            Some(_) if with(&cairn_pods, &labels) == pod_labels => cairn_selector.clone(),
            Some(_) => pod_labels.iter().filter(|(k, v)| labels.get(*k) != Some(v)).map(|(k, v)| (k.clone(), v.clone())).collect(),
        };
        if selector.is_empty() {
            return Err("its pods carry no labels of their own".into());
        }
        if selector == cairn_selector && with(&cairn_pods, &labels) == pod_labels {
            // cairn's defaults.
        } else if with(&selector, &labels) == pod_labels {
            b.value("selector", &Json::Object(selector.iter().map(|(k, v)| (k.clone(), Json::String(v.clone()))).collect()));
        } else {
            return Err("its pod labels are not its selector plus its own labels".into());
        }
        // The workload's annotations go on its pods too; the pods' own are `pod_annotations`.
        if annotations.iter().any(|(k, v)| pod_annotations.get(k) != Some(v)) {
            return Err("its pods lack some of its annotations (cairn gives the pods the workload's annotations)".into());
        }
        let pod_only: BTreeMap<String, String> =
            pod_annotations.iter().filter(|(k, _)| !annotations.contains_key(*k)).map(|(k, v)| (k.clone(), v.clone())).collect();
        if !pod_only.is_empty() {
            b.value("pod_annotations", &Json::Object(pod_only.into_iter().map(|(k, v)| (k, Json::String(v))).collect()));
        }

        match kind {
            "StatefulSet" if !has_claims(&spec) => {
                b.str("kind", "statefulset");
            }
            "Deployment" if has_pvc_volumes(&template) => {
                b.str("kind", "deployment");
            }
            "DaemonSet" => {
                b.str("kind", "daemonset");
            }
            "Job" => {
                b.str("kind", "job");
            }
            "CronJob" => {
                b.str("kind", "cronjob");
            }
            _ => {}
        }

        // The pod.
        let pod = template.get("spec").cloned().unwrap_or_default();
        only(
            &pod,
            &[
                "serviceAccountName",
                "nodeSelector",
                "restartPolicy",
                "securityContext",
                "containers",
                "initContainers",
                "volumes",
                "terminationGracePeriodSeconds",
            ],
        )?;
        let restart = pod.get("restartPolicy").and_then(Json::as_str);
        match (job_spec.is_some(), restart) {
            (true, Some("OnFailure")) | (false, None) => {}
            (true, other) => {
                return Err(format!("its pods' restartPolicy is {} (cairn's jobs restart OnFailure)", other.unwrap_or("unset")))
            }
            (false, Some(p)) => return Err(format!("its pods' restartPolicy is {p}")),
        }
        if let Some(sa) = pod.get("serviceAccountName").and_then(Json::as_str) {
            let r = self.reference_if_imported("service_account", &format!("ServiceAccount/{ns}/{sa}"), sa);
            b.attr("service_account", r.unwrap_or_else(|| text::string(sa)));
        }
        if let Some(g) = pod.get("terminationGracePeriodSeconds") {
            b.value("grace_period", g);
        }
        if let Some(sel) = pod.get("nodeSelector") {
            b.value("node_selector", sel);
        }
        let mut volumes = Volumes::of(&pod)?;
        if let Some(Json::Array(templates)) = spec.get("volumeClaimTemplates") {
            volumes.templates =
                templates.iter().filter_map(|t| t.pointer("/metadata/name").and_then(Json::as_str).map(str::to_string)).collect();
        }
        let containers = match pod.get("containers") {
            Some(Json::Array(c)) => c.clone(),
            _ => return Err("no containers".into()),
        };
        let (main, sidecars) = containers.split_first().ok_or("no containers")?;
        let main_name = main.get("name").and_then(Json::as_str).ok_or("a container without a name")?;
        if main_name != name {
            b.str("container_name", main_name);
        }
        let main_security = main.get("securityContext").cloned();
        container_body(self, &mut b, &mut blocks, main, Role::Main, &volumes, &ns)?;

        // Volumes: a StatefulSet's claim templates, a Deployment's claims.
        if kind == "StatefulSet" {
            if let Some(Json::Array(templates)) = spec.get("volumeClaimTemplates") {
                for t in templates {
                    only(t, &["metadata", "spec"])?;
                    only(t.get("metadata").unwrap_or(&Json::Null), &["name"]).map_err(|e| format!("claim template {e}"))?;
                    let vname = t.pointer("/metadata/name").and_then(Json::as_str).ok_or("a claim template without a name")?;
                    let mount = main_mount(main, vname)?;
                    blocks.push(self.volume_block(vname, t.get("spec").unwrap_or(&Json::Null), mount)?);
                }
            }
        }
        for (vname, claim) in &volumes.claims {
            if kind == "StatefulSet" {
                return Err("a StatefulSet pod volume from a claim (cairn's volumes are claim templates)".into());
            }
            if claim != &format!("{name}-{vname}") {
                return Err(format!("volume `{vname}` uses claim `{claim}`, not `{name}-{vname}`"));
            }
            let c = self
                .free(&format!("PersistentVolumeClaim/{ns}/{claim}"))
                .ok_or_else(|| format!("claim `{claim}` is not imported with it"))?;
            let pvc = self.input(c)?;
            only(&pvc.obj, &["apiVersion", "kind", "metadata", "spec"])?;
            if pvc.labels() != labels || pvc.annotations() != annotations {
                return Err(format!("claim `{claim}` has labels or annotations of its own"));
            }
            let mount = main_mount(main, vname)?;
            blocks.push(self.volume_block(vname, pvc.spec().unwrap_or(&Json::Null), mount)?);
            claims.push(c);
        }
        for (vname, (kind_word, target)) in &volumes.files {
            let Some(path) = main_mount(main, vname)? else { continue };
            let mut m = Block::new("mount", Some(vname));
            let r = self.reference(
                kind_word,
                &format!("{}/{ns}/{target}", if *kind_word == "secret" { "Secret" } else { "ConfigMap" }),
                target,
                Some(&ns),
            );
            m.attr(kind_word, r.ok_or_else(|| format!("the {kind_word} `{target}` it mounts is a manifest"))?);
            m.str("path", &path);
            blocks.push(m);
        }

        // Sidecars and init containers.
        let inits = match pod.get("initContainers") {
            Some(Json::Array(list)) => list.as_slice(),
            _ => &[],
        };
        let others = sidecars.iter().map(|c| ("container", c, Role::Sidecar(main_security.as_ref())));
        for (block, c, role) in others.chain(inits.iter().map(|c| ("init", c, Role::Init(main_security.as_ref())))) {
            let cname = c.get("name").and_then(Json::as_str).ok_or("a container without a name")?;
            let mut cb = Block::new(block, Some(cname));
            let mut inner = Vec::new();
            container_body(self, &mut cb, &mut inner, c, role, &volumes, &ns)?;
            for x in inner {
                cb.block(x);
            }
            blocks.push(cb);
        }
        if let Some(s) = security_block(pod.get("securityContext"), main_security.as_ref())? {
            blocks.push(s);
        }

        // Rollout settings.
        let strategy_key = if kind == "Deployment" { "strategy" } else { "updateStrategy" };
        if let Some(st) = spec.get(strategy_key) {
            only(st, &["type", "rollingUpdate"])?;
            if st.get("type").and_then(Json::as_str).is_some_and(|t| t != "RollingUpdate") {
                return Err(format!("its {strategy_key} is not RollingUpdate"));
            }
            let ru = st.get("rollingUpdate").cloned().unwrap_or_default();
            only(&ru, &["maxUnavailable", "maxSurge"])?;
            let mut u = Block::new("update", None);
            for (key, attr) in [("maxUnavailable", "max_unavailable"), ("maxSurge", "max_surge")] {
                if let Some(v) = ru.get(key) {
                    u.value(attr, v);
                }
            }
            blocks.push(u);
        }
        if kind == "StatefulSet" {
            let svc = spec.get("serviceName").and_then(Json::as_str).unwrap_or_default();
            if svc != format!("{name}-hl") {
                return Err(format!("its serviceName is `{svc}`, not `{name}-hl`"));
            }
            let hl = self
                .free(&format!("Service/{ns}/{name}-hl"))
                .ok_or_else(|| format!("its headless Service `{name}-hl` is not imported with it"))?;
            claims.push(hl);
        }

        // The Service, autoscaler and disruption budget of the same name.
        if let Some(s) = self.free(&format!("Service/{ns}/{name}")) {
            match expose_block(self.input(s)?, &selector, &labels, &annotations) {
                Ok(e) => {
                    blocks.push(e);
                    claims.push(s);
                }
                Err(why) => {
                    self.reasons.insert(s, format!("not workload `{name}`'s `expose`: {why}"));
                }
            }
        }
        let mut autoscaled = false;
        if let Some(h) = self.free(&format!("HorizontalPodAutoscaler/{ns}/{name}")) {
            match autoscale_block(self.input(h)?, &name, kind) {
                Ok(a) => {
                    blocks.push(a);
                    claims.push(h);
                    autoscaled = true;
                }
                Err(why) => {
                    self.reasons.insert(h, format!("not workload `{name}`'s `autoscale`: {why}"));
                }
            }
        }
        if !autoscaled {
            if let Some(r) = spec.get("replicas") {
                b.value("replicas", r);
            }
        }
        if let Some(p) = self.free(&format!("PodDisruptionBudget/{ns}/{name}")) {
            match disruption_block(self.input(p)?, &selector) {
                Ok(d) => {
                    blocks.push(d);
                    claims.push(p);
                }
                Err(why) => {
                    self.reasons.insert(p, format!("not workload `{name}`'s `disruption`: {why}"));
                }
            }
        }
        meta_attrs(&mut b, &labels, &annotations);
        for x in blocks {
            b.block(x);
        }
        let address = self.address("workload", &name)?;
        Ok(Candidate { address, file: namespace_file(&ns), text: b.text(), claims, manifest: None })
    }

    /// A `volume` block from a claim's spec.
    fn volume_block(&mut self, vname: &str, spec: &Json, mount: Option<String>) -> Result<Block, String> {
        only(spec, &["accessModes", "storageClassName", "resources"])?;
        let mut v = Block::new("volume", Some(vname));
        if let Some(sc) = spec.get("storageClassName").and_then(Json::as_str) {
            let r = self.reference("storage_class", &format!("StorageClass/{sc}"), sc, None).ok_or("its storage class is a manifest")?;
            v.attr("storage_class", r);
        }
        if let Some(size) = spec.pointer("/resources/requests/storage") {
            only(spec.get("resources").unwrap_or(&Json::Null), &["requests"])?;
            v.attr("size", text::quantity(size).ok_or("its size is not a quantity")?);
        }
        match spec.get("accessModes") {
            Some(Json::Array(modes)) => match modes.as_slice() {
                [Json::String(m)] if m == "ReadWriteOnce" => {}
                [Json::String(m)] => {
                    v.str("access", m);
                }
                _ => return Err("a claim with other than one access mode".into()),
            },
            _ => return Err("a claim without an access mode".into()),
        }
        if let Some(m) = mount {
            v.str("mount", &m);
        }
        Ok(v)
    }
}

/// Which container is written.
#[derive(Clone, Copy)]
enum Role<'a> {
    Main,
    /// With the main container's security context (which cairn gives every container).
    Sidecar(Option<&'a Json>),
    Init(Option<&'a Json>),
}

/// The pod's volumes by kind.
struct Volumes {
    /// Volume name → claim name.
    claims: Vec<(String, String)>,
    /// Volume name → ("config" | "secret", object name).
    files: Vec<(String, (&'static str, String))>,
    /// A StatefulSet's claim templates.
    templates: Vec<String>,
}

impl Volumes {
    fn of(pod: &Json) -> Result<Volumes, String> {
        let mut v = Volumes { claims: Vec::new(), files: Vec::new(), templates: Vec::new() };
        let Some(Json::Array(list)) = pod.get("volumes") else { return Ok(v) };
        for vol in list {
            let name = vol.get("name").and_then(Json::as_str).ok_or("a volume without a name")?.to_string();
            if let Some(c) = vol.get("persistentVolumeClaim") {
                only(c, &["claimName"]).map_err(|e| format!("volume `{name}`: {e}"))?;
                v.claims.push((name, c.get("claimName").and_then(Json::as_str).unwrap_or_default().to_string()));
            } else if let Some(c) = vol.get("configMap") {
                only(c, &["name"]).map_err(|e| format!("volume `{name}`: {e}"))?;
                v.files.push((name, ("config", c.get("name").and_then(Json::as_str).unwrap_or_default().to_string())));
            } else if let Some(s) = vol.get("secret") {
                only(s, &["secretName"]).map_err(|e| format!("volume `{name}`: {e}"))?;
                v.files.push((name, ("secret", s.get("secretName").and_then(Json::as_str).unwrap_or_default().to_string())));
            } else {
                // A volume with no source is an emptyDir (the API server's default).
                let what = vol.as_object().and_then(|m| m.keys().find(|k| *k != "name").cloned()).unwrap_or_else(|| "emptyDir".into());
                return Err(format!("volume `{name}` is a `{what}` volume, which cairn has no block for"));
            }
        }
        Ok(v)
    }

    fn is_claim(&self, name: &str) -> bool {
        self.claims.iter().any(|(n, _)| n == name) || self.templates.iter().any(|t| t == name)
    }
}

fn has_claims(spec: &Json) -> bool {
    matches!(spec.get("volumeClaimTemplates"), Some(Json::Array(t)) if !t.is_empty())
}

fn has_pvc_volumes(template: &Json) -> bool {
    matches!(template.pointer("/spec/volumes"), Some(Json::Array(v)) if v.iter().any(|v| v.get("persistentVolumeClaim").is_some()))
}

/// Where the main container mounts volume `name`, if it does.
fn main_mount(main: &Json, name: &str) -> Result<Option<String>, String> {
    let Some(Json::Array(mounts)) = main.get("volumeMounts") else { return Ok(None) };
    let mut found = mounts.iter().filter(|m| m.get("name").and_then(Json::as_str) == Some(name));
    let Some(m) = found.next() else { return Ok(None) };
    if found.next().is_some() {
        return Err(format!("volume `{name}` is mounted twice"));
    }
    only(m, &["name", "mountPath", "readOnly"])?;
    Ok(m.get("mountPath").and_then(Json::as_str).map(str::to_string))
}

/// A container's attributes (into `b`) and blocks (into `blocks`).
fn container_body(
    cx: &mut Cx<'_>,
    b: &mut Block,
    blocks: &mut Vec<Block>,
    c: &Json,
    role: Role<'_>,
    volumes: &Volumes,
    ns: &str,
) -> Result<(), String> {
    let allowed: &[&str] = match role {
        Role::Init(_) => &["name", "image", "command", "args", "env", "resources", "volumeMounts", "securityContext"],
        _ => &[
            "name",
            "image",
            "command",
            "args",
            "ports",
            "env",
            "resources",
            "volumeMounts",
            "readinessProbe",
            "livenessProbe",
            "startupProbe",
            "securityContext",
        ],
    };
    let cname = c.get("name").and_then(Json::as_str).unwrap_or_default();
    only(c, allowed).map_err(|e| format!("container `{cname}`: {e}"))?;
    b.str("image", c.get("image").and_then(Json::as_str).ok_or_else(|| format!("container `{cname}` has no image"))?);
    for key in ["command", "args"] {
        if let Some(v) = c.get(key) {
            b.value(key, v);
        }
    }
    if let Some(Json::Array(list)) = c.get("ports") {
        let mut named = Map::new();
        let mut unnamed = Vec::new();
        for p in list {
            only(p, &["name", "containerPort"]).map_err(|e| format!("container `{cname}` port: {e}"))?;
            let number = p.get("containerPort").cloned().unwrap_or_default();
            match p.get("name").and_then(Json::as_str) {
                Some(pname) => {
                    named.insert(pname.to_string(), number);
                }
                None => unnamed.push(number),
            }
        }
        match (named.is_empty(), unnamed.is_empty()) {
            (_, true) => b.value("ports", &Json::Object(named)),
            (true, false) => b.value("ports", &Json::Array(unnamed)),
            (false, false) => return Err(format!("container `{cname}` has named and unnamed ports")),
        };
    }
    if let Some(Json::Array(env)) = c.get("env") {
        let names: Vec<&str> = env.iter().filter_map(|e| e.get("name").and_then(Json::as_str)).collect();
        let refers = env.iter().any(|e| e.get("value").and_then(Json::as_str).is_some_and(|v| v.contains("$(")));
        let unsorted = names.windows(2).any(|w| matches!(w, [a, b] if a > b));
        if refers && unsorted {
            return Err(format!("container `{cname}`'s env refers to other variables (`$(…)`) and is not in name order; cairn writes env sorted by name, and `$(VAR)` sees only the variables before it"));
        }
        if unsorted {
            cx.notes.push(format!("container `{cname}`: env is written in name order (the pods see the same variables); on a cluster that runs the original order, the first apply can reorder the list and so roll the pods once"));
        }
        let mut text_map = String::from("{\n");
        for e in env {
            let ename = e.get("name").and_then(Json::as_str).ok_or("an env var without a name")?;
            let value = if let Some(v) = e.get("value") {
                only(e, &["name", "value"])?;
                text::literal(v)
            } else if let Some(from) = e.get("valueFrom") {
                only(e, &["name", "valueFrom"])?;
                env_reference(cx, from, ns).map_err(|why| format!("env `{ename}`: {why}"))?
            } else {
                text::string("")
            };
            text_map.push_str(&format!("{} = {value}\n", text::key(ename)));
        }
        text_map.push('}');
        b.attr("env", text_map);
    }
    if let Some(r) = c.get("resources") {
        blocks.push(resources_block(r).map_err(|e| format!("container `{cname}` resources: {e}"))?);
    }
    if let Some(Json::Array(mounts)) = c.get("volumeMounts") {
        for m in mounts {
            only(m, &["name", "mountPath", "readOnly"]).map_err(|e| format!("container `{cname}` mount: {e}"))?;
            let vname = m.get("name").and_then(Json::as_str).unwrap_or_default();
            let read_only = m.get("readOnly").and_then(Json::as_bool) == Some(true);
            let is_claim = volumes.is_claim(vname);
            match role {
                Role::Main => {
                    // Written as the workload's `volume`/`mount` blocks; check the flags match.
                    if is_claim == read_only {
                        return Err(format!(
                            "volume `{vname}` is mounted {} (cairn mounts claims read-write, configs and secrets read-only)",
                            if read_only { "read-only" } else { "read-write" }
                        ));
                    }
                }
                Role::Sidecar(_) | Role::Init(_) => {
                    if !is_claim {
                        return Err(format!("container `{cname}` mounts the config or secret volume `{vname}` of the pod"));
                    }
                    if read_only {
                        return Err(format!("container `{cname}` mounts `{vname}` read-only"));
                    }
                    let mut mb = Block::new("mount", Some(vname));
                    mb.str("path", m.get("mountPath").and_then(Json::as_str).unwrap_or_default());
                    blocks.push(mb);
                }
            }
        }
    }
    for (key, block) in [("readinessProbe", "probe"), ("livenessProbe", "liveness"), ("startupProbe", "startup")] {
        if let Some(p) = c.get(key) {
            blocks.push(probe_block(block, p).map_err(|e| format!("container `{cname}` {key}: {e}"))?);
        }
    }
    match role {
        Role::Main => {}
        Role::Sidecar(main) | Role::Init(main) => {
            let own = c.get("securityContext");
            if own != main {
                let mut s = Block::new("security", None);
                if let Some(ctx) = own {
                    container_security(&mut s, ctx)?;
                }
                blocks.push(s);
            }
        }
    }
    Ok(())
}

/// An env value from `valueFrom`: a secret or config key reference.
fn env_reference(cx: &mut Cx<'_>, from: &Json, ns: &str) -> Result<String, String> {
    let (kind_word, object_kind, r) = if let Some(r) = from.get("secretKeyRef") {
        ("secret", "Secret", r)
    } else if let Some(r) = from.get("configMapKeyRef") {
        ("config", "ConfigMap", r)
    } else {
        return Err("a valueFrom that is not a secret or config key".into());
    };
    only(from, &["secretKeyRef", "configMapKeyRef"])?;
    only(r, &["name", "key"])?;
    let name = r.get("name").and_then(Json::as_str).ok_or("no name")?;
    let key = r.get("key").and_then(Json::as_str).ok_or("no key")?;
    // A bucket claim's ConfigMap and Secret (made by Rook, named after the claim).
    if let Some(b) = cx.find(&format!("ObjectBucketClaim/{ns}/{name}")) {
        if cx.block_of.get(&b).is_some_and(|a| a.starts_with("bucket.")) {
            let secret = object_kind == "Secret";
            let field = crate::schema::BUCKET_KEYS.iter().find(|(_, k, s)| *k == key && *s == secret).map(|(f, _, _)| *f);
            let field = field.ok_or_else(|| format!("key `{key}` is not one of the bucket's"))?;
            return Ok(format!("{}.{field}", text::reference("bucket", name)));
        }
    }
    if !text::is_identifier(key) {
        return Err(format!("key `{key}` is not an identifier cairn can name"));
    }
    let base = cx
        .reference(kind_word, &format!("{object_kind}/{ns}/{name}"), name, Some(ns))
        .ok_or_else(|| format!("the {kind_word} `{name}` is a manifest"))?;
    Ok(format!("{base}.{key}"))
}

/// A `resources` block.
fn resources_block(r: &Json) -> Result<Block, String> {
    only(r, &["requests", "limits"])?;
    let mut b = Block::new("resources", None);
    quantities(&mut b, r.get("requests"), &[("cpu", "cpu"), ("memory", "memory")])?;
    let request_memory = r.pointer("/requests/memory").and_then(|q| cairn_core::Quantity::from_json(q).ok());
    let limit_memory = r.pointer("/limits/memory").and_then(|q| cairn_core::Quantity::from_json(q).ok());
    if request_memory.is_some() && limit_memory.is_none() {
        return Err("a memory request without a limit (cairn sets the limit to the request)".into());
    }
    // `memory_limit` defaults to `memory`: written only when it differs.
    let mut limits = r.get("limits").cloned().unwrap_or_default();
    if request_memory.is_some() && request_memory == limit_memory {
        if let Some(m) = limits.as_object_mut() {
            m.remove("memory");
        }
    }
    quantities(&mut b, Some(&limits), &[("cpu", "cpu_limit"), ("memory", "memory_limit")])?;
    Ok(b)
}

/// A probe block.
fn probe_block(block: &str, p: &Json) -> Result<Block, String> {
    only(
        p,
        &[
            "httpGet",
            "tcpSocket",
            "grpc",
            "exec",
            "initialDelaySeconds",
            "periodSeconds",
            "timeoutSeconds",
            "failureThreshold",
            "successThreshold",
        ],
    )?;
    let mut b = Block::new(block, None);
    if let Some(g) = p.get("grpc") {
        only(g, &["port"])?;
        b.attr("grpc", "true");
        b.value("port", g.get("port").unwrap_or(&Json::Null));
    } else if let Some(h) = p.get("httpGet") {
        only(h, &["path", "port"])?;
        b.str("http", h.get("path").and_then(Json::as_str).unwrap_or("/"));
        b.value("port", h.get("port").unwrap_or(&Json::Null));
    } else if let Some(t) = p.get("tcpSocket") {
        only(t, &["port"])?;
        b.attr("tcp", "true");
        b.value("port", t.get("port").unwrap_or(&Json::Null));
    } else if let Some(e) = p.get("exec") {
        only(e, &["command"])?;
        b.value("exec", e.get("command").unwrap_or(&Json::Null));
    } else {
        return Err("a probe that is not http, tcp or exec".into());
    }
    for (key, attr) in [
        ("initialDelaySeconds", "initial_delay"),
        ("periodSeconds", "period"),
        ("timeoutSeconds", "timeout"),
        ("failureThreshold", "failures"),
        ("successThreshold", "successes"),
    ] {
        if let Some(v) = p.get(key) {
            b.value(attr, v);
        }
    }
    Ok(b)
}

/// The workload's `security` block: the pod's security context and the main container's.
fn security_block(pod: Option<&Json>, main: Option<&Json>) -> Result<Option<Block>, String> {
    if pod.is_none() && main.is_none() {
        return Ok(None);
    }
    let mut s = Block::new("security", None);
    if let Some(p) = pod {
        only(p, &["runAsUser", "runAsGroup", "fsGroup", "runAsNonRoot", "seccompProfile"])
            .map_err(|e| format!("pod securityContext: {e}"))?;
        for (key, attr) in [("runAsUser", "user"), ("runAsGroup", "group"), ("fsGroup", "fs_group"), ("runAsNonRoot", "non_root")] {
            if let Some(v) = p.get(key) {
                s.value(attr, v);
            }
        }
        if let Some(sp) = p.get("seccompProfile") {
            only(sp, &["type"]).map_err(|e| format!("seccompProfile: {e}"))?;
            s.value("seccomp", sp.get("type").unwrap_or(&Json::Null));
        }
    }
    if let Some(m) = main {
        container_security(&mut s, m)?;
    }
    Ok((!s.is_empty()).then_some(s))
}

/// Container-level security attributes.
fn container_security(s: &mut Block, ctx: &Json) -> Result<(), String> {
    only(ctx, &["readOnlyRootFilesystem", "allowPrivilegeEscalation", "privileged", "capabilities"])
        .map_err(|e| format!("container securityContext: {e}"))?;
    for (key, attr) in [("readOnlyRootFilesystem", "read_only"), ("allowPrivilegeEscalation", "escalation"), ("privileged", "privileged")] {
        if let Some(v) = ctx.get(key) {
            s.value(attr, v);
        }
    }
    if let Some(caps) = ctx.get("capabilities") {
        only(caps, &["add", "drop"])?;
        for key in ["drop", "add"] {
            if let Some(v) = caps.get(key) {
                s.value(key, v);
            }
        }
    }
    Ok(())
}

/// `expose` from the workload's Service.
fn expose_block(
    svc: &Input,
    selector: &BTreeMap<String, String>,
    labels: &BTreeMap<String, String>,
    annotations: &BTreeMap<String, String>,
) -> Result<Block, String> {
    only(&svc.obj, &["apiVersion", "kind", "metadata", "spec"])?;
    if &svc.labels() != labels || &svc.annotations() != annotations {
        return Err("its labels or annotations differ from the workload's".into());
    }
    let spec = svc.spec().cloned().unwrap_or_default();
    only(&spec, &["type", "selector", "ports"])?;
    if &string_map(spec.get("selector")) != selector {
        return Err("its selector is not the workload's".into());
    }
    let Some(Json::Array(ports)) = spec.get("ports") else { return Err("no ports".into()) };
    let [p] = ports.as_slice() else { return Err("more than one port".into()) };
    only(p, &["name", "port", "targetPort"])?;
    let port = p.get("port").and_then(Json::as_i64).ok_or("no port")?;
    let target = p.get("targetPort").cloned().unwrap_or(Json::from(port));
    let want_name = match &target {
        Json::String(s) => s.clone(),
        _ => format!("port-{port}"),
    };
    let port_name = p.get("name").and_then(Json::as_str).ok_or("its port has no name (cairn names it)")?;
    let mut e = Block::new("expose", None);
    e.attr("port", port.to_string());
    e.value("target", &target);
    if port_name != want_name {
        e.str("name", port_name);
    }
    if let Some(t) = spec.get("type").and_then(Json::as_str).filter(|t| *t != "ClusterIP") {
        e.str("type", t);
    }
    Ok(e)
}

/// `autoscale` from the workload's HorizontalPodAutoscaler.
fn autoscale_block(hpa: &Input, name: &str, kind: &str) -> Result<Block, String> {
    only(&hpa.obj, &["apiVersion", "kind", "metadata", "spec"])?;
    if hpa.api_version != "autoscaling/v2" {
        return Err("not autoscaling/v2".into());
    }
    let spec = hpa.spec().cloned().unwrap_or_default();
    only(&spec, &["scaleTargetRef", "minReplicas", "maxReplicas", "metrics"])?;
    if spec.pointer("/scaleTargetRef/name").and_then(Json::as_str) != Some(name)
        || spec.pointer("/scaleTargetRef/kind").and_then(Json::as_str) != Some(kind)
    {
        return Err("it scales another object".into());
    }
    let mut a = Block::new("autoscale", None);
    if let Some(m) = spec.get("minReplicas") {
        a.value("min", m);
    }
    if let Some(m) = spec.get("maxReplicas") {
        a.value("max", m);
    }
    if let Some(Json::Array(metrics)) = spec.get("metrics") {
        for m in metrics {
            only(m, &["type", "resource"])?;
            let resource = m.pointer("/resource/name").and_then(Json::as_str).ok_or("a metric that is not a resource")?;
            if m.pointer("/resource/target/type").and_then(Json::as_str) != Some("Utilization") {
                return Err("a metric whose target is not Utilization".into());
            }
            let v = m.pointer("/resource/target/averageUtilization").ok_or("no averageUtilization")?;
            match resource {
                "cpu" | "memory" => {
                    a.value(resource, v);
                }
                other => return Err(format!("a `{other}` metric")),
            }
        }
    }
    Ok(a)
}

/// `disruption` from the workload's PodDisruptionBudget.
fn disruption_block(pdb: &Input, selector: &BTreeMap<String, String>) -> Result<Block, String> {
    only(&pdb.obj, &["apiVersion", "kind", "metadata", "spec"])?;
    let spec = pdb.spec().cloned().unwrap_or_default();
    only(&spec, &["selector", "maxUnavailable", "minAvailable"])?;
    only(spec.get("selector").unwrap_or(&Json::Null), &["matchLabels"])?;
    if &string_map(spec.pointer("/selector/matchLabels")) != selector {
        return Err("its selector is not the workload's".into());
    }
    let mut d = Block::new("disruption", None);
    for (key, attr) in [("maxUnavailable", "max_unavailable"), ("minAvailable", "min_available")] {
        if let Some(v) = spec.get(key) {
            d.value(attr, v);
        }
    }
    Ok(d)
}
