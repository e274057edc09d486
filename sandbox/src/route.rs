//! Request paths of the Kubernetes API, parsed.

use crate::registry::Registry;

/// What a request path names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `/version`.
    Version,
    /// `/healthz`, `/livez`, `/readyz`.
    Health,
    /// `/api`.
    CoreVersions,
    /// `/apis`.
    Groups,
    /// `/apis/<group>`.
    Group(String),
    /// `/api/v1` or `/apis/<group>/<version>`.
    GroupVersion(String, String),
    /// `/openapi/v3`.
    OpenApiIndex,
    /// `/openapi/v3/api/v1` or `/openapi/v3/apis/<group>/<version>`.
    OpenApiDocument(String, String),
    /// `/openapi/v2` (not served: kubectl then relies on v3).
    OpenApiV2,
    /// A resource collection or object.
    Resource(ResourcePath),
    /// `/sandbox.cairn.dev/<what>`: the sandbox's own control endpoints.
    Control(String),
}

/// A resource path: `/apis/apps/v1/namespaces/shop/deployments/web/status`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResourcePath {
    /// Group (`""` for core).
    pub group: String,
    /// Version.
    pub version: String,
    /// Plural resource name.
    pub plural: String,
    /// Namespace in the path, if any.
    pub namespace: Option<String>,
    /// Object name, if any.
    pub name: Option<String>,
    /// Subresource (`status`, `finalize`, `scale`), if any.
    pub subresource: Option<String>,
    /// Whether the path used the old `/watch/` prefix.
    pub watch: bool,
}

/// Parses a path (without the query).
pub fn parse(path: &str, registry: &Registry) -> Option<Route> {
    let parts: Vec<&str> = path.trim_end_matches('/').split('/').skip(1).collect();
    if parts.iter().any(|p| p.is_empty()) {
        return None;
    }
    match parts.as_slice() {
        ["version"] => Some(Route::Version),
        ["healthz" | "livez" | "readyz", ..] => Some(Route::Health),
        ["api"] => Some(Route::CoreVersions),
        ["apis"] => Some(Route::Groups),
        ["apis", group] => Some(Route::Group((*group).to_owned())),
        ["api", version] => Some(Route::GroupVersion(String::new(), (*version).to_owned())),
        ["apis", group, version] => Some(Route::GroupVersion((*group).to_owned(), (*version).to_owned())),
        ["openapi", "v3"] => Some(Route::OpenApiIndex),
        ["openapi", "v3", "api", version] => Some(Route::OpenApiDocument(String::new(), (*version).to_owned())),
        ["openapi", "v3", "apis", group, version] => Some(Route::OpenApiDocument((*group).to_owned(), (*version).to_owned())),
        ["openapi", "v2"] | ["swagger.json"] => Some(Route::OpenApiV2),
        ["sandbox.cairn.dev", rest @ ..] => Some(Route::Control(rest.join("/"))),
        ["api", version, rest @ ..] => resource("", version, rest, registry),
        ["apis", group, version, rest @ ..] => resource(group, version, rest, registry),
        _ => None,
    }
}

fn resource(group: &str, version: &str, rest: &[&str], registry: &Registry) -> Option<Route> {
    let (watch, rest) = match rest {
        ["watch", rest @ ..] => (true, rest),
        _ => (false, rest),
    };
    let path = |plural: &str, namespace: Option<&str>, name: Option<&str>, sub: Option<&str>| {
        Some(Route::Resource(ResourcePath {
            group: group.to_owned(),
            version: version.to_owned(),
            plural: plural.to_owned(),
            namespace: namespace.map(str::to_owned),
            name: name.map(str::to_owned),
            subresource: sub.map(str::to_owned),
            watch,
        }))
    };
    let namespaced_plural = |p: &str| registry.find(group, version, p).is_some_and(|t| t.namespaced);
    match rest {
        ["namespaces", ns, plural] if namespaced_plural(plural) => path(plural, Some(ns), None, None),
        ["namespaces", ns, plural, name] if namespaced_plural(plural) => path(plural, Some(ns), Some(name), None),
        ["namespaces", ns, plural, name, sub] if namespaced_plural(plural) => path(plural, Some(ns), Some(name), Some(sub)),
        [plural] => path(plural, None, None, None),
        [plural, name] => path(plural, None, Some(name), None),
        [plural, name, sub] => path(plural, None, Some(name), Some(sub)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn route(path: &str) -> Route {
        parse(path, &Registry::new(std::iter::empty())).unwrap()
    }

    #[test]
    fn namespaced_and_cluster_paths() {
        let Route::Resource(p) = route("/apis/apps/v1/namespaces/shop/deployments/web/status") else { panic!() };
        assert_eq!(
            (p.plural.as_str(), p.namespace.as_deref(), p.name.as_deref(), p.subresource.as_deref()),
            ("deployments", Some("shop"), Some("web"), Some("status"))
        );
        let Route::Resource(p) = route("/api/v1/namespaces/shop") else { panic!() };
        assert_eq!((p.plural.as_str(), p.namespace, p.name.as_deref()), ("namespaces", None, Some("shop")));
        let Route::Resource(p) = route("/api/v1/namespaces/shop/finalize") else { panic!() };
        assert_eq!((p.name.as_deref(), p.subresource.as_deref()), (Some("shop"), Some("finalize")));
        let Route::Resource(p) = route("/api/v1/watch/namespaces/shop/configmaps") else { panic!() };
        assert!(p.watch);
        assert_eq!(route("/apis/apps/v1"), Route::GroupVersion("apps".into(), "v1".into()));
        assert_eq!(route("/openapi/v3/apis/apps/v1"), Route::OpenApiDocument("apps".into(), "v1".into()));
    }
}
