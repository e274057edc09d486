//! Reads a cluster's pools, erasure-code profiles, CRUSH rules and file systems into a
//! [`CephState`] (DESIGN.md §2 step 7): `osd pool ls detail`, `osd crush rule dump`, `fs dump`,
//! `osd erasure-code-profile ls` and one `osd erasure-code-profile get` per profile — 4 + P
//! monitor commands whatever the number of pools and file systems (P is the number of EC
//! profiles: 1, `default`, on a new cluster, plus one per EC layout). `fs dump` holds all that
//! `fs ls` and `fs get` would say (names, pools by id, `max_mds`, `standby_count_wanted`) and the
//! MDS daemons besides, so neither is sent.

use std::collections::BTreeMap;

use serde::de::DeserializeOwned;
use serde_json::{json, Value as Json};

use super::client::{command_prefix, Client};
use super::error::{errno, CephError};
use super::state::{CephState, CrushRule, FsMap, LivePool};

/// Reads everything a pool and file-system plan compares; the four independent reads run at once.
pub async fn read_state(client: &Client) -> Result<CephState, CephError> {
    let (pools, rules, fs_map, ec_profiles) = futures::try_join!(
        read::<Vec<LivePool>>(client, json!({"prefix": "osd pool ls", "detail": "detail"})),
        read::<Vec<CrushRule>>(client, json!({"prefix": "osd crush rule dump"})),
        read::<FsMap>(client, json!({"prefix": "fs dump"})),
        read_ec_profiles(client),
    )?;
    Ok(CephState { pools, ec_profiles, crush_rules: rules, fs_map })
}

/// Every erasure-code profile by name: `ls`, then the `get`s at once. A profile removed between
/// the two is left out.
async fn read_ec_profiles(client: &Client) -> Result<BTreeMap<String, BTreeMap<String, String>>, CephError> {
    let names = read::<Vec<String>>(client, json!({"prefix": "osd erasure-code-profile ls"})).await?;
    let gets = names.iter().map(|name| async move {
        match read::<BTreeMap<String, Json>>(client, json!({"prefix": "osd erasure-code-profile get", "name": name})).await {
            Ok(values) => Ok(Some((name.clone(), values))),
            Err(e) if e.errno() == Some(errno::ENOENT) => Ok(None),
            Err(e) => Err(e),
        }
    });
    let profiles = futures::future::try_join_all(gets).await?;
    Ok(profiles
        .into_iter()
        .flatten()
        .map(|(name, values)| {
            // Values are strings in every release seen; anything else is kept as its JSON text.
            let values = values.into_iter().map(|(k, v)| (k, v.as_str().map(str::to_string).unwrap_or_else(|| v.to_string()))).collect();
            (name, values)
        })
        .collect())
}

/// The cluster's fsid (`fsid`), what a storage class's `clusterID` must match.
pub async fn fsid(client: &Client) -> Result<String, CephError> {
    let reply = client.mon_command(json!({"prefix": "fsid"})).await?;
    match reply.data.get("fsid").and_then(Json::as_str).or(reply.data.as_str()) {
        Some(fsid) => Ok(fsid.trim().to_string()),
        None => Err(CephError::Reply { prefix: "fsid".into(), message: format!("no fsid in {}", reply.data) }),
    }
}

/// Sends a read and decodes its JSON output as `T`.
async fn read<T: DeserializeOwned>(client: &Client, cmd: Json) -> Result<T, CephError> {
    let prefix = command_prefix(&cmd).to_string();
    let reply = client.mon_command(cmd).await?;
    serde_json::from_value(reply.data).map_err(|e| CephError::Reply { prefix, message: e.to_string() })
}
