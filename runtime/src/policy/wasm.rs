//! The WebAssembly policy host (DESIGN.md §4): runs a component implementing
//! `stdlib/wit/policy.wit` behind the [`Policy`] trait.
//!
//! One shared [`Engine`] (fuel, epoch interruption, component model) with an epoch ticker thread;
//! each component compiled once and cached on disk, keyed by the SHA-256 of its bytes and the
//! wasmtime and cairn versions, in a directory and files only the user can write, verified
//! against a recorded SHA-256 before loading ([`cache_file`]; `$XDG_CACHE_HOME/cairn/policies/`,
//! else `~/.cache/…`); a fresh [`Store`] per
//! call from an `InstancePre`, with [`FUEL`], a [`DEADLINE`], [`MEMORY_LIMIT`] and
//! [`TRANSFER_LIMIT`]. The guest sees only `log`, WASI 0.2 with an empty context, and `wasi:http`
//! whose every outgoing request is refused (componentize-js imports it by default). Every failure
//! is an `Err(String)` that says what went wrong, never a panic.

use std::fmt::Write as _;
use std::future::Future;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use cairn_stdlib::policy::{Info, Input, Policy, Severity, Violation};
use sha2::{Digest, Sha256};
use wasmtime::component::{Component, HasSelf, Linker, ResourceTable};
use wasmtime::{Config, Engine, ResourceLimiter, Store, StoreLimits, StoreLimitsBuilder, Trap};
use wasmtime_wasi::p2::pipe::MemoryOutputPipe;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};
use wasmtime_wasi_http::{RequestOptions, WasiBody, WasiHttpCtx, WasiHttpCtxView, WasiHttpHooks, WasiHttpView};

mod bindings {
    wasmtime::component::bindgen!({ path: "../stdlib/wit", world: "policy" });
}

use bindings::cairn::policy::types as wit;

/// Fuel for one call (`describe` or `evaluate`): about that many WebAssembly instructions.
pub const FUEL: u64 = 10_000_000_000;
/// Wall-clock limit of one call, enforced by epoch interruption.
pub const DEADLINE: Duration = Duration::from_secs(2);
/// How often the epoch ticker thread advances the engine's epoch.
const TICK: Duration = Duration::from_millis(10);
/// The largest linear memory a component may grow.
pub const MEMORY_LIMIT: usize = 256 << 20;
/// The most bytes a guest may hand the host in one call (`evaluate`'s violations, a `log`
/// line): wasmtime's hostcall fuel, checked before the host allocates anything.
pub const TRANSFER_LIMIT: usize = 32 << 20;
/// Caps on a store's instances, tables, memories and table elements.
const INSTANCES: usize = 256;
const TABLES: usize = 256;
const MEMORIES: usize = 16;
const TABLE_ELEMENTS: usize = 1 << 20;
/// `log` lines kept per call, and bytes kept per line.
pub const LOG_LINES: usize = 100;
pub const LOG_LINE_BYTES: usize = 1024;
/// Bytes of stdout and of stderr kept per call.
const OUTPUT_BYTES: usize = 64 << 10;
/// The WIT package a component must implement.
const WORLD: &str = "cairn:policy@0.1.0";

/// A policy component, loaded and ready to evaluate.
pub struct WasmPolicy {
    path: PathBuf,
    sha256: String,
    info: Info,
    pre: bindings::PolicyPre<State>,
    fuel: u64,
    log: Mutex<Vec<String>>,
}

/// Where a loaded component's compiled code came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CacheUse {
    /// Compiled in memory: no cache directory, or it was not writable.
    Uncached,
    /// Compiled and written to the cache.
    Compiled,
    /// Read from the cache.
    Cached,
    /// The cache entry was tampered with, not private, or of another component, wasmtime or
    /// cairn: compiled again and overwritten.
    Recompiled,
}

impl WasmPolicy {
    /// Loads the component at `path`, caching compiled code in [`cache_dir`]; `sha256` (hex,
    /// optionally `sha256:`-prefixed) must match the file's hash when given. A cache directory
    /// of another user is an error.
    pub fn load(path: &Path, sha256: Option<&str>) -> Result<WasmPolicy, String> {
        Self::load_with_cache(path, sha256, cache_dir().as_deref()).map(|(p, _)| p)
    }

