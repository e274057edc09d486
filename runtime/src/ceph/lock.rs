//! The apply lock of a direct-mode stack (DESIGN.md §2 steps 8 and 11): the monitor config-key
//! `cairn/lock/<stack>` holding `{"holder", "acquired", "expires"}` as JSON. Taken when absent or
//! expired, renewed in the background while held, removed on release.
//!
//! The config-key store has no compare-and-swap, so two applies starting within milliseconds of
//! each other could both write. After writing, the taker waits [`SETTLE`] and reads the key back:
//! only the last writer sees itself and proceeds, the other treats the lock as held. That closes
//! the race unless one writer stalls for longer than [`SETTLE`] between its read and its write —
//! good enough for a guard against humans running two applies, not a consensus protocol.

use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::client::Client;
use super::error::{errno, CephError};

/// How long a lock lasts without renewal.
pub const LOCK_SECONDS: i64 = 30;
/// How often the holder renews it.
const RENEW_EVERY: Duration = Duration::from_secs(10);
/// How long a taker waits before reading its write back (see the module doc).
pub const SETTLE: Duration = Duration::from_millis(250);
/// How often a waiting taker looks again.
const POLL: Duration = Duration::from_millis(500);

/// The config-key holding stack `stack`'s lock.
pub fn lock_key(stack: &str) -> String {
    format!("cairn/lock/{stack}")
}

/// The lock's value in the config-key store.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockRecord {
    /// `user@host pid N` ([`crate::kube::lock::holder_identity`]).
    pub holder: String,
    /// When it was taken (RFC 3339).
    #[serde(default)]
    pub acquired: String,
    /// When it lapses unless renewed (RFC 3339).
    pub expires: String,
}

impl LockRecord {
    fn new(holder: &str, acquired: jiff::Timestamp) -> LockRecord {
        let now = jiff::Timestamp::now();
        let expires = now.checked_add(jiff::SignedDuration::from_secs(LOCK_SECONDS)).unwrap_or(now);
        LockRecord { holder: holder.to_string(), acquired: acquired.to_string(), expires: expires.to_string() }
    }

    /// Whether the lock has lapsed (an unreadable expiry counts as lapsed: nobody can renew it).
    pub fn expired(&self) -> bool {
        self.expires.parse::<jiff::Timestamp>().map(|t| t <= jiff::Timestamp::now()).unwrap_or(true)
    }
}

/// A held lock; renewed in the background until [`Guard::release`] or drop (which stops renewal
/// but leaves the key to expire).
pub struct Guard {
    client: Client,
    key: String,
    holder: String,
    acquired: jiff::Timestamp,
    renewer: tokio::task::JoinHandle<()>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

/// Takes stack `stack`'s lock for `holder`, waiting up to `timeout` (0: fail at once) while
/// someone else holds it; `on_wait` is told the holder once when waiting starts. An expired lock
/// is taken over.
pub async fn acquire(
    client: &Client,
    stack: &str,
    holder: &str,
    timeout: Duration,
    on_wait: &mut dyn FnMut(&str),
) -> Result<Guard, CephError> {
    let key = lock_key(stack);
    let deadline = tokio::time::Instant::now() + timeout;
    let mut told = false;
    loop {
        let blocker = match read(client, &key).await? {
            Some(held) if held.holder != holder && !held.expired() => held,
            _ => {
                let acquired = jiff::Timestamp::now();
                write(client, &key, &LockRecord::new(holder, acquired)).await?;
                tokio::time::sleep(SETTLE).await;
                match read(client, &key).await? {
                    Some(now) if now.holder == holder => {
                        let renewer = tokio::spawn(renew(client.clone(), key.clone(), holder.to_string(), acquired));
                        return Ok(Guard { client: client.clone(), key, holder: holder.to_string(), acquired, renewer });
                    }
                    // Lost the race to another writer (or it was removed at once): look again.
                    Some(other) if other.holder != holder => other,
                    _ => continue,
                }
            }
        };
        if tokio::time::Instant::now() >= deadline {
            return Err(CephError::Locked { stack: stack.to_string(), holder: blocker.holder, key, expires: blocker.expires });
        }
        if !told {
            on_wait(&blocker.holder);
            told = true;
        }
        tokio::time::sleep(POLL.min(deadline.saturating_duration_since(tokio::time::Instant::now())).max(Duration::from_millis(10))).await;
    }
}

/// The lock record stored for stack `stack`, if any.
pub async fn current(client: &Client, stack: &str) -> Result<Option<LockRecord>, CephError> {
    read(client, &lock_key(stack)).await
}

impl Guard {
    /// Who holds it.
    pub fn holder(&self) -> &str {
        &self.holder
    }

    /// Pushes the expiry [`LOCK_SECONDS`] ahead now (the background task does this every 10 s).
    /// Fails with [`CephError::Locked`] when someone else has taken the lock meanwhile.
    pub async fn renew(&self) -> Result<(), CephError> {
        renew_once(&self.client, &self.key, &self.holder, self.acquired).await
    }

    /// Gives the lock back (removes the key, if it is still ours).
    pub async fn release(self) -> Result<(), CephError> {
        self.renewer.abort();
        match read(&self.client, &self.key).await? {
            Some(record) if record.holder == self.holder => {
                self.client.mon_command(json!({"prefix": "config-key rm", "key": self.key})).await?;
                Ok(())
            }
            _ => Ok(()),
        }
    }
}

async fn renew_once(client: &Client, key: &str, holder: &str, acquired: jiff::Timestamp) -> Result<(), CephError> {
    match read(client, key).await? {
        Some(record) if record.holder != holder && !record.expired() => Err(CephError::Locked {
            stack: key.trim_start_matches("cairn/lock/").to_string(),
            holder: record.holder,
            key: key.to_string(),
            expires: record.expires,
        }),
        _ => write(client, key, &LockRecord::new(holder, acquired)).await,
    }
}

/// Renews the lock every [`RENEW_EVERY`] while it is ours; stops once someone else has it.
async fn renew(client: Client, key: String, holder: String, acquired: jiff::Timestamp) {
    loop {
        tokio::time::sleep(RENEW_EVERY).await;
        if let Err(CephError::Locked { .. }) = renew_once(&client, &key, &holder, acquired).await {
            return;
        }
    }
}

/// The record at `key`; `None` when the key is absent or not a lock record.
async fn read(client: &Client, key: &str) -> Result<Option<LockRecord>, CephError> {
    match client.mon_command(json!({"prefix": "config-key get", "key": key})).await {
        Ok(reply) => Ok(serde_json::from_value(reply.data).ok()),
        Err(e) if e.errno() == Some(errno::ENOENT) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn write(client: &Client, key: &str, record: &LockRecord) -> Result<(), CephError> {
    let val = serde_json::to_string(record).map_err(|e| CephError::Reply { prefix: "config-key set".into(), message: e.to_string() })?;
    client.mon_command(json!({"prefix": "config-key set", "key": key, "val": val})).await.map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_expire() {
        let fresh = LockRecord::new("me@host pid 1", jiff::Timestamp::now());
        assert!(!fresh.expired());
        let old = LockRecord { expires: "2020-01-01T00:00:00Z".into(), ..fresh.clone() };
        assert!(old.expired());
        let garbled = LockRecord { expires: "soon".into(), ..fresh };
        assert!(garbled.expired());
    }
}
