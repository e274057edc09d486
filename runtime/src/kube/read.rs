//! The live snapshot (DESIGN.md §2 step 7): one LIST per inventoried or desired kind with the
//! selector `cairn.dev/stack=<stack>` (pages of 5,000 belong to that one LIST), plus one
//! metadata-only LIST per desired kind to find same-named objects the stack does not own.
//! Never a GET per object (except the objects `--adopt` takes over). Before the plan deletes a
//! namespace, what it holds is read too: one discovery of every served namespaced kind, then one
//! metadata-only LIST per kind in each such namespace ([`namespace_contents`]).

use std::collections::{BTreeMap, BTreeSet, HashSet};

use futures::stream::{self, StreamExt, TryStreamExt};
use kube::api::{ListParams, ObjectMeta};
use serde_json::Value as Json;

use super::{retry, to_json, Kube, KubeError, Resolved};
use crate::model::{Desired, GroupKind, ObjectKey, Snapshot, STACK_LABEL};

/// Objects per page.
const PAGE: u32 = 5_000;
/// LISTs in flight at once.
const CONCURRENT: usize = 8;

/// What reading cost, for reports and tests.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ReadStats {
    /// Kinds read.
    pub kinds: usize,
    /// LIST requests, pages included.
    pub requests: usize,
    /// Declared kinds the server does not serve yet (a CRD in the same stack).
    pub unserved: Vec<GroupKind>,
    /// The kinds whose labelled LIST was made: what the snapshot says of them is complete.
    pub listed: BTreeSet<GroupKind>,
}

/// Reads the snapshot for `desired` plus the kinds the inventory lists. With `adopt`, the
/// unlabelled same-named objects are fetched whole so the planner can compare them. The
/// namespaces the plan will delete (owned ones no longer declared; with `destroy`, every owned
/// one) have their contents read into [`Snapshot::namespace_contents`].
pub async fn snapshot(
    kube: &Kube,
    desired: &Desired,
    inventoried: &[GroupKind],
    adopt: bool,
    destroy: bool,
) -> Result<(Snapshot, ReadStats), KubeError> {
    let mut stats = ReadStats::default();
    // Resolve the declared kinds at their declared versions first, then inventory-only kinds.
    let mut declared: BTreeMap<GroupKind, String> = BTreeMap::new();
    for o in &desired.objects {
        declared.entry(o.key.group_kind()).or_insert_with(|| o.key.api_version.clone());
    }
    let mut kinds: Vec<(GroupKind, Resolved, bool)> = Vec::new();
    for (gk, api_version) in &declared {
        match kube.resolve(api_version, &gk.kind).await? {
            Some(r) => kinds.push((gk.clone(), r, true)),
            None => stats.unserved.push(gk.clone()),
        }
    }
    for gk in inventoried {
        if declared.contains_key(gk) {
            continue;
        }
        if let Some(r) = kube.resolve_group_kind(gk).await? {
            kinds.push((gk.clone(), r, false));
        }
    }
    let provided = crd_kinds(desired);
    let unserved: BTreeSet<GroupKind> = stats.unserved.iter().filter(|gk| !provided.contains(*gk)).cloned().collect();
    stats.kinds = kinds.len();
    stats.listed = kinds.iter().map(|(gk, _, _)| gk.clone()).collect();

    let selector = format!("{STACK_LABEL}={}", desired.stack);
    let owned_lists: Vec<(Vec<Json>, usize)> =
        stream::iter(kinds.iter().map(|(_, r, _)| list_owned(kube, r, &selector))).buffered(CONCURRENT).try_collect().await?;
    let mut snapshot = Snapshot { unserved, ..Snapshot::default() };
    for (items, pages) in owned_lists {
        stats.requests += pages;
        for item in items {
            if let Some(key) = ObjectKey::of(&item) {
                snapshot.owned.insert(key, item);
            }
        }
    }

    let wanted: HashSet<&ObjectKey> = desired.objects.iter().map(|o| &o.key).collect();
    let metas: Vec<(Vec<Json>, usize)> =
        stream::iter(kinds.iter().filter(|(_, _, declared)| *declared).map(|(_, r, _)| list_metadata(kube, r)))
            .buffered(CONCURRENT)
            .try_collect()
            .await?;
    for (items, pages) in metas {
        stats.requests += pages;
        for item in items {
            let Some(key) = ObjectKey::of(&item) else { continue };
            if wanted.contains(&key) && !snapshot.owned.contains_key(&key) {
                snapshot.foreign.insert(key, item);
            }
        }
    }

    if adopt {
        let unlabelled: Vec<ObjectKey> = snapshot
            .foreign
            .iter()
            .filter(|(_, v)| v.pointer(&format!("/metadata/labels/{}", STACK_LABEL.replace('/', "~1"))).is_none())
            .map(|(k, _)| k.clone())
            .collect();
        for key in unlabelled {
            let Some(r) = kube.resolve(&key.api_version, &key.kind).await? else { continue };
            let api = kube.api_for(&r, &key);
            let obj = retry(|| api.get(&key.name)).await.map_err(|e| KubeError::of(format!("read {key}"), e))?;
            snapshot.foreign.insert(key, to_json(&obj, &r.resource));
        }
    }
    if !destroy && !desired.existing.is_empty() {
        stats.requests += existing_objects(kube, desired, &mut snapshot).await?;
    }
    let doomed = doomed_namespaces(desired, &snapshot, destroy);
    if !doomed.is_empty() {
        let (contents, requests) = namespace_contents(kube, &doomed).await?;
        stats.requests += requests;
        snapshot.namespace_contents = contents;
    }
    Ok((snapshot, stats))
}