    /// [`WasmPolicy::load`] with an explicit cache directory (`None`: compile in memory).
    pub fn load_with_cache(path: &Path, sha256: Option<&str>, cache: Option<&Path>) -> Result<(WasmPolicy, CacheUse), String> {
        Self::load_reporting(path, sha256, cache, &mut |_| {})
    }

    /// [`WasmPolicy::load_with_cache`], calling `on_compile` before compiling the component to
    /// native code (tens of seconds for a Python or JavaScript one), with whether the result
    /// will be cached; not called when the cache holds it.
    pub fn load_reporting(
        path: &Path,
        sha256: Option<&str>,
        cache: Option<&Path>,
        on_compile: &mut dyn FnMut(bool),
    ) -> Result<(WasmPolicy, CacheUse), String> {
        let shown = path.display();
        let bytes = std::fs::read(path).map_err(|e| format!("cannot read {shown}: {e}"))?;
        let digest = hex_sha256(&bytes);
        if let Some(pin) = sha256 {
            let pin = pin.trim().trim_start_matches("sha256:").to_ascii_lowercase();
            if pin != digest {
                return Err(format!("{shown} has sha256 {digest}, but the policy pins sha256 {pin}; refusing to run it"));
            }
        }
        let engine = engine()?;
        // A cache directory only this user can write, or none.
        let cache = match cache {
            Some(dir) if private_dir(dir, euid())? => Some(dir),
            _ => None,
        };
        let (component, used) = compile(engine, &bytes, &digest, cache, on_compile)
            .map_err(|e| format!("{shown} is not a valid WebAssembly component: {e}"))?;
        let mut linker = Linker::<State>::new(engine);
        wasmtime_wasi::p2::add_to_linker_sync(&mut linker).map_err(|e| format!("cannot set up WASI for {shown}: {e:#}"))?;
        wasmtime_wasi_http::p2::add_only_http_to_linker_sync(&mut linker)
            .map_err(|e| format!("cannot set up wasi:http for {shown}: {e:#}"))?;
        bindings::Policy::add_to_linker::<State, HasSelf<State>>(&mut linker, |s| s)
            .map_err(|e| format!("cannot set up the host for {shown}: {e:#}"))?;
        let pre = linker.instantiate_pre(&component).map_err(|e| {
            format!("{shown} needs an import this host does not offer (only `log`, WASI 0.2 with an empty context and a refusing `wasi:http`): {e:#}")
        })?;
        let pre = bindings::PolicyPre::new(pre).map_err(|e| format!("{shown} does not implement {WORLD}: {e:#}"))?;
        let mut policy = WasmPolicy {
            path: path.to_path_buf(),
            sha256: digest,
            info: Info { name: String::new(), version: String::new(), description: String::new() },
            pre,
            fuel: FUEL,
            log: Mutex::new(Vec::new()),
        };
        let info = policy.call(|p, store| p.call_describe(store)).map_err(|e| format!("{shown}: `describe` {e}"))?;
        policy.info = Info { name: printable(&info.name), version: printable(&info.version), description: printable(&info.description) };
        Ok((policy, used))
    }

    /// The same policy with `fuel` per `evaluate` instead of [`FUEL`].
    pub fn with_fuel(mut self, fuel: u64) -> WasmPolicy {
        self.fuel = fuel;
        self
    }

