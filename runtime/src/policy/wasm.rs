//! The WebAssembly policy host (DESIGN.md §4): runs a component implementing
//! `stdlib/wit/policy.wit` behind the [`Policy`] trait.
//!
//! One shared [`Engine`] (fuel, epoch interruption, component model) with an epoch ticker thread;
//! each component compiled once and cached on disk by the SHA-256 of its bytes
//! (`$XDG_CACHE_HOME/cairn/policies/<sha256>.cwasm`, else `~/.cache/…`); a fresh [`Store`] per
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
    /// The cache file was corrupt or from another engine: compiled again and overwritten.
    Recompiled,
}

impl WasmPolicy {
    /// Loads the component at `path`, caching compiled code in [`cache_dir`]; `sha256` (hex,
    /// optionally `sha256:`-prefixed) must match the file's hash when given.
    pub fn load(path: &Path, sha256: Option<&str>) -> Result<WasmPolicy, String> {
        Self::load_with_cache(path, sha256, cache_dir().as_deref()).map(|(p, _)| p)
    }

    /// [`WasmPolicy::load`] with an explicit cache directory (`None`: compile in memory).
    pub fn load_with_cache(path: &Path, sha256: Option<&str>, cache: Option<&Path>) -> Result<(WasmPolicy, CacheUse), String> {
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
        let (component, used) =
            compile(engine, &bytes, &digest, cache).map_err(|e| format!("{shown} is not a valid WebAssembly component: {e}"))?;
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

/// The cache file of the component whose bytes hash to `sha256`.
pub fn cache_file(dir: &Path, sha256: &str) -> PathBuf {
    dir.join(format!("{sha256}.cwasm"))
}

fn hex_sha256(bytes: &[u8]) -> String {
    Sha256::digest(bytes).iter().fold(String::with_capacity(64), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    })
}

/// The component, from the cache when a valid entry exists. A cache file is the engine's
/// serialized component followed by the SHA-256 of those bytes; one whose checksum or
/// deserialization fails is recompiled and overwritten, never trusted.
fn compile(engine: &Engine, bytes: &[u8], digest: &str, cache: Option<&Path>) -> Result<(Component, CacheUse), String> {
    let Some(dir) = cache else {
        return Ok((Component::new(engine, bytes).map_err(|e| format!("{e:#}"))?, CacheUse::Uncached));
    };
    let file = cache_file(dir, digest);
    let mut stale = false;
    if let Ok(data) = std::fs::read(&file) {
        if let Some(component) = deserialize(engine, &data) {
            return Ok((component, CacheUse::Cached));
        }
        stale = true;
    }
    let compiled = engine.precompile_component(bytes).map_err(|e| format!("{e:#}"))?;
    let written = store_cache(dir, &file, &compiled).is_ok();
    // SAFETY: `compiled` was produced just now by `precompile_component` on this engine.
    let component = unsafe { Component::deserialize(engine, &compiled) }.map_err(|e| format!("{e:#}"))?;
    let used = match (written, stale) {
        (false, _) => CacheUse::Uncached,
        (true, false) => CacheUse::Compiled,
        (true, true) => CacheUse::Recompiled,
    };
    Ok((component, used))
}

/// A cache entry's component, if its checksum holds and the engine accepts it.
fn deserialize(engine: &Engine, data: &[u8]) -> Option<Component> {
    let split = data.len().checked_sub(32)?;
    let (code, sum) = data.split_at(split);
    if Sha256::digest(code).as_slice() != sum {
        return None;
    }
    // SAFETY: the bytes are ones `precompile_component` wrote (their checksum matches), and
    // wasmtime refuses artifacts from another version or configuration.
    unsafe { Component::deserialize(engine, code) }.ok()
}

/// Writes a cache entry atomically (temporary file, then rename).
fn store_cache(dir: &Path, file: &Path, compiled: &[u8]) -> std::io::Result<()> {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    std::fs::create_dir_all(dir)?;
    let tmp = dir.join(format!(".{}.{}.tmp", std::process::id(), SEQ.fetch_add(1, Ordering::Relaxed)));
    let mut data = Vec::with_capacity(compiled.len() + 32);
    data.extend_from_slice(compiled);
    data.extend_from_slice(Sha256::digest(compiled).as_slice());
    let result = std::fs::write(&tmp, &data).and_then(|()| std::fs::rename(&tmp, file));
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}