/// Reads the objects the stack uses as `existing` into [`Snapshot::existing`]: one whole LIST
/// per kind and namespace they are in (never a GET per object); a kind the cluster does not
/// serve goes to [`Snapshot::unserved`]. A Secret's values are blanked as it is read. Returns
/// the requests made.
async fn existing_objects(kube: &Kube, desired: &Desired, snapshot: &mut Snapshot) -> Result<usize, KubeError> {
    let mut groups: BTreeMap<(String, String, Option<String>), BTreeSet<&ObjectKey>> = BTreeMap::new();
    for e in &desired.existing {
        groups.entry((e.key.api_version.clone(), e.key.kind.clone(), e.key.namespace.clone())).or_default().insert(&e.key);
    }
    let mut requests = 0;
    let mut lists = Vec::new();
    for ((api_version, kind, namespace), keys) in &groups {
        match kube.resolve(api_version, kind).await? {
            Some(r) => lists.push((r, namespace.clone(), keys)),
            None => {
                if let Some(k) = keys.first() {
                    snapshot.unserved.insert(k.group_kind());
                }
            }
        }
    }
    let read: Vec<(Vec<Json>, usize)> =
        stream::iter(lists.iter().map(|(r, ns, _)| list_whole(kube, r, ns.as_deref(), None))).buffered(CONCURRENT).try_collect().await?;
    for ((_, _, keys), (items, pages)) in lists.iter().zip(read) {
        requests += pages;
        for item in items {
            let Some(key) = ObjectKey::of(&item) else { continue };
            if keys.contains(&key) {
                let item = if key.kind == "Secret" { crate::plan::existing::blank_values(item) } else { item };
                snapshot.existing.insert(key, item);
            }
        }
    }
    Ok(requests)
}

/// The kinds the stack's own CustomResourceDefinitions provide (`spec.group`,
/// `spec.names.kind`): served once apply has created them, so not missing.
fn crd_kinds(desired: &Desired) -> BTreeSet<GroupKind> {
    desired
        .objects
        .iter()
        .filter(|o| o.key.kind == "CustomResourceDefinition" && o.key.group_kind().group == "apiextensions.k8s.io")
        .filter_map(|o| {
            let group = o.body.pointer("/spec/group")?.as_str()?;
            let kind = o.body.pointer("/spec/names/kind")?.as_str()?;
            Some(GroupKind { group: group.to_string(), kind: kind.to_string() })
        })
        .collect()
}

