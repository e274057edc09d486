//! Which cluster (DESIGN.md §3): `--kubeconfig`/`--context`, else the `cluster` block's
//! `kube`, else `KUBECONFIG`, else a running sandbox's kubeconfig, else `~/.kube/config`.
//! A `KUBECONFIG` list is merged as kubectl merges it ([`super::Kube::connect`]).

use std::path::{Path, PathBuf};

/// Where the kubeconfig comes from, in the order they are tried.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Choices {
    /// `--kubeconfig`.
    pub flag_kubeconfig: Option<PathBuf>,
    /// `--context`.
    pub flag_context: Option<String>,
    /// The `cluster` block's `kube { kubeconfig }`.
    pub block_kubeconfig: Option<PathBuf>,
    /// The `cluster` block's `kube { context }`.
    pub block_context: Option<String>,
    /// `KUBECONFIG`'s paths, in order (merged as kubectl merges them).
    pub env_kubeconfig: Vec<PathBuf>,
    /// The kubeconfig of a sandbox running for the current directory.
    pub sandbox_kubeconfig: Option<PathBuf>,
    /// `$HOME`.
    pub home: Option<PathBuf>,
}

/// What was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chosen {
    /// The kubeconfig files, merged in this order (several only from `KUBECONFIG`).
    pub kubeconfigs: Vec<PathBuf>,
    pub context: Option<String>,
    /// Where the choice came from, for messages (`--kubeconfig`, `KUBECONFIG`, `the sandbox`).
    pub source: &'static str,
    /// The running sandbox was chosen (cairn says so on stderr).
    pub sandbox: bool,
}

/// Applies the order of DESIGN.md §3. `None` when there is nothing to try.
pub fn choose(c: &Choices) -> Option<Chosen> {
    let context = c.flag_context.clone().or_else(|| c.block_context.clone());
    let pick_all = |paths: &[PathBuf], source: &'static str, sandbox: bool| Chosen {
        kubeconfigs: paths.iter().map(|p| expand_home(p, c.home.as_deref())).collect(),
        context: context.clone(),
        source,
        sandbox,
    };
    let pick = |path: &Path, source: &'static str, sandbox: bool| pick_all(&[path.to_path_buf()], source, sandbox);
    if let Some(p) = &c.flag_kubeconfig {
        return Some(pick(p, "--kubeconfig", false));
    }
    if let Some(p) = &c.block_kubeconfig {
        return Some(pick(p, "the cluster block's kube.kubeconfig", false));
    }
    if !c.env_kubeconfig.is_empty() {
        return Some(pick_all(&c.env_kubeconfig, "KUBECONFIG", false));
    }
    if let Some(p) = &c.sandbox_kubeconfig {
        return Some(pick(p, "the running sandbox", true));
    }
    let home = c.home.as_ref()?;
    Some(pick(&home.join(".kube").join("config"), "~/.kube/config", false))
}

/// `~/x` → `$HOME/x`, as kubectl reads paths.
fn expand_home(path: &Path, home: Option<&Path>) -> PathBuf {
    match (path.strip_prefix("~"), home) {
        (Ok(rest), Some(home)) => home.join(rest),
        _ => path.to_path_buf(),
    }
}

/// The paths of a `KUBECONFIG` value (separated like `PATH`; empty entries skipped).
pub fn paths(value: &std::ffi::OsStr) -> Vec<PathBuf> {
    std::env::split_paths(value).filter(|p| !p.as_os_str().is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all() -> Choices {
        Choices {
            flag_kubeconfig: Some("/flag".into()),
            flag_context: Some("flag-ctx".into()),
            block_kubeconfig: Some("~/block".into()),
            block_context: Some("block-ctx".into()),
            env_kubeconfig: vec!["/env".into(), "/env2".into()],
            sandbox_kubeconfig: Some("/sandbox".into()),
            home: Some("/home/u".into()),
        }
    }

    #[test]
    fn the_order_of_design_section_3() {
        let mut c = all();
        assert_eq!(choose(&c).map(|x| (x.kubeconfigs, x.context)), Some((vec!["/flag".into()], Some("flag-ctx".into()))));
        c.flag_kubeconfig = None;
        c.flag_context = None;
        assert_eq!(choose(&c).map(|x| (x.kubeconfigs, x.context)), Some((vec!["/home/u/block".into()], Some("block-ctx".into()))));
        c.block_kubeconfig = None;
        assert_eq!(choose(&c).map(|x| x.kubeconfigs), Some(vec!["/env".into(), "/env2".into()]));
        c.env_kubeconfig = Vec::new();
        let s = choose(&c);
        assert_eq!(s.as_ref().map(|x| (x.kubeconfigs.clone(), x.sandbox)), Some((vec!["/sandbox".into()], true)));
        c.sandbox_kubeconfig = None;
        assert_eq!(choose(&c).map(|x| x.kubeconfigs), Some(vec!["/home/u/.kube/config".into()]));
        c.home = None;
        assert_eq!(choose(&c), None);
    }

    #[test]
    fn kubeconfig_lists_keep_every_path_in_order() {
        assert_eq!(paths(std::ffi::OsStr::new("/a::/b")), vec![PathBuf::from("/a"), PathBuf::from("/b")]);
        assert_eq!(paths(std::ffi::OsStr::new("")), Vec::<PathBuf>::new());
    }
}
