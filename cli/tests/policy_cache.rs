//! The compiled-policy cache through the binary (docs/policy-abi.md, "Cache"): entries keyed by
//! the component, wasmtime and cairn, private to the user (directory 0700, files 0600), and
//! checked against their recorded hash before they are loaded — a tampered entry is compiled
//! again, never run; a cache directory of another user is refused.

use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

#[path = "support/component.rs"]
mod component;

/// A stack with the echo component as a warning policy, and its own cache home.
struct Stack {
    tmp: tempfile::TempDir,
}

impl Stack {
    fn new() -> Stack {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("stack");
        std::fs::create_dir(&dir).unwrap();
        std::fs::write(dir.join("echo.wasm"), component::echo_component()).unwrap();
        std::fs::write(
            dir.join("main.cairn"),
            "stack \"s\" {}\nnamespace \"shop\" {}\npolicy \"echo\" {\n  source  = \"./echo.wasm\"\n  enforce = \"warn\"\n}\n",
        )
        .unwrap();
        Stack { tmp }
    }

    fn cache(&self) -> PathBuf {
        self.tmp.path().join("xdg/cairn/policies")
    }

    /// `cairn check`: (exit code, stderr).
    fn check(&self) -> (i32, String) {
        let o = Command::new(env!("CARGO_BIN_EXE_cairn"))
            .args(["--color", "never", "check"])
            .arg(self.tmp.path().join("stack"))
            .env("XDG_CACHE_HOME", self.tmp.path().join("xdg"))
            .env("HOME", self.tmp.path())
            .stdin(Stdio::null())
            .output()
            .unwrap();
        (o.status.code().unwrap_or(-1), String::from_utf8_lossy(&o.stderr).into_owned())
    }

    /// The check ran the component (its warning echoes the input).
    #[track_caller]
    fn check_runs_the_policy(&self) {
        let (code, stderr) = self.check();
        assert!(code == 0 && stderr.contains("policy `echo` (./echo.wasm): {\"phase\":\"check\""), "exit {code}\n{stderr}");
    }

    /// The cache's entries: (file name, mode).
    fn entries(&self) -> Vec<(String, u32)> {
        let mut v: Vec<_> = std::fs::read_dir(self.cache())
            .unwrap()
            .map(|e| e.unwrap())
            .map(|e| (e.file_name().into_string().unwrap(), e.metadata().unwrap().mode() & 0o777))
            .collect();
        v.sort();
        v
    }
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).unwrap().mode() & 0o777
}

/// One entry (`<sha256>-<key>.cwasm` and its `.sha256` sidecar), both 0600 in a 0700
/// directory; a tampered `.cwasm` is compiled again and overwritten; a loosened directory is
/// tightened.
#[test]
fn the_policy_cache_is_private_keyed_and_verified_before_loading() {
    let stack = Stack::new();
    // The first run compiles, and says so on stderr (it can take ~30 s); the next reads the cache.
    let (_, first) = stack.check();
    assert!(first.contains("compiling policy `echo` (") && first.contains("first run, cached afterwards"), "{first}");
    let (_, second) = stack.check();
    assert!(!second.contains("compiling policy"), "{second}");
    stack.check_runs_the_policy();
    let entries = stack.entries();
    let [(cwasm, 0o600), (sidecar, 0o600)] = &entries[..] else { panic!("{entries:?}") };
    assert!(cwasm.ends_with(".cwasm") && *sidecar == format!("{cwasm}.sha256"), "{entries:?}");
    let (component_hash, key) = cwasm.trim_end_matches(".cwasm").split_once('-').unwrap();
    assert_eq!((component_hash.len(), key.len()), (64, 16), "{cwasm}");
    assert_eq!(mode(&stack.cache()), 0o700);
    let text = std::fs::read_to_string(stack.cache().join(sidecar)).unwrap();
    assert!(text.contains(&format!("component {component_hash}\n")) && text.contains("\nwasmtime ") && text.contains("\ncairn "), "{text}");

    // Tampered native code is not loaded: it fails its recorded hash, is compiled again and
    // written back, and the policy runs as before.
    let file = stack.cache().join(cwasm);
    let good = std::fs::read(&file).unwrap();
    let mut bad = good.clone();
    let mid = bad.len() / 2;
    bad[mid] ^= 0xff;
    std::fs::write(&file, &bad).unwrap();
    stack.check_runs_the_policy();
    assert_eq!(std::fs::read(&file).unwrap(), good, "overwritten with the compiled component");

    // A loosened directory of this user's is tightened.
    std::fs::set_permissions(stack.cache(), std::fs::Permissions::from_mode(0o777)).unwrap();
    stack.check_runs_the_policy();
    assert_eq!(mode(&stack.cache()), 0o700);
}

/// A cache directory that belongs to another user is refused with what and what to do (only
/// where this test may give a directory away, as root).
#[test]
fn a_cache_directory_of_another_user_is_refused() {
    let stack = Stack::new();
    std::fs::create_dir_all(stack.cache()).unwrap();
    let me = std::fs::metadata(stack.cache()).unwrap().uid();
    let other = me.wrapping_add(1);
    if std::os::unix::fs::chown(stack.cache(), Some(other), None).is_err() {
        println!("skipping: only root can give the cache directory to another user");
        return;
    }
    let (code, stderr) = stack.check();
    assert_eq!(code, 1, "{stderr}");
    let stderr = stderr.replace("\n  │ ", " ");
    assert!(
        stderr.contains(&format!("the compiled-policy cache {} belongs to user {other}, not to you (user {me})", stack.cache().display()))
            && stderr.contains("set XDG_CACHE_HOME to a directory of your own"),
        "{stderr}"
    );
}