/// The owned Namespaces the planner will delete: those no longer declared, or all with `destroy`.
fn doomed_namespaces(desired: &Desired, snapshot: &Snapshot, destroy: bool) -> Vec<String> {
    let declared: HashSet<&ObjectKey> = desired.objects.iter().map(|o| &o.key).chain(desired.existing.iter().map(|e| &e.key)).collect();
    snapshot
        .owned
        .keys()
        .filter(|k| k.api_version == "v1" && k.kind == "Namespace" && (destroy || !declared.contains(k)))
        .map(|k| k.name.clone())
        .collect()
}

/// API groups whose namespaced kinds are computed views, not stored objects (PodMetrics).
const VIEW_GROUPS: [&str; 2] = ["metrics.k8s.io", "custom.metrics.k8s.io"];

/// Every served, listable namespaced kind (one discovery of all groups), Events left out (the
/// cluster writes them; they are never data).
async fn namespaced_kinds(kube: &Kube) -> Result<Vec<kube::api::ApiResource>, KubeError> {
    use kube::discovery::{verbs, Discovery, Scope};
    let discovery =
        retry(|| Discovery::new(kube.client().clone()).run()).await.map_err(|e| KubeError::of("discover the served kinds", e))?;
    let mut seen: BTreeSet<(String, String)> = BTreeSet::new();
    let mut kinds = Vec::new();
    for group in discovery.groups() {
        if VIEW_GROUPS.contains(&group.name()) {
            continue;
        }
        for (ar, caps) in group.recommended_resources() {
            if caps.scope != Scope::Namespaced || !caps.supports_operation(verbs::LIST) || ar.plural.contains('/') || ar.kind == "Event" {
                continue;
            }
            if seen.insert((ar.group.clone(), ar.kind.clone())) {
                kinds.push(ar);
            }
        }
    }
    Ok(kinds)
}

/// The metadata of every object in each of `namespaces`: one LIST per served namespaced kind
/// and namespace (O(kinds), never per object). Returns the contents and the requests made.
pub async fn namespace_contents(kube: &Kube, namespaces: &[String]) -> Result<(BTreeMap<String, Vec<Json>>, usize), KubeError> {
    let kinds = namespaced_kinds(kube).await?;
    let jobs = namespaces.iter().flat_map(|ns| kinds.iter().map(move |ar| (ns, ar)));
    let lists: Vec<(&String, Vec<Json>, usize)> = stream::iter(jobs.map(|(ns, ar)| async move {
        let api = kube::Api::<kube::api::DynamicObject>::namespaced_with(kube.client().clone(), ns, ar);
        let base = ListParams::default().limit(PAGE);
        let r = Resolved { resource: ar.clone(), namespaced: true };
        let (items, pages) = paged(&base, format!("list {} in namespace {ns} (metadata)", ar.plural), |lp| {
            let api = api.clone();
            let r = &r;
            async move {
                let page = api.list_metadata(&lp).await?;
                Ok((page.items.iter().map(|o| meta_json(&o.metadata, r)).collect(), page.metadata.continue_))
            }
        })
        .await?;
        Ok::<_, KubeError>((ns, items, pages))
    }))
    .buffered(CONCURRENT)
    .try_collect()
    .await?;
    let mut contents: BTreeMap<String, Vec<Json>> = namespaces.iter().map(|ns| (ns.clone(), Vec::new())).collect();
    let mut requests = 0;
    for (ns, items, pages) in lists {
        requests += pages;
        contents.entry(ns.clone()).or_default().extend(items);
    }
    Ok((contents, requests))
}

/// Every object of a kind with the stack's label, all namespaces, page by page. The list is
/// read as plain JSON (no typed round trip: 10,000 objects are the common case here).
async fn list_owned(kube: &Kube, r: &Resolved, selector: &str) -> Result<(Vec<Json>, usize), KubeError> {
    list_whole(kube, r, None, Some(selector)).await
}