    /// The SHA-256 (hex) of the component's bytes.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// Runs `f` on a fresh instance in a fresh store with the limits set; keeps its log.
    fn call<R>(&self, f: impl FnOnce(&bindings::Policy, &mut Store<State>) -> wasmtime::Result<R>) -> Result<R, String> {
        let engine = self.pre.engine();
        let stdout = MemoryOutputPipe::new(OUTPUT_BYTES);
        let stderr = MemoryOutputPipe::new(OUTPUT_BYTES);
        let wasi = WasiCtxBuilder::new()
            .stdout(stdout.clone())
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        let limits = StoreLimitsBuilder::new()
            .memory_size(MEMORY_LIMIT)
            .instances(INSTANCES)
            .tables(TABLES)
            .memories(MEMORIES)
            .table_elements(TABLE_ELEMENTS)
            .build();
        let state = State {
            wasi,
            http: WasiHttpCtx::new(),
            refuse: RefuseHttp,
            table: ResourceTable::new(),
            limits: Limits { inner: limits, memory_exceeded: false },
            log: Vec::new(),
        };
        let mut store = Store::new(engine, state);
        store.limiter(|s| &mut s.limits);
        store.set_hostcall_fuel(TRANSFER_LIMIT);
        store.set_fuel(self.fuel).map_err(|e| format!("cannot set fuel: {e:#}"))?;
        store.set_epoch_deadline(DEADLINE.as_millis().div_ceil(TICK.as_millis()) as u64);
        let result = self
            .pre
            .instantiate(&mut store)
            .map_err(|e| format!("failed to start: {}", failure(&e, &store, self.fuel)))
            .and_then(|instance| f(&instance, &mut store).map_err(|e| failure(&e, &store, self.fuel)));
        let mut log = std::mem::take(&mut store.data_mut().log);
        for out in [stdout, stderr] {
            for line in String::from_utf8_lossy(&out.contents()).lines() {
                push_capped(&mut log, line);
            }
        }
        if let Ok(mut l) = self.log.lock() {
            *l = log;
        }
        result
    }
}

impl Policy for WasmPolicy {
    fn describe(&self) -> Info {
        self.info.clone()
    }

    fn evaluate(&self, input: &Input) -> Result<Vec<Violation>, String> {
        let json = serde_json::to_string(input).map_err(|e| format!("cannot serialize the input: {e}"))?;
        match self.call(|p, store| p.call_evaluate(store, &json)) {
            Ok(Ok(vs)) => Ok(vs.into_iter().map(violation).collect()),
            Ok(Err(reason)) => Err(format!("{} returned an error: {}", self.path.display(), printable(&reason))),
            Err(e) => Err(format!("{} {e}", self.path.display())),
        }
    }

    /// What the last call logged (`log` lines, then stdout and stderr lines), capped at
    /// [`LOG_LINES`] lines of [`LOG_LINE_BYTES`] bytes.
    fn log(&self) -> Vec<String> {
        self.log.lock().map(|l| l.clone()).unwrap_or_default()
    }
}

fn violation(v: wit::Violation) -> Violation {
    let severity = match v.severity {
        wit::Severity::Deny => Severity::Deny,
        wit::Severity::Warn => Severity::Warn,
        wit::Severity::Info => Severity::Info,
    };
    Violation { address: printable(&v.address), message: printable(&v.message), severity, path: v.path.as_deref().map(printable) }
}

/// `text` with every control character but newline and tab escaped (`\u{1b}`): what a guest
/// says is printed to a terminal, and must not drive it.
fn printable(text: &str) -> String {
    text.chars().fold(String::with_capacity(text.len()), |mut out, c| {
        if c.is_control() && c != '\n' && c != '\t' {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
        out
    })
}

/// What a failed call says: which limit it hit, or how it trapped.
fn failure(e: &wasmtime::Error, store: &Store<State>, fuel: u64) -> String {
    if store.data().limits.memory_exceeded {
        return format!("exceeded the memory limit of {} MiB", MEMORY_LIMIT >> 20);
    }
    match e.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => format!("ran out of fuel ({fuel} units)"),
        Some(Trap::Interrupt) => format!("timed out after {} s", DEADLINE.as_secs()),
        Some(trap) => format!("trapped: {}", trap.to_string().trim_start_matches("wasm trap: ")),
        None if format!("{e:#}").contains("fuel allocated for hostcalls has been exhausted") => {
            format!("handed the host more than {} MiB in one call", TRANSFER_LIMIT >> 20)
        }
        None => format!("failed: {e:#}"),
    }
}

