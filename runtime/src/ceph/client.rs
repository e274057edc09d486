//! A connection to one Ceph cluster through librados' `rados_mon_command`: the JSON commands the
//! `ceph` CLI sends, at a fraction of a millisecond each. Settings follow the CLI (conf, keyring,
//! user, connect timeout). Blocking librados calls run on tokio's blocking pool.

use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use serde_json::Value as Json;

use super::error::{conf_help, connect_help_with, describe_errno, errno, CephError};
use super::rados::{self, Handle};

/// Where the `ceph` CLI looks for its configuration without `-c` or `CEPH_CONF`.
pub const DEFAULT_CONF: &str = "/etc/ceph/ceph.conf";

/// How to reach a cluster, as the `ceph` CLI's `-c`, `--keyring`, `--id` and `--connect-timeout`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    /// `ceph.conf`; `None`: `$CEPH_CONF`, else [`DEFAULT_CONF`].
    pub conf: Option<PathBuf>,
    /// Where `conf` came from, for messages (`--ceph-conf`, the cluster block's `conf`).
    pub conf_from: Option<&'static str>,
    /// The keyring; `None`: the conf's `keyring` (by default `/etc/ceph/ceph.client.<user>.keyring`).
    pub keyring: Option<PathBuf>,
    /// The user (`admin`) or full entity name (`client.admin`).
    pub user: String,
    /// How long connecting may take before it fails (monitors down or unreachable).
    pub connect_timeout: Duration,
    /// How long one monitor command may take before it fails with `ETIMEDOUT`.
    pub command_timeout: Duration,
}

impl Default for Settings {
    /// The CLI's defaults, a 10 s connect timeout and a 60 s command timeout.
    fn default() -> Self {
        Settings {
            conf: None,
            conf_from: None,
            keyring: None,
            user: "admin".into(),
            connect_timeout: Duration::from_secs(10),
            command_timeout: Duration::from_secs(60),
        }
    }
}

impl Settings {
    /// The conf file these settings read.
    pub fn conf_path(&self) -> PathBuf {
        self.conf_source().0
    }

    /// The conf file these settings read, and where it came from (`CEPH_CONF`, the default).
    pub fn conf_source(&self) -> (PathBuf, &'static str) {
        match &self.conf {
            Some(p) => (p.clone(), self.conf_from.unwrap_or("the given conf")),
            None => match std::env::var_os("CEPH_CONF").filter(|v| !v.is_empty()) {
                Some(p) => (PathBuf::from(p), "CEPH_CONF"),
                None => (DEFAULT_CONF.into(), "the default"),
            },
        }
    }

    /// The entity name: `admin` → `client.admin`; a name with a type prefix is kept.
    pub fn entity(&self) -> String {
        let user = self.user.trim();
        if user.is_empty() {
            "client.admin".into()
        } else if user.contains('.') {
            user.to_string()
        } else {
            format!("client.{user}")
        }
    }
}

/// What a monitor command returned.
#[derive(Clone, Debug, PartialEq)]
pub struct MonReply {
    /// The output buffer parsed as JSON; `Null` when empty; a JSON string when it is not JSON
    /// (`config-key get` returns the stored value as is).
    pub data: Json,
    /// The status message (`pool 'p1' created`); often empty for reads.
    pub status: String,
}

/// A connected cluster handle; cheap to clone, usable from many tasks at once.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    handle: Handle,
    /// `client.admin@[v2:127.0.0.1:3300] (conf /etc/ceph/ceph.conf)`.
    describe: String,
    commands: AtomicU64,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client").field("cluster", &self.inner.describe).finish_non_exhaustive()
    }
}

impl Client {
    /// Loads librados, reads the conf and connects; fails within about `connect_timeout` when no
    /// monitor answers.
    pub async fn connect(settings: &Settings) -> Result<Client, CephError> {
        let (conf, from) = settings.conf_source();
        // A missing conf is said before librados is even loaded: it is the likelier mistake.
        if !conf.is_file() {
            let path = conf.display().to_string();
            return Err(CephError::Conf { help: conf_help(&path, from), path, message: "no such file".into() });
        }
        let lib = rados::librados()?;
        let settings = settings.clone();
        let fallback = settings.connect_timeout + Duration::from_secs(5);
        let task = tokio::task::spawn_blocking(move || connect_blocking(lib, &settings));
        match tokio::time::timeout(fallback, task).await {
            Ok(Ok(result)) => result,
            Ok(Err(join)) => Err(CephError::Connect {
                monitors: "?".into(),
                conf: conf.display().to_string(),
                name: String::new(),
                errno: errno::EINTR,
                message: format!("the connecting thread failed: {join}"),
                help: connect_help_with(errno::EINTR, &conf.display().to_string(), from),
            }),
            // librados ignored its own timeout; the blocking thread finishes (and shuts its
            // handle down) on its own.
            Err(_) => Err(CephError::Connect {
                monitors: "?".into(),
                conf: conf.display().to_string(),
                name: String::new(),
                errno: errno::ETIMEDOUT,
                message: format!("no answer within {}s", fallback.as_secs()),
                help: connect_help_with(errno::ETIMEDOUT, &conf.display().to_string(), from),
            }),
        }
    }

