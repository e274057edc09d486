//! `cairn status`'s findings (DESIGN.md §8.2): each unhealthy workload of the stack as a
//! diagnostic at the source that declared the cause — the `image` of an image that cannot be
//! pulled, the `resources` memory of an OOM-killed container, the namespace's `quota` for pods
//! it refuses, a `volume` for pods waiting on a claim, `retries` for a failed job — with a help
//! line and the Kubernetes evidence. [`check`] reads the cluster and judges health as the
//! command does; [`explain`] is pure. Nothing here prints: `cairn status` and the language
//! server's `cairn.status` render the same [`Status`].

use cairn_compiler::eval::{AttrValue, BodyValue, Resource};
use cairn_compiler::schema::Kind;
use cairn_compiler::Compilation;
use cairn_lang::{Diagnostic, Span};

use crate::engine::{health_keys, Connect, Engine, EngineError, Event, Stack};
use crate::kube::health::Health;
use crate::kube::rollouts::{is_workload, Unhealthy};
use crate::plan::Options;

/// What `cairn status` found: the unhealthy workloads explained, and how many were checked.
pub struct Status {
    /// One per unhealthy workload, sorted by file and position.
    pub findings: Vec<Finding>,
    /// The stack's workloads that were checked.
    pub workloads: usize,
}

impl Status {
    /// The checked workloads that are healthy.
    pub fn healthy(&self) -> usize {
        self.workloads.saturating_sub(self.findings.len())
    }
}

/// Does what `cairn status` does, without printing: opens the engine on the live systems of
/// `stack` as `connect` says (the same rules as every live command), reads them, plans the
/// whole stack, judges the health of its declared workloads and explains each unhealthy one.
pub async fn check(stack: &Stack, connect: &Connect, on_event: &mut dyn FnMut(&Event)) -> Result<Status, EngineError> {
    let options = Options::default();
    let mut engine = Engine::open(stack, connect, on_event).await?;
    engine.read(&options, on_event).await?;
    let plan = engine.plan(&options)?;
    let keys = health_keys(&plan, false);
    let unhealthy = engine.health(&keys, None, on_event).await?;
    let c = &stack.compilation;
    let mut findings: Vec<Finding> = unhealthy.iter().map(|u| explain(c, u)).collect();
    findings.sort_by_key(|f| (c.program.sources.display(f.diagnostic.span.file).to_string(), f.diagnostic.span.start));
    Ok(Status { findings, workloads: keys.iter().filter(|k| is_workload(k)).count() })
}

/// One unhealthy object, explained.
#[derive(Clone, Debug)]
pub struct Finding {
    /// Where the cause was declared, what went wrong and how to fix it.
    pub diagnostic: Diagnostic,
    /// `Deployment/shop/web`.
    pub object: String,
    /// What Kubernetes says (the container state, condition or event message).
    pub evidence: String,
}

/// What the evidence says went wrong.
#[derive(Debug, PartialEq, Eq)]
enum Cause<'a> {
    /// `container NAME cannot pull image …`.
    Pull(&'a str),
    /// A container killed at its memory limit.
    OutOfMemory(&'a str),
    /// A container that keeps exiting.
    Crash(&'a str),
    /// The quota refuses the pods.
    Quota,
    /// Pods wait on a volume claim.
    Claim,
    /// A job ran out of retries.
    JobFailed,
    /// Anything else: failed or still rolling out.
    Other,
}

/// The container a health message names (`container web …`, `init container migrate …`).
fn container_in(evidence: &str) -> Option<&str> {
    let (_, after) = evidence.split_once("container ")?;
    after.split([' ', ':']).next().filter(|n| !n.is_empty())
}

fn cause(evidence: &str) -> Cause<'_> {
    let container = || container_in(evidence).unwrap_or_default();
    if evidence.contains("cannot pull image") {
        Cause::Pull(container())
    } else if evidence.contains("OOMKilled") {
        Cause::OutOfMemory(container())
    } else if evidence.contains("keeps crashing") {
        Cause::Crash(container())
    } else if evidence.contains("exceeded quota") {
        Cause::Quota
    } else if evidence.contains("PersistentVolumeClaim") {
        Cause::Claim
    } else if evidence.contains("BackoffLimitExceeded") {
        Cause::JobFailed
    } else {
        Cause::Other
    }
}

/// Where an attribute's value was written: the template argument, when a template passed it.
fn at(a: &AttrValue) -> Span {
    a.origin.unwrap_or(a.span)
}

/// The body of container `name` of workload `res` (the workload's own for the main container).
fn container_body<'a>(res: &'a Resource, name: &str) -> &'a BodyValue {
    let main = cairn_compiler::access::str_of(&res.body, "container_name").unwrap_or_else(|| res.addr.name.clone());
    if name == main {
        return &res.body;
    }
    ["container", "init"]
        .iter()
        .flat_map(|k| res.body.blocks_of(k))
        .find(|b| b.label.as_ref().is_some_and(|(l, _)| l == name))
        .map_or(&res.body, |b| &b.body)
}

