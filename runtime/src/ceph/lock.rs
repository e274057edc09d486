//! The apply lock of a direct-mode stack (DESIGN.md §2 steps 8 and 11): the monitor config-key
//! `cairn/lock/<stack>` holding `{"holder", "acquired", "expires"}` as JSON. Taken when absent, or
//! when another holder's record has been seen unchanged for a whole lease on this machine's clock
//! (never on the record's own `expires`, which clock skew would make unsafe); renewed in the
//! background while held, with writes fenced as the Lease's are ([`crate::fence`]); removed on
//! release.
//!
//! The config-key store has no compare-and-swap, so two applies starting within milliseconds of
//! each other could both write. After writing, the taker waits [`SETTLE`] and reads the key back:
//! only the last writer sees itself and proceeds, the other treats the lock as held. That closes
//! the race unless one writer stalls for longer than [`SETTLE`] between its read and its write —
//! good enough for a guard against humans running two applies, not a consensus protocol.

use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::json;

use super::client::Client;
use super::error::{errno, CephError};
use crate::apply::Stop;
use crate::fence::{waiting_message, Fence, Timing};
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
    fn new(holder: &str, acquired: jiff::Timestamp, timing: &Timing) -> LockRecord {
        let now = jiff::Timestamp::now();
        let expires = now.checked_add(jiff::SignedDuration::from_secs(timing.lease_seconds())).unwrap_or(now);
        LockRecord { holder: holder.to_string(), acquired: acquired.to_string(), expires: expires.to_string() }
    }

    /// Whether the lock has lapsed by its own stamp and this machine's clock (an unreadable
    /// expiry counts as lapsed). A hint only: takeover waits for the record to stay unchanged.
    pub fn expired(&self) -> bool {
        self.expires.parse::<jiff::Timestamp>().map(|t| t <= jiff::Timestamp::now()).unwrap_or(true)
    }
}

/// A held lock; renewed in the background until [`Guard::release`] or drop (which stops renewal
/// but leaves the key to expire). Writes made under it ask [`Guard::fence`] first.
pub struct Guard {
    client: Client,
    key: String,
    holder: String,
    acquired: jiff::Timestamp,
    timing: Timing,
    fence: Fence,
    renewer: tokio::task::JoinHandle<()>,
}

impl Drop for Guard {
    fn drop(&mut self) {
        self.renewer.abort();
    }
}

/// Takes stack `stack`'s lock for `holder`, waiting up to `timeout` (0: fail at once) while
/// someone else holds it; `on_wait` is told once, in a sentence, why it waits. A lock whose holder
/// stopped renewing is taken over once its record has been seen unchanged for a whole lease, even
/// past `timeout`. Breaking the guard's fence stops `stop`.
pub async fn acquire(
    client: &Client,
    stack: &str,
    holder: &str,
    timeout: Duration,
    timing: &Timing,
    stop: &Stop,
    on_wait: &mut dyn FnMut(&str),
) -> Result<Guard, CephError> {
    let key = lock_key(stack);
    let deadline = Instant::now() + timeout;
    let mut watched: Option<(LockRecord, Instant)> = None;
    let mut told = false;
    loop {
        let taken_at = Fence::now();
        let blocker = match read(client, &key).await? {
            Some(held) if held.holder != holder => {
                let seen = Instant::now();
                let since = match &watched {
                    Some((record, since)) if *record == held => *since,
                    changed => {
                        // Renewed while we watched: its holder is alive.
                        if changed.is_some() && seen >= deadline {
                            return Err(locked(stack, held, &key));
                        }
                        watched = Some((held.clone(), seen));
                        seen
                    }
                };
                if seen.saturating_duration_since(since) < timing.lease {
                    Some(held)
                } else {
                    None
                }
            }
            _ => None,
        };
        let blocker = match blocker {
            Some(b) => b,
            None => {
                let acquired = jiff::Timestamp::now();
                write(client, &key, &LockRecord::new(holder, acquired, timing)).await?;
                tokio::time::sleep(SETTLE).await;
                match read(client, &key).await? {
                    Some(now) if now.holder == holder => {
                        let fence = Fence::new(stack, timing, taken_at, stop.clone());
                        let renewer =
                            tokio::spawn(renew(client.clone(), key.clone(), holder.to_string(), acquired, *timing, fence.clone()));
                        return Ok(Guard {
                            client: client.clone(),
                            key,
                            holder: holder.to_string(),
                            acquired,
                            timing: *timing,
                            fence,
                            renewer,
                        });
                    }
                    // Lost the race to another writer (or it was removed at once): look again.
                    Some(other) if other.holder != holder => other,
                    _ => continue,
                }
            }
        };
        let now = Instant::now();
        if now >= deadline && !blocker.expired() {
            return Err(locked(stack, blocker, &key));
        }
        if !told {
            on_wait(&waiting_message(stack, &blocker.holder, now >= deadline, timeout, timing.lease));
            told = true;
        }
        tokio::time::sleep(POLL).await;
    }
}

fn locked(stack: &str, held: LockRecord, key: &str) -> CephError {
    CephError::Locked { stack: stack.to_string(), holder: held.holder, key: key.to_string(), expires: held.expires }
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

    /// What every write made under this lock asks first.
    pub fn fence(&self) -> &Fence {
        &self.fence
    }

    /// Pushes the expiry a lease ahead now (the background task does this regularly). Fails with
    /// [`CephError::Locked`] when someone else has taken the lock meanwhile.
    pub async fn renew(&self) -> Result<(), CephError> {
        renew_once(&self.client, &self.key, &self.holder, self.acquired, &self.timing).await
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

async fn renew_once(client: &Client, key: &str, holder: &str, acquired: jiff::Timestamp, timing: &Timing) -> Result<(), CephError> {
    match read(client, key).await? {
        Some(record) if record.holder != holder => Err(CephError::Locked {
            stack: key.trim_start_matches("cairn/lock/").to_string(),
            holder: record.holder,
            key: key.to_string(),
            expires: record.expires,
        }),
        _ => write(client, key, &LockRecord::new(holder, acquired, timing)).await,
    }
}

/// Renews the lock every `timing.renew_every` (sooner after a failure) and tells the fence of
/// each success; breaks the fence once someone else has it. A fence broken by its deadline stops
/// renewal: a lost lock is never taken back silently.
async fn renew(client: Client, key: String, holder: String, acquired: jiff::Timestamp, timing: Timing, fence: Fence) {
    let mut pause = timing.renew_every;
    loop {
        tokio::time::sleep(pause).await;
        if fence.check().is_err() {
            return;
        }
        let started = Fence::now();
        match renew_once(&client, &key, &holder, acquired, &timing).await {
            Ok(()) => {
                fence.renewed(started);
                pause = timing.renew_every;
            }
            Err(CephError::Locked { holder: other, .. }) => {
                fence.lose(format!("config-key {key} is now held by {other}"));
                return;
            }
            Err(_) => pause = (timing.renew_every / 5).max(Duration::from_millis(100)),
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
        let fresh = LockRecord::new("me@host pid 1", jiff::Timestamp::now(), &Timing::default());
        assert!(!fresh.expired());
        let old = LockRecord { expires: "2020-01-01T00:00:00Z".into(), ..fresh.clone() };
        assert!(old.expired());
        let garbled = LockRecord { expires: "soon".into(), ..fresh };
        assert!(garbled.expired());
    }
}
