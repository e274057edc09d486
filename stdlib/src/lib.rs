//! cairn-stdlib: the standard library shipped inside the binary, and the built-in policies
//! ([`policy`]). `import "std/apps"` reads
//! [`module`]`("apps")`. Each module is one `.cairn` file under `stdlib/std/`.

pub mod policy;

/// Every standard module: (name, file name, source).
pub const MODULES: [(&str, &str, &str); 2] =
    [("apps", "std/apps.cairn", include_str!("../std/apps.cairn")), ("storage", "std/storage.cairn", include_str!("../std/storage.cairn"))];

/// The file name and source of the standard module `name` (`"apps"` for `std/apps`).
pub fn module(name: &str) -> Option<(&'static str, &'static str)> {
    let name = name.trim_end_matches(".cairn");
    MODULES.iter().find(|(n, _, _)| *n == name).map(|(_, file, src)| (*file, *src))
}

/// Names of the standard modules, for completion and error messages.
pub fn module_names() -> impl Iterator<Item = &'static str> {
    MODULES.iter().map(|(n, _, _)| *n)
}