    /// Sends one monitor command (a JSON object with a `prefix`), adding `"format": "json"`.
    /// A negative return code becomes [`CephError::Command`].
    pub async fn mon_command(&self, cmd: Json) -> Result<MonReply, CephError> {
        let prefix = command_prefix(&cmd).to_string();
        let mut cmd = cmd;
        if let Some(obj) = cmd.as_object_mut() {
            obj.entry("format").or_insert_with(|| Json::from("json"));
        }
        let text = cmd.to_string();
        let inner = self.inner.clone();
        inner.commands.fetch_add(1, Ordering::Relaxed);
        let raw = tokio::task::spawn_blocking(move || inner.handle.mon_command(&text))
            .await
            .map_err(|e| CephError::Reply { prefix: prefix.clone(), message: format!("the command's thread failed: {e}") })?;
        if raw.code < 0 {
            return Err(CephError::command(&prefix, raw.code, &raw.status));
        }
        Ok(MonReply { data: parse_output(&raw.out), status: raw.status.trim().to_string() })
    }

    /// How many monitor commands this client (and its clones) has sent.
    pub fn commands_issued(&self) -> u64 {
        self.inner.commands.load(Ordering::Relaxed)
    }

    /// `client.admin@[v2:127.0.0.1:3300] (conf /etc/ceph/ceph.conf)`, for messages.
    pub fn describe(&self) -> &str {
        &self.inner.describe
    }
}

/// The `prefix` of a command (`osd pool create`), or `?`.
pub fn command_prefix(cmd: &Json) -> &str {
    cmd.get("prefix").and_then(Json::as_str).unwrap_or("?")
}

fn parse_output(out: &[u8]) -> Json {
    let trimmed = out.trim_ascii();
    if trimmed.is_empty() {
        return Json::Null;
    }
    serde_json::from_slice(trimmed).unwrap_or_else(|_| Json::String(String::from_utf8_lossy(out).into_owned()))
}

fn connect_blocking(lib: &'static rados::Librados, settings: &Settings) -> Result<Client, CephError> {
    let (conf, from) = settings.conf_source();
    let conf_text = conf.display().to_string();
    let name = settings.entity();
    if !conf.is_file() {
        return Err(CephError::Conf { help: conf_help(&conf_text, from), path: conf_text, message: "no such file".into() });
    }
    let connect_error = |monitors: &str, code: i32, message: String| CephError::Connect {
        monitors: monitors.to_string(),
        conf: conf_text.clone(),
        name: name.clone(),
        errno: code.abs(),
        message,
        help: connect_help_with(code.abs(), &conf_text, from),
    };
    let handle =
        Handle::create(lib, &name).map_err(|code| connect_error("?", code, format!("rados_create2: {}", describe_errno(-code))))?;
    handle.conf_read_file(&conf_text).map_err(|code| CephError::Conf {
        path: conf_text.clone(),
        message: describe_errno(-code),
        help: conf_help(&conf_text, from),
    })?;
    // Whole seconds: both options are `secs` in Ceph 16 and refuse fractions.
    let seconds = |d: Duration| (d.as_secs() + u64::from(d.subsec_nanos() > 0)).max(1).to_string();
    let mut options = vec![
        // Bounds the whole of `rados_connect` (monitor hunting and authentication).
        ("client_mount_timeout", seconds(settings.connect_timeout)),
        ("rados_mon_op_timeout", seconds(settings.command_timeout)),
        // A library prints nothing; failures come back as values.
        ("log_to_stderr", "false".into()),
        ("err_to_stderr", "false".into()),
    ];
    if let Some(keyring) = &settings.keyring {
        if !keyring.is_file() {
            return Err(connect_error(
                &handle.conf_get("mon_host").unwrap_or_default(),
                -errno::ENOENT,
                format!("keyring {} not found", keyring.display()),
            ));
        }
        options.push(("keyring", keyring.display().to_string()));
    }
    for (option, value) in &options {
        handle.conf_set(option, value).map_err(|code| CephError::Conf {
            path: conf_text.clone(),
            message: format!("cannot set {option}={value}: {}", describe_errno(-code)),
            help: conf_help(&conf_text, from),
        })?;
    }
    let monitors = handle.conf_get("mon_host").filter(|m| !m.is_empty()).unwrap_or_else(|| "(no mon_host in the conf)".into());
    let started = std::time::Instant::now();
    handle.connect().map_err(|code| {
        let errno = code.abs();
        let message = match errno {
            errno::ETIMEDOUT | errno::EINTR => {
                format!("no monitor answered within {:.1}s ({})", started.elapsed().as_secs_f64(), describe_errno(errno))
            }
            _ => describe_errno(errno),
        };
        connect_error(&monitors, code, message)
    })?;
    let describe = format!("{name}@{monitors} (conf {conf_text})");
    Ok(Client { inner: Arc::new(Inner { handle, describe, commands: AtomicU64::new(0) }) })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn users_become_entity_names() {
        let mut s = Settings::default();
        assert_eq!(s.entity(), "client.admin");
        s.user = "cairn".into();
        assert_eq!(s.entity(), "client.cairn");
        s.user = "client.ops".into();
        assert_eq!(s.entity(), "client.ops");
    }

    #[test]
    fn outputs_parse_as_json_or_stay_text() {
        assert_eq!(parse_output(b""), Json::Null);
        assert_eq!(parse_output(b"\n[1]\n"), serde_json::json!([1]));
        assert_eq!(parse_output(b"plain"), Json::String("plain".into()));
    }
}
