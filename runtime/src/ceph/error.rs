//! Errors of the Ceph provider: loading librados, connecting, and monitor commands, each with
//! the errno, the command and what to do about it.

/// The Linux errnos librados and the monitors return (positive; librados negates them).
pub mod errno {
    pub const EPERM: i32 = 1;
    pub const ENOENT: i32 = 2;
    pub const EINTR: i32 = 4;
    pub const ENXIO: i32 = 6;
    pub const EAGAIN: i32 = 11;
    pub const EACCES: i32 = 13;
    pub const EBUSY: i32 = 16;
    pub const EEXIST: i32 = 17;
    pub const EINVAL: i32 = 22;
    pub const ENOSPC: i32 = 28;
    pub const ERANGE: i32 = 34;
    pub const ENOSYS: i32 = 38;
    /// Also `EOPNOTSUPP`.
    pub const ENOTSUP: i32 = 95;
    pub const ENOTCONN: i32 = 107;
    pub const ETIMEDOUT: i32 = 110;
    pub const ECONNREFUSED: i32 = 111;
}

/// An error reaching or commanding a Ceph cluster.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum CephError {
    #[error("cannot load {library} ({message}); direct mode needs librados to talk to the Ceph monitors")]
    #[diagnostic(help(
        "install Debian's librados2 package (`apt-get install librados2`, or ceph-common which brings it); only clusters whose `ceph` block says `mode = \"direct\"` need it"
    ))]
    Library { library: String, message: String },

    #[error("cannot read the Ceph configuration {path}: {message}")]
    Conf {
        path: String,
        message: String,
        /// Where the path came from and which source wins ([`conf_help`]).
        #[help]
        help: String,
    },

    #[error("cannot connect to the Ceph monitors {monitors} (conf {conf}) as {name}: {message}")]
    Connect {
        monitors: String,
        conf: String,
        name: String,
        /// The positive errno (`ETIMEDOUT` = 110).
        errno: i32,
        message: String,
        #[help]
        help: String,
    },

    #[error("ceph `{prefix}` failed with {errno_name}: {status}")]
    Command {
        /// The command's `prefix` (`osd pool set`).
        prefix: String,
        /// The positive errno.
        errno: i32,
        errno_name: String,
        /// The monitor's status message (`unrecognized pool 'x'`).
        status: String,
        #[help]
        help: Option<String>,
    },

    #[error("ceph `{prefix}` returned output cairn cannot read: {message}")]
    #[diagnostic(help("this Ceph release may report a different shape; cairn was tested with Ceph 16 (pacific)"))]
    Reply { prefix: String, message: String },

    #[error("stack `{stack}` is locked by {holder} (config-key {key}, expires {expires})")]
    #[diagnostic(help(
        "wait for that run to finish, or retry with --lock-timeout 5m to wait for it; a holder that died frees the lock when it expires"
    ))]
    Locked { stack: String, holder: String, key: String, expires: String },

    #[error("pool `{pool}` already exists and {}", owner_text(.owner.as_deref(), .stack))]
    #[diagnostic(help(
        "cairn never writes a pool it does not own: rename the pool in the stack, or mark the existing pool as this stack's with `ceph osd pool application set {pool} <app> cairn.dev/stack {stack}` if it really is"
    ))]
    NotOwned { pool: String, stack: String, owner: Option<String> },

    #[error("not written: {0}")]
    #[diagnostic(help("another apply may have taken the stack over; run `cairn plan` to see where it stands"))]
    LockLost(#[from] crate::fence::LockLost),
}

fn owner_text(owner: Option<&str>, stack: &str) -> String {
    match owner {
        Some(other) => format!("belongs to stack `{other}`, not `{stack}`"),
        None => format!("carries no cairn ownership marker (stack `{stack}` did not create it)"),
    }
}

impl CephError {
    /// The positive errno of a failed connect or command.
    pub fn errno(&self) -> Option<i32> {
        match self {
            CephError::Connect { errno, .. } | CephError::Command { errno, .. } => Some(*errno),
            _ => None,
        }
    }

    /// A failed monitor command; `code` is librados' negative (or positive) errno.
    pub fn command(prefix: &str, code: i32, status: &str) -> CephError {
        let errno = code.abs();
        let status = if status.trim().is_empty() { describe_errno(errno) } else { status.trim().to_string() };
        CephError::Command {
            prefix: prefix.to_string(),
            errno,
            errno_name: errno_name(errno),
            status,
            help: command_help(errno).map(str::to_string),
        }
    }
}

/// `ENOENT`, or `errno 123` for ones cairn has no name for.
pub fn errno_name(errno: i32) -> String {
    let name = match errno {
        errno::EPERM => "EPERM",
        errno::ENOENT => "ENOENT",
        errno::EINTR => "EINTR",
        errno::ENXIO => "ENXIO",
        errno::EAGAIN => "EAGAIN",
        errno::EACCES => "EACCES",
        errno::EBUSY => "EBUSY",
        errno::EEXIST => "EEXIST",
        errno::EINVAL => "EINVAL",
        errno::ENOSPC => "ENOSPC",
        errno::ERANGE => "ERANGE",
        errno::ENOSYS => "ENOSYS",
        errno::ENOTSUP => "ENOTSUP",
        errno::ENOTCONN => "ENOTCONN",
        errno::ETIMEDOUT => "ETIMEDOUT",
        errno::ECONNREFUSED => "ECONNREFUSED",
        _ => return format!("errno {errno}"),
    };
    name.to_string()
}