/// Explains one unhealthy object of the stack compiled as `c`.
pub fn explain(c: &Compilation, u: &Unhealthy) -> Finding {
    let evidence = u.cause().to_string();
    let object = u.key.id();
    let res = c.resources.iter().find(|r| r.addr.to_string() == u.address);
    let failed = matches!(u.health, Health::Failed(_));
    let Some(res) = res else {
        let d = Diagnostic::error("E0807", Span::default(), format!("{object} is not healthy"));
        return Finding { diagnostic: d, object, evidence };
    };
    let name = &res.addr.name;
    let diagnostic = match cause(&evidence) {
        Cause::Pull(container) => {
            let body = container_body(res, container);
            let span = body.attr("image").map_or(res.label_span, at);
            Diagnostic::error("E0801", span, format!("the image of container `{container}` of `{name}` cannot be pulled"))
                .with_help("check the image's name and tag, and that the cluster can reach the registry (and has its pull secret)")
        }
        Cause::OutOfMemory(container) => {
            let body = container_body(res, container);
            let resources = body.block("resources");
            let limit = resources.and_then(|r| r.body.attr("memory_limit").or_else(|| r.body.attr("memory")));
            let span = limit.map(at).or(resources.map(|r| r.kind_span)).unwrap_or(res.label_span);
            let shown = limit.map(|a| format!(" of {}", quantity_text(&a.value))).unwrap_or_default();
            Diagnostic::error(
                "E0802",
                span,
                format!("container `{container}` of `{name}` was killed at its memory limit{shown} (OOMKilled)"),
            )
            .with_help("raise its memory (`resources { memory = … }` or `memory_limit`), or make it use less")
        }
        Cause::Crash(container) => {
            let body = container_body(res, container);
            let span = body.attr("command").or_else(|| body.attr("image")).map_or(res.label_span, at);
            Diagnostic::error("E0803", span, format!("container `{container}` of `{name}` keeps crashing"))
                .with_help("its logs say why (`kubectl logs --previous`): fix its command, configuration or image")
        }
        Cause::Quota => {
            let ns = cairn_compiler::access::name_of(&res.body, "namespace");
            let quota = ns
                .and_then(|ns| c.resources.iter().find(|r| r.addr.kind == Kind::Namespace && r.addr.name == ns))
                .and_then(|ns| ns.body.block("quota"));
            let span = quota.map_or(res.label_span, |q| q.kind_span);
            Diagnostic::error("E0804", span, format!("the namespace's quota refuses pods of `{name}`"))
                .with_label(res.label_span, "its pods are refused")
                .with_help("raise the quota, or lower the workload's replicas or requests")
        }
        Cause::Claim => {
            let span = res.body.blocks_of("volume").next().map_or(res.label_span, |v| v.kind_span);
            Diagnostic::error("E0805", span, format!("pods of `{name}` wait for a volume claim that is not bound"))
                .with_help("check the volume's storage class exists and its pool or file system is ready (`kubectl describe pvc`)")
        }
        Cause::JobFailed => {
            let span = res.body.attr("retries").map_or(res.label_span, at);
            Diagnostic::error("E0806", span, format!("job `{name}` failed: its pods failed more often than `retries` allows"))
                .with_help("its pods' logs say why; fix the cause, then apply again (a changed job is replaced)")
        }
        Cause::Other if failed => Diagnostic::error("E0807", res.label_span, format!("`{name}` is not healthy"))
            .with_help("`kubectl describe` the object and its pods for the events; apply again once the cause is fixed"),
        Cause::Other => Diagnostic::warning("W0801", res.label_span, format!("`{name}` is still rolling out"))
            .with_help("run `cairn status` again in a moment; apply waits for rollouts with `--timeout`"),
    };
    let diagnostic = Diagnostic { primary_label: Some(format!("{object}: {evidence}")), ..diagnostic };
    Finding { diagnostic, object, evidence }
}