/// The store's data: WASI's empty context, `wasi:http` that refuses, the limits and the
/// collected log.
struct State {
    wasi: WasiCtx,
    http: WasiHttpCtx,
    refuse: RefuseHttp,
    table: ResourceTable,
    limits: Limits,
    log: Vec<String>,
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl WasiHttpView for State {
    fn http(&mut self) -> WasiHttpCtxView<'_> {
        WasiHttpCtxView { ctx: &mut self.http, table: &mut self.table, hooks: &mut self.refuse }
    }
}

/// `wasi:http` hooks under which every outgoing request fails with `HTTP-request-denied`: a
/// policy judges the plan it is given and nothing else.
struct RefuseHttp;

type SendResult = wasmtime_wasi_http::Result<(http::Response<WasiBody>, Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>)>;

impl WasiHttpHooks for RefuseHttp {
    fn send_request(
        &mut self,
        _request: http::Request<WasiBody>,
        _options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = wasmtime_wasi_http::Result<()>> + Send>,
    ) -> Box<dyn Future<Output = SendResult> + Send> {
        Box::new(std::future::ready(Err(wasmtime_wasi_http::Error::HttpRequestDenied)))
    }
}

impl bindings::PolicyImports for State {
    fn log(&mut self, message: String) {
        for line in message.lines() {
            push_capped(&mut self.log, line);
        }
    }
}

impl wit::Host for State {}

/// Appends `line`, cut to [`LOG_LINE_BYTES`], unless [`LOG_LINES`] are kept already.
fn push_capped(log: &mut Vec<String>, line: &str) {
    if log.len() > LOG_LINES {
        return;
    }
    if log.len() == LOG_LINES {
        log.push("… (further lines dropped)".to_string());
        return;
    }
    let mut end = line.len().min(LOG_LINE_BYTES);
    while !line.is_char_boundary(end) {
        end -= 1;
    }
    log.push(printable(&line[..end]));
}

/// [`StoreLimits`] that also remember a refused memory growth, and trap on it.
struct Limits {
    inner: StoreLimits,
    memory_exceeded: bool,
}

impl ResourceLimiter for Limits {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        let allowed = self.inner.memory_growing(current, desired, maximum)?;
        if !allowed && desired > MEMORY_LIMIT {
            self.memory_exceeded = true;
            wasmtime::bail!("memory limit of {} MiB exceeded", MEMORY_LIMIT >> 20);
        }
        Ok(allowed)
    }

    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.inner.table_growing(current, desired, maximum)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
}

/// The shared engine, and its epoch ticker thread, started on first use.
fn engine() -> Result<&'static Engine, String> {
    static ENGINE: OnceLock<Result<Engine, String>> = OnceLock::new();
    ENGINE
        .get_or_init(|| {
            let mut config = Config::new();
            config.wasm_component_model(true).consume_fuel(true).epoch_interruption(true);
            let engine = Engine::new(&config).map_err(|e| format!("cannot start the WebAssembly engine: {e:#}"))?;
            let weak = engine.weak();
            std::thread::Builder::new()
                .name("cairn-policy-epoch".into())
                .spawn(move || {
                    while let Some(engine) = weak.upgrade() {
                        engine.increment_epoch();
                        drop(engine);
                        std::thread::sleep(TICK);
                    }
                })
                .map_err(|e| format!("cannot start the policy epoch thread: {e}"))?;
            Ok(engine)
        })
        .as_ref()
        .map_err(Clone::clone)
}

/// The compiled-component cache: `$XDG_CACHE_HOME/cairn/policies`, else
/// `$HOME/.cache/cairn/policies`; `None` when neither is set.
pub fn cache_dir() -> Option<PathBuf> {
    let base = match std::env::var_os("XDG_CACHE_HOME").filter(|v| !v.is_empty()) {
        Some(x) => PathBuf::from(x),
        None => PathBuf::from(std::env::var_os("HOME").filter(|v| !v.is_empty())?).join(".cache"),
    };
    Some(base.join("cairn").join("policies"))
}

/// The wasmtime cairn is built with (as in Cargo.lock; a test keeps them equal): part of every
/// cache entry's key, so an upgrade never loads another version's native code.
pub const WASMTIME_VERSION: &str = "48.0.8";