/// The system's text for an errno (`No such file or directory`).
pub fn describe_errno(errno: i32) -> String {
    let text = std::io::Error::from_raw_os_error(errno).to_string();
    // `No such file or directory (os error 2)`: the errno name is given separately.
    match text.rsplit_once(" (os error") {
        Some((head, _)) => head.to_string(),
        None => text,
    }
}

/// What to do after a monitor command failed with `errno`.
fn command_help(errno: i32) -> Option<&'static str> {
    Some(match errno {
        errno::ENOENT => "the pool, file system, erasure-code profile or CRUSH rule named does not exist (removed since the plan was made?): check the name (`ceph osd pool ls`, `ceph fs ls`) and plan again",
        errno::EPERM => {
            "the monitor refuses this without an explicit override (pool size 1 needs mon_allow_pool_size_one, deleting a pool needs mon_allow_pool_delete and no `nodelete` flag, a second application needs confirmation), or the key lacks the caps for it"
        }
        errno::EACCES => "the key is not allowed to do this: check the keyring and the client's caps (`ceph auth get client.<user>`)",
        errno::ERANGE => "too many placement groups for the OSDs: lower pg_num (or let the autoscaler decide) or raise mon_max_pg_per_osd",
        errno::ENOTSUP => "the pool's type does not support this change (for example size on an erasure-coded pool): the pool must be replaced",
        errno::EBUSY => "it is still in use (an erasure-code profile or CRUSH rule used by a pool, a pool used by a file system): change or remove those first",
        errno::EEXIST => "the name is already taken: choose another name, or remove the existing one first",
        errno::EINVAL => "the monitor rejected a value or argument: the message says which; check the attribute's allowed range",
        errno::ETIMEDOUT | errno::EINTR | errno::ENOTCONN => {
            "the monitors did not answer in time: check that the cluster is up (`ceph -s`) and reachable from here"
        }
        errno::EAGAIN => "the monitor is busy or electing a leader: retry in a few seconds",
        _ => return None,
    })
}

/// The help of a conf that cannot be read: which file was used, from where, and the order in
/// which the sources win.
pub(crate) fn conf_help(path: &str, from: &str) -> String {
    format!("cairn used {path}, from {from}; {CONF_ORDER}")
}

/// Which ceph.conf wins, first set first (as the `ceph` CLI, with cairn's flag and block first).
const CONF_ORDER: &str = "the first of these that is set wins: --ceph-conf FILE, the cluster block's `conf` (relative to the \
    stack directory), the CEPH_CONF environment variable, /etc/ceph/ceph.conf";

/// What to do after connecting failed with `errno`, naming the conf used (`path`, from `from`).
pub(crate) fn connect_help_with(errno: i32, path: &str, from: &str) -> String {
    format!("{} (cairn used the conf {path}, from {from}; {CONF_ORDER})", connect_help(errno))
}

/// What to do after connecting failed with `errno`.
pub(crate) fn connect_help(errno: i32) -> String {
    match errno {
        errno::ETIMEDOUT | errno::EINTR | errno::ENOTCONN | errno::ECONNREFUSED => {
            "no monitor answered: check that the cluster is up and that `mon_host` in the conf is reachable from here (`ceph -s --connect-timeout 5`)".into()
        }
        errno::EACCES | errno::EPERM => {
            "the monitor refused the key: check the keyring and the user (the cluster block's `keyring` and `user`, as `ceph --keyring … --id …`)".into()
        }
        errno::ENOENT => {
            "no keyring found for the user: give the cluster block's `keyring`, or put it in /etc/ceph/ceph.client.<user>.keyring".into()
        }
        _ => "check the conf, keyring and user with `ceph -s` (same settings)".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_errors_carry_errno_status_and_help() {
        let e = CephError::command("osd pool set", -errno::ENOENT, "unrecognized pool 'x'");
        assert_eq!(e.to_string(), "ceph `osd pool set` failed with ENOENT: unrecognized pool 'x'");
        assert_eq!(e.errno(), Some(errno::ENOENT));
        let help = miette::Diagnostic::help(&e).map(|h| h.to_string()).unwrap_or_default();
        assert!(help.contains("does not exist"), "{help}");

        let e = CephError::command("osd pool create", -errno::ERANGE, "");
        assert!(e.to_string().contains("ERANGE: Numerical result out of range"), "{e}");
        let help = miette::Diagnostic::help(&e).map(|h| h.to_string()).unwrap_or_default();
        assert!(help.contains("mon_max_pg_per_osd"), "{help}");
    }

    #[test]
    fn ownership_errors_name_the_owner() {
        let e = CephError::NotOwned { pool: "p".into(), stack: "a".into(), owner: Some("b".into()) };
        assert_eq!(e.to_string(), "pool `p` already exists and belongs to stack `b`, not `a`");
        let e = CephError::NotOwned { pool: "p".into(), stack: "a".into(), owner: None };
        assert!(e.to_string().contains("no cairn ownership marker"), "{e}");
    }
}