/// Every object of a kind in `namespace` (all namespaces with `None`), whole, page by page,
/// with `selector` when given.
pub(crate) async fn list_whole(
    kube: &Kube,
    r: &Resolved,
    namespace: Option<&str>,
    selector: Option<&str>,
) -> Result<(Vec<Json>, usize), KubeError> {
    use kube::Resource;
    let namespace = namespace.filter(|_| r.namespaced);
    let request = kube::core::Request::new(kube::api::DynamicObject::url_path(&r.resource, namespace));
    let mut base = ListParams::default().limit(PAGE);
    if let Some(s) = selector {
        base = base.labels(s);
    }
    let what = match namespace {
        Some(ns) => format!("list {} in namespace {ns}", r.resource.plural),
        None => format!("list {}", r.resource.plural),
    };
    paged(&base, what, |lp| {
        let request = &request;
        async move {
            let req = request.list(&lp).map_err(kube::Error::BuildRequest)?;
            let mut page: Json = kube.client().request(req).await?;
            let next = page.pointer("/metadata/continue").and_then(Json::as_str).map(str::to_string);
            let items = match page.get_mut("items").map(Json::take) {
                Some(Json::Array(items)) => items,
                _ => Vec::new(),
            };
            Ok((items.into_iter().map(|item| with_type(item, r)).collect(), next))
        }
    })
    .await
}

/// A list item with its `apiVersion` and `kind` (built-in lists leave them out).
fn with_type(mut item: Json, r: &Resolved) -> Json {
    if let Some(m) = item.as_object_mut() {
        m.insert("apiVersion".into(), r.resource.api_version.clone().into());
        m.insert("kind".into(), r.resource.kind.clone().into());
    }
    item
}

/// The metadata of every object of a kind, all namespaces, page by page.
async fn list_metadata(kube: &Kube, r: &Resolved) -> Result<(Vec<Json>, usize), KubeError> {
    let api = kube::Api::<kube::api::DynamicObject>::all_with(kube.client().clone(), &r.resource);
    let base = ListParams::default().limit(PAGE);
    paged(&base, format!("list {} (metadata)", r.resource.plural), |lp| {
        let api = api.clone();
        async move {
            let page = api.list_metadata(&lp).await?;
            Ok((page.items.iter().map(|o| meta_json(&o.metadata, r)).collect(), page.metadata.continue_))
        }
    })
    .await
}

/// Runs one LIST to its last page (`continue` tokens), retrying each page; returns the items
/// and the number of pages.
async fn paged<F, Fut>(base: &ListParams, what: String, mut page: F) -> Result<(Vec<Json>, usize), KubeError>
where
    F: FnMut(ListParams) -> Fut,
    Fut: std::future::Future<Output = Result<(Vec<Json>, Option<String>), kube::Error>>,
{
    let mut items = Vec::new();
    let mut pages = 0;
    let mut token: Option<String> = None;
    loop {
        let lp = match &token {
            Some(t) => base.clone().continue_token(t),
            None => base.clone(),
        };
        let (batch, next) = retry(|| page(lp.clone())).await.map_err(|e| KubeError::of(what.clone(), e))?;
        pages += 1;
        items.extend(batch);
        match next.filter(|t| !t.is_empty()) {
            Some(t) => token = Some(t),
            None => return Ok((items, pages)),
        }
    }
}

fn meta_json(meta: &ObjectMeta, r: &Resolved) -> Json {
    serde_json::json!({
        "apiVersion": r.resource.api_version,
        "kind": r.resource.kind,
        "metadata": serde_json::to_value(meta).unwrap_or_default(),
    })
}

/// The namespaces a set of objects live in.
pub fn namespaces<'a>(keys: impl Iterator<Item = &'a ObjectKey>) -> BTreeSet<String> {
    keys.filter_map(|k| k.namespace.clone()).collect()
}