/// What a cache entry is keyed by besides the component's hash: wasmtime's and cairn's versions.
fn cache_key() -> String {
    format!("wasmtime {WASMTIME_VERSION}\ncairn {}", env!("CARGO_PKG_VERSION"))
}

/// The cache file of the component whose bytes hash to `sha256`, for this wasmtime and cairn:
/// `<sha256>-<16 hex digits of the versions' hash>.cwasm`.
pub fn cache_file(dir: &Path, sha256: &str) -> PathBuf {
    let key = hex_sha256(cache_key().as_bytes());
    dir.join(format!("{sha256}-{}.cwasm", key.get(..16).unwrap_or(&key)))
}

/// The sidecar of a cache file (`….cwasm.sha256`): the entry's key and the SHA-256 of the
/// `.cwasm` bytes, checked before they are loaded.
pub fn cache_sidecar(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".sha256");
    PathBuf::from(name)
}

/// The sidecar's text for a component (`sha256`) compiled into `cwasm`.
fn sidecar_text(sha256: &str, cwasm: &[u8]) -> String {
    format!("cairn-policy-cache 1\ncomponent {sha256}\n{}\ncwasm {}\n", cache_key(), hex_sha256(cwasm))
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The component, from the cache `dir` (private to this user: [`private_dir`]) when a valid
/// entry exists. An entry is used only when its files are private to this user and its sidecar
/// names this component, this wasmtime and this cairn, and the SHA-256 of the `.cwasm` bytes
/// read; anything else is recompiled and overwritten, never loaded.
fn compile(
    engine: &Engine,
    bytes: &[u8],
    digest: &str,
    cache: Option<&Path>,
    on_compile: &mut dyn FnMut(bool),
) -> Result<(Component, CacheUse), String> {
    let Some(dir) = cache else {
        on_compile(false);
        return Ok((Component::new(engine, bytes).map_err(|e| format!("{e:#}"))?, CacheUse::Uncached));
    };
    let file = cache_file(dir, digest);
    let sidecar = cache_sidecar(&file);
    let mut stale = false;
    if let (Some(code), Some(sum)) = (read_private(&file), read_private(&sidecar)) {
        if sum == sidecar_text(digest, &code).as_bytes() {
            // SAFETY: the bytes are the ones whose hash the sidecar records, in a directory and
            // files only this user can write, written by `precompile_component` of this wasmtime
            // for this cairn; wasmtime also refuses artifacts of another version or configuration.
            if let Ok(component) = unsafe { Component::deserialize(engine, &code) } {
                return Ok((component, CacheUse::Cached));
            }
        }
        stale = true;
    } else if file.symlink_metadata().is_ok() || sidecar.symlink_metadata().is_ok() {
        stale = true;
    }
    on_compile(true);
    let compiled = engine.precompile_component(bytes).map_err(|e| format!("{e:#}"))?;
    let written =
        store_cache(dir, &file, &compiled).and_then(|()| store_cache(dir, &sidecar, sidecar_text(digest, &compiled).as_bytes())).is_ok();
    // SAFETY: `compiled` was produced just now by `precompile_component` on this engine.
    let component = unsafe { Component::deserialize(engine, &compiled) }.map_err(|e| format!("{e:#}"))?;
    let used = match (written, stale) {
        (false, _) => CacheUse::Uncached,
        (true, false) => CacheUse::Compiled,
        (true, true) => CacheUse::Recompiled,
    };
    Ok((component, used))
}

/// This process's effective user id.
fn euid() -> u32 {
    // SAFETY: `geteuid` has no preconditions and cannot fail.
    unsafe { libc::geteuid() }
}

/// Makes `dir` a cache directory only user `uid` can write: created 0700, or an existing one of
/// theirs tightened to 0700. `Ok(false)` when it cannot be created or tightened (compile in
/// memory); an error for a directory of another user, who could put native code there.
fn private_dir(dir: &Path, uid: u32) -> Result<bool, String> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt, PermissionsExt};
    if std::fs::DirBuilder::new().recursive(true).mode(0o700).create(dir).is_err() {
        return Ok(false);
    }
    let Ok(meta) = std::fs::metadata(dir) else { return Ok(false) };
    if meta.uid() != uid {
        return Err(format!(
            "the compiled-policy cache {} belongs to user {}, not to you (user {uid}), so it could hold native code cairn would run; remove it, or set XDG_CACHE_HOME to a directory of your own",
            dir.display(),
            meta.uid()
        ));
    }
    if meta.mode() & 0o077 != 0 && std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700)).is_err() {
        return Ok(false);
    }
    Ok(true)
}

