//! Which cluster (DESIGN.md §3): `--kubeconfig`/`--context`, else the `cluster` block's
//! `kube`, else `KUBECONFIG`, else a running sandbox's kubeconfig, else `~/.kube/config`.

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
    /// `KUBECONFIG` (the first path when it lists several).
    pub env_kubeconfig: Option<PathBuf>,
    /// The kubeconfig of a sandbox running for the current directory.
    pub sandbox_kubeconfig: Option<PathBuf>,
    /// `$HOME`.
    pub home: Option<PathBuf>,
}

/// What was chosen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Chosen {
    pub kubeconfig: PathBuf,
    pub context: Option<String>,
    /// Where the choice came from, for messages (`--kubeconfig`, `KUBECONFIG`, `the sandbox`).
    pub source: &'static str,
    /// The running sandbox was chosen (cairn says so on stderr).
    pub sandbox: bool,
}

/// Applies the order of DESIGN.md §3. `None` when there is nothing to try.
pub fn choose(c: &Choices) -> Option<Chosen> {
    let context = c.flag_context.clone().or_else(|| c.block_context.clone());
    let pick = |path: &Path, source: &'static str, sandbox: bool| Chosen {
        kubeconfig: expand_home(path, c.home.as_deref()),
        context: context.clone(),
        source,
        sandbox,
    };
    if let Some(p) = &c.flag_kubeconfig {
        return Some(pick(p, "--kubeconfig", false));
    }
    if let Some(p) = &c.block_kubeconfig {
        return Some(pick(p, "the cluster block's kube.kubeconfig", false));
    }
    if let Some(p) = &c.env_kubeconfig {
        return Some(pick(p, "KUBECONFIG", false));
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

/// The first path of a `KUBECONFIG` value (paths separated like `PATH`).
pub fn first_path(value: &std::ffi::OsStr) -> Option<PathBuf> {
    std::env::split_paths(value).find(|p| !p.as_os_str().is_empty())
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
            env_kubeconfig: Some("/env".into()),
            sandbox_kubeconfig: Some("/sandbox".into()),
            home: Some("/home/u".into()),
        }
    }

    #[test]
    fn the_order_of_design_section_3() {
        let mut c = all();
        assert_eq!(choose(&c).map(|x| (x.kubeconfig, x.context)), Some(("/flag".into(), Some("flag-ctx".into()))));
        c.flag_kubeconfig = None;
        c.flag_context = None;
        assert_eq!(choose(&c).map(|x| (x.kubeconfig, x.context)), Some(("/home/u/block".into(), Some("block-ctx".into()))));
        c.block_kubeconfig = None;
        assert_eq!(choose(&c).map(|x| x.kubeconfig), Some("/env".into()));
        c.env_kubeconfig = None;
        let s = choose(&c);
        assert_eq!(s.as_ref().map(|x| (x.kubeconfig.clone(), x.sandbox)), Some(("/sandbox".into(), true)));
        c.sandbox_kubeconfig = None;
        assert_eq!(choose(&c).map(|x| x.kubeconfig), Some("/home/u/.kube/config".into()));
        c.home = None;
        assert_eq!(choose(&c), None);
    }

    #[test]
    fn kubeconfig_lists_take_the_first_path() {
        assert_eq!(first_path(std::ffi::OsStr::new("/a:/b")), Some("/a".into()));
        assert_eq!(first_path(std::ffi::OsStr::new("")), None);
    }
}