/// A quantity or number as written (`256Mi`).
fn quantity_text(v: &cairn_compiler::value::Value) -> String {
    cairn_compiler::access::as_quantity(v).map_or_else(|| "its limit".into(), |q| q.canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::ObjectKey;
    use cairn_compiler::{compile, MapEnv, MemoryLoader, Mode};
    use std::path::Path;

    const STACK: &str = r#"namespace "shop" {
  quota { pods = 4 }
}

pool "fast" {}

storage_class "fast" { pool = pool.fast }

workload "web" {
  namespace = namespace.shop
  image     = "ghcr.io/acme/web:doesnotexist"
  resources {
    memory = 64Mi
  }
  container "metrics" {
    image = "nginx/exporter:1.3.0"
    resources { memory = 32Mi }
  }
}

workload "files" {
  namespace = namespace.shop
  kind      = "deployment"
  image     = "nginx:1.27"
  resources { memory = 64Mi }
  volume "data" {
    storage_class = storage_class.fast
    size          = 1Gi
    mount         = "/data"
    access        = "ReadWriteOnce"
  }
}

workload "nightly" {
  namespace = namespace.shop
  kind      = "job"
  image     = "nginx:1.27"
  retries   = 2
  resources { memory = 64Mi }
}
"#;

    /// The 1-based line and the text at the primary span of the finding for `message`.
    fn finding(c: &Compilation, kind: &str, name: &str, message: &str) -> (String, usize, String) {
        let key = ObjectKey { api_version: "apps/v1".into(), kind: kind.into(), namespace: Some("shop".into()), name: name.into() };
        let u = Unhealthy { key, address: format!("workload.{name}"), health: Health::Failed(message.into()) };
        let f = explain(c, &u);
        let (line, _) = c.program.sources.line_col(f.diagnostic.span);
        let text = STACK.get(f.diagnostic.span.start as usize..f.diagnostic.span.end as usize).unwrap_or_default().to_string();
        assert_eq!(f.evidence, message);
        (f.diagnostic.code.to_string(), line, text)
    }

    #[test]
    fn each_cause_points_at_the_source_that_declared_it() {
        let loader = MemoryLoader::new().with("/s/main.cairn", STACK);
        let Ok(c) = compile(&loader, &MapEnv(Default::default()), Path::new("/s"), Mode::Render) else { panic!("the stack loads") };
        assert!(!c.has_errors(), "{:?}", c.diagnostics);
        let pull = "pod web-1: container web cannot pull image \"ghcr.io/acme/web:doesnotexist\": ImagePullBackOff";
        assert_eq!(finding(&c, "Deployment", "web", pull), ("E0801".into(), 11, "\"ghcr.io/acme/web:doesnotexist\"".into()));
        let oom = "pod web-1: container metrics keeps crashing (CrashLoopBackOff): last exit OOMKilled, code 137";
        assert_eq!(finding(&c, "Deployment", "web", oom), ("E0802".into(), 17, "32Mi".into()));
        let quota = "replicaset web-1 cannot create pods: pods \"web-x\" is forbidden: exceeded quota: shop-quota";
        assert_eq!(finding(&c, "Deployment", "web", quota), ("E0804".into(), 2, "quota".into()));
        let claim = "pod files-1 cannot be scheduled: 0/3 nodes are available: pod has unbound immediate PersistentVolumeClaims.";
        assert_eq!(finding(&c, "Deployment", "files", claim), ("E0805".into(), 26, "volume".into()));
        let job = "job nightly failed (BackoffLimitExceeded): Job has reached the specified backoff limit";
        assert_eq!(finding(&c, "Job", "nightly", job), ("E0806".into(), 38, "2".into()));
        let crash = "pod web-1: container metrics keeps crashing (CrashLoopBackOff): last exit Error, code 1";
        assert_eq!(finding(&c, "Deployment", "web", crash), ("E0803".into(), 16, "\"nginx/exporter:1.3.0\"".into()));
        let stalled = "deployment files exceeded its progress deadline: ReplicaSet \"files-1\" has timed out progressing.";
        assert_eq!(finding(&c, "Deployment", "files", stalled), ("E0807".into(), 21, "\"files\"".into()));
        // Still rolling out: a warning, not an error.
        let key =
            ObjectKey { api_version: "apps/v1".into(), kind: "Deployment".into(), namespace: Some("shop".into()), name: "files".into() };
        let progressing = Health::Progressing("deployment files: 0 of 1 updated replicas are available".into());
        let f = explain(&c, &Unhealthy { key, address: "workload.files".into(), health: progressing });
        assert_eq!((f.diagnostic.code, f.diagnostic.severity), ("W0801", cairn_lang::Severity::Warning));
    }

    #[test]
    fn health_messages_name_their_cause_and_container() {
        let pull = "pod web-1: container web cannot pull image \"x:1\": ImagePullBackOff: Back-off pulling image \"x:1\"";
        assert_eq!(cause(pull), Cause::Pull("web"));
        let oom = "pod web-1: container metrics keeps crashing (CrashLoopBackOff): last exit OOMKilled, code 137";
        assert_eq!(cause(oom), Cause::OutOfMemory("metrics"));
        assert_eq!(
            cause("pod web-1: init container migrate keeps crashing (CrashLoopBackOff): last exit Error, code 1"),
            Cause::Crash("migrate")
        );
        assert_eq!(cause("replicaset web-1 cannot create pods: pods \"web-x\" is forbidden: exceeded quota: shop-quota"), Cause::Quota);
        assert_eq!(cause("job report failed (BackoffLimitExceeded): Job has reached the specified backoff limit"), Cause::JobFailed);
        assert_eq!(cause("deployment web: 1 of 3 updated replicas are available"), Cause::Other);
    }
}