/// A cache file's bytes, if it is a regular file (not a symlink) of this user that no one else
/// can write or read; checked on the open file, so nothing can be swapped in between.
fn read_private(path: &Path) -> Option<Vec<u8>> {
    use std::io::Read;
    use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
    let mut f = std::fs::OpenOptions::new().read(true).custom_flags(libc::O_NOFOLLOW).open(path).ok()?;
    let meta = f.metadata().ok()?;
    if !meta.is_file() || meta.uid() != euid() || meta.mode() & 0o077 != 0 {
        return None;
    }
    let mut data = Vec::new();
    f.read_to_end(&mut data).ok()?;
    Some(data)
}

/// Writes a cache file atomically: a new temporary file, 0600, then renamed over `file`.
fn store_cache(dir: &Path, file: &Path, data: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    static SEQ: AtomicU64 = AtomicU64::new(0);
    let tmp = dir.join(format!(".{}.{}.tmp", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed)));
    let result = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .custom_flags(libc::O_NOFOLLOW)
        .open(&tmp)
        .and_then(|mut f| f.write_all(data))
        .and_then(|()| std::fs::rename(&tmp, file));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_wasmtime_version_in_the_cache_key_is_the_one_in_cargo_lock() {
        let lock = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../Cargo.lock")).unwrap();
        let version = lock
            .split("[[package]]")
            .find(|p| p.contains("\nname = \"wasmtime\"\n"))
            .and_then(|p| p.lines().find_map(|l| l.strip_prefix("version = \"").and_then(|v| v.strip_suffix('"'))));
        assert_eq!(version, Some(WASMTIME_VERSION), "update WASMTIME_VERSION to Cargo.lock's wasmtime");
    }

    #[test]
    fn cache_files_are_keyed_by_component_wasmtime_and_cairn() {
        let file = cache_file(Path::new("/c"), "ab12");
        let name = file.file_name().unwrap().to_str().unwrap();
        assert!(name.starts_with("ab12-") && name.ends_with(".cwasm") && name.len() == "ab12-".len() + 16 + ".cwasm".len(), "{name}");
        assert_eq!(cache_sidecar(&file), Path::new(&format!("/c/{name}.sha256")));
        let text = sidecar_text("ab12", b"code");
        assert!(text.contains("component ab12\n") && text.contains(&format!("wasmtime {WASMTIME_VERSION}\n")), "{text}");
        assert!(text.contains(&format!("cairn {}\n", env!("CARGO_PKG_VERSION"))) && text.contains(&hex_sha256(b"code")), "{text}");
    }

    #[test]
    fn a_cache_directory_is_created_0700_tightened_or_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        let dir = tmp.path().join("a/policies");
        assert_eq!(private_dir(&dir, euid()), Ok(true));
        assert_eq!(mode(&dir), 0o700);
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        assert_eq!(private_dir(&dir, euid()), Ok(true));
        assert_eq!(mode(&dir), 0o700, "tightened");
        // A directory of another user is refused, saying why and what to do.
        let other = euid().wrapping_add(1);
        let e = private_dir(&dir, other).unwrap_err();
        assert!(e.contains(&format!("belongs to user {}, not to you (user {other})", euid())) && e.contains("XDG_CACHE_HOME"), "{e}");
        // One that cannot be created: compile in memory.
        std::fs::write(tmp.path().join("file"), "").unwrap();
        assert_eq!(private_dir(&tmp.path().join("file/sub"), euid()), Ok(false));
    }
}
